//! SQLite, as pySigma-backend-sqlite writes it: `SELECT * FROM logs WHERE ...`, wildcards
//! as `LIKE` with `ESCAPE '\'`, `cased` as `GLOB`, networks expanded to prefixes, and
//! negation as `NOT COALESCE(x, 0)` so that a missing column counts as false. SQL has no
//! "any column" search, so keyword searches cannot be expressed.

use sigil_core::Pattern;

use super::sql::{Literal, glob_pattern, like_pattern};

use crate::dialect::{Dialect, FieldQuote, NotStyle, StrQuote};
use crate::registry::TargetInfo;
use crate::render::{Out, QueryContext, Render, Res, StrOp, Target, choose_str_op};
use crate::tree::{BoolKind, Str};

/// The SQLite target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sqlite;

/// SQLite's reserved words: a column with such a name must be quoted.
pub static SQLITE_KEYWORDS: &[&str] = &[
    "ABORT",
    "ACTION",
    "ADD",
    "AFTER",
    "ALL",
    "ALTER",
    "ALWAYS",
    "ANALYZE",
    "AND",
    "AS",
    "ASC",
    "ATTACH",
    "AUTOINCREMENT",
    "BEFORE",
    "BEGIN",
    "BETWEEN",
    "BY",
    "CASCADE",
    "CASE",
    "CAST",
    "CHECK",
    "COLLATE",
    "COLUMN",
    "COMMIT",
    "CONFLICT",
    "CONSTRAINT",
    "CREATE",
    "CROSS",
    "CURRENT",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "DATABASE",
    "DEFAULT",
    "DEFERRABLE",
    "DEFERRED",
    "DELETE",
    "DESC",
    "DETACH",
    "DISTINCT",
    "DO",
    "DROP",
    "EACH",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXCLUDE",
    "EXCLUSIVE",
    "EXISTS",
    "EXPLAIN",
    "FAIL",
    "FILTER",
    "FIRST",
    "FOLLOWING",
    "FOR",
    "FOREIGN",
    "FROM",
    "FULL",
    "GENERATED",
    "GLOB",
    "GROUP",
    "GROUPS",
    "HAVING",
    "IF",
    "IGNORE",
    "IMMEDIATE",
    "IN",
    "INDEX",
    "INDEXED",
    "INITIALLY",
    "INNER",
    "INSERT",
    "INSTEAD",
    "INTERSECT",
    "INTO",
    "IS",
    "ISNULL",
    "JOIN",
    "KEY",
    "LAST",
    "LEFT",
    "LIKE",
    "LIMIT",
    "MATCH",
    "MATERIALIZED",
    "NATURAL",
    "NO",
    "NOT",
    "NOTHING",
    "NOTNULL",
    "NULL",
    "NULLS",
    "OF",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OTHERS",
    "OUTER",
    "OVER",
    "PARTITION",
    "PLAN",
    "PRAGMA",
    "PRECEDING",
    "PRIMARY",
    "QUERY",
    "RAISE",
    "RANGE",
    "RECURSIVE",
    "REFERENCES",
    "REGEXP",
    "REINDEX",
    "RELEASE",
    "RENAME",
    "REPLACE",
    "RESTRICT",
    "RETURNING",
    "RIGHT",
    "ROLLBACK",
    "ROW",
    "ROWS",
    "SAVEPOINT",
    "SELECT",
    "SET",
    "TABLE",
    "TEMP",
    "TEMPORARY",
    "THEN",
    "TIES",
    "TO",
    "TRANSACTION",
    "TRIGGER",
    "UNBOUNDED",
    "UNION",
    "UNIQUE",
    "UPDATE",
    "USING",
    "VACUUM",
    "VALUES",
    "VIEW",
    "VIRTUAL",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
    "WITHOUT",
];

/// SQLite as data.
pub static DIALECT: Dialect = Dialect {
    name: "sqlite",
    precedence: [BoolKind::Not, BoolKind::And, BoolKind::Or],
    parenthesize: true,
    group: "({expr})",
    token_separator: " ",
    or_token: "OR",
    and_token: "AND",
    not_token: "NOT",
    not_style: NotStyle::Coalesce,
    eq_token: "=",
    num_eq_token: None,
    field_quote: "`",
    field_quote_when: FieldQuote::UnlessPlainAndNotReserved(SQLITE_KEYWORDS),
    field_escape: None,
    str_quote: "'",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    wildcard_multi: Some("%"),
    wildcard_single: Some("_"),
    add_escaped: "\\",
    bool_values: Some(["false", "true"]),
    startswith: Some("{field} LIKE '{value}%' ESCAPE '\\'"),
    endswith: Some("{field} LIKE '%{value}' ESCAPE '\\'"),
    contains: Some("{field} LIKE '%{value}%' ESCAPE '\\'"),
    wildcard_match: Some("{field} LIKE '{value}' ESCAPE '\\'"),
    re_expression: Some("{field} REGEXP '{regex}'"),
    re_escape_char: "",
    re_escape: &[],
    re_escape_escape_char: true,
    re_flag_prefix: true,
    case_sensitive_match: Some("{field} GLOB {value}"),
    cidr_expression: None,
    compare_op_expression: Some("{field} {operator} {value}"),
    field_ref: [
        Some("{field1}={field2}"),
        Some("{field1} LIKE {field2} || '%' ESCAPE '\\'"),
        Some("{field1} LIKE '%' || {field2} ESCAPE '\\'"),
        Some("{field1} LIKE '%' || {field2} || '%' ESCAPE '\\'"),
    ],
    field_null: Some("{field} IS NULL"),
    field_exists: Some("{field} IS NOT NULL"),
    field_not_exists: Some("{field} IS NULL"),
    in_list: None,
    unbound_str: None,
    unbound_num: None,
    unbound_re: None,
};

