//! Evaluating EQL queries over events: the semantics the IR does not carry (null
//! propagation, functions, arithmetic, sequences and joins with their state machines,
//! lineage, pipes), for ad-hoc hunting (`sigil query --eql`) and for checking the parser
//! against the reference implementation's own test suite.
//!
//! Events are JSON values; a field is looked up first as one dotted key, then as a path
//! of nested objects and array indices. Semantics follow the reference implementation:
//!
//! - Comparisons with `null` are `null` except `==`/`!=` (`null == null` holds);
//!   `and`/`or`/`not` are three-valued; a query keeps events whose condition is true.
//! - `==` compares exactly; a string literal with `*` compares as a wildcard (the
//!   reference dialect's rule). Strings compare case-sensitively unless
//!   [`EvalOptions::case_insensitive`]; `:`, `like~`, `in~`, `regex~` and the `~`
//!   functions always ignore case.
//! - `sequence`: per join key, a pending sequence per step; an event matching step k
//!   advances the sequence waiting at step k-1 (steps are tried last to first, so one
//!   event never fills two steps of one sequence), within `maxspan` of its first
//!   event; `until` drops the pending sequences of its key.
//! - `join`: per key, the first unmatched event of each step; output when all steps
//!   have one, in step order.
//! - Lineage (`child of`, `descendant of`, `event of`) follows `unique_pid` /
//!   `unique_ppid`.
//! - Pipes: `head`, `tail`, `filter`, `unique`, `unique_count` (binds `count` and
//!   `percent`), `sort`, `count`.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value as Json};

use super::ast::{
    ArithOp, CmpOp, EventQuery, Expr, ExprKind, Field, FieldPart, Literal, Query, QueryBody,
    Relation, Sequence, Step, StrOp,
};

/// How to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// The field holding the event category.
    pub category_field: String,
    /// Compare strings case-insensitively everywhere.
    pub case_insensitive: bool,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            category_field: "event.category".to_string(),
            case_insensitive: false,
        }
    }
}

/// An event to evaluate: its fields and its time in milliseconds (for `maxspan`).
#[derive(Debug, Clone)]
pub struct EvalEvent {
    /// The fields.
    pub fields: Json,
    /// Milliseconds since any fixed origin; `None` when the event has no time.
    pub millis: Option<i64>,
}

/// One result: the events (indices into the input) of a match, in order; one for an
/// event query, one per step for a sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalMatch {
    /// Event indices.
    pub events: Vec<usize>,
    /// `count` and `percent` of `unique_count`, or the total of `count`.
    pub count: Option<(u64, f64)>,
}

/// Runs `query` over `events` (in time order) and returns the matches after the pipes.
pub fn evaluate(query: &Query, events: &[EvalEvent], options: &EvalOptions) -> Vec<EvalMatch> {
    let mut cx = Cx {
        options,
        events,
        vars: Vec::new(),
        lineage: HashMap::new(),
        parents: HashMap::new(),
        regex_cache: HashMap::new(),
    };
    let mut lineage_nodes = Vec::new();
    collect_lineage_query(query, &mut lineage_nodes);
    let mut results = match &query.body {
        QueryBody::Event(eq) => {
            let mut out = Vec::new();
            for i in 0..events.len() {
                cx.observe(i, &lineage_nodes);
                if cx.event_matches(eq, i) {
                    out.push(EvalMatch {
                        events: vec![i],
                        count: None,
                    });
                }
            }
            out
        }
        QueryBody::Sequence(seq) => cx.sequence(seq, &lineage_nodes),
        QueryBody::Join(seq) => cx.join(seq, &lineage_nodes),
        QueryBody::Sample(sample) => {
            let seq = Sequence {
                by: sample.by.clone(),
                maxspan: None,
                steps: sample.steps.clone(),
                until: None,
            };
            cx.join(&seq, &lineage_nodes)
        }
    };
    for pipe in &query.pipes {
        results = cx.pipe(&pipe.name, &pipe.args, results);
    }
    results
}

struct Cx<'a> {
    options: &'a EvalOptions,
    events: &'a [EvalEvent],
    /// Bound variables (`arraySearch`) and pipe values (`count`), innermost last.
    vars: Vec<(String, Json)>,
    /// For each lineage sub-query (by address), the process keys some event matched.
    lineage: HashMap<usize, HashSet<String>>,
    /// `unique_pid` → `unique_ppid`.
    parents: HashMap<String, String>,
    regex_cache: HashMap<(String, bool), Option<regex::Regex>>,
}

