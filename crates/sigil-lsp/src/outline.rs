//! The shape of a rule read from its lines: which keys enclose a place, the keys of a
//! block, the logsource and the searches.
//!
//! While an author types, the YAML is broken more often than not (`Image|` has no `:` yet),
//! so completion, hover and navigation cannot rely on the reader's tree. Block-style YAML,
//! which rules are written in, says by indentation alone which key a line belongs to; this
//! module reads that and nothing more. Flow mappings (`logsource: {product: windows}`) are
//! read for the logsource only.

use std::ops::Range;

use crate::text::LineIndex;

/// How far up a document the enclosing keys are looked for.
const MAX_LINES_UP: usize = 20_000;

/// One line of block YAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// Columns of indentation (a list item's dash included in its content).
    pub indent: usize,
    /// Whether the line is a list item (`- ...`).
    pub item: bool,
    /// The key, when the line is `key:` or `key: value` (after a dash for list items).
    pub key: Option<&'a str>,
    /// The value after `key:`, or the whole content of a line without key; comment left
    /// out, trimmed.
    pub value: &'a str,
    /// Byte offset of the key (or of the value, without a key) within the line.
    pub content_at: usize,
    /// Byte offset of the value within the line.
    pub value_at: usize,
}

impl<'a> Line<'a> {
    /// Reads one line; `None` for blank lines, comments and document markers.
    pub fn parse(line: &'a str) -> Option<Self> {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        if rest.is_empty() || rest.starts_with('#') || rest.starts_with("---") {
            return None;
        }
        let (item, content_at) = match rest.strip_prefix('-') {
            Some(after) if after.is_empty() || after.starts_with(' ') => {
                let skip = 1 + (after.len() - after.trim_start().len());
                (true, indent + skip)
            }
            _ => (false, indent),
        };
        let content = &line[content_at..];
        let (key, value_at) = match split_key(content) {
            Some((k, v)) => (Some(k), content_at + v),
            None => (None, content_at),
        };
        let value = strip_comment(&line[value_at..]).trim();
        Some(Self {
            indent,
            item,
            key,
            value,
            content_at,
            value_at,
        })
    }
}

/// `key: value` split at the first `:` followed by a space or the end, outside quotes; the
/// key and the offset of the value.
fn split_key(content: &str) -> Option<(&str, usize)> {
    let bytes = content.as_bytes();
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if (b == b'"' || b == b'\'') && i == 0 => quote = Some(b),
            None if b == b'#' && i > 0 && bytes[i - 1] == b' ' => return None,
            None if b == b':' && matches!(bytes.get(i + 1), None | Some(b' ' | b'\t')) => {
                let key = content[..i].trim();
                let after = &content[i + 1..];
                let value_at = i + 1 + (after.len() - after.trim_start().len());
                return Some((unquote(key), value_at));
            }
            None => {}
        }
    }
    None
}

/// The text without a trailing ` # comment` (outside quotes).
fn strip_comment(s: &str) -> &str {
    let bytes = s.as_bytes();
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'#' && (i == 0 || bytes[i - 1] == b' ') => return &s[..i],
            None => {}
        }
    }
    s
}

/// A scalar without its quotes.
pub fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// The byte range of the YAML document (between `---` markers) holding `offset`.
pub fn document_at(text: &str, index: &LineIndex, offset: usize) -> Range<usize> {
    let line = index.line_of(offset);
    let is_marker = |l: usize| index.line(text, l).starts_with("---");
    let mut first = line;
    while first > 0 && !is_marker(first - 1) {
        first -= 1;
    }
    let mut last = line;
    while last + 1 < index.lines() && !is_marker(last + 1) {
        last += 1;
    }
    index.line_start(text, first)..index.line_start(text, last + 1).min(text.len())
}

