//! Checks of the detection logic: searches and the condition.

use sigil_core::condition::ConditionLeaf;
use sigil_core::{Detection, Diagnostic, Expr, Rule};

use super::fix::{Fix, Safety, scalar_at};
use super::{Lint, LintInfo, declare_lint, known};
use crate::RuleSource;

declare_lint! {
    /// The condition names a search that is not defined, or a `1 of` / `all of` pattern
    /// matches no search.
    ///
    /// Why: the missing part is always false (or, under `not`, always true): the rule does
    /// not detect what it says. Usually a typo or a renamed search.
    ///
    /// Example: `condition: selection and not filter` with only `selection:` and
    /// `filter_main:` defined.
    MissingSearch, "missing-search", Error, reader: false, pysigma: "dangling_condition"
}

impl Lint for MissingSearch {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let Some(d) = rule.detection() else { return };
        for cond in &d.conditions {
            cond.visit(&mut |leaf| match leaf {
                ConditionLeaf::Search(name, span) => {
                    if d.search(name).is_none() {
                        out.push(Self::at(
                            known(span, source.span),
                            format!(
                                "the condition names `{name}`, which is not a search of this rule"
                            ),
                        ));
                    }
                }
                ConditionLeaf::Selector(sel) => {
                    if d.selected(sel).is_empty() {
                        out.push(Self::at(
                            known(sel.span, source.span),
                            format!("`{}` matches no search of this rule", sel.pattern),
                        ));
                    }
                }
            });
        }
    }
}

declare_lint! {
    /// A search that the condition never uses.
    ///
    /// Why: the author defined it for a reason — often a filter that was meant to be
    /// excluded (`and not filter`) and is silently ignored. Searches whose names start
    /// with `_` are left out of `them` on purpose and are also checked.
    ///
    /// Example: `selection:`, `filter_legit:` and `condition: selection`.
    UnusedSearch, "unused-search", Warning, reader: false, pysigma: "dangling_detection"
}

/// The names of the searches the conditions of `d` use, directly or through selectors.
fn used(d: &Detection) -> Vec<bool> {
    let mut used = vec![false; d.searches.len()];
    for cond in &d.conditions {
        cond.visit(&mut |leaf| match leaf {
            ConditionLeaf::Search(name, _) => {
                for (i, s) in d.searches.iter().enumerate() {
                    if s.name == name {
                        used[i] = true;
                    }
                }
            }
            ConditionLeaf::Selector(sel) => {
                for i in d.selected(sel) {
                    used[i] = true;
                }
            }
        });
    }
    used
}

impl Lint for UnusedSearch {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let Some(d) = rule.detection() else { return };
        if d.conditions.is_empty() {
            // No condition was read: the reader reported that already.
            return;
        }
        for (search, used) in d.searches.iter().zip(used(d)) {
            if !used {
                out.push(Self::at(
                    known(search.span, source.span),
                    format!("search `{}` is never used by the condition", search.name),
                ));
            }
        }
    }
}

/// Calls `f` on every predicate of every search of the rule.
fn predicates<'a>(rule: &'a Rule, f: &mut impl FnMut(&'a sigil_core::Predicate)) {
    if let Some(d) = rule.detection() {
        for s in &d.searches {
            Expr::for_each_predicate(&s.expr, f);
        }
    }
}

declare_lint! {
    /// `|all` on a single value.
    ///
    /// Why: the specification forbids it — `all` links several values with *and*; on one
    /// value it does nothing, and is usually a sign that the author meant a list. sigil
    /// reads it as the single value.
    ///
    /// Example: `CommandLine|contains|all: '-enc'` — drop `|all` or list the values.
    AllWithSingleValue, "all-single-value", Warning, reader: false, pysigma: "sigmahq_invalid_all_modifier"
}

impl Lint for AllWithSingleValue {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        predicates(rule, &mut |p| {
            if p.flags.all && p.values.len() == 1 {
                out.push(Self::at(p.span, "`all` with a single value does nothing"));
            }
        });
    }

    /// `|all` taken out of the key. The rule matches the same, but its IR keeps the `all`
    /// flag, so the fix is not counted as safe.
    fn fix(&self, text: &str, finding: &Diagnostic) -> Option<Fix> {
        let key = scalar_at(text, finding.span.offset as usize)?;
        let mut at = key.start;
        for part in text[key.clone()].split('|') {
            let start = at;
            at += part.len() + 1;
            if start > key.start && part.trim_end_matches(['"', '\'']) == "all" {
                return Some(Fix::replace(
                    "Remove `|all`",
                    Safety::Unsafe,
                    start - 1..start + 3,
                    "",
                ));
            }
        }
        None
    }
}

declare_lint! {
    /// A field with an empty list of values (`Field: []`).
    ///
    /// Why: an empty list matches nothing, so the search is always false — almost
    /// certainly not what was meant. sigil reads it as a predicate that never matches.
    ///
    /// Example: `Image: []`.
    EmptyValueList, "empty-value-list", Warning, reader: false
}

impl Lint for EmptyValueList {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        predicates(rule, &mut |p| {
            if p.values.is_empty() {
                let field = p.field.as_deref().unwrap_or("keywords");
                out.push(Self::at(
                    p.span,
                    format!("`{field}` has an empty list of values and never matches"),
                ));
            }
        });
    }
}
