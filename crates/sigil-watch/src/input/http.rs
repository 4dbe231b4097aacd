//! `http://ADDR/PATH`: NDJSON in the bodies of POST requests.
//!
//! A body is one batch; the request is answered once its detections are written (200,
//! with the number of records), so a collector that retries on failure loses nothing.
//! A body over [`BODY_LIMIT`] is refused with 413; a request while the watch stops gets
//! 503.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use tokio::sync::oneshot;

use super::{Context, Lines, send};
use crate::batch::Batch;

/// The largest body accepted, in bytes.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

struct Shared {
    context: Context,
    origin: Arc<str>,
    /// Records received so far, to number them in messages.
    records: AtomicU64,
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> (StatusCode, String) {
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a body holds at most {BODY_LIMIT} bytes\n"),
        )
    };
    // Refused by its announced length before it is read; a body without one, once it
    // passes the limit.
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > BODY_LIMIT) {
        return too_large();
    }
    let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return too_large();
    };
    let mut batch = Batch::new(shared.context.index, &shared.origin);
    let mut lines = Lines::default();
    let mut line = 0;
    lines.split(&body, &mut line, &mut batch);
    lines.finish(&mut line, &mut batch);
    let first = shared.records.fetch_add(line, Ordering::Relaxed);
    for r in &mut batch.records {
        r.line += first;
    }
    let count = batch.records.len();
    if count == 0 {
        return (StatusCode::OK, "{\"records\":0}\n".to_string());
    }
    let (done, written) = oneshot::channel();
    batch.done = Some(done);
    if *shared.context.stop.borrow() || !send(&shared.context, batch).await {
        return (StatusCode::SERVICE_UNAVAILABLE, "stopping\n".to_string());
    }
    match written.await {
        Ok(()) => (StatusCode::OK, format!("{{\"records\":{count}}}\n")),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the detections could not be written\n".to_string(),
        ),
    }
}

pub(super) fn start(
    addr: SocketAddr,
    path: &str,
    context: Context,
    runtime: &tokio::runtime::Handle,
) -> Result<(), String> {
    if !addr.ip().is_loopback() {
        eprintln!(
            "sigil watch: note: http://{addr}{path} accepts events from the network, without authentication"
        );
    }
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(addr))
        .map_err(|e| format!("cannot listen: {e}"))?;
    let mut stop = context.stop.clone();
    let shared = Arc::new(Shared {
        origin: Arc::from(format!("http://{addr}{path}")),
        context,
        records: AtomicU64::new(0),
    });
    let app = Router::new()
        .route(path, post(receive))
        .layer(DefaultBodyLimit::disable())
        .with_state(shared);
    runtime.spawn(async move {
        let stopped = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            eprintln!("sigil watch: http://{addr}: {e}");
        }
    });
    Ok(())
}
