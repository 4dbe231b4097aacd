//! Loki ruler rules (pySigma's `ruler` format): one alerting rule per query in a Prometheus-style
//! rule group, for Loki's ruler.

use std::fmt::Write as _;

use sigil_core::Rule;

use super::{FormatInput, OutputFormat};
use crate::registry::TargetInfo;

/// A ruler rule file: the group header, then one rule per query.
pub static RULER: OutputFormat = OutputFormat {
    name: "ruler",
    aliases: &[],
    description: "Loki ruler alerting rules (YAML)",
    header: Some(ruler_header),
    rule: ruler_rules,
    footer: None,
};

fn ruler_header(_: &TargetInfo) -> String {
    "groups:\n- name: Sigma rules\n  rules:\n".to_string()
}

fn ruler_rules(input: &FormatInput<'_>) -> String {
    input
        .queries
        .iter()
        .map(|q| ruler_rule(input.rule, q))
        .collect()
}

/// JSON strings are YAML scalars: every value is written as one.
fn scalar(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

/// One alerting rule: fires when the query matched a line in the last minute.
fn ruler_rule(rule: &Rule, query: &str) -> String {
    // Runs of characters a metric name cannot hold become one `_`.
    let mut alert = String::with_capacity(rule.title.len());
    for c in rule.title.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            alert.push(c);
        } else if !alert.ends_with('_') {
            alert.push('_');
        }
    }
    let alert = alert.trim_matches('_');
    let mut out = format!("  - alert: {}\n    annotations:\n", scalar(alert));
    if let Some(author) = &rule.author {
        let _ = writeln!(out, "      author: {}", scalar(author));
    }
    let _ = writeln!(
        out,
        "      description: {}\n      summary: {}",
        scalar(rule.description.as_deref().unwrap_or_default()),
        scalar(&rule.title)
    );
    let expr = format!("sum(count_over_time({query} [1m])) or vector(0) > 0");
    let _ = writeln!(out, "    expr: {}", scalar(&expr));
    match rule.level {
        Some(level) => {
            let _ = writeln!(out, "    labels:\n      severity: {}", scalar(level.name()));
        }
        None => out.push_str("    labels: {}\n"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ruler_rule_per_query_with_a_metric_name_from_the_title() {
        let mut rule = Rule::new(sigil_core::RuleLanguage::Sigma, "Bad -- thing: \"x\"");
        rule.level = Some(sigil_core::Level::High);
        let text = ruler_rule(&rule, "{job=~\".+\"} |= `x`");
        assert!(text.starts_with("  - alert: \"Bad_thing:_x\"\n"), "{text}");
        assert!(
            text.contains(
                r#"expr: "sum(count_over_time({job=~\".+\"} |= `x` [1m])) or vector(0) > 0""#
            ),
            "{text}"
        );
        assert!(
            text.ends_with("    labels:\n      severity: \"high\"\n"),
            "{text}"
        );
    }
}
