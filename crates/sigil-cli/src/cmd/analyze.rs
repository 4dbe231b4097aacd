//! `sigil analyze RULE [--corpus PATH]...`: what one rule looks for, what it excludes,
//! how common its indicators are in a corpus, its neighbours, ATT&CK and data needed.
//!
//! The analysis is `sigil-catalog`'s; this module loads, picks the rule and prints.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use sigil_catalog::report::RuleReport;
use sigil_catalog::{BuildOptions, Corpus, build, load};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Sections for a terminal.
    Text,
    /// One JSON object (an array when the file holds several rules).
    Json,
    /// A Markdown page.
    Markdown,
}

/// Arguments of `sigil analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rule file (Sigma `.yml` or Elastic `.toml`).
    pub rule: PathBuf,
    /// A corpus folder or file to compare with (rules of any language, atomic tests,
    /// ATT&CK data); repeat for several.
    #[arg(long, value_name = "PATH")]
    pub corpus: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs the analysis.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut corpus = if args.corpus.is_empty() {
        Corpus::default()
    } else {
        load(&args.corpus)?
    };
    let positions = corpus.add_rule_file(&args.rule)?;
    super::coverage::report_problems(&corpus);
    let catalog = build(
        corpus,
        BuildOptions {
            link_atomics: false,
            ..BuildOptions::default()
        },
    );
    let reports: Vec<RuleReport> = positions
        .iter()
        .filter_map(|&i| catalog.rules.get(i))
        .map(RuleReport::of)
        .collect();
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            if let [one] = reports.as_slice() {
                serde_json::to_writer_pretty(&mut out, one)?;
            } else {
                serde_json::to_writer_pretty(&mut out, &reports)?;
            }
            writeln!(out)?;
        }
        Format::Text => {
            let texts: Vec<String> = reports.iter().map(RuleReport::to_text).collect();
            write!(out, "{}", texts.join("\n"))?;
        }
        Format::Markdown => {
            let texts: Vec<String> = reports.iter().map(RuleReport::to_markdown).collect();
            write!(out, "{}", texts.join("\n"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
