//! Google SecOps (Chronicle) UDM search, as pysigma-backend-secops 1.0.0's `SecOpsBackend`
//! writes it: string comparisons are `field = "value" nocase` or, with wildcards, regular
//! expressions `field = /\\cmd\.exe$/ nocase`; a field with several values is one regular
//! expression of alternatives; negation is written as `!=` on each comparison (UDM search
//! gives `NOT` other results than `!=`), an `OR` is always in parentheses;
//! the rule's UDM event types (from the `secops_udm` pipeline) go in front:
//! `(metadata.event_type = "PROCESS_LAUNCH") AND (...)`.
//!
//! Where the reference writes something that means another thing, sigil writes the rule's
//! meaning (`docs/conversion-differences.md`): a negated `and` is an `or` of the negations
//! (De Morgan) and a negated `or` an `and`; numbers, null tests, CIDR and comparisons are
//! negated too; the alternatives of a list keep their anchors (`^a$|^b$`, `\\a\.exe$`) and
//! escapes; a wildcard in the middle of a value is a regular expression; a regular expression
//! keeps its backslashes and is `nocase` only with the `i` flag; `windash` alternatives are
//! grouped; a rule without event types is the query alone; keywords, which UDM search cannot
//! express, fail the rule.

use sigil_core::{Pattern, Piece, RegexFlags};

use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote};
use crate::error::ConvertError;
use crate::format::yara_l::YARA_L;
use crate::registry::TargetInfo;
use crate::render::{QueryContext, Render, Res, StrOp, Target, choose_str_op, decide_in};
use crate::tree::{BoolKind, CmpOp, Node, Value};

/// The SecOps UDM target.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecOps;

/// UDM search as data; the comparisons are written by [`SecOps`]'s own printer.
pub static DIALECT: Dialect = Dialect {
    name: "secops",
    precedence: [BoolKind::Not, BoolKind::And, BoolKind::Or],
    parenthesize: false,
    group: "({expr})",
    token_separator: " ",
    or_token: "OR",
    and_token: "AND",
    not_token: "NOT",
    not_style: NotStyle::Prefix,
    eq_token: " = ",
    num_eq_token: None,
    field_quote: "",
    field_quote_when: FieldQuote::Never,
    field_escape: None,
    str_quote: "\"",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    wildcard_multi: Some("*"),
    wildcard_single: Some("?"),
    add_escaped: "\\",
    bool_values: Some(["false", "true"]),
    startswith: None,
    endswith: None,
    contains: None,
    wildcard_match: None,
    re_expression: Some("{field} = /{regex}/"),
    re_escape_char: "\\",
    re_escape: &["\"", "/"],
    re_escape_escape_char: false,
    re_flag_prefix: false,
    case_sensitive_match: None,
    cidr_expression: Some("net.ip_in_range_cidr({field}, \"{value}\")"),
    compare_op_expression: Some("{field} {operator} {value}"),
    field_ref: [None, None, None, None],
    field_null: Some("{field} = \"\""),
    field_exists: Some("{field} != \"\""),
    field_not_exists: Some("{field} = \"\""),
    // Only the decision which `or` is a list is read from here (see `list`).
    in_list: Some(InList {
        template: "{field} = /{list}/ nocase",
        or_op: Some("="),
        and_op: None,
        separator: "|",
        allow_wildcards: true,
    }),
    unbound_str: None,
    unbound_num: None,
    unbound_re: None,
};

/// The `secops` target; the `secops_udm` pipeline (the default) maps Sigma's fields to UDM.
pub static TARGET: TargetInfo = TargetInfo {
    name: "secops",
    aliases: &["google_secops", "chronicle"],
    alias_notes: &[],
    engine: "Google SecOps (Chronicle) UDM search",
    reference: "pysigma-backend-secops 1.0.0 `secops`",
    default_pipeline: Some("secops_udm"),
    formats: &[&YARA_L],
    renderer: &SecOps,
};

/// Literal characters escaped in a regular expression built from a Sigma string: those
/// special to RE2, and `/`, which ends a UDM regular expression.
const REGEX_SPECIAL: &str = ".*+?^$[](){}\\|/";

fn unsupported(construct: &str) -> ConvertError {
    ConvertError::Unsupported {
        target: "secops",
        construct: construct.to_string(),
        span: sigil_core::Span::default(),
    }
}

