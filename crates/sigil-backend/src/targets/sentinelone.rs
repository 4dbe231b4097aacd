//! SentinelOne PowerQuery, as pysigma-backend-sentinelone-pq writes it: a filter
//! expression over Deep Visibility events (`tgt.process.cmdline contains "x"`), with
//! ` | columns ...` appended when the rule lists fields.
//!
//! PowerQuery strings have no wildcards of their own: a prefix, suffix or substring test is
//! `contains` (prefix and suffix tests are therefore widened to substring tests, as in the
//! reference; `docs/conversion-differences.md`), and a pattern with an inner wildcard is an
//! `=` comparison with `*`. Its pipeline (`sentinelone_pq`) rejects fields it does not map.

use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote};
use crate::registry::TargetInfo;
use crate::render::{Out, QueryContext, Render, Res, StrTemplates, Target, field_str_with};
use crate::tree::{BoolKind, Str};

/// The SentinelOne PowerQuery target.
#[derive(Debug, Clone, Copy, Default)]
pub struct SentinelOne;

/// PowerQuery as data.
pub static DIALECT: Dialect = Dialect {
    name: "sentinelone",
    precedence: [BoolKind::Not, BoolKind::And, BoolKind::Or],
    parenthesize: true,
    group: "({expr})",
    token_separator: " ",
    or_token: "or",
    and_token: "and",
    not_token: "not",
    not_style: NotStyle::Prefix,
    eq_token: "=",
    num_eq_token: None,
    field_quote: "'",
    // The reference quotes names matching `^\w\.+$` (a character and dots only): none.
    field_quote_when: FieldQuote::Never,
    field_escape: Some(("\\", " ")),
    str_quote: "\"",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    wildcard_multi: Some("*"),
    wildcard_single: Some("*"),
    add_escaped: "\\",
    bool_values: Some(["false", "true"]),
    startswith: Some("{field} contains {value}"),
    endswith: Some("{field} contains {value}"),
    contains: Some("{field} contains {value}"),
    wildcard_match: None,
    re_expression: Some("{field} matches \"{regex}\""),
    re_escape_char: "\\",
    // Every backslash is doubled (the string literal's escape); a quote is escaped too, where
    // the reference leaves it and ends the string early.
    re_escape: &["\""],
    re_escape_escape_char: true,
    // The reference drops the flags of `re|i` (and `m`, `s`); an inline prefix keeps them.
    re_flag_prefix: true,
    case_sensitive_match: Some("{field} == {value}"),
    cidr_expression: None,
    compare_op_expression: Some("{field} {operator} {value}"),
    field_ref: [None, None, None, None],
    field_null: Some("not ({field}=*)"),
    field_exists: Some("{field} = *"),
    field_not_exists: Some("not ({field} = *)"),
    in_list: Some(InList {
        template: "{field} {op} ({list})",
        or_op: Some("in"),
        and_op: None,
        separator: ",",
        allow_wildcards: false,
    }),
    // The value is quoted already (the reference quotes it twice: `""x""`).
    unbound_str: Some("{value}"),
    unbound_num: Some("\"{value}\""),
    unbound_re: None,
};

/// The `sentinelone` target; its pipeline `sentinelone_pq` maps Sigma's fields to Deep
/// Visibility's and always runs (as in the reference).
pub static TARGET: TargetInfo = TargetInfo {
    name: "sentinelone",
    aliases: &["sentinel_one_pq", "sentinelone-pq"],
    alias_notes: &[],
    engine: "SentinelOne PowerQuery",
    reference: "pysigma-backend-sentinelone-pq 0.1.6 `sentinel_one_pq`",
    default_pipeline: Some("sentinelone_pq"),
    formats: &[&crate::format::QUERY_JSON],
    renderer: &SentinelOne,
};

/// Case-sensitive matches: `contains:matchcase` for the substring forms, `==` otherwise.
const CASED: StrTemplates = StrTemplates {
    startswith: Some("{field} contains:matchcase {value}"),
    endswith: Some("{field} contains:matchcase {value}"),
    contains: Some("{field} contains:matchcase {value}"),
    wildcard: None,
    equals: Some("{field} == {value}"),
};

impl Target for SentinelOne {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn field_str_cased(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        field_str_with(r, field, &s.pattern, &CASED)
    }

    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        Ok(with_columns(r.text_of(&query), &ctx.rule.fields))
    }
}

/// The query with ` | columns a,b` when the rule lists fields.
pub fn with_columns(query: &str, fields: &[String]) -> String {
    if fields.is_empty() {
        query.to_string()
    } else {
        format!("{query} | columns {}", fields.join(","))
    }
}
