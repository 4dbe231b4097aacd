//! Apache Spark SQL (and Databricks SQL), as pySigma-backend-databricks writes it: a `WHERE`
//! condition, strings compared case-insensitively through `lower()`, prefixes, suffixes and
//! substrings through `startswith`/`endswith`/`contains`, other wildcards and regular
//! expressions through `rlike` (Java regexes). Three or more prefixes, suffixes or
//! substrings of one field become one `rlike` alternation.
//!
//! Spark string literals read backslashes as escapes, so a backslash meant for the regex
//! engine is written twice and a quote is written `\'`. Keywords search the `raw` column
//! (the whole event). Where the reference cannot express a construct sigil can, it converts:
//! a `cased` value is an anchored case-sensitive `rlike`.

use sigil_core::{Pattern, Piece, RegexFlags};

use super::sql::{Literal, pattern_regex, re_escape};
use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote};
use crate::registry::TargetInfo;
use crate::render::{Out, Render, Res, StrOp, Target, choose_str_op, escape_regex};
use crate::tree::{BoolKind, Node, Str, Value};

/// The Spark SQL target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spark;

/// The column holding the whole event, where keywords are searched.
pub const RAW: &str = "raw";

const LIT: Literal = Literal::Backslash;

/// Fewest prefixes, suffixes or substrings of one field that become one `rlike`.
const MIN_ALTERNATION: usize = 3;

/// Spark SQL as data.
pub static DIALECT: Dialect = Dialect {
    name: "spark",
    precedence: [BoolKind::Not, BoolKind::And, BoolKind::Or],
    parenthesize: false,
    group: "({expr})",
    token_separator: " ",
    or_token: "OR",
    and_token: "AND",
    not_token: "NOT",
    not_style: NotStyle::Prefix,
    eq_token: " = ",
    num_eq_token: None,
    field_quote: "`",
    field_quote_when: FieldQuote::UnlessWordOr("."),
    field_escape: None,
    str_quote: "'",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    wildcard_multi: Some(".*"),
    wildcard_single: Some("."),
    add_escaped: "\\'",
    bool_values: Some(["false", "true"]),
    startswith: None,
    endswith: None,
    contains: None,
    wildcard_match: None,
    re_expression: Some("{field} rlike '{regex}'"),
    re_escape_char: "\\",
    re_escape: &["'"],
    re_escape_escape_char: true,
    re_flag_prefix: true,
    case_sensitive_match: None,
    cidr_expression: Some("ip_cidr_contains('{value}', try_ip_as_binary({field}))"),
    compare_op_expression: Some("{field} {operator} {value}"),
    field_ref: [Some("{field1} = {field2}"), None, None, None],
    field_null: Some("{field} is null"),
    field_exists: Some("{field} is not null"),
    field_not_exists: Some("{field} is null"),
    // Listed only to route one field's `or`s through [`Spark::in_expression`], which joins
    // three or more prefixes, suffixes or substrings into one `rlike`.
    in_list: Some(InList {
        template: "{field} {op} ({list})",
        or_op: Some("in"),
        and_op: None,
        separator: ", ",
        allow_wildcards: true,
    }),
    unbound_str: Some("{value}"),
    unbound_num: Some("contains(lower(raw), lower('{value}'))"),
    unbound_re: Some("raw rlike '{value}'"),
};

/// The `spark` target: Spark SQL / Databricks `WHERE` conditions over a table whose columns
/// are the events' field names.
pub static TARGET: TargetInfo = TargetInfo {
    name: "spark",
    aliases: &["databricks", "spark-sql", "sparksql"],
    alias_notes: &[],
    engine: "Apache Spark SQL / Databricks SQL",
    reference: "pysigma-backend-databricks 0.1.7 `databricks`",
    default_pipeline: None,
    formats: &[],
    renderer: &Spark,
};

