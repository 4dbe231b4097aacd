//! `sigil lsp` end to end: a real LSP client (pytest-lsp on pygls, installed by `.ci/run` in
//! `target/lsp-venv`) drives the binary over stdio through `tests/lsp/test_lsp.py`: a
//! diagnostic at an unknown modifier's line and column, modifier completion after `Image|`,
//! hover on `attack.t1047`, go to definition, a quick fix that clears its diagnostic, and
//! bad input (invalid UTF-8, malformed frames, a 50 MB document, a file never opened) that
//! the server answers and survives.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python that has pytest-lsp: `SIGIL_LSP_PYTHON`, else `.ci/run`'s venv.
fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("SIGIL_LSP_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/lsp-venv/bin/python"),
        PathBuf::from,
    );
    let works = Command::new(&candidate)
        .args(["-c", "import pytest_lsp"])
        .output()
        .is_ok_and(|o| o.status.success());
    works.then_some(candidate)
}

#[test]
fn the_language_server_serves_a_real_client() {
    let Some(python) = python() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "pytest-lsp is missing: .ci/run installs it in target/lsp-venv"
        );
        println!("skipped: no Python with pytest-lsp (set SIGIL_LSP_PYTHON or run .ci/run)");
        return;
    };
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lsp/test_lsp.py");
    let out = Command::new(python)
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_mode=strict",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
        ])
        .arg(&tests)
        .env("SIGIL_BIN", env!("CARGO_BIN_EXE_sigil"))
        .output()
        .expect("pytest runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    assert!(out.status.success(), "the LSP tests failed:\n{report}");
    assert!(report.contains(" passed"), "{report}");
    assert!(!report.contains("skipped"), "{report}");
}
