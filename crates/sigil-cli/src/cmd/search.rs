//! `sigil search LOGS... (PATTERN | -e REGEX | --field NAME=VALUE | --eql Q)...`: every
//! event that matches, without rules.
//!
//! The search itself is `sigil-hunt`'s ([`sigil_hunt::Search`]); logs are found and read
//! in parallel parts with hits in input order ([`sigil_hunt::Logs`]), through the same
//! filters as `hunt`. This module turns arguments into needles, writes hits and maps the
//! outcome to an exit code.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use sigil_hunt::{Hit, Logs, Needle, Search};

/// Output formats of `sigil search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per event: time, computer, event id, record id, file and the event's key
    /// fields (its details template) or its fields.
    Table,
    /// One JSON object per event: `timestamp, computer, channel, event_id, record_id,
    /// source, event`.
    Jsonl,
    /// Comma-separated values with a header line, the JSON lines' keys as columns.
    Csv,
}

/// Arguments of `sigil search`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Logs (EVTX and JSON / JSON-lines files or folders, `-` for standard input), then the
    /// text to look for when no -e, --field or --eql is given: `sigil search logs/
    /// mimikatz`.
    #[arg(required = true, value_name = "LOGS... PATTERN")]
    pub logs_then_pattern: Vec<PathBuf>,
    /// A regular expression some value of the event matches; repeat for several.
    #[arg(long = "regex", short = 'e', value_name = "REGEX")]
    pub regex: Vec<String>,
    /// A field and its value (`*` and `?` wildcards), e.g. `--field EventID=4624`; repeat
    /// for several.
    #[arg(long, value_name = "NAME=VALUE")]
    pub field: Vec<String>,
    /// A single-event EQL query, over the events' own field names and their ECS names;
    /// repeat for several.
    #[arg(long, value_name = "QUERY")]
    pub eql: Vec<String>,
    /// Compare texts, expressions and values with their case (ignored by default).
    #[arg(long, short = 's')]
    pub case_sensitive: bool,
    /// An event must match every pattern, expression, field and query given (by default,
    /// any one).
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the events found to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 't', value_name = "N")]
    pub threads: Option<usize>,
    /// Do not show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    #[command(flatten)]
    pub filter: super::filter_args::FilterArgs,
}

/// Runs the search: exit 0 when an event matched, 1 when none did, 2 on error.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let pool = super::worker_pool(args.threads)?;
    pool.install(|| search(args))
}

/// The logs and needles of the arguments: without -e, --field or --eql, the last
/// positional argument is the pattern.
fn needles(args: &Args) -> anyhow::Result<(Vec<PathBuf>, Vec<Needle>)> {
    let mut logs = args.logs_then_pattern.clone();
    let mut needles: Vec<Needle> = Vec::new();
    if args.regex.is_empty() && args.field.is_empty() && args.eql.is_empty() {
        if logs.len() < 2 {
            anyhow::bail!(
                "give the logs, then the text to look for (`sigil search logs/ mimikatz`), \
                 or -e REGEX, --field NAME=VALUE or --eql QUERY"
            );
        }
        let pattern = logs.pop().unwrap_or_default();
        needles.push(Needle::Text(pattern.to_string_lossy().into_owned()));
    }
    needles.extend(args.regex.iter().cloned().map(Needle::Regex));
    needles.extend(args.field.iter().cloned().map(Needle::Field));
    needles.extend(args.eql.iter().cloned().map(Needle::Eql));
    Ok((logs, needles))
}

