//! Value rewrites that see a value as pySigma does.
//!
//! pySigma applies `contains`, `startswith` and `endswith` to the value when it reads a rule
//! (`contains: x` becomes the string `*x*`), so its value transformations see and rewrite
//! the wildcards those modifiers imply. sigil keeps the operator apart from the pattern; to
//! rewrite values with the same results, a rewrite first puts the operator's wildcards into
//! the pattern ([`with_op_wildcards`]) and afterwards takes them out again where the result
//! still has the operator's shape ([`restore_op`]).

use sigil_core::{Expr, Op, Pattern, Piece, Predicate, Value};

use crate::model::HashesFields;

/// The pattern with the wildcards `op` implies: `*x*` for `contains x`, `x*` for
/// `startswith x`, `*x` for `endswith x`; other operators leave it as it is.
pub(crate) fn with_op_wildcards(op: Op, p: &Pattern) -> Pattern {
    match op {
        Op::Contains => p.with_leading_any().with_trailing_any(),
        Op::StartsWith => p.with_trailing_any(),
        Op::EndsWith => p.with_leading_any(),
        _ => p.clone(),
    }
}

/// `p` without the wildcards `op` implies, when it has them.
fn strip_op_wildcards(op: Op, p: &Pattern) -> Option<Pattern> {
    let pieces = p.pieces();
    let n = pieces.len();
    let any = |i: usize| matches!(pieces.get(i), Some(Piece::AnyMany));
    let slice = |from: usize, to: usize| Pattern::from_pieces(pieces[from..to].iter().cloned());
    match op {
        Op::StartsWith if n > 0 && any(n - 1) => Some(slice(0, n - 1)),
        Op::EndsWith if any(0) => Some(slice(1, n)),
        Op::Contains if n == 1 && any(0) => Some(Pattern::default()),
        Op::Contains if n >= 2 && any(0) && any(n - 1) => Some(slice(1, n - 1)),
        Op::Contains | Op::StartsWith | Op::EndsWith => None,
        _ => Some(p.clone()),
    }
}

/// Sets the string values of `pred` to `patterns` (rewritten from the
/// [`with_op_wildcards`] view). The operator stays when every pattern still has its shape;
/// otherwise the predicate becomes a plain (wildcard) equality, which means the same.
pub(crate) fn restore_op(pred: &mut Predicate, patterns: Vec<Pattern>) {
    let stripped: Option<Vec<Pattern>> = patterns
        .iter()
        .map(|p| strip_op_wildcards(pred.op, p))
        .collect();
    let (op, patterns) = match stripped {
        Some(s) => (pred.op, s),
        None => (Op::Equals, patterns),
    };
    pred.op = op;
    let mut patterns = patterns.into_iter();
    for v in &mut pred.values {
        if let Value::Str(p) = v
            && let Some(new) = patterns.next()
        {
            *p = new;
        }
    }
}

/// The string values of `pred` as pySigma holds them (see [`with_op_wildcards`]).
pub(crate) fn op_views(pred: &Predicate) -> Vec<Pattern> {
    pred.values
        .iter()
        .filter_map(|v| match v {
            Value::Str(p) => Some(with_op_wildcards(pred.op, p)),
            _ => None,
        })
        .collect()
}

/// Splits a pattern at every literal `sep`, as Python's `str.split` splits pySigma's plain
/// text of it (wildcards never split).
fn split_at(p: &Pattern, sep: char) -> Vec<Pattern> {
    let mut parts = vec![Vec::new()];
    for piece in p.pieces() {
        match piece {
            Piece::Lit(s) => {
                let mut chunks = s.split(sep);
                if let Some(first) = chunks.next()
                    && let Some(current) = parts.last_mut()
                {
                    current.push(Piece::Lit(first.to_string()));
                }
                for chunk in chunks {
                    parts.push(vec![Piece::Lit(chunk.to_string())]);
                }
            }
            other => {
                if let Some(current) = parts.last_mut() {
                    current.push(other.clone());
                }
            }
        }
    }
    parts.into_iter().map(Pattern::from_pieces).collect()
}

/// Whether the pattern holds the literal character `c`.
fn has_literal(p: &Pattern, c: char) -> bool {
    p.literals().any(|s| s.contains(c))
}

/// The length of pySigma's plain text of the pattern (`to_plain()`), where a literal `*` or
/// `?` is escaped with a backslash.
fn plain_len(p: &Pattern) -> usize {
    p.pieces()
        .iter()
        .map(|piece| match piece {
            Piece::Lit(s) => s
                .chars()
                .map(|c| if c == '*' || c == '?' { 2 } else { 1 })
                .sum(),
            Piece::AnyMany | Piece::AnyOne => 1,
            Piece::Placeholder(n) => n.chars().count() + 2,
        })
        .sum()
}

