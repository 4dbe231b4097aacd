//! `sigil hunt --report FILE.html`: findings into `sigil-site`'s hunt report.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sigil_core::Level;
use sigil_hunt::{Finding, Hunter, RunSummary};
use sigil_site::report::{HuntReport, ReportDetection, ReportSummary};

/// A rule's file is shown in the report up to this size.
const MAX_RULE_TEXT: u64 = 256 * 1024;

/// The report's detection of a finding.
pub fn detection(f: &Finding) -> ReportDetection {
    ReportDetection {
        time: f
            .timestamp
            .as_deref()
            .and_then(sigil_logs::parse_timestamp_micros),
        timestamp: f.timestamp.clone(),
        level: f.level.map(|l| Level::name(l).to_string()),
        rule_title: f.title.clone(),
        rule_id: f.rule_id.clone(),
        tags: f.tags.clone(),
        computer: f.computer.clone(),
        event_id: f.event_id,
        record_id: f.record_id,
        source: f.source.clone(),
        details: f.details.clone(),
    }
}

/// Writes the report to `path`.
pub fn write(
    report: HuntReport,
    path: &Path,
    hunter: &Hunter,
    summary: &RunSummary,
    logs: &[PathBuf],
    rules: &[PathBuf],
) -> anyhow::Result<()> {
    // The file of each rule that fired, by its id, or its title when it has none.
    let fired: std::collections::HashSet<String> =
        report.rules().map(|(key, _, _)| key.to_string()).collect();
    let mut files: HashMap<String, PathBuf> = HashMap::new();
    for lr in &hunter.loaded().rules {
        let key = lr.rule.id.clone().unwrap_or_else(|| lr.rule.title.clone());
        if fired.contains(&key) {
            files.entry(key).or_insert_with(|| lr.path.to_path_buf());
        }
    }
    let text = |key: &str| -> Option<(String, String)> {
        let file = files.get(key)?;
        let size = std::fs::metadata(file).ok()?.len();
        let text = if size > MAX_RULE_TEXT {
            format!("({size} bytes: too large to show)")
        } else {
            std::fs::read_to_string(file).ok()?
        };
        Some((file.display().to_string(), text))
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    let run = ReportSummary {
        files: summary.files,
        events: summary.stats.events,
        rules: hunter.loaded().rules.len(),
        logs: logs.iter().map(|p| p.display().to_string()).collect(),
        rule_paths: rules.iter().map(|p| p.display().to_string()).collect(),
        written: sigil_logs::format_timestamp_micros(now),
    };
    let page = report.render(&run, &text)?;
    std::fs::write(path, page).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
