//! Grafana Loki LogQL, as pysigma-backend-loki writes it: a stream selector chosen from the
//! log source, line filters for keywords, a parser (`json` for Windows, Azure and Zeek logs,
//! `logfmt` otherwise) and label filters for the fields:
//! `{job=~".+"} |~ `(?i)word` | logfmt | field=~`(?i)^value$``.
//!
//! LogQL has no `not`: negation is pushed down to the comparisons (De Morgan), which have
//! negated forms (`!=`, `!~`, `<=` for `>`). Label matching is case-sensitive, so every
//! string becomes a regular expression with `(?i)`, anchored unless it starts or ends with a
//! wildcard. Keywords are line filters before the parser: an `or` of keywords is one
//! `|~ `a|b``; a keyword `or`-ed with a field comparison cannot be expressed. Field names are
//! sanitised as Loki sanitises labels (`a.b-c` → `a_b_c`).

use std::fmt::Write as _;

use sigil_core::{Pattern, Piece, RegexFlags};

use crate::dialect::{Dialect, FieldQuote, NotStyle, StrQuote};
use crate::error::ConvertError;
use crate::registry::TargetInfo;
use crate::render::{Out, QueryContext, Render, Res, Target, escape_regex};
use crate::tree::{BoolKind, CmpOp, Node, Str, Value};

/// The Loki target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Loki;

/// LogQL label filters as data (the comparisons themselves are written by [`Loki`]).
pub static DIALECT: Dialect = Dialect {
    name: "loki",
    precedence: [BoolKind::Not, BoolKind::And, BoolKind::Or],
    parenthesize: false,
    group: "({expr})",
    token_separator: " ",
    or_token: "or",
    and_token: "and",
    not_token: "",
    not_style: NotStyle::Prefix,
    eq_token: "=",
    num_eq_token: None,
    field_quote: "",
    field_quote_when: FieldQuote::Never,
    field_escape: None,
    str_quote: "`",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    wildcard_multi: Some("*"),
    wildcard_single: Some("?"),
    add_escaped: "\\",
    bool_values: Some(["false", "true"]),
    startswith: None,
    endswith: None,
    contains: None,
    wildcard_match: None,
    re_expression: Some("{field}=~{regex}"),
    re_escape_char: "\\",
    re_escape: &[],
    re_escape_escape_char: false,
    re_flag_prefix: true,
    case_sensitive_match: Some("{field}={value}"),
    cidr_expression: Some("{field}=ip(\"{value}\")"),
    compare_op_expression: Some("{field}{operator}{value}"),
    field_ref: [None, None, None, None],
    field_null: Some("{field}=``"),
    field_exists: Some("{field}!=\"\""),
    field_not_exists: Some("{field}=\"\""),
    in_list: None,
    unbound_str: None,
    unbound_num: None,
    unbound_re: None,
};

/// The `loki` target (no pipeline by default; `loki_promtail_sysmon` for Sysmon events as
/// Promtail ships them).
pub static TARGET: TargetInfo = TargetInfo {
    name: "loki",
    aliases: &["logql", "grafana_loki"],
    alias_notes: &[],
    engine: "Grafana Loki LogQL",
    reference: "pysigma-backend-loki 0.15.1 `loki`",
    default_pipeline: None,
    formats: &[&crate::format::loki::RULER],
    renderer: &Loki,
};

impl Target for Loki {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn not(&self, r: &mut Render<'_>, arg: &Node) -> Res<Out> {
        match arg {
            Node::Field {
                field,
                value: Value::Expansion(values),
            } => {
                let parts = values
                    .iter()
                    .map(|v| comparison(r, field, v, true))
                    .collect::<Res<Vec<_>>>()?;
                Ok(Out::Text(parts.join(" and ")))
            }
            Node::Field { field, value } => Ok(Out::Text(comparison(r, field, value, true)?)),
            // Negation is pushed down to the comparisons before rendering.
            _ => Err(r.unsupported("a negated group")),
        }
    }

    fn field_str(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        leaf(r, field, &Value::Str(s.clone()))
    }

    fn field_str_cased(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        leaf(r, field, &Value::Str(s.clone()))
    }

    fn field_num(&self, r: &mut Render<'_>, field: &str, num: &str) -> Res<Out> {
        leaf(r, field, &Value::Num(num.to_string()))
    }

    fn field_bool(&self, r: &mut Render<'_>, field: &str, b: bool) -> Res<Out> {
        leaf(r, field, &Value::Bool(b))
    }

