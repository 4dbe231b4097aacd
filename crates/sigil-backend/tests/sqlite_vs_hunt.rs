//! The compiler and the evaluator agree: every rule of `rules/windows`, processed by the
//! `sysmon` and `windows-logsources` pipelines, is converted to SQLite and run over real
//! events, and its matches are compared with the hunting engine's matches for the same rule
//! over the same events.
//!
//! Two sets of events:
//!
//! * the reference's flattened EVTX samples (`oracle/events.jsonl.gz`), and
//! * the JSON-lines logs of `corpus/json-logs`, read by `sigil-logs` as `sigil hunt` reads
//!   them.
//!
//! The table is built as the reference README describes (and Zircolite does): one table
//! `logs`, one `TEXT COLLATE NOCASE` column per field name (names that differ only by case
//! share a column), every value stored as text, a `REGEXP` function, and an all-NULL column
//! for a field a rule names that no event has. Both sides must agree on at least 99% of the
//! (rule, event) pairs either side matches (intersection over union). Every pair where they
//! differ is printed under the reason for it, so a new kind of difference shows up as
//! "unexplained".

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

// The oracle's events are read as the engine's corpus tests read them.
#[path = "../../sigil-engine/tests/common/mod.rs"]
mod common;

use rusqlite::functions::FunctionFlags;
use sigil_backend::convert_rule;
use sigil_core::{Op, Rule, RuleBody, Value};
use sigil_engine::{Detection, Engine, EngineOptions};
use sigil_logs::{Event, FieldValue, FlatEvent};
use sigil_pipeline::{PipelineSet, builtin};

/// A rule after the pipelines, with its file and its SQLite query.
struct Converted {
    path: String,
    rule: Rule,
    sql: String,
}

/// Every rule under `rules/windows` that converts to SQLite after `sysmon` +
/// `windows-logsources`. Rules that fail (keyword searches, which SQL cannot express) are
/// counted, not compared.
fn windows_rules(shared: &Path) -> (Vec<Converted>, usize) {
    let root = shared.join("corpus/sigma");
    let mut files = Vec::new();
    yaml_files(&root.join("rules/windows"), &mut files);
    let pipelines = PipelineSet::new(
        ["sysmon", "windows-logsources"]
            .iter()
            .filter_map(|n| builtin(n))
            .collect(),
    );
    let mut out = Vec::new();
    let mut failed = 0;
    for file in files {
        let path = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for rule in sigil_sigma::parse_str(&text).rules {
            let Ok(processed) = pipelines.apply(&rule) else {
                failed += 1;
                continue;
            };
            match convert_rule(
                &processed,
                &sigil_backend::targets::sqlite::TARGET,
                &BTreeMap::new(),
            ) {
                Ok(queries) => {
                    for sql in queries {
                        out.push(Converted {
                            path: path.clone(),
                            rule: processed.clone(),
                            sql,
                        });
                    }
                }
                Err(_) => failed += 1,
            }
        }
    }
    (out, failed)
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
}

/// The JSON-lines logs, read by `sigil-logs`, keyed `file:line`.
fn json_log_events(shared: &Path) -> Vec<(String, FlatEvent)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(shared.join("corpus/json-logs"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let read = sigil_logs::read_file(&file, &mut |meta, event| {
            out.push((
                format!("{name}:{}", meta.line.unwrap_or_default()),
                event.clone(),
            ));
        });
        if let Err(e) = read {
            println!("json-logs: {e}");
        }
    }
    out
}

