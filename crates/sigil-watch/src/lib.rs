//! Live detection: `sigil watch`.
//!
//! `sigil hunt` answers "what happened in these files"; `watch` answers "tell me as it
//! happens". Events arrive on inputs (standard input, a followed file, HTTP POSTs, syslog,
//! a NATS JetStream consumer), go through the same compiled rules as a hunt
//! ([`sigil_hunt::Hunter::live`]) one batch at a time, and detections leave on outputs
//! (standard output, a file, a webhook, JetStream) as the JSON lines of `hunt`.
//!
//! The shape:
//!
//! - **Inputs** run on a small tokio runtime and hand [`batch::Batch`]es of raw records to
//!   one bounded queue: when it is full they wait, so a slow output slows the inputs and
//!   memory stays flat.
//! - **The evaluator** is one thread that owns the rules and the open correlation windows.
//!   Per batch it parses each record (a bad one is counted and skipped), evaluates it,
//!   advances the windows, writes and flushes the detections, commits the windows to the
//!   state file, and only then acknowledges the batch to its input (a JetStream message is
//!   acked after its detections are written: at-least-once).
//! - **State** ([`state`]): the open windows live in SQLite (`--state`), written in the same
//!   transaction as the batch's end, so a restart, even after `kill -9`, resumes them.
//! - **Reload**: on SIGHUP or a change of a rule file the rules are compiled aside and
//!   swapped in between two batches; a set that fails to load is reported and the old one
//!   stays.

mod batch;
mod evaluate;
mod input;
pub mod metrics;
mod output;
mod serve;
mod signals;
mod spec;
mod state;
pub mod syslog;
mod webhook;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use spec::{InputSpec, NatsSpec, OutputSpec};

/// How to watch.
#[derive(Debug, Clone, Default)]
pub struct WatchOptions {
    /// Rule files or folders.
    pub rules: Vec<PathBuf>,
    /// Processing pipelines (built-in names or files); none: the hunt's defaults.
    pub pipelines: Vec<String>,
    /// Where events come from.
    pub inputs: Vec<InputSpec>,
    /// Where detections go (none: standard output).
    pub outputs: Vec<OutputSpec>,
    /// The SQLite file keeping correlation windows across restarts.
    pub state: Option<PathBuf>,
    /// Where to serve `/metrics` and `/healthz`.
    pub metrics: Option<SocketAddr>,
    /// Batches the queue between inputs and the evaluator holds (0: the default, 64).
    pub queue: usize,
}

/// What a watch did, when it ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchSummary {
    /// Events evaluated.
    pub events: u64,
    /// Records that were not events (malformed JSON, syslog frames that do not parse).
    pub bad_records: u64,
    /// Detections written.
    pub detections: u64,
    /// Rule sets loaded again.
    pub reloads: u64,
}

/// Why a watch cannot start or go on.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// An input or output spec is not understood.
    #[error("{0}")]
    Spec(String),
    /// No rule could be loaded.
    #[error("no rule to watch with in {0}")]
    NoRules(String),
    /// The rules could not be prepared.
    #[error(transparent)]
    Hunt(#[from] sigil_hunt::HuntError),
    /// An input could not be opened (an address in use, an unreachable server).
    #[error("input {input}: {message}")]
    Input {
        /// The input, as written.
        input: String,
        /// What went wrong.
        message: String,
    },
    /// An output could not be opened or written.
    #[error("output {output}: {message}")]
    Output {
        /// The output, as written.
        output: String,
        /// What went wrong.
        message: String,
    },
    /// The state file could not be opened or written.
    #[error("state {path}: {message}")]
    State {
        /// The state file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// Anything else from the system.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub use evaluate::{load_rules, run};
