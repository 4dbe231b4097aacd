//! The catalog as a value: everything a report or a published page needs, serialisable.
//!
//! [`Catalog`] is what [`crate::build`] returns and what `sigil-site` renders. Every list
//! is in a stable order (rules by language then path, techniques by id, tests by technique
//! then position), so two builds of the same corpus serialise identically. Rules refer to
//! each other, to techniques and to atomic tests by *key* ([`CatalogRule::key`],
//! technique id, test GUID), never by position.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Serialize, Serializer};
use sigil_core::{LogSource, QuerySource, Related, Rule, RuleLanguage};

/// A loaded and analysed corpus.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Catalog {
    /// Every rule, Sigma and Elastic, by language then path then position in the file.
    pub rules: Vec<CatalogRule>,
    /// ATT&CK tactics in matrix order, then any tactic named by a rule but unknown to the
    /// ATT&CK data.
    pub tactics: Vec<TacticEntry>,
    /// ATT&CK techniques and sub-techniques (current ones, plus every id a rule or test
    /// names), by id.
    pub techniques: Vec<TechniqueEntry>,
    /// Atomic Red Team tests, by technique then position in their file.
    pub atomics: Vec<AtomicEntry>,
    /// GUIDs of the Windows tests whose simulated telemetry no rule detects.
    pub gaps: Vec<String>,
    /// ATT&CK tags of rules that the loaded ATT&CK data does not know, with the rules.
    pub unresolved_attack: Vec<UnresolvedAttack>,
    /// Files that could not be read or parsed, and other problems; the rest was loaded.
    pub problems: Vec<Problem>,
    /// Counts.
    pub stats: CatalogStats,
    /// The ATT&CK version of the loaded data (e.g. `18.1`), when known.
    pub attack_version: Option<String>,
}

/// Counts over the catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CatalogStats {
    /// Rules by language (`sigma`, `elastic`).
    pub rules_by_source: BTreeMap<String, usize>,
    /// Atomic tests loaded.
    pub atomic_tests: usize,
    /// Windows tests whose telemetry was simulated.
    pub simulated_tests: usize,
    /// Simulated tests at least one rule detects.
    pub detected_tests: usize,
    /// ATT&CK techniques (and sub-techniques) loaded.
    pub attack_techniques: usize,
    /// Techniques with at least one rule.
    pub covered_techniques: usize,
    /// Files read.
    pub files: usize,
    /// Files skipped because they could not be read or parsed.
    pub bad_files: usize,
}

/// A problem met while loading or analysing; never fatal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file concerned.
    pub path: PathBuf,
    /// `line:column` style position when known (1-based line), else 0.
    pub line: u32,
    /// What went wrong.
    pub message: String,
}

/// One rule of the catalog with its analysis.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogRule {
    /// Unique in the catalog, safe in a URL or file name: the rule id (characters
    /// outside `[A-Za-z0-9._-]` replaced by `_`), or the file stem when the rule has no
    /// id; a `-2`, `-3`, ... suffix separates duplicates.
    pub key: String,
    /// The rule's own id (Sigma `id`, Elastic `rule_id`).
    pub id: Option<String>,
    /// Title (Elastic `name`).
    pub title: String,
    /// The language.
    pub language: RuleLanguage,
    /// The file, as found under the corpus path given.
    pub path: PathBuf,
    /// The whole file, as written.
    pub source: String,
    /// Description.
    pub description: Option<String>,
    /// Status (`stable`, `test`, `experimental`, `deprecated`, `unsupported`).
    pub status: Option<String>,
    /// Level / severity.
    pub level: Option<String>,
    /// Author(s).
    pub author: Option<String>,
    /// Creation date as written.
    pub date: Option<String>,
    /// Modification date as written.
    pub modified: Option<String>,
    /// References.
    pub references: Vec<String>,
    /// False positives.
    pub falsepositives: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// The logsource (Sigma), empty for Elastic rules.
    pub logsource: LogSource,
    /// Sigma `related:` links as written.
    pub related_links: Vec<Related>,
    /// The query, for rules written as one (Elastic EQL, KQL, ES|QL).
    pub query: Option<QuerySource>,
    /// Elastic index patterns (`index`), empty for Sigma.
    pub index: Vec<String>,
    /// Why the IR does not capture the whole rule (ES|QL, machine learning, ...); such
    /// rules are analysed on what the IR holds and are not evaluated on atomic tests.
    pub not_evaluable: Vec<String>,
    /// The analysis.
    pub analysis: Analysis,
    /// The atomic tests whose simulated telemetry this rule detects.
    pub fired_by: Vec<TestRef>,
    /// The rule in sigil's IR (not serialised: consumers convert or evaluate it).
    #[serde(skip)]
    pub ir: Rule,
    /// For Elastic sequence rules, the synthetic step rules the correlation refers to.
    #[serde(skip)]
    pub steps: Vec<Rule>,
}

