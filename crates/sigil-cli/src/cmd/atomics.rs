//! `sigil atomics [--corpus PATH]... [--explain GUID]`: for every Atomic Red Team test, the
//! rules that fire on its simulated telemetry, the rules that only share its technique, and
//! the gaps; or, with `--explain`, one test's simulated events and why each rule fires.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use sigil_catalog::report::AtomicsReport;
use sigil_catalog::{BuildOptions, build, load};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One block per simulated test, then a summary.
    Text,
    /// `{"tests":[...],"gaps":[...]}`.
    Json,
}

/// Arguments of `sigil atomics`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Corpus folders or files (rules and atomic tests, ATT&CK data); repeat for several.
    #[arg(long, value_name = "PATH", required = true)]
    pub corpus: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Explain one test (by GUID): its simulated events, each with the part of the command
    /// that caused it, and for each rule that fires, the event and fields that made it fire.
    #[arg(long, value_name = "GUID")]
    pub explain: Option<String>,
}

/// Runs the linkage.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let corpus = load(&args.corpus)?;
    super::coverage::report_problems(&corpus);
    let catalog = build(corpus, BuildOptions::default());
    if let Some(guid) = &args.explain {
        let Some(text) = sigil_catalog::report::explain_text(&catalog, guid) else {
            eprintln!("sigil atomics: no atomic test with GUID {guid} in the corpus");
            return Ok(ExitCode::from(2));
        };
        write!(std::io::stdout().lock(), "{text}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let report = AtomicsReport::of(&catalog);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Text => write!(out, "{}", report.to_text(&catalog))?,
    }
    Ok(ExitCode::SUCCESS)
}
