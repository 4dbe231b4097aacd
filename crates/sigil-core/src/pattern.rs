//! String values with wildcards and placeholders.
//!
//! Sigma strings use `*` (any run of characters) and `?` (one character) as wildcards and
//! `\` to escape them: `\*`, `\?` and `\\` stand for the literal characters; a backslash
//! before anything else is a plain backslash (so Windows paths need no doubling). Keeping
//! the pieces apart means backends and the engine never re-parse escapes.

use serde::{Deserialize, Serialize};

/// One piece of a [`Pattern`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Piece {
    /// Literal text.
    Lit(String),
    /// `*`: any run of characters, possibly empty.
    AnyMany,
    /// `?`: exactly one character.
    AnyOne,
    /// `%name%` under the `expand` modifier: a value supplied by a pipeline.
    Placeholder(String),
}

/// A string value: literal text interleaved with wildcards and placeholders.
/// Adjacent literals are always merged, so a wildcard-free pattern has at most one piece.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pattern {
    pieces: Vec<Piece>,
}

impl Pattern {
    /// A pattern matching exactly `text` (no wildcard interpretation).
    pub fn literal(text: impl Into<String>) -> Self {
        let mut p = Self::default();
        p.push_lit_owned(text.into());
        p
    }

    /// Parses Sigma string syntax. With `placeholders`, `%name%` becomes a
    /// [`Piece::Placeholder`] (the `expand` modifier); otherwise `%` is literal.
    pub fn parse_sigma(text: &str, placeholders: bool) -> Self {
        // Runs of plain text are copied as slices; `lit` only collects a literal that an
        // escape interrupts, so a piece without escapes costs one exact allocation.
        let bytes = text.as_bytes();
        let mut p = Self::default();
        let mut lit = String::new();
        let flush = |p: &mut Self, lit: &mut String, run: &str| {
            if lit.is_empty() {
                p.push_lit(run);
            } else {
                lit.push_str(run);
                p.push_lit_owned(std::mem::take(lit));
            }
        };
        // The start of the run of plain text not yet taken.
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if matches!(bytes.get(i + 1), Some(b'*' | b'?' | b'\\')) => {
                    // The escaped character starts the next run.
                    lit.push_str(&text[start..i]);
                    start = i + 1;
                    i += 2;
                }
                c @ (b'*' | b'?') => {
                    flush(&mut p, &mut lit, &text[start..i]);
                    p.pieces.push(if c == b'*' {
                        Piece::AnyMany
                    } else {
                        Piece::AnyOne
                    });
                    i += 1;
                    start = i;
                }
                b'%' if placeholders => {
                    let rest = &text[i + 1..];
                    if let Some(end) = rest.find('%').filter(|&e| e > 0) {
                        let name = &rest[..end];
                        if name
                            .chars()
                            .all(|ch| ch.is_alphanumeric() || "_-.".contains(ch))
                        {
                            flush(&mut p, &mut lit, &text[start..i]);
                            p.pieces.push(Piece::Placeholder(name.to_string()));
                            i += end + 2;
                            start = i;
                            continue;
                        }
                    }
                    i += 1;
                }
                _ => i += 1,
            }
        }
        flush(&mut p, &mut lit, &text[start..]);
        p
    }

    /// Builds a pattern from pieces, merging adjacent literals.
    pub fn from_pieces(pieces: impl IntoIterator<Item = Piece>) -> Self {
        let mut p = Self::default();
        for piece in pieces {
            p.push(piece);
        }
        p
    }

    /// Appends a piece, merging adjacent literals and dropping empty ones.
    pub fn push(&mut self, piece: Piece) {
        match piece {
            Piece::Lit(s) => self.push_lit(&s),
            other => self.pieces.push(other),
        }
    }

    /// Like [`Pattern::push_lit`], taking the text without a copy when it starts a piece.
    fn push_lit_owned(&mut self, s: String) {
        if s.is_empty() {
            return;
        }
        if let Some(Piece::Lit(last)) = self.pieces.last_mut() {
            last.push_str(&s);
        } else {
            self.pieces.push(Piece::Lit(s));
        }
    }

    fn push_lit(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(Piece::Lit(last)) = self.pieces.last_mut() {
            last.push_str(s);
        } else {
            self.pieces.push(Piece::Lit(s.to_string()));
        }
    }

    /// The pieces, in order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The text when the pattern is a plain literal (no wildcard, no placeholder).
    pub fn as_literal(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [] => Some(""),
            [Piece::Lit(s)] => Some(s),
            _ => None,
        }
    }

    /// Whether the pattern holds `*` or `?`.
    pub fn has_wildcards(&self) -> bool {
        self.pieces
            .iter()
            .any(|p| matches!(p, Piece::AnyMany | Piece::AnyOne))
    }

    /// Whether the pattern holds a placeholder.
    pub fn has_placeholders(&self) -> bool {
        self.pieces
            .iter()
            .any(|p| matches!(p, Piece::Placeholder(_)))
    }

    /// Whether the pattern is empty (matches only the empty string).
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// A copy with `*` added in front unless it already starts with one.
    #[must_use]
    pub fn with_leading_any(&self) -> Self {
        if matches!(self.pieces.first(), Some(Piece::AnyMany)) {
            return self.clone();
        }
        let mut pieces = vec![Piece::AnyMany];
        pieces.extend(self.pieces.iter().cloned());
        Self { pieces }
    }

    /// A copy with `*` added at the end unless it already ends with one.
    #[must_use]
    pub fn with_trailing_any(&self) -> Self {
        let mut p = self.clone();
        if !matches!(p.pieces.last(), Some(Piece::AnyMany)) {
            p.pieces.push(Piece::AnyMany);
        }
        p
    }

    /// Applies `f` to every literal piece, keeping wildcards and placeholders.
    #[must_use]
    pub fn map_literals(&self, mut f: impl FnMut(&str) -> String) -> Self {
        Self::from_pieces(self.pieces.iter().map(|p| match p {
            Piece::Lit(s) => Piece::Lit(f(s)),
            other => other.clone(),
        }))
    }

    /// The literal texts of the pattern (what a prefilter can look for).
    pub fn literals(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Lit(s) => Some(s.as_str()),
            _ => None,
        })
    }

    /// Sigma syntax again: literals with `*`, `?` and `\` escaped where needed.
    pub fn to_sigma(&self) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Lit(s) => {
                    let mut chars = s.chars().peekable();
                    while let Some(c) = chars.next() {
                        match c {
                            '*' | '?' => {
                                out.push('\\');
                                out.push(c);
                            }
                            // A backslash needs doubling only where it would escape what follows.
                            '\\' if chars.peek().is_none_or(|n| matches!(n, '*' | '?' | '\\')) => {
                                out.push_str("\\\\");
                            }
                            _ => out.push(c),
                        }
                    }
                }
                Piece::AnyMany => out.push('*'),
                Piece::AnyOne => out.push('?'),
                Piece::Placeholder(n) => {
                    out.push('%');
                    out.push_str(n);
                    out.push('%');
                }
            }
        }
        out
    }

    /// An anchored regular expression (Rust `regex` syntax) equivalent to the pattern.
    /// Placeholders match anything.
    pub fn to_regex(&self) -> String {
        let mut out = String::from("^");
        for p in &self.pieces {
            match p {
                Piece::Lit(s) => out.push_str(&regex_escape(s)),
                Piece::AnyMany | Piece::Placeholder(_) => out.push_str("(?s:.*)"),
                Piece::AnyOne => out.push_str("(?s:.)"),
            }
        }
        out.push('$');
        out
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_sigma())
    }
}

