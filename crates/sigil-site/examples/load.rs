//! Load benchmark of `sigil serve`: many concurrent clients search (`/api/rules?q=...`
//! with a varied set of terms and filters) and open rule pages, over loopback only, for a
//! bounded time and a bounded number of requests. Reports throughput, latency percentiles
//! and errors; exits 1 if any request failed.
//!
//! ```text
//! cargo run --release -p sigil-site --example load -- \
//!     --corpus ../shared/corpus/sigma --corpus ../shared/corpus/elastic \
//!     --corpus ../shared/corpus/atomic-red-team --corpus ../shared/corpus/attack \
//!     [--clients 64] [--seconds 20] [--max-requests 2000000]
//! ```
//!
//! The server runs in this process (the same router as `sigil serve`) on a random port
//! of 127.0.0.1 and is shut down at the end. Clients are plain threads with one
//! keep-alive HTTP/1.1 connection each, so the measurement needs nothing beyond std.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sigil_catalog::{BuildOptions, build, load};
use sigil_site::Publication;
use sigil_site::render::page;
use sigil_site::server::{AppState, router, serve};

/// Search terms: single words, phrases, technique ids, tantivy syntax and misses.
const TERMS: [&str; 32] = [
    "wmi",
    "powershell",
    "mimikatz",
    "lsass",
    "rundll32",
    "encoded command",
    "certutil",
    "T1047",
    "registry run key",
    "scheduled task",
    "psexec",
    "credential dumping",
    "office macro",
    "base64",
    "regsvr32",
    "mshta",
    "bitsadmin",
    "shadow copy",
    "vssadmin delete",
    "suspicious parent",
    "cobalt strike",
    "dns tunneling",
    "kerberos",
    "T1059.001",
    "lateral movement",
    "uac bypass",
    "title:wmi",
    "\"process creation\"",
    "net user",
    "wevtutil cl",
    "nothingmatchesthisword",
    "whoami",
];
/// Filters added to some searches.
const FILTERS: [&str; 6] = [
    "",
    "&level=high",
    "&source=elastic",
    "&source=sigma",
    "&page=1",
    "&technique=T1059",
];

struct Options {
    corpus: Vec<PathBuf>,
    clients: usize,
    seconds: u64,
    max_requests: u64,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        corpus: Vec::new(),
        clients: 64,
        seconds: 20,
        max_requests: 2_000_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--corpus" => o.corpus.push(value()?.into()),
            "--clients" => o.clients = value()?.parse().map_err(|e| format!("{a}: {e}"))?,
            "--seconds" => o.seconds = value()?.parse().map_err(|e| format!("{a}: {e}"))?,
            "--max-requests" => {
                o.max_requests = value()?.parse().map_err(|e| format!("{a}: {e}"))?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if o.corpus.is_empty() {
        return Err("give at least one --corpus PATH".into());
    }
    o.clients = o.clients.clamp(1, 1024);
    o.seconds = o.seconds.clamp(1, 600);
    Ok(o)
}

/// What a client measured.
#[derive(Default)]
struct Tally {
    search_us: Vec<u32>,
    page_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
    bytes: u64,
}

/// A small xorshift generator: each client its own sequence, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// One keep-alive connection.
struct Conn {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    fn get(&mut self, path: &str) -> Result<(u16, usize), String> {
        if self.stream.is_none() {
            let s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(10))
                .map_err(|e| format!("connect: {e}"))?;
            s.set_read_timeout(Some(Duration::from_secs(30)))
                .map_err(|e| e.to_string())?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            self.stream = Some(BufReader::new(s));
        }
        let result = self.exchange(path);
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    fn exchange(&mut self, path: &str) -> Result<(u16, usize), String> {
        let addr = self.addr;
        let r = self.stream.as_mut().ok_or("no connection")?;
        write!(r.get_mut(), "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n")
            .map_err(|e| format!("write: {e}"))?;
        let mut line = String::new();
        r.read_line(&mut line).map_err(|e| format!("read: {e}"))?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("bad status line {line:?}"))?;
        let mut length = None;
        let mut chunked = false;
        loop {
            line.clear();
            r.read_line(&mut line).map_err(|e| format!("read: {e}"))?;
            let h = line.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((name, value)) = h.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse::<usize>().ok();
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.eq_ignore_ascii_case("chunked");
                }
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                r.read_line(&mut line).map_err(|e| format!("read: {e}"))?;
                let size = usize::from_str_radix(line.trim(), 16)
                    .map_err(|e| format!("chunk size {line:?}: {e}"))?;
                let mut chunk = vec![0; size + 2];
                r.read_exact(&mut chunk).map_err(|e| format!("read: {e}"))?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else {
            let n = length.ok_or("no content-length")?;
            body.resize(n, 0);
            r.read_exact(&mut body).map_err(|e| format!("read: {e}"))?;
        }
        Ok((status, body.len()))
    }
}

