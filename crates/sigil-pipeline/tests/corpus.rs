//! The SigmaHQ Windows rules through `sysmon` + `windows-logsources`, checked against the
//! reference conversions of `../shared/oracle`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sigil_core::{Expr, Value};
use sigil_pipeline::{PipelineSet, builtin, logsource_keys};

fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    dir.join("corpus").is_dir().then_some(dir)
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            out.push(p);
        }
    }
}

/// The event ids a pySigma Splunk query starts with (`EventID=1 ...` or
/// `EventID IN (12, 13, 14) ...`), after the `| rex` commands of regex rules.
fn leading_event_ids(query: &str) -> Option<BTreeSet<i64>> {
    let query = match query.rfind("| search ") {
        Some(i) if !query.starts_with("EventID") => &query[i + "| search ".len()..],
        _ => query,
    };
    if let Some(rest) = query.strip_prefix("EventID=") {
        let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
        return n.parse().ok().map(|n| BTreeSet::from([n]));
    }
    let rest = query.strip_prefix("EventID IN (")?;
    let list = &rest[..rest.find(')')?];
    list.split(',').map(|n| n.trim().parse().ok()).collect()
}

/// `path relative to the Sigma repository` → the first query, for rules pySigma converted.
fn oracle(shared: &Path) -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(shared.join("oracle/conv-splunk-sysmon.jsonl")).unwrap_or_default();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let (Some(path), Some(q)) = (v["path"].as_str(), v["queries"][0].as_str()) {
            out.insert(path.to_string(), q.to_string());
        }
    }
    out
}

const SYSMON_CATEGORIES: &[&str] = &[
    "file_delete_detected",
    "file_block_executable",
    "file_block_shredding",
    "file_executable_detected",
    "process_creation",
    "file_change",
    "network_connection",
    "process_termination",
    "sysmon_status",
    "driver_load",
    "image_load",
    "create_remote_thread",
    "raw_access_thread",
    "process_access",
    "file_event",
    "registry_add",
    "registry_delete",
    "registry_set",
    "registry_rename",
    "registry_event",
    "create_stream_hash",
    "pipe_created",
    "wmi_event",
    "dns_query",
    "file_delete",
    "clipboard_capture",
    "process_tampering",
    "sysmon_error",
];

#[test]
fn windows_rules_through_sysmon_and_windows_logsources() {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared/corpus not found");
        return;
    };
    let root = shared.join("corpus/sigma");
    let mut files = Vec::new();
    yaml_files(&root.join("rules/windows"), &mut files);
    files.sort();
    assert!(files.len() > 2000, "expected the SigmaHQ windows rules");

    let both = PipelineSet::new(vec![
        builtin("sysmon").expect("built in"),
        builtin("windows-logsources").expect("built in"),
    ]);
    let sysmon = PipelineSet::new(vec![builtin("sysmon").expect("built in")]);
    let reference = oracle(&shared);

    let (mut rules, mut compared, mut with_channel) = (0, 0, 0);
    let mut mismatches = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        let file = sigil_sigma::parse_str(&text);
        let rel = path
            .strip_prefix(&root)
            .expect("under the root")
            .to_string_lossy()
            .replace('\\', "/");
        for rule in &file.rules {
            rules += 1;
            let processed = both.apply(rule).unwrap_or_else(|e| panic!("{rel}: {e}"));
            let keys = logsource_keys(&processed);
            let ls = &rule.logsource;
            let is_sysmon = ls.product.as_deref() == Some("windows")
                && ls
                    .category
                    .as_deref()
                    .is_some_and(|c| SYSMON_CATEGORIES.contains(&c));
            if is_sysmon {
                assert_eq!(
                    processed.logsource.service.as_deref(),
                    Some("sysmon"),
                    "{rel}"
                );
                assert_eq!(
                    keys.channels,
                    Some(BTreeSet::from([
                        "Microsoft-Windows-Sysmon/Operational".to_string()
                    ])),
                    "{rel}"
                );
                with_channel += 1;
            }
            let Some(query) = reference.get(&rel) else {
                continue;
            };
            if !is_sysmon {
                continue;
            }
            // The reference used `sysmon` alone: its query starts with the added event ids.
            let only_sysmon = sysmon.apply(rule).expect("applies");
            let det = only_sysmon.detection().expect("a detection");
            let added = det.search("_cond_1").expect("an added search");
            let Expr::Pred(p) = &added.expr else {
                panic!("{rel}: unexpected added search")
            };
            let ours: BTreeSet<i64> = p
                .values
                .iter()
                .filter_map(|v| match v {
                    Value::Int(i) => Some(*i),
                    _ => None,
                })
                .collect();
            compared += 1;
            if leading_event_ids(query) != Some(ours.clone()) {
                mismatches.push(format!("{rel}: ours {ours:?}, reference `{query}`"));
            }
        }
    }
    assert!(rules > 2000, "{rules} rules");
    assert!(compared > 500, "only {compared} rules compared");
    assert!(with_channel > 1000, "{with_channel}");
    assert!(
        mismatches.is_empty(),
        "{} of {compared} differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
