//! The hunt report: one self-contained HTML page to hand over after a hunt.
//!
//! A [`HuntReport`] takes detections one at a time and keeps only counts, their times and
//! the most severe detections, so its memory does not grow with the logs. [`HuntReport::render`]
//! writes the page: the run's summary, detections over time, by level, by computer, by
//! rule and by ATT&CK tactic as inline SVG charts, the top detections with their details,
//! and the text of every rule that fired, linked from its name.
//!
//! The page asks for nothing outside itself: no script, no style sheet, no font or image
//! to fetch, and a content security policy that forbids any request. Every value goes
//! through the template's auto-escaping (the chart geometry is computed here, its labels
//! escaped there), so an event's text never becomes markup.

use std::collections::HashMap;

use minijinja::{Environment, context};
use serde::Serialize;
use sigil_logs::format_timestamp_seconds;

use crate::error::SiteError;

/// How many detections the report lists, most severe first.
pub const TOP_DETECTIONS: usize = 200;

/// How many bars a ranking chart shows.
const TOP_BARS: usize = 15;

/// Buckets of the detections-over-time chart.
const TIME_BUCKETS: usize = 48;

/// ATT&CK tactics, as Sigma tags name them, in the matrix's order.
const TACTICS: [&str; 14] = [
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
];

/// Levels from the most severe.
const LEVELS: [&str; 6] = ["critical", "high", "medium", "low", "informational", "none"];

/// One detection as the report takes it.
#[derive(Debug, Clone, Default)]
pub struct ReportDetection {
    /// When the event happened, in microseconds since the Unix epoch.
    pub time: Option<i64>,
    /// The time as the log writes it.
    pub timestamp: Option<String>,
    /// The rule's level (`critical`, `high`, ...).
    pub level: Option<String>,
    /// The rule's title.
    pub rule_title: String,
    /// The rule's id.
    pub rule_id: Option<String>,
    /// The rule's tags.
    pub tags: Vec<String>,
    /// The computer.
    pub computer: Option<String>,
    /// The event id.
    pub event_id: Option<i64>,
    /// The record id.
    pub record_id: Option<i64>,
    /// The log file.
    pub source: Option<String>,
    /// The event's details line.
    pub details: String,
}

/// The run, as the report's summary states it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReportSummary {
    /// Log files read.
    pub files: usize,
    /// Events read.
    pub events: u64,
    /// Rules loaded.
    pub rules: usize,
    /// The logs, as given.
    pub logs: Vec<String>,
    /// The rules, as given.
    pub rule_paths: Vec<String>,
    /// When the report was written (RFC 3339).
    pub written: String,
}

/// A rule that fired.
#[derive(Debug, Clone, Default)]
struct RuleStat {
    title: String,
    id: Option<String>,
    level: Option<String>,
    count: u64,
}

/// What a hunt found, kept for the report.
#[derive(Debug, Default)]
pub struct HuntReport {
    detections: u64,
    times: Vec<i64>,
    by_level: HashMap<String, u64>,
    by_computer: HashMap<String, u64>,
    by_tactic: HashMap<&'static str, u64>,
    /// By rule id (or title when the rule has no id).
    by_rule: HashMap<String, RuleStat>,
    top: Vec<(usize, ReportDetection)>,
    seq: usize,
}

/// Sort key of a detection for the top list: most severe, then earliest, then first read.
fn rank(level: Option<&str>) -> usize {
    LEVELS
        .iter()
        .position(|l| Some(*l) == level)
        .unwrap_or(LEVELS.len() - 1)
}

fn rule_key(d: &ReportDetection) -> String {
    d.rule_id.clone().unwrap_or_else(|| d.rule_title.clone())
}

impl HuntReport {
    /// An empty report.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one detection.
    pub fn add(&mut self, d: ReportDetection) {
        self.detections += 1;
        if let Some(t) = d.time {
            self.times.push(t);
        }
        let level = d.level.clone().unwrap_or_else(|| "none".to_string());
        *self.by_level.entry(level).or_default() += 1;
        *self
            .by_computer
            .entry(d.computer.clone().unwrap_or_else(|| "(none)".to_string()))
            .or_default() += 1;
        for tactic in TACTICS {
            if d.tags.iter().any(|t| {
                t.strip_prefix("attack.").is_some_and(|t| {
                    t.eq_ignore_ascii_case(tactic) || t.replace('_', "-") == tactic
                })
            }) {
                *self.by_tactic.entry(tactic).or_default() += 1;
            }
        }
        let stat = self
            .by_rule
            .entry(rule_key(&d))
            .or_insert_with(|| RuleStat {
                title: d.rule_title.clone(),
                id: d.rule_id.clone(),
                level: d.level.clone(),
                count: 0,
            });
        stat.count += 1;
        self.top.push((self.seq, d));
        self.seq += 1;
        if self.top.len() >= 2 * TOP_DETECTIONS {
            self.trim_top();
        }
    }

