//! Pipes: `head`, `tail`, `filter`, `unique`, `unique_count`, `sort` and `count` over
//! the results of a query.

use std::collections::{HashMap, HashSet};

use serde_json::Value as Json;

use super::expr::Cx;
use super::value::{from_f64, sort_cmp, truthy};
use super::{EvalMatch, KeptEvent};
use crate::eql::ast::{Expr, ExprKind, Literal};

/// The event a pipe evaluates its arguments on: the first of the match (none for the
/// result of `count`).
fn first<'e>(m: &EvalMatch, events: &'e [KeptEvent]) -> &'e Json {
    static NONE: Json = Json::Null;
    m.events
        .first()
        .and_then(|&i| events.get(i))
        .map_or(&NONE, |k| &k.event.fields)
}

impl Cx<'_> {
    /// Runs `f` with the values a pipe may name bound: `count` and `percent` of
    /// `unique_count`, and `events` (the events of a sequence) for multi-event matches.
    fn with_result_vars<T>(
        &mut self,
        m: &EvalMatch,
        events: &[KeptEvent],
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let before = self.vars.len();
        if let Some((count, percent)) = m.count {
            self.vars.push(("count".to_string(), Json::from(count)));
            self.vars.push(("percent".to_string(), from_f64(percent)));
        }
        if m.events.len() > 1 {
            let events = m
                .events
                .iter()
                .filter_map(|&i| events.get(i))
                .map(|k| k.event.fields.clone())
                .collect();
            self.vars.push(("events".to_string(), Json::Array(events)));
        }
        let r = f(self);
        self.vars.truncate(before);
        r
    }

    /// Applies the pipe `name` to `results`, whose indices point into `events`.
    pub(super) fn pipe(
        &mut self,
        name: &str,
        args: &[Expr],
        results: Vec<EvalMatch>,
        events: &[KeptEvent],
    ) -> Vec<EvalMatch> {
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
                    let ev = first(m, events);
                    self.with_result_vars(m, events, |cx| {
                        args.iter().all(|a| truthy(&cx.eval(a, ev)) == Some(true))
                    })
                })
                .collect(),
            "unique" => {
                let mut seen = HashSet::new();
                let exprs: Vec<&Expr> = args.iter().collect();
                results
                    .into_iter()
                    .filter(|m| {
                        let ev = first(m, events);
                        let key = self.with_result_vars(m, events, |cx| cx.keys(&exprs, ev));
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
                    let key = self.keys(&exprs, first(&m, events));
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
                        let ev = first(&m, events);
                        let k = self.with_result_vars(&m, events, |cx| {
                            exprs
                                .iter()
                                .map(|e| match cx.eval(e, ev) {
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
