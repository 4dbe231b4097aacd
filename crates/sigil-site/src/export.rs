//! `index.json` and the rules' details: the catalog as data for other programs.
//!
//! `index.json` is the one file a program reads to list the whole catalog: every rule
//! with its metadata, ATT&CK entries and data needed; the techniques, tactics and Atomic
//! tests; the gaps. What is too big to list sits in a file per rule next to its page,
//! `rules/<key>.json` ([`RuleDetails`]): the full description, references, false
//! positives, query, the analysis (stages, exclusions, indicators, related rules with
//! their reasons) and the tests that fire the rule. A rule entry names that file
//! (`details`). Neither carries the bulk that the pages carry:
//!
//! - a rule's source is referred to by `path` (the file as found under the corpus) and
//!   `page` (its HTML page, which shows it), not copied;
//! - an Atomic test's simulated events are counted (`simulated_events`), not listed;
//! - an indicator names the page of the rules sharing it (`shared`) instead of repeating
//!   its normalised form;
//! - the ATT&CK entries (`attack`) and data needed (`data_needed`) that many rules have in
//!   common are written once, in top-level tables of `index.json`, and rules refer to
//!   them by position;
//! - a rule entry leaves out its fields that are null or empty lists;
//! - the rules of a test's technique that do not fire it are left out: they are the
//!   technique's `rules` minus the test's `fired`.
//!
//! `sigil analyze --format json` keeps the full per-rule analysis for one rule at a time.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use sigil_catalog::{
    AtomicEntry, AttackEntry, CatalogRule, CatalogStats, DataNeeded, Exclusion, Indicator,
    InputArgument, Problem, RuleRef, SourceCounts, Stage, TacticEntry, TechniqueEntry, TestRef,
    UnresolvedAttack,
};
use sigil_core::{LogSource, QuerySource, Related, RuleLanguage};

use crate::paths::file_name;
use crate::publication::Publication;
use crate::render::page;

/// The format of `index.json` and of the rules' details; raised when a field changes
/// meaning or goes away.
///
/// `sigil-catalog/3`: a rule entry of `index.json` holds the rule's metadata, `attack` and
/// `data_needed` (positions in the top-level tables of the same names) and `details`, the
/// path of its [`RuleDetails`] file, which holds the description, references, false
/// positives, query, analysis and `fired_by`; indicators are written in the rule's
/// details, a related rule there is `{"key", "score", "reasons": [text]}`; null and
/// empty fields of a rule entry are left out. In `sigil-catalog/2` all of a rule was in
/// `index.json`, its indicators and the reasons of its related rules by position in
/// top-level tables and a related rule by position in `rules`.
pub const FORMAT: &str = "sigil-catalog/3";

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
    /// Every distinct ATT&CK entry of the rules, in order of first use.
    pub attack: Vec<&'a AttackEntry>,
    /// Every distinct way to get the events a rule needs, in order of first use.
    pub data_needed: Vec<&'a DataNeeded>,
}

/// One rule in `index.json`: its metadata and where its details are. Null and empty
/// fields are left out.
#[derive(Debug, Serialize)]
pub struct RuleExport<'a> {
    /// Catalog key (unique, safe in a file name).
    pub key: &'a str,
    /// The rule's own id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    /// Title.
    pub title: &'a str,
    /// `sigma` or `elastic`.
    pub language: RuleLanguage,
    /// The rule file, as found under the corpus path given.
    pub path: &'a Path,
    /// The rule's HTML page, relative to the site root (it shows the source).
    pub page: String,
    /// The rule's [`RuleDetails`] file, relative to the site root.
    pub details: String,
    /// Status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'a str>,
    /// Level / severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<&'a str>,
    /// Author(s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<&'a str>,
    /// Creation date as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<&'a str>,
    /// Modification date as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<&'a str>,
    /// Tags.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub tags: &'a [String],
    /// The logsource (Sigma).
    pub logsource: &'a LogSource,
    /// Sigma `related:` links.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub related_links: &'a [Related],
    /// Elastic index patterns.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub index: &'a [String],
    /// Why the IR does not capture the whole rule, when it does not.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub not_evaluable: &'a [String],
    /// Tactics and techniques: positions in the top-level `attack`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attack: Vec<usize>,
    /// The log sources and event ids the rule needs: positions in the top-level
    /// `data_needed`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data_needed: Vec<usize>,
}

