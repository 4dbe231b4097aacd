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
//!   event never fills two steps of one sequence), when it is no earlier than the
//!   sequence's first event and within `maxspan` of it; `until` drops the pending
//!   sequences of its key.
//! - `join` and `sample`: per key, the first unmatched event of each step; output when
//!   all steps have one, in step order.
//! - Lineage (`child of`, `descendant of`, `event of`) follows `unique_pid` /
//!   `unique_ppid`, in the order events arrive.
//! - Pipes: `head`, `tail`, `filter`, `unique`, `unique_count` (binds `count` and
//!   `percent`), `sort`, `count`.
//!
//! Events stream through an [`Evaluator`] in any order; what a query matches does not
//! depend on that order. Only the events a result may need are kept: the matches of an
//! event query, and for a sequence, join or sample the events that match one of its
//! steps. Results come in time order (a sequence's events too); an event that matches a
//! step but has no time cannot be placed in a sequence, so it is left out and counted
//! ([`Evaluation::untimed`]), never matched out of order. Memory thus grows with what
//! the query matches, never with the input.

mod expr;
mod functions;
mod pipes;
mod sequence;
mod value;

use serde_json::{Map, Value as Json};

use self::expr::{Cx, collect_lineage_query};
use self::sequence::{Plan, StepHits};
use super::ast::{EventQuery, Query, QueryBody};

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

/// An event to evaluate: its fields and its time in milliseconds (for ordering and
/// `maxspan`).
#[derive(Debug, Clone)]
pub struct EvalEvent {
    /// The fields.
    pub fields: Json,
    /// Milliseconds since any fixed origin; `None` when the event has no usable time.
    pub millis: Option<i64>,
}

/// One result: the events of a match (indices into [`Evaluation::events`], or into the
/// input for [`evaluate`]), in order; one for an event query, one per step for a
/// sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalMatch {
    /// Event indices.
    pub events: Vec<usize>,
    /// `count` and `percent` of `unique_count`, or the total of `count`.
    pub count: Option<(u64, f64)>,
}

/// An event the evaluator kept: a match of an event query, or an event that matched a
/// step of a sequence, join or sample.
#[derive(Debug, Clone)]
pub struct KeptEvent {
    /// Its position in the input (0 for the first event pushed).
    pub ordinal: usize,
    /// The event.
    pub event: EvalEvent,
}

/// The outcome of an evaluation.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The matches after the pipes, in time order unless a pipe reordered them.
    pub matches: Vec<EvalMatch>,
    /// The kept events the matches refer to.
    pub events: Vec<KeptEvent>,
    /// Events that matched a step of a sequence, join or sample but had no time, so
    /// could not take part.
    pub untimed: usize,
}

/// Evaluates one query over events pushed one at a time, in any order.
#[derive(Debug)]
pub struct Evaluator<'q> {
    query: &'q Query,
    cx: Cx<'q>,
    /// Lineage sub-queries, innermost first.
    lineage: Vec<&'q EventQuery>,
    /// The steps of a multi-event query; `None` for an event query.
    plan: Option<Plan<'q>>,
    kept: Vec<KeptEvent>,
    /// For a multi-event query, what `kept[i]` matched.
    hits: Vec<StepHits>,
    pushed: usize,
    untimed: usize,
}

impl<'q> Evaluator<'q> {
    /// An evaluator of `query`.
    pub fn new(query: &'q Query, options: &'q EvalOptions) -> Self {
        let mut lineage = Vec::new();
        collect_lineage_query(query, &mut lineage);
        Self {
            query,
            cx: Cx::new(options),
            lineage,
            plan: Plan::of(&query.body),
            kept: Vec::new(),
            hits: Vec::new(),
            pushed: 0,
            untimed: 0,
        }
    }

    /// Evaluates one event, keeping it when a result may need it.
    pub fn push(&mut self, event: EvalEvent) {
        let ordinal = self.pushed;
        self.pushed += 1;
        self.cx.observe(&event.fields, &self.lineage);
        match (&self.plan, &self.query.body) {
            (Some(plan), _) => {
                let Some(hits) = plan.hits(&mut self.cx, &event.fields) else {
                    return;
                };
                if event.millis.is_none() {
                    self.untimed += 1;
                    return;
                }
                self.hits.push(hits);
            }
            (None, QueryBody::Event(eq)) => {
                if !self.cx.event_matches(eq, &event.fields) {
                    return;
                }
            }
            (None, _) => return,
        }
        self.kept.push(KeptEvent { ordinal, event });
    }

