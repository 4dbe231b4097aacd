//! From a loaded [`Corpus`] to a [`Catalog`]: per-rule analysis in parallel, then the
//! corpus-wide parts (indicator counts, related rules, techniques, atomic linkage).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use sigil_core::{Rule, RuleLanguage};

use crate::analyze::{Pipelines, RuleFacts, analyze, indicator_keys};
use crate::load::{Corpus, LoadedRule};
use crate::model::{
    Analysis, Catalog, CatalogRule, CatalogStats, NormalizedIndicator, RelatedRule, SourceCounts,
    TacticEntry, TechniqueEntry, UnresolvedAttack,
};

/// How much to build.
#[derive(Debug, Clone, Copy)]
pub struct BuildOptions {
    /// Simulate the atomic tests' telemetry and run every rule over it.
    pub link_atomics: bool,
    /// How many related rules to keep per rule.
    pub related_limit: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            link_atomics: true,
            related_limit: 10,
        }
    }
}

/// Indicators or techniques shared by more rules than this say little about how two
/// rules relate, and would make related-rule ranking quadratic: they are not used for it.
const RELATED_MAX_SHARED: usize = 400;

/// A `related:` link weighs as much as several rare shared indicators.
const RELATED_LINK_WEIGHT: f64 = 3.0;

