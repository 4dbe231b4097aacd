//! Matching throughput: every SigmaHQ `rules/windows` rule (through the `sysmon` and
//! `windows-logsources` pipelines) over the oracle's events, pre-parsed, on one thread.
//! This isolates the engine's cost from EVTX parsing.
//!
//! `cargo bench -p sigil-engine --bench matching` (add `-- PASSES` to change the number
//! of passes over the 8,255 events; the default, 8, gives the 66,040 events of the
//! hunting benchmark). `SIGIL_BENCH_PREFILTER=on|off` runs one mode only;
//! `SIGIL_BENCH_BUCKETS=1` also times the events grouped by (Channel, EventID), to see
//! which logsources matching time goes to.

#![allow(clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use sigil_engine::{Detection, Engine, EngineOptions};
use sigil_logs::Event;

/// Nanoseconds this thread has spent on a CPU (Linux); the machines are shared, so CPU
/// time says more than wall-clock time.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn main() {
    let Some(shared) = common::shared_dir() else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let passes: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(8);
    let t = Instant::now();
    let loaded = common::load_windows_rules(&shared);
    let load = t.elapsed();
    let events = common::load_oracle_events(&shared);
    let modes: &[bool] = match std::env::var("SIGIL_BENCH_PREFILTER").as_deref() {
        Ok("on") => &[true],
        Ok("off") => &[false],
        _ => &[true, false],
    };
    for &prefilter in modes {
        let t = Instant::now();
        let engine = Engine::compile(
            &loaded.rules,
            EngineOptions {
                prefilter,
                ..EngineOptions::default()
            },
        );
        let compile = t.elapsed();
        let mut scan = engine.scan();
        let mut detections = 0usize;
        // One warm-up pass grows the scan's buffers and builds the automata and regexes
        // (on first use); it is timed apart, since a hunt pays for it once.
        let t = Instant::now();
        for (_, e) in &events {
            scan.event(e as &dyn Event, &mut |_: &Detection<'_>| {});
        }
        let first = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let cpu0 = thread_cpu_ns();
        for _ in 0..passes {
            for (_, e) in &events {
                detections += scan.event(e as &dyn Event, &mut |_: &Detection<'_>| {});
            }
        }
        let secs = t.elapsed().as_secs_f64();
        let cpu = match (cpu0, thread_cpu_ns()) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e9,
            _ => secs,
        };
        let n = events.len() * passes;
        println!(
            "prefilter {}: {} rules ({} prefiltered), load+pipelines {:.2} s, compile {:.3} s, \
             first pass {first:.3} s; \
             {n} events in {secs:.3} s wall, {cpu:.3} s CPU = {:.0} events/s by CPU time \
             ({:.2} µs/event), {detections} detections",
            if prefilter { "on " } else { "off" },
            engine.rule_count(),
            engine.prefiltered_rule_count(),
            load.as_secs_f64(),
            compile.as_secs_f64(),
            n as f64 / cpu,
            cpu * 1e6 / n as f64,
        );
        if std::env::var_os("SIGIL_BENCH_BUCKETS").is_some() {
            buckets(&engine, &events, passes);
        }
        let s = scan.stats();
        let per = |x: u64| x as f64 / s.events.max(1) as f64;
        println!(
            "  per event: {:.1} candidate rules, {:.1} removed by the prefilter, {:.1} evaluated, \
             {:.2} prefilter scans",
            per(s.candidates),
            per(s.prefiltered_out),
            per(s.evaluated),
            per(s.prefilter_scans)
        );
    }
}

/// Where matching time goes: the events grouped by (Channel, EventID), each group timed on
/// its own, the costliest groups first (`SIGIL_BENCH_BUCKETS=1`).
fn buckets(engine: &Engine, events: &[(String, sigil_logs::FlatEvent)], passes: usize) {
    use std::collections::BTreeMap;
    let text = |e: &sigil_logs::FlatEvent, f: &str| {
        e.get(f)
            .and_then(|v| v.as_text().map(std::borrow::Cow::into_owned))
            .unwrap_or_default()
    };
    let mut groups: BTreeMap<(String, String), Vec<&sigil_logs::FlatEvent>> = BTreeMap::new();
    for (_, e) in events {
        groups
            .entry((text(e, "Channel"), text(e, "EventID")))
            .or_default()
            .push(e);
    }
    let mut rows = Vec::new();
    let mut total = 0.0;
    for (key, group) in &groups {
        let mut scan = engine.scan();
        for e in group {
            scan.event(*e as &dyn Event, &mut |_: &Detection<'_>| {});
        }
        let before = scan.stats();
        let t = Instant::now();
        for _ in 0..passes {
            for e in group {
                scan.event(*e as &dyn Event, &mut |_: &Detection<'_>| {});
            }
        }
        let secs = t.elapsed().as_secs_f64();
        let s = scan.stats();
        let n = (group.len() * passes) as f64;
        total += secs;
        rows.push((
            secs,
            key.clone(),
            group.len(),
            (s.evaluated - before.evaluated) as f64 / n,
        ));
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("  by (Channel, EventID), costliest first ({total:.3} s in all):");
    for (secs, (channel, id), n, evaluated) in rows.iter().take(20) {
        println!(
            "  {:>6.1}% {secs:>7.3} s {n:>6} events {:>6.2} µs/event {evaluated:>6.1} evaluated  {channel} {id}",
            secs * 100.0 / total,
            secs * 1e6 / (*n * passes) as f64,
        );
    }
}
