//! Helpers shared by the CLI tests: the binary run as users run it, and the shared corpus.

#![allow(dead_code)] // each test target uses a part

use std::path::{Path, PathBuf};
use std::process::Command;

/// `../shared/corpus` beside the repository when it holds every folder of `needs`;
/// otherwise says that the test is skipped.
pub fn shared_corpus(needs: &[&str]) -> Option<PathBuf> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if needs.iter().all(|n| corpus.join(n).is_dir()) {
        Some(corpus)
    } else {
        println!("skipped: ../shared/corpus not found");
        None
    }
}

/// Runs `sigil` with `args`: its exit code, standard output and standard error.
pub fn sigil(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