/// The keys enclosing line `line` whose own indentation is `indent`, outermost first.
pub fn parents<'a>(text: &'a str, index: &LineIndex, line: usize, indent: usize) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut threshold = indent;
    let lowest = line.saturating_sub(MAX_LINES_UP);
    let mut l = line;
    while l > lowest && threshold > 0 {
        l -= 1;
        let raw = index.line(text, l);
        if raw.starts_with("---") {
            break;
        }
        let Some(parsed) = Line::parse(raw) else {
            continue;
        };
        // A parent is a `key:` line (its value below it) less indented than its children.
        let key_indent = if parsed.item {
            parsed.content_at
        } else {
            parsed.indent
        };
        if parsed.indent < threshold
            && let Some(key) = parsed.key
            && parsed.value.is_empty()
            && key_indent < threshold
        {
            out.push(key);
            threshold = parsed.indent;
        }
    }
    out.reverse();
    out
}

/// One entry of a block: its key and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The key, unquoted.
    pub key: &'a str,
    /// The value on the key's line (empty for a nested block).
    pub value: &'a str,
    /// The line of the key.
    pub line: usize,
    /// The byte range of the key in the text.
    pub key_range: Range<usize>,
    /// The byte range of the entry: its line and every line below it that belongs to it.
    pub range: Range<usize>,
}

/// The entries of the top-level block `key` of the document `doc` (a byte range), as
/// written: one per child key at the block's first indentation.
pub fn block<'a>(text: &'a str, index: &LineIndex, doc: Range<usize>, key: &str) -> Vec<Entry<'a>> {
    let first = index.line_of(doc.start);
    let last = index.line_of(doc.end.saturating_sub(1).max(doc.start));
    let mut out: Vec<Entry<'a>> = Vec::new();
    let mut inside = false;
    let mut child_indent = None;
    for l in first..=last {
        let raw = index.line(text, l);
        let Some(parsed) = Line::parse(raw) else {
            continue;
        };
        if parsed.indent == 0 && !parsed.item {
            if inside {
                break;
            }
            inside = parsed.key == Some(key);
            continue;
        }
        if !inside {
            continue;
        }
        let indent = *child_indent.get_or_insert(parsed.indent);
        let start = index.line_start(text, l);
        if parsed.indent == indent
            && !parsed.item
            && let Some(k) = parsed.key
        {
            let key_start = start + parsed.content_at;
            let written = raw[parsed.content_at..].len()
                - raw[parsed.content_at..]
                    .trim_start_matches(['"', '\''])
                    .len();
            out.push(Entry {
                key: k,
                value: parsed.value,
                line: l,
                key_range: key_start + written..key_start + written + k.len(),
                range: start..index.line_start(text, l + 1).min(text.len()),
            });
        } else if let Some(e) = out.last_mut() {
            e.range.end = index.line_start(text, l + 1).min(text.len());
        }
    }
    out
}

/// The logsource of the document `doc`: `(category, product, service)`, from a block or a
/// flow mapping.
pub fn logsource(
    text: &str,
    index: &LineIndex,
    doc: Range<usize>,
) -> (Option<String>, Option<String>, Option<String>) {
    let mut found: [Option<String>; 3] = [None, None, None];
    let names = ["category", "product", "service"];
    let mut put = |k: &str, v: &str| {
        if let Some(i) = names.iter().position(|n| *n == k) {
            let v = unquote(v.trim()).trim();
            if !v.is_empty() {
                found[i] = Some(v.to_string());
            }
        }
    };
    for e in block(text, index, doc.clone(), "logsource") {
        put(e.key, e.value);
    }
    // `logsource: {category: x, product: y}`.
    let first = index.line_of(doc.start);
    let last = index.line_of(doc.end.saturating_sub(1).max(doc.start));
    for l in first..=last {
        if let Some(parsed) = Line::parse(index.line(text, l))
            && parsed.indent == 0
            && parsed.key == Some("logsource")
            && let Some(inner) = parsed
                .value
                .strip_prefix('{')
                .and_then(|v| v.strip_suffix('}'))
        {
            for pair in inner.split(',') {
                if let Some((k, v)) = pair.split_once(':') {
                    put(k.trim(), v);
                }
            }
        }
    }
    let [category, product, service] = found;
    (category, product, service)
}

