//! Elasticsearch EQL, as pySigma-backend-elasticsearch's `EqlBackend` writes it: an
//! `any where` query with `:` (case-insensitive, wildcard-aware) comparisons and
//! `like~` lists.

use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote};
use crate::registry::TargetInfo;
use crate::render::{Out, QueryContext, Render, Res, Target, default_field_str, default_not};
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
    num_eq_token: None,
    field_quote: "`",
    field_quote_when: FieldQuote::DigitDashOrSpace,
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
    re_escape: &["/"],
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
    unbound_str: Some("{value}"),
    unbound_num: Some("{value}"),
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
        default_field_str(r, field, &s.pattern)
    }

    fn expansion(&self, r: &mut Render<'_>, field: &str, values: &[Value]) -> Res<Out> {
        elastic::expansion(r, field, values)
    }

    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        let _ = ctx;
        Ok(format!("any where {}", r.text_of(&query)))
    }
}