impl CatalogRule {
    /// The id if there is one, else the key: how lists and reports name the rule.
    pub fn display_id(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.key)
    }

    /// A short reference to this rule.
    pub fn to_ref(&self) -> RuleRef {
        RuleRef {
            key: self.key.clone(),
            id: self.display_id().to_string(),
            title: self.title.clone(),
            language: self.language,
        }
    }
}

/// A short reference to a rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RuleRef {
    /// [`CatalogRule::key`].
    pub key: String,
    /// The rule id (or key when it has none).
    pub id: String,
    /// Title.
    pub title: String,
    /// Language.
    pub language: RuleLanguage,
}

/// A short reference to an atomic test.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct TestRef {
    /// The test's `auto_generated_guid`.
    pub guid: String,
    /// Its name.
    pub name: String,
    /// Its technique.
    pub technique: String,
}

/// What sigil finds in one rule. See `docs/analysis.md` for every definition.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Analysis {
    /// Stage 0 is `condition`; then each search it uses, `not X` for negated ones.
    pub stages: Vec<Stage>,
    /// Predicates of the top-level NOT conjuncts.
    pub exclusions: Vec<Exclusion>,
    /// Every `(field, kind, value)` of the rule's searches, one row per value.
    pub indicators: Vec<Indicator>,
    /// Rules ranked by shared indicators, techniques and `related:` links.
    pub related: Vec<RelatedRule>,
    /// Tactics and techniques with their ATT&CK names.
    pub attack: Vec<AttackEntry>,
    /// The log sources and event ids the rule needs, derived from the pipelines.
    pub data_needed: Vec<DataNeeded>,
}

/// One stage: a name and its logic as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    /// `condition`, a search name, or `not <search name>`.
    pub name: String,
    /// The condition as written, or the search's logic rendered as an expression.
    pub expr: String,
}

/// A predicate the rule suppresses (inside a top-level NOT conjunct).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exclusion {
    /// The field (`None` for a keyword).
    pub field: Option<String>,
    /// The kind (see [`Indicator::kind`]).
    pub kind: String,
    /// The excluded values, sorted case-insensitively.
    pub values: Vec<String>,
}

/// One value a rule looks for, with how many other rules look for the same thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Indicator {
    /// The field as written in the rule (`None` for a keyword search).
    pub field: Option<String>,
    /// `equals`, `contains`, `starts_with`, `ends_with`, `wildcard`, `regex`, `cidr`,
    /// `exists`, `lt`, `lte`, `gt`, `gte`, `fieldref` or `keyword`: what the value
    /// matches. A pattern whose only wildcards are a leading and/or trailing `*` is shown
    /// with the kind it means (`*\x.exe` is `ends_with \x.exe`), any other pattern is a
    /// `wildcard` (see [`crate::indicator::display`]).
    pub kind: String,
    /// The value (Sigma string syntax for patterns).
    pub value: String,
    /// Whether the predicate sits under a negation (a filter).
    pub negated: bool,
    /// How many other rules of the catalog look for the same normalised indicator.
    pub corpus: usize,
    /// [`Indicator::corpus`] by language (`sigma`, `elastic`), zero counts left out.
    pub corpus_by_source: SourceCounts,
    /// The normalised form the count compares.
    pub normalized: NormalizedIndicator,
}

