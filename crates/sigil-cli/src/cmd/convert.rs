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
    let mut files = Vec::new();
    for path in &args.paths {
        if !path.exists() {
            eprintln!("sigil convert: {}: no such file or folder", path.display());
            return Ok(ExitCode::from(2));
        }
        collect(path, &mut files);
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

fn collect(path: &Path, files: &mut Vec<PathBuf>) {
    if path.is_file() {
        files.push(path.to_path_buf());
        return;
    }
    for entry in walkdir::WalkDir::new(path).into_iter().flatten() {
        let p = entry.path();
        if entry.file_type().is_file()
            && p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
        {
            files.push(p.to_path_buf());
        }
    }
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
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return vec![failed(format!("cannot read: {e}"))],
    };
    let parsed = sigil_sigma::parse_str(&text);
    if let Some(d) = parsed
        .diagnostics
        .iter()
        .find(|d| d.severity == Severity::Error)
    {
        let mut c = failed(format!("{}: {}", d.span, d.message));
        if let Some(r) = parsed.rules.first() {
            c.id.clone_from(&r.id);
            c.title = Some(r.title.clone());
        }
        return vec![c];
    }
    if parsed.rules.is_empty() {
        return vec![failed("no rule in file".into())];
    }
    parsed
        .rules
        .into_iter()
        .map(|rule| {
            let id = rule.id.clone();
            let title = Some(rule.title.clone());
            let result = set.process(&rule).map_err(|e| e.to_string()).and_then(|p| {
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
            });
            Converted {
                rule: keep_rule.then_some(rule),
                id,
                title,
                result,
            }
        })
        .collect()
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
