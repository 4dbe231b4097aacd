//! The condition grammar of Sigma detections.
//!
//! ```text
//! condition := or
//! or        := and ("or" and)*
//! and       := not ("and" not)*
//! not       := "not" not | primary
//! primary   := "(" or ")" | ("1" | "any" | "all") "of" (them | pattern) | identifier
//! ```
//!
//! Precedence is or < and < not < x-of, as in the specification. Keywords are lower
//! case, as pySigma reads them. A `|` starts a legacy aggregation (`| count() > 5`),
//! which Sigma 2 replaced with correlation rules: it is reported as such.

use sigil_core::{Condition, Selector, Span};

use crate::SigmaError;

/// Deepest nesting of parentheses and `not` accepted; real conditions use a handful.
const MAX_CONDITION_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    Word(&'a str),
    Open,
    Close,
}

/// Maps a character offset inside the condition text to a span in the file.
#[derive(Debug, Clone, Copy)]
pub struct ConditionSource {
    /// Where the condition text starts in the file.
    pub start: Span,
    /// Whether the condition text is found verbatim at `start` (a one-line scalar), so
    /// offsets inside it map to exact columns.
    pub exact: bool,
}

impl ConditionSource {
    /// The span of byte `byte` of the condition `text`.
    pub fn at(&self, text: &str, byte: usize) -> Span {
        if !self.exact {
            return self.start;
        }
        let chars = text[..byte.min(text.len())].chars().count() as u32;
        Span::new(
            self.start.line,
            self.start.column + chars,
            self.start.offset + byte as u32,
        )
    }
}

fn tokenize<'a>(text: &'a str, src: &ConditionSource) -> Result<Vec<(Tok<'a>, usize)>, SigmaError> {
    let mut toks = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                toks.push((Tok::Open, i));
                i += 1;
            }
            b')' => {
                toks.push((Tok::Close, i));
                i += 1;
            }
            b'|' => {
                return Err(SigmaError::LegacyAggregation {
                    span: src.at(text, i),
                });
            }
            _ => {
                let start = i;
                while i < bytes.len()
                    && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'(' | b')' | b'|')
                {
                    i += 1;
                }
                toks.push((Tok::Word(&text[start..i]), start));
            }
        }
    }
    Ok(toks)
}

struct ConditionParser<'a, 's> {
    text: &'a str,
    toks: Vec<(Tok<'a>, usize)>,
    pos: usize,
    src: &'s ConditionSource,
    depth: usize,
}

/// Parses one condition. `src` says where its text sits in the file.
pub fn parse_condition(text: &str, src: &ConditionSource) -> Result<Condition, SigmaError> {
    let toks = tokenize(text, src)?;
    let mut p = ConditionParser {
        text,
        toks,
        pos: 0,
        src,
        depth: 0,
    };
    if p.toks.is_empty() {
        return Err(p.error_at(0, "the condition is empty"));
    }
    let cond = p.or()?;
    if let Some((tok, at)) = p.toks.get(p.pos) {
        let what = match tok {
            Tok::Word(w) => format!("unexpected `{w}`"),
            Tok::Open => "unexpected `(`".to_string(),
            Tok::Close => "unbalanced `)`".to_string(),
        };
        return Err(p.error_at(*at, &what));
    }
    Ok(cond)
}

impl<'a> ConditionParser<'a, '_> {
    fn error_at(&self, byte: usize, message: &str) -> SigmaError {
        SigmaError::Condition {
            message: message.to_string(),
            span: self.src.at(self.text, byte),
        }
    }

