//! Where detections go: each output takes JSON lines and makes them durable on `flush`,
//! which the evaluator calls once per batch before it acknowledges the batch.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};

use crate::WatchError;
use crate::spec::OutputSpec;

/// An output of detections.
pub(crate) trait Output: Send {
    /// Takes one JSON line (with its newline).
    fn write(&mut self, line: &[u8]) -> std::io::Result<()>;
    /// Makes everything written so far durable (written out, sent and accepted).
    fn flush(&mut self) -> std::io::Result<()>;
}

/// Standard output, buffered, flushed per batch.
struct Stdout(BufWriter<std::io::Stdout>);

impl Output for Stdout {
    fn write(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.0.write_all(line)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// A file, appended to, flushed per batch.
struct Append(BufWriter<File>);

impl Output for Append {
    fn write(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.0.write_all(line)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// JetStream: each detection published to the subject; a flush waits for the server to
/// have stored every one (publish acknowledgements), retrying with backoff.
struct NatsOut {
    js: async_nats::jetstream::Context,
    subject: String,
    pending: Vec<bytes::Bytes>,
    runtime: tokio::runtime::Handle,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
}

impl Output for NatsOut {
    fn write(&mut self, line: &[u8]) -> std::io::Result<()> {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        self.pending.push(bytes::Bytes::copy_from_slice(line));
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let mut backoff = crate::webhook::Backoff::default();
        while !self.pending.is_empty() {
            let result = self.runtime.block_on(async {
                let mut acks = Vec::with_capacity(self.pending.len());
                for line in &self.pending {
                    acks.push(
                        self.js
                            .publish(self.subject.clone(), line.clone())
                            .await
                            .map_err(|e| e.to_string())?,
                    );
                }
                for ack in acks {
                    ack.await.map_err(|e| e.to_string())?;
                }
                Ok::<(), String>(())
            });
            match result {
                Ok(()) => self.pending.clear(),
                Err(e) => {
                    self.metrics
                        .output_retries
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    eprintln!("sigil watch: nats://{}: {e}; retrying", self.subject);
                    std::thread::sleep(backoff.next_delay());
                }
            }
        }
        Ok(())
    }
}

/// An output with the spec it was opened from, for messages.
pub(crate) struct Named {
    pub(crate) name: String,
    pub(crate) output: Box<dyn Output>,
}

impl std::fmt::Debug for Named {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Opens an output.
pub(crate) fn open(
    spec: &OutputSpec,
    spec_text: &str,
    runtime: &tokio::runtime::Handle,
    metrics: &std::sync::Arc<crate::metrics::Metrics>,
) -> Result<Named, WatchError> {
    let failed = |message: String| WatchError::Output {
        output: spec_text.to_string(),
        message,
    };
    let output: Box<dyn Output> = match spec {
        OutputSpec::Stdout => Box::new(Stdout(BufWriter::with_capacity(
            64 * 1024,
            std::io::stdout(),
        ))),
        OutputSpec::File(path) => {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| failed(e.to_string()))?;
            Box::new(Append(BufWriter::with_capacity(64 * 1024, file)))
        }
        OutputSpec::Webhook(url) => Box::new(
            crate::webhook::Webhook::new(url, runtime.clone(), std::sync::Arc::clone(metrics))
                .map_err(failed)?,
        ),
        OutputSpec::Nats(n) => {
            let client = runtime
                .block_on(crate::input::nats::connect(n))
                .map_err(failed)?;
            Box::new(NatsOut {
                js: async_nats::jetstream::new(client),
                subject: n.subject.clone(),
                pending: Vec::new(),
                runtime: runtime.clone(),
                metrics: std::sync::Arc::clone(metrics),
            })
        }
    };
    Ok(Named {
        name: spec_text.to_string(),
        output,
    })
}
