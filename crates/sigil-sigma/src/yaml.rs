//! YAML with positions, built from the events of `saphyr-parser`.
//!
//! saphyr's own loaders recurse once per nesting level and stop at the first duplicate
//! key; rules come from untrusted files, so this module builds its own small tree
//! instead: iteratively (no recursion while parsing), with a nesting limit (so dropping
//! or walking a tree never recurses deeper than [`MAX_DEPTH`]), a budget for alias
//! expansion, and mappings kept as ordered pairs so duplicate keys can be reported by
//! the front end with both positions.

use std::borrow::Cow;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle};
use sigil_core::Span;

use crate::SigmaError;

/// The deepest nesting of sequences and mappings accepted. Sigma rules need about ten.
pub const MAX_DEPTH: usize = 128;

/// At most this many nodes may be produced by alias expansion in one file.
const ALIAS_BUDGET: usize = 100_000;

/// A YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node<'a> {
    /// Where the node starts.
    pub span: Span,
    /// What it holds.
    pub value: NodeValue<'a>,
}

/// The content of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue<'a> {
    /// A scalar: its text and whether it was written plain (unquoted, so subject to
    /// null/bool/number resolution) and any tag.
    Scalar(Scalar<'a>),
    /// A sequence.
    Seq(Vec<Node<'a>>),
    /// A mapping, as written (keys in order, duplicates kept).
    Map(Vec<(Node<'a>, Node<'a>)>),
}

/// A scalar's text and how it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar<'a> {
    /// The text after YAML unescaping.
    pub text: Cow<'a, str>,
    /// Plain (unquoted, not a block scalar).
    pub plain: bool,
    /// The tag suffix for core-schema tags (`str`, `int`, ...), if any.
    pub tag: Option<String>,
}

/// A scalar resolved by the YAML 1.2 core schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolved<'s> {
    /// `null`, `~` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits in `i64`.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Str(&'s str),
}

impl Scalar<'_> {
    /// The scalar under the YAML 1.2 core schema (quoted scalars are always text).
    pub fn resolve(&self) -> Resolved<'_> {
        let text = self.text.as_ref();
        match self.tag.as_deref() {
            Some("str") => return Resolved::Str(text),
            Some("null") => return Resolved::Null,
            _ => {}
        }
        if !self.plain && self.tag.is_none() {
            return Resolved::Str(text);
        }
        resolve_plain(text)
    }
}

