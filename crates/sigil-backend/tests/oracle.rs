//! Differential test against the reference converter (pySigma): every rule pySigma
//! converted must convert here to the same queries (after whitespace normalisation) for at
//! least 97% of the rules of each target. Differences are printed grouped by cause.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use sigil_backend::{TargetName, convert_rule};
use sigil_pipeline::{PipelineSet, builtin};

fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    dir.join("corpus").is_dir().then_some(dir)
}

fn normalise(q: &str) -> String {
    q.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A coarse cause for a mismatch: the shape of the text where the two first differ.
fn cause(expected: &str, got: &str) -> String {
    let e: Vec<char> = expected.chars().collect();
    let g: Vec<char> = got.chars().collect();
    let i = e.iter().zip(&g).take_while(|(a, b)| a == b).count();
    let shape = |v: &[char]| -> String {
        v.iter()
            .skip(i.saturating_sub(3))
            .take(10)
            .map(|c| if c.is_alphanumeric() { 'a' } else { *c })
            .collect()
    };
    format!("expected `{}` got `{}`", shape(&e), shape(&g))
}

struct Outcome {
    total: usize,
    equal: usize,
    causes: BTreeMap<String, Vec<String>>,
}

fn run(file: &str, target: TargetName, pipelines: &[&str]) -> Option<Outcome> {
    let Some(shared) = shared() else {
        println!("skipped: ../shared/corpus not found");
        return None;
    };
    let mut set = Vec::new();
    for name in pipelines {
        let Some(p) = builtin(name) else {
            println!("skipped {file}: pipeline `{name}` is not built in");
            return None;
        };
        set.push(p);
    }
    let set = PipelineSet::new(set);
    let text = std::fs::read_to_string(shared.join("oracle").join(file)).ok()?;
    let mut out = Outcome {
        total: 0,
        equal: 0,
        causes: BTreeMap::new(),
    };
    for line in text.lines() {
        let Ok(row) = serde_json::from_str::<Json>(line) else {
            continue;
        };
        if row["ok"] != Json::Bool(true) {
            continue;
        }
        let path = row["path"].as_str().unwrap_or_default().to_string();
        let expected: Vec<String> = row["queries"]
            .as_array()
            .map(|a| a.iter().filter_map(Json::as_str).map(normalise).collect())
            .unwrap_or_default();
        out.total += 1;
        let source =
            std::fs::read_to_string(shared.join("corpus/sigma").join(&path)).unwrap_or_default();
        let parsed = sigil_sigma::parse_str(&source);
        let Some(rule) = parsed.rules.first() else {
            out.causes
                .entry("sigil: no rule parsed".into())
                .or_default()
                .push(path);
            continue;
        };
        let processed = match set.process(rule) {
            Ok(p) => p,
            Err(e) => {
                out.causes
                    .entry(format!(
                        "pipeline error: {}",
                        e.to_string().chars().take(60).collect::<String>()
                    ))
                    .or_default()
                    .push(path);
                continue;
            }
        };
        let state: BTreeMap<String, String> = processed
            .state
            .iter()
            .map(|(k, v)| (k.clone(), scalar_text(v)))
            .collect();
        match convert_rule(&processed.rule, target, &state) {
            Ok(got) => {
                let got: Vec<String> = got.iter().map(|q| normalise(q)).collect();
                if got == expected {
                    out.equal += 1;
                } else {
                    let key = match (expected.first(), got.first()) {
                        (Some(e), Some(g)) => cause(e, g),
                        _ => format!("query count {} vs {}", expected.len(), got.len()),
                    };
                    out.causes.entry(key).or_default().push(format!(
                        "{path}\n      pySigma: {}\n      sigil:   {}",
                        expected.join(" ;; "),
                        got.join(" ;; ")
                    ));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                out.causes
                    .entry(format!(
                        "sigil error: {}",
                        msg.chars().take(70).collect::<String>()
                    ))
                    .or_default()
                    .push(path);
            }
        }
    }
    Some(out)
}

fn scalar_text(v: &sigil_pipeline::Scalar) -> String {
    use sigil_pipeline::Scalar;
    match v {
        Scalar::Null => String::new(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Str(s) => s.clone(),
    }
}

fn check(file: &str, target: TargetName, pipelines: &[&str]) {
    check_at(file, target, pipelines, 0.97);
}

/// Like [`check`], with the share of rules that must be equal.
fn check_at(file: &str, target: TargetName, pipelines: &[&str], required: f64) {
    let Some(out) = run(file, target, pipelines) else {
        return;
    };
    let mut causes: Vec<_> = out.causes.iter().collect();
    causes.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    for (cause, cases) in &causes {
        println!("[{file}] {} x {cause}", cases.len());
        for c in cases.iter().take(2) {
            println!("    {c}");
        }
    }
    let rate = out.equal as f64 / out.total.max(1) as f64;
    println!(
        "[{file}] {} / {} equal ({:.2}%)",
        out.equal,
        out.total,
        rate * 100.0
    );
    assert!(
        rate >= required,
        "{file}: only {:.2}% of queries equal pySigma's",
        rate * 100.0
    );
}

#[test]
fn splunk_without_pipeline() {
    check("conv-splunk.jsonl", TargetName::Splunk, &[]);
}

#[test]
fn splunk_with_sysmon() {
    check("conv-splunk-sysmon.jsonl", TargetName::Splunk, &["sysmon"]);
}

#[test]
fn lucene_with_ecs_windows() {
    check(
        "conv-lucene-ecs.jsonl",
        TargetName::Lucene,
        &["ecs_windows"],
    );
}

#[test]
fn eql_with_ecs_windows() {
    check("conv-eql-ecs.jsonl", TargetName::Eql, &["ecs_windows"]);
}

#[test]
fn kql_without_pipeline() {
    check("conv-kusto.jsonl", TargetName::Kql, &[]);
}

/// The XDR reference is an extra of the oracle, outside the 97% acceptance set. Its known
/// differences are documented in `docs/conversion-differences.md` (about 50 rules where
/// pySigma reads `\*` after a registry-key replacement as a literal star, and 4 rules whose
/// only condition the pipeline drops); this checks that nothing else regresses.
#[test]
fn kql_with_microsoft_xdr() {
    check_at(
        "conv-kusto-xdr.jsonl",
        TargetName::Kql,
        &["microsoft_xdr"],
        0.945,
    );
}

#[test]
fn sqlite_without_pipeline() {
    check("conv-sqlite.jsonl", TargetName::Sqlite, &[]);
}
