//! Elastic detection rules (the NDJSON import format of Kibana's rule management), one
//! rule per query, for the Lucene, EQL and ES|QL targets: pySigma's `siem_rule_ndjson`.

use serde_json::{Value as Json, json};
use sigil_core::{Level, Rule};

use super::{FormatInput, OutputFormat, query_id};

/// Detection rules of type `query` with Lucene queries.
pub static LUCENE_RULES: OutputFormat = siem_rule_ndjson(lucene_rules);
/// Detection rules of type `eql`.
pub static EQL_RULES: OutputFormat = siem_rule_ndjson(eql_rules);
/// Detection rules of type `esql`.
pub static ESQL_RULES: OutputFormat = siem_rule_ndjson(esql_rules);

const fn siem_rule_ndjson(rule: fn(&FormatInput<'_>) -> String) -> OutputFormat {
    OutputFormat {
        name: "siem_rule_ndjson",
        aliases: &["ndjson"],
        description: "Elastic detection rules, one JSON object per line",
        header: None,
        rule,
        footer: None,
    }
}

fn lucene_rules(input: &FormatInput<'_>) -> String {
    lines(input, "query", "lucene", true)
}

fn eql_rules(input: &FormatInput<'_>) -> String {
    lines(input, "eql", "eql", true)
}

fn esql_rules(input: &FormatInput<'_>) -> String {
    // An ES|QL query names its indices itself (`from ...`).
    lines(input, "esql", "esql", false)
}

fn lines(input: &FormatInput<'_>, kind: &str, language: &str, with_index: bool) -> String {
    let mut out = String::new();
    for (i, q) in input.queries.iter().enumerate() {
        let mut obj = elastic_rule(input.rule, q, i, kind, language);
        if with_index {
            obj["index"] = json!(INDEX_PATTERNS);
        }
        out.push_str(&obj.to_string());
        out.push('\n');
    }
    out
}

/// The index patterns of Elastic's prebuilt rules.
const INDEX_PATTERNS: [&str; 9] = [
    "apm-*-transaction*",
    "auditbeat-*",
    "endgame-*",
    "filebeat-*",
    "logs-*",
    "packetbeat-*",
    "traces-apm*",
    "winlogbeat-*",
    "-*elastic-cloud-logs-*",
];

/// Elastic's risk score for a Sigma level.
pub fn risk_score(level: Option<Level>) -> u8 {
    match level {
        Some(Level::Informational) => 1,
        Some(Level::Low) => 21,
        None | Some(Level::Medium) => 47,
        Some(Level::High) => 73,
        Some(Level::Critical) => 99,
    }
}

/// Elastic's severity for a Sigma level.
pub fn severity(level: Option<Level>) -> &'static str {
    match level {
        Some(Level::Informational) | None => "low",
        Some(l) => l.name(),
    }
}

/// One detection rule of rule type `kind` for the query `query` in `language`.
pub fn elastic_rule(rule: &Rule, query: &str, index: usize, kind: &str, language: &str) -> Json {
    json!({
        "rule_id": query_id(rule, index),
        "name": format!("SIGMA - {}", rule.title),
        "description": rule.description.clone().unwrap_or_else(|| "No description".into()),
        "type": kind,
        "language": language,
        "query": query,
        "risk_score": risk_score(rule.level),
        "severity": severity(rule.level),
        "enabled": true,
        "interval": "5m",
        "from": "now-5m",
        "tags": rule.tags,
        "references": rule.references,
        "false_positives": rule.falsepositives,
        "author": rule.author.iter().collect::<Vec<_>>(),
        "license": rule.license.clone().unwrap_or_else(|| "DRL".into()),
    })
}
