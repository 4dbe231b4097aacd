//! A rendered site held in memory: the CLI writes it to a folder, the server answers from
//! it. Paths are checked when files are added, so neither can reach outside the site.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use std::path::{Path, PathBuf};

use crate::error::SiteError;
use crate::paths::is_safe_relative;
use crate::publication::Publication;
use crate::render;

/// Every file of a published catalog, by relative path (`/`-separated).
#[derive(Debug, Default, Clone)]
pub struct Site {
    files: BTreeMap<String, Vec<u8>>,
}

/// What to publish.
#[derive(Debug, Clone, Copy)]
pub struct SiteOptions {
    /// The HTML site at the root.
    pub html: bool,
    /// The Markdown pages under `markdown/`.
    pub markdown: bool,
}

impl Default for SiteOptions {
    fn default() -> Self {
        Self {
            html: true,
            markdown: true,
        }
    }
}

impl Site {
    /// Renders the publication.
    pub fn build(p: &Publication, options: SiteOptions) -> Result<Self, SiteError> {
        let mut site = Site::default();
        for (path, bytes) in render::pages(p, options.html, options.markdown)? {
            site.insert(path, bytes)?;
        }
        Ok(site)
    }

    /// Adds a file; refuses a path that could leave the site folder.
    pub fn insert(&mut self, path: String, bytes: Vec<u8>) -> Result<(), SiteError> {
        if !is_safe_relative(&path) {
            return Err(SiteError::UnsafePath(path));
        }
        self.files.insert(path, bytes);
        Ok(())
    }

    /// A file by relative path.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there is no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The paths, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Total size in bytes.
    pub fn bytes(&self) -> usize {
        self.files.values().map(Vec::len).sum()
    }

    /// Writes every file under `out` (created if missing): the folders first, once each,
    /// then the files in parallel, each with one write.
    pub fn write_to(&self, out: &Path) -> Result<(), SiteError> {
        let io = |path: PathBuf| move |source| SiteError::Io { path, source };
        // Checked again here: `insert` is the only way in, but writing is where an escape
        // would do harm.
        if let Some(rel) = self.files.keys().find(|rel| !is_safe_relative(rel)) {
            return Err(SiteError::UnsafePath(rel.clone()));
        }
        std::fs::create_dir_all(out).map_err(io(out.to_path_buf()))?;
        let folders: BTreeSet<&str> = self
            .files
            .keys()
            .filter_map(|rel| rel.rsplit_once('/').map(|(dir, _)| dir))
            .collect();
        for dir in folders {
            let path = out.join(dir);
            std::fs::create_dir_all(&path).map_err(io(path.clone()))?;
        }
        let files: Vec<(&String, &Vec<u8>)> = self.files.iter().collect();
        files.par_iter().try_for_each(|(rel, bytes)| {
            let path = out.join(rel);
            std::fs::write(&path, bytes).map_err(io(path.clone()))
        })
    }
}
