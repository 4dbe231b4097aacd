//! From the IR to the query tree: resolve the condition over the searches, apply the value
//! modifiers (wildcards of `contains`/`startswith`/`endswith`, `windash`, the byte
//! encodings) and give each value its comparison.

use sigil_core::condition::Selector;
use sigil_core::{Condition, Detection, Expr, Op, Pattern, Predicate, Span, encode};

use crate::error::ConvertError;
use crate::tree::{CmpOp, Node, Str, Value};

/// One query tree per condition of the detection (Sigma allows a list of conditions; each
/// becomes its own query, as the reference converter does).
pub fn lower_detection(det: &Detection) -> Result<Vec<Node>, ConvertError> {
    det.conditions
        .iter()
        .map(|c| lower_condition(det, c))
        .collect()
}

fn lower_condition(det: &Detection, cond: &Condition) -> Result<Node, ConvertError> {
    Ok(match cond {
        // Nesting is kept as written: `(a and b) and c` groups differently from
        // `a and b and c` in targets that parenthesise every subexpression.
        Condition::And(v) => Node::And(lower_all(det, v)?),
        Condition::Or(v) => Node::Or(lower_all(det, v)?),
        Condition::Not(c) => Node::Not(Box::new(lower_condition(det, c)?)),
        Condition::Search { name, span } => {
            let search = det
                .search(name)
                .ok_or_else(|| ConvertError::UnknownSearch {
                    name: name.clone(),
                    span: *span,
                })?;
            lower_expr(&search.expr)?
        }
        // A selector that picks one search is that search (no one-element group).
        Condition::OneOf(sel) => one_or(lower_selected(det, sel)?, Node::Or),
        Condition::AllOf(sel) => one_or(lower_selected(det, sel)?, Node::And),
    })
}

fn lower_all(det: &Detection, v: &[Condition]) -> Result<Vec<Node>, ConvertError> {
    v.iter().map(|c| lower_condition(det, c)).collect()
}

fn one_or(mut nodes: Vec<Node>, group: fn(Vec<Node>) -> Node) -> Node {
    if nodes.len() == 1 {
        nodes.pop().unwrap_or(Node::Or(Vec::new()))
    } else {
        group(nodes)
    }
}

fn lower_selected(det: &Detection, sel: &Selector) -> Result<Vec<Node>, ConvertError> {
    det.selected(sel)
        .into_iter()
        .map(|i| lower_expr(&det.searches[i].expr))
        .collect()
}

/// Lowers a search expression. Single-child groups collapse, as a one-item map does in
/// the reference converter; nesting is kept otherwise, because it decides parentheses.
pub fn lower_expr(expr: &Expr) -> Result<Node, ConvertError> {
    Ok(match expr {
        Expr::And(v) if v.len() == 1 => lower_expr(&v[0])?,
        Expr::Or(v) if v.len() == 1 => lower_expr(&v[0])?,
        Expr::And(v) => Node::And(v.iter().map(lower_expr).collect::<Result<_, _>>()?),
        Expr::Or(v) => Node::Or(v.iter().map(lower_expr).collect::<Result<_, _>>()?),
        Expr::Not(e) => Node::Not(Box::new(lower_expr(e)?)),
        Expr::Pred(p) => lower_predicate(p)?,
    })
}

/// A predicate: one comparison per value, or-ed (and-ed under `all`).
pub fn lower_predicate(p: &Predicate) -> Result<Node, ConvertError> {
    if p.flags.time_part.is_some() {
        return Err(ConvertError::InvalidValue {
            message: "timestamp-part modifiers (`minute`, `hour`, ...) are not converted".into(),
            span: p.span,
        });
    }
    let mut leaves = Vec::with_capacity(p.values.len());
    for v in &p.values {
        let value = lower_value(p, v)?;
        leaves.push(match &p.field {
            Some(f) => Node::Field {
                field: f.clone(),
                value,
            },
            None => Node::Keyword(value),
        });
    }
    let node = if leaves.len() == 1 {
        leaves.pop().unwrap_or(Node::Or(Vec::new()))
    } else if p.flags.all {
        Node::And(leaves)
    } else {
        Node::Or(leaves)
    };
    Ok(if p.op == Op::NotEquals {
        Node::Not(Box::new(node))
    } else {
        node
    })
}

