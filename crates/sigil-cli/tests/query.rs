//! `sigil query`: EQL sequences follow time, not the order logs are read in, and agree
//! with `sigil hunt` running the same sequence as an Elastic rule.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;
use common::sigil;

const CMD_THEN_WHOAMI: &str = "sequence by host.name with maxspan=1m \
    [process where process.name : \"cmd.exe\"] [process where process.name : \"whoami.exe\"]";

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn micros(v: &serde_json::Value) -> i64 {
    let text = v.as_str().expect("a timestamp");
    sigil_logs::parse_timestamp_micros(text).expect("a readable timestamp")
}

/// The events of each match of `query --format jsonl`, by match number.
fn matches(out: &str) -> BTreeMap<u64, Vec<serde_json::Value>> {
    let mut by_match: BTreeMap<u64, Vec<serde_json::Value>> = BTreeMap::new();
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let n = v["_match"].as_u64().expect("a match number");
        by_match.entry(n).or_default().push(v);
    }
    by_match
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sigil-query-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn eql_sequences_on_the_evtx_corpus_are_in_time_order_and_agree_with_hunt() {
    let Some(corpus) = common::shared_corpus(&["evtx"]) else {
        return;
    };
    let evtx = corpus.join("evtx");
    let (code, out, err) = sigil(&["query", "--eql", CMD_THEN_WHOAMI, path_str(&evtx)]);
    assert_eq!(code, Some(0), "{err}");
    let found = matches(&out);
    assert!(!found.is_empty(), "{err}");
    let mut last_times = Vec::new();
    for (n, events) in &found {
        assert_eq!(events.len(), 2, "match {n}");
        let (cmd, whoami) = (&events[0], &events[1]);
        assert_eq!(cmd["process.name"], "cmd.exe", "match {n}");
        assert_eq!(whoami["process.name"], "whoami.exe", "match {n}");
        assert_eq!(cmd["host.name"], whoami["host.name"], "match {n}");
        let gap = micros(&whoami["@timestamp"]) - micros(&cmd["@timestamp"]);
        assert!(
            (0..=60_000_000).contains(&gap),
            "match {n}: whoami.exe {gap} µs after cmd.exe"
        );
        last_times.push(micros(&whoami["@timestamp"]));
    }
    // Matches come in time order.
    assert!(last_times.is_sorted(), "{last_times:?}");

    // The same sequence as an Elastic rule, hunted: the same sequences end at the same
    // events.
    let dir = temp_dir("hunt");
    let rule = dir.join("cmd_then_whoami.toml");
    let toml = format!(
        "[metadata]\ncreation_date = \"2024/01/01\"\nupdated_date = \"2024/01/01\"\n\n\
         [rule]\nauthor = [\"sigil\"]\ndescription = \"cmd.exe, then whoami.exe\"\n\
         name = \"Cmd then whoami\"\nrisk_score = 21\n\
         rule_id = \"00000000-0000-0000-0000-000000000016\"\nseverity = \"low\"\n\
         tags = [\"OS: Windows\"]\ntype = \"eql\"\nlanguage = \"eql\"\n\
         index = [\"winlogbeat-*\", \"logs-windows.*\"]\nquery = '''\n{CMD_THEN_WHOAMI}\n'''\n"
    );
    std::fs::write(&rule, toml).expect("write rule");
    let (code, out, err) = sigil(&[
        "hunt",
        path_str(&evtx),
        "--rules",
        path_str(&rule),
        "--format",
        "jsonl",
        "--no-progress",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, Some(1), "{err}");
    let mut hunted: Vec<i64> = out
        .lines()
        .map(|l| {
            let d: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            assert_eq!(d["event"]["correlation"], "temporal_ordered", "{d}");
            micros(&d["timestamp"])
        })
        .collect();
    hunted.sort_unstable();
    assert_eq!(hunted, last_times);
}

#[test]
fn eql_sequences_over_json_ignore_read_order_and_report_untimed_events() {
    let dir = temp_dir("json");
    let log = dir.join("events.jsonl");
    let event = |host: &str, name: &str, time: Option<&str>| {
        let mut e = serde_json::json!({
            "event": {"category": "process"},
            "host": {"name": host},
            "process": {"name": name},
        });
        if let Some(t) = time {
            e["@timestamp"] = t.into();
        }
        e.to_string()
    };
    let lines = [
        // Host a: written whoami.exe first, but cmd.exe happened 30 s before it.
        event("a", "whoami.exe", Some("2024-05-01T10:00:30Z")),
        event("a", "cmd.exe", Some("2024-05-01T10:00:00Z")),
        // Host b: cmd.exe nine days after whoami.exe: not a sequence.
        event("b", "cmd.exe", Some("2024-05-10T10:00:00Z")),
        event("b", "whoami.exe", Some("2024-05-01T10:00:00Z")),
        // Host c: a cmd.exe without a time cannot start a sequence.
        event("c", "cmd.exe", None),
        event("c", "whoami.exe", Some("2024-05-01T10:00:00Z")),
    ];
    std::fs::write(&log, lines.join("\n") + "\n").expect("write log");
    let (code, out, err) = sigil(&["query", "--eql", CMD_THEN_WHOAMI, path_str(&log)]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, Some(0), "{err}");
    let found = matches(&out);
    assert_eq!(found.len(), 1, "{out}");
    let events = &found[&1];
    assert_eq!(events[0]["host"]["name"], "a");
    assert_eq!(events[0]["process"]["name"], "cmd.exe");
    assert_eq!(events[1]["process"]["name"], "whoami.exe");
    assert!(
        err.contains("1 event matched a step but had no usable `@timestamp`"),
        "{err}"
    );
}
