//! `sigil check` on Elastic detection rules (TOML with EQL or KQL queries).

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn an_eql_syntax_error_names_the_line_inside_the_toml_file() {
    let out = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .arg("check")
        .arg(fixture("bad_eql.toml"))
        .output()
        .expect("sigil runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    // The query starts on line 15 of the file; the missing value is at its end, line 17.
    assert!(
        text.contains("bad_eql.toml:17:1: error: EQL syntax error"),
        "{text}"
    );
}

#[test]
fn the_elastic_corpus_checks_without_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/elastic");
    if !root.is_dir() {
        eprintln!("skipped: ../shared/corpus not found");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .args(["check", "--format", "json"])
        .arg(root.join("rules"))
        .arg(root.join("rules_building_block"))
        .output()
        .expect("sigil runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["files"].as_u64(), Some(2192), "{report}");
    assert_eq!(
        report["errors"].as_array().map(Vec::len),
        Some(0),
        "{}",
        report["errors"]
    );
    assert_eq!(out.status.code(), Some(0));
}
