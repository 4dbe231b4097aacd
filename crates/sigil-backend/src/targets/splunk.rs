//! Splunk SPL (as pySigma-backend-splunk writes it).
//!
//! SPL's implicit `and` binds looser than `OR`, so `a OR b c` needs no parentheses.
//! Regular expressions cannot appear in a search expression: under an `and` they become
//! `| regex field="..."` commands after the search; under an `or` they are evaluated by
//! `| rex` into a helper field that the search then tests.

use sigil_core::RegexFlags;

use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote};
use crate::registry::TargetInfo;
use crate::render::{Deferred, Out, QueryContext, Render, Res, Target, escape_regex};
use crate::tree::{BoolKind, Node};

/// The Splunk SPL target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Splunk;

/// SPL as data.
pub static DIALECT: Dialect = Dialect {
    name: "splunk",
    precedence: [BoolKind::Not, BoolKind::Or, BoolKind::And],
    parenthesize: false,
    group: "({expr})",
    token_separator: " ",
    or_token: "OR",
    and_token: " ",
    not_token: "NOT",
    not_style: NotStyle::Prefix,
    eq_token: "=",
    num_eq_token: None,
    field_quote: "\"",
    field_quote_when: FieldQuote::UnlessWordOr("."),
    field_escape: None,
    str_quote: "\"",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    wildcard_multi: Some("*"),
    wildcard_single: Some("*"),
    add_escaped: "\\",
    bool_values: Some(["false", "true"]),
    startswith: None,
    endswith: None,
    contains: None,
    wildcard_match: None,
    re_expression: Some("{regex}"),
    re_escape_char: "\\",
    re_escape: &["\""],
    re_escape_escape_char: true,
    re_flag_prefix: true,
    case_sensitive_match: None,
    cidr_expression: Some("{field}=\"{value}\""),
    compare_op_expression: Some("{field}{operator}{value}"),
    field_ref: [None, None, None, None],
    field_null: Some("NOT {field}=*"),
    field_exists: Some("{field}=*"),
    field_not_exists: None,
    in_list: Some(InList {
        template: "{field} {op} ({list})",
        or_op: Some("IN"),
        and_op: None,
        separator: ", ",
        allow_wildcards: true,
    }),
    unbound_str: Some("{value}"),
    unbound_num: Some("{value}"),
    unbound_re: Some("{value}"),
};

/// The `splunk` target: plain SPL searches over Sigma's field names, which are those of
/// the Splunk add-on for Sysmon; `sysmon` adds each category's event id.
pub static TARGET: TargetInfo = TargetInfo {
    name: "splunk",
    aliases: &["spl"],
    alias_notes: &[],
    engine: "Splunk SPL searches",
    reference: "pysigma-backend-splunk 2.1.0 `splunk`",
    default_pipeline: Some("sysmon"),
    formats: &[&crate::format::splunk::SAVEDSEARCHES],
    renderer: &Splunk,
};

/// Key under which ORed regexes are recorded in [`Render::extra`].
const REX: &str = "rex";

impl Target for Splunk {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn field_regex(
        &self,
        r: &mut Render<'_>,
        field: &str,
        source: &str,
        flags: RegexFlags,
    ) -> Res<Out> {
        let re = escape_regex(&DIALECT, source, flags);
        if r.chain.contains(&BoolKind::Or) {
            // `rex` extracts into `<field>Match<n>`; the search tests `<field>Condition<n>`.
            let n = r
                .extra
                .iter()
                .filter(|(k, v)| k == REX && v.starts_with(&format!("{field}\u{0}")))
                .count();
            let suffix = if n == 0 {
                String::new()
            } else {
                (n + 1).to_string()
            };
            // Group and helper names cannot hold dots: the last part of the field names them.
            let name = field.rsplit('.').next().unwrap_or(field);
            let command = format!(
                "rex field={field} \"(?<{name}Match{suffix}>{re})\"\n| eval {name}Condition{suffix}=if(isnotnull({name}Match{suffix}), \"true\", \"false\")"
            );
            r.extra
                .push((REX.to_string(), format!("{field}\u{0}{command}")));
            return Ok(Out::Text(format!("{name}Condition{suffix}=\"true\"")));
        }
        r.deferred.push(Deferred {
            positive: format!("regex {field}=\"{re}\""),
            negative: format!("regex {field}!=\"{re}\""),
            negated: false,
        });
        Ok(Out::Deferred(r.deferred.len() - 1))
    }

    fn field_cidr(&self, r: &mut Render<'_>, field: &str, net: &ipnet::IpNet) -> Res<Out> {
        let _ = r;
        Ok(Out::Text(format!("{}=\"{net}\"", DIALECT.field(field))))
    }

    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        let _ = ctx;
        let mut text = r.text_of(&query).to_string();
        if !r.deferred.is_empty() && text.is_empty() {
            text.push('*');
        }
        for d in &r.deferred {
            text.push_str("\n| ");
            text.push_str(d.text());
        }
        Ok(text)
    }

    /// ORed regexes need `| rex` and `| eval` commands; the reference places them after the
    /// leading `field="value"` term of the search (if the search starts with one) and
    /// continues the rest with `| search`.
    fn query(&self, r: &mut Render<'_>, node: &Node, ctx: &QueryContext<'_>) -> Res<String> {
        let out = r.convert(node)?;
        let commands = rex_commands(r);
        if commands.is_empty() {
            return self.finish(r, out, ctx);
        }
        let text = r.text_of(&out);
        let head_len = leading_term(text).unwrap_or(0);
        let (head, rest) = text.split_at(head_len);
        let mut q = head.to_string();
        for c in commands {
            q.push_str("\n| ");
            q.push_str(c);
        }
        q.push_str("\n| search ");
        q.push_str(rest.trim_start());
        for d in &r.deferred {
            q.push_str("\n| ");
            q.push_str(d.text());
        }
        Ok(q)
    }
}

/// The `| rex` and `| eval` commands that ORed regular expressions need, in order (each
/// without its leading `| `).
pub fn rex_commands<'a>(r: &'a Render<'_>) -> Vec<&'a str> {
    r.extra
        .iter()
        .filter(|(k, _)| k == REX)
        .map(|(_, v)| v.split_once('\u{0}').map_or(v.as_str(), |(_, c)| c))
        .collect()
}

/// The length of the leading run of plain `field=value` terms (not `rex` helper tests).
fn leading_term(text: &str) -> Option<usize> {
    let mut end = 0;
    while let Some(len) = plain_term(&text[end..]) {
        end += len;
        if text[end..].starts_with(' ') {
            end += 1;
        }
    }
    (end > 0).then(|| text[..end].trim_end().len())
}

/// The length of one `field=value` term at the start of `text`, followed by a space or the
/// end.
fn plain_term(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'"') {
        i = 1 + text[1..].find('"')? + 1;
    } else {
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
            i += 1;
        }
    }
    if i == 0 || b.get(i) != Some(&b'=') {
        return None;
    }
    let field_end = i;
    i += 1;
    if b.get(i) == Some(&b'"') {
        i += 1;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'"' => break,
                _ => i += 1,
            }
        }
        if i >= b.len() {
            return None;
        }
        i += 1;
    } else {
        let start = i;
        while i < b.len() && !matches!(b[i], b' ' | b'(' | b')' | b'"') {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if text[..field_end].ends_with("Condition")
        || text[..field_end].contains("Condition") && text[field_end..i] == *"=\"true\""
    {
        return None;
    }
    (i == b.len() || b[i] == b' ').then_some(i)
}
