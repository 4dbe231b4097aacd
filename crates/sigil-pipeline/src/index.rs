//! What a processed rule requires of an event's `Channel` and `EventID`, for indexing.
//!
//! After `sysmon` + `windows-logsources`, a rule's conditions read
//! `_cond_2 and (_cond_1 and (original))` with `_cond_2: Channel = ...` and
//! `_cond_1: EventID = ...`. An engine that indexes rules by channel and event id can skip
//! every rule whose required values an event does not have. Only constraints that hold for
//! the whole rule are reported: top-level conjuncts of every condition, plain equality with
//! literal values.

use std::collections::BTreeSet;

use sigil_core::{Condition, Detection, Expr, Op, Predicate, Rule, Value};

/// The values a rule requires of `Channel` and `EventID`; `None` when the rule does not
/// constrain the field (it may match events with any value, or none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogsourceKeys {
    /// The event must have one of these channels (compare case-insensitively, as Sigma
    /// compares strings).
    pub channels: Option<BTreeSet<String>>,
    /// The event must have one of these event ids.
    pub event_ids: Option<BTreeSet<i64>>,
}

/// The `Channel` / `EventID` constraints of a (processed) rule. Correlation rules have
/// none of their own.
pub fn logsource_keys(rule: &Rule) -> LogsourceKeys {
    let Some(detection) = rule.detection() else {
        return LogsourceKeys::default();
    };
    if detection.conditions.is_empty() {
        return LogsourceKeys::default();
    }
    let mut out = LogsourceKeys::default();
    let mut first = true;
    for cond in &detection.conditions {
        let mut conjuncts = Vec::new();
        condition_conjuncts(detection, cond, &mut conjuncts);
        let channels = required(&conjuncts, "Channel", channel_value);
        let ids = required(&conjuncts, "EventID", event_id_value);
        // Several conditions are alternatives: the rule needs the union.
        if first {
            out.channels = channels;
            out.event_ids = ids;
            first = false;
        } else {
            out.channels = union(out.channels, channels);
            out.event_ids = union(out.event_ids, ids);
        }
    }
    out
}

fn union<T: Ord>(a: Option<BTreeSet<T>>, b: Option<BTreeSet<T>>) -> Option<BTreeSet<T>> {
    let (mut a, b) = (a?, b?);
    a.extend(b);
    Some(a)
}

fn condition_conjuncts<'a>(d: &'a Detection, c: &'a Condition, out: &mut Vec<&'a Predicate>) {
    match c {
        Condition::And(v) => v.iter().for_each(|c| condition_conjuncts(d, c, out)),
        Condition::Search { name, .. } => {
            if let Some(s) = d.search(name) {
                expr_conjuncts(&s.expr, out);
            }
        }
        Condition::AllOf(sel) => {
            for i in d.selected(sel) {
                expr_conjuncts(&d.searches[i].expr, out);
            }
        }
        Condition::Or(_) | Condition::Not(_) | Condition::OneOf(_) => {}
    }
}

fn expr_conjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Predicate>) {
    match e {
        Expr::And(v) => v.iter().for_each(|e| expr_conjuncts(e, out)),
        Expr::Pred(p) => out.push(p),
        Expr::Or(v) if v.len() == 1 => expr_conjuncts(&v[0], out),
        Expr::Or(_) | Expr::Not(_) => {}
    }
}

/// The intersection of the value sets of the plain-equality conjuncts on `field`.
fn required<T: Ord + Clone>(
    conjuncts: &[&Predicate],
    field: &str,
    value: fn(&Value) -> Option<T>,
) -> Option<BTreeSet<T>> {
    let mut result: Option<BTreeSet<T>> = None;
    for p in conjuncts {
        if p.field.as_deref() != Some(field)
            || p.op != Op::Equals
            || p.flags.windash
            || !p.flags.encodings.is_empty()
            || p.flags.time_part.is_some()
            || (p.flags.all && p.values.len() > 1)
            || p.values.is_empty()
        {
            continue;
        }
        let Some(values) = p.values.iter().map(value).collect::<Option<BTreeSet<T>>>() else {
            continue;
        };
        result = Some(match result {
            None => values,
            Some(r) => r.intersection(&values).cloned().collect(),
        });
    }
    result
}

fn channel_value(v: &Value) -> Option<String> {
    match v {
        Value::Str(p) => p.as_literal().map(str::to_string),
        _ => None,
    }
}

fn event_id_value(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Str(p) => p.as_literal()?.trim().parse().ok(),
        _ => None,
    }
}
