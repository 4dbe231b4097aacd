//! A rendered site held in memory: the CLI writes it to a folder, the server answers from
//! it. Paths are checked when files are added, so neither can reach outside the site.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

use crate::error::SiteError;
use crate::paths::is_safe_relative;
use crate::publication::Publication;
use crate::render;

/// Every file of a published catalog, by relative path (`/`-separated). Contents are
/// shared buffers, so the server answers with a file without copying it.
#[derive(Debug, Default, Clone)]
pub struct Site {
    files: BTreeMap<String, Bytes>,
}

/// What [`Site::publish`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// How many files.
    pub files: usize,
    /// Their total size in bytes.
    pub bytes: usize,
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

    /// Renders the publication straight into the folder `out` (created if missing), each
    /// file written as soon as it is rendered: the site is never held whole, so memory
    /// stays that of the catalog plus the pages in flight. Writes the same files as
    /// [`Site::build`] followed by [`Site::write_to`].
    pub fn publish(
        p: &Publication,
        options: SiteOptions,
        out: &Path,
    ) -> Result<Written, SiteError> {
        std::fs::create_dir_all(out).map_err(|source| SiteError::Io {
            path: out.to_path_buf(),
            source,
        })?;
        let folders: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
        let files = AtomicUsize::new(0);
        let bytes = AtomicUsize::new(0);
        render::pages_into(p, options.html, options.markdown, &|rel, content| {
            if !is_safe_relative(&rel) {
                return Err(SiteError::UnsafePath(rel));
            }
            if let Some((dir, _)) = rel.rsplit_once('/') {
                // Created under the lock, so that no file of the folder is written first.
                let mut made = folders
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if !made.contains(dir) {
                    let path = out.join(dir);
                    std::fs::create_dir_all(&path)
                        .map_err(|source| SiteError::Io { path, source })?;
                    made.insert(dir.to_string());
                }
            }
            let path = out.join(&rel);
            std::fs::write(&path, &content).map_err(|source| SiteError::Io { path, source })?;
            files.fetch_add(1, Ordering::Relaxed);
            bytes.fetch_add(content.len(), Ordering::Relaxed);
            Ok(())
        })?;
        Ok(Written {
            files: files.into_inner(),
            bytes: bytes.into_inner(),
        })
    }

    /// Adds a file; refuses a path that could leave the site folder.
    pub fn insert(&mut self, path: String, bytes: Vec<u8>) -> Result<(), SiteError> {
        if !is_safe_relative(&path) {
            return Err(SiteError::UnsafePath(path));
        }
        self.files.insert(path, Bytes::from(bytes));
        Ok(())
    }

    /// A file by relative path.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|b| &b[..])
    }

    /// A file by relative path, as a shared buffer (no copy).
    pub fn get_shared(&self, path: &str) -> Option<Bytes> {
        self.files.get(path).cloned()
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
        self.files.values().map(Bytes::len).sum()
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
        let files: Vec<(&String, &Bytes)> = self.files.iter().collect();
        files.par_iter().try_for_each(|(rel, bytes)| {
            let path = out.join(rel);
            std::fs::write(&path, bytes).map_err(io(path.clone()))
        })
    }
}
