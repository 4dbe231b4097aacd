//! `sigil metrics LOGS... [--format table|json|csv] [--logons]`: what the logs hold.
//!
//! The counting is `sigil-hunt`'s ([`sigil_hunt::Metrics`]); logs are read in parallel
//! parts, merged in input order. This module writes the report.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use sigil_hunt::{Logs, Metrics, MetricsReport};

/// Output formats of `sigil metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Tables, one per section.
    Table,
    /// One JSON object: `files, events, by_event, by_computer, by_file` (and `logons`).
    Json,
    /// One CSV table, a row per count, its first column naming the section.
    Csv,
}

/// Arguments of `sigil metrics`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Logs: EVTX and JSON / JSON-lines files or folders; `-` reads standard input.
    #[arg(required = true, value_name = "LOGS")]
    pub logs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also successful and failed logons per user, source address and logon type (4624,
    /// 4625, 4648, RDP 4778, 4779 and 1149), with the first and last seen.
    #[arg(long)]
    pub logons: bool,
    /// Write the report to this file instead of standard output.
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

/// Runs the command: exit 0, or 2 on error (no event read, a missing path).
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let pool = super::worker_pool(args.threads)?;
    pool.install(|| metrics(args))
}

fn metrics(args: &Args) -> anyhow::Result<ExitCode> {
    let filter = args.filter.event_filter()?;
    let logs = Logs::find(&args.logs, &|_| false)?;
    for e in logs.unreadable() {
        eprintln!("read error: {e}");
    }
    if logs.is_empty() {
        anyhow::bail!("no log to read in {}", super::join_paths(&args.logs));
    }
    let progress = if args.no_progress || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(logs.parts().len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} counting [{bar:30}] {pos}/{len} parts {elapsed}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    };
    let mut total = Metrics::new(args.logons);
    let read = logs
        .read(
            &filter,
            &|| progress.inc(1),
            || (),
            |(), events, part| {
                let mut m = Metrics::new(args.logons);
                m.file_read(&part.input.path.to_string_lossy());
                events.each(part, &mut |meta, event| m.add(meta, event));
                m
            },
            |m: Metrics| {
                total.merge(m);
                Ok::<(), std::convert::Infallible>(())
            },
        )
        .unwrap_or_else(|never| match never {});
    let stats = read.stats;
    progress.finish_and_clear();
    for e in &stats.errors {
        eprintln!("read error: {e}");
    }
    if stats.events + stats.outside_window + stats.chunks_outside_window == 0 {
        anyhow::bail!(
            "no event could be read from {}",
            super::join_paths(&args.logs)
        );
    }
    let report = total.report(&sigil_hunt::Details::builtin());
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Csv => write_csv(&mut out, &report)?,
        Format::Table => write_tables(&mut out, &report)?,
    }
    out.flush()?;
    let count = super::count;
    eprintln!(
        "{} in {} ({} and {} skipped)",
        count(stats.events as usize, "event", "events"),
        count(report.files, "file", "files"),
        count(stats.skipped_records as usize, "record", "records"),
        count(stats.skipped_chunks as usize, "chunk", "chunks"),
    );
    Ok(ExitCode::SUCCESS)
}

fn opt(v: Option<&str>) -> &str {
    v.unwrap_or("")
}

fn num(v: Option<u64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

fn time(t: Option<i64>) -> String {
    t.map(sigil_logs::format_timestamp_micros)
        .unwrap_or_default()
}

/// One CSV table: `section` names the count, the other columns are filled where they
/// apply.
fn write_csv(out: &mut dyn Write, r: &MetricsReport) -> std::io::Result<()> {
    let csv = super::hunt::csv_field;
    writeln!(
        out,
        "section,channel,event_id,name,computer,path,outcome,user,domain,source_ip,logon_type,count,first,last"
    )?;
    for e in &r.by_event {
        writeln!(
            out,
            "event,{},{},{},,,,,,,,{},,",
            csv(opt(e.channel.as_deref())),
            num(e.event_id),
            csv(opt(e.name.as_deref())),
            e.count
        )?;
    }
    for c in &r.by_computer {
        writeln!(
            out,
            "computer,,,,{},,,,,,,{},,",
            csv(opt(c.computer.as_deref())),
            c.count
        )?;
    }
    for f in &r.by_file {
        writeln!(
            out,
            "file,,,,,{},,,,,,{},{},{}",
            csv(&f.path),
            f.events,
            time(f.first),
            time(f.last)
        )?;
    }
    for l in r.logons.iter().flatten() {
        writeln!(
            out,
            "logon,,{},,,,{},{},{},{},{},{},{},{}",
            l.event_id,
            l.outcome,
            csv(opt(l.user.as_deref())),
            csv(opt(l.domain.as_deref())),
            csv(opt(l.source_ip.as_deref())),
            csv(opt(l.logon_type.as_deref())),
            l.count,
            time(l.first),
            time(l.last)
        )?;
    }
    Ok(())
}

/// Writes rows aligned under their header.
fn table(
    out: &mut dyn Write,
    title: &str,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    writeln!(out, "{title}")?;
    for line in super::hunt::aligned(header, rows) {
        writeln!(out, "  {line}")?;
    }
    writeln!(out)
}

fn write_tables(out: &mut dyn Write, r: &MetricsReport) -> std::io::Result<()> {
    writeln!(out, "{} events in {} files\n", r.events, r.files)?;
    let rows: Vec<Vec<String>> = r
        .by_event
        .iter()
        .map(|e| {
            vec![
                e.count.to_string(),
                opt(e.channel.as_deref()).to_string(),
                num(e.event_id),
                opt(e.name.as_deref()).to_string(),
            ]
        })
        .collect();
    table(
        out,
        "Events by channel and event id",
        &["count", "channel", "id", "name"],
        &rows,
    )?;
    let rows: Vec<Vec<String>> = r
        .by_computer
        .iter()
        .map(|c| vec![c.count.to_string(), opt(c.computer.as_deref()).to_string()])
        .collect();
    table(out, "Events by computer", &["count", "computer"], &rows)?;
    let rows: Vec<Vec<String>> = r
        .by_file
        .iter()
        .map(|f| {
            vec![
                f.events.to_string(),
                time(f.first),
                time(f.last),
                f.path.clone(),
            ]
        })
        .collect();
    table(out, "Files", &["events", "first", "last", "path"], &rows)?;
    if let Some(logons) = &r.logons {
        let rows: Vec<Vec<String>> = logons
            .iter()
            .map(|l| {
                vec![
                    l.count.to_string(),
                    l.event_id.to_string(),
                    l.outcome.to_string(),
                    match (&l.domain, &l.user) {
                        (Some(d), Some(u)) => format!("{d}\\{u}"),
                        (None, Some(u)) => u.clone(),
                        _ => String::new(),
                    },
                    opt(l.source_ip.as_deref()).to_string(),
                    opt(l.logon_type.as_deref()).to_string(),
                    time(l.first),
                    time(l.last),
                ]
            })
            .collect();
        table(
            out,
            "Logons",
            &[
                "count", "id", "outcome", "user", "source", "type", "first", "last",
            ],
            &rows,
        )?;
    }
    Ok(())
}
