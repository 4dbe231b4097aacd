//! What `sigil hunt --threads 1` does before it reads an event, minus the engine's compile:
//! load every rule under a path (`sigil_load::load` on a one-thread rayon pool), then run
//! each detection rule through both default pipeline sets (`sysmon` + `windows-logsources`,
//! `windows-audit` + `windows-logsources`) as `hunt` does, keeping the variants it keeps.
//!
//! Usage: `sigil-bench-startup [RULES] [PASSES]` (default: the SigmaHQ `rules/windows` of
//! `../shared/corpus`, 20 passes). Prints the thread's CPU time per phase (min and median
//! over the passes) and the wall time of the median pass.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;

use sigil_core::{Rule, RuleBody};
use sigil_pipeline::{Pipeline, PipelineSet};

// The allocator of the `sigil` binary: allocation is a large part of loading.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// This thread's CPU time in nanoseconds (`/proc/thread-self/schedstat`). The kernel
/// updates it at scheduler ticks, so one reading may lag by a few milliseconds; medians
/// over many passes even that out.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// `hunt`'s `process_rules`: each detection rule through each set; a further set adds a
/// variant only where it applies items the first did not and gives another rule.
fn process(loaded: &[sigil_load::LoadedRule], sets: &[PipelineSet]) -> Vec<Rule> {
    use rayon::prelude::*;
    let variants: Vec<Vec<Rule>> = loaded
        .par_iter()
        .map(|lr| {
            let rule = &lr.rule;
            if !matches!(rule.body, RuleBody::Detection(_)) {
                return vec![rule.clone()];
            }
            let mut variants = Vec::new();
            let mut first_applied = BTreeSet::new();
            for (i, set) in sets.iter().enumerate() {
                match set.process(rule) {
                    Ok(p) if i == 0 => {
                        first_applied = p.applied;
                        variants.push(p.rule);
                    }
                    Ok(p) if !p.applied.is_subset(&first_applied) => {
                        if !variants.contains(&p.rule) {
                            variants.push(p.rule);
                        }
                    }
                    _ => {}
                }
            }
            variants
        })
        .collect();
    variants.into_iter().flatten().collect()
}

fn pipeline_sets() -> Vec<PipelineSet> {
    [
        ["sysmon", "windows-logsources"],
        ["windows-audit", "windows-logsources"],
    ]
    .iter()
    .map(|names| {
        PipelineSet::new(
            names
                .iter()
                .map(|n| Pipeline::resolve(n).expect("built-in pipeline"))
                .collect(),
        )
    })
    .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rules = args.next().map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/corpus/sigma/rules/windows")
        },
        PathBuf::from,
    );
    let passes: usize = args.next().map_or(20, |n| n.parse().expect("PASSES is a number"));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("one worker thread");
    // (pipelines, load, process, total) CPU ms and wall ms per pass
    let mut samples: Vec<[f64; 5]> = Vec::new();
    let mut counts = (0, 0, 0);
    pool.install(|| {
        for _ in 0..passes {
            let wall = Instant::now();
            let t0 = thread_cpu_ns();
            let sets = pipeline_sets();
            let t1 = thread_cpu_ns();
            let loaded = sigil_load::load(std::slice::from_ref(&rules), sigil_load::Options::default());
            let t2 = thread_cpu_ns();
            let processed = process(&loaded.rules, &sets);
            let t3 = thread_cpu_ns();
            let wall = wall.elapsed().as_secs_f64() * 1e3;
            counts = (loaded.files, loaded.rules.len(), processed.len());
            // Dropping is not part of the startup: `hunt` keeps the rules to the end.
            drop((processed, loaded));
            let ms = |a: u64, b: u64| (b - a) as f64 / 1e6;
            samples.push([ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t0, t3), wall]);
        }
    });
    let stat = |i: usize| {
        let mut v: Vec<f64> = samples.iter().map(|s| s[i]).collect();
        v.sort_by(f64::total_cmp);
        (v[0], v[v.len() / 2])
    };
    println!(
        "{} files, {} rules, {} processed rules; {passes} passes, CPU ms min / median:",
        counts.0, counts.1, counts.2
    );
    for (i, name) in ["pipelines", "load", "process", "total"].iter().enumerate() {
        let (min, median) = stat(i);
        println!("  {name:<10} {min:7.1} {median:7.1}");
    }
    let (min, median) = stat(4);
    println!("  {:<10} {min:7.1} {median:7.1}", "wall");
}