    fn field_regex(
        &self,
        r: &mut Render<'_>,
        field: &str,
        source: &str,
        flags: RegexFlags,
    ) -> Res<Out> {
        let value = Value::Regex {
            source: source.to_string(),
            flags,
        };
        leaf(r, field, &value)
    }

    fn field_cidr(&self, r: &mut Render<'_>, field: &str, net: &ipnet::IpNet) -> Res<Out> {
        leaf(r, field, &Value::Cidr(*net))
    }

    fn field_compare(&self, r: &mut Render<'_>, field: &str, op: CmpOp, num: &str) -> Res<Out> {
        leaf(r, field, &Value::Compare(op, num.to_string()))
    }

    /// A query of 4096 characters or more (80% of Loki's default limit, as the reference
    /// counts) is split at its top-most `or` into as many queries as it has 4096-character
    /// parts; without an `or` it stays whole.
    fn split(&self, node: &Node, query: &str) -> Option<Vec<Node>> {
        let length = query.chars().count();
        if length < SPLIT_AT {
            return None;
        }
        partition(&push_not(&expand(node), false), length.div_ceil(SPLIT_AT))
    }

    fn query(&self, r: &mut Render<'_>, node: &Node, ctx: &QueryContext<'_>) -> Res<String> {
        let pushed = push_not(&expand(node), false);
        let mut deferred = Deferred::default();
        let condition = take_deferred(&pushed, false, &mut deferred)?;
        let filters = &deferred.line_filters;
        let out = r.convert(&condition)?;
        let parser = log_parser(ctx.rule);
        let mut q = String::new();
        q.push_str(&stream_selector(ctx.rule));
        for f in filters {
            q.push(' ');
            q.push_str(f);
        }
        let text = r.text_of(&out);
        if !text.is_empty() {
            let open = if parser.trim_start().starts_with('|') {
                ""
            } else {
                "| "
            };
            let close = if parser.trim_end().ends_with('|') {
                ""
            } else {
                " |"
            };
            let _ = write!(q, " {open}{parser}{close} {text}");
        }
        if !deferred.label_formats.is_empty() {
            // Field references: a label computed per line, then tested (as the reference
            // writes it, right after the condition).
            if text.is_empty() {
                let _ = write!(
                    q,
                    " | {} |",
                    parser.trim_matches(|c: char| c == '|' || c.is_whitespace())
                );
            } else {
                q.push('|');
            }
            let _ = write!(
                q,
                " label_format {} | {}",
                deferred.label_formats.join(","),
                deferred.label_filters.join(" and ")
            );
        }
        if !ctx.rule.fields.is_empty() {
            let fields: Vec<String> = ctx
                .rule
                .fields
                .iter()
                .map(|f| format!("{{{{.{}}}}}", label(f)))
                .collect();
            let _ = write!(q, " | line_format \"{}\"", fields.join(" "));
        }
        Ok(q)
    }
}

/// The query length from which a query is split.
const SPLIT_AT: usize = 4096;

/// Copies of `node` whose top-most `or` (the first found breadth-first; only `and`s lie above
/// it once negation is pushed down) keeps one contiguous share of its operands each: `parts`
/// shares, or one per operand when it has fewer. `None` without an `or`.
fn partition(node: &Node, parts: usize) -> Option<Vec<Node>> {
    let path = top_or(node)?;
    let Node::Or(args) = at(node, &path)? else {
        return None;
    };
    let parts = parts.min(args.len()).max(1);
    let size = args.len() / parts;
    Some(
        (0..parts)
            .map(|i| {
                let end = if i + 1 == parts {
                    args.len()
                } else {
                    (i + 1) * size
                };
                replace_at(node, &path, Node::Or(args[i * size..end].to_vec()))
            })
            .collect(),
    )
}

/// The path (child indices) to the first `or` found breadth-first.
fn top_or(node: &Node) -> Option<Vec<usize>> {
    let mut queue = std::collections::VecDeque::from([(node, Vec::new())]);
    while let Some((n, path)) = queue.pop_front() {
        match n {
            Node::Or(_) => return Some(path),
            Node::And(args) => {
                for (i, a) in args.iter().enumerate() {
                    let mut p = path.clone();
                    p.push(i);
                    queue.push_back((a, p));
                }
            }
            _ => {}
        }
    }
    None
}

fn at<'a>(node: &'a Node, path: &[usize]) -> Option<&'a Node> {
    match (path.split_first(), node) {
        (None, n) => Some(n),
        (Some((i, rest)), Node::And(args) | Node::Or(args)) => at(args.get(*i)?, rest),
        _ => None,
    }
}

