//! The analysis of the fixture corpus (`tests/fixtures/corpus`: the WMI example rules, an
//! Elastic rule, atomic tests and a small ATT&CK bundle), with snapshots of the
//! `analyze` report in every format.

use std::path::{Path, PathBuf};

use sigil_catalog::report::{AtomicsReport, RuleReport};
use sigil_catalog::{BuildOptions, Catalog, build, load, navigator};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus")
}

fn catalog() -> Catalog {
    let corpus = load(&[fixtures()]).expect("the fixture folder exists");
    assert!(corpus.problems.is_empty(), "{:?}", corpus.problems);
    build(corpus, BuildOptions::default())
}

fn rule<'c>(catalog: &'c Catalog, file: &str) -> &'c sigil_catalog::CatalogRule {
    catalog
        .rules
        .iter()
        .find(|r| r.path.file_name().is_some_and(|f| f == file))
        .expect("fixture rule loaded")
}

#[test]
fn everything_in_the_fixture_corpus_is_recognised() {
    let c = catalog();
    assert_eq!(c.stats.rules_by_source.get("sigma"), Some(&6));
    assert_eq!(c.stats.rules_by_source.get("elastic"), Some(&1));
    assert_eq!(c.atomics.len(), 3);
    assert_eq!(
        c.stats.simulated_tests, 2,
        "the Linux test is not simulated"
    );
    assert_eq!(
        c.tactics
            .iter()
            .map(|t| t.shortname.as_str())
            .collect::<Vec<_>>(),
        ["execution", "persistence", "privilege-escalation"],
        "matrix order"
    );
}

#[test]
fn wmi_image_load_rule_shows_stages_and_exclusions() {
    let c = catalog();
    let r = rule(&c, "image_load_wmi_dll_non_wmi_process.yml");
    let names: Vec<&str> = r.analysis.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["condition", "selection", "not filter"]);
    assert_eq!(r.analysis.stages[0].expr, "selection and not filter");
    assert_eq!(r.analysis.exclusions.len(), 1);
    let e = &r.analysis.exclusions[0];
    assert_eq!(e.field.as_deref(), Some("Image"));
    assert_eq!(e.kind, "ends_with");
    assert_eq!(
        e.values,
        [r"\svchost.exe", r"\wmiapsrv.exe", r"\wmiprvse.exe"]
    );
    let data = &r.analysis.data_needed[0];
    assert_eq!(
        data.channel.as_deref(),
        Some("Microsoft-Windows-Sysmon/Operational")
    );
    assert_eq!(data.event_ids, [7]);
    assert_eq!(data.data_components, ["DC0016 Module Load"]);
}

#[test]
fn indicators_meet_across_languages() {
    let c = catalog();
    let sigma = rule(&c, "proc_creation_wmiprvse_spawns_shell.yml");
    let parent = sigma
        .analysis
        .indicators
        .iter()
        .find(|i| i.field.as_deref() == Some("ParentImage"))
        .expect("ParentImage indicator");
    // The other Sigma rule with the same suffix, and the Elastic rule's
    // `process.parent.name : "WmiPrvSE.exe"`.
    assert_eq!(parent.corpus, 2);
    assert_eq!(parent.corpus_by_source.get("elastic"), Some(&1));
    assert_eq!(parent.normalized.field, "process.parent.executable");

    let elastic = rule(&c, "wmi_provider_host_spawns_shell.toml");
    assert_eq!(
        elastic.analysis.exclusions.len(),
        1,
        "the `not process.args` conjunct"
    );
    let related: Vec<&str> = elastic.analysis.related.iter().map(|r| &*r.id).collect();
    assert_eq!(
        related.first(),
        Some(&"5e7b9d3a-2c4f-4a1e-8b6d-9f0c3e5a7d21")
    );
}