/// What `index.json` does not list of a rule: the file `rules/<key>.json` next to its
/// page.
#[derive(Debug, Serialize)]
pub struct RuleDetails<'a> {
    /// [`FORMAT`].
    pub format: &'static str,
    /// Catalog key.
    pub key: &'a str,
    /// Description.
    pub description: Option<&'a str>,
    /// References.
    pub references: &'a [String],
    /// False positives.
    pub falsepositives: &'a [String],
    /// The query of rules written as one (Elastic).
    pub query: Option<&'a QuerySource>,
    /// The analysis.
    pub analysis: AnalysisExport<'a>,
    /// The Atomic tests whose simulated telemetry the rule detects.
    pub fired_by: &'a [TestRef],
}

/// A rule's analysis (see `docs/analysis.md`) but for its ATT&CK entries and data
/// needed, which `index.json` lists.
#[derive(Debug, Serialize)]
pub struct AnalysisExport<'a> {
    /// Stages: `condition`, then each search.
    pub stages: &'a [Stage],
    /// Predicates of the top-level NOT conjuncts.
    pub exclusions: &'a [Exclusion],
    /// Every value the rule looks for, with corpus counts.
    pub indicators: Vec<IndicatorExport<'a>>,
    /// Related rules of the catalog, closest first.
    pub related: Vec<RelatedExport<'a>>,
}

/// One indicator with its corpus counts.
#[derive(Debug, Serialize)]
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
    #[serde(skip_serializing_if = "SourceCounts::is_empty")]
    pub corpus_by_source: &'a SourceCounts,
    /// The page listing the rules that share it (left out when no other rule does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<String>,
}

/// A related rule.
#[derive(Debug, Serialize)]
pub struct RelatedExport<'a> {
    /// The related rule's key.
    pub key: &'a str,
    /// Ranking score (higher is closer).
    pub score: f64,
    /// Why.
    pub reasons: &'a [std::sync::Arc<str>],
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
            attack: Table::new(),
            data_needed: Table::new(),
        };
        let rules = c.rules.iter().map(|r| RuleExport::new(r, &mut t)).collect();
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
            attack: t.attack.values,
            data_needed: t.data_needed.values,
        }
    }
}

impl<'a> RuleExport<'a> {
    fn new(r: &'a CatalogRule, t: &mut Tables<'a>) -> Self {
        let a = &r.analysis;
        Self {
            key: &r.key,
            id: r.id.as_deref(),
            title: &r.title,
            language: r.language,
            path: &r.path,
            page: page::rule(&r.key),
            details: page::rule_details(&r.key),
            status: r.status.as_deref(),
            level: r.level.as_deref(),
            author: r.author.as_deref(),
            date: r.date.as_deref(),
            modified: r.modified.as_deref(),
            tags: &r.tags,
            logsource: &r.logsource,
            related_links: &r.related_links,
            index: &r.index,
            not_evaluable: &r.not_evaluable,
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
        }
    }
}

impl<'a> RuleDetails<'a> {
    /// The details of one rule of the publication.
    pub fn new(p: &Publication, r: &'a CatalogRule) -> Self {
        let a = &r.analysis;
        Self {
            format: FORMAT,
            key: &r.key,
            description: r.description.as_deref(),
            references: &r.references,
            falsepositives: &r.falsepositives,
            query: r.query.as_ref(),
            analysis: AnalysisExport {
                stages: &a.stages,
                exclusions: &a.exclusions,
                indicators: a
                    .indicators
                    .iter()
                    .map(|i| IndicatorExport::new(p, i))
                    .collect(),
                related: a
                    .related
                    .iter()
                    // Related rules are rules of the catalog.
                    .filter(|x| p.rule_index(&x.key).is_some())
                    .map(|x| RelatedExport {
                        key: &x.key,
                        score: x.score,
                        reasons: &x.reasons,
                    })
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
