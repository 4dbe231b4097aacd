//! `sigil lsp`: the language server on standard input and output (`sigil_lsp`).

use std::process::ExitCode;

/// Arguments of `sigil lsp`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Talk over standard input and output (the only transport; accepted because editors
    /// pass it).
    #[arg(long)]
    pub stdio: bool,
}

/// Serves one editor until it exits: 0 after `shutdown` then `exit`, 1 when the stream
/// ends or the client exits without `shutdown` (as the protocol asks).
pub fn run(_args: &Args) -> anyhow::Result<ExitCode> {
    let shut_down = sigil_lsp::run()?;
    Ok(if shut_down {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
