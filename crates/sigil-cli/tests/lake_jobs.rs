//! The detection jobs on the real engines: `sigil export` of the corpus's EVTX logs, the
//! `--format job` of every Windows rule (pipelines `sysmon` + `windows-logsources`) run on
//! DuckDB, ClickHouse (chdb, in-process) and Apache Spark (local mode), each engine's
//! (rule, event) pairs held to `sigil hunt`'s over the same logs with the same pipelines.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{shared_corpus, sigil};

/// The least intersection over union of an engine's detections and hunt's.
const AGREEMENT: f64 = 0.99;

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

#[test]
fn the_jobs_find_on_each_engine_what_hunt_finds() {
    let Some(corpus) = shared_corpus(&["evtx", "sigma/rules/windows"]) else {
        return;
    };
    let Some(python) = python() else {
        return;
    };
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

    let script = root().join("crates/sigil-cli/tests/lake_jobs/run_job.py");
    let mut failures = Vec::new();
    for (target, engine) in [
        ("duckdb", "duckdb"),
        ("clickhouse", "clickhouse"),
        ("spark", "spark"),
    ] {
        let mut args = vec!["convert", "-t", target, "--format", "job"];
        args.extend(PIPELINES);
        args.push(text(&rules));
        let (code, job, err) = sigil(&args);
        // Keyword rules cannot be expressed: listed in the header, the rest converted.
        assert!(code == Some(0) || code == Some(1), "{err}");
        assert!(job.contains("Rules that cannot be expressed"), "{err}");
        let job_path = dir.join(format!("{target}.job"));
        std::fs::write(&job_path, &job).expect("job written");
        let out = dir.join(format!("{target}.jsonl"));
        let run = Command::new(&python)
            .arg(&script)
            .args([engine, text(&lake), text(&job_path), text(&out)])
            .output()
            .expect("runs python");
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{engine}: {stdout}\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let got = pairs(&out);
        let both = hunt.intersection(&got).count();
        let either = hunt.union(&got).count();
        let iou = both as f64 / either as f64;
        println!(
            "{} ({target} job): {} pairs, hunt {}, both {both}, IoU {:.4}",
            stdout.trim(),
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
        if iou < AGREEMENT {
            failures.push(format!("{engine}: IoU {iou:.4} < {AGREEMENT}"));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}
