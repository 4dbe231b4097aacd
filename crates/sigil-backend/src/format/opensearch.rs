//! OpenSearch imports, one JSON object per line and query: alerting monitors (pySigma's
//! `monitor_rule`) and Dashboards saved searches (`dashboards_ndjson`), both with the query as a
//! `query_string` query.

use serde_json::{Value as Json, json};
use sigil_core::{Level, Rule};

use super::{FormatInput, OutputFormat, query_id};

/// Alerting monitors (the Alerting plugin's monitor API).
pub static MONITOR_RULE: OutputFormat = OutputFormat {
    name: "monitor_rule",
    aliases: &["monitor"],
    description: "OpenSearch alerting monitors, one JSON object per line",
    header: None,
    rule: monitor_rules,
    footer: None,
};

/// Saved searches for OpenSearch Dashboards' saved-object import.
pub static DASHBOARDS_NDJSON: OutputFormat = OutputFormat {
    name: "dashboards_ndjson",
    aliases: &["dashboards"],
    description: "OpenSearch Dashboards saved searches (NDJSON import)",
    header: None,
    rule: dashboards_searches,
    footer: None,
};

/// The indices searched (the reference's default).
const INDEX: &str = "beats-*";

fn lines(input: &FormatInput<'_>, make: fn(&Rule, &str, usize) -> Json) -> String {
    let mut out = String::new();
    for (i, q) in input.queries.iter().enumerate() {
        out.push_str(&make(input.rule, q, i).to_string());
        out.push('\n');
    }
    out
}

fn monitor_rules(input: &FormatInput<'_>) -> String {
    lines(input, monitor)
}

fn dashboards_searches(input: &FormatInput<'_>) -> String {
    lines(input, saved_search)
}

/// The monitor's trigger severity: 1 is the highest.
fn severity(level: Option<Level>) -> u8 {
    match level {
        Some(Level::Critical) | None => 1,
        Some(Level::High) => 2,
        Some(Level::Medium) => 3,
        Some(Level::Low) => 4,
        Some(Level::Informational) => 5,
    }
}

/// One monitor that runs the query every five minutes and triggers on any hit.
fn monitor(rule: &Rule, query: &str, index: usize) -> Json {
    json!({
        "type": "monitor",
        "name": format!("SIGMA - {}", rule.title),
        "description": rule.description,
        "enabled": true,
        "schedule": {"period": {"interval": 5, "unit": "MINUTES"}},
        "inputs": [{"search": {
            "indices": [INDEX],
            "query": {"size": 1, "query": {"bool": {"must": [
                {"query_string": {"query": query, "analyze_wildcard": true}}
            ]}}}
        }}],
        "tags": rule.tags.iter().map(|t| t.replacen('.', "-", 1)).collect::<Vec<_>>(),
        "triggers": [{
            "name": "generated-trigger",
            "severity": severity(rule.level),
            "condition": {"script": {
                "source": "ctx.results[0].hits.total.value > 0",
                "lang": "painless"
            }},
            "actions": []
        }],
        "sigma_meta_data": {"rule_id": query_id(rule, index), "threat": []},
        "references": rule.references,
    })
}

/// One saved search over the index pattern.
fn saved_search(rule: &Rule, query: &str, index: usize) -> Json {
    let source = json!({
        "index": INDEX,
        "filter": [],
        "highlight": {
            "pre_tags": ["@kibana-highlighted-field@"],
            "post_tags": ["@/kibana-highlighted-field@"],
            "fields": {"*": {}},
            "require_field_match": false,
            "fragment_size": 2_147_483_647
        },
        "query": {"query_string": {"query": query, "analyze_wildcard": true}}
    });
    json!({
        "id": query_id(rule, index),
        "type": "search",
        "attributes": {
            "title": format!("SIGMA - {}", rule.title),
            "description": rule.description,
            "hits": 0,
            "columns": [],
            "sort": ["@timestamp", "desc"],
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": source.to_string()}
        },
        "references": [{
            "id": INDEX,
            "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
            "type": "index-pattern"
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::TargetInfo;

    fn rule() -> Rule {
        let mut rule = Rule::new(sigil_core::RuleLanguage::Sigma, "Whoami \"run\"");
        rule.id = Some("abc".into());
        rule.level = Some(Level::High);
        rule.tags = vec!["attack.t1033".into()];
        rule
    }

    fn parse(text: &str) -> Vec<Json> {
        text.lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    #[test]
    fn monitors_and_saved_searches_hold_each_query() {
        let rule = rule();
        let queries = ["a:1".to_string(), "b:\"x y\"".to_string()];
        let target = TargetInfo::find("opensearch").expect("target");
        let input = FormatInput {
            rule: &rule,
            queries: &queries,
            target,
        };
        let monitors = parse(&(MONITOR_RULE.rule)(&input));
        assert_eq!(monitors.len(), 2);
        assert_eq!(
            monitors[1]["inputs"][0]["search"]["query"]["query"]["bool"]["must"][0]["query_string"]
                ["query"],
            "b:\"x y\""
        );
        assert_eq!(monitors[0]["triggers"][0]["severity"], 2);
        assert_eq!(monitors[0]["tags"][0], "attack-t1033");
        assert_eq!(monitors[1]["sigma_meta_data"]["rule_id"], "abc-2");
        let searches = parse(&(DASHBOARDS_NDJSON.rule)(&input));
        let source: Json = serde_json::from_str(
            searches[0]["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"]
                .as_str()
                .expect("a string"),
        )
        .expect("JSON inside");
        assert_eq!(source["query"]["query_string"]["query"], "a:1");
        assert_eq!(searches[1]["id"], "abc-2");
        let plain = parse(&(crate::format::QUERY_JSON.rule)(&input));
        assert_eq!(plain[0]["title"], "Whoami \"run\"");
        assert_eq!(plain[1]["query"], "b:\"x y\"");
    }
}
