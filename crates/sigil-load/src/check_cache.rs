//! A cache of what `sigil check` finds in each file by itself, so that a second check of
//! the same files reads neither YAML nor TOML and runs no per-file check again; and of
//! what the checks across the set (duplicate ids, references) found, keyed by the keys of
//! every file checked, in order: when the set is the same, each file's diagnostics and
//! rule count are all a check reads back (its [`Summary`]); when it is not, the files'
//! rules are read back whole and the set checks run over them.
//!
//! Each file's entry holds its summary (4 bytes of length, then JSON) and then its whole
//! outcome (JSON), so that the summary is read without the rules.
//!
//! One cache file per set of paths and choice of checks, next to the rule caches (see
//! [`RuleCache`]). An entry is keyed by the file's path, whether it was named on the
//! command line, the checks chosen and the file's bytes, and holds the file's rules,
//! where their metadata was written and its diagnostics (or that it is not a rule). A
//! file is cached only when its outcome reads back from the entry equal, field by field,
//! to what the front end and the checks found; the container ([`crate::store`]) is
//! trusted only when written by this very build and whole.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sigil_core::{Diagnostic, Rule, Severity, Span};
use sigil_sigma::{RuleSource, SigmaFile};

use crate::RuleCache;
use crate::cache::Key;
use crate::store::{self, Store};

/// The first word of a check cache; a new layout changes its number.
const MAGIC: &str = "sigil-check-cache/1";

/// The per-file outcomes of earlier checks of a set of paths with one choice of checks.
#[derive(Debug)]
pub struct CheckCache {
    file: PathBuf,
    selection: Key,
    store: Store,
}

/// The key of one file's outcome (see [`CheckCache::key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CheckKey(Key);

/// What the cache holds for one file.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckOutcome {
    /// A YAML file found in a folder that is not meant as a rule (passed over).
    NotRule,
    /// The file's rules, where their metadata was written and its diagnostics.
    File(SigmaFile),
}

/// What a check reports of one file without the set checks: whether it is a rule file,
/// how many rules it holds, its diagnostics.
#[derive(Debug, Clone, PartialEq)]
pub enum Summary {
    /// A YAML file found in a folder that is not meant as a rule (passed over).
    NotRule,
    /// A rule file.
    File {
        /// How many rules it holds.
        rules: usize,
        /// Its diagnostics, in the order the front end and the checks found them.
        diagnostics: Vec<Diagnostic>,
    },
}

/// One file's outcome, to be written with [`CheckCache::save`]: encoded anew, or the
/// entry the cache holds.
#[derive(Debug)]
pub struct CheckEntry {
    key: CheckKey,
    /// `None`: the cache's own entry for the key.
    bytes: Option<Vec<u8>>,
}

impl RuleCache {
    /// The check cache for checking `paths` with the checks `selection` stands for (any
    /// bytes that tell one choice of checks from another: the pySigma configuration's
    /// text, a name for the defaults). Empty when there is none yet or it fails a check.
    pub fn checks(&self, paths: &[PathBuf], selection: &[u8]) -> CheckCache {
        let selection = *blake3::hash(selection).as_bytes();
        let mut h = blake3::Hasher::new();
        h.update(b"check\0");
        h.update(&selection);
        for p in paths {
            let absolute = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            h.update(absolute.as_os_str().as_encoded_bytes());
            h.update(&[0]);
        }
        let name = h.finalize().to_hex();
        let file = self.dir().join(format!("check-{}.cache", &name[..32]));
        let store = Store::read(&file, MAGIC).unwrap_or_default();
        CheckCache {
            file,
            selection,
            store,
        }
    }
}

impl CheckCache {
    /// The key of the file at `path` holding `bytes`; `named`: the path was given as
    /// such (a file found in a folder may be passed over as not a rule).
    pub fn key(&self, path: &Path, named: bool, bytes: &[u8]) -> CheckKey {
        let mut h = blake3::Hasher::new();
        h.update(&self.selection);
        h.update(&[u8::from(named)]);
        h.update(path.as_os_str().as_encoded_bytes());
        h.update(&[0]);
        h.update(bytes);
        CheckKey(*h.finalize().as_bytes())
    }

