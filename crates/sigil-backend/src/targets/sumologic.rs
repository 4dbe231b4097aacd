//! Sumo Logic Cloud SIEM (CSE) rule expressions, as pysigma-backend-sumologic 0.2.5
//! (`sumologic_cse`) writes them: `field="value"` and `field in ("a", "b")` for exact
//! values, `field matches /regex/` for wildcards and regular expressions (the regex matches
//! the whole value), `AND` binding tighter than `OR`, `!` for `not`, `isEmpty(field)` for
//! a missing field.
//!
//! Field names follow the CSE schema: a field of the normalised schema
//! (`data/sumologic_cse_fields.txt`) is written as it is; a field of the product's own log
//! is written `fields['name']` — for a rule about one product or service every unmapped
//! field is one (on Windows under `EventData.` unless it is a field of the event header),
//! otherwise only dotted names are. Windows event ids carry their channel
//! (`metadata_deviceEventId="Security-4624"`), and the vendor and product the
//! `sumologic_cse` pipeline found for the logsource (its state `sumologic_vendor`,
//! `sumologic_product`) are prepended: `metadata_vendor="..." AND metadata_product="..."
//! AND (query)`.

use std::collections::HashSet;
use std::sync::LazyLock;

use sigil_core::{LogSource, Pattern, Piece};

use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote};
use crate::format::sumologic::CSE_RULE;
use crate::registry::TargetInfo;
use crate::render::{Out, QueryContext, Render, Res, Target, decide_in, not_written_as};
use crate::tree::{BoolKind, Node, Str, Value};

/// The Sumo Logic Cloud SIEM target.
#[derive(Debug, Clone, Copy, Default)]
pub struct SumoLogic;

/// CSE rule expressions as data.
pub static DIALECT: Dialect = Dialect {
    name: "sumologic",
    precedence: [BoolKind::Not, BoolKind::And, BoolKind::Or],
    parenthesize: false,
    group: "({expr})",
    token_separator: " ",
    or_token: "OR",
    and_token: "AND",
    not_token: "!",
    not_style: NotStyle::Prefix,
    eq_token: "=",
    num_eq_token: None,
    // Names are final when they reach the dialect (see `cse_field`).
    field_quote: "",
    field_quote_when: FieldQuote::Never,
    field_escape: None,
    str_quote: "\"",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    // Wildcards become `matches` regexes (`SumoLogic::field_str`).
    wildcard_multi: None,
    wildcard_single: None,
    add_escaped: "\\",
    bool_values: Some(["false", "true"]),
    startswith: None,
    endswith: None,
    contains: None,
    wildcard_match: None,
    re_expression: Some("{field} matches /{regex}/"),
    re_escape_char: "\\",
    re_escape: &["/"],
    re_escape_escape_char: false,
    re_flag_prefix: true,
    case_sensitive_match: None,
    cidr_expression: None,
    compare_op_expression: Some("{field}{operator}{value}"),
    field_ref: [None, None, None, None],
    field_null: Some("isEmpty({field})"),
    field_exists: Some("!isEmpty({field})"),
    field_not_exists: Some("isEmpty({field})"),
    in_list: Some(InList {
        template: "{field} {op} ({list})",
        or_op: Some("in"),
        and_op: None,
        separator: ", ",
        allow_wildcards: false,
    }),
    unbound_str: None,
    unbound_num: None,
    unbound_re: None,
};

/// The `sumologic` target; `sumologic_cse` (the default) maps Sigma's fields to the CSE
/// schema and finds each logsource's vendor and product.
pub static TARGET: TargetInfo = TargetInfo {
    name: "sumologic",
    aliases: &["sumologic_cse", "sumo", "sumologic-cse", "cse"],
    alias_notes: &[],
    engine: "Sumo Logic Cloud SIEM (CSE rule expressions)",
    reference: "pysigma-backend-sumologic 0.2.5 `sumologic_cse`",
    default_pipeline: Some("sumologic_cse"),
    formats: &[&CSE_RULE],
    renderer: &SumoLogic,
};

/// The fields of the normalised CSE schema.
static SCHEMA: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/sumologic_cse_fields.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Whether `field` is a field of the normalised CSE schema.
pub fn in_schema(field: &str) -> bool {
    SCHEMA.contains(field)
}

/// The Windows event header as Sigma names it and where CSE keeps it.
const WINDOWS_SYSTEM_FIELDS: &[(&str, &str)] = &[
    ("Provider_Name", "Provider.Name"),
    ("Provider_Guid", "Provider.Guid"),
    ("Channel", "Channel"),
    ("Computer", "Computer"),
    ("EventRecordID", "EventRecordID"),
    ("ProcessID", "Execution.ProcessID"),
    ("ThreadID", "Execution.ThreadID"),
    ("Keywords", "Keywords"),
    ("Level", "Level"),
    ("Task", "Task"),
    ("Opcode", "Opcode"),
    ("Version", "Version"),
];

