//! Reports for people and programs: the `sigil analyze` report of one rule (JSON, text,
//! Markdown), the `sigil atomics` report and the `sigil coverage` table. The JSON shapes
//! are fixed (see `docs/analysis.md`); the richer [`crate::Catalog`] is for publishing.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::model::{Catalog, CatalogRule, DataNeeded};

/// The analysis of one rule, in the shape `sigil analyze --format json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct RuleReport {
    /// Rule id (or catalog key when the rule has none).
    pub id: String,
    /// Title.
    pub title: String,
    /// Stages.
    pub stages: Vec<StageRow>,
    /// Exclusions.
    pub exclusions: Vec<ExclusionRow>,
    /// Indicators with corpus counts.
    pub indicators: Vec<IndicatorRow>,
    /// Related rules.
    pub related: Vec<RelatedRow>,
    /// ATT&CK.
    pub attack: Vec<AttackRow>,
    /// Data needed.
    pub data_needed: Vec<DataNeeded>,
}

/// `{"name","expr"}`.
#[derive(Debug, Clone, Serialize)]
pub struct StageRow {
    /// Name.
    pub name: String,
    /// Expression.
    pub expr: String,
}

/// `{"field","kind","values"}`.
#[derive(Debug, Clone, Serialize)]
pub struct ExclusionRow {
    /// Field (`null` for keywords).
    pub field: Option<String>,
    /// Kind.
    pub kind: String,
    /// Values.
    pub values: Vec<String>,
}

/// `{"field","kind","value","corpus","corpus_by_source"}`.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorRow {
    /// Field (`null` for keywords).
    pub field: Option<String>,
    /// Kind.
    pub kind: String,
    /// Value.
    pub value: String,
    /// Other rules with the same normalised indicator.
    pub corpus: usize,
    /// The same count by language.
    pub corpus_by_source: BTreeMap<String, usize>,
}

/// `{"id","title","score"}`.
#[derive(Debug, Clone, Serialize)]
pub struct RelatedRow {
    /// Rule id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Score.
    pub score: f64,
}

/// `{"tactic","technique","name"}`.
#[derive(Debug, Clone, Serialize)]
pub struct AttackRow {
    /// Tactic name.
    pub tactic: Option<String>,
    /// Technique id.
    pub technique: Option<String>,
    /// Technique name.
    pub name: Option<String>,
}

impl RuleReport {
    /// The report of a catalog rule.
    pub fn of(rule: &CatalogRule) -> Self {
        let a = &rule.analysis;
        Self {
            id: rule.display_id().to_string(),
            title: rule.title.clone(),
            stages: a
                .stages
                .iter()
                .map(|s| StageRow {
                    name: s.name.clone(),
                    expr: s.expr.clone(),
                })
                .collect(),
            exclusions: a
                .exclusions
                .iter()
                .map(|e| ExclusionRow {
                    field: e.field.clone(),
                    kind: e.kind.clone(),
                    values: e.values.clone(),
                })
                .collect(),
            indicators: a
                .indicators
                .iter()
                .map(|i| IndicatorRow {
                    field: i.field.clone(),
                    kind: i.kind.clone(),
                    value: i.value.clone(),
                    corpus: i.corpus,
                    corpus_by_source: i
                        .corpus_by_source
                        .iter()
                        .map(|(k, n)| (k.to_string(), n))
                        .collect(),
                })
                .collect(),
            related: a
                .related
                .iter()
                .map(|r| RelatedRow {
                    id: r.id.to_string(),
                    title: r.title.to_string(),
                    score: r.score,
                })
                .collect(),
            attack: a
                .attack
                .iter()
                .map(|x| AttackRow {
                    tactic: x.tactic.clone(),
                    technique: x.technique.clone(),
                    name: x.name.clone(),
                })
                .collect(),
            data_needed: a.data_needed.clone(),
        }
    }

