//! Correlation rules: counts, distinct values, sequences and metrics of base-rule hits
//! per group within a time window.
//!
//! Events reach the engine in file order, and files are read in any order (in
//! parallel, even), so hits are not in time order. The engine therefore buffers the
//! hits of the rules correlations refer to (a few owned fields each, never the event),
//! and evaluates correlations at the end ([`crate::Engine::finish`]): hits are sorted by
//! time within each group, and a window slides over them. The condition is tested at
//! every hit over the hits of the preceding time span; when it holds, one detection is
//! emitted for that window and the window starts afresh after it, so one burst gives one
//! detection rather than one per hit. Hits without a readable timestamp cannot be placed
//! in a window and are counted in [`CorrelationHits::untimed`].

use std::sync::Arc;

use sigil_core::{CorrelationCondition, CorrelationKind, Op};

use crate::sink::{Detection, EventSummary, Matched, RuleInfo, Sink};
use crate::time::Micros;

/// A correlation compiled against the loaded rules.
#[derive(Debug)]
pub(crate) struct CompiledCorrelation {
    /// The correlation rule itself.
    pub(crate) info: Arc<RuleInfo>,
    pub(crate) kind: CorrelationKind,
    /// Compiled indices of the base rules, in the order written.
    pub(crate) bases: Vec<u32>,
    /// Group-by field names per base rule (aliases resolved): `group_fields[b][g]`.
    pub(crate) group_fields: Vec<Vec<String>>,
    /// Names of the `group-by` entries, as written.
    pub(crate) group_names: Vec<String>,
    /// The aggregated field per base rule (value_* and value_count).
    pub(crate) value_fields: Vec<Option<String>>,
    pub(crate) timespan: Micros,
    pub(crate) condition: Option<CorrelationCondition>,
}

/// One hit of a base rule, as buffered for a correlation.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub(crate) key: WindowKey,
    pub(crate) hit: WindowHit,
}

/// The window a hit belongs to: a correlation and a group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WindowKey {
    /// The correlation, by its position among the engine's correlations.
    pub correlation: u32,
    /// The values of its `group-by` fields (`None` when absent).
    pub group: Vec<Option<String>>,
}

/// A base-rule hit as a correlation window keeps it: a few owned fields, never the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowHit {
    /// Position of the base rule in the correlation's list.
    pub base: u32,
    /// The event's time.
    pub time: Micros,
    /// The aggregated field's value (value_count, value_sum, ...).
    pub value: Option<String>,
    /// The event's identifying fields.
    pub summary: EventSummary,
    /// The log the event came from.
    pub source: Option<Arc<str>>,
}

/// The base-rule hits buffered by one or more scans, waiting for
/// [`crate::Engine::finish`].
#[derive(Debug, Default)]
pub struct CorrelationHits {
    pub(crate) hits: Vec<Hit>,
    /// Hits dropped because their event had no readable timestamp.
    pub untimed: usize,
}

impl CorrelationHits {
    /// Adds the hits of another scan.
    pub fn merge(&mut self, other: CorrelationHits) {
        self.hits.extend(other.hits);
        self.untimed += other.untimed;
    }

    /// The number of buffered hits.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether no hit is buffered.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// Takes the buffered hits, each with its window, in the order they were recorded
    /// (live detection hands them one by one to [`crate::Engine::advance_window`]).
    pub fn drain_windows(&mut self) -> impl Iterator<Item = (WindowKey, WindowHit)> + '_ {
        self.hits.drain(..).map(|h| (h.key, h.hit))
    }
}

/// An event that took part in a correlation.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelatedEvent {
    /// The base rule that matched it.
    pub rule: Arc<RuleInfo>,
    /// Its identifying fields.
    pub summary: EventSummary,
    /// The log it came from.
    pub source: Option<Arc<str>>,
}

/// What a correlation rule matched.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationMatch {
    /// The kind of correlation.
    pub kind: CorrelationKind,
    /// The group: each `group-by` name with its value (`None` when absent).
    pub group: Vec<(String, Option<String>)>,
    /// Time of the first event of the window (µs since the Unix epoch).
    pub first: Micros,
    /// Time of the last event of the window.
    pub last: Micros,
    /// The measured value: the count, the number of distinct values or rules, or the
    /// metric.
    pub value: f64,
    /// The events of the window, in time order.
    pub events: Vec<CorrelatedEvent>,
}

/// Evaluates the correlations over the buffered hits and emits their detections.
pub(crate) fn evaluate(
    correlations: &[CompiledCorrelation],
    base_infos: &[Arc<RuleInfo>],
    mut hits: Vec<Hit>,
    sink: &mut dyn Sink,
) {
    // Group runs by (correlation, group), time order inside; stable, so ties keep input order.
    hits.sort_by(|a, b| (&a.key, a.hit.time).cmp(&(&b.key, b.hit.time)));
    let mut hits = hits.into_iter().peekable();
    while let Some(first) = hits.next() {
        let key = first.key;
        let mut group = vec![first.hit];
        while let Some(next) = hits.next_if(|h| h.key == key) {
            group.push(next.hit);
        }
        let c = &correlations[key.correlation as usize];
        let info = |rule: u32| Arc::clone(&base_infos[rule as usize]);
        let mut window = Vec::new();
        for hit in group {
            advance(c, &info, &key.group, &mut window, hit, sink);
        }
    }
}