/// Builds the catalog of `corpus`.
pub fn build(corpus: Corpus, options: BuildOptions) -> Catalog {
    let pipelines = Pipelines::builtin();
    let Corpus {
        rules: loaded,
        atomics,
        attack,
        mut problems,
        files,
        ignored: _,
        roots,
    } = corpus;

    // The rules first, with their analysis to come: the atomic linkage reads only the
    // rules, and runs before the analysis so that the hunting engine it compiles and the
    // analyses are never in memory together.
    let keys = rule_keys(&loaded);
    let mut rules: Vec<CatalogRule> = loaded
        .into_iter()
        .zip(keys)
        .map(|(l, key)| catalog_rule(l, Analysis::default(), key))
        .collect();

    let mut atomics = atomics;
    let mut simulated = 0;
    if options.link_atomics {
        let outcome = crate::linkage::link(&rules, &mut atomics);
        simulated = outcome.simulated;
        problems.extend(outcome.problems);
        let mut fired_by: HashMap<String, Vec<crate::model::TestRef>> = HashMap::new();
        for t in &atomics {
            for r in &t.fired {
                fired_by
                    .entry(r.key.clone())
                    .or_default()
                    .push(crate::model::TestRef {
                        guid: t.guid.clone(),
                        name: t.name.clone(),
                        technique: t.technique.clone(),
                    });
            }
        }
        for r in &mut rules {
            if let Some(tests) = fired_by.remove(&r.key) {
                r.fired_by = tests;
            }
        }
    }

    let facts: Vec<RuleFacts> = rules
        .par_iter()
        .map(|r| analyze(&r.ir, &r.steps, &pipelines, &attack))
        .collect();

    // Indicator → rules that have it (each rule once).
    let mut by_indicator: HashMap<&NormalizedIndicator, Vec<u32>> = HashMap::new();
    for (i, f) in facts.iter().enumerate() {
        for key in indicator_keys(f) {
            by_indicator.entry(key).or_default().push(i as u32);
        }
    }
    let mut by_technique: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, f) in facts.iter().enumerate() {
        for t in &f.techniques {
            by_technique.entry(t.as_str()).or_default().push(i as u32);
        }
    }
    let languages: Vec<RuleLanguage> = rules.iter().map(|r| r.language).collect();

    // Sigma `related:` links, both ways, by rule id.
    let mut by_id: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, r) in rules.iter().enumerate() {
        if let Some(id) = &r.id {
            by_id.entry(id.as_str()).or_default().push(i as u32);
        }
    }
    let mut links: HashMap<u32, Vec<(u32, String)>> = HashMap::new();
    for (i, r) in rules.iter().enumerate() {
        for rel in &r.related_links {
            for &j in by_id.get(rel.id.as_str()).into_iter().flatten() {
                if j as usize != i {
                    links
                        .entry(i as u32)
                        .or_default()
                        .push((j, rel.kind.clone()));
                    links
                        .entry(j)
                        .or_default()
                        .push((i as u32, rel.kind.clone()));
                }
            }
        }
    }

    // The texts of the related rules' reasons, each kept once.
    let reason_texts: Mutex<HashSet<Arc<str>>> = Mutex::new(HashSet::new());
    let intern = |text: String| -> Arc<str> {
        let mut texts = reason_texts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(shared) = texts.get(text.as_str()) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(text);
        texts.insert(Arc::clone(&shared));
        shared
    };

    // Each rule's key, id and title as one shared text, for the related rules that name it.
    let names: Vec<(Arc<str>, Arc<str>, Arc<str>)> = rules
        .iter()
        .map(|r| {
            let key: Arc<str> = Arc::from(r.key.as_str());
            let id = r.id.as_deref().map_or_else(|| Arc::clone(&key), Arc::from);
            (key, id, Arc::from(r.title.as_str()))
        })
        .collect();

    // What each rule gains from the others: its indicators' counts in the rest of the
    // corpus, and its related rules. Computed over borrowed facts, which are then moved
    // (not copied) into the analyses.
    let shared: Vec<(Vec<SourceCounts>, Vec<RelatedRule>)> = facts
        .par_iter()
        .enumerate()
        .map(|(i, f)| {
            let counts = f
                .indicators
                .iter()
                .map(|ind| {
                    let mut by_source = SourceCounts::default();
                    let sharing = by_indicator
                        .get(&ind.normalized)
                        .map_or(&[][..], Vec::as_slice);
                    for &j in sharing {
                        if j as usize != i {
                            by_source.add(languages[j as usize].name());
                        }
                    }
                    by_source
                })
                .collect();
            let related = related(
                i as u32,
                f,
                &by_indicator,
                &by_technique,
                links.get(&(i as u32)).map_or(&[][..], Vec::as_slice),
                options.related_limit,
            )
            .into_iter()
            .map(|(j, score, reasons)| {
                let (key, id, title) = &names[j as usize];
                RelatedRule {
                    key: Arc::clone(key),
                    id: Arc::clone(id),
                    title: Arc::clone(title),
                    language: rules[j as usize].language,
                    score,
                    reasons: reasons.into_iter().map(intern).collect(),
                }
            })
            .collect();
            (counts, related)
        })
        .collect();
    drop(by_indicator);
    drop(by_technique);
    drop(reason_texts);
    drop(names);

    let mut unresolved: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, f) in facts.iter().enumerate() {
        for tag in &f.unresolved {
            unresolved
                .entry(tag.clone())
                .or_default()
                .push(rules[i].key.clone());
        }
    }

    // The techniques and tactics of each rule, for the coverage; the rest of the facts
    // becomes the analysis.
    let mut attack_of: Vec<RuleAttack> = Vec::with_capacity(facts.len());
    for ((r, f), (counts, related)) in rules.iter_mut().zip(facts).zip(shared) {
        let RuleFacts {
            stages,
            exclusions,
            mut indicators,
            attack: attack_entries,
            data_needed,
            techniques,
            tactics,
            unresolved: _,
        } = f;
        for (ind, by_source) in indicators.iter_mut().zip(counts) {
            ind.corpus = by_source.total();
            ind.corpus_by_source = by_source;
        }
        attack_of.push(RuleAttack {
            techniques,
            tactics,
        });
        r.analysis = Analysis {
            stages,
            exclusions,
            indicators,
            related,
            attack: attack_entries,
            data_needed,
        };
    }

    crate::linkage::same_technique(&rules, &mut atomics);
    let gaps: Vec<String> = atomics
        .iter()
        .filter(|t| !t.events.is_empty() && t.fired.is_empty())
        .map(|t| t.guid.clone())
        .collect();

    let (tactics, techniques) = coverage(&rules, &atomics, &attack_of, &attack);
    let mut rules_by_source: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rules {
        *rules_by_source
            .entry(r.language.name().to_string())
            .or_default() += 1;
    }
    let stats = CatalogStats {
        rules_by_source,
        atomic_tests: atomics.len(),
        simulated_tests: simulated,
        detected_tests: atomics.iter().filter(|t| !t.fired.is_empty()).count(),
        attack_techniques: attack.techniques().filter(|t| !t.retired).count(),
        covered_techniques: techniques.iter().filter(|t| !t.rules.is_empty()).count(),
        files,
        bad_files: problems
            .iter()
            .map(|p| &p.path)
            .collect::<BTreeSet<_>>()
            .len(),
    };
    // What is published names files as found under the corpus paths given, never by a
    // path of the machine that built it.
    for r in &mut rules {
        r.path = shown_path(&r.path, &roots);
    }
    for t in &mut atomics {
        t.path = shown_path(&t.path, &roots);
    }
    for p in &mut problems {
        p.path = shown_path(&p.path, &roots);
    }
    Catalog {
        rules,
        tactics,
        techniques,
        atomics,
        gaps,
        unresolved_attack: unresolved
            .into_iter()
            .map(|(tag, rules)| UnresolvedAttack { tag, rules })
            .collect(),
        problems,
        stats,
        attack_version: None,
    }
}

