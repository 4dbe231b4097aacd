//! The analysis of one rule on its own: stages, exclusions, indicators (before corpus
//! counts), ATT&CK and the data it needs. Works on the IR only, so Sigma and Elastic rules
//! are analysed by the same code.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use sigil_core::fold::{flatten, top_level_exclusions};
use sigil_core::{AttackRef, Condition, Detection, Expr, Predicate, Rule, RuleBody, RuleLanguage};
use sigil_pipeline::{PipelineSet, builtin, logsource_keys};

use crate::attack::AttackData;
use crate::indicator::{display, normalize};
use crate::model::{AttackEntry, DataNeeded, Exclusion, Indicator, NormalizedIndicator, Stage};

/// The built-in pipeline combinations the analysis uses, built once.
#[derive(Debug)]
pub struct Pipelines {
    /// `ecs_windows`: Sigma field names to ECS, for comparing indicators across languages.
    pub ecs: PipelineSet,
    /// Ways to collect a rule's events, each a name and the pipelines that describe it.
    pub sources: Vec<(&'static str, PipelineSet)>,
}

impl Pipelines {
    /// The built-in pipelines. A missing built-in (it cannot be, they are compiled in)
    /// leaves its combination out rather than failing.
    pub fn builtin() -> Self {
        let set =
            |names: &[&str]| PipelineSet::new(names.iter().filter_map(|n| builtin(n)).collect());
        Self {
            ecs: set(&["ecs_windows"]),
            sources: vec![
                ("sysmon", set(&["sysmon", "windows-logsources"])),
                (
                    "windows-audit",
                    set(&["windows-audit", "windows-logsources"]),
                ),
                ("windows-logsources", set(&["windows-logsources"])),
            ],
        }
    }
}

/// What the analysis finds in one rule before the corpus is known.
#[derive(Debug, Clone, Default)]
pub struct RuleFacts {
    /// Stages.
    pub stages: Vec<Stage>,
    /// Exclusions.
    pub exclusions: Vec<Exclusion>,
    /// Indicators with zero counts.
    pub indicators: Vec<Indicator>,
    /// ATT&CK entries.
    pub attack: Vec<AttackEntry>,
    /// Data needed.
    pub data_needed: Vec<DataNeeded>,
    /// Technique ids of the rule (upper case).
    pub techniques: BTreeSet<String>,
    /// Tactic short names of the rule.
    pub tactics: BTreeSet<String>,
    /// ATT&CK tags the data does not know.
    pub unresolved: Vec<String>,
}

/// Analyses `rule` (with the step rules of an Elastic sequence).
pub fn analyze(
    rule: &Rule,
    steps: &[Rule],
    pipelines: &Pipelines,
    attack: &AttackData,
) -> RuleFacts {
    let mut facts = RuleFacts::default();
    match &rule.body {
        RuleBody::Detection(d) => detection_facts(rule, d, pipelines, &mut facts, None),
        RuleBody::Filter(f) => detection_facts(rule, &f.detection, pipelines, &mut facts, None),
        RuleBody::Correlation(c) => {
            let refs: Vec<&str> = c.rules.iter().map(|r| r.reference.as_str()).collect();
            let mut text = format!("{}({})", c.kind.name(), refs.join(", "));
            if !c.group_by.is_empty() {
                let _ = write!(text, " by {}", c.group_by.join(", "));
            }
            if !c.timespan.is_empty() {
                let _ = write!(text, " within {}", c.timespan);
            }
            facts.stages.push(Stage {
                name: "condition".into(),
                expr: text,
            });
            for r in &c.rules {
                let Some(step) = steps.iter().find(|s| {
                    s.id.as_deref() == Some(r.reference.as_str())
                        || s.name.as_deref() == Some(r.reference.as_str())
                }) else {
                    continue;
                };
                if let Some(d) = step.detection() {
                    let name = r.reference.rsplit('#').next().unwrap_or(&r.reference);
                    facts.stages.push(Stage {
                        name: name.to_string(),
                        expr: render_expr(&flatten(d.to_expr())),
                    });
                    // A step's exclusions are the sequence's: its events are never
                    // that step's.
                    exclusions(&flatten(d.to_expr()), &mut facts.exclusions);
                    let mut inner = RuleFacts::default();
                    detection_facts(step, d, pipelines, &mut inner, Some(name));
                    facts.indicators.extend(inner.indicators);
                    facts.data_needed.extend(inner.data_needed);
                }
            }
            facts.data_needed.dedup();
        }
    }
    if rule.language == RuleLanguage::Elastic {
        facts.data_needed.retain(|d| d.via != "elastic-index");
        facts.data_needed.push(elastic_index(rule, &facts));
    }
    attack_facts(rule, attack, &mut facts);
    facts
}

fn detection_facts(
    rule: &Rule,
    d: &Detection,
    pipelines: &Pipelines,
    facts: &mut RuleFacts,
    step: Option<&str>,
) {
    if step.is_none() {
        let text: Vec<String> = d.conditions.iter().map(render_condition).collect();
        facts.stages.push(Stage {
            name: "condition".into(),
            expr: text.join(" | "),
        });
    }
    // Searches in order of first use, with the polarity of that use.
    let mut used: Vec<(usize, bool)> = Vec::new();
    for c in &d.conditions {
        searches_used(d, c, false, &mut used);
    }
    if step.is_none() {
        for &(i, negated) in &used {
            let s = &d.searches[i];
            facts.stages.push(Stage {
                name: if negated {
                    format!("not {}", s.name)
                } else {
                    s.name.clone()
                },
                expr: render_expr(&s.expr),
            });
        }
        exclusions(&flatten(d.to_expr()), &mut facts.exclusions);
    }

    let mapped = mapped_fields(rule, d, pipelines);
    for &(i, negated) in &used {
        let s = &d.searches[i];
        let fields = mapped.get(&s.name);
        let mut index = 0;
        walk_predicates(&s.expr, negated, &mut |p, neg| {
            let mapped_field = fields
                .and_then(|f| f.get(index).cloned())
                .flatten()
                .or_else(|| p.field.clone());
            index += 1;
            for v in &p.values {
                let (kind, value) = display(p, v);
                facts.indicators.push(Indicator {
                    field: p.field.clone(),
                    kind: kind.to_string(),
                    value,
                    negated: neg,
                    corpus: 0,
                    corpus_by_source: crate::model::SourceCounts::default(),
                    normalized: normalize(p, mapped_field.as_deref(), v),
                });
            }
        });
    }
    // The same value in two searches is one indicator.
    let mut seen: BTreeSet<(Option<String>, String, String, bool)> = BTreeSet::new();
    facts
        .indicators
        .retain(|i| seen.insert((i.field.clone(), i.kind.clone(), i.value.clone(), i.negated)));

    facts.data_needed.extend(data_needed(rule, pipelines));
}

fn walk_predicates<'a>(e: &'a Expr, negated: bool, f: &mut impl FnMut(&'a Predicate, bool)) {
    match e {
        Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| walk_predicates(e, negated, f)),
        Expr::Not(e) => walk_predicates(e, !negated, f),
        Expr::Pred(p) => f(p, negated),
    }
}

