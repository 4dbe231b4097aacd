//! One module per subcommand; each exposes `Args` (clap) and `run`.

pub mod analyze;
pub mod atomics;
pub mod catalog;
pub mod check;
pub mod convert;
pub mod coverage;
pub mod hunt;
pub mod query;
pub mod serve;
