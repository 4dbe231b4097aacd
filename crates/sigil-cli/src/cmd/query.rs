//! `sigil query`: an ad-hoc hunting query (EQL, KQL or one Sigma file) over logs, printing
//! the matching events.
//!
//! EQL runs on sigil-elastic's evaluator, which needs nested values (`args[0]`,
//! `arraySearch`), so events are read as JSON values (JSON logs as written, EVTX records
//! through sigil-logs) and streamed through it: it keeps the matches and the events of
//! pending sequences, and orders them by time. KQL and Sigma are lowered into the IR and
//! run on the engine, streaming.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::Value as Json;
use sigil_core::{Condition, Detection, Expr, Rule, RuleBody, RuleLanguage, Search, Span};
use sigil_elastic::eql::eval::{EvalEvent, EvalOptions, Evaluation, Evaluator};
use sigil_engine::{Engine, EngineOptions, Matched};
use sigil_logs::InputKind;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per event: match number, time, category and the event.
    Table,
    /// One JSON object per event (a `_match` field numbers the matches).
    Jsonl,
}

/// Arguments of `sigil query`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("language").required(true).args(["eql", "kql", "sigma"])))]
pub struct Args {
    /// An EQL query (`process where process.name : "cmd.exe"`, sequences, pipes).
    #[arg(long, value_name = "QUERY")]
    pub eql: Option<String>,
    /// A KQL (kuery) query.
    #[arg(long, value_name = "QUERY")]
    pub kql: Option<String>,
    /// A Sigma rule file.
    #[arg(long, value_name = "FILE")]
    pub sigma: Option<PathBuf>,
    /// The field holding the event category (EQL `process where`).
    #[arg(long, value_name = "F", default_value = "event.category")]
    pub category_field: String,
    /// The field holding the event time (EQL `maxspan`, ordering).
    #[arg(long, value_name = "F", default_value = "@timestamp")]
    pub timestamp_field: String,
    /// Compare strings case-insensitively.
    #[arg(long)]
    pub case_insensitive: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
    /// Log files or folders (EVTX, JSON, JSON lines; `-` for standard input).
    #[arg(required = true, value_name = "LOGS")]
    pub logs: Vec<PathBuf>,
}

/// Runs the command: exit 0 when something matched, 1 when nothing did.
pub fn run(args: &Args) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let matches = if let Some(query) = &args.eql {
        run_eql(args, query, &mut out)?
    } else if let Some(query) = &args.kql {
        let node = sigil_elastic::kql::parse_kql(query).map_err(|e| {
            anyhow::anyhow!("KQL syntax error at column {}: {}", e.offset + 1, e.message)
        })?;
        let lowered =
            sigil_elastic::kql::lower_kql(&node, &|o| Span::new(1, o as u32 + 1, o as u32));
        if let Some(n) = lowered.not_evaluable.first() {
            bail!("the KQL query cannot be evaluated: {}", n.reason);
        }
        let mut rule = Rule::new(RuleLanguage::Elastic, "query");
        rule.id = Some("query".to_string());
        rule.body = RuleBody::Detection(Detection {
            searches: vec![Search {
                name: "query".to_string(),
                expr: lowered.expr,
                span: Span::default(),
            }],
            conditions: vec![Condition::Search {
                name: "query".to_string(),
                span: Span::default(),
            }],
            condition_span: Span::default(),
        });
        run_engine(args, vec![rule], &mut out)?
    } else if let Some(path) = &args.sigma {
        if !path.is_file() {
            bail!("{}: no such file", path.display());
        }
        // Read as every command reads rules: a rule `sigil check` reports with an error
        // is not run.
        let (loaded, diagnostics) = sigil_load::read_file(path);
        for d in &diagnostics {
            eprintln!("{d}");
        }
        if loaded.is_empty() {
            bail!("{}: no rule to run", path.display());
        }
        run_engine(
            args,
            loaded.into_iter().map(|lr| lr.rule).collect(),
            &mut out,
        )?
    } else {
        bail!("give --eql, --kql or --sigma");
    };
    out.flush()?;
    Ok(if matches > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run_eql(args: &Args, query: &str, out: &mut impl Write) -> Result<usize> {
    let ast = sigil_elastic::eql::parse_query(query).map_err(|e| {
        let col = query[..e.offset.min(query.len())]
            .rsplit('\n')
            .next()
            .map_or(0, |l| l.chars().count());
        let line = query[..e.offset.min(query.len())].matches('\n').count() + 1;
        anyhow::anyhow!("EQL syntax error at {line}:{}: {}", col + 1, e.message)
    })?;
    let options = EvalOptions {
        category_field: args.category_field.clone(),
        case_insensitive: args.case_insensitive,
    };
    // Events stream through the evaluator, which keeps only what a result may need and
    // puts it in time order.
    let mut evaluator = Evaluator::new(&ast, &options);
    read_events(&args.logs, &args.timestamp_field, &mut |e| {
        evaluator.push(e);
    })?;
    let Evaluation {
        matches: results,
        events,
        untimed,
    } = evaluator.finish();
    if untimed > 0 {
        eprintln!(
            "sigil: {untimed} {} matched a step but had no usable `{}` and {} left out of the \
             sequences (--timestamp-field names the time field)",
            if untimed == 1 { "event" } else { "events" },
            args.timestamp_field,
            if untimed == 1 { "was" } else { "were" },
        );
    }
    for (n, m) in results.iter().enumerate() {
        if m.events.is_empty() {
            if let Some((count, _)) = m.count {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "_match": n + 1, "count": count })
                )?;
            }
            continue;
        }
        for &i in &m.events {
            print_event(args, n + 1, &events[i].event.fields, out)?;
        }
    }
    Ok(results.len())
}

