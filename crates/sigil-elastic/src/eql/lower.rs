//! Lowering an EQL syntax tree into the sigil IR.
//!
//! - An event query becomes a [`Detection`] with one search, `query`, whose expression
//!   is the `where` condition and-ed with `<category field> == "<category>"`.
//! - A `sequence` becomes a `temporal_ordered` [`Correlation`], a `sample` a `temporal`
//!   one, over one synthetic rule per step: `<rule id>#step<N>` (1-based, in source
//!   order; a step `with runs=K` is referenced K times). Join keys become `group_by`,
//!   with a [`FieldAlias`] when the steps name the key differently. `maxspan` is the
//!   time span; without one the span is `100y`, i.e. unbounded in practice.
//! - What the IR cannot express (arithmetic, most functions, ordering between two
//!   fields, lineage, `until`, missing-event steps, pipes) is kept as an opaque
//!   predicate whose field is the expression's source text, and recorded in
//!   [`Lowered::not_evaluable`] with the reason: never dropped silently.

use sigil_core::{
    Condition, Correlation, CorrelationKind, CorrelationRef, Detection, Expr, FieldAlias, Flags,
    NotEvaluable, Op, Pattern, Piece, Predicate, RuleBody, Search, Span, Value,
};

use super::ast::{self, CmpOp, ExprKind, Literal, Loc, QueryBody, StrOp};

/// How to lower.
#[derive(Debug, Clone)]
pub struct LowerOptions {
    /// The field holding the event category (`event.category` in ECS).
    pub category_field: String,
    /// Compare every string case-insensitively (the legacy dialect's default).
    pub case_insensitive: bool,
}

impl Default for LowerOptions {
    fn default() -> Self {
        Self {
            category_field: "event.category".to_string(),
            case_insensitive: false,
        }
    }
}

/// A synthetic rule for one step of a sequence or sample.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRule {
    /// The id suffix (`#step1`, `#until`).
    pub suffix: String,
    /// The step's detection.
    pub detection: Detection,
    /// The step's event category, if any.
    pub category: Option<String>,
    /// The step's query text.
    pub text: String,
    /// Where the step starts.
    pub span: Span,
}

/// The result of lowering a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Lowered {
    /// The rule body.
    pub body: RuleBody,
    /// The synthetic step rules a correlation refers to (empty for an event query).
    pub steps: Vec<StepRule>,
    /// The event category of an event query.
    pub category: Option<String>,
    /// What the IR does not capture.
    pub not_evaluable: Vec<NotEvaluable>,
}

/// The time span used for sequences without `maxspan`.
pub const UNBOUNDED_SPAN: &str = "100y";

/// Lowers `query` (parsed from `src`). `rule_ref` names the rule for step references;
/// `locate` turns a byte offset of `src` into a position in the rule file.
pub fn lower_query(
    query: &ast::Query,
    src: &str,
    rule_ref: &str,
    options: &LowerOptions,
    locate: &dyn Fn(usize) -> Span,
) -> Lowered {
    let mut cx = Lowerer {
        src,
        options,
        locate,
        issues: Vec::new(),
    };
    let mut lowered = match &query.body {
        QueryBody::Event(eq) => {
            let detection = cx.event_detection(eq);
            Lowered {
                body: RuleBody::Detection(detection),
                steps: Vec::new(),
                category: eq.category.clone(),
                not_evaluable: Vec::new(),
            }
        }
        QueryBody::Sequence(seq) => cx.sequence(seq, rule_ref, CorrelationKind::TemporalOrdered),
        QueryBody::Join(seq) => {
            cx.issue(
                query.loc,
                "legacy `join` is lowered as an unordered correlation without its exact semantics",
            );
            cx.sequence(seq, rule_ref, CorrelationKind::Temporal)
        }
        QueryBody::Sample(sample) => {
            let seq = ast::Sequence {
                by: sample.by.clone(),
                maxspan: None,
                steps: sample.steps.clone(),
                until: None,
            };
            cx.sequence(&seq, rule_ref, CorrelationKind::Temporal)
        }
    };
    for pipe in &query.pipes {
        cx.issue(
            pipe.loc,
            format!("pipe `| {}` is not expressible in the IR", pipe.name),
        );
    }
    lowered.not_evaluable.extend(cx.issues);
    lowered
}

