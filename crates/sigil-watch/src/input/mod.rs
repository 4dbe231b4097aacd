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

mod stdin;

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
}

/// Starts an input on `runtime` (or a thread of its own); an error when it cannot start.
pub(crate) fn start(
    spec: &InputSpec,
    context: Context,
    runtime: &tokio::runtime::Handle,
) -> Result<(), WatchError> {
    let _ = runtime;
    match spec {
        InputSpec::Stdin => stdin::start(context),
        other => Err(WatchError::Input {
            input: other.to_string(),
            message: "this input is not available yet".to_string(),
        }),
    }
}

/// Reads complete lines from `input` and sends them in batches: whatever one read gave,
/// so a trickle goes on line by line and a flood in large batches. A last line without
/// its newline counts at the end. Returns when the input ends, the queue is closed or the
/// watch stops.
pub(crate) fn send_lines(
    input: &mut dyn std::io::Read,
    origin: &Arc<str>,
    context: &Context,
    line: &mut u64,
) -> std::io::Result<()> {
    let mut buffer = vec![0u8; 256 * 1024];
    let mut filled = 0;
    loop {
        if *context.stop.borrow() {
            return Ok(());
        }
        if filled == buffer.len() {
            // A line longer than the buffer: grow it.
            buffer.resize(buffer.len() * 2, 0);
        }
        let n = match input.read(&mut buffer[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let end = n == 0;
        filled += n;
        let mut batch = Batch::new(context.index, origin);
        let mut start = 0;
        while let Some(at) = memchr(&buffer[start..filled]) {
            *line += 1;
            batch.push(*line, &buffer[start..start + at], false);
            start += at + 1;
        }
        if end && start < filled {
            *line += 1;
            batch.push(*line, &buffer[start..filled], false);
            start = filled;
        }
        buffer.copy_within(start..filled, 0);
        filled -= start;
        if !batch.is_empty() {
            context
                .metrics
                .queued
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if context.queue.blocking_send(Item::Batch(batch)).is_err() {
                return Ok(());
            }
        }
        if end {
            return Ok(());
        }
    }
}

fn memchr(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}