fn print_event(args: &Args, n: usize, event: &Json, out: &mut impl Write) -> Result<()> {
    let lookup = |name: &str| -> String {
        event
            .get(name)
            .or_else(|| name.split('.').try_fold(event, |v, p| v.get(p)))
            .map_or_else(String::new, |v| match v {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            })
    };
    match args.format {
        Format::Jsonl => {
            let mut obj = serde_json::Map::new();
            obj.insert("_match".to_string(), Json::from(n));
            if let Json::Object(m) = event {
                obj.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            writeln!(out, "{}", Json::Object(obj))?;
        }
        Format::Table => {
            let mut body = event.to_string();
            if body.chars().count() > 160 {
                body = body.chars().take(157).collect::<String>() + "...";
            }
            writeln!(
                out,
                "{n:>5}  {:<28}  {:<10}  {body}",
                lookup(&args.timestamp_field),
                lookup(&args.category_field)
            )?;
        }
    }
    Ok(())
}

/// The event time in milliseconds: ISO text, or a number in seconds, milliseconds,
/// microseconds or Windows FILETIME units (told apart by magnitude).
fn event_millis(v: &Json) -> Option<i64> {
    match v {
        Json::String(s) => sigil_logs::parse_timestamp_micros(s).map(|us| us / 1000),
        Json::Number(n) => {
            let f = n.as_f64()?;
            Some(if f > 1e17 {
                // 100 ns units since 1601-01-01.
                ((f - 116_444_736_000_000_000.0) / 10_000.0) as i64
            } else if f > 1e14 {
                (f / 1000.0) as i64
            } else if f > 1e11 {
                f as i64
            } else {
                (f * 1000.0) as i64
            })
        }
        _ => None,
    }
}

/// The time of `fields`: its `timestamp_field`, looked up as one dotted key, then as a
/// path of nested objects.
fn event_time(fields: &Json, timestamp_field: &str) -> Option<i64> {
    fields
        .get(timestamp_field)
        .or_else(|| timestamp_field.split('.').try_fold(fields, |v, p| v.get(p)))
        .and_then(event_millis)
}

/// The logs under `paths`; a path that does not exist is an error (exit 2), not an
/// empty log.
fn discover(paths: &[PathBuf]) -> Result<sigil_logs::Discovery> {
    if let Some(missing) = paths.iter().find(|p| p.as_os_str() != "-" && !p.exists()) {
        bail!("{}: no such file or folder", missing.display());
    }
    let discovery = sigil_logs::discover(paths);
    for e in &discovery.errors {
        eprintln!("sigil: {e}");
    }
    Ok(discovery)
}

/// Reports what reading a file met (a damaged chunk, a truncated file), as `hunt` does.
fn report_read(stats: &sigil_logs::FileStats) {
    for e in &stats.errors {
        eprintln!("read error: {e}");
    }
}

/// Reads the events of `paths` one at a time into `sink`.
fn read_events(
    paths: &[PathBuf],
    timestamp_field: &str,
    sink: &mut dyn FnMut(EvalEvent),
) -> Result<()> {
    let discovery = discover(paths)?;
    for input in &discovery.inputs {
        match input.kind {
            InputKind::Evtx => {
                let mut bad = 0usize;
                // EQL speaks ECS: raw Windows events are read through the ECS view.
                let ecs = sigil_pipeline::ecs::windows_to_ecs();
                let stats = sigil_logs::read_file(&input.path, &mut |_, flat| {
                    let view = ecs.view(flat);
                    let json = if view.is_mapped() {
                        Ok(event_json(&view))
                    } else {
                        serde_json::from_str::<Json>(&flat.to_json())
                    };
                    let Ok(fields) = json else {
                        bad += 1;
                        return;
                    };
                    // Every record has its own time, also when the view does not name it.
                    let millis = event_time(&fields, timestamp_field).or_else(|| {
                        let t = sigil_logs::Event::get(flat, "SystemTime")?;
                        sigil_logs::parse_timestamp_micros(&t.as_text()?).map(|us| us / 1000)
                    });
                    sink(EvalEvent { fields, millis });
                })
                .with_context(|| format!("cannot read {}", input.path.display()))?;
                report_read(&stats);
                if bad > 0 {
                    eprintln!("sigil: {}: {bad} records skipped", input.path.display());
                }
            }
            InputKind::Json => {
                let file = std::fs::File::open(&input.path)
                    .with_context(|| format!("cannot read {}", input.path.display()))?;
                read_json(BufReader::new(file), &input.path, timestamp_field, sink);
            }
            InputKind::Stdin => {
                read_json(
                    std::io::stdin().lock(),
                    Path::new("-"),
                    timestamp_field,
                    sink,
                );
            }
        }
    }
    Ok(())
}

/// JSON values one after another (JSON lines included); a top-level array is a list of
/// events. A broken value ends the file with a message; the events before it count.
fn read_json(
    reader: impl BufRead,
    path: &Path,
    timestamp_field: &str,
    sink: &mut dyn FnMut(EvalEvent),
) {
    let mut push = |fields: Json| {
        let millis = event_time(&fields, timestamp_field);
        sink(EvalEvent { fields, millis });
    };
    for value in serde_json::Deserializer::from_reader(reader).into_iter::<Json>() {
        match value {
            Ok(Json::Array(items)) => items.into_iter().for_each(&mut push),
            Ok(v) => push(v),
            Err(e) => {
                eprintln!("sigil: {}: {e}", path.display());
                break;
            }
        }
    }
}

fn run_engine(args: &Args, mut rules: Vec<Rule>, out: &mut impl Write) -> Result<usize> {
    if args.case_insensitive {
        for rule in &mut rules {
            uncase(rule);
        }
    }
    let engine = Engine::compile(&rules, EngineOptions::default());
    for s in engine.skipped() {
        eprintln!("sigil: rule {} skipped: {}", s.title, s.error);
    }
    let discovery = discover(&args.logs)?;
    let mut scan = engine.scan();
    let mut matches = 0usize;
    let mut write_error = None;
    // Elastic (KQL) rules speak ECS: raw Windows events are seen through the ECS view.
    let ecs = rules
        .iter()
        .any(|r| r.language == RuleLanguage::Elastic)
        .then(sigil_pipeline::ecs::windows_to_ecs);
    for input in &discovery.inputs {
        let result = sigil_logs::read_file(&input.path, &mut |_, flat| {
            let mut hit = false;
            let view = ecs.map(|m| m.view(flat));
            let event: &dyn sigil_logs::Event = match &view {
                Some(v) => v,
                None => flat,
            };
            scan.event(event, &mut |d: &sigil_engine::Detection<'_>| {
                if matches!(d.matched, Matched::Event(_)) {
                    hit = true;
                }
            });
            if hit {
                matches += 1;
                let event: Json = match &view {
                    Some(v) if v.is_mapped() => event_json(v),
                    _ => serde_json::from_str(&flat.to_json()).unwrap_or(Json::Null),
                };
                if let Err(e) = print_event(args, matches, &event, out) {
                    write_error.get_or_insert(e);
                }
            }
        });
        match result {
            Ok(stats) => report_read(&stats),
            Err(e) => eprintln!("sigil: {}: {e}", input.path.display()),
        }
    }
    if let Some(e) = write_error {
        return Err(e);
    }
    let hits = scan.into_hits();
    if hits.untimed > 0 {
        eprintln!(
            "sigil: {} {} matched a correlation's rule but had no readable timestamp and {} \
             left out of its time windows",
            hits.untimed,
            if hits.untimed == 1 { "event" } else { "events" },
            if hits.untimed == 1 { "was" } else { "were" },
        );
    }
    let mut correlations = 0usize;
    engine.finish(hits, &mut |d: &sigil_engine::Detection<'_>| {
        if let Matched::Correlation(c) = d.matched {
            correlations += 1;
            let line = serde_json::json!({
                "_correlation": correlations,
                "rule": d.rule.id.clone().unwrap_or_else(|| d.rule.title.clone()),
                "events": c.events.len(),
            });
            let _ = writeln!(out, "{line}");
        }
    });
    Ok(matches + correlations)
}

