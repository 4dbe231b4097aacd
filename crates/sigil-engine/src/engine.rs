//! The compiled [`Engine`] and how rules get into it.

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use sigil_core::fold::flatten;
use sigil_core::{Expr, Rule, RuleBody};

use crate::compile::{FieldId, FieldTable, Lit, Node, PredTable};
use crate::correlation::{self, CompiledCorrelation, CorrelationHits, WindowHit, WindowKey};
use crate::error::CompileError;
use crate::index::{LogsourceIndex, take_logsource};
use crate::prefilter::Prefilters;
use crate::scan::Scan;
use crate::sink::{RuleInfo, Sink, SummaryFields};
use crate::time::Micros;

/// Settings of an engine.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The field holding the log channel (the index key pipelines add conditions on).
    pub channel_field: String,
    /// The field holding the event id.
    pub event_id_field: String,
    /// The fields that identify an event in detections and give correlations their time.
    pub summary_fields: SummaryFields,
    /// Whether to use the literal prefilter (on by default; off only to measure it).
    pub prefilter: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            channel_field: "Channel".into(),
            event_id_field: "EventID".into(),
            summary_fields: SummaryFields::default(),
            prefilter: true,
        }
    }
}

/// A rule the engine could not compile, and why. It was skipped; the others work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRule {
    /// The rule's position in the list given to [`Engine::compile`].
    pub index: usize,
    /// The rule id.
    pub id: Option<String>,
    /// The title.
    pub title: String,
    /// Why it was skipped.
    pub error: CompileError,
}

/// One compiled detection rule.
#[derive(Debug)]
pub(crate) struct CompiledRule {
    pub(crate) info: Arc<RuleInfo>,
    pub(crate) node: Node,
    /// Whether the prefilter decides if the rule is evaluated at all.
    pub(crate) prefiltered: bool,
    /// Whether a match is reported (rules only used by non-generating correlations are not).
    pub(crate) emits: bool,
    /// `(correlation, position of this rule in its list)` for each correlation using it.
    pub(crate) links: Vec<(u32, u32)>,
}

/// Rules compiled into an immutable matcher.
///
/// Build one with [`Engine::compile`], then give each thread a [`Scan`] from
/// [`Engine::scan`] and feed it events. The engine is `Send + Sync` and never changes
/// after it is built.
#[derive(Debug)]
pub struct Engine {
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) preds: PredTable,
    pub(crate) fields: FieldTable,
    pub(crate) index: LogsourceIndex,
    /// The literal prefilter (empty when it is off).
    pub(crate) prefilters: Prefilters,
    pub(crate) correlations: Vec<CompiledCorrelation>,
    pub(crate) channel_field: FieldId,
    pub(crate) event_id_field: FieldId,
    pub(crate) options: EngineOptions,
    skipped: Vec<SkippedRule>,
    filters: usize,
}

