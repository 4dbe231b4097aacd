//! Microsoft Kusto (KQL of Sentinel, Defender XDR and Azure Data Explorer), as
//! pySigma-backend-kusto writes it: a `where` expression, prefixed with
//! the table (`DeviceProcessEvents\n| where ...`) when a pipeline has chosen one.
//!
//! KQL has no wildcards: a pattern becomes `startswith`/`endswith`/`contains`, and a list
//! with wildcard values becomes `in~` for the plain ones joined with one test per pattern.

use sigil_core::{Pattern, Piece, RegexFlags};

use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote, fill};
use crate::error::ConvertError;
use crate::registry::TargetInfo;
use crate::render::{
    Out, QueryContext, Render, Res, StrOp, Target, choose_str_op, default_field_str, escape_regex,
};
use crate::tree::{BoolKind, Node, Str, Value};

/// The Kusto target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Kusto;

/// Kusto's KQL as data.
pub static DIALECT: Dialect = Dialect {
    name: "kusto",
    precedence: [BoolKind::Not, BoolKind::And, BoolKind::Or],
    parenthesize: true,
    group: "({expr})",
    token_separator: " ",
    or_token: "or",
    and_token: "and",
    not_token: "not",
    not_style: NotStyle::Call,
    eq_token: " =~ ",
    num_eq_token: Some(" == "),
    field_quote: "'",
    field_quote_when: FieldQuote::UnlessWordOr(""),
    field_escape: None,
    str_quote: "\"",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    wildcard_multi: Some("*"),
    wildcard_single: Some("*"),
    add_escaped: "\\",
    bool_values: Some(["false", "true"]),
    startswith: Some("{field} startswith {value}"),
    endswith: Some("{field} endswith {value}"),
    contains: Some("{field} contains {value}"),
    wildcard_match: None,
    re_expression: Some("{field} matches regex \"{regex}\""),
    re_escape_char: "\\",
    re_escape: &["\""],
    re_escape_escape_char: true,
    re_flag_prefix: true,
    case_sensitive_match: None,
    cidr_expression: Some("ipv4_is_in_range({field}, \"{value}\")"),
    compare_op_expression: Some("{field} {operator} {value}"),
    field_ref: [None, None, None, None],
    field_null: Some("isnull({field})"),
    field_exists: Some("isnotempty({field})"),
    field_not_exists: Some("isempty({field})"),
    in_list: Some(InList {
        template: "{field} {op} ({list})",
        or_op: Some("in~"),
        and_op: Some("has_all"),
        separator: ", ",
        allow_wildcards: true,
    }),
    unbound_str: Some("{value}"),
    unbound_num: Some("{value}"),
    unbound_re: Some("_=~{value}"),
};

/// The `kusto` target. A Kusto query starts with its table, which the `microsoft_xdr`
/// pipeline (the default) chooses from the rule's logsource; `sentinel_asim` and
/// `azure_monitor` are the other built-in choices.
pub static TARGET: TargetInfo = TargetInfo {
    name: "kusto",
    aliases: &["microsoft365defender", "azure-kusto"],
    alias_notes: &[(
        "kql",
        "`-t kql` is Microsoft's Kusto Query Language (Sentinel, Defender XDR), the `kusto` target; Kibana's KQL is `sigil query --kql`",
    )],
    engine: "Microsoft Kusto (Sentinel, Defender XDR, Azure Monitor)",
    reference: "pysigma-backend-kusto 1.0.1 `kusto`",
    default_pipeline: Some("microsoft_xdr"),
    formats: &[],
    renderer: &Kusto,
};

