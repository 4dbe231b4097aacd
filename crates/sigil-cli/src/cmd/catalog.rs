//! `sigil catalog build [--corpus PATH]... -o OUT`: publish a corpus as Markdown pages, a
//! static HTML site, `index.json` and an ATT&CK Navigator layer.
//!
//! Loading and analysis are `sigil-catalog`'s, rendering is `sigil-site`'s; this module
//! wires them and reports.

use crate::cmd::count;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use sigil_catalog::{BuildOptions, build, load};
use sigil_site::{Publication, Site, SiteOptions};

/// Arguments of `sigil catalog`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: CatalogCommand,
}

/// The `catalog` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CatalogCommand {
    /// Write the Markdown pages, the HTML site, index.json and the Navigator layer.
    Build(BuildArgs),
}

/// Arguments of `sigil catalog build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// A corpus folder or file (rules of any language, Atomic Red Team tests, ATT&CK
    /// data); repeat for several.
    #[arg(long, value_name = "PATH", required = true)]
    pub corpus: Vec<PathBuf>,
    /// The output folder (created if missing).
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    pub out: PathBuf,
    /// Skip the Markdown pages.
    #[arg(long)]
    pub no_markdown: bool,
    /// Skip the HTML site.
    #[arg(long)]
    pub no_html: bool,
}

/// Runs `sigil catalog`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    match &args.command {
        CatalogCommand::Build(b) => run_build(b),
    }
}

fn run_build(args: &BuildArgs) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let corpus = load(&args.corpus)?;
    // The first problems name the files; the count says how many more.
    for p in corpus.problems.iter().take(20) {
        eprintln!("{}:{}: {}", p.path.display(), p.line, p.message);
    }
    if corpus.problems.len() > 20 {
        eprintln!(
            "sigil catalog: {} more files could not be read",
            corpus.problems.len() - 20
        );
    }
    let catalog = build(corpus, BuildOptions::default());
    let analysed = start.elapsed();
    // Only the pages are wanted: each rule's IR goes once it is converted.
    let publication = Publication::without_rule_ir(catalog);
    let written = Site::publish(
        &publication,
        SiteOptions {
            html: !args.no_html,
            markdown: !args.no_markdown,
        },
        &args.out,
    )?;
    let c = &publication.catalog;
    eprintln!(
        "sigil catalog: {}, {}, {} -> {} ({:.1} MB) in {} (analysis {:.1}s, total {:.1}s)",
        count(c.rules.len(), "rule", "rules"),
        count(c.atomics.len(), "Atomic test", "Atomic tests"),
        count(c.techniques.len(), "technique", "techniques"),
        count(written.files, "file", "files"),
        written.bytes as f64 / 1e6,
        args.out.display(),
        analysed.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
    // The process ends here: freeing the catalog piece by piece (millions of small
    // allocations) would only delay the exit.
    std::mem::forget(publication);
    Ok(ExitCode::SUCCESS)
}
