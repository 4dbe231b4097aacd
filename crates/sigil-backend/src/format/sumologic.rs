//! Sumo Logic Cloud SIEM rule JSON (pySigma's `cse_rule`): a match rule per query, with the
//! rule's title, a description gathering its metadata, a constant score from its level, its
//! ATT&CK tactics and techniques as CSE tags and the first tactic as its category.
//!
//! The rule's entity selectors (which entities Cloud SIEM attaches its signals to) come from
//! its logsource: the entities of its category (process creation: host, user, process), else
//! those of its source's class (the `sumologic_cse` pipeline's state
//! `sumologic_classification`: identity sources have user and IP), else those of its product.
//!
//! Each query is written as one import document, `{"rules": [rule]}`, on a line of its own
//! (the reference writes one document holding every rule of a run).

use std::sync::LazyLock;

use serde_json::{Map, Value as Json, json};
use sigil_core::{Level, LogSource, Rule, Status};
use sigil_pipeline::Pipeline;

use super::{FormatInput, OutputFormat};

/// Cloud SIEM rule JSON.
pub static CSE_RULE: OutputFormat = OutputFormat {
    name: "cse_rule",
    aliases: &["cse", "rule_json"],
    description: "Cloud SIEM match rules (`{\"rules\": [...]}`), one import document per line",
    header: None,
    rule: cse_rules,
    footer: None,
};

/// ATT&CK tactics: the name as a tag writes it, its id and CSE's category label.
const TACTICS: &[(&str, &str, &str)] = &[
    ("reconnaissance", "TA0043", "Reconnaissance"),
    ("resource development", "TA0042", "Resource Development"),
    ("initial access", "TA0001", "Initial Access"),
    ("execution", "TA0002", "Execution"),
    ("persistence", "TA0003", "Persistence"),
    ("privilege escalation", "TA0004", "Privilege Escalation"),
    ("defense evasion", "TA0005", "Defense Evasion"),
    ("credential access", "TA0006", "Credential Access"),
    ("discovery", "TA0007", "Discovery"),
    ("lateral movement", "TA0008", "Lateral Movement"),
    ("collection", "TA0009", "Collection"),
    ("command and control", "TA0011", "Command and Control"),
    ("exfiltration", "TA0010", "Exfiltration"),
    ("impact", "TA0040", "Impact"),
];

/// Entities of a Sigma category, by CSE entity type.
const CATEGORY_ENTITIES: &[(&str, &[&str])] = &[
    ("process_creation", &["_hostname", "_username", "_process"]),
    ("process_termination", &["_hostname", "_process"]),
    ("process_access", &["_hostname", "_username", "_process"]),
    ("process_tampering", &["_hostname", "_username", "_process"]),
    (
        "create_remote_thread",
        &["_hostname", "_username", "_process"],
    ),
    ("file_event", &["_hostname", "_file"]),
    ("file_change", &["_hostname", "_file"]),
    ("file_delete", &["_hostname", "_file"]),
    ("file_delete_detected", &["_hostname", "_file"]),
    ("file_access", &["_hostname", "_file"]),
    ("file_rename", &["_hostname", "_file"]),
    ("file_block_executable", &["_hostname", "_file"]),
    ("file_block_shredding", &["_hostname", "_file"]),
    ("file_executable_detected", &["_hostname", "_file"]),
    ("network_connection", &["_hostname", "_ip"]),
    ("dns_query", &["_hostname", "_domain"]),
    ("dns", &["_hostname", "_domain"]),
    ("firewall", &["_hostname", "_ip"]),
    ("proxy", &["_ip", "_domain"]),
    ("webserver", &["_ip", "_hostname"]),
    ("registry_event", &["_hostname", "_username"]),
    ("registry_add", &["_hostname", "_username"]),
    ("registry_delete", &["_hostname", "_username"]),
    ("registry_set", &["_hostname", "_username"]),
    ("registry_rename", &["_hostname", "_username"]),
    ("authentication", &["_hostname", "_ip", "_username"]),
    ("image_load", &["_hostname", "_username"]),
    ("driver_load", &["_hostname", "_file"]),
    ("wmi_event", &["_hostname", "_username"]),
    ("ps_script", &["_hostname", "_username"]),
    ("ps_module", &["_hostname", "_username"]),
    ("ps_classic_script", &["_hostname", "_username"]),
    ("ps_classic_start", &["_hostname", "_username"]),
    ("ps_classic_provider_start", &["_hostname", "_username"]),
    ("pipe_created", &["_hostname", "_username"]),
    ("clipboard_capture", &["_hostname", "_username"]),
    ("antivirus", &["_hostname", "_file"]),
    ("application", &["_username"]),
    ("database", &["_hostname", "_username"]),
    ("sysmon_status", &["_hostname"]),
    ("sysmon_error", &["_hostname"]),
    ("create_stream_hash", &["_hostname", "_file"]),
    ("raw_access_thread", &["_hostname", "_username"]),
];