/// The field names of each search's predicates after `ecs_windows`, in predicate order;
/// `None` where the processed search does not line up with the original.
fn mapped_fields(
    rule: &Rule,
    d: &Detection,
    pipelines: &Pipelines,
) -> HashMap<String, Vec<Option<String>>> {
    let mut out = HashMap::new();
    if rule.language != RuleLanguage::Sigma || !is_windows(rule) {
        return out;
    }
    // Only the detection matters for names; a rule with just this detection keeps the
    // pipeline's logsource conditions meaningful.
    let mut probe = rule.clone();
    probe.body = RuleBody::Detection(d.clone());
    let Ok(processed) = pipelines.ecs.apply(&probe) else {
        return out;
    };
    let Some(pd) = processed.detection() else {
        return out;
    };
    for s in &d.searches {
        let Some(ps) = pd.search(&s.name) else {
            continue;
        };
        let before = s.expr.predicates();
        let after = ps.expr.predicates();
        if before.len() == after.len() {
            out.insert(
                s.name.clone(),
                after.iter().map(|p| p.field.clone()).collect(),
            );
        }
    }
    out
}

fn is_windows(rule: &Rule) -> bool {
    rule.logsource
        .product
        .as_deref()
        .is_some_and(|p| p.eq_ignore_ascii_case("windows"))
}

