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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use sigil_catalog::{BuildOptions, Catalog, build, load};

/// The floors both parts must reach.
const MIN_RECALL: f64 = 0.33;
const MIN_PRECISION: f64 = 0.45;

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if p.join("oracle/atomic-lab-hits.jsonl").is_file() && p.join("corpus/sigma/rules").is_dir() {
        return Some(p);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "../shared (oracle/atomic-lab-hits.jsonl, corpus/) is missing under CI"
    );
    println!("skipped: ../shared/oracle/atomic-lab-hits.jsonl or ../shared/corpus not found");
    None
}

/// One line of the lab's results.
#[derive(serde::Deserialize)]
struct LabTest {
    guid: String,
    lab_rules: Vec<String>,
}

/// Which part a test belongs to: FNV-1a of its GUID, even for tuning, odd held out.
fn held_out(guid: &str) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in guid.to_ascii_lowercase().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % 2 == 1
}

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

#[test]
fn simulated_telemetry_finds_what_the_lab_saw() {
    let Some(shared) = shared() else { return };
    let lab: Vec<LabTest> = std::fs::read_to_string(shared.join("oracle/atomic-lab-hits.jsonl"))
        .expect("reads")
        .lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("atomic-lab-hits.jsonl:{}: {e}", i + 1))
        })
        .collect();
    let corpus = load(&[
        shared.join("corpus/sigma/rules"),
        shared.join("corpus/atomic-red-team"),
    ])
    .expect("corpus folders exist");
    let catalog = build(corpus, BuildOptions::default());
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
    println!("per kind (both parts):");
    let mut kinds: Vec<(&String, Tally)> = m
        .by_kind
        .iter()
        .map(|(k, [a, b])| {
            (
                k,
                Tally {
                    lab: a.lab + b.lab,
                    reported: a.reported + b.reported,
                    both: a.both + b.both,
                },
            )
        })
        .collect();
    kinds.sort_by_key(|k| std::cmp::Reverse(k.1.lab + k.1.reported));
    for (k, t) in kinds {
        println!("{}", t.row(&format!("  {k}")));
    }

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
