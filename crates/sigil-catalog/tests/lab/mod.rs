//! What the tests held to the lab share: where `../shared` is, the lab's results, their split
//! into a tuning and a held-out part, and the catalog the linkage is measured on.

use std::path::{Path, PathBuf};

use sigil_catalog::{BuildOptions, Catalog, build, load};

/// `../shared`, or `None` (with a message) when the lab's results or the corpus are missing;
/// under CI their absence is a failure.
pub fn shared() -> Option<PathBuf> {
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
pub struct LabTest {
    pub guid: String,
    #[allow(dead_code, reason = "only the bound's report names tests")]
    pub name: String,
    pub lab_rules: Vec<String>,
}

/// The lab's results, a test per line.
pub fn lab_tests(shared: &Path) -> Vec<LabTest> {
    std::fs::read_to_string(shared.join("oracle/atomic-lab-hits.jsonl"))
        .expect("reads")
        .lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("atomic-lab-hits.jsonl:{}: {e}", i + 1))
        })
        .collect()
}

/// Which part a test belongs to: FNV-1a of its GUID, even for tuning, odd held out.
pub fn held_out(guid: &str) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in guid.to_ascii_lowercase().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % 2 == 1
}

/// The catalog of the Sigma rules and the Atomic Red Team tests, linked by simulation.
pub fn catalog(shared: &Path) -> Catalog {
    let corpus = load(&[
        shared.join("corpus/sigma/rules"),
        shared.join("corpus/atomic-red-team"),
    ])
    .expect("corpus folders exist");
    build(corpus, BuildOptions::default())
}
