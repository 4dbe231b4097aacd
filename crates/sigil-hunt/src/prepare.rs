//! From rule files to a compiled engine: loading, the rules left out and why, the
//! pipelines, which rules are for which logs.

use std::collections::BTreeSet;
use std::path::PathBuf;

use rayon::prelude::*;
use sigil_core::{Rule, RuleBody};
use sigil_engine::{Engine, EngineOptions};
use sigil_pipeline::{Admission, LogScope, Pipeline, PipelineSet, Processed};

use crate::HuntError;

/// How to prepare rules for hunting.
#[derive(Debug, Clone, Default)]
pub struct HuntOptions {
    /// Processing pipelines, by built-in name or file, applied together. Empty: each rule
    /// through `sysmon` + `windows-logsources` and through `windows-audit` +
    /// `windows-logsources` (one matcher per set that changes it).
    pub pipelines: Vec<String>,
    /// What the JSON logs hold, when the user says so (`--logsource`). Without it, JSON
    /// events that carry `Channel` and `EventID` are Windows events, and others are of
    /// unknown source: every rule is evaluated against them.
    pub json_logsource: Option<LogScope>,
    /// Evaluate every rule against every event, whatever the logsource it names.
    pub all_logsources: bool,
    /// Hunt with rules their authors disabled (Elastic `enabled = false`) too.
    pub include_disabled: bool,
    /// The kinds of logs that will be read.
    pub logs: LogMix,
    /// Which rules' detections are reported (all by default).
    pub select: RuleSelection,
}

/// Which rules a hunt reports: by status, by tag, and not those excluded by id. Rules left
/// out are not compiled, unless a correlation that is reported needs them (they then
/// count for it without reporting detections of their own).
#[derive(Debug, Clone, Default)]
pub struct RuleSelection {
    /// Only rules of these statuses (none: any status).
    pub statuses: Vec<sigil_core::Status>,
    /// Only rules with one of these tags, or a sub-technique of one (`attack.t1059` takes
    /// `attack.t1059.001`); compared ignoring case (none: any tags).
    pub tags: Vec<String>,
    /// Not the rules with these ids.
    pub exclude_ids: BTreeSet<String>,
}

impl RuleSelection {
    /// Whether a hunt reports `rule`'s detections, and if not, why. Sigma filters are not
    /// reported themselves and always apply.
    pub fn admits(&self, rule: &Rule) -> Result<(), String> {
        if matches!(rule.body, RuleBody::Filter(_)) {
            return Ok(());
        }
        if let Some(id) = &rule.id
            && self.exclude_ids.contains(id)
        {
            return Err("excluded by id (--exclude-rules)".to_string());
        }
        if !self.statuses.is_empty() && !rule.status.is_some_and(|s| self.statuses.contains(&s)) {
            return Err(format!(
                "status {} (--status)",
                rule.status.map_or("none", sigil_core::Status::name)
            ));
        }
        if !self.tags.is_empty() {
            let tagged = rule.tags.iter().any(|tag| {
                self.tags.iter().any(|want| {
                    tag.len() >= want.len()
                        && tag[..want.len()].eq_ignore_ascii_case(want)
                        && matches!(tag.as_bytes().get(want.len()), None | Some(b'.'))
                })
            });
            if !tagged {
                return Err("none of the tags asked for (--tag)".to_string());
            }
        }
        Ok(())
    }

    /// Whether every rule is admitted.
    pub fn is_everything(&self) -> bool {
        self.statuses.is_empty() && self.tags.is_empty() && self.exclude_ids.is_empty()
    }
}

/// The kinds of logs a run reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogMix {
    /// Windows event log files.
    pub evtx: bool,
    /// JSON logs (files or standard input).
    pub json: bool,
}