/// Ranks the rules related to rule `i`: each shared indicator or technique adds
/// `1 / log2(1 + n)`, where `n` is how many rules have it (so rare things weigh more),
/// and a Sigma `related:` link in either direction adds [`RELATED_LINK_WEIGHT`].
fn related(
    i: u32,
    f: &RuleFacts,
    by_indicator: &HashMap<&NormalizedIndicator, Vec<u32>>,
    by_technique: &HashMap<&str, Vec<u32>>,
    links: &[(u32, String)],
    limit: usize,
) -> Vec<(u32, f64, Vec<String>)> {
    let mut scores: HashMap<u32, (f64, Vec<String>)> = HashMap::new();
    let weight = |n: usize| 1.0 / (1.0 + n as f64).log2();
    for key in indicator_keys(f) {
        let Some(sharing) = by_indicator.get(key) else {
            continue;
        };
        if sharing.len() < 2 || sharing.len() > RELATED_MAX_SHARED {
            continue;
        }
        let w = weight(sharing.len());
        for &j in sharing.iter().filter(|&&j| j != i) {
            let e = scores.entry(j).or_default();
            e.0 += w;
            e.1.push(format!(
                "indicator:{} {} {}",
                key.field, key.kind, key.value
            ));
        }
    }
    for t in &f.techniques {
        let Some(sharing) = by_technique.get(t.as_str()) else {
            continue;
        };
        if sharing.len() < 2 || sharing.len() > RELATED_MAX_SHARED {
            continue;
        }
        let w = weight(sharing.len());
        for &j in sharing.iter().filter(|&&j| j != i) {
            let e = scores.entry(j).or_default();
            e.0 += w;
            e.1.push(format!("technique:{t}"));
        }
    }
    for (j, kind) in links {
        let e = scores.entry(*j).or_default();
        e.0 += RELATED_LINK_WEIGHT;
        e.1.push(format!("related:{kind}"));
    }
    let mut ranked: Vec<(u32, f64, Vec<String>)> = scores
        .into_iter()
        .map(|(j, (s, reasons))| (j, (s * 100.0).round() / 100.0, reasons))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(limit);
    for r in &mut ranked {
        r.2.sort();
        r.2.dedup();
    }
    ranked
}

/// `path` relative to the corpus path it was found under (the longest that holds it); a
/// corpus path that is a file shows as its name, and a path under none of them (a rule
/// added on its own) by its file name alone.
pub fn shown_path(path: &Path, roots: &[PathBuf]) -> PathBuf {
    let under = roots
        .iter()
        .filter_map(|root| path.strip_prefix(root).ok())
        .min_by_key(|rest| rest.components().count());
    match under {
        Some(rest) if rest.components().next().is_some() => rest.to_path_buf(),
        _ => path.file_name().map_or_else(PathBuf::new, PathBuf::from),
    }
}

/// Unique, URL-safe keys: the id (or file stem), sanitised, with `-2`, `-3` for repeats.
fn rule_keys(rules: &[LoadedRule]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    rules
        .iter()
        .map(|r| {
            let base = r.rule.id.clone().unwrap_or_else(|| {
                r.path
                    .file_stem()
                    .map_or_else(|| "rule".into(), |s| s.to_string_lossy().into_owned())
            });
            let mut key: String = base
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "._-".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if key.is_empty() || key.starts_with('.') {
                key.insert(0, 'r');
            }
            let n = seen.entry(key.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                key = format!("{key}-{n}");
            }
            key
        })
        .collect()
}

