//! `sigil export` through the binary: the Parquet read back with pyarrow and held to
//! `sigil hunt --format jsonl`'s events, JSON lines, the output folder, damaged input.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{shared_corpus, sigil};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// A fresh folder for one test under the target directory.
fn tempdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("export-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The Python that has pyarrow: `SIGIL_LAKE_PYTHON`, else `.ci/run`'s venv.
fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("SIGIL_LAKE_PYTHON")
        .map_or_else(|| root().join("target/lake-venv/bin/python"), PathBuf::from);
    let works = Command::new(&candidate)
        .args(["-c", "import pyarrow.parquet"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !works {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "pyarrow is missing: .ci/run installs it in target/lake-venv"
        );
        println!("skipped: no Python with pyarrow (set SIGIL_LAKE_PYTHON or run .ci/run)");
    }
    works.then_some(candidate)
}

/// The events a run read, from its summary line (`N files, M events (...)`).
fn events_read(stderr: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| {
            let (_, rest) = l
                .split_once(" files, ")
                .or_else(|| l.split_once(" file, "))?;
            rest.split(' ').next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no summary line in {stderr}"))
}

/// Exports `logs` to Parquet, hunts them with `rules`, and has pyarrow hold the one to the
/// other; the checker's report.
fn parquet_matches_hunt(name: &str, logs: &Path, rules: &Path) -> Option<serde_json::Value> {
    let python = python()?;
    let dir = tempdir(name);
    let out = dir.join("lake");
    let (code, _, stderr) = sigil(&["export", text(logs), "-o", text(&out), "--no-progress"]);
    assert_eq!(code, Some(0), "{stderr}");
    let exported = events_read(&stderr);
    let found = dir.join("hunt.jsonl");
    let (code, _, hunt_err) = sigil(&[
        "hunt",
        text(logs),
        "--rules",
        text(rules),
        "--format",
        "jsonl",
        "--no-progress",
        "-o",
        text(&found),
    ]);
    assert_eq!(code, Some(1), "detections expected: {hunt_err}");
    assert_eq!(exported, events_read(&hunt_err), "{stderr}\n{hunt_err}");
    let checker = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/export/check_parquet.py");
    let run = Command::new(python)
        .arg(checker)
        .arg(&out)
        .arg(&found)
        .arg(exported.to_string())
        .output()
        .expect("python runs");
    let report = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&report).expect("a JSON report");
    assert_eq!(report["rows"], exported);
    Some(report)
}

#[test]
fn parquet_of_the_corpus_holds_every_event_as_hunt_sees_it() {
    let Some(corpus) = shared_corpus(&["evtx", "sigma/rules/windows"]) else {
        return;
    };
    let Some(report) = parquet_matches_hunt(
        "corpus",
        &corpus.join("evtx"),
        &corpus.join("sigma/rules/windows"),
    ) else {
        return;
    };
    // Hundreds of events of detections, every one of their values compared.
    assert!(report["events_compared"].as_u64() > Some(500), "{report}");
    assert!(
        report["values_compared"].as_u64() > Some(10_000),
        "{report}"
    );
    assert_eq!(report["types"]["record_id"], "int64", "{report}");
    assert_eq!(report["types"]["EventID"], "int64", "{report}");
    assert_eq!(report["types"]["Channel"], "string", "{report}");
}

#[test]
fn parquet_of_the_examples_holds_every_event_as_hunt_sees_it() {
    let Some(report) = parquet_matches_hunt(
        "examples",
        &root().join("examples/logs"),
        &root().join("examples/rules"),
    ) else {
        return;
    };
    assert!(report["events_compared"].as_u64() > Some(3), "{report}");
}

fn jsonl_lines(dir: &Path) -> Vec<serde_json::Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("output folder")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .expect("read")
                .lines()
                .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn json_lines_are_the_events_hunt_reports() {
    let dir = tempdir("jsonl");
    let logs = root().join("examples/logs");
    let out = dir.join("lines");
    let (code, _, stderr) = sigil(&[
        "export",
        text(&logs),
        "-o",
        text(&out),
        "--format",
        "jsonl",
        "--no-progress",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(out.join("part-00000.jsonl").is_file());
    let lines = jsonl_lines(&out);
    assert_eq!(lines.len() as u64, events_read(&stderr));
    let (_, hunt, _) = sigil(&[
        "hunt",
        text(&logs),
        "--rules",
        text(&root().join("examples/rules")),
        "--format",
        "jsonl",
        "--no-progress",
    ]);
    let mut compared = 0;
    for d in hunt
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("hunt's JSON line"))
    {
        if d["event"].get("correlation").is_some() {
            continue;
        }
        let line = lines
            .iter()
            .find(|l| l["source"] == d["source"] && l["record_id"] == d["record_id"])
            .unwrap_or_else(|| panic!("no line for {d}"));
        let mut fields = line.as_object().expect("object").clone();
        let keys: Vec<&String> = fields.keys().take(2).collect();
        assert_eq!(keys, ["source", "record_id"]);
        fields.remove("source");
        fields.remove("record_id");
        assert_eq!(serde_json::Value::Object(fields), d["event"]);
        compared += 1;
    }
    assert!(compared > 3, "{hunt}");
}

#[test]
fn an_output_folder_in_use_is_kept_unless_forced() {
    let dir = tempdir("force");
    let logs = root().join("examples/logs/wmi-activity.jsonl");
    let out = dir.join("lake");
    let export = |extra: &[&str]| {
        let mut args = vec!["export", text(&logs), "-o", text(&out), "--no-progress"];
        args.extend_from_slice(extra);
        sigil(&args)
    };
    let (code, _, stderr) = export(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    let first = std::fs::read(out.join("part-00000.parquet")).expect("written");
    assert!(first.starts_with(b"PAR1"));
    std::fs::write(out.join("notes.txt"), "mine").expect("write");
    let (code, _, stderr) = export(&["--format", "jsonl"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("not empty") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(out.join("part-00000.parquet")).expect("kept"),
        first
    );
    let (code, _, stderr) = export(&["--format", "jsonl", "--force"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!out.join("part-00000.parquet").exists());
    assert!(out.join("part-00000.jsonl").is_file());
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).expect("kept"),
        "mine"
    );
    // A file is not a folder to export into.
    let (code, _, stderr) = sigil(&[
        "export",
        text(&logs),
        "-o",
        text(&out.join("notes.txt")),
        "--force",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not a folder"), "{stderr}");
}

#[test]
fn damaged_logs_are_reported_and_the_rest_exported() {
    let Some(corpus) = shared_corpus(&["evtx"]) else {
        return;
    };
    let dir = tempdir("damaged");
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).expect("logs");
    // The largest EVTX file, with its second chunk's header overwritten.
    let source = walkdir::WalkDir::new(corpus.join("evtx"))
        .into_iter()
        .filter_map(Result::ok)
        .map(walkdir::DirEntry::into_path)
        .filter(|p| p.extension().is_some_and(|e| e == "evtx"))
        .max_by_key(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .expect("an EVTX file");
    let mut bytes = std::fs::read(&source).expect("read");
    let second_chunk = 4096 + 65_536;
    assert!(bytes.len() > second_chunk + 65_536, "two chunks at least");
    bytes[second_chunk..second_chunk + 512].fill(0xAB);
    std::fs::write(logs.join("damaged.evtx"), &bytes).expect("write");
    std::fs::write(logs.join("broken.evtx"), b"ElfFile\0 but nothing else").expect("write");
    std::fs::copy(
        root().join("examples/logs/wmi-activity.jsonl"),
        logs.join("wmi.jsonl"),
    )
    .expect("copy");
    let out = dir.join("lake");
    let (code, _, stderr) = sigil(&["export", text(&logs), "-o", text(&out), "--no-progress"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("1 chunk skipped"), "{stderr}");
    assert!(stderr.contains("broken.evtx"), "{stderr}");
    assert!(
        stderr.contains("warning: some logs could not be read in full"),
        "{stderr}"
    );
    // The same events as hunt reads from the same files.
    let (_, _, hunt) = sigil(&[
        "hunt",
        text(&logs),
        "--rules",
        text(&root().join("examples/rules")),
        "--no-progress",
    ]);
    let events = events_read(&stderr);
    assert_eq!(events, events_read(&hunt), "{hunt}");
    assert!(events > 10, "{stderr}");
    assert!(
        stderr.contains(&format!("{events} rows written")),
        "{stderr}"
    );
    let (code, _, stderr) = sigil(&[
        "export",
        text(&logs),
        "-o",
        text(&dir.join("strict")),
        "--no-progress",
        "--strict",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    let (code, _, stderr) = sigil(&["export", text(&dir.join("missing")), "-o", text(&out)]);
    assert_eq!(code, Some(2), "{stderr}");
}

#[test]
fn the_ecs_view_writes_ecs_names() {
    let Some(python) = python() else {
        return;
    };
    let dir = tempdir("ecs");
    let out = dir.join("lake");
    let logs = root().join("examples/logs");
    let (code, _, stderr) = sigil(&[
        "export",
        text(&logs),
        "-o",
        text(&out),
        "--view",
        "ecs",
        "--no-progress",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let read = Command::new(python)
        .args([
            "-c",
            "import json, sys, pyarrow.parquet as pq\n\
             t = pq.read_table(sys.argv[1])\n\
             print(json.dumps({'names': t.column_names, 'rows': t.to_pylist()}))",
        ])
        .arg(&out)
        .output()
        .expect("python runs");
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let table: serde_json::Value = serde_json::from_slice(&read.stdout).expect("JSON");
    let names: Vec<&str> = table["names"]
        .as_array()
        .expect("names")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    for ecs in [
        "event.code",
        "host.name",
        "process.command_line",
        "winlog.channel",
    ] {
        assert!(names.contains(&ecs), "{ecs} missing from {names:?}");
    }
    assert!(
        !names.contains(&"CommandLine"),
        "raw names written: {names:?}"
    );
    let rows = table["rows"].as_array().expect("rows");
    assert_eq!(rows.len() as u64, events_read(&stderr));
    assert!(rows.iter().any(|r| {
        r["process.command_line"]
            .as_str()
            .is_some_and(|c| c.contains("wmic"))
    }));
}
