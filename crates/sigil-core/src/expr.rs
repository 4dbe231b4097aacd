//! Search expressions: boolean combinations of predicates.

use serde::{Deserialize, Serialize};

use crate::{Pattern, Span};

/// A boolean expression over predicates. A Sigma search (one search identifier) lowers to
/// one `Expr`: a map is an `And` of its items, a list of maps an `Or`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    /// All must hold (an empty `And` is true).
    And(Vec<Expr>),
    /// At least one must hold (an empty `Or` is false).
    Or(Vec<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// A leaf.
    Pred(Predicate),
}

impl Expr {
    /// Calls `f` on every predicate, in source order.
    pub fn for_each_predicate<'a>(&'a self, f: &mut impl FnMut(&'a Predicate)) {
        match self {
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| e.for_each_predicate(f)),
            Expr::Not(e) => e.for_each_predicate(f),
            Expr::Pred(p) => f(p),
        }
    }

    /// The predicates of the expression, in source order.
    pub fn predicates(&self) -> Vec<&Predicate> {
        let mut out = Vec::new();
        self.for_each_predicate(&mut |p| out.push(p));
        out
    }
}

/// A leaf of the detection logic: `(field or keyword, operator, values, flags)`.
///
/// The values are alternatives (any one may match) unless [`Flags::all`] is set, in which
/// case all must match. The operator applies to each value after the value encodings of
/// [`Flags`] (see [`crate::encode`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predicate {
    /// The event field, or `None` for a keyword search (matches any value of the event).
    pub field: Option<String>,
    /// How each value is compared.
    pub op: Op,
    /// The values, as written (before encodings are applied).
    pub values: Vec<Value>,
    /// Modifier flags.
    pub flags: Flags,
    /// Where the predicate was written (the field key, or the keyword value).
    pub span: Span,
}

impl Predicate {
    /// A predicate with default flags and no span.
    pub fn new(field: Option<String>, op: Op, values: Vec<Value>) -> Self {
        Self {
            field,
            op,
            values,
            flags: Flags::default(),
            span: Span::default(),
        }
    }

    /// Whether this is a keyword (field-less) predicate.
    pub fn is_keyword(&self) -> bool {
        self.field.is_none()
    }
}

/// The comparison of a predicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Whole-value match; the value may hold wildcards (then it is a wildcard match).
    Equals,
    /// Substring (`contains`).
    Contains,
    /// Prefix (`startswith`).
    StartsWith,
    /// Suffix (`endswith`).
    EndsWith,
    /// Regular expression (`re`), unanchored as in the specification.
    Regex,
    /// IP address inside a network (`cidr`), IPv4 or IPv6.
    Cidr,
    /// Numeric `<` (`lt`).
    Lt,
    /// Numeric `<=` (`lte`).
    Lte,
    /// Numeric `>` (`gt`).
    Gt,
    /// Numeric `>=` (`gte`).
    Gte,
    /// Not equal (`neq`): the field exists and differs from every value.
    NotEquals,
    /// The field is present (value `true`) or absent (value `false`) (`exists`).
    Exists,
}

impl Op {
    /// The name used in analyses and JSON output.
    pub fn kind(self) -> &'static str {
        match self {
            Op::Equals => "equals",
            Op::Contains => "contains",
            Op::StartsWith => "starts_with",
            Op::EndsWith => "ends_with",
            Op::Regex => "regex",
            Op::Cidr => "cidr",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::NotEquals => "neq",
            Op::Exists => "exists",
        }
    }

    /// Whether this is a numeric comparison.
    pub fn is_numeric(self) -> bool {
        matches!(self, Op::Lt | Op::Lte | Op::Gt | Op::Gte)
    }
}

/// A value of a predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// A string, possibly with wildcards and placeholders.
    Str(Pattern),
    /// An integer as written (`EventID: 4688`); matches the number or its decimal text.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// `null`: the field is absent from the event (as pySigma reads it).
    Null,
    /// A regular expression source (under [`Op::Regex`]).
    Regex(String),
    /// A network (under [`Op::Cidr`]).
    Cidr(ipnet::IpNet),
    /// The value of another field of the same event (`fieldref`).
    FieldRef(String),
}

impl Value {
    /// A plain literal string value.
    pub fn str(s: impl Into<String>) -> Self {
        Value::Str(Pattern::literal(s))
    }

    /// The value as it would be written in a rule.
    pub fn to_text(&self) -> String {
        match self {
            Value::Str(p) => p.to_sigma(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".to_string(),
            Value::Regex(r) => r.clone(),
            Value::Cidr(n) => n.to_string(),
            Value::FieldRef(f) => f.clone(),
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// The flags that qualify a predicate (Sigma's value modifiers other than the operator).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Flags {
    /// Case-sensitive comparison (`cased`); Sigma compares case-insensitively by default.
    pub cased: bool,
    /// All values must match (`all`) rather than any.
    pub all: bool,
    /// Byte encodings applied to string values, in order (`wide|base64offset` ...).
    pub encodings: Vec<Encoding>,
    /// Windows dash variants (`windash`): `-` and `/` at the start of a word also match
    /// `/`, `-`, en dash, em dash and horizontal bar.
    pub windash: bool,
    /// Regex flags (`re|i`, `re|m`, `re|s`).
    pub regex: RegexFlags,
    /// Values hold placeholders to be expanded by a pipeline (`expand`).
    pub expand: bool,
    /// Compare a part of a timestamp field rather than the field itself (`minute` ...).
    pub time_part: Option<TimePart>,
    /// The field is analysed full text (Elasticsearch `text` and `match_only_text`): a
    /// string value matches as a phrase of words, case-insensitively, its wildcards within
    /// one word ([`crate::words`]). Elastic rules set it from the field types.
    pub words: bool,
}

/// A byte encoding of a string value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// Base64 of the bytes (`base64`).
    Base64,
    /// The three base64 renderings of the bytes at any offset (`base64offset`).
    Base64Offset,
    /// UTF-16 little endian (`utf16le`, and `wide`, its alias).
    Utf16Le,
    /// UTF-16 big endian (`utf16be`).
    Utf16Be,
    /// UTF-16 little endian with a byte-order mark (`utf16`).
    Utf16,
}

/// Regular-expression flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RegexFlags {
    /// `i`: case-insensitive.
    pub ignore_case: bool,
    /// `m`: `^` and `$` match at line ends.
    pub multi_line: bool,
    /// `s`: `.` matches a newline.
    pub dot_all: bool,
}

/// A part of a timestamp (`minute`, `hour`, `day`, `week`, `month`, `year`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimePart {
    /// Minute of the hour.
    Minute,
    /// Hour of the day.
    Hour,
    /// Day of the month.
    Day,
    /// ISO week of the year.
    Week,
    /// Month of the year.
    Month,
    /// Year.
    Year,
}