#[test]
fn attack_names_and_data_needed_come_from_the_data() {
    let c = catalog();
    let r = rule(&c, "proc_creation_wmiprvse_spawns_shell.yml");
    let a = &r.analysis.attack[0];
    assert_eq!(a.tactic.as_deref(), Some("Execution"));
    assert_eq!(a.technique.as_deref(), Some("T1047"));
    assert_eq!(
        a.name.as_deref(),
        Some("Windows Management Instrumentation")
    );
    let vias: Vec<&str> = r
        .analysis
        .data_needed
        .iter()
        .map(|d| d.via.as_str())
        .collect();
    assert_eq!(vias, ["sysmon", "windows-audit"]);
    let audit = &r.analysis.data_needed[1];
    assert_eq!(audit.event_ids, [4688]);
    assert!(
        audit
            .note
            .as_deref()
            .is_some_and(|n| n.contains("command-line auditing"))
    );
    assert!(audit.fields.contains(&"ParentProcessName".to_string()));
}

#[test]
fn atomic_tests_are_linked_to_the_rules_that_fire() {
    let c = catalog();
    let wmic = c
        .atomics
        .iter()
        .find(|t| t.name == "WMI Process Call Create")
        .expect("fixture test");
    let fired: Vec<&str> = wmic.fired.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(fired, ["9a4d2c1b-6e3f-4f8a-b1c7-0d5e8f2a4b69"]);
    assert!(wmic.same_technique.iter().all(|r| r.id != fired[0]));
    assert_eq!(
        wmic.events[1].fields[2],
        ("Image".into(), r"C:\Windows\System32\wbem\WMIC.exe".into())
    );
    assert_eq!(c.gaps, ["0f2b6d3e-8a41-4c2e-9a77-1b5e6f0c2d02"]);
    let r = rule(&c, "proc_creation_wmic_process_call_create.yml");
    assert_eq!(r.fired_by.len(), 1);
    let report = serde_json::to_value(AtomicsReport::of(&c)).expect("serialises");
    assert_eq!(
        report["gaps"],
        serde_json::json!(["0f2b6d3e-8a41-4c2e-9a77-1b5e6f0c2d02"])
    );
}

#[test]
fn navigator_layer_scores_techniques_by_rule_count() {
    let c = catalog();
    let layer = navigator::layer(&c, "fixture");
    assert_eq!(layer["versions"]["layer"], "4.5");
    let t1047 = layer["techniques"]
        .as_array()
        .and_then(|a| a.iter().find(|t| t["techniqueID"] == "T1047"))
        .expect("T1047 has rules");
    // Four Sigma rules and the Elastic rule carry T1047.
    assert_eq!(t1047["score"], 5);
}

#[test]
fn the_whole_catalog_serialises() {
    let c = catalog();
    let json = serde_json::to_value(&c).expect("serialises");
    assert!(
        json["rules"][0]["source"]
            .as_str()
            .is_some_and(|s| s.contains("title:"))
    );
    assert!(json["rules"][0].get("ir").is_none());
}

fn json(r: &RuleReport) -> String {
    serde_json::to_string_pretty(r).expect("serialises")
}

fn report(file: &str) -> RuleReport {
    RuleReport::of(rule(&catalog(), file))
}

#[test]
fn snapshot_image_load_text() {
    insta::assert_snapshot!(report("image_load_wmi_dll_non_wmi_process.yml").to_text());
}

#[test]
fn snapshot_image_load_markdown() {
    insta::assert_snapshot!(report("image_load_wmi_dll_non_wmi_process.yml").to_markdown());
}

#[test]
fn snapshot_image_load_json() {
    insta::assert_snapshot!(json(&report("image_load_wmi_dll_non_wmi_process.yml")));
}

#[test]
fn snapshot_wmiprvse_text() {
    insta::assert_snapshot!(report("proc_creation_wmiprvse_spawns_shell.yml").to_text());
}

#[test]
fn snapshot_elastic_json() {
    insta::assert_snapshot!(json(&report("wmi_provider_host_spawns_shell.toml")));
}

#[test]
fn snapshot_correlation_text() {
    insta::assert_snapshot!(report("correlation_wmic_burst.yml").to_text());
}
