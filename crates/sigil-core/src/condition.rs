//! The condition of a detection: a boolean expression over named searches.

use serde::{Deserialize, Serialize};

use crate::Span;

/// A condition over the searches of a [`crate::Detection`].
///
/// `1 of` / `all of` selectors stay as written (so analyses can show them); use
/// [`Selector::matches`] or [`crate::Detection::selected`] to resolve them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// All must hold.
    And(Vec<Condition>),
    /// At least one must hold.
    Or(Vec<Condition>),
    /// Negation.
    Not(Box<Condition>),
    /// A search by name.
    Search {
        /// The search identifier.
        name: String,
        /// Where it was named in the condition.
        span: Span,
    },
    /// `1 of pattern` / `any of pattern`: at least one selected search holds.
    OneOf(Selector),
    /// `all of pattern`: every selected search holds.
    AllOf(Selector),
}

impl Condition {
    /// Calls `f` with every search name and selector the condition mentions.
    pub fn visit<'a>(&'a self, f: &mut impl FnMut(ConditionLeaf<'a>)) {
        match self {
            Condition::And(v) | Condition::Or(v) => v.iter().for_each(|c| c.visit(f)),
            Condition::Not(c) => c.visit(f),
            Condition::Search { name, span } => f(ConditionLeaf::Search(name, *span)),
            Condition::OneOf(s) | Condition::AllOf(s) => f(ConditionLeaf::Selector(s)),
        }
    }
}

/// A leaf of a condition, as seen by [`Condition::visit`].
#[derive(Debug, Clone, Copy)]
pub enum ConditionLeaf<'a> {
    /// A search named directly.
    Search(&'a str, Span),
    /// A `1 of` / `all of` selector.
    Selector(&'a Selector),
}

/// What `1 of` / `all of` applies to: `them` (every search whose name does not start with
/// `_`) or a name pattern with `*` wildcards (e.g. `selection_*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selector {
    /// `them`, or the pattern as written.
    pub pattern: String,
    /// Where it was written.
    pub span: Span,
}

impl Selector {
    /// Whether the selector is `them`.
    pub fn is_them(&self) -> bool {
        self.pattern == "them"
    }

    /// Whether a search named `name` is selected.
    pub fn matches(&self, name: &str) -> bool {
        if self.is_them() {
            return !name.starts_with('_');
        }
        glob_match(&self.pattern, name)
    }
}

/// `*`-wildcard matching of search names (the only wildcard condition patterns use).
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn them_skips_underscore_names() {
        let s = Selector {
            pattern: "them".into(),
            span: Span::default(),
        };
        assert!(s.matches("selection"));
        assert!(!s.matches("_private"));
    }

    #[test]
    fn glob_patterns() {
        let s = |p: &str| Selector {
            pattern: p.into(),
            span: Span::default(),
        };
        assert!(s("selection_*").matches("selection_img"));
        assert!(!s("selection_*").matches("filter_img"));
        assert!(s("*_img").matches("selection_img"));
        assert!(s("sel*img").matches("selection_img"));
        assert!(!s("sel*img*x").matches("selimg"));
        assert!(s("exact").matches("exact"));
        assert!(!s("ab*ba").matches("aba"));
    }
}
