//! `sigil convert` and its targets: names and aliases, default pipelines, several targets
//! in one run, `--list-targets`, and pipelines or formats that do not fit a target.

mod common;

use common::sigil;

fn fixture(name: &str) -> String {
    format!(
        "{}/../sigil-backend/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn jsonl(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn first_query(line: &serde_json::Value) -> &str {
    line["queries"][0].as_str().unwrap_or_default()
}

#[test]
fn kql_is_an_alias_of_kusto_that_says_so_once() {
    let rule = fixture("conditions.yml");
    let (code, kql_out, kql_err) = sigil(&["convert", "-t", "kql", "-t", "kql", &rule]);
    assert_eq!(code, Some(0), "{kql_err}");
    assert_eq!(kql_err.matches("note:").count(), 1, "{kql_err}");
    assert!(kql_err.contains("Kibana"), "{kql_err}");
    let (code, kusto_out, kusto_err) = sigil(&["convert", "-t", "kusto", &rule]);
    assert_eq!(code, Some(0), "{kusto_err}");
    assert!(!kusto_err.contains("note:"), "{kusto_err}");
    assert_eq!(kql_out, kusto_out);
}

#[test]
fn kusto_gets_its_table_from_the_default_pipeline() {
    let rule = fixture("conditions.yml");
    let (code, out, err) = sigil(&["convert", "-t", "kusto", "--format", "jsonl", &rule]);
    assert_eq!(code, Some(0), "{err}");
    let lines = jsonl(&out);
    assert_eq!(lines[0]["target"], "kusto");
    assert!(
        first_query(&lines[0]).starts_with("DeviceProcessEvents\n| where "),
        "{out}"
    );
    assert!(err.contains("to kusto (pipeline microsoft_xdr)"), "{err}");

    // Overridden by another pipeline for the target, or dropped with `-p none`.
    let (_, out, _) = sigil(&[
        "convert",
        "-t",
        "kusto",
        "-p",
        "sentinel_asim",
        "--format",
        "jsonl",
        &rule,
    ]);
    assert!(
        first_query(&jsonl(&out)[0]).starts_with("imProcessCreate\n| where "),
        "{out}"
    );
    let (_, out, err) = sigil(&[
        "convert", "-t", "kusto", "-p", "none", "--format", "jsonl", &rule,
    ]);
    assert!(
        first_query(&jsonl(&out)[0]).starts_with("(Image endswith "),
        "{out}"
    );
    assert!(err.contains("to kusto (no pipeline)"), "{err}");
}

#[test]
fn several_targets_in_one_run_equal_one_run_each() {
    let dir = fixture("");
    let (code, together, err) = sigil(&[
        "convert",
        "-t",
        "splunk",
        "-t",
        "kusto,sqlite",
        "--format",
        "jsonl",
        &dir,
    ]);
    assert_eq!(code, Some(1), "{err}");
    let together = jsonl(&together);
    for target in ["splunk", "kusto", "sqlite"] {
        let (_, alone, _) = sigil(&["convert", "-t", target, "--format", "jsonl", &dir]);
        let alone = jsonl(&alone);
        let mine: Vec<&serde_json::Value> =
            together.iter().filter(|l| l["target"] == target).collect();
        assert_eq!(mine.len(), alone.len(), "{target}");
        for (a, b) in mine.iter().zip(&alone) {
            assert_eq!(*a, b, "{target}");
        }
        assert_eq!(err.matches(&format!(" to {target} (")).count(), 1, "{err}");
    }
    // Plain output names each target before its queries.
    let (_, plain, _) = sigil(&[
        "convert",
        "-t",
        "splunk",
        "-t",
        "sqlite",
        &fixture("conditions.yml"),
    ]);
    let headers: Vec<&str> = plain
        .lines()
        .filter(|l| l.starts_with("# target: "))
        .collect();
    assert_eq!(headers, ["# target: splunk", "# target: sqlite"], "{plain}");
}

#[test]
fn a_pipeline_for_another_target_is_a_usage_error() {
    let (code, out, err) = sigil(&[
        "convert",
        "-t",
        "sqlite",
        "-p",
        "microsoft_xdr",
        &fixture("conditions.yml"),
    ]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("pipeline `microsoft_xdr` is for kusto, not for sqlite"),
        "{err}"
    );
    // A pipeline for every target is fine anywhere.
    let (code, _, err) = sigil(&[
        "convert",
        "-t",
        "sqlite",
        "-p",
        "sysmon",
        &fixture("conditions.yml"),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = sigil(&[
        "convert",
        "-t",
        "sqlite",
        "-p",
        "none",
        "-p",
        "sysmon",
        &fixture("conditions.yml"),
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("`-p none` cannot be combined"), "{err}");
}

#[test]
fn format_is_the_output_container_of_every_target_named() {
    let rule = fixture("conditions.yml");
    let (code, _, err) = sigil(&[
        "convert",
        "-t",
        "splunk",
        "-t",
        "kusto",
        "--format",
        "savedsearches",
        &rule,
    ]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("format `savedsearches` is not available for kusto (plain, jsonl)"),
        "{err}"
    );
    // The Elastic rule format under its reference name and its former one.
    for name in ["siem_rule_ndjson", "ndjson"] {
        let (code, out, err) = sigil(&[
            "convert", "-t", "lucene", "-t", "esql", "--format", name, &rule,
        ]);
        assert_eq!(code, Some(0), "{err}");
        let rules = jsonl(&out);
        assert_eq!(rules.len(), 8, "{out}");
        assert_eq!(rules[0]["language"], "lucene");
        assert_eq!(rules[7]["language"], "esql");
    }
}

#[test]
fn list_targets_shows_every_target_with_its_pipelines_and_formats() {
    let (code, table, err) = sigil(&["convert", "--list-targets"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, _) = sigil(&["convert", "--list-targets", "--format", "jsonl"]);
    assert_eq!(code, Some(0));
    let targets = jsonl(&out);
    assert!(targets.len() >= 6);
    for t in &targets {
        let name = t["name"].as_str().expect("name");
        assert!(
            table.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{table}"
        );
        let formats = t["formats"].as_array().expect("formats");
        assert_eq!(&formats[..2], ["plain", "jsonl"]);
    }
    let kusto = targets
        .iter()
        .find(|t| t["name"] == "kusto")
        .expect("kusto");
    assert_eq!(kusto["default_pipeline"], "microsoft_xdr");
    assert!(
        kusto["aliases"]
            .as_array()
            .expect("aliases")
            .contains(&"kql".into())
    );
    let pipelines = kusto["pipelines"].as_array().expect("pipelines");
    assert!(pipelines.contains(&"sentinel_asim".into()), "{kusto}");
    assert!(
        table.contains("Pipelines for every target: sysmon"),
        "{table}"
    );
}

#[test]
fn a_job_holds_every_rule_and_lists_the_ones_it_cannot_express() {
    let dir = format!(
        "{}/../sigil-backend/tests/fixtures",
        env!("CARGO_MANIFEST_DIR")
    );
    let (code, out, err) = sigil(&["convert", "-t", "duckdb", "--format", "job", &dir]);
    // The keyword fixture cannot be expressed: reported, listed, the rest written.
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("keywords.yml: error:"), "{err}");
    assert!(
        out.starts_with("-- sigil detection job for DuckDB: 5 rules"),
        "{out}"
    );
    assert!(
        out.contains("-- Rules that cannot be expressed (1):"),
        "{out}"
    );
    assert!(
        out.contains("CREATE OR REPLACE TEMP TABLE sigil_events AS"),
        "{out}"
    );
    // Each rule's index is tested in one array or branch of its own.
    for i in 0..5 {
        assert_eq!(
            out.matches(&format!(" THEN {i} END")).count()
                + out.matches(&format!(" {i} AS rule_index")).count(),
            1,
            "{i}: {out}"
        );
    }
    let (_, listed, _) = sigil(&["convert", "--list-targets", "--format", "jsonl"]);
    let spark = jsonl(&listed)
        .into_iter()
        .find(|t| t["name"] == "spark")
        .expect("spark");
    assert!(
        spark["formats"]
            .as_array()
            .expect("formats")
            .contains(&"job".into())
    );
}

#[test]
fn a_job_is_for_one_sql_engine() {
    let rule = fixture("conditions.yml");
    let (code, _, err) = sigil(&["convert", "-t", "splunk", "--format", "job", &rule]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("format `job` is not available for splunk"),
        "{err}"
    );
    let (code, _, err) = sigil(&["convert", "-t", "duckdb,spark", "--format", "job", &rule]);
    assert_eq!(code, Some(2));
    assert!(err.contains("one target at a time"), "{err}");
}

#[test]
fn the_summary_of_a_job_counts_the_rules_it_cannot_express() {
    let dir = format!(
        "{}/../sigil-backend/tests/fixtures",
        env!("CARGO_MANIFEST_DIR")
    );
    // ClickHouse and Spark express keywords in their plain queries, not in a job (the
    // table has no whole-event column): the job's own count is the summary's.
    for (target, listed) in [("duckdb", 1), ("clickhouse", 1), ("spark", 2)] {
        let (code, out, err) = sigil(&["convert", "-t", target, "--format", "job", &dir]);
        assert_eq!(code, Some(1), "{target}: {err}");
        assert!(
            out.contains(&format!("Rules that cannot be expressed ({listed}):")),
            "{out}"
        );
        let summary = format!(
            "6 rules to {target} (no pipeline): {} converted, {listed} failed",
            6 - listed
        );
        assert!(err.contains(&summary), "{target}: {err}");
    }
    // The plain queries of the same rules: every one converts for ClickHouse.
    let (code, _, err) = sigil(&["convert", "-t", "clickhouse", &dir]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("6 converted, 0 failed"), "{err}");
}

#[test]
fn a_job_for_a_lake_needs_the_lake_and_the_job_format() {
    let rule = fixture("conditions.yml");
    let empty = std::env::temp_dir().join(format!("sigil-empty-lake-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("temp dir");
    let lake = empty.to_str().expect("UTF-8 path");
    let (code, _, err) = sigil(&[
        "convert", "-t", "duckdb", "--format", "job", "--lake", lake, &rule,
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--lake: ") && err.contains("no Parquet file in it"),
        "{err}"
    );
    let (code, _, err) = sigil(&["convert", "-t", "duckdb", "--lake", lake, &rule]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--lake is for `--format job`"), "{err}");
    let _ = std::fs::remove_dir_all(&empty);
}
