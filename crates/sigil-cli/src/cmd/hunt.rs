//! `sigil hunt LOGS... --rules PATH...`: every rule over every event.
//!
//! The work is the library's: rules are loaded by `sigil-load`, rewritten by the pipelines
//! of `sigil-pipeline`, compiled once by `sigil-engine`, and logs are read by `sigil-logs`
//! in parallel parts. This module chooses pipelines, renders detections and the summary,
//! and maps the outcome to an exit code.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use sigil_core::{Level, Rule, RuleBody};
use sigil_engine::{Engine, EngineOptions, Matched, SummaryFields};
use sigil_logs::{Event, FieldValue};
use sigil_pipeline::{Pipeline, PipelineSet};

/// Output formats of `sigil hunt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned table, for reading.
    Table,
    /// One JSON object per detection.
    Jsonl,
    /// Comma-separated values with a header line.
    Csv,
}

/// Arguments of `sigil hunt`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Logs: EVTX and JSON / JSON-lines files or folders (searched recursively); `-` reads
    /// JSON lines from standard input.
    #[arg(required = true, value_name = "LOGS")]
    pub logs: Vec<PathBuf>,
    /// Rule files or folders (Sigma `.yml`, Elastic `.toml`).
    #[arg(long, short = 'r', required = true, num_args = 1.., value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// A processing pipeline, built-in name or YAML file; repeat to combine them. Without
    /// one, Windows rules are mapped to Sysmon events (`sysmon` + `windows-logsources`) and
    /// also to Security audit events (`windows-audit` + `windows-logsources`).
    #[arg(long, short = 'p', value_name = "NAME|FILE")]
    pub pipeline: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write detections to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 't', value_name = "N")]
    pub threads: Option<usize>,
    /// Report only detections of rules at this level or above.
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub min_level: Option<Level>,
    /// Do not show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

fn parse_level(text: &str) -> Result<Level, String> {
    Level::from_name(text).ok_or_else(|| {
        format!("unknown level `{text}` (informational, low, medium, high, critical)")
    })
}

/// A rule that is not hunted with, and why.
struct Skipped {
    who: String,
    reason: String,
}

/// One detection, rendered to the output's needs and kept until the end so that output
/// comes in input order whatever the thread count.
struct Found {
    rule_id: Option<String>,
    title: String,
    level: Option<Level>,
    tags: Vec<String>,
    timestamp: Option<String>,
    computer: Option<String>,
    channel: Option<String>,
    event_id: Option<i64>,
    record_id: Option<i64>,
    source: Option<String>,
    /// The event's fields as a compact JSON object (see [`event_json`]), shared by the
    /// detections of one event.
    event: Arc<str>,
}

/// Runs the hunt.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = args.threads {
        anyhow::ensure!(n > 0, "--threads must be at least 1");
        pool = pool.num_threads(n);
    }
    let pool = pool.build().context("cannot start worker threads")?;
    pool.install(|| hunt(args))
}

