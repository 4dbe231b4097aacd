//! An open document: its text, and what the readers and checks say about it.

use sigil_core::{Diagnostic, Rule, Span};
use sigil_sigma::lint::{self, Selection};
use sigil_sigma::{RuleSource, SigmaFile};

use crate::text::LineIndex;

/// The rule language of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Sigma YAML.
    Sigma,
    /// An Elastic detection rule (TOML).
    Elastic,
}

impl Language {
    /// The language of a document by its URI's extension and the client's language id.
    pub fn of(uri: &str, language_id: &str) -> Self {
        let toml = std::path::Path::new(uri)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        if toml || language_id == "toml" {
            Language::Elastic
        } else {
            Language::Sigma
        }
    }
}

/// One open document, read and checked.
#[derive(Debug)]
pub struct Document {
    /// The text as the client holds it.
    pub text: String,
    /// The client's version of it.
    pub version: i32,
    /// Its rule language.
    pub language: Language,
    /// Where its lines start.
    pub index: LineIndex,
    /// Its rules (those the reader could read).
    pub rules: Vec<Rule>,
    /// Where each rule's metadata was written (Sigma), parallel to `rules`.
    pub sources: Vec<RuleSource>,
    /// What the reader and the checks found, in text order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Document {
    /// Reads and checks `text` with sigil's default checks.
    pub fn new(text: String, version: i32, language: Language) -> Self {
        Self::checked(text, version, language, &Selection::defaults())
    }

    /// Reads `text` and runs the checks `selection` enables.
    pub fn checked(text: String, version: i32, language: Language, selection: &Selection) -> Self {
        let index = LineIndex::new(&text);
        let (rules, sources, mut diagnostics) = match language {
            Language::Sigma => {
                let mut file = sigil_sigma::parse_str(&text);
                lint::check_file_with(&mut file, selection);
                lint::check_text_with(&text, &mut file, selection);
                // The checks across files see only this one: a reference to a rule of
                // another file is resolved against the workspace by the server.
                let SigmaFile {
                    rules,
                    mut diagnostics,
                    sources,
                } = file;
                let one = SigmaFile {
                    rules,
                    diagnostics: Vec::new(),
                    sources,
                };
                diagnostics.extend(
                    lint::check_set_with(&[&one], selection)
                        .into_iter()
                        .map(|(_, d)| d)
                        .filter(|d| d.code != lint::UnknownRuleReference::INFO.code),
                );
                (one.rules, one.sources, diagnostics)
            }
            Language::Elastic => {
                let parsed = sigil_elastic::parse_rule_toml(&text);
                let sources = parsed
                    .rules
                    .iter()
                    .map(|r| RuleSource {
                        span: r.span,
                        ..RuleSource::default()
                    })
                    .collect();
                (parsed.rules, sources, parsed.diagnostics)
            }
        };
        diagnostics.sort_by_key(|d| (d.span.line, d.span.column));
        Self {
            text,
            version,
            language,
            index,
            rules,
            sources,
            diagnostics,
        }
    }

    /// The byte range a finding covers: from its span to the end of the word there (a
    /// quoted scalar whole), narrowed to the modifier for an unknown one. A finding without
    /// a position covers the first line.
    pub fn finding_range(&self, d: &Diagnostic) -> std::ops::Range<usize> {
        let text = &self.text;
        if !d.span.is_known() {
            let end = self.index.line(text, 0).len();
            return 0..end;
        }
        let start = span_offset(text, &self.index, d.span);
        let end = word_end(text, start);
        if d.code == lint::UnknownModifier::INFO.code
            && let Some(name) = d.message.split('`').nth(1)
            && let Some(at) = text[start..end].find(&format!("|{name}"))
        {
            let from = start + at + 1;
            return from..from + name.len();
        }
        start..end
    }
}

/// The byte offset of a span, checked against its line: spans from the readers carry both,
/// and the line and column win when they disagree (a span made by hand may lack the offset).
fn span_offset(text: &str, index: &LineIndex, span: Span) -> usize {
    let line = span.line.saturating_sub(1) as usize;
    let line_start = index.line_start(text, line);
    let offset = span.offset as usize;
    if offset >= line_start && index.line_of(offset) == line && text.is_char_boundary(offset) {
        return offset;
    }
    let content = index.line(text, line);
    let column = span.column.saturating_sub(1) as usize;
    line_start
        + content
            .char_indices()
            .nth(column)
            .map_or(content.len(), |(i, _)| i)
}

/// The end of the word that starts at `start`: a quoted scalar to its closing quote, else up
/// to a space or a YAML indicator; the end of the line when the word is empty.
pub fn word_end(text: &str, start: usize) -> usize {
    let rest = text.get(start..).unwrap_or("");
    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    let line = line.strip_suffix('\r').unwrap_or(line);
    let len = match line.chars().next() {
        Some(q @ ('"' | '\'')) => line[1..].find(q).map_or(line.len(), |i| i + 2),
        Some(_) => line
            .find(|c: char| {
                c.is_whitespace()
                    || matches!(c, ',' | ':' | '(' | ')' | '[' | ']' | '{' | '}' | '#')
            })
            .unwrap_or(line.len()),
        None => 0,
    };
    if len == 0 {
        start + line.trim_end().len()
    } else {
        start + len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_modifier_is_found_at_the_modifier() {
        let text = "title: t\nid: 929a690e-bef0-4204-a928-ef5e620d6fcc\nstatus: test\nlevel: low\n\
            logsource: {product: windows}\ndetection:\n  selection:\n    Image|contain: x\n  condition: selection\n";
        let doc = Document::new(text.to_string(), 1, Language::Sigma);
        let d = doc
            .diagnostics
            .iter()
            .find(|d| d.code == "unknown-modifier")
            .expect("found");
        assert_eq!(&text[doc.finding_range(d)], "contain");
    }

    #[test]
    fn words_end_at_yaml_indicators() {
        let text = "  sel and (filter or\n'a b': c\n";
        assert_eq!(&text[2..word_end(text, 2)], "sel");
        let q = text.find('\'').unwrap();
        assert_eq!(&text[q..word_end(text, q)], "'a b'");
        assert_eq!(word_end(text, 20), 20);
    }
}