impl Engine {
    /// Compiles `rules` (already processed by their pipelines). Rules that cannot be
    /// compiled are skipped and listed by [`Engine::skipped`].
    pub fn compile(rules: &[Rule], options: EngineOptions) -> Engine {
        let mut fields = FieldTable::default();
        let channel_field = fields.intern(&options.channel_field);
        let event_id_field = fields.intern(&options.event_id_field);
        let mut engine = Engine {
            rules: Vec::new(),
            preds: PredTable::default(),
            fields,
            index: LogsourceIndex::default(),
            prefilters: Prefilters::default(),
            correlations: Vec::new(),
            channel_field,
            event_id_field,
            options,
            skipped: Vec::new(),
            filters: 0,
        };
        let skip = |engine: &mut Engine, index: usize, rule: &Rule, error: CompileError| {
            engine.skipped.push(SkippedRule {
                index,
                id: rule.id.clone(),
                title: rule.title.clone(),
                error,
            });
        };

        // Filters, by the reference they name.
        let mut filters: HashMap<&str, Vec<(usize, Expr)>> = HashMap::default();
        let mut filter_used: HashMap<usize, bool> = HashMap::default();
        for (i, rule) in rules.iter().enumerate() {
            if let RuleBody::Filter(f) = &rule.body {
                if let Some(reason) = rule.not_evaluable.first() {
                    skip(
                        &mut engine,
                        i,
                        rule,
                        CompileError::NotEvaluable(reason.reason.clone()),
                    );
                    continue;
                }
                let expr = f.detection.to_expr();
                for r in &f.rules {
                    filters
                        .entry(r.reference.as_str())
                        .or_default()
                        .push((i, expr.clone()));
                }
                filter_used.insert(i, false);
            }
        }

        // Detection rules.
        // A reference may name several compiled rules: one rule processed by alternative
        // pipelines (Sysmon and Security audit) is one matcher per log source mapping.
        let mut by_reference: HashMap<&str, Vec<u32>> = HashMap::default();
        let mut keys = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let RuleBody::Detection(detection) = &rule.body else {
                continue;
            };
            if let Some(reason) = rule.not_evaluable.first() {
                skip(
                    &mut engine,
                    i,
                    rule,
                    CompileError::NotEvaluable(reason.reason.clone()),
                );
                continue;
            }
            let mut expr = detection.to_expr();
            let applied: Vec<&(usize, Expr)> = [rule.id.as_deref(), rule.name.as_deref()]
                .into_iter()
                .flatten()
                .filter_map(|r| filters.get(r))
                .flatten()
                .collect();
            if !applied.is_empty() {
                let mut all = vec![expr];
                for (fi, fexpr) in applied {
                    filter_used.insert(*fi, true);
                    all.push(Expr::Not(Box::new(fexpr.clone())));
                }
                expr = Expr::And(all);
            }
            let (key, rest) = take_logsource(
                flatten(expr),
                &engine.options.channel_field,
                &engine.options.event_id_field,
            );
            match engine.preds.compile_expr(&rest, &mut engine.fields) {
                Ok(node) => {
                    let idx = engine.rules.len() as u32;
                    for r in [rule.id.as_deref(), rule.name.as_deref()]
                        .into_iter()
                        .flatten()
                    {
                        by_reference.entry(r).or_default().push(idx);
                    }
                    engine.rules.push(CompiledRule {
                        info: Arc::new(RuleInfo::of(i, rule)),
                        node,
                        prefiltered: false,
                        emits: true,
                        links: Vec::new(),
                    });
                    keys.push(key);
                }
                Err(e) => skip(&mut engine, i, rule, e),
            }
        }
        let mut unused: Vec<usize> = filter_used
            .iter()
            .filter(|&(_, used)| !used)
            .map(|(&i, _)| i)
            .collect();
        unused.sort_unstable();
        for i in unused {
            let rule = &rules[i];
            let names = match &rule.body {
                RuleBody::Filter(f) => f
                    .rules
                    .iter()
                    .map(|r| r.reference.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            };
            skip(&mut engine, i, rule, CompileError::UnknownRule(names));
        }
        engine.filters = filter_used.values().filter(|&&u| u).count();

        // Correlations.
        let mut generates: HashMap<u32, bool> = HashMap::default();
        for (i, rule) in rules.iter().enumerate() {
            let RuleBody::Correlation(c) = &rule.body else {
                continue;
            };
            match compile_correlation(i, rule, c, &by_reference, &engine.rules, rules) {
                Ok(compiled) => {
                    let ci = engine.correlations.len() as u32;
                    for (pos, r) in c.rules.iter().enumerate() {
                        let variants = by_reference
                            .get(r.reference.as_str())
                            .map_or(&[][..], Vec::as_slice);
                        for &base in variants {
                            engine.rules[base as usize].links.push((ci, pos as u32));
                            *generates.entry(base).or_insert(false) |= c.generate;
                        }
                    }
                    engine.correlations.push(compiled);
                }
                Err(e) => skip(&mut engine, i, rule, e),
            }
        }
        for (base, generate) in generates {
            engine.rules[base as usize].emits = generate;
        }

        for (i, key) in keys.iter().enumerate() {
            engine.index.insert(key, i as u32);
        }
        let combos = engine.index.finalize();
        if engine.options.prefilter {
            let rule_clauses: Vec<Option<Vec<Vec<Lit>>>> = engine
                .rules
                .iter()
                .map(|r| engine.preds.required_clauses(&r.node))
                .collect();
            for (rule, clauses) in engine.rules.iter_mut().zip(&rule_clauses) {
                rule.prefiltered = clauses.is_some();
            }
            engine.prefilters = Prefilters::build(&rule_clauses, &engine.fields, &combos);
        }
        engine.skipped.sort_by_key(|s| s.index);
        engine
    }

