//! `sigil check` against pySigma's validators (`../shared/oracle/validation-pysigma.jsonl`:
//! pySigma 1.5.1 with pysigma-validators-sigmahq 0.21.0, every validator, over
//! `rules*/` and `deprecated/` of the corpus).
//!
//! Each sigil finding of a lint that has a pySigma counterpart becomes the pair
//! `(file, validator)`; the pairs must agree with pySigma's for at least 95% of their
//! union. The differences are printed per validator (`cargo test -- --nocapture`);
//! those that remain are sigil's to explain in `docs/lints.md`.
//!
//! `SIGIL_PYSIGMA_HELDOUT=FILE` checks a second reference file of the same shape the same
//! way (the part of the corpus the shared file leaves out).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use sigil_sigma::{SigmaFile, lint};

const FOLDERS: [&str; 5] = [
    "rules",
    "rules-emerging-threats",
    "rules-threat-hunting",
    "rules-placeholder",
    "deprecated",
];

type Pairs = BTreeSet<(String, &'static str)>;

/// sigil's `(file, pySigma validator)` pairs over the whole corpus, files relative to it.
fn sigil_pairs(corpus: &Path) -> (Pairs, BTreeSet<String>) {
    let pysigma: HashMap<&str, &'static str> = lint::registry()
        .iter()
        .filter_map(|l| l.info().pysigma.map(|p| (l.info().code, p)))
        .collect();
    let all = lint::Selection::all();
    let mut names = Vec::new();
    let mut files: Vec<SigmaFile> = Vec::new();
    for folder in FOLDERS {
        for path in common::rule_files(&corpus.join(folder)) {
            if path.extension().is_none_or(|e| e != "yml") {
                continue;
            }
            let bytes = std::fs::read(&path).expect("readable test data");
            let mut file = sigil_sigma::parse_bytes(&bytes);
            file.set_path(&path);
            lint::check_file_with(&mut file, &all);
            names.push(
                path.strip_prefix(corpus)
                    .expect("readable test data")
                    .to_string_lossy()
                    .into_owned(),
            );
            files.push(file);
        }
    }
    let refs: Vec<&SigmaFile> = files.iter().collect();
    let set = lint::check_set_with(&refs, &all);
    let mut pairs = Pairs::new();
    let mut add = |i: usize, code: &str| {
        if let Some(p) = pysigma.get(code) {
            pairs.insert((names[i].clone(), *p));
        }
    };
    for (i, f) in files.iter().enumerate() {
        for d in &f.diagnostics {
            add(i, d.code);
        }
    }
    for (i, d) in &set {
        add(*i, d.code);
    }
    (pairs, names.into_iter().collect())
}

/// The reference pairs of `jsonl` and the files it covers.
fn reference(jsonl: &Path) -> (BTreeSet<(String, String)>, BTreeSet<String>) {
    let text = std::fs::read_to_string(jsonl).expect("readable test data");
    let mut pairs = BTreeSet::new();
    let mut files = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("readable test data");
        let path = v["path"].as_str().expect("readable test data").to_owned();
        for id in v["validators"].as_array().expect("readable test data") {
            pairs.insert((
                path.clone(),
                id.as_str().expect("readable test data").to_owned(),
            ));
        }
        files.insert(path);
    }
    (pairs, files)
}

/// Compares and prints; returns the intersection over union.
fn compare(name: &str, sigil: &Pairs, jsonl: &Path) -> f64 {
    let (theirs, files) = reference(jsonl);
    let ours: BTreeSet<(String, String)> = sigil
        .iter()
        .filter(|(f, _)| files.contains(f))
        .map(|(f, v)| (f.clone(), (*v).to_owned()))
        .collect();
    let both = ours.intersection(&theirs).count();
    let union = ours.union(&theirs).count();
    let iou = if union == 0 {
        1.0
    } else {
        both as f64 / union as f64
    };
    println!(
        "{name}: {} files, sigil {} pairs, pySigma {} pairs, both {both}, IoU {:.4}",
        files.len(),
        ours.len(),
        theirs.len(),
        iou
    );
    let mut diff: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for (f, v) in ours.difference(&theirs) {
        diff.entry(v).or_default().0.push(f);
    }
    for (f, v) in theirs.difference(&ours) {
        diff.entry(v).or_default().1.push(f);
    }
    for (v, (only_sigil, only_pysigma)) in &diff {
        println!(
            "  {v}: only sigil {}, only pySigma {}",
            only_sigil.len(),
            only_pysigma.len()
        );
        for f in only_sigil.iter().take(4) {
            println!("      sigil: {f}");
        }
        for f in only_pysigma.iter().take(4) {
            println!("    pySigma: {f}");
        }
    }
    iou
}

#[test]
fn findings_agree_with_pysigma() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let oracle = corpus.join("../../oracle/validation-pysigma.jsonl");
    if !oracle.is_file() {
        println!("skipped: ../shared/oracle/validation-pysigma.jsonl not found");
        return;
    }
    let (pairs, files) = sigil_pairs(&corpus);
    let (_, listed) = reference(&oracle);
    let missing: Vec<_> = listed.difference(&files).take(3).collect();
    assert!(
        missing.is_empty(),
        "files of the reference not read: {missing:?}"
    );
    let iou = compare("shared", &pairs, &oracle);
    let held_out = std::env::var_os("SIGIL_PYSIGMA_HELDOUT").map(|p| {
        let p = Path::new(&p).to_path_buf();
        compare("held out", &pairs, &p)
    });
    assert!(iou >= 0.95, "IoU {iou:.4} with pySigma is below 0.95");
    if let Some(h) = held_out {
        assert!(h >= 0.95, "held-out IoU {h:.4} with pySigma is below 0.95");
    }
}
