//! The JSON scanning half of the EVTX [`Builder`]: values, objects, arrays, strings (unescaped
//! in place) and numbers, with the grammar and the error offsets of [`crate::tree::parse`]
//! (same JSON accepted, same errors at the same bytes). The model in the parent module
//! drives it through [`Builder::members`], [`Builder::elements`] and the value readers;
//! values it only has to check are skipped with [`Builder::skip_value`], which changes
//! nothing in the record (a section may be read again later).

use super::{Builder, Parsed, RecordError, Stop};
use crate::flat::Value;
use crate::tree::{MAX_DEPTH, Span, SyntaxError, decode_escape};

// The value readers are inlined into their callers (see the model's `impl Builder`).
#[allow(clippy::inline_always)]
impl Builder<'_> {
    #[inline(always)]
    pub(super) fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Stops at a syntax error at `pos`.
    pub(super) fn error(&mut self, message: &'static str) -> Stop {
        self.error_at(self.pos, message)
    }

    fn error_at(&mut self, offset: usize, message: &'static str) -> Stop {
        self.fail(RecordError::Syntax(SyntaxError { offset, message }))
    }

    /// Stops at `failure` (the first one stays).
    #[cold]
    pub(super) fn fail(&mut self, failure: RecordError) -> Stop {
        self.failure.get_or_insert(failure);
        Stop
    }

    #[inline(always)]
    pub(super) fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    #[inline]
    pub(super) fn check_depth(&mut self, depth: usize) -> Parsed<()> {
        if depth > MAX_DEPTH {
            Err(self.error("nested too deeply"))
        } else {
            Ok(())
        }
    }

    /// Checks the value at `pos` and moves past it, changing nothing.
    pub(super) fn skip_value(&mut self, depth: usize) -> Parsed<()> {
        self.check_depth(depth)?;
        match self.peek() {
            Some(b'{') => self.skip_object(depth),
            Some(b'[') => self.elements(depth, Self::skip_value),
            Some(b'"') => self.skip_string(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number().map(drop),
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("unexpected end of input")),
        }
    }

    #[inline(always)]
    pub(super) fn literal(&mut self, word: &[u8]) -> Parsed<()> {
        if self
            .buf
            .get(self.pos..)
            .unwrap_or_default()
            .starts_with(word)
        {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.error("expected a value"))
        }
    }

    #[inline(always)]
    pub(super) fn number(&mut self) -> Parsed<Value> {
        let start = self.pos;
        // Most numbers: an optional minus and up to 18 digits, which any i64 holds.
        let negative = self.peek() == Some(b'-');
        self.pos += usize::from(negative);
        let mut magnitude = 0i64;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            magnitude = magnitude.wrapping_mul(10).wrapping_add(i64::from(d - b'0'));
            self.pos += 1;
        }
        let count = self.pos - start - usize::from(negative);
        if (1..=18).contains(&count)
            && !matches!(self.peek(), Some(b'-' | b'.' | b'e' | b'E' | b'+'))
        {
            return Ok(Value::Int(if negative { -magnitude } else { magnitude }));
        }
        // Anything else as `tree` reads it.
        self.pos = start;
        let mut integral = true;
        while let Some(b) = self.peek() {
            match b {
                b'0'..=b'9' | b'-' => {}
                b'.' | b'e' | b'E' | b'+' => integral = false,
                _ => break,
            }
            self.pos += 1;
        }
        let digits = self.buf.get(start..self.pos).unwrap_or_default();
        let parsed = std::str::from_utf8(digits).ok().and_then(|digits| {
            if integral {
                if let Ok(i) = digits.parse::<i64>() {
                    return Some(Value::Int(i));
                }
                if let Ok(u) = digits.parse::<u64>() {
                    return Some(Value::UInt(u));
                }
            }
            digits.parse::<f64>().ok().map(Value::Float)
        });
        parsed.ok_or_else(|| self.error_at(start, "invalid number"))
    }

    /// The members of the object at `pos`: `f` gets each key (unescaped in place) with `pos`
    /// at its value, and must move past the value.
    // The key reader is a closure, not `Self::string`: the shim of a method passed by name
    // is not always inlined, and then the call costs several percent of the model's instructions
    // (measured with callgrind).
    #[allow(clippy::redundant_closure_for_method_calls)]
    pub(super) fn members(
        &mut self,
        depth: usize,
        f: impl FnMut(&mut Self, Span, usize) -> Parsed<()>,
    ) -> Parsed<()> {
        self.check_depth(depth)?;
        self.object(depth, |p| p.string(), f)
    }

    /// [`Builder::members`] that changes nothing, for values only checked ([`Builder::skip_value`]
    /// has checked the depth).
    #[allow(clippy::redundant_closure_for_method_calls)] // See `members`.
    fn skip_object(&mut self, depth: usize) -> Parsed<()> {
        self.object(
            depth,
            |p| p.skip_string(),
            |p, (), depth| p.skip_value(depth),
        )
    }

    /// The object at `pos`, each key read by `key` and given to `f` with `pos` at its value.
    /// Inlined, so that [`Builder::members`] and [`Builder::skip_object`] are each the loop
    /// they would be written out.
    #[inline(always)]
    fn object<K>(
        &mut self,
        depth: usize,
        mut key: impl FnMut(&mut Self) -> Parsed<K>,
        mut f: impl FnMut(&mut Self, K, usize) -> Parsed<()>,
    ) -> Parsed<()> {
        self.punctuated(b'}', "expected ',' or '}'", |p| {
            if p.peek() != Some(b'"') {
                return Err(p.error("expected a key"));
            }
            let key = key(p)?;
            p.skip_ws();
            if p.peek() != Some(b':') {
                return Err(p.error("expected ':'"));
            }
            p.pos += 1;
            p.skip_ws();
            f(p, key, depth + 1)
        })
    }

    /// The elements of the array at `pos`: `f` is called with `pos` at each, and must move
    /// past it.
    pub(super) fn elements(
        &mut self,
        depth: usize,
        mut f: impl FnMut(&mut Self, usize) -> Parsed<()>,
    ) -> Parsed<()> {
        self.check_depth(depth)?;
        self.punctuated(b']', "expected ',' or ']'", |p| f(p, depth + 1))
    }

    /// The punctuation of an object or an array from its opening bracket at `pos` to `close`:
    /// `item` is called with `pos` at each member or element, and must move past it.
    #[inline(always)]
    fn punctuated(
        &mut self,
        close: u8,
        expected: &'static str,
        mut item: impl FnMut(&mut Self) -> Parsed<()>,
    ) -> Parsed<()> {
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(_) => return Err(self.error(expected)),
                None => return Err(self.error("unexpected end of input")),
            }
        }
    }

    /// Reads the string at `pos` (its opening quote), unescaping it in place.
    #[inline(always)]
    pub(super) fn string(&mut self) -> Parsed<Span> {
        self.pos += 1;
        let start = self.pos;
        let Some(found) = find_quote_or_backslash(&self.buf, self.pos) else {
            return Err(self.error("unterminated string"));
        };
        self.pos = found;
        if self.buf[found] == b'"' {
            self.pos += 1;
            return Ok(Span {
                start: start as u32,
                end: found as u32,
            });
        }
        self.unescape(start)
    }

    /// The rest of [`Builder::string`] from its first escape (at `pos`), moving each byte
    /// back over the bytes the escapes freed. `write` never passes `pos`: every escape is
    /// longer than what it stands for. The bytes left behind become spaces, so that the
    /// buffer stays UTF-8 (also when stopping at an error).
    #[inline(never)]
    fn unescape(&mut self, start: usize) -> Parsed<Span> {
        let mut write = self.pos;
        // Where an unterminated string is reported: after the last escape, as `tree` does.
        let mut after_escape = self.pos;
        loop {
            match self.buf.get(self.pos) {
                Some(b'"') => {
                    self.buf[write..self.pos].fill(b' ');
                    self.pos += 1;
                    return Ok(Span {
                        start: start as u32,
                        end: write as u32,
                    });
                }
                Some(b'\\') => {
                    let escape = self.pos;
                    let c = match self.escape() {
                        Ok(c) => c,
                        Err(stop) => {
                            self.buf[write..escape].fill(b' ');
                            return Err(stop);
                        }
                    };
                    let mut encoded = [0; 4];
                    let encoded = c.encode_utf8(&mut encoded).as_bytes();
                    self.buf[write..write + encoded.len()].copy_from_slice(encoded);
                    write += encoded.len();
                    after_escape = self.pos;
                }
                Some(&b) => {
                    self.buf[write] = b;
                    write += 1;
                    self.pos += 1;
                }
                None => {
                    self.buf[write..self.pos].fill(b' ');
                    return Err(self.error_at(after_escape, "unterminated string"));
                }
            }
        }
    }

    /// [`Builder::string`] that changes nothing.
    fn skip_string(&mut self) -> Parsed<()> {
        self.pos += 1;
        loop {
            let Some(found) = find_quote_or_backslash(&self.buf, self.pos) else {
                return Err(self.error("unterminated string"));
            };
            self.pos = found;
            if self.buf[found] == b'"' {
                self.pos += 1;
                return Ok(());
            }
            self.escape()?;
        }
    }

    /// Decodes the escape sequence at `pos` (which points at the backslash), as
    /// [`crate::tree`] does.
    fn escape(&mut self) -> Parsed<char> {
        match decode_escape(&self.buf, &mut self.pos) {
            Ok(c) => Ok(c),
            Err(message) => Err(self.error(message)),
        }
    }
}

/// The first `"` or `\\` in `bytes` at or after `from`, eight bytes at a time. Inlined into
/// the string readers (measured: called, it costs about 1% of the instructions of a read).
#[inline]
fn find_quote_or_backslash(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    let mut i = from;
    while let Some(chunk) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let word = u64::from_le_bytes(*chunk);
        let q = word ^ QUOTES;
        let b = word ^ BACKSLASHES;
        // A byte of `q` or `b` is zero where the byte is a quote or a backslash; the lowest
        // flagged byte is always a true one.
        let hits = (q.wrapping_sub(ONES) & !q | b.wrapping_sub(ONES) & !b) & HIGHS;
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes
        .get(i..)?
        .iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|p| i + p)
}
