//! Splunk SPL2, as pysigma-backend-splunk's `SplunkSPL2Backend` writes it: `FROM <dataset>
//! WHERE <predicate>` (the dataset from the pipeline state `dataset`, else `main`), with
//! ` | table a, b` when the rule lists fields.
//!
//! Unlike SPL's search command, SPL2's `WHERE` evaluates `AND` before `OR` (as Splunk's
//! `where` and `eval` do), so an `or` under an `and` is grouped; the reference reads the
//! operators the other way round and leaves such groups out (`docs/conversion-differences.md`).
//! Wildcard values are `LIKE` patterns (`%`, `_`); regular expressions are `/.../` literals,
//! whose backslashes are the expression's own.

use sigil_core::Pattern;

use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote};
use crate::registry::TargetInfo;
use crate::render::{Out, QueryContext, Render, Res, Target};
use crate::tree::BoolKind;

/// The SPL2 target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spl2;

/// SPL2 predicates as data.
pub static DIALECT: Dialect = Dialect {
    name: "spl2",
    precedence: [BoolKind::Not, BoolKind::And, BoolKind::Or],
    parenthesize: false,
    group: "({expr})",
    token_separator: " ",
    or_token: "OR",
    and_token: "AND",
    not_token: "NOT",
    not_style: NotStyle::Prefix,
    eq_token: "=",
    num_eq_token: None,
    field_quote: "'",
    field_quote_when: FieldQuote::UnlessWordOr("."),
    field_escape: None,
    str_quote: "\"",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    wildcard_multi: Some("%"),
    wildcard_single: Some("_"),
    add_escaped: "%_",
    bool_values: Some(["false", "true"]),
    startswith: None,
    endswith: None,
    contains: None,
    wildcard_match: Some("{field} LIKE {value}"),
    re_expression: Some("match({field}, /{regex}/)"),
    re_escape_char: "\\",
    re_escape: &["/"],
    re_escape_escape_char: false,
    re_flag_prefix: true,
    case_sensitive_match: None,
    cidr_expression: Some("cidrmatch(\"{value}\", {field})"),
    compare_op_expression: Some("{field}{operator}{value}"),
    field_ref: [Some("{field1}={field2}"), None, None, None],
    field_null: Some("{field} IS NULL"),
    field_exists: Some("{field} IS NOT NULL"),
    field_not_exists: Some("{field} IS NULL"),
    in_list: Some(InList {
        template: "{field} {op} ({list})",
        or_op: Some("IN"),
        and_op: None,
        separator: ", ",
        allow_wildcards: false,
    }),
    unbound_str: Some("_raw LIKE \"%{value}%\""),
    unbound_num: Some("_raw LIKE \"%{value}%\""),
    unbound_re: Some("match(_raw, /{value}/)"),
};

/// The `spl2` target: SPL2 searches over the rules' own field names.
pub static TARGET: TargetInfo = TargetInfo {
    name: "spl2",
    aliases: &["splunk_spl2", "splunk-spl2"],
    alias_notes: &[],
    engine: "Splunk SPL2 (`FROM ... WHERE ...`)",
    reference: "pysigma-backend-splunk 2.1.0 `splunk_spl2`",
    default_pipeline: None,
    formats: &[&crate::format::splunk::SPL2_MODULE],
    renderer: &Spl2,
};

impl Target for Spl2 {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn keyword_value_str(&self, p: &Pattern) -> Res<String> {
        // Inside `_raw LIKE "%...%"`: escaped, not quoted again.
        let add = format!("{}{}", DIALECT.str_quote, DIALECT.add_escaped);
        DIALECT
            .escape_pattern(p, (DIALECT.wildcard_multi, DIALECT.wildcard_single), &add)
            .ok_or_else(|| crate::ConvertError::Unsupported {
                target: DIALECT.name,
                construct: "a placeholder".into(),
                span: sigil_core::Span::default(),
            })
    }

    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        Ok(from_where(r.text_of(&query), ctx))
    }
}

/// `FROM <dataset> WHERE <predicate>`, with the rule's fields as a `| table`.
pub fn from_where(predicate: &str, ctx: &QueryContext<'_>) -> String {
    let dataset = ctx.state.get("dataset").map_or("main", String::as_str);
    let mut q = format!("FROM {dataset} WHERE {predicate}");
    if !ctx.rule.fields.is_empty() {
        q.push_str(" | table ");
        q.push_str(&ctx.rule.fields.join(", "));
    }
    q
}