    fn trim_top(&mut self) {
        self.top
            .sort_by_key(|(seq, d)| (rank(d.level.as_deref()), d.time.unwrap_or(i64::MAX), *seq));
        self.top.truncate(TOP_DETECTIONS);
    }

    /// Detections taken.
    pub fn detections(&self) -> u64 {
        self.detections
    }

    /// The ids (or titles) of the rules that fired, for [`HuntReport::render`]'s texts.
    pub fn rules(&self) -> impl Iterator<Item = (&str, Option<&str>, &str)> {
        self.by_rule
            .iter()
            .map(|(key, r)| (key.as_str(), r.id.as_deref(), r.title.as_str()))
    }

    /// The page. `rule_text` gives the text of a fired rule by its key from
    /// [`HuntReport::rules`] (its file's text), when known.
    pub fn render(
        mut self,
        summary: &ReportSummary,
        rule_text: &dyn Fn(&str) -> Option<(String, String)>,
    ) -> Result<String, SiteError> {
        self.trim_top();
        let mut rules: Vec<(&String, &RuleStat)> = self.by_rule.iter().collect();
        rules.sort_by(|a, b| {
            b.1.count
                .cmp(&a.1.count)
                .then_with(|| rank(a.1.level.as_deref()).cmp(&rank(b.1.level.as_deref())))
                .then_with(|| a.1.title.cmp(&b.1.title))
        });
        // Anchors by position: a rule's id could hold anything.
        let anchor: HashMap<&str, String> = rules
            .iter()
            .enumerate()
            .map(|(i, (key, _))| (key.as_str(), format!("rule-{}", i + 1)))
            .collect();
        let rule_rows: Vec<_> = rules
            .iter()
            .map(|(key, r)| {
                let text = rule_text(key);
                context! {
                    anchor => anchor.get(key.as_str()),
                    title => r.title,
                    id => r.id,
                    level => r.level.as_deref().unwrap_or("none"),
                    count => r.count,
                    path => text.as_ref().map(|t| t.0.clone()),
                    text => text.map(|t| t.1),
                }
            })
            .collect();
        let top: Vec<_> = self
            .top
            .iter()
            .map(|(_, d)| {
                context! {
                    timestamp => d.timestamp,
                    level => d.level.as_deref().unwrap_or("none"),
                    rule => d.rule_title,
                    anchor => anchor.get(rule_key(d).as_str()),
                    computer => d.computer,
                    event_id => d.event_id,
                    record_id => d.record_id,
                    source => d.source.as_deref().map(file_name),
                    details => d.details,
                }
            })
            .collect();
        let levels: Vec<(String, u64)> = LEVELS
            .iter()
            .filter_map(|l| self.by_level.get(*l).map(|n| ((*l).to_string(), *n)))
            .collect();
        let tactics: Vec<(String, u64)> = TACTICS
            .iter()
            .filter_map(|t| self.by_tactic.get(t).map(|n| ((*t).to_string(), *n)))
            .collect();
        let mut computers: Vec<(String, u64)> = self
            .by_computer
            .iter()
            .map(|(c, n)| (c.clone(), *n))
            .collect();
        computers.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let rule_bars: Vec<(String, u64)> = rules
            .iter()
            .map(|(_, r)| (r.title.clone(), r.count))
            .collect();
        let first = self.times.iter().min().copied();
        let last = self.times.iter().max().copied();
        let ctx = context! {
            summary => summary,
            detections => self.detections,
            rules_fired => rules.len(),
            first => first.map(format_timestamp_seconds),
            last => last.map(format_timestamp_seconds),
            timeline => timeline(&self.times),
            levels => bars(&levels, LEVELS.len()),
            computers => bars(&computers, TOP_BARS),
            computers_total => computers.len(),
            tactics => bars(&tactics, TACTICS.len()),
            rule_bars => bars(&rule_bars, TOP_BARS),
            rules => rule_rows,
            top => top,
            top_limit => TOP_DETECTIONS,
        };
        let mut env = Environment::new();
        env.add_template("report.html", TEMPLATE)
            .map_err(|source| SiteError::Template {
                name: "report.html".to_string(),
                source,
            })?;
        env.get_template("report.html")
            .and_then(|t| t.render(ctx))
            .map_err(|source| SiteError::Template {
                name: "report.html".to_string(),
                source,
            })
    }
}

const TEMPLATE: &str = include_str!("../templates/report.html");

fn file_name(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_string()
}

/// A bar of a chart: where it is drawn and what it says.
#[derive(Debug, Serialize)]
struct Bar {
    label: String,
    /// The label as the chart shows it (long ones shortened).
    short: String,
    count: u64,
    /// Horizontal bars: the bar's length in the chart's units (0..=400).
    width: u64,
    /// Its row's top.
    y: u64,
}

