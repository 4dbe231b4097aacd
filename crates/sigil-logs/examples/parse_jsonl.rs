//! The parse-only ceiling for JSON-lines logs: every line of the given files parsed by
//! `serde_json` into a `serde_json::Value` and dropped, nothing else, on one thread. The
//! hunt over JSON lines (`bench/hunt-json.sh`) is compared with it.
//!
//! ```text
//! cargo run --release -p sigil-logs --example parse_jsonl -- FILE... [--copies N]
//! ```
//!
//! `--copies N` reads every file N times. Prints the events, wall and CPU seconds (the
//! process's, from `/proc/self/schedstat` of this thread) and events/s. Lines that are not
//! JSON are counted apart, so a broken input does not pass for a fast one.
//!
//! `--sigil` reads the same files with sigil's own reader instead (`sigil_logs::Reader`,
//! every line into a flat event of the event model, as a hunt reads them), to weigh the
//! reading part of a hunt against the ceiling.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Instant;

/// CPU time of the calling thread in seconds (Linux; 0 elsewhere).
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

fn main() -> std::process::ExitCode {
    let mut files = Vec::new();
    let mut copies = 1usize;
    let mut sigil = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--sigil" {
            sigil = true;
        } else if arg == "--copies" {
            let Some(n) = args.next().and_then(|v| v.parse().ok()).filter(|&n| n > 0) else {
                eprintln!("--copies needs a positive number");
                return std::process::ExitCode::from(2);
            };
            copies = n;
        } else {
            files.push(PathBuf::from(arg));
        }
    }
    if files.is_empty() {
        eprintln!("usage: parse_jsonl FILE... [--copies N] [--sigil]");
        return std::process::ExitCode::from(2);
    }
    if sigil {
        return read_with_sigil(&files, copies);
    }
    let (mut events, mut bad) = (0u64, 0u64);
    let mut line = Vec::new();
    let (wall, cpu) = (Instant::now(), thread_cpu());
    for _ in 0..copies {
        for path in &files {
            let file = match std::fs::File::open(path) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("{}: {e}", path.display());
                    return std::process::ExitCode::FAILURE;
                }
            };
            let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("{}: {e}", path.display());
                        return std::process::ExitCode::FAILURE;
                    }
                }
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                match serde_json::from_slice::<serde_json::Value>(&line) {
                    Ok(value) => {
                        events += 1;
                        drop(value);
                    }
                    Err(_) => bad += 1,
                }
            }
        }
    }
    let (wall, cpu) = (wall.elapsed().as_secs_f64(), thread_cpu() - cpu);
    report("serde_json Value per line (parse-only)", events, wall, cpu);
    println!("; {bad} lines not JSON)");
    std::process::ExitCode::SUCCESS
}

/// Prints a run's two lines as bench/hunt-json.sh reads them; the caller ends the second
/// line (`)` after what it adds).
fn report(label: &str, events: u64, wall: f64, cpu: f64) {
    println!(
        "{label:<44} {events:>9} events {wall:>8.3} s {:>10.0} events/s",
        events as f64 / wall
    );
    print!(
        "{:<44} (cpu {cpu:.3} s, {:.0} events per cpu-second",
        "",
        events as f64 / cpu.max(1e-9)
    );
}

/// Reads `files` `copies` times with sigil's reader, one thread, and prints as `main` does.
fn read_with_sigil(files: &[PathBuf], copies: usize) -> std::process::ExitCode {
    let (mut events, mut bad) = (0u64, 0u64);
    let mut fields = 0u64;
    let mut reader = sigil_logs::Reader::new();
    let (wall, cpu) = (Instant::now(), thread_cpu());
    for _ in 0..copies {
        for path in files {
            let input = match sigil_logs::classify(path) {
                Ok(Some(input)) => input,
                Ok(None) => {
                    eprintln!("{}: not a log", path.display());
                    return std::process::ExitCode::FAILURE;
                }
                Err(e) => {
                    eprintln!("{e}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            let stats = reader.read_input(&input, &mut |_meta, event| {
                fields += event.len() as u64;
            });
            events += stats.events;
            bad += stats.skipped_records;
        }
    }
    let (wall, cpu) = (wall.elapsed().as_secs_f64(), thread_cpu() - cpu);
    report("sigil Reader, flat events", events, wall, cpu);
    println!("; {fields} fields; {bad} lines not JSON)");
    std::process::ExitCode::SUCCESS
}
