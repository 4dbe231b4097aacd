//! `sigil hunt LOGS... --rules PATH...`: every rule over every event.
//!
//! The work is the library's (`sigil-hunt`): rules loaded, left out with a reason where
//! they cannot be hunted with, processed by the pipelines and compiled once; logs read in
//! parallel parts with findings in input order. This module turns arguments into options,
//! renders findings and the summary, and maps the outcome to an exit code.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use sigil_core::{Level, Status};
use sigil_hunt::{
    Finding, HuntError, HuntOptions, Hunter, Logs, RuleSelection, RunOptions, SkipKind, SkippedRule,
};
use sigil_pipeline::LogScope;

mod output;
mod report;

use output::Output;
pub(crate) use output::{aligned, csv_field};

use super::{count, join_paths};
pub use output::{Format, Profile};

/// Arguments of `sigil hunt`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Logs: EVTX and JSON / JSON-lines files or folders (searched recursively); `-` reads
    /// standard input (JSON lines, or EVTX bytes).
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
    /// The columns of the table and CSV (default: standard for the table, all-fields for
    /// CSV); JSON lines always hold every key.
    #[arg(long, value_enum, value_name = "PROFILE")]
    pub profile: Option<Profile>,
    /// A details file (YAML, as the built-in `details.yml`): its templates extend the
    /// built-in ones, or replace them with `replace: true`.
    #[arg(long, value_name = "FILE")]
    pub details: Option<PathBuf>,
    /// The order of detections: as the logs are read (file by file, in record order), or
    /// by time across all logs (a merged timeline, sorted in bounded memory).
    #[arg(long, value_enum, default_value_t = Sort::Input)]
    pub sort: Sort,
    /// Also write a report for the hand-over to this file: one self-contained HTML page
    /// with the summary, charts (over time, by level, computer, rule and ATT&CK tactic),
    /// the top detections with their details and the text of every rule that fired.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
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
    /// Read every rule file with its front end. By default the rules of files read
    /// before are taken from the rule cache in the user's cache folder
    /// (`$XDG_CACHE_HOME/sigil` or `~/.cache/sigil`), which holds them by each file's
    /// content and never changes a result.
    #[arg(long)]
    pub no_cache: bool,
    /// What the JSON logs hold, e.g. `product=linux,service=auditd`: rules for other
    /// logsources are not evaluated against them. Without it, JSON events with `Channel`
    /// and `EventID` are Windows events and other events are checked against every rule.
    #[arg(long, value_name = "KEY=VALUE,...", value_parser = parse_logsource)]
    pub logsource: Option<LogScope>,
    /// Evaluate every rule against every event, whatever logsource the rule names.
    #[arg(long)]
    pub all_logsources: bool,
    /// Also hunt with rules their authors disabled (Elastic `enabled = false`).
    #[arg(long)]
    pub include_disabled: bool,
    #[command(flatten)]
    pub filter: super::filter_args::FilterArgs,
    /// Only rules of this status (stable, test, experimental, deprecated, unsupported);
    /// repeat for several.
    #[arg(long, value_name = "STATUS", value_parser = parse_status)]
    pub status: Vec<Status>,
    /// Only rules with this tag (e.g. `attack.t1047`, which also takes its sub-techniques,
    /// or `attack.execution`); repeat for several.
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
    /// Leave out the rules whose ids this file lists, one per line (`#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub exclude_rules: Option<PathBuf>,
    /// Exit with 2 when any log could not be read in full (an unreadable file, a damaged
    /// chunk), even when the rest was hunted.
    #[arg(long)]
    pub strict: bool,
}

/// The order of detections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Sort {
    /// Input order: file by file, each in record order; correlations last.
    Input,
    /// Timestamp order across all logs; detections without a time last.
    Time,
}

fn parse_logsource(text: &str) -> Result<LogScope, String> {
    LogScope::parse(text)
}

fn parse_status(text: &str) -> Result<Status, String> {
    Status::from_name(text).ok_or_else(|| {
        format!("unknown status `{text}` (stable, test, experimental, deprecated, unsupported)")
    })
}

/// The rule ids listed in `path`, one per line; blank lines and `#` comments are ignored.
fn read_rule_ids(path: &Path) -> anyhow::Result<std::collections::BTreeSet<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --exclude-rules file {}", path.display()))?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

fn parse_level(text: &str) -> Result<Level, String> {
    Level::from_name(text).ok_or_else(|| {
        format!("unknown level `{text}` (informational, low, medium, high, critical)")
    })
}

