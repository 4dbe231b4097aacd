//! KQL (Kibana query language, `kuery`): parser and lowering into the IR.
//!
//! The grammar follows Kibana's: `or` binds looser than `and`, `not` is prefix, all
//! three case-insensitive; `field:value`, `field:(a or b and not c)`, `field:{nested}`,
//! `field < value` (and `<=`, `>`, `>=`), `field:*` (exists), bare values (searched in
//! every field). An unquoted value may contain spaces and `*` wildcards and ends before a
//! keyword surrounded by spaces or a special character (`\():<>"*{}`, escapable with `\`);
//! a quoted value is a literal phrase (a `*` inside quotes is a plain asterisk).
//!
//! Lowering: `field:value` compares the whole value, case-sensitively (Elastic's keyword
//! fields are exact), with wildcards where the value was unquoted. On analysed full-text
//! fields (`text`, `match_only_text`: [`crate::field_types`]) the value is a phrase of
//! words instead, case-insensitive ([`sigil_core::words`]). A nested query
//! prefixes its fields with the outer field. Bare values become keyword predicates
//! (`Contains`, like Sigma keywords).

use sigil_core::{Expr, Flags, NotEvaluable, Op, Pattern, Piece, Predicate, Span, Value};

use crate::eql::ast::Loc;
use crate::error::SyntaxError;

const MAX_DEPTH: usize = 64;

/// A KQL query.
#[derive(Debug, Clone, PartialEq)]
pub enum KqlNode {
    /// All hold.
    And(Vec<KqlNode>),
    /// One holds.
    Or(Vec<KqlNode>),
    /// Negation.
    Not(Box<KqlNode>),
    /// `field:value-expression`, or a bare value (`field == None`).
    Match {
        /// The field (`None` for a bare value or `*`).
        field: Option<String>,
        /// The values.
        value: ValueExpr,
        /// Where.
        loc: Loc,
    },
    /// `field < value` and friends.
    Range {
        /// The field.
        field: String,
        /// `Lt`, `Lte`, `Gt` or `Gte`.
        op: Op,
        /// The bound.
        value: KqlValue,
        /// Where.
        loc: Loc,
    },
    /// `field:{ query }`.
    Nested {
        /// The outer field.
        field: String,
        /// The inner query.
        query: Box<KqlNode>,
        /// Where.
        loc: Loc,
    },
}

/// The value side of `field:…`: a boolean combination of values.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueExpr {
    /// All hold.
    And(Vec<ValueExpr>),
    /// One holds.
    Or(Vec<ValueExpr>),
    /// Negation.
    Not(Box<ValueExpr>),
    /// A value.
    Value(KqlValue),
}

/// A value as written.
#[derive(Debug, Clone, PartialEq)]
pub struct KqlValue {
    /// The text, escapes decoded (wildcards as `*`).
    pub text: String,
    /// The value as a pattern (wildcards only when unquoted).
    pub pattern: Pattern,
    /// Written in double quotes.
    pub quoted: bool,
    /// Where.
    pub loc: Loc,
}

impl KqlValue {
    fn is_star(&self) -> bool {
        !self.quoted && self.pattern.pieces() == [Piece::AnyMany]
    }
}