fn replace_at(node: &Node, path: &[usize], with: Node) -> Node {
    match (path.split_first(), node) {
        (None, _) => with,
        (Some((i, rest)), Node::And(args)) => Node::And(
            args.iter()
                .enumerate()
                .map(|(j, a)| {
                    if j == *i {
                        replace_at(a, rest, with.clone())
                    } else {
                        a.clone()
                    }
                })
                .collect(),
        ),
        _ => node.clone(),
    }
}

fn leaf(r: &mut Render<'_>, field: &str, value: &Value) -> Res<Out> {
    Ok(Out::Text(comparison(r, field, value, false)?))
}

/// Field names as labels, and alternatives of one keyword (`windash`, `base64offset`) as an
/// `or` of keywords. (Alternatives of a field's value stay one leaf: negated, they print as
/// an `and` of negated comparisons.)
pub fn expand(node: &Node) -> Node {
    match node {
        Node::And(v) => Node::And(v.iter().map(expand).collect()),
        Node::Or(v) => Node::Or(v.iter().map(expand).collect()),
        Node::Not(n) => Node::Not(Box::new(expand(n))),
        Node::Keyword(Value::Expansion(values)) => {
            Node::Or(values.iter().cloned().map(Node::Keyword).collect())
        }
        Node::Field { field, value } => Node::Field {
            field: label(field),
            value: value.clone(),
        },
        leaf @ Node::Keyword(_) => leaf.clone(),
    }
}

/// Negation pushed down to the leaves (De Morgan): afterwards `Not` only wraps a leaf.
pub fn push_not(node: &Node, negated: bool) -> Node {
    match node {
        Node::Not(inner) => push_not(inner, !negated),
        Node::And(v) => {
            let args = v.iter().map(|n| push_not(n, negated)).collect();
            if negated {
                Node::Or(args)
            } else {
                Node::And(args)
            }
        }
        Node::Or(v) => {
            let args = v.iter().map(|n| push_not(n, negated)).collect();
            if negated {
                Node::And(args)
            } else {
                Node::Or(args)
            }
        }
        leaf if negated => Node::Not(Box::new(leaf.clone())),
        leaf => leaf.clone(),
    }
}

/// The keyword of a leaf (and whether it is negated), if it is one.
fn keyword_of(node: &Node) -> Option<(&Value, bool)> {
    match node {
        Node::Keyword(v) => Some((v, false)),
        Node::Not(inner) => match &**inner {
            Node::Keyword(v) => Some((v, true)),
            _ => None,
        },
        _ => None,
    }
}

/// What moves out of the label-filter condition: keywords as line filters (before the
/// parser), field references as computed labels (after it).
#[derive(Debug, Default)]
struct Deferred {
    line_filters: Vec<String>,
    label_formats: Vec<String>,
    label_filters: Vec<String>,
}

/// A field reference leaf (`field`, the other field, starts/ends with, negated).
fn field_ref_of(node: &Node) -> Option<(&str, &str, bool, bool, bool)> {
    let (leaf, negated) = match node {
        Node::Not(inner) => (&**inner, true),
        other => (other, false),
    };
    match leaf {
        Node::Field {
            field,
            value:
                Value::FieldRef {
                    field: other,
                    starts_with,
                    ends_with,
                },
        } => Some((field, other, *starts_with, *ends_with, negated)),
        _ => None,
    }
}

/// Moves the keywords and field references of a pushed-down tree out of it (in order) and
/// returns the rest; a removed leaf leaves an empty `and`, which prints as nothing.
fn take_deferred(node: &Node, under_or: bool, out: &mut Deferred) -> Res<Node> {
    let unsupported = |what: &str| ConvertError::Unsupported {
        target: DIALECT.name,
        construct: what.to_string(),
        span: sigil_core::Span::default(),
    };
    if let Some((field, other, starts, ends, negated)) = field_ref_of(node) {
        if under_or {
            return Err(unsupported("a field reference (`fieldref`) under an `or`"));
        }
        let name = format!("match_{}", out.label_formats.len());
        let test = match (starts, ends) {
            (true, true) => "contains",
            (true, false) => "hasPrefix",
            (false, true) => "hasSuffix",
            (false, false) => "eq",
        };
        out.label_formats.push(format!(
            "{name}=`{{{{ if {test} .{} .{field} }}}}true{{{{ else }}}}false{{{{ end }}}}`",
            label(other)
        ));
        let op = if negated { "!=" } else { "=" };
        out.label_filters.push(format!("{name}{op}`true`"));
        return Ok(Node::And(Vec::new()));
    }
    if let Some((value, negated)) = keyword_of(node) {
        if under_or {
            return Err(unsupported(
                "a keyword (a line filter) under an `or` with field comparisons",
            ));
        }
        if let Some(f) = line_filter(value, negated)? {
            out.line_filters.push(f);
        }
        return Ok(Node::And(Vec::new()));
    }
    match node {
        Node::Or(args) => {
            let keywords: Vec<(&Value, bool)> = args.iter().filter_map(keyword_of).collect();
            if keywords.is_empty() {
                let args = args
                    .iter()
                    .map(|a| take_deferred(a, true, out))
                    .collect::<Res<Vec<_>>>()?;
                return Ok(Node::Or(args));
            }
            if keywords.len() != args.len() {
                return Err(unsupported(
                    "a keyword (a line filter) under an `or` with field comparisons",
                ));
            }
            if keywords.iter().any(|(_, negated)| *negated) {
                return Err(unsupported("an `or` of negated keywords"));
            }
            out.line_filters.push(or_line_filter(&keywords)?);
            Ok(Node::And(Vec::new()))
        }
        Node::And(args) => Ok(Node::And(
            args.iter()
                .map(|a| take_deferred(a, under_or, out))
                .collect::<Res<Vec<_>>>()?,
        )),
        other => Ok(other.clone()),
    }
}

