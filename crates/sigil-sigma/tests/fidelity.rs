//! Fidelity: rule by rule, the model agrees with an independent read of the same file by
//! saphyr's plain `Yaml` loader (a different code path from the front end's event-driven
//! reader): id, title, level, status, tags, logsource and the set of search identifiers.

mod common;

use std::collections::BTreeSet;

use common::{corpus_dir, rule_files};
use saphyr::{LoadableYamlNode, Yaml};

fn text<'a>(doc: &'a Yaml<'a>, key: &str) -> Option<&'a str> {
    doc.as_mapping_get(key).and_then(Yaml::as_str)
}

#[test]
fn the_model_agrees_with_a_plain_yaml_read() {
    let Some(corpus) = corpus_dir() else { return };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&corpus).expect("corpus") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        if path.is_dir() && (name.starts_with("rules") || name == "deprecated") {
            files.extend(rule_files(&path));
        }
    }
    let (mut compared, mut collections) = (0, 0);
    let mut mismatches = Vec::new();
    for path in &files {
        let source = std::fs::read_to_string(path).expect("utf-8 rule");
        let docs = Yaml::load_from_str(&source).expect("plain YAML read");
        // Collections merge documents; their fidelity is covered by unit tests.
        if docs.len() != 1 || docs[0].as_mapping_get("action").is_some() {
            collections += 1;
            continue;
        }
        let doc = &docs[0];
        let file = sigil_sigma::parse_str(&source);
        assert_eq!(file.rules.len(), 1, "{}", path.display());
        let rule = &file.rules[0];
        let mut check = |what: &str, model: String, plain: String| {
            if model != plain {
                mismatches.push(format!(
                    "{}: {what}: model {model:?}, YAML {plain:?}",
                    path.display()
                ));
            }
        };
        check(
            "id",
            format!("{:?}", rule.id.as_deref()),
            format!("{:?}", text(doc, "id")),
        );
        check(
            "title",
            rule.title.clone(),
            text(doc, "title").unwrap_or("").to_string(),
        );
        check(
            "level",
            format!("{:?}", rule.level.map(sigil_core::Level::name)),
            format!("{:?}", text(doc, "level")),
        );
        check(
            "status",
            format!("{:?}", rule.status.map(sigil_core::Status::name)),
            format!("{:?}", text(doc, "status")),
        );
        let tags: Vec<String> = doc
            .as_mapping_get("tags")
            .and_then(Yaml::as_sequence)
            .map(|s| {
                s.iter()
                    .filter_map(Yaml::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        check("tags", rule.tags.join(","), tags.join(","));
        let ls = doc.as_mapping_get("logsource");
        let ls_text = |k: &str| ls.and_then(|l| l.as_mapping_get(k)).and_then(Yaml::as_str);
        for (key, model) in [
            ("category", &rule.logsource.category),
            ("product", &rule.logsource.product),
            ("service", &rule.logsource.service),
        ] {
            check(
                &format!("logsource.{key}"),
                format!("{:?}", model.as_deref()),
                format!("{:?}", ls_text(key)),
            );
        }
        let plain_searches: BTreeSet<String> = doc
            .as_mapping_get("detection")
            .and_then(Yaml::as_mapping)
            .map(|m| {
                m.keys()
                    .filter_map(Yaml::as_str)
                    .filter(|k| !matches!(*k, "condition" | "timeframe"))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let model_searches: BTreeSet<String> = rule
            .detection()
            .map(|d| d.searches.iter().map(|s| s.name.clone()).collect())
            .unwrap_or_default();
        check(
            "searches",
            format!("{model_searches:?}"),
            format!("{plain_searches:?}"),
        );
        compared += 1;
    }
    println!("{compared} rules compared, {collections} collection files left to unit tests");
    assert!(compared > 3000, "only {compared} rules compared");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
