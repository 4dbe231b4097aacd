//! Palo Alto Cortex XDR XQL, as pysigma-backend-cortexxdr writes it:
//! `config case_sensitive = false | preset=xdr_process | filter <condition>`.
//!
//! The dataset or preset comes from the pipeline (state `dataset_preset`, `preset::name`;
//! `dataset::xdr_dataset` without one). Like SentinelOne's PowerQuery, XQL tests prefixes,
//! suffixes and substrings with `contains`, and its value lists take `*` wildcards; enum
//! constants (`ENUM.PROCESS`) are written unquoted.

use sigil_core::{Pattern, Piece, RegexFlags};

use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote};
use crate::error::ConvertError;
use crate::registry::TargetInfo;
use crate::render::{Out, QueryContext, Render, Res, Target, default_field_regex, escape_regex};
use crate::tree::BoolKind;

/// The Cortex XDR XQL target.
#[derive(Debug, Clone, Copy, Default)]
pub struct CortexXdr;

/// XQL as data.
pub static DIALECT: Dialect = Dialect {
    name: "cortexxdr",
    precedence: [BoolKind::Not, BoolKind::And, BoolKind::Or],
    parenthesize: true,
    group: "({expr})",
    token_separator: " ",
    or_token: "or",
    and_token: "and",
    not_token: "not",
    not_style: NotStyle::Prefix,
    eq_token: " = ",
    num_eq_token: None,
    field_quote: "'",
    field_quote_when: FieldQuote::UnlessWordOr(""),
    field_escape: Some(("\\", " ")),
    str_quote: "\"",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    wildcard_multi: Some("*"),
    wildcard_single: Some("*"),
    add_escaped: "",
    bool_values: Some(["false", "true"]),
    startswith: Some("{field} contains {value}"),
    endswith: Some("{field} contains {value}"),
    contains: Some("{field} contains {value}"),
    // The reference's template is the bare word `contains` (no field, no value); a list of
    // one keeps the wildcards, which XQL reads in `in` lists.
    wildcard_match: Some("{field} in ({value})"),
    re_expression: Some("{field} ~= \"{regex}\""),
    re_escape_char: "\\",
    re_escape: &[],
    re_escape_escape_char: false,
    re_flag_prefix: true,
    case_sensitive_match: None,
    cidr_expression: Some("{field} incidr \"{value}\""),
    compare_op_expression: Some("{field} {operator} {value}"),
    field_ref: [None, None, None, None],
    // The reference has none (the rule fails); XQL compares with `null`.
    field_null: Some("{field} = null"),
    field_exists: Some("{field} contains \"*\""),
    field_not_exists: Some("{field} not contains \"*\""),
    in_list: Some(InList {
        template: "{field} {op} ({list})",
        or_op: Some("in"),
        and_op: None,
        separator: ", ",
        allow_wildcards: true,
    }),
    unbound_str: None,
    unbound_num: None,
    unbound_re: None,
};

/// The `cortexxdr` target; its pipeline `cortexxdr` maps Sigma's fields to XDR's and
/// chooses the preset.
pub static TARGET: TargetInfo = TargetInfo {
    name: "cortexxdr",
    aliases: &["cortex_xdr", "cortex-xdr", "xql"],
    alias_notes: &[],
    engine: "Palo Alto Cortex XDR XQL",
    reference: "pysigma-backend-cortexxdr 0.1.6 `cortex_xdr`",
    default_pipeline: Some("cortexxdr"),
    formats: &[&crate::format::QUERY_JSON],
    renderer: &CortexXdr,
};

impl Target for CortexXdr {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn value_str(&self, p: &Pattern) -> Res<String> {
        if let Some(text) = p.as_literal()
            && is_enum(text)
        {
            return Ok(text.to_string());
        }
        // A "..." string is literal in XQL (a backslash is a backslash, `*` a wildcard: a
        // literal star cannot be written, as in the reference). It cannot hold a quote, so
        // such a value is written as a """...""" string, where escapes are read; the
        // reference writes the quote as it is and ends the string early.
        let triple = p.pieces().iter().any(|piece| match piece {
            Piece::Lit(s) => s.contains('"'),
            _ => false,
        });
        let quote = if triple { "\"\"\"" } else { "\"" };
        let mut out = String::with_capacity(p.pieces().len() * 8 + 6);
        out.push_str(quote);
        for piece in p.pieces() {
            match piece {
                Piece::Lit(s) if triple => {
                    for c in s.chars() {
                        if c == '"' || c == '\\' {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                }
                Piece::Lit(s) => out.push_str(s),
                Piece::AnyMany | Piece::AnyOne => out.push('*'),
                Piece::Placeholder(_) => return Err(unsupported("an unexpanded placeholder")),
            }
        }
        out.push_str(quote);
        Ok(out)
    }

    fn field_regex(
        &self,
        r: &mut Render<'_>,
        field: &str,
        source: &str,
        flags: RegexFlags,
    ) -> Res<Out> {
        if !source.contains('"') {
            return default_field_regex(r, field, source, flags);
        }
        // As for values: a quote needs a """...""" string, in which escapes are read.
        let re = escape_regex(&DIALECT, source, flags);
        let mut text = String::with_capacity(re.len() + 8);
        for c in re.chars() {
            if c == '"' || c == '\\' {
                text.push('\\');
            }
            text.push(c);
        }
        Ok(Out::Text(format!(
            "{} ~= \"\"\"{text}\"\"\"",
            DIALECT.field(field)
        )))
    }

    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        let preset = ctx
            .state
            .get("dataset_preset")
            .map_or("dataset::xdr_dataset", String::as_str);
        let (kind, name) = preset.split_once("::").unwrap_or(("dataset", preset));
        let mut q = format!(
            "config case_sensitive = false | {kind}={name} | filter {}",
            r.text_of(&query)
        );
        if !ctx.rule.fields.is_empty() {
            q.push_str(" | fields ");
            q.push_str(&ctx.rule.fields.join(","));
        }
        Ok(q)
    }
}

/// An XQL enum constant (`ENUM.AGENT_OS_WINDOWS`), written without quotes.
fn is_enum(text: &str) -> bool {
    text.strip_prefix("ENUM.").is_some_and(|rest| {
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_uppercase() || c == '_')
    })
}

fn unsupported(construct: &str) -> ConvertError {
    ConvertError::Unsupported {
        target: DIALECT.name,
        construct: construct.into(),
        span: sigil_core::Span::default(),
    }
}