/// A Sigma string as the body of a regular expression: literal characters escaped,
/// wildcards as `.*` and `.`.
pub fn regex_body(p: &Pattern) -> Res<String> {
    let mut out = String::with_capacity(p.pieces().len() * 8);
    for piece in p.pieces() {
        match piece {
            Piece::Lit(s) => {
                for c in s.chars() {
                    if REGEX_SPECIAL.contains(c) {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
            Piece::AnyMany => out.push_str(".*"),
            Piece::AnyOne => out.push('.'),
            Piece::Placeholder(_) => return Err(unsupported("an unexpanded placeholder")),
        }
    }
    Ok(out)
}

/// A Sigma string as a whole regular expression: a prefix test `^a`, a suffix test `a$`, a
/// substring `a`, else anchored at both ends (`^a.*b$`).
pub fn pattern_regex(p: &Pattern) -> Res<String> {
    let (op, rest) = choose_str_op(p, [true, true, true, false]);
    let body = regex_body(&rest)?;
    Ok(match op {
        StrOp::StartsWith => format!("^{body}"),
        StrOp::EndsWith => format!("{body}$"),
        StrOp::Contains => body,
        StrOp::Wildcard | StrOp::Equals => format!("^{body}$"),
    })
}

/// A Sigma string without wildcards as a UDM string literal.
pub fn string_literal(p: &Pattern) -> Res<String> {
    let mut out = String::from("\"");
    for piece in p.pieces() {
        match piece {
            Piece::Lit(s) => {
                for c in s.chars() {
                    if matches!(c, '"' | '\\' | '*' | '?') {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
            _ => return Err(unsupported("an unexpanded placeholder")),
        }
    }
    out.push('"');
    Ok(out)
}

/// `=` or `!=`.
fn eq(negated: bool) -> &'static str {
    if negated { "!=" } else { "=" }
}

/// Whether `field` is a UDM enumeration (compared exactly, without `nocase`).
pub fn is_enum(field: &str) -> bool {
    let path = field
        .strip_prefix('$')
        .and_then(|f| f.split_once('.'))
        .map_or(field, |(_, rest)| rest);
    sigil_pipeline::udm::udm().is_enum(path)
}

/// One comparison, negated or not.
pub fn comparison(field: &str, value: &Value, negated: bool) -> Res<String> {
    let f = field;
    Ok(match value {
        Value::Str(s) if s.cased => format!("{f} {} /{}/", eq(negated), pattern_regex(&s.pattern)?),
        Value::Str(s) => {
            if s.pattern.has_wildcards() {
                format!(
                    "{f} {} /{}/ nocase",
                    eq(negated),
                    pattern_regex(&s.pattern)?
                )
            } else {
                let nocase = if is_enum(f) { "" } else { " nocase" };
                format!(
                    "{f} {} {}{nocase}",
                    eq(negated),
                    string_literal(&s.pattern)?
                )
            }
        }
        Value::Num(n) => format!("{f} {} {n}", eq(negated)),
        Value::Bool(b) => format!("{f} {} {b}", eq(negated)),
        Value::Regex { source, flags } => regex_comparison(f, source, *flags, negated),
        Value::Cidr(net) => {
            let call = format!("net.ip_in_range_cidr({f}, \"{net}\")");
            if negated { format!("NOT {call}") } else { call }
        }
        Value::Compare(op, n) => {
            let op = match (op, negated) {
                (CmpOp::Lt, false) | (CmpOp::Gte, true) => "<",
                (CmpOp::Lte, false) | (CmpOp::Gt, true) => "<=",
                (CmpOp::Gt, false) | (CmpOp::Lte, true) => ">",
                (CmpOp::Gte, false) | (CmpOp::Lt, true) => ">=",
            };
            format!("{f} {op} {n}")
        }
        Value::Null | Value::Exists(false) => format!("{f} {} \"\"", eq(negated)),
        Value::Exists(true) => format!("{f} {} \"\"", eq(!negated)),
        Value::Phrase(p) => {
            let source = sigil_core::words::phrase_regex(p);
            regex_comparison(f, &source, RegexFlags::default(), negated)
        }
        Value::FieldRef { .. } => {
            return Err(unsupported("a field reference (`fieldref`)"));
        }
        Value::Expansion(_) => return Err(unsupported("nested alternatives")),
    })
}

/// `field = /regex/`: `/` and `"` escaped (a `\/` already escaped is left alone), `nocase`
/// for the `i` flag, the `m` and `s` flags as an inline prefix.
pub fn regex_comparison(field: &str, source: &str, flags: RegexFlags, negated: bool) -> String {
    let d = &DIALECT;
    let prefix_flags = RegexFlags {
        ignore_case: false,
        ..flags
    };
    let mut re = crate::render::escape_regex(d, source, RegexFlags::default());
    if prefix_flags.multi_line || prefix_flags.dot_all {
        let mut p = String::from("(?");
        if prefix_flags.multi_line {
            p.push('m');
        }
        if prefix_flags.dot_all {
            p.push('s');
        }
        p.push(')');
        re.insert_str(0, &p);
    }
    let nocase = if flags.ignore_case { " nocase" } else { "" };
    format!("{field} {} /{re}/{nocase}", eq(negated))
}

/// Where a node is printed: at the top of the condition, or as an operand (of an `and`,
/// an `or`, or of the condition when a search is the whole condition).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Top,
    In(BoolKind),
}

/// Whether an `or` over one field's values is one regular expression of alternatives.
fn listed(args: &[Node]) -> bool {
    decide_in(&DIALECT, BoolKind::Or, args)
        && args.iter().all(|a| {
            matches!(a, Node::Field { value: Value::Str(s), .. } if !s.cased)
                || matches!(
                    a,
                    Node::Field {
                        value: Value::Num(_),
                        ..
                    }
                )
        })
}

/// One alternative of a list: its regular expression (`^a$` for an exact value).
fn list_item(value: &Value) -> Res<String> {
    match value {
        Value::Str(s) => pattern_regex(&s.pattern),
        Value::Num(n) => Ok(format!("^{}$", regex_body(&Pattern::literal(n))?)),
        _ => Err(unsupported(
            "a list of values that are not strings or numbers",
        )),
    }
}

/// Prints `node`, negated or not; `search` when the node is one search (the condition names
/// one search), whose `or` stands in parentheses.
pub fn expr(node: &Node, negated: bool, search: bool) -> Res<String> {
    let place = if search {
        Place::In(BoolKind::And)
    } else {
        Place::Top
    };
    print(node, negated, place)
}

/// Whether the rule's condition is one search (`selection`, or a `1 of` / `all of` that
/// selects one).
pub fn condition_is_one_search(rule: &sigil_core::Rule) -> bool {
    let sigil_core::RuleBody::Detection(det) = &rule.body else {
        return false;
    };
    det.conditions.iter().all(|c| match c {
        sigil_core::Condition::Search { .. } => true,
        sigil_core::Condition::OneOf(sel) | sigil_core::Condition::AllOf(sel) => {
            det.selected(sel).len() == 1
        }
        _ => false,
    })
}

fn print(node: &Node, negated: bool, place: Place) -> Res<String> {
    match node {
        Node::Not(inner) => {
            let text = print(inner, !negated, place)?;
            // A negated comparison inside an `or` stands in parentheses, as the reference
            // writes every `not` there.
            let grouped_already = effective(inner, !negated) == Some(BoolKind::Or);
            Ok(match place {
                Place::In(BoolKind::Or) if !grouped_already => format!("({text})"),
                _ => text,
            })
        }
        Node::Or(args) | Node::And(args) => {
            let kind = node.kind().unwrap_or(BoolKind::And);
            if kind == BoolKind::Or && listed(args) {
                return list(args, negated);
            }
            let kind = effective(node, negated).unwrap_or(kind);
            let mut parts = Vec::with_capacity(args.len());
            for a in args {
                let text = print(a, negated, Place::In(kind))?;
                let group = kind == BoolKind::Or
                    && matches!(a, Node::And(_) | Node::Or(_))
                    && effective(a, negated) == Some(BoolKind::And);
                parts.push(if group { format!("({text})") } else { text });
            }
            let joined = parts.join(if kind == BoolKind::Or {
                " OR "
            } else {
                " AND "
            });
            // An `or` stands in parentheses, at the top too when it is a search's own (a
            // list of maps, keywords) rather than the condition's (as the reference).
            Ok(if kind == BoolKind::Or && place != Place::Top {
                format!("({joined})")
            } else {
                joined
            })
        }
        Node::Field {
            field,
            value: Value::Expansion(values),
        } => {
            // Alternatives of one value: an `or`, negated an `and`.
            let kind = if negated { BoolKind::And } else { BoolKind::Or };
            let parts: Vec<String> = values
                .iter()
                .map(|v| comparison(field, v, negated))
                .collect::<Res<_>>()?;
            let joined = parts.join(if negated { " AND " } else { " OR " });
            Ok(match (kind, place) {
                (BoolKind::Or, Place::In(BoolKind::And)) => format!("({joined})"),
                (BoolKind::And, Place::In(BoolKind::Or)) => format!("({joined})"),
                _ => joined,
            })
        }
        Node::Field { field, value } => comparison(field, value, negated),
        Node::Keyword(_) => Err(unsupported(
            "a keyword (field-less) search: UDM search compares fields",
        )),
    }
}

/// The boolean kind `node` prints as once negation is pushed down to the comparisons.
fn effective(node: &Node, negated: bool) -> Option<BoolKind> {
    match node {
        Node::Not(inner) => effective(inner, !negated),
        Node::Or(args) if listed(args) => {
            if negated {
                Some(BoolKind::And)
            } else {
                None
            }
        }
        Node::Or(_) if negated => Some(BoolKind::And),
        Node::Or(_) => Some(BoolKind::Or),
        Node::And(_) if negated => Some(BoolKind::Or),
        Node::And(_) => Some(BoolKind::And),
        _ => None,
    }
}

/// An `or` over one field's values: one regular expression of alternatives; negated, one
/// `!=` per value in parentheses.
fn list(args: &[Node], negated: bool) -> Res<String> {
    let mut field = "";
    let mut items = Vec::with_capacity(args.len());
    for a in args {
        if let Node::Field { field: f, value } = a {
            field = f;
            items.push(list_item(value)?);
        }
    }
    let f = field;
    Ok(if negated {
        let parts: Vec<String> = items
            .iter()
            .map(|i| format!("{f} != /{i}/ nocase"))
            .collect();
        format!("({})", parts.join(" AND "))
    } else {
        format!("{f} = /{}/ nocase", items.join("|"))
    })
}

/// The event types the pipeline found (`event_types`, comma-separated) when
/// `prepend_metadata` is on.
pub fn event_types<'a>(ctx: &'a QueryContext<'_>) -> Vec<&'a str> {
    let on = ctx
        .state
        .get("prepend_metadata")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !on {
        return Vec::new();
    }
    ctx.state
        .get("event_types")
        .map(|s| s.split(',').filter(|t| !t.is_empty()).collect())
        .unwrap_or_default()
}

impl Target for SecOps {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn query(&self, _r: &mut Render<'_>, node: &Node, ctx: &QueryContext<'_>) -> Res<String> {
        let query = expr(node, false, condition_is_one_search(ctx.rule))?;
        let types = event_types(ctx);
        if types.is_empty() {
            return Ok(query);
        }
        let meta: Vec<String> = types
            .iter()
            .map(|t| format!("metadata.event_type = \"{t}\""))
            .collect();
        Ok(format!("({}) AND ({query})", meta.join(" OR ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Str;

    fn s(text: &str) -> Value {
        Value::Str(Str {
            pattern: Pattern::parse_sigma(text, false),
            cased: false,
        })
    }

    fn f(field: &str, v: Value) -> Node {
        Node::Field {
            field: field.into(),
            value: v,
        }
    }

    #[test]
    fn strings_by_their_wildcards() {
        let p = |t: &str| comparison("a", &s(t), false).expect("renders");
        assert_eq!(p("x.exe"), "a = \"x.exe\" nocase");
        assert_eq!(p("*\\x.exe"), "a = /\\\\x\\.exe$/ nocase");
        assert_eq!(p("C:\\\\*"), "a = /^C:\\\\/ nocase");
        assert_eq!(p("*a/b*"), "a = /a\\/b/ nocase");
        assert_eq!(p("a*b"), "a = /^a.*b$/ nocase");
        assert_eq!(
            comparison("network.direction", &s("OUTBOUND"), false).expect("renders"),
            "network.direction = \"OUTBOUND\""
        );
    }

    #[test]
    fn negation_goes_down_to_the_comparisons() {
        let a = f("a", s("1"));
        let b = f("b", s("*2"));
        let not_and = Node::Not(Box::new(Node::And(vec![a.clone(), b.clone()])));
        assert_eq!(
            expr(&Node::And(vec![f("c", s("x")), not_and]), false, false).expect("renders"),
            "c = \"x\" nocase AND (a != \"1\" nocase OR b != /2$/ nocase)"
        );
        let not_or = Node::Not(Box::new(Node::Or(vec![a, b])));
        assert_eq!(
            expr(&not_or, false, false).expect("renders"),
            "a != \"1\" nocase AND b != /2$/ nocase"
        );
        let num = Node::Not(Box::new(f("n", Value::Num("4".into()))));
        assert_eq!(expr(&num, false, false).expect("renders"), "n != 4");
    }

    #[test]
    fn lists_keep_their_anchors() {
        let or = Node::Or(vec![
            f("a", s("*\\x.exe")),
            f("a", s("y.exe")),
            f("a", s("z*")),
        ]);
        assert_eq!(
            expr(&or, false, false).expect("renders"),
            "a = /\\\\x\\.exe$|^y\\.exe$|^z/ nocase"
        );
        assert_eq!(
            expr(&Node::Not(Box::new(or)), false, false).expect("renders"),
            "(a != /\\\\x\\.exe$/ nocase AND a != /^y\\.exe$/ nocase AND a != /^z/ nocase)"
        );
    }

    #[test]
    fn regexes_keep_backslashes_and_case() {
        assert_eq!(
            regex_comparison("a", "\\d/x", RegexFlags::default(), false),
            "a = /\\d\\/x/"
        );
        let i = RegexFlags {
            ignore_case: true,
            ..RegexFlags::default()
        };
        assert_eq!(
            regex_comparison("a", "b\\/c", i, true),
            "a != /b\\/c/ nocase"
        );
    }
}