/// Why a rule is not hunted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipKind {
    /// The rule file could not be read, or `sigil check` reports the rule with an error.
    Broken,
    /// Its author disabled it.
    Disabled,
    /// Its logsource is not for the logs read.
    NotForLogs,
    /// The pipelines reject it (e.g. a field they cannot map).
    Pipeline,
    /// The user left it out (`--status`, `--tag`, `--exclude-rules`).
    Filtered,
    /// The engine cannot evaluate it (e.g. a regular expression too large to build).
    Engine,
}

/// A rule that is not hunted with, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRule {
    /// Why, in kind.
    pub kind: SkipKind,
    /// The rule, as `path: title` or `path:line:column` for problems in the file.
    pub who: String,
    /// Why, in words.
    pub reason: String,
    /// For rules not for the logs: what the rule is for (`linux`, `category database`),
    /// to count them by it.
    pub written_for: Option<String>,
}

/// Which compiled rules are for which events.
#[derive(Debug, Default)]
pub(crate) struct Masks {
    /// For Windows events; `None`: every compiled rule.
    pub(crate) windows: Option<Box<[bool]>>,
    /// For JSON events of the declared logsource; `None`: every compiled rule.
    pub(crate) declared: Option<Box<[bool]>>,
    /// Rules compiled only for events of unknown source (`who`, `reason`), reported as
    /// not for the logs when no such event was read.
    pub(crate) unknown_only: Vec<SkippedRule>,
}

/// Rules ready to hunt with: loaded, processed by the pipelines, compiled.
#[derive(Debug)]
pub struct Hunter {
    pub(crate) loaded: sigil_load::RuleSet,
    /// The compiled rules (pipeline variants of the loaded ones).
    pub(crate) rules: Vec<Rule>,
    /// For each compiled rule, the loaded rule it comes from.
    pub(crate) origin: Vec<usize>,
    pub(crate) engine: Engine,
    pub(crate) ecs: Option<&'static sigil_pipeline::ecs::EcsMapping>,
    pub(crate) skipped: Vec<SkippedRule>,
    pub(crate) masks: Masks,
    /// Whether JSON logs are read under a declared logsource.
    pub(crate) declared: bool,
    /// The details templates findings are described with.
    pub(crate) details: crate::Details,
    /// Per compiled rule, whether its detections are reported (`None`: all are).
    pub(crate) reported: Option<Box<[bool]>>,
}

/// The pipeline sets to process rules with: the user's (as one set), or the defaults.
pub fn pipeline_sets(names: &[String]) -> Result<Vec<PipelineSet>, HuntError> {
    let resolve = |names: &[&str]| -> Result<PipelineSet, HuntError> {
        let pipelines = names
            .iter()
            .map(|n| Pipeline::resolve(n))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PipelineSet::new(pipelines))
    };
    if names.is_empty() {
        return Ok(vec![
            resolve(&["sysmon", "windows-logsources"])?,
            resolve(&["windows-audit", "windows-logsources"])?,
        ]);
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    Ok(vec![resolve(&names)?])
}

/// The scopes of a run, and whether events of unknown source may be read.
struct Scopes {
    windows: bool,
    declared: Option<LogScope>,
    unknown: bool,
}

impl Scopes {
    fn of(options: &HuntOptions) -> Self {
        let json = options.logs.json;
        Self {
            windows: options.logs.evtx || (json && options.json_logsource.is_none()),
            declared: options.json_logsource.clone().filter(|_| json),
            unknown: json && options.json_logsource.is_none(),
        }
    }
}

/// One pipeline variant of a loaded rule, with its admission per scope.
struct Variant {
    rule: Rule,
    windows: Admission,
    declared: Admission,
}

impl Hunter {
    /// Loads the rules under `paths` and prepares them. Rules that cannot be hunted with
    /// are listed in [`Hunter::skipped`]; the error is for a run that has no rule left,
    /// or pipelines that cannot be read.
    pub fn load(paths: &[PathBuf], options: &HuntOptions) -> Result<Self, HuntError> {
        Self::load_cached(paths, options, None)
    }

