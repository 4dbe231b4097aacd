//! Lowering of Sigma searches (`detection:` entries) into IR expressions.
//!
//! - a mapping is an `And` of its items (`field|modifiers: values`);
//! - a list of mappings is an `Or` of them; plain values in a list are keywords
//!   (field-less predicates), gathered into one predicate whose values are alternatives;
//! - a single plain value is a keyword.
//!
//! Edge cases, decided here once:
//! - `field: []` is a predicate with no values: it never matches (an empty `Or`); `sigil
//!   check` warns about it.
//! - `field: ''` compares with the empty string (`contains` of `''` matches any value).
//! - `field: null` is `Value::Null`: the field is absent.
//! - `|all` with a single value keeps `Flags::all` (the meaning is the same); `sigil
//!   check` warns, as the specification forbids it.
//! - `'|all': [a, b]` (a key with no field) is a keyword predicate whose values must all
//!   occur.

use sigil_core::{
    Encoding, Expr, Flags, Op, Pattern, Predicate, RegexFlags, Span, TimePart, Value,
};

use crate::SigmaError;
use crate::modifier::Modifier;
use crate::yaml::{Node, NodeValue, Resolved};

/// Lowers the definition of one search.
pub fn lower_search(node: &Node<'_>) -> Result<Expr, SigmaError> {
    lower_search_owned(node.clone())
}

/// [`lower_search`] moving the texts of `node` into the expression.
pub(crate) fn lower_search_owned(node: Node<'_>) -> Result<Expr, SigmaError> {
    let span = node.span;
    match node.value {
        NodeValue::Map(pairs) => lower_map(pairs),
        NodeValue::Seq(items) => {
            let mut alternatives = Vec::new();
            let mut keywords: Vec<Node<'_>> = Vec::new();
            for item in items {
                match item.value {
                    NodeValue::Map(pairs) => alternatives.push(lower_map(pairs)?),
                    NodeValue::Scalar(_) => keywords.push(item),
                    NodeValue::Seq(_) => {
                        return Err(SigmaError::WrongType {
                            field: "a search list item".into(),
                            expected: "a mapping or a value",
                            found: "a list",
                            span: item.span,
                        });
                    }
                }
            }
            if !keywords.is_empty() {
                let span = keywords[0].span;
                let pred = build_predicate(None, &[], keywords, span, span)?;
                // Keywords come first: they are usually the whole search.
                alternatives.insert(0, pred);
            }
            Ok(if alternatives.len() == 1 {
                alternatives.remove(0)
            } else {
                Expr::Or(alternatives)
            })
        }
        value @ NodeValue::Scalar(_) => {
            let node = Node { span, value };
            if node.is_null() {
                return Err(SigmaError::WrongType {
                    field: "a search".into(),
                    expected: "a mapping or a list",
                    found: "null",
                    span,
                });
            }
            build_predicate(None, &[], vec![node], span, span)
        }
    }
}

fn lower_map(pairs: Vec<(Node<'_>, Node<'_>)>) -> Result<Expr, SigmaError> {
    let mut items = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        items.push(lower_item(key, value)?);
    }
    Ok(if items.len() == 1 {
        items.remove(0)
    } else {
        Expr::And(items)
    })
}

/// Splits `Field|mod1|mod2` into the field (`None` when empty: a keyword) and modifiers.
pub fn split_key(key: &str) -> (Option<&str>, Vec<&str>) {
    let mut parts = key.split('|');
    let field = parts.next().filter(|f| !f.is_empty());
    (field, parts.collect())
}

fn lower_item(key: Node<'_>, value: Node<'_>) -> Result<Expr, SigmaError> {
    let key_span = key.span;
    let NodeValue::Scalar(key_scalar) = key.value else {
        return Err(SigmaError::WrongType {
            field: "a field name".into(),
            expected: "a string",
            found: key.kind_name(),
            span: key_span,
        });
    };
    let key_text = key_scalar.text.as_ref();
    let (field, names) = split_key(key_text);
    let mut modifiers = Vec::with_capacity(names.len());
    for name in names {
        match Modifier::from_name(name) {
            Some(m) => modifiers.push(m),
            None => {
                return Err(SigmaError::UnknownModifier {
                    modifier: name.to_string(),
                    suggestion: Modifier::closest(name),
                    span: key_span,
                });
            }
        }
    }
    let value_span = value.span;
    let values: Vec<Node<'_>> = match value.value {
        value @ NodeValue::Scalar(_) => vec![Node {
            span: value_span,
            value,
        }],
        NodeValue::Seq(items) => {
            for item in &items {
                if !matches!(item.value, NodeValue::Scalar(_)) {
                    return Err(SigmaError::WrongType {
                        field: format!("the values of `{key_text}`"),
                        expected: "plain values",
                        found: item.kind_name(),
                        span: item.span,
                    });
                }
            }
            items
        }
        NodeValue::Map(_) => {
            return Err(SigmaError::WrongType {
                field: key_text.to_string(),
                expected: "a value or a list of values",
                found: "a mapping",
                span: value_span,
            });
        }
    };
    // A key without modifiers is the field name itself: it moves into the predicate.
    let field = match field {
        Some(_) if modifiers.is_empty() => Some(key_scalar.text.into_owned()),
        other => other.map(str::to_string),
    };
    build_predicate(field, &modifiers, values, key_span, value_span)
}

