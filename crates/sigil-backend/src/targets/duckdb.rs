//! DuckDB, as pySigma-backend-duckdb's `DuckDBBackend` writes it: `SELECT * FROM logs WHERE
//! ...`, wildcards as `ILIKE`, regular expressions as `regexp_matches`, `cased` as `GLOB`,
//! networks expanded to prefixes. SQL has no "any column" search, so keyword searches
//! cannot be expressed.
//!
//! Where the reference writes a query that means something else, sigil is right instead:
//! DuckDB's `LIKE` has no escape character unless one is named, so a literal `%` or `_`
//! goes through `ILIKE ... ESCAPE '\'` with the character escaped (the reference leaves it a
//! wildcard); a `'` in a regular expression is doubled; `GLOB` reads `*`, `?` and `[`
//! literally only inside a class.

use sigil_core::{Pattern, RegexFlags};

use super::sql::{Literal, glob_pattern, has_like_specials, like_pattern};
use crate::dialect::{Dialect, FieldQuote, NotStyle, StrQuote};
use crate::registry::TargetInfo;
use crate::render::{Out, QueryContext, Render, Res, StrOp, Target, choose_str_op, escape_regex};
use crate::tree::{BoolKind, Str};

/// The DuckDB target.
#[derive(Debug, Clone, Copy, Default)]
pub struct DuckDb;

/// DuckDB's reserved words and the words it reads as a type or function name
/// (`duckdb_keywords()`, categories `reserved` and `type_function`): a column with such a
/// name (`Binary`, `Is`) must be quoted.
pub static DUCKDB_KEYWORDS: &[&str] = &[
    "ALL",
    "ANALYSE",
    "ANALYZE",
    "AND",
    "ANTI",
    "ANY",
    "ARRAY",
    "AS",
    "ASC",
    "ASOF",
    "ASYMMETRIC",
    "AT",
    "AUTHORIZATION",
    "BINARY",
    "BOTH",
    "BY",
    "CASE",
    "CAST",
    "CHECK",
    "COLLATE",
    "COLLATION",
    "COLUMN",
    "COLUMNS",
    "CONCURRENTLY",
    "CONSTRAINT",
    "CREATE",
    "CROSS",
    "DEFAULT",
    "DEFERRABLE",
    "DESC",
    "DESCRIBE",
    "DISTINCT",
    "DO",
    "ELSE",
    "END",
    "EXCEPT",
    "FALSE",
    "FETCH",
    "FOR",
    "FOREIGN",
    "FREEZE",
    "FROM",
    "FULL",
    "GENERATED",
    "GLOB",
    "GROUP",
    "HAVING",
    "ILIKE",
    "IN",
    "INITIALLY",
    "INNER",
    "INTERSECT",
    "INTO",
    "IS",
    "ISNULL",
    "JOIN",
    "LAMBDA",
    "LATERAL",
    "LEADING",
    "LEFT",
    "LIKE",
    "LIMIT",
    "MAP",
    "NATURAL",
    "NOT",
    "NOTNULL",
    "NULL",
    "OFFSET",
    "ON",
    "ONLY",
    "OR",
    "ORDER",
    "OUTER",
    "OVERLAPS",
    "PIVOT",
    "PIVOT_LONGER",
    "PIVOT_WIDER",
    "PLACING",
    "POSITIONAL",
    "PRIMARY",
    "QUALIFY",
    "REFERENCES",
    "RETURNING",
    "RIGHT",
    "SELECT",
    "SEMI",
    "SHOW",
    "SIMILAR",
    "SOME",
    "STRUCT",
    "SUMMARIZE",
    "SYMMETRIC",
    "TABLE",
    "TABLESAMPLE",
    "THEN",
    "TO",
    "TRAILING",
    "TRUE",
    "TRY_CAST",
    "TUPLE",
    "UNION",
    "UNIQUE",
    "UNPACK",
    "UNPIVOT",
    "USING",
    "VARIADIC",
    "VERBOSE",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
];

