//! What inputs hand the evaluator: records in one buffer, and how to say they are done.

use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::oneshot;

/// What the evaluator's queue carries.
#[derive(Debug)]
pub(crate) enum Item {
    /// Records to evaluate.
    Batch(Batch),
    /// The rules, loaded again (SIGHUP, a rule file changed): swap them in.
    Swap(Box<sigil_hunt::Hunter>),
    /// Loading the rules again failed: the old ones stay.
    ReloadFailed(String),
    /// Stop after what is already queued (SIGTERM, SIGINT).
    Stop,
}

/// Records from one input, evaluated together.
#[derive(Debug)]
pub(crate) struct Batch {
    /// The input's position among the watch's inputs (for metrics).
    pub(crate) input: usize,
    /// What detections name as their source (the file, `-`, the URL, the subject).
    pub(crate) origin: Arc<str>,
    /// The records' bytes, one after another.
    pub(crate) data: Vec<u8>,
    /// The records.
    pub(crate) records: Vec<Record>,
    /// Told once the batch's detections are written and its state committed (an input
    /// that acknowledges upstream waits for it); dropped unsent if that failed.
    pub(crate) done: Option<oneshot::Sender<()>>,
    /// When the input received it (for the lag metric).
    pub(crate) received: Instant,
    /// For a followed file: where reading would resume after this batch, committed with
    /// it to the state.
    pub(crate) position: Option<Position>,
}

/// Where a followed file has been read to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    /// The file's inode (a rotated file is another one).
    pub(crate) inode: u64,
    /// Bytes read, up to the end of the last whole line.
    pub(crate) offset: u64,
}

/// One record of a batch.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// Its line (or message) number in its input, for messages about it.
    pub(crate) line: u64,
    /// Where its bytes are in the batch's data.
    pub(crate) range: Range<usize>,
    /// Whether it was delivered before (its detections may have been written already).
    pub(crate) repeat: bool,
    /// Why it is not an event, when the input already knows (a syslog frame that does not
    /// parse).
    pub(crate) bad: Option<String>,
}

impl Batch {
    /// An empty batch from `input`.
    pub(crate) fn new(input: usize, origin: &Arc<str>) -> Self {
        Self {
            input,
            origin: Arc::clone(origin),
            data: Vec::new(),
            records: Vec::new(),
            done: None,
            received: Instant::now(),
            position: None,
        }
    }

    /// Adds a record.
    pub(crate) fn push(&mut self, line: u64, bytes: &[u8], repeat: bool) {
        let start = self.data.len();
        self.data.extend_from_slice(bytes);
        self.records.push(Record {
            line,
            range: start..self.data.len(),
            repeat,
            bad: None,
        });
    }

    /// Adds a record the input could not read, to be counted and reported.
    pub(crate) fn push_bad(&mut self, line: u64, why: String) {
        let at = self.data.len();
        self.records.push(Record {
            line,
            range: at..at,
            repeat: false,
            bad: Some(why),
        });
    }

    /// Whether it holds no record.
    pub(crate) fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}