/// The kind of value a modifier chain works on, as pySigma types it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Num,
    Bool,
    Null,
    Regex,
    Cidr,
    FieldRef,
    Compare,
    Exists,
    TimePart,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Str => "a string",
            Kind::Num => "a number",
            Kind::Bool => "a boolean",
            Kind::Null => "null",
            Kind::Regex => "a regular expression",
            Kind::Cidr => "a CIDR network",
            Kind::FieldRef => "a field reference",
            Kind::Compare => "a numeric comparison",
            Kind::Exists => "an existence check",
            Kind::TimePart => "a timestamp part",
        }
    }

    fn of(node: &Node<'_>) -> Kind {
        match node.as_scalar().map(crate::yaml::Scalar::resolve) {
            Some(Resolved::Null) => Kind::Null,
            Some(Resolved::Bool(_)) => Kind::Bool,
            Some(Resolved::Int(_) | Resolved::Float(_)) => Kind::Num,
            _ => Kind::Str,
        }
    }
}

/// Whether `modifiers` can be written after a field (`None`: a keyword) for some value: a
/// string, a number or a boolean. Editors offer only the modifiers that keep a chain valid.
pub fn chain_is_valid(field: Option<&str>, modifiers: &[Modifier]) -> bool {
    [Kind::Str, Kind::Num, Kind::Bool]
        .into_iter()
        .any(|start| check_chain(start, modifiers, field).is_ok())
}

