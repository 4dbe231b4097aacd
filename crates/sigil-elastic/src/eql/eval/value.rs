//! JSON values as EQL sees them: truthiness, numbers, text, wildcards, sort order and
//! arithmetic.

use serde_json::Value as Json;

use crate::eql::ast::ArithOp;

pub(super) fn key_text(v: &Json) -> Option<String> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

pub(super) fn truthy(v: &Json) -> Option<bool> {
    match v {
        Json::Null => None,
        Json::Bool(b) => Some(*b),
        Json::Number(n) => Some(n.as_f64().is_some_and(|f| f != 0.0)),
        Json::String(s) => Some(!s.is_empty()),
        Json::Array(a) => Some(!a.is_empty()),
        Json::Object(_) => Some(true),
    }
}

pub(super) fn num(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

pub(super) fn from_f64(f: f64) -> Json {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Json::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
    }
}

pub(super) fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// Wildcard match (`*` any run, `?` one character).
pub(super) fn wildcard_match(pattern: &str, value: &str, fold: bool) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = if fold {
        (
            pattern.to_lowercase().chars().collect(),
            value.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), value.chars().collect())
    };
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Sort order: nulls first, then numbers, then strings, then the rest.
pub(super) fn sort_cmp(a: &Json, b: &Json) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let rank = |v: &Json| match v {
        Json::Null => 0,
        Json::Bool(_) | Json::Number(_) => 1,
        Json::String(_) => 2,
        _ => 3,
    };
    match (a, b) {
        (Json::String(x), Json::String(y)) => x.cmp(y),
        (x, y) if rank(x) == 1 && rank(y) == 1 => num(x)
            .zip(num(y))
            .and_then(|(p, q)| p.partial_cmp(&q))
            .unwrap_or(Ordering::Equal),
        (x, y) => rank(x).cmp(&rank(y)),
    }
}

pub(super) fn arith(op: ArithOp, a: &Json, b: &Json) -> Json {
    let (Some(x), Some(y)) = (num(a), num(b)) else {
        return Json::Null;
    };
    let ints = a.is_i64() && b.is_i64();
    match op {
        ArithOp::Add => from_f64(x + y),
        ArithOp::Sub => from_f64(x - y),
        ArithOp::Mul => from_f64(x * y),
        ArithOp::Div if y == 0.0 => Json::Null,
        ArithOp::Div if ints => from_f64((x / y).floor()),
        ArithOp::Div => from_f64(x / y),
        ArithOp::Mod if y == 0.0 => Json::Null,
        ArithOp::Mod => from_f64(x.rem_euclid(y)),
    }
}