/// A field value as the reference stores it: integers in decimal, booleans as
/// `true`/`false`, null as SQL NULL.
fn as_sql_text(v: &FieldValue<'_>) -> Option<String> {
    v.as_text().map(std::borrow::Cow::into_owned)
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// An in-memory database with the events in `logs`. A field repeated within an event (JSON
/// array elements) is stored as its values joined by a newline, as the reference joins
/// repeated `Data` values.
fn database(events: &[(String, FlatEvent)]) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
    conn.create_scalar_function(
        "regexp",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let re = ctx.get_or_create_aux(0, |v| {
                regex::Regex::new(v.as_str()?)
                    .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
            })?;
            Ok(ctx
                .get_raw(1)
                .as_str_or_null()?
                .map(|text| re.is_match(text)))
        },
    )
    .expect("REGEXP function");

    let mut columns: Vec<String> = Vec::new();
    let mut column_of: HashMap<String, usize> = HashMap::new();
    let mut rows: Vec<(String, Vec<Option<String>>)> = Vec::with_capacity(events.len());
    for (key, event) in events {
        let mut row: Vec<Option<String>> = Vec::new();
        for (name, value) in event.iter() {
            let index = *column_of
                .entry(name.to_ascii_lowercase())
                .or_insert_with(|| {
                    columns.push(name.to_string());
                    columns.len() - 1
                });
            if row.len() <= index {
                row.resize(index + 1, None);
            }
            let Some(text) = as_sql_text(&value) else {
                continue;
            };
            row[index] = Some(match row[index].take() {
                Some(prev) => format!("{prev}\n{text}"),
                None => text,
            });
        }
        rows.push((key.clone(), row));
    }
    let defs: Vec<String> = columns
        .iter()
        .map(|c| format!("{} TEXT COLLATE NOCASE", quote_ident(c)))
        .collect();
    conn.execute_batch(&format!(
        "CREATE TABLE logs (\"_key\" TEXT, {});",
        defs.join(", ")
    ))
    .expect("create table");
    let placeholders = vec!["?"; columns.len() + 1].join(", ");
    let tx = conn.unchecked_transaction().expect("transaction");
    {
        let mut insert = tx
            .prepare(&format!("INSERT INTO logs VALUES ({placeholders})"))
            .expect("insert statement");
        for (key, mut row) in rows {
            row.resize(columns.len(), None);
            let params = std::iter::once(Some(key)).chain(row);
            insert
                .execute(rusqlite::params_from_iter(params))
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    // Most queries begin with `Channel = ... AND EventID = ...`: indexes on them keep the
    // test fast without changing any result.
    for field in ["Channel", "EventID"] {
        if let Some(&i) = column_of.get(&field.to_ascii_lowercase()) {
            conn.execute_batch(&format!(
                "CREATE INDEX \"by_{field}\" ON logs ({})",
                quote_ident(&columns[i])
            ))
            .expect("create index");
        }
    }
    conn
}

/// Runs one converted query and returns the keys of the events it selects. A column the
/// query names that no event has is added, all NULL, and the query runs again.
fn run_sql(conn: &rusqlite::Connection, sql: &str) -> Result<BTreeSet<String>, String> {
    let wrapped = format!("SELECT \"_key\" FROM ({sql})");
    for _ in 0..64 {
        let result = conn.prepare(&wrapped).and_then(|mut stmt| {
            stmt.query_map([], |row| row.get::<_, String>(0))?
                .collect::<Result<BTreeSet<String>, _>>()
        });
        match result {
            Ok(keys) => return Ok(keys),
            Err(e) => {
                let msg = e.to_string();
                // "no such column: NAME" (newer SQLite adds " in <query> at offset N").
                let Some(column) = msg
                    .strip_prefix("no such column: ")
                    .and_then(|rest| rest.split_whitespace().next())
                else {
                    return Err(msg);
                };
                conn.execute_batch(&format!(
                    "ALTER TABLE logs ADD COLUMN {} TEXT COLLATE NOCASE",
                    quote_ident(column)
                ))
                .map_err(|e| e.to_string())?;
            }
        }
    }
    Err("too many missing columns".to_string())
}

/// Why SQLite and the engine can disagree on an event, as far as the rule and the event
/// show it. Checked in order; the first that applies names the pair's class.
fn explain(rule: &Rule, event: &FlatEvent) -> &'static str {
    let RuleBody::Detection(d) = &rule.body else {
        return "unexplained";
    };
    let mut preds = Vec::new();
    for s in &d.searches {
        s.expr.for_each_predicate(&mut |p| preds.push(p));
    }
    let non_ascii_value = |p: &sigil_core::Predicate| {
        p.values.iter().any(|v| match v {
            Value::Str(s) => !s.to_sigma().is_ascii(),
            Value::Regex(r) => !r.is_ascii(),
            _ => false,
        })
    };
    let field_text = |name: &str| -> Vec<String> {
        let mut out = Vec::new();
        event.for_each_value(name, &mut |v| {
            if let Some(t) = v.as_text() {
                out.push(t.into_owned());
            }
        });
        out
    };
    for p in &preds {
        let Some(field) = p.field.as_deref() else {
            continue;
        };
        let values = field_text(field);
        if values.iter().any(|t| !t.is_ascii()) || non_ascii_value(p) {
            return "case-insensitivity: SQLite's NOCASE and LIKE fold ASCII letters only; \
                    the engine folds every letter";
        }
        if matches!(p.op, Op::Lt | Op::Lte | Op::Gt | Op::Gte) {
            return "numeric comparison: the columns are TEXT, so SQLite compares as text";
        }
        if values.len() > 1 {
            return "repeated field: SQLite sees the values joined by newlines, the engine \
                    matches each value";
        }
        if event
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(field))
            .count()
            > 1
        {
            return "field names that differ only by case share one SQLite column";
        }
    }
    "unexplained"
}

/// One comparison over a set of events.
struct Outcome {
    sql: BTreeSet<(usize, String)>,
    engine: BTreeSet<(usize, String)>,
    sql_errors: Vec<(String, String)>,
    /// Queries too deeply nested for SQLite's parser, by rule index.
    too_deep: Vec<usize>,
    /// The engine's matches for those rules, left out of the comparison.
    not_run: BTreeSet<(usize, String)>,
}