    /// The rules that were skipped, in input order, with the reason.
    pub fn skipped(&self) -> &[SkippedRule] {
        &self.skipped
    }

    /// The rules that matched nothing because one of their regular expressions could not
    /// be built when first needed (its compiled form exceeds the `regex` crate's size
    /// limit, which only building it tells). Expressions are built on first use, so ask
    /// after the events are evaluated; report these with [`Engine::skipped`].
    pub fn failed_while_matching(&self) -> Vec<SkippedRule> {
        let failed: Vec<Option<(&str, &str)>> = self
            .preds
            .preds
            .iter()
            .map(|p| p.test.regex_failure())
            .collect();
        if failed.iter().all(Option::is_none) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for rule in &self.rules {
            if let Some((pattern, message)) = first_failure(&rule.node, &failed) {
                out.push(SkippedRule {
                    index: rule.info.index,
                    id: rule.info.id.clone(),
                    title: rule.info.title.clone(),
                    error: CompileError::RegexTooLarge {
                        pattern: pattern.to_string(),
                        message: message.to_string(),
                    },
                });
            }
        }
        out
    }

    /// The number of compiled detection rules.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The number of compiled correlation rules.
    pub fn correlation_count(&self) -> usize {
        self.correlations.len()
    }

    /// The number of filters applied to at least one rule.
    pub fn filter_count(&self) -> usize {
        self.filters
    }

    /// The number of rules the literal prefilter guards.
    pub fn prefiltered_rule_count(&self) -> usize {
        self.rules.iter().filter(|r| r.prefiltered).count()
    }

    /// The number of distinct compiled predicates.
    pub fn predicate_count(&self) -> usize {
        self.preds.preds.len()
    }

    /// The options the engine was built with.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// A new evaluation state for one thread.
    pub fn scan(&self) -> Scan<'_> {
        Scan::new(self)
    }

    /// Evaluates the correlations over the hits buffered by scans (merge them first
    /// with [`CorrelationHits::merge`]) and emits their detections.
    pub fn finish(&self, hits: CorrelationHits, sink: &mut dyn Sink) {
        if self.correlations.is_empty() {
            return;
        }
        let infos: Vec<Arc<RuleInfo>> = self.rules.iter().map(|r| r.info.clone()).collect();
        correlation::evaluate(&self.correlations, &infos, hits.hits, sink);
    }

    /// Live correlation: adds `hit` to `window`, the open window of `key` that the caller
    /// keeps (empty for a new group), and emits the correlation's detection when its
    /// condition holds, emptying the window. See [`crate::correlation`]. A key that names
    /// no correlation of this engine is ignored (returns `false`).
    pub fn advance_window(
        &self,
        key: &WindowKey,
        window: &mut Vec<WindowHit>,
        hit: WindowHit,
        sink: &mut dyn Sink,
    ) -> bool {
        let Some(c) = self.correlations.get(key.correlation as usize) else {
            return false;
        };
        let info = |rule: u32| Arc::clone(&self.rules[rule as usize].info);
        correlation::advance(c, &info, &key.group, window, hit, sink)
    }

    /// The correlation at `index` among the engine's correlations (what
    /// [`WindowKey::correlation`] counts), and its timespan in microseconds.
    pub fn correlation(&self, index: u32) -> Option<(&RuleInfo, Micros)> {
        self.correlations
            .get(index as usize)
            .map(|c| (&*c.info, c.timespan))
    }

    /// Evaluates every event and then the correlations: the whole run on one thread.
    pub fn run<'a>(
        &self,
        events: impl IntoIterator<Item = &'a dyn sigil_logs::Event>,
        sink: &mut dyn Sink,
    ) {
        let mut scan = self.scan();
        for e in events {
            scan.event(e, sink);
        }
        self.finish(scan.into_hits(), sink);
    }
}

