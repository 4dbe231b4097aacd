//! Shared set-up of the integration tests: the fixture corpus, published.

// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sigil_catalog::{BuildOptions, build, load};
use sigil_site::Publication;
use sigil_site::server::AppState;

/// The crate's fixture folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The fixture corpus plus the hostile rule, published.
pub fn publication() -> Publication {
    let corpus =
        load(&[fixtures().join("corpus"), fixtures().join("xss")]).expect("fixture corpus loads");
    Publication::new(build(corpus, BuildOptions::default()))
}

/// The server state of [`publication`].
pub fn state() -> Arc<AppState> {
    Arc::new(AppState::new(publication()).expect("site renders"))
}

/// `../shared` next to the repository, when present.
#[allow(dead_code)]
pub fn shared_corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    p.is_dir().then_some(p)
}
