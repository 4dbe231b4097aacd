//! Elasticsearch query string (Lucene syntax), as pySigma-backend-elasticsearch's
//! `LuceneBackend` writes it.
//!
//! Values are written unquoted with every query-syntax character escaped, except a
//! wildcard-free value holding whitespace, which is quoted as a phrase (inside quotes a
//! space needs no escape). Field references cannot be expressed.

use sigil_core::{Pattern, Piece};

use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote};
use crate::registry::TargetInfo;
use crate::render::{Out, Render, Res, Target, default_field_cidr, default_not, default_value_str};
use crate::tree::{BoolKind, Node, Value};

use super::elastic;

/// The Lucene query-string target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lucene;

/// Lucene query strings as data.
pub static DIALECT: Dialect = Dialect {
    name: "lucene",
    precedence: [BoolKind::Not, BoolKind::Or, BoolKind::And],
    parenthesize: true,
    group: "({expr})",
    token_separator: " ",
    or_token: "OR",
    and_token: "AND",
    not_token: "NOT",
    not_style: NotStyle::Prefix,
    eq_token: ":",
    num_eq_token: None,
    field_quote: "",
    field_quote_when: FieldQuote::Never,
    field_escape: Some(("\\", " *")),
    str_quote: "\"",
    str_quote_when: StrQuote::EmptyOnly,
    escape_char: "\\",
    wildcard_multi: Some("*"),
    wildcard_single: Some("?"),
    add_escaped: "+-=&|!(){}[]<>^\"~*?:\\/ ",
    bool_values: Some(["false", "true"]),
    startswith: None,
    endswith: None,
    contains: None,
    wildcard_match: None,
    re_expression: Some("{field}:/{regex}/"),
    re_escape_char: "\\",
    re_escape: &["/"],
    re_escape_escape_char: false,
    re_flag_prefix: true,
    case_sensitive_match: None,
    cidr_expression: Some("{field}:{network}\\/{prefixlen}"),
    compare_op_expression: Some("{field}:{operator}{value}"),
    field_ref: [None, None, None, None],
    field_null: Some("NOT _exists_:{field}"),
    field_exists: Some("_exists_:{field}"),
    field_not_exists: Some("NOT _exists_:{field}"),
    in_list: Some(InList {
        template: "{field}{op}({list})",
        or_op: Some(":"),
        and_op: None,
        separator: " OR ",
        allow_wildcards: true,
    }),
    unbound_str: Some("*{value}*"),
    unbound_num: Some("{value}"),
    unbound_re: None,
};

/// The `lucene` target: Elasticsearch query strings over ECS (`ecs_windows` by default).
pub static TARGET: TargetInfo = TargetInfo {
    name: "lucene",
    aliases: &["elasticsearch", "es-qs", "es_qs"],
    alias_notes: &[],
    engine: "Elasticsearch query string (Lucene syntax)",
    reference: "pysigma-backend-elasticsearch 2.1.1 `lucene`",
    default_pipeline: Some("ecs_windows"),
    formats: &[&crate::format::elastic::LUCENE_RULES],
    renderer: &Lucene,
};

impl Target for Lucene {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn needs_no_group(&self, outer: BoolKind, inner: &Node) -> bool {
        elastic::needs_no_group(&DIALECT, outer, inner)
    }

    fn not(&self, r: &mut Render<'_>, arg: &Node) -> Res<Out> {
        match elastic::not_null(arg, |f| format!("_exists_:{f}")) {
            Some(out) => Ok(out),
            None => default_not(r, arg),
        }
    }

    fn keyword_value_str(&self, p: &Pattern) -> Res<String> {
        // Keywords are wrapped in `*...*`, so they are never phrases.
        default_value_str(&DIALECT, p)
    }

    fn value_str(&self, p: &Pattern) -> Res<String> {
        let phrase = !p.has_wildcards()
            && p.pieces().iter().any(|piece| match piece {
                Piece::Lit(s) => s.chars().any(char::is_whitespace),
                _ => false,
            });
        if !phrase {
            return default_value_str(&DIALECT, p);
        }
        let add: String = DIALECT.add_escaped.chars().filter(|c| *c != ' ').collect();
        let inner = DIALECT
            .escape_pattern(p, (Some("*"), Some("?")), &add)
            .unwrap_or_default();
        Ok(format!("\"{inner}\""))
    }

    /// Elasticsearch analyses the text itself: a phrase query, or a wildcard term when the
    /// phrase is one word with wildcards. Several words with wildcards have no query-string
    /// form and take the regular expression.
    fn field_phrase(&self, r: &mut Render<'_>, field: &str, phrase: &Pattern) -> Res<Out> {
        let mut words = sigil_core::words::split(phrase);
        let field = DIALECT.field(field);
        if let Some(text) = phrase.as_literal() {
            // Inside quotes only the quote and the escape character are special.
            let text = text.replace('\\', "\\\\").replace('"', "\\\"");
            return Ok(Out::Text(format!("{field}:\"{text}\"")));
        }
        if words.len() == 1 {
            let word = Pattern::from_pieces(words.pop().unwrap_or_default());
            let value = default_value_str(&DIALECT, &word)?;
            return Ok(Out::Text(format!("{field}:{value}")));
        }
        let source = sigil_core::words::phrase_regex(phrase);
        self.field_regex(r, &field, &source, sigil_core::RegexFlags::default())
    }

    fn field_cidr(&self, r: &mut Render<'_>, field: &str, net: &ipnet::IpNet) -> Res<Out> {
        let out = default_field_cidr(r, field, net)?;
        // IPv6 colons are query syntax; the first colon separates field and value.
        Ok(match out {
            Out::Text(s) if net.to_string().contains(':') => {
                let escaped = s.replace(':', "\\:").replacen("\\:", ":", 1);
                Out::Text(escaped)
            }
            other => other,
        })
    }

    fn expansion(&self, r: &mut Render<'_>, field: &str, values: &[Value]) -> Res<Out> {
        elastic::expansion(r, field, values)
    }
}