    /// The results: the state machines run over the kept events in time order, then the
    /// pipes.
    pub fn finish(mut self) -> Evaluation {
        // Stable: events of the same time keep the order they came in; an event query's
        // matches without a time come last.
        let mut order: Vec<usize> = (0..self.kept.len()).collect();
        order.sort_by_key(|&i| {
            let t = self.kept[i].event.millis;
            (t.is_none(), t)
        });
        let mut results = match &self.plan {
            Some(plan) => plan.run(&order, &self.hits, &self.kept),
            None => order
                .into_iter()
                .map(|i| EvalMatch {
                    events: vec![i],
                    count: None,
                })
                .collect(),
        };
        for pipe in &self.query.pipes {
            results = self.cx.pipe(&pipe.name, &pipe.args, results, &self.kept);
        }
        Evaluation {
            matches: results,
            events: self.kept,
            untimed: self.untimed,
        }
    }
}

/// Runs `query` over `events` and returns the matches after the pipes; the indices of
/// a match are positions in `events`.
pub fn evaluate(query: &Query, events: &[EvalEvent], options: &EvalOptions) -> Vec<EvalMatch> {
    let mut evaluator = Evaluator::new(query, options);
    for e in events {
        evaluator.push(e.clone());
    }
    let Evaluation {
        mut matches,
        events: kept,
        ..
    } = evaluator.finish();
    for m in &mut matches {
        for i in &mut m.events {
            *i = kept[*i].ordinal;
        }
    }
    matches
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

    fn proc(name: &str, t: Option<i64>) -> Json {
        match t {
            Some(t) => serde_json::json!({"cat": "process", "host": "h", "name": name, "t": t}),
            None => serde_json::json!({"cat": "process", "host": "h", "name": name}),
        }
    }

    const CMD_THEN_WHOAMI: &str = "sequence by host with maxspan=1m \
        [process where name == \"cmd.exe\"] [process where name == \"whoami.exe\"]";

    #[test]
    fn sequences_follow_time_not_input_order() {
        // A cmd.exe read first but nine days after the whoami.exe: no sequence (the gap
        // is negative, whatever maxspan says).
        let nine_days = 9 * 86_400_000;
        let late_cmd = [
            proc("cmd.exe", Some(nine_days)),
            proc("whoami.exe", Some(0)),
        ];
        assert_eq!(ids(CMD_THEN_WHOAMI, &late_cmd, false), Vec::<usize>::new());
        // The same pair in time order but read backwards is a sequence, cmd.exe first.
        let backwards = [proc("whoami.exe", Some(30_000)), proc("cmd.exe", Some(0))];
        assert_eq!(ids(CMD_THEN_WHOAMI, &backwards, false), vec![1, 0]);
        // Outside maxspan: none.
        let far = [proc("whoami.exe", Some(61_000)), proc("cmd.exe", Some(0))];
        assert_eq!(ids(CMD_THEN_WHOAMI, &far, false), Vec::<usize>::new());
    }

    #[test]
    fn untimed_step_events_are_counted_and_left_out() {
        let q = parse_query(CMD_THEN_WHOAMI).expect("parses");
        let options = EvalOptions {
            category_field: "cat".into(),
            case_insensitive: false,
        };
        let mut ev = Evaluator::new(&q, &options);
        for e in [
            proc("cmd.exe", None),
            proc("explorer.exe", None),
            proc("whoami.exe", Some(5)),
            proc("cmd.exe", Some(10)),
            proc("whoami.exe", None),
        ] {
            ev.push(EvalEvent {
                millis: e.get("t").and_then(Json::as_i64),
                fields: e,
            });
        }
        let out = ev.finish();
        // Two step events had no time; explorer.exe matched no step and is not counted.
        assert_eq!(out.untimed, 2);
        assert!(out.matches.is_empty());
        // Only step events with a time are kept.
        let kept: Vec<usize> = out.events.iter().map(|k| k.ordinal).collect();
        assert_eq!(kept, vec![2, 3]);
    }

    #[test]
    fn event_query_results_come_in_time_order() {
        let evs = [
            proc("a", Some(30)),
            proc("b", None),
            proc("c", Some(10)),
            proc("d", Some(20)),
        ];
        assert_eq!(ids("process where true", &evs, false), vec![2, 3, 0, 1]);
        assert_eq!(ids("process where true | head 2", &evs, false), vec![2, 3]);
    }
}
