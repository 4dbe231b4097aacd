//! The built-in ATT&CK table (`data/attack-enterprise.tsv`) holds exactly what MITRE's STIX
//! release says: every tactic, technique and data source with its id, tactics, state and
//! name. Checked against the STIX objects in `../shared/corpus/attack`.

use std::collections::BTreeSet;
use std::path::Path;

use sigil_core::{AttackKind, AttackState, attack_data};

fn external_id(o: &serde_json::Value) -> Option<String> {
    o["external_references"]
        .as_array()?
        .iter()
        .find(|r| r["source_name"] == "mitre-attack")
        .and_then(|r| r["external_id"].as_str())
        .map(str::to_owned)
}

#[test]
fn table_matches_the_stix_release() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/attack/enterprise-attack");
    if !dir.is_dir() {
        println!("skipped: ../shared/corpus/attack not found");
        return;
    }
    let mut expected = BTreeSet::new();
    for kind in ["x-mitre-tactic", "attack-pattern", "x-mitre-data-source"] {
        for entry in std::fs::read_dir(dir.join(kind))
            .expect("readable test data")
            .flatten()
        {
            let text = std::fs::read_to_string(entry.path()).expect("readable test data");
            let bundle: serde_json::Value =
                serde_json::from_str(&text).expect("readable test data");
            for o in bundle["objects"].as_array().expect("readable test data") {
                let Some(id) = external_id(o) else { continue };
                let state = if o["revoked"] == true {
                    "revoked"
                } else if o["x_mitre_deprecated"] == true {
                    "deprecated"
                } else {
                    "active"
                };
                let key = match kind {
                    "x-mitre-tactic" => o["x_mitre_shortname"]
                        .as_str()
                        .expect("readable test data")
                        .to_owned(),
                    "attack-pattern" => o["kill_chain_phases"]
                        .as_array()
                        .map(|phases| {
                            phases
                                .iter()
                                .filter(|p| p["kill_chain_name"] == "mitre-attack")
                                .filter_map(|p| p["phase_name"].as_str())
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| "-".into()),
                    _ => "-".into(),
                };
                let name = o["name"].as_str().expect("readable test data").to_owned();
                expected.insert((kind.to_owned(), id, key, state.to_owned(), name));
            }
        }
    }
    let actual: BTreeSet<_> = attack_data()
        .entries()
        .iter()
        .map(|e| {
            let kind = match e.kind {
                AttackKind::Tactic => "x-mitre-tactic",
                AttackKind::Technique => "attack-pattern",
                AttackKind::DataSource => "x-mitre-data-source",
            };
            let state = match e.state {
                AttackState::Active => "active",
                AttackState::Revoked => "revoked",
                AttackState::Deprecated => "deprecated",
            };
            (
                kind.to_owned(),
                e.id.to_owned(),
                e.key.to_owned(),
                state.to_owned(),
                e.name.to_owned(),
            )
        })
        .collect();
    let missing: Vec<_> = expected.difference(&actual).take(5).collect();
    let extra: Vec<_> = actual.difference(&expected).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the table differs from the STIX data: missing {missing:?}, extra {extra:?}"
    );
    assert!(expected.len() > 800);
}
