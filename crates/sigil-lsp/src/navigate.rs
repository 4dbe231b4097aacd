//! Navigation: go to the search a condition names, to the rule a `related` id or a
//! correlation's `rules:` entry names (anywhere in the workspace), and the document's
//! outline (its searches and condition).

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::document::Document;
use crate::hover::word_at;
use crate::outline::{self, Line};
use crate::text::Encoding;

/// Where a rule id or name is declared: a file and the byte range of the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The file.
    pub path: PathBuf,
    /// The 0-based line.
    pub line: usize,
    /// The byte columns of the value on that line.
    pub columns: Range<usize>,
}

/// The rule ids and names of the rule files under the workspace folders.
#[derive(Debug, Default)]
pub struct Workspace {
    by_key: HashMap<String, Vec<Declared>>,
}

impl Workspace {
    /// Reads the top-level `id:` and `name:` of every Sigma file under `roots`.
    pub fn scan(roots: &[PathBuf]) -> Self {
        let options = sigil_load::Options {
            sigma: true,
            elastic: false,
        };
        let (files, _) = sigil_load::find_files(roots, options);
        let found: Vec<(String, Declared)> = files
            .par_iter()
            .flat_map_iter(|p| {
                let text = std::fs::read(p)
                    .ok()
                    .filter(|b| b.len() <= sigil_sigma::MAX_FILE_BYTES)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                declarations(&text)
                    .into_iter()
                    .map(|(key, line, columns)| {
                        (
                            key,
                            Declared {
                                path: p.clone(),
                                line,
                                columns,
                            },
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut by_key: HashMap<String, Vec<Declared>> = HashMap::new();
        for (k, d) in found {
            by_key.entry(k).or_default().push(d);
        }
        Self { by_key }
    }

    /// Where `key` (an id or a name) is declared.
    pub fn find(&self, key: &str) -> &[Declared] {
        self.by_key.get(key).map_or(&[], Vec::as_slice)
    }

    /// Replaces what is known of `path` with the declarations in `text` (an open document).
    pub fn update(&mut self, path: &Path, text: &str) {
        for list in self.by_key.values_mut() {
            list.retain(|d| d.path != path);
        }
        for (key, line, columns) in declarations(text) {
            self.by_key.entry(key).or_default().push(Declared {
                path: path.to_path_buf(),
                line,
                columns,
            });
        }
    }
}

/// The top-level `id:` and `name:` values of a text: `(value, line, byte columns)`.
pub fn declarations(text: &str) -> Vec<(String, usize, Range<usize>)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if !(line.starts_with("id:") || line.starts_with("name:")) {
            continue;
        }
        if let Some(l) = Line::parse(line)
            && l.indent == 0
            && !l.value.is_empty()
        {
            let value = outline::unquote(l.value);
            let start = l.value_at + line[l.value_at..].find(value).unwrap_or(0);
            out.push((value.to_string(), i, start..start + value.len()));
        }
    }
    out
}

/// What the cursor is on, for going to its definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Searches of this document (byte ranges of their keys).
    Searches(Vec<Range<usize>>),
    /// A rule id or name, to look up in the workspace.
    Rule(String),
}

/// What the word at `offset` refers to, if anything.
pub fn target_at(doc: &Document, offset: usize) -> Option<Target> {
    let text = &doc.text;
    let word = word_at(text, offset)?;
    let w = &text[word.clone()];
    let line_no = doc.index.line_of(offset);
    let line_start = doc.index.line_start(text, line_no);
    let parsed = Line::parse(doc.index.line(text, line_no))?;
    let in_value = word.start - line_start >= parsed.value_at;
    let parents = outline::parents(text, &doc.index, line_no, parsed.indent);
    let parents: Vec<&str> = parents.clone();
    let in_condition = match (parents.as_slice(), parsed.key) {
        (["detection"], Some("condition")) => in_value,
        (["detection", "condition"], None) => true,
        _ => false,
    };
    if in_condition {
        let range = outline::document_at(text, &doc.index, offset);
        let searches = outline::searches(text, &doc.index, range);
        let hits: Vec<Range<usize>> = searches
            .iter()
            .filter(|s| outline::pattern_matches(w, s.key))
            .map(|s| s.key_range.clone())
            .collect();
        return (!hits.is_empty()).then_some(Target::Searches(hits));
    }
    // `related: - id: ...`, `correlation: rules: [...]`, `filter: rules: [...]`.
    let reference = match (parents.as_slice(), parsed.key) {
        (["related"], Some("id")) => in_value,
        ([.., "rules"], None) if parsed.item => {
            matches!(parents.first(), Some(&"correlation" | &"filter"))
        }
        (["correlation" | "filter"], Some("rules")) => in_value,
        _ => false,
    };
    reference.then(|| Target::Rule(outline::unquote(w).to_string()))
}

/// The document's outline: each document's `detection`, with its searches and condition.
pub fn symbols(doc: &Document, enc: Encoding) -> Vec<lsp_types::DocumentSymbol> {
    let text = &doc.text;
    let mut out = Vec::new();
    let mut start = 0;
    // Each YAML document of the file on its own.
    while start < text.len() {
        let range = outline::document_at(text, &doc.index, start);
        let detection = outline::block(text, &doc.index, range.clone(), "detection");
        if !detection.is_empty() {
            let children: Vec<lsp_types::DocumentSymbol> = detection
                .iter()
                .map(|e| {
                    let kind = if matches!(e.key, "condition" | "timeframe") {
                        lsp_types::SymbolKind::OPERATOR
                    } else {
                        lsp_types::SymbolKind::VARIABLE
                    };
                    symbol(
                        doc,
                        enc,
                        e.key,
                        e.value,
                        kind,
                        e.range.clone(),
                        e.key_range.clone(),
                    )
                })
                .collect();
            let first = detection.first().map_or(range.start, |e| e.range.start);
            let last = detection.last().map_or(range.end, |e| e.range.end);
            // The `detection:` line itself.
            let line = doc.index.line_of(first).saturating_sub(1);
            let header = doc.index.line_start(text, line);
            let mut s = symbol(
                doc,
                enc,
                "detection",
                "",
                lsp_types::SymbolKind::NAMESPACE,
                header..last,
                header..header + "detection".len(),
            );
            s.children = Some(children);
            out.push(s);
        }
        start = range.end.max(start + 1);
        // Past the `---` line.
        if start < text.len() {
            let line = doc.index.line_of(start);
            if doc.index.line(text, line).starts_with("---") {
                start = doc.index.line_start(text, line + 1);
            }
        }
    }
    out
}

#[allow(deprecated)] // `deprecated` is a required field of the protocol's type.
fn symbol(
    doc: &Document,
    enc: Encoding,
    name: &str,
    detail: &str,
    kind: lsp_types::SymbolKind,
    range: Range<usize>,
    key: Range<usize>,
) -> lsp_types::DocumentSymbol {
    lsp_types::DocumentSymbol {
        name: name.to_string(),
        detail: (!detail.is_empty()).then(|| detail.to_string()),
        kind,
        tags: None,
        deprecated: None,
        range: doc.index.range(&doc.text, range.start, range.end, enc),
        selection_range: doc.index.range(&doc.text, key.start, key.end, enc),
        children: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Language;

    const RULE: &str = "title: t\nid: 929a690e-bef0-4204-a928-ef5e620d6fcc\nrelated:\n  - id: 1f0e2f5c-5e4b-4b8e-9d50-3c7b1c7a2b10\n    type: similar\n\
logsource: {product: windows}\ndetection:\n  selection:\n    Image: x\n  filter_a:\n    User: y\n  condition: selection and not 1 of filter_*\n";

    fn doc() -> Document {
        Document::new(RULE.to_string(), 1, Language::Sigma)
    }

    #[test]
    fn condition_words_lead_to_their_searches() {
        let d = doc();
        let at = RULE.find("selection and").unwrap() + 2;
        let Some(Target::Searches(hits)) = target_at(&d, at) else {
            panic!("no target");
        };
        assert_eq!(hits.len(), 1);
        assert_eq!(&RULE[hits[0].clone()], "selection");
        assert_eq!(d.index.line_of(hits[0].start), 7);
        let at = RULE.find("filter_*").unwrap() + 1;
        assert!(matches!(target_at(&d, at), Some(Target::Searches(h)) if h.len() == 1));
        // The key `selection:` itself is no reference.
        let at = RULE.find("  selection:").unwrap() + 3;
        assert_eq!(target_at(&d, at), None);
    }

    #[test]
    fn related_ids_are_looked_up() {
        let d = doc();
        let at = RULE.find("1f0e2f5c").unwrap() + 3;
        assert_eq!(
            target_at(&d, at),
            Some(Target::Rule("1f0e2f5c-5e4b-4b8e-9d50-3c7b1c7a2b10".into()))
        );
        let decl = declarations(RULE);
        assert_eq!(decl.len(), 1);
        assert_eq!(decl[0].0, "929a690e-bef0-4204-a928-ef5e620d6fcc");
        assert_eq!(decl[0].1, 1);
        assert_eq!(decl[0].2, 4..40);
    }

    #[test]
    fn the_outline_holds_searches_and_condition() {
        let s = symbols(&doc(), Encoding::Utf16);
        assert_eq!(s.len(), 1);
        let names: Vec<&str> = s[0]
            .children
            .as_ref()
            .unwrap()
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["selection", "filter_a", "condition"]);
    }
}
