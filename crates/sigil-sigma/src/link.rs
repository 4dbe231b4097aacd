//! Linking meta rules (correlations, filters) to the rules they name.

use std::collections::HashMap;

use sigil_core::{CorrelationRef, Rule, RuleBody};

/// Every rule of a set by id and by name, to resolve the references of correlation
/// and filter rules across files.
#[derive(Debug, Default, Clone)]
pub struct RuleIndex {
    by_id: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
}

impl RuleIndex {
    /// Indexes `rules`; positions are indices into the iteration order. When an id or
    /// name is given twice, the first rule keeps it (duplicates are a lint of their own).
    pub fn new<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> Self {
        let mut index = Self::default();
        for (i, rule) in rules.into_iter().enumerate() {
            if let Some(id) = &rule.id {
                index.by_id.entry(id.clone()).or_insert(i);
            }
            if let Some(name) = &rule.name {
                index.by_name.entry(name.clone()).or_insert(i);
            }
        }
        index
    }

    /// The rule a reference names: by id first, then by name, as pySigma resolves them.
    pub fn resolve(&self, reference: &str) -> Option<usize> {
        self.by_id
            .get(reference)
            .or_else(|| self.by_name.get(reference))
            .copied()
    }

    /// The references of `rule` (a correlation or filter) that name no indexed rule.
    pub fn unresolved<'r>(&self, rule: &'r Rule) -> Vec<&'r CorrelationRef> {
        references(rule)
            .iter()
            .filter(|r| self.resolve(&r.reference).is_none())
            .collect()
    }
}

/// The rules a meta rule refers to (empty for plain detections).
pub fn references(rule: &Rule) -> &[CorrelationRef] {
    match &rule.body {
        RuleBody::Correlation(c) => &c.rules,
        RuleBody::Filter(f) => &f.rules,
        RuleBody::Detection(_) => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_str;

    #[test]
    fn references_resolve_by_id_or_name() {
        let text = "title: A\nid: 11111111-1111-1111-1111-111111111111\nname: rule_a\nlogsource: {product: x}\ndetection: {s: {a: 1}, condition: s}\n---\ntitle: C\ncorrelation:\n  type: temporal\n  rules: [rule_a, 11111111-1111-1111-1111-111111111111, nothing]\n  timespan: 5m\n";
        let file = parse_str(text);
        assert!(file.diagnostics.is_empty(), "{:?}", file.diagnostics);
        let index = RuleIndex::new(&file.rules);
        assert_eq!(index.resolve("rule_a"), Some(0));
        let missing: Vec<_> = index
            .unresolved(&file.rules[1])
            .iter()
            .map(|r| r.reference.as_str())
            .collect();
        assert_eq!(missing, ["nothing"]);
    }
}
