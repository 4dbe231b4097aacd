//! Differential test against the reference converter (pySigma): every rule pySigma
//! converted must convert here to the same queries (after whitespace normalisation) for at
//! least 97% of the rules of each target. Differences are printed grouped by cause.

mod common;

use common::oracle::{check, check_engine};

#[test]
fn splunk_without_pipeline() {
    check("conv-splunk.jsonl", "splunk", &[]);
}

#[test]
fn splunk_with_sysmon() {
    check("conv-splunk-sysmon.jsonl", "splunk", &["sysmon"]);
}

#[test]
fn lucene_with_ecs_windows() {
    check_engine(
        "conv-lucene-ecs.jsonl",
        "lucene",
        &["ecs_windows"],
        "lucene",
        0.97,
    );
}

#[test]
fn eql_with_ecs_windows() {
    check_engine("conv-eql-ecs.jsonl", "eql", &["ecs_windows"], "eql", 0.97);
}

#[test]
fn kusto_without_pipeline() {
    check_engine("conv-kusto.jsonl", "kusto", &[], "kusto", 0.97);
}

/// The XDR reference is an extra of the oracle, outside the 97% acceptance set. Its known
/// differences are documented in `docs/conversion-differences.md` (about 50 rules where
/// pySigma reads `\*` after a registry-key replacement as a literal star, and 4 rules whose
/// only condition the pipeline drops); this checks that nothing else regresses.
#[test]
fn kusto_with_microsoft_xdr() {
    check_engine(
        "conv-kusto-xdr.jsonl",
        "kusto",
        &["microsoft_xdr"],
        "kusto",
        0.945,
    );
}

/// OpenSearch's reference (pysigma-backend-opensearch 2.0.3) writes Elasticsearch's
/// Lucene queries; `ecs_windows` applied as in `../shared/oracle/README-wave2.md`.
#[test]
fn opensearch_with_ecs_windows() {
    check_engine(
        "conv-opensearch-lucene-ecs.jsonl",
        "opensearch",
        &["ecs_windows"],
        "lucene",
        0.97,
    );
}

/// ES|QL (pysigma-backend-elasticsearch 2.1.1 `esql`, second set of reference outputs).
#[test]
fn esql_with_ecs_windows() {
    check("conv-esql-ecs.jsonl", "esql", &["ecs_windows"]);
}

#[test]
fn sqlite_without_pipeline() {
    check_engine("conv-sqlite.jsonl", "sqlite", &[], "sql:sqlite", 0.97);
}
