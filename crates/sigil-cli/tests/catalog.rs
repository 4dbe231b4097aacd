//! `sigil catalog build`: the published files of the site's fixture corpus, and the exit
//! code of a corpus path that does not exist.

use std::path::{Path, PathBuf};

mod common;
use common::sigil;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sigil-site/tests/fixtures/corpus")
}

/// A fresh output folder under the target directory, unique to the test.
fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("catalog-{name}"));
    // A leftover from an earlier run would hide a file this run fails to write.
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("the old output folder can be removed");
    }
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn build_writes_index_layer_html_and_markdown() {
    let out = out_dir("fixture");
    let corpus = fixtures();
    let (code, _, err) = sigil(&[
        "catalog",
        "build",
        "--corpus",
        corpus.to_str().expect("utf-8 path"),
        "-o",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("sigil catalog: 7 rules"), "{err}");

    // index.json: the catalog as data, without the rule sources or simulated events.
    let index: serde_json::Value =
        serde_json::from_str(&read(&out.join("index.json"))).expect("index.json is JSON");
    assert_eq!(index["format"], "sigil-catalog/3");
    let rules = index["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 7);
    let wmi = rules
        .iter()
        .find(|r| r["id"] == "3c8a5f2e-7d41-4b6a-9e0f-52a1c7d9b810")
        .expect("the WMI image-load rule");
    assert!(wmi.get("source").is_none(), "sources stay on the pages");
    assert!(
        wmi.get("analysis").is_none(),
        "the analysis is in the details"
    );
    assert!(
        wmi["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("image_load_wmi_dll_non_wmi_process.yml"))
    );
    let page = wmi["page"].as_str().expect("page");
    assert!(out.join(page).is_file(), "{page}");
    // ATT&CK entries and data needed are positions in top-level tables.
    for table in ["attack", "data_needed"] {
        let positions = wmi[table].as_array().expect("positions");
        assert!(!positions.is_empty(), "{table}");
        for i in positions {
            let i = i.as_u64().expect("a position") as usize;
            assert!(index[table][i].is_object(), "{table}[{i}]");
        }
    }
    // Every rule's details file is next to its page and names it.
    for r in rules {
        let name = r["details"].as_str().expect("details");
        let d: serde_json::Value =
            serde_json::from_str(&read(&out.join(name))).expect("details are JSON");
        assert_eq!(d["format"], "sigil-catalog/3");
        assert_eq!(d["key"], r["key"], "{name}");
        assert_eq!(
            name.replace(".json", ".html"),
            r["page"].as_str().expect("page")
        );
    }
    let details: serde_json::Value =
        serde_json::from_str(&read(&out.join(wmi["details"].as_str().expect("details"))))
            .expect("details are JSON");
    let analysis = &details["analysis"];
    for key in ["stages", "exclusions", "indicators", "related"] {
        assert!(analysis.get(key).is_some(), "analysis.{key}");
    }
    assert!(!analysis["exclusions"].as_array().expect("list").is_empty());
    let first = &analysis["indicators"][0];
    assert!(
        first["kind"].is_string() && first["value"].is_string() && first["negated"].is_boolean()
    );
    let keys: Vec<&serde_json::Value> = rules.iter().map(|r| &r["key"]).collect();
    for rel in analysis["related"].as_array().expect("related") {
        assert!(keys.contains(&&rel["key"]), "{rel}");
        assert!(
            rel["reasons"]
                .as_array()
                .expect("reasons")
                .iter()
                .all(serde_json::Value::is_string)
        );
    }
    let atomics = index["atomics"].as_array().expect("atomics");
    assert!(!atomics.is_empty());
    assert!(atomics.iter().all(|a| a.get("events").is_none()));
    assert!(
        atomics
            .iter()
            .any(|a| a["simulated_events"].as_u64() > Some(0)
                && !a["fired"].as_array().expect("fired").is_empty())
    );
    assert!(
        index["techniques"]
            .as_array()
            .expect("techniques")
            .iter()
            .any(|t| t["id"] == "T1047")
    );

    // The Navigator layer.
    let layer: serde_json::Value =
        serde_json::from_str(&read(&out.join("navigator-layer.json"))).expect("layer is JSON");
    assert_eq!(layer["domain"], "enterprise-attack");
    assert!(
        layer["techniques"]
            .as_array()
            .expect("techniques")
            .iter()
            .any(|t| t["techniqueID"] == "T1047")
    );

    // HTML pages.
    let html = read(&out.join(page));
    assert!(html.contains("id=\"exclusions\"") && html.contains("id=\"conv-splunk\""));
    for p in [
        "index.html",
        "matrix.html",
        "gaps.html",
        "rules/index.html",
        "techniques/T1047.html",
        "assets/search-index.js",
        "assets/site.css",
    ] {
        assert!(out.join(p).is_file(), "{p}");
    }

    // Markdown pages.
    let md = read(&out.join("markdown/rules/3c8a5f2e-7d41-4b6a-9e0f-52a1c7d9b810.md"));
    assert!(md.starts_with("| Title "), "{md}");
    assert!(md.contains("### splunk"));
    assert!(out.join("markdown/README.md").is_file());
    assert!(out.join("markdown/techniques/T1047.md").is_file());
}

#[test]
fn no_markdown_and_no_html_skip_their_pages() {
    let out = out_dir("html-only");
    let corpus = fixtures();
    let (code, _, err) = sigil(&[
        "catalog",
        "build",
        "--corpus",
        corpus.to_str().expect("utf-8 path"),
        "-o",
        out.to_str().expect("utf-8 path"),
        "--no-markdown",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.join("index.html").is_file());
    assert!(!out.join("markdown").exists());
}

#[test]
fn missing_corpus_exits_2_with_a_message() {
    let out = out_dir("missing");
    let (code, _, err) = sigil(&[
        "catalog",
        "build",
        "--corpus",
        "no/such/corpus/folder",
        "-o",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no/such/corpus/folder"), "{err}");
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn missing_output_argument_is_a_usage_error() {
    let (code, _, err) = sigil(&["catalog", "build", "--corpus", "."]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--out"), "{err}");
}

#[test]
fn published_paths_are_relative_to_the_corpus_never_the_builders() {
    let out = out_dir("relative-paths");
    // The corpus given by an absolute path and by a `..` path: neither may show.
    let corpus = fixtures().canonicalize().expect("fixture corpus");
    let (code, _, err) = sigil(&[
        "catalog",
        "build",
        "--corpus",
        corpus.to_str().expect("utf-8 path"),
        "-o",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let machine = corpus.to_str().expect("utf-8 path");
    let index = read(&out.join("index.json"));
    let value: serde_json::Value = serde_json::from_str(&index).expect("index.json is JSON");
    let mut paths: Vec<&str> = value["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["path"].as_str())
        .collect();
    paths.extend(
        value["atomics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["path"].as_str()),
    );
    assert!(paths.len() > 7, "{paths:?}");
    for p in &paths {
        assert!(!p.starts_with('/') && !p.contains(".."), "{p}");
        assert!(corpus.join(p).is_file(), "{p} is not under the corpus");
    }
    let mut leaked = Vec::new();
    for entry in walk(&out) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        if text.contains(machine) {
            leaked.push(entry);
        }
    }
    assert!(leaked.is_empty(), "the builder's path shows in {leaked:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
