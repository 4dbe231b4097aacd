//! The whole Elastic detection-rules corpus: every EQL and KQL rule must parse, and the
//! metadata must agree with a plain TOML read of the same file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sigil_core::RuleBody;
use sigil_elastic::parse_rule_toml;

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/elastic");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: ../shared/corpus not found");
        None
    }
}

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            toml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "toml") {
            out.push(p);
        }
    }
}

fn rule_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    toml_files(&root.join("rules"), &mut files);
    toml_files(&root.join("rules_building_block"), &mut files);
    files
}

#[test]
fn every_eql_and_kql_rule_parses() {
    let Some(root) = corpus() else { return };
    let files = rule_files(&root);
    assert!(files.len() > 2000, "only {} rule files", files.len());
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut marked: BTreeMap<String, usize> = BTreeMap::new();
    let mut sequences = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        let file = parse_rule_toml(&text);
        let Some(rule) = file.rules.first() else {
            failures.push(format!("{}: {:?}", path.display(), file.diagnostics));
            continue;
        };
        let lang = rule
            .query
            .as_ref()
            .map_or_else(|| "none".to_string(), |q| q.language.clone());
        let kind = rule.custom.get("type").cloned().unwrap_or_default();
        *counts.entry(format!("{lang}/{kind}")).or_default() += 1;
        if matches!(lang.as_str(), "eql" | "kuery") && file.has_errors() {
            for d in &file.diagnostics {
                failures.push(format!("{}:{}: {}", path.display(), d.span, d.message));
            }
        }
        if !rule.is_evaluable() {
            *marked.entry(format!("{lang}/{kind}")).or_default() += 1;
        }
        if matches!(rule.body, RuleBody::Correlation(_)) && lang == "eql" {
            sequences += 1;
        }
    }
    println!("rules by language/type: {counts:?}");
    println!("marked not evaluable: {marked:?}");
    println!("EQL correlations (sequence/sample): {sequences}");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let eql: usize = counts
        .iter()
        .filter(|(k, _)| k.starts_with("eql/"))
        .map(|(_, v)| v)
        .sum();
    let kql: usize = counts
        .iter()
        .filter(|(k, _)| k.starts_with("kuery/"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(eql, 1081);
    assert_eq!(kql, 792);
    assert!(sequences >= 207, "{sequences} sequences");
}
