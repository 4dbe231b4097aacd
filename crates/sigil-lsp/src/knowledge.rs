//! What the server knows about rules beyond the document: logsource values, the field
//! names of a logsource and how each built-in pipeline maps them, modifiers, ATT&CK.
//!
//! Everything comes from data other crates already hold — the built-in pipelines
//! (`sigil-pipeline`), the modifiers' own documentation (`sigil-sigma`), the ATT&CK table
//! (`sigil-core`) — plus the logsource names of the Sigma taxonomy below, so that the editor
//! and the command line never disagree.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::OnceLock;

use sigil_core::attack::{AttackKind, AttackState, attack_data};
use sigil_pipeline::Pipeline;
use sigil_pipeline::model::{RuleCondition, Transformation};

/// Logsource products, categories and services of the Sigma taxonomy (the specification's
/// appendix and SigmaHQ's rules), besides those the built-in pipelines name.
const TAXONOMY_PRODUCTS: &[&str] = &[
    "windows",
    "linux",
    "macos",
    "aws",
    "azure",
    "gcp",
    "m365",
    "okta",
    "onelogin",
    "github",
    "google_workspace",
    "bitbucket",
    "cisco",
    "fortios",
    "huawei",
    "juniper",
    "paloalto",
    "zeek",
    "apache",
    "nginx",
    "python",
    "ruby_on_rails",
    "spring",
    "django",
    "nodejs",
    "jvm",
    "sql",
    "kubernetes",
    "opencanary",
    "qualys",
    "modsecurity",
];
const TAXONOMY_CATEGORIES: &[&str] = &[
    "process_creation",
    "process_access",
    "process_tampering",
    "image_load",
    "file_event",
    "file_access",
    "file_change",
    "file_delete",
    "file_rename",
    "file_executable_detected",
    "network_connection",
    "dns_query",
    "dns",
    "firewall",
    "proxy",
    "webserver",
    "registry_event",
    "registry_add",
    "registry_delete",
    "registry_set",
    "registry_rename",
    "create_remote_thread",
    "create_stream_hash",
    "driver_load",
    "pipe_created",
    "wmi_event",
    "raw_access_thread",
    "ps_module",
    "ps_script",
    "ps_classic_start",
    "ps_classic_provider_start",
    "ps_classic_script",
    "sysmon_error",
    "sysmon_status",
    "clipboard_capture",
    "antivirus",
    "application",
    "database",
    "auditd",
];
const TAXONOMY_SERVICES: &[&str] = &[
    "security",
    "system",
    "application",
    "sysmon",
    "powershell",
    "powershell-classic",
    "taskscheduler",
    "wmi",
    "dns-server",
    "driver-framework",
    "ntlm",
    "windefend",
    "firewall-as",
    "bits-client",
    "codeintegrity-operational",
    "diagnosis-scripted",
    "appxdeployment-server",
    "applocker",
    "msexchange-management",
    "printservice-admin",
    "smbclient-security",
    "terminalservices-localsessionmanager",
    "openssh",
    "ldap",
    "auditd",
    "syslog",
    "sshd",
    "sudo",
    "cron",
    "auth",
    "cloudtrail",
    "activitylogs",
    "signinlogs",
    "auditlogs",
    "threat_management",
    "gcp.audit",
    "audit",
];

/// The logsource values one may write for `key` (`category`, `product` or `service`),
/// sorted: the taxonomy's and every one a built-in pipeline conditions on.
pub fn logsource_values(key: &str) -> &'static [String] {
    static VALUES: OnceLock<[Vec<String>; 3]> = OnceLock::new();
    let all = VALUES.get_or_init(|| {
        let mut sets: [BTreeSet<String>; 3] = Default::default();
        for (i, list) in [TAXONOMY_CATEGORIES, TAXONOMY_PRODUCTS, TAXONOMY_SERVICES]
            .iter()
            .enumerate()
        {
            sets[i].extend(list.iter().map(|s| (*s).to_string()));
        }
        for (_, p) in pipelines() {
            for item in &p.items {
                for (_, c) in &item.rule_conditions.items {
                    if let RuleCondition::Logsource {
                        category,
                        product,
                        service,
                    } = c
                    {
                        for (i, v) in [category, product, service].into_iter().enumerate() {
                            if let Some(v) = v {
                                sets[i].insert(v.clone());
                            }
                        }
                    }
                }
            }
        }
        sets.map(|s| s.into_iter().collect())
    });
    match key {
        "category" => &all[0],
        "product" => &all[1],
        "service" => &all[2],
        _ => &[],
    }
}

