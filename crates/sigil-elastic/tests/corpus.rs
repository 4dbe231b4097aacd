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

/// The ATT&CK ids of the `threat` tables, as a plain TOML read sees them.
fn plain_attack_tags(rule: &toml::Table) -> Vec<String> {
    let mut out = Vec::new();
    let Some(threats) = rule.get("threat").and_then(toml::Value::as_array) else {
        return out;
    };
    for t in threats {
        if let Some(name) = t
            .get("tactic")
            .and_then(|x| x.get("name"))
            .and_then(toml::Value::as_str)
        {
            out.push(format!(
                "attack.{}",
                name.to_ascii_lowercase().replace(' ', "-")
            ));
        }
        for tech in t
            .get("technique")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(id) = tech.get("id").and_then(toml::Value::as_str) {
                out.push(format!("attack.{}", id.to_ascii_lowercase()));
            }
            for sub in tech
                .get("subtechnique")
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(id) = sub.get("id").and_then(toml::Value::as_str) {
                    out.push(format!("attack.{}", id.to_ascii_lowercase()));
                }
            }
        }
    }
    out
}

#[test]
fn metadata_agrees_with_a_plain_toml_read() {
    let Some(root) = corpus() else { return };
    let mut checked = 0;
    for path in rule_files(&root) {
        let text = std::fs::read_to_string(&path).expect("readable");
        let plain: toml::Table = toml::from_str(&text).expect("valid TOML");
        let r = plain["rule"].as_table().expect("[rule]");
        let s = |k: &str| r.get(k).and_then(toml::Value::as_str).map(str::to_string);
        let file = parse_rule_toml(&text);
        let rule = &file.rules[0];
        let at = path.display();
        assert_eq!(rule.id, s("rule_id"), "{at}");
        assert_eq!(Some(rule.title.clone()), s("name"), "{at}");
        assert_eq!(
            rule.level.map(|l| l.name().to_string()),
            s("severity"),
            "{at}"
        );
        assert_eq!(
            rule.custom.get("risk_score").cloned(),
            r.get("risk_score").map(ToString::to_string),
            "{at}"
        );
        assert_eq!(rule.custom.get("type").cloned(), s("type"), "{at}");
        assert_eq!(rule.custom.get("language").cloned(), s("language"), "{at}");
        assert_eq!(
            rule.query.as_ref().map(|q| q.text.clone()),
            s("query"),
            "{at}"
        );
        let tags: Vec<String> = r["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect();
        assert_eq!(rule.tags[..tags.len()], tags[..], "{at}");
        let mut expected = plain_attack_tags(r);
        expected.dedup();
        let mut got: Vec<String> = rule.tags[tags.len()..].to_vec();
        let mut want = expected.clone();
        got.sort();
        got.dedup();
        want.sort();
        want.dedup();
        assert_eq!(got, want, "{at}");
        // The typed view of the threat tables agrees with the tags.
        let typed: usize = sigil_elastic::threats(rule)
            .iter()
            .map(|t| t.techniques.len())
            .sum();
        let plain_count: usize = r
            .get("threat")
            .and_then(toml::Value::as_array)
            .map_or(0, |ts| {
                ts.iter()
                    .map(|t| {
                        t.get("technique")
                            .and_then(toml::Value::as_array)
                            .map_or(0, Vec::len)
                    })
                    .sum()
            });
        assert_eq!(typed, plain_count, "{at}");
        // Every query position points into the file at the query.
        if let Some(q) = &rule.query {
            let line = text
                .lines()
                .nth(q.span.line as usize - 1)
                .expect("line exists");
            assert!(line.contains("query"), "{at}: {line}");
        }
        checked += 1;
    }
    assert!(checked > 2000);
}

#[test]
fn hunting_queries_are_reported_not_read_as_rules() {
    let Some(root) = corpus() else { return };
    let mut files = Vec::new();
    toml_files(&root.join("hunting"), &mut files);
    assert!(!files.is_empty());
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        let file = parse_rule_toml(&text);
        assert!(file.rules.is_empty(), "{}", path.display());
        assert_eq!(file.diagnostics[0].code, "invalid-rule");
    }
}