fn searches_used(d: &Detection, c: &Condition, negated: bool, out: &mut Vec<(usize, bool)>) {
    let mut push = |i: usize| {
        if !out.iter().any(|(j, _)| *j == i) {
            out.push((i, negated));
        }
    };
    match c {
        Condition::And(v) | Condition::Or(v) => {
            for c in v {
                searches_used(d, c, negated, out);
            }
        }
        Condition::Not(c) => searches_used(d, c, !negated, out),
        Condition::Search { name, .. } => {
            if let Some(i) = d.searches.iter().position(|s| s.name == *name) {
                push(i);
            }
        }
        Condition::OneOf(sel) | Condition::AllOf(sel) => {
            for i in d.selected(sel) {
                push(i);
            }
        }
    }
}

/// The predicates a rule suppresses: those of its top-level `NOT` conjuncts (`selection
/// and not (filter_a or filter_b)`) and its top-level `neq` conjuncts (EQL's `!=` and
/// `not in`), one row per field and kind (values sorted case-insensitively), added to
/// `out` (identical rows merged).
fn exclusions(expr: &Expr, out: &mut Vec<Exclusion>) {
    let conjuncts = match expr {
        Expr::And(v) => v.as_slice(),
        other => std::slice::from_ref(other),
    };
    let not_equal = conjuncts.iter().filter_map(|e| match e {
        Expr::Pred(p) if p.op == sigil_core::Op::NotEquals => Some(p),
        _ => None,
    });
    let negated = top_level_exclusions(expr)
        .into_iter()
        .flat_map(Expr::predicates);
    for p in negated.chain(not_equal) {
        for v in &p.values {
            let (kind, text) = display(p, v);
            match out
                .iter_mut()
                .find(|e| e.field == p.field && e.kind == kind)
            {
                Some(e) => e.values.push(text),
                None => out.push(Exclusion {
                    field: p.field.clone(),
                    kind: kind.to_string(),
                    values: vec![text],
                }),
            }
        }
    }
    for e in out.iter_mut() {
        e.values.sort_by_key(|v| v.to_lowercase());
        e.values.dedup();
    }
}

/// A condition as text: `not` binds tighter than `and`, `and` tighter than `or`.
pub fn render_condition(c: &Condition) -> String {
    fn go(c: &Condition, parent: u8) -> String {
        let (text, prec) = match c {
            Condition::Or(v) => (
                v.iter().map(|c| go(c, 1)).collect::<Vec<_>>().join(" or "),
                1,
            ),
            Condition::And(v) => (
                v.iter().map(|c| go(c, 2)).collect::<Vec<_>>().join(" and "),
                2,
            ),
            Condition::Not(c) => (format!("not {}", go(c, 3)), 3),
            Condition::Search { name, .. } => (name.clone(), 4),
            Condition::OneOf(s) => (format!("1 of {}", s.pattern), 4),
            Condition::AllOf(s) => (format!("all of {}", s.pattern), 4),
        };
        if prec < parent {
            format!("({text})")
        } else {
            text
        }
    }
    go(c, 0)
}

