//! The DuckDB job: one SQL script over a table or view `events`.

use super::*;

pub(super) fn duckdb_literal(s: &str) -> String {
    crate::targets::sql::Literal::Standard.quoted(s)
}

pub(super) fn duckdb_job(job: &JobText<'_>) -> String {
    let JobText {
        rules,
        groups,
        fields,
        skipped,
        ..
    } = job;
    let d = &duckdb_sql::DIALECT;
    let mut head = header("DuckDB", rules, skipped);
    head.push(String::new());
    head.push(
        "Run it over a table or view `events`, e.g. over a folder `sigil export` wrote:".into(),
    );
    head.push(
        "  CREATE VIEW events AS SELECT * FROM read_parquet('lake/**/*.parquet', union_by_name = true);"
            .into(),
    );
    head.push("The last statement returns the detections.".into());
    let mut out = sql_comment(&head);
    out.push('\n');
    // Every field a rule names, as text (a list of texts for a list column), and NULL where
    // the table has no such column: read once into a temporary table, which every group's
    // SELECT reads (a view would be planned again for each).
    let columns: Vec<String> = ["record_id".to_string(), "source".to_string()]
        .into_iter()
        .chain(fields.iter().map(|f| d.field(&f.name)))
        .collect();
    let template: Vec<String> = std::iter::once("NULL::BIGINT AS record_id".to_string())
        .chain(std::iter::once("NULL::VARCHAR AS source".to_string()))
        .chain(fields.iter().map(|f| {
            let ty = if f.list { "VARCHAR[]" } else { "VARCHAR" };
            format!("NULL::{ty} AS {}", d.field(&f.name))
        }))
        .collect();
    let _ = writeln!(
        out,
        "CREATE OR REPLACE TEMP TABLE sigil_events AS\nSELECT {} FROM (\n  SELECT * FROM (SELECT {} LIMIT 0)\n  UNION ALL BY NAME SELECT * FROM events\n);\n",
        columns.join(", "),
        template.join(", ")
    );
    let _ = writeln!(
        out,
        "CREATE OR REPLACE TEMP TABLE sigil_rules (rule_index INTEGER, rule_id VARCHAR, rule_title VARCHAR, level VARCHAR, tags VARCHAR[]);"
    );
    if !rules.is_empty() {
        let tags = |t: &[String]| {
            format!(
                "[{}]::VARCHAR[]",
                t.iter()
                    .map(|s| duckdb_literal(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let _ = writeln!(
            out,
            "INSERT INTO sigil_rules VALUES\n{};",
            rule_rows(rules, duckdb_literal, tags)
        );
    }
    out.push('\n');
    let projection = event_projection(&job.event, |c| d.field(c));
    let branches = union_branches(groups, |selector, branch| {
        let from = "FROM sigil_events";
        if let [(i, rest)] = branch {
            return format!(
                "  SELECT {projection}, {i} AS rule_index\n  {from}\n  WHERE {}",
                sql_and(selector, rest)
            );
        }
        let cases: Vec<String> = branch
            .iter()
            .map(|(i, rest)| format!("    CASE WHEN {rest} THEN {i} END"))
            .collect();
        let filter = selector
            .map(|s| format!("\n  WHERE {s}"))
            .unwrap_or_default();
        format!(
            "  SELECT {projection}, unnest(list_distinct([\n{}\n  ])) AS rule_index\n  {from}{filter}",
            cases.join(",\n")
        )
    })
    .unwrap_or_else(|| {
        format!("  SELECT {projection}, NULL::INTEGER AS rule_index FROM sigil_events WHERE false")
    });
    let _ = writeln!(
        out,
        "SELECT r.rule_id, r.rule_title, r.level, r.tags, h.timestamp, h.computer, h.channel, h.event_id, h.record_id, h.source\nFROM (\n{branches}\n) AS h\nJOIN sigil_rules AS r USING (rule_index)\nORDER BY h.source, h.record_id, r.rule_id;"
    );
    out
}