    /// [`Hunter::load`], with the rules of files read before taken from `cache`, which
    /// never changes a result (see [`sigil_load::RuleCache`]).
    pub fn load_cached(
        paths: &[PathBuf],
        options: &HuntOptions,
        cache: Option<&sigil_load::RuleCache>,
    ) -> Result<Self, HuntError> {
        let sets = pipeline_sets(&options.pipelines)?;
        let loaded = sigil_load::load_cached(paths, sigil_load::Options::default(), cache);
        Self::prepare(loaded, &sets, options)
    }

    /// Prepares loaded rules with the given pipeline sets.
    pub fn prepare(
        loaded: sigil_load::RuleSet,
        sets: &[PipelineSet],
        options: &HuntOptions,
    ) -> Result<Self, HuntError> {
        let mut skipped: Vec<SkippedRule> = loaded
            .errors()
            .map(|d| SkippedRule {
                kind: SkipKind::Broken,
                who: format!(
                    "{}:{}:{}",
                    d.path.display(),
                    d.diagnostic.span.line.max(1),
                    d.diagnostic.span.column.max(1)
                ),
                reason: d.diagnostic.message.clone(),
                written_for: None,
            })
            .collect();
        if loaded.rules.is_empty() {
            return Err(HuntError::NoRules { skipped });
        }
        let scopes = Scopes::of(options);
        let processed: Vec<Result<Vec<Variant>, SkippedRule>> = loaded
            .rules
            .par_iter()
            .map(|lr| variants(lr, sets, &scopes, options))
            .collect();
        let per_rule = correlation_admissions(&loaded.rules, &processed);
        let (selected, needed) = selection(&loaded.rules, &options.select);

        let mut rules = Vec::new();
        let mut origin = Vec::new();
        let mut windows = Vec::new();
        let mut declared = Vec::new();
        let mut unknown_only = Vec::new();
        let mut reported = Vec::new();
        for (i, result) in processed.into_iter().enumerate() {
            let lr = &loaded.rules[i];
            if let (Err(reason), false) = (&selected[i], needed[i]) {
                skipped.push(SkippedRule {
                    kind: SkipKind::Filtered,
                    who: format!("{}: {}", lr.path.display(), lr.rule.title),
                    reason: reason.clone(),
                    written_for: None,
                });
                continue;
            }
            let list = match result {
                Ok(list) => list,
                Err(skip) => {
                    skipped.push(skip);
                    continue;
                }
            };
            let mut any = false;
            let mut out_reason = None;
            for v in list {
                let (w, d) = match &lr.rule.body {
                    RuleBody::Correlation(_) => per_rule[i],
                    _ => (v.windows.is_in(), v.declared.is_in()),
                };
                let all = options.all_logsources;
                let (w, d) = (all || w, all || d);
                let w = w && scopes.windows;
                let d = d && scopes.declared.is_some();
                if !(w || d || scopes.unknown) {
                    out_reason.get_or_insert_with(|| reason_out(&v, &scopes));
                    continue;
                }
                if !(w || d) {
                    out_reason.get_or_insert_with(|| reason_out(&v, &scopes));
                }
                any |= w || d;
                rules.push(v.rule);
                origin.push(i);
                reported.push(selected[i].is_ok());
                windows.push(w);
                declared.push(d);
            }
            if let Some((reason, written_for)) = out_reason.filter(|_| !any) {
                let skip = SkippedRule {
                    kind: SkipKind::NotForLogs,
                    who: format!("{}: {}", lr.path.display(), lr.rule.title),
                    reason,
                    written_for: Some(written_for),
                };
                if origin.last() == Some(&i) {
                    unknown_only.push(skip);
                } else {
                    skipped.push(skip);
                }
            }
        }
        if rules.is_empty() {
            return Err(HuntError::NoRules { skipped });
        }
        let ecs = ecs_mapping(&loaded.rules);
        let engine = Engine::compile(&rules, EngineOptions::default());
        for s in engine.skipped() {
            skipped.push(SkippedRule {
                kind: SkipKind::Engine,
                who: format!(
                    "{}: {}",
                    loaded.rules[origin[s.index]].path.display(),
                    s.title
                ),
                reason: s.error.to_string(),
                written_for: None,
            });
        }
        // A mask that admits every compiled rule is no mask; the declared one exists only
        // when there is a declared logsource (the run reads its events through it).
        let all_true = |v: Vec<bool>| (!v.iter().all(|&b| b)).then(|| v.into_boxed_slice());
        let declared = all_true(declared).filter(|_| scopes.declared.is_some());
        Ok(Self {
            loaded,
            rules,
            origin,
            engine,
            ecs,
            skipped,
            declared: scopes.declared.is_some(),
            details: crate::Details::builtin(),
            reported: (!reported.iter().all(|&r| r)).then(|| reported.into_boxed_slice()),
            masks: Masks {
                windows: all_true(windows),
                declared,
                unknown_only,
            },
        })
    }

