//! Fixture folders: every file under `fixtures/valid/` checks clean; every file under
//! `fixtures/invalid/` gives errors whose rendered text is snapshotted. Large and deeply
//! nested inputs are generated here rather than committed.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use sigil_core::Severity;
use sigil_sigma::{SigmaFile, lint};

fn fixtures(kind: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind);
    common::rule_files(&dir)
}

/// Reads and checks one file as `sigil check` does (alone in its set).
fn check(bytes: &[u8]) -> SigmaFile {
    let mut file = sigil_sigma::parse_bytes(bytes);
    lint::check_file(&mut file);
    for (_, d) in lint::check_set(&[&file]) {
        file.diagnostics.push(d);
    }
    file.diagnostics
        .sort_by_key(|d| (d.span.line, d.span.column));
    file
}

/// The diagnostics as `sigil check` prints them.
fn render(name: &str, file: &SigmaFile) -> String {
    let mut out = String::new();
    for d in &file.diagnostics {
        let _ = writeln!(
            out,
            "{name}:{}:{}: {}: {} [{}]",
            d.span.line, d.span.column, d.severity, d.message, d.code
        );
    }
    out
}

#[test]
fn valid_fixtures_check_clean() {
    let files = fixtures("valid");
    assert!(files.len() >= 4);
    for path in files {
        let file = check(&std::fs::read(&path).expect("fixture"));
        let name = path.file_name().expect("name").to_string_lossy();
        assert!(file.diagnostics.is_empty(), "{}", render(&name, &file));
        assert!(!file.rules.is_empty(), "{name}: no rules");
    }
}

#[test]
fn invalid_fixtures_snapshots() {
    let files = fixtures("invalid");
    assert!(files.len() >= 12);
    for path in files {
        let file = check(&std::fs::read(&path).expect("fixture"));
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        assert!(
            file.diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error),
            "{name}: no error"
        );
        assert!(file.diagnostics.iter().all(|d| d.span.line > 0));
        insta::assert_snapshot!(name.clone(), render(&name, &file));
    }
}

/// A rule with `n` values: about 50 MB at n = 2,000,000.
pub fn huge_rule(n: usize) -> String {
    let mut text = String::from(
        "title: Huge\nlogsource: {product: windows}\ndetection:\n  selection:\n    Image:\n",
    );
    for i in 0..n {
        let _ = writeln!(text, "      - 'C:\\Windows\\value-{i:018}.exe'");
    }
    text.push_str("  condition: selection\n");
    text
}

/// `depth` nested block sequences in compact form (`- - - x`), on line 3.
pub fn deep_rule(depth: usize) -> String {
    format!("title: Deep\ndetection:\n  {}x\n", "- ".repeat(depth))
}

#[test]
fn a_50_mb_file_is_refused_at_line_1() {
    let text = huge_rule(1_400_000);
    assert!(text.len() > 50_000_000, "{}", text.len());
    let file = check(text.as_bytes());
    assert_eq!(
        render("huge.yml", &file),
        format!(
            "huge.yml:1:1: error: the file is {} bytes, more than the 16777216 bytes a rule file may have [file-too-large]\n",
            text.len()
        )
    );
}

#[test]
fn a_large_file_under_the_limit_still_reads() {
    let text = huge_rule(200_000);
    let file = check(text.as_bytes());
    assert!(!file.has_errors(), "{:?}", file.diagnostics.first());
    let Some(sigil_core::Expr::Pred(p)) = file.rules[0].detection().map(|d| &d.searches[0].expr)
    else {
        panic!("no predicate")
    };
    assert_eq!(p.values.len(), 200_000);
}

#[test]
fn ten_thousand_nested_levels_are_refused_with_a_line() {
    let file = check(deep_rule(10_000).as_bytes());
    assert_eq!(
        render("deep.yml", &file),
        "deep.yml:3:257: error: YAML nested deeper than 128 levels [yaml-too-deep]\n"
    );
    // Flow style, and a condition nested as deep.
    let flow = format!("title: x\ndetection: {}\n", "[".repeat(10_000));
    assert!(check(flow.as_bytes()).has_errors());
    let cond = format!(
        "title: x\nlogsource: {{product: x}}\ndetection:\n  s: {{a: 1}}\n  condition: {}s{}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let file = check(cond.as_bytes());
    assert!(render("c.yml", &file).contains("c.yml:5:"));
}
