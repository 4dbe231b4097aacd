//! VMware Carbon Black (Cloud Enterprise EDR) search syntax, as pysigma-backend-carbonblack
//! writes it: Lucene-like terms `field:value`, `and` as a space, `-` for `not` (written
//! against its operand), ranges for comparisons.
//!
//! Values are not quoted: every query-syntax character (and the space) is escaped with a
//! backslash, and a leading wildcard is dropped, since Carbon Black matches a term anywhere
//! at its start side already.

use sigil_core::{Pattern, Piece};

use crate::dialect::{Dialect, FieldQuote, NotStyle, StrQuote};
use crate::error::ConvertError;
use crate::registry::TargetInfo;
use crate::render::{Out, Render, Res, Target, not_written_as};
use crate::tree::{BoolKind, CmpOp, Node, Value};

/// The Carbon Black target.
#[derive(Debug, Clone, Copy, Default)]
pub struct CarbonBlack;

/// Carbon Black's search syntax as data.
pub static DIALECT: Dialect = Dialect {
    name: "carbonblack",
    precedence: [BoolKind::Not, BoolKind::And, BoolKind::Or],
    parenthesize: true,
    group: "({expr})",
    token_separator: " ",
    or_token: "OR",
    and_token: " ",
    not_token: "-",
    not_style: NotStyle::Prefix,
    eq_token: ":",
    num_eq_token: None,
    field_quote: "\"",
    field_quote_when: FieldQuote::UnlessWordOr(""),
    field_escape: Some(("\\", " ")),
    str_quote: "",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    wildcard_multi: Some("*"),
    wildcard_single: Some("*"),
    add_escaped: " \\/()[]{}*-^~+!:\"",
    bool_values: Some(["FALSE", "TRUE"]),
    startswith: None,
    endswith: None,
    contains: None,
    wildcard_match: None,
    // The reference writes `field:regex`, which Carbon Black reads as a term (and mostly
    // rejects: `[`, `{`, `+` are query syntax); its search has no regular-expression match
    // for these, so such a rule fails.
    re_expression: None,
    re_escape_char: "\\",
    re_escape: &[],
    re_escape_escape_char: true,
    re_flag_prefix: false,
    case_sensitive_match: None,
    cidr_expression: None,
    compare_op_expression: None,
    field_ref: [None, None, None, None],
    // The reference has none (the rule fails); a missing field is `-field:*`.
    field_null: Some("-{field}:*"),
    field_exists: Some("{field}:*"),
    field_not_exists: Some("-{field}:*"),
    in_list: None,
    unbound_str: Some("\"{value}\""),
    unbound_num: Some("{value}"),
    unbound_re: None,
};

/// The `carbonblack` target; without a pipeline the rule's field names are searched as
/// they are (as the reference does); `carbonblack` maps them to Carbon Black's.
pub static TARGET: TargetInfo = TargetInfo {
    name: "carbonblack",
    aliases: &["carbon_black", "carbon-black"],
    alias_notes: &[],
    engine: "VMware Carbon Black Cloud (Enterprise EDR)",
    reference: "pysigma-backend-carbonblack 0.1.14 `carbon_black`",
    default_pipeline: None,
    formats: &[&crate::format::QUERY_JSON],
    renderer: &CarbonBlack,
};

impl Target for CarbonBlack {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn not(&self, r: &mut Render<'_>, arg: &Node) -> Res<Out> {
        // A negated absence test is a presence test (not `--field:*`).
        if let Node::Field {
            field,
            value: Value::Null | Value::Exists(false),
        } = arg
        {
            return Ok(Out::Text(format!("{}:*", DIALECT.field(field))));
        }
        // `-` is written against its operand: `-field:value`, `-(a OR b)`.
        not_written_as(r, arg, |s| format!("-{s}"))
    }

    fn value_str(&self, p: &Pattern) -> Res<String> {
        if p.is_empty() {
            // The reference writes nothing (`field:`), which the parser rejects.
            return Ok("\"\"".to_string());
        }
        // Every whitespace character separates terms, not only the space the reference
        // escapes (rules look for the Unicode spaces of padded command lines).
        let mut add = format!("{}{}", DIALECT.str_quote, DIALECT.add_escaped);
        for piece in p.pieces() {
            if let Piece::Lit(s) = piece {
                for c in s.chars().filter(|c| c.is_whitespace()) {
                    if !add.contains(c) {
                        add.push(c);
                    }
                }
            }
        }
        let text = DIALECT
            .escape_pattern(p, (DIALECT.wildcard_multi, DIALECT.wildcard_single), &add)
            .ok_or_else(|| unsupported("a placeholder"))?;
        Ok(match p.pieces().first() {
            // A leading wildcard is implied; a value that is only `*` stays (`field:*`).
            Some(Piece::AnyMany | Piece::AnyOne) if text.len() > 1 => text[1..].to_string(),
            _ => text,
        })
    }

    fn field_compare(&self, r: &mut Render<'_>, field: &str, op: CmpOp, num: &str) -> Res<Out> {
        // Comparisons are ranges: `[n TO *]`, with braces where the bound is excluded (the
        // reference writes `<` as `<=` and `>` as `>=`).
        let range = match op {
            CmpOp::Lt => format!("{{* TO {num}}}"),
            CmpOp::Lte => format!("[* TO {num}]"),
            CmpOp::Gt => format!("{{{num} TO *}}"),
            CmpOp::Gte => format!("[{num} TO *]"),
        };
        Ok(Out::Text(format!("{}:{range}", r.dialect().field(field))))
    }
}

fn unsupported(construct: &str) -> ConvertError {
    ConvertError::Unsupported {
        target: DIALECT.name,
        construct: construct.into(),
        span: sigil_core::Span::default(),
    }
}