/// Adds `hit` to the open `window` of one group (kept in time order), drops the hits that
/// fell out of the timespan before the latest, and when the condition holds emits one
/// detection for the window and empties it, so the next window starts after it. Returns
/// whether it fired.
pub(crate) fn advance(
    c: &CompiledCorrelation,
    info: &dyn Fn(u32) -> Arc<RuleInfo>,
    group: &[Option<String>],
    window: &mut Vec<WindowHit>,
    hit: WindowHit,
    sink: &mut dyn Sink,
) -> bool {
    // After every hit of equal or earlier time: ties keep arrival order.
    let at = window.partition_point(|h| h.time <= hit.time);
    window.insert(at, hit);
    let Some(last) = window.last().map(|h| h.time) else {
        return false;
    };
    let stale = window
        .iter()
        .take_while(|h| last - h.time > c.timespan)
        .count();
    window.drain(..stale);
    let Some(value) = measure(c, window) else {
        return false;
    };
    let m = CorrelationMatch {
        kind: c.kind,
        group: c
            .group_names
            .iter()
            .cloned()
            .zip(group.iter().cloned())
            .collect(),
        first: window[0].time,
        last,
        value,
        events: window
            .iter()
            .map(|h| CorrelatedEvent {
                rule: info(c.bases[h.base as usize]),
                summary: h.summary.clone(),
                source: h.source.clone(),
            })
            .collect(),
    };
    let source = window.last().and_then(|h| h.source.clone());
    sink.detection(&Detection {
        rule: &c.info,
        source: source.as_deref(),
        matched: Matched::Correlation(&m),
    });
    window.clear();
    true
}

/// The measured value of a window when the correlation's condition holds on it.
fn measure(c: &CompiledCorrelation, window: &[WindowHit]) -> Option<f64> {
    let holds = |v: f64| match &c.condition {
        Some(cond) if !cond.comparisons.is_empty() => cond.holds(v),
        _ => v >= 1.0,
    };
    match c.kind {
        CorrelationKind::EventCount => {
            let n = window.len() as f64;
            holds(n).then_some(n)
        }
        CorrelationKind::ValueCount => {
            let mut seen: Vec<&str> = window.iter().filter_map(|h| h.value.as_deref()).collect();
            seen.sort_unstable();
            seen.dedup();
            let n = seen.len() as f64;
            holds(n).then_some(n)
        }
        CorrelationKind::Temporal => {
            let mut seen = vec![false; c.bases.len()];
            for h in window {
                seen[h.base as usize] = true;
            }
            let n = seen.iter().filter(|&&s| s).count() as f64;
            let ok = match &c.condition {
                Some(cond) if !cond.comparisons.is_empty() => cond.holds(n),
                _ => n as usize == c.bases.len(),
            };
            ok.then_some(n)
        }
        CorrelationKind::TemporalOrdered => {
            // Greedy earliest matching decides whether the rules occur as a subsequence.
            let mut next = 0;
            for h in window {
                if next < c.bases.len() && h.base as usize == next {
                    next += 1;
                }
            }
            let ok = match &c.condition {
                Some(cond) if !cond.comparisons.is_empty() => cond.holds(next as f64),
                _ => next == c.bases.len(),
            };
            ok.then_some(next as f64)
        }
        CorrelationKind::ValueSum
        | CorrelationKind::ValueAvg
        | CorrelationKind::ValueMedian
        | CorrelationKind::ValuePercentile => {
            let mut values: Vec<f64> = window
                .iter()
                .filter_map(|h| h.value.as_deref()?.trim().parse().ok())
                .collect();
            if values.is_empty() {
                return None;
            }
            let n = values.len() as f64;
            let v = match c.kind {
                CorrelationKind::ValueSum => values.iter().sum(),
                CorrelationKind::ValueAvg => values.iter().sum::<f64>() / n,
                _ => {
                    values.sort_by(f64::total_cmp);
                    let rank = if c.kind == CorrelationKind::ValueMedian {
                        50.0
                    } else {
                        c.condition
                            .as_ref()
                            .and_then(|x| x.percentile)
                            .unwrap_or(50.0)
                    };
                    percentile(&values, rank)
                }
            };
            holds(v).then_some(v)
        }
    }
}

/// Nearest-rank percentile of sorted values; the median of an even count averages the
/// two middle values.
fn percentile(sorted: &[f64], rank: f64) -> f64 {
    let n = sorted.len();
    if (rank - 50.0).abs() < f64::EPSILON && n.is_multiple_of(2) {
        return f64::midpoint(sorted[n / 2 - 1], sorted[n / 2]);
    }
    let idx = ((rank / 100.0) * n as f64).ceil() as usize;
    sorted[idx.clamp(1, n) - 1]
}

/// Whether a comparison list uses only operators the correlation condition knows.
pub(crate) fn valid_condition(c: &CorrelationCondition) -> bool {
    c.comparisons
        .iter()
        .all(|(op, _)| matches!(op, Op::Lt | Op::Lte | Op::Gt | Op::Gte | Op::Equals))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        assert!((percentile(&[1.0, 2.0, 3.0, 4.0], 50.0) - 2.5).abs() < 1e-9);
        assert!((percentile(&[1.0, 2.0, 3.0], 50.0) - 2.0).abs() < 1e-9);
        assert!(
            (percentile(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 90.0) - 9.0).abs()
                < 1e-9
        );
    }
}
