//! `sigil convert -t TARGET [-t TARGET]... [-p PIPELINE]... [--format FORMAT] PATH...`
//!
//! Converts rules to queries, for one target or several in one run (the rules are read
//! once). Each rule converts or fails alone; failures are reported on stderr with the
//! construct the target cannot express, and the exit code is 1 if any rule failed (2 for
//! usage errors: unknown target, format or pipeline, or a pipeline for another target).
//! `--list-targets` lists the targets with their pipelines and formats.

mod list;
mod output;

use crate::cmd::count;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rayon::prelude::*;
use sigil_backend::{Conversion, ConvertError, ConvertedRule, Pipelines, TargetInfo};
use sigil_core::{Rule, Severity};
use sigil_pipeline::Pipeline;

use output::Format;

/// Arguments of `sigil convert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Target query language; repeat it (or separate names with commas) to convert to
    /// several targets in one run. `--list-targets` lists them.
    #[arg(
        short = 't',
        long = "target",
        value_delimiter = ',',
        required_unless_present = "list_targets"
    )]
    pub targets: Vec<String>,
    /// Processing pipeline, built in (e.g. sysmon, ecs_windows) or a YAML file; may be
    /// repeated. Replaces the target's default pipeline; `none` runs without any.
    #[arg(short = 'p', long = "pipeline")]
    pub pipelines: Vec<String>,
    /// Output container: plain (one query per line), jsonl (one object per rule), or a
    /// format of the target (`--list-targets`), e.g. savedsearches for splunk.
    #[arg(long, default_value = "plain")]
    pub format: String,
    /// With `--format job`: write the job for the Parquet folder `sigil export` wrote (its
    /// files' footers are read): each rule field is read from the lake's column of that name
    /// (ignoring case and spaces) and a condition on a list column (a field an event holds
    /// more than once) holds where any element meets it.
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// List every target with its pipelines and formats, and exit.
    #[arg(long)]
    pub list_targets: bool,
    /// Rule files or folders (searched recursively).
    #[arg(required_unless_present = "list_targets")]
    pub paths: Vec<PathBuf>,
}

/// One rule read from a file, with its outcome for every target (in target order).
struct RuleResult {
    /// Kept only for formats that read the rule after conversion.
    rule: Option<Rule>,
    id: Option<String>,
    title: Option<String>,
    results: Vec<Result<ConvertedRule, String>>,
}

/// Runs the conversion.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if args.list_targets {
        return list::run(&args.format);
    }
    let Some(targets) = resolve_targets(&args.targets) else {
        return Ok(ExitCode::from(2));
    };
    let format = match Format::resolve(&args.format, &targets) {
        Ok(f) => f,
        Err(message) => {
            eprintln!("sigil convert: {message}");
            return Ok(ExitCode::from(2));
        }
    };
    let lake = match (&args.lake, &format) {
        (None, _) => None,
        (Some(dir), Format::Job(_)) => match sigil_export::lake_columns(dir) {
            Ok(columns) => Some(columns.into_iter().map(|c| (c.name, c.list)).collect()),
            Err(e) => {
                eprintln!("sigil convert: --lake: {e}");
                return Ok(ExitCode::from(2));
            }
        },
        (Some(_), _) => {
            eprintln!("sigil convert: --lake is for `--format job`");
            return Ok(ExitCode::from(2));
        }
    };
    let Some(pipelines) = resolve_pipelines(&args.pipelines) else {
        return Ok(ExitCode::from(2));
    };
    let conversions = match Conversion::plan(&targets, &pipelines) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sigil convert: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    for path in &args.paths {
        if !path.exists() {
            eprintln!("sigil convert: {}: no such file or folder", path.display());
            return Ok(ExitCode::from(2));
        }
    }
    // Sigma `.yml`/`.yaml` and Elastic `.toml` files, read by the front end of each.
    let (mut files, problems) = sigil_load::find_files(&args.paths, sigil_load::Options::default());
    for p in &problems {
        eprintln!("sigil convert: {p}");
    }
    files.sort();

    // Only the container formats read the rule after conversion; otherwise it is dropped on
    // the worker that parsed it instead of being held (and freed) at the end.
    let keep_rules = format.needs_rules();
    let results: Vec<(PathBuf, Vec<RuleResult>)> = files
        .par_iter()
        .map(|path| (path.clone(), convert_file(path, &conversions, keep_rules)))
        .collect();

    let written = output::write(&format, &conversions, &results, lake)?;
    report(&conversions, &results, files.len(), written.job);
    Ok(if written.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The targets named on the command line, each once; prints why when one is unknown. An
/// alias that means something else elsewhere (`kql`) is explained once.
fn resolve_targets(names: &[String]) -> Option<Vec<&'static TargetInfo>> {
    let mut targets: Vec<&'static TargetInfo> = Vec::new();
    for name in names {
        let Some(t) = TargetInfo::find(name) else {
            let known: Vec<&str> = sigil_backend::targets::ALL.iter().map(|t| t.name).collect();
            eprintln!(
                "sigil convert: unknown target `{name}` (known: {}; `--list-targets` describes them)",
                known.join(", ")
            );
            return None;
        };
        if !targets.contains(&t) {
            if let Some(note) = t.alias_note(name) {
                eprintln!("sigil convert: note: {note}");
            }
            targets.push(t);
        }
    }
    Some(targets)
}

