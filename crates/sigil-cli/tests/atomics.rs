//! `sigil atomics`: the JSON shape, on the catalog fixtures.

use std::path::Path;
use std::process::Command;

#[test]
fn json_lists_tests_with_fired_rules_and_gaps() {
    let corpus =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../sigil-catalog/tests/fixtures/corpus");
    let out = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .args(["atomics", "--format", "json", "--corpus"])
        .arg(&corpus)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["tests", "gaps"]);
    let test = &v["tests"][0];
    let keys: Vec<&str> = test
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "guid",
            "name",
            "technique",
            "platforms",
            "executor",
            "fired",
            "same_technique"
        ]
    );
    assert_eq!(
        test["fired"][0]["id"],
        "9a4d2c1b-6e3f-4f8a-b1c7-0d5e8f2a4b69"
    );
    assert_eq!(
        v["gaps"],
        serde_json::json!(["0f2b6d3e-8a41-4c2e-9a77-1b5e6f0c2d02"])
    );
}
