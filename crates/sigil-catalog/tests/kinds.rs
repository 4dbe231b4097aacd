//! What the analysis says a rule matches: a wildcard is its own kind, and a negated
//! group (`and not (filter_a or filter_b)`, in a Sigma condition or in a step of an
//! Elastic sequence) or an EQL `not in` is an exclusion.

use std::path::{Path, PathBuf};

use sigil_catalog::model::Exclusion;
use sigil_catalog::{BuildOptions, Catalog, CatalogRule, build, load};

const SIGMA: &str = r"title: WMIC stylesheet outside a table
id: 3f1c9a52-7d0e-4b8a-9c61-2e5d4f7a8b90
status: test
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\wmic.exe'
        CommandLine|contains: 'format*:*'
        ParentImage|endswith: '\vsimmersiveactivatehelper*.exe'
    filter_a:
        ParentImage: 'C:\Windows\explorer.exe'
    filter_b:
        CommandLine|contains:
            - '/format:table'
            - '/format:list'
    condition: selection and not (filter_a or filter_b)
level: medium
";

const ELASTIC: &str = r#"[metadata]
creation_date = "2024/01/01"
updated_date = "2024/01/01"

[rule]
author = ["sigil"]
description = "WMIC runs a stylesheet, then loads a script engine."
name = "WMIC stylesheet then script engine"
risk_score = 47
rule_id = "8d2c6b1e-0f4a-4c3b-9e7d-5a1f2b3c4d5e"
severity = "medium"
type = "eql"
language = "eql"
index = ["logs-*"]
query = '''
sequence by process.entity_id with maxspan=2m
  [process where process.name : "WMIC.exe" and
     process.args : ("format*:*", "/format*:*") and
     not (process.command_line : "* /format:table *" or process.command_line : "* /format:table") and
     process.parent.name not in ("explorer.exe", "cmd.exe")]
  [library where dll.name : ("jscript.dll", "vbscript.dll")]
'''
"#;

fn catalog(dir: &Path) -> Catalog {
    std::fs::write(dir.join("wmic_format.yml"), SIGMA).expect("write rule");
    std::fs::write(dir.join("wmic_format.toml"), ELASTIC).expect("write rule");
    let corpus = load(&[dir.to_path_buf()]).expect("the folder exists");
    assert!(corpus.problems.is_empty(), "{:?}", corpus.problems);
    build(corpus, BuildOptions::default())
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sigil-kinds-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn rule<'c>(c: &'c Catalog, ext: &str) -> &'c CatalogRule {
    c.rules
        .iter()
        .find(|r| r.path.extension().is_some_and(|e| e == ext))
        .expect("rule loaded")
}

fn exclusion(field: &str, kind: &str, values: &[&str]) -> Exclusion {
    Exclusion {
        field: Some(field.to_string()),
        kind: kind.to_string(),
        values: values.iter().map(|v| (*v).to_string()).collect(),
    }
}

/// `(field, kind, value)` of every indicator.
fn indicators(r: &CatalogRule) -> Vec<(String, String, String)> {
    r.analysis
        .indicators
        .iter()
        .map(|i| {
            (
                i.field.clone().unwrap_or_default(),
                i.kind.clone(),
                i.value.clone(),
            )
        })
        .collect()
}

fn has(list: &[(String, String, String)], field: &str, kind: &str, value: &str) -> bool {
    list.iter()
        .any(|(f, k, v)| f == field && k == kind && v == value)
}

#[test]
fn sigma_wildcards_and_a_negated_group() {
    let dir = temp_dir("sigma");
    let c = catalog(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let r = rule(&c, "yml");
    let found = indicators(r);
    // `contains 'format*:*'` matches `*format*:*`: not a substring of one literal.
    assert!(
        has(&found, "CommandLine", "wildcard", "*format*:*"),
        "{found:?}"
    );
    assert!(
        has(
            &found,
            "ParentImage",
            "wildcard",
            r"*\vsimmersiveactivatehelper*.exe"
        ),
        "{found:?}"
    );
    assert!(has(&found, "Image", "ends_with", r"\wmic.exe"), "{found:?}");
    let selection = &r.analysis.stages[1];
    assert_eq!(
        selection.expr,
        r"Image ends_with '\wmic.exe' and CommandLine wildcard '*format*:*' and ParentImage wildcard '*\vsimmersiveactivatehelper*.exe'"
    );
    assert_eq!(
        r.analysis.exclusions,
        [
            exclusion("ParentImage", "equals", &[r"C:\Windows\explorer.exe"]),
            exclusion(
                "CommandLine",
                "contains",
                &["/format:list", "/format:table"]
            ),
        ]
    );
}

#[test]
fn elastic_sequence_steps_show_wildcards_and_exclusions() {
    let dir = temp_dir("elastic");
    let c = catalog(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let r = rule(&c, "toml");
    let found = indicators(r);
    assert!(
        has(&found, "process.args", "wildcard", "format*:*"),
        "{found:?}"
    );
    assert!(
        has(&found, "process.args", "wildcard", "/format*:*"),
        "{found:?}"
    );
    assert!(
        r.analysis.stages[1]
            .expr
            .contains("process.args wildcard ('format*:*', '/format*:*')"),
        "{}",
        r.analysis.stages[1].expr
    );
    assert_eq!(
        r.analysis.exclusions,
        [
            exclusion("process.command_line", "contains", &[" /format:table "]),
            exclusion("process.command_line", "ends_with", &[" /format:table"]),
            exclusion(
                "process.parent.name",
                "equals",
                &["cmd.exe", "explorer.exe"]
            ),
        ]
    );
}

#[test]
fn the_corpus_wmic_xsl_rule() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../../../shared/corpus/elastic/rules/windows/defense_evasion_suspicious_wmi_script.toml",
    );
    if !path.is_file() {
        println!("skipped: ../shared/corpus not found");
        return;
    }
    let c = build(
        load(std::slice::from_ref(&path)).expect("the rule exists"),
        BuildOptions::default(),
    );
    let r = &c.rules[0];
    assert_eq!(r.title, "Suspicious WMIC XSL Script Execution");
    let found = indicators(r);
    for v in ["format*:*", "/format*:*", "*-format*:*"] {
        assert!(has(&found, "process.args", "wildcard", v), "{found:?}");
    }
    assert!(
        r.analysis
            .exclusions
            .iter()
            .any(|e| e.field.as_deref() == Some("process.command_line")),
        "{:?}",
        r.analysis.exclusions
    );
}
