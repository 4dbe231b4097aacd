//! EQL tokens.
//!
//! The lexer works on the query text alone; positions are byte offsets into it. Keywords
//! are ordinary identifiers here: the parser decides, because EQL lets most of them be
//! field names too (`process where sequence == 1` is legal in the reference grammar).

use crate::error::SyntaxError;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A name; `insensitive` when written with a trailing `~` (`like~`, `startsWith~`).
    Ident {
        /// The name.
        name: String,
        /// Written with `~`.
        insensitive: bool,
    },
    /// A back-quoted name (`` `my field` ``): always a field, never a keyword.
    Escaped(String),
    /// A string literal, escapes decoded.
    Str(String),
    /// An unsigned integer literal.
    Int(u64),
    /// A decimal literal.
    Float(f64),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `![` (a missing-event step of a sequence)
    MissingOpen,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `.`
    Dot,
    /// `|`
    Pipe,
    /// `?` directly before a name: an optional field.
    Question,
    /// `$` (a variable path of the legacy dialect)
    Dollar,
    /// `==` or `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `:` (not followed by a method name)
    Colon,
    /// `:name(`: a method call of the legacy dialect (`x:length()`).
    Method(String),
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// End of input.
    Eof,
}

/// A token and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past it.
    pub end: usize,
}

fn is_name_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

/// Splits `src` into tokens, ending with [`Tok::Eof`].
pub fn tokenize(src: &str) -> Result<Vec<Token>, SyntaxError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            match src[i + 2..].find("*/") {
                Some(e) => i = i + 2 + e + 2,
                None => return Err(SyntaxError::new(start, "unterminated comment")),
            }
            continue;
        }
        let single = |tok: Tok, len: usize| Token {
            tok,
            start,
            end: start + len,
        };
        let tok = match c {
            b'(' => single(Tok::LParen, 1),
            b')' => single(Tok::RParen, 1),
            b'[' => single(Tok::LBracket, 1),
            b']' => single(Tok::RBracket, 1),
            b',' => single(Tok::Comma, 1),
            b'|' => single(Tok::Pipe, 1),
            b'$' => single(Tok::Dollar, 1),
            b'+' => single(Tok::Plus, 1),
            b'-' => single(Tok::Minus, 1),
            b'*' => single(Tok::Star, 1),
            b'/' => single(Tok::Slash, 1),
            b'%' => single(Tok::Percent, 1),
            b'=' if bytes.get(i + 1) == Some(&b'=') => single(Tok::Eq, 2),
            b'=' => single(Tok::Eq, 1),
            b'!' if bytes.get(i + 1) == Some(&b'=') => single(Tok::Ne, 2),
            b'!' if bytes.get(i + 1) == Some(&b'[') => single(Tok::MissingOpen, 2),
            b'<' if bytes.get(i + 1) == Some(&b'=') => single(Tok::Le, 2),
            b'<' => single(Tok::Lt, 1),
            b'>' if bytes.get(i + 1) == Some(&b'=') => single(Tok::Ge, 2),
            b'>' => single(Tok::Gt, 1),
            b':' => {
                // `:name(` is a method call; `: name` or `:name` alone is the operator.
                let mut j = i + 1;
                if j < bytes.len() && is_name_start(bytes[j]) {
                    while j < bytes.len() && is_name_char(bytes[j]) {
                        j += 1;
                    }
                    if bytes.get(j) == Some(&b'(') {
                        out.push(Token {
                            tok: Tok::Method(src[i + 1..j].to_string()),
                            start,
                            end: j,
                        });
                        i = j;
                        continue;
                    }
                }
                single(Tok::Colon, 1)
            }
            b'.' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let (tok, end) = number(src, i)?;
                Token { tok, start, end }
            }
            b'.' => single(Tok::Dot, 1),
            b'?' => match bytes.get(i + 1) {
                Some(b'"') if src[i + 1..].starts_with("\"\"\"") => {
                    // `?"""` is not a form of the grammar; read it as a raw triple string.
                    let (s, end) = triple_string(src, i + 1)?;
                    Token {
                        tok: Tok::Str(s),
                        start,
                        end,
                    }
                }
                Some(&q @ (b'"' | b'\'')) => {
                    let (s, end) = raw_string(src, i + 1, q)?;
                    Token {
                        tok: Tok::Str(s),
                        start,
                        end,
                    }
                }
                _ => single(Tok::Question, 1),
            },
            b'"' if src[i..].starts_with("\"\"\"") => {
                let (s, end) = triple_string(src, i)?;
                Token {
                    tok: Tok::Str(s),
                    start,
                    end,
                }
            }
            b'"' | b'\'' => {
                let (s, end) = string(src, i, c)?;
                Token {
                    tok: Tok::Str(s),
                    start,
                    end,
                }
            }
            b'`' => match src[i + 1..].find(['`', '\n', '\r']) {
                Some(e) if bytes[i + 1 + e] == b'`' && e > 0 => Token {
                    tok: Tok::Escaped(src[i + 1..i + 1 + e].to_string()),
                    start,
                    end: i + 1 + e + 1,
                },
                _ => return Err(SyntaxError::new(start, "unterminated back-quoted name")),
            },
            c if c.is_ascii_digit() => {
                let (tok, end) = number(src, i)?;
                Token { tok, start, end }
            }
            c if is_name_start(c) => {
                let mut j = i;
                while j < bytes.len() && is_name_char(bytes[j]) {
                    j += 1;
                }
                let insensitive = bytes.get(j) == Some(&b'~');
                let name = src[i..j].to_string();
                Token {
                    tok: Tok::Ident { name, insensitive },
                    start,
                    end: j + usize::from(insensitive),
                }
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(SyntaxError::new(
                    start,
                    format!("unexpected character `{ch}`"),
                ));
            }
        };
        i = tok.end;
        out.push(tok);
    }
    out.push(Token {
        tok: Tok::Eof,
        start: bytes.len(),
        end: bytes.len(),
    });
    Ok(out)
}

