//! Splunk SPL (as pySigma-backend-splunk writes it).
//!
//! SPL's implicit `and` binds looser than `OR`, so `a OR b c` needs no parentheses.
//! Regular expressions cannot appear in a search expression: under an `and` they become
//! `| regex field="..."` commands after the search; under an `or` they are evaluated by
//! `| rex` into a helper field that the search then tests.

use sigil_core::RegexFlags;

use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote};
use crate::render::{Deferred, Out, QueryContext, Render, Res, Target, escape_regex};
use crate::tree::{BoolKind, Node, Value};

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
    bool_values: None,
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
    field_null: Some("NOT {field}=\"*\""),
    field_exists: Some("{field}=\"*\""),
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
            let command = format!(
                "rex field={field} \"(?<{field}Match{suffix}>{re})\"\n| eval {field}Condition{suffix}=if(isnotnull({field}Match{suffix}), \"true\", \"false\")"
            );
            r.extra
                .push((REX.to_string(), format!("{field}\u{0}{command}")));
            return Ok(Out::Text(format!("{field}Condition{suffix}=\"true\"")));
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

    fn field_bool(&self, r: &mut Render<'_>, field: &str, b: bool) -> Res<Out> {
        let _ = r;
        Ok(Out::Text(format!("{}=\"{b}\"", DIALECT.field(field))))
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
}

impl Splunk {
    /// Renders a whole condition. With ORed regexes the query splits: the leading
    /// conjuncts free of them stay the search; the `rex`/`eval` commands follow; the rest
    /// is filtered by a final `| search`.
    pub fn render(&self, node: &Node, ctx: &QueryContext<'_>) -> Res<String> {
        let mut probe = Render::new(self);
        let out = probe.convert(node)?;
        if !probe.extra.iter().any(|(k, _)| k == REX) {
            return self.finish(&probe, out, ctx);
        }
        let mut conjuncts = Vec::new();
        flatten_and(node, &mut conjuncts);
        let split = conjuncts
            .iter()
            .position(|n| has_ored_regex(n, node))
            .unwrap_or(0);
        let mut r = Render::new(self);
        let head = if split == 0 {
            Out::Empty
        } else {
            r.convert(&Node::And(
                conjuncts[..split].iter().map(|n| (*n).clone()).collect(),
            ))?
        };
        let tail_nodes: Vec<Node> = conjuncts[split..].iter().map(|n| (*n).clone()).collect();
        r.chain.clear();
        let tail = if tail_nodes.len() == 1 {
            r.convert(&tail_nodes[0])?
        } else {
            r.convert(&Node::And(tail_nodes))?
        };
        let mut text = r.text_of(&head).to_string();
        for (k, v) in &r.extra {
            if k == REX {
                let command = v.split_once('\u{0}').map_or(v.as_str(), |(_, c)| c);
                text.push_str("\n| ");
                text.push_str(command);
            }
        }
        text.push_str("\n| search ");
        text.push_str(r.text_of(&tail));
        for d in &r.deferred {
            text.push_str("\n| ");
            text.push_str(d.text());
        }
        Ok(text)
    }
}

fn flatten_and<'a>(node: &'a Node, out: &mut Vec<&'a Node>) {
    match node {
        Node::And(v) => v.iter().for_each(|n| flatten_and(n, out)),
        other => out.push(other),
    }
}

/// Whether `node` holds a regex that sits under an `or` (within `root`).
fn has_ored_regex(node: &Node, root: &Node) -> bool {
    let _ = root;
    fn walk(node: &Node, under_or: bool) -> bool {
        match node {
            Node::Or(v) => v.iter().any(|n| walk(n, true)),
            Node::And(v) => v.iter().any(|n| walk(n, under_or)),
            Node::Not(n) => walk(n, under_or),
            Node::Field {
                value: Value::Regex { .. },
                ..
            } => under_or,
            Node::Field {
                value: Value::Expansion(_),
                ..
            }
            | Node::Field { .. }
            | Node::Keyword(_) => false,
        }
    }
    walk(node, false)
}
