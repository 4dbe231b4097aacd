//! `sigil convert -t TARGET [-p PIPELINE]... [--format FORMAT] PATH...`
//!
//! Converts Sigma rules to queries. Each rule converts or fails alone; failures are
//! reported on stderr with the construct the target cannot express, and the exit code is
//! 1 if any rule failed (2 for usage errors: unknown target, format or pipeline).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rayon::prelude::*;
use sigil_backend::{TargetName, convert_rule, format};
use sigil_core::{Rule, Severity};
use sigil_pipeline::{Pipeline, PipelineSet, Scalar};

/// Arguments of `sigil convert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Target query language: splunk, lucene, eql, esql, kql, sqlite.
    #[arg(short = 't', long = "target")]
    pub target: String,
    /// Processing pipeline, built in (e.g. sysmon, windows-logsources) or a YAML file;
    /// may be repeated.
    #[arg(short = 'p', long = "pipeline")]
    pub pipelines: Vec<String>,
    /// Output format: plain (one query per line), jsonl, savedsearches (splunk),
    /// ndjson (Elastic rules, for lucene, eql and esql).
    #[arg(long, default_value = "plain")]
    pub format: String,
    /// Rule files or folders (searched recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Plain,
    Jsonl,
    SavedSearches,
    Ndjson,
}

/// One rule's outcome.
struct Converted {
    rule: Option<Rule>,
    id: Option<String>,
    title: Option<String>,
    result: Result<Vec<String>, String>,
}