fn compare(rules: &[Converted], events: &[(String, FlatEvent)]) -> Outcome {
    let started = std::time::Instant::now();
    let conn = database(events);
    let mut sql = BTreeSet::new();
    let mut sql_errors = Vec::new();
    let mut too_deep = BTreeSet::new();
    for (i, c) in rules.iter().enumerate() {
        match run_sql(&conn, &c.sql) {
            Ok(keys) => sql.extend(keys.into_iter().map(|k| (i, k))),
            // SQLite's parser limits an expression to a depth of 1000 (SQLITE_MAX_EXPR_DEPTH)
            // and nests every `OR` one level deeper: the few rules with thousands of values
            // cannot run in a stock build. They are listed and left out of the comparison.
            Err(e) if e.contains("Expression tree is too large") => {
                too_deep.insert(i);
            }
            Err(e) => sql_errors.push((c.path.clone(), e)),
        }
    }

    println!("SQLite: {:.1} s", started.elapsed().as_secs_f64());
    let started = std::time::Instant::now();
    let compiled: Vec<Rule> = rules.iter().map(|c| c.rule.clone()).collect();
    let engine = Engine::compile(&compiled, EngineOptions::default());
    for s in engine.skipped() {
        println!("engine skipped {}: {}", rules[s.index].path, s.error);
    }
    let mut found = BTreeSet::new();
    let mut scan = engine.scan();
    for (key, event) in events {
        scan.event(event as &dyn Event, &mut |d: &Detection<'_>| {
            found.insert((d.rule.index, key.clone()));
        });
    }
    println!("engine: {:.1} s", started.elapsed().as_secs_f64());
    let (not_run, found) = found.into_iter().partition(|(i, _)| too_deep.contains(i));
    Outcome {
        sql,
        engine: found,
        sql_errors,
        too_deep: too_deep.into_iter().collect(),
        not_run,
    }
}

fn report(
    name: &str,
    rules: &[Converted],
    events: &[(String, FlatEvent)],
    out: &Outcome,
) -> (usize, usize) {
    let by_key: HashMap<&str, &FlatEvent> = events.iter().map(|(k, e)| (k.as_str(), e)).collect();
    for (path, e) in &out.sql_errors {
        println!("[{name}] SQL error {path}: {e}");
    }
    for i in &out.too_deep {
        let engine = out.not_run.iter().filter(|(r, _)| r == i).count();
        println!(
            "[{name}] not run: {} is nested deeper than SQLite's expression limit (1000); the engine matched {engine} events",
            rules[*i].path
        );
    }
    let mut classes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (side, pairs) in [
        ("only SQLite", out.sql.difference(&out.engine)),
        ("only engine", out.engine.difference(&out.sql)),
    ] {
        for (i, key) in pairs {
            let class = by_key
                .get(key.as_str())
                .map_or("unexplained", |e| explain(&rules[*i].rule, e));
            classes
                .entry(class)
                .or_default()
                .push(format!("{side}: {} {key}", rules[*i].path));
        }
    }
    for (class, cases) in &classes {
        println!("[{name}] {} x {class}", cases.len());
        for c in cases {
            println!("    {c}");
        }
    }
    let both = out.sql.intersection(&out.engine).count();
    let union = out.sql.union(&out.engine).count();
    let rules_with_matches: BTreeSet<usize> = out.sql.union(&out.engine).map(|(i, _)| *i).collect();
    println!(
        "[{name}] {} events, {} queries, {} rules matched; pairs: SQLite {}, engine {}, both {both}, union {union}",
        events.len(),
        rules.len(),
        rules_with_matches.len(),
        out.sql.len(),
        out.engine.len(),
    );
    (both, union)
}

#[test]
fn sqlite_output_agrees_with_the_engine() {
    let Some(shared) = common::shared_dir() else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let (rules, failed) = windows_rules(&shared);
    println!(
        "{} queries from rules/windows; {failed} rules not converted",
        rules.len()
    );
    assert!(rules.len() > 2000, "only {} rules converted", rules.len());

    let mut both = 0;
    let mut union = 0;
    for (name, events) in [
        ("evtx", common::load_oracle_events(&shared)),
        ("json-logs", json_log_events(&shared)),
    ] {
        assert!(events.len() > 1000, "{name}: only {} events", events.len());
        let out = compare(&rules, &events);
        let (b, u) = report(name, &rules, &events, &out);
        assert!(
            out.sql_errors.is_empty(),
            "{name}: {} queries failed in SQLite",
            out.sql_errors.len()
        );
        both += b;
        union += u;
    }
    let agreement = if union == 0 {
        1.0
    } else {
        both as f64 / union as f64
    };
    println!("agreement: {both} of {union} matched pairs ({agreement:.4})");
    assert!(union > 0, "nothing matched on either side");
    assert!(agreement >= 0.99, "agreement {agreement:.4} below 0.99");
}
