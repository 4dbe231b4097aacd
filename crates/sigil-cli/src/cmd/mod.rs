//! One module per subcommand; each exposes `Args` (clap) and `run`.

pub mod catalog;
pub mod check;
pub mod convert;
pub mod hunt;
pub mod query;