/// One keyword as a line filter (`None` when it matches every line).
fn line_filter(value: &Value, negated: bool) -> Res<Option<String>> {
    let (eq, re) = if negated { ("!=", "!~") } else { ("|=", "|~") };
    Ok(match value {
        Value::Str(s) => {
            let body = keyword_regex(s)?;
            // Leading and trailing `.*` are implied by a line filter.
            let flag = if s.cased { "" } else { "(?i)" };
            let trimmed = body.strip_prefix(".*").unwrap_or(&body);
            let trimmed = trimmed.strip_suffix(".*").unwrap_or(trimmed);
            if trimmed.is_empty() {
                None
            } else {
                Some(format!("{re} {}", quote_regex(&format!("{flag}{trimmed}"))))
            }
        }
        Value::Num(n) => Some(format!("{eq} `{n}`")),
        Value::Regex { source, flags } => {
            let re_text = escape_regex(&DIALECT, source, *flags);
            Some(format!("{re} {}", quote_regex(&re_text)))
        }
        Value::Cidr(net) => Some(format!("{eq} ip(\"{net}\")")),
        _ => {
            return Err(ConvertError::Unsupported {
                target: DIALECT.name,
                construct: "a keyword that is not a string, number, regular expression or network"
                    .into(),
                span: sigil_core::Span::default(),
            });
        }
    })
}

/// An `or` of keywords as one `|~` filter: the alternatives joined with `|`, `(?i)` unless
/// all are case-sensitive.
fn or_line_filter(keywords: &[(&Value, bool)]) -> Res<String> {
    let mut alternatives = Vec::with_capacity(keywords.len());
    let mut insensitive = false;
    for (value, _) in keywords {
        match value {
            Value::Str(s) => {
                insensitive |= !s.cased;
                alternatives.push(keyword_regex(s)?);
            }
            Value::Regex { source, flags } => {
                insensitive |= flags.ignore_case;
                let plain = RegexFlags {
                    ignore_case: false,
                    ..*flags
                };
                alternatives.push(escape_regex(&DIALECT, source, plain));
            }
            _ => {
                return Err(ConvertError::Unsupported {
                    target: DIALECT.name,
                    construct: "an `or` of keywords that are not strings or regular expressions"
                        .into(),
                    span: sigil_core::Span::default(),
                });
            }
        }
    }
    let flag = if insensitive { "(?i)" } else { "" };
    Ok(format!(
        "|~ {}",
        quote_regex(&format!("{flag}{}", alternatives.join("|")))
    ))
}

/// A keyword's pattern as a regular expression (no anchors, no flag).
fn keyword_regex(s: &Str) -> Res<String> {
    pattern_regex(&s.pattern, false)
}

