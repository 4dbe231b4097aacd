//! Shared set-up of the integration tests: the fixture corpus, published.

// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sigil_catalog::{BuildOptions, build, load};
use sigil_site::Publication;
use sigil_site::server::AppState;

/// The crate's fixture folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The fixture corpus plus the hostile rule, published.
pub fn publication() -> Publication {
    let corpus =
        load(&[fixtures().join("corpus"), fixtures().join("xss")]).expect("fixture corpus loads");
    Publication::new(build(corpus, BuildOptions::default()))
}

/// The server state of [`publication`].
pub fn state() -> Arc<AppState> {
    Arc::new(AppState::new(publication()).expect("site renders"))
}

/// `../shared` next to the repository, when present.
#[allow(dead_code)]
pub fn shared_corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    p.is_dir().then_some(p)
}

/// Checks that `index.json` (format 3) lists every rule with its metadata, ATT&CK entries
/// and data needed, and that the file each rule entry names (`details`, read with
/// `file`) exists and holds exactly the catalog's description, references, query,
/// stages, exclusions, indicators, related rules and `fired_by`; panics with the first
/// difference.
pub fn assert_index_holds_the_analysis<'s>(
    p: &Publication,
    index: &[u8],
    file: impl Fn(&str) -> Option<&'s [u8]>,
) {
    use serde_json::{Value, json};
    let v: Value = serde_json::from_slice(index).expect("index.json is JSON");
    assert_eq!(v["format"], "sigil-catalog/3");
    for gone in ["indicators", "reasons"] {
        assert!(v.get(gone).is_none(), "{gone} is in the rules' details");
    }
    let table = |name: &str| v[name].as_array().expect("a top-level table").clone();
    let (attack, data_needed) = (table("attack"), table("data_needed"));
    let rules = v["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), p.catalog.rules.len());
    let at = |t: &[Value], i: &Value| -> Value {
        let i = i.as_u64().expect("a position") as usize;
        t.get(i)
            .cloned()
            .unwrap_or_else(|| panic!("position {i} past a table of {}", t.len()))
    };
    let list = |e: &Value, name: &str| -> Vec<Value> {
        e.get(name)
            .map_or_else(Vec::new, |x| x.as_array().expect("a list").clone())
    };
    for (r, e) in p.catalog.rules.iter().zip(rules) {
        assert_eq!(e["key"], r.key.as_str());
        assert_eq!(e.get("id").cloned().unwrap_or(Value::Null), json!(r.id));
        assert_eq!(json!(list(e, "tags")), json!(r.tags), "{}", r.key);
        for big in ["description", "query", "analysis", "fired_by", "references"] {
            assert!(e.get(big).is_none(), "{}: {big} is in the details", r.key);
        }
        let got: Vec<Value> = list(e, "attack").iter().map(|i| at(&attack, i)).collect();
        assert_eq!(json!(got), json!(r.analysis.attack), "{}", r.key);
        let got: Vec<Value> = list(e, "data_needed")
            .iter()
            .map(|i| at(&data_needed, i))
            .collect();
        assert_eq!(json!(got), json!(r.analysis.data_needed), "{}", r.key);

        let name = e["details"].as_str().expect("details");
        assert_eq!(
            name,
            format!("rules/{}.json", sigil_site::paths::file_name(&r.key))
        );
        let d: Value =
            serde_json::from_slice(file(name).unwrap_or_else(|| panic!("{}: no {name}", r.key)))
                .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(d["format"], "sigil-catalog/3");
        assert_eq!(d["key"], r.key.as_str());
        assert_eq!(d["description"], json!(r.description), "{}", r.key);
        assert_eq!(d["references"], json!(r.references), "{}", r.key);
        assert_eq!(d["falsepositives"], json!(r.falsepositives), "{}", r.key);
        assert_eq!(d["query"], json!(r.query), "{}", r.key);
        assert_eq!(d["fired_by"], json!(r.fired_by), "{}", r.key);
        let a = &d["analysis"];
        assert_eq!(a["stages"], json!(r.analysis.stages), "{}", r.key);
        assert_eq!(a["exclusions"], json!(r.analysis.exclusions), "{}", r.key);
        let got = a["indicators"].as_array().expect("indicators");
        assert_eq!(got.len(), r.analysis.indicators.len(), "{}", r.key);
        for (g, want) in got.iter().zip(&r.analysis.indicators) {
            assert_eq!(g["field"], json!(want.field), "{}", r.key);
            assert_eq!(g["kind"], want.kind.as_str());
            assert_eq!(g["value"], want.value.as_str());
            assert_eq!(g["negated"], want.negated);
            assert_eq!(g["corpus"], want.corpus);
            let shared = p.shared.contains_key(&want.normalized);
            assert_eq!(g.get("shared").is_some(), shared, "{}", r.key);
            if let Some(page) = g.get("shared") {
                let page = page.as_str().expect("a page");
                assert!(file(page).is_some(), "{}: no {page}", r.key);
            }
            if !want.corpus_by_source.is_empty() {
                assert_eq!(g["corpus_by_source"], json!(want.corpus_by_source));
            }
        }
        let related = a["related"].as_array().expect("related");
        assert_eq!(related.len(), r.analysis.related.len(), "{}", r.key);
        for (g, want) in related.iter().zip(&r.analysis.related) {
            assert_eq!(g["key"], &*want.key);
            assert!(p.rule_index(&want.key).is_some(), "{}", want.key);
            assert_eq!(g["score"], json!(want.score));
            assert_eq!(g["reasons"], json!(want.reasons));
        }
    }
    // Written once each.
    for (name, t) in [("attack", &attack), ("data_needed", &data_needed)] {
        let distinct: std::collections::HashSet<String> =
            t.iter().map(ToString::to_string).collect();
        assert_eq!(distinct.len(), t.len(), "{name} has repeated entries");
    }
}
