//! Load for `bench/watch.sh`: runs `sigil watch` reading standard input, writes events to
//! it at a steady rate, and measures each detection's latency (from the moment its event
//! was written to the moment its line is read back) and the watcher's resident memory.
//!
//! `watch_load SIGIL EVENTS.jsonl RATE SECONDS -- WATCH-ARGS...`: the events are sent in a
//! loop, each stamped with `bench_sent_us`; prints the latency's p50, p99 and max, and the
//! RSS every 10 s.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let [_, sigil, events, rate, seconds] = &args[..split] else {
        eprintln!("usage: watch_load SIGIL EVENTS.jsonl RATE SECONDS -- WATCH-ARGS...");
        std::process::exit(2);
    };
    let rate: u64 = rate.parse().unwrap_or(10_000);
    let seconds: u64 = seconds.parse().unwrap_or(60);
    let lines: Vec<String> = std::fs::read_to_string(events)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| l.trim_start()[1..].to_string())
        .collect();
    assert!(!lines.is_empty(), "no events in {events}");
    let mut child = Command::new(sigil)
        .arg("watch")
        .args(&args[(split + 1).min(args.len())..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("sigil watch starts");
    let pid = child.id();
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut latencies = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let now = now_us();
            let Some(at) = line.find("\"bench_sent_us\":") else {
                continue;
            };
            let digits: String = line[at + 16..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(sent) = digits.parse::<u64>() {
                latencies.push(now.saturating_sub(sent));
            }
        }
        latencies
    });
    let mut stdin = std::io::BufWriter::new(child.stdin.take().expect("stdin"));
    // Rules load first: wait until the watcher is up (its RSS stops growing is not needed:
    // events simply wait in the pipe, but their latency would count the start).
    std::thread::sleep(Duration::from_secs(15));
    let start = Instant::now();
    let mut sent: u64 = 0;
    let mut next_rss = Duration::ZERO;
    let mut i = 0;
    while start.elapsed() < Duration::from_secs(seconds) {
        let due = (start.elapsed().as_micros() as u64 * rate) / 1_000_000;
        while sent < due {
            let stamp = now_us();
            let _ = writeln!(stdin, "{{\"bench_sent_us\":{stamp},{}", lines[i]);
            i = (i + 1) % lines.len();
            sent += 1;
        }
        let _ = stdin.flush();
        if start.elapsed() >= next_rss {
            println!(
                "t={:>4}s sent={sent} rss_kb={}",
                start.elapsed().as_secs(),
                rss_kb(pid).unwrap_or(0)
            );
            next_rss += Duration::from_secs(10);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(stdin);
    let _ = child.wait();
    let mut latencies = reader.join().unwrap_or_default();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |&us| us as f64 / 1000.0)
    };
    println!(
        "events {sent} at {rate}/s for {seconds} s; detections {}; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        pct(0.50),
        pct(0.99),
        latencies.last().map_or(0.0, |&us| us as f64 / 1000.0)
    );
}