    /// Describes findings with `details` instead of the built-in templates.
    pub fn set_details(&mut self, details: crate::Details) {
        self.details = details;
    }

    /// The details templates findings are described with.
    pub fn details(&self) -> &crate::Details {
        &self.details
    }

    /// The rules left out, and why (those the run itself finds are in its summary).
    pub fn skipped(&self) -> &[SkippedRule] {
        &self.skipped
    }

    /// The rules loaded.
    pub fn loaded(&self) -> &sigil_load::RuleSet {
        &self.loaded
    }

    /// The rules compiled (pipeline variants of the loaded ones).
    pub fn compiled(&self) -> &[Rule] {
        &self.rules
    }

    /// The compiled engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The loaded rule a compiled rule comes from.
    pub fn origin(&self, compiled: usize) -> Option<&sigil_load::LoadedRule> {
        self.loaded.rules.get(*self.origin.get(compiled)?)
    }

    /// How many matchers compiled.
    pub fn matchers(&self) -> usize {
        self.rules.len()
            - self
                .skipped
                .iter()
                .filter(|s| s.kind == SkipKind::Engine)
                .count()
    }
}

/// Why a variant is for none of the run's logs, and what it is for.
fn reason_out(v: &Variant, scopes: &Scopes) -> (String, String) {
    let pick = |a: &Admission| match a {
        Admission::Out {
            reason,
            written_for,
        } => Some((reason.clone(), written_for.clone())),
        Admission::In => None,
    };
    let why = if scopes.windows {
        pick(&v.windows)
    } else {
        None
    }
    .or_else(|| scopes.declared.as_ref().and_then(|_| pick(&v.declared)));
    why.unwrap_or_else(|| {
        (
            "the rules it correlates are not for these logs".to_string(),
            "correlation".to_string(),
        )
    })
}

