//! How long loading rules takes with and without the rule cache: `sigil_load::load` of a
//! folder, then `load_cached` with a fresh cache (the pass that writes it) and with the
//! written cache, each PASSES times on the current rayon pool (`RAYON_NUM_THREADS=1` for
//! one thread). Prints the median wall and process CPU time of each and checks that the
//! three give the same rules.
//!
//! ```text
//! cargo run --release -p sigil-load --example load_rules -- [RULES] [PASSES]
//! ```
//!
//! RULES defaults to `../shared/corpus/sigma/rules/windows`, PASSES to 10.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::Instant;

use sigil_load::{Options, RuleCache, RuleSet, load, load_cached};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The process's CPU time (user + system) in seconds (Linux; 0 elsewhere).
fn process_cpu() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
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
    let passes: usize = args
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
        .max(1);
    let paths = vec![rules];
    let dir = std::env::temp_dir().join(format!("sigil-load-bench-{}", std::process::id()));
    let cache = RuleCache::new(&dir);

    let run = |label: &str, f: &dyn Fn() -> RuleSet| -> RuleSet {
        let (mut walls, mut cpus) = (Vec::new(), Vec::new());
        let mut last = None;
        for _ in 0..passes {
            let (wall, cpu) = (Instant::now(), process_cpu());
            let set = f();
            walls.push(wall.elapsed().as_secs_f64());
            cpus.push(process_cpu() - cpu);
            last = Some(set);
        }
        let set = last.expect("at least one pass");
        println!(
            "{label:<34} {:>5} rules {:>5} from the cache  wall {:7.4} s  cpu {:7.4} s",
            set.rules.len(),
            set.from_cache,
            median(walls),
            median(cpus)
        );
        set
    };
    let plain = run("load (no cache)", &|| load(&paths, Options::default()));
    let writing = run("load_cached, writing the cache", &|| {
        let _ = std::fs::remove_dir_all(&dir);
        load_cached(&paths, Options::default(), Some(&cache))
    });
    let reading = run("load_cached, from the cache", &|| {
        load_cached(&paths, Options::default(), Some(&cache))
    });
    let size = std::fs::read_dir(&dir).map_or(0, |d| {
        d.filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum::<u64>()
    });
    println!("cache size: {:.1} MB", size as f64 / 1e6);
    let same = |a: &RuleSet, b: &RuleSet| {
        a.rules.len() == b.rules.len()
            && a.rules
                .iter()
                .zip(&b.rules)
                .all(|(x, y)| x.rule == y.rule && x.path == y.path)
    };
    if !(same(&plain, &writing) && same(&plain, &reading)) {
        eprintln!("the cached loads differ from the plain one");
        std::process::exit(1);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