/// A string pattern as a regular expression: literal text escaped as Python's `re.escape`
/// escapes it, `*` as `.*`, `?` as `.`; anchored at an end without a `*` when `anchored`.
fn pattern_regex(p: &Pattern, anchored: bool) -> Res<String> {
    let pieces = p.pieces();
    let mut out = String::new();
    if anchored && !matches!(pieces.first(), Some(Piece::AnyMany)) {
        out.push('^');
    }
    for piece in pieces {
        match piece {
            Piece::Lit(s) => {
                for c in s.chars() {
                    if "()[]{}?*+-|^$\\.&~# \t\n\r\u{b}\u{c}".contains(c) {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
            Piece::AnyMany => out.push_str(".*"),
            Piece::AnyOne => out.push('.'),
            Piece::Placeholder(name) => {
                return Err(ConvertError::UnexpandedPlaceholder {
                    name: name.clone(),
                    span: sigil_core::Span::default(),
                });
            }
        }
    }
    if anchored && !matches!(pieces.last(), Some(Piece::AnyMany)) {
        out.push('$');
    }
    Ok(out)
}

/// A regular expression as a LogQL string: in backquotes (no escapes), or in double quotes
/// with `\` and `"` escaped when it holds a backquote.
fn quote_regex(re: &str) -> String {
    if re.contains('`') {
        format!("\"{}\"", re.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        format!("`{re}`")
    }
}

/// A plain string as a LogQL string (backquoted unless it holds a backquote).
fn quote_str(p: &Pattern) -> Res<String> {
    let text = p.as_literal().ok_or_else(|| ConvertError::Unsupported {
        target: DIALECT.name,
        construct: "wildcards in a case-sensitive value".into(),
        span: sigil_core::Span::default(),
    })?;
    Ok(if text.contains('`') {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        format!("`{text}`")
    })
}

/// One label filter, negated or not.
fn comparison(r: &Render<'_>, field: &str, value: &Value, negated: bool) -> Res<String> {
    let f = label(field);
    let (eq, ne, re) = if negated {
        ("!=", "=", "!~")
    } else {
        ("=", "!=", "=~")
    };
    Ok(match value {
        Value::Str(s) if s.cased && !s.pattern.has_wildcards() => {
            format!("{f}{eq}{}", quote_str(&s.pattern)?)
        }
        Value::Str(s) => {
            let flag = if s.cased { "" } else { "(?i)" };
            let body = pattern_regex(&s.pattern, true)?;
            format!("{f}{re}{}", quote_regex(&format!("{flag}{body}")))
        }
        Value::Num(n) => format!("{f}{eq}{n}"),
        Value::Bool(b) => format!("{f}{eq}`{b}`"),
        Value::Regex { source, flags } => {
            format!(
                "{f}{re}{}",
                quote_regex(&escape_regex(&DIALECT, source, *flags))
            )
        }
        // Label filters match the whole value: the phrase may stand anywhere in it.
        Value::Phrase(p) => format!(
            "{f}{re}{}",
            quote_regex(&format!(".*{}.*", sigil_core::words::phrase_regex(p)))
        ),
        Value::Cidr(net) => format!("{f}{eq}ip(\"{net}\")"),
        Value::Compare(op, num) => {
            let op = match (op, negated) {
                (CmpOp::Lt, false) | (CmpOp::Gte, true) => "<",
                (CmpOp::Lte, false) | (CmpOp::Gt, true) => "<=",
                (CmpOp::Gt, false) | (CmpOp::Lte, true) => ">",
                (CmpOp::Gte, false) | (CmpOp::Lt, true) => ">=",
            };
            format!("{f}{op}{num}")
        }
        Value::Null => format!("{f}{eq}``"),
        Value::Exists(exists) => {
            if *exists {
                format!("{f}{ne}\"\"")
            } else {
                format!("{f}{eq}\"\"")
            }
        }
        Value::FieldRef { .. } => return Err(r.unsupported("a field reference (`fieldref`)")),
        Value::Expansion(_) => return Err(r.unsupported("nested value alternatives")),
    })
}

/// A field name as Loki sanitises label names: characters other than ASCII letters, digits
/// and `_` become `_`, and a leading digit gets a `_` before it.
pub fn label(field: &str) -> String {
    let key = field.trim();
    let mut out = String::with_capacity(key.len() + 1);
    if key.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    out.extend(key.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    }));
    out
}

/// The parser for the rule's logs: the custom attribute `loki_parser` (set by a pipeline),
/// else `json` for Windows, Azure and Zeek, `logfmt` otherwise.
fn log_parser(rule: &sigil_core::Rule) -> String {
    if let Some(p) = rule.custom.get("loki_parser") {
        return p.clone();
    }
    match rule.logsource.product.as_deref() {
        Some("windows" | "azure" | "zeek") => "json",
        _ => "logfmt",
    }
    .to_string()
}

/// The stream selector for the rule's logs: the custom attribute `logsource_loki_selection`,
/// else one chosen from the product.
fn stream_selector(rule: &sigil_core::Rule) -> String {
    if let Some(s) = rule.custom.get("logsource_loki_selection") {
        return s.clone();
    }
    match rule.logsource.product.as_deref() {
        Some("windows") => "{job=~\"eventlog|winlog|windows|fluentbit.*\"}",
        Some("azure") => "{job=\"logstash\"}",
        _ => "{job=~\".+\"}",
    }
    .to_string()
}
