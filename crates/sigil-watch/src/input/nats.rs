//! `nats://HOST:PORT/SUBJECT?stream=S&durable=D`: events from a NATS JetStream durable
//! pull consumer (created over the subject when missing, as is the stream).
//!
//! Each message's payload is one JSON event (or several, one per line). Messages are
//! acknowledged only after their batch's detections are written and its state committed;
//! a watcher that dies leaves its unacknowledged messages to be delivered again (after the
//! consumer's ack wait), to itself after a restart or to another watcher bound to the same
//! durable consumer. A message delivered more than once is a possible repeat: its
//! detections carry `"repeat": true`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use tokio::sync::oneshot;

use super::{Context, Lines, send};
use crate::batch::Batch;
use crate::spec::{NatsAuth, NatsSpec};
use async_nats::ConnectErrorKind;

/// How long to wait for the server when starting.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Messages evaluated as one batch, at most.
const BATCH: usize = 512;

/// Connects to the server of `spec` with its credentials (and TLS, when asked); the error
/// says whether the server is not reachable, refused the credentials, or failed TLS.
pub(crate) async fn connect(spec: &NatsSpec) -> Result<async_nats::Client, String> {
    let mut options = match &spec.auth {
        NatsAuth::None => async_nats::ConnectOptions::new(),
        NatsAuth::UserPassword { user, password } => {
            async_nats::ConnectOptions::with_user_and_password(user.clone(), password.clone())
        }
        NatsAuth::Token(token) => async_nats::ConnectOptions::with_token(token.clone()),
        NatsAuth::Creds(path) => async_nats::ConnectOptions::with_credentials_file(path)
            .await
            .map_err(|e| format!("credentials file {}: {e}", path.display()))?,
    };
    if spec.tls {
        options = options.require_tls(true);
    }
    if let Some(ca) = &spec.ca {
        if let Err(e) = std::fs::metadata(ca) {
            return Err(format!("CA file {}: {e}", ca.display()));
        }
        options = options.add_root_certificates(ca.clone());
    }
    let scheme = if spec.tls { "tls" } else { "nats" };
    options
        .connection_timeout(CONNECT_TIMEOUT)
        .connect(format!("{scheme}://{}", spec.server))
        .await
        .map_err(|e| match e.kind() {
            // The handshake's certificate check fails as an I/O error.
            ConnectErrorKind::Io if e.to_string().contains("certificate") => format!(
                "TLS failed: the server's certificate is not trusted (`ca=FILE` trusts a \
                 private CA): {e}"
            ),
            ConnectErrorKind::AuthorizationViolation => {
                "the server refused the credentials (authorization violation)".to_string()
            }
            ConnectErrorKind::Authentication => {
                format!("authentication failed (the credentials do not sign): {e}")
            }
            ConnectErrorKind::Tls => format!(
                "TLS failed (is the server's certificate signed by a trusted CA? \
                     `ca=FILE` adds one): {e}"
            ),
            _ => format!("cannot reach the NATS server: {e}"),
        })
}

pub(super) fn start(
    spec: &NatsSpec,
    context: Context,
    runtime: &tokio::runtime::Handle,
) -> Result<(), String> {
    let stream_name = spec.stream.clone().unwrap_or_default();
    let durable = spec.durable.clone().unwrap_or_default();
    let ack_wait = spec.ack_wait.unwrap_or(Duration::from_secs(30));
    let messages = runtime.block_on(async {
        let client = connect(spec).await?;
        let js = jetstream::new(client);
        let stream = js
            .get_or_create_stream(stream::Config {
                name: stream_name.clone(),
                subjects: vec![spec.subject.clone()],
                ..stream::Config::default()
            })
            .await
            .map_err(|e| format!("stream {stream_name}: {e}"))?;
        let consumer = stream
            .get_or_create_consumer(
                &durable,
                consumer::pull::Config {
                    durable_name: Some(durable.clone()),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait,
                    filter_subject: spec.subject.clone(),
                    ..consumer::pull::Config::default()
                },
            )
            .await
            .map_err(|e| format!("durable consumer {durable}: {e}"))?;
        consumer
            .messages()
            .await
            .map_err(|e| format!("durable consumer {durable}: {e}"))
    })?;
    let origin: Arc<str> = Arc::from(spec.to_string());
    runtime.spawn(async move {
        let mut messages = messages.ready_chunks(BATCH);
        let mut stop = context.stop.clone();
        let mut line = 0;
        loop {
            let chunk = tokio::select! {
                c = messages.next() => match c {
                    Some(c) => c,
                    None => return,
                },
                _ = stop.wait_for(|s| *s) => return,
            };
            let mut batch = Batch::new(context.index, &origin);
            let mut acks = Vec::with_capacity(chunk.len());
            for message in chunk {
                let message = match message {
                    Ok(m) => m,
                    Err(e) => {
                        eprintln!("sigil watch: {origin}: {e}");
                        continue;
                    }
                };
                let repeat = message.info().is_ok_and(|i| i.delivered > 1);
                let first = batch.records.len();
                let mut lines = Lines::default();
                lines.split(&message.payload, &mut line, &mut batch);
                lines.finish(&mut line, &mut batch);
                for r in &mut batch.records[first..] {
                    r.repeat = repeat;
                }
                acks.push(message);
            }
            let (done, written) = oneshot::channel();
            batch.done = Some(done);
            if !send(&context, batch).await {
                return;
            }
            // Acknowledged once written; a batch that fails is not, and comes again. A
            // stopping watch waits for these acknowledgements (`pending_acks`).
            let metrics = Arc::clone(&context.metrics);
            metrics.pending_acks.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if written.await.is_ok() {
                    for m in acks {
                        if let Err(e) = m.double_ack().await {
                            eprintln!("sigil watch: acknowledging a message: {e}");
                        }
                    }
                }
                metrics.pending_acks.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    Ok(())
}
