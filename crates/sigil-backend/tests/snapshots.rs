//! Snapshot tests: every fixture rule (together they use every modifier and condition
//! form) rendered for every target. A target that cannot express a rule shows the error.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use sigil_backend::{TargetName, convert_rule};

fn render_all(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    let parsed = sigil_sigma::parse_str(&text);
    let rule = parsed.rules.first().expect("fixture parses");
    let mut out = String::new();
    for target in TargetName::ALL {
        let _ = writeln!(out, "## {target}");
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
    out
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
