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
//!   dropped at the next write), or the file is known unchanged by its metadata: the
//!   cache records, for each file it holds, the path, device, inode, size, and
//!   modification and status-change times (in nanoseconds) seen before the file was read,
//!   and a file whose metadata are all the same is not read again, as git's index does.
//!   Any write to a file sets its status-change time, which no one can set back. A file
//!   changed within [`RACY`] of the moment the cache's run began is "racily clean" (a
//!   second write in the same tick of a coarse file-system clock would leave the times
//!   unchanged) and is read and hashed anyway,
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
const MAGIC: &str = "sigil-rule-cache/2";

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

/// What a file was when it was looked at: enough to tell, without reading it, that it has
/// not changed since.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Seen {
    dev: u64,
    ino: u64,
    len: u64,
    /// Modification time, nanoseconds since the epoch.
    mtime: i64,
    /// Status-change time, nanoseconds since the epoch.
    ctime: i64,
}

/// Files changed less than this long before a cache's run began are read and hashed
/// anyway: file-system clocks tick coarsely (up to 2 s on FAT), so a file written twice in
/// one tick keeps its times.
pub(crate) const RACY: std::time::Duration = std::time::Duration::from_secs(2);

/// What `path` is now (`None` where that cannot be told: the file is then read).
#[cfg(unix)]
pub(crate) fn seen(path: &Path) -> Option<Seen> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    let ns = |secs: i64, nanos: i64| secs.checked_mul(1_000_000_000)?.checked_add(nanos);
    Some(Seen {
        dev: m.dev(),
        ino: m.ino(),
        len: m.len(),
        mtime: ns(m.mtime(), m.mtime_nsec())?,
        ctime: ns(m.ctime(), m.ctime_nsec())?,
    })
}

/// What `path` is now (`None` where that cannot be told: the file is then read).
#[cfg(not(unix))]
pub(crate) fn seen(_path: &Path) -> Option<Seen> {
    None
}

/// Now, in nanoseconds since the epoch: the start of a run, recorded in the cache it
/// writes.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_nanos()).ok())
        .unwrap_or(0)
}

/// One file the cache holds: where it is, what it was, its key.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct FileEntry {
    path: String,
    seen: Seen,
    key: String,
}

/// The body of a cache file as written.
#[derive(serde::Serialize)]
struct BodyOut<'a> {
    /// When the run that wrote it began (nanoseconds since the epoch).
    began: i64,
    files: Vec<FileEntry>,
    rules: HashMap<String, &'a Vec<&'a Rule>>,
}

/// The body of a cache file as read.
#[derive(serde::Deserialize)]
struct BodyIn {
    began: i64,
    files: Vec<FileEntry>,
    rules: HashMap<String, Vec<Rule>>,
}

/// What a cache file holds.
#[derive(Debug, Default)]
pub(crate) struct Cached {
    /// Each file's rules, by key.
    pub(crate) rules: HashMap<Key, Vec<Rule>>,
    /// Files known unchanged by their metadata: path → (what it was, key).
    unchanged: HashMap<PathBuf, (Seen, Key)>,
}

impl Cached {
    /// The key of the file at `path`, when `now` (what it is) says it is unchanged since
    /// the cache was written.
    pub(crate) fn unchanged(&self, path: &Path, now: Option<&Seen>) -> Option<Key> {
        let (was, key) = self.unchanged.get(path)?;
        (Some(was) == now).then_some(*key)
    }

    /// How many files the cache knows by their metadata.
    pub(crate) fn known(&self) -> usize {
        self.unchanged.len()
    }
}

/// The entries of a cache file, if it passes every check; nothing otherwise.
pub(crate) fn read(file: &Path) -> Cached {
    try_read(file).unwrap_or_default()
}

fn try_read(file: &Path) -> Option<Cached> {
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
    let body: BodyIn = serde_json::from_slice(body).ok()?;
    let rules = body
        .rules
        .into_iter()
        .map(|(k, rules)| Some((parse_key(&k)?, rules)))
        .collect::<Option<_>>()?;
    // Only files whose times lie well before the run that wrote the cache began.
    let settled = body.began.saturating_sub(RACY.as_nanos() as i64);
    let unchanged = body
        .files
        .into_iter()
        .filter(|f| f.seen.mtime < settled && f.seen.ctime < settled)
        .map(|f| Some((PathBuf::from(f.path), (f.seen, parse_key(&f.key)?))))
        .collect::<Option<_>>()?;
    mark_used(file);
    Some(Cached { rules, unchanged })
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

/// One file to write into a cache: its key and rules, and where it is and what it was
/// (before it was read) when both are known.
pub(crate) struct Entry<'a> {
    pub(crate) key: Key,
    pub(crate) rules: Vec<&'a Rule>,
    pub(crate) file: Option<(&'a Path, Seen)>,
}

/// Writes `entries` as the whole cache `file`, for a run that began at `began`. A cache
/// that cannot be written is no error of the run: the rules were read all the same.
pub(crate) fn write(file: &Path, began: i64, entries: &[Entry<'_>]) {
    let _ = try_write(file, began, entries);
}

fn try_write(file: &Path, began: i64, entries: &[Entry<'_>]) -> Option<()> {
    let stamp = stamp()?;
    let body = BodyOut {
        began,
        files: entries
            .iter()
            .filter_map(|e| {
                let (path, seen) = e.file?;
                Some(FileEntry {
                    path: path.to_str()?.to_string(),
                    seen,
                    key: hex(&e.key),
                })
            })
            .collect(),
        rules: entries.iter().map(|e| (hex(&e.key), &e.rules)).collect(),
    };
    let body = serde_json::to_vec(&body).ok()?;
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
