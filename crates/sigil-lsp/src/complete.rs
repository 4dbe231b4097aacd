//! Completion: what may be written where the cursor is.
//!
//! - after `|` in a search's key: the modifiers that keep the chain valid;
//! - a search's key: the field names of the rule's logsource;
//! - `logsource` `category` / `product` / `service`, `status`, `level`: their values;
//! - a list item of `tags`: ATT&CK tactics and techniques, with their names;
//! - `condition`: the searches, `1 of` / `all of` and their patterns, `them`, the operators.

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionTextEdit, Documentation, MarkupContent,
    MarkupKind, TextEdit,
};
use sigil_sigma::detection::chain_is_valid;
use sigil_sigma::modifier::{ALL_MODIFIERS, Modifier};

use crate::document::Document;
use crate::knowledge;
use crate::outline::{self, Line};
use crate::text::Encoding;

/// Where the cursor is, as completion needs it.
struct Place<'a> {
    /// The keys enclosing the cursor's line, outermost first.
    parents: Vec<&'a str>,
    /// The key whose value the cursor is in, when the line is `key: ...`.
    key: Option<&'a str>,
    /// Whether the line is a list item.
    item: bool,
    /// What is written between the start of the value (or key) and the cursor.
    typed: &'a str,
}

fn place(doc: &Document, offset: usize) -> Place<'_> {
    let text = &doc.text;
    let line_no = doc.index.line_of(offset);
    let line_start = doc.index.line_start(text, line_no);
    let prefix = &text[line_start..offset];
    let indent = prefix.len() - prefix.trim_start_matches(' ').len();
    let parsed = Line::parse(prefix);
    let parents = outline::parents(text, &doc.index, line_no, indent);
    match parsed {
        Some(l) => Place {
            parents,
            key: l.key,
            item: l.item,
            typed: &prefix[l.value_at.min(prefix.len())..],
        },
        None => Place {
            parents,
            key: None,
            item: false,
            typed: prefix.trim_start(),
        },
    }
}

/// The completion items at byte `offset` of `doc`.
pub fn complete(doc: &Document, offset: usize, encoding: Encoding) -> Vec<CompletionItem> {
    let p = place(doc, offset);
    let replace = |len: usize| doc.index.range(&doc.text, offset - len, offset, encoding);
    let parents: Vec<&str> = p.parents.clone();
    match (parents.as_slice(), p.key) {
        ([], Some("status")) => values(
            &[
                "stable",
                "test",
                "experimental",
                "deprecated",
                "unsupported",
            ],
            p.typed,
            replace,
        ),
        ([], Some("level")) => values(
            &["informational", "low", "medium", "high", "critical"],
            p.typed,
            replace,
        ),
        (["logsource"], Some(k @ ("category" | "product" | "service"))) => {
            let list: Vec<&str> = knowledge::logsource_values(k)
                .iter()
                .map(String::as_str)
                .collect();
            values(&list, p.typed, replace)
        }
        (["tags"], None) if p.item => tags(p.typed, replace),
        (["detection"], Some("condition")) | (["detection", "condition"], None) => {
            condition(doc, offset, p.typed, replace)
        }
        (["detection", search, ..], None) if *search != "condition" => {
            let typed = p.typed.trim_start_matches(['"', '\'']);
            if typed.contains('|') {
                modifiers(typed, replace)
            } else {
                fields(doc, offset, typed, replace)
            }
        }
        _ => Vec::new(),
    }
}

fn item(label: &str, kind: CompletionItemKind, edit: lsp_types::Range) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        text_edit: Some(CompletionTextEdit::Edit(TextEdit {
            range: edit,
            new_text: label.to_string(),
        })),
        ..CompletionItem::default()
    }
}

fn markdown(text: String) -> Documentation {
    Documentation::MarkupContent(MarkupContent {
        kind: MarkupKind::Markdown,
        value: text,
    })
}

fn values(
    list: &[&str],
    typed: &str,
    replace: impl Fn(usize) -> lsp_types::Range,
) -> Vec<CompletionItem> {
    let typed = typed.trim_start_matches(['"', '\'']);
    list.iter()
        .map(|v| item(v, CompletionItemKind::VALUE, replace(typed.len())))
        .collect()
}

/// The modifiers that can follow `Field|mod|...|partial`.
fn modifiers(key: &str, replace: impl Fn(usize) -> lsp_types::Range) -> Vec<CompletionItem> {
    let mut parts: Vec<&str> = key.split('|').collect();
    let partial = parts.pop().unwrap_or("");
    let field = Some(parts[0]).filter(|f| !f.is_empty());
    let Some(chain) = parts[1..]
        .iter()
        .map(|n| Modifier::from_name(n))
        .collect::<Option<Vec<Modifier>>>()
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for m in ALL_MODIFIERS {
        if chain.contains(&m) {
            continue;
        }
        let mut next = chain.clone();
        next.push(m);
        if !chain_is_valid(field, &next) {
            continue;
        }
        let mut it = item(
            m.name(),
            CompletionItemKind::OPERATOR,
            replace(partial.len()),
        );
        it.detail = m.doc().split(". ").next().map(str::to_string);
        it.documentation = Some(markdown(m.doc().to_string()));
        out.push(it);
    }
    out
}

