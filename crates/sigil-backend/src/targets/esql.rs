//! Elasticsearch ES|QL, as pySigma-backend-elasticsearch's `ESQLBackend` writes it:
//! `from <index> metadata ... | where <condition>`.

use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote};
use crate::registry::TargetInfo;
use crate::render::{Out, QueryContext, Render, Res, Target};
use crate::tree::BoolKind;
use sigil_core::Pattern;

/// The ES|QL target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Esql;

/// ES|QL as data.
pub static DIALECT: Dialect = Dialect {
    name: "esql",
    precedence: [BoolKind::Not, BoolKind::And, BoolKind::Or],
    parenthesize: false,
    group: "({expr})",
    token_separator: " ",
    or_token: "or",
    and_token: "and",
    not_token: "not",
    not_style: NotStyle::Prefix,
    eq_token: "==",
    num_eq_token: None,
    field_quote: "`",
    field_quote_when: FieldQuote::UnlessWordOr("."),
    field_escape: None,
    str_quote: "\"",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    wildcard_multi: Some("*"),
    wildcard_single: Some("?"),
    add_escaped: "\\",
    bool_values: Some(["false", "true"]),
    startswith: Some("starts_with({field}, {value})"),
    endswith: Some("ends_with({field}, {value})"),
    contains: None,
    wildcard_match: Some("{field} like {value}"),
    re_expression: Some("{field} rlike \"{regex}\""),
    re_escape_char: "\\",
    re_escape: &["\""],
    re_escape_escape_char: true,
    re_flag_prefix: true,
    case_sensitive_match: None,
    cidr_expression: Some("cidr_match({field}, \"{value}\")"),
    compare_op_expression: Some("{field}{operator}{value}"),
    field_ref: [Some("{field1}=={field2}"), None, None, None],
    field_null: Some("{field} is null"),
    field_exists: Some("{field} is not null"),
    field_not_exists: Some("{field} is null"),
    in_list: Some(InList {
        template: "{field} {op} ({list})",
        or_op: Some("in"),
        and_op: None,
        separator: ", ",
        allow_wildcards: false,
    }),
    unbound_str: None,
    unbound_num: None,
    unbound_re: None,
};

/// The `esql` target: Elasticsearch ES|QL over ECS (`ecs_windows` by default).
pub static TARGET: TargetInfo = TargetInfo {
    name: "esql",
    aliases: &["es|ql"],
    alias_notes: &[],
    engine: "Elasticsearch ES|QL",
    reference: "pysigma-backend-elasticsearch 2.1.1 `esql`",
    default_pipeline: Some("ecs_windows"),
    formats: &[&crate::format::elastic::ESQL_RULES],
    renderer: &Esql,
};

impl Target for Esql {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    /// Analysed text: EQL and ES|QL run regular expressions in Lucene's syntax, over the
    /// whole value ([`sigil_core::words::phrase_lucene_regex`]).
    fn field_phrase(&self, _: &mut Render<'_>, field: &str, phrase: &Pattern) -> Res<Out> {
        let re = sigil_core::words::phrase_lucene_regex(phrase, true);
        let tmpl = DIALECT.re_expression.unwrap_or("{field} rlike \"{regex}\"");
        Ok(Out::Text(crate::dialect::fill(
            tmpl,
            &[("field", &DIALECT.field(field)), ("regex", &re)],
        )))
    }

    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        let index = ctx.state.get("index").map_or("*", String::as_str);
        Ok(format!(
            "from {index} metadata _id, _index, _version | where {}",
            r.text_of(&query)
        ))
    }
}