/// A search expression as text: `Field kind 'value'`, several values as
/// `Field kind ('a', 'b')` (any) or `Field kind all('a', 'b')`.
pub fn render_expr(e: &Expr) -> String {
    fn go(e: &Expr, parent: u8) -> String {
        let (text, prec) = match e {
            Expr::Or(v) if v.is_empty() => ("false".to_string(), 4),
            Expr::And(v) if v.is_empty() => ("true".to_string(), 4),
            Expr::Or(v) => (
                v.iter().map(|e| go(e, 1)).collect::<Vec<_>>().join(" or "),
                1,
            ),
            Expr::And(v) => (
                v.iter().map(|e| go(e, 2)).collect::<Vec<_>>().join(" and "),
                2,
            ),
            Expr::Not(e) => (format!("not {}", go(e, 3)), 3),
            Expr::Pred(p) => (render_predicate(p), 4),
        };
        if prec < parent {
            format!("({text})")
        } else {
            text
        }
    }
    go(e, 0)
}

fn render_predicate(p: &Predicate) -> String {
    let shown: Vec<(&str, String)> = p.values.iter().map(|v| display(p, v)).collect();
    let field = p.field.as_deref().unwrap_or("keyword");
    let negate = if p.op == sigil_core::Op::NotEquals {
        "not "
    } else {
        ""
    };
    let quote = |v: &str| format!("'{}'", v.replace('\'', "''"));
    let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
    for (kind, value) in shown {
        match groups.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, vals)) => vals.push(quote(&value)),
            None => groups.push((kind, vec![quote(&value)])),
        }
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|(kind, vals)| {
            let kind = if p.field.is_none() {
                String::new()
            } else {
                format!(" {kind}")
            };
            match vals.as_slice() {
                [one] => format!("{negate}{field}{kind} {one}"),
                many if p.flags.all => format!("{negate}{field}{kind} all({})", many.join(", ")),
                many => format!("{negate}{field}{kind} ({})", many.join(", ")),
            }
        })
        .collect();
    match parts.len() {
        0 => format!("{field} (no value)"),
        1 => parts.into_iter().next().unwrap_or_default(),
        _ if p.flags.all => format!("({})", parts.join(" and ")),
        _ => format!("({})", parts.join(" or ")),
    }
}

/// The ways to collect a Windows rule's events, one per built-in pipeline combination
/// that gives the rule a channel; identical requirements are listed once.
fn data_needed(rule: &Rule, pipelines: &Pipelines) -> Vec<DataNeeded> {
    let mut out: Vec<DataNeeded> = Vec::new();
    if rule.language != RuleLanguage::Sigma || !is_windows(rule) {
        return out;
    }
    for (via, set) in &pipelines.sources {
        let Ok(processed) = set.apply(rule) else {
            continue;
        };
        let keys = logsource_keys(&processed);
        let Some(channels) = keys.channels else {
            continue;
        };
        let event_ids: Vec<i64> = keys
            .event_ids
            .map(|s| s.into_iter().collect())
            .unwrap_or_default();
        let mut fields: BTreeSet<String> = BTreeSet::new();
        if let Some(d) = processed.detection() {
            for s in d.searches.iter().filter(|s| !s.name.starts_with("_cond")) {
                s.expr.for_each_predicate(&mut |p| {
                    if let Some(f) = &p.field {
                        fields.insert(f.clone());
                    }
                });
            }
        }
        for channel in channels {
            if out
                .iter()
                .any(|d| d.channel.as_deref() == Some(&channel) && d.event_ids == event_ids)
            {
                continue;
            }
            // Security 4688 carries the command line only when process-creation
            // auditing is told to include it; the rule needs it if it reads the field.
            let note = (channel.eq_ignore_ascii_case("security")
                && event_ids.contains(&4688)
                && fields.iter().any(|f| f.eq_ignore_ascii_case("CommandLine")))
            .then(|| {
                "with command-line auditing (\"Include command line in process creation events\")"
                    .to_string()
            });
            let ids = event_ids
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let label = if ids.is_empty() {
                channel.clone()
            } else {
                format!("{channel} EventID {ids}")
            };
            out.push(DataNeeded {
                via: (*via).to_string(),
                channel: Some(channel),
                event_ids: event_ids.clone(),
                fields: fields.iter().cloned().collect(),
                index: Vec::new(),
                note,
                data_components: Vec::new(),
                label,
            });
        }
    }
    out
}

