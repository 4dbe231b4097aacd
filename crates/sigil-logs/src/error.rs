//! The error type of this crate.

use std::path::PathBuf;

/// Why an input could not be read at all. Problems inside a readable file (a corrupt chunk, a
/// broken line) are not errors of this kind: they are counted in [`crate::FileStats`] and
/// the rest of the file is read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The file or folder could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The input.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is neither an EVTX file nor JSON.
    #[error("{}: not a log file (neither EVTX nor JSON)", path.display())]
    NotALog {
        /// The input.
        path: PathBuf,
    },
    /// The file is named like an EVTX file but does not start with the EVTX signature.
    #[error("{}: not an EVTX file (no \"ElfFile\" signature)", path.display())]
    NotEvtx {
        /// The input.
        path: PathBuf,
    },
    /// The file is named like a JSON log but holds no JSON object.
    #[error("{}: not a JSON log (it does not start with '{{' or '[')", path.display())]
    NotJson {
        /// The input.
        path: PathBuf,
    },
}

impl LogError {
    /// The input the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            LogError::Io { path, .. }
            | LogError::NotALog { path }
            | LogError::NotEvtx { path }
            | LogError::NotJson { path } => path,
        }
    }
}

/// Formats an error with its chain of causes on one line (`a: b: c`): the `evtx` crate puts
/// the useful detail in the sources.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}
