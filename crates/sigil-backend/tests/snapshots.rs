//! Snapshot tests: every fixture rule (together they use every modifier and condition
//! form) rendered for every target. A target that cannot express a rule shows the error.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use sigil_backend::{TargetName, convert_rule};

fn fixture_rule(file: &str) -> sigil_core::Rule {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    let parsed = sigil_sigma::parse_str(&text);
    parsed.rules.into_iter().next().expect("fixture parses")
}

fn render(rule: &sigil_core::Rule, target: TargetName, out: &mut String) {
    match convert_rule(rule, target, &BTreeMap::default()) {
        Ok(queries) => {
            for q in queries {
                out.push_str(&q);
                out.push('\n');
            }
        }
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
        }
    }
}

/// The first targets, snapshot together per fixture.
const FIRST: [TargetName; 6] = [
    TargetName::Splunk,
    TargetName::Lucene,
    TargetName::Eql,
    TargetName::Esql,
    TargetName::Kql,
    TargetName::Sqlite,
];

fn render_all(file: &str) -> String {
    let rule = fixture_rule(file);
    let mut out = String::new();
    for target in FIRST {
        let _ = writeln!(out, "## {target}");
        render(&rule, target, &mut out);
    }
    out
}

/// Every fixture rendered for one target, one snapshot per target.
fn render_fixtures(target: TargetName) -> String {
    let mut out = String::new();
    for file in FIXTURES {
        let _ = writeln!(out, "## {file}");
        render(&fixture_rule(file), target, &mut out);
    }
    out
}

const FIXTURES: [&str; 3] = ["modifiers.yml", "keywords.yml", "fieldref.yml"];

/// Every target added after the first six has a snapshot file of its own.
#[test]
fn every_fixture_per_target() {
    for &target in TargetName::ALL {
        if FIRST.contains(&target) {
            continue;
        }
        insta::assert_snapshot!(format!("target_{target}"), render_fixtures(target));
    }
}

#[test]
fn every_modifier() {
    insta::assert_snapshot!(render_all("modifiers.yml"));
}

#[test]
fn keywords_and_lists_of_maps() {
    insta::assert_snapshot!(render_all("keywords.yml"));
}

#[test]
fn fieldref_and_cased() {
    insta::assert_snapshot!(render_all("fieldref.yml"));
}

#[test]
fn keyword_search_fails_in_sql_only() {
    let out = render_all("keywords.yml");
    assert!(out.contains("## sqlite\nerror: sqlite cannot express a keyword (field-less) search"));
    assert!(out.contains("## splunk\n\"chmod 777\""));
}

#[test]
fn fieldref_fails_in_lucene() {
    let out = render_all("fieldref.yml");
    assert!(out.contains("## lucene\nerror: lucene cannot express a field reference"));
    assert!(out.contains("## sqlite\nSELECT * FROM logs WHERE SubjectUserName=TargetUserName"));
}

#[test]
fn unexpanded_placeholder_is_an_error() {
    let text = "title: t\nlogsource:\n    product: windows\ndetection:\n    sel:\n        User|expand: '%Admins%'\n    condition: sel\n";
    let parsed = sigil_sigma::parse_str(text);
    let rule = parsed.rules.first().expect("parses");
    let err = convert_rule(rule, TargetName::Splunk, &BTreeMap::default()).unwrap_err();
    assert!(err.to_string().contains("placeholder `%Admins%`"), "{err}");
}

#[test]
fn target_names_parse() {
    assert_eq!(TargetName::from_name("KQL"), Some(TargetName::Kql));
    assert_eq!(TargetName::from_name("kusto"), Some(TargetName::Kql));
    assert_eq!(TargetName::from_name("splnk"), None);
}
