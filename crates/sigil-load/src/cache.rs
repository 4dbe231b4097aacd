//! A cache of rules as the front ends read them, so that a second run over the same rule
//! files skips YAML and TOML parsing and the rule checks.
//!
//! One cache file per set of paths loaded (and which languages are read), under a cache
//! folder (by default the user's: `$XDG_CACHE_HOME/sigil` or `~/.cache/sigil`). It maps
//! the content hash (BLAKE3) of each rule file, with its language, to the rules read from
//! it. Only files read without any diagnostic are kept: everything else is read again
//! each time, so problems are always reported by the front end itself.
//!
//! A cache must never change a result, so an entry is trusted only when
//! - the file's bytes hash to its key (an edited file is a new key; the old entry is
//!   dropped at the next write),
//! - the cache was written by this very build of sigil: its first line holds a stamp of
//!   the running executable (version, path, size and modification time) and any rebuild
//!   or other install is a stranger whose cache is read anew,
//! - the cache's body hashes to the hash in its first line (a damaged or truncated file
//!   is read anew, never half-trusted).
//!
//! Anything else (no cache, a cache that fails one check, a body that does not decode)
//! reads every file with its front end and writes the cache again, whole, through a
//! temporary file and a rename, so a reader never sees half a cache. Writing a cache
//! removes the folder's others that were not written for 30 days.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use sigil_core::Rule;

use crate::{FileKind, Options};

/// The first word of a cache file; a new layout changes its number.
const MAGIC: &str = "sigil-rule-cache/1";

/// Where rule caches are kept.
#[derive(Debug, Clone)]
pub struct RuleCache {
    dir: PathBuf,
}

/// A file's cache key: the hash of its language and its bytes.
pub(crate) type Key = [u8; 32];

impl RuleCache {
    /// A cache in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The user's cache folder for sigil: `$XDG_CACHE_HOME/sigil`, else
    /// `$HOME/.cache/sigil`; `None` when neither is set.
    pub fn user() -> Option<Self> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(".cache"))
            })?;
        Some(Self::new(base.join("sigil")))
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cache file for loading `paths` with `options`.
    pub(crate) fn file_for(&self, paths: &[PathBuf], options: Options) -> PathBuf {
        let mut h = blake3::Hasher::new();
        h.update(&[u8::from(options.sigma), u8::from(options.elastic)]);
        for p in paths {
            let absolute = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            h.update(absolute.as_os_str().as_encoded_bytes());
            h.update(&[0]);
        }
        let name = h.finalize().to_hex();
        self.dir.join(format!("rules-{}.cache", &name[..32]))
    }
}

/// The key of a file of `kind` holding `bytes`.
pub(crate) fn key(kind: FileKind, bytes: &[u8]) -> Key {
    let mut h = blake3::Hasher::new();
    h.update(match kind {
        FileKind::Sigma => b"sigma\0",
        FileKind::Elastic => b"elastic\0",
    });
    h.update(bytes);
    *h.finalize().as_bytes()
}

/// The stamp of the running build: a cache written by another build is not read.
pub(crate) fn stamp() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(&exe).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let mut h = blake3::Hasher::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(&[0]);
    h.update(exe.as_os_str().as_encoded_bytes());
    h.update(&[0]);
    h.update(&meta.len().to_le_bytes());
    h.update(&modified.as_nanos().to_le_bytes());
    Some(h.finalize().to_hex().to_string())
}

/// The entries of a cache file, if it passes every check; an empty map otherwise.
pub(crate) fn read(file: &Path) -> HashMap<Key, Vec<Rule>> {
    try_read(file).unwrap_or_default()
}

fn try_read(file: &Path) -> Option<HashMap<Key, Vec<Rule>>> {
    let stamp = stamp()?;
    let bytes = std::fs::read(file).ok()?;
    let newline = bytes.iter().position(|&b| b == b'\n')?;
    let (head, body) = (
        std::str::from_utf8(&bytes[..newline]).ok()?,
        &bytes[newline + 1..],
    );
    let mut words = head.split(' ');
    if words.next()? != MAGIC || words.next()? != stamp {
        return None;
    }
    if words.next()? != blake3::hash(body).to_hex().as_str() || words.next().is_some() {
        return None;
    }
    let entries: HashMap<String, Vec<Rule>> = serde_json::from_slice(body).ok()?;
    let entries = entries
        .into_iter()
        .map(|(k, rules)| Some((parse_key(&k)?, rules)))
        .collect();
    mark_used(file);
    entries
}

/// Sets a cache's modification time to now when it is older than a day, so that a cache
/// read every day but never rewritten is not taken for unused (see [`prune`]).
pub(crate) fn mark_used(file: &Path) {
    let day = std::time::Duration::from_hours(24);
    let Ok(handle) = std::fs::OpenOptions::new().append(true).open(file) else {
        return;
    };
    let stale = handle
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > day);
    if stale {
        let _ = handle.set_modified(std::time::SystemTime::now());
    }
}

fn parse_key(hex: &str) -> Option<Key> {
    let mut key = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(key)
}

fn hex(key: &Key) -> String {
    use std::fmt::Write as _;
    key.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Writes `entries` (a file's key and its rules) as the whole cache `file`. A cache that
/// cannot be written is no error of the run: the rules were read all the same.
pub(crate) fn write(file: &Path, entries: &[(Key, Vec<&Rule>)]) {
    let _ = try_write(file, entries);
}

fn try_write(file: &Path, entries: &[(Key, Vec<&Rule>)]) -> Option<()> {
    let stamp = stamp()?;
    let map: HashMap<String, &Vec<&Rule>> = entries.iter().map(|(k, r)| (hex(k), r)).collect();
    let body = serde_json::to_vec(&map).ok()?;
    replace(file, |out| {
        writeln!(out, "{MAGIC} {stamp} {}", blake3::hash(&body).to_hex())?;
        out.write_all(&body)
    })
}

/// Writes `file` whole with `write` through a temporary file and a rename, so that a
/// reader never sees half a cache, then prunes the folder's unused caches.
pub(crate) fn replace(
    file: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Option<()> {
    let dir = file.parent()?;
    std::fs::create_dir_all(dir).ok()?;
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        file.file_name()?.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut out = std::fs::File::create(&temp).ok()?;
        write(&mut out).ok()?;
        out.sync_all().ok()?;
        std::fs::rename(&temp, file).ok()
    })();
    if written.is_none() {
        let _ = std::fs::remove_file(&temp);
    }
    prune(dir, file);
    written
}

/// Caches not written for this long are removed when another is written: each set of
/// rule paths has its own, and paths (temporary folders, old checkouts) come and go.
const UNUSED_FOR: std::time::Duration = std::time::Duration::from_hours(30 * 24);

/// Removes the cache files of `dir` (`rules-*.cache`, `check-*.cache`) other than `keep`
/// that were not written for [`UNUSED_FOR`].
fn prune(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_cache = path.extension().is_some_and(|e| e == "cache")
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("rules-") || n.starts_with("check-"));
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > UNUSED_FOR);
        if is_cache && old && path != keep {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_hex() {
        let k = key(FileKind::Sigma, b"title: x\n");
        assert_eq!(parse_key(&hex(&k)), Some(k));
        assert_ne!(k, key(FileKind::Elastic, b"title: x\n"));
        assert_eq!(parse_key("zz"), None);
    }
}