/// Each rule through each pipeline set. The first set always yields the rule; a further
/// set adds a variant only when it changes the rule differently (e.g. `windows-audit`
/// turning a process-creation rule into a Security 4688 one), so each source of events
/// is searched once. Correlations and filters go through unchanged: their fields are
/// those of the rules they refer to.
fn variants(
    lr: &sigil_load::LoadedRule,
    sets: &[PipelineSet],
    scopes: &Scopes,
    options: &HuntOptions,
) -> Result<Vec<Variant>, SkippedRule> {
    let rule = &lr.rule;
    let who = || format!("{}: {}", lr.path.display(), rule.title);
    if rule.is_disabled() && !options.include_disabled {
        return Err(SkippedRule {
            kind: SkipKind::Disabled,
            who: who(),
            reason: "disabled by its author (`enabled = false`); --include-disabled hunts with it"
                .to_string(),
            written_for: None,
        });
    }
    let admit = |processed: Option<Processed>| {
        let windows = if scopes.windows {
            LogScope::windows().admits(rule, processed.as_ref())
        } else {
            Admission::In
        };
        let declared = scopes
            .declared
            .as_ref()
            .map_or(Admission::In, |s| s.admits(rule, processed.as_ref()));
        Variant {
            rule: processed.map_or_else(|| rule.clone(), |p| p.rule),
            windows,
            declared,
        }
    };
    if !matches!(rule.body, RuleBody::Detection(_)) {
        return Ok(vec![admit(None)]);
    }
    let mut list: Vec<Variant> = Vec::new();
    let mut first_applied = BTreeSet::new();
    let mut failure = None;
    for (i, set) in sets.iter().enumerate() {
        match set.process(rule) {
            Ok(p) if i == 0 => {
                first_applied.clone_from(&p.applied);
                list.push(admit(Some(p)));
            }
            // A further set counts only where it does something the first did not.
            Ok(p) if !p.applied.is_subset(&first_applied) => {
                if !list.iter().any(|v| v.rule == p.rule) {
                    list.push(admit(Some(p)));
                }
            }
            Ok(_) => {}
            Err(e) if i == 0 => failure = Some(e.to_string()),
            Err(_) => {}
        }
    }
    match failure {
        Some(reason) if list.is_empty() => Err(SkippedRule {
            kind: SkipKind::Pipeline,
            who: who(),
            reason,
            written_for: None,
        }),
        _ => Ok(list),
    }
}

/// For each loaded rule, whether the selection admits it (or why not), and whether it is
/// compiled: admitted, or needed by an admitted correlation.
fn selection(
    loaded: &[sigil_load::LoadedRule],
    select: &RuleSelection,
) -> (Vec<Result<(), String>>, Vec<bool>) {
    let selected: Vec<Result<(), String>> =
        loaded.iter().map(|lr| select.admits(&lr.rule)).collect();
    let mut needed: Vec<bool> = selected.iter().map(Result::is_ok).collect();
    if select.is_everything() {
        return (selected, needed);
    }
    let index = sigil_sigma::RuleIndex::new(loaded.iter().map(|lr| &lr.rule));
    for (lr, admitted) in loaded.iter().zip(&selected) {
        if let (RuleBody::Correlation(c), Ok(())) = (&lr.rule.body, admitted) {
            for r in &c.rules {
                if let Some(j) = index.resolve(&r.reference) {
                    needed[j] = true;
                }
            }
        }
    }
    (selected, needed)
}

/// For each loaded rule that is a correlation, whether it is for Windows events and for
/// the declared logsource: it is where one of the rules it correlates is.
fn correlation_admissions(
    loaded: &[sigil_load::LoadedRule],
    processed: &[Result<Vec<Variant>, SkippedRule>],
) -> Vec<(bool, bool)> {
    let index = sigil_sigma::RuleIndex::new(loaded.iter().map(|lr| &lr.rule));
    let own = |i: usize| -> (bool, bool) {
        processed[i].as_ref().map_or((false, false), |list| {
            list.iter().fold((false, false), |(w, d), v| {
                (w || v.windows.is_in(), d || v.declared.is_in())
            })
        })
    };
    loaded
        .iter()
        .map(|lr| match &lr.rule.body {
            RuleBody::Correlation(c) => c
                .rules
                .iter()
                .filter_map(|r| index.resolve(&r.reference))
                .map(own)
                .fold((false, false), |(w, d), (a, b)| (w || a, d || b)),
            _ => (false, false),
        })
        .collect()
}

/// The ECS view of raw Windows events, needed when Elastic rules (written in ECS) are
/// hunted with; Sigma-only runs read events as they are.
fn ecs_mapping(
    loaded: &[sigil_load::LoadedRule],
) -> Option<&'static sigil_pipeline::ecs::EcsMapping> {
    loaded
        .iter()
        .any(|lr| {
            lr.rule.language == sigil_core::RuleLanguage::Elastic
                || lr.rule.taxonomy.as_deref() == Some("ecs")
        })
        .then(sigil_pipeline::ecs::windows_to_ecs)
}
