//! The errors of the catalog crate. Problems inside a corpus (a broken rule, an
//! unreadable file) are not errors: they are [`crate::Problem`]s and loading goes on.

use std::path::PathBuf;

/// Why a catalog operation could not be done at all.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A path given by the user does not exist or cannot be read.
    #[error("{path}: {source}")]
    Path {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The rule file to analyse holds no rule sigil could read.
    #[error("{path}: no rule could be read from this file{detail}")]
    NoRule {
        /// The file.
        path: PathBuf,
        /// The first problem, as `: message`, or empty.
        detail: String,
    },
    /// Writing an output failed.
    #[error("cannot serialise: {0}")]
    Serialise(#[from] serde_json::Error),
}