/// Runs a value of kind `start` through the chain, as pySigma's type checks do.
/// Numbers are accepted where strings are expected (as their text), a leniency over
/// pySigma that no rule relies on the absence of.
fn check_chain(start: Kind, modifiers: &[Modifier], field: Option<&str>) -> Result<Kind, String> {
    let mut kind = start;
    let mut made_by: Option<Modifier> = None;
    for (i, &m) in modifiers.iter().enumerate() {
        let stringish = |k: Kind| matches!(k, Kind::Str | Kind::Num);
        let refuse = |kind: Kind, made_by: Option<Modifier>| {
            let mut msg = format!(
                "modifier `{}` cannot apply to {}",
                m.name(),
                kind.describe()
            );
            if let Some(p) = made_by {
                msg = format!("{msg} (made by `{}`)", p.name());
            }
            msg
        };
        let first_only = |what: &str| format!("modifier `{}` must come first: {what}", m.name());
        let next = match m {
            Modifier::All | Modifier::Neq => kind,
            Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith => match kind {
                Kind::Str | Kind::Num => Kind::Str,
                Kind::Regex | Kind::FieldRef => kind,
                _ => return Err(refuse(kind, made_by)),
            },
            Modifier::Base64 | Modifier::Base64Offset => {
                if let Some(w) = modifiers[..i].iter().find(|p| {
                    matches!(
                        p,
                        Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith
                    )
                }) {
                    return Err(format!(
                        "modifier `{}` cannot follow `{}`: base64 of a value with wildcards has no meaning; write `{}|{}`",
                        m.name(),
                        w.name(),
                        m.name(),
                        w.name()
                    ));
                }
                if stringish(kind) {
                    Kind::Str
                } else {
                    return Err(refuse(kind, made_by));
                }
            }
            Modifier::Utf16Le
            | Modifier::Utf16Be
            | Modifier::Utf16
            | Modifier::Windash
            | Modifier::Cased => {
                if stringish(kind) {
                    Kind::Str
                } else {
                    return Err(refuse(kind, made_by));
                }
            }
            Modifier::Expand => match kind {
                Kind::Str | Kind::Num => Kind::Str,
                Kind::Regex => Kind::Regex,
                _ => return Err(refuse(kind, made_by)),
            },
            Modifier::Re => {
                if i > 0 {
                    return Err(first_only("a regular expression is taken as written"));
                }
                if stringish(kind) {
                    Kind::Regex
                } else {
                    return Err(refuse(kind, made_by));
                }
            }
            Modifier::ReIgnoreCase | Modifier::ReMultiLine | Modifier::ReDotAll => {
                if kind == Kind::Regex {
                    Kind::Regex
                } else {
                    return Err(format!(
                        "modifier `{}` is a regular-expression flag and needs `re` before it",
                        m.name()
                    ));
                }
            }
            Modifier::Cidr => {
                if i > 0 {
                    return Err(first_only("a network is taken as written"));
                }
                if kind == Kind::Str {
                    Kind::Cidr
                } else {
                    return Err(refuse(kind, made_by));
                }
            }
            Modifier::Lt | Modifier::Lte | Modifier::Gt | Modifier::Gte => {
                if kind == Kind::Num {
                    Kind::Compare
                } else {
                    return Err(refuse(kind, made_by));
                }
            }
            Modifier::Minute
            | Modifier::Hour
            | Modifier::Day
            | Modifier::Week
            | Modifier::Month
            | Modifier::Year => {
                if kind == Kind::Num {
                    Kind::TimePart
                } else {
                    return Err(refuse(kind, made_by));
                }
            }
            Modifier::FieldRef => {
                if kind == Kind::Str {
                    Kind::FieldRef
                } else {
                    return Err(refuse(kind, made_by));
                }
            }
            Modifier::Exists => {
                if field.is_none() {
                    return Err("modifier `exists` needs a field".into());
                }
                if i > 0 {
                    return Err(first_only("it takes a plain boolean"));
                }
                if kind == Kind::Bool {
                    Kind::Exists
                } else {
                    return Err(refuse(kind, made_by));
                }
            }
        };
        if next != kind || !matches!(m, Modifier::All | Modifier::Neq) {
            made_by = Some(m);
        }
        kind = next;
    }
    Ok(kind)
}

/// Builds the predicate of one item: `field|modifiers: values`.
fn build_predicate(
    field: Option<String>,
    modifiers: &[Modifier],
    values: Vec<Node<'_>>,
    key_span: Span,
    value_span: Span,
) -> Result<Expr, SigmaError> {
    // Check the chain once per kind of value present.
    let mut checked: [Option<Kind>; 4] = [None; 4];
    let mut kinds = Vec::with_capacity(values.len());
    for v in &values {
        let start = Kind::of(v);
        let slot = match start {
            Kind::Str => 0,
            Kind::Num => 1,
            Kind::Bool => 2,
            _ => 3,
        };
        let end = if let Some(k) = checked[slot] {
            k
        } else {
            let k = check_chain(start, modifiers, field.as_deref()).map_err(|message| {
                SigmaError::ModifierChain {
                    message,
                    span: key_span,
                }
            })?;
            checked[slot] = Some(k);
            k
        };
        kinds.push(end);
    }

    let mut op = Op::Equals;
    let mut flags = Flags::default();
    let mut negate = false;
    let mut regex = RegexFlags::default();
    for &m in modifiers {
        match m {
            Modifier::Contains => {
                if op != Op::Regex {
                    op = Op::Contains;
                }
            }
            Modifier::StartsWith => {
                op = match op {
                    Op::Equals => Op::StartsWith,
                    Op::EndsWith | Op::Contains => Op::Contains,
                    other => other,
                };
            }
            Modifier::EndsWith => {
                op = match op {
                    Op::Equals => Op::EndsWith,
                    Op::StartsWith | Op::Contains => Op::Contains,
                    other => other,
                };
            }
            Modifier::All => flags.all = true,
            Modifier::Exists => op = Op::Exists,
            Modifier::Cased => flags.cased = true,
            Modifier::Neq => negate = true,
            Modifier::Windash => flags.windash = true,
            Modifier::Re => op = Op::Regex,
            Modifier::ReIgnoreCase => regex.ignore_case = true,
            Modifier::ReMultiLine => regex.multi_line = true,
            Modifier::ReDotAll => regex.dot_all = true,
            Modifier::Base64 => flags.encodings.push(Encoding::Base64),
            Modifier::Base64Offset => flags.encodings.push(Encoding::Base64Offset),
            Modifier::Utf16Le => flags.encodings.push(Encoding::Utf16Le),
            Modifier::Utf16Be => flags.encodings.push(Encoding::Utf16Be),
            Modifier::Utf16 => flags.encodings.push(Encoding::Utf16),
            Modifier::Lt => op = Op::Lt,
            Modifier::Lte => op = Op::Lte,
            Modifier::Gt => op = Op::Gt,
            Modifier::Gte => op = Op::Gte,
            Modifier::Minute => flags.time_part = Some(TimePart::Minute),
            Modifier::Hour => flags.time_part = Some(TimePart::Hour),
            Modifier::Day => flags.time_part = Some(TimePart::Day),
            Modifier::Week => flags.time_part = Some(TimePart::Week),
            Modifier::Month => flags.time_part = Some(TimePart::Month),
            Modifier::Year => flags.time_part = Some(TimePart::Year),
            Modifier::Cidr => op = Op::Cidr,
            Modifier::Expand => flags.expand = true,
            Modifier::FieldRef => {}
        }
    }
    flags.regex = regex;

    let mut out = Vec::with_capacity(values.len());
    for (node, kind) in values.into_iter().zip(kinds) {
        out.push(lower_value(node, kind, &flags)?);
    }

    if negate && op == Op::Equals {
        op = Op::NotEquals;
        negate = false;
    }
    let span = if field.is_none() && modifiers.is_empty() {
        value_span
    } else {
        key_span
    };
    let pred = Expr::Pred(Predicate {
        field,
        op,
        values: out,
        flags,
        span,
    });
    Ok(if negate {
        Expr::Not(Box::new(pred))
    } else {
        pred
    })
}

