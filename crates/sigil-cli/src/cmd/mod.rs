//! One module per subcommand; each exposes `Args` (clap) and `run`.

pub mod analyze;
pub mod atomics;
pub mod catalog;
pub mod check;
pub mod convert;
pub mod coverage;
pub mod export;
pub mod filter_args;
pub mod hunt;
pub mod lsp;
pub mod metrics;
pub mod query;
pub mod search;
pub mod serve;
pub mod test;
pub mod thread_times;
pub mod watch;

/// `1 file`, `2 files`: a count with the word that goes with it.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The paths, comma-separated, for messages.
pub fn join_paths(paths: &[std::path::PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The worker pool of a log-reading command: `--threads` (capped) or one per core.
pub fn worker_pool(threads: Option<usize>) -> anyhow::Result<rayon::ThreadPool> {
    use anyhow::Context as _;
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        anyhow::ensure!(n > 0, "--threads must be at least 1");
        pool = pool.num_threads(capped_threads(n));
    }
    pool.build().context("cannot start worker threads")
}

/// The counts of a log-reading command's summary: `N files, N events (N records and N
/// chunks skipped, N read errors)`, and what the time window left out.
pub fn print_read_counts(files: usize, stats: &sigil_logs::FileStats, errors: usize) {
    eprintln!(
        "{}, {} ({} and {} skipped, {})",
        count(files, "file", "files"),
        count(stats.events as usize, "event", "events"),
        count(stats.skipped_records as usize, "record", "records"),
        count(stats.skipped_chunks as usize, "chunk", "chunks"),
        count(errors, "read error", "read errors"),
    );
    print_window_counts(stats);
}

/// What the time window left out, when it left out anything.
pub fn print_window_counts(stats: &sigil_logs::FileStats) {
    if stats.outside_window > 0 || stats.chunks_outside_window > 0 {
        eprintln!(
            "{} outside the time window, and {} not read for it",
            count(stats.outside_window as usize, "event", "events"),
            count(stats.chunks_outside_window as usize, "chunk", "chunks"),
        );
    }
}

/// Worker threads beyond a few per core only cost memory and start-up time: a request for
/// more is capped at four per core, with a note.
pub fn capped_threads(requested: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let cap = cores * 4;
    if requested > cap {
        eprintln!("note: --threads {requested} capped at {cap} (four per core)");
        cap
    } else {
        requested
    }
}

/// From here on, memory in 4 KiB pages. The allocator asks Linux for transparent huge
/// pages (2 MiB), and `hunt` keeps them while it loads and compiles the rules: some 80 MB
/// built once and kept to the end, whose first touches in 4 KiB pages cost the kernel
/// about a fifth of start-up in page faults (BENCHMARKS.md, "Start-up: huge pages for the
/// rule set"). Memory allocated later (the hunt's buffers, every other command, which run
/// long or hold much: the catalog, the server, `watch`) is better served by small pages:
/// huge ones there cost more resident memory and, on a busy machine, the kernel's time to
/// find and clear them.
pub fn small_pages() {
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}
