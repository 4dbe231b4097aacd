//! The catalog: a detection corpus loaded, analysed and linked, as one serialisable value.
//!
//! Detection engineers want to understand a rule at a glance and a corpus as a whole:
//! what a rule really looks for, what it deliberately leaves out, which of its indicators
//! many rules share and which are its own, which rules are its neighbours, which ATT&CK
//! techniques are covered and which attacks nothing catches. This crate computes all of
//! that from sigil's IR, so it holds for Sigma and Elastic rules alike.
//!
//! ```no_run
//! use sigil_catalog::{BuildOptions, build, load};
//!
//! let corpus = load(&["../shared/corpus".into()]).expect("the corpus folder exists");
//! let catalog = build(corpus, BuildOptions::default());
//! for rule in &catalog.rules {
//!     println!("{} {} indicators", rule.title, rule.analysis.indicators.len());
//! }
//! ```
//!
//! The stages:
//!
//! 1. [`load`] reads folders, recognising each file by content ([`load`](mod@load)):
//!    Sigma and Elastic rules, Atomic Red Team tests, ATT&CK STIX objects. Bad files are
//!    [`Problem`]s, never failures.
//! 2. [`build`] analyses each rule in parallel ([`analyze`](mod@analyze): stages,
//!    exclusions, indicators, ATT&CK, data needed), then does what needs the whole corpus:
//!    indicator counts ([`indicator`] defines the normalisation), related rules,
//!    technique coverage, and the atomic linkage ([`linkage`], [`telemetry`]): every rule,
//!    compiled once by `sigil-engine`, over the simulated telemetry of every Windows test.
//! 3. The result, [`Catalog`] ([`model`]), is what reports ([`report`]), Navigator layers
//!    ([`navigator`]) and the published site are made from.

pub mod analyze;
pub mod atomic;
pub mod attack;
mod build;
mod error;
pub mod indicator;
pub mod linkage;
pub mod load;
pub mod model;
pub mod navigator;
pub mod report;
pub mod telemetry;

pub use build::{BuildOptions, build};
pub use error::CatalogError;
pub use load::{Corpus, LoadedRule, load};
pub use model::*;
