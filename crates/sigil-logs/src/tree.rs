//! A small JSON parser into a flat, reusable tree.
//!
//! JSON logs are JSON (EVTX records, which the `evtx` crate renders as JSON too, are read in
//! one pass by [`crate::evtx_model`], which accepts the same JSON). Building a `serde_json::Value` per record would allocate a map and a string per
//! node; this parser instead writes nodes into a `Vec` and unescaped text into one `String`,
//! both kept by the caller and cleared between records, so that reading allocates nothing
//! once the buffers have grown to the largest record.

use memchr::memchr2;

/// Deepest nesting accepted; deeper input is an error instead of a stack overflow.
pub(crate) const MAX_DEPTH: usize = 128;

/// A byte range in the text buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    pub(crate) const EMPTY: Span = Span { start: 0, end: 0 };

    pub(crate) fn get(self, text: &str) -> &str {
        text.get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

/// What a node holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(Span),
    Array,
    Object,
}

/// One node of the tree. Nodes are stored in document order (pre-order), so the children of
/// a node follow it directly and `end` is the index just past its subtree.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    /// The key under which the node sits in its parent object ([`Span::EMPTY`] otherwise).
    pub(crate) key: Span,
    pub(crate) kind: Kind,
    pub(crate) end: u32,
}

/// A syntax error, with the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) offset: usize,
    pub(crate) message: &'static str,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid JSON at byte {}: {}", self.offset, self.message)
    }
}

/// Parses one JSON value from `input` (surrounding whitespace allowed, nothing else) into
/// `nodes` (cleared first), with its strings in `text` (not cleared: callers may keep text of
/// their own before it).
///
/// The input is copied into `text` whole, once: a string without escapes (most keys and
/// values) is then a span of that copy, and only strings with escapes are written out again,
/// unescaped, after it. One copy of the record is cheaper than one per string.
pub(crate) fn parse(
    input: &str,
    nodes: &mut Vec<Node>,
    text: &mut String,
) -> Result<(), SyntaxError> {
    nodes.clear();
    let base = text.len();
    if base + input.len() > u32::MAX as usize / 2 {
        return Err(SyntaxError {
            offset: 0,
            message: "record too large",
        });
    }
    text.push_str(input);
    let mut parser = Parser {
        input,
        bytes: input.as_bytes(),
        pos: 0,
        base,
        nodes,
        text,
    };
    parser.skip_ws();
    parser.value(Span::EMPTY, 0)?;
    parser.skip_ws();
    if parser.pos != parser.bytes.len() {
        return Err(parser.error("unexpected data after the value"));
    }
    Ok(())
}

struct Parser<'i, 'o> {
    input: &'i str,
    bytes: &'i [u8],
    pos: usize,
    /// Where the copy of the input starts in `text`.
    base: usize,
    nodes: &'o mut Vec<Node>,
    text: &'o mut String,
}

impl Parser<'_, '_> {
    fn error(&self, message: &'static str) -> SyntaxError {
        SyntaxError {
            offset: self.pos,
            message,
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn push(&mut self, key: Span, kind: Kind) -> usize {
        let index = self.nodes.len();
        self.nodes.push(Node {
            key,
            kind,
            end: index as u32 + 1,
        });
        index
    }

    fn value(&mut self, key: Span, depth: usize) -> Result<(), SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        match self.bytes.get(self.pos) {
            Some(b'{') => self.object(key, depth),
            Some(b'[') => self.array(key, depth),
            Some(b'"') => {
                let span = self.string()?;
                self.push(key, Kind::Str(span));
                Ok(())
            }
            Some(b't') => self.literal(b"true", key, Kind::Bool(true)),
            Some(b'f') => self.literal(b"false", key, Kind::Bool(false)),
            Some(b'n') => self.literal(b"null", key, Kind::Null),
            Some(b'-' | b'0'..=b'9') => self.number(key),
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("unexpected end of input")),
        }
    }

