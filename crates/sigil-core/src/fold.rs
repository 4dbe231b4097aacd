//! Normalisation passes over search expressions.
//!
//! [`Fold`] walks an [`Expr`] bottom-up; each pass overrides only the node kinds it
//! changes (the shape PRQL uses for its IR passes).

use crate::{Expr, Predicate};

/// A bottom-up rewrite of an [`Expr`]. Override the methods for the nodes a pass changes.
pub trait Fold {
    /// Rewrites an expression; the default rebuilds it from its folded children.
    fn fold_expr(&mut self, expr: Expr) -> Expr {
        match expr {
            Expr::And(v) => {
                let children = v.into_iter().map(|e| self.fold_expr(e)).collect();
                self.fold_and(children)
            }
            Expr::Or(v) => {
                let children = v.into_iter().map(|e| self.fold_expr(e)).collect();
                self.fold_or(children)
            }
            Expr::Not(e) => {
                let inner = self.fold_expr(*e);
                self.fold_not(inner)
            }
            Expr::Pred(p) => self.fold_predicate(p),
        }
    }

    /// An `And` whose children are already folded.
    fn fold_and(&mut self, children: Vec<Expr>) -> Expr {
        Expr::And(children)
    }

    /// An `Or` whose children are already folded.
    fn fold_or(&mut self, children: Vec<Expr>) -> Expr {
        Expr::Or(children)
    }

    /// A `Not` whose child is already folded.
    fn fold_not(&mut self, child: Expr) -> Expr {
        Expr::Not(Box::new(child))
    }

    /// A predicate.
    fn fold_predicate(&mut self, p: Predicate) -> Expr {
        Expr::Pred(p)
    }
}

/// Flattens nested `And`/`Or` of the same kind, unwraps one-child groups and removes
/// double negation. Keeps the meaning exactly.
#[derive(Debug, Default)]
pub struct Flatten;

impl Fold for Flatten {
    fn fold_and(&mut self, children: Vec<Expr>) -> Expr {
        let mut out = Vec::with_capacity(children.len());
        for c in children {
            match c {
                Expr::And(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        if out.len() == 1 {
            return out.pop().unwrap_or(Expr::And(Vec::new()));
        }
        Expr::And(out)
    }

    fn fold_or(&mut self, children: Vec<Expr>) -> Expr {
        let mut out = Vec::with_capacity(children.len());
        for c in children {
            match c {
                Expr::Or(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        if out.len() == 1 {
            return out.pop().unwrap_or(Expr::Or(Vec::new()));
        }
        Expr::Or(out)
    }

    fn fold_not(&mut self, child: Expr) -> Expr {
        match child {
            Expr::Not(inner) => *inner,
            other => Expr::Not(Box::new(other)),
        }
    }
}

/// Flattens an expression (see [`Flatten`]).
pub fn flatten(expr: Expr) -> Expr {
    Flatten.fold_expr(expr)
}

/// Pushes negations down to predicates (negation normal form) with De Morgan's laws,
/// then flattens. Predicates stay as they are, wrapped in `Not` where negated.
pub fn negation_normal_form(expr: Expr) -> Expr {
    fn nnf(e: Expr, negate: bool) -> Expr {
        match (e, negate) {
            (Expr::Not(inner), n) => nnf(*inner, !n),
            (Expr::And(v), false) => Expr::And(v.into_iter().map(|e| nnf(e, false)).collect()),
            (Expr::Or(v), false) => Expr::Or(v.into_iter().map(|e| nnf(e, false)).collect()),
            (Expr::And(v), true) => Expr::Or(v.into_iter().map(|e| nnf(e, true)).collect()),
            (Expr::Or(v), true) => Expr::And(v.into_iter().map(|e| nnf(e, true)).collect()),
            (p @ Expr::Pred(_), false) => p,
            (p @ Expr::Pred(_), true) => Expr::Not(Box::new(p)),
        }
    }
    flatten(nnf(expr, false))
}

/// The top-level conjuncts of an expression that are negations: Sigma's exclusions
/// (`selection and not filter`). Returns the negated sub-expressions.
pub fn top_level_exclusions(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::And(v) => v
            .iter()
            .filter_map(|e| match e {
                Expr::Not(inner) => Some(inner.as_ref()),
                _ => None,
            })
            .collect(),
        Expr::Not(inner) => vec![inner.as_ref()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Op, Value};

    fn p(name: &str) -> Expr {
        Expr::Pred(Predicate::new(
            Some(name.into()),
            Op::Equals,
            vec![Value::str("x")],
        ))
    }

    #[test]
    fn flatten_merges_and_unwraps() {
        let e = Expr::And(vec![
            Expr::And(vec![p("a"), p("b")]),
            Expr::Or(vec![p("c")]),
            Expr::Not(Box::new(Expr::Not(Box::new(p("d"))))),
        ]);
        assert_eq!(flatten(e), Expr::And(vec![p("a"), p("b"), p("c"), p("d")]));
    }

    #[test]
    fn nnf_pushes_negation() {
        let e = Expr::Not(Box::new(Expr::And(vec![
            p("a"),
            Expr::Or(vec![p("b"), p("c")]),
        ])));
        let n = |e| Expr::Not(Box::new(e));
        assert_eq!(
            negation_normal_form(e),
            Expr::Or(vec![n(p("a")), Expr::And(vec![n(p("b")), n(p("c"))])])
        );
    }

    #[test]
    fn exclusions_are_negated_conjuncts() {
        let e = Expr::And(vec![p("a"), Expr::Not(Box::new(p("b")))]);
        assert_eq!(top_level_exclusions(&e), vec![&p("b")]);
    }
}
