//! OpenSearch's query string (Lucene syntax), as pySigma-backend-opensearch's
//! `OpensearchLuceneBackend` writes it: the Elasticsearch Lucene renderer as it is (the
//! reference backend extends the Elasticsearch one and writes the same queries), under its
//! own name, pipelines and formats.

use crate::registry::TargetInfo;

use super::lucene::Lucene;

/// The `opensearch` target: OpenSearch query strings over ECS (`ecs_windows` by default).
pub static TARGET: TargetInfo = TargetInfo {
    name: "opensearch",
    aliases: &["opensearch_lucene", "opensearch-lucene"],
    alias_notes: &[],
    engine: "OpenSearch query string (Lucene syntax)",
    reference: "pysigma-backend-opensearch 2.0.3 `opensearch_lucene`",
    default_pipeline: Some("ecs_windows"),
    formats: &[
        &crate::format::opensearch::MONITOR_RULE,
        &crate::format::opensearch::DASHBOARDS_NDJSON,
    ],
    renderer: &Lucene,
};
