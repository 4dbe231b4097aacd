//! Checks of how a condition uses `1 of` / `all of`: `them`, patterns that select one
//! search, patterns without a wildcard. They read the condition as parsed, not its text.

use sigil_core::condition::ConditionLeaf;
use sigil_core::{Condition, Detection, Diagnostic, Rule, RuleBody, Selector};

use super::{Lint, LintInfo, declare_lint, known};
use crate::RuleSource;

/// Calls `f` on every `1 of` / `all of` of a detection rule's conditions, with whether it
/// is `all of`.
fn selectors<'a>(d: &'a Detection, f: &mut impl FnMut(&'a Selector, bool)) {
    fn walk<'a>(c: &'a Condition, f: &mut impl FnMut(&'a Selector, bool)) {
        match c {
            Condition::And(v) | Condition::Or(v) => v.iter().for_each(|c| walk(c, f)),
            Condition::Not(c) => walk(c, f),
            Condition::Search { .. } => {}
            Condition::OneOf(s) => f(s, false),
            Condition::AllOf(s) => f(s, true),
        }
    }
    for c in &d.conditions {
        walk(c, f);
    }
}

/// The detection of a detection rule (filters and correlations are left out, as pySigma
/// leaves them out).
fn detection(rule: &Rule) -> Option<&Detection> {
    match &rule.body {
        RuleBody::Detection(d) => Some(d),
        _ => None,
    }
}

declare_lint! {
    /// `all of them` in a condition.
    ///
    /// Why: `them` is every search, so a search added later (a filter meant for
    /// `and not filter`) silently joins the `and`. Name what is meant:
    /// `all of selection_*`.
    ///
    /// Example: `condition: all of them` with `selection_img:` and `selection_cli:`.
    AllOfThem, "all-of-them", Warning, reader: false, pysigma: "all_of_them_condition", optional: true
}

impl Lint for AllOfThem {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let Some(d) = detection(rule) else { return };
        let mut first = None;
        selectors(d, &mut |s, all| {
            if all && s.is_them() && first.is_none() {
                first = Some(s.span);
            }
        });
        if let Some(span) = first {
            out.push(Self::at(
                known(span, source.span),
                "`all of them`: name the searches (`all of selection_*`)",
            ));
        }
    }
}

/// The first `of them` of a detection with a single search.
fn them_with_single_search(rule: &Rule) -> Option<sigil_core::Span> {
    let d = detection(rule)?;
    if d.searches.len() != 1 {
        return None;
    }
    let mut first = None;
    selectors(d, &mut |s, _| {
        if s.is_them() && first.is_none() {
            first = Some(s.span);
        }
    });
    first
}

declare_lint! {
    /// `1 of them` or `all of them` when the rule has one search.
    ///
    /// Why: with one search, `them` is that search: name it (`condition: selection`).
    ///
    /// Example: `condition: 1 of them` with only `selection:`.
    ThemWithSingleSearch, "them-single-search", Warning, reader: false,
    pysigma: "them_condition_with_single_detection", optional: true
}

impl Lint for ThemWithSingleSearch {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        if let Some(span) = them_with_single_search(rule) {
            out.push(Self::at(
                known(span, source.span),
                "`them` with a single search: name the search",
            ));
        }
    }
}

declare_lint! {
    /// `1 of them` or `all of them` when the rule has one search (SigmaHQ's form of
    /// [`them-single-search`](#them-single-search), which it reports as well).
    ///
    /// Why: with one search, `of them` is that search: name it.
    ///
    /// Example: `condition: all of them` with only `selection:`.
    OfThemWithSingleSearch, "of-them-single-search", Warning, reader: false,
    pysigma: "sigmahq_ofthem_condition", optional: true
}

impl Lint for OfThemWithSingleSearch {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        if let Some(span) = them_with_single_search(rule) {
            out.push(Self::at(
                known(span, source.span),
                "`of them` with a single search: name the search",
            ));
        }
    }
}

