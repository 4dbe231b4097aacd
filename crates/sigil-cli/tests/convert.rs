//! `sigil convert` end to end: formats, exit codes, and bad input.

use std::process::Command;

fn sigil() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sigil"))
}

fn fixture(name: &str) -> String {
    format!(
        "{}/../sigil-backend/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn converts_to_plain_queries() {
    let out = sigil()
        .args(["convert", "-t", "splunk", &fixture("keywords.yml")])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("\"chmod 777\" OR \"wget http\""), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 converted, 0 failed"));
}

#[test]
fn jsonl_reports_failures_and_exits_1() {
    let out = sigil()
        .args([
            "convert",
            "-t",
            "sqlite",
            "--format",
            "jsonl",
            &fixture("keywords.yml"),
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let line: serde_json::Value =
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap_or_default())
            .expect("json line");
    let keys: Vec<&str> = line
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["path", "id", "title", "target", "queries", "error"]);
    assert!(
        line["error"]
            .as_str()
            .unwrap_or_default()
            .contains("keyword")
    );
}

#[test]
fn one_bad_rule_does_not_stop_the_rest() {
    let dir = format!(
        "{}/../sigil-backend/tests/fixtures",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = sigil()
        .args(["convert", "-t", "lucene", "--format", "jsonl", &dir])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let lines = String::from_utf8_lossy(&out.stdout).lines().count();
    let rules = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "yml"))
        })
        .count();
    assert_eq!(lines, rules);
}

#[test]
fn unknown_target_is_a_usage_error() {
    let out = sigil()
        .args(["convert", "-t", "splnk", &fixture("keywords.yml")])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown target `splnk`"));
}

#[test]
fn pipeline_typo_is_a_usage_error() {
    let out = sigil()
        .args([
            "convert",
            "-t",
            "splunk",
            "-p",
            "sysmn",
            &fixture("keywords.yml"),
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pipeline `sysmn`"));
}

#[test]
fn savedsearches_and_ndjson() {
    let out = sigil()
        .args([
            "convert",
            "-t",
            "splunk",
            "--format",
            "savedsearches",
            &fixture("keywords.yml"),
        ])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("[default]\n"), "{text}");
    assert!(
        text.contains("[Keywords and lists of maps]\nsearch = "),
        "{text}"
    );
    let out = sigil()
        .args([
            "convert",
            "-t",
            "eql",
            "--format",
            "ndjson",
            &fixture("values.yml"),
        ])
        .output()
        .expect("runs");
    let rule: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one json rule");
    assert_eq!(rule["language"], "eql");
    assert!(
        rule["query"]
            .as_str()
            .unwrap_or_default()
            .starts_with("any where ")
    );
}
