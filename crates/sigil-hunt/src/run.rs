//! A hunt over logs: every part read in parallel, every event through the engine, the
//! findings handed on in input order, correlations at the end.

use std::sync::Arc;

use sigil_core::Level;
use sigil_engine::{CorrelationHits, Detection, Scan};
use sigil_logs::{FileStats, FlatEvent, Input, InputKind};

use crate::filter::EventFilter;
use crate::finding::Finding;
use crate::logs::Logs;
use crate::prepare::{Hunter, SkipKind, SkippedRule};

/// EVTX files are read in parts of this many 64 KiB chunks.
pub use sigil_logs::DEFAULT_CHUNKS_PER_PART;

/// How to run a hunt.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Report only detections of rules at this level or above.
    pub min_level: Option<Level>,
    /// Only events of this time window and these computers.
    pub filter: EventFilter,
}

/// What a hunt did, for its summary.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// Inputs read.
    pub files: usize,
    /// Events read, records and chunks skipped, read errors inside files.
    pub stats: FileStats,
    /// Paths found that could not be read as logs, then errors inside files, as messages.
    pub read_errors: Vec<String>,
    /// Findings handed on.
    pub findings: usize,
    /// Matches left out of correlations for want of a readable timestamp.
    pub untimed: usize,
    /// Rules whose regular expression failed to build when first needed (they matched
    /// nothing).
    pub failed_rules: Vec<SkippedRule>,
    /// Rules no event read was for (their logsource names other logs).
    pub not_for_logs: Vec<SkippedRule>,
    /// JSON events of unknown log source (neither a Windows event nor under a declared
    /// logsource): every compiled rule was evaluated against them.
    pub unknown_events: u64,
}

/// What one part gives the ordered side.
struct PartResult {
    hits: CorrelationHits,
    found: Vec<Finding>,
    unknown: u64,
}

/// A per-event filter: whether a detection is reported.
fn level_ok(level: Option<Level>, min: Option<Level>) -> bool {
    match min {
        None => true,
        Some(min) => level.is_some_and(|l| l >= min),
    }
}

impl Hunter {
    /// Hunts in `inputs` on the current rayon pool. `sink` receives every finding in
    /// input order (correlations last) and `progress` is called once per part read. A
    /// sink error stops the run and is returned.
    pub fn run(
        &self,
        inputs: &[Input],
        options: &RunOptions,
        progress: &(dyn Fn() + Sync),
        sink: &mut (dyn FnMut(&Finding) -> std::io::Result<()> + Send),
    ) -> std::io::Result<RunSummary> {
        self.hunt(&Logs::of(inputs.to_vec()), options, progress, sink)
    }

    /// [`Hunter::run`] over logs found with [`Logs::find`].
    pub fn hunt(
        &self,
        logs: &Logs,
        options: &RunOptions,
        progress: &(dyn Fn() + Sync),
        sink: &mut (dyn FnMut(&Finding) -> std::io::Result<()> + Send),
    ) -> std::io::Result<RunSummary> {
        let engine = &self.engine;
        let fields = &engine.options().summary_fields;
        let min_level = options.min_level;
        let is_reported = |d: &Detection<'_>| self.reports(d.rule, min_level);
        let mut summary = RunSummary::default();
        let mut hits = CorrelationHits::default();
        let masks = &self.masks;
        let read = logs.read(
            &options.filter,
            progress,
            || engine.scan(),
            |scan, events, part| {
                scan.set_source(Some(Arc::from(part.input.path.to_string_lossy().as_ref())));
                let evtx = part.input.kind == InputKind::Evtx;
                let mut found = Vec::new();
                let mut unknown = 0;
                events.each_event(part, &mut |event| {
                    if self.evaluate(scan, event, evtx, min_level, &mut found) {
                        unknown += 1;
                    }
                });
                PartResult {
                    hits: scan.take_hits(),
                    found,
                    unknown,
                }
            },
            |part: PartResult| {
                hits.merge(part.hits);
                summary.unknown_events += part.unknown;
                for f in &part.found {
                    summary.findings += 1;
                    sink(f)?;
                }
                Ok::<(), std::io::Error>(())
            },
        )?;
        summary.files = read.files;
        summary.stats = read.stats;
        summary.read_errors = read.read_errors;
        summary.untimed = hits.untimed;
        let mut correlated = Vec::new();
        engine.finish(hits, &mut |d: &Detection<'_>| {
            if is_reported(d) {
                correlated.push(Finding::of(d, fields, &mut None));
            }
        });
        for f in &correlated {
            summary.findings += 1;
            sink(f)?;
        }
        // Regular expressions are built when first needed: one too large to build is only
        // known now, and its rule matched nothing.
        summary.failed_rules = engine
            .failed_while_matching()
            .into_iter()
            .map(|s| SkippedRule {
                kind: SkipKind::Engine,
                who: self.who(s.index, &s.title),
                reason: s.error.to_string(),
                written_for: None,
            })
            .collect();
        if summary.unknown_events == 0 {
            summary.not_for_logs.clone_from(&masks.unknown_only);
        }
        Ok(summary)
    }

    /// Evaluates one event with the rules that are for it (EVTX: Windows rules; JSON: the
    /// declared logsource's, Windows rules for raw Windows events, every rule otherwise),
    /// through the ECS view when Elastic rules are loaded, and adds the findings of the
    /// rules reported at `min_level` or above to `found`. Correlation hits stay in the
    /// scan. Returns whether the event was of unknown source.
    pub(crate) fn evaluate(
        &self,
        scan: &mut Scan<'_>,
        event: &FlatEvent,
        evtx: bool,
        min_level: Option<Level>,
        found: &mut Vec<Finding>,
    ) -> bool {
        let fields = &self.engine.options().summary_fields;
        let reported = self.reported.as_deref();
        let mut unknown = false;
        let allowed = if evtx {
            self.masks.windows.as_deref()
        } else if self.declared {
            self.masks.declared.as_deref()
        } else if sigil_pipeline::ecs::EcsMapping::is_raw_windows(event) {
            self.masks.windows.as_deref()
        } else {
            unknown = true;
            None
        };
        // The event's JSON, written once however many rules it matches.
        let mut json: Option<Arc<str>> = None;
        let mut on_detection = |d: &Detection<'_>| {
            if level_ok(d.rule.level, min_level) && reported.is_none_or(|r| r[d.rule.index]) {
                let mut f = Finding::of(d, fields, &mut json);
                let rule_fields = self.rules.get(d.rule.index).map(|r| &r.fields[..]);
                f.details = self.details.render(event, rule_fields.unwrap_or_default());
                found.push(f);
            }
        };
        match self.ecs {
            Some(m) => scan.event_within(&m.view(event), allowed, &mut on_detection),
            None => scan.event_within(event, allowed, &mut on_detection),
        };
        unknown
    }

    /// Whether a hunt at `min_level` reports the detections of `rule`.
    pub(crate) fn reports(&self, rule: &sigil_engine::RuleInfo, min_level: Option<Level>) -> bool {
        level_ok(rule.level, min_level) && self.reported.as_deref().is_none_or(|r| r[rule.index])
    }

    /// `path: title` of a compiled rule.
    fn who(&self, compiled: usize, title: &str) -> String {
        self.origin(compiled).map_or_else(
            || title.to_string(),
            |lr| format!("{}: {title}", lr.path.display()),
        )
    }
}
