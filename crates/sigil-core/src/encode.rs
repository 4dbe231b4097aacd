//! Value transformations of the Sigma modifiers: `windash` variants and the byte
//! encodings (`wide`/`utf16*`, `base64`, `base64offset`).
//!
//! The IR keeps values as written plus [`Flags`]; consumers that need concrete values
//! (backends, the engine) call [`expand`] once, at compile time. The results follow
//! pySigma's, so conversions and findings agree with the reference.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::{Encoding, Flags, Pattern, Piece};

/// Why a value cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// Base64 of a value with wildcards has no meaning.
    #[error("`{0}` cannot be applied to a value with wildcards or placeholders")]
    WildcardInEncodedValue(&'static str),
}

/// The dash characters `windash` substitutes for each other.
pub const WINDASH_CHARS: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// The concrete patterns a string value stands for under `flags`: windash variants, then
/// the encodings in order. Without such flags the result is the value itself.
pub fn expand(value: &Pattern, flags: &Flags) -> Result<Vec<Pattern>, EncodeError> {
    let mut out = if flags.windash {
        windash_variants(value)
    } else {
        vec![value.clone()]
    };
    for &enc in &flags.encodings {
        let mut next = Vec::with_capacity(out.len());
        for p in &out {
            next.extend(encode(p, enc)?);
        }
        out = next;
    }
    Ok(out)
}

fn encode(p: &Pattern, enc: Encoding) -> Result<Vec<Pattern>, EncodeError> {
    match enc {
        Encoding::Utf16Le => Ok(vec![p.map_literals(|s| utf16_text(s, false, false))]),
        Encoding::Utf16Be => Ok(vec![p.map_literals(|s| utf16_text(s, true, false))]),
        Encoding::Utf16 => {
            // The byte-order mark goes once, in front of the whole value.
            let mut first = true;
            Ok(vec![p.map_literals(|s| {
                let bom = std::mem::take(&mut first);
                utf16_text(s, false, bom)
            })])
        }
        Encoding::Base64 | Encoding::Base64Offset => {
            let name = if enc == Encoding::Base64 {
                "base64"
            } else {
                "base64offset"
            };
            let text = p
                .as_literal()
                .ok_or(EncodeError::WildcardInEncodedValue(name))?;
            let bytes = text_bytes(text);
            Ok(if enc == Encoding::Base64 {
                vec![Pattern::literal(STANDARD.encode(&bytes))]
            } else {
                base64_offsets(&bytes)
                    .into_iter()
                    .map(Pattern::literal)
                    .collect()
            })
        }
    }
}

/// UTF-16 code units of `s` as text: each byte becomes one char (so the NUL bytes of
/// `wide` strings are kept), which is what pySigma produces for ASCII text.
fn utf16_text(s: &str, big_endian: bool, bom: bool) -> String {
    let mut out = String::new();
    if bom {
        out.push('\u{ff}');
        out.push('\u{fe}');
    }
    for unit in s.encode_utf16() {
        let [a, b] = if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        };
        out.push(char::from(a));
        out.push(char::from(b));
    }
    out
}

/// The bytes a text stands for: chars below 256 that came from a UTF-16 encoding are
/// single bytes; any other text is UTF-8.
fn text_bytes(text: &str) -> Vec<u8> {
    if text.contains('\0') && text.chars().all(|c| (c as u32) < 256) {
        text.chars().map(|c| c as u8).collect()
    } else {
        text.as_bytes().to_vec()
    }
}

/// The three base64 forms of `bytes` as they appear inside a longer base64 text, at
/// each alignment (pySigma's `base64offset`).
pub fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(bytes);
            let enc = STANDARD.encode(&padded);
            let trim = END_TRIM[(bytes.len() + i) % 3];
            let end = enc.len().saturating_sub(trim);
            enc.get(START[i]..end).unwrap_or_default().to_string()
        })
        .collect()
}

/// Every combination of dash characters at the positions `windash` applies to: a `-` or
/// `/` that does not follow a word character and is followed by one (regex `\B[-/]\b`).
pub fn windash_variants(p: &Pattern) -> Vec<Pattern> {
    let mut variants = vec![Pattern::default()];
    for piece in p.pieces() {
        match piece {
            Piece::Lit(s) => {
                let chars: Vec<char> = s.chars().collect();
                // Build every combination for this literal, then cross with prior variants.
                let mut lits = vec![String::new()];
                for (i, &c) in chars.iter().enumerate() {
                    let prev_word = i > 0 && is_word(chars[i - 1]);
                    let next_word = chars.get(i + 1).is_some_and(|&n| is_word(n));
                    if (c == '-' || c == '/') && !prev_word && next_word {
                        lits = lits
                            .iter()
                            .flat_map(|l| {
                                WINDASH_CHARS.iter().map(move |d| {
                                    let mut l = l.clone();
                                    l.push(*d);
                                    l
                                })
                            })
                            .collect();
                    } else {
                        for l in &mut lits {
                            l.push(c);
                        }
                    }
                }
                variants = variants
                    .iter()
                    .flat_map(|v| {
                        lits.iter().map(move |l| {
                            let mut v = v.clone();
                            v.push(Piece::Lit(l.clone()));
                            v
                        })
                    })
                    .collect();
            }
            other => {
                for v in &mut variants {
                    v.push(other.clone());
                }
            }
        }
    }
    variants
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(encodings: Vec<Encoding>) -> Flags {
        Flags {
            encodings,
            ..Flags::default()
        }
    }

    #[test]
    fn base64offset_matches_pysigma() {
        // pySigma: `/bin/bash` -> L2Jpbi9iYXNo, 9iaW4vYmFza, vYmluL2Jhc2
        let got = expand(
            &Pattern::literal("/bin/bash"),
            &flags(vec![Encoding::Base64Offset]),
        )
        .unwrap();
        let got: Vec<_> = got
            .iter()
            .map(|p| p.as_literal().unwrap().to_string())
            .collect();
        assert_eq!(got, ["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]);
    }

    #[test]
    fn wide_then_base64() {
        let got = expand(
            &Pattern::literal("ping"),
            &flags(vec![Encoding::Utf16Le, Encoding::Base64]),
        )
        .unwrap();
        assert_eq!(got[0].as_literal(), Some("cABpAG4AZwA="));
    }

    #[test]
    fn base64_rejects_wildcards() {
        let err = expand(
            &Pattern::parse_sigma("a*b", false),
            &flags(vec![Encoding::Base64]),
        );
        assert!(err.is_err());
    }

    #[test]
    fn windash_positions() {
        let p = Pattern::parse_sigma(" -enc *x-y", false);
        let v = windash_variants(&p);
        assert_eq!(v.len(), 5);
        assert_eq!(v[1].to_sigma(), " /enc *x-y");
        // a dash inside a word is left alone
        assert_eq!(windash_variants(&Pattern::literal("x-y")).len(), 1);
        // at the start of a literal
        assert_eq!(windash_variants(&Pattern::literal("-a -b")).len(), 25);
    }
}