fn hunt(args: &Args) -> anyhow::Result<ExitCode> {
    let alternatives = pipeline_sets(&args.pipeline)?;
    let loaded = sigil_load::load(&args.rules, sigil_load::Options::default());
    let mut skipped: Vec<Skipped> = loaded
        .errors()
        .map(|d| Skipped {
            who: format!(
                "{}:{}:{}",
                d.path.display(),
                d.diagnostic.span.line.max(1),
                d.diagnostic.span.column.max(1)
            ),
            reason: d.diagnostic.message.clone(),
        })
        .collect();
    if loaded.rules.is_empty() {
        for s in &skipped {
            eprintln!("{}: {}", s.who, s.reason);
        }
        anyhow::bail!("no rule could be loaded from {}", join_paths(&args.rules));
    }

    let rules = process_rules(&loaded.rules, &alternatives, &mut skipped);
    let ecs = ecs_mapping(&loaded.rules);
    let engine = Engine::compile(&rules, EngineOptions::default());
    for s in engine.skipped() {
        let path = rule_origin(&loaded.rules, &rules[s.index]);
        skipped.push(Skipped {
            who: format!("{path}: {}", s.title),
            reason: s.error.to_string(),
        });
    }

    let mut discovery = sigil_logs::discover(&args.logs);
    // The output file may lie among the logs (`hunt logs/ -o logs/found.jsonl`): a previous
    // run's output is not a log to hunt in, and this run's is being written.
    if let Some(output) = args.output.as_deref().and_then(resolved) {
        discovery.inputs.retain(|input| {
            input.path.file_name() != output.file_name()
                || input.path.canonicalize().ok().as_deref() != Some(output.as_path())
        });
    }
    let read_errors: Vec<String> = discovery.errors.iter().map(ToString::to_string).collect();
    let parts =
        sigil_logs::split_into_parts(&discovery.inputs, sigil_logs::DEFAULT_CHUNKS_PER_PART);
    let progress = progress_bar(args, parts.len() as u64);
    let min_level = args.min_level;
    let fields = &engine.options().summary_fields;

    // Every worker takes the next part, reads it with its own reader and scan, and hands
    // the part's detections to the ordered output: whoever completes the oldest pending
    // part writes it and every completed part after it. So output comes in input order
    // whatever the thread count, no worker waits for the others at a barrier, and memory
    // stays bounded: a worker does not start a part more than `MAX_PARTS_AHEAD` beyond
    // the oldest pending one.
    let out = Output::open(args)?;
    let ordered = std::sync::Mutex::new(Ordered {
        out,
        next: 0,
        done: BTreeMap::new(),
        stats: sigil_logs::FileStats::default(),
        hits: sigil_engine::CorrelationHits::default(),
        tally: Tally::default(),
        error: None,
    });
    let written = std::sync::Condvar::new();
    let claimed = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut reader = sigil_logs::Reader::new();
        let mut scan = engine.scan();
        loop {
            let i = claimed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(part) = parts.get(i) else { break };
            {
                // Wait while too far ahead of the output (the oldest pending part is
                // being read by a worker that does not wait, so this ends).
                let Ok(mut o) = ordered.lock() else { break };
                while i >= o.next + MAX_PARTS_AHEAD && o.error.is_none() {
                    let Ok(next) = written.wait(o) else { return };
                    o = next;
                }
                if o.error.is_some() {
                    break;
                }
            }
            scan.set_source(Some(Arc::from(part.input.path.to_string_lossy().as_ref())));
            let mut found = Vec::new();
            let stats = reader.read_part(part, &mut |_meta, event| {
                // The event's JSON, written once however many rules it matches.
                let mut json: Option<Arc<str>> = None;
                let mut sink = |d: &sigil_engine::Detection<'_>| {
                    if level_ok(d.rule.level, min_level) {
                        found.push(found_of(d, fields, &mut json));
                    }
                };
                match ecs {
                    Some(m) => scan.event(&m.view(event), &mut sink),
                    None => scan.event(event, &mut sink),
                };
            });
            progress.inc(1);
            let Ok(mut o) = ordered.lock() else { break };
            o.done.insert(i, (scan.take_hits(), found, stats));
            if o.flush() {
                written.notify_all();
            }
        }
    };
    let threads = rayon::current_num_threads();
    rayon::scope(|s| {
        for _ in 1..threads {
            s.spawn(|_| work());
        }
        work();
    });
    let Ordered {
        out,
        stats,
        hits,
        mut tally,
        error,
        ..
    } = ordered
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a worker thread failed"))?;
    let mut out = out;
    if let Some(e) = error {
        return Err(e);
    }
    progress.finish_and_clear();
    let untimed = hits.untimed;
    let mut correlated = Vec::new();
    engine.finish(hits, &mut |d: &sigil_engine::Detection<'_>| {
        if level_ok(d.rule.level, min_level) {
            correlated.push(found_of(d, fields, &mut None));
        }
    });
    for f in &correlated {
        tally.add(f);
        out.write(f)?;
    }
    out.finish()?;
    // Regular expressions are built when first needed: one too large to build is only
    // known now, and its rule matched nothing.
    let failed = engine.failed_while_matching();
    for s in &failed {
        let path = rule_origin(&loaded.rules, &rules[s.index]);
        skipped.push(Skipped {
            who: format!("{path}: {}", s.title),
            reason: s.error.to_string(),
        });
    }
    summarize(&Summary {
        files: discovery.inputs.len(),
        stats: &stats,
        read_errors: &read_errors,
        rules_read: loaded.rules.len(),
        rule_files: loaded.files,
        compiled: rules.len() - engine.skipped().len() - failed.len(),
        skipped: &skipped,
        tally: &tally,
        untimed,
    });
    // The process ends with the hunt: freeing thousands of compiled rules and their
    // automata piece by piece would only delay the exit.
    std::mem::forget(engine);
    std::mem::forget(rules);
    std::mem::forget(loaded);
    Ok(if tally.total == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `path` with its folder resolved (the file itself may not exist yet).
fn resolved(path: &std::path::Path) -> Option<std::path::PathBuf> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    Some(folder.canonicalize().ok()?.join(path.file_name()?))
}