/// A string compared as the reference compares it: `field` is the quoted column.
fn string_match(field: &str, p: &Pattern) -> String {
    let (op, value) = choose_str_op(p, [true, true, true, true]);
    let text = || LIT.quoted(value.as_literal().unwrap_or_default());
    match op {
        StrOp::StartsWith => format!("startswith(lower({field}), lower({}))", text()),
        StrOp::EndsWith => format!("endswith(lower({field}), lower({}))", text()),
        StrOp::Contains => format!("contains(lower({field}), lower({}))", text()),
        StrOp::Wildcard => format!(
            "{field} rlike {}",
            LIT.quoted(&format!("(?isu)^{}$", pattern_regex(&value)))
        ),
        StrOp::Equals => format!("lower({field}) = lower({})", text()),
    }
}

/// The kind of a `*x*`, `x*` or `*x` pattern and its literal text.
fn affix(p: &Pattern) -> Option<(StrOp, String)> {
    let (op, value) = choose_str_op(p, [true, true, true, false]);
    let text = match value.pieces() {
        [] => String::new(),
        [Piece::Lit(s)] => s.clone(),
        _ => return None,
    };
    matches!(op, StrOp::StartsWith | StrOp::EndsWith | StrOp::Contains).then_some((op, text))
}

/// Three or more prefixes (or suffixes, or substrings) of one field as one case-insensitive
/// alternation, when `args` are such.
fn alternation(args: &[Node]) -> Option<String> {
    if args.len() < MIN_ALTERNATION {
        return None;
    }
    let mut field0 = None;
    let mut kind = None;
    let mut alternatives = Vec::with_capacity(args.len());
    for arg in args {
        let Node::Field {
            field,
            value: Value::Str(s),
        } = arg
        else {
            return None;
        };
        if field0.is_some_and(|f| f != field) {
            return None;
        }
        field0 = Some(field);
        let (op, text) = affix(&s.pattern)?;
        if kind.is_some_and(|k| k != op) {
            return None;
        }
        kind = Some(op);
        alternatives.push(re_escape(&text));
    }
    let alternatives = alternatives.join("|");
    let re = match kind? {
        StrOp::Contains => format!("(?iu).*({alternatives}).*"),
        StrOp::StartsWith => format!("(?iu)^({alternatives})"),
        _ => format!("(?iu)({alternatives})$"),
    };
    Some(format!(
        "{} rlike {}",
        DIALECT.field(field0?),
        LIT.quoted(&re)
    ))
}

impl Target for Spark {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn value_str(&self, p: &Pattern) -> Res<String> {
        Ok(LIT.quoted(&p.to_sigma()))
    }

    /// A keyword: searched in the whole event, as a field value would be.
    fn keyword_value_str(&self, p: &Pattern) -> Res<String> {
        // A plain keyword is a substring.
        let p = if p.has_wildcards() {
            p.clone()
        } else {
            p.with_leading_any().with_trailing_any()
        };
        Ok(string_match(RAW, &p))
    }

    // The field is named in the renderer's dialect: a job over flat columns quotes dotted
    // names, which Spark's own dialect leaves as paths into structs.
    fn field_str(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        Ok(Out::Text(string_match(
            &r.dialect().field(field),
            &s.pattern,
        )))
    }

    fn field_str_cased(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        let re = format!("(?s)^{}$", pattern_regex(&s.pattern));
        Ok(Out::Text(format!(
            "{} rlike {}",
            r.dialect().field(field),
            LIT.quoted(&re)
        )))
    }

    fn field_regex(
        &self,
        r: &mut Render<'_>,
        field: &str,
        source: &str,
        flags: RegexFlags,
    ) -> Res<Out> {
        let mut re = escape_regex(&DIALECT, source, flags);
        // Java's `i` folds ASCII only; `u` makes it fold every letter, as `lower()` does.
        if flags.ignore_case {
            re = re.replacen(')', "u)", 1);
        }
        Ok(Out::Text(format!(
            "{} rlike '{re}'",
            r.dialect().field(field)
        )))
    }

    fn expansion(&self, r: &mut Render<'_>, field: &str, values: &[Value]) -> Res<Out> {
        let or = crate::render::expansion_or(field, values);
        r.convert(&Node::Or(or))
    }

    fn in_expression(&self, r: &mut Render<'_>, kind: BoolKind, args: &[Node]) -> Res<Out> {
        match alternation(args) {
            Some(text) => Ok(Out::Text(text)),
            None => r.bool_op(kind, args),
        }
    }
}