/// Escapes regex meta characters (the set of the `regex` crate).
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_specification() {
        let p = Pattern::parse_sigma(r"C:\Windows\*\x\\*a\?", false);
        assert_eq!(
            p.pieces(),
            &[
                Piece::Lit(r"C:\Windows*\x\".into()),
                Piece::AnyMany,
                Piece::Lit("a?".into())
            ]
        );
        assert_eq!(Pattern::parse_sigma(&p.to_sigma(), false), p);
    }

    #[test]
    fn trailing_backslash_is_literal() {
        let p = Pattern::parse_sigma(r"\\host\share\", false);
        assert_eq!(p.as_literal(), Some(r"\host\share\"));
    }

    #[test]
    fn placeholders_only_with_expand() {
        let p = Pattern::parse_sigma("%Admins%\\x", true);
        assert_eq!(p.pieces()[0], Piece::Placeholder("Admins".into()));
        assert_eq!(
            Pattern::parse_sigma("100%", true).as_literal(),
            Some("100%")
        );
        assert_eq!(
            Pattern::parse_sigma("%Admins%", false).as_literal(),
            Some("%Admins%")
        );
    }

    #[test]
    fn regex_is_anchored_and_escaped() {
        let p = Pattern::parse_sigma("a.b*c?", false);
        assert_eq!(p.to_regex(), r"^a\.b(?s:.*)c(?s:.)$");
    }
}