/// The field names of the document's logsource.
fn fields(
    doc: &Document,
    offset: usize,
    typed: &str,
    replace: impl Fn(usize) -> lsp_types::Range,
) -> Vec<CompletionItem> {
    let range = outline::document_at(&doc.text, &doc.index, offset);
    let ls = outline::logsource(&doc.text, &doc.index, range);
    knowledge::fields_for(&ls)
        .into_iter()
        .map(|(f, sources)| {
            let mut it = item(&f, CompletionItemKind::FIELD, replace(typed.len()));
            let listed = sources.iter().any(|s| s == knowledge::TAXONOMY);
            let pipelines: Vec<&str> = sources
                .iter()
                .map(String::as_str)
                .filter(|s| *s != knowledge::TAXONOMY)
                .collect();
            it.detail = Some(match (listed, pipelines.is_empty()) {
                (true, true) => format!("in the {}", knowledge::TAXONOMY),
                (true, false) => format!(
                    "in the {}; mapped by {}",
                    knowledge::TAXONOMY,
                    pipelines.join(", ")
                ),
                (false, _) => format!("mapped by {}", pipelines.join(", ")),
            });
            it
        })
        .collect()
}

/// ATT&CK tactics and techniques as tags.
fn tags(typed: &str, replace: impl Fn(usize) -> lsp_types::Range) -> Vec<CompletionItem> {
    knowledge::attack_tags()
        .iter()
        .map(|(tag, name)| {
            let mut it = item(tag, CompletionItemKind::ENUM_MEMBER, replace(typed.len()));
            it.detail = Some(name.clone());
            it.filter_text = Some(format!("{tag} {name}"));
            it
        })
        .collect()
}

/// Searches, selectors and operators inside a condition.
fn condition(
    doc: &Document,
    offset: usize,
    typed: &str,
    replace: impl Fn(usize) -> lsp_types::Range,
) -> Vec<CompletionItem> {
    let word_len = typed.len()
        - typed
            .trim_end_matches(|c: char| c.is_alphanumeric() || matches!(c, '_' | '*' | '-' | '.'))
            .len();
    let before: Vec<&str> = typed[..typed.len() - word_len].split_whitespace().collect();
    let range = outline::document_at(&doc.text, &doc.index, offset);
    let searches = outline::searches(&doc.text, &doc.index, range);
    let names: Vec<&str> = searches.iter().map(|e| e.key).collect();
    let mut out = Vec::new();
    if before.last() == Some(&"of") {
        out.push(item("them", CompletionItemKind::KEYWORD, replace(word_len)));
        let mut patterns: Vec<String> = Vec::new();
        for n in &names {
            if let Some(i) = n.find('_') {
                patterns.push(format!("{}*", &n[..=i]));
            }
            let stem = n.trim_end_matches(|c: char| c.is_ascii_digit());
            if stem.len() < n.len() {
                patterns.push(format!("{stem}*"));
            }
        }
        patterns.sort();
        patterns.dedup();
        for pattern in patterns {
            let mut it = item(&pattern, CompletionItemKind::REFERENCE, replace(word_len));
            let matched: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| outline::pattern_matches(&pattern, n))
                .collect();
            it.detail = Some(matched.join(", "));
            out.push(it);
        }
        for n in &names {
            out.push(item(n, CompletionItemKind::VARIABLE, replace(word_len)));
        }
        return out;
    }
    for n in &names {
        out.push(item(n, CompletionItemKind::VARIABLE, replace(word_len)));
    }
    for kw in ["1 of ", "all of ", "not ", "and ", "or "] {
        out.push(item(kw, CompletionItemKind::KEYWORD, replace(word_len)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Language;

    const RULE: &str = "title: t\nstatus: \nlogsource:\n  category: process_creation\n  product: windows\n\
detection:\n  selection_img:\n    Image|\n  filter_main:\n    User: a\n  condition: selection_img and not 1 of \ntags:\n  - attack.t10\n";

    fn labels_at(marker: &str, after: usize) -> Vec<String> {
        let doc = Document::new(RULE.to_string(), 1, Language::Sigma);
        let offset = RULE.find(marker).unwrap() + after;
        complete(&doc, offset, Encoding::Utf16)
            .into_iter()
            .map(|i| i.label)
            .collect()
    }

    #[test]
    fn modifiers_after_a_bar() {
        let labels = labels_at("Image|", 6);
        assert!(labels.contains(&"endswith".to_string()), "{labels:?}");
        assert!(labels.contains(&"contains".to_string()));
        // Regular-expression flags need `re` first.
        assert!(!labels.contains(&"i".to_string()));
    }

    #[test]
    fn only_chains_that_stay_valid() {
        let text = RULE.replace("Image|", "Image|re|");
        let doc = Document::new(text.clone(), 1, Language::Sigma);
        let offset = text.find("Image|re|").unwrap() + 9;
        let labels: Vec<String> = complete(&doc, offset, Encoding::Utf16)
            .into_iter()
            .map(|i| i.label)
            .collect();
        assert!(labels.contains(&"i".to_string()), "{labels:?}");
        assert!(!labels.contains(&"cidr".to_string()));
        assert!(!labels.contains(&"base64".to_string()));
    }

    #[test]
    fn fields_statuses_conditions_and_tags() {
        let fields = labels_at("    Image|", 4);
        assert!(fields.contains(&"CommandLine".to_string()), "{fields:?}");
        let statuses = labels_at("status: ", 8);
        assert!(statuses.contains(&"experimental".to_string()));
        let after_of = labels_at("1 of ", 5);
        assert!(after_of.contains(&"filter_*".to_string()), "{after_of:?}");
        assert!(after_of.contains(&"them".to_string()));
        let cond = labels_at("condition: ", 11);
        assert!(cond.contains(&"selection_img".to_string()), "{cond:?}");
        assert!(cond.contains(&"1 of ".to_string()));
        let tags = labels_at("attack.t10", 10);
        assert!(tags.contains(&"attack.t1047".to_string()));
    }
}