fn catalog_rule(l: LoadedRule, analysis: Analysis, key: String) -> CatalogRule {
    let LoadedRule {
        rule,
        steps,
        path,
        source,
    } = l;
    let index = rule
        .custom
        .get("index")
        .and_then(|j| serde_json::from_str::<Vec<String>>(j).ok())
        .unwrap_or_default();
    let r: &Rule = &rule;
    CatalogRule {
        key,
        id: r.id.clone(),
        title: r.title.clone(),
        language: r.language,
        path,
        source,
        description: r.description.clone(),
        status: r.status.map(|s| s.name().to_string()),
        level: r.level.map(|l| l.name().to_string()),
        author: r.author.clone(),
        date: r.date.clone(),
        modified: r.modified.clone(),
        references: r.references.clone(),
        falsepositives: r.falsepositives.clone(),
        tags: r.tags.clone(),
        logsource: r.logsource.clone(),
        related_links: r.related.clone(),
        query: r.query.clone(),
        index,
        not_evaluable: r.not_evaluable.iter().map(|n| n.reason.clone()).collect(),
        analysis,
        fired_by: Vec::new(),
        ir: rule,
        steps,
    }
}

/// The ATT&CK techniques (upper case) and tactic short names of one rule.
struct RuleAttack {
    techniques: BTreeSet<String>,
    tactics: BTreeSet<String>,
}

/// Tactics and techniques with the rules and tests of each.
fn coverage(
    rules: &[CatalogRule],
    atomics: &[crate::model::AtomicEntry],
    facts: &[RuleAttack],
    attack: &crate::attack::AttackData,
) -> (Vec<TacticEntry>, Vec<TechniqueEntry>) {
    let mut techniques: BTreeMap<String, TechniqueEntry> = BTreeMap::new();
    let entry = |id: &str| {
        let known = attack.technique(id);
        TechniqueEntry {
            id: id.to_string(),
            name: known.map(|t| t.name.clone()),
            parent: id.split_once('.').map(|(p, _)| p.to_string()),
            tactics: known.map(|t| t.tactics.clone()).unwrap_or_default(),
            url: known.map_or_else(
                || {
                    format!(
                        "https://attack.mitre.org/techniques/{}/",
                        id.replace('.', "/")
                    )
                },
                |t| t.url.clone(),
            ),
            platforms: known.map(|t| t.platforms.clone()).unwrap_or_default(),
            known: known.is_some(),
            retired: known.is_some_and(|t| t.retired),
            rules: Vec::new(),
            tests: Vec::new(),
        }
    };
    for t in attack.techniques().filter(|t| !t.retired) {
        techniques.insert(t.id.clone(), entry(&t.id));
    }
    for (r, f) in rules.iter().zip(facts) {
        for t in &f.techniques {
            techniques
                .entry(t.clone())
                .or_insert_with(|| entry(t))
                .rules
                .push(r.key.clone());
        }
    }
    for a in atomics {
        techniques
            .entry(a.technique.clone())
            .or_insert_with(|| entry(&a.technique))
            .tests
            .push(a.guid.clone());
    }

    let by_tactic = attack.techniques_by_tactic();
    let mut tactic_rules: BTreeMap<&str, usize> = BTreeMap::new();
    for f in facts {
        for t in &f.tactics {
            *tactic_rules.entry(t.as_str()).or_default() += 1;
        }
    }
    let mut tactics: Vec<TacticEntry> = attack
        .tactics()
        .into_iter()
        .map(|t| TacticEntry {
            id: Some(t.id.clone()),
            shortname: t.shortname.clone(),
            name: t.name.clone(),
            techniques: by_tactic.get(&t.shortname).cloned().unwrap_or_default(),
            rules: tactic_rules.get(t.shortname.as_str()).copied().unwrap_or(0),
        })
        .collect();
    for (name, n) in &tactic_rules {
        if attack.tactic(name).is_none() {
            tactics.push(TacticEntry {
                id: None,
                shortname: (*name).to_string(),
                name: (*name).to_string(),
                techniques: Vec::new(),
                rules: *n,
            });
        }
    }
    (tactics, techniques.into_values().collect())
}
