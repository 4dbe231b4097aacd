//! `sigil watch`: the detections of a live run equal `sigil hunt`'s over the same events,
//! correlations included; bad records are counted and skipped; correlation windows
//! survive a restart through `--state`; specs that are not understood exit 2.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{shared_corpus, sigil};
use serde_json::Value;

const WMIC_BURST: &str = "0d8f2b4c-6a1e-4c3d-b5f7-9e1a3c5d7f02";

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// The event as a detection names it, without where it was read from (`hunt` names the
/// file, `watch` the input): for a correlation, its group, value and events.
fn without_source(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "source")
                .map(|(k, v)| (k.clone(), without_source(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_source).collect()),
        other => other.clone(),
    }
}

/// (rule, event) pairs of JSON lines, with how often each occurs; and the lines marked as
/// repeats.
fn pairs(jsonl: &str) -> (BTreeMap<(String, String), usize>, usize) {
    let mut out = BTreeMap::new();
    let mut repeats = 0;
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v.get("repeat") == Some(&Value::Bool(true)) {
            repeats += 1;
        }
        let rule = v["rule_id"]
            .as_str()
            .unwrap_or_else(|| v["rule_title"].as_str().unwrap_or_default())
            .to_string();
        let event = without_source(&v["event"]).to_string();
        *out.entry((rule, event)).or_default() += 1;
    }
    (out, repeats)
}

fn hunt(logs: &Path, rules: &Path, pipelines: &[&str]) -> String {
    let mut args = vec![
        "hunt".to_string(),
        logs.display().to_string(),
        "--rules".into(),
        rules.display().to_string(),
        "-f".into(),
        "jsonl".into(),
        "--no-progress".into(),
    ];
    for p in pipelines {
        args.extend(["-p".to_string(), (*p).to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = sigil(&args);
    assert!(matches!(code, Some(0 | 1)), "hunt failed: {err}");
    out
}

/// Runs `sigil watch` with `args`, `stdin` as its standard input: exit code, stdout, stderr.
fn watch_stdin(args: &[&str], stdin: &[u8]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .arg("watch")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("runs");
    writer.join().expect("writes");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The oracle's events, unpacked into `dir`.
fn oracle_events(dir: &Path) -> Option<PathBuf> {
    let gz = shared_corpus(&["sigma/rules/windows"])?.join("../oracle/events.jsonl.gz");
    if !gz.is_file() {
        println!("skipped: ../shared/oracle/events.jsonl.gz not found");
        return None;
    }
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&gz).expect("opens"))
        .read_to_end(&mut text)
        .expect("unpacks");
    let path = dir.join("events.jsonl");
    std::fs::write(&path, text).expect("writes");
    Some(path)
}

#[test]
fn stdin_gives_the_hunts_detections_over_the_oracle_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(events) = oracle_events(dir.path()) else {
        return;
    };
    let rules = shared_corpus(&["sigma/rules/windows"])
        .expect("corpus")
        .join("sigma/rules/windows");
    let pipelines = ["sysmon", "windows-logsources"];
    let (batch, _) = pairs(&hunt(&events, &rules, &pipelines));
    assert!(batch.len() > 100, "hunt found only {}", batch.len());
    let data = std::fs::read(&events).expect("reads");
    let rules_arg = rules.display().to_string();
    let (code, out, err) = watch_stdin(
        &[
            "--rules",
            &rules_arg,
            "-p",
            "sysmon",
            "-p",
            "windows-logsources",
            "--input",
            "-",
        ],
        &data,
    );
    assert_eq!(code, Some(0), "{err}");
    let (live, repeats) = pairs(&out);
    assert_eq!(repeats, 0);
    let missing: Vec<_> = batch
        .keys()
        .filter(|k| !live.contains_key(*k))
        .take(5)
        .collect();
    let extra: Vec<_> = live
        .keys()
        .filter(|k| !batch.contains_key(*k))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
    assert_eq!(live, batch);
    assert!(err.contains("8255 events"), "{err}");
}

#[test]
fn the_example_correlation_fires_as_in_hunt() {
    let logs = examples().join("logs/wmi-activity.jsonl");
    let rules = examples().join("rules");
    let (batch, _) = pairs(&hunt(&logs, &rules, &[]));
    assert!(
        batch.keys().any(|(rule, _)| rule == WMIC_BURST),
        "hunt fires the correlation: {batch:?}"
    );
    let rules_arg = rules.display().to_string();
    let (code, out, err) = watch_stdin(
        &["--rules", &rules_arg, "--input", "-"],
        &std::fs::read(&logs).expect("reads"),
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(pairs(&out).0, batch);
}

#[test]
fn bad_lines_are_counted_and_skipped() {
    let logs = std::fs::read_to_string(examples().join("logs/wmi-activity.jsonl")).expect("reads");
    let mut mixed = String::new();
    for (i, line) in logs.lines().enumerate() {
        mixed.push_str(line);
        mixed.push('\n');
        if i == 0 {
            mixed.push_str("{\"broken\": \n");
            mixed.push_str("[1, 2]\n");
        }
    }
    let rules = examples().join("rules").display().to_string();
    let (code, out, err) = watch_stdin(&["--rules", &rules, "--input", "-"], mixed.as_bytes());
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("2 bad records skipped"), "{err}");
    let (_, clean, _) = watch_stdin(&["--rules", &rules, "--input", "-"], logs.as_bytes());
    assert!(!clean.is_empty());
    assert_eq!(pairs(&out).0, pairs(&clean).0);
}

#[test]
fn a_correlation_window_survives_a_restart_with_its_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.db");
    let state_arg = state.display().to_string();
    let logs = std::fs::read_to_string(examples().join("logs/wmi-activity.jsonl")).expect("reads");
    let lines: Vec<&str> = logs.lines().collect();
    let rules = examples().join("rules").display().to_string();
    let args = ["--rules", &rules, "--input", "-", "--state", &state_arg];
    // The burst needs three WMIC events; the first run sees two.
    let first = lines[..2].join("\n") + "\n";
    let (code, out, err) = watch_stdin(&args, first.as_bytes());
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.contains(WMIC_BURST), "{out}");
    let rest = lines[2..].join("\n") + "\n";
    let (code, out, err) = watch_stdin(&args, rest.as_bytes());
    assert_eq!(code, Some(0), "{err}");
    let burst: Vec<Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["rule_id"] == WMIC_BURST)
        .collect();
    assert_eq!(burst.len(), 1, "{out}");
    assert_eq!(
        burst[0]["event"]["events"].as_array().map(Vec::len),
        Some(3)
    );
    // Without the state, the second part alone does not fire it.
    let (_, out, _) = watch_stdin(&["--rules", &rules, "--input", "-"], rest.as_bytes());
    assert!(!out.contains(WMIC_BURST), "{out}");
}

#[test]
fn specs_not_understood_exit_2_with_a_clear_message() {
    let rules = examples().join("rules").display().to_string();
    for (spec, says) in [
        ("kafka://broker:9092/events", "unknown input scheme `kafka`"),
        ("events.jsonl", "not an input"),
        ("nats://127.0.0.1:4222/events", "durable"),
    ] {
        let (code, _, err) = sigil(&["watch", "--rules", &rules, "--input", spec]);
        assert_eq!(code, Some(2), "{spec}: {err}");
        assert!(err.contains(says), "{spec}: {err}");
        assert!(err.contains(spec), "{spec}: {err}");
    }
    let (code, _, err) = sigil(&[
        "watch", "--rules", &rules, "--input", "-", "--output", "smtp://x",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("unknown output scheme `smtp`"), "{err}");
}
