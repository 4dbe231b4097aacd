//! Counters of a watch, served as Prometheus text at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a watch counts. Shared between the inputs, the evaluator and the metrics server.
#[derive(Debug, Default)]
pub struct Metrics {
    inputs: Vec<InputCounters>,
    detections: Mutex<BTreeMap<(String, String), u64>>,
    /// Batches waiting in the queue to the evaluator.
    pub queued: AtomicU64,
    /// Capacity of that queue, in batches.
    pub queue_capacity: AtomicU64,
    /// Microseconds between the last batch's arrival and its detections being written.
    pub lag_micros: AtomicU64,
    /// Rule sets loaded again.
    pub reloads: AtomicU64,
    /// Reloads that failed (the old rules stayed).
    pub reload_failures: AtomicU64,
    /// Open correlation windows.
    pub open_windows: AtomicU64,
    /// Outputs' failed attempts (each retried).
    pub output_retries: AtomicU64,
    /// Acknowledgements upstream (JetStream acks) sent but not yet confirmed: a stopping
    /// watch waits for them.
    pub pending_acks: AtomicU64,
}

#[derive(Debug, Default)]
struct InputCounters {
    name: String,
    events: AtomicU64,
    bad: AtomicU64,
}

impl Metrics {
    /// Counters for inputs of these names.
    pub fn new(inputs: &[String]) -> Self {
        Self {
            inputs: inputs
                .iter()
                .map(|name| InputCounters {
                    name: name.clone(),
                    ..InputCounters::default()
                })
                .collect(),
            ..Self::default()
        }
    }

    /// Counts events read from input `i`.
    pub fn events_in(&self, i: usize, n: u64) {
        if let Some(c) = self.inputs.get(i) {
            c.events.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Counts records of input `i` that were not events.
    pub fn bad_in(&self, i: usize, n: u64) {
        if let Some(c) = self.inputs.get(i) {
            c.bad.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Counts detections of a rule at a level.
    pub fn detections_out(&self, counts: impl IntoIterator<Item = ((String, String), u64)>) {
        let Ok(mut map) = self.detections.lock() else {
            return;
        };
        for (key, n) in counts {
            *map.entry(key).or_default() += n;
        }
    }

    /// Events read in all, and records that were not events.
    pub fn totals(&self) -> (u64, u64) {
        self.inputs.iter().fold((0, 0), |(e, b), c| {
            (
                e + c.events.load(Ordering::Relaxed),
                b + c.bad.load(Ordering::Relaxed),
            )
        })
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let label = |s: &str| {
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        };
        let _ = writeln!(
            out,
            "# HELP sigil_watch_events_total Events read, per input.\n# TYPE sigil_watch_events_total counter"
        );
        for c in &self.inputs {
            let _ = writeln!(
                out,
                "sigil_watch_events_total{{input=\"{}\"}} {}",
                label(&c.name),
                c.events.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP sigil_watch_bad_records_total Records that were not events (counted and skipped), per input.\n# TYPE sigil_watch_bad_records_total counter"
        );
        for c in &self.inputs {
            let _ = writeln!(
                out,
                "sigil_watch_bad_records_total{{input=\"{}\"}} {}",
                label(&c.name),
                c.bad.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP sigil_watch_detections_total Detections written, per rule and level.\n# TYPE sigil_watch_detections_total counter"
        );
        if let Ok(map) = self.detections.lock() {
            for ((level, rule), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "sigil_watch_detections_total{{level=\"{}\",rule=\"{}\"}} {n}",
                    label(level),
                    label(rule)
                );
            }
        }
        let gauges = [
            (
                "sigil_watch_queue_depth",
                "Batches waiting for the evaluator.",
                "gauge",
                &self.queued,
            ),
            (
                "sigil_watch_queue_capacity",
                "Batches the queue to the evaluator holds.",
                "gauge",
                &self.queue_capacity,
            ),
            (
                "sigil_watch_open_windows",
                "Open correlation windows.",
                "gauge",
                &self.open_windows,
            ),
            (
                "sigil_watch_reloads_total",
                "Rule sets loaded again.",
                "counter",
                &self.reloads,
            ),
            (
                "sigil_watch_reload_failures_total",
                "Reloads that failed; the previous rules stayed.",
                "counter",
                &self.reload_failures,
            ),
            (
                "sigil_watch_output_retries_total",
                "Failed output attempts, each retried.",
                "counter",
                &self.output_retries,
            ),
        ];
        for (name, help, kind, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP sigil_watch_lag_seconds Time from a batch's arrival to its detections written, for the last batch.\n# TYPE sigil_watch_lag_seconds gauge\nsigil_watch_lag_seconds {}",
            self.lag_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        out
    }
}