/// Runs the hunt.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let pool = super::worker_pool(args.threads)?;
    pool.install(|| hunt(args))
}

fn hunt(args: &Args) -> anyhow::Result<ExitCode> {
    let mut times = super::thread_times::ThreadTimes::from_env();
    // The output file may lie among the logs (`hunt logs/ -o logs/found.jsonl`): a previous
    // run's output is not a log to hunt in, and this run's is being written.
    let output = args.output.as_deref().and_then(resolved);
    let cache = if args.no_cache {
        None
    } else {
        sigil_load::RuleCache::user()
    };
    // The logs are found while the rules are read: both walk folders and read files, and
    // neither needs the other (processing the rules needs the kinds of logs found).
    let (logs, loaded) = rayon::join(
        || {
            Logs::find(&args.logs, &|path| {
                output.as_deref().is_some_and(|output| {
                    path.file_name() == output.file_name()
                        && path.canonicalize().ok().as_deref() == Some(output)
                })
            })
            .map(Logs::split_json_lines)
        },
        || sigil_load::load_cached(&args.rules, sigil_load::Options::default(), cache.as_ref()),
    );
    let logs = logs?;
    if logs.is_empty() {
        for e in logs.unreadable() {
            eprintln!("read error: {e}");
        }
        anyhow::bail!("no event could be read from {}", join_paths(&args.logs));
    }
    let filter = args.filter.event_filter()?;
    let select = RuleSelection {
        statuses: args.status.clone(),
        tags: args.tag.clone(),
        exclude_ids: match &args.exclude_rules {
            Some(path) => read_rule_ids(path)?,
            None => std::collections::BTreeSet::new(),
        },
    };
    let options = HuntOptions {
        pipelines: args.pipeline.clone(),
        json_logsource: args.logsource.clone(),
        all_logsources: args.all_logsources,
        include_disabled: args.include_disabled,
        logs: logs.mix(),
        select,
    };
    let details = match &args.details {
        Some(path) => Some(sigil_hunt::Details::with_file(path)?),
        None => None,
    };
    let sets = sigil_hunt::pipeline_sets(&options.pipelines)?;
    let mut hunter = match Hunter::prepare(loaded, &sets, &options) {
        Ok(h) => h,
        Err(HuntError::NoRules { skipped }) => {
            report_skipped(&skipped);
            anyhow::bail!("no rule to hunt with in {}", join_paths(&args.rules));
        }
        Err(e) => return Err(e.into()),
    };
    super::small_pages();
    if let Some(details) = details {
        hunter.set_details(details);
    }
    times.phase("start-up");
    let progress = progress_bar(args, logs.parts().len() as u64);
    let mut out = Output::open(args.format, args.profile, args.output.as_deref())?;
    let mut tally = Tally::default();
    let mut sorter = (args.sort == Sort::Time).then(sigil_hunt::TimeSorter::default);
    let mut hunt_report = args
        .report
        .as_ref()
        .map(|_| sigil_site::report::HuntReport::new());
    let summary = hunter.hunt(
        &logs,
        &RunOptions {
            min_level: args.min_level,
            filter,
        },
        &|| progress.inc(1),
        &mut |f| {
            tally.add(f);
            if let Some(r) = &mut hunt_report {
                r.add(report::detection(f));
            }
            match &mut sorter {
                Some(sorter) => sorter.push(f.clone()),
                None => out.write(f),
            }
        },
    )?;
    progress.finish_and_clear();
    times.phase("reading");
    if let Some(sorter) = sorter {
        sorter.finish(&mut |f| out.write(f))?;
    }
    out.finish()?;
    if let (Some(r), Some(path)) = (hunt_report, &args.report) {
        report::write(r, path, &hunter, &summary, &args.logs, &args.rules)?;
    }
    let unreadable = summary.read_errors.len();
    report(&Report {
        hunter: &hunter,
        summary: &summary,
        tally: &tally,
    });
    times.phase("output");
    times.print();
    // The process ends with the hunt: freeing thousands of compiled rules and their
    // automata piece by piece would only delay the exit.
    std::mem::forget(hunter);
    let stats = &summary.stats;
    if stats.events + stats.outside_window + stats.chunks_outside_window == 0 {
        anyhow::bail!("no event could be read from {}", join_paths(&args.logs));
    }
    if args.strict && (unreadable > 0 || summary.stats.skipped_chunks > 0) {
        eprintln!("sigil: --strict: some logs could not be read in full");
        return Ok(ExitCode::from(2));
    }
    Ok(if tally.total == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `path` with its folder resolved (the file itself may not exist yet).
fn resolved(path: &Path) -> Option<PathBuf> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(folder.canonicalize().ok()?.join(path.file_name()?))
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

/// Detections counted by level, for the summary.
#[derive(Default)]
struct Tally {
    total: usize,
    by_level: BTreeMap<Option<Level>, usize>,
}

impl Tally {
    fn add(&mut self, f: &Finding) {
        self.total += 1;
        *self.by_level.entry(f.level).or_default() += 1;
    }
}

struct Report<'a> {
    hunter: &'a Hunter,
    summary: &'a sigil_hunt::RunSummary,
    tally: &'a Tally,
}

/// Prints each rule left out, one line each, except those not for the logs, which are
/// counted by what they are for (a corpus holds hundreds of them).
fn report_skipped(skipped: &[SkippedRule]) {
    let mut not_for: BTreeMap<&str, usize> = BTreeMap::new();
    let mut filtered = 0;
    for s in skipped {
        match (&s.kind, &s.written_for) {
            (SkipKind::NotForLogs, Some(what)) => *not_for.entry(what).or_default() += 1,
            (SkipKind::Filtered, _) => filtered += 1,
            _ => eprintln!("skipped rule: {}: {}", s.who, s.reason),
        }
    }
    if filtered > 0 {
        eprintln!(
            "{} left out by --status, --tag or --exclude-rules",
            count(filtered, "rule", "rules")
        );
    }
    let total: usize = not_for.values().sum();
    if total > 0 {
        let mut groups: Vec<(&str, usize)> = not_for.into_iter().collect();
        groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let groups: Vec<String> = groups.iter().map(|(w, n)| format!("{w} {n}")).collect();
        eprintln!(
            "{} not for these logs, written for: {}; --all-logsources evaluates them",
            count(total, "rule", "rules"),
            groups.join(", ")
        );
    }
}

fn report(r: &Report<'_>) {
    let s = r.summary;
    for e in &s.read_errors {
        eprintln!("read error: {e}");
    }
    let mut skipped: Vec<SkippedRule> = r.hunter.skipped().to_vec();
    skipped.extend(s.failed_rules.iter().cloned());
    skipped.extend(s.not_for_logs.iter().cloned());
    report_skipped(&skipped);
    let levels: Vec<String> = r
        .tally
        .by_level
        .iter()
        .rev()
        .map(|(l, n)| format!("{} {n}", l.map_or("no level", Level::name)))
        .collect();
    let errors = s.read_errors.len();
    super::print_read_counts(s.files, &s.stats, errors);
    let loaded = r.hunter.loaded();
    let left_out = skipped
        .iter()
        .filter(|k| k.kind != SkipKind::Engine || s.failed_rules.contains(k))
        .count();
    eprintln!(
        "{} read from {} ({} compiled, one per log source mapping), {} skipped",
        count(loaded.rules.len(), "rule", "rules"),
        count(loaded.files, "file", "files"),
        count(
            r.hunter.matchers() - s.failed_rules.len(),
            "matcher",
            "matchers"
        ),
        left_out,
    );
    if !loaded.not_rules.is_empty() {
        eprintln!(
            "passed over {} in the rule folders that {} not Sigma rules",
            count(loaded.not_rules.len(), "YAML file", "YAML files"),
            if loaded.not_rules.len() == 1 {
                "is"
            } else {
                "are"
            }
        );
    }
    if s.unknown_events > 0 {
        eprintln!(
            "{} of unknown log source (not Windows events) were checked against every rule; \
             --logsource says what they are",
            count(s.unknown_events as usize, "JSON event", "JSON events")
        );
    }
    if s.untimed > 0 {
        eprintln!(
            "{} had no readable timestamp and were left out of correlations",
            count(s.untimed, "match", "matches")
        );
    }
    if errors > 0 || s.stats.skipped_chunks > 0 {
        eprintln!(
            "warning: some logs could not be read in full (see above); --strict makes this an error"
        );
    }
    if levels.is_empty() {
        eprintln!("no detection");
    } else {
        eprintln!(
            "{}: {}",
            count(r.tally.total, "detection", "detections"),
            levels.join(", ")
        );
    }
}
