//! Checks of correlation rules (SigmaHQ's conventions for them).

use sigil_core::correlation::CorrelationKind;
use sigil_core::{Diagnostic, Rule, RuleBody};

use super::{Lint, LintInfo, declare_lint};
use crate::RuleSource;

declare_lint! {
    /// A `temporal` or `temporal_ordered` correlation of fewer than two rules.
    ///
    /// Why: a temporal correlation says "these rules fire together"; with one rule it is
    /// an `event_count` of at least one, written the long way.
    ///
    /// Example: `type: temporal` with `rules: [brute_force]`.
    TemporalSingleRule, "temporal-single-rule", Warning, reader: false,
    pysigma: "sigmahq_correlation_rules_minimum", optional: true
}

impl Lint for TemporalSingleRule {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        if let RuleBody::Correlation(c) = &rule.body
            && matches!(
                c.kind,
                CorrelationKind::Temporal | CorrelationKind::TemporalOrdered
            )
            && c.rules.len() < 2
        {
            out.push(Self::at(
                source.span_of("correlation"),
                format!(
                    "a {} correlation of {} rule{}",
                    c.kind.name(),
                    c.rules.len(),
                    if c.rules.len() == 1 { "" } else { "s" }
                ),
            ));
        }
    }
}

declare_lint! {
    /// An `event_count`, `value_count` or temporal correlation without `group-by`.
    ///
    /// Why: without it the events of every host and user are counted together, so
    /// unrelated activity adds up to an alert (SigmaHQ requires it).
    ///
    /// Example: `type: event_count` counting failed logons of the whole network.
    CorrelationWithoutGroupBy, "correlation-without-group-by", Warning, reader: false,
    pysigma: "sigmahq_correlation_group_by_existence", optional: true
}

impl Lint for CorrelationWithoutGroupBy {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        if let RuleBody::Correlation(c) = &rule.body
            && matches!(
                c.kind,
                CorrelationKind::EventCount
                    | CorrelationKind::ValueCount
                    | CorrelationKind::Temporal
                    | CorrelationKind::TemporalOrdered
            )
            && c.group_by.is_empty()
        {
            out.push(Self::at(
                source.span_of("correlation"),
                format!("a {} correlation without `group-by`", c.kind.name()),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::codes;

    fn correlation(kind: &str, rules: &str, group_by: &str) -> String {
        format!(
            "title: C\nstatus: test\ncorrelation:\n  type: {kind}\n  rules:\n{rules}{group_by}  \
             timespan: 5m\n  condition:\n    gte: 2\n"
        )
    }

    #[test]
    fn temporal_rules_and_group_by() {
        let found = codes(&correlation(
            "temporal",
            "    - a\n",
            "  group-by:\n    - User\n",
        ));
        assert!(found.contains(&"temporal-single-rule"), "{found:?}");
        assert!(
            !found.contains(&"correlation-without-group-by"),
            "{found:?}"
        );
        let found = codes(&correlation("temporal", "    - a\n    - b\n", ""));
        assert!(!found.contains(&"temporal-single-rule"), "{found:?}");
        assert!(found.contains(&"correlation-without-group-by"), "{found:?}");
        let found = codes(&correlation("event_count", "    - a\n", ""));
        assert!(!found.contains(&"temporal-single-rule"), "{found:?}");
        assert!(found.contains(&"correlation-without-group-by"), "{found:?}");
    }
}
