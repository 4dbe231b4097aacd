//! The webhook output: each batch's detections POSTed as NDJSON to a URL, retried with
//! exponential backoff (100 ms doubling to 10 s) until the server accepts them (a 2xx
//! answer). While it fails the evaluator waits, so the queue fills and the inputs slow
//! down: nothing is dropped, and nothing is acknowledged upstream before it is accepted.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use hyper_util::rt::TokioIo;

use crate::metrics::Metrics;
use crate::output::Output;

/// Delays between attempts: 100 ms, doubling, at most 10 s.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            next: Duration::from_millis(100),
        }
    }
}

impl Backoff {
    /// The delay before the next attempt.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let now = self.next;
        self.next = (self.next * 2).min(Duration::from_secs(10));
        now
    }
}

/// A webhook at `http://HOST:PORT/PATH`.
pub(crate) struct Webhook {
    url: String,
    authority: String,
    path: String,
    body: Vec<u8>,
    runtime: tokio::runtime::Handle,
    metrics: Arc<Metrics>,
}

impl Webhook {
    /// A webhook for `url`; the error says why the URL cannot be used.
    pub(crate) fn new(
        url: &str,
        runtime: tokio::runtime::Handle,
        metrics: Arc<Metrics>,
    ) -> Result<Self, String> {
        let Some(rest) = url.strip_prefix("http://") else {
            return Err(
                "only http:// webhooks are supported; put a TLS-terminating proxy in front for https"
                    .to_string(),
            );
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err("no host in the URL".to_string());
        }
        let authority = if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        Ok(Self {
            url: url.to_string(),
            authority,
            path: path.to_string(),
            body: Vec::new(),
            runtime,
            metrics,
        })
    }

    async fn post(&self) -> Result<(), String> {
        let stream = tokio::time::timeout(
            Duration::from_secs(10),
            tokio::net::TcpStream::connect(&self.authority),
        )
        .await
        .map_err(|_| "connection timed out".to_string())?
        .map_err(|e| e.to_string())?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let request = Request::post(&self.path)
            .header(hyper::header::HOST, &self.authority)
            .header(hyper::header::CONTENT_TYPE, "application/x-ndjson")
            .body(Full::new(Bytes::copy_from_slice(&self.body)))
            .map_err(|e| e.to_string())?;
        let response = tokio::time::timeout(Duration::from_secs(30), sender.send_request(request))
            .await
            .map_err(|_| "no answer within 30 s".to_string())?
            .map_err(|e| e.to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("answered {}", response.status()))
        }
    }
}

impl Output for Webhook {
    fn write(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.body.extend_from_slice(line);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let mut backoff = Backoff::default();
        while !self.body.is_empty() {
            match self.runtime.block_on(self.post()) {
                Ok(()) => self.body.clear(),
                Err(e) => {
                    self.metrics.output_retries.fetch_add(1, Ordering::Relaxed);
                    let delay = backoff.next_delay();
                    eprintln!(
                        "sigil watch: {}: {e}; trying again in {} ms",
                        self.url,
                        delay.as_millis()
                    );
                    std::thread::sleep(delay);
                }
            }
        }
        Ok(())
    }
}