/// A predicate on `field` like `like` (same span and flags, none of `all`) with plain
/// equality over `values`.
fn equality(like: &Predicate, field: &str, values: Vec<Pattern>) -> Expr {
    let mut flags = like.flags.clone();
    flags.all = false;
    Expr::Pred(Predicate {
        field: Some(field.to_string()),
        op: Op::Equals,
        values: values.into_iter().map(Value::Str).collect(),
        flags,
        span: like.span,
    })
}

/// `split_domain_user`: every `DOMAIN\user` value (exactly one backslash) becomes
/// `field = user and domain_field = domain`; other values stay as they are, each in a
/// predicate of its own, as pySigma builds them. `None` when no value has the form.
pub(crate) fn split_domain_user(pred: &Predicate, domain_field: &str) -> Option<Expr> {
    let field = pred.field.as_deref()?;
    let mut any_split = false;
    let mut alternatives = Vec::with_capacity(pred.values.len());
    for v in &pred.values {
        if let Value::Str(p) = v {
            let parts = split_at(&with_op_wildcards(pred.op, p), '\\');
            if let [domain, user] = parts.as_slice() {
                any_split = true;
                alternatives.push(Expr::And(vec![
                    equality(pred, field, vec![user.clone()]),
                    equality(pred, domain_field, vec![domain.clone()]),
                ]));
                continue;
            }
        }
        let mut one = pred.clone();
        one.values = vec![v.clone()];
        one.flags.all = false;
        alternatives.push(Expr::Pred(one));
    }
    if !any_split {
        return None;
    }
    Some(if pred.flags.all {
        Expr::And(alternatives)
    } else {
        Expr::Or(alternatives)
    })
}

/// The hash algorithm a value of this plain length is, when the value names none.
fn algo_by_length(len: usize) -> Option<&'static str> {
    match len {
        32 => Some("MD5"),
        40 => Some("SHA1"),
        64 => Some("SHA256"),
        128 => Some("SHA512"),
        _ => None,
    }
}

