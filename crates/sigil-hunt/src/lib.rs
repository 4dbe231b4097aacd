//! The hunting API: rules through pipelines into one compiled engine, logs read in
//! parallel, detections handed on in input order.
//!
//! `sigil hunt` is one caller; `export`, `search`, `watch` and the server are others, so
//! the orchestration lives here rather than in the binary:
//!
//! 1. [`Hunter::load`] reads rule files (`sigil-load`), leaves out the rules that cannot
//!    be hunted with — broken, disabled, not for the logs at hand, rejected by the
//!    pipelines — each with its reason ([`Hunter::skipped`]), runs the others through the
//!    pipelines (`sigil-pipeline`) and compiles them once (`sigil-engine`).
//! 2. [`Logs::find`] finds the logs under the paths a command was given (`sigil-logs`),
//!    split into parts; [`Logs::read`] reads them in parallel through the time window and
//!    computer filter, results in input order, and counts what was read, skipped and
//!    unreadable ([`ReadSummary`]): every log-reading command (`hunt`, `search`,
//!    `metrics`, `export`) starts there. [`read_in_order`] is the ordered parallel reading
//!    beneath it.
//! 3. [`Hunter::hunt`] reads the logs so, evaluates every event against the rules that
//!    are for it, and hands each [`Finding`] to a sink in input order whatever the thread
//!    count; correlations come last.
//! 4. [`TimeSorter`] puts findings in time order across logs (`--sort time`), merging
//!    sorted runs kept in temporary files, so memory stays bounded.
//! 5. [`Hunter::live`] evaluates events one at a time as they arrive (`sigil watch`),
//!    each as [`Hunter::hunt`] would; correlations fire as their hits come in, over
//!    windows the caller keeps ([`LiveScan::correlate`]).
//! 6. [`rule_tests`] runs rules against the samples their authors recorded (SigmaHQ's
//!    regression data) and against logs known to be benign (`sigil test`).
//!
//! ```no_run
//! use sigil_hunt::{HuntOptions, Hunter, Logs, RunOptions};
//!
//! let logs = Logs::find(&["logs/".into()], &|_| false)?;
//! let options = HuntOptions {
//!     logs: logs.mix(),
//!     ..HuntOptions::default()
//! };
//! let hunter = Hunter::load(&["rules/".into()], &options)?;
//! let mut line = Vec::new();
//! hunter.hunt(&logs, &RunOptions::default(), &|| {}, &mut |finding| {
//!     finding.write_jsonl(&mut line);
//!     Ok(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod details;
mod filter;
mod finding;
mod live;
mod logs;
mod metrics;
mod ordered;
mod prepare;
pub mod rule_tests;
mod run;
mod search;
mod sort;

pub use details::{BUILTIN_DETAILS, Details, DetailsError, KeyKind, Template};
pub use filter::{ComputerPattern, EventFilter};
pub use finding::{Finding, event_json, json_value};
pub use live::{LiveScan, WindowName};
pub use logs::{Logs, LogsError, PartReader, ReadSummary};
pub use metrics::{ComputerRow, EventRow, FileRow, LogonRow, Metrics, MetricsReport};
pub use ordered::{MAX_PARTS_AHEAD, read_in_order};
pub use prepare::{
    HuntOptions, Hunter, LogMix, RuleSelection, SkipKind, SkippedRule, pipeline_sets,
};
pub use run::{RunOptions, RunSummary};
pub use search::{Hit, Needle, Search, SearchError, SearchScan};
pub use sort::{DEFAULT_SORT_BUDGET, TimeSorter};

/// Why a hunt cannot start.
#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    /// A pipeline could not be read.
    #[error(transparent)]
    Pipeline(#[from] sigil_pipeline::PipelineError),
    /// No rule is left to hunt with; `skipped` says why each was left out.
    #[error("no rule to hunt with")]
    NoRules {
        /// The rules left out, and why.
        skipped: Vec<SkippedRule>,
    },
}

impl LogMix {
    /// The kinds of logs among `inputs`.
    pub fn of(inputs: &[sigil_logs::Input]) -> Self {
        let mut mix = Self::default();
        for input in inputs {
            match input.kind {
                sigil_logs::InputKind::Evtx => mix.evtx = true,
                sigil_logs::InputKind::Json | sigil_logs::InputKind::Stdin => mix.json = true,
            }
        }
        mix
    }
}
