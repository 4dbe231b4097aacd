//! `index.json`: the catalog as data for other programs.
//!
//! Everything a consumer needs to work with the catalog — every rule with its metadata,
//! analysis, ATT&CK entries, data needed and the Atomic tests that fire it; the
//! techniques, tactics and tests; the gaps — and none of the bulk that the pages carry:
//!
//! - a rule's source is referred to by `path` (the file as found under the corpus) and
//!   `page` (its HTML page, which shows it), not copied;
//! - an Atomic test's simulated events are counted (`simulated_events`), not listed;
//! - an indicator names the page of the rules sharing it (`shared`) instead of repeating
//!   its normalised form;
//! - what many rules have in common is written once, in a top-level table, and rules refer
//!   to it by position: indicators (`indicators`), the reasons of related rules
//!   (`reasons`), ATT&CK entries (`attack`) and data needed (`data_needed`); a related rule
//!   is the position of the rule in `rules`, a `score` and its reasons' positions;
//! - the rules of a test's technique that do not fire it are left out: they are the
//!   technique's `rules` minus the test's `fired`.
//!
//! `sigil analyze --format json` keeps the full per-rule analysis for one rule at a time.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;
use sigil_catalog::{
    AtomicEntry, AttackEntry, CatalogRule, CatalogStats, DataNeeded, Exclusion, Indicator,
    InputArgument, Problem, RuleRef, Stage, TacticEntry, TechniqueEntry, TestRef, UnresolvedAttack,
};
use sigil_core::{LogSource, QuerySource, Related, RuleLanguage};

use crate::paths::file_name;
use crate::publication::Publication;
use crate::render::page;

/// The format of `index.json`; raised when a field changes meaning or goes away.
///
/// `sigil-catalog/2`: a rule's `analysis.indicators`, `analysis.attack` and
/// `analysis.data_needed` are positions in the top-level tables of the same names, and a
/// related rule is `{"rule": position in rules, "score", "reasons": positions in the
/// top-level reasons}` (in `sigil-catalog/1` each rule held the entries themselves and a
/// related rule was `{"key", "score", "reasons": [text]}`).
pub const FORMAT: &str = "sigil-catalog/2";

/// The whole catalog, as `index.json` holds it.
#[derive(Debug, Serialize)]
pub struct CatalogExport<'a> {
    /// [`FORMAT`].
    pub format: &'static str,
    /// The ATT&CK version of the loaded data, when known.
    pub attack_version: Option<&'a str>,
    /// Counts.
    pub stats: &'a CatalogStats,
    /// Every rule, by language then path.
    pub rules: Vec<RuleExport<'a>>,
    /// ATT&CK tactics in matrix order.
    pub tactics: &'a [TacticEntry],
    /// Techniques and sub-techniques by id, with their rules (keys) and tests (GUIDs).
    pub techniques: &'a [TechniqueEntry],
    /// Atomic Red Team tests.
    pub atomics: Vec<AtomicExport<'a>>,
    /// GUIDs of the simulated tests no rule detects.
    pub gaps: &'a [String],
    /// ATT&CK tags the loaded data does not know, with their rules.
    pub unresolved_attack: &'a [UnresolvedAttack],
    /// Files that could not be read or parsed.
    pub problems: &'a [Problem],
    /// Every distinct indicator of the rules (a rule's `analysis.indicators` are positions
    /// here), in order of first use.
    pub indicators: Vec<IndicatorExport<'a>>,
    /// Every distinct reason of a related rule, in order of first use.
    pub reasons: Vec<&'a str>,
    /// Every distinct ATT&CK entry of the rules, in order of first use.
    pub attack: Vec<&'a AttackEntry>,
    /// Every distinct way to get the events a rule needs, in order of first use.
    pub data_needed: Vec<&'a DataNeeded>,
}

/// One rule: metadata, analysis, the tests that fire it.
#[derive(Debug, Serialize)]
pub struct RuleExport<'a> {
    /// Catalog key (unique, safe in a file name).
    pub key: &'a str,
    /// The rule's own id.
    pub id: Option<&'a str>,
    /// Title.
    pub title: &'a str,
    /// `sigma` or `elastic`.
    pub language: RuleLanguage,
    /// The rule file, as found under the corpus path given.
    pub path: &'a Path,
    /// The rule's HTML page, relative to the site root (it shows the source).
    pub page: String,
    /// Description.
    pub description: Option<&'a str>,
    /// Status.
    pub status: Option<&'a str>,
    /// Level / severity.
    pub level: Option<&'a str>,
    /// Author(s).
    pub author: Option<&'a str>,
    /// Creation date as written.
    pub date: Option<&'a str>,
    /// Modification date as written.
    pub modified: Option<&'a str>,
    /// References.
    pub references: &'a [String],
    /// False positives.
    pub falsepositives: &'a [String],
    /// Tags.
    pub tags: &'a [String],
    /// The logsource (Sigma).
    pub logsource: &'a LogSource,
    /// Sigma `related:` links.
    pub related_links: &'a [Related],
    /// The query of rules written as one (Elastic).
    pub query: Option<&'a QuerySource>,
    /// Elastic index patterns.
    pub index: &'a [String],
    /// Why the IR does not capture the whole rule, when it does not.
    pub not_evaluable: &'a [String],
    /// The analysis.
    pub analysis: AnalysisExport<'a>,
    /// The Atomic tests whose simulated telemetry the rule detects.
    pub fired_by: &'a [TestRef],
}

