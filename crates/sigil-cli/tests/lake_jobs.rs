//! The detection jobs on the real engines: `sigil export` of the corpus's EVTX logs, the
//! `--format job` of every Windows rule (pipelines `sysmon` + `windows-logsources`) run on
//! DuckDB, ClickHouse (chdb, in-process) and Apache Spark (local mode), each engine's
//! (rule, event) pairs held to `sigil hunt`'s over the same logs with the same pipelines;
//! and on a small JSON-lines fixture with list columns (arrays) and a name written with a
//! space, each engine's pairs equal to hunt's.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{shared_corpus, sigil};

const PIPELINES: [&str; 4] = ["-p", "sysmon", "-p", "windows-logsources"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// The Python with the engines (duckdb, chdb, pyspark, pyarrow): `SIGIL_LAKE_PYTHON`, else
/// `.ci/run`'s venv; Spark needs `java` too. Under CI both must be there.
fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("SIGIL_LAKE_PYTHON")
        .map_or_else(|| root().join("target/lake-venv/bin/python"), PathBuf::from);
    let engines = Command::new(&candidate)
        .args(["-c", "import duckdb, chdb, pyspark, pyarrow.parquet"])
        .output()
        .is_ok_and(|o| o.status.success());
    let java = Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !(engines && java) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the engines are missing (duckdb, chdb, pyspark in {}: {engines}; java: {java}): .ci/run installs them",
            candidate.display()
        );
        println!(
            "skipped: no Python with duckdb, chdb, pyspark and pyarrow, or no java (set SIGIL_LAKE_PYTHON or run .ci/run)"
        );
        return None;
    }
    Some(candidate)
}

type Pair = (String, String, i64);

/// The (rule id, source, record id) of each line of a JSON-lines file.
fn pairs(path: &Path) -> BTreeSet<Pair> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            (
                v["rule_id"].as_str().expect("rule_id").to_string(),
                v["source"].as_str().expect("source").to_string(),
                v["record_id"].as_i64().expect("record_id"),
            )
        })
        .collect()
}

/// One test on the engines at a time: each starts Spark (a JVM on two cores).
static ENGINES_IN_USE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The engines, each with the target whose job it runs.
const ENGINES: [(&str, &str); 3] = [
    ("duckdb", "duckdb"),
    ("clickhouse", "clickhouse"),
    ("spark", "spark"),
];