/// Parses a KQL query. An empty query matches everything (`And([])`).
pub fn parse_kql(src: &str) -> Result<KqlNode, SyntaxError> {
    let mut p = KqlParser {
        src,
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    if p.pos >= src.len() {
        return Ok(KqlNode::And(Vec::new()));
    }
    let node = p.or_query()?;
    p.skip_ws();
    if p.pos < src.len() {
        return Err(p.error("unexpected text"));
    }
    Ok(node)
}

struct KqlParser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

impl KqlParser<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.src.len() - trimmed.len();
    }

    fn error(&self, what: &str) -> SyntaxError {
        let found = self
            .rest()
            .chars()
            .next()
            .map_or_else(|| "end of query".to_string(), |c| format!("`{c}`"));
        SyntaxError::new(self.pos, format!("{what}, found {found}"))
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError::new(
                self.pos,
                format!("query nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    /// Whether a keyword (`and`, `or`, `not`, any case) starts here and ends at a word
    /// boundary.
    fn at_keyword(&self, kw: &str) -> bool {
        let r = self.rest();
        r.len() >= kw.len()
            && r.is_char_boundary(kw.len())
            && r[..kw.len()].eq_ignore_ascii_case(kw)
            && r[kw.len()..]
                .chars()
                .next()
                .is_none_or(|c| c.is_whitespace() || c == '(' || c == '"')
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        self.skip_ws();
        if self.at_keyword(kw) {
            self.pos += kw.len();
            true
        } else {
            false
        }
    }

    fn eat_char(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn or_query(&mut self) -> Result<KqlNode, SyntaxError> {
        self.enter()?;
        let mut items = vec![self.and_query()?];
        while self.eat_keyword("or") {
            items.push(self.and_query()?);
        }
        self.depth -= 1;
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            KqlNode::Or(items)
        })
    }

    fn and_query(&mut self) -> Result<KqlNode, SyntaxError> {
        let mut items = vec![self.not_query()?];
        while self.eat_keyword("and") {
            items.push(self.not_query()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            KqlNode::And(items)
        })
    }

    fn not_query(&mut self) -> Result<KqlNode, SyntaxError> {
        if self.eat_keyword("not") {
            self.enter()?;
            let inner = self.not_query()?;
            self.depth -= 1;
            return Ok(KqlNode::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<KqlNode, SyntaxError> {
        self.skip_ws();
        if self.eat_char('(') {
            let inner = self.or_query()?;
            if !self.eat_char(')') {
                return Err(self.error("expected `)`"));
            }
            return Ok(inner);
        }
        let start = self.pos;
        let first = self.value()?;
        let after_value = self.pos;
        self.skip_ws();
        let r = self.rest();
        let range = [
            ("<=", Op::Lte),
            (">=", Op::Gte),
            ("<", Op::Lt),
            (">", Op::Gt),
        ]
        .into_iter()
        .find(|(s, _)| r.starts_with(s));
        if let Some((sym, op)) = range {
            self.pos += sym.len();
            self.skip_ws();
            let value = self.value()?;
            return Ok(KqlNode::Range {
                field: first.text,
                op,
                loc: Loc::new(start, self.pos),
                value,
            });
        }
        if self.eat_char(':') {
            let field = (!first.is_star()).then_some(first.text);
            self.skip_ws();
            if self.eat_char('{') {
                let Some(field) = field else {
                    return Err(SyntaxError::new(start, "a nested query needs a field"));
                };
                let inner = self.or_query()?;
                if !self.eat_char('}') {
                    return Err(self.error("expected `}`"));
                }
                return Ok(KqlNode::Nested {
                    field,
                    query: Box::new(inner),
                    loc: Loc::new(start, self.pos),
                });
            }
            let value = if self.eat_char('(') {
                let v = self.value_or()?;
                if !self.eat_char(')') {
                    return Err(self.error("expected `)`"));
                }
                v
            } else {
                ValueExpr::Value(self.value()?)
            };
            return Ok(KqlNode::Match {
                field,
                value,
                loc: Loc::new(start, self.pos),
            });
        }
        self.pos = after_value;
        Ok(KqlNode::Match {
            field: None,
            value: ValueExpr::Value(first),
            loc: Loc::new(start, self.pos),
        })
    }

    fn value_or(&mut self) -> Result<ValueExpr, SyntaxError> {
        self.enter()?;
        let mut items = vec![self.value_and()?];
        while self.eat_keyword("or") {
            items.push(self.value_and()?);
        }
        self.depth -= 1;
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            ValueExpr::Or(items)
        })
    }

    fn value_and(&mut self) -> Result<ValueExpr, SyntaxError> {
        let mut items = vec![self.value_not()?];
        while self.eat_keyword("and") {
            items.push(self.value_not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            ValueExpr::And(items)
        })
    }

    fn value_not(&mut self) -> Result<ValueExpr, SyntaxError> {
        if self.eat_keyword("not") {
            self.enter()?;
            let inner = self.value_not()?;
            self.depth -= 1;
            return Ok(ValueExpr::Not(Box::new(inner)));
        }
        if self.eat_char('(') {
            let inner = self.value_or()?;
            if !self.eat_char(')') {
                return Err(self.error("expected `)`"));
            }
            return Ok(inner);
        }
        Ok(ValueExpr::Value(self.value()?))
    }

    /// A quoted or unquoted value.
    fn value(&mut self) -> Result<KqlValue, SyntaxError> {
        self.skip_ws();
        let start = self.pos;
        if self.rest().starts_with('"') {
            return self.quoted(start);
        }
        let mut pieces: Vec<Piece> = Vec::new();
        let mut text = String::new();
        let mut lit = String::new();
        let mut end = self.pos;
        let mut chars = self.rest().char_indices().peekable();
        while let Some(&(k, c)) = chars.peek() {
            let at = start + k;
            if c.is_whitespace() {
                // Whitespace belongs to the value unless a keyword follows it.
                let mut probe = KqlParser {
                    src: self.src,
                    pos: at,
                    depth: 0,
                };
                probe.skip_ws();
                if probe.pos >= self.src.len()
                    || probe.at_keyword("or")
                    || probe.at_keyword("and")
                    || probe.at_keyword("not")
                    || probe.rest().starts_with([')', '}', ':', '<', '>', '('])
                {
                    break;
                }
                lit.push(c);
                text.push(c);
                chars.next();
                continue;
            }
            match c {
                '\\' => {
                    chars.next();
                    let Some((_, n)) = chars.next() else {
                        return Err(SyntaxError::new(at, "a backslash ends the query"));
                    };
                    let decoded = match n {
                        't' => '\t',
                        'r' => '\r',
                        'n' => '\n',
                        'u' => {
                            let hex: String =
                                (0..4).filter_map(|_| chars.next()).map(|x| x.1).collect();
                            u32::from_str_radix(&hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| SyntaxError::new(at, "invalid unicode escape"))?
                        }
                        other => other,
                    };
                    lit.push(decoded);
                    text.push(decoded);
                    end = chars.peek().map_or(self.src.len(), |&(k, _)| start + k);
                    continue;
                }
                '*' => {
                    if !lit.is_empty() {
                        pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                    }
                    pieces.push(Piece::AnyMany);
                    text.push('*');
                }
                '(' | ')' | ':' | '<' | '>' | '"' | '{' | '}' => break,
                _ => {
                    lit.push(c);
                    text.push(c);
                }
            }
            chars.next();
            end = chars.peek().map_or(self.src.len(), |&(k, _)| start + k);
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        if end == start {
            return Err(self.error("expected a value"));
        }
        self.pos = end;
        let text_trimmed = text.trim_end().to_string();
        // Trailing whitespace was cut by the keyword check, so only the text needs it.
        Ok(KqlValue {
            text: text_trimmed,
            pattern: Pattern::from_pieces(pieces),
            quoted: false,
            loc: Loc::new(start, end),
        })
    }

    fn quoted(&mut self, start: usize) -> Result<KqlValue, SyntaxError> {
        let mut text = String::new();
        let mut chars = self.src[start + 1..].char_indices();
        while let Some((k, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos = start + 1 + k + 1;
                    return Ok(KqlValue {
                        pattern: Pattern::literal(text.clone()),
                        text,
                        quoted: true,
                        loc: Loc::new(start, self.pos),
                    });
                }
                '\\' => match chars.next() {
                    Some((_, 't')) => text.push('\t'),
                    Some((_, 'r')) => text.push('\r'),
                    Some((_, 'n')) => text.push('\n'),
                    Some((_, n)) => text.push(n),
                    None => break,
                },
                c => text.push(c),
            }
        }
        Err(SyntaxError::new(start, "unterminated quoted string"))
    }
}

/// The result of lowering a KQL query.
#[derive(Debug, Clone, PartialEq)]
pub struct LoweredKql {
    /// The expression.
    pub expr: Expr,
    /// What the IR does not capture.
    pub not_evaluable: Vec<NotEvaluable>,
}

/// Lowers a parsed KQL query. `locate` turns a byte offset of the query into a position
/// in the rule file; `src` is the query text (for opaque parts).
pub fn lower_kql(node: &KqlNode, locate: &dyn Fn(usize) -> Span) -> LoweredKql {
    let mut issues = Vec::new();
    let expr = sigil_core::fold::flatten(lower_node(node, "", locate, &mut issues));
    LoweredKql {
        expr,
        not_evaluable: issues,
    }
}

fn lower_node(
    node: &KqlNode,
    prefix: &str,
    locate: &dyn Fn(usize) -> Span,
    issues: &mut Vec<NotEvaluable>,
) -> Expr {
    match node {
        KqlNode::And(v) => Expr::And(
            v.iter()
                .map(|n| lower_node(n, prefix, locate, issues))
                .collect(),
        ),
        KqlNode::Or(v) => Expr::Or(
            v.iter()
                .map(|n| lower_node(n, prefix, locate, issues))
                .collect(),
        ),
        KqlNode::Not(n) => Expr::Not(Box::new(lower_node(n, prefix, locate, issues))),
        KqlNode::Match { field, value, loc } => {
            let field = field.as_ref().map(|f| format!("{prefix}{f}"));
            lower_value(field.as_deref(), value, locate(loc.start))
        }
        KqlNode::Range {
            field,
            op,
            value,
            loc,
        } => {
            let span = locate(loc.start);
            let v = match number(&value.text) {
                Some(n) if !value.quoted => n,
                _ => {
                    issues.push(NotEvaluable {
                        reason: format!(
                            "a range over a non-numeric value (`{}`) is not expressible",
                            value.text
                        ),
                        span,
                    });
                    Value::str(value.text.clone())
                }
            };
            Expr::Pred(Predicate {
                field: Some(format!("{prefix}{field}")),
                op: *op,
                values: vec![v],
                flags: cased(),
                span,
            })
        }
        KqlNode::Nested { field, query, .. } => {
            let inner = format!("{prefix}{field}.");
            lower_node(query, &inner, locate, issues)
        }
    }
}

/// `field:value` on analysed full text: a quoted value is a phrase (`match_phrase`), an
/// unquoted one without wildcards any of its words (`match`), an unquoted wildcard applies
/// within one word.
fn analysed(field: &str, v: &KqlValue, span: Span) -> Expr {
    let words = Flags {
        words: true,
        ..Flags::default()
    };
    let pred = |pattern: Pattern| {
        Expr::Pred(Predicate {
            field: Some(field.to_string()),
            op: Op::Equals,
            values: vec![Value::Str(pattern)],
            flags: words.clone(),
            span,
        })
    };
    if v.quoted || v.pattern.has_wildcards() {
        return pred(v.pattern.clone());
    }
    let mut any: Vec<Expr> = sigil_core::words::split(&v.pattern)
        .into_iter()
        .map(|w| pred(Pattern::from_pieces(w)))
        .collect();
    if any.len() == 1 {
        any.pop().unwrap_or(Expr::Or(Vec::new()))
    } else {
        Expr::Or(any)
    }
}

fn cased() -> Flags {
    Flags {
        cased: true,
        ..Flags::default()
    }
}

fn number(text: &str) -> Option<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::Int(i));
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Value::Float)
}