/// Counts by rule language (`elastic`, `sigma`), in name order, zero counts left out;
/// serialised as a map from name to count. Half the indicators of a corpus carry one, so
/// it is a short list rather than a map of owned names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceCounts(Vec<(&'static str, usize)>);

impl SourceCounts {
    /// Counts one more for `source` (a language name, [`RuleLanguage::name`]).
    pub fn add(&mut self, source: &'static str) {
        match self.0.binary_search_by(|(k, _)| (*k).cmp(source)) {
            Ok(i) => self.0[i].1 += 1,
            Err(i) => self.0.insert(i, (source, 1)),
        }
    }

    /// The count of `source`, if not zero.
    pub fn get(&self, source: &str) -> Option<&usize> {
        self.0.iter().find(|(k, _)| *k == source).map(|(_, n)| n)
    }

    /// Whether every count is zero.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The languages and their counts, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        self.0.iter().copied()
    }

    /// The sum of the counts.
    pub fn total(&self) -> usize {
        self.0.iter().map(|(_, n)| n).sum()
    }
}

impl Serialize for SourceCounts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, n)| (k, n)))
    }
}

/// The language-independent form of an indicator (see `docs/analysis.md`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct NormalizedIndicator {
    /// The field in the common namespace (ECS for Windows rules, through the
    /// `ecs_windows` pipeline), empty for keywords.
    pub field: String,
    /// The kind after normalisation.
    pub kind: String,
    /// The value, lower case (except regular expressions), encodings noted as a prefix.
    pub value: String,
}

/// A rule related to another, with the score that ranks it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelatedRule {
    /// [`CatalogRule::key`], shared by every rule that names this one.
    pub key: Arc<str>,
    /// Rule id (shared likewise).
    pub id: Arc<str>,
    /// Title (shared likewise).
    pub title: Arc<str>,
    /// Language.
    pub language: RuleLanguage,
    /// The ranking score (higher is closer), rounded to two decimals.
    pub score: f64,
    /// Why: `related:<type>`, `indicator:<field> <kind> <value>`, `technique:<id>`. A
    /// reason's text is shared by every related rule that gives it.
    pub reasons: Vec<Arc<str>>,
}

/// A tactic / technique pair of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttackEntry {
    /// The tactic's name (`Execution`), or the tag text when ATT&CK does not know it.
    pub tactic: Option<String>,
    /// The tactic's id (`TA0002`) when known.
    pub tactic_id: Option<String>,
    /// Technique or sub-technique id (`T1059.001`).
    pub technique: Option<String>,
    /// The technique's name (`Command and Scripting Interpreter: PowerShell` for a
    /// sub-technique), `None` when unknown.
    pub name: Option<String>,
    /// Whether the ATT&CK data knows every id of the entry.
    pub resolved: bool,
}

/// One way to get the events a rule needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataNeeded {
    /// Where the requirement comes from: a built-in pipeline combination
    /// (`sysmon`, `windows-audit`, `windows-logsources`) or `elastic-index`.
    pub via: String,
    /// The event log channel (`Microsoft-Windows-Sysmon/Operational`, `Security`).
    pub channel: Option<String>,
    /// The event ids, empty when the rule does not constrain them.
    pub event_ids: Vec<i64>,
    /// The fields the rule reads, named as this source names them.
    pub fields: Vec<String>,
    /// Elastic index patterns (for `elastic-index`).
    pub index: Vec<String>,
    /// What must be configured beyond collecting the channel (e.g. command-line auditing).
    pub note: Option<String>,
    /// ATT&CK data components whose log sources list this channel and event id
    /// (`DC0032 Process Creation`).
    pub data_components: Vec<String>,
    /// One line for people: `Sysmon EventID 1 (Microsoft-Windows-Sysmon/Operational)`.
    pub label: String,
}

