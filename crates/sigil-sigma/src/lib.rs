//! The Sigma front end of sigil: Sigma YAML (specification 2.1.0) into the sigil IR.
//!
//! [`parse_str`] reads one file — which may hold several YAML documents: rules,
//! `action: global` / `reset` / `repeat` collections, correlation and filter rules — into
//! [`sigil_core::Rule`]s plus [`Diagnostic`]s for what could not be read. It never
//! panics and never stops at the first problem: each rule, field and search is read on
//! its own, so one mistake does not hide the next. [`parse_bytes`] does the same for raw
//! file contents and reports binary and non-UTF-8 input at the right line.
//!
//! [`RuleIndex`] links meta rules (correlations, filters) to the rules they name, across
//! any set of files, and [`lint`] holds the checks of `sigil check`, each documented in
//! code.
//!
//! The pipeline: `saphyr-parser` events → a small positioned YAML tree ([`yaml`]) →
//! collection merging → rule metadata ([`document`](crate)) → searches ([`detection`])
//! with modifiers ([`modifier`]) and conditions ([`condition`]) → IR.

pub mod condition;
pub mod detection;
mod document;
mod error;
mod link;
pub mod lint;
mod meta;
pub mod modifier;
pub mod sigmahq;
pub mod yaml;

use std::collections::BTreeMap;

use sigil_core::{Diagnostic, Rule, Span};

pub use error::SigmaError;
pub use link::{RuleIndex, references};

use crate::document::{Reader, read_rule};
use crate::yaml::{Node, NodeValue};

/// Files larger than this are refused: no rule is that large, and reading one would only
/// waste the time of a check over thousands of files.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// The rules of one Sigma file and the problems met reading it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SigmaFile {
    /// The rules, in file order.
    pub rules: Vec<Rule>,
    /// Problems, in the order they were found.
    pub diagnostics: Vec<Diagnostic>,
    /// Where each rule's metadata was written, parallel to `rules` (for lints).
    pub sources: Vec<RuleSource>,
}

impl SigmaFile {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == sigil_core::Severity::Error)
    }

    /// Records the file's path in each rule's source, for the checks that look at file
    /// names and folders.
    pub fn set_path(&mut self, path: &std::path::Path) {
        for s in &mut self.sources {
            s.path = Some(path.to_path_buf());
        }
    }

    fn from_error(e: &SigmaError) -> Self {
        Self {
            diagnostics: vec![e.to_diagnostic()],
            ..Self::default()
        }
    }
}

/// What reading a file records besides the rules and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Record where each rule's metadata was written ([`SigmaFile::sources`]), which the
    /// lints need. Without it each [`RuleSource`] holds only the rule's span, and reading
    /// skips a copy of every top-level key and value: commands that only use the rules
    /// (`hunt`, `convert`) do not need them.
    pub sources: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self { sources: true }
    }
}

/// Where the metadata of one rule was written: positions the IR does not keep.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSource {
    /// Where the rule's document starts.
    pub span: Span,
    /// Each top-level key and where it was written.
    pub keys: BTreeMap<String, Span>,
    /// Each top-level scalar value as written (before any interpretation), with its span.
    pub values: BTreeMap<String, (Span, String)>,
    /// Where each tag was written, parallel to `Rule::tags`.
    pub tag_spans: Vec<Span>,
    /// The file's path, as given to [`SigmaFile::set_path`] (for the checks of file
    /// names and folders).
    pub path: Option<std::path::PathBuf>,
}

impl RuleSource {
    /// The span of the value of `key`, else of the key, else of the rule.
    pub fn span_of(&self, key: &str) -> Span {
        self.values
            .get(key)
            .map(|v| v.0)
            .or_else(|| self.keys.get(key).copied())
            .unwrap_or(self.span)
    }
}

/// Whether `text` is meant as a Sigma rule: a document of it has a `detection`,
/// `correlation`, `filter` or `logsource` key. Folders of rules often hold other YAML files
/// (SigmaHQ's regression test `info.yml`, Atomic Red Team tests, CI configuration):
/// commands that walk folders pass over files this says are not rules, rather than report
/// each as a broken rule. A file that cannot tell — empty, binary, not UTF-8 (pass it
/// through `from_utf8_lossy`), not valid YAML — may be a damaged rule and counts as one,
/// so that the reader's error is reported.
pub fn looks_like_rule(text: &str) -> bool {
    if text.trim().is_empty() || text.contains(['\0', char::REPLACEMENT_CHARACTER]) {
        return true;
    }
    let (docs, error) = yaml::load(text);
    error.is_some()
        || docs.iter().any(|d| {
            ["detection", "correlation", "filter", "logsource"]
                .iter()
                .any(|k| d.root.get(k).is_some())
        })
}

/// Reads a Sigma file from its raw bytes. Binary content (NUL bytes) and invalid UTF-8
/// are reported at the line where they occur.
pub fn parse_bytes(bytes: &[u8]) -> SigmaFile {
    parse_bytes_with(bytes, ReadOptions::default())
}

