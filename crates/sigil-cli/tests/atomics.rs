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

#[test]
fn explain_shows_events_and_why_rules_fire() {
    let corpus =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../sigil-catalog/tests/fixtures/corpus");
    let out = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .args(["atomics", "--corpus"])
        .arg(&corpus)
        .args(["--explain", "0F2B6D3E-8A41-4C2E-9A77-1B5E6F0C2D01"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // The executor's shell, then wmic under it, then the process WMI creates.
    assert!(
        text.contains("[0] process_creation  <- the command_prompt executor"),
        "{text}"
    );
    assert!(
        text.contains(r"Image: C:\Windows\System32\wbem\WMIC.exe"),
        "{text}"
    );
    assert!(
        text.contains(r"ParentImage: C:\Windows\System32\wbem\WmiPrvSE.exe"),
        "{text}"
    );
    let fires = text
        .split("Rules that fire")
        .nth(1)
        .expect("a rules section");
    assert!(
        fires.contains("9a4d2c1b-6e3f-4f8a-b1c7-0d5e8f2a4b69"),
        "{text}"
    );
    assert!(fires.contains("on event [1] process_creation"), "{text}");
    assert!(
        fires.contains("CommandLine: wmic process call create"),
        "{text}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .args(["atomics", "--corpus"])
        .arg(&corpus)
        .args(["--explain", "no-such-guid"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no atomic test with GUID no-such-guid"));
}
