//! The query tree: the target-independent shape a backend prints.
//!
//! It follows the condition tree the reference converter (pySigma) builds, node for node,
//! because where a printer puts parentheses depends on that shape: a search that is a map
//! is an `And` of its fields, a field with several values an `Or` of one comparison per
//! value, and a modifier that yields several alternatives of one value (`windash`,
//! `base64offset`) an [`Value::Expansion`] that prints like an `Or`.

use ipnet::IpNet;
use sigil_core::{Pattern, RegexFlags};

/// A node of the query tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// All must hold.
    And(Vec<Node>),
    /// At least one must hold.
    Or(Vec<Node>),
    /// Negation.
    Not(Box<Node>),
    /// `field` compared with one value.
    Field {
        /// The event field.
        field: String,
        /// The value and how it is compared.
        value: Value,
    },
    /// A value searched anywhere in the event (a Sigma keyword).
    Keyword(Value),
}

impl Node {
    /// The boolean kind of the node, for precedence decisions.
    pub fn kind(&self) -> Option<BoolKind> {
        match self {
            Node::And(_) => Some(BoolKind::And),
            Node::Or(_) => Some(BoolKind::Or),
            Node::Not(_) => Some(BoolKind::Not),
            Node::Field { .. } | Node::Keyword(_) => None,
        }
    }

    /// Whether any comparison below matches `pred`.
    pub fn any_leaf(&self, pred: &mut impl FnMut(&Value) -> bool) -> bool {
        match self {
            Node::And(v) | Node::Or(v) => v.iter().any(|n| n.any_leaf(pred)),
            Node::Not(n) => n.any_leaf(pred),
            Node::Field { value, .. } | Node::Keyword(value) => pred(value),
        }
    }
}

/// The three boolean operators, ranked by a dialect's precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoolKind {
    /// `not`
    Not,
    /// `and`
    And,
    /// `or`
    Or,
}

/// A string value with the case sensitivity it is compared with.
#[derive(Debug, Clone, PartialEq)]
pub struct Str {
    /// Literal text, wildcards and placeholders.
    pub pattern: Pattern,
    /// Compared case-sensitively (`cased`).
    pub cased: bool,
}

/// A numeric comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
}

/// A value of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string, possibly with wildcards.
    Str(Str),
    /// A number, as the text it is printed with.
    Num(String),
    /// A boolean.
    Bool(bool),
    /// A regular expression with its flags.
    Regex {
        /// The expression source.
        source: String,
        /// `i`, `m`, `s`.
        flags: RegexFlags,
    },
    /// An IP network.
    Cidr(IpNet),
    /// A numeric comparison.
    Compare(CmpOp, String),
    /// The value of another field.
    FieldRef {
        /// The other field.
        field: String,
        /// The compared field starts with the other's value.
        starts_with: bool,
        /// The compared field ends with the other's value.
        ends_with: bool,
    },
    /// The field is null (absent).
    Null,
    /// The field exists (`true`) or not (`false`).
    Exists(bool),
    /// Alternatives of one written value (any may match).
    Expansion(Vec<Value>),
    /// A phrase of words in analysed full text (an Elastic `text` field): the words in
    /// order, case-insensitively, wildcards within a word ([`sigil_core::words`]).
    Phrase(Pattern),
}

impl Value {
    /// The plain string, if the value is one (not cased).
    pub fn as_str(&self) -> Option<&Str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}
