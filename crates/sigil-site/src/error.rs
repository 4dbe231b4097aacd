//! The one error type of the crate.

use std::path::PathBuf;

/// What can go wrong while publishing or serving a catalog.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// A template failed to render (a bug in a template, never in the data).
    #[error("template {name}: {source}")]
    Template {
        /// The template.
        name: String,
        /// Why.
        #[source]
        source: minijinja::Error,
    },
    /// Writing an output file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A page path that would leave the output folder (never produced by this crate;
    /// checked so that a future bug cannot write outside it).
    #[error("refusing to write outside the output folder: {0}")]
    UnsafePath(String),
    /// Serialising the catalog failed.
    #[error("serialising: {0}")]
    Json(#[from] serde_json::Error),
    /// Building the search index failed.
    #[error("search index: {0}")]
    Search(#[from] tantivy::TantivyError),
    /// The server could not start.
    #[error("server: {0}")]
    Server(std::io::Error),
}
