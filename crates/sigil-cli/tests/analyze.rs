//! `sigil analyze`: the JSON shape and the formats, on the catalog fixtures.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sigil-catalog/tests/fixtures/corpus")
}

fn sigil(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn json_has_exactly_the_documented_keys() {
    let corpus = fixtures();
    let rule = corpus.join("sigma/image_load_wmi_dll_non_wmi_process.yml");
    let (ok, out, err) = sigil(&[
        "analyze",
        rule.to_str().expect("utf-8 path"),
        "--corpus",
        corpus.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "title",
            "stages",
            "exclusions",
            "indicators",
            "related",
            "attack",
            "data_needed"
        ]
    );
    let ind = &v["indicators"][0];
    let ind_keys: Vec<&str> = ind
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        ind_keys,
        ["field", "kind", "value", "corpus", "corpus_by_source"]
    );
    assert_eq!(v["stages"][2]["name"], "not filter");
    assert_eq!(
        v["exclusions"][0]["values"],
        serde_json::json!([r"\svchost.exe", r"\wmiapsrv.exe", r"\wmiprvse.exe"])
    );
    let related: Vec<&str> = v["related"][0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(related, ["id", "title", "score"]);
    let attack: Vec<&str> = v["attack"][0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(attack, ["tactic", "technique", "name"]);
}

#[test]
fn text_and_markdown_show_the_sections() {
    let corpus = fixtures();
    let rule = corpus.join("elastic/wmi_provider_host_spawns_shell.toml");
    for (format, marker) in [("text", "Exclusions\n"), ("markdown", "## Exclusions")] {
        let (ok, out, err) = sigil(&[
            "analyze",
            rule.to_str().expect("utf-8 path"),
            "--corpus",
            corpus.to_str().expect("utf-8 path"),
            "--format",
            format,
        ]);
        assert!(ok, "{err}");
        assert!(out.contains(marker), "{out}");
        assert!(out.contains("WmiPrvSE.exe"));
    }
}

#[test]
fn a_missing_rule_is_an_error_not_a_panic() {
    let (ok, _, err) = sigil(&["analyze", "/nonexistent/rule.yml"]);
    assert!(!ok);
    assert!(err.contains("/nonexistent/rule.yml"), "{err}");
}