    /// The outcome cached for `key`, if there is a usable entry.
    pub fn get(&self, key: CheckKey) -> Option<CheckOutcome> {
        let (_, whole) = split(self.store.get(&key.0)?)?;
        decode(whole)
    }

    /// The summary of the outcome cached for `key`, if there is a usable entry.
    pub fn summary(&self, key: CheckKey) -> Option<Summary> {
        let (summary, _) = split(self.store.get(&key.0)?)?;
        decode_summary(summary)
    }

    /// `outcome` encoded for `key` (`None`: a file that is not a rule), or `None` when it
    /// or its summary would not read back exactly as it is (it is then not cached).
    pub fn entry(key: CheckKey, outcome: Option<&SigmaFile>) -> Option<CheckEntry> {
        let whole = encode(outcome)?;
        let summary = match outcome {
            None => Summary::NotRule,
            Some(file) => Summary::File {
                rules: file.rules.len(),
                diagnostics: file.diagnostics.clone(),
            },
        };
        let short = serde_json::to_vec(&SummaryOut::of(&summary)).ok()?;
        let same = match (decode(&whole)?, outcome) {
            (CheckOutcome::NotRule, None) => true,
            (CheckOutcome::File(back), Some(file)) => back == *file,
            _ => false,
        };
        if !same || decode_summary(&short)? != summary {
            return None;
        }
        let mut bytes = Vec::with_capacity(4 + short.len() + whole.len());
        bytes.extend_from_slice(&u32::try_from(short.len()).ok()?.to_le_bytes());
        bytes.extend_from_slice(&short);
        bytes.extend_from_slice(&whole);
        Some(CheckEntry {
            key,
            bytes: Some(bytes),
        })
    }

    /// The key of the set checks' findings over the files of `keys`, in order.
    pub fn set_key(keys: &[CheckKey]) -> CheckKey {
        let mut h = blake3::Hasher::new();
        h.update(b"set\0");
        for k in keys {
            h.update(&k.0);
        }
        CheckKey(*h.finalize().as_bytes())
    }

    /// The set checks' findings cached for `key` (see [`CheckCache::set_key`]): for each,
    /// the index of the file (among the rule files, in order) and the diagnostic.
    pub fn set_findings(&self, key: CheckKey) -> Option<Vec<(usize, Diagnostic)>> {
        let stored: Vec<(usize, Diag)> = serde_json::from_slice(self.store.get(&key.0)?).ok()?;
        stored
            .into_iter()
            .map(|(i, d)| Some((i, d.into_diagnostic()?)))
            .collect()
    }

    /// `findings` of the set checks encoded for `key`, or `None` when they would not read
    /// back exactly as they are.
    pub fn set_entry(key: CheckKey, findings: &[(usize, Diagnostic)]) -> Option<CheckEntry> {
        let stored: Vec<(usize, Diag)> = findings.iter().map(|(i, d)| (*i, Diag::of(d))).collect();
        let bytes = serde_json::to_vec(&stored).ok()?;
        let back: Vec<(usize, Diag)> = serde_json::from_slice(&bytes).ok()?;
        let back: Vec<(usize, Diagnostic)> = back
            .into_iter()
            .map(|(i, d)| Some((i, d.into_diagnostic()?)))
            .collect::<Option<_>>()?;
        (back == findings).then_some(CheckEntry {
            key,
            bytes: Some(bytes),
        })
    }

    /// The entry the cache holds for `key` (whose outcome [`CheckCache::get`] gave), to be
    /// kept.
    pub fn kept(key: CheckKey) -> CheckEntry {
        CheckEntry { key, bytes: None }
    }

    /// Writes the cache anew from `entries` (every cacheable outcome of this run) unless
    /// they are all kept and are all the cache holds.
    pub fn save(&self, entries: Vec<CheckEntry>) {
        let kept = entries.iter().all(|e| e.bytes.is_none());
        if kept && entries.len() == self.store.len() {
            return;
        }
        let entries: Vec<(Key, Vec<u8>)> = entries
            .into_iter()
            .filter_map(|e| {
                let bytes = match e.bytes {
                    Some(bytes) => bytes,
                    None => self.store.get(&e.key.0)?.to_vec(),
                };
                Some((e.key.0, bytes))
            })
            .collect();
        store::write(&self.file, MAGIC, &entries);
    }
}

