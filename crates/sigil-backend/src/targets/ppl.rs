//! OpenSearch PPL (Piped Processing Language), as pysigma-backend-opensearch's
//! `OpenSearchPPLBackend` writes it: `source=<index> | where <condition>`, the index pattern
//! from the rule's log source (`windows-process_creation-*`, `*` without one).
//!
//! Wildcard values are `LIKE(field, "pattern")` tests (`%`, `_`), exact values `field="x"`.
//! PPL string literals read `\\`, `\"` and `\'` as escapes (any other backslash stands for
//! itself), and `LIKE` reads `\` as its own escape: a literal backslash in a pattern is `\\`
//! (`\\\` or `\\\\` in the literal), a literal `%` or `_` is `\%`, `\_`. Regular expressions
//! are `match(field, '...')` with the expression's own backslashes. The reference drops every
//! backslash from values instead (`docs/conversion-differences.md`).

use sigil_core::{Pattern, Piece, RegexFlags};

use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote, fill};
use crate::registry::TargetInfo;
use crate::render::{Out, QueryContext, Render, Res, StrOp, Target, choose_str_op, escape_regex};
use crate::tree::{BoolKind, Str};

/// The OpenSearch PPL target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ppl;

/// PPL `where` conditions as data.
pub static DIALECT: Dialect = Dialect {
    name: "opensearch-ppl",
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
    field_quote: "`",
    field_quote_when: FieldQuote::UnlessWordOr(""),
    field_escape: None,
    str_quote: "\"",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    wildcard_multi: Some("%"),
    wildcard_single: Some("_"),
    add_escaped: "",
    bool_values: Some(["false", "true"]),
    startswith: Some("LIKE({field}, {value})"),
    endswith: Some("LIKE({field}, {value})"),
    contains: Some("LIKE({field}, {value})"),
    wildcard_match: Some("LIKE({field}, {value})"),
    re_expression: Some("match({field}, '{regex}')"),
    re_escape_char: "'",
    re_escape: &["'"],
    re_escape_escape_char: false,
    re_flag_prefix: true,
    case_sensitive_match: Some("{field}={value}"),
    cidr_expression: Some("cidrmatch({field}, \"{value}\")"),
    compare_op_expression: Some("{field}{operator}{value}"),
    field_ref: [Some("{field1}={field2}"), None, None, None],
    field_null: Some("isnull({field})"),
    field_exists: Some("isnotnull({field})"),
    field_not_exists: Some("isnull({field})"),
    in_list: Some(InList {
        template: "{field} {op} ({list})",
        or_op: Some("in"),
        and_op: None,
        separator: ", ",
        allow_wildcards: false,
    }),
    // A bare string is not a condition in PPL's `where` (the reference writes one).
    unbound_str: None,
    unbound_num: None,
    unbound_re: None,
};

/// The `opensearch-ppl` target: PPL over the rules' own field names.
pub static TARGET: TargetInfo = TargetInfo {
    name: "opensearch-ppl",
    aliases: &["open_search_ppl", "opensearch_ppl", "ppl"],
    alias_notes: &[],
    engine: "OpenSearch PPL (`source=... | where ...`)",
    reference: "pysigma-backend-opensearch 2.0.3 `open_search_ppl`",
    default_pipeline: None,
    formats: &[],
    renderer: &Ppl,
};

impl Target for Ppl {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    /// An exact value: backslashes and quotes escaped for the string literal.
    fn value_str(&self, p: &Pattern) -> Res<String> {
        let literal = p
            .as_literal()
            .ok_or_else(|| crate::ConvertError::Unsupported {
                target: DIALECT.name,
                construct: "a wildcard outside a pattern".into(),
                span: sigil_core::Span::default(),
            })?;
        Ok(quote(literal))
    }

    fn field_str(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        like_or_equals(r, field, &s.pattern, false)
    }

    fn field_str_cased(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        like_or_equals(r, field, &s.pattern, true)
    }