/// Entities of a class of sources.
const CLASS_ENTITIES: &[(&str, &[&str])] = &[
    ("endpoint", &["_hostname", "_username", "_process"]),
    ("identity", &["_username", "_ip"]),
    ("cloud_audit", &["_username", "_ip"]),
    ("network", &["_hostname", "_ip"]),
    ("application", &["_username", "_ip"]),
    ("cloud_infrastructure", &["_ip"]),
    ("security_tool", &["_hostname", "_username", "_file"]),
];

/// Entities of a product, when neither its category nor its source's class says.
const PRODUCT_ENTITIES: &[(&str, &[&str])] = &[
    ("windows", &["_hostname", "_username"]),
    ("linux", &["_hostname", "_username"]),
    ("macos", &["_hostname", "_username"]),
    ("azure", &["_ip", "_username"]),
    ("aws", &["_ip", "_username"]),
    ("github", &["_username"]),
    ("office365", &["_username"]),
    ("m365", &["_username"]),
];

/// The CSE field holding each entity type.
fn entity_field(entity: &str) -> &'static str {
    match entity {
        "_hostname" => "device_hostname",
        "_username" => "user_username",
        "_ip" => "srcDevice_ip",
        "_process" => "baseImage",
        "_file" => "file_path",
        // A domain is not an entity field of DNS records in CSE: the URL's is.
        "_domain" => "http_url_fqdn",
        _ => "device_mac",
    }
}

/// The pipeline that knows each logsource's class of source.
static SOURCES: LazyLock<Option<Pipeline>> =
    LazyLock::new(|| sigil_pipeline::builtin("sumologic_cse"));

/// The class of the rule's source (`endpoint`, `identity`, ...), as `sumologic_cse` says.
fn source_class(rule: &Rule) -> Option<String> {
    let processed = SOURCES.as_ref()?.process(rule).ok()?;
    let class = processed.state.get("sumologic_classification")?.to_text();
    (!class.is_empty()).then_some(class)
}

/// The entity selectors of a rule about `ls` whose source is of class `class`.
pub fn entity_selectors(ls: &LogSource, class: Option<&str>) -> Vec<Json> {
    let find = |table: &[(&str, &'static [&'static str])], key: &str| {
        table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    };
    let entities = ls
        .category
        .as_deref()
        .and_then(|c| find(CATEGORY_ENTITIES, c))
        .or_else(|| class.and_then(|c| find(CLASS_ENTITIES, c)))
        .or_else(|| {
            ls.product
                .as_deref()
                .and_then(|p| find(PRODUCT_ENTITIES, &p.to_ascii_lowercase()))
        })
        .unwrap_or_default();
    entities
        .iter()
        .map(|e| json!({"entity_type": e, "expression": entity_field(e)}))
        .collect()
}

fn cse_rules(input: &FormatInput<'_>) -> String {
    let mut out = String::new();
    for q in input.queries {
        out.push_str(&json!({ "rules": [rule_json(input.rule, q)] }).to_string());
        out.push('\n');
    }
    out
}