/// One value, given the kind the modifier chain made of it. Its text moves into the value.
fn lower_value(node: Node<'_>, kind: Kind, flags: &Flags) -> Result<Value, SigmaError> {
    let span = node.span;
    let scalar = match node.value {
        NodeValue::Scalar(scalar) => scalar,
        value => {
            return Err(SigmaError::WrongType {
                field: "a value".into(),
                expected: "a plain value",
                found: Node { span, value }.kind_name(),
                span,
            });
        }
    };
    let invalid = |message: String| SigmaError::InvalidValue { message, span };
    Ok(match kind {
        Kind::Null => Value::Null,
        Kind::Bool | Kind::Exists => match scalar.resolve() {
            Resolved::Bool(b) => Value::Bool(b),
            _ => Value::str(scalar.text),
        },
        Kind::Num | Kind::Compare | Kind::TimePart => match scalar.resolve() {
            Resolved::Int(i) => Value::Int(i),
            Resolved::Float(f) => Value::Float(f),
            _ => Value::str(scalar.text),
        },
        Kind::Regex => Value::Regex(scalar.text.into_owned()),
        Kind::Cidr => {
            let text = scalar.text.as_ref();
            Value::Cidr(
                parse_network(text)
                    .ok_or_else(|| invalid(format!("`{text}` is not an IPv4 or IPv6 network")))?,
            )
        }
        Kind::FieldRef => {
            let text = scalar.text.as_ref();
            let p = Pattern::parse_sigma(text, false);
            if p.has_wildcards() {
                return Err(invalid(format!(
                    "field reference `{text}` must not hold wildcards"
                )));
            }
            Value::FieldRef(p.as_literal().unwrap_or(text).to_string())
        }
        Kind::Str => {
            let text = scalar.text;
            // Text without escapes, wildcards or placeholders is one literal: it moves into
            // the pattern as it is (and base64 of it has a meaning).
            let special = |b: u8| matches!(b, b'\\' | b'*' | b'?') || (flags.expand && b == b'%');
            if !text.bytes().any(special) {
                return Ok(Value::Str(Pattern::literal(text.into_owned())));
            }
            let p = Pattern::parse_sigma(&text, flags.expand);
            let base64 = flags
                .encodings
                .iter()
                .any(|e| matches!(e, Encoding::Base64 | Encoding::Base64Offset));
            if base64 && (p.has_wildcards() || p.has_placeholders()) {
                return Err(invalid(format!(
                    "`{text}` holds wildcards: base64 of a pattern has no meaning"
                )));
            }
            Value::Str(p)
        }
    })
}

/// An IPv4/IPv6 network (`10.0.0.0/8`, `fe80::/10`) or a single address.
fn parse_network(text: &str) -> Option<ipnet::IpNet> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>().ok().or_else(|| {
        text.parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}