/// The ECS view of raw Windows events, needed when Elastic rules (written in ECS) are
/// hunted with; Sigma-only runs read events as they are.
fn ecs_mapping(
    loaded: &[sigil_load::LoadedRule],
) -> Option<&'static sigil_pipeline::ecs::EcsMapping> {
    loaded
        .iter()
        .any(|lr| {
            lr.rule.language == sigil_core::RuleLanguage::Elastic
                || lr.rule.taxonomy.as_deref() == Some("ecs")
        })
        .then(sigil_pipeline::ecs::windows_to_ecs)
}

/// The pipeline sets to process rules with: the user's (as one set), or the defaults.
fn pipeline_sets(names: &[String]) -> anyhow::Result<Vec<PipelineSet>> {
    let resolve = |names: &[&str]| -> anyhow::Result<PipelineSet> {
        let pipelines = names
            .iter()
            .map(|n| Pipeline::resolve(n).map_err(|e| anyhow::anyhow!("{e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(PipelineSet::new(pipelines))
    };
    if names.is_empty() {
        return Ok(vec![
            resolve(&["sysmon", "windows-logsources"])?,
            resolve(&["windows-audit", "windows-logsources"])?,
        ]);
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    Ok(vec![resolve(&names)?])
}

/// Each rule through each pipeline set. The first set always yields the rule; a further
/// set adds a variant only when it changes the rule differently (e.g. `windows-audit`
/// turning a process-creation rule into a Security 4688 one), so each source of events
/// is searched once. Correlations and filters go through unchanged: their fields are
/// those of the rules they refer to.
fn process_rules(
    loaded: &[sigil_load::LoadedRule],
    sets: &[PipelineSet],
    skipped: &mut Vec<Skipped>,
) -> Vec<Rule> {
    use rayon::prelude::*;
    let processed: Vec<(Vec<Rule>, Option<Skipped>)> = loaded
        .par_iter()
        .map(|lr| {
            let rule = &lr.rule;
            if !matches!(rule.body, RuleBody::Detection(_)) {
                return (vec![rule.clone()], None);
            }
            let mut variants: Vec<Rule> = Vec::new();
            let mut first_applied = std::collections::BTreeSet::new();
            let mut failure = None;
            for (i, set) in sets.iter().enumerate() {
                match set.process(rule) {
                    Ok(p) if i == 0 => {
                        first_applied = p.applied;
                        variants.push(p.rule);
                    }
                    // A further set counts only where it does something the first did not.
                    Ok(p) if !p.applied.is_subset(&first_applied) => {
                        if !variants.contains(&p.rule) {
                            variants.push(p.rule);
                        }
                    }
                    Ok(_) => {}
                    Err(e) if i == 0 => failure = Some(e.to_string()),
                    Err(_) => {}
                }
            }
            let skip = failure
                .filter(|_| variants.is_empty())
                .map(|reason| Skipped {
                    who: format!("{}: {}", lr.path.display(), rule.title),
                    reason,
                });
            (variants, skip)
        })
        .collect();
    let mut rules = Vec::with_capacity(processed.len());
    for (variants, skip) in processed {
        rules.extend(variants);
        skipped.extend(skip);
    }
    rules
}

fn rule_origin(loaded: &[sigil_load::LoadedRule], rule: &Rule) -> String {
    loaded
        .iter()
        .find(|lr| lr.rule.id == rule.id && lr.rule.title == rule.title)
        .map_or_else(|| "?".to_string(), |lr| lr.path.display().to_string())
}

fn level_ok(level: Option<Level>, min: Option<Level>) -> bool {
    match min {
        None => true,
        Some(min) => level.is_some_and(|l| l >= min),
    }
}

/// The output record of a detection. `json` keeps the JSON of the event matched: the
/// detections of one event share it.
fn found_of(
    d: &sigil_engine::Detection<'_>,
    fields: &SummaryFields,
    json: &mut Option<Arc<str>>,
) -> Found {
    let summary = d.summary(fields);
    let event = match d.matched {
        Matched::Event(e) => Arc::clone(json.get_or_insert_with(|| event_json(e).into())),
        Matched::Correlation(c) => serde_json::json!({
            "correlation": c.kind.name(),
            "group": c.group.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
            "value": c.value,
            "events": c.events.iter().map(|e| serde_json::json!({
                "rule_id": e.rule.id,
                "rule_title": e.rule.title,
                "timestamp": e.summary.timestamp,
                "computer": e.summary.computer,
                "event_id": e.summary.event_id,
                "record_id": e.summary.record_id,
                "source": e.source.as_deref(),
            })).collect::<Vec<_>>(),
        })
        .to_string()
        .into(),
    };
    Found {
        rule_id: d.rule.id.clone(),
        title: d.rule.title.clone(),
        level: d.rule.level,
        tags: d.rule.tags.clone(),
        timestamp: summary.timestamp,
        computer: summary.computer,
        channel: summary.channel,
        event_id: summary.event_id,
        record_id: summary.record_id,
        source: d.source.map(str::to_string),
        event,
    }
}

/// The event's fields as one compact JSON object, in the event's order; repeated names
/// (JSON arrays flattened by the reader) become arrays again, in the first one's place.
fn event_json(event: &dyn Event) -> String {
    // Names are almost always distinct: write straight through, and gather repeated
    // names only when one shows up. Names are compared by their hash first (equal names
    // have equal hashes).
    let mut out = Vec::with_capacity(1024);
    let mut names = String::new();
    let mut seen: Vec<(u32, usize, usize)> = Vec::with_capacity(64);
    let mut repeated = false;
    out.push(b'{');
    event.for_each_field_hashed(&mut |hash, name, value| {
        if repeated {
            return;
        }
        if seen
            .iter()
            .any(|&(h, start, end)| h == hash && &names[start..end] == name)
        {
            repeated = true;
            return;
        }
        seen.push((hash, names.len(), names.len() + name.len()));
        names.push_str(name);
        if out.len() > 1 {
            out.push(b',');
        }
        write_json(&mut out, name);
        out.push(b':');
        write_json_value(&mut out, &value);
    });
    if repeated {
        return event_json_grouped(event);
    }
    out.push(b'}');
    String::from_utf8(out).unwrap_or_default()
}

/// [`event_json`] for events with repeated names.
fn event_json_grouped(event: &dyn Event) -> String {
    let mut map = serde_json::Map::new();
    event.for_each_field(&mut |name, value| {
        let v = match value {
            FieldValue::Str(s) => serde_json::Value::String(s.into_owned()),
            FieldValue::Int(i) => i.into(),
            FieldValue::UInt(u) => u.into(),
            FieldValue::Float(f) => serde_json::Number::from_f64(f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            FieldValue::Bool(b) => b.into(),
            FieldValue::Null => serde_json::Value::Null,
        };
        match map.get_mut(name) {
            None => {
                map.insert(name.to_string(), v);
            }
            Some(serde_json::Value::Array(a)) => a.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = serde_json::Value::Array(vec![first, v]);
            }
        }
    });
    serde_json::Value::Object(map).to_string()
}

/// Writes a value as serde_json does (a non-finite float is `null`).
fn write_json_value(out: &mut Vec<u8>, value: &FieldValue<'_>) {
    match value {
        FieldValue::Str(s) => write_json(out, s.as_ref()),
        FieldValue::Int(i) => write_json(out, i),
        FieldValue::UInt(u) => write_json(out, u),
        FieldValue::Float(f) if f.is_finite() => write_json(out, f),
        FieldValue::Float(_) | FieldValue::Null => out.extend_from_slice(b"null"),
        FieldValue::Bool(b) => write_json(out, b),
    }
}

/// Writes `value` as compact JSON (writing to memory cannot fail).
fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let _ = serde_json::to_writer(out, value);
}

fn progress_bar(args: &Args, parts: u64) -> indicatif::ProgressBar {
    if args.no_progress || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(parts);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} reading logs [{bar:30}] {pos}/{len} parts {elapsed}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// How far beyond the oldest part not yet written a worker may start a part (see
/// `hunt`): this bounds the detections held in memory.
const MAX_PARTS_AHEAD: usize = 64;

/// What a part gives: its correlation hits, detections and reading statistics.
type PartResult = (
    sigil_engine::CorrelationHits,
    Vec<Found>,
    sigil_logs::FileStats,
);

/// The output side of a hunt, shared by the workers: parts completed out of order wait
/// in `done` until every part before them is written.
struct Ordered {
    out: Output,
    /// The next part to write.
    next: usize,
    done: BTreeMap<usize, PartResult>,
    stats: sigil_logs::FileStats,
    hits: sigil_engine::CorrelationHits,
    tally: Tally,
    /// The first write error; workers stop when there is one.
    error: Option<anyhow::Error>,
}

impl Ordered {
    /// Writes the completed parts that are next in input order; whether any was.
    fn flush(&mut self) -> bool {
        let start = self.next;
        while let Some((hits, found, stats)) = self.done.remove(&self.next) {
            self.next += 1;
            self.hits.merge(hits);
            self.stats.merge(stats);
            for f in &found {
                self.tally.add(f);
                if self.error.is_none()
                    && let Err(e) = self.out.write(f)
                {
                    self.error = Some(e);
                }
            }
        }
        self.next > start
    }
}

/// Detections counted by level, for the summary.
#[derive(Default)]
struct Tally {
    total: usize,
    by_level: BTreeMap<Option<Level>, usize>,
}

impl Tally {
    fn add(&mut self, f: &Found) {
        self.total += 1;
        *self.by_level.entry(f.level).or_default() += 1;
    }
}

/// Detections are written in blocks of this size: a detection line holds its whole event
/// (about 2 KB), and the default 8 KiB buffer made a write system call every few lines.
const OUTPUT_BUFFER: usize = 256 * 1024;

/// Where detections are written, in the chosen format. A table needs its column widths,
/// so its rows are kept until the end (a table is for reading, so it is small); the
/// other formats stream.
struct Output {
    format: Format,
    out: Box<dyn Write + Send>,
    rows: Vec<[String; 6]>,
    /// A JSON line being written.
    line: Vec<u8>,
}

impl Output {
    fn open(args: &Args) -> anyhow::Result<Self> {
        let out: Box<dyn Write + Send> = match &args.output {
            Some(path) => Box::new(std::io::BufWriter::with_capacity(
                OUTPUT_BUFFER,
                std::fs::File::create(path)
                    .with_context(|| format!("cannot write {}", path.display()))?,
            )),
            None => Box::new(std::io::BufWriter::with_capacity(
                OUTPUT_BUFFER,
                std::io::stdout(),
            )),
        };
        let mut output = Self {
            format: args.format,
            out,
            rows: Vec::new(),
            line: Vec::new(),
        };
        if output.format == Format::Csv {
            writeln!(output.out, "{}", CSV_HEADER.join(","))?;
        }
        Ok(output)
    }

    fn write(&mut self, f: &Found) -> anyhow::Result<()> {
        match self.format {
            Format::Jsonl => {
                // The keys in this order, as `serde_json::json!` with `preserve_order`
                // writes them; the event is JSON already.
                let line = &mut self.line;
                line.clear();
                let key = |line: &mut Vec<u8>, name: &str| {
                    line.push(if line.is_empty() { b'{' } else { b',' });
                    write_json(line, name);
                    line.push(b':');
                };
                key(line, "rule_id");
                write_json(line, &f.rule_id);
                key(line, "rule_title");
                write_json(line, &f.title);
                key(line, "level");
                write_json(line, &f.level.map(Level::name));
                key(line, "tags");
                write_json(line, &f.tags);
                key(line, "timestamp");
                write_json(line, &f.timestamp);
                key(line, "computer");
                write_json(line, &f.computer);
                key(line, "channel");
                write_json(line, &f.channel);
                key(line, "event_id");
                write_json(line, &f.event_id);
                key(line, "record_id");
                write_json(line, &f.record_id);
                key(line, "source");
                write_json(line, &f.source);
                key(line, "event");
                line.extend_from_slice(f.event.as_bytes());
                line.extend_from_slice(b"}\n");
                self.out.write_all(line)?;
            }
            Format::Csv => {
                let row: Vec<String> = row_of(f).iter().map(|c| csv_field(c)).collect();
                writeln!(self.out, "{}", row.join(","))?;
            }
            Format::Table => self.rows.push(table_row(f)),
        }
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<()> {
        if self.format == Format::Table {
            write_table(&mut self.out, &self.rows)?;
        }
        self.out.flush()?;
        Ok(())
    }
}

const CSV_HEADER: [&str; 11] = [
    "timestamp",
    "level",
    "rule_title",
    "rule_id",
    "tags",
    "computer",
    "channel",
    "event_id",
    "record_id",
    "source",
    "event",
];

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn row_of(f: &Found) -> [String; 11] {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    [
        opt(&f.timestamp),
        f.level.map(Level::name).unwrap_or_default().to_string(),
        f.title.clone(),
        opt(&f.rule_id),
        f.tags.join(" "),
        opt(&f.computer),
        opt(&f.channel),
        num(f.event_id),
        num(f.record_id),
        opt(&f.source),
        f.event.to_string(),
    ]
}

fn table_row(f: &Found) -> [String; 6] {
    let r = row_of(f);
    let event = match (&f.event_id, &f.record_id) {
        (Some(e), Some(r)) => format!("{e} #{r}"),
        (Some(e), None) => e.to_string(),
        _ => String::new(),
    };
    let source = f
        .source
        .as_deref()
        .map(|s| {
            Path::new(s)
                .file_name()
                .map_or(s.to_string(), |n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    [
        r[0].clone(),
        r[1].clone(),
        truncate(&r[2], 70),
        r[5].clone(),
        event,
        source,
    ]
}

fn write_table(out: &mut dyn Write, rows: &[[String; 6]]) -> std::io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let header = ["timestamp", "level", "rule", "computer", "event", "source"];
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| -> String {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(out, "{}", line(&header))?;
    for row in rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        writeln!(out, "{}", line(&cells))?;
    }
    Ok(())
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut t: String = text.chars().take(max - 1).collect();
    t.push('…');
    t
}

struct Summary<'a> {
    files: usize,
    stats: &'a sigil_logs::FileStats,
    read_errors: &'a [String],
    rules_read: usize,
    rule_files: usize,
    compiled: usize,
    skipped: &'a [Skipped],
    tally: &'a Tally,
    untimed: usize,
}

fn summarize(s: &Summary<'_>) {
    for e in s.read_errors.iter().chain(&s.stats.errors) {
        eprintln!("read error: {e}");
    }
    for sk in s.skipped {
        eprintln!("skipped rule: {}: {}", sk.who, sk.reason);
    }
    let levels: Vec<String> = s
        .tally
        .by_level
        .iter()
        .rev()
        .map(|(l, n)| format!("{} {n}", l.map_or("no level", Level::name)))
        .collect();
    eprintln!(
        "{} files, {} events ({} records and {} chunks skipped, {} read errors)",
        s.files,
        s.stats.events,
        s.stats.skipped_records,
        s.stats.skipped_chunks,
        s.read_errors.len() + s.stats.errors.len()
    );
    eprintln!(
        "{} rules read from {} files ({} matchers compiled, one per log source mapping), {} skipped",
        s.rules_read,
        s.rule_files,
        s.compiled,
        s.skipped.len()
    );
    if s.untimed > 0 {
        eprintln!(
            "{} matches had no readable timestamp and were left out of correlations",
            s.untimed
        );
    }
    if levels.is_empty() {
        eprintln!("no detection");
    } else {
        eprintln!("{} detections: {}", s.tally.total, levels.join(", "));
    }
}

fn join_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
