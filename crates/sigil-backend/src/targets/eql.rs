//! Elasticsearch EQL, as pySigma-backend-elasticsearch's `EqlBackend` writes it: an
//! `any where` query with `:` (case-insensitive, wildcard-aware) comparisons and
//! `like~` lists.
//!
//! Where the reference's query is not EQL (Elastic's own parser rejects it) the query is
//! written so that it is: `:` and `like~` take strings only, so numbers and booleans compare
//! with `==` and `in`; field names other than dotted identifiers are quoted with backticks;
//! regular expressions are EQL strings (no `\/` escape); and a keyword (field-less) search,
//! which EQL cannot express, fails the rule instead of becoming `any where "text"`.

use sigil_core::{Pattern, Piece};

use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote};
use crate::registry::TargetInfo;
use crate::render::{
    Out, QueryContext, Render, Res, Target, default_field_str, default_in_expression, default_not,
};
use crate::tree::{BoolKind, Node, Str, Value};

use super::elastic;

/// The EQL target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Eql;

/// EQL as data.
pub static DIALECT: Dialect = Dialect {
    name: "eql",
    precedence: [BoolKind::Not, BoolKind::Or, BoolKind::And],
    parenthesize: true,
    group: "({expr})",
    token_separator: " ",
    or_token: "or",
    and_token: "and",
    not_token: "not",
    not_style: NotStyle::Prefix,
    eq_token: ":",
    num_eq_token: Some(" == "),
    field_quote: "`",
    field_quote_when: FieldQuote::UnlessIdentifierPath,
    field_escape: None,
    str_quote: "\"",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    wildcard_multi: Some("*"),
    wildcard_single: Some("?"),
    add_escaped: "\n\r\t\\\"",
    bool_values: Some(["false", "true"]),
    startswith: None,
    endswith: None,
    contains: None,
    wildcard_match: None,
    re_expression: Some("{field} regex~ \"{regex}\""),
    re_escape_char: "\\",
    re_escape: &["\""],
    re_escape_escape_char: true,
    re_flag_prefix: true,
    case_sensitive_match: Some("{field} == {value}"),
    cidr_expression: Some("cidrMatch({field}, \"{network}/{prefixlen}\")"),
    compare_op_expression: Some("{field} {operator} {value}"),
    field_ref: [None, None, None, None],
    field_null: Some("?{field} == null"),
    field_exists: None,
    field_not_exists: None,
    in_list: Some(InList {
        template: "{field}{op}({list})",
        or_op: Some(" like~ "),
        and_op: None,
        separator: ", ",
        allow_wildcards: true,
    }),
    unbound_str: None,
    unbound_num: None,
    unbound_re: None,
};

/// The `eql` target: Elasticsearch EQL over ECS (`ecs_windows` by default).
pub static TARGET: TargetInfo = TargetInfo {
    name: "eql",
    aliases: &[],
    alias_notes: &[],
    engine: "Elasticsearch Event Query Language",
    reference: "pysigma-backend-elasticsearch 2.1.1 `eql`",
    default_pipeline: Some("ecs_windows"),
    formats: &[&crate::format::elastic::EQL_RULES],
    renderer: &Eql,
};

impl Target for Eql {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    /// Analysed text: EQL and ES|QL run regular expressions in Lucene's syntax, over the
    /// whole value ([`sigil_core::words::phrase_lucene_regex`]).
    fn field_phrase(&self, _: &mut Render<'_>, field: &str, phrase: &Pattern) -> Res<Out> {
        let re = sigil_core::words::phrase_lucene_regex(phrase, false);
        let tmpl = DIALECT.re_expression.unwrap_or("{field} rlike \"{regex}\"");
        Ok(Out::Text(crate::dialect::fill(
            tmpl,
            &[("field", &DIALECT.field(field)), ("regex", &re)],
        )))
    }

