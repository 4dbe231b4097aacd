//! `sigil check PATH...`

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `sigil check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rule files or folders (searched recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Runs the check.
pub fn run(_args: &Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("check is being written")
}
