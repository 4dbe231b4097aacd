//! One module per subcommand; each exposes `Args` (clap) and `run`.

pub mod analyze;
pub mod atomics;
pub mod catalog;
pub mod check;
pub mod convert;
pub mod coverage;
pub mod filter_args;
pub mod hunt;
pub mod lsp;
pub mod metrics;
pub mod query;
pub mod search;
pub mod serve;
pub mod test;

/// `1 file`, `2 files`: a count with the word that goes with it.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
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