/// Every built-in pipeline, read once (in the order `sigil-pipeline` lists them).
pub fn pipelines() -> &'static [(String, Pipeline)] {
    static PIPELINES: OnceLock<Vec<(String, Pipeline)>> = OnceLock::new();
    PIPELINES.get_or_init(|| {
        sigil_pipeline::builtin_names()
            .into_iter()
            .filter_map(|n| sigil_pipeline::builtin(n).map(|p| (n.to_string(), p)))
            .collect()
    })
}

/// A logsource as `(category, product, service)`.
pub type Logsource = (Option<String>, Option<String>, Option<String>);

/// Whether a pipeline's logsource condition holds for `ls` (every value it gives is the
/// rule's).
fn logsource_holds(c: &RuleCondition, ls: &Logsource) -> bool {
    let RuleCondition::Logsource {
        category,
        product,
        service,
    } = c
    else {
        return false;
    };
    let eq = |want: &Option<String>, have: &Option<String>| want.is_none() || want == have;
    eq(category, &ls.0) && eq(product, &ls.1) && eq(service, &ls.2)
}

/// The source of a field name that SigmaHQ's taxonomy lists for a logsource (in
/// [`fields_for`]'s lists, next to the pipelines that map the field).
pub const TAXONOMY: &str = "SigmaHQ taxonomy";

/// The field names a rule of logsource `ls` can use: those SigmaHQ's taxonomy lists for that
/// logsource ([`TAXONOMY`]) and those the built-in pipelines map for it, each with where it
/// comes from (the taxonomy first, then the pipelines that map it). Sorted by name.
pub fn fields_for(ls: &Logsource) -> Vec<(String, Vec<String>)> {
    let mut out: std::collections::BTreeMap<String, BTreeSet<String>> =
        std::collections::BTreeMap::new();
    for (name, p) in pipelines() {
        for item in &p.items {
            let Transformation::FieldNameMapping { mapping } = &item.transformation else {
                continue;
            };
            let by_logsource = item
                .rule_conditions
                .items
                .iter()
                .any(|(_, c)| logsource_holds(c, ls));
            if !by_logsource {
                continue;
            }
            for (field, _) in mapping {
                if let Some(f) = field {
                    out.entry(f.clone()).or_default().insert(name.clone());
                }
            }
        }
    }
    let logsource = sigil_core::LogSource {
        category: ls.0.clone(),
        product: ls.1.clone(),
        service: ls.2.clone(),
        ..sigil_core::LogSource::default()
    };
    let listed = sigil_sigma::sigmahq::builtin().fields(&logsource);
    let mut fields: Vec<(String, Vec<String>)> = out
        .into_iter()
        .map(|(f, p)| (f, p.into_iter().collect()))
        .collect();
    for (f, sources) in &mut fields {
        if listed.contains(f) {
            sources.insert(0, TAXONOMY.to_string());
        }
    }
    for f in listed {
        if !fields.iter().any(|(name, _)| name == f) {
            fields.push((f.clone(), vec![TAXONOMY.to_string()]));
        }
    }
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields
}

/// How each built-in pipeline writes `field` for a rule of logsource `ls`: `(pipeline,
/// the field names it becomes, or why it cannot)`. Pipelines that leave the field as it is
/// are left out. Found by running each pipeline over a one-search rule, so conditional and
/// prefix mappings count as they do in `sigil convert`.
pub fn field_mappings(field: &str, ls: &Logsource) -> Vec<(String, Result<Vec<String>, String>)> {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let mut text = String::from("title: field\nlogsource:\n");
    for (k, v) in [("category", &ls.0), ("product", &ls.1), ("service", &ls.2)] {
        if let Some(v) = v {
            let _ = writeln!(text, "  {k}: {}", quote(v));
        }
    }
    let _ = write!(
        text,
        "detection:\n  sel:\n    {}: x\n  condition: sel\n",
        quote(field)
    );
    let file = sigil_sigma::parse_str(&text);
    let Some(rule) = file.rules.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, p) in pipelines() {
        match p.apply(rule) {
            Ok(processed) => {
                let mut names = Vec::new();
                if let sigil_core::RuleBody::Detection(d) = &processed.body
                    && let Some(s) = d.searches.iter().find(|s| s.name == "sel")
                {
                    sigil_core::Expr::for_each_predicate(&s.expr, &mut |p| {
                        if let Some(f) = &p.field
                            && !names.contains(f)
                        {
                            names.push(f.clone());
                        }
                    });
                }
                if names != [field] && !names.is_empty() {
                    out.push((name.clone(), Ok(names)));
                }
            }
            Err(e) => out.push((name.clone(), Err(e.to_string()))),
        }
    }
    out
}