/// A rule's analysis (see `docs/analysis.md`).
#[derive(Debug, Serialize)]
pub struct AnalysisExport<'a> {
    /// Stages: `condition`, then each search.
    pub stages: &'a [Stage],
    /// Predicates of the top-level NOT conjuncts.
    pub exclusions: &'a [Exclusion],
    /// Every value the rule looks for, with corpus counts: positions in the top-level
    /// `indicators`.
    pub indicators: Vec<usize>,
    /// Related rules, closest first.
    pub related: Vec<RelatedExport>,
    /// Tactics and techniques: positions in the top-level `attack`.
    pub attack: Vec<usize>,
    /// The log sources and event ids the rule needs: positions in the top-level
    /// `data_needed`.
    pub data_needed: Vec<usize>,
}

/// One indicator with its corpus counts.
#[derive(Debug, Serialize, PartialEq, Eq, Hash)]
pub struct IndicatorExport<'a> {
    /// The field as written (`None` for a keyword).
    pub field: Option<&'a str>,
    /// `equals`, `contains`, `ends_with`, `wildcard`, ...
    pub kind: &'a str,
    /// The value.
    pub value: &'a str,
    /// Under a negation (a filter).
    pub negated: bool,
    /// How many other rules look for the same normalised indicator.
    pub corpus: usize,
    /// The same by language (left out when no other rule shares it).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub corpus_by_source: &'a BTreeMap<String, usize>,
    /// The page listing the rules that share it (left out when no other rule does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<String>,
}

/// A related rule, by position.
#[derive(Debug, Serialize)]
pub struct RelatedExport {
    /// The related rule's position in `rules`.
    pub rule: usize,
    /// Ranking score (higher is closer).
    pub score: f64,
    /// Why: positions in the top-level `reasons`.
    pub reasons: Vec<usize>,
}

/// An Atomic Red Team test.
#[derive(Debug, Serialize)]
pub struct AtomicExport<'a> {
    /// `auto_generated_guid`.
    pub guid: &'a str,
    /// Name.
    pub name: &'a str,
    /// Technique id.
    pub technique: &'a str,
    /// The technique's name.
    pub technique_name: &'a str,
    /// Description.
    pub description: &'a str,
    /// Platforms.
    pub platforms: &'a [String],
    /// Executor.
    pub executor: &'a str,
    /// Whether it needs elevation.
    pub elevation_required: bool,
    /// The command, arguments substituted.
    pub command: &'a str,
    /// The cleanup command.
    pub cleanup_command: Option<&'a str>,
    /// Input arguments.
    pub input_arguments: &'a [InputArgument],
    /// The test file.
    pub path: &'a Path,
    /// The test's HTML page, relative to the site root (it shows the simulated events).
    pub page: String,
    /// How many events were simulated (0: not simulated).
    pub simulated_events: usize,
    /// Rules that fire on the simulated events.
    pub fired: &'a [RuleRef],
}

/// Values written once and referred to by position, in order of first use.
struct Table<K, V> {
    values: Vec<V>,
    positions: HashMap<K, usize>,
}

impl<K: std::hash::Hash + Eq, V> Table<K, V> {
    fn new() -> Self {
        Self {
            values: Vec::new(),
            positions: HashMap::new(),
        }
    }

    /// The position of the value known by `key`, added (as `value()`) when new.
    fn position(&mut self, key: K, value: impl FnOnce() -> V) -> usize {
        let next = self.values.len();
        let at = *self.positions.entry(key).or_insert(next);
        if at == next {
            self.values.push(value());
        }
        at
    }
}

/// The tables rules refer to, filled as the rules are exported.
struct Tables<'a> {
    indicators: Table<IndicatorExport<'a>, ()>,
    reasons: Table<&'a str, &'a str>,
    attack: Table<AttackKey<'a>, &'a AttackEntry>,
    data_needed: Table<DataNeededKey<'a>, &'a DataNeeded>,
}

/// Every field of an [`AttackEntry`] (destructured, so a new field cannot be missed).
type AttackKey<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    bool,
);

fn attack_key(e: &AttackEntry) -> AttackKey<'_> {
    let AttackEntry {
        tactic,
        tactic_id,
        technique,
        name,
        resolved,
    } = e;
    (
        tactic.as_deref(),
        tactic_id.as_deref(),
        technique.as_deref(),
        name.as_deref(),
        *resolved,
    )
}

