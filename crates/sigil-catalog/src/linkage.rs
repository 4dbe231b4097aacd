//! Atomic Red Team linkage: every rule, compiled once by the hunting engine, over the
//! simulated telemetry of every Windows test (see [`crate::telemetry`]).
//!
//! Sigma rules are processed by the built-in `sysmon` and `windows-logsources` pipelines
//! first, as a hunt over Sysmon logs would; Elastic rules read the ECS fields of the same
//! events. As in a hunt, rules only meet the logs they are for: the simulated events are
//! Windows events, so a rule is run on them only when `LogScope::windows()` admits it as
//! the pipelines processed it (a rule for another product, or naming no product with a
//! log source the pipelines do not map to Windows events, is left out), and rules their
//! authors disabled are skipped.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rayon::prelude::*;
use sigil_core::{Rule, RuleBody, RuleLanguage};
use sigil_engine::{Engine, EngineOptions};
use sigil_pipeline::{LogScope, PipelineSet, builtin};

use crate::model::{AtomicEntry, CatalogRule, Firing, Problem, RuleRef};
use crate::telemetry::{SimEvent, events};

/// What linking did.
#[derive(Debug, Default)]
pub struct LinkOutcome {
    /// Tests whose telemetry was simulated.
    pub simulated: usize,
    /// Rules the pipelines rejected or the engine could not compile (not an error: they
    /// are left out of the linkage).
    pub problems: Vec<Problem>,
}

/// Fills each test's `events` and `fired`.
pub fn link(rules: &[CatalogRule], tests: &mut [AtomicEntry]) -> LinkOutcome {
    let mut outcome = LinkOutcome::default();
    let pipelines = PipelineSet::new(
        ["sysmon", "windows-logsources"]
            .iter()
            .filter_map(|n| builtin(n))
            .collect(),
    );
    // The engine's rule list, and for each entry the catalog rule it belongs to.
    let prepared: Vec<(Vec<Rule>, Option<Problem>)> =
        rules.par_iter().map(|r| prepare(r, &pipelines)).collect();
    let mut compiled: Vec<Rule> = Vec::new();
    let mut owner: Vec<usize> = Vec::new();
    for (i, (list, problem)) in prepared.into_iter().enumerate() {
        outcome.problems.extend(problem);
        owner.extend(std::iter::repeat_n(i, list.len()));
        compiled.extend(list);
    }
    let engine = Engine::compile(&compiled, EngineOptions::default());
    // The fields each compiled rule reads, to say which made it fire.
    let read: Vec<Vec<String>> = compiled.iter().map(fields_read).collect();
    // The engine holds what it compiled: the processed copies of the rules are done with.
    drop(compiled);

    let simulated: Vec<Vec<SimEvent>> = tests.par_iter().map(events).collect();
    let fired: Vec<BTreeMap<usize, Firing>> = simulated
        .par_iter()
        .map_init(
            || engine.scan(),
            |scan, evs| {
                let mut hit: BTreeMap<usize, Firing> = BTreeMap::new();
                for (k, e) in evs.iter().enumerate() {
                    let mut sink = |d: &sigil_engine::Detection<'_>| {
                        if let Some(&o) = owner.get(d.rule.index) {
                            hit.entry(o).or_insert_with(|| Firing {
                                event: Some(k),
                                fields: read[d.rule.index]
                                    .iter()
                                    .filter_map(|f| {
                                        let (name, v) = e
                                            .fields
                                            .iter()
                                            .find(|(n, _)| n.eq_ignore_ascii_case(f))?;
                                        Some(((*name).to_string(), v.text()))
                                    })
                                    .collect(),
                            });
                        }
                    };
                    scan.event(e, &mut sink);
                }
                let mut sink = |d: &sigil_engine::Detection<'_>| {
                    if let Some(&o) = owner.get(d.rule.index) {
                        hit.entry(o).or_insert(Firing {
                            event: None,
                            fields: Vec::new(),
                        });
                    }
                };
                engine.finish(scan.take_hits(), &mut sink);
                hit
            },
        )
        .collect();
    for ((t, evs), hit) in tests.iter_mut().zip(simulated).zip(fired) {
        if !evs.is_empty() {
            outcome.simulated += 1;
        }
        t.events = evs.iter().map(SimEvent::to_simulated).collect();
        t.fired = hit.keys().map(|&i| rules[i].to_ref()).collect();
        t.firings = hit.into_values().collect();
    }
    outcome
}