/// Windows event header fields (and the groups they sit in): kept beside `EventData`.
const WINDOWS_HEADER: &[&str] = &[
    "Channel",
    "Computer",
    "EventID",
    "EventRecordID",
    "Execution",
    "Keywords",
    "Level",
    "Opcode",
    "Provider",
    "Security",
    "Task",
    "TimeCreated",
    "Version",
];

/// The Windows channel a Sigma service's events come from, where it is not the service
/// name capitalised (`security` → `Security`).
const CHANNELS: &[(&str, &str)] = &[
    ("sysmon", "Microsoft-Windows-Sysmon/Operational"),
    ("powershell", "PowerShell"),
    ("powershell-classic", "PowerShell"),
    (
        "taskscheduler",
        "Microsoft-Windows-TaskScheduler/Operational",
    ),
];

/// The field holding a Windows event's id, which CSE prefixes with the channel.
const EVENT_ID: &str = "metadata_deviceEventId";

/// Characters a literal must escape inside a `/.../` regex.
const REGEX_SPECIAL: &str = "\\/.()[]{}^$+?|*";

/// The CSE reference to `field` in a rule with logsource `ls`.
pub fn cse_field(field: &str, ls: &LogSource) -> String {
    if in_schema(field) {
        return field.to_string();
    }
    let wrap = |name: &str| format!("fields['{}']", name.replace('\'', "\\'"));
    if let Some(raw) = field.strip_prefix("fields.") {
        return wrap(raw);
    }
    if field.contains('.') {
        return wrap(field);
    }
    let product = ls.product.as_deref().map(str::to_ascii_lowercase);
    let windows = product.as_deref() == Some("windows");
    if (product.is_none() || windows)
        && let Some((_, raw)) = WINDOWS_SYSTEM_FIELDS.iter().find(|(f, _)| *f == field)
    {
        return wrap(raw);
    }
    if product.is_none() && ls.service.is_none() {
        return field.to_string();
    }
    if windows && !WINDOWS_HEADER.contains(&field) {
        return wrap(&format!("EventData.{field}"));
    }
    wrap(field)
}