    fn literal(&mut self, word: &[u8], key: Span, kind: Kind) -> Result<(), SyntaxError> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            self.push(key, kind);
            Ok(())
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn number(&mut self, key: Span) -> Result<(), SyntaxError> {
        let start = self.pos;
        let mut integral = true;
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'0'..=b'9' | b'-' => {}
                b'.' | b'e' | b'E' | b'+' => integral = false,
                _ => break,
            }
            self.pos += 1;
        }
        let digits = &self.input[start..self.pos];
        let kind = if integral {
            if let Ok(i) = digits.parse::<i64>() {
                Kind::Int(i)
            } else if let Ok(u) = digits.parse::<u64>() {
                Kind::UInt(u)
            } else {
                digits
                    .parse::<f64>()
                    .map(Kind::Float)
                    .map_err(|_| SyntaxError {
                        offset: start,
                        message: "invalid number",
                    })?
            }
        } else {
            digits
                .parse::<f64>()
                .map(Kind::Float)
                .map_err(|_| SyntaxError {
                    offset: start,
                    message: "invalid number",
                })?
        };
        self.push(key, kind);
        Ok(())
    }

    fn object(&mut self, key: Span, depth: usize) -> Result<(), SyntaxError> {
        let index = self.push(key, Kind::Object);
        self.pos += 1;
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.error("expected a key"));
            }
            let child_key = self.string()?;
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.error("expected ':'"));
            }
            self.pos += 1;
            self.skip_ws();
            self.value(child_key, depth + 1)?;
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => return Err(self.error("expected ',' or '}'")),
                None => return Err(self.error("unexpected end of input")),
            }
        }
        self.nodes[index].end = self.nodes.len() as u32;
        Ok(())
    }

    fn array(&mut self, key: Span, depth: usize) -> Result<(), SyntaxError> {
        let index = self.push(key, Kind::Array);
        self.pos += 1;
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.value(Span::EMPTY, depth + 1)?;
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => return Err(self.error("expected ',' or ']'")),
                None => return Err(self.error("unexpected end of input")),
            }
        }
        self.nodes[index].end = self.nodes.len() as u32;
        Ok(())
    }

    /// Reads a string starting at the opening quote and appends its unescaped text.
    fn string(&mut self) -> Result<Span, SyntaxError> {
        self.pos += 1;
        let Some(found) = memchr2(b'"', b'\\', &self.bytes[self.pos..]) else {
            return Err(self.error("unterminated string"));
        };
        if self.bytes[self.pos + found] == b'"' {
            // No escape: the string is a span of the copy of the input.
            let start = self.base + self.pos;
            self.pos += found + 1;
            return Ok(Span {
                start: start as u32,
                end: (start + found) as u32,
            });
        }
        let start = self.text.len();
        loop {
            let Some(found) = memchr2(b'"', b'\\', &self.bytes[self.pos..]) else {
                return Err(self.error("unterminated string"));
            };
            // Quote and backslash are ASCII, so both ends are character boundaries.
            self.text.push_str(&self.input[self.pos..self.pos + found]);
            self.pos += found;
            if self.bytes[self.pos] == b'"' {
                self.pos += 1;
                break;
            }
            self.escape()?;
        }
        let end = self.text.len();
        if end > u32::MAX as usize {
            return Err(self.error("record too large"));
        }
        Ok(Span {
            start: start as u32,
            end: end as u32,
        })
    }

    /// Decodes the escape sequence at `pos` (which points at the backslash).
    fn escape(&mut self) -> Result<(), SyntaxError> {
        let c = decode_escape(self.bytes, &mut self.pos).map_err(|message| self.error(message))?;
        self.text.push(c);
        Ok(())
    }
}

/// Decodes the JSON escape sequence at `*pos` (which points at the backslash) and moves past
/// it; on error, `*pos` is where the error is reported. `\uXXXX` joins surrogate pairs, and a
/// lone surrogate (Windows strings can hold one) becomes U+FFFD rather than an error. Shared
/// by [`parse`] and the EVTX reader ([`crate::evtx_model`]), which must agree on every escape.
#[inline]
pub(crate) fn decode_escape(bytes: &[u8], pos: &mut usize) -> Result<char, &'static str> {
    let Some(&code) = bytes.get(*pos + 1) else {
        return Err("unterminated string");
    };
    *pos += 2;
    Ok(match code {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => unicode_escape(bytes, pos)?,
        _ => {
            *pos -= 1;
            return Err("invalid escape");
        }
    })
}

/// The `XXXX` of `\uXXXX` at `*pos`, joining surrogate pairs (see [`decode_escape`]).
fn unicode_escape(bytes: &[u8], pos: &mut usize) -> Result<char, &'static str> {
    let first = hex4(bytes, pos)?;
    if (0xD800..0xDC00).contains(&first)
        && bytes.get(*pos..).unwrap_or_default().starts_with(b"\\u")
    {
        let save = *pos;
        *pos += 2;
        let second = hex4(bytes, pos)?;
        if (0xDC00..0xE000).contains(&second) {
            let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
            return Ok(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
        }
        *pos = save;
    }
    Ok(char::from_u32(first).unwrap_or(char::REPLACEMENT_CHARACTER))
}

