//! Measures how fast EVTX files are read: the `evtx` crate's own renderings (parse only, the
//! ceiling) next to this crate's reading into flat events, one thread and several.
//!
//! ```text
//! cargo run --release -p sigil-logs --example read_evtx -- [ROOT] [--copies N] [--threads N]
//! ```
//!
//! ROOT defaults to `../shared/corpus/evtx`; `--copies N` reads every file N times (the hunt
//! benchmark uses the corpus copied 8 times); `--threads N` is the pool size for the parallel
//! run (default: all cores); `--only TEXT` runs only the methods whose name holds TEXT. Output: one line per method with events, seconds, events/s.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use evtx::{EvtxParser, ParserSettings};
use sigil_logs::{
    DEFAULT_CHUNKS_PER_PART, Event, Input, InputKind, Reader, discover, read_parallel,
    split_into_parts,
};

struct Options {
    root: PathBuf,
    copies: usize,
    threads: usize,
    /// Run only the methods whose name contains this text.
    only: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/evtx");
    let mut copies = 1;
    let mut threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut only = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| {
            args.next()
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|&n| n > 0)
                .ok_or(format!("{name} needs a positive number"))
        };
        match arg.as_str() {
            "--copies" => copies = number("--copies")?,
            "--threads" => threads = number("--threads")?,
            "--only" => only = Some(args.next().ok_or("--only needs a method name")?),
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => root = PathBuf::from(arg),
        }
    }
    Ok(Options {
        root,
        copies,
        threads,
        only,
    })
}

/// CPU time of the calling thread in seconds (Linux), so that single-thread numbers hold on a
/// machine that other work shares.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(nanos / 1e9)
}

/// CPU time of the whole process in seconds (Linux: user + system, in clock ticks of 10 ms).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// Peak resident memory of the process in MB (Linux).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Runs `f` over every file `copies` times; returns (events, seconds).
fn time_files(inputs: &[Input], copies: usize, mut f: impl FnMut(&Input) -> usize) -> (usize, f64) {
    let start = Instant::now();
    let cpu_start = thread_cpu_seconds();
    let mut events = 0;
    for _ in 0..copies {
        for input in inputs {
            events += f(input);
        }
    }
    let wall = start.elapsed().as_secs_f64();
    if let (Some(before), Some(after)) = (cpu_start, thread_cpu_seconds()) {
        println!(
            "{:<44} (cpu {:.3} s, {:.0} events per cpu-second)",
            "",
            after - before,
            events as f64 / (after - before)
        );
    }
    (events, wall)
}

fn report(name: &str, (events, seconds): (usize, f64)) {
    println!(
        "{name:<44} {events:>9} events {seconds:>8.3} s {:>10.0} events/s",
        events as f64 / seconds
    );
}

fn parser(input: &Input) -> Option<EvtxParser<std::fs::File>> {
    let settings = ParserSettings::new().indent(false).num_threads(1);
    EvtxParser::from_path(&input.path)
        .ok()
        .map(|p| p.with_configuration(settings))
}

fn main() {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("read_evtx: {message}");
            std::process::exit(2);
        }
    };
    let found = discover(&[&options.root]);
    let inputs: Vec<Input> = found
        .inputs
        .into_iter()
        .filter(|i| i.kind == InputKind::Evtx)
        .collect();
    let bytes: u64 = inputs.iter().map(|i| i.len).sum::<u64>() * options.copies as u64;
    println!(
        "{} EVTX files x {} copies, {:.1} MB, parallel run on {} threads",
        inputs.len(),
        options.copies,
        bytes as f64 / 1e6,
        options.threads
    );
    // Warm the page cache so that the first method does not pay for the disk.
    for input in &inputs {
        let _ = std::fs::read(&input.path);
    }

    let wanted = |name: &str| {
        options
            .only
            .as_ref()
            .is_none_or(|o| name.contains(o.as_str()))
    };
    let report = |name: &str, f: &mut dyn FnMut() -> (usize, f64)| {
        if wanted(name) {
            report(name, f());
        }
    };
    report("evtx records_json (parse-only ceiling)", &mut || {
        time_files(&inputs, options.copies, |input| {
            parser(input).map_or(0, |mut p| p.records_json().flatten().count())
        })
    });
    report("evtx records_json_bytes", &mut || {
        time_files(&inputs, options.copies, |input| {
            parser(input).map_or(0, |mut p| p.records_json_bytes().flatten().count())
        })
    });
    report("evtx records_json_value", &mut || {
        time_files(&inputs, options.copies, |input| {
            parser(input).map_or(0, |mut p| p.records_json_value().flatten().count())
        })
    });
    report("evtx records (XML)", &mut || {
        time_files(&inputs, options.copies, |input| {
            parser(input).map_or(0, |mut p| p.records().flatten().count())
        })
    });
    report("evtx chunks_json_bytes (CLI-internal)", &mut || {
        time_files(&inputs, options.copies, |input| {
            parser(input).map_or(0, |mut p| {
                p.chunks_json_bytes(false)
                    .map(|c| c.records().count())
                    .sum()
            })
        })
    });

    let mut reader = Reader::new();
    report("sigil Reader, flat events, 1 thread", &mut || {
        time_files(&inputs, options.copies, |input| {
            let mut fields = 0usize;
            let stats = reader.read_input(input, &mut |_, event| {
                // Touch the event the way a matcher does, so nothing is optimised away.
                fields += usize::from(event.get("Image").is_some()) + event.len();
            });
            std::hint::black_box(fields);
            stats.events as usize
        })
    });

    let name = format!("sigil read_parallel, {} threads", options.threads);
    if !wanted(&name) {
        return;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()
        .expect("thread pool");
    let mut copies = Vec::with_capacity(inputs.len() * options.copies);
    for _ in 0..options.copies {
        copies.extend(inputs.iter().cloned());
    }
    let parts = split_into_parts(&copies, DEFAULT_CHUNKS_PER_PART);
    let start = Instant::now();
    let cpu_start = process_cpu_seconds();
    let results = pool.install(|| {
        read_parallel(
            &parts,
            |_| 0usize,
            |fields, _, event| {
                *fields += usize::from(event.get("Image").is_some()) + event.len();
            },
        )
    });
    let events: u64 = results.iter().map(|(_, s)| s.events).sum();
    if let (Some(before), Some(after)) = (cpu_start, process_cpu_seconds()) {
        println!(
            "{:<44} (cpu {:.2} s on all threads, {:.0} events per cpu-second)",
            "",
            after - before,
            events as f64 / (after - before)
        );
    }
    report(&name, &mut || {
        (events as usize, start.elapsed().as_secs_f64())
    });
    if let Some(mb) = peak_rss_mb() {
        println!("peak RSS of the whole run: {mb:.1} MB");
    }
}
