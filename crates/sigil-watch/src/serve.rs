//! `--metrics ADDR`: Prometheus text at `/metrics`, and `/healthz`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::WatchError;
use crate::metrics::Metrics;

/// Binds `addr` and serves the metrics there.
pub(crate) fn start(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    runtime: &tokio::runtime::Handle,
) -> Result<(), WatchError> {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(addr))
        .map_err(|e| WatchError::Input {
            input: format!("--metrics {addr}"),
            message: e.to_string(),
        })?;
    let app = Router::new()
        .route(
            "/metrics",
            get(move || {
                let text = metrics.render();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4",
                        )],
                        text,
                    )
                }
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }));
    runtime.spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("sigil watch: metrics server: {e}");
        }
    });
    Ok(())
}
