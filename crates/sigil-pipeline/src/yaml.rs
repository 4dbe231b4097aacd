//! A small YAML tree with positions, read with `saphyr`.
//!
//! Pipeline files are small, so they are loaded whole into this owned tree; every node
//! keeps the line and column it was written at, which is what lets a typo be reported as
//! `path:line:column: message`.

use std::borrow::Cow;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use sigil_core::Span;

/// A position in a pipeline file (1-based line and column).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line; 0 when unknown (built-in pipelines synthesised in code have none).
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl Pos {
    fn from_marker(m: &saphyr::Marker) -> Self {
        Self {
            line: u32::try_from(m.line()).unwrap_or(u32::MAX),
            column: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
        }
    }

    /// The position as a core [`Span`] (byte offset unknown).
    pub fn span(self) -> Span {
        Span::new(self.line, self.column, 0)
    }
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A YAML node.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `null`, `~` or nothing.
    Null(Pos),
    /// `true` / `false`.
    Bool(bool, Pos),
    /// An integer.
    Int(i64, Pos),
    /// A floating-point number.
    Float(f64, Pos),
    /// A string.
    Str(String, Pos),
    /// A sequence.
    Seq(Vec<Node>, Pos),
    /// A mapping, in source order. Keys are scalars rendered as text (`null` keys as `None`).
    Map(Vec<(Key, Node)>, Pos),
}

/// A mapping key.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// The key as text; `None` for a `null` key (pySigma's keyword field in mappings).
    pub text: Option<String>,
    /// Where it was written.
    pub pos: Pos,
}

impl Node {
    /// Where the node was written.
    pub fn pos(&self) -> Pos {
        match self {
            Node::Null(p)
            | Node::Bool(_, p)
            | Node::Int(_, p)
            | Node::Float(_, p)
            | Node::Str(_, p)
            | Node::Seq(_, p)
            | Node::Map(_, p) => *p,
        }
    }

    /// A short name of the node's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Null(_) => "null",
            Node::Bool(..) => "a boolean",
            Node::Int(..) => "an integer",
            Node::Float(..) => "a number",
            Node::Str(..) => "a string",
            Node::Seq(..) => "a list",
            Node::Map(..) => "a mapping",
        }
    }

    /// The scalar as text (strings, numbers, booleans), as pySigma's `str()` would give it.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Node::Str(s, _) => Some(s.clone()),
            Node::Int(i, _) => Some(i.to_string()),
            Node::Float(f, _) => Some(f.to_string()),
            Node::Bool(b, _) => Some(if *b { "True" } else { "False" }.to_string()),
            _ => None,
        }
    }
}

/// Why a text is not a YAML document this module can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// Where.
    pub pos: Pos,
    /// What.
    pub message: String,
}

/// Parses the first document of `text`; an empty text is a `null` document.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    let docs = MarkedYaml::load_from_str(text).map_err(|e| YamlError {
        pos: Pos::from_marker(e.marker()),
        message: e.info().to_string(),
    })?;
    match docs.into_iter().next() {
        Some(doc) => convert(&doc),
        None => Ok(Node::Null(Pos { line: 1, column: 1 })),
    }
}

fn convert(node: &MarkedYaml<'_>) -> Result<Node, YamlError> {
    let pos = Pos::from_marker(&node.span.start);
    convert_data(&node.data, pos)
}

fn convert_data<'a>(data: &YamlData<'a, MarkedYaml<'a>>, pos: Pos) -> Result<Node, YamlError> {
    Ok(match data {
        YamlData::Value(s) => scalar(s, pos),
        YamlData::Representation(text, style, tag) => {
            match Scalar::parse_from_cow_and_metadata(
                Cow::Borrowed(text.as_ref()),
                *style,
                tag.as_ref(),
            ) {
                Some(s) => scalar(&s, pos),
                None => {
                    return Err(YamlError {
                        pos,
                        message: format!("`{text}` is not a valid value for its tag"),
                    });
                }
            }
        }
        YamlData::Sequence(items) => {
            Node::Seq(items.iter().map(convert).collect::<Result<_, _>>()?, pos)
        }
        YamlData::Mapping(map) => {
            let mut out = Vec::with_capacity(map.len());
            for (k, v) in map {
                let kpos = Pos::from_marker(&k.span.start);
                let text = match convert(k)? {
                    Node::Null(_) => None,
                    other => Some(other.scalar_text().ok_or_else(|| YamlError {
                        pos: kpos,
                        message: format!("a mapping key must be a scalar, not {}", other.kind()),
                    })?),
                };
                out.push((Key { text, pos: kpos }, convert(v)?));
            }
            Node::Map(out, pos)
        }
        YamlData::Tagged(_, inner) => convert(inner)?,
        YamlData::Alias(_) => {
            return Err(YamlError {
                pos,
                message: "YAML aliases are not supported in pipeline files".to_string(),
            });
        }
        YamlData::BadValue => {
            return Err(YamlError {
                pos,
                message: "invalid YAML value".to_string(),
            });
        }
    })
}

fn scalar(s: &Scalar<'_>, pos: Pos) -> Node {
    match s {
        Scalar::Null => Node::Null(pos),
        Scalar::Boolean(b) => Node::Bool(*b, pos),
        Scalar::Integer(i) => Node::Int(*i, pos),
        Scalar::FloatingPoint(f) => Node::Float(f.into_inner(), pos),
        Scalar::String(s) => Node::Str(s.to_string(), pos),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let n = parse("name: x\ntransformations:\n  - id: a\n").expect("valid yaml");
        let Node::Map(entries, _) = n else {
            panic!("expected a mapping")
        };
        assert_eq!(entries[1].0.text.as_deref(), Some("transformations"));
        assert_eq!(entries[1].0.pos, Pos { line: 2, column: 1 });
        let Node::Seq(items, _) = &entries[1].1 else {
            panic!("expected a list")
        };
        let Node::Map(item, _) = &items[0] else {
            panic!("expected a mapping")
        };
        assert_eq!(item[0].0.pos, Pos { line: 3, column: 5 });
    }

    #[test]
    fn scalars_keep_their_types() {
        let n = parse("a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5").expect("valid yaml");
        let Node::Map(e, _) = n else {
            panic!("expected a mapping")
        };
        assert!(matches!(e[0].1, Node::Int(1, _)));
        assert!(matches!(&e[1].1, Node::Str(s, _) if s == "1"));
        assert!(matches!(e[2].1, Node::Bool(true, _)));
        assert!(matches!(e[3].1, Node::Null(_)));
        assert!(matches!(e[4].1, Node::Float(f, _) if (f - 1.5).abs() < 1e-9));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a: [1, 2\nb: c").expect_err("unterminated flow sequence");
        assert!(err.pos.line >= 1);
        assert!(!err.message.is_empty());
    }
}
