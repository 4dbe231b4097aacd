//! Snapshot tests: every fixture rule (together they use every modifier and condition
//! form) rendered for every target, one snapshot per target
//! (`snapshots/snapshots__target_<target>.snap`). A target that cannot express a rule shows the
//! error. No pipeline runs: the snapshots show the renderers alone.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use sigil_backend::{TargetInfo, convert_rule, targets};

/// The fixtures, in the order the snapshots show them.
const FIXTURES: [&str; 6] = [
    "modifiers.yml",
    "keywords.yml",
    "fieldref.yml",
    "conditions.yml",
    "values.yml",
    "capabilities.yml",
];

fn rule(file: &str) -> sigil_core::Rule {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    let parsed = sigil_sigma::parse_str(&text);
    assert!(
        parsed
            .diagnostics
            .iter()
            .all(|d| d.severity != sigil_core::Severity::Error),
        "{file}: {:?}",
        parsed.diagnostics
    );
    parsed.rules.into_iter().next().expect("fixture parses")
}

/// What a target's pipeline would have decided, for targets that cannot render without it.
fn state(target: &TargetInfo) -> BTreeMap<String, String> {
    let mut state = BTreeMap::new();
    if target.name == "splunk-dm" {
        state.insert("data_model_set".into(), "Endpoint.Processes".into());
        state.insert(
            "fields".into(),
            "Processes.process Processes.process_path".into(),
        );
    }
    state
}

fn render(target: &TargetInfo, file: &str) -> String {
    let mut out = String::new();
    match convert_rule(&rule(file), target, &state(target)) {
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
    out
}

fn render_target(target: &TargetInfo) -> String {
    let mut out = String::new();
    for file in FIXTURES {
        let _ = writeln!(out, "## {file}");
        out.push_str(&render(target, file));
    }
    out
}

#[test]
fn every_target_over_every_fixture() {
    for target in targets::ALL {
        insta::assert_snapshot!(format!("target_{}", target.name), render_target(target));
    }
}

fn target(name: &str) -> &'static TargetInfo {
    TargetInfo::find(name).expect("target")
}

#[test]
fn keyword_search_fails_in_sql_only() {
    assert_eq!(
        render(target("sqlite"), "keywords.yml"),
        "error: sqlite cannot express a keyword (field-less) search\n"
    );
    assert!(render(target("splunk"), "keywords.yml").starts_with("\"chmod 777\""));
}

#[test]
fn fieldref_fails_in_lucene() {
    assert!(
        render(target("lucene"), "fieldref.yml")
            .starts_with("error: lucene cannot express a field reference")
    );
    assert!(
        render(target("sqlite"), "fieldref.yml")
            .starts_with("SELECT * FROM logs WHERE SubjectUserName=TargetUserName")
    );
}

#[test]
fn a_list_of_conditions_gives_one_query_each() {
    for t in targets::ALL {
        let out = render(t, "conditions.yml");
        assert!(
            out.starts_with("error: ") || out.lines().count() >= 4,
            "{}: {out}",
            t.name
        );
    }
}

#[test]
fn unexpanded_placeholder_is_an_error() {
    let text = "title: t\nlogsource:\n    product: windows\ndetection:\n    sel:\n        User|expand: '%Admins%'\n    condition: sel\n";
    let parsed = sigil_sigma::parse_str(text);
    let rule = parsed.rules.first().expect("parses");
    let err = convert_rule(rule, target("splunk"), &BTreeMap::default()).unwrap_err();
    assert!(err.to_string().contains("placeholder `%Admins%`"), "{err}");
}