fn number(src: &str, start: usize) -> Result<(Tok, usize), SyntaxError> {
    let b = src.as_bytes();
    let mut j = start;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    let mut is_float = false;
    if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
        is_float = true;
        j += 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(b.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        if b.get(k).is_some_and(u8::is_ascii_digit) {
            is_float = true;
            j = k;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
        }
    }
    let text = &src[start..j];
    if is_float {
        text.parse::<f64>()
            .map(|f| (Tok::Float(f), j))
            .map_err(|_| SyntaxError::new(start, format!("invalid number `{text}`")))
    } else {
        text.parse::<u64>()
            .map(|n| (Tok::Int(n), j))
            .map_err(|_| SyntaxError::new(start, format!("integer `{text}` is too large")))
    }
}

/// A `"…"` or `'…'` string with escapes (`\n \t \r \b \f \" \' \\ \u{XXXX}`).
fn string(src: &str, start: usize, quote: u8) -> Result<(String, usize), SyntaxError> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((k, ch)) = chars.next() {
        let pos = start + 1 + k;
        match ch {
            '\n' | '\r' => break,
            c if c as u32 == u32::from(quote) => return Ok((out, pos + 1)),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, 'b')) => out.push('\u{8}'),
                Some((_, 'f')) => out.push('\u{c}'),
                Some((_, c @ ('"' | '\'' | '\\'))) => out.push(c),
                Some((_, 'u')) => {
                    let rest = &src[pos + 2..];
                    let close = rest.find('}').filter(|_| rest.starts_with('{'));
                    let code = close
                        .and_then(|e| u32::from_str_radix(&rest[1..e], 16).ok())
                        .and_then(char::from_u32);
                    match (code, close) {
                        (Some(c), Some(e)) => {
                            out.push(c);
                            for _ in 0..=e {
                                chars.next();
                            }
                        }
                        _ => return Err(SyntaxError::new(pos, "invalid unicode escape")),
                    }
                }
                Some((_, c)) => {
                    return Err(SyntaxError::new(
                        pos,
                        format!("invalid escape sequence `\\{c}` in string"),
                    ));
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Err(SyntaxError::new(start, "unterminated string"))
}

