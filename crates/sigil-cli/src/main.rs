//! The `sigil` binary: parses arguments and dispatches to one module per subcommand.
//! Logic a library user would need lives in the library crates, not here.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// The allocator of the whole `sigil` binary. Loading and compiling thousands of rules
/// and hunting through events allocate many small, short-lived values; mimalloc serves
/// them faster than the system allocator (see BENCHMARKS.md, Hunt). It asks Linux for
/// transparent huge pages, which only `hunt`'s start-up keeps (see [`cmd::small_pages`]).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Detection rules, read, checked, converted and hunted with.
#[derive(Debug, Parser)]
#[command(name = "sigil", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Analyse one rule: stages, exclusions, indicators with corpus counts, related rules.
    Analyze(cmd::analyze::Args),
    /// For each Atomic Red Team test, the rules that fire on its simulated telemetry.
    Atomics(cmd::atomics::Args),
    /// Publish a corpus: Markdown pages, a static HTML site, index.json, a Navigator layer.
    Catalog(cmd::catalog::Args),
    /// Read rules and report problems as `path:line:column: error|warning: message`.
    Check(cmd::check::Args),
    /// ATT&CK coverage of a corpus: techniques x rules, and a Navigator layer.
    Coverage(cmd::coverage::Args),
    /// Convert rules to queries for SIEMs and EDRs (`--list-targets` lists them).
    Convert(cmd::convert::Args),
    /// Every event of EVTX and JSON logs as one row of Parquet (or JSON lines), for
    /// Spark, ClickHouse and DuckDB.
    Export(Box<cmd::export::Args>),
    /// Run rules over EVTX and JSON logs and report every detection.
    Hunt(Box<cmd::hunt::Args>),
    /// The language server for editors (Sigma YAML, Elastic TOML), on stdin/stdout.
    Lsp(cmd::lsp::Args),
    /// Every event that holds a text, matches an expression, a field value or an EQL query.
    Search(Box<cmd::search::Args>),
    /// What logs hold: events per channel and event id, per computer and file; logons.
    Metrics(Box<cmd::metrics::Args>),
    /// Serve the catalog site live, with full-text search and a JSON API.
    Serve(cmd::serve::Args),
    /// Run one ad-hoc query (EQL, KQL or a Sigma file) over logs and print the matching events.
    Query(cmd::query::Args),
    /// Test rules on their regression samples (SigmaHQ's format) and on benign logs.
    Test(cmd::test::Args),
    /// Live detection: events from stdin, files, HTTP, syslog or NATS JetStream as they come.
    Watch(Box<cmd::watch::Args>),
}

fn main() -> ExitCode {
    quiet_on_closed_output();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout with success; real usage errors exit 2.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if !matches!(cli.command, Command::Hunt(_)) {
        cmd::small_pages();
    }
    let result = match cli.command {
        Command::Analyze(args) => cmd::analyze::run(&args),
        Command::Atomics(args) => cmd::atomics::run(&args),
        Command::Coverage(args) => cmd::coverage::run(&args),
        Command::Catalog(args) => cmd::catalog::run(&args),
        Command::Check(args) => cmd::check::run(&args),
        Command::Convert(args) => cmd::convert::run(&args),
        Command::Export(args) => cmd::export::run(&args),
        Command::Hunt(args) => cmd::hunt::run(&args),
        Command::Lsp(args) => cmd::lsp::run(&args),
        Command::Metrics(args) => cmd::metrics::run(&args),
        Command::Query(args) => cmd::query::run(&args),
        Command::Search(args) => cmd::search::run(&args),
        Command::Serve(args) => cmd::serve::run(&args),
        Command::Test(args) => cmd::test::run(&args),
        Command::Watch(args) => cmd::watch::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_closed_output(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sigil: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Whether an error is a write to an output whose reader has gone (`sigil hunt ... | head`).
fn is_closed_output(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// A reader that stops early (`| head`) closes the pipe; what sigil would still print has
/// no reader, so the process ends quietly, as `grep` and `cat` do, instead of reporting the
/// failed write (`print!` panics on it).
fn quiet_on_closed_output() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("Broken pipe") || message.contains("os error 32") {
            std::process::exit(0);
        }
        default(info);
    }));
}