/// The searches of the document's detection: every key of `detection` but `condition` and
/// `timeframe`.
pub fn searches<'a>(text: &'a str, index: &LineIndex, doc: Range<usize>) -> Vec<Entry<'a>> {
    block(text, index, doc, "detection")
        .into_iter()
        .filter(|e| !matches!(e.key, "condition" | "timeframe"))
        .collect()
}

/// Whether `name` matches a condition's `1 of` / `all of` pattern (`*` for any text).
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    if pattern == "them" {
        return !name.starts_with('_');
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "title: t\nlogsource:\n  category: process_creation\n  product: windows\n\
detection:\n  selection:\n    - Image|endswith: '\\\\x.exe'\n      CommandLine: y\n  filter_main:\n    User: a # who\n  condition: selection and not 1 of filter_*\nlevel: high\n";

    #[test]
    fn lines_split_into_key_and_value() {
        let l = Line::parse("    - Image|endswith: '\\x.exe' # c").unwrap();
        assert!(l.item);
        assert_eq!(l.key, Some("Image|endswith"));
        assert_eq!(l.value, "'\\x.exe'");
        assert_eq!(l.content_at, 6);
        let l = Line::parse("  'a: b': c").unwrap();
        assert_eq!(l.key, Some("a: b"));
        let l = Line::parse("    Image|").unwrap();
        assert_eq!(l.key, None);
        assert_eq!(l.value, "Image|");
        assert_eq!(Line::parse("  # comment"), None);
        let l = Line::parse("  - attack.t1047").unwrap();
        assert_eq!((l.item, l.key, l.value), (true, None, "attack.t1047"));
    }

    #[test]
    fn parents_follow_indentation() {
        let index = LineIndex::new(RULE);
        // `      CommandLine: y` (line 7) belongs to the list item of `selection`.
        assert_eq!(parents(RULE, &index, 7, 6), ["detection", "selection"]);
        assert_eq!(parents(RULE, &index, 9, 4), ["detection", "filter_main"]);
        assert_eq!(parents(RULE, &index, 10, 2), ["detection"]);
        assert!(parents(RULE, &index, 11, 0).is_empty());
    }

    #[test]
    fn blocks_logsource_and_searches() {
        let index = LineIndex::new(RULE);
        let doc = document_at(RULE, &index, 0);
        assert_eq!(doc, 0..RULE.len());
        let names: Vec<&str> = searches(RULE, &index, doc.clone())
            .iter()
            .map(|e| e.key)
            .collect();
        assert_eq!(names, ["selection", "filter_main"]);
        let s = &searches(RULE, &index, doc.clone())[0];
        assert_eq!(&RULE[s.key_range.clone()], "selection");
        assert!(RULE[s.range.clone()].contains("CommandLine"));
        assert_eq!(
            logsource(RULE, &index, doc),
            (
                Some("process_creation".into()),
                Some("windows".into()),
                None
            )
        );
        let flow = "title: x\nlogsource: {product: linux, service: auditd}\n";
        let index = LineIndex::new(flow);
        assert_eq!(
            logsource(flow, &index, 0..flow.len()),
            (None, Some("linux".into()), Some("auditd".into()))
        );
    }

    #[test]
    fn documents_are_split_at_markers() {
        let text = "a: 1\n---\nb: 2\nc: 3\n---\nd: 4\n";
        let index = LineIndex::new(text);
        let at = text.find("c:").unwrap();
        assert_eq!(&text[document_at(text, &index, at)], "b: 2\nc: 3\n");
    }

    #[test]
    fn condition_patterns() {
        assert!(pattern_matches("filter_*", "filter_main"));
        assert!(!pattern_matches("filter_*", "selection"));
        assert!(pattern_matches("sel*_a", "sel_x_a"));
        assert!(pattern_matches("them", "selection"));
        assert!(!pattern_matches("them", "_hidden"));
        assert!(pattern_matches("selection", "selection"));
    }
}