/// Writes the job of `target` for `rules` (for the schema of `lake`, read with `--lake`, when
/// `for_lake`), runs it on `engine` over `lake` and returns its (rule, event) pairs and the
/// runner's report.
fn run_job(
    python: &Path,
    dir: &Path,
    (target, engine): (&str, &str),
    pipelines: &[&str],
    rules: &Path,
    (lake, for_lake): (&Path, bool),
) -> (BTreeSet<Pair>, String) {
    let mut args = vec!["convert", "-t", target, "--format", "job"];
    if for_lake {
        args.extend(["--lake", text(lake)]);
    }
    args.extend(pipelines);
    args.push(text(rules));
    let (code, job, err) = sigil(&args);
    assert!(code == Some(0) || code == Some(1), "{err}");
    let job_path = dir.join(format!("{target}.job"));
    std::fs::write(&job_path, &job).expect("job written");
    let out = dir.join(format!("{target}.jsonl"));
    let script = root().join("crates/sigil-cli/tests/lake_jobs/run_job.py");
    let run = Command::new(python)
        .arg(&script)
        .args([engine, text(lake), text(&job_path), text(&out)])
        .output()
        .expect("runs python");
    let stdout = String::from_utf8_lossy(&run.stdout).trim().to_string();
    assert!(
        run.status.success(),
        "{engine}: {stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    (pairs(&out), format!("{stdout}\n{err}"))
}

#[test]
fn list_columns_and_spaced_names_find_on_each_engine_what_hunt_finds() {
    let Some(python) = python() else {
        return;
    };
    let _engines = ENGINES_IN_USE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let fixture = root().join("crates/sigil-cli/tests/lake_jobs/lists");
    let rules = fixture.join("rules");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lake-jobs-lists");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    // Two collection batches exported apart, as docs/scale.md runs a lake: each folder has
    // columns the other lacks (`Process Name` only in a, `User.Name` only in b), so every
    // engine must read the lake's folders as one table with the union of their columns.
    let lake = dir.join("lake");
    for batch in ["a", "b"] {
        let file = fixture.join(format!("batch-{batch}.jsonl"));
        let folder = lake.join(format!("batch={batch}"));
        let (code, _, err) = sigil(&["export", text(&file), "-o", text(&folder), "--no-progress"]);
        assert_eq!(code, Some(0), "{err}");
    }
    let logs = fixture.join("batch-a.jsonl");
    let logs_b = fixture.join("batch-b.jsonl");
    // The rules are written for no real log source: every rule on every event, as the job.
    let found = dir.join("hunt.jsonl");
    let (code, _, err) = sigil(&[
        "hunt",
        text(&logs),
        text(&logs_b),
        "--rules",
        text(&rules),
        "--all-logsources",
        "--format",
        "jsonl",
        "--no-progress",
        "-o",
        text(&found),
    ]);
    assert_eq!(code, Some(1), "detections expected: {err}");
    let hunt = pairs(&found);
    // Every rule finds something, and some event is found by a condition on a list.
    let rules_found: BTreeSet<&str> = hunt.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(rules_found.len(), 10, "{hunt:?}");
    for (target, engine) in ENGINES {
        let (got, report) = run_job(
            &python,
            &dir,
            (target, engine),
            &["-p", "none"],
            &rules,
            (&lake, true),
        );
        println!("{report}");
        assert!(report.contains("10 converted, 0 failed"), "{report}");
        assert_eq!(
            got.symmetric_difference(&hunt).collect::<Vec<_>>(),
            Vec::<&Pair>::new(),
            "{engine}: the pairs differ from hunt's"
        );
    }
    // Written without the lake's schema, the Spark program takes `Tags` for text; at run time it
    // finds lists there and stops, naming the column and `--lake`, rather than compare a list as
    // text.
    let (code, job, err) = sigil(&[
        "convert",
        "-t",
        "spark",
        "--format",
        "job",
        "-p",
        "none",
        text(&rules),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let job_path = dir.join("spark-without-lake.job");
    std::fs::write(&job_path, &job).expect("job written");
    let run = Command::new(&python)
        .arg(root().join("crates/sigil-cli/tests/lake_jobs/run_job.py"))
        .args([
            "spark",
            text(&lake),
            text(&job_path),
            text(&dir.join("none.jsonl")),
        ])
        .output()
        .expect("runs python");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success(),
        "a list read as text must stop the job"
    );
    assert!(
        stderr.contains("holds lists") && stderr.contains("--lake DIR"),
        "{stderr}"
    );
}

#[test]
fn the_jobs_find_on_each_engine_what_hunt_finds() {
    let Some(corpus) = shared_corpus(&["evtx", "sigma/rules/windows"]) else {
        return;
    };
    let Some(python) = python() else {
        return;
    };
    let _engines = ENGINES_IN_USE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lake-jobs");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let logs = corpus.join("evtx");
    let rules = corpus.join("sigma/rules/windows");

    let lake = dir.join("lake");
    let (code, _, err) = sigil(&["export", text(&logs), "-o", text(&lake), "--no-progress"]);
    assert_eq!(code, Some(0), "{err}");

    let found = dir.join("hunt.jsonl");
    let mut args = vec![
        "hunt",
        text(&logs),
        "--rules",
        text(&rules),
        "--format",
        "jsonl",
        "--no-progress",
        "-o",
        text(&found),
    ];
    args.extend(PIPELINES);
    let (code, _, err) = sigil(&args);
    assert_eq!(code, Some(1), "detections expected: {err}");
    let hunt: BTreeSet<Pair> = pairs(&found);
    assert!(hunt.len() > 1000, "{err}");

    let mut failures = Vec::new();
    for (target, engine) in ENGINES {
        // The SQL jobs are written for the lake's columns; the Spark program, written without
        // them, matches the data's names as hunt does (`Process Name` is `ProcessName`) when
        // it runs.
        let for_lake = target != "spark";
        let (got, report) = run_job(
            &python,
            &dir,
            (target, engine),
            &PIPELINES,
            &rules,
            (&lake, for_lake),
        );
        // Keyword rules cannot be expressed: listed in the header and counted as failed.
        let job = std::fs::read_to_string(dir.join(format!("{target}.job"))).expect("the job");
        let skipped = job
            .lines()
            .find_map(|l| {
                l.split_once("Rules that cannot be expressed (")
                    .and_then(|(_, n)| n.split_once(')'))
                    .and_then(|(n, _)| n.parse::<usize>().ok())
            })
            .unwrap_or_else(|| panic!("{target}: no rule listed as not expressed"));
        assert!(
            report.contains(&format!(" converted, {skipped} failed")),
            "{target}: the summary counts the job's {skipped} rules not expressed: {report}"
        );
        let both = hunt.intersection(&got).count();
        let either = hunt.union(&got).count();
        let iou = both as f64 / either as f64;
        println!(
            "{} ({target} job): {} pairs, hunt {}, both {both}, IoU {:.4}",
            report.lines().next().unwrap_or_default(),
            got.len(),
            hunt.len(),
            iou
        );
        for p in hunt.difference(&got) {
            println!("  only hunt: {p:?}");
        }
        for p in got.difference(&hunt) {
            println!("  only {engine}: {p:?}");
        }
        if got != hunt {
            failures.push(format!("{engine}: IoU {iou:.4}, not hunt's pairs"));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}