/// The event fields a rule's predicates read, each once, in source order.
fn fields_read(rule: &Rule) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let RuleBody::Detection(d) = &rule.body {
        for s in &d.searches {
            s.expr.for_each_predicate(&mut |p| {
                if let Some(f) = &p.field
                    && !out.iter().any(|o| o.eq_ignore_ascii_case(f))
                {
                    out.push(f.clone());
                }
            });
        }
    }
    out
}

/// The rules to compile for one catalog rule: the processed rule (and an Elastic
/// sequence's steps), or nothing for another platform or a rule the pipelines reject.
fn prepare(r: &CatalogRule, pipelines: &PipelineSet) -> (Vec<Rule>, Option<Problem>) {
    if r.ir.is_disabled() {
        return (Vec::new(), None);
    }
    let windows = LogScope::windows();
    match r.language {
        RuleLanguage::Sigma => {
            if matches!(r.ir.body, RuleBody::Correlation(_)) {
                // Correlations are for the logs of the rules they use, which are judged on
                // their own; the engine ignores a correlation whose rules never match.
                let mut rule = r.ir.clone();
                if let RuleBody::Correlation(c) = &mut rule.body {
                    c.generate = true;
                }
                return (vec![rule], None);
            }
            match pipelines.process(&r.ir) {
                Ok(processed) => {
                    if !windows.admits(&r.ir, Some(&processed)).is_in() {
                        return (Vec::new(), None);
                    }
                    (vec![processed.rule], None)
                }
                Err(e) => (
                    Vec::new(),
                    Some(Problem {
                        path: r.path.clone(),
                        line: 0,
                        message: format!("not linked to atomic tests: {e}"),
                    }),
                ),
            }
        }
        RuleLanguage::Elastic => {
            if !windows.admits(&r.ir, None).is_in() {
                return (Vec::new(), None);
            }
            let mut list = vec![r.ir.clone()];
            list.extend(r.steps.iter().cloned());
            (list, None)
        }
    }
}

/// Fills each test's `same_technique`: rules tagged with its technique, its parent, or a
/// sub-technique of it, that do not fire on it.
pub fn same_technique(rules: &[CatalogRule], tests: &mut [AtomicEntry]) {
    let mut by_technique: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in rules.iter().enumerate() {
        for t in r
            .analysis
            .attack
            .iter()
            .filter_map(|a| a.technique.as_deref())
        {
            let list = by_technique.entry(t.to_string()).or_default();
            if list.last() != Some(&i) {
                list.push(i);
            }
            if let Some((parent, _)) = t.split_once('.') {
                let list = by_technique.entry(format!("{parent}.*")).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
    }
    // Each rule's reference, made once when a test first lists it.
    let mut refs: Vec<Option<Arc<RuleRef>>> = vec![None; rules.len()];
    for t in tests {
        let id = t.technique.as_str();
        let mut found: BTreeSet<usize> = BTreeSet::new();
        found.extend(by_technique.get(id).into_iter().flatten());
        match id.split_once('.') {
            Some((parent, _)) => found.extend(by_technique.get(parent).into_iter().flatten()),
            None => found.extend(by_technique.get(&format!("{id}.*")).into_iter().flatten()),
        }
        let fired: BTreeSet<&str> = t.fired.iter().map(|r| r.key.as_str()).collect();
        t.same_technique = found
            .into_iter()
            .filter(|&i| !fired.contains(rules[i].key.as_str()))
            .map(|i| Arc::clone(refs[i].get_or_insert_with(|| Arc::new(rules[i].to_ref()))))
            .collect();
    }
}