    /// Plain text for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}\nid: {}", self.title, self.id);
        out.push_str("\nStages\n");
        for (i, s) in self.stages.iter().enumerate() {
            let _ = writeln!(out, "  {i}  {}: {}", s.name, s.expr);
        }
        out.push_str("\nExclusions\n");
        if self.exclusions.is_empty() {
            out.push_str("  (none)\n");
        }
        for e in &self.exclusions {
            let _ = writeln!(
                out,
                "  {} {} {}",
                field_text(e.field.as_deref()),
                e.kind,
                e.values.join(", ")
            );
        }
        out.push_str("\nIndicators (corpus = other rules with the same indicator)\n");
        if self.indicators.is_empty() {
            out.push_str("  (none)\n");
        }
        for i in &self.indicators {
            let _ = writeln!(
                out,
                "  {} {} {}  corpus {}",
                field_text(i.field.as_deref()),
                i.kind,
                i.value,
                corpus_text(i.corpus, &i.corpus_by_source)
            );
        }
        out.push_str("\nRelated rules\n");
        if self.related.is_empty() {
            out.push_str("  (none)\n");
        }
        for r in &self.related {
            let _ = writeln!(out, "  {:>6.2}  {}  {}", r.score, r.id, r.title);
        }
        out.push_str("\nATT&CK\n");
        if self.attack.is_empty() {
            out.push_str("  (none)\n");
        }
        for a in &self.attack {
            let _ = writeln!(
                out,
                "  {}  {}  {}",
                a.tactic.as_deref().unwrap_or("-"),
                a.technique.as_deref().unwrap_or("-"),
                a.name
                    .as_deref()
                    .unwrap_or("(unknown to the loaded ATT&CK data)")
            );
        }
        out.push_str("\nData needed\n");
        if self.data_needed.is_empty() {
            out.push_str("  (none derived)\n");
        }
        for d in &self.data_needed {
            let _ = writeln!(out, "  {}", data_line(d));
        }
        out
    }

    /// Markdown, in the layout rule-analysis pages use.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {}\n\nId: `{}`\n", md(&self.title), self.id);
        out.push_str("## Stages and predicates\n\n");
        for (i, s) in self.stages.iter().enumerate() {
            let _ = writeln!(
                out,
                "**Stage {i}: {}**\n\n```\n{}\n```\n",
                md(&s.name),
                s.expr
            );
        }
        out.push_str("## Exclusions\n\nTop-level NOT(...) conjuncts: predicates this rule actively suppresses.\n\n");
        out.push_str("| Field | Kind | Excluded values |\n|---|---|---|\n");
        for e in &self.exclusions {
            for v in &e.values {
                let _ = writeln!(
                    out,
                    "| {} | {} | `{}` |",
                    md(field_text(e.field.as_deref())),
                    e.kind,
                    code(v)
                );
            }
        }
        out.push_str("\n## Indicators\n\nThe corpus column counts how many other rules in the catalog look for the same combination.\n\n");
        out.push_str("| Field | Kind | Value | Corpus |\n|---|---|---|---|\n");
        for i in &self.indicators {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {} |",
                md(field_text(i.field.as_deref())),
                i.kind,
                code(&i.value),
                corpus_text(i.corpus, &i.corpus_by_source)
            );
        }
        out.push_str("\n## Related rules\n\n| Score | Id | Title |\n|---|---|---|\n");
        for r in &self.related {
            let _ = writeln!(out, "| {:.2} | `{}` | {} |", r.score, r.id, md(&r.title));
        }
        out.push_str("\n## MITRE ATT&CK\n\n| Tactic | Technique | Name |\n|---|---|---|\n");
        for a in &self.attack {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                md(a.tactic.as_deref().unwrap_or("")),
                a.technique.as_deref().unwrap_or(""),
                md(a.name.as_deref().unwrap_or(""))
            );
        }
        out.push_str("\n## Data needed\n\n");
        for d in &self.data_needed {
            let _ = writeln!(out, "- {}", md(&data_line(d)));
        }
        out
    }
}

fn field_text(field: Option<&str>) -> &str {
    field.unwrap_or("(keyword)")
}