/// The channel of a Windows service's events (`security` → `Security`).
pub fn channel(service: &str) -> String {
    let lower = service.to_ascii_lowercase();
    if let Some((_, c)) = CHANNELS.iter().find(|(s, _)| *s == lower) {
        return (*c).to_string();
    }
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A string pattern as a regex matching the whole value.
pub fn pattern_regex(p: &Pattern) -> String {
    let mut out = String::new();
    for piece in p.pieces() {
        match piece {
            Piece::Lit(s) => {
                for c in s.chars() {
                    if REGEX_SPECIAL.contains(c) {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
            Piece::AnyMany => out.push_str(".*"),
            Piece::AnyOne => out.push('.'),
            Piece::Placeholder(_) => {}
        }
    }
    out
}

/// A plain string value of `p` (`None` when it holds wildcards or placeholders).
fn digits(v: &Value) -> Option<String> {
    let text = match v {
        Value::Num(n) => n.clone(),
        Value::Str(s) => s.pattern.as_literal()?.to_string(),
        _ => return None,
    };
    (!text.is_empty() && text.chars().all(|c| c.is_ascii_digit())).then_some(text)
}

/// How a query names a field: `(field, value, logsource)` → the name written.
pub type Namer<'a> = &'a dyn Fn(&str, &Value, &LogSource) -> String;

/// `node` with its fields named by `name` and channel-prefixed Windows event ids.
pub fn rewrite(node: &Node, ls: &LogSource, name: Namer<'_>) -> Node {
    match node {
        Node::And(v) => Node::And(v.iter().map(|n| rewrite(n, ls, name)).collect()),
        Node::Or(v) => Node::Or(v.iter().map(|n| rewrite(n, ls, name)).collect()),
        Node::Not(n) => Node::Not(Box::new(rewrite(n, ls, name))),
        Node::Keyword(v) => Node::Keyword(v.clone()),
        Node::Field { field, value } => {
            let mut value = value.clone();
            if field == EVENT_ID
                && let Some(service) = ls.service.as_deref()
            {
                let prefix = |v: &Value| match digits(v) {
                    Some(id) => Value::Str(Str {
                        pattern: Pattern::literal(format!("{}-{id}", channel(service))),
                        cased: false,
                    }),
                    None => v.clone(),
                };
                value = match &value {
                    Value::Expansion(vs) => Value::Expansion(vs.iter().map(prefix).collect()),
                    v => prefix(v),
                };
            }
            Node::Field {
                field: name(field, &value, ls),
                value,
            }
        }
    }
}

/// Whether the query names a product's own field or a Windows event id.
fn names_raw_fields(node: &Node) -> bool {
    match node {
        Node::And(v) | Node::Or(v) => v.iter().any(names_raw_fields),
        Node::Not(n) => names_raw_fields(n),
        Node::Field { field, .. } => field == EVENT_ID || field.starts_with("fields["),
        Node::Keyword(_) => false,
    }
}

/// A string literal: in double quotes, `\\` and `"` escaped.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if matches!(c, '\\' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The vendor and product filter the pipeline's state asks for, if any
/// (`metadata_vendor="..." AND metadata_product="..."`): none for a generic source, and on
/// Windows only when the query reads fields of the raw event (a query over normalised fields
/// also matches the normalised records of other sources).
pub fn vendor_filter(node: &Node, ctx: &QueryContext<'_>) -> Option<String> {
    let vendor = ctx.state.get("sumologic_vendor")?;
    let product = ctx.state.get("sumologic_product")?;
    if vendor.is_empty() || product.is_empty() || vendor == "Generic" {
        return None;
    }
    if vendor == "Microsoft" && product == "Windows" && !names_raw_fields(node) {
        return None;
    }
    Some(format!(
        "metadata_vendor={} AND metadata_product={}",
        quoted(vendor),
        quoted(product)
    ))
}

/// A whole query: the condition with fields named by `name`, after the vendor filter. The
/// condition is grouped behind the filter when it is an `OR` (a list `in (...)` is not).
pub fn cse_query(
    r: &mut Render<'_>,
    node: &Node,
    ctx: &QueryContext<'_>,
    name: Namer<'_>,
) -> Res<String> {
    let node = rewrite(node, &ctx.rule.logsource, name);
    let filter = vendor_filter(&node, ctx);
    let out = r.convert(&node)?;
    let text = r.text_of(&out);
    Ok(match filter {
        None => text.to_string(),
        Some(f) if text.is_empty() => f,
        Some(f) => {
            let list = |args: &[Node]| decide_in(r.dialect(), BoolKind::Or, args);
            match &node {
                Node::Or(args) if !list(args) => format!("{f} AND ({text})"),
                _ => format!("{f} AND {text}"),
            }
        }
    })
}

impl Target for SumoLogic {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn not(&self, r: &mut Render<'_>, arg: &Node) -> Res<Out> {
        // `!` is written against its operand: `!field="x"`, `!(a OR b)`.
        not_written_as(r, arg, |s| format!("!{s}"))
    }

    fn value_str(&self, p: &Pattern) -> Res<String> {
        match p.as_literal() {
            Some(text) => Ok(quoted(text)),
            None => Err(crate::ConvertError::Unsupported {
                target: DIALECT.name,
                construct: "wildcards in a list".into(),
                span: sigil_core::Span::default(),
            }),
        }
    }

    fn field_str(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        if s.pattern.has_wildcards() {
            return Ok(Out::Text(format!(
                "{field} matches /{}/",
                pattern_regex(&s.pattern)
            )));
        }
        let _ = r;
        Ok(Out::Text(format!(
            "{field}={}",
            self.value_str(&s.pattern)?
        )))
    }

    fn query(&self, r: &mut Render<'_>, node: &Node, ctx: &QueryContext<'_>) -> Res<String> {
        cse_query(r, node, ctx, &|field, _, ls| cse_field(field, ls))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(product: Option<&str>, service: Option<&str>) -> LogSource {
        LogSource {
            product: product.map(String::from),
            service: service.map(String::from),
            ..LogSource::default()
        }
    }

    #[test]
    fn fields_outside_the_schema_are_read_from_the_raw_event() {
        let win = ls(Some("windows"), Some("security"));
        assert_eq!(cse_field("commandLine", &win), "commandLine");
        assert_eq!(
            cse_field("TargetImage", &win),
            "fields['EventData.TargetImage']"
        );
        assert_eq!(cse_field("Channel", &win), "fields['Channel']");
        assert_eq!(cse_field("Provider_Name", &win), "fields['Provider.Name']");
        let cloud = ls(Some("bitbucket"), Some("audit"));
        assert_eq!(
            cse_field("auditType.action", &cloud),
            "fields['auditType.action']"
        );
        assert_eq!(cse_field("action", &cloud), "action");
        assert_eq!(cse_field("repo", &cloud), "fields['repo']");
        let generic = ls(None, None);
        assert_eq!(cse_field("repo", &generic), "repo");
        assert_eq!(
            cse_field("fields.EngineVersion", &generic),
            "fields['EngineVersion']"
        );
    }

    #[test]
    fn channels_of_windows_services() {
        assert_eq!(channel("security"), "Security");
        assert_eq!(channel("sysmon"), "Microsoft-Windows-Sysmon/Operational");
        assert_eq!(channel("windefend"), "Windefend");
    }

    #[test]
    fn wildcards_become_whole_value_regexes() {
        let p = Pattern::from_pieces([
            Piece::AnyMany,
            Piece::Lit("\\a.b/c".into()),
            Piece::AnyOne,
            Piece::Lit("(x)".into()),
        ]);
        assert_eq!(pattern_regex(&p), ".*\\\\a\\.b\\/c.\\(x\\)");
    }
}