/// Runs the conversion.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let Some(target) = TargetName::from_name(&args.target) else {
        let known: Vec<&str> = TargetName::ALL.iter().map(|t| t.name()).collect();
        eprintln!(
            "sigil convert: unknown target `{}` (known: {})",
            args.target,
            known.join(", ")
        );
        return Ok(ExitCode::from(2));
    };
    let format = match args.format.as_str() {
        "plain" | "default" => Format::Plain,
        "jsonl" => Format::Jsonl,
        "savedsearches" if target == TargetName::Splunk => Format::SavedSearches,
        "ndjson"
            if matches!(
                target,
                TargetName::Lucene | TargetName::Eql | TargetName::Esql
            ) =>
        {
            Format::Ndjson
        }
        other => {
            eprintln!(
                "sigil convert: format `{other}` is not available for {target} (plain, jsonl{})",
                match target {
                    TargetName::Splunk => ", savedsearches",
                    TargetName::Lucene | TargetName::Eql | TargetName::Esql => ", ndjson",
                    _ => "",
                }
            );
            return Ok(ExitCode::from(2));
        }
    };
    let mut pipelines = Vec::new();
    for name in &args.pipelines {
        match Pipeline::resolve(name) {
            Ok(p) => pipelines.push(p),
            Err(e) => {
                eprintln!("sigil convert: pipeline `{name}`: {e}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    let set = PipelineSet::new(pipelines);
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

    // Only the stanza and Elastic rule formats read the rule after conversion; otherwise it
    // is dropped on the worker that parsed it instead of being held (and freed) at the end.
    let keep_rules = matches!(format, Format::SavedSearches | Format::Ndjson);
    let results: Vec<(PathBuf, Vec<Converted>)> = files
        .par_iter()
        .map(|path| (path.clone(), convert_file(path, &set, target, keep_rules)))
        .collect();

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if format == Format::SavedSearches {
        write!(out, "{}", format::savedsearches_header())?;
    }
    let (mut ok, mut failed) = (0usize, 0usize);
    for (path, converted) in &results {
        for c in converted {
            match &c.result {
                Ok(_) => ok += 1,
                Err(e) => {
                    failed += 1;
                    eprintln!("{}: error: {e}", path.display());
                }
            }
            write_rule(&mut out, format, target, path, c)?;
        }
    }
    out.flush()?;
    eprintln!(
        "sigil convert: {} rules to {target}: {ok} converted, {failed} failed ({} files)",
        ok + failed,
        files.len()
    );
    let uncased = UNCASED.load(std::sync::atomic::Ordering::Relaxed);
    if uncased > 0 {
        eprintln!(
            "sigil convert: {uncased} Elastic rules compare case-insensitively: {target} has no case-sensitive match for EQL's `==`"
        );
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn write_rule(
    out: &mut impl std::io::Write,
    format: Format,
    target: TargetName,
    path: &Path,
    c: &Converted,
) -> anyhow::Result<()> {
    match format {
        Format::Plain => {
            if let Ok(queries) = &c.result {
                for q in queries {
                    // One query per line: multi-line queries (Splunk pipes) are joined.
                    writeln!(out, "{}", q.replace('\n', " "))?;
                }
            }
        }
        Format::Jsonl => {
            let (queries, error) = match &c.result {
                Ok(q) => (q.clone(), None),
                Err(e) => (Vec::new(), Some(e.clone())),
            };
            let line = serde_json::json!({
                "path": path.display().to_string(),
                "id": c.id,
                "title": c.title,
                "target": target.name(),
                "queries": queries,
                "error": error,
            });
            writeln!(out, "{line}")?;
        }
        Format::SavedSearches => {
            if let (Ok(queries), Some(rule)) = (&c.result, &c.rule) {
                for (i, q) in queries.iter().enumerate() {
                    write!(out, "{}", format::savedsearches_stanza(rule, q, i))?;
                }
            }
        }
        Format::Ndjson => {
            if let (Ok(queries), Some(rule)) = (&c.result, &c.rule) {
                for (i, q) in queries.iter().enumerate() {
                    if let Some(obj) = format::elastic_rule(rule, q, i, target) {
                        writeln!(out, "{obj}")?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn convert_file(
    path: &Path,
    set: &PipelineSet,
    target: TargetName,
    keep_rule: bool,
) -> Vec<Converted> {
    let failed = |msg: String| Converted {
        rule: None,
        id: None,
        title: None,
        result: Err(msg),
    };
    let (loaded, diagnostics) = sigil_load::read_file(path);
    if let Some(d) = diagnostics
        .iter()
        .map(|d| &d.diagnostic)
        .find(|d| d.severity == Severity::Error)
    {
        let mut c = failed(format!("{}: {}", d.span, d.message));
        if let Some(lr) = loaded.first() {
            c.id.clone_from(&lr.rule.id);
            c.title = Some(lr.rule.title.clone());
        }
        return vec![c];
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
            let id = rule.id.clone();
            let title = Some(rule.title.clone());
            let result = match rule.not_evaluable.first() {
                Some(n) => Err(format!("{}: not convertible: {}", n.span, n.reason)),
                None => convert_one(&rule, set, target),
            };
            // EQL's `==` is case-sensitive; on a target without case-sensitive matching an
            // Elastic rule is converted with case-insensitive comparisons instead (counted).
            let result = match result {
                Err(e)
                    if rule.language == sigil_core::RuleLanguage::Elastic
                        && e.contains("case-sensitive matching") =>
                {
                    UNCASED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    convert_one(&uncased(&rule), set, target)
                }
                other => other,
            };
            Converted {
                rule: keep_rule.then_some(rule),
                id,
                title,
                result,
            }
        })
        .collect()
}

/// Elastic rules converted with case-insensitive comparisons (see `convert_file`).
static UNCASED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn convert_one(rule: &Rule, set: &PipelineSet, target: TargetName) -> Result<Vec<String>, String> {
    let p = set.process(rule).map_err(|e| e.to_string())?;
    let state: BTreeMap<String, String> = p
        .state
        .iter()
        .map(|(k, v)| (k.clone(), scalar_text(v)))
        .collect();
    convert_rule(&p.rule, target, &state).map_err(|e| {
        let span = e.span();
        if span.is_known() {
            format!("{span}: {e}")
        } else {
            e.to_string()
        }
    })
}

/// The rule with every comparison case-insensitive.
fn uncased(rule: &Rule) -> Rule {
    fn walk(e: &mut sigil_core::Expr) {
        match e {
            sigil_core::Expr::And(v) | sigil_core::Expr::Or(v) => v.iter_mut().for_each(walk),
            sigil_core::Expr::Not(x) => walk(x),
            sigil_core::Expr::Pred(p) => {
                p.flags.cased = false;
                p.flags.regex.ignore_case = true;
            }
        }
    }
    let mut rule = rule.clone();
    if let sigil_core::RuleBody::Detection(d) = &mut rule.body {
        for s in &mut d.searches {
            walk(&mut s.expr);
        }
    }
    rule
}

fn scalar_text(v: &Scalar) -> String {
    match v {
        Scalar::Null => String::new(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Str(s) => s.clone(),
    }
}
