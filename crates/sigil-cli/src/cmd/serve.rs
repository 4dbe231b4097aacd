//! `sigil serve [--corpus PATH]... [--addr 127.0.0.1:8080]`: the catalog site, live, with
//! full-text search and a JSON API (see `sigil_site::server`). Loopback by default: the
//! API converts and checks whatever it is sent, so exposing it is a choice to make.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use sigil_catalog::{BuildOptions, build, load};
use sigil_site::Publication;
use sigil_site::server::{AppState, router, serve};

/// Arguments of `sigil serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A corpus folder or file (rules of any language, Atomic Red Team tests, ATT&CK
    /// data); repeat for several.
    #[arg(long, value_name = "PATH", required = true)]
    pub corpus: Vec<PathBuf>,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
}

/// Runs the server until interrupted.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let corpus = load(&args.corpus)?;
    if !corpus.problems.is_empty() {
        eprintln!(
            "sigil serve: {} could not be read (see `sigil catalog build` for the list)",
            crate::cmd::count(corpus.problems.len(), "file", "files")
        );
    }
    let publication = Publication::new(build(corpus, BuildOptions::default()));
    let state = Arc::new(AppState::new(publication)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("listening on {}", args.addr))?;
        let local = listener.local_addr()?;
        eprintln!(
            "sigil serve: {} rules, {} files, ready in {:.1}s on http://{local}/ (Ctrl-C stops)",
            state.publication().catalog.rules.len(),
            state.site().len(),
            start.elapsed().as_secs_f64()
        );
        let shutdown = async {
            // If the signal cannot be watched the server runs until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        serve(listener, router(state), shutdown).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