declare_lint! {
    /// `1 of x_*` or `all of x_*` when the pattern selects fewer than two searches.
    ///
    /// Why: a pattern says "these searches"; selecting one, it hides a plain reference
    /// (and a typo in the pattern). Patterns `selection_*` and `filter_*` are SigmaHQ's
    /// usual names and are left alone, as SigmaHQ does.
    ///
    /// Example: `condition: 1 of sel_*` with only `sel_img:`.
    OfPatternWithSingleSearch, "of-pattern-single-search", Warning, reader: false,
    pysigma: "sigmahq_ofselection_condition", optional: true
}

impl Lint for OfPatternWithSingleSearch {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let Some(d) = detection(rule) else { return };
        let mut found = None;
        selectors(d, &mut |s, _| {
            let p = &s.pattern;
            if found.is_some()
                || !p.ends_with("_*")
                || p.starts_with("selection_")
                || p.starts_with("filter_")
            {
                return;
            }
            let n = d.selected(s).len();
            if n < 2 {
                found = Some((
                    s.span,
                    format!(
                        "`{p}` selects {n} search{}: name it",
                        if n == 1 { "" } else { "es" }
                    ),
                ));
            }
        });
        if let Some((span, message)) = found {
            out.push(Self::at(known(span, source.span), message));
        }
    }
}

declare_lint! {
    /// `1 of name` or `all of name` without a `*`.
    ///
    /// Why: without a wildcard the pattern is one search, and `1 of` says nothing; it is
    /// usually a forgotten `*` (`1 of selection_*`).
    ///
    /// Example: `condition: 1 of selection`.
    OfWithoutWildcard, "of-without-wildcard", Warning, reader: false,
    pysigma: "sigmahq_missing_asterisk_condition", optional: true
}

impl Lint for OfWithoutWildcard {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let Some(d) = detection(rule) else { return };
        let mut found = None;
        for c in &d.conditions {
            c.visit(&mut |leaf| {
                if let ConditionLeaf::Selector(s) = leaf
                    && found.is_none()
                    && !s.is_them()
                    && !s.pattern.ends_with('*')
                {
                    found = Some((s.span, s.pattern.clone()));
                }
            });
        }
        if let Some((span, p)) = found {
            out.push(Self::at(
                known(span, source.span),
                format!("`of {p}` without `*` is the single search `{p}`"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::codes;

    fn rule(searches: &[&str], condition: &str) -> String {
        let mut t = String::from(
            "title: T\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n",
        );
        for s in searches {
            t.push_str("  ");
            t.push_str(s);
            t.push_str(":\n    Image: x\n");
        }
        t + "  condition: " + condition + "\n"
    }

    #[test]
    fn them() {
        let found = codes(&rule(&["sel_a", "sel_b"], "all of them"));
        assert!(found.contains(&"all-of-them"), "{found:?}");
        assert!(!found.contains(&"them-single-search"), "{found:?}");
        let found = codes(&rule(&["sel_a", "sel_b"], "1 of them"));
        assert!(!found.contains(&"all-of-them"), "{found:?}");
        let found = codes(&rule(&["selection"], "1 of them"));
        assert!(found.contains(&"them-single-search"), "{found:?}");
        assert!(found.contains(&"of-them-single-search"), "{found:?}");
        // A search whose name holds `them` is not `them`.
        let found = codes(&rule(&["themes"], "themes"));
        assert!(!found.contains(&"them-single-search"), "{found:?}");
    }

    #[test]
    fn patterns() {
        let found = codes(&rule(&["sel_a", "other"], "1 of sel_* or other"));
        assert!(found.contains(&"of-pattern-single-search"), "{found:?}");
        let found = codes(&rule(&["sel_a", "sel_b"], "1 of sel_*"));
        assert!(!found.contains(&"of-pattern-single-search"), "{found:?}");
        let found = codes(&rule(&["selection_a", "x"], "1 of selection_* and x"));
        assert!(!found.contains(&"of-pattern-single-search"), "{found:?}");
        let found = codes(&rule(&["selection"], "1 of selection"));
        assert!(found.contains(&"of-without-wildcard"), "{found:?}");
        let found = codes(&rule(&["selection"], "1 of selection*"));
        assert!(!found.contains(&"of-without-wildcard"), "{found:?}");
    }
}