fn lower_value(p: &Predicate, v: &sigil_core::Value) -> Result<Value, ConvertError> {
    use sigil_core::Value as V;
    Ok(match v {
        V::Str(pattern) => lower_string(p, pattern)?,
        V::Int(i) => lower_number(p, i.to_string())?,
        V::Float(f) => lower_number(p, f.to_string())?,
        V::Bool(b) if p.op == Op::Exists => Value::Exists(*b),
        V::Bool(b) => Value::Bool(*b),
        V::Null => Value::Null,
        V::Regex(source) => Value::Regex {
            source: source.clone(),
            flags: p.flags.regex,
        },
        V::Cidr(net) => Value::Cidr(*net),
        V::FieldRef(field) => Value::FieldRef {
            field: field.clone(),
            starts_with: matches!(p.op, Op::StartsWith | Op::Contains),
            ends_with: matches!(p.op, Op::EndsWith | Op::Contains),
        },
    })
}

fn lower_number(p: &Predicate, text: String) -> Result<Value, ConvertError> {
    Ok(match cmp_op(p.op) {
        Some(op) => Value::Compare(op, text),
        None if matches!(p.op, Op::Contains | Op::StartsWith | Op::EndsWith) => {
            lower_string(p, &Pattern::literal(text))?
        }
        None => Value::Num(text),
    })
}

fn cmp_op(op: Op) -> Option<CmpOp> {
    Some(match op {
        Op::Lt => CmpOp::Lt,
        Op::Lte => CmpOp::Lte,
        Op::Gt => CmpOp::Gt,
        Op::Gte => CmpOp::Gte,
        _ => return None,
    })
}

fn lower_string(p: &Predicate, pattern: &Pattern) -> Result<Value, ConvertError> {
    if let Some(name) = pattern.pieces().iter().find_map(|piece| match piece {
        sigil_core::Piece::Placeholder(n) => Some(n),
        _ => None,
    }) {
        return Err(ConvertError::UnexpandedPlaceholder {
            name: name.clone(),
            span: p.span,
        });
    }
    if p.op.is_numeric() {
        // `gt: '5'` written as a string still compares numerically.
        if let Some(text) = pattern.as_literal()
            && let Some(op) = cmp_op(p.op)
        {
            return Ok(Value::Compare(op, text.to_string()));
        }
    }
    if p.flags.words && matches!(p.op, Op::Equals | Op::NotEquals) {
        return Ok(Value::Phrase(pattern.clone()));
    }
    let variants = encode::expand(pattern, &p.flags).map_err(|e| ConvertError::InvalidValue {
        message: e.to_string(),
        span: p.span,
    })?;
    let cased = p.flags.cased;
    let mut values: Vec<Value> = variants
        .iter()
        .map(|v| {
            Value::Str(Str {
                pattern: with_op_wildcards(v, p.op),
                cased,
            })
        })
        .collect();
    let expands = p.flags.windash
        || p.flags
            .encodings
            .contains(&sigil_core::Encoding::Base64Offset);
    Ok(if expands || values.len() != 1 {
        Value::Expansion(values)
    } else {
        values.pop().unwrap_or(Value::Null)
    })
}

fn with_op_wildcards(p: &Pattern, op: Op) -> Pattern {
    match op {
        Op::Contains => p.with_leading_any().with_trailing_any(),
        Op::StartsWith => p.with_trailing_any(),
        Op::EndsWith => p.with_leading_any(),
        _ => p.clone(),
    }
}

/// The span of the first predicate of a node's source, for error messages.
pub fn first_span(expr: &Expr) -> Span {
    expr.predicates()
        .first()
        .map(|p| p.span)
        .unwrap_or_default()
}
