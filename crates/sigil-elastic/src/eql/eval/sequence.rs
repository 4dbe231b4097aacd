//! Sequences, joins and samples: which step each event matches (decided as the event
//! arrives), then the state machines over the matching events in time order.
//!
//! Events arrive in input order, which is not time order (files are read one after
//! another, a JSON log may be unsorted). Only the events that match a step or `until`
//! are kept, with their time and join keys; [`Plan::run`] walks them sorted by time, so
//! a later step always follows an earlier one in time and the gap that `maxspan`
//! bounds is never negative. An event without a time cannot be placed: the evaluator
//! leaves it out and counts it.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::expr::Cx;
use super::{EvalMatch, KeptEvent};
use crate::eql::ast::{Expr, QueryBody, Step};

/// How the steps combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `sequence`: in step order, within `maxspan`.
    Ordered,
    /// `join` and `sample`: one event per step, in any order.
    Unordered,
}

/// The steps of a sequence, join or sample, borrowed from the query.
#[derive(Debug)]
pub(super) struct Plan<'q> {
    mode: Mode,
    /// Join keys shared by every step.
    by: &'q [Expr],
    /// `maxspan` in milliseconds.
    maxspan: Option<i64>,
    /// The steps as written.
    steps: &'q [Step],
    /// The steps with `runs=N` repeated: indices into `steps`.
    expanded: Vec<usize>,
    until: Option<&'q Step>,
}

/// What one kept event matched: each step (index into the written steps) with the
/// event's join key for it, and the key of `until` when the event ends sequences.
#[derive(Debug, Clone, Default)]
pub(super) struct StepHits {
    steps: Vec<(usize, Vec<String>)>,
    until: Option<Vec<String>>,
}

impl<'q> Plan<'q> {
    /// The plan of a multi-event query; `None` for an event query.
    pub(super) fn of(body: &'q QueryBody) -> Option<Self> {
        let (mode, by, maxspan, steps, until) = match body {
            QueryBody::Event(_) => return None,
            QueryBody::Sequence(s) => (
                Mode::Ordered,
                &s.by,
                s.maxspan
                    .as_ref()
                    .map(|m| i64::try_from(m.millis).unwrap_or(i64::MAX)),
                &s.steps,
                s.until.as_deref(),
            ),
            QueryBody::Join(s) => (Mode::Unordered, &s.by, None, &s.steps, s.until.as_deref()),
            QueryBody::Sample(s) => (Mode::Unordered, &s.by, None, &s.steps, None),
        };
        let expanded = match mode {
            Mode::Ordered => steps
                .iter()
                .enumerate()
                .flat_map(|(k, s)| std::iter::repeat_n(k, s.runs.unwrap_or(1).min(1024) as usize))
                .collect(),
            Mode::Unordered => (0..steps.len()).collect(),
        };
        Some(Self {
            mode,
            by,
            maxspan,
            steps,
            expanded,
            until,
        })
    }

    /// The steps `ev` matches, or `None` when it matches none (and is not kept).
    pub(super) fn hits(&self, cx: &mut Cx<'_>, ev: &Json) -> Option<StepHits> {
        let mut hits = StepHits::default();
        if let Some(until) = self.until
            && cx.event_matches(&until.query, ev)
        {
            hits.until = Some(self.key(cx, until, ev));
        }
        for (k, step) in self.steps.iter().enumerate() {
            if cx.event_matches(&step.query, ev) {
                hits.steps.push((k, self.key(cx, step, ev)));
            }
        }
        (hits.until.is_some() || !hits.steps.is_empty()).then_some(hits)
    }

    fn key(&self, cx: &mut Cx<'_>, step: &Step, ev: &Json) -> Vec<String> {
        let exprs: Vec<&Expr> = self.by.iter().chain(step.by.iter()).collect();
        cx.keys(&exprs, ev)
    }

    /// The matches over the kept events, visited in `order` (time order); `hits[i]` is
    /// what `events[i]` matched.
    pub(super) fn run(
        &self,
        order: &[usize],
        hits: &[StepHits],
        events: &[KeptEvent],
    ) -> Vec<EvalMatch> {
        match self.mode {
            Mode::Ordered => self.sequence(order, hits, events),
            Mode::Unordered => self.join(order, hits),
        }
    }

    /// Per join key, a pending sequence per step: an event matching step k advances the
    /// sequence waiting at step k-1 (steps are tried last to first, so one event never
    /// fills two steps of one sequence) when it lies within `maxspan` after the
    /// sequence's first event; `until` drops the pending sequences of its key.
    fn sequence(&self, order: &[usize], hits: &[StepHits], events: &[KeptEvent]) -> Vec<EvalMatch> {
        let n = self.expanded.len();
        // pending[k]: sequences whose last filled step is k, by join key.
        let mut pending: Vec<HashMap<&[String], Vec<usize>>> = vec![HashMap::new(); n];
        let mut out = Vec::new();
        for &i in order {
            let h = &hits[i];
            if let Some(key) = &h.until {
                for p in &mut pending {
                    p.remove(key.as_slice());
                }
            }
            for k in (0..n).rev() {
                let written = self.expanded[k];
                let step = &self.steps[written];
                if step.missing {
                    continue;
                }
                let Some((_, key)) = h.steps.iter().find(|(s, _)| *s == written) else {
                    continue;
                };
                let extended = if k == 0 {
                    Some(vec![i])
                } else {
                    let taken = if step.fork {
                        pending[k - 1].get(key.as_slice()).cloned()
                    } else {
                        pending[k - 1].remove(key.as_slice())
                    };
                    taken.and_then(|mut seq| {
                        self.within(&events[seq[0]], &events[i]).then(|| {
                            seq.push(i);
                            seq
                        })
                    })
                };
                let Some(seq) = extended else { continue };
                if k + 1 == n {
                    out.push(EvalMatch {
                        events: seq,
                        count: None,
                    });
                } else {
                    pending[k].insert(key.as_slice(), seq);
                }
            }
        }
        out
    }

    /// Whether `last` may follow `first` in one sequence: no earlier than it, and within
    /// `maxspan` of it. Kept events always have a time.
    fn within(&self, first: &KeptEvent, last: &KeptEvent) -> bool {
        let (Some(a), Some(b)) = (first.event.millis, last.event.millis) else {
            return false;
        };
        let gap = b.saturating_sub(a);
        gap >= 0 && self.maxspan.is_none_or(|span| gap <= span)
    }

    /// Per join key, the first unmatched event of each step; a match when every step
    /// has one, in step order.
    fn join(&self, order: &[usize], hits: &[StepHits]) -> Vec<EvalMatch> {
        let n = self.steps.len();
        let mut slots: HashMap<&[String], Vec<Option<usize>>> = HashMap::new();
        let mut out = Vec::new();
        for &i in order {
            let h = &hits[i];
            if let Some(key) = &h.until {
                slots.remove(key.as_slice());
            }
            for (k, key) in &h.steps {
                let entry = slots.entry(key.as_slice()).or_insert_with(|| vec![None; n]);
                if entry[*k].is_none() {
                    entry[*k] = Some(i);
                }
                if entry.iter().all(Option::is_some) {
                    let events = entry.iter().flatten().copied().collect();
                    slots.remove(key.as_slice());
                    out.push(EvalMatch {
                        events,
                        count: None,
                    });
                }
            }
        }
        out
    }
}
