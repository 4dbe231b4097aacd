//! A recursive-descent EQL parser following the reference grammar (`eql.g`): the
//! Elasticsearch dialect used by detection rules plus the legacy constructs of the
//! reference implementation (`join`, lineage tests, methods). Nesting is bounded so no
//! input can exhaust the stack.

use super::ast::{
    ArithOp, CmpOp, EventQuery, Expr, ExprKind, Field, FieldPart, Literal, Loc, Pipe, Query,
    QueryBody, Relation, Sample, Sequence, Step, StrOp, TimeSpan,
};
use super::lexer::{Tok, Token, tokenize};
use crate::error::SyntaxError;

/// How deeply expressions and steps may nest.
const MAX_DEPTH: usize = 64;

/// Parses an EQL query.
pub fn parse_query(src: &str) -> Result<Query, SyntaxError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let q = p.query()?;
    p.expect_eof()?;
    Ok(q)
}

/// Parses a bare EQL expression (no `where`, no pipes).
pub fn parse_expr(src: &str) -> Result<Expr, SyntaxError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let e = p.expr()?;
    p.expect_eof()?;
    Ok(e)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// Names that end an expression rather than start a value.
const RESERVED: &[&str] = &[
    "and", "or", "not", "in", "like", "regex", "where", "by", "with", "until", "of",
];

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, n: usize) -> &Token {
        &self.tokens[(self.pos + n).min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn prev_end(&self) -> usize {
        self.pos.checked_sub(1).map_or(0, |i| self.tokens[i].end)
    }

    fn is_kw(&self, kw: &str) -> bool {
        is_kw(&self.peek().tok, kw)
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if &self.peek().tok == tok {
            self.bump();
            true
        } else {
            false
        }
    }

    fn err_here(&self, what: &str) -> SyntaxError {
        let t = self.peek();
        let found = describe(&t.tok);
        SyntaxError::new(t.start, format!("expected {what}, found {found}"))
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<Token, SyntaxError> {
        if &self.peek().tok == tok {
            Ok(self.bump())
        } else {
            Err(self.err_here(what))
        }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), SyntaxError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.err_here(&format!("`{kw}`")))
        }
    }

    fn expect_eof(&self) -> Result<(), SyntaxError> {
        if self.peek().tok == Tok::Eof {
            Ok(())
        } else {
            Err(self.err_here("end of query"))
        }
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError::new(
                self.peek().start,
                format!("query nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ---- queries ----

    fn query(&mut self) -> Result<Query, SyntaxError> {
        let start = self.peek().start;
        let body = if self.is_kw("sequence") && !self.next_is_operator() {
            self.bump();
            QueryBody::Sequence(self.sequence(true)?)
        } else if self.is_kw("join") && !self.next_is_operator() {
            self.bump();
            QueryBody::Join(self.sequence(false)?)
        } else if self.is_kw("sample") && !self.next_is_operator() {
            self.bump();
            QueryBody::Sample(self.sample()?)
        } else if self.peek().tok == Tok::Pipe {
            // A query of pipes only applies them to every event.
            let loc = Loc::new(start, start);
            QueryBody::Event(EventQuery {
                category: None,
                category_loc: loc,
                expr: Expr {
                    kind: ExprKind::Literal(Literal::Bool(true)),
                    loc,
                },
                loc,
            })
        } else {
            QueryBody::Event(self.event_query()?)
        };
        let mut pipes = Vec::new();
        while self.peek().tok == Tok::Pipe {
            pipes.push(self.pipe()?);
        }
        Ok(Query {
            body,
            pipes,
            loc: Loc::new(start, self.prev_end()),
        })
    }

    /// Whether the token after the current one makes the current name an operand
    /// (`sequence == 1`) rather than a keyword.
    fn next_is_operator(&self) -> bool {
        matches!(
            self.peek_at(1).tok,
            Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge | Tok::Colon | Tok::Dot
        )
    }

    fn event_query(&mut self) -> Result<EventQuery, SyntaxError> {
        let start = self.peek().start;
        let has_category = is_kw(&self.peek_at(1).tok, "where")
            && matches!(
                self.peek().tok,
                Tok::Ident { .. } | Tok::Escaped(_) | Tok::Str(_)
            );
        let (category, category_loc) = if has_category {
            let t = self.bump();
            self.bump();
            let name = match t.tok {
                Tok::Ident { name, .. } | Tok::Escaped(name) | Tok::Str(name) => name,
                _ => String::new(),
            };
            let loc = Loc::new(t.start, t.end);
            ((name != "any").then_some(name), loc)
        } else {
            (None, Loc::new(start, start))
        };
        let expr = self.expr()?;
        Ok(EventQuery {
            category,
            category_loc,
            loc: Loc::new(start, expr.loc.end),
            expr,
        })
    }

    fn sequence(&mut self, is_sequence: bool) -> Result<Sequence, SyntaxError> {
        let mut by = Vec::new();
        let mut maxspan = None;
        for _ in 0..2 {
            if by.is_empty() && self.is_kw("by") {
                self.bump();
                by = self.expr_list()?;
            } else if is_sequence && maxspan.is_none() && self.is_kw("with") {
                self.bump();
                self.expect_kw("maxspan")?;
                self.expect(&Tok::Eq, "`=`")?;
                maxspan = Some(self.timespan()?);
            }
        }
        let mut steps = Vec::new();
        while matches!(self.peek().tok, Tok::LBracket | Tok::MissingOpen) {
            steps.push(self.step()?);
        }
        if steps.is_empty() {
            return Err(self.err_here("`[` starting a step"));
        }
        let until = if self.eat_kw("until") {
            Some(Box::new(self.step()?))
        } else {
            None
        };
        Ok(Sequence {
            by,
            maxspan,
            steps,
            until,
        })
    }

    fn sample(&mut self) -> Result<Sample, SyntaxError> {
        let by = if self.eat_kw("by") {
            self.expr_list()?
        } else {
            Vec::new()
        };
        let mut steps = Vec::new();
        while self.peek().tok == Tok::LBracket {
            steps.push(self.step()?);
        }
        if steps.is_empty() {
            return Err(self.err_here("`[` starting a step"));
        }
        Ok(Sample { by, steps })
    }

    fn step(&mut self) -> Result<Step, SyntaxError> {
        let missing = match self.peek().tok {
            Tok::LBracket => false,
            Tok::MissingOpen => true,
            _ => return Err(self.err_here("`[` starting a step")),
        };
        let open = self.bump();
        self.enter()?;
        let query = self.event_query()?;
        self.leave();
        self.expect(&Tok::RBracket, "`]` closing the step")?;
        let mut fork = false;
        if self.eat_kw("fork") {
            fork = true;
            if self.eat(&Tok::Eq) {
                fork = !self.is_kw("false");
                self.bump();
            }
        }
        let by = if self.eat_kw("by") {
            self.expr_list()?
        } else {
            Vec::new()
        };
        let mut runs = None;
        if self.is_kw("with") && is_kw(&self.peek_at(1).tok, "runs") {
            self.bump();
            self.bump();
            self.expect(&Tok::Eq, "`=`")?;
            let t = self.bump();
            match t.tok {
                Tok::Int(n) if n >= 1 => runs = Some(n),
                _ => {
                    return Err(SyntaxError::new(t.start, "`runs` needs a positive integer"));
                }
            }
        }
        if self.eat_kw("as") {
            self.bump();
        }
        Ok(Step {
            query,
            missing,
            by,
            runs,
            fork,
            loc: Loc::new(open.start, self.prev_end()),
        })
    }

    fn timespan(&mut self) -> Result<TimeSpan, SyntaxError> {
        let t = self.bump();
        let value = match t.tok {
            Tok::Int(n) => n as f64,
            Tok::Float(f) => f,
            _ => return Err(SyntaxError::new(t.start, "expected a time span like `5m`")),
        };
        let mut end = t.end;
        let unit = match &self.peek().tok {
            Tok::Ident { name, .. } if !RESERVED.contains(&name.as_str()) => {
                let u = name.clone();
                end = self.bump().end;
                u
            }
            _ => String::new(),
        };
        // A bare number is in seconds, as in the reference implementation.
        let factor: f64 = match unit.as_str() {
            "ms" => 1.0,
            "" | "s" | "sec" | "second" | "seconds" => 1_000.0,
            "m" | "min" | "minute" | "minutes" => 60_000.0,
            "h" | "hour" | "hours" => 3_600_000.0,
            "d" | "day" | "days" => 86_400_000.0,
            other => {
                return Err(SyntaxError::new(
                    t.start,
                    format!("unknown time unit `{other}`"),
                ));
            }
        };
        let millis = value * factor;
        if !(0.0..1e15).contains(&millis) {
            return Err(SyntaxError::new(t.start, "time span out of range"));
        }
        Ok(TimeSpan {
            text: format!("{}{unit}", number_text(value)),
            millis: millis as u64,
            loc: Loc::new(t.start, end),
        })
    }

    fn pipe(&mut self) -> Result<Pipe, SyntaxError> {
        let bar = self.bump();
        let name = match &self.peek().tok {
            Tok::Ident { name, .. } => name.clone(),
            _ => return Err(self.err_here("a pipe name")),
        };
        self.bump();
        let mut args = Vec::new();
        while !matches!(self.peek().tok, Tok::Pipe | Tok::Eof) {
            args.push(self.expr()?);
            self.eat(&Tok::Comma);
        }
        Ok(Pipe {
            name,
            args,
            loc: Loc::new(bar.start, self.prev_end()),
        })
    }

    fn expr_list(&mut self) -> Result<Vec<Expr>, SyntaxError> {
        let mut out = vec![self.expr()?];
        while self.peek().tok == Tok::Comma {
            self.bump();
            out.push(self.expr()?);
        }
        Ok(out)
    }

    // ---- expressions ----

    /// `or_expr`.
    pub(crate) fn expr(&mut self) -> Result<Expr, SyntaxError> {
        self.enter()?;
        let first = self.and_expr()?;
        let mut items = vec![first];
        while self.eat_kw("or") {
            items.push(self.and_expr()?);
        }
        self.leave();
        Ok(join(items, ExprKind::Or))
    }

    fn and_expr(&mut self) -> Result<Expr, SyntaxError> {
        let mut items = vec![self.not_expr()?];
        while self.eat_kw("and") {
            items.push(self.not_expr()?);
        }
        Ok(join(items, ExprKind::And))
    }

    fn not_expr(&mut self) -> Result<Expr, SyntaxError> {
        let mut nots = Vec::new();
        while self.is_kw("not") {
            // Each `not` nests the tree one level deeper, so it counts toward the limit.
            self.enter()?;
            nots.push(self.bump().start);
        }
        let e = self.term();
        for _ in &nots {
            self.leave();
        }
        let mut e = e?;
        for start in nots.into_iter().rev() {
            let loc = Loc::new(start, e.loc.end);
            e = Expr {
                kind: ExprKind::Not(Box::new(e)),
                loc,
            };
        }
        Ok(e)
    }

    fn term(&mut self) -> Result<Expr, SyntaxError> {
        let lhs = self.sum_expr()?;
        let tok = self.peek().tok.clone();
        let cmp = match tok {
            Tok::Eq => Some(CmpOp::Eq),
            Tok::Ne => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = cmp {
            self.bump();
            let rhs = self.sum_expr()?;
            let loc = lhs.loc.to(rhs.loc);
            return Ok(Expr {
                kind: ExprKind::Compare {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                loc,
            });
        }
        let negated_in = self.is_kw("not") && is_kw(&self.peek_at(1).tok, "in");
        if negated_in || self.is_kw("in") {
            if negated_in {
                self.bump();
            }
            let in_tok = self.bump();
            let insensitive = matches!(
                in_tok.tok,
                Tok::Ident {
                    insensitive: true,
                    ..
                }
            );
            self.expect(&Tok::LParen, "`(` after `in`")?;
            let values = self.paren_list_rest()?;
            let loc = Loc::new(lhs.loc.start, self.prev_end());
            return Ok(Expr {
                kind: ExprKind::In {
                    expr: Box::new(lhs),
                    values,
                    negated: negated_in,
                    insensitive,
                },
                loc,
            });
        }
        let str_op = match &tok {
            Tok::Colon => Some((StrOp::Colon, false)),
            Tok::Ident { name, insensitive } if name == "like" => Some((StrOp::Like, *insensitive)),
            Tok::Ident { name, insensitive } if name == "regex" => {
                Some((StrOp::Regex, *insensitive))
            }
            _ => None,
        };
        if let Some((op, insensitive)) = str_op {
            self.bump();
            let values = if self.eat(&Tok::LParen) {
                self.paren_list_rest()?
            } else {
                vec![self.sum_expr()?]
            };
            let loc = Loc::new(lhs.loc.start, self.prev_end());
            return Ok(Expr {
                kind: ExprKind::StrPred {
                    op,
                    insensitive,
                    expr: Box::new(lhs),
                    values,
                },
                loc,
            });
        }
        Ok(lhs)
    }

    /// The rest of `( e, e, ... [,] )` after the `(`.
    fn paren_list_rest(&mut self) -> Result<Vec<Expr>, SyntaxError> {
        let mut values = Vec::new();
        loop {
            if self.eat(&Tok::RParen) {
                break;
            }
            values.push(self.expr()?);
            if !self.eat(&Tok::Comma) {
                self.expect(&Tok::RParen, "`,` or `)`")?;
                break;
            }
        }
        if values.is_empty() {
            return Err(SyntaxError::new(self.prev_end(), "empty list"));
        }
        Ok(values)
    }

    fn sum_expr(&mut self) -> Result<Expr, SyntaxError> {
        let mut e = self.mul_expr()?;
        loop {
            let op = match self.peek().tok {
                Tok::Plus => ArithOp::Add,
                Tok::Minus => ArithOp::Sub,
                _ => return Ok(e),
            };
            self.bump();
            let rhs = self.mul_expr()?;
            let loc = e.loc.to(rhs.loc);
            e = Expr {
                kind: ExprKind::Arith {
                    op,
                    lhs: Box::new(e),
                    rhs: Box::new(rhs),
                },
                loc,
            };
        }
    }

    fn mul_expr(&mut self) -> Result<Expr, SyntaxError> {
        let mut e = self.chain()?;
        loop {
            let op = match self.peek().tok {
                Tok::Star => ArithOp::Mul,
                Tok::Slash => ArithOp::Div,
                Tok::Percent => ArithOp::Mod,
                _ => return Ok(e),
            };
            self.bump();
            let rhs = self.chain()?;
            let loc = e.loc.to(rhs.loc);
            e = Expr {
                kind: ExprKind::Arith {
                    op,
                    lhs: Box::new(e),
                    rhs: Box::new(rhs),
                },
                loc,
            };
        }
    }

    /// A value followed by legacy methods (`x:length()`), or a lineage test.
    fn chain(&mut self) -> Result<Expr, SyntaxError> {
        let relation = match &self.peek().tok {
            Tok::Ident { name, .. } if is_kw(&self.peek_at(1).tok, "of") => match name.as_str() {
                "descendant" => Some(Relation::Descendant),
                "child" => Some(Relation::Child),
                "event" => Some(Relation::Event),
                _ => None,
            },
            _ => None,
        };
        if let Some(relation) = relation {
            let start = self.bump().start;
            self.bump();
            self.expect(&Tok::LBracket, "`[` after `of`")?;
            self.enter()?;
            let query = self.event_query()?;
            self.leave();
            self.expect(&Tok::RBracket, "`]`")?;
            return Ok(Expr {
                kind: ExprKind::Lineage {
                    relation,
                    query: Box::new(query),
                },
                loc: Loc::new(start, self.prev_end()),
            });
        }
        let mut e = self.value()?;
        while let Tok::Method(name) = &self.peek().tok {
            let name = name.clone();
            self.bump();
            self.expect(&Tok::LParen, "`(`")?;
            let mut args = vec![e];
            if !self.eat(&Tok::RParen) {
                args.extend(self.paren_list_rest()?);
            }
            let loc = Loc::new(args[0].loc.start, self.prev_end());
            e = Expr {
                kind: ExprKind::Call {
                    name,
                    insensitive: false,
                    args,
                },
                loc,
            };
        }
        Ok(e)
    }

    fn value(&mut self) -> Result<Expr, SyntaxError> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Minus | Tok::Plus => {
                self.bump();
                self.enter()?;
                let inner = self.value();
                self.leave();
                let inner = inner?;
                let loc = Loc::new(t.start, inner.loc.end);
                if t.tok == Tok::Plus {
                    return Ok(inner);
                }
                Ok(Expr {
                    kind: ExprKind::Neg(Box::new(inner)),
                    loc,
                })
            }
            Tok::LParen => {
                self.bump();
                let inner = self.expr()?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(Expr {
                    kind: inner.kind,
                    loc: Loc::new(t.start, self.prev_end()),
                })
            }
            Tok::Str(s) => {
                self.bump();
                Ok(lit(Literal::Str(s), t.start, t.end))
            }
            Tok::Int(n) => {
                self.bump();
                let v = i64::try_from(n)
                    .map_err(|_| SyntaxError::new(t.start, "integer is too large"))?;
                Ok(lit(Literal::Int(v), t.start, t.end))
            }
            Tok::Float(f) => {
                self.bump();
                Ok(lit(Literal::Float(f), t.start, t.end))
            }
            Tok::Ident { ref name, .. } if name == "true" || name == "false" => {
                self.bump();
                Ok(lit(Literal::Bool(name == "true"), t.start, t.end))
            }
            Tok::Ident { ref name, .. } if name == "null" => {
                self.bump();
                Ok(lit(Literal::Null, t.start, t.end))
            }
            Tok::Ident {
                ref name,
                insensitive,
            } if self.peek_at(1).tok == Tok::LParen && !RESERVED.contains(&name.as_str()) => {
                self.bump();
                self.bump();
                let args = if self.eat(&Tok::RParen) {
                    Vec::new()
                } else {
                    self.paren_list_rest()?
                };
                Ok(Expr {
                    kind: ExprKind::Call {
                        name: name.clone(),
                        insensitive,
                        args,
                    },
                    loc: Loc::new(t.start, self.prev_end()),
                })
            }
            Tok::Question => {
                self.bump();
                if self.peek().start != t.end {
                    return Err(SyntaxError::new(t.start, "`?` must touch the field name"));
                }
                self.field(true, t.start)
            }
            Tok::Dollar => {
                // `$field` refers to a field of the same event in the legacy dialect.
                self.bump();
                self.field(false, t.start)
            }
            Tok::Ident {
                ref name,
                insensitive: false,
            } if !RESERVED.contains(&name.as_str()) => self.field(false, t.start),
            Tok::Escaped(_) => self.field(false, t.start),
            _ => Err(self.err_here("a value")),
        }
    }

    fn field(&mut self, optional: bool, start: usize) -> Result<Expr, SyntaxError> {
        let mut parts = vec![FieldPart::Name(self.field_ident()?)];
        loop {
            match self.peek().tok {
                Tok::Dot => {
                    self.bump();
                    parts.push(FieldPart::Name(self.field_ident()?));
                }
                // An index must touch the name (`args[0]`), which tells it apart from a
                // sequence step after `by name`.
                Tok::LBracket
                    if self.peek().start == self.prev_end()
                        && matches!(self.peek_at(1).tok, Tok::Int(_))
                        && self.peek_at(2).tok == Tok::RBracket =>
                {
                    self.bump();
                    if let Tok::Int(n) = self.bump().tok {
                        parts.push(FieldPart::Index(n));
                    }
                    self.bump();
                }
                _ => break,
            }
        }
        Ok(Expr {
            kind: ExprKind::Field(Field { parts, optional }),
            loc: Loc::new(start, self.prev_end()),
        })
    }

    fn field_ident(&mut self) -> Result<String, SyntaxError> {
        match self.peek().tok.clone() {
            Tok::Ident {
                name,
                insensitive: false,
            } => {
                self.bump();
                Ok(name)
            }
            Tok::Escaped(name) => {
                self.bump();
                Ok(name)
            }
            _ => Err(self.err_here("a field name")),
        }
    }
}

fn is_kw(tok: &Tok, kw: &str) -> bool {
    matches!(tok, Tok::Ident { name, .. } if name == kw)
}

fn lit(l: Literal, start: usize, end: usize) -> Expr {
    Expr {
        kind: ExprKind::Literal(l),
        loc: Loc::new(start, end),
    }
}

fn join(mut items: Vec<Expr>, make: fn(Vec<Expr>) -> ExprKind) -> Expr {
    if items.len() == 1 {
        return items.pop().unwrap_or_else(|| lit(Literal::Null, 0, 0));
    }
    let loc = items[0].loc.to(items[items.len() - 1].loc);
    Expr {
        kind: make(items),
        loc,
    }
}

fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Ident { name, insensitive } => {
            format!("`{name}{}`", if *insensitive { "~" } else { "" })
        }
        Tok::Escaped(n) => format!("`{n}`"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::Int(n) => format!("number {n}"),
        Tok::Float(f) => format!("number {f}"),
        Tok::Method(m) => format!("`:{m}(`"),
        Tok::Eof => "end of query".to_string(),
        other => format!("`{}`", symbol(other)),
    }
}

fn symbol(tok: &Tok) -> &'static str {
    match tok {
        Tok::LParen => "(",
        Tok::RParen => ")",
        Tok::LBracket => "[",
        Tok::MissingOpen => "![",
        Tok::RBracket => "]",
        Tok::Comma => ",",
        Tok::Dot => ".",
        Tok::Pipe => "|",
        Tok::Question => "?",
        Tok::Dollar => "$",
        Tok::Eq => "==",
        Tok::Ne => "!=",
        Tok::Lt => "<",
        Tok::Le => "<=",
        Tok::Gt => ">",
        Tok::Ge => ">=",
        Tok::Colon => ":",
        Tok::Plus => "+",
        Tok::Minus => "-",
        Tok::Star => "*",
        Tok::Slash => "/",
        Tok::Percent => "%",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(src: &str) -> QueryBody {
        parse_query(src).expect("parses").body
    }

    fn event_expr(src: &str) -> ExprKind {
        match body(src) {
            QueryBody::Event(e) => e.expr.kind,
            other => panic!("not an event query: {other:?}"),
        }
    }

    #[test]
    fn category_and_any() {
        let QueryBody::Event(e) = body("process where true") else {
            panic!()
        };
        assert_eq!(e.category.as_deref(), Some("process"));
        assert_eq!(e.category_loc, Loc::new(0, 7));
        let QueryBody::Event(e) = body("any where x == 1") else {
            panic!()
        };
        assert_eq!(e.category, None);
    }

    #[test]
    fn precedence_not_and_or() {
        // `or` is loosest, `not` applies to the comparison after it.
        let ExprKind::Or(v) = event_expr("any where a == 1 and not b == 2 or c == 3") else {
            panic!()
        };
        let ExprKind::And(w) = &v[0].kind else {
            panic!()
        };
        assert!(matches!(w[1].kind, ExprKind::Not(_)));
    }

    #[test]
    fn string_predicates_and_sets() {
        let ExprKind::StrPred {
            op,
            insensitive,
            values,
            ..
        } = event_expr(r#"any where a like~ ("x*", "y")"#)
        else {
            panic!()
        };
        assert_eq!((op, insensitive, values.len()), (StrOp::Like, true, 2));
        let ExprKind::In {
            negated,
            insensitive,
            ..
        } = event_expr(r#"any where a not in~ ("x", "y",)"#)
        else {
            panic!()
        };
        assert!(negated && insensitive);
        assert!(matches!(
            event_expr(r#"any where a : "x""#),
            ExprKind::StrPred {
                op: StrOp::Colon,
                ..
            }
        ));
        assert!(matches!(
            event_expr(r#"any where a regex~ "x.*""#),
            ExprKind::StrPred {
                op: StrOp::Regex,
                insensitive: true,
                ..
            }
        ));
    }

    #[test]
    fn fields_optional_escaped_indexed() {
        let ExprKind::Compare { lhs, .. } = event_expr("any where ?a.`b c`.d[0] == 1") else {
            panic!()
        };
        let f = lhs.as_field().expect("field");
        assert!(f.optional);
        assert_eq!(f.dotted(), "a.b c.d[0]");
    }

    #[test]
    fn functions_arithmetic_methods() {
        let ExprKind::Compare { lhs, .. } =
            event_expr("any where length(process.args) + 1 * 2 > 3")
        else {
            panic!()
        };
        let ExprKind::Arith { op, rhs, .. } = &lhs.kind else {
            panic!()
        };
        assert_eq!(*op, ArithOp::Add);
        assert!(matches!(
            rhs.kind,
            ExprKind::Arith {
                op: ArithOp::Mul,
                ..
            }
        ));
        let ExprKind::Compare { lhs, .. } = event_expr("any where x:length() == 1") else {
            panic!()
        };
        let ExprKind::Call { name, args, .. } = lhs.kind else {
            panic!()
        };
        assert_eq!((name.as_str(), args.len()), ("length", 1));
        assert!(matches!(
            event_expr(r#"any where startsWith~(a, "x")"#),
            ExprKind::Call {
                insensitive: true,
                ..
            }
        ));
    }

    #[test]
    fn sequences() {
        let q = parse_query(
            "sequence by host.id with maxspan=5m [process where a == 1] by x [file where true] by y with runs=2 until [process where b == 2] | head 3",
        )
        .expect("parses");
        let QueryBody::Sequence(s) = q.body else {
            panic!()
        };
        assert_eq!(s.by.len(), 1);
        assert_eq!(s.maxspan.as_ref().map(|m| m.millis), Some(300_000));
        assert_eq!(s.steps.len(), 2);
        assert_eq!(s.steps[1].runs, Some(2));
        assert_eq!(s.steps[0].by.len(), 1);
        assert!(s.until.is_some());
        assert_eq!(q.pipes.len(), 1);
        assert_eq!(q.pipes[0].name, "head");
        let q = parse_query("sequence with maxspan=30s [any where true] ![file where true]")
            .expect("parses");
        let QueryBody::Sequence(s) = q.body else {
            panic!()
        };
        assert!(s.steps[1].missing);
        assert_eq!(s.maxspan.map(|m| m.text), Some("30s".into()));
        assert!(matches!(
            body("sample by host.id [process where true] [file where true]"),
            QueryBody::Sample(_)
        ));
    }

    #[test]
    fn errors_point_at_the_token() {
        let e = parse_query("process where a == ").expect_err("incomplete");
        assert_eq!(e.offset, 19);
        assert!(e.message.contains("end of query"), "{}", e.message);
        let e = parse_query("process where (a == 1").expect_err("open paren");
        assert_eq!(e.offset, 21);
        let e = parse_query("sequence [process where true").expect_err("open step");
        assert!(e.message.contains("`]`"));
        assert!(parse_query("sequence by a").is_err());
        assert!(parse_query("process where a in ()").is_err());
        assert!(parse_query("sequence with maxspan=5parsecs [a where true]").is_err());
        let deep = format!("any where {}a{}", "(".repeat(300), ")".repeat(300));
        assert!(parse_query(&deep).is_err());
        let nots = format!("any where {}a", "not ".repeat(100_000));
        assert!(parse_query(&nots).is_err());
        let nots = format!("any where {}a", "not ".repeat(20));
        assert!(parse_query(&nots).is_ok());
        let ok = format!("any where {}a{}", "(".repeat(60), ")".repeat(60));
        assert!(parse_query(&ok).is_ok());
    }
}