    fn peek_word(&self) -> Option<&'a str> {
        match self.toks.get(self.pos) {
            Some((Tok::Word(w), _)) => Some(w),
            _ => None,
        }
    }

    fn end_offset(&self) -> usize {
        self.text.trim_end().len()
    }

    fn enter(&mut self) -> Result<(), SigmaError> {
        self.depth += 1;
        if self.depth > MAX_CONDITION_DEPTH {
            let at = self.toks.get(self.pos).map_or(0, |t| t.1);
            return Err(self.error_at(
                at,
                &format!("nested deeper than {MAX_CONDITION_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Condition, SigmaError> {
        let mut items = vec![self.and()?];
        while self.peek_word() == Some("or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Condition::Or(items)
        })
    }

    fn and(&mut self) -> Result<Condition, SigmaError> {
        let mut items = vec![self.not()?];
        while self.peek_word() == Some("and") {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Condition::And(items)
        })
    }

    fn not(&mut self) -> Result<Condition, SigmaError> {
        if self.peek_word() == Some("not") {
            self.pos += 1;
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Condition::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Condition, SigmaError> {
        let Some((tok, at)) = self.toks.get(self.pos).cloned() else {
            return Err(self.error_at(self.end_offset(), "the condition ends too early"));
        };
        self.pos += 1;
        match tok {
            Tok::Open => {
                self.enter()?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.toks.get(self.pos) {
                    Some((Tok::Close, _)) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    _ => Err(self.error_at(at, "`(` is never closed")),
                }
            }
            Tok::Close => Err(self.error_at(at, "unexpected `)`")),
            Tok::Word(w @ ("1" | "any" | "all")) if self.peek_word() == Some("of") => {
                self.pos += 1;
                let Some((Tok::Word(pattern), pat_at)) = self.toks.get(self.pos).cloned() else {
                    let at = self.toks.get(self.pos).map_or(self.end_offset(), |t| t.1);
                    return Err(self.error_at(
                        at,
                        &format!("`{w} of` needs `them` or a search name pattern"),
                    ));
                };
                if pattern != "them" && is_keyword(pattern) {
                    return Err(self.error_at(
                        pat_at,
                        &format!("`{w} of` needs `them` or a search name pattern, not `{pattern}`"),
                    ));
                }
                self.pos += 1;
                let selector = Selector {
                    pattern: pattern.to_string(),
                    span: self.src.at(self.text, pat_at),
                };
                Ok(if w == "all" {
                    Condition::AllOf(selector)
                } else {
                    Condition::OneOf(selector)
                })
            }
            Tok::Word(w) if is_keyword(w) => Err(self.error_at(at, &format!("unexpected `{w}`"))),
            Tok::Word(w) if w.contains('*') => Err(self.error_at(
                at,
                &format!("`{w}` is a pattern; write `1 of {w}` or `all of {w}`"),
            )),
            Tok::Word(w) => Ok(Condition::Search {
                name: w.to_string(),
                span: self.src.at(self.text, at),
            }),
        }
    }
}

fn is_keyword(w: &str) -> bool {
    matches!(w, "and" | "or" | "not" | "of" | "them" | "(" | ")")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> ConditionSource {
        ConditionSource {
            start: Span::new(10, 16, 100),
            exact: true,
        }
    }

    fn parse(t: &str) -> Condition {
        parse_condition(t, &src()).unwrap()
    }

    fn show(c: &Condition) -> String {
        match c {
            Condition::And(v) => {
                format!("({})", v.iter().map(show).collect::<Vec<_>>().join(" & "))
            }
            Condition::Or(v) => format!("({})", v.iter().map(show).collect::<Vec<_>>().join(" | ")),
            Condition::Not(c) => format!("!{}", show(c)),
            Condition::Search { name, .. } => name.clone(),
            Condition::OneOf(s) => format!("1of[{}]", s.pattern),
            Condition::AllOf(s) => format!("allof[{}]", s.pattern),
        }
    }

    #[test]
    fn precedence_or_and_not_xof() {
        assert_eq!(show(&parse("a or b and not c")), "(a | (b & !c))");
        assert_eq!(show(&parse("not a and b")), "(!a & b)");
        assert_eq!(show(&parse("(a or b) and c")), "((a | b) & c)");
        assert_eq!(
            show(&parse("sel and not 1 of filter_* and all of them")),
            "(sel & !1of[filter_*] & allof[them])"
        );
        assert_eq!(show(&parse("any of sel*")), "1of[sel*]");
        assert_eq!(show(&parse("not not a")), "!!a");
        assert_eq!(
            show(&parse("a\n  and\n  (\n 1 of b_*\n)")),
            "(a & 1of[b_*])"
        );
    }

    #[test]
    fn spans_point_into_the_file() {
        let c = parse("a and bb");
        let Condition::And(v) = c else { panic!() };
        assert_eq!(
            v[1],
            Condition::Search {
                name: "bb".into(),
                span: Span::new(10, 22, 106)
            }
        );
    }

    #[test]
    fn errors() {
        let err = |t: &str| parse_condition(t, &src()).unwrap_err().to_string();
        assert_eq!(err(""), "condition: the condition is empty");
        assert_eq!(err("a and"), "condition: the condition ends too early");
        assert_eq!(err("(a or b"), "condition: `(` is never closed");
        assert_eq!(err("a b"), "condition: unexpected `b`");
        assert_eq!(err("a )"), "condition: unbalanced `)`");
        assert_eq!(
            err("1 of"),
            "condition: `1 of` needs `them` or a search name pattern"
        );
        assert_eq!(
            err("sel_*"),
            "condition: `sel_*` is a pattern; write `1 of sel_*` or `all of sel_*`"
        );
        assert!(err("selection | count() > 5").contains("legacy aggregation"));
        let deep = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(err(&deep).contains("nested deeper"));
        let nots = format!("{}a", "not ".repeat(10_000));
        assert!(err(&nots).contains("nested deeper"));
    }

    #[test]
    fn legacy_aggregation_span() {
        let e = parse_condition("selection | count() > 5", &src()).unwrap_err();
        assert_eq!(e.span(), Span::new(10, 26, 110));
    }
}
