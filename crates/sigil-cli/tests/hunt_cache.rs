//! `sigil hunt` with the rule cache and without it (`--no-cache`): the same detections,
//! byte for byte, over the shared corpus's Windows rules and EVTX samples (the examples
//! when the corpus is missing); the cache is written to the user's cache folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn hunt(cache_home: &Path, logs: &Path, rules: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigil"))
        .env("XDG_CACHE_HOME", cache_home)
        .arg("hunt")
        .arg(logs)
        .arg("--rules")
        .arg(rules)
        .args(["--format", "jsonl", "--threads", "2", "--no-progress"])
        .args(extra)
        .output()
        .expect("sigil runs")
}

#[test]
fn cached_and_uncached_hunts_find_the_same() {
    let corpus = root().join("../shared/corpus");
    let (logs, rules) = if corpus.join("evtx").is_dir() {
        (corpus.join("evtx"), corpus.join("sigma/rules/windows"))
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared/corpus is missing (CI needs it)"
        );
        println!("../shared/corpus not found: the examples only");
        (root().join("examples/logs"), root().join("examples/rules"))
    };
    let home = std::env::temp_dir().join(format!("sigil-hunt-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let plain = hunt(&home, &logs, &rules, &["--no-cache"]);
    assert!(!home.join("sigil").exists(), "--no-cache writes no cache");
    let writing = hunt(&home, &logs, &rules, &[]);
    let caches = std::fs::read_dir(home.join("sigil"))
        .expect("the cache folder")
        .count();
    assert_eq!(caches, 1);
    let reading = hunt(&home, &logs, &rules, &[]);
    assert_eq!(plain.status.code(), Some(1), "detections exit 1");
    assert!(!plain.stdout.is_empty());
    for (what, out) in [("writing", &writing), ("reading", &reading)] {
        assert_eq!(out.status.code(), plain.status.code(), "{what}");
        assert!(out.stdout == plain.stdout, "{what}: other detections");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&plain.stderr),
            "{what}: another summary"
        );
    }
    std::fs::remove_dir_all(&home).expect("removes the cache folder");
}
