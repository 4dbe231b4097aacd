//! What responders need from `sigil hunt` beyond matching, through the binary: event
//! details, profiles, and bad input.

mod common;

use std::path::PathBuf;

use common::{shared_corpus, sigil};

fn jsonl(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sigil-responders-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The corpus hunted with every Windows rule, as JSON lines.
fn corpus_hunt(extra: &[&str]) -> Vec<serde_json::Value> {
    let corpus = shared_corpus(&["evtx", "sigma"]).expect("checked by the caller");
    let evtx = corpus.join("evtx");
    let rules = corpus.join("sigma/rules/windows");
    let mut args = vec![
        "hunt",
        evtx.to_str().expect("utf-8"),
        "--rules",
        rules.to_str().expect("utf-8"),
        "--format",
        "jsonl",
        "--no-progress",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = sigil(&args);
    assert!(matches!(code, Some(0 | 1)), "{code:?}: {err}");
    jsonl(&out)
}

#[test]
fn every_detection_of_a_kind_with_a_template_has_details() {
    if shared_corpus(&["evtx", "sigma"]).is_none() {
        return;
    }
    let details = sigil_hunt::Details::builtin();
    let found = corpus_hunt(&[]);
    assert!(found.len() > 1000, "{}", found.len());
    let (mut with_template, mut missing) = (0, Vec::new());
    for d in &found {
        let event = &d["event"];
        let Some(id) = d["event_id"].as_u64() else {
            continue;
        };
        let template = details.template(d["channel"].as_str(), event["Provider_Name"].as_str(), id);
        if template.is_none() {
            continue;
        }
        with_template += 1;
        if d["details"].as_str().is_none_or(str::is_empty) {
            missing.push(format!(
                "{} {}#{}",
                d["rule_title"], d["source"], d["record_id"]
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "{} without details: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(
        with_template * 10 > found.len() * 9,
        "{with_template} of {}",
        found.len()
    );
}

#[test]
fn a_rule_naming_its_fields_is_described_by_them() {
    let dir = tempdir("fields");
    let log = dir.join("events.jsonl");
    std::fs::write(
        &log,
        "{\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"EventID\":1,\"Image\":\"C:\\\\x\\\\wmic.exe\",\"CommandLine\":\"wmic process call create\",\"User\":\"PC\\\\bob\"}\n",
    )
    .expect("write");
    let rule = dir.join("rule.yml");
    std::fs::write(
        &rule,
        "title: Wmic\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    selection:\n        Image|endswith: '\\wmic.exe'\n    condition: selection\nfields:\n    - User\n    - Image\nlevel: high\n",
    )
    .expect("write");
    let (code, out, err) = sigil(&[
        "hunt",
        log.to_str().expect("utf-8"),
        "--rules",
        rule.to_str().expect("utf-8"),
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, Some(1), "{err}");
    let found = jsonl(&out);
    assert_eq!(
        found[0]["details"],
        "User: PC\\bob ¦ Image: C:\\x\\wmic.exe"
    );

    // The table shows details; the minimal profile keeps five columns.
    let (_, table, _) = sigil(&[
        "hunt",
        log.to_str().expect("utf-8"),
        "--rules",
        rule.to_str().expect("utf-8"),
        "--profile",
        "minimal",
    ]);
    let header: Vec<&str> = table
        .lines()
        .next()
        .expect("a header")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["timestamp", "level", "rule", "computer", "details"]
    );
    assert!(table.contains("User: PC\\bob"), "{table}");
    // CSV: all fields by default, fewer with a profile.
    let (_, csv, _) = sigil(&[
        "hunt",
        log.to_str().expect("utf-8"),
        "--rules",
        rule.to_str().expect("utf-8"),
        "--format",
        "csv",
        "--profile",
        "verbose",
    ]);
    assert_eq!(
        csv.lines().next(),
        Some(
            "timestamp,level,rule_title,rule_id,tags,computer,channel,event_id,record_id,source,details"
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_a_clear_message_and_exit_two() {
    let cases: [(&[&str], &str); 3] = [
        (&["--profile", "huge"], "huge"),
        (
            &["--details", "/no/such/details.yml"],
            "/no/such/details.yml",
        ),
        (&["--from", "last tuesday"], "last tuesday"),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["hunt", "examples/logs", "--rules", "examples/rules"];
        args.extend_from_slice(extra);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sigil"))
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .args(&args)
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(expected), "{extra:?}: {err}");
        assert!(out.stdout.is_empty(), "{extra:?}");
    }
}

/// The key of a detection: rule, file and record.
fn key(d: &serde_json::Value) -> (String, String, i64) {
    (
        d["rule_id"].as_str().unwrap_or_default().to_string(),
        d["source"].as_str().unwrap_or_default().to_string(),
        d["record_id"].as_i64().unwrap_or(-1),
    )
}

fn is_correlation(d: &serde_json::Value) -> bool {
    d["event"].get("correlation").is_some()
}

fn micros(d: &serde_json::Value) -> Option<i64> {
    d["timestamp"]
        .as_str()
        .and_then(sigil_logs::parse_timestamp_micros)
}

#[test]
fn time_and_computer_filters_keep_exactly_the_matching_detections() {
    if shared_corpus(&["evtx", "sigma"]).is_none() {
        return;
    }
    // Correlations measure the events they see, so a window changes them: they are left
    // out of the comparison.
    let all: Vec<serde_json::Value> = corpus_hunt(&[])
        .into_iter()
        .filter(|d| !is_correlation(d))
        .collect();
    let mut times: Vec<i64> = all.iter().filter_map(micros).collect();
    times.sort_unstable();
    let at = |q: usize| times[times.len() * q / 100];
    let show = |t: i64| {
        let secs = t.div_euclid(1_000_000);
        // Written back as RFC 3339 with an offset, to exercise offsets too.
        let shifted = secs + 2 * 3600;
        let days = shifted.div_euclid(86_400);
        let (y, m, d) = civil(days);
        let s = shifted.rem_euclid(86_400);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+02:00",
            s / 3600,
            s % 3600 / 60,
            s % 60
        )
    };
    let windows: Vec<(Option<String>, Option<String>)> = vec![
        // A one-hour window in the middle of the data.
        (Some(show(at(50))), Some(show(at(50) + 3_600_000_000))),
        // From a point on; up to a point.
        (Some(show(at(80))), None),
        (None, Some(show(at(20)))),
        // A whole day, as a date.
        (Some(date(at(35))), Some(date(at(35)))),
    ];
    for (from, to) in &windows {
        let window = sigil_logs::TimeWindow::parse(from.as_deref(), to.as_deref()).expect("valid");
        let (lo, hi) = (window.from, window.until);
        let expected: std::collections::BTreeSet<_> = all
            .iter()
            .filter(|d| {
                micros(d).is_some_and(|t| lo.is_none_or(|l| t >= l) && hi.is_none_or(|h| t < h))
            })
            .map(key)
            .collect();
        let mut extra = Vec::new();
        if let Some(f) = from {
            extra.extend(["--from", f.as_str()]);
        }
        if let Some(t) = to {
            extra.extend(["--to", t.as_str()]);
        }
        let got: std::collections::BTreeSet<_> = corpus_hunt(&extra)
            .iter()
            .filter(|d| !is_correlation(d))
            .map(key)
            .collect();
        assert!(!expected.is_empty(), "{extra:?} holds detections");
        assert_eq!(got, expected, "{extra:?}");
    }

    // The computer with most detections, by its name's start and a wildcard.
    let mut by_computer = std::collections::BTreeMap::<String, usize>::new();
    for d in &all {
        *by_computer
            .entry(d["computer"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    let busiest = by_computer
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(c, _)| c.clone())
        .expect("a computer");
    let prefix: String = busiest.chars().take(5).collect::<String>().to_lowercase();
    let pattern = format!("{prefix}*");
    let expected: std::collections::BTreeSet<_> = all
        .iter()
        .filter(|d| {
            d["computer"]
                .as_str()
                .is_some_and(|c| c.to_lowercase().starts_with(&prefix))
        })
        .map(key)
        .collect();
    let got: std::collections::BTreeSet<_> = corpus_hunt(&["--computer", &pattern])
        .iter()
        .filter(|d| !is_correlation(d))
        .map(key)
        .collect();
    assert!(expected.len() < all.len());
    assert_eq!(got, expected, "--computer {pattern}");
}

/// `YYYY-MM-DD` of a time.
fn date(t: i64) -> String {
    let (y, m, d) = civil(t.div_euclid(86_400_000_000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The civil date of a day number since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The non-correlation detections of a run, by key.
fn keys(found: &[serde_json::Value]) -> std::collections::BTreeSet<(String, String, i64)> {
    found
        .iter()
        .filter(|d| !is_correlation(d))
        .map(key)
        .collect()
}

#[test]
fn status_tag_and_excluded_ids_keep_exactly_the_matching_rules() {
    let Some(corpus) = shared_corpus(&["evtx", "sigma"]) else {
        return;
    };
    // Correlations count the events of rules that are left out too: compared apart.
    let all: Vec<serde_json::Value> = corpus_hunt(&[])
        .into_iter()
        .filter(|d| !is_correlation(d))
        .collect();
    let loaded = sigil_load::load(
        &[corpus.join("sigma/rules/windows")],
        sigil_load::Options::default(),
    );
    let status: std::collections::BTreeMap<String, sigil_core::Status> = loaded
        .rules
        .iter()
        .filter_map(|lr| Some((lr.rule.id.clone()?, lr.rule.status?)))
        .collect();

    // --status: the detections of rules of that status.
    let expected = keys(
        &all.iter()
            .filter(|d| {
                d["rule_id"]
                    .as_str()
                    .and_then(|id| status.get(id))
                    .is_some_and(|s| *s == sigil_core::Status::Stable)
            })
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert!(!expected.is_empty() && expected.len() < all.len());
    assert_eq!(keys(&corpus_hunt(&["--status", "stable"])), expected);

    // --tag: a technique takes its sub-techniques, in any case.
    let tagged = |d: &serde_json::Value| {
        d["tags"].as_array().is_some_and(|tags| {
            tags.iter().filter_map(|t| t.as_str()).any(|t| {
                let t = t.to_ascii_lowercase();
                t == "attack.t1059" || t.starts_with("attack.t1059.")
            })
        })
    };
    let expected = keys(
        &all.iter()
            .filter(|d| tagged(d))
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert!(!expected.is_empty() && expected.len() < all.len());
    assert_eq!(keys(&corpus_hunt(&["--tag", "ATTACK.T1059"])), expected);

    // --exclude-rules: the three rules with most detections left out.
    let mut per_rule = std::collections::BTreeMap::<String, usize>::new();
    for d in &all {
        if let Some(id) = d["rule_id"].as_str() {
            *per_rule.entry(id.to_string()).or_default() += 1;
        }
    }
    let mut busiest: Vec<(String, usize)> = per_rule.into_iter().collect();
    busiest.sort_by_key(|b| std::cmp::Reverse(b.1));
    let excluded: Vec<String> = busiest.iter().take(3).map(|(id, _)| id.clone()).collect();
    let dir = tempdir("exclude");
    let list = dir.join("exclude.txt");
    std::fs::write(
        &list,
        format!(
            "# noisy rules\n{}  # the noisiest\n\n{}\n{}\n",
            excluded[0], excluded[1], excluded[2]
        ),
    )
    .expect("write");
    let expected = keys(
        &all.iter()
            .filter(|d| !excluded.iter().any(|id| d["rule_id"] == id.as_str()))
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert!(expected.len() < all.len());
    assert_eq!(
        keys(&corpus_hunt(&[
            "--exclude-rules",
            list.to_str().expect("utf-8")
        ])),
        expected
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn more_bad_filters_are_a_clear_message_and_exit_two() {
    let cases: [(&[&str], &str); 5] = [
        (&["--to", "2019-13-01"], "2019-13-01"),
        (&["--from", "2019-04-28", "--to", "2019-04-27"], "--from"),
        (&["--computer", ""], "--computer"),
        (&["--status", "golden"], "golden"),
        (&["--exclude-rules", "/no/such/ids.txt"], "/no/such/ids.txt"),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["hunt", "examples/logs", "--rules", "examples/rules"];
        args.extend_from_slice(extra);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sigil"))
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .args(&args)
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(expected), "{extra:?}: {err}");
        assert!(out.stdout.is_empty(), "{extra:?}");
    }
}

#[test]
fn sorted_by_time_is_the_same_detections_in_time_order() {
    if shared_corpus(&["evtx", "sigma"]).is_none() {
        return;
    }
    let unsorted = corpus_hunt(&[]);
    let sorted = corpus_hunt(&["--sort", "time"]);
    let times: Vec<Option<i64>> = sorted.iter().map(micros).collect();
    // Timed detections first, in order; then those without a time.
    let timed = times.iter().take_while(|t| t.is_some()).count();
    assert!(times[timed..].iter().all(Option::is_none));
    assert!(
        times[..timed].windows(2).all(|w| w[0] <= w[1]),
        "out of time order"
    );
    // The unsorted run is not already in time order (the test would prove nothing).
    let unsorted_times: Vec<i64> = unsorted.iter().filter_map(micros).collect();
    assert!(unsorted_times.windows(2).any(|w| w[0] > w[1]));
    let lines = |found: &[serde_json::Value]| {
        let mut v: Vec<String> = found.iter().map(ToString::to_string).collect();
        v.sort_unstable();
        v
    };
    assert_eq!(sorted.len(), unsorted.len());
    assert!(
        lines(&sorted) == lines(&unsorted),
        "not the same detections"
    );
}