/// A file's outcome as stored.
#[derive(Serialize, Deserialize)]
enum Entry {
    NotRule,
    File {
        rules: Vec<Rule>,
        sources: Vec<Source>,
        diagnostics: Vec<Diag>,
    },
}

/// A [`RuleSource`] as stored.
#[derive(Serialize, Deserialize)]
struct Source {
    span: Span,
    keys: BTreeMap<String, Span>,
    values: BTreeMap<String, (Span, String)>,
    tag_spans: Vec<Span>,
    path: Option<PathBuf>,
}

/// A [`Diagnostic`] as stored: its code by name.
#[derive(Serialize, Deserialize)]
struct Diag {
    severity: Severity,
    code: String,
    message: String,
    span: Span,
}

impl Diag {
    fn of(d: &Diagnostic) -> Self {
        // Destructured whole, so that a new field cannot be left out of the cache.
        let Diagnostic {
            severity,
            code,
            message,
            span,
        } = d;
        Self {
            severity: *severity,
            code: (*code).to_string(),
            message: message.clone(),
            span: *span,
        }
    }

    fn into_diagnostic(self) -> Option<Diagnostic> {
        // Codes are static names; one that no check declares is not read back.
        let code = sigil_sigma::lint::by_code(&self.code)?.info().code;
        Some(Diagnostic {
            severity: self.severity,
            code,
            message: self.message,
            span: self.span,
        })
    }
}

/// A [`Summary`] as stored.
#[derive(Serialize, Deserialize)]
enum SummaryOut {
    NotRule,
    File {
        rules: usize,
        diagnostics: Vec<Diag>,
    },
}

impl SummaryOut {
    fn of(summary: &Summary) -> Self {
        match summary {
            Summary::NotRule => Self::NotRule,
            Summary::File { rules, diagnostics } => Self::File {
                rules: *rules,
                diagnostics: diagnostics.iter().map(Diag::of).collect(),
            },
        }
    }
}

/// An entry's summary and whole outcome.
fn split(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let len: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    let end = 4usize.checked_add(u32::from_le_bytes(len) as usize)?;
    Some((bytes.get(4..end)?, bytes.get(end..)?))
}

fn decode_summary(bytes: &[u8]) -> Option<Summary> {
    Some(match serde_json::from_slice(bytes).ok()? {
        SummaryOut::NotRule => Summary::NotRule,
        SummaryOut::File { rules, diagnostics } => Summary::File {
            rules,
            diagnostics: diagnostics
                .into_iter()
                .map(Diag::into_diagnostic)
                .collect::<Option<_>>()?,
        },
    })
}

fn encode(outcome: Option<&SigmaFile>) -> Option<Vec<u8>> {
    let entry = match outcome {
        None => Entry::NotRule,
        Some(file) => {
            // Destructured whole, so that a new field cannot be left out of the cache.
            let SigmaFile {
                rules,
                diagnostics,
                sources,
            } = file;
            let sources = sources
                .iter()
                .map(|s| {
                    let RuleSource {
                        span,
                        keys,
                        values,
                        tag_spans,
                        path,
                    } = s;
                    Source {
                        span: *span,
                        keys: keys.clone(),
                        values: values.clone(),
                        tag_spans: tag_spans.clone(),
                        path: path.clone(),
                    }
                })
                .collect();
            let diagnostics = diagnostics.iter().map(Diag::of).collect();
            Entry::File {
                rules: rules.clone(),
                sources,
                diagnostics,
            }
        }
    };
    serde_json::to_vec(&entry).ok()
}

fn decode(bytes: &[u8]) -> Option<CheckOutcome> {
    let (rules, sources, diagnostics) = match serde_json::from_slice(bytes).ok()? {
        Entry::NotRule => return Some(CheckOutcome::NotRule),
        Entry::File {
            rules,
            sources,
            diagnostics,
        } => (rules, sources, diagnostics),
    };
    let diagnostics = diagnostics
        .into_iter()
        .map(Diag::into_diagnostic)
        .collect::<Option<Vec<_>>>()?;
    let sources = sources
        .into_iter()
        .map(|s| RuleSource {
            span: s.span,
            keys: s.keys,
            values: s.values,
            tag_spans: s.tag_spans,
            path: s.path,
        })
        .collect();
    Some(CheckOutcome::File(SigmaFile {
        rules,
        diagnostics,
        sources,
    }))
}
