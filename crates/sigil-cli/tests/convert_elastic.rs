//! `sigil convert` over Elastic `.toml` rules: EQL and KQL rules convert, the others
//! (sequences, rules marked not evaluable) are reported per rule.

use std::path::Path;

mod common;
use common::sigil;

#[test]
fn one_eql_rule_to_splunk() {
    let Some(corpus) = common::shared_corpus(&["elastic/rules/windows"]) else {
        return;
    };
    let rule = corpus.join("elastic/rules/windows/execution_suspicious_cmd_wmi.toml");
    let (code, out, err) = sigil(&[
        "convert",
        "-t",
        "splunk",
        rule.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let query = out.trim();
    assert!(
        query.contains("process.parent.name=\"WmiPrvSE.exe\""),
        "{query}"
    );
    assert!(query.contains("process.name=\"cmd.exe\""), "{query}");
    assert!(query.contains("event.category=\"process\""), "{query}");
    assert!(err.contains("1 converted, 0 failed"), "{err}");
}

#[test]
fn the_windows_rules_to_splunk_convert_or_fail_per_rule() {
    let Some(corpus) = common::shared_corpus(&["elastic/rules/windows"]) else {
        return;
    };
    let dir = corpus.join("elastic/rules/windows");
    let (code, out, err) = sigil(&[
        "convert",
        "-t",
        "splunk",
        "--format",
        "jsonl",
        dir.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, Some(1), "some rules cannot convert: {err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let converted = lines.iter().filter(|l| l["error"].is_null()).count();
    let failed: Vec<&serde_json::Value> = lines.iter().filter(|l| !l["error"].is_null()).collect();
    assert!(converted > 300, "{converted} converted\n{err}");
    assert!(!failed.is_empty());
    // Every file is a rule of its own: a sequence or an ES|QL rule fails alone, with a reason.
    assert!(
        failed
            .iter()
            .any(|l| l["error"].as_str().is_some_and(|e| e.contains("ES|QL")))
    );
    assert!(failed.iter().any(|l| {
        l["error"]
            .as_str()
            .is_some_and(|e| e.contains("correlation"))
    }));
    assert!(lines.iter().all(|l| {
        l["path"]
            .as_str()
            .is_some_and(|p| Path::new(p).extension().is_some_and(|e| e == "toml"))
    }));
}