/// An ATT&CK tactic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TacticEntry {
    /// `TA0002`, or `None` for a tactic ATT&CK does not know.
    pub id: Option<String>,
    /// Short name (`execution`, `stealth`).
    pub shortname: String,
    /// Name (`Execution`).
    pub name: String,
    /// The techniques (not sub-techniques) of the tactic, by id.
    pub techniques: Vec<String>,
    /// Rules tagged with the tactic.
    pub rules: usize,
}

/// An ATT&CK technique or sub-technique.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TechniqueEntry {
    /// `T1059` or `T1059.001`.
    pub id: String,
    /// Its own name (`PowerShell`); `None` when the ATT&CK data does not know the id.
    pub name: Option<String>,
    /// The parent technique of a sub-technique.
    pub parent: Option<String>,
    /// Tactic short names, in matrix order.
    pub tactics: Vec<String>,
    /// `https://attack.mitre.org/techniques/T1059/001/`.
    pub url: String,
    /// Platforms.
    pub platforms: Vec<String>,
    /// Whether the ATT&CK data knows the id.
    pub known: bool,
    /// Revoked or deprecated in the loaded ATT&CK data.
    pub retired: bool,
    /// Rules tagged with exactly this id, by key.
    pub rules: Vec<String>,
    /// Atomic tests of exactly this id, by GUID.
    pub tests: Vec<String>,
}

/// An ATT&CK tag no loaded ATT&CK object matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnresolvedAttack {
    /// The tag as written (`attack.stealth`, `attack.t1685`).
    pub tag: String,
    /// The rules that carry it, by key.
    pub rules: Vec<String>,
}

/// An Atomic Red Team test with its simulated telemetry and the rules that detect it.
#[derive(Debug, Clone, Serialize)]
pub struct AtomicEntry {
    /// `auto_generated_guid`.
    pub guid: String,
    /// Name.
    pub name: String,
    /// Technique id of the file (`attack_technique`).
    pub technique: String,
    /// The file's `display_name` (the technique's name).
    pub technique_name: String,
    /// Description.
    pub description: String,
    /// Supported platforms.
    pub platforms: Vec<String>,
    /// Executor name (`command_prompt`, `powershell`, `sh`, `bash`, `manual`).
    pub executor: String,
    /// Whether it needs elevation.
    pub elevation_required: bool,
    /// The executor command with every `#{arg}` replaced by its default.
    pub command: String,
    /// The cleanup command, substituted likewise.
    pub cleanup_command: Option<String>,
    /// The input arguments.
    pub input_arguments: Vec<InputArgument>,
    /// The file, as found under the corpus path given.
    pub path: PathBuf,
    /// The simulated events (empty for tests that are not simulated).
    pub events: Vec<SimulatedEvent>,
    /// Rules that fire on the simulated events.
    pub fired: Vec<RuleRef>,
    /// Rules tagged with the test's technique (or its parent or a sub-technique) that do
    /// not fire. One reference per rule is shared by every test that lists it (the tests of
    /// a technique list hundreds of the same rules); serialised as the references.
    pub same_technique: Vec<Arc<RuleRef>>,
    /// For each rule in `fired`, in the same order, why it fires.
    pub firings: Vec<Firing>,
}

/// Why a rule fires on a test's simulated telemetry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Firing {
    /// The first simulated event (index into the test's `events`) the rule matches;
    /// `None` for a correlation, which matches a group of events.
    pub event: Option<usize>,
    /// The fields of that event the rule's predicates read, with their values.
    pub fields: Vec<(String, String)>,
}

/// An input argument of an atomic test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputArgument {
    /// Name, as used in `#{name}`.
    pub name: String,
    /// Description.
    pub description: String,
    /// Type (`string`, `path`, `integer`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Default value as text.
    pub default: String,
}

/// One event of an atomic test's simulated telemetry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimulatedEvent {
    /// The event kind, named as its model (`process_creation`, `ps_script`,
    /// `registry_set`, ...: `sigil-catalog`'s `telemetry/models/`).
    pub kind: String,
    /// The fields as Windows names them, in the model's order.
    pub fields: Vec<(String, String)>,
    /// The part of the test's command that caused the event.
    pub cause: String,
}