fn lower_value(field: Option<&str>, value: &ValueExpr, span: Span) -> Expr {
    match value {
        ValueExpr::And(v) => Expr::And(v.iter().map(|x| lower_value(field, x, span)).collect()),
        ValueExpr::Or(v) => Expr::Or(v.iter().map(|x| lower_value(field, x, span)).collect()),
        ValueExpr::Not(x) => Expr::Not(Box::new(lower_value(field, x, span))),
        ValueExpr::Value(v) => {
            let span = if span.is_known() {
                span
            } else {
                Span::default()
            };
            let Some(field) = field else {
                // A bare value: `*` alone matches every event.
                if v.is_star() {
                    return Expr::And(Vec::new());
                }
                let (op, val) = if v.pattern.has_wildcards() {
                    (Op::Equals, Value::Str(v.pattern.clone()))
                } else {
                    (Op::Contains, Value::Str(v.pattern.clone()))
                };
                return Expr::Pred(Predicate {
                    field: None,
                    op,
                    values: vec![val],
                    flags: Flags::default(),
                    span,
                });
            };
            if v.is_star() {
                return Expr::Pred(Predicate {
                    field: Some(field.to_string()),
                    op: Op::Exists,
                    values: vec![Value::Bool(true)],
                    flags: Flags::default(),
                    span,
                });
            }
            if crate::field_types::field_type(field).is_analysed() {
                return analysed(field, v, span);
            }
            let val = if v.quoted {
                Value::Str(v.pattern.clone())
            } else if let Some(n) = v.pattern.as_literal().and_then(number) {
                n
            } else if let Some(b) = match v.pattern.as_literal() {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            } {
                Value::Bool(b)
            } else {
                Value::Str(v.pattern.clone())
            };
            Expr::Pred(Predicate {
                field: Some(field.to_string()),
                op: Op::Equals,
                values: vec![val],
                flags: cased(),
                span,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lower(src: &str) -> Expr {
        let node = parse_kql(src).expect("parses");
        lower_kql(&node, &|o| Span::new(1, o as u32 + 1, o as u32)).expr
    }

    fn pred(e: &Expr) -> &Predicate {
        match e {
            Expr::Pred(p) => p,
            other => panic!("not a predicate: {other:?}"),
        }
    }

    #[test]
    fn field_value_and_precedence() {
        let e = lower("a:1 or b:x and not c:\"y z\"");
        let Expr::Or(v) = &e else { panic!("{e:?}") };
        assert_eq!(pred(&v[0]).values, vec![Value::Int(1)]);
        let Expr::And(w) = &v[1] else { panic!() };
        assert_eq!(pred(&w[0]).field.as_deref(), Some("b"));
        let Expr::Not(n) = &w[1] else { panic!() };
        assert_eq!(pred(n).values, vec![Value::str("y z")]);
        assert!(pred(n).flags.cased);
    }

    #[test]
    fn keywords_any_case_and_parentheses() {
        let e = lower("(a:1 OR a:2) AND NOT b:3");
        let Expr::And(v) = &e else { panic!("{e:?}") };
        assert!(matches!(&v[0], Expr::Or(x) if x.len() == 2));
        assert!(matches!(&v[1], Expr::Not(_)));
    }

    #[test]
    fn value_lists_and_wildcards() {
        let e = lower("process.name:(cmd.exe or *.ps1 or \"a*b\")");
        let Expr::Or(v) = &e else { panic!("{e:?}") };
        assert_eq!(pred(&v[0]).values, vec![Value::str("cmd.exe")]);
        let Value::Str(p) = &pred(&v[1]).values[0] else {
            panic!()
        };
        assert_eq!(p.pieces(), &[Piece::AnyMany, Piece::Lit(".ps1".into())]);
        // Quoted: the asterisk is literal.
        assert_eq!(pred(&v[2]).values, vec![Value::str("a*b")]);
    }

    #[test]
    fn unquoted_values_with_spaces_and_escapes() {
        let e = lower(r"msg:hello world and x:a\:b\*");
        let Expr::And(v) = &e else { panic!("{e:?}") };
        assert_eq!(pred(&v[0]).values, vec![Value::str("hello world")]);
        assert_eq!(pred(&v[1]).values, vec![Value::str("a:b*")]);
    }

    #[test]
    fn exists_ranges_nested_and_bare_values() {
        assert_eq!(pred(&lower("user.name:*")).op, Op::Exists);
        let r = lower("risk >= 21");
        assert_eq!(pred(&r).op, Op::Gte);
        assert_eq!(pred(&r).values, vec![Value::Int(21)]);
        let n = lower("gcp.audit:{ method:x and code:2 }");
        let Expr::And(v) = &n else { panic!("{n:?}") };
        assert_eq!(pred(&v[0]).field.as_deref(), Some("gcp.audit.method"));
        let k = lower("mimikatz");
        assert_eq!(pred(&k).field, None);
        assert_eq!(pred(&k).op, Op::Contains);
        let star = lower("*:foo*");
        assert_eq!(pred(&star).field, None);
        assert_eq!(lower("*"), Expr::And(Vec::new()));
    }

    #[test]
    fn range_over_text_is_marked() {
        let node = parse_kql("@timestamp < \"now-1d\"").expect("parses");
        let l = lower_kql(&node, &|_| Span::default());
        assert_eq!(l.not_evaluable.len(), 1);
    }

    #[test]
    fn analysed_text_fields_match_phrases_of_words() {
        let f = "powershell.file.script_block_text";
        let q = lower(&format!("{f} : \"New-MailboxExportRequest\""));
        let p = pred(&q);
        assert!(p.flags.words && !p.flags.cased, "{p:?}");
        assert_eq!(p.op, Op::Equals);
        // Unquoted, without wildcards: any of the words (`match`).
        let Expr::Or(any) = lower(&format!("{f} : mailbox export")) else {
            panic!("an or of words");
        };
        assert_eq!(any.len(), 2);
        assert!(any.iter().all(|e| pred(e).flags.words));
        // A keyword field keeps its exact, case-sensitive comparison.
        let k = lower("process.name : \"cmd.exe\"");
        assert!(!pred(&k).flags.words && pred(&k).flags.cased);
    }

    #[test]
    fn errors_have_offsets() {
        assert_eq!(parse_kql("a:(b or c").expect_err("open").offset, 9);
        assert_eq!(parse_kql("a:\"x").expect_err("quote").offset, 2);
        assert!(parse_kql("a:b)").is_err());
        assert!(parse_kql("x:{a:1").is_err());
        let deep = "(".repeat(500) + "a:1" + &")".repeat(500);
        assert!(parse_kql(&deep).is_err());
        assert_eq!(parse_kql("   ").expect("empty"), KqlNode::And(Vec::new()));
    }
}