fn resolve_plain(text: &str) -> Resolved<'_> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        _ => {}
    }
    let bytes = text.as_bytes();
    let first = bytes[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Resolved::Str(text);
    }
    if let Some(hex) = text.strip_prefix("0x") {
        // `from_str_radix` accepts a sign; YAML does not there.
        if let Some(i) = hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit())
            .then(|| i64::from_str_radix(hex, 16).ok())
            .flatten()
        {
            return Resolved::Int(i);
        }
        return Resolved::Str(text);
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if let Some(i) = oct
            .bytes()
            .all(|b| (b'0'..=b'7').contains(&b))
            .then(|| i64::from_str_radix(oct, 8).ok())
            .flatten()
        {
            return Resolved::Int(i);
        }
        return Resolved::Str(text);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // Integers too large for i64 stay text rather than silently losing digits.
        return text.parse().map_or(Resolved::Str(text), Resolved::Int);
    }
    if let Some(f) = is_core_float(digits).then(|| text.parse().ok()).flatten() {
        return Resolved::Float(f);
    }
    Resolved::Str(text)
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` (the sign already removed).
fn is_core_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

impl<'a> Node<'a> {
    /// The scalar, if the node is one.
    pub fn as_scalar(&self) -> Option<&Scalar<'a>> {
        match &self.value {
            NodeValue::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar node, resolved: `None` for non-scalars and nulls.
    /// Numbers and booleans are given as written.
    pub fn as_text(&self) -> Option<&str> {
        match self.as_scalar()?.resolve() {
            Resolved::Null => None,
            _ => self.as_scalar().map(|s| s.text.as_ref()),
        }
    }

    /// The pairs of a mapping node.
    pub fn as_map(&self) -> Option<&[(Node<'a>, Node<'a>)]> {
        match &self.value {
            NodeValue::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Whether the node is a null scalar.
    pub fn is_null(&self) -> bool {
        self.as_scalar()
            .is_some_and(|s| matches!(s.resolve(), Resolved::Null))
    }

    /// The value of `key` in a mapping node (the last one when duplicated, as YAML
    /// loaders that accept duplicates do).
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_scalar().is_some_and(|s| s.text == key))
            .map(|(_, v)| v)
    }

    /// A short name of the node kind, for messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            NodeValue::Scalar(s) => match s.resolve() {
                Resolved::Null => "null",
                Resolved::Bool(_) => "a boolean",
                Resolved::Int(_) | Resolved::Float(_) => "a number",
                Resolved::Str(_) => "a string",
            },
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }
}

/// One YAML document of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Document<'a> {
    /// Its root node (a null scalar for an empty document).
    pub root: Node<'a>,
}

/// Converts saphyr's markers (character index, 0-based column) to [`Span`]s (byte
/// offset, 1-based column) without rescanning the text for every node.
pub(crate) struct Positions<'a> {
    text: &'a str,
    ascii: bool,
    /// Byte offset of every `STRIDE`-th character, for non-ASCII text.
    checkpoints: Vec<u32>,
}

const STRIDE: usize = 64;

impl<'a> Positions<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let ascii = text.is_ascii();
        let checkpoints = if ascii {
            Vec::new()
        } else {
            text.char_indices()
                .step_by(STRIDE)
                .map(|(i, _)| i as u32)
                .collect()
        };
        Self {
            text,
            ascii,
            checkpoints,
        }
    }

    /// The byte offset of the character at `index`.
    pub(crate) fn byte_offset(&self, index: usize) -> usize {
        if self.ascii {
            return index.min(self.text.len());
        }
        let Some(&base) = self.checkpoints.get(index / STRIDE) else {
            return self.text.len();
        };
        let base = base as usize;
        self.text[base..]
            .char_indices()
            .nth(index % STRIDE)
            .map_or(self.text.len(), |(i, _)| base + i)
    }

    pub(crate) fn span(&self, m: Marker) -> Span {
        Span::new(
            m.line() as u32,
            m.col() as u32 + 1,
            self.byte_offset(m.index()) as u32,
        )
    }
}

/// A container being built. Its children wait on a stack shared by all open containers
/// and move into a vector of the exact size when it ends.
struct Frame {
    span: Span,
    anchor: usize,
    map: bool,
    /// Where its children start on the stack of waiting nodes.
    first: usize,
}

/// The documents of `text`, and the first error met. Documents completed before an
/// error are kept, so later checks can still report on them.
pub fn load(text: &str) -> (Vec<Document<'_>>, Option<SigmaError>) {
    let pos = Positions::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut waiting: Vec<Node<'_>> = Vec::new();
    let mut root: Option<Node<'_>> = None;
    let mut anchors: Vec<(usize, Node<'_>)> = Vec::new();
    let mut alias_budget = ALIAS_BUDGET;
    let mut doc_start = Span::new(1, 1, 0);

    while let Some(event) = parser.next_event() {
        let (event, span) = match event {
            Ok(ev) => ev,
            Err(e) => {
                return (
                    docs,
                    Some(SigmaError::Yaml {
                        message: e.info().to_string(),
                        span: pos.span(*e.marker()),
                    }),
                );
            }
        };
        let (node, anchor) = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => continue,
            Event::DocumentStart(_) => {
                doc_start = pos.span(span.start);
                root = None;
                continue;
            }
            Event::DocumentEnd => {
                let root = root.take().unwrap_or(Node {
                    span: doc_start,
                    value: NodeValue::Scalar(Scalar {
                        text: Cow::Borrowed(""),
                        plain: true,
                        tag: None,
                    }),
                });
                docs.push(Document { root });
                anchors.clear();
                continue;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                let at = pos.span(span.start);
                if stack.len() >= MAX_DEPTH {
                    return (
                        docs,
                        Some(SigmaError::TooDeep {
                            limit: MAX_DEPTH,
                            span: at,
                        }),
                    );
                }
                stack.push(Frame {
                    span: at,
                    anchor,
                    map: matches!(event, Event::MappingStart(..)),
                    first: waiting.len(),
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = stack.pop() else { continue };
                let children = waiting.drain(frame.first..);
                let value = if frame.map {
                    let mut pairs = Vec::with_capacity(children.len() / 2);
                    let mut children = children;
                    // A key without a value (only after an error) is dropped.
                    while let (Some(k), Some(v)) = (children.next(), children.next()) {
                        pairs.push((k, v));
                    }
                    NodeValue::Map(pairs)
                } else {
                    NodeValue::Seq(children.collect())
                };
                (
                    Node {
                        span: frame.span,
                        value,
                    },
                    frame.anchor,
                )
            }
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag
                    .filter(|t| t.is_yaml_core_schema())
                    .map(|t| t.suffix.clone());
                let node = Node {
                    span: pos.span(span.start),
                    value: NodeValue::Scalar(Scalar {
                        text,
                        plain: style == ScalarStyle::Plain,
                        tag,
                    }),
                };
                (node, anchor)
            }
            Event::Alias(id) => {
                let at = pos.span(span.start);
                let Some((_, target)) = anchors.iter().rev().find(|(a, _)| *a == id) else {
                    return (
                        docs,
                        Some(SigmaError::Yaml {
                            message: "alias to an unknown anchor".into(),
                            span: at,
                        }),
                    );
                };
                let size = count_nodes(target);
                if size > alias_budget {
                    return (
                        docs,
                        Some(SigmaError::Yaml {
                            message: "aliases expand to too many nodes".into(),
                            span: at,
                        }),
                    );
                }
                alias_budget -= size;
                let mut node = target.clone();
                node.span = at;
                (node, 0)
            }
        };
        if anchor > 0 {
            anchors.push((anchor, node.clone()));
        }
        if stack.is_empty() {
            root = Some(node);
        } else {
            waiting.push(node);
        }
    }
    (docs, None)
}

/// The number of nodes in a tree (bounded by the nesting limit, so recursion is safe).
fn count_nodes(node: &Node<'_>) -> usize {
    match &node.value {
        NodeValue::Scalar(_) => 1,
        NodeValue::Seq(v) => 1 + v.iter().map(count_nodes).sum::<usize>(),
        NodeValue::Map(v) => {
            1 + v
                .iter()
                .map(|(k, v)| count_nodes(k) + count_nodes(v))
                .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_one_based_with_byte_offsets() {
        let (docs, err) = load("a: 1\nbé: [x, 'y']\nc: z\n");
        assert!(err.is_none());
        let root = &docs[0].root;
        let pairs = root.as_map().unwrap();
        assert_eq!(pairs[1].0.span, Span::new(2, 1, 5));
        let NodeValue::Seq(items) = &pairs[1].1.value else {
            panic!("not a list")
        };
        assert_eq!(items[1].span, Span::new(2, 9, 14));
        // after the two-byte character the byte offset runs ahead of the column
        assert_eq!(pairs[2].0.span, Span::new(3, 1, 19));
    }

    #[test]
    fn scalars_resolve_by_the_core_schema() {
        let s = |t: &str, plain| Scalar {
            text: Cow::Owned(t.to_string()),
            plain,
            tag: None,
        };
        assert_eq!(s("4688", true).resolve(), Resolved::Int(4688));
        assert_eq!(s("4688", false).resolve(), Resolved::Str("4688"));
        assert_eq!(s("0x10", true).resolve(), Resolved::Int(16));
        assert_eq!(s("1.5e3", true).resolve(), Resolved::Float(1500.0));
        assert_eq!(s("~", true).resolve(), Resolved::Null);
        assert_eq!(s("True", true).resolve(), Resolved::Bool(true));
        assert_eq!(s("yes", true).resolve(), Resolved::Str("yes"));
        assert_eq!(s("1.2.3", true).resolve(), Resolved::Str("1.2.3"));
        assert_eq!(
            s("99999999999999999999", true).resolve(),
            Resolved::Str("99999999999999999999")
        );
        assert_eq!(s("-", true).resolve(), Resolved::Str("-"));
        assert_eq!(s(".", true).resolve(), Resolved::Str("."));
    }

    #[test]
    fn duplicate_keys_are_kept() {
        let (docs, err) = load("a: 1\na: 2\n");
        assert!(err.is_none());
        assert_eq!(docs[0].root.as_map().unwrap().len(), 2);
        assert_eq!(docs[0].root.get("a").and_then(Node::as_text), Some("2"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        // Flow style: the parser's own recursion limit answers first.
        let (_, err) = load(&"[".repeat(10_000));
        assert!(matches!(err, Some(SigmaError::Yaml { .. })), "{err:?}");
        // Block style: ours does.
        let mut text = String::new();
        for i in 0..10_000 {
            text.push_str(&" ".repeat(i));
            text.push_str("a:\n");
        }
        let (_, err) = load(&text);
        assert!(
            matches!(err, Some(SigmaError::TooDeep { span, .. }) if span.line == 129),
            "{err:?}"
        );
    }

    #[test]
    fn anchors_and_aliases() {
        let (docs, err) = load("a: &x [1, 2]\nb: *x\n");
        assert!(err.is_none());
        let b = docs[0].root.get("b").unwrap();
        assert!(matches!(&b.value, NodeValue::Seq(v) if v.len() == 2));
        assert_eq!(b.span.line, 2);
    }

    #[test]
    fn alias_bombs_are_refused() {
        use std::fmt::Write as _;
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            let _ = writeln!(
                text,
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]"
            );
        }
        let (_, err) = load(&text);
        assert!(matches!(err, Some(SigmaError::Yaml { .. })));
    }
}
