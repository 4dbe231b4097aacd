//! Logpoint's query language (LPQL), as pysigma-backend-logpoint writes it: `field="value"`
//! terms with `*` and `?` wildcards, `and` as a space binding looser than `OR`, `-` for `not`,
//! `field IN [...]` lists. Regular expressions run in `process regex(...)` and `process
//! eval(...)` commands before a final `| search`, which tests the field they set
//! (`CommandLine_condition="true"`); the conditions a pipeline added (`norm_id`, `label`,
//! `channel`) move in front, to narrow what the commands read.

use sigil_core::{Pattern, RegexFlags, RuleBody};

use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote};
use crate::registry::TargetInfo;
use crate::render::{
    Deferred, Out, QueryContext, Render, Res, Target, default_field_str, default_value_str,
    escape_regex, not_written_as,
};
use crate::tree::{BoolKind, Node, Str};

/// The Logpoint target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Logpoint;

/// LPQL's command words, which a field name must not be read as.
const KEYWORDS: &[&str] = &["process", "filter", "search", "chart", "and", "in", "or"];

/// LPQL as data.
pub static DIALECT: Dialect = Dialect {
    name: "logpoint",
    precedence: [BoolKind::Not, BoolKind::Or, BoolKind::And],
    parenthesize: false,
    group: "({expr})",
    token_separator: " ",
    or_token: "OR",
    and_token: " ",
    not_token: "-",
    not_style: NotStyle::Prefix,
    eq_token: "=",
    num_eq_token: None,
    field_quote: "\"",
    field_quote_when: FieldQuote::UnlessWordOrNotReserved(".", KEYWORDS),
    field_escape: None,
    str_quote: "\"",
    str_quote_when: StrQuote::Always,
    // Values are not escaped (a literal `*` cannot be written, as in the reference).
    escape_char: "",
    wildcard_multi: Some("*"),
    wildcard_single: Some("?"),
    add_escaped: "",
    bool_values: None,
    startswith: None,
    endswith: None,
    contains: None,
    wildcard_match: None,
    re_expression: None,
    re_escape_char: "",
    re_escape: &[],
    re_escape_escape_char: false,
    re_flag_prefix: true,
    case_sensitive_match: None,
    cidr_expression: None,
    compare_op_expression: Some("{field} {operator} {value}"),
    field_ref: [None, None, None, None],
    field_null: Some("{field}!=*"),
    field_exists: Some("{field}=*"),
    field_not_exists: Some("-{field}=*"),
    in_list: Some(InList {
        template: "{field} {op} [{list}]",
        or_op: Some("IN"),
        and_op: None,
        separator: ", ",
        allow_wildcards: true,
    }),
    unbound_str: Some("{value}"),
    unbound_num: Some("\"{value}\""),
    unbound_re: None,
};

/// The `logpoint` target; `logpoint_windows` (the default) maps Windows events to Logpoint's
/// normalised fields.
pub static TARGET: TargetInfo = TargetInfo {
    name: "logpoint",
    aliases: &["lpql"],
    alias_notes: &[],
    engine: "Logpoint (LPQL)",
    reference: "pysigma-backend-logpoint 1.0.2 `logpoint`",
    default_pipeline: Some("logpoint_windows"),
    formats: &[],
    renderer: &Logpoint,
};

/// The key under which regex fields are counted in [`Render::extra`].
const REGEX: &str = "logpoint-regex";

impl Target for Logpoint {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn not(&self, r: &mut Render<'_>, arg: &Node) -> Res<Out> {
        // `-` is written against its operand: `-field="x"`, `-(a OR b)`.
        not_written_as(r, arg, |s| format!("-{s}"))
    }

    fn value_str(&self, p: &Pattern) -> Res<String> {
        let quoted = default_value_str(&DIALECT, p)?;
        // A value holding `"` is quoted with `'` instead.
        let inner = &quoted[1..quoted.len() - 1];
        Ok(if inner.contains('"') {
            format!("'{inner}'")
        } else {
            quoted
        })
    }

    fn field_str(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        // Logpoint leaves a field out of its normalised events when its value is `-`.
        if s.pattern.as_literal() == Some("-") {
            return Ok(Out::Text(format!("{}!=*", DIALECT.field(field))));
        }
        default_field_str(r, field, &s.pattern)
    }

    fn field_regex(
        &self,
        r: &mut Render<'_>,
        field: &str,
        source: &str,
        flags: RegexFlags,
    ) -> Res<Out> {
        let n = r
            .extra
            .iter()
            .filter(|(k, v)| k == REGEX && v == field)
            .count();
        r.extra.push((REGEX.to_string(), field.to_string()));
        let suffix = if n == 0 {
            String::new()
        } else {
            (n + 1).to_string()
        };
        let re = escape_regex(&DIALECT, source, flags);
        let command = format!(
            "process regex(\"(?P<{field}_match{suffix}>{re})\", {field})\n| process eval(\"{field}_condition{suffix}=case(isnotnull({field}_match{suffix}) -> 'true', 'false')\")"
        );
        r.deferred.push(Deferred {
            positive: command.clone(),
            negative: command,
            negated: false,
        });
        let condition = format!("{field}_condition{suffix}");
        Ok(Out::Text(format!("{}=\"true\"", DIALECT.field(&condition))))
    }

    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        let mut text = r.text_of(&query).to_string();
        if r.deferred.is_empty() {
            return Ok(text);
        }
        let mut pre_filter = Vec::new();
        for term in added_conditions(ctx)? {
            text = text.replace(&term, "");
            pre_filter.push(term);
        }
        let commands: Vec<&str> = r.deferred.iter().map(Deferred::text).collect();
        Ok(format!(
            "{}\n| {}\n| search {}",
            pre_filter.join(" "),
            commands.join(" \n| "),
            text.trim()
        ))
    }
}

/// The conditions a pipeline added to the rule (searches `_cond_*`), each as the term the
/// query holds: `field="value"`, or `field IN [...]` for several values.
fn added_conditions(ctx: &QueryContext<'_>) -> Res<Vec<String>> {
    let RuleBody::Detection(det) = &ctx.rule.body else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for search in det.searches.iter().filter(|s| s.name.starts_with("_cond_")) {
        let Some(p) = search.expr.predicates().first().copied() else {
            continue;
        };
        let Some(field) = &p.field else { continue };
        let mut values = Vec::with_capacity(p.values.len());
        for v in &p.values {
            values.push(match v {
                sigil_core::Value::Str(s) => Logpoint.value_str(s)?,
                other => other.to_text(),
            });
        }
        out.push(if values.len() > 1 {
            format!("{} IN [{}]", DIALECT.field(field), values.join(", "))
        } else {
            format!("{}={}", DIALECT.field(field), values.concat())
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_words_and_odd_names_are_quoted() {
        assert_eq!(DIALECT.field("process"), "\"process\"");
        assert_eq!(DIALECT.field("user.name"), "user.name");
        assert_eq!(DIALECT.field("cs-uri"), "\"cs-uri\"");
    }

    #[test]
    fn a_value_with_a_double_quote_is_single_quoted() {
        let v = Logpoint
            .value_str(&Pattern::literal("a\"b"))
            .expect("value");
        assert_eq!(v, "'a\"b'");
    }
}