fn client(
    addr: SocketAddr,
    seed: u64,
    pages: &[String],
    deadline: Instant,
    budget: &AtomicU64,
) -> Tally {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut conn = Conn { addr, stream: None };
    let mut t = Tally::default();
    while Instant::now() < deadline && budget.fetch_sub(1, Ordering::Relaxed) > 0 {
        let search = rng.below(2) == 0;
        let path = if search {
            let term = TERMS[rng.below(TERMS.len())]
                .replace(' ', "+")
                .replace('"', "%22");
            let filter = FILTERS[rng.below(FILTERS.len())];
            format!("/api/rules?q={term}{filter}")
        } else {
            format!("/{}", pages[rng.below(pages.len())])
        };
        let start = Instant::now();
        let result = conn.get(&path);
        let us = u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX);
        match result {
            Ok((200, n)) => {
                t.bytes += n as u64;
                if search {
                    t.search_us.push(us);
                } else {
                    t.page_us.push(us);
                }
            }
            Ok((status, _)) => {
                t.errors += 1;
                t.first_error
                    .get_or_insert(format!("{path}: HTTP {status}"));
            }
            Err(e) => {
                t.errors += 1;
                t.first_error.get_or_insert(format!("{path}: {e}"));
            }
        }
    }
    t
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i.min(sorted.len() - 1)]) / 1000.0
}

fn report(name: &str, v: &mut [u32]) {
    v.sort_unstable();
    println!(
        "{name:<8} {:>9} requests   p50 {:>7.2} ms   p90 {:>7.2} ms   p99 {:>7.2} ms   max {:>8.2} ms",
        v.len(),
        percentile(v, 0.50),
        percentile(v, 0.90),
        percentile(v, 0.99),
        percentile(v, 1.0),
    );
}

#[allow(clippy::cast_precision_loss)]
fn main() -> ExitCode {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let corpus = match load(&o.corpus) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::from(2);
        }
    };
    let publication = Publication::new(build(corpus, BuildOptions::default()));
    let pages: Vec<String> = publication
        .catalog
        .rules
        .iter()
        .map(|r| page::rule(&r.key))
        .collect();
    let state = match AppState::new(publication) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::from(1);
        }
    };
    println!(
        "server state: {} rules, {} files, ready in {:.1} s",
        pages.len(),
        state.site().len(),
        start.elapsed().as_secs_f64()
    );

    // The server: its own runtime, loopback only, a random port.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("load: runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let listener = match runtime.block_on(tokio::net::TcpListener::bind(SocketAddr::from((
        Ipv4Addr::LOCALHOST,
        0,
    )))) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("load: bind: {e}");
            return ExitCode::from(1);
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::from(1);
        }
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(serve(listener, router(state), async {
        let _ = stop_rx.await;
    }));

    println!(
        "{} clients for {} s (at most {} requests) on http://{addr}/",
        o.clients, o.seconds, o.max_requests
    );
    let budget = AtomicU64::new(o.max_requests);
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(o.seconds);
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..o.clients)
            .map(|i| {
                let (pages, budget) = (&pages, &budget);
                s.spawn(move || client(addr, i as u64 + 1, pages, deadline, budget))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let elapsed = t0.elapsed().as_secs_f64();
    let _ = stop_tx.send(());
    if let Err(e) = runtime.block_on(server) {
        eprintln!("load: server task: {e}");
    }

    let mut search: Vec<u32> = tallies.iter().flat_map(|t| t.search_us.clone()).collect();
    let mut pages_us: Vec<u32> = tallies.iter().flat_map(|t| t.page_us.clone()).collect();
    let errors: u64 = tallies.iter().map(|t| t.errors).sum();
    let bytes: u64 = tallies.iter().map(|t| t.bytes).sum();
    let mut all: Vec<u32> = search.iter().chain(&pages_us).copied().collect();
    let ok = all.len();
    println!(
        "{ok} requests in {elapsed:.1} s: {:.0} requests/s, {:.1} MB/s, {errors} errors",
        ok as f64 / elapsed,
        bytes as f64 / elapsed / 1e6
    );
    report("all", &mut all);
    report("search", &mut search);
    report("page", &mut pages_us);
    if let Some(e) = tallies.iter().find_map(|t| t.first_error.as_ref()) {
        println!("first error: {e}");
    }
    if errors > 0 || ok == 0 {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
