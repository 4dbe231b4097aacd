//! Benchmark: read every Elastic rule of a corpus folder (TOML, EQL, KQL, lowering).
//!
//! `cargo run --release -p sigil-elastic --example bench_corpus -- ../shared/corpus/elastic [ROUNDS]`
//!
//! Files are read into memory first, so the numbers measure parsing and lowering only.

use std::path::{Path, PathBuf};
use std::time::Instant;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for p in entries.filter_map(Result::ok).map(|e| e.path()) {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "toml") {
            out.push(p);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "../shared/corpus/elastic".into()),
    );
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let mut paths = Vec::new();
    collect(&root.join("rules"), &mut paths);
    collect(&root.join("rules_building_block"), &mut paths);
    let texts: Vec<String> = paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    if texts.is_empty() {
        eprintln!("no rule files under {}", root.display());
        std::process::exit(2);
    }
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut best = f64::MAX;
    let mut rules = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        rules = 0;
        for t in &texts {
            rules += sigil_elastic::parse_rule_toml(t).rules.len();
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{} files ({:.1} MiB), {rules} rules incl. synthetic steps: best of {rounds} rounds {:.1} ms, {:.0} files/s, {:.1} MiB/s",
        texts.len(),
        bytes as f64 / 1_048_576.0,
        best * 1000.0,
        texts.len() as f64 / best,
        bytes as f64 / 1_048_576.0 / best
    );
}
