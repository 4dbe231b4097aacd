//! `sigil coverage [--corpus PATH]... [--layer FILE]`: ATT&CK techniques × rules, and an
//! ATT&CK Navigator layer scored by rule count.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;
use sigil_catalog::{BuildOptions, Corpus, build, load, navigator, report};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Techniques by tactic with rule counts.
    Text,
    /// `{"techniques":[{"id","name","tactics","rules":[id...]}], ...}`.
    Json,
}

/// Arguments of `sigil coverage`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Corpus folders or files (rules, ATT&CK data); repeat for several.
    #[arg(long, value_name = "PATH", required = true)]
    pub corpus: Vec<PathBuf>,
    /// Write an ATT&CK Navigator layer (format 4.5) here.
    #[arg(long, value_name = "FILE")]
    pub layer: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs the coverage report.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let corpus = load(&args.corpus)?;
    report_problems(&corpus);
    let catalog = build(
        corpus,
        BuildOptions {
            link_atomics: false,
            ..BuildOptions::default()
        },
    );
    if let Some(path) = &args.layer {
        let layer = navigator::layer(&catalog, "sigil rule coverage");
        let text = serde_json::to_string_pretty(&layer)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text => write!(out, "{}", report::coverage_text(&catalog))?,
        Format::Json => {
            let id_of = |key: &String| {
                catalog
                    .rules
                    .iter()
                    .find(|r| &r.key == key)
                    .map_or_else(|| key.clone(), |r| r.display_id().to_string())
            };
            let techniques: Vec<serde_json::Value> = catalog
                .techniques
                .iter()
                .filter(|t| !t.rules.is_empty())
                .map(|t| {
                    json!({
                        "id": t.id,
                        "name": t.name,
                        "tactics": t.tactics,
                        "known": t.known,
                        "rules": t.rules.iter().map(id_of).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let value = json!({
                "rules": catalog.rules.len(),
                "attack_techniques": catalog.stats.attack_techniques,
                "covered_techniques": catalog.stats.covered_techniques,
                "techniques": techniques,
                "unresolved_attack": catalog.unresolved_attack,
            });
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Tells, on standard error, how many corpus files were skipped and why (the first few).
pub fn report_problems(corpus: &Corpus) {
    if corpus.problems.is_empty() {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "sigil: {} problem(s) in the corpus; those files were skipped:",
        corpus.problems.len()
    );
    for p in corpus.problems.iter().take(5) {
        let _ = writeln!(err, "  {}:{}: {}", p.path.display(), p.line, p.message);
    }
    if corpus.problems.len() > 5 {
        let _ = writeln!(err, "  ...");
    }
}