/// An ATT&CK tag's meaning: `(id, name, tactics)` for a technique, `(id, name, [])` for a
/// tactic; `None` for tags ATT&CK does not know.
pub fn attack_tag(tag: &str) -> Option<(String, String, Vec<String>, bool)> {
    let rest = tag.strip_prefix("attack.")?;
    let data = attack_data();
    if let Some(t) = data.tactic(rest) {
        return Some((
            t.id.to_string(),
            t.name.to_string(),
            Vec::new(),
            t.state != AttackState::Active,
        ));
    }
    let id = rest.to_ascii_uppercase();
    let e = data.get(&id)?;
    let tactics = e
        .key
        .split(',')
        .filter(|t| !t.is_empty() && *t != "-")
        .map(|t| {
            data.tactic(t)
                .map_or_else(|| t.to_string(), |tac| tac.name.to_string())
        })
        .collect();
    Some((
        e.id.to_string(),
        e.name.to_string(),
        tactics,
        e.state != AttackState::Active,
    ))
}

/// Every current ATT&CK tactic and technique as a tag: `(tag, name)`, tactics first.
pub fn attack_tags() -> &'static [(String, String)] {
    static TAGS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    TAGS.get_or_init(|| {
        let data = attack_data();
        let mut out = Vec::new();
        for e in data.entries() {
            if e.state != AttackState::Active {
                continue;
            }
            match e.kind {
                AttackKind::Tactic => out.push((format!("attack.{}", e.key), e.name.to_string())),
                AttackKind::Technique => out.push((
                    format!("attack.{}", e.id.to_ascii_lowercase()),
                    e.name.to_string(),
                )),
                AttackKind::DataSource => {}
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process_creation() -> Logsource {
        (
            Some("process_creation".into()),
            Some("windows".into()),
            None,
        )
    }

    #[test]
    fn values_of_the_taxonomy_and_the_pipelines() {
        assert!(
            logsource_values("category")
                .iter()
                .any(|c| c == "process_creation")
        );
        assert!(logsource_values("product").iter().any(|c| c == "windows"));
        assert!(logsource_values("service").iter().any(|c| c == "sysmon"));
        assert!(logsource_values("other").is_empty());
    }

    #[test]
    fn process_creation_fields_and_their_ecs_names() {
        let fields = fields_for(&process_creation());
        assert!(fields.iter().any(|(f, _)| f == "Image"), "{fields:?}");
        // From SigmaHQ's taxonomy as well as the pipelines, and the taxonomy's own fields.
        let image = fields.iter().find(|(f, _)| f == "Image").expect("Image");
        assert_eq!(image.1.first().map(String::as_str), Some(TAXONOMY));
        assert!(image.1.len() > 1, "{image:?}");
        assert!(
            fields
                .iter()
                .any(|(f, s)| f == "ParentImage" && s.iter().any(|s| s == TAXONOMY))
        );
        assert!(fields.iter().any(|(f, _)| f == "CommandLine"));
        let mapped = field_mappings("Image", &process_creation());
        let ecs = mapped
            .iter()
            .find(|(p, _)| p == "ecs_windows")
            .expect("ecs_windows maps Image");
        let names = ecs.1.as_ref().expect("mapped");
        assert!(
            names.iter().any(|n| n.starts_with("process.executable")),
            "{names:?}"
        );
    }

    #[test]
    fn attack_names() {
        let (id, name, tactics, old) = attack_tag("attack.t1047").expect("known");
        assert_eq!(id, "T1047");
        assert_eq!(name, "Windows Management Instrumentation");
        assert_eq!(tactics, ["Execution"]);
        assert!(!old);
        assert_eq!(attack_tag("attack.execution").unwrap().1, "Execution");
        assert!(attack_tag("attack.t9999").is_none());
        assert!(attack_tags().iter().any(|(t, _)| t == "attack.t1047"));
    }
}