fn collect_lineage_query<'q>(q: &'q Query, out: &mut Vec<&'q EventQuery>) {
    let mut steps: Vec<&'q Step> = Vec::new();
    match &q.body {
        QueryBody::Event(eq) => collect_lineage(&eq.expr, out),
        QueryBody::Sequence(s) | QueryBody::Join(s) => {
            steps.extend(&s.steps);
            steps.extend(s.until.as_deref());
        }
        QueryBody::Sample(s) => steps.extend(&s.steps),
    }
    for s in steps {
        collect_lineage(&s.query.expr, out);
    }
}

/// Lineage sub-queries, innermost first.
fn collect_lineage<'q>(e: &'q Expr, out: &mut Vec<&'q EventQuery>) {
    match &e.kind {
        ExprKind::Lineage { query, .. } => {
            collect_lineage(&query.expr, out);
            out.push(query.as_ref());
        }
        ExprKind::Not(x) | ExprKind::Neg(x) => collect_lineage(x, out),
        ExprKind::And(v) | ExprKind::Or(v) => v.iter().for_each(|x| collect_lineage(x, out)),
        ExprKind::Compare { lhs, rhs, .. } | ExprKind::Arith { lhs, rhs, .. } => {
            collect_lineage(lhs, out);
            collect_lineage(rhs, out);
        }
        ExprKind::In { expr, values, .. } | ExprKind::StrPred { expr, values, .. } => {
            collect_lineage(expr, out);
            for x in values {
                collect_lineage(x, out);
            }
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|x| collect_lineage(x, out)),
        ExprKind::Literal(_) | ExprKind::Field(_) => {}
    }
}

fn key_text(v: &Json) -> Option<String> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn truthy(v: &Json) -> Option<bool> {
    match v {
        Json::Null => None,
        Json::Bool(b) => Some(*b),
        Json::Number(n) => Some(n.as_f64().is_some_and(|f| f != 0.0)),
        Json::String(s) => Some(!s.is_empty()),
        Json::Array(a) => Some(!a.is_empty()),
        Json::Object(_) => Some(true),
    }
}

fn num(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn from_f64(f: f64) -> Json {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Json::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
    }
}

fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// Wildcard match (`*` any run, `?` one character).
fn wildcard_match(pattern: &str, value: &str, fold: bool) -> bool {
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

impl Cx<'_> {
    fn fold(&self) -> bool {
        self.options.case_insensitive
    }

    /// Updates the lineage state with event `i` (before the query looks at it).
    fn observe(&mut self, i: usize, nodes: &[&EventQuery]) {
        if nodes.is_empty() {
            return;
        }
        let fields = &self.events[i].fields;
        let pid = fields.get("unique_pid").and_then(key_text);
        if let (Some(pid), Some(ppid)) = (&pid, fields.get("unique_ppid").and_then(key_text)) {
            self.parents.entry(pid.clone()).or_insert(ppid);
        }
        let Some(pid) = pid else { return };
        for &node in nodes {
            if self.event_matches(node, i) {
                // The sub-query's address identifies it; the tree outlives the run.
                let key = std::ptr::from_ref(node) as usize;
                self.lineage.entry(key).or_default().insert(pid.clone());
            }
        }
    }

    fn event_matches(&mut self, eq: &EventQuery, i: usize) -> bool {
        if let Some(cat) = &eq.category {
            let v = Self::lookup_path(&self.events[i].fields, &self.options.category_field);
            let ok = match &v {
                Json::String(s) => self.str_eq(s, cat, false),
                Json::Array(a) => a
                    .iter()
                    .any(|x| x.as_str().is_some_and(|s| self.str_eq(s, cat, false))),
                _ => false,
            };
            if !ok {
                return false;
            }
        }
        truthy(&self.eval(&eq.expr, i)) == Some(true)
    }

    fn str_eq(&self, a: &str, b: &str, fold: bool) -> bool {
        if fold || self.fold() {
            a.to_lowercase() == b.to_lowercase()
        } else {
            a == b
        }
    }

    fn lookup_path(root: &Json, dotted: &str) -> Json {
        if let Some(v) = root.get(dotted) {
            return v.clone();
        }
        let mut cur = root;
        for part in dotted.split('.') {
            match cur.get(part) {
                Some(v) => cur = v,
                None => return Json::Null,
            }
        }
        cur.clone()
    }

    fn field(&self, f: &Field, i: usize) -> Json {
        let mut parts = f.parts.as_slice();
        let mut cur: Json = match parts.first() {
            Some(FieldPart::Name(n)) => {
                if let Some((_, v)) = self.vars.iter().rev().find(|(name, _)| name == n) {
                    parts = &parts[1..];
                    v.clone()
                } else {
                    let root = &self.events[i].fields;
                    // A flat event keeps dotted names as single keys.
                    let names: Vec<&str> = parts
                        .iter()
                        .take_while(|p| matches!(p, FieldPart::Name(_)))
                        .filter_map(|p| match p {
                            FieldPart::Name(n) => Some(n.as_str()),
                            FieldPart::Index(_) => None,
                        })
                        .collect();
                    let dotted = names.join(".");
                    if let Some(v) = root.get(&dotted) {
                        parts = &parts[names.len()..];
                        v.clone()
                    } else {
                        root.clone()
                    }
                }
            }
            _ => return Json::Null,
        };
        for p in parts {
            cur = match (p, &cur) {
                (FieldPart::Name(n), Json::Object(m)) => m.get(n).cloned().unwrap_or(Json::Null),
                (FieldPart::Index(k), Json::Array(a)) => {
                    a.get(*k as usize).cloned().unwrap_or(Json::Null)
                }
                _ => return Json::Null,
            };
        }
        cur
    }

    // Operand names (`a`, `b`, `s`) mirror the operators' definitions.
    #[allow(clippy::many_single_char_names)]
    fn eval(&mut self, e: &Expr, i: usize) -> Json {
        match &e.kind {
            ExprKind::Literal(l) => match l {
                Literal::Str(s) => Json::String(s.clone()),
                Literal::Int(n) => Json::from(*n),
                // A written decimal stays a float (`4.0` divides as a float).
                Literal::Float(f) => {
                    serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number)
                }
                Literal::Bool(b) => Json::Bool(*b),
                Literal::Null => Json::Null,
            },
            ExprKind::Field(f) => self.field(f, i),
            ExprKind::Not(x) => match truthy(&self.eval(x, i)) {
                Some(b) => Json::Bool(!b),
                None => Json::Null,
            },
            ExprKind::And(v) => {
                let mut unknown = false;
                for x in v {
                    match truthy(&self.eval(x, i)) {
                        Some(false) => return Json::Bool(false),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                if unknown {
                    Json::Null
                } else {
                    Json::Bool(true)
                }
            }
            ExprKind::Or(v) => {
                let mut unknown = false;
                for x in v {
                    match truthy(&self.eval(x, i)) {
                        Some(true) => return Json::Bool(true),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                if unknown {
                    Json::Null
                } else {
                    Json::Bool(false)
                }
            }
            ExprKind::Compare { op, lhs, rhs } => {
                let (a, b) = (self.eval(lhs, i), self.eval(rhs, i));
                // A string literal with wildcards compares as a pattern.
                let pattern = |x: &Expr| match &x.kind {
                    ExprKind::Literal(Literal::Str(s)) if s.contains('*') => Some(s.clone()),
                    _ => None,
                };
                if matches!(op, CmpOp::Eq | CmpOp::Ne) {
                    let wild = pattern(rhs)
                        .map(|p| (p, &a))
                        .or_else(|| pattern(lhs).map(|p| (p, &b)));
                    if let Some((p, v)) = wild {
                        let m = match v {
                            Json::Null => return Json::Null,
                            Json::String(s) => wildcard_match(&p, s, self.fold()),
                            other => wildcard_match(&p, &text(other), self.fold()),
                        };
                        return Json::Bool(m == (*op == CmpOp::Eq));
                    }
                }
                self.compare(*op, &a, &b)
            }
            ExprKind::In {
                expr,
                values,
                negated,
                insensitive,
            } => {
                let v = self.eval(expr, i);
                if v.is_null() {
                    return Json::Null;
                }
                let fold = *insensitive || self.fold();
                let mut found = false;
                for x in values {
                    let w = self.eval(x, i);
                    if self.equal(&v, &w, fold) {
                        found = true;
                        break;
                    }
                }
                Json::Bool(found != *negated)
            }
            ExprKind::StrPred {
                op,
                insensitive,
                expr,
                values,
            } => {
                let v = self.eval(expr, i);
                let pats: Vec<Json> = values.iter().map(|x| self.eval(x, i)).collect();
                let fold = *op == StrOp::Colon || *insensitive || self.fold();
                let items: Vec<Json> = match v {
                    Json::Null => return Json::Null,
                    Json::Array(a) => a,
                    other => vec![other],
                };
                let mut hit = false;
                for item in &items {
                    let s = text(item);
                    for p in &pats {
                        let ok = match op {
                            StrOp::Regex => self.regex_match(&text(p), &s, fold),
                            _ => wildcard_match(&text(p), &s, fold),
                        };
                        if ok {
                            hit = true;
                        }
                    }
                }
                Json::Bool(hit)
            }
            ExprKind::Call {
                name,
                insensitive,
                args,
            } => self.call(name, *insensitive, args, i),
            ExprKind::Arith { op, lhs, rhs } => {
                let (a, b) = (self.eval(lhs, i), self.eval(rhs, i));
                arith(*op, &a, &b)
            }
            ExprKind::Neg(x) => match num(&self.eval(x, i)) {
                Some(f) => from_f64(-f),
                None => Json::Null,
            },
            ExprKind::Lineage { relation, query } => {
                let key = std::ptr::from_ref(query.as_ref()) as usize;
                let fields = &self.events[i].fields;
                let set = self.lineage.get(&key);
                let Some(set) = set else {
                    return Json::Bool(false);
                };
                let pid = fields.get("unique_pid").and_then(key_text);
                // Events other than process starts carry only their process's id.
                let ppid = fields
                    .get("unique_ppid")
                    .and_then(key_text)
                    .or_else(|| pid.as_ref().and_then(|p| self.parents.get(p).cloned()));
                let hit = match relation {
                    Relation::Event => pid.is_some_and(|p| set.contains(&p)),
                    Relation::Child => ppid.is_some_and(|p| set.contains(&p)),
                    Relation::Descendant => {
                        let mut cur = ppid;
                        let mut hops = 0;
                        let mut found = false;
                        while let Some(p) = cur {
                            if set.contains(&p) {
                                found = true;
                                break;
                            }
                            hops += 1;
                            if hops > 10_000 {
                                break;
                            }
                            cur = self.parents.get(&p).cloned();
                        }
                        found
                    }
                };
                Json::Bool(hit)
            }
        }
    }

    fn regex_match(&mut self, pattern: &str, value: &str, fold: bool) -> bool {
        let re = self
            .regex_cache
            .entry((pattern.to_string(), fold))
            .or_insert_with(|| {
                regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
                    .case_insensitive(fold)
                    .build()
                    .ok()
            });
        re.as_ref().is_some_and(|r| r.is_match(value))
    }

    fn equal(&self, a: &Json, b: &Json, fold: bool) -> bool {
        match (a, b) {
            (Json::Null, Json::Null) => true,
            (Json::String(x), Json::String(y)) => self.str_eq(x, y, fold),
            (Json::Number(_) | Json::Bool(_), Json::Number(_) | Json::Bool(_)) => {
                num(a) == num(b) && a.is_boolean() == b.is_boolean()
            }
            (Json::Array(xs), y) if !y.is_array() => xs.iter().any(|x| self.equal(x, y, fold)),
            _ => a == b,
        }
    }

    fn compare(&self, op: CmpOp, a: &Json, b: &Json) -> Json {
        match op {
            CmpOp::Eq => return Json::Bool(self.equal(a, b, false)),
            CmpOp::Ne => return Json::Bool(!self.equal(a, b, false)),
            _ => {}
        }
        let ord = match (a, b) {
            (Json::Number(_), Json::Number(_)) => {
                num(a).zip(num(b)).and_then(|(x, y)| x.partial_cmp(&y))
            }
            (Json::String(x), Json::String(y)) => {
                if self.fold() {
                    Some(x.to_lowercase().cmp(&y.to_lowercase()))
                } else {
                    Some(x.cmp(y))
                }
            }
            _ => None,
        };
        let Some(ord) = ord else { return Json::Null };
        Json::Bool(match op {
            CmpOp::Lt => ord.is_lt(),
            CmpOp::Le => ord.is_le(),
            CmpOp::Gt => ord.is_gt(),
            _ => ord.is_ge(),
        })
    }

    #[allow(clippy::many_single_char_names)]
    fn call(&mut self, name: &str, insensitive: bool, args: &[Expr], i: usize) -> Json {
        let lower = name.to_ascii_lowercase();
        // Functions that bind a variable evaluate their body per element.
        if matches!(lower.as_str(), "arraysearch" | "arraycount") {
            let (Some(arr), Some(var), Some(body)) = (args.first(), args.get(1), args.get(2))
            else {
                return Json::Null;
            };
            let Json::Array(items) = self.eval(arr, i) else {
                return if lower == "arraycount" {
                    Json::from(0)
                } else {
                    Json::Bool(false)
                };
            };
            let Some(FieldPart::Name(var)) = var.as_field().and_then(|f| f.parts.first()) else {
                return Json::Null;
            };
            let mut count = 0u64;
            for item in items {
                self.vars.push((var.clone(), item));
                let hit = truthy(&self.eval(body, i)) == Some(true);
                self.vars.pop();
                if hit {
                    count += 1;
                    if lower == "arraysearch" {
                        return Json::Bool(true);
                    }
                }
            }
            return if lower == "arraycount" {
                Json::from(count)
            } else {
                Json::Bool(false)
            };
        }
        let vals: Vec<Json> = args.iter().map(|a| self.eval(a, i)).collect();
        let fold = insensitive || self.fold();
        let s = |k: usize| vals.get(k).map(text);
        let first_null = vals.first().is_none_or(Json::is_null);
        match lower.as_str() {
            "add" | "subtract" | "multiply" | "divide" | "modulo" => {
                let op = match lower.as_str() {
                    "add" => ArithOp::Add,
                    "subtract" => ArithOp::Sub,
                    "multiply" => ArithOp::Mul,
                    "divide" => ArithOp::Div,
                    _ => ArithOp::Mod,
                };
                match (vals.first(), vals.get(1)) {
                    (Some(a), Some(b)) => arith(op, a, b),
                    _ => Json::Null,
                }
            }
            "length" => match vals.first() {
                Some(Json::String(x)) => Json::from(x.chars().count()),
                Some(Json::Array(a)) => Json::from(a.len()),
                Some(Json::Object(m)) => Json::from(m.len()),
                _ => Json::Null,
            },
            "concat" => Json::String(vals.iter().map(text).collect()),
            "string" => vals.first().map_or(Json::Null, |v| match v {
                Json::Null => Json::Null,
                other => Json::String(text(other)),
            }),
            "number" => {
                let Some(t) = s(0).filter(|_| !first_null) else {
                    return Json::Null;
                };
                let base = vals.get(1).and_then(Json::as_u64).unwrap_or(10) as u32;
                let t = t.trim();
                if base == 10 {
                    t.parse::<i64>()
                        .map(Json::from)
                        .or_else(|_| t.parse::<f64>().map(from_f64))
                        .unwrap_or(Json::Null)
                } else {
                    let t = t.trim_start_matches("0x").trim_start_matches("0X");
                    i64::from_str_radix(t, base).map_or(Json::Null, Json::from)
                }
            }
            "startswith" | "endswith" | "stringcontains" => {
                if first_null {
                    return Json::Null;
                }
                let hay = s(0).unwrap_or_default();
                let hay = if fold { hay.to_lowercase() } else { hay };
                let hit = vals[1..].iter().any(|n| {
                    let n = if fold {
                        text(n).to_lowercase()
                    } else {
                        text(n)
                    };
                    match lower.as_str() {
                        "startswith" => hay.starts_with(&n),
                        "endswith" => hay.ends_with(&n),
                        _ => hay.contains(&n),
                    }
                });
                Json::Bool(hit)
            }
            "indexof" => {
                if first_null {
                    return Json::Null;
                }
                let (hay, needle) = (s(0).unwrap_or_default(), s(1).unwrap_or_default());
                let (hay, needle) = if fold {
                    (hay.to_lowercase(), needle.to_lowercase())
                } else {
                    (hay, needle)
                };
                let start = vals.get(2).and_then(Json::as_u64).unwrap_or(0) as usize;
                let chars: Vec<char> = hay.chars().collect();
                if start > chars.len() {
                    return Json::Null;
                }
                let rest: String = chars[start..].iter().collect();
                rest.find(&needle).map_or(Json::Null, |b| {
                    Json::from(start + rest[..b].chars().count())
                })
            }
            "substring" => {
                if first_null {
                    return Json::Null;
                }
                let chars: Vec<char> = s(0).unwrap_or_default().chars().collect();
                let n = chars.len() as i64;
                let idx = |v: Option<&Json>, default: i64| -> usize {
                    let k = v.and_then(Json::as_i64).unwrap_or(default);
                    let k = if k < 0 { (n + k).max(0) } else { k.min(n) };
                    k as usize
                };
                let (a, b) = (idx(vals.get(1), 0), idx(vals.get(2), n));
                Json::String(if a < b {
                    chars[a..b].iter().collect()
                } else {
                    String::new()
                })
            }
            "between" => {
                if first_null {
                    return Json::Null;
                }
                let src = s(0).unwrap_or_default();
                let (left, right) = (s(1).unwrap_or_default(), s(2).unwrap_or_default());
                let greedy = vals.get(3).and_then(Json::as_bool).unwrap_or(false);
                let cfold = vals.get(4).and_then(Json::as_bool).unwrap_or(false) || fold;
                let hay = if cfold {
                    src.to_lowercase()
                } else {
                    src.clone()
                };
                let (l, r) = if cfold {
                    (left.to_lowercase(), right.to_lowercase())
                } else {
                    (left, right)
                };
                // Lower-casing can change byte lengths; work on the folded text only
                // when it kept them.
                let base = if hay.len() == src.len() { &src } else { &hay };
                let Some(a) = hay.find(&l).map(|p| p + l.len()) else {
                    return Json::String(String::new());
                };
                let rest = &hay[a..];
                let b = if greedy {
                    rest.rfind(&r)
                } else {
                    rest.find(&r)
                };
                match b {
                    Some(b) => Json::String(base[a..a + b].to_string()),
                    None => Json::String(String::new()),
                }
            }
            "wildcard" => {
                if first_null {
                    return Json::Null;
                }
                let v = s(0).unwrap_or_default();
                Json::Bool(vals[1..].iter().any(|p| wildcard_match(&text(p), &v, fold)))
            }
            "match" | "matchlite" => {
                if first_null {
                    return Json::Null;
                }
                let v = s(0).unwrap_or_default();
                let pats: Vec<String> = vals[1..].iter().map(text).collect();
                Json::Bool(pats.iter().any(|p| self.regex_match(p, &v, fold)))
            }
            "cidrmatch" => {
                let Some(ip) = s(0).and_then(|t| t.parse::<std::net::IpAddr>().ok()) else {
                    return Json::Null;
                };
                Json::Bool(vals[1..].iter().any(|c| {
                    text(c)
                        .parse::<ipnet::IpNet>()
                        .is_ok_and(|n| n.contains(&ip))
                }))
            }
            "arraycontains" => match vals.first() {
                Some(Json::Array(a)) => Json::Bool(
                    vals[1..]
                        .iter()
                        .any(|w| a.iter().any(|x| self.equal(x, w, fold))),
                ),
                _ => Json::Null,
            },
            "safe" => vals.into_iter().next().unwrap_or(Json::Null),
            _ => Json::Null,
        }
    }

    fn keys(&mut self, exprs: &[&Expr], i: usize) -> Vec<String> {
        let mut out = Vec::with_capacity(exprs.len());
        for e in exprs {
            let v = self.eval(e, i);
            let t = match &v {
                Json::Null => "\u{0}null".to_string(),
                Json::String(s) if self.fold() => s.to_lowercase(),
                other => text(other),
            };
            out.push(t);
        }
        out
    }

    fn step_keys(&mut self, seq: &Sequence, step: &Step, i: usize) -> Vec<String> {
        let exprs: Vec<&Expr> = seq.by.iter().chain(step.by.iter()).collect();
        self.keys(&exprs, i)
    }

    fn sequence(&mut self, seq: &Sequence, nodes: &[&EventQuery]) -> Vec<EvalMatch> {
        let mut steps: Vec<&Step> = Vec::new();
        for s in &seq.steps {
            for _ in 0..s.runs.unwrap_or(1).min(1024) {
                steps.push(s);
            }
        }
        let n = steps.len();
        let maxspan = seq.maxspan.as_ref().map(|m| m.millis as i64);
        // pending[k]: sequences whose last filled step is k, by join key.
        let mut pending: Vec<HashMap<Vec<String>, Vec<usize>>> = vec![HashMap::new(); n];
        let mut out = Vec::new();
        for i in 0..self.events.len() {
            self.observe(i, nodes);
            if let Some(until) = &seq.until
                && self.event_matches(&until.query, i)
            {
                let key = self.step_keys(seq, until, i);
                for p in &mut pending {
                    p.remove(&key);
                }
            }
            for k in (0..n).rev() {
                let step = steps[k];
                if step.missing || !self.event_matches(&step.query, i) {
                    continue;
                }
                let key = self.step_keys(seq, step, i);
                let seq_events = if k == 0 {
                    Some(vec![i])
                } else {
                    let taken = if step.fork {
                        pending[k - 1].get(&key).cloned()
                    } else {
                        pending[k - 1].remove(&key)
                    };
                    taken.and_then(|mut evs| {
                        let first = self.events[evs[0]].millis;
                        let within = match (maxspan, first, self.events[i].millis) {
                            (Some(span), Some(a), Some(b)) => b - a <= span,
                            (Some(_), _, _) => false,
                            (None, _, _) => true,
                        };
                        within.then(|| {
                            evs.push(i);
                            evs
                        })
                    })
                };
                let Some(evs) = seq_events else { continue };
                if k + 1 == n {
                    out.push(EvalMatch {
                        events: evs,
                        count: None,
                    });
                } else {
                    pending[k].insert(key, evs);
                }
            }
        }
        out
    }

    fn join(&mut self, seq: &Sequence, nodes: &[&EventQuery]) -> Vec<EvalMatch> {
        let n = seq.steps.len();
        let mut slots: HashMap<Vec<String>, Vec<Option<usize>>> = HashMap::new();
        let mut out = Vec::new();
        for i in 0..self.events.len() {
            self.observe(i, nodes);
            if let Some(until) = &seq.until
                && self.event_matches(&until.query, i)
            {
                let key = self.step_keys(seq, until, i);
                slots.remove(&key);
            }
            for (k, step) in seq.steps.iter().enumerate() {
                if !self.event_matches(&step.query, i) {
                    continue;
                }
                let key = self.step_keys(seq, step, i);
                let entry = slots.entry(key.clone()).or_insert_with(|| vec![None; n]);
                if entry[k].is_none() {
                    entry[k] = Some(i);
                }
                if entry.iter().all(Option::is_some) {
                    let events = entry.iter().flatten().copied().collect();
                    slots.remove(&key);
                    out.push(EvalMatch {
                        events,
                        count: None,
                    });
                }
            }
        }
        out
    }

    /// Runs `f` with the values a pipe may name bound: `count` and `percent` of
    /// `unique_count`, and `events` (the events of a sequence) for multi-event matches.
    fn with_result_vars<T>(&mut self, m: &EvalMatch, f: impl FnOnce(&mut Self) -> T) -> T {
        let before = self.vars.len();
        if let Some((count, percent)) = m.count {
            self.vars.push(("count".to_string(), Json::from(count)));
            self.vars.push(("percent".to_string(), from_f64(percent)));
        }
        if m.events.len() > 1 {
            let events = m
                .events
                .iter()
                .map(|&i| self.events[i].fields.clone())
                .collect();
            self.vars.push(("events".to_string(), Json::Array(events)));
        }
        let r = f(self);
        self.vars.truncate(before);
        r
    }

    fn pipe(&mut self, name: &str, args: &[Expr], results: Vec<EvalMatch>) -> Vec<EvalMatch> {
        let number = |args: &[Expr], default: usize| match args.first().map(|a| &a.kind) {
            Some(ExprKind::Literal(Literal::Int(n))) => usize::try_from(*n).unwrap_or(default),
            _ => default,
        };
        match name {
            "head" => results.into_iter().take(number(args, 50)).collect(),
            "tail" => {
                let n = number(args, 50);
                let skip = results.len().saturating_sub(n);
                results.into_iter().skip(skip).collect()
            }
            "filter" => results
                .into_iter()
                .filter(|m| {
                    let i = m.events[0];
                    self.with_result_vars(m, |cx| {
                        args.iter().all(|a| truthy(&cx.eval(a, i)) == Some(true))
                    })
                })
                .collect(),
            "unique" => {
                let mut seen = HashSet::new();
                let exprs: Vec<&Expr> = args.iter().collect();
                results
                    .into_iter()
                    .filter(|m| {
                        let key = self.with_result_vars(m, |cx| cx.keys(&exprs, m.events[0]));
                        seen.insert(key)
                    })
                    .collect()
            }
            "unique_count" => {
                let exprs: Vec<&Expr> = args.iter().collect();
                let total = results.len().max(1) as f64;
                let mut order: Vec<Vec<String>> = Vec::new();
                let mut groups: HashMap<Vec<String>, (EvalMatch, u64)> = HashMap::new();
                for m in results {
                    let key = self.keys(&exprs, m.events[0]);
                    groups
                        .entry(key.clone())
                        .and_modify(|g| g.1 += 1)
                        .or_insert_with(|| {
                            order.push(key);
                            (m, 1)
                        });
                }
                order
                    .into_iter()
                    .filter_map(|k| groups.remove(&k))
                    .map(|(mut m, c)| {
                        m.count = Some((c, c as f64 / total));
                        m
                    })
                    .collect()
            }
            "sort" => {
                let exprs: Vec<&Expr> = args.iter().collect();
                let mut keyed: Vec<(Vec<Json>, EvalMatch)> = results
                    .into_iter()
                    .map(|m| {
                        let i = m.events[0];
                        let k = self.with_result_vars(&m, |cx| {
                            exprs
                                .iter()
                                .map(|e| match cx.eval(e, i) {
                                    Json::String(s) if cx.fold() => Json::String(s.to_lowercase()),
                                    other => other,
                                })
                                .collect()
                        });
                        (k, m)
                    })
                    .collect();
                keyed.sort_by(|a, b| {
                    a.0.iter()
                        .zip(&b.0)
                        .map(|(x, y)| sort_cmp(x, y))
                        .find(|o| o.is_ne())
                        .unwrap_or(std::cmp::Ordering::Equal)
                });
                keyed.into_iter().map(|(_, m)| m).collect()
            }
            "count" => {
                let total = results.len() as u64;
                vec![EvalMatch {
                    events: Vec::new(),
                    count: Some((total, 1.0)),
                }]
            }
            _ => results,
        }
    }
}

/// Sort order: nulls first, then numbers, then strings, then the rest.
fn sort_cmp(a: &Json, b: &Json) -> std::cmp::Ordering {
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

fn arith(op: ArithOp, a: &Json, b: &Json) -> Json {
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

/// Builds a JSON object of dotted names (for callers whose events are flat).
pub fn flat_object(pairs: impl IntoIterator<Item = (String, Json)>) -> Json {
    Json::Object(pairs.into_iter().collect::<Map<String, Json>>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eql::parse_query;

    fn ids(src: &str, events: &[Json], ci: bool) -> Vec<usize> {
        let q = parse_query(src).expect("parses");
        let evs: Vec<EvalEvent> = events
            .iter()
            .map(|e| EvalEvent {
                fields: e.clone(),
                millis: e.get("t").and_then(Json::as_i64),
            })
            .collect();
        let options = EvalOptions {
            category_field: "cat".into(),
            case_insensitive: ci,
        };
        evaluate(&q, &evs, &options)
            .into_iter()
            .flat_map(|m| m.events)
            .collect()
    }

    #[test]
    fn arithmetic_keeps_float_literals() {
        let evs = vec![
            serde_json::json!({"cat": "p", "n": 82}),
            serde_json::json!({"cat": "p", "n": 83}),
        ];
        assert_eq!(ids("p where n / 2.0 == 41", &evs, false), vec![0]);
        assert_eq!(
            ids("p where divide(30, 4.0) == 7.5", &evs, false),
            vec![0, 1]
        );
        assert_eq!(ids("p where n / 2 == 41", &evs, false), vec![0, 1]);
    }
}
