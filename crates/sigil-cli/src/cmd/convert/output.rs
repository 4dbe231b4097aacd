//! Writing the converted rules: `plain`, `jsonl`, or a target's own container format.
//! Output is grouped by target, in the order the targets were named.

use std::io::Write as _;
use std::path::PathBuf;

use sigil_backend::format::{FormatInput, OutputFormat};
use sigil_backend::job::{Engine, Job};
use sigil_backend::{Conversion, TargetInfo};

use super::RuleResult;

/// The output container.
#[derive(Debug, Clone)]
pub enum Format {
    /// One query per line; with several targets, each target's queries after a
    /// `# target: NAME` line.
    Plain,
    /// One object per rule and target: `{"path","id","title","target","queries","error"}`.
    Jsonl,
    /// A container every chosen target offers under the name asked for: each target's
    /// own, in target order.
    Container(Vec<&'static OutputFormat>),
    /// The whole rule set as one detection job (one target).
    Job(Engine),
}

impl Format {
    /// The format named `name` for `targets`, or why it is not available.
    pub fn resolve(name: &str, targets: &[&'static TargetInfo]) -> Result<Self, String> {
        match name {
            "plain" | "default" => return Ok(Format::Plain),
            "jsonl" => return Ok(Format::Jsonl),
            "job" => {
                let [target] = targets else {
                    return Err("format `job` is for one target at a time".into());
                };
                return Engine::of(target).map(Format::Job).ok_or_else(|| {
                    format!(
                        "format `job` is not available for {target} (spark, duckdb, clickhouse)"
                    )
                });
            }
            _ => {}
        }
        let mut formats = Vec::with_capacity(targets.len());
        for t in targets {
            let Some(f) = t.format(name) else {
                let mut known = vec!["plain", "jsonl"];
                known.extend(t.formats.iter().map(|f| f.name));
                return Err(format!(
                    "format `{name}` is not available for {t} ({})",
                    known.join(", ")
                ));
            };
            formats.push(f);
        }
        Ok(Format::Container(formats))
    }

    /// Whether writing needs the rules themselves (not only their queries).
    pub fn needs_rules(&self) -> bool {
        matches!(self, Format::Container(_) | Format::Job(_))
    }
}

/// What was written.
#[derive(Debug, Default)]
pub struct Written {
    /// Whether any rule failed.
    pub failed: bool,
    /// For a job: how many rules it evaluates and how many it lists as not expressed
    /// (its own count, which the summary reports instead of the plain conversion's).
    pub job: Option<(usize, usize)>,
}

/// Writes every result to stdout, grouped by target, and reports failed rules on stderr.
/// `lake` is the columns of the lake a job is written for (name, whether a list).
pub fn write(
    format: &Format,
    conversions: &[Conversion],
    results: &[(PathBuf, Vec<RuleResult>)],
    lake: Option<Vec<(String, bool)>>,
) -> anyhow::Result<Written> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if let (Format::Job(engine), [conversion]) = (format, conversions) {
        let job = match lake {
            Some(columns) => Job::for_lake(*engine, columns),
            None => Job::new(*engine),
        };
        let written = write_job(&mut out, job, conversion, results)?;
        out.flush()?;
        return Ok(written);
    }
    let several = conversions.len() > 1;
    let mut any_failed = false;
    for (i, conversion) in conversions.iter().enumerate() {
        let target = conversion.target();
        let container = match format {
            Format::Container(formats) => formats.get(i).copied(),
            _ => None,
        };
        if several && matches!(format, Format::Plain) {
            writeln!(out, "# target: {target}")?;
        }
        if let Some(header) = container.and_then(|f| f.header) {
            write!(out, "{}", header(target))?;
        }
        for (path, rules) in results {
            for r in rules {
                match &r.results[i] {
                    Ok(_) => {}
                    Err(e) if several => eprintln!("{}: error: {target}: {e}", path.display()),
                    Err(e) => eprintln!("{}: error: {e}", path.display()),
                }
                any_failed |= r.results[i].is_err();
                write_rule(&mut out, format, container, target, path, r, i)?;
            }
        }
        if let Some(footer) = container.and_then(|f| f.footer) {
            write!(out, "{}", footer(target))?;
        }
    }
    out.flush()?;
    Ok(Written {
        failed: any_failed,
        job: None,
    })
}

fn write_rule(
    out: &mut impl std::io::Write,
    format: &Format,
    container: Option<&'static OutputFormat>,
    target: &'static TargetInfo,
    path: &std::path::Path,
    r: &RuleResult,
    i: usize,
) -> anyhow::Result<()> {
    let result = &r.results[i];
    match format {
        Format::Plain => {
            if let Ok(converted) = result {
                for q in &converted.queries {
                    // One query per line: multi-line queries (Splunk pipes) are joined.
                    writeln!(out, "{}", q.replace('\n', " "))?;
                }
            }
        }
        Format::Jsonl => {
            let (queries, error) = match result {
                Ok(c) => (c.queries.clone(), None),
                Err(e) => (Vec::new(), Some(e.clone())),
            };
            let line = serde_json::json!({
                "path": path.display().to_string(),
                "id": r.id,
                "title": r.title,
                "target": target.name,
                "queries": queries,
                "error": error,
            });
            writeln!(out, "{line}")?;
        }
        Format::Job(_) => {}
        Format::Container(_) => {
            if let (Ok(converted), Some(rule), Some(f)) = (result, &r.rule, container) {
                let input = FormatInput {
                    rule,
                    queries: &converted.queries,
                    target,
                };
                write!(out, "{}", (f.rule)(&input))?;
            }
        }
    }
    Ok(())
}

/// Writes the rules as one detection job; rules it cannot express are reported on stderr and
/// listed in the job's header.
fn write_job(
    out: &mut impl std::io::Write,
    mut job: Job,
    conversion: &Conversion,
    results: &[(PathBuf, Vec<RuleResult>)],
) -> anyhow::Result<Written> {
    let mut failed = false;
    for (path, rules) in results {
        for r in rules {
            let outcome = match (&r.rule, &r.results[0]) {
                (Some(rule), Ok(_) | Err(_)) if rule.not_evaluable.is_empty() => conversion
                    .process(rule)
                    .map_err(|e| e.to_string())
                    .and_then(|p| job.add(&p.rule).map_err(|e| e.to_string())),
                (_, Err(e)) => {
                    let title = r.title.as_deref().unwrap_or("(unread rule)");
                    job.skip(r.id.as_deref(), title, e.clone());
                    Err(e.clone())
                }
                (rule, Ok(_)) => {
                    let reason = rule
                        .as_ref()
                        .and_then(|rule| rule.not_evaluable.first())
                        .map_or_else(|| "not read".to_string(), |n| n.reason.clone());
                    let title = r.title.as_deref().unwrap_or("(unread rule)");
                    job.skip(r.id.as_deref(), title, reason.clone());
                    Err(reason)
                }
            };
            if let Err(e) = outcome {
                eprintln!("{}: error: {e}", path.display());
                failed = true;
            }
        }
    }
    write!(out, "{}", job.render())?;
    Ok(Written {
        failed,
        job: Some((job.len(), job.skipped())),
    })
}