/// A raw `?"…"` / `?'…'` string: no escapes except the quote itself.
fn raw_string(src: &str, start: usize, quote: u8) -> Result<(String, usize), SyntaxError> {
    let b = src.as_bytes();
    let mut j = start + 1;
    while j < b.len() {
        match b[j] {
            b'\n' | b'\r' => break,
            b'\\' if b.get(j + 1) == Some(&quote) => j += 2,
            c if c == quote => {
                let q = char::from(quote);
                let body = src[start + 1..j].replace(&format!("\\{q}"), &q.to_string());
                return Ok((body, j + 1));
            }
            _ => j += 1,
        }
    }
    Err(SyntaxError::new(start, "unterminated raw string"))
}

/// A raw `"""…"""` string (no escapes, one line).
fn triple_string(src: &str, start: usize) -> Result<(String, usize), SyntaxError> {
    let body_start = start + 3;
    match src[body_start..].find("\"\"\"") {
        Some(e) => {
            // Up to two more quotes right before the close belong to the body (`""""` ends
            // with a quote character in the reference grammar).
            let mut end = body_start + e;
            let b = src.as_bytes();
            let mut extra = 0;
            while extra < 2 && b.get(end + 3) == Some(&b'"') {
                end += 1;
                extra += 1;
            }
            let body = &src[body_start..end];
            if body.contains(['\n', '\r']) {
                return Err(SyntaxError::new(start, "raw string spans lines"));
            }
            Ok((body.to_string(), end + 3))
        }
        None => Err(SyntaxError::new(start, "unterminated raw string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        tokenize(s)
            .expect("lexes")
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn operators_and_names() {
        assert_eq!(
            kinds("a.b : \"x\" and c like~ 'y'"),
            vec![
                Tok::Ident {
                    name: "a".into(),
                    insensitive: false
                },
                Tok::Dot,
                Tok::Ident {
                    name: "b".into(),
                    insensitive: false
                },
                Tok::Colon,
                Tok::Str("x".into()),
                Tok::Ident {
                    name: "and".into(),
                    insensitive: false
                },
                Tok::Ident {
                    name: "c".into(),
                    insensitive: false
                },
                Tok::Ident {
                    name: "like".into(),
                    insensitive: true
                },
                Tok::Str("y".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn strings() {
        assert_eq!(kinds(r#""C:\\x\"""#)[0], Tok::Str(r#"C:\x""#.into()));
        assert_eq!(kinds(r#"?"C:\x""#)[0], Tok::Str(r"C:\x".into()));
        assert_eq!(kinds(r#""""a\b"c""""#)[0], Tok::Str(r#"a\b"c"#.into()));
        assert_eq!(kinds(r#""\u{41}""#)[0], Tok::Str("A".into()));
        assert!(tokenize(r#""\d""#).is_err());
        assert!(tokenize("\"abc").is_err());
    }

    #[test]
    fn numbers_methods_comments() {
        assert_eq!(
            kinds("1 2.5 1e3 // c\n/* d */ x:length()")[..4],
            [
                Tok::Int(1),
                Tok::Float(2.5),
                Tok::Float(1000.0),
                Tok::Ident {
                    name: "x".into(),
                    insensitive: false
                }
            ]
        );
        assert_eq!(kinds("x:length()")[1], Tok::Method("length".into()));
        assert_eq!(kinds("x : length")[1], Tok::Colon);
        assert!(tokenize("/* open").is_err());
        assert!(tokenize("a # b").is_err());
        assert!(tokenize("99999999999999999999999").is_err());
    }
}