/// One Cloud SIEM match rule for `query`.
pub fn rule_json(rule: &Rule, query: &str) -> Json {
    let (enabled, prototype) = match rule.status {
        None | Some(Status::Stable) => (true, false),
        Some(Status::Test | Status::Experimental) => (true, true),
        Some(Status::Deprecated | Status::Unsupported) => (false, false),
    };
    let score = match rule.level {
        Some(Level::Critical) => 8,
        Some(Level::High) => 6,
        Some(Level::Medium) | None => 3,
        Some(Level::Low | Level::Informational) => 1,
    };
    let tags = attack_tags(&rule.tags);
    let category = tags
        .iter()
        .find_map(|t| t.strip_prefix("_mitreAttackTactic:"))
        .and_then(|id| TACTICS.iter().find(|(_, i, _)| *i == id))
        .map_or("Unknown/Other", |(_, _, label)| label);
    let mut r = Map::new();
    r.insert("content_type".into(), json!("RULE"));
    r.insert("enabled".into(), json!(enabled));
    r.insert("is_prototype".into(), json!(prototype));
    r.insert("name".into(), json!(rule.title));
    r.insert("name_expression".into(), json!(rule.title));
    r.insert("rule_source".into(), json!("user"));
    r.insert("summary_expression".into(), json!(""));
    r.insert("pattern_type".into(), json!("templated_match"));
    r.insert("stream".into(), json!("record"));
    r.insert("description_expression".into(), json!(description(rule)));
    r.insert("expression".into(), json!(query));
    let selectors = entity_selectors(&rule.logsource, source_class(rule).as_deref());
    if !selectors.is_empty() {
        r.insert("entity_selectors".into(), Json::Array(selectors));
    }
    r.insert(
        "score_mapping".into(),
        json!({"default": score, "type": "constant", "field": null, "mapping": []}),
    );
    if !tags.is_empty() {
        r.insert("tags".into(), json!(tags));
    }
    r.insert("category".into(), json!(category));
    if let Some(created) = rule.date.as_deref().map(timestamp) {
        let updated = rule.modified.as_deref().map_or(created.clone(), timestamp);
        r.insert("created".into(), json!(created));
        r.insert("last_updated".into(), json!(updated));
    }
    let mut meta = Map::new();
    meta.insert("sigma_uid".into(), json!(rule.id));
    meta.insert(
        "sigma_status".into(),
        json!(rule.status.map_or("None", status_name)),
    );
    r.insert("conversion_metadata".into(), Json::Object(meta));
    Json::Object(r)
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Stable => "stable",
        Status::Test => "test",
        Status::Experimental => "experimental",
        Status::Deprecated => "deprecated",
        Status::Unsupported => "unsupported",
    }
}

/// CSE's ATT&CK tags: `_mitreAttackTechnique:T1059.001` for techniques,
/// `_mitreAttackTactic:TA0002` for tactics, in the rule's order.
pub fn attack_tags(tags: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for tag in tags {
        let name = tag.split_once('.').map_or(tag.as_str(), |(_, n)| n);
        if is_technique(name) {
            out.push(format!(
                "_mitreAttackTechnique:{}",
                name.to_ascii_uppercase()
            ));
            continue;
        }
        let tactic = name.replace(['_', '-'], " ").to_lowercase();
        if let Some((_, id, _)) = TACTICS.iter().find(|(t, _, _)| *t == tactic) {
            out.push(format!("_mitreAttackTactic:{id}"));
        }
    }
    out
}

/// `t1234` or `t1234.001`, in either case.
fn is_technique(name: &str) -> bool {
    let b = name.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    matches!(b.first(), Some(b't' | b'T'))
        && ((b.len() == 5 && digits(&b[1..5]))
            || (b.len() == 9 && digits(&b[1..5]) && b[5] == b'.' && digits(&b[6..9])))
}

/// A Sigma date (`2024-02-25` or `2024/02/25`) as a CSE timestamp at midnight.
fn timestamp(date: &str) -> String {
    format!("{}T00:00:00.000000", date.trim().replace('/', "-"))
}

/// The rule's description followed by its author, dates, references, logsource and false
/// positives.
fn description(rule: &Rule) -> String {
    let mut out = rule.description.clone().unwrap_or_default();
    let mut meta = Vec::new();
    if let Some(a) = &rule.author {
        meta.push(format!("Author: {a}"));
    }
    if let Some(d) = &rule.date {
        meta.push(format!("Created: {}", d.replace('/', "-")));
    }
    if let Some(m) = &rule.modified {
        meta.push(format!("Modified: {}", m.replace('/', "-")));
    }
    if !meta.is_empty() {
        out.push_str("\n\n");
        out.push_str(&meta.join("\n"));
    }
    if !rule.references.is_empty() {
        out.push_str("\n\nReferences:");
        for r in &rule.references {
            out.push_str("\n- ");
            out.push_str(r);
        }
    }
    let ls = &rule.logsource;
    let items: Vec<String> = [
        ("Category", &ls.category),
        ("Product", &ls.product),
        ("Service", &ls.service),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("\n- {k}: {v}")))
    .collect();
    if !items.is_empty() {
        out.push_str("\n\nLog Source:");
        out.push_str(&items.concat());
    }
    if !rule.falsepositives.is_empty() {
        out.push_str("\n\nFalse Positives:");
        for f in &rule.falsepositives {
            out.push_str("\n- ");
            out.push_str(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_tags_and_category() {
        let tags = [
            "attack.collection".to_string(),
            "attack.t1213.003".to_string(),
            "attack.g0016".to_string(),
            "attack.command-and-control".to_string(),
        ];
        assert_eq!(
            attack_tags(&tags),
            [
                "_mitreAttackTactic:TA0009",
                "_mitreAttackTechnique:T1213.003",
                "_mitreAttackTactic:TA0011"
            ]
        );
    }
}