struct Lowerer<'a> {
    src: &'a str,
    options: &'a LowerOptions,
    locate: &'a dyn Fn(usize) -> Span,
    issues: Vec<NotEvaluable>,
}

impl Lowerer<'_> {
    fn span(&self, loc: Loc) -> Span {
        (self.locate)(loc.start)
    }

    fn text(&self, loc: Loc) -> String {
        self.src
            .get(loc.start..loc.end)
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn issue(&mut self, loc: Loc, reason: impl Into<String>) {
        let span = self.span(loc);
        self.issues.push(NotEvaluable {
            reason: reason.into(),
            span,
        });
    }

    fn event_detection(&mut self, eq: &ast::EventQuery) -> Detection {
        let cond = self.expr(&eq.expr);
        let expr = match &eq.category {
            Some(cat) => {
                let mut p = Predicate::new(
                    Some(self.options.category_field.clone()),
                    Op::Equals,
                    vec![Value::str(cat.clone())],
                );
                p.flags.cased = !self.options.case_insensitive;
                p.span = self.span(eq.category_loc);
                sigil_core::fold::flatten(Expr::And(vec![Expr::Pred(p), cond]))
            }
            None => cond,
        };
        let span = self.span(eq.loc);
        Detection {
            searches: vec![Search {
                name: "query".to_string(),
                expr,
                span,
            }],
            conditions: vec![Condition::Search {
                name: "query".to_string(),
                span,
            }],
            condition_span: span,
        }
    }

    fn sequence(&mut self, seq: &ast::Sequence, rule_ref: &str, kind: CorrelationKind) -> Lowered {
        let mut steps = Vec::new();
        let mut refs = Vec::new();
        for (i, step) in seq.steps.iter().enumerate() {
            let suffix = format!("#step{}", i + 1);
            let reference = format!("{rule_ref}{suffix}");
            if step.missing {
                self.issue(
                    step.loc,
                    "a missing-event step `![...]` is not expressible as a correlation",
                );
            }
            for _ in 0..step.runs.unwrap_or(1).min(1024) {
                refs.push(CorrelationRef {
                    reference: reference.clone(),
                    span: self.span(step.loc),
                });
            }
            steps.push(self.step_rule(step, suffix));
        }
        if let Some(until) = &seq.until {
            self.issue(
                until.loc,
                "`until` is not expressible as a correlation; the until step is kept as a synthetic rule",
            );
            steps.push(self.step_rule(until, "#until".to_string()));
        }

        // Join keys: position k combines the shared keys, then each step's own keys.
        let width = seq.steps.iter().map(|s| s.by.len()).max().unwrap_or(0);
        let mut group_by = Vec::new();
        let mut aliases = Vec::new();
        for key in &seq.by {
            match key_field(key) {
                Some(f) => group_by.push(f),
                None => self.issue(key.loc, "a join key that is not a field is not expressible"),
            }
        }
        for k in 0..width {
            let mut mapping = Vec::new();
            for (i, step) in seq.steps.iter().enumerate() {
                let Some(key) = step.by.get(k) else {
                    self.issue(step.loc, "steps name different numbers of join keys");
                    continue;
                };
                match key_field(key) {
                    Some(f) => mapping.push((format!("{rule_ref}#step{}", i + 1), f)),
                    None => {
                        self.issue(key.loc, "a join key that is not a field is not expressible");
                    }
                }
            }
            let first = mapping.first().map(|(_, f)| f.clone());
            match first {
                Some(f) if mapping.iter().all(|(_, g)| *g == f) => group_by.push(f),
                Some(_) => {
                    let alias = format!("join_key_{}", seq.by.len() + k + 1);
                    group_by.push(alias.clone());
                    aliases.push(FieldAlias { alias, mapping });
                }
                None => {}
            }
        }
        let (timespan, timespan_secs) = match &seq.maxspan {
            Some(ts) => (ts.text.clone(), ts.millis.div_ceil(1000)),
            None => (
                UNBOUNDED_SPAN.to_string(),
                sigil_core::correlation::parse_timespan(UNBOUNDED_SPAN).unwrap_or(u64::MAX),
            ),
        };
        if seq.maxspan.as_ref().is_some_and(|ts| ts.millis % 1000 != 0) {
            let loc = seq.maxspan.as_ref().map_or_else(Loc::default, |t| t.loc);
            self.issue(loc, "a sub-second maxspan is rounded up to whole seconds");
        }
        Lowered {
            body: RuleBody::Correlation(Correlation {
                kind,
                rules: refs,
                aliases,
                group_by,
                timespan_secs,
                timespan,
                condition: None,
                generate: false,
            }),
            steps,
            category: None,
            not_evaluable: Vec::new(),
        }
    }

    fn step_rule(&mut self, step: &ast::Step, suffix: String) -> StepRule {
        let detection = self.event_detection(&step.query);
        StepRule {
            suffix,
            detection,
            category: step.query.category.clone(),
            text: self.text(step.query.loc),
            span: self.span(step.loc),
        }
    }

    /// An expression the IR cannot hold: kept as its source text, and reported.
    fn opaque(&mut self, e: &ast::Expr, reason: impl Into<String>) -> Expr {
        let text = self.text(e.loc);
        let reason = format!("{} (in `{text}`)", reason.into());
        self.issue(e.loc, reason);
        let mut p = Predicate::new(Some(text), Op::Equals, vec![Value::Bool(true)]);
        p.span = self.span(e.loc);
        Expr::Pred(p)
    }

    fn pred(&self, loc: Loc, field: &ast::Field, op: Op, values: Vec<Value>, cased: bool) -> Expr {
        Expr::Pred(Predicate {
            field: Some(field.dotted()),
            op,
            values,
            flags: Flags {
                cased: cased && !self.options.case_insensitive,
                ..Flags::default()
            },
            span: self.span(loc),
        })
    }

    fn expr(&mut self, e: &ast::Expr) -> Expr {
        match &e.kind {
            ExprKind::Literal(Literal::Bool(true)) => Expr::And(Vec::new()),
            ExprKind::Literal(Literal::Bool(false) | Literal::Null) => Expr::Or(Vec::new()),
            ExprKind::Literal(_) => self.opaque(e, "a literal used as a condition"),
            ExprKind::Field(f) => self.pred(e.loc, f, Op::Equals, vec![Value::Bool(true)], true),
            ExprKind::Not(inner) => Expr::Not(Box::new(self.expr(inner))),
            ExprKind::And(v) => Expr::And(v.iter().map(|x| self.expr(x)).collect()),
            ExprKind::Or(v) => Expr::Or(v.iter().map(|x| self.expr(x)).collect()),
            ExprKind::Compare { op, lhs, rhs } => self.compare(e, *op, lhs, rhs),
            ExprKind::In {
                expr,
                values,
                negated,
                insensitive,
            } => self.in_set(e, expr, values, *negated, *insensitive),
            ExprKind::StrPred {
                op,
                insensitive,
                expr,
                values,
            } => self.str_pred(e, *op, *insensitive, expr, values),
            ExprKind::Call {
                name,
                insensitive,
                args,
            } => self.call(e, name, *insensitive, args),
            ExprKind::Arith { .. } | ExprKind::Neg(_) => {
                self.opaque(e, "arithmetic is not expressible in the IR")
            }
            ExprKind::Lineage { .. } => {
                self.opaque(e, "process lineage tests are not expressible in the IR")
            }
        }
    }

    fn compare(&mut self, e: &ast::Expr, op: CmpOp, lhs: &ast::Expr, rhs: &ast::Expr) -> Expr {
        // Put the field on the left: `0 <= x` is `x >= 0`.
        let (op, lhs, rhs) = if lhs.as_field().is_none() && rhs.as_field().is_some() {
            (op.flipped(), rhs, lhs)
        } else {
            (op, lhs, rhs)
        };
        let Some(field) = lhs.as_field() else {
            return self.opaque(e, "a comparison of computed values is not expressible");
        };
        if let Some(other) = rhs.as_field() {
            let value = vec![Value::FieldRef(other.dotted())];
            return match op {
                CmpOp::Eq => self.pred(e.loc, field, Op::Equals, value, true),
                CmpOp::Ne => self.pred(e.loc, field, Op::NotEquals, value, true),
                _ => self.opaque(e, "an ordering between two fields is not expressible"),
            };
        }
        let Some(lit) = rhs.as_literal() else {
            return self.opaque(e, "a comparison with a computed value is not expressible");
        };
        match (op, lit) {
            (CmpOp::Eq, Literal::Null) => {
                self.pred(e.loc, field, Op::Exists, vec![Value::Bool(false)], true)
            }
            (CmpOp::Ne, Literal::Null) => {
                self.pred(e.loc, field, Op::Exists, vec![Value::Bool(true)], true)
            }
            // Ordering against null is null, which never matches.
            (_, Literal::Null) => Expr::Or(Vec::new()),
            (CmpOp::Eq, l) => self.pred(e.loc, field, Op::Equals, vec![exact(l)], true),
            (CmpOp::Ne, l) => self.pred(e.loc, field, Op::NotEquals, vec![exact(l)], true),
            (op, Literal::Str(_)) => self.opaque(
                e,
                format!("ordering strings with `{}` is not expressible", op.symbol()),
            ),
            (op, l) => {
                let op = match op {
                    CmpOp::Lt => Op::Lt,
                    CmpOp::Le => Op::Lte,
                    CmpOp::Gt => Op::Gt,
                    _ => Op::Gte,
                };
                self.pred(e.loc, field, op, vec![exact(l)], true)
            }
        }
    }

    fn in_set(
        &mut self,
        e: &ast::Expr,
        expr: &ast::Expr,
        values: &[ast::Expr],
        negated: bool,
        insensitive: bool,
    ) -> Expr {
        let Some(field) = expr.as_field() else {
            return self.opaque(e, "`in` over a computed value is not expressible");
        };
        let mut out = Vec::new();
        for v in values {
            if let Some(f) = v.as_field() {
                out.push(Value::FieldRef(f.dotted()));
            } else if let Some(l) = v.as_literal() {
                if l == Literal::Null {
                    return self.opaque(e, "`null` inside an `in` list is not expressible");
                }
                out.push(exact(l));
            } else {
                return self.opaque(e, "a computed value inside an `in` list is not expressible");
            }
        }
        let op = if negated { Op::NotEquals } else { Op::Equals };
        self.pred(e.loc, field, op, out, !insensitive)
    }

    fn str_pred(
        &mut self,
        e: &ast::Expr,
        op: StrOp,
        insensitive: bool,
        expr: &ast::Expr,
        values: &[ast::Expr],
    ) -> Expr {
        let Some(field) = expr.as_field() else {
            return self.opaque(e, "a string match on a computed value is not expressible");
        };
        let mut out = Vec::new();
        for v in values {
            match (op, v.as_literal()) {
                (StrOp::Regex, Some(Literal::Str(s))) => {
                    // EQL regular expressions match the whole value; the IR's are unanchored.
                    out.push(Value::Regex(format!("^(?:{s})$")));
                }
                (_, Some(Literal::Str(s))) => out.push(Value::Str(wildcard(&s))),
                (StrOp::Colon, Some(l)) if l != Literal::Null => out.push(exact(l)),
                _ => {
                    return self.opaque(e, "a string match needs literal string patterns");
                }
            }
        }
        let (ir_op, cased) = match op {
            StrOp::Colon => (Op::Equals, false),
            StrOp::Like => (Op::Equals, !insensitive),
            StrOp::Regex => (Op::Regex, !insensitive),
        };
        let mut lowered = self.pred(e.loc, field, ir_op, out, cased);
        if let (StrOp::Regex, Expr::Pred(p)) = (op, &mut lowered) {
            p.flags.regex.ignore_case = !p.flags.cased;
        }
        lowered
    }

    fn call(&mut self, e: &ast::Expr, name: &str, insensitive: bool, args: &[ast::Expr]) -> Expr {
        let lower = name.to_ascii_lowercase();
        let op = match lower.as_str() {
            "startswith" => Op::StartsWith,
            "endswith" => Op::EndsWith,
            "stringcontains" => Op::Contains,
            "wildcard" => Op::Equals,
            "cidrmatch" => Op::Cidr,
            _ => {
                return self.opaque(e, format!("function `{name}` is not expressible in the IR"));
            }
        };
        let Some((first, rest)) = args.split_first() else {
            return self.opaque(e, format!("`{name}` needs arguments"));
        };
        let Some(field) = first.as_field() else {
            return self.opaque(
                e,
                format!("`{name}` over a computed value is not expressible"),
            );
        };
        if rest.is_empty() || (op == Op::Contains && rest.len() != 1) {
            return self.opaque(e, format!("`{name}` has the wrong number of arguments"));
        }
        let mut values = Vec::new();
        for a in rest {
            // A field argument compares with that field of the same event.
            if let (Some(other), false) = (a.as_field(), op == Op::Cidr) {
                values.push(Value::FieldRef(other.dotted()));
                continue;
            }
            let Some(Literal::Str(s)) = a.as_literal() else {
                return self.opaque(e, format!("`{name}` needs literal string arguments"));
            };
            match op {
                Op::Cidr => match s.parse::<ipnet::IpNet>() {
                    Ok(net) => values.push(Value::Cidr(net)),
                    Err(_) => match s.parse::<std::net::IpAddr>() {
                        Ok(ip) => values.push(Value::Cidr(ipnet::IpNet::from(ip))),
                        Err(_) => {
                            return self.opaque(e, format!("`{s}` is not a network address"));
                        }
                    },
                },
                Op::Equals => values.push(Value::Str(wildcard(&s))),
                _ => values.push(Value::str(s)),
            }
        }
        let cased = op != Op::Cidr && !insensitive;
        self.pred(e.loc, field, op, values, cased)
    }
}

