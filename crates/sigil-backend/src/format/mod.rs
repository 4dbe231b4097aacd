//! Output containers that wrap a target's queries for import into its engine: Splunk
//! `savedsearches.conf` stanzas, Elastic detection rules, and the formats of the other
//! targets. `plain` (one query per line) and `jsonl` (one object per rule) are for every
//! target and written by the caller; a target lists the others it offers in
//! [`crate::registry::TargetInfo::formats`].

use sigil_core::Rule;

use crate::registry::TargetInfo;

pub mod elastic;
pub mod loki;
pub mod opensearch;
pub mod splunk;
pub mod sumologic;
pub mod yara_l;

/// One rule's conversion, as a format sees it.
#[derive(Debug, Clone, Copy)]
pub struct FormatInput<'a> {
    /// The rule (after its pipelines).
    pub rule: &'a Rule,
    /// Its queries, one per condition.
    pub queries: &'a [String],
    /// The target they are for.
    pub target: &'static TargetInfo,
}

/// An output container.
#[derive(Debug)]
pub struct OutputFormat {
    /// The `--format` name (pySigma's, where it has one).
    pub name: &'static str,
    /// Other names accepted by `--format`.
    pub aliases: &'static [&'static str],
    /// What the output is, in a few words.
    pub description: &'static str,
    /// Text before the first rule.
    pub header: Option<fn(&TargetInfo) -> String>,
    /// One rule's text (empty when the rule gives nothing in this format).
    pub rule: fn(&FormatInput<'_>) -> String,
    /// Text after the last rule.
    pub footer: Option<fn(&TargetInfo) -> String>,
}

impl OutputFormat {
    /// Whether `name` is this format's name or an alias.
    pub fn is_named(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// The rule id with a suffix for its second and later queries (`id-2`), the title when the
/// rule has no id: the identifier of one query in formats that hold one query per entry.
pub fn query_id(rule: &Rule, index: usize) -> String {
    let id = rule.id.clone().unwrap_or_else(|| rule.title.clone());
    if index == 0 {
        id
    } else {
        format!("{id}-{}", index + 1)
    }
}

/// Each query as a JSON object with the rule's title, id and description, one per line
/// (the `json` format of the SentinelOne, Carbon Black and Cortex XDR backends).
pub static QUERY_JSON: OutputFormat = OutputFormat {
    name: "json",
    aliases: &[],
    description: "each query with the rule's title, id and description, one JSON object per line",
    header: None,
    rule: query_json,
    footer: None,
};

fn query_json(input: &FormatInput<'_>) -> String {
    let mut out = String::new();
    for (i, q) in input.queries.iter().enumerate() {
        let line = serde_json::json!({
            "query": q,
            "title": input.rule.title,
            "id": query_id(input.rule, i),
            "description": input.rule.description,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}
