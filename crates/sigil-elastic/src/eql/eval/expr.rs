//! The evaluation context: expressions over one event, field lookup, comparisons,
//! lineage state and join keys.

use std::collections::{HashMap, HashSet};

use serde_json::Value as Json;

use super::EvalOptions;
use super::value::{arith, from_f64, key_text, num, text, truthy, wildcard_match};
use crate::eql::ast::{
    CmpOp, EventQuery, Expr, ExprKind, Field, FieldPart, Literal, Query, QueryBody, Relation, Step,
    StrOp,
};

/// What evaluating one event needs besides the event: options, bound variables, the
/// lineage seen so far and compiled regexes.
#[derive(Debug)]
pub(super) struct Cx<'a> {
    pub(super) options: &'a EvalOptions,
    /// Bound variables (`arraySearch`) and pipe values (`count`), innermost last.
    pub(super) vars: Vec<(String, Json)>,
    /// For each lineage sub-query (by address), the process keys some event matched.
    pub(super) lineage: HashMap<usize, HashSet<String>>,
    /// `unique_pid` → `unique_ppid`.
    pub(super) parents: HashMap<String, String>,
    pub(super) regex_cache: HashMap<(String, bool), Option<regex::Regex>>,
}

pub(super) fn collect_lineage_query<'q>(q: &'q Query, out: &mut Vec<&'q EventQuery>) {
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

impl<'a> Cx<'a> {
    /// A context with nothing seen yet.
    pub(super) fn new(options: &'a EvalOptions) -> Self {
        Self {
            options,
            vars: Vec::new(),
            lineage: HashMap::new(),
            parents: HashMap::new(),
            regex_cache: HashMap::new(),
        }
    }

    pub(super) fn fold(&self) -> bool {
        self.options.case_insensitive
    }

    /// Updates the lineage state with event `ev` (before the query looks at it).
    pub(super) fn observe(&mut self, ev: &Json, nodes: &[&EventQuery]) {
        if nodes.is_empty() {
            return;
        }
        let fields = ev;
        let pid = fields.get("unique_pid").and_then(key_text);
        if let (Some(pid), Some(ppid)) = (&pid, fields.get("unique_ppid").and_then(key_text)) {
            self.parents.entry(pid.clone()).or_insert(ppid);
        }
        let Some(pid) = pid else { return };
        for &node in nodes {
            if self.event_matches(node, ev) {
                // The sub-query's address identifies it; the tree outlives the run.
                let key = std::ptr::from_ref(node) as usize;
                self.lineage.entry(key).or_default().insert(pid.clone());
            }
        }
    }

    pub(super) fn event_matches(&mut self, eq: &EventQuery, ev: &Json) -> bool {
        if let Some(cat) = &eq.category {
            let v = Self::lookup_path(ev, &self.options.category_field);
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
        truthy(&self.eval(&eq.expr, ev)) == Some(true)
    }

    pub(super) fn str_eq(&self, a: &str, b: &str, fold: bool) -> bool {
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

    fn field(&self, f: &Field, ev: &Json) -> Json {
        let mut parts = f.parts.as_slice();
        let mut cur: Json = match parts.first() {
            Some(FieldPart::Name(n)) => {
                if let Some((_, v)) = self.vars.iter().rev().find(|(name, _)| name == n) {
                    parts = &parts[1..];
                    v.clone()
                } else {
                    let root = ev;
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
    pub(super) fn eval(&mut self, e: &Expr, ev: &Json) -> Json {
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
            ExprKind::Field(f) => self.field(f, ev),
            ExprKind::Not(x) => match truthy(&self.eval(x, ev)) {
                Some(b) => Json::Bool(!b),
                None => Json::Null,
            },
            ExprKind::And(v) => {
                let mut unknown = false;
                for x in v {
                    match truthy(&self.eval(x, ev)) {
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
                    match truthy(&self.eval(x, ev)) {
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
                let (a, b) = (self.eval(lhs, ev), self.eval(rhs, ev));
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
                let v = self.eval(expr, ev);
                if v.is_null() {
                    return Json::Null;
                }
                let fold = *insensitive || self.fold();
                let mut found = false;
                for x in values {
                    let w = self.eval(x, ev);
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
                let v = self.eval(expr, ev);
                let pats: Vec<Json> = values.iter().map(|x| self.eval(x, ev)).collect();
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
            } => self.call(name, *insensitive, args, ev),
            ExprKind::Arith { op, lhs, rhs } => {
                let (a, b) = (self.eval(lhs, ev), self.eval(rhs, ev));
                arith(*op, &a, &b)
            }
            ExprKind::Neg(x) => match num(&self.eval(x, ev)) {
                Some(f) => from_f64(-f),
                None => Json::Null,
            },
            ExprKind::Lineage { relation, query } => {
                let key = std::ptr::from_ref(query.as_ref()) as usize;
                let fields = ev;
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

    pub(super) fn regex_match(&mut self, pattern: &str, value: &str, fold: bool) -> bool {
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

    pub(super) fn equal(&self, a: &Json, b: &Json, fold: bool) -> bool {
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

    pub(super) fn compare(&self, op: CmpOp, a: &Json, b: &Json) -> Json {
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

    /// The text of each of `exprs` on `ev`, for join keys and `unique`.
    pub(super) fn keys(&mut self, exprs: &[&Expr], ev: &Json) -> Vec<String> {
        let mut out = Vec::with_capacity(exprs.len());
        for e in exprs {
            let v = self.eval(e, ev);
            let t = match &v {
                Json::Null => "\u{0}null".to_string(),
                Json::String(s) if self.fold() => s.to_lowercase(),
                other => text(other),
            };
            out.push(t);
        }
        out
    }
}
