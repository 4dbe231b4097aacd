//! Output formats that wrap queries for import: Splunk `savedsearches.conf` stanzas and
//! Elastic detection rules (NDJSON, one rule per line).

use serde_json::{Value as Json, json};
use sigil_core::{Level, Rule};
use std::fmt::Write as _;

use crate::TargetName;

/// The `[default]` stanza that starts a `savedsearches.conf`.
pub fn savedsearches_header() -> String {
    "[default]\ndispatch.earliest_time = -30d\ndispatch.latest_time = now\n".to_string()
}

/// One `savedsearches.conf` stanza per query. Brackets are removed from the title (they
/// delimit stanza names) and line ends in the query are continued with `\`.
pub fn savedsearches_stanza(rule: &Rule, query: &str, index: usize) -> String {
    let mut title: String = rule
        .title
        .chars()
        .filter(|c| *c != '[' && *c != ']')
        .collect();
    if index > 0 {
        let _ = write!(title, " ({})", index + 1);
    }
    let search = query.split('\n').collect::<Vec<_>>().join(" \\\n");
    format!("\n[{title}]\nsearch = {search}\n")
}

/// Elastic's risk score for a Sigma level.
fn risk_score(level: Option<Level>) -> u8 {
    match level {
        Some(Level::Informational) => 1,
        Some(Level::Low) => 21,
        None | Some(Level::Medium) => 47,
        Some(Level::High) => 73,
        Some(Level::Critical) => 99,
    }
}

/// An Elastic detection rule (the import format of Kibana's rule management) for a
/// Lucene, EQL or ES|QL query; `None` for other targets.
pub fn elastic_rule(rule: &Rule, query: &str, index: usize, target: TargetName) -> Option<Json> {
    let (kind, language) = match target {
        TargetName::Lucene => ("query", "lucene"),
        TargetName::Eql => ("eql", "eql"),
        TargetName::Esql => ("esql", "esql"),
        _ => return None,
    };
    let id = rule.id.clone().unwrap_or_else(|| rule.title.clone());
    let rule_id = if index == 0 {
        id
    } else {
        format!("{id}-{}", index + 1)
    };
    let severity = match rule.level {
        Some(Level::Informational) | None => "low",
        Some(l) => l.name(),
    };
    let mut obj = json!({
        "rule_id": rule_id,
        "name": format!("SIGMA - {}", rule.title),
        "description": rule.description.clone().unwrap_or_else(|| "No description".into()),
        "type": kind,
        "language": language,
        "query": query,
        "risk_score": risk_score(rule.level),
        "severity": severity,
        "enabled": true,
        "interval": "5m",
        "from": "now-5m",
        "tags": rule.tags,
        "references": rule.references,
        "false_positives": rule.falsepositives,
        "author": rule.author.iter().collect::<Vec<_>>(),
        "license": rule.license.clone().unwrap_or_else(|| "DRL".into()),
    });
    if target != TargetName::Esql {
        obj["index"] = json!([
            "apm-*-transaction*",
            "auditbeat-*",
            "endgame-*",
            "filebeat-*",
            "logs-*",
            "packetbeat-*",
            "traces-apm*",
            "winlogbeat-*",
            "-*elastic-cloud-logs-*"
        ]);
    }
    Some(obj)
}
