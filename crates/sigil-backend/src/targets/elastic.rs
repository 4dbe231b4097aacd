//! Behaviour shared by the Elasticsearch query-string and EQL targets.

use crate::render::{Out, Render, Res, decide_in, default_needs_no_group, expansion_or};
use crate::tree::{BoolKind, Node, Value};

/// `field: null` prints as a negated existence test; negating it again prints the plain
/// existence test (not a double negation).
pub fn not_null(arg: &Node, exists: impl Fn(&str) -> String) -> Option<Out> {
    match arg {
        Node::Field {
            field,
            value: Value::Null,
        } => Some(Out::Text(exists(field))),
        _ => None,
    }
}

/// Precedence with the null special cases: `not null` needs no group, a bare null test
/// (itself a negation) always gets one.
pub fn needs_no_group(r: &crate::dialect::Dialect, outer: BoolKind, inner: &Node) -> bool {
    match inner {
        Node::Not(arg)
            if matches!(
                **arg,
                Node::Field {
                    value: Value::Null,
                    ..
                }
            ) =>
        {
            true
        }
        Node::Field {
            value: Value::Null, ..
        } => false,
        _ => default_needs_no_group(r, outer, inner),
    }
}

/// Alternatives of one value print as a value list when they qualify.
pub fn expansion(r: &mut Render<'_>, field: &str, values: &[Value]) -> Res<Out> {
    let or = expansion_or(field, values);
    if decide_in(r.dialect(), BoolKind::Or, &or) {
        r.target().in_expression(r, BoolKind::Or, &or)
    } else {
        r.bool_op(BoolKind::Or, &or)
    }
}
