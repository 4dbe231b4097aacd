//! The language server of sigil (`sigil lsp`): what `sigil check` says, where the rule is
//! written, as the author types.
//!
//! For Sigma YAML and Elastic TOML documents it publishes every parse error and lint with
//! its exact range, severity and code, and for Sigma it completes modifiers (only those that
//! keep the chain valid), field names of the rule's logsource, logsource values, `status`,
//! `level`, ATT&CK tags and the searches and selectors of a condition; hovers show a
//! modifier's meaning, an ATT&CK tag's name and tactics, a field's name in each built-in
//! pipeline and the rule converted for a target; go to definition leads from a condition to
//! its searches and from `related` / correlation references to the rule in the workspace;
//! code actions apply the fixes of the lint layer (`sigil_sigma::lint::fix`).
//!
//! The parsing, checks, pipelines and conversion are the other crates'; this crate only
//! places their answers in the document:
//!
//! - [`transport`]: the base protocol, robust to malformed frames;
//! - [`server`]: the state (open documents, workspace index) and the answer to each message;
//! - [`document`]: an open document read and checked;
//! - [`outline`]: which keys enclose a place, read from indentation (typing breaks YAML);
//! - [`complete`], [`hover`], [`navigate`]: the features; [`knowledge`]: logsource values,
//!   fields and their mappings, ATT&CK names;
//! - [`text`]: byte offsets and protocol positions (UTF-8 or UTF-16).

pub mod complete;
pub mod document;
pub mod hover;
pub mod knowledge;
pub mod navigate;
pub mod outline;
pub mod server;
pub mod text;
pub mod transport;

use std::io::{self, BufReader, Write};

pub use server::Server;
use transport::Incoming;

/// Serves one client on standard input and output until it says `exit` or closes the
/// stream. Returns whether the client asked for `shutdown` before exiting (the protocol's
/// exit code 0 rather than 1).
pub fn run() -> io::Result<bool> {
    let stdin = io::stdin();
    let mut input = BufReader::new(stdin.lock());
    let stdout = io::stdout();
    let mut output = io::BufWriter::new(stdout.lock());
    serve(&mut input, &mut output)
}

/// [`run`] over any streams.
pub fn serve(input: &mut impl io::BufRead, output: &mut impl Write) -> io::Result<bool> {
    let mut server = Server::new();
    loop {
        let replies = match transport::read(input)? {
            Incoming::End => break,
            Incoming::Invalid(why) => {
                transport::write_parse_error(output, &why)?;
                vec![server::log(1, &format!("sigil: {why}"))]
            }
            Incoming::Message { message, lossy } => {
                let mut out = Vec::new();
                if lossy {
                    out.push(server::log(
                        2,
                        "sigil: a message was not UTF-8; its invalid bytes were read as U+FFFD",
                    ));
                }
                out.extend(server.handle(message));
                out
            }
        };
        for reply in &replies {
            transport::write(output, reply)?;
        }
        output.flush()?;
        if server.exited() {
            break;
        }
    }
    Ok(server.shut_down())
}