    fn needs_no_group(&self, outer: BoolKind, inner: &Node) -> bool {
        elastic::needs_no_group(&DIALECT, outer, inner)
    }

    fn not(&self, r: &mut Render<'_>, arg: &Node) -> Res<Out> {
        match elastic::not_null(arg, |f| format!("?{f} != null")) {
            Some(out) => Ok(out),
            None => default_not(r, arg),
        }
    }

    fn field_str(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        // `:` on an empty string matches everything, and on an `ip` field EQL rejects `:`:
        // both compare exactly with `==` (a plain value that parses as an IP address is taken
        // to be one, as the reference does).
        let is_ip = s
            .pattern
            .as_literal()
            .is_some_and(|t| t.parse::<std::net::IpAddr>().is_ok());
        if s.pattern.is_empty() || is_ip {
            let v = self.value_str(&s.pattern)?;
            return Ok(Out::Text(format!("{}=={v}", DIALECT.field(field))));
        }
        if has_literal_wildcard(&s.pattern) {
            // EQL strings cannot escape `*` or `?`, which `:` reads as wildcards: such a
            // value is matched by an (anchored, case-insensitive) regular expression.
            return Ok(Out::Text(format!(
                "{} regex~ \"{}\"",
                DIALECT.field(field),
                wildcard_regex(&s.pattern)
            )));
        }
        default_field_str(r, field, &s.pattern)
    }

    fn field_bool(&self, r: &mut Render<'_>, field: &str, b: bool) -> Res<Out> {
        let _ = r;
        Ok(Out::Text(format!("{} == {b}", DIALECT.field(field))))
    }

    /// `like~` takes strings: a list of numbers is an `in`, a list mixing numbers and
    /// strings one comparison each.
    fn in_expression(&self, r: &mut Render<'_>, kind: BoolKind, args: &[Node]) -> Res<Out> {
        let numbers: Vec<&str> = args
            .iter()
            .filter_map(|a| match a {
                Node::Field {
                    value: Value::Num(n),
                    ..
                } => Some(n.as_str()),
                _ => None,
            })
            .collect();
        let literal_wildcards = args.iter().any(|a| {
            matches!(a, Node::Field { value: Value::Str(s), .. } if has_literal_wildcard(&s.pattern))
        });
        match (numbers.len(), args.first()) {
            (0, _) if literal_wildcards => r.bool_op(kind, args),
            (0, _) => default_in_expression(r, kind, args),
            (n, Some(Node::Field { field, .. })) if n == args.len() => Ok(Out::Text(format!(
                "{} in ({})",
                DIALECT.field(field),
                numbers.join(", ")
            ))),
            _ => r.bool_op(kind, args),
        }
    }

    fn expansion(&self, r: &mut Render<'_>, field: &str, values: &[Value]) -> Res<Out> {
        elastic::expansion(r, field, values)
    }

    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        let _ = ctx;
        Ok(format!("any where {}", r.text_of(&query)))
    }
}

/// Whether the pattern holds a literal `*` or `?`.
fn has_literal_wildcard(p: &Pattern) -> bool {
    p.literals().any(|l| l.contains(['*', '?']))
}

/// The pattern as a Lucene regular expression (what EQL's `regex~` reads) inside an EQL
/// string: literal text escaped, `*` as `.*`, `?` as `.`, then `\\` and `"` escaped for the
/// string.
fn wildcard_regex(p: &Pattern) -> String {
    let mut re = String::new();
    for piece in p.pieces() {
        match piece {
            Piece::Lit(s) => {
                for c in s.chars() {
                    if ".?+*|{}[]()\"\\#@&<>~".contains(c) {
                        re.push('\\');
                    }
                    re.push(c);
                }
            }
            Piece::AnyMany | Piece::Placeholder(_) => re.push_str(".*"),
            Piece::AnyOne => re.push('.'),
        }
    }
    re.replace('\\', "\\\\").replace('"', "\\\"")
}