impl Target for Kusto {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    /// A Kusto string: `\\` and `"` escaped. Kusto strings have no wildcards, so a literal
    /// `*` or `?` is written as it is (the reference writes `\\*`, an escape Kusto's parser
    /// rejects), and so is a wildcard that reaches a value (as in the reference).
    fn value_str(&self, p: &Pattern) -> Res<String> {
        let mut out = String::from("\"");
        for piece in p.pieces() {
            match piece {
                Piece::Lit(s) => {
                    for c in s.chars() {
                        if matches!(c, '\\' | '"') {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                }
                Piece::AnyMany | Piece::AnyOne => out.push('*'),
                Piece::Placeholder(_) => {
                    return Err(ConvertError::Unsupported {
                        target: DIALECT.name,
                        construct: "a placeholder".into(),
                        span: sigil_core::Span::default(),
                    });
                }
            }
        }
        out.push('"');
        Ok(out)
    }

    fn field_str(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        let (op, _) = choose_str_op(&s.pattern, [true, true, true, false]);
        if op == StrOp::Equals && s.pattern.has_wildcards() {
            // `=~` has no wildcards: a pattern with inner wildcards becomes a regex.
            let re = escape_regex(&DIALECT, &wildcard_regex(&s.pattern), RegexFlags::default());
            return Ok(Out::Text(format!(
                "{} matches regex \"{re}\"",
                DIALECT.field(field)
            )));
        }
        default_field_str(r, field, &s.pattern)
    }

    fn in_expression(&self, r: &mut Render<'_>, kind: BoolKind, args: &[Node]) -> Res<Out> {
        let list = DIALECT.in_list.unwrap_or(InList {
            template: "{field} {op} ({list})",
            or_op: None,
            and_op: None,
            separator: ", ",
            allow_wildcards: true,
        });
        let (op, joiner) = if kind == BoolKind::Or {
            (list.or_op.unwrap_or("in~"), DIALECT.or_token)
        } else {
            (list.and_op.unwrap_or("has_all"), DIALECT.and_token)
        };
        let mut field = "";
        let mut plain = Vec::new();
        let mut patterns: Vec<&Pattern> = Vec::new();
        for arg in args {
            let Node::Field { field: f, value } = arg else {
                continue;
            };
            field = f;
            match value {
                Value::Str(s) if s.pattern.has_wildcards() => patterns.push(&s.pattern),
                Value::Str(s) => plain.push(self.value_str(&s.pattern)?),
                // Numbers in a list are written as strings, as the reference does.
                Value::Num(n) => plain.push(format!("\"{n}\"")),
                _ => {}
            }
        }
        let quoted = DIALECT.field(field);
        let mut parts = Vec::new();
        if !plain.is_empty() {
            parts.push(fill(
                list.template,
                &[
                    ("field", &quoted),
                    ("op", op),
                    ("list", &plain.join(list.separator)),
                ],
            ));
        }
        for p in patterns {
            if inner_has_wildcards(p) {
                // One `contains` per literal run, all required. The reference re-reads each
                // run as Sigma text, which turns an escaped `\\*` into a wildcard; the run is
                // literal text here.
                let mut tests = Vec::new();
                for piece in p.pieces() {
                    if let Piece::Lit(s) = piece {
                        let v = self.value_str(&Pattern::literal(s.clone()))?;
                        tests.push(format!("{quoted} contains {v}"));
                    }
                }
                parts.push(format!("({})", tests.join(" and ")));
            } else {
                // The reference passes the already quoted name on and quotes it twice
                // (`''a-b''`), which Kusto's parser rejects.
                let out = default_field_str(r, field, p)?;
                parts.push(r.text_of(&out).to_string());
            }
        }
        Ok(Out::Text(parts.join(&format!(" {joiner} "))))
    }

    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        let q = r.text_of(&query);
        Ok(match ctx.state.get("query_table") {
            // A pipeline can drop every condition (`EventID` alone under microsoft_xdr): the
            // query is then the whole table, not an empty `where`.
            Some(table) if q.trim().is_empty() => table.clone(),
            Some(table) => format!("{table}\n| where {q}"),
            None => q.to_string(),
        })
    }
}

/// Whether a wildcard sits strictly inside the pattern (not only at its ends), counting
/// the first and last character, wildcard or not, as the ends.
fn inner_has_wildcards(p: &Pattern) -> bool {
    let mut pieces: Vec<Piece> = p.pieces().to_vec();
    match pieces.first_mut() {
        Some(Piece::Lit(s)) => {
            let mut c = s.chars();
            c.next();
            *s = c.as_str().to_string();
        }
        Some(_) => {
            pieces.remove(0);
        }
        None => return false,
    }
    match pieces.last_mut() {
        Some(Piece::Lit(s)) => {
            s.pop();
        }
        Some(_) => {
            pieces.pop();
        }
        None => return false,
    }
    Pattern::from_pieces(pieces).has_wildcards()
}

/// A wildcard pattern as an unanchored regex: `*` is `.*`, `?` is `.`, and in literal text
/// the regex metacharacters `.*+?^$[](){}\|` are escaped (what the reference's
/// `SigmaString.to_regex` escapes; spaces and `-` stay as they are).
fn wildcard_regex(p: &Pattern) -> String {
    let mut out = String::new();
    for piece in p.pieces() {
        match piece {
            Piece::Lit(s) => {
                for c in s.chars() {
                    if ".*+?^$[](){}\\|".contains(c) {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
            Piece::AnyMany | Piece::Placeholder(_) => out.push_str(".*"),
            Piece::AnyOne => out.push('.'),
        }
    }
    out
}