/// `16 (sigma 14, elastic 2)`, or `0`.
pub fn corpus_text(total: usize, by_source: &BTreeMap<String, usize>) -> String {
    if total == 0 {
        return "0".into();
    }
    let parts: Vec<String> = by_source.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!("{total} ({})", parts.join(", "))
}

fn data_line(d: &DataNeeded) -> String {
    let mut s = format!("{} (via {})", d.label, d.via);
    if let Some(n) = &d.note {
        let _ = write!(s, ", {n}");
    }
    if !d.data_components.is_empty() {
        let _ = write!(s, "; ATT&CK: {}", d.data_components.join(", "));
    }
    if !d.fields.is_empty() {
        let _ = write!(s, "; fields: {}", d.fields.join(", "));
    }
    s
}

/// Escapes Markdown table and emphasis characters in text.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '\\') {
            out.push('\\');
        }
        if c == '\n' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// Text inside a code span in a table: only `|` and backticks need care.
fn code(s: &str) -> String {
    s.replace('|', "\\|").replace('`', "'")
}

/// `sigil atomics --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct AtomicsReport {
    /// Every test.
    pub tests: Vec<TestRow>,
    /// GUIDs of simulated tests no rule detects.
    pub gaps: Vec<String>,
}

/// One test of [`AtomicsReport`].
#[derive(Debug, Clone, Serialize)]
pub struct TestRow {
    /// GUID.
    pub guid: String,
    /// Name.
    pub name: String,
    /// Technique.
    pub technique: String,
    /// Platforms.
    pub platforms: Vec<String>,
    /// Executor.
    pub executor: String,
    /// Rules that fire.
    pub fired: Vec<RuleRow>,
    /// Rules of the same technique that do not fire.
    pub same_technique: Vec<RuleRow>,
}

/// `{"id","title"}`.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRow {
    /// Rule id.
    pub id: String,
    /// Title.
    pub title: String,
}

impl AtomicsReport {
    /// The report of a catalog.
    pub fn of(catalog: &Catalog) -> Self {
        let row = |r: &crate::model::RuleRef| RuleRow {
            id: r.id.clone(),
            title: r.title.clone(),
        };
        Self {
            tests: catalog
                .atomics
                .iter()
                .map(|t| TestRow {
                    guid: t.guid.clone(),
                    name: t.name.clone(),
                    technique: t.technique.clone(),
                    platforms: t.platforms.clone(),
                    executor: t.executor.clone(),
                    fired: t.fired.iter().map(row).collect(),
                    same_technique: t.same_technique.iter().map(|r| row(r)).collect(),
                })
                .collect(),
            gaps: catalog.gaps.clone(),
        }
    }

    /// Plain text: one block per simulated test, then the gaps.
    pub fn to_text(&self, catalog: &Catalog) -> String {
        let mut out = String::new();
        for (t, entry) in self.tests.iter().zip(&catalog.atomics) {
            if entry.events.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "{} {} [{}] ({})",
                t.technique, t.name, t.executor, t.guid
            );
            for r in &t.fired {
                let _ = writeln!(out, "  fires: {}  {}", r.id, r.title);
            }
            if t.fired.is_empty() {
                out.push_str("  fires: (nothing)\n");
            }
            let _ = writeln!(
                out,
                "  same technique, not firing: {}",
                t.same_technique.len()
            );
        }
        let s = &catalog.stats;
        let _ = writeln!(
            out,
            "\n{}, {} simulated, {} detected, {}",
            count(s.atomic_tests, "test", "tests"),
            s.simulated_tests,
            s.detected_tests,
            count(self.gaps.len(), "gap", "gaps")
        );
        out
    }
}

