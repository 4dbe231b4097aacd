//! The built-in pipelines: YAML files under `pipelines/`, embedded at build time.
//!
//! They are data, written in the same format users write, so that what sigil does for
//! `--pipeline sysmon` can be read (and copied and changed) as a file.

use crate::model::Pipeline;

/// `(name, aliases, YAML text)` of every built-in pipeline, named as pySigma / sigma-cli
/// name them.
const BUILTINS: &[(&str, &[&str], &str)] = &[
    ("sysmon", &[], include_str!("../pipelines/sysmon.yml")),
    (
        "windows-logsources",
        &["windows", "windows_logsource"],
        include_str!("../pipelines/windows-logsources.yml"),
    ),
    (
        "windows-audit",
        &["windows_audit"],
        include_str!("../pipelines/windows-audit.yml"),
    ),
    (
        "ecs_windows",
        &["ecs-windows"],
        include_str!("../pipelines/ecs_windows.yml"),
    ),
    (
        "microsoft_xdr",
        &[
            "microsoft_xdr_pipeline",
            "microsoft_365_defender",
            "microsoft_365_defender_pipeline",
        ],
        include_str!("../pipelines/microsoft_xdr.yml"),
    ),
    (
        "sentinel_asim",
        &["sentinel", "sentinel-asim"],
        include_str!("../pipelines/sentinel_asim.yml"),
    ),
    (
        "azure_monitor",
        &["azure-monitor"],
        include_str!("../pipelines/azure_monitor.yml"),
    ),
    (
        "sentinelone_pq",
        &["sentinelone", "sentinelonepq"],
        include_str!("../pipelines/sentinelone_pq.yml"),
    ),
    (
        "cortexxdr",
        &["cortex_xdr", "cortexxdr_pipeline"],
        include_str!("../pipelines/cortexxdr.yml"),
    ),
    (
        "splunk_cim",
        &["splunk_cim_dm", "splunk-cim"],
        include_str!("../pipelines/splunk_cim.yml"),
    ),
    (
        "loki_promtail_sysmon",
        &["loki-promtail-sysmon"],
        include_str!("../pipelines/loki_promtail_sysmon.yml"),
    ),
    (
        "qradar-aql-fields",
        &["qradar_aql_fields"],
        include_str!("../pipelines/qradar-aql-fields.yml"),
    ),
    (
        "qradar-aql-payload",
        &["qradar_aql_payload"],
        include_str!("../pipelines/qradar-aql-payload.yml"),
    ),
    (
        "carbonblack",
        &["carbon_black", "carbonblack_enterprise"],
        include_str!("../pipelines/carbonblack.yml"),
    ),
    (
        "crowdstrike_fdr",
        &["crowdstrike-fdr", "crowdstrike_fdr_pipeline"],
        include_str!("../pipelines/crowdstrike_fdr.yml"),
    ),
    (
        "crowdstrike_falcon",
        &["crowdstrike-falcon", "crowdstrike_falcon_pipeline"],
        include_str!("../pipelines/crowdstrike_falcon.yml"),
    ),
    (
        "logpoint_windows",
        &["logpoint-windows"],
        include_str!("../pipelines/logpoint_windows.yml"),
    ),
    (
        "sumologic_cse",
        &["sumologic-cse", "sumologic_cse_pipeline"],
        include_str!("../pipelines/sumologic_cse.yml"),
    ),
    (
        "secops_udm",
        &["secops-udm", "secops"],
        include_str!("../pipelines/secops_udm.yml"),
    ),
];

/// The names of the built-in pipelines (without aliases), in a stable order.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|(n, _, _)| *n).collect()
}

/// The YAML source of a built-in pipeline (by name or alias).
pub fn builtin_source(name: &str) -> Option<&'static str> {
    BUILTINS
        .iter()
        .find(|(n, aliases, _)| *n == name || aliases.contains(&name))
        .map(|(_, _, text)| *text)
}

/// A built-in pipeline by name or alias (`sysmon`, `windows-logsources`, ...).
///
/// The embedded files are checked by the crate's tests, so a parse failure here cannot
/// happen in a released build; it is reported as `None` rather than a panic all the same.
pub fn builtin(name: &str) -> Option<Pipeline> {
    let (canonical, _, text) = BUILTINS
        .iter()
        .find(|(n, aliases, _)| *n == name || aliases.contains(&name))?;
    Pipeline::from_yaml(text, &format!("builtin:{canonical}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_loads() {
        for name in builtin_names() {
            let text = builtin_source(name).expect("listed");
            let p = Pipeline::from_yaml(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert!(!p.items.is_empty(), "{name} has no items");
            assert!(builtin(name).is_some());
        }
        assert!(builtin("no-such-pipeline").is_none());
        assert!(builtin("windows").is_some());
    }
}