/// A horizontal bar chart of the first `max` items.
fn bars(items: &[(String, u64)], max: usize) -> Vec<Bar> {
    let top = items.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    items
        .iter()
        .take(max)
        .enumerate()
        .map(|(i, (label, count))| Bar {
            short: if label.chars().count() > 24 {
                label.chars().take(23).collect::<String>() + "…"
            } else {
                label.clone()
            },
            label: label.clone(),
            count: *count,
            width: (count * 400 / top).max(1),
            y: i as u64 * 22,
        })
        .collect()
}

/// A column of the timeline.
#[derive(Debug, Serialize)]
struct Column {
    x: u64,
    height: u64,
    count: u64,
    from: String,
}

/// The detections-over-time chart: columns of equal time spans between the first and the
/// last detection.
fn timeline(times: &[i64]) -> Vec<Column> {
    let (Some(&first), Some(&last)) = (times.iter().min(), times.iter().max()) else {
        return Vec::new();
    };
    let span = i128::from((last - first).max(1));
    let buckets = TIME_BUCKETS as i128;
    let mut counts = vec![0u64; TIME_BUCKETS];
    for &t in times {
        let at = i128::from(t - first) * buckets / (span + 1);
        let i = usize::try_from(at).unwrap_or(0).min(TIME_BUCKETS - 1);
        counts[i] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1);
    counts
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let offset = span * i as i128 / buckets;
            Column {
                x: i as u64 * 16,
                height: if count == 0 {
                    0
                } else {
                    (count * 160 / top).max(2)
                },
                count,
                from: format_timestamp_seconds(
                    first.saturating_add(i64::try_from(offset).unwrap_or(0)),
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detection(i: i64, level: &str, rule: &str, details: &str) -> ReportDetection {
        ReportDetection {
            time: Some(1_600_000_000_000_000 + i * 60_000_000),
            timestamp: Some(format!("t{i}")),
            level: Some(level.to_string()),
            rule_title: rule.to_string(),
            rule_id: Some(format!("id-{rule}")),
            tags: vec!["attack.execution".into(), "attack.t1059".into()],
            computer: Some(format!("pc{}", i % 3)),
            event_id: Some(1),
            record_id: Some(i),
            source: Some("/logs/a.evtx".into()),
            details: details.to_string(),
        }
    }

    #[test]
    fn hostile_text_is_escaped_and_the_page_is_self_contained() {
        let mut report = HuntReport::new();
        for i in 0..500 {
            report.add(detection(i, "low", "Quiet", "x"));
        }
        report.add(detection(
            7,
            "critical",
            "<img src=x onerror=alert(1)>",
            "Cmdline: <script>alert('x')</script> & \"q\"",
        ));
        let page = report
            .render(&ReportSummary::default(), &|key| {
                (key == "id-<img src=x onerror=alert(1)>").then(|| {
                    (
                        "r.yml".to_string(),
                        "title: </pre><script>x</script>".to_string(),
                    )
                })
            })
            .expect("renders");
        assert!(!page.contains("<script"), "a script tag in the page");
        assert!(!page.contains("<img"));
        assert!(page.contains("&lt;script&gt;alert("));
        assert!(
            page.contains("&lt;&#x2f;pre&gt;&lt;script&gt;")
                || page.contains("&lt;/pre&gt;&lt;script&gt;")
        );
        // Nothing to fetch: no URL but the namespace of inline SVG.
        for needle in ["<img", "<link", "href=\"http", "url(", "@import"] {
            assert!(!page.contains(needle), "{needle}");
        }
        assert!(page.contains("Content-Security-Policy"));
        // The critical detection leads the top list; the list is bounded.
        let first_row = page.find("class=\"level-critical\"").expect("critical row");
        let low_row = page.find("class=\"level-low\"").expect("low rows");
        assert!(first_row < low_row);
        assert!(page.matches("<tr class=\"level-").count() <= TOP_DETECTIONS);
    }

    #[test]
    fn the_timeline_spreads_detections_over_its_columns() {
        let times: Vec<i64> = (0..100).map(|i| i * 1_000_000).collect();
        let columns = timeline(&times);
        assert_eq!(columns.len(), TIME_BUCKETS);
        assert_eq!(columns.iter().map(|c| c.count).sum::<u64>(), 100);
        assert!(columns.iter().all(|c| c.count > 0));
        assert_eq!(format_timestamp_seconds(0), "1970-01-01T00:00:00Z");
        assert!(timeline(&[]).is_empty());
        assert_eq!(timeline(&[5]).iter().map(|c| c.count).sum::<u64>(), 1);
    }
}