/// `sigil atomics --explain GUID`: a test's simulated events, each with the part of the
/// command that caused it, then each rule that fires with the event and the fields that
/// made it fire. `None` when no test has that GUID (compared ignoring case).
pub fn explain_text(catalog: &Catalog, guid: &str) -> Option<String> {
    let t = catalog
        .atomics
        .iter()
        .find(|t| t.guid.eq_ignore_ascii_case(guid.trim()))?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} [{}] ({})",
        t.technique, t.name, t.executor, t.guid
    );
    if t.events.is_empty() {
        out.push_str("  not simulated (not a Windows test run by command_prompt or powershell)\n");
        return Some(out);
    }
    let _ = writeln!(out, "\nSimulated events ({})", t.events.len());
    for (i, e) in t.events.iter().enumerate() {
        let _ = writeln!(out, "  [{i}] {}  <- {}", e.kind, one_line(&e.cause));
        for (k, v) in &e.fields {
            if !v.is_empty() {
                let _ = writeln!(out, "      {k}: {}", one_line(v));
            }
        }
    }
    let _ = writeln!(out, "\nRules that fire ({})", t.fired.len());
    for (r, f) in t.fired.iter().zip(&t.firings) {
        let _ = writeln!(out, "  {}  {}", r.id, r.title);
        match f.event {
            Some(i) => {
                let kind = t.events.get(i).map_or("", |e| e.kind.as_str());
                let _ = writeln!(out, "      on event [{i}] {kind}");
            }
            None => out.push_str("      on a group of events (correlation)\n"),
        }
        for (k, v) in &f.fields {
            let _ = writeln!(out, "      {k}: {}", one_line(v));
        }
    }
    if t.fired.is_empty() {
        out.push_str("  (none: a gap)\n");
    }
    Some(out)
}

/// Text on one line, shortened to a screenful.
fn one_line(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect();
    if flat.chars().count() > 300 {
        let cut: String = flat.chars().take(300).collect();
        format!("{cut}...")
    } else {
        flat
    }
}

/// `sigil coverage`: techniques with their rule counts, by tactic.
pub fn coverage_text(catalog: &Catalog) -> String {
    let mut out = String::new();
    let by_id: BTreeMap<&str, &crate::model::TechniqueEntry> = catalog
        .techniques
        .iter()
        .map(|t| (t.id.as_str(), t))
        .collect();
    for tactic in &catalog.tactics {
        let covered: Vec<&&crate::model::TechniqueEntry> = tactic
            .techniques
            .iter()
            .filter_map(|id| by_id.get(id.as_str()))
            .filter(|t| !t.rules.is_empty())
            .collect();
        let _ = writeln!(
            out,
            "{} {} — {}, {}/{} techniques covered",
            tactic.id.as_deref().unwrap_or("(not in ATT&CK data)"),
            tactic.name,
            count(tactic.rules, "rule", "rules"),
            covered.len(),
            tactic.techniques.len()
        );
        for t in covered {
            let _ = writeln!(
                out,
                "  {:<10} {:>4}  {}",
                t.id,
                t.rules.len(),
                t.name.as_deref().unwrap_or("?")
            );
        }
    }
    let unknown: Vec<&crate::model::TechniqueEntry> = catalog
        .techniques
        .iter()
        .filter(|t| !t.known && !t.rules.is_empty())
        .collect();
    if !unknown.is_empty() {
        out.push_str("Techniques not in the loaded ATT&CK data\n");
        for t in unknown {
            let _ = writeln!(out, "  {:<10} {:>4}", t.id, t.rules.len());
        }
    }
    let s = &catalog.stats;
    if s.attack_techniques == 0 {
        let _ = writeln!(
            out,
            "\n{}; no ATT&CK data was loaded, so coverage cannot be measured: add MITRE's \
             STIX bundle (enterprise-attack.json, from github.com/mitre/cti) with --corpus",
            count(catalog.rules.len(), "rule", "rules"),
        );
        return out;
    }
    let _ = writeln!(
        out,
        "\n{}; {} of {} ATT&CK techniques and sub-techniques have at least one rule",
        count(catalog.rules.len(), "rule", "rules"),
        s.covered_techniques,
        s.attack_techniques
    );
    out
}

/// `1 rule`, `2 rules`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
