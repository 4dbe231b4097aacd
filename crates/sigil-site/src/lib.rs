//! Publishing a sigil catalog: Markdown pages for a rule repository's wiki, a static HTML
//! site that works from `file://` or any static server, and `sigil serve`'s HTTP server
//! with ranked full-text search and a JSON API.
//!
//! ```no_run
//! use sigil_catalog::{BuildOptions, build, load};
//! use sigil_site::{Publication, Site, SiteOptions};
//!
//! let corpus = load(&["../shared/corpus".into()]).expect("the corpus folder exists");
//! let publication = Publication::new(build(corpus, BuildOptions::default()));
//! let site = Site::build(&publication, SiteOptions::default()).expect("templates render");
//! site.write_to("out".as_ref()).expect("the folder is writable");
//! ```
//!
//! The stages: [`Publication`] adds to the analysed [`sigil_catalog::Catalog`] what only
//! pages need (conversions to every target, indicator sharing); [`render`] turns it into
//! files with `minijinja` templates (HTML auto-escaped); [`Site`] holds the files, writes
//! them, or hands them to the [`server`], which adds [`search`] and the API. [`report`]
//! writes the one-page report of a hunt.
//!
//! Rules come from anywhere, so everything they say is data: HTML is escaped by the
//! template engine, Markdown by [`render::md_inline`], file names are rebuilt by
//! [`paths::file_name`], and no page path may leave the site ([`paths::is_safe_relative`]).

mod browser_index;
pub mod convert;
mod error;
pub mod export;
pub mod highlight;
mod markdown;
pub mod paths;
mod publication;
pub mod render;
pub mod report;
pub mod search;
pub mod server;
mod site;

pub use error::SiteError;
pub use export::CatalogExport;
pub use publication::Publication;
pub use site::{Site, SiteOptions, Written};