/// Every field of a [`DataNeeded`] (destructured, so a new field cannot be missed).
type DataNeededKey<'a> = (
    &'a str,
    Option<&'a str>,
    &'a [i64],
    &'a [String],
    &'a [String],
    Option<&'a str>,
    &'a [String],
    &'a str,
);

fn data_needed_key(e: &DataNeeded) -> DataNeededKey<'_> {
    let DataNeeded {
        via,
        channel,
        event_ids,
        fields,
        index,
        note,
        data_components,
        label,
    } = e;
    (
        via,
        channel.as_deref(),
        event_ids,
        fields,
        index,
        note.as_deref(),
        data_components,
        label,
    )
}

impl<'a> CatalogExport<'a> {
    /// The export of a publication's catalog.
    pub fn new(p: &'a Publication) -> Self {
        let c = &p.catalog;
        let mut t = Tables {
            indicators: Table::new(),
            reasons: Table::new(),
            attack: Table::new(),
            data_needed: Table::new(),
        };
        let rules = c
            .rules
            .iter()
            .map(|r| RuleExport::new(p, r, &mut t))
            .collect();
        // The indicators are their own keys: ordered by position.
        let mut indicators: Vec<(IndicatorExport<'a>, usize)> =
            t.indicators.positions.into_iter().collect();
        indicators.sort_unstable_by_key(|(_, at)| *at);
        Self {
            format: FORMAT,
            attack_version: c.attack_version.as_deref(),
            stats: &c.stats,
            rules,
            tactics: &c.tactics,
            techniques: &c.techniques,
            atomics: c.atomics.iter().map(AtomicExport::new).collect(),
            gaps: &c.gaps,
            unresolved_attack: &c.unresolved_attack,
            problems: &c.problems,
            indicators: indicators.into_iter().map(|(i, _)| i).collect(),
            reasons: t.reasons.values,
            attack: t.attack.values,
            data_needed: t.data_needed.values,
        }
    }
}

impl<'a> RuleExport<'a> {
    fn new(p: &Publication, r: &'a CatalogRule, t: &mut Tables<'a>) -> Self {
        let a = &r.analysis;
        Self {
            key: &r.key,
            id: r.id.as_deref(),
            title: &r.title,
            language: r.language,
            path: &r.path,
            page: page::rule(&r.key),
            description: r.description.as_deref(),
            status: r.status.as_deref(),
            level: r.level.as_deref(),
            author: r.author.as_deref(),
            date: r.date.as_deref(),
            modified: r.modified.as_deref(),
            references: &r.references,
            falsepositives: &r.falsepositives,
            tags: &r.tags,
            logsource: &r.logsource,
            related_links: &r.related_links,
            query: r.query.as_ref(),
            index: &r.index,
            not_evaluable: &r.not_evaluable,
            analysis: AnalysisExport {
                stages: &a.stages,
                exclusions: &a.exclusions,
                indicators: a
                    .indicators
                    .iter()
                    .map(|i| t.indicators.position(IndicatorExport::new(p, i), || ()))
                    .collect(),
                related: a
                    .related
                    .iter()
                    .filter_map(|x| {
                        Some(RelatedExport {
                            // Related rules are rules of the catalog.
                            rule: p.rule_index(&x.key)?,
                            score: x.score,
                            reasons: x
                                .reasons
                                .iter()
                                .map(|s| t.reasons.position(s, || s))
                                .collect(),
                        })
                    })
                    .collect(),
                attack: a
                    .attack
                    .iter()
                    .map(|e| t.attack.position(attack_key(e), || e))
                    .collect(),
                data_needed: a
                    .data_needed
                    .iter()
                    .map(|e| t.data_needed.position(data_needed_key(e), || e))
                    .collect(),
            },
            fired_by: &r.fired_by,
        }
    }
}

impl<'a> IndicatorExport<'a> {
    fn new(p: &Publication, i: &'a Indicator) -> Self {
        Self {
            field: i.field.as_deref(),
            kind: &i.kind,
            value: &i.value,
            negated: i.negated,
            corpus: i.corpus,
            corpus_by_source: &i.corpus_by_source,
            shared: p.shared.contains_key(&i.normalized).then(|| {
                format!(
                    "indicators/{}.html",
                    Publication::indicator_page(&i.normalized)
                )
            }),
        }
    }
}

impl<'a> AtomicExport<'a> {
    fn new(a: &'a AtomicEntry) -> Self {
        Self {
            guid: &a.guid,
            name: &a.name,
            technique: &a.technique,
            technique_name: &a.technique_name,
            description: &a.description,
            platforms: &a.platforms,
            executor: &a.executor,
            elevation_required: a.elevation_required,
            command: &a.command,
            cleanup_command: a.cleanup_command.as_deref(),
            input_arguments: &a.input_arguments,
            path: &a.path,
            page: format!("atomics/{}.html", file_name(&a.guid)),
            simulated_events: a.events.len(),
            fired: &a.fired,
        }
    }
}
