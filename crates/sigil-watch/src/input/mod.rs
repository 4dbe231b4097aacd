//! Where events come from. Each input runs on its own (a thread or a task), turns what it
//! receives into [`Batch`]es and sends them into the bounded queue to the evaluator,
//! waiting when it is full. An input that ends (standard input at its end) drops its
//! sender; the watch ends when every input has.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use crate::WatchError;
use crate::batch::{Batch, Item};
use crate::metrics::Metrics;
use crate::spec::InputSpec;

mod file;
mod http;
pub(crate) mod nats;
mod stdin;
mod syslog;

/// What every input is given.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    /// The input's position (for metrics).
    pub(crate) index: usize,
    /// The queue to the evaluator.
    pub(crate) queue: mpsc::Sender<Item>,
    /// Becomes `true` when the watch is asked to stop: stop reading, the evaluator drains.
    pub(crate) stop: watch::Receiver<bool>,
    /// The watch's counters.
    pub(crate) metrics: Arc<Metrics>,
    /// For a followed file: where the state says the last run stopped.
    pub(crate) resume: Option<crate::batch::Position>,
    /// For a followed file: how far the last run's records may have had their detections
    /// written without the position committed; read again, they are marked as repeats.
    pub(crate) repeat_until: Option<crate::batch::Position>,
}

/// Starts an input on `runtime` (or a thread of its own); an error when it cannot start.
pub(crate) fn start(
    spec: &InputSpec,
    context: Context,
    runtime: &tokio::runtime::Handle,
) -> Result<(), WatchError> {
    let failed = |message: String| WatchError::Input {
        input: spec.to_string(),
        message,
    };
    match spec {
        InputSpec::Stdin => stdin::start(context),
        InputSpec::File(path) => file::start(path, context),
        InputSpec::Http { addr, path } => {
            http::start(*addr, path, context, runtime).map_err(failed)
        }
        InputSpec::SyslogUdp(addr) => syslog::start_udp(*addr, context, runtime).map_err(failed),
        InputSpec::SyslogTcp(addr) => syslog::start_tcp(*addr, context, runtime).map_err(failed),
        InputSpec::Nats(n) => nats::start(n, context, runtime).map_err(failed),
    }
}

/// Splits a byte stream into lines, across reads: what follows the last newline of a
/// read waits for the next.
#[derive(Debug, Default)]
pub(crate) struct Lines {
    pending: Vec<u8>,
}

impl Lines {
    /// Adds the complete lines of `chunk` (after what was pending) to `batch`.
    pub(crate) fn split(&mut self, chunk: &[u8], line: &mut u64, batch: &mut Batch) {
        let mut rest = chunk;
        while let Some(at) = memchr(rest) {
            *line += 1;
            if self.pending.is_empty() {
                batch.push(*line, &rest[..at], false);
            } else {
                self.pending.extend_from_slice(&rest[..at]);
                batch.push(*line, &self.pending, false);
                self.pending.clear();
            }
            rest = &rest[at + 1..];
        }
        self.pending.extend_from_slice(rest);
    }

    /// Bytes waiting for their line's end.
    pub(crate) fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Adds what is pending (a last line without its newline) to `batch`.
    pub(crate) fn finish(&mut self, line: &mut u64, batch: &mut Batch) {
        if !self.pending.is_empty() {
            *line += 1;
            batch.push(*line, &self.pending, false);
            self.pending.clear();
        }
    }
}

/// Sends a batch into the queue, waiting while it is full (from a thread, not a task).
/// `false` when the evaluator is gone.
pub(crate) fn send_blocking(context: &Context, batch: Batch) -> bool {
    context
        .metrics
        .queued
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    context.queue.blocking_send(Item::Batch(batch)).is_ok()
}

/// Sends a batch into the queue from a task, waiting while it is full. `false` when the
/// evaluator is gone.
pub(crate) async fn send(context: &Context, batch: Batch) -> bool {
    context
        .metrics
        .queued
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    context.queue.send(Item::Batch(batch)).await.is_ok()
}

/// Reads lines from `input` until it ends and sends them in batches: whatever one read
/// gave, so a trickle goes on line by line and a flood in large batches. A last line
/// without its newline counts at the end. Returns when the input ends, the queue is
/// closed or the watch stops.
pub(crate) fn send_lines(
    input: &mut dyn std::io::Read,
    origin: &Arc<str>,
    context: &Context,
    line: &mut u64,
) -> std::io::Result<()> {
    let mut buffer = vec![0u8; 256 * 1024];
    let mut lines = Lines::default();
    loop {
        if *context.stop.borrow() {
            return Ok(());
        }
        let n = match input.read(&mut buffer) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut batch = Batch::new(context.index, origin);
        lines.split(&buffer[..n], line, &mut batch);
        if n == 0 {
            lines.finish(line, &mut batch);
        }
        if !batch.is_empty() && !send_blocking(context, batch) {
            return Ok(());
        }
        if n == 0 {
            return Ok(());
        }
    }
}

fn memchr(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}
