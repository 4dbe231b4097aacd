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

/// Checks that `index.json` (format 2) holds, for every rule, exactly the catalog's
/// indicators, related rules, ATT&CK entries and data needed once its references are
/// followed; panics with the first difference.
pub fn assert_index_holds_the_analysis(p: &Publication, index: &[u8]) {
    use serde_json::{Value, json};
    let v: Value = serde_json::from_slice(index).expect("index.json is JSON");
    assert_eq!(v["format"], "sigil-catalog/2");
    let table = |name: &str| v[name].as_array().expect("a top-level table").clone();
    let (indicators, reasons, attack, data_needed) = (
        table("indicators"),
        table("reasons"),
        table("attack"),
        table("data_needed"),
    );
    let rules = v["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), p.catalog.rules.len());
    let at = |t: &[Value], i: &Value| -> Value {
        let i = i.as_u64().expect("a position") as usize;
        t.get(i)
            .cloned()
            .unwrap_or_else(|| panic!("position {i} past a table of {}", t.len()))
    };
    for (r, e) in p.catalog.rules.iter().zip(rules) {
        assert_eq!(e["key"], r.key.as_str());
        let a = &e["analysis"];
        let got: Vec<Value> = a["indicators"]
            .as_array()
            .expect("indicators")
            .iter()
            .map(|i| at(&indicators, i))
            .collect();
        assert_eq!(got.len(), r.analysis.indicators.len(), "{}", r.key);
        for (g, want) in got.iter().zip(&r.analysis.indicators) {
            assert_eq!(g["field"], json!(want.field), "{}", r.key);
            assert_eq!(g["kind"], want.kind.as_str());
            assert_eq!(g["value"], want.value.as_str());
            assert_eq!(g["negated"], want.negated);
            assert_eq!(g["corpus"], want.corpus);
            let shared = p.shared.contains_key(&want.normalized);
            assert_eq!(g.get("shared").is_some(), shared, "{}", r.key);
            if !want.corpus_by_source.is_empty() {
                assert_eq!(g["corpus_by_source"], json!(want.corpus_by_source));
            }
        }
        let related = a["related"].as_array().expect("related");
        assert_eq!(related.len(), r.analysis.related.len(), "{}", r.key);
        for (g, want) in related.iter().zip(&r.analysis.related) {
            let i = g["rule"].as_u64().expect("a rule position") as usize;
            assert_eq!(p.catalog.rules[i].key, want.key);
            assert_eq!(g["score"], json!(want.score));
            let texts: Vec<Value> = g["reasons"]
                .as_array()
                .expect("reasons")
                .iter()
                .map(|i| at(&reasons, i))
                .collect();
            assert_eq!(texts, json!(want.reasons).as_array().expect("list").clone());
        }
        let got: Vec<Value> = a["attack"]
            .as_array()
            .expect("attack")
            .iter()
            .map(|i| at(&attack, i))
            .collect();
        assert_eq!(json!(got), json!(r.analysis.attack), "{}", r.key);
        let got: Vec<Value> = a["data_needed"]
            .as_array()
            .expect("data_needed")
            .iter()
            .map(|i| at(&data_needed, i))
            .collect();
        assert_eq!(json!(got), json!(r.analysis.data_needed), "{}", r.key);
    }
    // Written once each.
    for (name, t) in [
        ("indicators", &indicators),
        ("reasons", &reasons),
        ("attack", &attack),
        ("data_needed", &data_needed),
    ] {
        let distinct: std::collections::HashSet<String> =
            t.iter().map(ToString::to_string).collect();
        assert_eq!(distinct.len(), t.len(), "{name} has repeated entries");
    }
}
