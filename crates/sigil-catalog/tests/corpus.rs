//! Acceptance on the shared corpus (`../shared/corpus`, skipped when absent): the seed-like
//! cases, checked against counts computed another way.

use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, Yaml};
use sigil_catalog::{BuildOptions, CatalogRule, build, load};

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if p.is_dir() {
        Some(p)
    } else {
        println!("skipped: ../shared/corpus not found");
        None
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus/sigma")
        .join(name)
}

/// Counts the Sigma files under `dir` whose detection has `ParentImage|endswith` with the
/// value `\WmiPrvSE.exe`, or `ParentImage` with `*\WmiPrvSE.exe` (case-insensitive): a
/// plain YAML walk, independent of the Sigma front end and the IR.
fn sigma_files_with_wmiprvse_parent(dir: &Path) -> usize {
    fn walk(node: &Yaml, found: &mut bool) {
        match node {
            Yaml::Mapping(m) => {
                for (k, v) in m {
                    if let Some(key) = k.as_str() {
                        let mut parts = key.split('|');
                        let field = parts.next().unwrap_or("");
                        let mods: Vec<&str> = parts.collect();
                        let values: Vec<&Yaml> = match v {
                            Yaml::Sequence(s) => s.iter().collect(),
                            other => vec![other],
                        };
                        for value in values.iter().filter_map(|v| v.as_str()) {
                            let value = value.to_lowercase();
                            if field == "ParentImage"
                                && ((mods == ["endswith"] && value == r"\wmiprvse.exe")
                                    || (mods.is_empty() && value == r"*\wmiprvse.exe"))
                            {
                                *found = true;
                            }
                        }
                    }
                    walk(v, found);
                }
            }
            Yaml::Sequence(s) => s.iter().for_each(|x| walk(x, found)),
            _ => {}
        }
    }
    let mut n = 0;
    for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
        if entry.path().extension().is_none_or(|e| e != "yml") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let Ok(docs) = Yaml::load_from_str(&text) else {
            continue;
        };
        let mut found = false;
        for d in &docs {
            if let Some(det) = d.as_mapping_get("detection") {
                walk(det, &mut found);
            }
        }
        n += usize::from(found);
    }
    n
}

/// Counts the Elastic rule files under `dir` whose query compares `process.parent.name`
/// with `"WmiPrvSE.exe"` (alone or in a list), by a regular expression over the text.
fn elastic_files_with_wmiprvse_parent(dir: &Path) -> usize {
    let re = regex::Regex::new(
        r#"(?is)process\.parent\.name\s*(?::|==|in~?)\s*\(?[^)]*?"wmiprvse\.exe""#,
    )
    .expect("valid");
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter(|text| {
            // The query ends with the quote it starts with (an EQL query may hold `"""`).
            let query = match text.split_once("query = '''") {
                Some((_, rest)) => rest.split("'''").next(),
                None => text
                    .split_once("query = \"\"\"")
                    .and_then(|(_, rest)| rest.split("\"\"\"").next()),
            };
            query.is_some_and(|q| re.is_match(q))
        })
        .count()
}

#[test]
fn wmiprvse_parent_indicator_count_equals_an_independent_count() {
    let Some(root) = shared() else { return };
    let (sigma, elastic) = (root.join("sigma/rules"), root.join("elastic/rules"));
    let mut corpus = load(&[sigma.clone(), elastic.clone()]).expect("corpus folders exist");
    let at = corpus
        .add_rule_file(&fixture("proc_creation_wmiprvse_spawns_shell.yml"))
        .expect("fixture reads");
    let catalog = build(
        corpus,
        BuildOptions {
            link_atomics: false,
            ..BuildOptions::default()
        },
    );
    let rule: &CatalogRule = &catalog.rules[at[0]];
    let ind = rule
        .analysis
        .indicators
        .iter()
        .find(|i| i.field.as_deref() == Some("ParentImage") && i.kind == "ends_with")
        .expect("the ParentImage indicator");
    assert_eq!(ind.value, r"\WmiPrvSE.exe");
    let expected_sigma = sigma_files_with_wmiprvse_parent(&sigma);
    let expected_elastic = elastic_files_with_wmiprvse_parent(&elastic);
    println!("WmiPrvSE parent: sigma {expected_sigma}, elastic {expected_elastic}");
    assert!(expected_sigma > 0 && expected_elastic > 0);
    assert_eq!(
        ind.corpus_by_source.get("sigma").copied().unwrap_or(0),
        expected_sigma
    );
    assert_eq!(
        ind.corpus_by_source.get("elastic").copied().unwrap_or(0),
        expected_elastic
    );
    assert_eq!(ind.corpus, expected_sigma + expected_elastic);
}

#[test]
fn image_load_fixture_over_the_real_corpus() {
    let Some(root) = shared() else { return };
    let mut corpus = load(&[root.join("sigma/rules"), root.join("attack")]).expect("exists");
    let at = corpus
        .add_rule_file(&fixture("image_load_wmi_dll_non_wmi_process.yml"))
        .expect("fixture reads");
    let catalog = build(
        corpus,
        BuildOptions {
            link_atomics: false,
            ..BuildOptions::default()
        },
    );
    let r = &catalog.rules[at[0]];
    let names: Vec<&str> = r.analysis.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["condition", "selection", "not filter"]);
    assert_eq!(
        r.analysis.exclusions[0].values,
        [r"\svchost.exe", r"\wmiapsrv.exe", r"\wmiprvse.exe"]
    );
    assert_eq!(
        r.analysis.attack[0].name.as_deref(),
        Some("Windows Management Instrumentation")
    );
    // Newer ATT&CK names than the data are reported, not fatal.
    assert!(
        catalog
            .unresolved_attack
            .iter()
            .any(|u| u.tag == "attack.stealth")
    );
}

#[test]
fn wmi_encoded_command_atomic_lists_the_rules_that_fire() {
    let Some(root) = shared() else { return };
    let corpus = load(&[
        root.join("sigma/rules"),
        root.join("elastic/rules"),
        root.join("atomic-red-team"),
        root.join("attack"),
    ])
    .expect("exists");
    let catalog = build(corpus, BuildOptions::default());
    let test = catalog
        .atomics
        .iter()
        .find(|t| t.name == "Create a Process using WMI Query and an Encoded Command")
        .expect("the T1047 test");
    assert_eq!(test.technique, "T1047");
    let titles: Vec<&str> = test.fired.iter().map(|r| r.title.as_str()).collect();
    println!("fired: {titles:?}");
    // Its command line is `powershell -exec bypass -e <base64 of Invoke-WmiMethod ...>`.
    assert!(titles.contains(&"Suspicious Execution of Powershell with Base64"));
    assert!(titles.contains(&"PowerShell Base64 Encoded Invoke Keyword"));
    // The decoded command starts notepad.exe through WMI: a child of WmiPrvSE.exe, as
    // the lab saw (`proc_creation_win_wmiprvse_spawning_process`).
    let ids: Vec<&str> = test.fired.iter().map(|r| r.id.as_str()).collect();
    assert!(
        ids.contains(&"d21374ff-f574-44a7-9998-4a8c8bf33d7d"),
        "{ids:?}"
    );
    assert!(!test.same_technique.is_empty());
    assert!(catalog.stats.simulated_tests > 1000);
    assert!(catalog.gaps.len() < catalog.stats.simulated_tests);
}
