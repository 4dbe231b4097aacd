//! A cache file of keyed entries that can be decoded one by one, in parallel: the
//! container of [`crate::CheckCache`].
//!
//! Layout: a head line `MAGIC STAMP HASH\n` (the stamp of the build that wrote it, the
//! BLAKE3 hash of the body), then the body: for each entry its 32-byte key, its length
//! as 4 little-endian bytes and its bytes. A file whose head or body fails a check is no
//! cache at all (never half-trusted); writing replaces the whole file through a temporary
//! file and a rename, so a reader never sees half a file.

use std::collections::HashMap;
use std::io::Write;
use std::ops::Range;
use std::path::Path;

use crate::cache::{self, Key};

/// The entries of one cache file, read whole and checked.
#[derive(Debug, Default)]
pub(crate) struct Store {
    bytes: Vec<u8>,
    index: HashMap<Key, Range<usize>>,
}

impl Store {
    /// The store in `file` if it holds `magic`, was written by this build and its body is
    /// whole; `None` otherwise.
    pub(crate) fn read(file: &Path, magic: &str) -> Option<Self> {
        let stamp = cache::stamp()?;
        let bytes = std::fs::read(file).ok()?;
        let newline = bytes.iter().position(|&b| b == b'\n')?;
        let head = std::str::from_utf8(&bytes[..newline]).ok()?;
        let body = newline + 1..bytes.len();
        let mut words = head.split(' ');
        if words.next()? != magic || words.next()? != stamp {
            return None;
        }
        if words.next()? != blake3::hash(&bytes[body.clone()]).to_hex().as_str()
            || words.next().is_some()
        {
            return None;
        }
        let mut index = HashMap::new();
        let mut at = body.start;
        while at < bytes.len() {
            let key: Key = bytes.get(at..at + 32)?.try_into().ok()?;
            let len: [u8; 4] = bytes.get(at + 32..at + 36)?.try_into().ok()?;
            let start = at + 36;
            let end = start.checked_add(u32::from_le_bytes(len) as usize)?;
            if end > bytes.len() {
                return None;
            }
            index.insert(key, start..end);
            at = end;
        }
        cache::mark_used(file);
        Some(Self { bytes, index })
    }

    /// The bytes of the entry `key`.
    pub(crate) fn get(&self, key: &Key) -> Option<&[u8]> {
        self.index.get(key).map(|r| &self.bytes[r.clone()])
    }

    /// How many entries it holds.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }
}

/// Writes `entries` as the whole store `file` under `magic`. A store that cannot be
/// written is no error of the run.
pub(crate) fn write(file: &Path, magic: &str, entries: &[(Key, Vec<u8>)]) {
    let _ = try_write(file, magic, entries);
}

fn try_write(file: &Path, magic: &str, entries: &[(Key, Vec<u8>)]) -> Option<()> {
    let stamp = cache::stamp()?;
    let mut body = Vec::with_capacity(entries.iter().map(|(_, b)| b.len() + 36).sum());
    for (key, bytes) in entries {
        body.extend_from_slice(key);
        body.extend_from_slice(&u32::try_from(bytes.len()).ok()?.to_le_bytes());
        body.extend_from_slice(bytes);
    }
    let head = format!("{magic} {stamp} {}\n", blake3::hash(&body).to_hex());
    cache::replace(file, |out| {
        out.write_all(head.as_bytes())?;
        out.write_all(&body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_a_damaged_store_is_none() {
        let dir = std::env::temp_dir().join(format!("sigil-store-{}", std::process::id()));
        let file = dir.join("check-test.cache");
        let entries = vec![([1u8; 32], b"one".to_vec()), ([2u8; 32], Vec::new())];
        write(&file, "test/1", &entries);
        let store = Store::read(&file, "test/1").expect("the store reads back");
        assert_eq!(store.len(), 2);
        assert_eq!(store.get(&[1u8; 32]), Some(&b"one"[..]));
        assert_eq!(store.get(&[2u8; 32]), Some(&b""[..]));
        assert_eq!(store.get(&[3u8; 32]), None);
        assert!(Store::read(&file, "test/2").is_none(), "another layout");
        let mut bytes = std::fs::read(&file).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&file, &bytes).unwrap();
        assert!(Store::read(&file, "test/1").is_none(), "a damaged body");
        bytes.truncate(last);
        std::fs::write(&file, &bytes).unwrap();
        assert!(Store::read(&file, "test/1").is_none(), "a truncated body");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
