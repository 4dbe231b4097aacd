//! `sigil search` through the binary, held to an independent count: the `evtx` crate's own
//! JSON rendering of every record of the corpus, searched by this test.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::{shared_corpus, sigil};

fn jsonl(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

/// Every EVTX file under `dir`.
fn evtx_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(walkdir::DirEntry::into_path)
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("evtx"))
        })
        .collect();
    files.sort();
    files
}

/// Whether any text of `value` (strings at any depth, attributes included) contains
/// `needle` (lowercase), ignoring case.
fn any_text_contains(value: &serde_json::Value, needle: &str) -> bool {
    match value {
        serde_json::Value::String(s) => s.to_lowercase().contains(needle),
        serde_json::Value::Array(a) => a.iter().any(|v| any_text_contains(v, needle)),
        serde_json::Value::Object(o) => o.values().any(|v| any_text_contains(v, needle)),
        _ => false,
    }
}

/// Calls `f` with every record of every file under `dir`, as the `evtx` crate renders it:
/// its file, its `EventRecordID` and its JSON.
fn each_record(dir: &Path, f: &mut dyn FnMut(&Path, u64, &serde_json::Value)) {
    for path in evtx_files(dir) {
        let Ok(mut parser) = evtx::EvtxParser::from_path(&path) else {
            continue;
        };
        for record in parser.records_json_value().filter_map(Result::ok) {
            // The id the record's System element holds (exported logs renumber the
            // records' headers).
            let system = &record.data["Event"]["System"]["EventRecordID"];
            let id = system.as_u64().unwrap_or(record.event_record_id);
            f(&path, id, &record.data);
        }
    }
}

#[test]
fn a_text_finds_exactly_the_records_that_hold_it() {
    let Some(corpus) = shared_corpus(&["evtx"]) else {
        return;
    };
    let evtx = corpus.join("evtx");
    for (pattern, needle) in [("mimikatz", "mimikatz"), ("PsExeC", "psexec")] {
        let mut expected = BTreeSet::new();
        each_record(&evtx, &mut |path, id, data| {
            if any_text_contains(data, needle) {
                expected.insert((path.to_string_lossy().into_owned(), id));
            }
        });
        let (code, out, err) = sigil(&[
            "search",
            evtx.to_str().expect("utf-8"),
            pattern,
            "--format",
            "jsonl",
            "--no-progress",
        ]);
        assert_eq!(code, Some(0), "{err}");
        let found: Vec<serde_json::Value> = jsonl(&out);
        let got: BTreeSet<(String, u64)> = found
            .iter()
            .map(|h| {
                (
                    h["source"].as_str().unwrap_or_default().to_string(),
                    h["record_id"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(got.len(), found.len(), "each record once");
        assert!(expected.len() >= 10, "{pattern}: {}", expected.len());
        assert_eq!(got, expected, "{pattern}");
        for h in &found {
            let keys: Vec<&str> = h
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                [
                    "timestamp",
                    "computer",
                    "channel",
                    "event_id",
                    "record_id",
                    "source",
                    "event"
                ]
            );
        }
    }
}

#[test]
fn fields_regexes_eql_and_time_windows_agree_with_the_records() {
    let Some(corpus) = shared_corpus(&["evtx"]) else {
        return;
    };
    let evtx = corpus.join("evtx");
    let dir = evtx.to_str().expect("utf-8");
    let run = |extra: &[&str]| {
        let mut args = vec!["search", dir, "--format", "jsonl", "--no-progress"];
        args.extend_from_slice(extra);
        let (code, out, err) = sigil(&args);
        assert!(matches!(code, Some(0 | 1)), "{extra:?}: {err}");
        jsonl(&out)
    };
    // Successful logons, by the evtx crate's rendering.
    let mut logons: BTreeMap<(String, u64), String> = BTreeMap::new();
    each_record(&evtx, &mut |path, id, data| {
        let system = &data["Event"]["System"];
        let event_id = system["EventID"]
            .as_u64()
            .or_else(|| system["EventID"]["#text"].as_u64());
        if event_id == Some(4624) {
            let time = system["TimeCreated"]["#attributes"]["SystemTime"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            logons.insert((path.to_string_lossy().into_owned(), id), time);
        }
    });
    let keys = |found: &[serde_json::Value]| -> BTreeSet<(String, u64)> {
        found
            .iter()
            .map(|h| {
                (
                    h["source"].as_str().unwrap_or_default().to_string(),
                    h["record_id"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    };
    let by_field = run(&["--field", "eventid=4624"]);
    assert!(logons.len() > 50, "{}", logons.len());
    assert_eq!(keys(&by_field), logons.keys().cloned().collect());
    // The same by EQL and by an anchored regular expression on the Security channel.
    let by_eql = run(&["--eql", "any where EventID == 4624"]);
    assert_eq!(keys(&by_eql), keys(&by_field));
    let both = run(&["--all", "--field", "Channel=security", "-e", "^4624$"]);
    assert_eq!(keys(&both), keys(&by_field));

    // A window: the logons at or after the median time, until a day later.
    let mut times: Vec<i64> = logons
        .values()
        .filter_map(|t| sigil_logs::parse_timestamp_micros(t))
        .collect();
    times.sort_unstable();
    let from = times[times.len() / 2];
    let until = from + 86_400_000_000;
    let expected: BTreeSet<(String, u64)> = logons
        .iter()
        .filter(|(_, t)| {
            sigil_logs::parse_timestamp_micros(t).is_some_and(|t| t >= from && t < until)
        })
        .map(|(k, _)| k.clone())
        .collect();
    let windowed = run(&[
        "--field",
        "EventID=4624",
        "--from",
        &sigil_logs::format_timestamp_micros(from),
        "--to",
        &sigil_logs::format_timestamp_micros(until - 1),
    ]);
    assert!(!expected.is_empty() && expected.len() < logons.len());
    assert_eq!(keys(&windowed), expected);
}

#[test]
fn bad_searches_exit_two_with_a_message_and_nothing_found_exits_one() {
    let cases: [(&[&str], &str); 5] = [
        (&["examples/logs"], "text to look for"),
        (&["examples/logs", "-e", "(unclosed"], "(unclosed"),
        (&["examples/logs", "--field", "novalue"], "NAME=VALUE"),
        (&["examples/logs", "--eql", "process where"], "--eql"),
        (&["/no/such/logs", "x"], "/no/such/logs"),
    ];
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sigil"))
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .arg("search")
            .args(args)
            .output()
            .expect("runs")
    };
    for (args, expected) in cases {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let none = run(&["examples/logs", "no-such-text-anywhere-7f3a"]);
    assert_eq!(none.status.code(), Some(1));
    let some = run(&["examples/logs", "WMIC", "--format", "csv"]);
    assert_eq!(some.status.code(), Some(0));
    let csv = String::from_utf8_lossy(&some.stdout);
    assert_eq!(
        csv.lines().next(),
        Some("timestamp,computer,channel,event_id,record_id,source,event")
    );
    assert!(csv.lines().count() > 1);
}
