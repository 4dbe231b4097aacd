//! `sigil hunt` on the shipped examples and on bad input, through the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigil"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("sigil runs")
}

fn jsonl(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn the_examples_fire_what_they_were_written_for() {
    let out = sigil(&[
        "hunt",
        "examples/logs",
        "--rules",
        "examples/rules",
        "--format",
        "jsonl",
    ]);
    assert_eq!(out.status.code(), Some(1), "detections exit 1");
    let found = jsonl(&out);
    let fired = |title: &str| -> Vec<i64> {
        found
            .iter()
            .filter(|d| d["rule_title"].as_str().is_some_and(|t| t.contains(title)))
            .filter_map(|d| d["record_id"].as_i64())
            .collect()
    };
    // wmic: three Sysmon process creations, and the Security 4688 one through windows-audit.
    let mut wmic = fired("WMIC Process Call Create");
    wmic.sort_unstable();
    assert_eq!(wmic, [101, 102, 103, 5001]);
    // The filter on \ccm\ keeps record 106 out.
    assert_eq!(fired("Spawned by the WMI Provider Host"), [104]);
    // windash (`/enc`) and the UTF-16 base64 payload.
    assert_eq!(fired("Encoded PowerShell"), [105]);
    // The WMI host itself (109) is excluded.
    assert_eq!(fired("WMI Client Libraries"), [108]);
    assert_eq!(fired("Event Consumer"), [110, 111]);
    // Three wmic runs on WS01 within ten minutes: the correlation fires once.
    let burst: Vec<&serde_json::Value> = found
        .iter()
        .filter(|d| {
            d["rule_title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Burst"))
        })
        .collect();
    assert_eq!(burst.len(), 1);
    assert_eq!(
        burst[0]["event"]["events"].as_array().map(Vec::len),
        Some(3)
    );

    let first = &found[0];
    let keys: Vec<&str> = first
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "rule_id",
            "rule_title",
            "level",
            "tags",
            "timestamp",
            "computer",
            "channel",
            "event_id",
            "record_id",
            "source",
            "details",
            "event"
        ]
    );
    // Sysmon process creations are described by their command line.
    let wmic = found
        .iter()
        .find(|d| d["record_id"] == 101)
        .expect("record 101");
    assert!(
        wmic["details"]
            .as_str()
            .is_some_and(|t| t.starts_with("Cmdline: ") && t.contains("wmic")),
        "{wmic}"
    );
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(summary.contains("12 events"), "{summary}");
}

#[test]
fn min_level_and_csv() {
    let out = sigil(&[
        "hunt",
        "examples/logs",
        "--rules",
        "examples/rules",
        "--format",
        "csv",
        "--min-level",
        "high",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .is_some_and(|h| h.starts_with("timestamp,level,rule_title,rule_id"))
    );
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r.split(',').nth(1) == Some("high")),
        "{rows:?}"
    );
}

#[test]
fn no_detection_exits_zero_and_usage_errors_exit_two() {
    let dir = tempdir();
    let log = dir.join("quiet.jsonl");
    std::fs::write(&log, "{\"EventID\": 1, \"Image\": \"C:\\\\notepad.exe\"}\n").expect("write");
    let out = sigil(&[
        "hunt",
        log.to_str().expect("utf-8"),
        "--rules",
        "examples/rules",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no detection"));

    let out = sigil(&[
        "hunt",
        "examples/logs",
        "--rules",
        "examples/rules",
        "-p",
        "no-such-pipeline",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-pipeline"));

    let out = sigil(&["hunt", "examples/logs", "--rules", "/no/such/rules"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/rules"));

    let out = sigil(&["hunt", "examples/logs"]);
    assert_eq!(out.status.code(), Some(2), "--rules is required");
}

#[test]
fn bad_logs_are_reported_and_the_rest_is_read() {
    let dir = tempdir();
    std::fs::copy(
        root().join("examples/logs/wmi-activity.jsonl"),
        dir.join("good log.jsonl"),
    )
    .expect("copy");
    let mut broken =
        std::fs::read_to_string(root().join("examples/logs/wmi-activity.jsonl")).expect("read");
    broken.insert_str(0, "{\"EventID\": 1, \"Image\": \n");
    std::fs::write(dir.join("broken.jsonl"), broken).expect("write");
    std::fs::write(dir.join("binary.json"), [0u8, 159, 146, 150, 1, 2, 3]).expect("write");
    let mut evtx = b"ElfFile\0".to_vec();
    evtx.extend(std::iter::repeat_n(0xA5u8, 5000));
    std::fs::write(dir.join("truncated.evtx"), evtx).expect("write");

    let out = sigil(&[
        "hunt",
        dir.to_str().expect("utf-8"),
        "--rules",
        "examples/rules",
        "--format",
        "jsonl",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.jsonl"), "{stderr}");
    assert!(stderr.contains("binary.json"), "{stderr}");
    assert!(stderr.contains("truncated.evtx"), "{stderr}");
    let found = jsonl(&out);
    // Both copies of the good events are hunted: the broken line costs only itself.
    let from = |name: &str| {
        found
            .iter()
            .filter(|d| d["source"].as_str().is_some_and(|s| s.ends_with(name)))
            .count()
    };
    assert!(from("good log.jsonl") >= 8);
    assert_eq!(from("good log.jsonl"), from("broken.jsonl"));
}

#[test]
fn the_output_file_is_not_hunted_when_it_lies_among_the_logs() {
    let dir = tempdir();
    std::fs::copy(
        root().join("examples/logs/wmi-activity.jsonl"),
        dir.join("wmi.jsonl"),
    )
    .expect("copy");
    let output = dir.join("found.jsonl");
    let run = || {
        sigil(&[
            "hunt",
            dir.to_str().expect("utf-8"),
            "--rules",
            "examples/rules",
            "--format",
            "jsonl",
            "-o",
            output.to_str().expect("utf-8"),
        ])
    };
    let first = run();
    assert_eq!(first.status.code(), Some(1));
    let written = std::fs::read_to_string(&output).expect("output");
    // A second run finds the first one's output in the folder and leaves it alone.
    let second = run();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.starts_with("1 file,"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&output).expect("output"), written);
}

#[test]
fn a_regex_too_large_to_build_is_listed_with_the_skipped_rules() {
    let dir = tempdir();
    let log = dir.join("one.jsonl");
    std::fs::write(&log, "{\"CommandLine\": \"whoami /all\"}\n").expect("write");
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).expect("rules dir");
    let rule = |title: &str, selection: &str| {
        format!(
            "title: {title}\nlogsource:\n    product: windows\ndetection:\n    selection:\n{selection}\n    condition: selection\nlevel: high\n"
        )
    };
    std::fs::write(
        rules.join("huge.yml"),
        rule("Huge", "        CommandLine|re: '(?:\\w{1000}){1000}'"),
    )
    .expect("write");
    std::fs::write(
        rules.join("plain.yml"),
        rule("Plain", "        CommandLine|contains: 'whoami'"),
    )
    .expect("write");
    let out = sigil(&[
        "hunt",
        log.to_str().expect("utf-8"),
        "--rules",
        rules.to_str().expect("utf-8"),
        "--format",
        "jsonl",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(jsonl(&out).len(), 1, "{stderr}");
    assert!(stderr.contains("huge.yml: Huge"), "{stderr}");
    assert!(stderr.contains("could not be built"), "{stderr}");
}

fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sigil-hunt-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
