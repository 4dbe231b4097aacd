//! Hover: a modifier's meaning, an ATT&CK tag's name and tactics, a field's name in each
//! pipeline, and the rule converted for the chosen target (over `detection` or `condition`).

use std::fmt::Write as _;
use std::ops::Range;

use sigil_sigma::modifier::Modifier;

use crate::document::Document;
use crate::knowledge;
use crate::outline::{self, Line};

/// The word around byte `offset`: letters, digits and `_ . - * \` (what modifiers, fields,
/// tags and search names are made of).
pub fn word_at(text: &str, offset: usize) -> Option<Range<usize>> {
    let is_word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '*' | '\\');
    let offset = offset.min(text.len());
    if !text.is_char_boundary(offset) {
        return None;
    }
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_word(c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = offset
        + text[offset..]
            .char_indices()
            .find(|&(_, c)| !is_word(c))
            .map_or(text.len() - offset, |(i, _)| i);
    (start < end).then_some(start..end)
}

/// The hover text (Markdown) at byte `offset`, and the range it is about.
pub fn hover(doc: &Document, offset: usize, target: &str) -> Option<(String, Range<usize>)> {
    let text = &doc.text;
    let word = word_at(text, offset)?;
    let w = &text[word.clone()];
    let line_no = doc.index.line_of(offset);
    let line_start = doc.index.line_start(text, line_no);
    let line = doc.index.line(text, line_no);
    let parsed = Line::parse(line)?;
    let indent = parsed.indent;
    let parents = outline::parents(text, &doc.index, line_no, indent);
    let before = text[..word.start].chars().next_back();
    let in_key = parsed
        .key
        .is_some_and(|_| word.start - line_start < parsed.value_at);

    // ATT&CK tags, wherever they are written.
    if w.starts_with("attack.") {
        let (id, name, tactics, old) = knowledge::attack_tag(w)?;
        let mut s = format!("**{id}: {name}**");
        if !tactics.is_empty() {
            let _ = write!(s, "\n\nTactic: {}", tactics.join(", "));
        }
        if old {
            s.push_str("\n\n*Revoked or deprecated in ATT&CK.*");
        }
        return Some((s, word));
    }
    let in_search = parents.first() == Some(&"detection") && parents.get(1).is_some();
    // A modifier: a word after `|` in a search's key.
    if in_search && in_key && before == Some('|') {
        let m = Modifier::from_name(w)?;
        return Some((format!("**`|{}`**\n\n{}", m.name(), m.doc()), word));
    }
    // A field: the first word of a search's key.
    if in_search && in_key && word.start - line_start == parsed.content_at {
        let range = outline::document_at(text, &doc.index, offset);
        let ls = outline::logsource(text, &doc.index, range);
        let mut s = format!("**{w}**");
        let mapped = knowledge::field_mappings(w, &ls);
        if mapped.is_empty() {
            s.push_str("\n\nNo built-in pipeline renames this field for this logsource.");
        } else {
            s.push_str("\n\n| pipeline | field |\n|---|---|\n");
            for (pipeline, names) in mapped {
                let _ = match names {
                    Ok(n) => writeln!(s, "| {pipeline} | `{}` |", n.join("`, `")),
                    Err(e) => writeln!(s, "| {pipeline} | not mapped: {} |", e.replace('|', "\\|")),
                };
            }
        }
        return Some((s, word));
    }
    // The conversion, over the detection or its condition.
    let detection_key = parents.is_empty() && parsed.key == Some("detection");
    let condition_key = parents.as_slice() == ["detection"] && parsed.key == Some("condition");
    if (detection_key || condition_key) && in_key {
        return Some((conversion(doc, offset, target), word));
    }
    None
}

/// The queries of the rule at `offset` for `target`, or why there are none.
fn conversion(doc: &Document, offset: usize, target: &str) -> String {
    let Some(info) = sigil_backend::TargetInfo::find(target) else {
        return format!(
            "`{target}` is not a target sigil converts to (`sigil convert --list-targets`)."
        );
    };
    let line = doc.index.line_of(offset) as u32 + 1;
    // The rule whose document holds the line: the last one starting at or before it.
    let rule = doc
        .rules
        .iter()
        .rev()
        .find(|r| r.span.line <= line)
        .or_else(|| doc.rules.first());
    let Some(rule) = rule else {
        return "The rule does not read yet: nothing to convert.".to_string();
    };
    let conversion = match sigil_backend::Conversion::with_default(info) {
        Ok(c) => c,
        Err(e) => return format!("{}: {e}", info.name),
    };
    let pipelines = conversion.pipeline_names();
    let mut s = format!("**{}**", info.name);
    if !pipelines.is_empty() {
        let _ = write!(s, " (pipelines: {})", pipelines.join(", "));
    }
    match conversion.convert(rule) {
        Ok(converted) => {
            for q in converted.queries {
                let _ = write!(s, "\n\n```\n{q}\n```");
            }
        }
        Err(e) => {
            let _ = write!(s, "\n\nNot converted: {e}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Language;

    const RULE: &str = "title: t\nid: 929a690e-bef0-4204-a928-ef5e620d6fcc\nstatus: test\nlevel: low\n\
logsource:\n  category: process_creation\n  product: windows\n\
detection:\n  selection:\n    Image|endswith: '\\wmic.exe'\n  condition: selection\ntags:\n  - attack.t1047\n";

    fn hover_at(marker: &str, after: usize) -> Option<String> {
        let doc = Document::new(RULE.to_string(), 1, Language::Sigma);
        let offset = RULE.find(marker).unwrap() + after;
        hover(&doc, offset, "splunk").map(|h| h.0)
    }

    #[test]
    fn tags_modifiers_fields_and_conversions() {
        let tag = hover_at("attack.t1047", 9).expect("a tag");
        assert!(tag.contains("Windows Management Instrumentation"), "{tag}");
        assert!(tag.contains("Execution"), "{tag}");
        let m = hover_at("endswith", 2).expect("a modifier");
        assert!(m.contains("ends with"), "{m}");
        let f = hover_at("Image|", 1).expect("a field");
        assert!(f.contains("process.executable"), "{f}");
        let c = hover_at("condition", 3).expect("a conversion");
        assert!(c.contains("wmic.exe"), "{c}");
        assert!(hover_at("title", 1).is_none());
    }

    #[test]
    fn words() {
        let text = "a|contains: x";
        assert_eq!(word_at(text, 4), Some(2..10));
        assert_eq!(word_at(text, 1), Some(0..1));
        assert_eq!(word_at("", 0), None);
    }
}