fn search(args: &Args) -> anyhow::Result<ExitCode> {
    let (paths, needles) = needles(args)?;
    let search = Search::new(&needles, args.case_sensitive, args.all)?;
    let filter = args.filter.event_filter()?;
    let logs = Logs::find(&paths, &|_| false)?;
    for e in logs.unreadable() {
        eprintln!("read error: {e}");
    }
    if logs.is_empty() {
        anyhow::bail!("no log to search in {}", super::join_paths(&paths));
    }
    let progress = if args.no_progress || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(logs.parts().len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} searching [{bar:30}] {pos}/{len} parts {elapsed}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    };
    let mut out = Output::open(args.format, args.output.as_ref())?;
    // The table shows each event's key fields (its details template) where there is one.
    let details = (args.format == Format::Table).then(sigil_hunt::Details::builtin);
    let mut found = 0usize;
    let read = logs.read(
        &filter,
        &|| progress.inc(1),
        || search.scan(),
        |scan, events, part| {
            let mut hits = Vec::new();
            events.each(part, &mut |meta, event| {
                if search.matches(scan, event) {
                    let text = details
                        .as_ref()
                        .map(|d| d.render(event, &[]))
                        .unwrap_or_default();
                    hits.push((Hit::of(meta, event), text));
                }
            });
            hits
        },
        |hits: Vec<(Hit, String)>| {
            for (hit, text) in &hits {
                found += 1;
                out.write(hit, text)?;
            }
            Ok::<(), std::io::Error>(())
        },
    )?;
    progress.finish_and_clear();
    out.finish()?;
    let stats = &read.stats;
    for e in &stats.errors {
        eprintln!("read error: {e}");
    }
    let count = super::count;
    eprintln!(
        "{} searched in {} ({} and {} skipped); {} found",
        count(stats.events as usize, "event", "events"),
        count(read.files, "file", "files"),
        count(stats.skipped_records as usize, "record", "records"),
        count(stats.skipped_chunks as usize, "chunk", "chunks"),
        count(found, "event", "events"),
    );
    super::print_window_counts(stats);
    Ok(if found > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Where hits are written.
struct Output {
    format: Format,
    out: Box<dyn Write + Send>,
    line: Vec<u8>,
}

impl Output {
    fn open(format: Format, path: Option<&PathBuf>) -> anyhow::Result<Self> {
        let out: Box<dyn Write + Send> = match path {
            Some(path) => Box::new(std::io::BufWriter::with_capacity(
                256 * 1024,
                std::fs::File::create(path)
                    .with_context(|| format!("cannot write {}", path.display()))?,
            )),
            None => Box::new(std::io::BufWriter::with_capacity(
                256 * 1024,
                std::io::stdout(),
            )),
        };
        let mut output = Self {
            format,
            out,
            line: Vec::new(),
        };
        match format {
            Format::Csv => writeln!(
                output.out,
                "timestamp,computer,channel,event_id,record_id,source,event"
            )?,
            Format::Table => writeln!(
                output.out,
                "{:<27}  {:<24}  {:>6}  {:>9}  {:<24}  event",
                "timestamp", "computer", "id", "record", "file"
            )?,
            Format::Jsonl => {}
        }
        Ok(output)
    }

    /// Writes one hit; `details` is its details line, for the table.
    fn write(&mut self, hit: &Hit, details: &str) -> std::io::Result<()> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let num = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
        match self.format {
            Format::Jsonl => {
                self.line.clear();
                hit.write_jsonl(&mut self.line);
                self.out.write_all(&self.line)
            }
            Format::Csv => {
                let cells = [
                    opt(&hit.timestamp),
                    opt(&hit.computer),
                    opt(&hit.channel),
                    num(hit.event_id),
                    num(hit.record_id),
                    hit.source.clone(),
                    hit.event.to_string(),
                ];
                let cells: Vec<String> = cells.iter().map(|c| super::hunt::csv_field(c)).collect();
                writeln!(self.out, "{}", cells.join(","))
            }
            Format::Table => {
                let text = summary(hit, details);
                let file = std::path::Path::new(&hit.source)
                    .file_name()
                    .map_or_else(|| hit.source.clone(), |n| n.to_string_lossy().into_owned());
                writeln!(
                    self.out,
                    "{:<27}  {:<24}  {:>6}  {:>9}  {:<24}  {}",
                    opt(&hit.timestamp),
                    opt(&hit.computer),
                    num(hit.event_id),
                    num(hit.record_id),
                    file,
                    text
                )
            }
        }
    }

    fn finish(mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// The event's details line, or its fields, shortened for the table.
fn summary(hit: &Hit, details: &str) -> String {
    let text = if details.is_empty() {
        hit.event.as_ref()
    } else {
        details
    };
    if text.chars().count() > 160 {
        text.chars().take(159).collect::<String>() + "…"
    } else {
        text.to_string()
    }
}
