//! `sigil coverage`: techniques × rules and the Navigator layer.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sigil-catalog/tests/fixtures/corpus")
}

#[test]
fn writes_a_navigator_layer_and_a_table() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("coverage-test");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let layer = dir.join("layer.json");
    let out = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .args(["coverage", "--corpus"])
        .arg(fixtures())
        .arg("--layer")
        .arg(&layer)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("TA0002 Execution"), "{text}");
    assert!(text.contains("T1047"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&layer).expect("layer written"))
            .expect("JSON");
    assert_eq!(v["versions"]["layer"], "4.5");
    assert_eq!(v["domain"], "enterprise-attack");
    assert!(
        v["techniques"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["techniqueID"] == "T1047"))
    );
}