/// The fields of an event (an ECS view) as one JSON object; repeated names become arrays.
fn event_json(event: &dyn sigil_logs::Event) -> Json {
    use sigil_logs::FieldValue;
    let mut map = serde_json::Map::new();
    event.for_each_field(&mut |name, value| {
        let v = match value {
            FieldValue::Str(s) => Json::String(s.into_owned()),
            FieldValue::Int(i) => i.into(),
            FieldValue::UInt(u) => u.into(),
            FieldValue::Float(f) => {
                serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
            }
            FieldValue::Bool(b) => b.into(),
            FieldValue::Null => Json::Null,
        };
        match map.get_mut(name) {
            None => {
                map.insert(name.to_string(), v);
            }
            Some(Json::Array(a)) => a.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = Json::Array(vec![first, v]);
            }
        }
    });
    Json::Object(map)
}

/// Clears `cased` everywhere (`--case-insensitive`).
fn uncase(rule: &mut Rule) {
    fn walk(e: &mut Expr) {
        match e {
            Expr::And(v) | Expr::Or(v) => v.iter_mut().for_each(walk),
            Expr::Not(x) => walk(x),
            Expr::Pred(p) => {
                p.flags.cased = false;
                p.flags.regex.ignore_case = true;
            }
        }
    }
    if let RuleBody::Detection(d) = &mut rule.body {
        for s in &mut d.searches {
            walk(&mut s.expr);
        }
    }
}