/// The `-p` options: none given means each target's default, `none` means no pipeline.
fn resolve_pipelines(names: &[String]) -> Option<Pipelines> {
    if names.is_empty() {
        return Some(Pipelines::Defaults);
    }
    if names.iter().any(|n| n == "none") {
        if names.len() > 1 {
            eprintln!("sigil convert: `-p none` cannot be combined with other pipelines");
            return None;
        }
        return Some(Pipelines::Without);
    }
    let mut pipelines = Vec::new();
    for name in names {
        match Pipeline::resolve(name) {
            Ok(p) => pipelines.push(p),
            Err(e) => {
                eprintln!("sigil convert: pipeline `{name}`: {e}");
                return None;
            }
        }
    }
    Some(Pipelines::Chosen(pipelines))
}

/// The summary on stderr: per target, how many rules converted and failed; for a job, how
/// many rules it evaluates and lists as not expressed.
fn report(
    conversions: &[Conversion],
    results: &[(PathBuf, Vec<RuleResult>)],
    files: usize,
    job: Option<(usize, usize)>,
) {
    for (i, c) in conversions.iter().enumerate() {
        let outcomes = results
            .iter()
            .flat_map(|(_, rules)| rules)
            .map(|r| &r.results[i]);
        let (mut ok, mut failed, mut uncased) = (0usize, 0usize, 0usize);
        for o in outcomes {
            match o {
                Ok(c) => {
                    ok += 1;
                    uncased += usize::from(c.uncased);
                }
                Err(_) => failed += 1,
            }
        }
        if let Some((evaluated, skipped)) = job {
            (ok, failed) = (evaluated, skipped);
        }
        let names = c.pipeline_names();
        let pipelines = if names.is_empty() {
            "no pipeline".to_string()
        } else {
            format!("pipeline {}", names.join(" + "))
        };
        let target = c.target();
        eprintln!(
            "sigil convert: {} to {target} ({pipelines}): {ok} converted, {failed} failed ({})",
            count(ok + failed, "rule", "rules"),
            count(files, "file", "files"),
        );
        if uncased > 0 {
            eprintln!(
                "sigil convert: {} compare case-insensitively: {target} has no case-sensitive match for EQL's `==`",
                count(uncased, "Elastic rule", "Elastic rules")
            );
        }
    }
}

fn convert_file(path: &Path, conversions: &[Conversion], keep_rule: bool) -> Vec<RuleResult> {
    let failed = |msg: String| RuleResult {
        rule: None,
        id: None,
        title: None,
        results: vec![Err(msg); conversions.len()],
    };
    let (loaded, diagnostics) = sigil_load::read_file(path);
    if let Some(d) = diagnostics
        .iter()
        .map(|d| &d.diagnostic)
        .find(|d| d.severity == Severity::Error)
    {
        let mut r = failed(format!("{}: {}", d.span, d.message));
        if let Some(lr) = loaded.first() {
            r.id.clone_from(&lr.rule.id);
            r.title = Some(lr.rule.title.clone());
        }
        return vec![r];
    }
    if loaded.is_empty() {
        return vec![failed("no rule in file".into())];
    }
    loaded
        .into_iter()
        .map(|lr| lr.rule)
        // The steps of an EQL sequence belong to their rule, which converts or fails whole.
        .filter(|rule| !rule.custom.contains_key("elastic.parent_rule"))
        .map(|rule| {
            let results = conversions
                .iter()
                .map(|c| match rule.not_evaluable.first() {
                    Some(n) => Err(format!("{}: not convertible: {}", n.span, n.reason)),
                    None => c.convert(&rule).map_err(|e| error_text(&e)),
                })
                .collect();
            RuleResult {
                id: rule.id.clone(),
                title: Some(rule.title.clone()),
                rule: keep_rule.then_some(rule),
                results,
            }
        })
        .collect()
}

/// An error with the place it was written, when known.
fn error_text(e: &ConvertError) -> String {
    let span = e.span();
    if span.is_known() {
        format!("{span}: {e}")
    } else {
        e.to_string()
    }
}
