//! Differential test against the reference: pySigma (sqlite backend, `sysmon` +
//! `windows-logsources` pipelines) over the EVTX samples. Every (rule, event) pair where
//! sigil and the reference disagree is printed; they must agree on at least 99% of the
//! pairs (intersection over union). `docs/hunt-differences.md` explains the rest.

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};

use sigil_core::{Expr, RuleBody};
use sigil_engine::{Detection, Engine, EngineOptions};
use sigil_logs::Event;

/// Whether the rule holds a keyword (field-less) search: the reference backend cannot
/// convert those, so the oracle has no results for them.
fn has_keyword_search(rule: &sigil_core::Rule) -> bool {
    let RuleBody::Detection(d) = &rule.body else {
        return false;
    };
    let mut found = false;
    for s in &d.searches {
        let e: &Expr = &s.expr;
        e.for_each_predicate(&mut |p| found |= p.is_keyword());
    }
    found
}

#[test]
fn agrees_with_the_reference() {
    let Some(shared) = common::shared_dir() else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let oracle_path = shared.join("oracle/oracle-matches.jsonl");
    let Ok(oracle_text) = std::fs::read_to_string(&oracle_path) else {
        println!("skipped: ../shared/oracle not found");
        return;
    };
    let loaded = common::load_windows_rules(&shared);
    for e in &loaded.errors {
        println!("load error: {e}");
    }
    let engine = Engine::compile(&loaded.rules, EngineOptions::default());
    println!(
        "rules: {} loaded, {} compiled, {} skipped, {} prefiltered",
        loaded.rules.len(),
        engine.rule_count(),
        engine.skipped().len(),
        engine.prefiltered_rule_count()
    );
    for s in engine.skipped() {
        println!(
            "skipped rule {} ({}): {}",
            loaded.paths[s.index], s.title, s.error
        );
    }

    // The part of the oracle present here covers rule ids starting with 0-7.
    let in_scope = |id: &str| id.starts_with(|c: char| ('0'..='7').contains(&c));
    let mut path_of: HashMap<String, String> = HashMap::new();
    let mut unconvertible: HashSet<String> = HashSet::new();
    for (rule, path) in loaded.rules.iter().zip(&loaded.paths) {
        if let Some(id) = &rule.id {
            path_of.insert(id.clone(), path.clone());
            if has_keyword_search(rule) {
                unconvertible.insert(id.clone());
            }
        }
    }

    let mut expected: BTreeSet<(String, String)> = BTreeSet::new();
    for line in oracle_text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let id = v["id"].as_str().unwrap_or_default().to_string();
        for key in v["matches"].as_array().into_iter().flatten() {
            expected.insert((id.clone(), key.as_str().unwrap_or_default().to_string()));
        }
    }

    let events = common::load_oracle_events(&shared);
    assert!(events.len() > 8000, "only {} events read", events.len());
    let mut got: BTreeSet<(String, String)> = BTreeSet::new();
    let mut scan = engine.scan();
    for (key, event) in &events {
        scan.event(event as &dyn Event, &mut |d: &Detection<'_>| {
            let id = d.rule.id.clone().unwrap_or_default();
            if in_scope(&id) && !unconvertible.contains(&id) {
                got.insert((id, key.clone()));
            }
        });
    }

    let both = got.intersection(&expected).count();
    let union = got.union(&expected).count();
    let iou = if union == 0 {
        1.0
    } else {
        both as f64 / union as f64
    };
    for (id, key) in got.difference(&expected) {
        println!(
            "only sigil:     {} {key}",
            path_of.get(id).map_or(id.as_str(), String::as_str)
        );
    }
    for (id, key) in expected.difference(&got) {
        println!(
            "only reference: {} {key}",
            path_of.get(id).map_or(id.as_str(), String::as_str)
        );
    }
    println!(
        "pairs: sigil {}, reference {}, both {both}, union {union}, IoU {iou:.4}",
        got.len(),
        expected.len()
    );
    assert!(iou >= 0.99, "IoU {iou:.4} below 0.99");
}