fn compile_correlation(
    index: usize,
    rule: &Rule,
    c: &sigil_core::Correlation,
    by_reference: &HashMap<&str, Vec<u32>>,
    compiled: &[CompiledRule],
    rules: &[Rule],
) -> Result<CompiledCorrelation, CompileError> {
    let mut bases = Vec::with_capacity(c.rules.len());
    for r in &c.rules {
        let reference = r.reference.as_str();
        if let Some(&b) = by_reference.get(reference).and_then(|v| v.first()) {
            bases.push(b);
        } else {
            {
                let is_correlation = rules.iter().any(|x| {
                    matches!(x.body, RuleBody::Correlation(_))
                        && (x.id.as_deref() == Some(reference)
                            || x.name.as_deref() == Some(reference))
                });
                return Err(if is_correlation {
                    CompileError::unsupported("a correlation of correlations")
                } else {
                    CompileError::UnknownRule(reference.to_string())
                }
                .at(r.span));
            }
        }
    }
    if bases.is_empty() {
        return Err(CompileError::unsupported("a correlation without rules"));
    }
    if let Some(cond) = &c.condition
        && !correlation::valid_condition(cond)
    {
        return Err(CompileError::unsupported(
            "a correlation condition operator",
        ));
    }
    let value_name = c.condition.as_ref().and_then(|x| x.field.clone());
    if c.kind.needs_field() && value_name.is_none() {
        return Err(CompileError::unsupported(format!(
            "`{}` without a condition field",
            c.kind.name()
        )));
    }
    // A name in group-by or the condition may be an alias, mapped per base rule.
    let resolve = |name: &str, base: u32| -> String {
        let info = &compiled[base as usize].info;
        c.aliases
            .iter()
            .find(|a| a.alias == name)
            .and_then(|a| {
                a.mapping.iter().find(|(r, _)| {
                    info.id.as_deref() == Some(r.as_str())
                        || info.name.as_deref() == Some(r.as_str())
                })
            })
            .map_or_else(|| name.to_string(), |(_, f)| f.clone())
    };
    let timespan: Micros = i64::try_from(c.timespan_secs)
        .unwrap_or(i64::MAX / 1_000_000)
        .saturating_mul(1_000_000);
    Ok(CompiledCorrelation {
        info: Arc::new(RuleInfo::of(index, rule)),
        kind: c.kind,
        group_fields: bases
            .iter()
            .map(|&b| c.group_by.iter().map(|g| resolve(g, b)).collect())
            .collect(),
        value_fields: bases
            .iter()
            .map(|&b| value_name.as_deref().map(|v| resolve(v, b)))
            .collect(),
        bases,
        group_names: c.group_by.clone(),
        timespan,
        condition: c.condition.clone(),
    })
}

/// The first failed regular expression among the predicates of `node`.
fn first_failure<'a>(
    node: &Node,
    failed: &[Option<(&'a str, &'a str)>],
) -> Option<(&'a str, &'a str)> {
    match node {
        Node::Const(_) => None,
        Node::Pred(i) => failed[*i as usize],
        Node::Not(n) => first_failure(n, failed),
        Node::And(v) | Node::Or(v) => v.iter().find_map(|n| first_failure(n, failed)),
    }
}
