//! `sigil watch --rules PATH... --input SPEC...`: live detection over streams.
//!
//! The work is the library's (`sigil-watch`): inputs, the evaluator, outputs, state,
//! reload and metrics. This module turns arguments into options, reports the rules left
//! out, and maps the outcome to an exit code: 0 when the inputs ended or the watch was
//! stopped, 2 for a usage error (an input or output not understood, a server not
//! reachable, no rule) or a failure that stopped it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use sigil_watch::{InputSpec, OutputSpec, WatchOptions};

/// Arguments of `sigil watch`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rule files or folders (Sigma `.yml`, Elastic `.toml`); loaded again on SIGHUP or
    /// when a rule file changes.
    #[arg(long, short = 'r', required = true, num_args = 1.., value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// A processing pipeline, built-in name or YAML file; repeat to combine them (default:
    /// as `hunt`).
    #[arg(long, short = 'p', value_name = "NAME|FILE")]
    pub pipeline: Vec<String>,
    /// Where events come from: `-` (JSON lines on stdin), `file:PATH` (followed across
    /// rotation), `http://127.0.0.1:PORT/PATH` (NDJSON POST bodies), `syslog+udp://ADDR`,
    /// `syslog+tcp://ADDR`, `nats://HOST:PORT/SUBJECT?stream=S&durable=D` (JetStream; with
    /// `USER:PASS@` or `TOKEN@` before the host, `creds=FILE`, `ca=FILE`, or `tls://`).
    #[arg(long, short = 'i', required = true, value_name = "SPEC")]
    pub input: Vec<String>,
    /// Where detections go, as `hunt`'s JSON lines: `-` (stdout, the default),
    /// `file:PATH` (appended), `http(s)://…` (a webhook; `?ca=FILE` trusts a private CA),
    /// `nats://HOST:PORT/SUBJECT` (credentials and TLS as for inputs).
    #[arg(long, short = 'o', value_name = "SPEC")]
    pub output: Vec<String>,
    /// A SQLite file keeping open correlation windows across restarts.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Serve Prometheus metrics at `http://ADDR/metrics` and `/healthz`.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
}

/// Runs the watch.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let inputs = args
        .input
        .iter()
        .map(|s| InputSpec::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let outputs = args
        .output
        .iter()
        .map(|s| OutputSpec::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let options = WatchOptions {
        rules: args.rules.clone(),
        pipelines: args.pipeline.clone(),
        inputs,
        outputs,
        state: args.state.clone(),
        metrics: args.metrics,
        queue: 0,
    };
    let hunter = sigil_watch::load_rules(&options)?;
    let left_out = hunter.skipped().len();
    eprintln!(
        "sigil watch: {} rules compiled{}, watching {}",
        hunter.compiled().len(),
        if left_out == 0 {
            String::new()
        } else {
            format!(" ({left_out} left out: `sigil hunt` lists why)")
        },
        options
            .inputs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let summary = sigil_watch::run(&options, hunter)?;
    eprintln!(
        "sigil watch: {} events, {} detections, {} bad records skipped{}",
        summary.events,
        summary.detections,
        summary.bad_records,
        if summary.reloads == 0 {
            String::new()
        } else {
            format!(", rules loaded again {} times", summary.reloads)
        }
    );
    Ok(ExitCode::SUCCESS)
}