/// DuckDB as data.
pub static DIALECT: Dialect = Dialect {
    name: "duckdb",
    precedence: [BoolKind::Not, BoolKind::And, BoolKind::Or],
    parenthesize: true,
    group: "({expr})",
    token_separator: " ",
    or_token: "OR",
    and_token: "AND",
    not_token: "NOT",
    not_style: NotStyle::Prefix,
    eq_token: "=",
    num_eq_token: None,
    field_quote: "\"",
    field_quote_when: FieldQuote::UnlessPlainAndNotReserved(DUCKDB_KEYWORDS),
    field_escape: None,
    str_quote: "'",
    str_quote_when: StrQuote::Always,
    escape_char: "",
    wildcard_multi: Some("%"),
    wildcard_single: Some("_"),
    add_escaped: "",
    bool_values: Some(["false", "true"]),
    startswith: None,
    endswith: None,
    contains: None,
    wildcard_match: None,
    re_expression: Some("regexp_matches({field}, '{regex}')"),
    re_escape_char: "",
    re_escape: &[],
    re_escape_escape_char: false,
    re_flag_prefix: true,
    case_sensitive_match: None,
    cidr_expression: None,
    compare_op_expression: Some("{field} {operator} {value}"),
    field_ref: [
        Some("{field1}={field2}"),
        Some("{field1} ILIKE {field2} || '%'"),
        Some("{field1} ILIKE '%' || {field2}"),
        Some("{field1} ILIKE '%' || {field2} || '%'"),
    ],
    field_null: Some("{field} IS NULL"),
    field_exists: Some("{field} IS NOT NULL"),
    field_not_exists: None,
    in_list: None,
    unbound_str: None,
    unbound_num: None,
    unbound_re: None,
};

/// The `duckdb` target: `SELECT * FROM logs WHERE ...` over a table whose columns are the
/// events' field names.
pub static TARGET: TargetInfo = TargetInfo {
    name: "duckdb",
    aliases: &[],
    alias_notes: &[],
    engine: "DuckDB SQL",
    reference: "pysigma-backend-duckdb 0.1.4 `DuckDBBackend`",
    default_pipeline: None,
    formats: &[],
    renderer: &DuckDb,
};

/// `field ILIKE pattern`, with `ESCAPE '\'` where the pattern holds a literal `%` or `_`.
pub fn ilike(field: &str, p: &Pattern) -> String {
    let escape = has_like_specials(p);
    let body = Literal::Standard.body(&like_pattern(p, escape));
    if escape {
        format!("{field} ILIKE '{body}' ESCAPE '\\'")
    } else {
        format!("{field} ILIKE '{body}'")
    }
}

impl Target for DuckDb {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn value_str(&self, p: &Pattern) -> Res<String> {
        Ok(Literal::Standard.quoted(&like_pattern(p, false)))
    }

    fn field_str(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        let _ = r;
        let f = DIALECT.field(field);
        let (op, value) = choose_str_op(&s.pattern, [true, true, true, true]);
        Ok(Out::Text(match op {
            StrOp::StartsWith => ilike(&f, &value.with_trailing_any()),
            StrOp::EndsWith => ilike(&f, &value.with_leading_any()),
            StrOp::Contains => ilike(&f, &value.with_leading_any().with_trailing_any()),
            StrOp::Wildcard => ilike(&f, &value),
            // A literal `%` or `_` makes the reference use `ILIKE`; it stays a literal here.
            StrOp::Equals if has_like_specials(&value) => ilike(&f, &value),
            StrOp::Equals => format!(
                "{f}={}",
                Literal::Standard.quoted(&like_pattern(&value, false))
            ),
        }))
    }

    fn field_str_cased(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        let _ = r;
        let body = Literal::Standard.body(&glob_pattern(&s.pattern));
        Ok(Out::Text(format!("{} GLOB '{body}'", DIALECT.field(field))))
    }

    fn field_regex(
        &self,
        r: &mut Render<'_>,
        field: &str,
        source: &str,
        flags: RegexFlags,
    ) -> Res<Out> {
        let _ = r;
        let re = Literal::Standard.body(&escape_regex(&DIALECT, source, flags));
        Ok(Out::Text(format!(
            "regexp_matches({}, '{re}')",
            DIALECT.field(field)
        )))
    }

    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        let table = ctx.state.get("table").map_or("logs", String::as_str);
        Ok(format!("SELECT * FROM {table} WHERE {}", r.text_of(&query)))
    }
}
