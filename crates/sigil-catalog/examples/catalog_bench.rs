//! Times loading and building the catalog of the corpus folders given as arguments:
//! `cargo run --release -p sigil-catalog --example catalog_bench -- PATH...`.
//!
//! Prints wall time and the process's CPU time (user + system, from `/proc/self/stat`) per
//! phase, since on a shared machine wall time depends on what else runs.

use std::path::PathBuf;
use std::time::Instant;

use sigil_catalog::{BuildOptions, build, load};

/// CPU seconds of this process so far, when `/proc` tells (clock ticks of 1/100 s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn main() {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: catalog_bench PATH...");
        std::process::exit(2);
    }
    let (t0, c0) = (Instant::now(), cpu_seconds().unwrap_or(0.0));
    let corpus = match load(&paths) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("catalog_bench: {e}");
            std::process::exit(2);
        }
    };
    let (t1, c1) = (Instant::now(), cpu_seconds().unwrap_or(0.0));
    let (files, problems) = (corpus.files, corpus.problems.len());
    let analysed = build(
        corpus.clone(),
        BuildOptions {
            link_atomics: false,
            ..BuildOptions::default()
        },
    );
    let (t2, c2) = (Instant::now(), cpu_seconds().unwrap_or(0.0));
    let linked = build(corpus, BuildOptions::default());
    let (t3, c3) = (Instant::now(), cpu_seconds().unwrap_or(0.0));
    let json = serde_json::to_vec(&linked).map_or(0, |v| v.len());
    println!(
        "files {files} (problems {problems}), rules {:?}, atomic tests {} ({} simulated, {} detected), techniques {}",
        linked.stats.rules_by_source,
        linked.stats.atomic_tests,
        linked.stats.simulated_tests,
        linked.stats.detected_tests,
        linked.stats.attack_techniques,
    );
    println!(
        "load                       wall {:>6.2} s  cpu {:>6.2} s",
        (t1 - t0).as_secs_f64(),
        c1 - c0
    );
    println!(
        "analyse (no atomics)       wall {:>6.2} s  cpu {:>6.2} s",
        (t2 - t1).as_secs_f64(),
        c2 - c1
    );
    println!(
        "analyse + atomic linkage   wall {:>6.2} s  cpu {:>6.2} s",
        (t3 - t2).as_secs_f64(),
        c3 - c2
    );
    println!(
        "load + analyse + linkage   wall {:>6.2} s  cpu {:>6.2} s  ({} rules analysed; catalog JSON {} MB)",
        (t1 - t0).as_secs_f64() + (t3 - t2).as_secs_f64(),
        (c1 - c0) + (c3 - c2),
        analysed.rules.len(),
        json / 1_000_000
    );
}