/// Four hex digits at `*pos`, as `u32::from_str_radix` reads them (so `+` and three digits
/// too).
fn hex4(bytes: &[u8], pos: &mut usize) -> Result<u32, &'static str> {
    let value = bytes.get(*pos..*pos + 4).and_then(|digits| {
        let digits = digits.strip_prefix(b"+").unwrap_or(digits);
        digits.iter().try_fold(0, |value, &d| {
            char::from(d).to_digit(16).map(|digit| value * 16 + digit)
        })
    });
    let value = value.ok_or("invalid \\u escape")?;
    *pos += 4;
    Ok(value)
}

/// The children of the node at `index`, as node indices.
pub(crate) fn children(nodes: &[Node], index: usize) -> impl Iterator<Item = usize> + '_ {
    let end = nodes.get(index).map_or(0, |n| n.end as usize);
    let mut next = index + 1;
    std::iter::from_fn(move || {
        if next >= end {
            return None;
        }
        let current = next;
        next = nodes[current].end as usize;
        Some(current)
    })
}

/// The child of the object at `index` whose key is exactly `key`.
pub(crate) fn child(nodes: &[Node], text: &str, index: usize, key: &str) -> Option<usize> {
    if !matches!(nodes.get(index)?.kind, Kind::Object) {
        return None;
    }
    children(nodes, index).find(|&c| nodes[c].key.get(text) == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(input: &str) -> (Vec<Node>, String) {
        let mut nodes = Vec::new();
        let mut text = String::new();
        parse(input, &mut nodes, &mut text).unwrap();
        (nodes, text)
    }

    #[test]
    fn parses_nested_values_in_document_order() {
        let (nodes, text) = parse_ok(r#" {"a": {"b": [1, -2, 3.5, true, null]}, "c": "x"} "#);
        assert_eq!(nodes.len(), 9);
        assert_eq!(nodes[0].end, 9);
        assert_eq!(nodes[1].key.get(&text), "a");
        assert_eq!(nodes[2].key.get(&text), "b");
        assert_eq!(nodes[3].kind, Kind::Int(1));
        assert_eq!(nodes[4].kind, Kind::Int(-2));
        assert_eq!(nodes[5].kind, Kind::Float(3.5));
        assert_eq!(nodes[6].kind, Kind::Bool(true));
        assert_eq!(nodes[7].kind, Kind::Null);
        let Kind::Str(s) = nodes[8].kind else {
            panic!("expected a string")
        };
        assert_eq!(s.get(&text), "x");
        assert_eq!(children(&nodes, 0).collect::<Vec<_>>(), vec![1, 8]);
        assert_eq!(child(&nodes, &text, 0, "c"), Some(8));
        assert_eq!(child(&nodes, &text, 0, "C"), None);
    }

    #[test]
    fn unescapes_strings() {
        let (nodes, text) = parse_ok(r#""C:\\Windows\\x \"q\" \u00e9 \ud83d\ude00 \ud800""#);
        let Kind::Str(s) = nodes[0].kind else {
            panic!("expected a string")
        };
        assert_eq!(s.get(&text), "C:\\Windows\\x \"q\" é 😀 \u{fffd}");
    }

    #[test]
    fn large_integers_become_unsigned_or_float() {
        let (nodes, _) = parse_ok("[18446744073709551615, 1e3, 99999999999999999999999]");
        assert_eq!(nodes[1].kind, Kind::UInt(u64::MAX));
        assert_eq!(nodes[2].kind, Kind::Float(1000.0));
        assert!(matches!(nodes[3].kind, Kind::Float(_)));
    }

    #[test]
    fn rejects_broken_input_with_offset() {
        let mut nodes = Vec::new();
        let mut text = String::new();
        for (input, offset) in [
            (r#"{"a": 1"#, 7),
            (r#"{"a" 1}"#, 5),
            (r#"{"a": tru}"#, 6),
            (r#"{"a": 1} x"#, 9),
            (r#""abc"#, 1),
            ("", 0),
        ] {
            let err = parse(input, &mut nodes, &mut text).unwrap_err();
            assert_eq!(err.offset, offset, "{input}");
        }
        let deep = "[".repeat(1000);
        assert_eq!(
            parse(&deep, &mut nodes, &mut text).unwrap_err().message,
            "nested too deeply"
        );
    }
}
