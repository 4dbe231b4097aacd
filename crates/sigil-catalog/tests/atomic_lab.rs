//! The atomic linkage held to a lab: for the Atomic Red Team tests that were run on a
//! Windows host with Sysmon, PowerShell module and script-block logging and Security
//! auditing (`../shared/oracle/atomic-lab-hits.jsonl`), the (test, rule) pairs the lab saw
//! against the pairs the simulated telemetry gives.
//!
//! Only rules present in `../shared/corpus/sigma/rules` count (the lab ran rules that have
//! since left it). The tests are split by a hash of their GUID into a tuning part and a
//! held-out part; both must reach the same floors, so nothing can be tuned to individual
//! tests. Figures are printed per part and per event kind (the logsource category or
//! service of the rule):
//!
//! ```text
//! cargo test --release -p sigil-catalog --test atomic_lab -- --nocapture
//! ```

mod lab;

use lab::{LabTest, catalog, held_out, lab_tests, shared};

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sigil_catalog::Catalog;

/// The floors both parts must reach.
const MIN_RECALL: f64 = 0.33;
const MIN_PRECISION: f64 = 0.45;

#[derive(Default, Clone, Copy)]
struct Tally {
    lab: usize,
    reported: usize,
    both: usize,
}

impl Tally {
    fn recall(&self) -> f64 {
        ratio(self.both, self.lab)
    }
    fn precision(&self) -> f64 {
        ratio(self.both, self.reported)
    }
    fn row(&self, name: &str) -> String {
        format!(
            "{name:<22} {:>5} {:>8} {:>6} {:>7.1}% {:>9.1}%",
            self.lab,
            self.reported,
            self.both,
            100.0 * self.recall(),
            100.0 * self.precision()
        )
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// The rule's event kind: its logsource category, else its service.
fn kinds(catalog: &Catalog) -> HashMap<String, String> {
    catalog
        .rules
        .iter()
        .filter_map(|r| {
            let kind = r
                .logsource
                .category
                .clone()
                .or_else(|| r.logsource.service.clone())
                .unwrap_or_else(|| "(none)".into());
            Some((r.id.clone()?, kind))
        })
        .collect()
}

struct Measure {
    parts: [Tally; 2],
    by_kind: BTreeMap<String, [Tally; 2]>,
}

fn measure(catalog: &Catalog, lab: &[LabTest]) -> Measure {
    let present: BTreeSet<&str> = catalog
        .rules
        .iter()
        .filter_map(|r| r.id.as_deref())
        .collect();
    let kind = kinds(catalog);
    let fired: HashMap<&str, BTreeSet<&str>> = catalog
        .atomics
        .iter()
        .map(|t| {
            (
                t.guid.as_str(),
                t.fired.iter().map(|r| r.id.as_str()).collect(),
            )
        })
        .collect();
    let mut m = Measure {
        parts: [Tally::default(); 2],
        by_kind: BTreeMap::new(),
    };
    for t in lab {
        let part = usize::from(held_out(&t.guid));
        let seen: BTreeSet<&str> = t
            .lab_rules
            .iter()
            .map(String::as_str)
            .filter(|r| present.contains(r))
            .collect();
        let found = fired.get(t.guid.as_str()).cloned().unwrap_or_default();
        for r in seen.union(&found) {
            let k = kind.get(*r).cloned().unwrap_or_else(|| "(none)".into());
            let tallies = [
                &mut m.parts[part],
                &mut m.by_kind.entry(k).or_default()[part],
            ];
            for tally in tallies {
                tally.lab += usize::from(seen.contains(r));
                tally.reported += usize::from(found.contains(r));
                tally.both += usize::from(seen.contains(r) && found.contains(r));
            }
        }
    }
    m
}

/// How much of the difference is the rules' age: the lab ran the rules of its day, the
/// corpus holds today's. The newest creation date among the rules the lab saw bounds the
/// lab's date from below; a rule created after it cannot be among the lab's results, and a
/// rule modified after it may not match what it matched then. Printed, not asserted.
fn drift(catalog: &Catalog, lab: &[LabTest]) {
    let dates: HashMap<&str, (&str, &str)> = catalog
        .rules
        .iter()
        .filter_map(|r| {
            Some((
                r.id.as_deref()?,
                (
                    r.date.as_deref().unwrap_or(""),
                    r.modified.as_deref().unwrap_or(""),
                ),
            ))
        })
        .collect();
    let Some(lab_date) = lab
        .iter()
        .flat_map(|t| &t.lab_rules)
        .filter_map(|r| dates.get(r.as_str()).map(|d| d.0))
        .max()
    else {
        return;
    };
    let fired: HashMap<&str, BTreeSet<&str>> = catalog
        .atomics
        .iter()
        .map(|t| {
            (
                t.guid.as_str(),
                t.fired.iter().map(|r| r.id.as_str()).collect(),
            )
        })
        .collect();
    let (mut reported, mut both, mut newer, mut unseen_modified) = (0, 0, 0, 0);
    let (mut missed, mut missed_modified) = (0, 0);
    for t in lab {
        let seen: BTreeSet<&str> = t
            .lab_rules
            .iter()
            .map(String::as_str)
            .filter(|r| dates.contains_key(r))
            .collect();
        let found = fired.get(t.guid.as_str()).cloned().unwrap_or_default();
        for r in &found {
            let (created, modified) = dates.get(r).copied().unwrap_or_default();
            reported += 1;
            if seen.contains(r) {
                both += 1;
            } else if created > lab_date {
                newer += 1;
            } else if modified > lab_date {
                unseen_modified += 1;
            }
        }
        for r in seen.difference(&found) {
            missed += 1;
            missed_modified += usize::from(dates.get(r).is_some_and(|d| d.1 > lab_date));
        }
    }
    println!(
        "rule drift: the newest rule the lab saw was created {lab_date}; of {} reported pairs \
         the lab did not see, {newer} are rules created after it and {unseen_modified} rules \
         modified since (precision without the newer rules {:.1}%); of {missed} missed pairs, \
         {missed_modified} are rules modified since",
        reported - both,
        100.0 * ratio(both, reported - newer),
    );
}

#[test]
fn simulated_telemetry_finds_what_the_lab_saw() {
    let Some(shared) = shared() else { return };
    let lab = lab_tests(&shared);
    let catalog = catalog(&shared);
    let m = measure(&catalog, &lab);
    // For study: the linkage in `sigil atomics --format json`'s shape.
    if let Ok(path) = std::env::var("ATOMIC_LAB_REPORT") {
        let tests: Vec<serde_json::Value> = catalog
            .atomics
            .iter()
            .map(|t| {
                serde_json::json!({
                    "guid": t.guid,
                    "fired": t.fired.iter().map(|r| serde_json::json!({"id": r.id})).collect::<Vec<_>>(),
                    "events": t.events,
                })
            })
            .collect();
        let text = serde_json::json!({ "tests": tests }).to_string();
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{path}: {e}"));
    }

    println!(
        "{:<22} {:>5} {:>8} {:>6} {:>8} {:>10}",
        "part / kind", "lab", "reported", "both", "recall", "precision"
    );
    let all = Tally {
        lab: m.parts[0].lab + m.parts[1].lab,
        reported: m.parts[0].reported + m.parts[1].reported,
        both: m.parts[0].both + m.parts[1].both,
    };
    println!("{}", m.parts[0].row("tuning"));
    println!("{}", m.parts[1].row("held-out"));
    println!("{}", all.row("all"));
    println!(
        "per kind: {:<18} {:>5} {:>8} {:>6}   recall tuning / held-out   precision tuning / held-out",
        "", "lab", "reported", "both"
    );
    let mut kinds: Vec<(&String, &[Tally; 2])> = m.by_kind.iter().collect();
    kinds.sort_by_key(|(_, [a, b])| std::cmp::Reverse(a.lab + b.lab + a.reported + b.reported));
    let pct = |a: usize, b: usize| {
        if b == 0 {
            "-".to_string()
        } else {
            format!("{:.1}%", 100.0 * ratio(a, b))
        }
    };
    for (k, [a, b]) in kinds {
        println!(
            "  {k:<26} {:>5} {:>8} {:>6}   {:>6} / {:<6}              {:>6} / {:<6}",
            a.lab + b.lab,
            a.reported + b.reported,
            a.both + b.both,
            pct(a.both, a.lab),
            pct(b.both, b.lab),
            pct(a.both, a.reported),
            pct(b.both, b.reported),
        );
    }

    drift(&catalog, &lab);

    assert!(all.lab > 1000, "the lab's pairs are read ({})", all.lab);
    for (name, t) in ["tuning", "held-out"].iter().zip(&m.parts) {
        assert!(
            t.recall() >= MIN_RECALL && t.precision() >= MIN_PRECISION,
            "{name}: recall {:.3}, precision {:.3}",
            t.recall(),
            t.precision()
        );
    }
}

#[test]
fn the_split_is_stable_and_balanced() {
    assert!(
        !held_out("002cca30-4778-4891-878a-aaffcfa502fa")
            || held_out("002CCA30-4778-4891-878a-aaffcfa502fa")
    );
    let Some(shared) = shared() else { return };
    let text = std::fs::read_to_string(shared.join("oracle/atomic-lab-hits.jsonl")).expect("reads");
    let (mut a, mut b) = (0usize, 0usize);
    for l in text.lines() {
        let t: LabTest = serde_json::from_str(l).expect("valid line");
        if held_out(&t.guid) {
            b += 1;
        } else {
            a += 1;
        }
    }
    println!("tuning {a}, held-out {b}");
    assert!(
        a.abs_diff(b) * 5 < a + b,
        "parts of similar size: {a} / {b}"
    );
}
