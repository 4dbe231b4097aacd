//! The ClickHouse job: one SQL script over a table or view `events`.

use super::*;

pub(super) fn clickhouse_literal(s: &str) -> String {
    crate::targets::sql::Literal::BackslashDoubledQuote.quoted(s)
}

pub(super) fn clickhouse_job(job: &JobText<'_>) -> String {
    let JobText {
        rules,
        groups,
        fields,
        skipped,
        ..
    } = job;
    let d = &clickhouse_sql::DIALECT;
    let structure: Vec<String> = [
        "source String".to_string(),
        "record_id Nullable(Int64)".to_string(),
    ]
    .into_iter()
    .chain(fields.iter().map(|f| {
        // An array cannot be NULL in ClickHouse: a list column is empty where it is missing.
        let ty = if f.list {
            "Array(String)"
        } else {
            "Nullable(String)"
        };
        format!("{} {ty}", d.field(&f.name))
    }))
    .collect();
    let mut head = header("ClickHouse", rules, skipped);
    head.push(String::new());
    head.push("Run it over a table or view `events` whose columns the rules name are text, e.g. over a folder".into());
    head.push("`sigil export` wrote (missing columns read as NULL, numbers as text):".into());
    head.push(format!(
        "  CREATE VIEW events AS SELECT * FROM file('lake/**/*.parquet', Parquet, '{}') SETTINGS input_format_parquet_allow_missing_columns = 1, input_format_parquet_case_insensitive_column_matching = 1;",
        structure.join(", ").replace('\\', "\\\\").replace('\'', "\\'")
    ));
    head.push("The last statement returns the detections.".into());
    let mut out = sql_comment(&head);
    out.push('\n');
    // The conditions of a large rule set make a long query.
    out.push_str("SET max_query_size = 1073741824;\nSET max_ast_elements = 100000000;\nSET max_expanded_ast_elements = 100000000;\n\n");
    let rows = if rules.is_empty() {
        "SELECT toInt32(0) AS rule_index, '' AS rule_id, '' AS rule_title, '' AS level, CAST([], 'Array(String)') AS tags WHERE 0".to_string()
    } else {
        let tags = |t: &[String]| {
            format!(
                "[{}]::Array(String)",
                t.iter()
                    .map(|s| clickhouse_literal(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        format!(
            "SELECT * FROM values('rule_index Int32, rule_id String, rule_title String, level String, tags Array(String)',\n{})",
            rule_rows(rules, clickhouse_literal, tags)
        )
    };
    let projection = event_projection(&job.event, |c| d.field(c));
    let branches = union_branches(groups, |selector, branch| {
        if let [(i, rest)] = branch {
            return format!(
                "  SELECT {projection}, toInt32({i}) AS rule_index\n  FROM events\n  WHERE {}",
                sql_and(selector, rest)
            );
        }
        let ifs: Vec<String> = branch
            .iter()
            .map(|(i, rest)| format!("    if({rest}, {i}, -1)"))
            .collect();
        let filter = selector
            .map(|s| format!("\n  WHERE {s}"))
            .unwrap_or_default();
        format!(
            "  SELECT {projection}, arrayJoin(arrayFilter(x -> x >= 0, [\n{}\n  ])) AS rule_index\n  FROM events{filter}",
            ifs.join(",\n")
        )
    })
    .unwrap_or_else(|| format!("  SELECT {projection}, toInt32(-1) AS rule_index FROM events WHERE 0"));
    let _ = writeln!(
        out,
        "SELECT r.rule_id, r.rule_title, r.level, r.tags, h.timestamp, h.computer, h.channel, h.event_id, h.record_id, h.source\nFROM (\n{branches}\n) AS h\nINNER JOIN (\n{rows}\n) AS r USING (rule_index)\nORDER BY h.source, h.record_id, r.rule_id;"
    );
    out
}
