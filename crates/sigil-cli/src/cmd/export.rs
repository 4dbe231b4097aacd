//! `sigil export LOGS... -o DIR [--format parquet|jsonl] [--view flat|ecs] [--force]`:
//! every event as one row, for Spark, ClickHouse and DuckDB.
//!
//! The export is `sigil-export`'s; logs are found and read as `hunt` reads them. This
//! module turns arguments into options, draws the progress bar, prints the summary and
//! maps the outcome to an exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sigil_export::{ExportOptions, Step};
use sigil_hunt::Logs;

use super::{count, join_paths};

/// Output formats of `sigil export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Apache Parquet (zstd), one schema for the whole folder.
    Parquet,
    /// One JSON object per event and line.
    Jsonl,
}

/// Which names of each event are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum View {
    /// sigil's event model: System fields and EventData / UserData fields as Sigma rules
    /// name them.
    Flat,
    /// The ECS view Elastic rules use (`event.code`, `process.command_line`, ...).
    Ecs,
}

/// Arguments of `sigil export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Logs: EVTX and JSON / JSON-lines files or folders (searched recursively); `-` reads
    /// standard input.
    #[arg(required = true, value_name = "LOGS")]
    pub logs: Vec<PathBuf>,
    /// The folder to write (`part-00000.parquet`, ...); it must not exist or be empty.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: PathBuf,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Parquet)]
    pub format: Format,
    /// Which names of each event are written.
    #[arg(long, value_enum, default_value_t = View::Flat)]
    pub view: View,
    /// Write into a folder that is not empty, replacing the files an earlier export wrote
    /// there (`part-*.parquet`, `part-*.jsonl`).
    #[arg(long)]
    pub force: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 't', value_name = "N")]
    pub threads: Option<usize>,
    /// Do not show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    #[command(flatten)]
    pub filter: super::filter_args::FilterArgs,
    /// Exit with 2 when any log could not be read in full (an unreadable file, a damaged
    /// chunk), even when the rest was exported.
    #[arg(long)]
    pub strict: bool,
}

/// Runs the export: exit 0, or 2 on error (a missing path, an output folder in the way,
/// no event read).
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let pool = super::worker_pool(args.threads)?;
    pool.install(|| export(args))
}

fn export(args: &Args) -> anyhow::Result<ExitCode> {
    let filter = args.filter.event_filter()?;
    // The output folder may lie among the logs: what an earlier export wrote there is not
    // a log to read.
    let out = args.output.canonicalize().ok();
    let logs = Logs::find(&args.logs, &|path| {
        out.as_deref()
            .is_some_and(|out| path.canonicalize().is_ok_and(|p| p.starts_with(out)))
    })?;
    if logs.is_empty() {
        for e in logs.unreadable() {
            eprintln!("read error: {e}");
        }
        anyhow::bail!("no event could be read from {}", join_paths(&args.logs));
    }
    sigil_export::prepare_dir(&args.output, args.force)?;
    let options = ExportOptions {
        format: match args.format {
            Format::Parquet => sigil_export::Format::Parquet,
            Format::Jsonl => sigil_export::Format::Jsonl,
        },
        view: match args.view {
            View::Flat => sigil_export::View::Flat,
            View::Ecs => sigil_export::View::Ecs,
        },
        filter,
        ..ExportOptions::default()
    };
    let progress = progress_bar(args, logs.parts().len() as u64);
    let summary = sigil_export::export(&logs, &args.output, &options, &|step| match step {
        Step::PartRead => progress.inc(1),
        Step::Writing(files) => {
            progress.set_position(0);
            progress.set_length(files as u64);
            progress.set_message("writing");
        }
        Step::FileWritten if options.format == sigil_export::Format::Parquet => {
            progress.inc(1);
        }
        Step::FileWritten => {}
    })?;
    progress.finish_and_clear();
    let read = &summary.read;
    let stats = &read.stats;
    for e in &read.read_errors {
        eprintln!("read error: {e}");
    }
    let errors = read.read_errors.len();
    super::print_read_counts(read.files, stats, errors);
    if errors > 0 || stats.skipped_chunks > 0 {
        eprintln!(
            "warning: some logs could not be read in full (see above); --strict makes this an error"
        );
    }
    eprintln!(
        "{} written to {} in {}{}",
        count(summary.rows as usize, "row", "rows"),
        display(&args.output),
        count(summary.written.len(), "file", "files"),
        if options.format == sigil_export::Format::Parquet {
            format!(", {}", count(summary.columns, "column", "columns"))
        } else {
            String::new()
        },
    );
    if read.nothing_read() {
        anyhow::bail!("no event could be read from {}", join_paths(&args.logs));
    }
    if args.strict && read.incomplete() {
        eprintln!("sigil: --strict: some logs could not be read in full");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn progress_bar(args: &Args, parts: u64) -> indicatif::ProgressBar {
    if args.no_progress || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(parts);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("reading logs");
    bar
}