/// `hashes_fields`: each value `ALGO=hash` (or `ALGO|hash`, or a bare hash whose length
/// tells the algorithm) becomes a value of the field `field_prefix + ALGO`; the result is an
/// `or` of one predicate per field, in the order the fields first occur. Values of an
/// algorithm not in `valid_hash_algos` are dropped; when none is left, the rule cannot be
/// converted and the error says why.
pub(crate) fn hashes_fields(pred: &Predicate, cfg: &HashesFields) -> Result<Expr, String> {
    let mut by_field: Vec<(String, Vec<Pattern>)> = Vec::new();
    for view in op_views(pred) {
        let sep = if has_literal(&view, '|') { '|' } else { '=' };
        let parts = split_at(&view, sep);
        let (algo, hash) = if let [algo, hash] = parts.as_slice() {
            // pySigma strips leading `*` (from `contains`) off the algorithm name.
            let name = Pattern::from_pieces(
                algo.pieces()
                    .iter()
                    .skip_while(|p| matches!(p, Piece::AnyMany))
                    .cloned(),
            );
            (name.as_literal().map(str::to_uppercase), hash.clone())
        } else {
            let hash = parts.into_iter().next().unwrap_or_default();
            (algo_by_length(plain_len(&hash)).map(str::to_string), hash)
        };
        let Some(algo) = algo.filter(|a| cfg.valid_hash_algos.contains(a)) else {
            continue;
        };
        let field = if cfg.drop_algo_prefix {
            cfg.field_prefix.clone()
        } else {
            format!("{}{algo}", cfg.field_prefix)
        };
        match by_field.iter_mut().find(|(f, _)| *f == field) {
            Some((_, values)) => values.push(hash),
            None => by_field.push((field, vec![hash])),
        }
    }
    if by_field.is_empty() {
        return Err(format!(
            "no valid hash algorithm in the values of `{}`; use one of: {}",
            pred.field.as_deref().unwrap_or("(keyword)"),
            cfg.valid_hash_algos.join(", ")
        ));
    }
    let mut alternatives: Vec<Expr> = by_field
        .into_iter()
        .map(|(field, values)| equality(pred, &field, values))
        .collect();
    Ok(if alternatives.len() == 1 {
        alternatives.remove(0)
    } else {
        Expr::Or(alternatives)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sigma(s: &str) -> Pattern {
        Pattern::parse_sigma(s, false)
    }

    fn pred(field: &str, op: Op, values: &[&str]) -> Predicate {
        Predicate::new(
            Some(field.to_string()),
            op,
            values.iter().map(|v| Value::Str(sigma(v))).collect(),
        )
    }

    /// `(field, op, values in Sigma syntax)` of the predicates of `e`.
    fn leaves(e: &Expr) -> Vec<(String, Op, Vec<String>)> {
        e.predicates()
            .into_iter()
            .map(|p| {
                (
                    p.field.clone().unwrap_or_default(),
                    p.op,
                    p.values.iter().map(Value::to_text).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn op_wildcards_round_trip() {
        for op in [Op::Equals, Op::Contains, Op::StartsWith, Op::EndsWith] {
            let mut p = pred("f", op, &["a\\b"]);
            let views = op_views(&p);
            restore_op(&mut p, views);
            assert_eq!(p.op, op);
            assert_eq!(p.values[0].to_text(), "a\\b");
        }
        // A rewrite that loses the operator's shape turns into a wildcard equality.
        let mut p = pred("f", Op::StartsWith, &["HKLM\\x"]);
        restore_op(&mut p, vec![sigma("y")]);
        assert_eq!((p.op, p.values[0].to_text()), (Op::Equals, "y".to_string()));
        let mut p = pred("f", Op::Contains, &[""]);
        let views = op_views(&p);
        assert_eq!(views[0].to_sigma(), "*");
        restore_op(&mut p, views);
        assert_eq!((p.op, p.values[0].to_text()), (Op::Contains, String::new()));
    }

    #[test]
    fn split_at_keeps_wildcards_and_escaped_literals() {
        let parts = split_at(&sigma("*NT AUTHORITY\\SYSTEM*"), '\\');
        let texts: Vec<String> = parts.iter().map(Pattern::to_sigma).collect();
        assert_eq!(texts, vec!["*NT AUTHORITY", "SYSTEM*"]);
        assert_eq!(split_at(&sigma("a\\*b"), '=').len(), 1);
        assert_eq!(plain_len(&sigma("a\\*b")), 4);
        assert_eq!(plain_len(&sigma("a*b")), 3);
    }

    #[test]
    fn domain_user_values_are_split() {
        let p = pred(
            "AccountName",
            Op::Contains,
            &["AUTHORI\\SYSTEM", "alice", "a\\b\\c"],
        );
        let e = split_domain_user(&p, "AccountDomain").expect("one value splits");
        let Expr::Or(alts) = &e else {
            panic!("expected an or, got {e:?}")
        };
        assert_eq!(alts.len(), 3);
        assert_eq!(
            leaves(&alts[0]),
            vec![
                ("AccountName".into(), Op::Equals, vec!["SYSTEM*".into()]),
                ("AccountDomain".into(), Op::Equals, vec!["*AUTHORI".into()]),
            ]
        );
        // Values without exactly one backslash keep their operator.
        assert_eq!(
            leaves(&alts[1]),
            vec![("AccountName".into(), Op::Contains, vec!["alice".into()])]
        );
        assert_eq!(leaves(&alts[2])[0].2, vec!["a\\b\\c".to_string()]);
        assert!(split_domain_user(&pred("AccountName", Op::Equals, &["bob"]), "D").is_none());
    }

    fn xdr_hashes() -> HashesFields {
        HashesFields {
            valid_hash_algos: vec!["MD5".into(), "SHA1".into(), "SHA256".into()],
            field_prefix: String::new(),
            drop_algo_prefix: false,
        }
    }

    #[test]
    fn hashes_split_by_algorithm() {
        let md5 = "0123456789abcdef0123456789abcdef";
        let p = pred(
            "Hashes",
            Op::Contains,
            &["SHA256=AAA", "IMPHASH=BBB", "md5|CCC", "SHA256=DDD"],
        );
        let e = hashes_fields(&p, &xdr_hashes()).expect("valid hashes");
        assert_eq!(
            leaves(&e),
            vec![
                (
                    "SHA256".into(),
                    Op::Equals,
                    vec!["AAA*".into(), "DDD*".into()]
                ),
                ("MD5".into(), Op::Equals, vec!["CCC*".into()]),
            ]
        );
        // A bare hash: its length names the algorithm.
        let e = hashes_fields(&pred("Hashes", Op::Equals, &[md5]), &xdr_hashes()).expect("md5");
        assert_eq!(
            leaves(&e),
            vec![("MD5".into(), Op::Equals, vec![md5.into()])]
        );
        // A prefix, and the prefix alone.
        let cfg = HashesFields {
            field_prefix: "FileHash".into(),
            drop_algo_prefix: true,
            ..xdr_hashes()
        };
        let e = hashes_fields(&pred("Hashes", Op::Equals, &["SHA1=x"]), &cfg).expect("sha1");
        assert_eq!(leaves(&e)[0].0, "FileHash");
    }

    #[test]
    fn hashes_without_a_valid_algorithm_fail() {
        let err = hashes_fields(
            &pred("Hashes", Op::Contains, &["IMPHASH=AB"]),
            &xdr_hashes(),
        )
        .expect_err("no valid algorithm");
        assert!(
            err.contains("`Hashes`") && err.contains("MD5, SHA1, SHA256"),
            "{err}"
        );
    }
}
