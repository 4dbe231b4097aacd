//! ClickHouse SQL, as pysigma-backend-clickhouse writes it: `SELECT * FROM logs WHERE ...`,
//! wildcards as `ILIKE`, one field's plain values as `IN (...)`, regular expressions as
//! `match()`, networks as `isIPAddressInRange()`.
//!
//! ClickHouse string literals read backslashes as escapes, so a backslash meant for `LIKE`
//! or for the regex engine (RE2) is written twice. Where the reference writes a query that
//! means something else, sigil is right instead: a keyword is a case-insensitive substring
//! of the whole event (`ILIKE` over the `full_log` column; the reference's `hasToken` matches
//! whole tokens only, and fails on a value with spaces or punctuation), and a `cased` value
//! is matched whole (the reference's `match()` is unanchored).

use sigil_core::{Pattern, RegexFlags};

use super::sql::{Literal, like_pattern, pattern_regex};
use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote};
use crate::registry::TargetInfo;
use crate::render::{Out, QueryContext, Render, Res, StrOp, Target, choose_str_op, escape_regex};
use crate::tree::{BoolKind, Str};

/// The ClickHouse target.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClickHouse;

/// The column holding the whole event, where keywords are searched.
pub const FULL_LOG: &str = "full_log";

const LIT: Literal = Literal::BackslashDoubledQuote;

/// ClickHouse as data.
pub static DIALECT: Dialect = Dialect {
    name: "clickhouse",
    precedence: [BoolKind::Not, BoolKind::And, BoolKind::Or],
    parenthesize: true,
    group: "({expr})",
    token_separator: " ",
    or_token: "OR",
    and_token: "AND",
    not_token: "NOT",
    not_style: NotStyle::Prefix,
    eq_token: "=",
    num_eq_token: None,
    field_quote: "`",
    field_quote_when: FieldQuote::UnlessPlainAndNotReserved(&[]),
    field_escape: None,
    str_quote: "'",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    wildcard_multi: Some("%"),
    wildcard_single: Some("_"),
    add_escaped: "\\",
    bool_values: Some(["false", "true"]),
    startswith: None,
    endswith: None,
    contains: None,
    wildcard_match: None,
    re_expression: Some("match({field}, '{regex}')"),
    re_escape_char: "",
    re_escape: &[],
    re_escape_escape_char: false,
    re_flag_prefix: true,
    case_sensitive_match: None,
    cidr_expression: Some("isIPAddressInRange({field}, '{value}')"),
    compare_op_expression: Some("{field} {operator} {value}"),
    field_ref: [
        Some("{field1}={field2}"),
        Some("{field1} ILIKE {field2} || '%'"),
        Some("{field1} ILIKE '%' || {field2}"),
        Some("{field1} ILIKE '%' || {field2} || '%'"),
    ],
    field_null: Some("isNull({field})"),
    field_exists: Some("isNotNull({field})"),
    field_not_exists: Some("isNull({field})"),
    in_list: Some(InList {
        template: "{field} {op} ({list})",
        or_op: Some("IN"),
        and_op: None,
        separator: ", ",
        allow_wildcards: false,
    }),
    unbound_str: Some("{value}"),
    unbound_num: Some("full_log ILIKE '%{value}%'"),
    unbound_re: None,
};

/// The `clickhouse` target: `SELECT * FROM logs WHERE ...` over a table whose columns are
/// the events' field names (and `full_log`, the whole event, for keywords).
pub static TARGET: TargetInfo = TargetInfo {
    name: "clickhouse",
    aliases: &[],
    alias_notes: &[],
    engine: "ClickHouse SQL",
    reference: "pysigma-backend-clickhouse 1.1.1 `clickhouse`",
    default_pipeline: None,
    formats: &[],
    renderer: &ClickHouse,
};

/// `field ILIKE pattern`: ClickHouse's `LIKE` escapes with a backslash, which the literal
/// doubles.
pub fn ilike(field: &str, p: &Pattern) -> String {
    format!("{field} ILIKE {}", LIT.quoted(&like_pattern(p, true)))
}

/// A regex for `match()`: backslashes doubled for the literal, `'` doubled.
fn regex_literal(re: &str) -> String {
    LIT.body(re)
}

impl Target for ClickHouse {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn value_str(&self, p: &Pattern) -> Res<String> {
        Ok(LIT.quoted(&like_pattern(p, false)))
    }

    /// A keyword: a case-insensitive substring of the whole event.
    fn keyword_value_str(&self, p: &Pattern) -> Res<String> {
        let p = p.with_leading_any().with_trailing_any();
        Ok(ilike(FULL_LOG, &p))
    }

    fn field_str(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        let _ = r;
        let f = DIALECT.field(field);
        let (op, value) = choose_str_op(&s.pattern, [true, true, true, true]);
        let special = value.literals().any(|l| l.contains(['%', '_', '\\']));
        Ok(Out::Text(match op {
            StrOp::StartsWith => ilike(&f, &value.with_trailing_any()),
            StrOp::EndsWith => ilike(&f, &value.with_leading_any()),
            StrOp::Contains => ilike(&f, &value.with_leading_any().with_trailing_any()),
            StrOp::Wildcard => ilike(&f, &value),
            StrOp::Equals if special => ilike(&f, &value),
            StrOp::Equals => format!("{f}={}", LIT.quoted(&like_pattern(&value, false))),
        }))
    }

    fn field_str_cased(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        let _ = r;
        let re = regex_literal(&format!("^{}$", pattern_regex(&s.pattern)));
        Ok(Out::Text(format!(
            "match({}, '{re}')",
            DIALECT.field(field)
        )))
    }

    fn field_regex(
        &self,
        r: &mut Render<'_>,
        field: &str,
        source: &str,
        flags: RegexFlags,
    ) -> Res<Out> {
        let _ = r;
        let re = regex_literal(&escape_regex(&DIALECT, source, flags));
        Ok(Out::Text(format!(
            "match({}, '{re}')",
            DIALECT.field(field)
        )))
    }

    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        let table = ctx.state.get("table").map_or("logs", String::as_str);
        Ok(format!("SELECT * FROM {table} WHERE {}", r.text_of(&query)))
    }
}
