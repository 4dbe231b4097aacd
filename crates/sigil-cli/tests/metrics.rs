//! `sigil metrics` through the binary, held to an independent count: the `evtx` crate's own
//! JSON rendering of every record of the corpus, counted by this test.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{shared_corpus, sigil};

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

/// A value of the evtx crate's rendering as text (`#text` of an element with attributes).
fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Object(o) => o.get("#text").and_then(text),
        _ => None,
    }
}

/// A successful logon's user, source address and logon type.
type LogonKey = (Option<String>, Option<String>, Option<String>);

/// What the test counts: per (channel, event id), per computer, per file (events, first,
/// last), and the successful logons per (user, source address, logon type).
#[derive(Default)]
struct Counts {
    by_event: BTreeMap<(Option<String>, Option<u64>), u64>,
    by_computer: BTreeMap<Option<String>, u64>,
    by_file: BTreeMap<String, (u64, Option<i64>, Option<i64>)>,
    logons: BTreeMap<LogonKey, u64>,
}

fn count(dir: &Path) -> Counts {
    let mut c = Counts::default();
    for path in evtx_files(dir) {
        let Ok(mut parser) = evtx::EvtxParser::from_path(&path) else {
            continue;
        };
        let file = c
            .by_file
            .entry(path.to_string_lossy().into_owned())
            .or_insert((0, None, None));
        for record in parser.records_json_value().filter_map(Result::ok) {
            let event = &record.data["Event"];
            let system = &event["System"];
            let channel = text(&system["Channel"]).filter(|c| !c.is_empty());
            let id = text(&system["EventID"]).and_then(|t| t.parse::<u64>().ok());
            *c.by_event.entry((channel.clone(), id)).or_default() += 1;
            *c.by_computer
                .entry(text(&system["Computer"]).filter(|c| !c.is_empty()))
                .or_default() += 1;
            let time = text(&system["TimeCreated"]["#attributes"]["SystemTime"])
                .and_then(|t| sigil_logs::parse_timestamp_micros(&t));
            file.0 += 1;
            if let Some(t) = time {
                file.1 = Some(file.1.map_or(t, |f: i64| f.min(t)));
                file.2 = Some(file.2.map_or(t, |l: i64| l.max(t)));
            }
            if id == Some(4624) && channel.as_deref() == Some("Security") {
                let data = &event["EventData"];
                let field = |name: &str| text(&data[name]).filter(|v| !v.is_empty() && v != "-");
                *c.logons
                    .entry((
                        field("TargetUserName"),
                        field("IpAddress"),
                        field("LogonType"),
                    ))
                    .or_default() += 1;
            }
        }
    }
    c
}

fn opt_str(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

#[test]
fn json_counts_equal_the_evtx_crates_records() {
    let Some(corpus) = shared_corpus(&["evtx"]) else {
        return;
    };
    let evtx = corpus.join("evtx");
    let expected = count(&evtx);
    let (code, out, err) = sigil(&[
        "metrics",
        evtx.to_str().expect("utf-8"),
        "--format",
        "json",
        "--logons",
        "--no-progress",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    let keys: Vec<&str> = report
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "files",
            "events",
            "by_event",
            "by_computer",
            "by_file",
            "logons"
        ]
    );

    let by_event: BTreeMap<(Option<String>, Option<u64>), u64> = report["by_event"]
        .as_array()
        .expect("array")
        .iter()
        .map(|e| {
            let keys: Vec<&str> = e
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, ["channel", "event_id", "name", "count"]);
            (
                (opt_str(&e["channel"]), e["event_id"].as_u64()),
                e["count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert!(by_event.len() > 50, "{}", by_event.len());
    assert_eq!(by_event, expected.by_event);
    let total: u64 = expected.by_event.values().sum();
    assert_eq!(report["events"], total);
    assert_eq!(report["files"], expected.by_file.len());
    // Common kinds are named.
    assert!(
        report["by_event"]
            .as_array()
            .expect("array")
            .iter()
            .any(|e| {
                e["channel"] == "Security"
                    && e["event_id"] == 4624
                    && e["name"].as_str().is_some_and(|n| !n.is_empty())
            })
    );

    let by_computer: BTreeMap<Option<String>, u64> = report["by_computer"]
        .as_array()
        .expect("array")
        .iter()
        .map(|c| (opt_str(&c["computer"]), c["count"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(by_computer, expected.by_computer);

    let time = |v: &serde_json::Value| v.as_str().and_then(sigil_logs::parse_timestamp_micros);
    let by_file: BTreeMap<String, (u64, Option<i64>, Option<i64>)> = report["by_file"]
        .as_array()
        .expect("array")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                (
                    f["events"].as_u64().unwrap_or(0),
                    time(&f["first"]),
                    time(&f["last"]),
                ),
            )
        })
        .collect();
    assert_eq!(by_file, expected.by_file);

    let logons: BTreeMap<LogonKey, u64> = report["logons"]
        .as_array()
        .expect("array")
        .iter()
        .filter(|l| l["event_id"] == 4624)
        .map(|l| {
            assert_eq!(l["outcome"], "success");
            (
                (
                    opt_str(&l["user"]),
                    opt_str(&l["source_ip"]),
                    opt_str(&l["logon_type"]),
                ),
                l["count"].as_u64().unwrap_or(0),
            )
        })
        .fold(BTreeMap::new(), |mut m, (k, n)| {
            // The report also splits by domain: add up.
            *m.entry(k).or_default() += n;
            m
        });
    assert!(!logons.is_empty());
    assert_eq!(logons, expected.logons);
}

#[test]
fn table_and_csv_and_bad_input() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sigil"))
            .current_dir(root)
            .arg("metrics")
            .args(args)
            .output()
            .expect("runs")
    };
    let csv = run(&["examples/logs", "--format", "csv"]);
    assert_eq!(csv.status.code(), Some(0));
    let text = String::from_utf8_lossy(&csv.stdout);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    assert_eq!(header.len(), 14);
    for line in lines {
        assert!(
            ["event,", "computer,", "file,"]
                .iter()
                .any(|s| line.starts_with(s)),
            "{line}"
        );
    }
    let table = run(&["examples/logs"]);
    assert_eq!(table.status.code(), Some(0));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("Events by channel and event id"), "{text}");
    assert!(!text.contains("Logons"));
    for (args, expected) in [
        (&["/no/such/logs"][..], "/no/such/logs"),
        (&["examples/logs", "--from", "yesterday"][..], "yesterday"),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(expected));
    }
}
