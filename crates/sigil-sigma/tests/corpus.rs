//! Every rule of the shared SigmaHQ corpus reads without errors; `unsupported/` rules
//! read or fail with a clear message; nothing panics.

mod common;

use std::path::Path;

use common::{corpus_dir, rule_files};
use sigil_core::Severity;

fn errors_of(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).expect("readable rule file");
    let file = sigil_sigma::parse_bytes(&bytes);
    file.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}:{}: {}", path.display(), d.span, d.message))
        .collect()
}

#[test]
fn rules_and_deprecated_read_without_errors() {
    let Some(corpus) = corpus_dir() else { return };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() && (name.starts_with("rules") || name == "deprecated") {
            files.extend(rule_files(&path));
        }
    }
    assert!(files.len() > 3000, "only {} rule files found", files.len());
    let mut errors = Vec::new();
    let mut rules = 0;
    for path in &files {
        errors.extend(errors_of(path));
        rules += sigil_sigma::parse_bytes(&std::fs::read(path).unwrap())
            .rules
            .len();
    }
    assert!(
        rules >= files.len(),
        "{rules} rules from {} files",
        files.len()
    );
    assert!(
        errors.is_empty(),
        "{} errors:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[test]
fn unsupported_rules_read_or_fail_clearly() {
    let Some(corpus) = corpus_dir() else { return };
    let files = rule_files(&corpus.join("unsupported"));
    assert!(!files.is_empty());
    let mut failed = 0;
    for path in &files {
        let errors = errors_of(path);
        for e in &errors {
            // A clear message names a line and says what is wrong in words.
            assert!(!e.contains(":0:"), "no position: {e}");
            assert!(
                e.len() > path.display().to_string().len() + 20,
                "terse: {e}"
            );
        }
        failed += usize::from(!errors.is_empty());
    }
    // The legacy aggregations there are the reason the folder exists.
    assert!(failed > 0);
    println!("unsupported/: {} files, {failed} with errors", files.len());
}