/// [`parse_bytes`] recording only what `options` asks for.
pub fn parse_bytes_with(bytes: &[u8], options: ReadOptions) -> SigmaFile {
    if bytes.len() > MAX_FILE_BYTES {
        return SigmaFile::from_error(&SigmaError::TooLarge {
            size: bytes.len(),
            limit: MAX_FILE_BYTES,
        });
    }
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return SigmaFile::from_error(&SigmaError::Binary {
            span: byte_span(bytes, at),
        });
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_str_with(text, options),
        Err(e) => {
            let at = e.valid_up_to();
            SigmaFile::from_error(&SigmaError::NotUtf8 {
                byte: bytes.get(at).copied().unwrap_or(0),
                span: byte_span(bytes, at),
            })
        }
    }
}

/// The span of byte `at`: line and column counted in the valid text before it.
fn byte_span(bytes: &[u8], at: usize) -> Span {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.split(|&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    Span::new(line as u32, column as u32, at as u32)
}

/// Reads a Sigma file.
pub fn parse_str(text: &str) -> SigmaFile {
    parse_str_with(text, ReadOptions::default())
}

/// [`parse_str`] recording only what `options` asks for.
pub fn parse_str_with(text: &str, options: ReadOptions) -> SigmaFile {
    if text.len() > MAX_FILE_BYTES {
        return SigmaFile::from_error(&SigmaError::TooLarge {
            size: text.len(),
            limit: MAX_FILE_BYTES,
        });
    }
    // The reader is written not to panic; this is a last line of defence so one file can
    // never take down a check over thousands (the YAML parser is third-party code).
    std::panic::catch_unwind(|| read_file(text, options)).unwrap_or_else(|_| {
        SigmaFile::from_error(&SigmaError::Internal {
            message: "the reader failed on this input".into(),
        })
    })
}

fn read_file(text: &str, options: ReadOptions) -> SigmaFile {
    let (docs, yaml_error) = yaml::load(text);
    let mut reader = Reader {
        text,
        diagnostics: Vec::new(),
        sources: options.sources,
    };
    let mut file = SigmaFile::default();
    if yaml_error.is_none() && docs.iter().all(|d| d.root.is_null()) {
        return SigmaFile::from_error(&SigmaError::Empty);
    }

    // Rules take their texts from the documents; a copy of a document is kept only when
    // a later one may repeat it.
    let repeats = docs
        .iter()
        .any(|d| d.root.get("action").and_then(Node::as_text) == Some("repeat"));
    let mut global: Option<Node<'_>> = None;
    let mut previous: Option<Node<'_>> = None;
    for doc in docs {
        let root = doc.root;
        // Empty documents (a trailing `---`) are common and harmless.
        if root.is_null() {
            continue;
        }
        let action = root.get("action").and_then(Node::as_text);
        let merged = match action {
            Some("global") => {
                let body = without_action(&root);
                global = Some(match global.take() {
                    Some(g) => merge(&g, &body),
                    None => body,
                });
                continue;
            }
            Some("reset") => {
                global = None;
                continue;
            }
            Some("repeat") => {
                let Some(prev) = previous.as_ref() else {
                    reader.report(&SigmaError::Collection {
                        message: "`action: repeat` needs a rule before it".into(),
                        span: root.span,
                    });
                    continue;
                };
                merge(prev, &without_action(&root))
            }
            Some(other) => {
                let span = root.get("action").map_or(root.span, |n| n.span);
                reader.report(&SigmaError::Collection {
                    message: format!("unknown action `{other}` (expected global, reset or repeat)"),
                    span,
                });
                continue;
            }
            // Most files hold one plain rule: read it in place, without a copy.
            None => match &global {
                Some(g) => merge(g, &root),
                None => root,
            },
        };
        if repeats {
            previous = Some(merged.clone());
        }
        if let Some((rule, source)) = read_rule(&mut reader, merged) {
            file.rules.push(rule);
            file.sources.push(source);
        }
    }
    file.diagnostics = reader.diagnostics;
    if let Some(e) = yaml_error {
        file.diagnostics.push(e.to_diagnostic());
    }
    file
}

fn without_action<'a>(node: &Node<'a>) -> Node<'a> {
    let mut out = node.clone();
    if let NodeValue::Map(pairs) = &mut out.value {
        pairs.retain(|(k, _)| k.as_scalar().is_none_or(|s| s.text != "action"));
    }
    out
}

/// `over` laid on `base`: mappings merge key by key (recursively), anything else in
/// `over` replaces what `base` has — pySigma's `deep_dict_update`.
fn merge<'a>(base: &Node<'a>, over: &Node<'a>) -> Node<'a> {
    match (&base.value, &over.value) {
        (NodeValue::Map(b), NodeValue::Map(o)) => {
            let mut pairs = b.clone();
            for (k, v) in o {
                let key_text = k.as_scalar().map(|s| s.text.as_ref());
                let existing = key_text.and_then(|kt| {
                    pairs
                        .iter()
                        .position(|(bk, _)| bk.as_scalar().is_some_and(|s| s.text == kt))
                });
                match existing {
                    Some(i) => {
                        let merged = merge(&pairs[i].1, v);
                        pairs[i] = (k.clone(), merged);
                    }
                    None => pairs.push((k.clone(), v.clone())),
                }
            }
            Node {
                span: over.span,
                value: NodeValue::Map(pairs),
            }
        }
        _ => over.clone(),
    }
}

#[cfg(test)]
mod tests;
