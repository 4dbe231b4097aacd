//! Where `sigil catalog build`'s memory goes: loads, builds and publishes the catalog of
//! the corpus folders given as arguments, printing the resident size (`VmRSS`) and its
//! peak (`VmHWM`) after each stage, then frees the catalog's parts one by one and prints
//! what each gave back:
//! `MIMALLOC_PURGE_DELAY=0 cargo run --release -p sigil-site --example catalog_memory -- PATH...`
//! (with the purge delay at 0 the allocator returns freed pages at once, so the resident
//! size follows what is live).

use std::path::PathBuf;

use sigil_catalog::{BuildOptions, build, load};
use sigil_site::Publication;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `VmRSS` and `VmHWM` of this process in MB, from `/proc/self/status`.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Meter {
    last: f64,
}

impl Meter {
    fn stage(&mut self, what: &str) {
        let (rss, hwm) = memory();
        println!(
            "{what:<40} rss {rss:>7.1} MB ({:>+7.1})  peak {hwm:>7.1} MB",
            rss - self.last
        );
        self.last = rss;
    }
}

fn main() {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: catalog_memory PATH...");
        std::process::exit(2);
    }
    let mut m = Meter { last: 0.0 };
    m.stage("start");
    let corpus = match load(&paths) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("catalog_memory: {e}");
            std::process::exit(2);
        }
    };
    m.stage("corpus loaded");
    let catalog = build(corpus, BuildOptions::default());
    m.stage("catalog built (analysis, linkage)");
    let mut p = Publication::without_rule_ir(catalog);
    m.stage("publication, IR freed (as the CLI does)");

    p.conversions = Vec::new();
    m.stage("freed: conversions");
    p.shared = std::collections::HashMap::default();
    m.stage("freed: shared indicators");
    for r in &mut p.catalog.rules {
        r.source = String::new();
    }
    m.stage("freed: rule sources");
    for r in &mut p.catalog.rules {
        r.analysis.related = Vec::new();
    }
    m.stage("freed: related rules");
    for r in &mut p.catalog.rules {
        r.analysis.indicators = Vec::new();
    }
    m.stage("freed: indicators");
    for r in &mut p.catalog.rules {
        r.analysis.stages = Vec::new();
        r.analysis.exclusions = Vec::new();
    }
    m.stage("freed: stages, exclusions");
    for t in &mut p.catalog.atomics {
        t.same_technique = Vec::new();
    }
    m.stage("freed: tests' same-technique rules");
    for t in &mut p.catalog.atomics {
        t.events = Vec::new();
        t.firings = Vec::new();
    }
    m.stage("freed: tests' events, firings");
    p.catalog.atomics = Vec::new();
    m.stage("freed: rest of the tests");
    p.catalog.rules = Vec::new();
    m.stage("freed: rest of the rules");
    p.catalog = sigil_catalog::Catalog::default();
    m.stage("freed: rest of the catalog");
}
