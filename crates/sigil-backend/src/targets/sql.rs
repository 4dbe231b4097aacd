//! What the SQL targets (SQLite, DuckDB, ClickHouse, Spark) share: string literals in each
//! engine's quoting, `LIKE` patterns with their escapes, `GLOB` bodies and anchored
//! regular expressions for patterns.
//!
//! The engines differ in one place that matters here: whether a backslash in a string
//! literal is an escape. In SQLite and DuckDB it is not (only `'` is doubled); in ClickHouse
//! and Spark it is, so a backslash meant for `LIKE` or a regex is written twice.

use sigil_core::{Pattern, Piece};

/// How an engine writes a string literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Literal {
    /// Standard SQL: `'` doubled, backslashes as they are (SQLite, DuckDB).
    Standard,
    /// Backslashes escape: `\` doubled, `'` doubled (ClickHouse).
    BackslashDoubledQuote,
    /// Backslashes escape: `\` doubled, `'` as `\'` (Spark SQL).
    Backslash,
}

impl Literal {
    /// `text` as the inside of a `'...'` literal.
    pub fn body(self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 2);
        for c in text.chars() {
            match (self, c) {
                (_, '\'') if self == Literal::Backslash => out.push_str("\\'"),
                (_, '\'') => out.push_str("''"),
                (Literal::Standard, '\\') => out.push('\\'),
                (_, '\\') => out.push_str("\\\\"),
                (_, c) => out.push(c),
            }
        }
        out
    }

    /// `text` as a quoted literal.
    pub fn quoted(self, text: &str) -> String {
        format!("'{}'", self.body(text))
    }
}

/// Whether a pattern's literal text holds a character `LIKE` reads as special (`%`, `_`).
pub fn has_like_specials(p: &Pattern) -> bool {
    p.literals().any(|l| l.contains(['%', '_']))
}

/// A `LIKE` pattern for `p` before literal quoting: wildcards as `%` and `_`, and where
/// `escape` is set, literal `%`, `_` and `\` escaped with a backslash.
pub fn like_pattern(p: &Pattern, escape: bool) -> String {
    let mut out = String::new();
    for piece in p.pieces() {
        match piece {
            Piece::Lit(s) => {
                for c in s.chars() {
                    if escape && matches!(c, '%' | '_' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
            Piece::AnyMany => out.push('%'),
            Piece::AnyOne => out.push('_'),
            Piece::Placeholder(_) => {}
        }
    }
    out
}

/// A `GLOB` pattern for `p` (SQLite, DuckDB): `GLOB` has no escape character, so literal
/// `*`, `?` and `[` become one-character classes.
pub fn glob_pattern(p: &Pattern) -> String {
    let mut body = String::new();
    for piece in p.pieces() {
        match piece {
            Piece::Lit(t) => {
                for c in t.chars() {
                    if matches!(c, '*' | '?' | '[') {
                        body.push('[');
                        body.push(c);
                        body.push(']');
                    } else {
                        body.push(c);
                    }
                }
            }
            Piece::AnyMany => body.push('*'),
            Piece::AnyOne => body.push('?'),
            Piece::Placeholder(_) => {}
        }
    }
    body
}

/// Escapes what Python's `re.escape` escapes, which is also what RE2 and Java regexes read
/// as special (and a few harmless extras: space, `#`, `&`, `~`, `-`).
pub fn re_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\\t"),
            '\n' => out.push_str("\\\n"),
            '\r' => out.push_str("\\\r"),
            '\x0b' => out.push_str("\\\x0b"),
            '\x0c' => out.push_str("\\\x0c"),
            c if "()[]{}?*+-|^$\\.&~# ".contains(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The regular expression of a pattern, without anchors: literal parts escaped, `*` as
/// `.*`, `?` as `.`.
pub fn pattern_regex(p: &Pattern) -> String {
    let mut out = String::new();
    for piece in p.pieces() {
        match piece {
            Piece::Lit(s) => out.push_str(&re_escape(s)),
            Piece::AnyMany => out.push_str(".*"),
            Piece::AnyOne => out.push('.'),
            Piece::Placeholder(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_follow_each_engine() {
        let text = r"a'b\c";
        assert_eq!(Literal::Standard.quoted(text), r"'a''b\c'");
        assert_eq!(Literal::BackslashDoubledQuote.quoted(text), r"'a''b\\c'");
        assert_eq!(Literal::Backslash.quoted(text), r"'a\'b\\c'");
    }

    #[test]
    fn like_escapes_only_when_asked() {
        let p = Pattern::parse_sigma(r"*a_b%c\d*", false);
        assert_eq!(like_pattern(&p, false), r"%a_b%c\d%");
        assert_eq!(like_pattern(&p, true), r"%a\_b\%c\\d%");
        assert!(has_like_specials(&p));
        assert!(!has_like_specials(&Pattern::parse_sigma("*ab*", false)));
    }

    #[test]
    fn glob_and_regex_bodies() {
        let p = Pattern::parse_sigma(r"a\*b?c*", false);
        assert_eq!(glob_pattern(&p), "a[*]b?c*");
        assert_eq!(pattern_regex(&p), r"a\*b.c.*");
        assert_eq!(re_escape("a.b c#"), r"a\.b\ c\#");
    }
}