/// The `sqlite` target: `SELECT * FROM logs WHERE ...` over a table whose columns are the
/// events' field names.
pub static TARGET: TargetInfo = TargetInfo {
    name: "sqlite",
    aliases: &["sql"],
    alias_notes: &[],
    engine: "SQLite",
    reference: "pysigma-backend-sqlite 2.0.0 `sqlite`",
    default_pipeline: None,
    formats: &[],
    renderer: &Sqlite,
};

/// A string literal body: LIKE wildcards, `%`, `_` and `\` escaped, quotes doubled.
fn like_body(p: &Pattern) -> String {
    Literal::Standard.body(&like_pattern(p, true))
}

/// Longest `and` / `or` chain printed flat. SQLite's parser nests every operator of a chain
/// one level deeper and stops at a depth of 1000 (`SQLITE_MAX_EXPR_DEPTH`), so longer chains
/// are regrouped, as the reference does (its `max_flat_operands`).
const MAX_FLAT_OPERANDS: usize = 100;

impl Target for Sqlite {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    /// Chains up to [`MAX_FLAT_OPERANDS`] stay flat; longer ones become parenthesised runs
    /// of half that length, regrouped again until one run remains, so `a OR b OR ...` of
    /// thousands of values nests only a few levels deep.
    fn join_operands(&self, mut parts: Vec<String>, joiner: &str) -> String {
        if parts.len() <= MAX_FLAT_OPERANDS {
            return parts.join(joiner);
        }
        let chunk = (MAX_FLAT_OPERANDS / 2).max(2);
        while parts.len() > chunk {
            parts = parts
                .chunks(chunk)
                .map(|run| DIALECT.group.replace("{expr}", &run.join(joiner)))
                .collect();
        }
        parts.join(joiner)
    }

    fn value_str(&self, p: &Pattern) -> Res<String> {
        Ok(format!("'{}'", like_body(p)))
    }

    fn field_str(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        let _ = r;
        let (op, value) = choose_str_op(&s.pattern, [true, true, true, false]);
        let f = DIALECT.field(field);
        let body = like_body(&value);
        // A literal `%`, `_` or `\` would be read by LIKE, so such values go through LIKE
        // with escapes rather than `=`.
        let needs_like =
            value.has_wildcards() || value.literals().any(|l| l.contains(['%', '_', '\\']));
        Ok(Out::Text(match op {
            StrOp::StartsWith => format!("{f} LIKE '{body}%' ESCAPE '\\'"),
            StrOp::EndsWith => format!("{f} LIKE '%{body}' ESCAPE '\\'"),
            StrOp::Contains => format!("{f} LIKE '%{body}%' ESCAPE '\\'"),
            StrOp::Wildcard | StrOp::Equals if needs_like => {
                format!("{f} LIKE '{body}' ESCAPE '\\'")
            }
            StrOp::Wildcard | StrOp::Equals => format!("{f}='{body}'"),
        }))
    }

    fn field_str_cased(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        let _ = r;
        let body = Literal::Standard.body(&glob_pattern(&s.pattern));
        Ok(Out::Text(format!("{} GLOB '{body}'", DIALECT.field(field))))
    }

    fn field_bool(&self, r: &mut Render<'_>, field: &str, b: bool) -> Res<Out> {
        let _ = r;
        let f = DIALECT.field(field);
        // Booleans arrive as text or as integers, depending on how the table was filled.
        Ok(Out::Text(format!("({f}='{b}' OR {f}={})", u8::from(b))))
    }

    fn field_regex(
        &self,
        r: &mut Render<'_>,
        field: &str,
        source: &str,
        flags: sigil_core::RegexFlags,
    ) -> Res<Out> {
        let _ = r;
        let re = crate::render::escape_regex(&DIALECT, source, flags).replace('\'', "''");
        Ok(Out::Text(format!("{} REGEXP '{re}'", DIALECT.field(field))))
    }

    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        let table = ctx.state.get("table").map_or("logs", String::as_str);
        Ok(format!("SELECT * FROM {table} WHERE {}", r.text_of(&query)))
    }
}
