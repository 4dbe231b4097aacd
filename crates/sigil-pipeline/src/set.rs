//! Several pipelines applied as one, in pySigma's order.

use std::collections::BTreeMap;

use sigil_core::Rule;

use crate::apply::{Prepared, Processed, Work};
use crate::error::PipelineError;
use crate::model::Pipeline;

/// Pipelines applied together, as sigma-cli applies several `-p` options: ordered by
/// priority (ascending), ties in the order given, then run as one pipeline. Processing items
/// of a later pipeline see what the earlier ones did (their `processing_item_applied`
/// conditions, the state), and the variables are merged, later ones winning.
#[derive(Clone, Default)]
pub struct PipelineSet {
    pipelines: Vec<Pipeline>,
    vars: BTreeMap<String, Vec<String>>,
    /// What each item of the set (in running order) needs whatever the rule, worked out
    /// once here instead of for every rule.
    prepared: Vec<Prepared>,
}

impl std::fmt::Debug for PipelineSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `prepared` only repeats what the pipelines say.
        f.debug_struct("PipelineSet")
            .field("pipelines", &self.pipelines)
            .field("vars", &self.vars)
            .finish_non_exhaustive()
    }
}

impl PipelineSet {
    /// The set of `pipelines`, ordered by priority then by the order given.
    pub fn new(mut pipelines: Vec<Pipeline>) -> Self {
        // A stable sort keeps the given order among equal priorities.
        pipelines.sort_by_key(|p| p.priority);
        let mut vars = BTreeMap::new();
        for p in &pipelines {
            vars.extend(p.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let prepared = pipelines
            .iter()
            .flat_map(|p| &p.items)
            .map(Prepared::of)
            .collect();
        Self {
            pipelines,
            vars,
            prepared,
        }
    }

    /// The pipelines, in the order they run.
    pub fn pipelines(&self) -> &[Pipeline] {
        &self.pipelines
    }

    /// Whether there is no pipeline (then [`PipelineSet::apply`] returns the rule unchanged).
    pub fn is_empty(&self) -> bool {
        self.pipelines.is_empty()
    }

    /// Applies the pipelines to `rule`. A rule a pipeline rejects (`rule_failure`,
    /// `detection_item_failure`, unmapped fields under `strict_field_mapping_failure`, a
    /// placeholder without a value) is an `Err` naming the rule and the reason.
    pub fn apply(&self, rule: &Rule) -> Result<Rule, PipelineError> {
        self.process(rule).map(|p| p.rule)
    }

    /// Like [`PipelineSet::apply`], also returning the applied item ids and the pipeline
    /// state.
    pub fn process(&self, rule: &Rule) -> Result<Processed, PipelineError> {
        let mut work = Work::new(rule, &self.vars);
        let items = self.pipelines.iter().flat_map(|p| &p.items);
        for (item, prepared) in items.zip(&self.prepared) {
            work.apply_item(item, prepared)?;
        }
        Ok(work.finish())
    }
}