/// The field a join key names, if it is a plain field.
fn key_field(key: &ast::Expr) -> Option<String> {
    key.as_field().map(ast::Field::dotted)
}

/// A literal compared exactly (no wildcards).
fn exact(l: Literal) -> Value {
    match l {
        Literal::Str(s) => Value::str(s),
        Literal::Int(i) => Value::Int(i),
        Literal::Float(f) => Value::Float(f),
        Literal::Bool(b) => Value::Bool(b),
        Literal::Null => Value::Null,
    }
}

/// An EQL wildcard pattern: `*` any run, `?` one character; no escapes exist for them.
pub fn wildcard(s: &str) -> Pattern {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    for c in s.chars() {
        match c {
            '*' | '?' => {
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                pieces.push(if c == '*' {
                    Piece::AnyMany
                } else {
                    Piece::AnyOne
                });
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    Pattern::from_pieces(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eql::parse_query;

    fn lower(src: &str) -> Lowered {
        let q = parse_query(src).expect("parses");
        lower_query(&q, src, "r1", &LowerOptions::default(), &|o| {
            Span::new(1, o as u32 + 1, o as u32)
        })
    }

    fn expr(src: &str) -> Expr {
        let l = lower(src);
        let RuleBody::Detection(d) = &l.body else {
            panic!("not a detection")
        };
        d.to_expr()
    }

    /// The condition after the category predicate.
    fn cond(src: &str) -> Expr {
        match expr(src) {
            Expr::And(mut v) if v.len() == 2 => v.remove(1),
            other => other,
        }
    }

    fn pred(e: &Expr) -> &Predicate {
        match e {
            Expr::Pred(p) => p,
            other => panic!("not a predicate: {other:?}"),
        }
    }

    #[test]
    fn category_becomes_a_predicate() {
        let e = expr(r#"process where process.name == "a""#);
        let Expr::And(v) = &e else { panic!("{e:?}") };
        let cat = pred(&v[0]);
        assert_eq!(cat.field.as_deref(), Some("event.category"));
        assert_eq!(cat.values, vec![Value::str("process")]);
        assert_eq!(cat.span.column, 1);
        assert_eq!(pred(&v[1]).span.column, 15);
        assert!(matches!(expr("any where a == 1"), Expr::Pred(_)));
    }

    #[test]
    fn operators_map_to_ops_and_case() {
        let p = cond(r#"process where a == "X*""#);
        let p = pred(&p);
        assert_eq!((p.op, p.flags.cased), (Op::Equals, true));
        assert_eq!(p.values, vec![Value::str("X*")]);

        let p = cond(r#"process where a : "X*""#);
        let p = pred(&p);
        assert_eq!((p.op, p.flags.cased), (Op::Equals, false));
        assert!(matches!(&p.values[0], Value::Str(s) if s.has_wildcards()));

        let p = cond(r#"process where a like~ ("x?", "y")"#);
        let p = pred(&p);
        assert_eq!(
            (p.op, p.flags.cased, p.values.len()),
            (Op::Equals, false, 2)
        );

        let p = cond(r#"process where a regex "a.c""#);
        let p = pred(&p);
        assert_eq!(p.op, Op::Regex);
        assert_eq!(p.values, vec![Value::Regex("^(?:a.c)$".into())]);
        assert!(!p.flags.regex.ignore_case);

        let p = cond(r#"process where a in~ ("x", "y")"#);
        assert!(!pred(&p).flags.cased);
        let p = cond(r#"process where a not in ("x", "y")"#);
        assert_eq!(pred(&p).op, Op::NotEquals);
        let p = cond(r#"process where a != "x""#);
        assert_eq!(pred(&p).op, Op::NotEquals);
    }

    #[test]
    fn numbers_nulls_and_flipped_comparisons() {
        let p = cond("process where 0 <= exit_code");
        let p = pred(&p);
        assert_eq!((p.op, &p.values), (Op::Gte, &vec![Value::Int(0)]));
        let p = cond("process where x > -1.5");
        assert_eq!(pred(&p).values, vec![Value::Float(-1.5)]);
        let p = cond("process where x == null");
        assert_eq!(
            (pred(&p).op, &pred(&p).values),
            (Op::Exists, &vec![Value::Bool(false)])
        );
        let p = cond("process where x != null");
        assert_eq!(pred(&p).values, vec![Value::Bool(true)]);
        assert_eq!(cond("process where x < null"), Expr::Or(Vec::new()));
        assert_eq!(expr("any where true"), Expr::And(Vec::new()));
    }

    #[test]
    fn functions() {
        let p = cond(r#"process where startsWith~(a, "x", "y")"#);
        let p = pred(&p);
        assert_eq!(
            (p.op, p.flags.cased, p.values.len()),
            (Op::StartsWith, false, 2)
        );
        let p = cond(r#"process where endsWith(a, "x")"#);
        assert_eq!((pred(&p).op, pred(&p).flags.cased), (Op::EndsWith, true));
        let p = cond(r#"process where stringContains(a, "x")"#);
        assert_eq!(pred(&p).op, Op::Contains);
        let p = cond(r#"process where cidrMatch(ip, "10.0.0.0/8", "::1")"#);
        let p = pred(&p);
        assert_eq!(p.op, Op::Cidr);
        assert_eq!(p.values.len(), 2);
        let p = cond(r#"process where wildcard(a, "x*")"#);
        assert_eq!(pred(&p).op, Op::Equals);
        let p = cond("process where startsWith~(a, b)");
        assert_eq!(pred(&p).values, vec![Value::FieldRef("b".into())]);
    }

    #[test]
    fn field_comparisons() {
        let p = cond("process where a == b");
        assert_eq!(pred(&p).values, vec![Value::FieldRef("b".into())]);
        let p = cond("process where a != b");
        assert_eq!(pred(&p).op, Op::NotEquals);
    }

    #[test]
    fn opaque_parts_are_kept_and_reported() {
        let src = "process where length(process.args) > 3 and a == 1";
        let l = lower(src);
        assert_eq!(l.not_evaluable.len(), 1);
        assert!(l.not_evaluable[0].reason.contains("length"));
        assert_eq!(l.not_evaluable[0].span.column, 15);
        let RuleBody::Detection(d) = &l.body else {
            panic!()
        };
        let preds = d.searches[0].expr.predicates().len();
        assert_eq!(preds, 3, "category, opaque, a == 1");
        let e = cond("process where length(process.args) > 3");
        assert_eq!(pred(&e).field.as_deref(), Some("length(process.args) > 3"));
        for src in [
            "process where a + 1 == 2",
            "process where a < b",
            "process where substring(a, 1) : \"x\"",
            r#"process where a > "x""#,
            "process where descendant of [process where true]",
        ] {
            assert_eq!(lower(src).not_evaluable.len(), 1, "{src}");
        }
    }

    #[test]
    fn sequences_become_ordered_correlations() {
        let l = lower(
            "sequence by host.id with maxspan=1m [process where a == 1] by process.entity_id [file where b == 2] by process.parent.entity_id with runs=2",
        );
        let RuleBody::Correlation(c) = &l.body else {
            panic!()
        };
        assert_eq!(c.kind, CorrelationKind::TemporalOrdered);
        let refs: Vec<_> = c.rules.iter().map(|r| r.reference.as_str()).collect();
        assert_eq!(refs, ["r1#step1", "r1#step2", "r1#step2"]);
        assert_eq!(c.group_by, ["host.id", "join_key_2"]);
        assert_eq!(c.aliases[0].mapping[1].1, "process.parent.entity_id");
        assert_eq!((c.timespan.as_str(), c.timespan_secs), ("1m", 60));
        assert_eq!(l.steps.len(), 2);
        assert_eq!(l.steps[1].category.as_deref(), Some("file"));
        assert!(l.not_evaluable.is_empty());

        let l = lower(
            "sequence [process where true] [file where true] until [process where true] | head 1",
        );
        let RuleBody::Correlation(c) = &l.body else {
            panic!()
        };
        assert_eq!(c.timespan, UNBOUNDED_SPAN);
        assert_eq!(l.steps.len(), 3);
        assert_eq!(l.steps[2].suffix, "#until");
        assert_eq!(l.not_evaluable.len(), 2, "until and the pipe");

        let l = lower("sample by host.id [process where true] [file where true]");
        let RuleBody::Correlation(c) = &l.body else {
            panic!()
        };
        assert_eq!(c.kind, CorrelationKind::Temporal);
        assert_eq!(c.group_by, ["host.id"]);
    }

    #[test]
    fn wildcards() {
        assert_eq!(
            wildcard("a*b?c").pieces(),
            &[
                Piece::Lit("a".into()),
                Piece::AnyMany,
                Piece::Lit("b".into()),
                Piece::AnyOne,
                Piece::Lit("c".into())
            ]
        );
    }
}