/// An Elastic rule needs the indices it queries and the fields it reads.
fn elastic_index(rule: &Rule, facts: &RuleFacts) -> DataNeeded {
    let index: Vec<String> = rule
        .custom
        .get("index")
        .and_then(|j| serde_json::from_str::<Vec<String>>(j).ok())
        .unwrap_or_default();
    let fields: BTreeSet<String> = facts
        .indicators
        .iter()
        .filter_map(|i| i.field.clone())
        .collect();
    let label = if index.is_empty() {
        "Elastic indices (not named by the rule)".to_string()
    } else {
        format!("Elastic index {}", index.join(", "))
    };
    DataNeeded {
        via: "elastic-index".into(),
        channel: None,
        event_ids: Vec::new(),
        fields: fields.into_iter().collect(),
        index,
        note: None,
        data_components: Vec::new(),
        label,
    }
}

/// Tactics and techniques with their ATT&CK names. Each technique is paired with the
/// rule's tactic it belongs to in ATT&CK (else the rule's first tactic); tactics no
/// technique took are listed alone. Tags ATT&CK does not know are kept, unresolved.
fn attack_facts(rule: &Rule, attack: &AttackData, facts: &mut RuleFacts) {
    let refs = rule.attack();
    let mut tactics: Vec<String> = Vec::new();
    let mut techniques: Vec<String> = Vec::new();
    for r in &refs {
        match r {
            AttackRef::Tactic(t) if !tactics.contains(t) => tactics.push(t.clone()),
            AttackRef::Technique(t) if !techniques.contains(t) => techniques.push(t.clone()),
            _ => {}
        }
    }
    for t in &tactics {
        if attack.tactic(t).is_none() && !attack.is_empty() {
            facts.unresolved.push(format!("attack.{t}"));
        }
    }
    for t in &techniques {
        if attack.technique(t).is_none() && !attack.is_empty() {
            facts
                .unresolved
                .push(format!("attack.{}", t.to_ascii_lowercase()));
        }
    }
    let tactic_entry = |t: &str| match attack.tactic(t) {
        Some(known) => (Some(known.name.clone()), Some(known.id.clone()), true),
        None => (Some(t.to_string()), None, false),
    };
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for t in &techniques {
        let known = attack.technique(t);
        let own = known.map(|k| k.tactics.clone()).or_else(|| {
            t.split_once('.')
                .and_then(|(p, _)| attack.technique(p))
                .map(|p| p.tactics.clone())
        });
        let tactic = own
            .and_then(|own| tactics.iter().find(|x| own.contains(x)).cloned())
            .or_else(|| tactics.first().cloned());
        let (tactic_name, tactic_id, tactic_known) = match &tactic {
            Some(x) => {
                taken.insert(x.clone());
                tactic_entry(x)
            }
            None => (None, None, true),
        };
        facts.attack.push(AttackEntry {
            tactic: tactic_name,
            tactic_id,
            technique: Some(t.clone()),
            name: attack.full_name(t),
            resolved: known.is_some() && tactic_known,
        });
    }
    for t in tactics.iter().filter(|t| !taken.contains(*t)) {
        let (name, id, known) = tactic_entry(t);
        facts.attack.push(AttackEntry {
            tactic: name,
            tactic_id: id,
            technique: None,
            name: None,
            resolved: known,
        });
    }
    facts.techniques = techniques.into_iter().collect();
    facts.tactics = tactics.into_iter().collect();
    for d in &mut facts.data_needed {
        if let Some(channel) = &d.channel {
            d.data_components = attack.components_for(channel, &d.event_ids);
        }
    }
}

/// Normalised indicators of a rule, deduplicated: what the corpus counts compare.
pub fn indicator_keys(facts: &RuleFacts) -> BTreeSet<&NormalizedIndicator> {
    facts.indicators.iter().map(|i| &i.normalized).collect()
}
