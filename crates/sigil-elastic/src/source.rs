//! Positions: byte offsets to lines and columns, and offsets inside a decoded TOML string
//! back to offsets in the file, so an error in a query points at the right place of the
//! rule file even when the string had escapes.

use sigil_core::Span;

/// Line starts of a text, for turning byte offsets into 1-based lines and columns.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`.
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Self { text, starts }
    }

    /// The position of byte `offset` (clamped to the text; columns count characters).
    pub fn span(&self, offset: usize) -> Span {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line.saturating_sub(1)];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        Span::new(line as u32, column as u32 + 1, offset as u32)
    }
}

/// For every byte offset of a decoded TOML string, the byte offset in the file it came
/// from (one extra entry for the end).
#[derive(Debug, Clone)]
pub struct StringMap {
    offsets: Vec<usize>,
}

impl StringMap {
    /// Maps the string token `raw` (quotes included) that starts at file offset `base`
    /// and decodes to `decoded`. When the token cannot be re-decoded to the same text
    /// (it should always can), every offset maps to the token start.
    pub fn new(raw: &str, base: usize, decoded: &str) -> Self {
        match decode(raw) {
            Some((text, offsets)) if text == decoded => Self {
                offsets: offsets.into_iter().map(|o| o + base).collect(),
            },
            _ => Self {
                offsets: vec![base; decoded.len() + 1],
            },
        }
    }

    /// The file offset of decoded offset `i` (clamped).
    pub fn file_offset(&self, i: usize) -> usize {
        let last = self.offsets.len().saturating_sub(1);
        self.offsets.get(i.min(last)).copied().unwrap_or(0)
    }
}

/// Decodes a TOML string token, recording for each output byte its raw offset.
fn decode(raw: &str) -> Option<(String, Vec<usize>)> {
    let (open, close, escapes) = if raw.starts_with("'''") {
        ("'''", "'''", false)
    } else if raw.starts_with("\"\"\"") {
        ("\"\"\"", "\"\"\"", true)
    } else if raw.starts_with('\'') {
        ("'", "'", false)
    } else if raw.starts_with('"') {
        ("\"", "\"", true)
    } else {
        return None;
    };
    let multi = open.len() == 3;
    if raw.len() < open.len() + close.len() || !raw.ends_with(close) {
        return None;
    }
    let mut i = open.len();
    let end = raw.len() - close.len();
    if multi {
        // A newline right after the opening delimiter is trimmed.
        if raw[i..].starts_with("\r\n") {
            i += 2;
        } else if raw[i..].starts_with('\n') {
            i += 1;
        }
    }
    let mut out = String::new();
    let mut offsets = Vec::new();
    let push = |out: &mut String, offsets: &mut Vec<usize>, c: char, at: usize| {
        out.push(c);
        offsets.extend(std::iter::repeat_n(at, c.len_utf8()));
    };
    let body = &raw[..end];
    while i < end {
        let c = body[i..].chars().next()?;
        if escapes && c == '\\' {
            let next = body[i + 1..].chars().next()?;
            let simple = match next {
                'b' => Some('\u{8}'),
                't' => Some('\t'),
                'n' => Some('\n'),
                'f' => Some('\u{c}'),
                'r' => Some('\r'),
                'e' => Some('\u{1b}'),
                '"' => Some('"'),
                '\\' => Some('\\'),
                _ => None,
            };
            if let Some(ch) = simple {
                push(&mut out, &mut offsets, ch, i);
                i += 2;
                continue;
            }
            match next {
                'u' | 'U' | 'x' => {
                    let n = match next {
                        'u' => 4,
                        'U' => 8,
                        _ => 2,
                    };
                    let hex = body.get(i + 2..i + 2 + n)?;
                    let ch = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                    push(&mut out, &mut offsets, ch, i);
                    i += 2 + n;
                }
                ' ' | '\t' | '\r' | '\n' if multi => {
                    // A line-ending backslash swallows all whitespace up to the next
                    // non-whitespace character.
                    let mut j = i + 1;
                    while j < end && matches!(body.as_bytes()[j], b' ' | b'\t' | b'\r' | b'\n') {
                        j += 1;
                    }
                    i = j;
                }
                _ => return None,
            }
            continue;
        }
        push(&mut out, &mut offsets, c, i);
        i += c.len_utf8();
    }
    offsets.push(end);
    Some((out, offsets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let idx = LineIndex::new("ab\ncdé\nx");
        assert_eq!(idx.span(0), Span::new(1, 1, 0));
        assert_eq!(idx.span(4), Span::new(2, 2, 4));
        assert_eq!(idx.span(7), Span::new(2, 4, 7));
        assert_eq!(idx.span(8), Span::new(3, 1, 8));
        assert_eq!(idx.span(100).line, 3);
    }

    #[test]
    fn literal_multiline_string() {
        let raw = "'''\nab\ncd'''";
        let m = StringMap::new(raw, 10, "ab\ncd");
        assert_eq!(m.file_offset(0), 14);
        assert_eq!(m.file_offset(3), 17);
    }

    #[test]
    fn basic_string_with_escapes() {
        let raw = r#""a\\b\"c""#;
        let m = StringMap::new(raw, 0, r#"a\b"c"#);
        assert_eq!(m.file_offset(1), 2);
        assert_eq!(m.file_offset(2), 4);
        assert_eq!(m.file_offset(4), 7);
        // A mismatch falls back to the token start.
        let m = StringMap::new(raw, 5, "zzz");
        assert_eq!(m.file_offset(2), 5);
    }

    #[test]
    fn line_ending_backslash() {
        let raw = "\"\"\"\na \\\n   b\"\"\"";
        let m = StringMap::new(raw, 0, "a b");
        assert_eq!(m.file_offset(2), 11);
    }
}