    fn field_regex(
        &self,
        r: &mut Render<'_>,
        field: &str,
        source: &str,
        flags: RegexFlags,
    ) -> Res<Out> {
        let _ = r;
        let re = escape_regex(&DIALECT, &escape_backslashes(source), flags);
        Ok(Out::Text(fill(
            "match({field}, '{regex}')",
            &[("field", &DIALECT.field(field)), ("regex", &re)],
        )))
    }

    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        Ok(format!(
            "source={} | where {}",
            index_pattern(ctx.rule),
            r.text_of(&query)
        ))
    }
}

/// `field="x"` for a value without wildcards, `LIKE(field, "pattern")` otherwise (with
/// `true` as third argument when case-sensitive).
fn like_or_equals(r: &mut Render<'_>, field: &str, p: &Pattern, cased: bool) -> Res<Out> {
    let field_text = DIALECT.field(field);
    let (op, _) = choose_str_op(p, [false; 4]);
    let _ = r;
    if op == StrOp::Equals && !p.has_wildcards() {
        return Ok(Out::Text(format!("{field_text}={}", Ppl.value_str(p)?)));
    }
    let pattern = like_pattern(p)?;
    Ok(Out::Text(if cased {
        format!("LIKE({field_text}, {pattern}, true)")
    } else {
        format!("LIKE({field_text}, {pattern})")
    }))
}

/// A `LIKE` pattern as a string literal: `%` and `_` for the wildcards, literal `%`, `_` and
/// `\` escaped for `LIKE`, then backslashes and quotes escaped for the literal.
fn like_pattern(p: &Pattern) -> Res<String> {
    let mut pattern = String::new();
    for piece in p.pieces() {
        match piece {
            Piece::Lit(s) => {
                for c in s.chars() {
                    if matches!(c, '%' | '_' | '\\') {
                        pattern.push('\\');
                    }
                    pattern.push(c);
                }
            }
            Piece::AnyMany => pattern.push('%'),
            Piece::AnyOne => pattern.push('_'),
            Piece::Placeholder(name) => {
                return Err(crate::ConvertError::UnexpandedPlaceholder {
                    name: name.clone(),
                    span: sigil_core::Span::default(),
                });
            }
        }
    }
    Ok(quote(&pattern))
}

/// `text` as a double-quoted string literal: `"` escaped, a backslash doubled where the
/// literal would read it as an escape.
fn quote(text: &str) -> String {
    format!("\"{}\"", escape_backslashes(text).replace('"', "\\\""))
}

/// Doubles each backslash that PPL's string literals would read as an escape: one before
/// `\`, `'` or `"`, or at the end. Any other backslash stands for itself.
fn escape_backslashes(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 4);
    for (i, c) in chars.iter().enumerate() {
        out.push(*c);
        if *c == '\\' && matches!(chars.get(i + 1), None | Some('\\' | '\'' | '"')) {
            out.push('\\');
        }
    }
    out
}

/// `product-category-service-*` from the rule's log source (the parts it has), `*` without
/// any.
pub fn index_pattern(rule: &sigil_core::Rule) -> String {
    let ls = &rule.logsource;
    let parts: Vec<&str> = [&ls.product, &ls.category, &ls.service]
        .into_iter()
        .filter_map(|p| p.as_deref())
        .collect();
    if parts.is_empty() {
        "*".to_string()
    } else {
        format!("{}-*", parts.join("-"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backslashes_survive_the_literal_and_like() {
        // Pattern `%C:\\a\_b\%`; in the literal only the backslash before a backslash doubles.
        assert_eq!(
            like_pattern(&Pattern::literal("C:\\a_b%").with_leading_any()).expect("pattern"),
            r#""%C:\\\a\_b\%""#
        );
        assert_eq!(
            Ppl.value_str(&Pattern::literal("C:\\x \"y\\"))
                .expect("value"),
            r#""C:\x \"y\\""#
        );
        assert_eq!(escape_backslashes(r"\d\\x\'"), r"\d\\\x\\'");
    }
}
