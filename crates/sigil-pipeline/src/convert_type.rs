//! `convert_type`: pySigma's `ConvertTypeTransformation`, which turns the values of the
//! selected detection items into strings (`target_type: str`) or numbers
//! (`target_type: num`).
//!
//! Backends render a number and a string differently (EQL `event.code:"4688"` against
//! `event.code:4688`), and a field's index type decides which one a query engine accepts:
//! Elasticsearch maps `event.code` as a keyword, so `ecs_windows` converts its values to
//! strings.
//!
//! Only the values the conversion means something for are converted: numbers to their
//! decimal text, and plain (wildcard-free) strings that read as a number to that number.
//! Booleans, null, regular expressions, networks and field references stay as they are, and
//! so do the operands of numeric comparisons (`gt`, `lt`, ...), which stay numbers.

use sigil_core::{Op, Pattern, Predicate, Value};

/// What `convert_type` converts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvertTarget {
    /// `str`: numbers become strings.
    Str,
    /// `num`: strings that read as numbers become numbers.
    Num,
}

impl ConvertTarget {
    /// Parses the `target_type` parameter.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "str" => Some(ConvertTarget::Str),
            "num" => Some(ConvertTarget::Num),
            _ => None,
        }
    }
}

/// Converts the values of `pred`. `Ok(true)` when something changed; `Err` names a string
/// that cannot become a number (pySigma rejects the rule then too).
pub(crate) fn convert(pred: &mut Predicate, target: ConvertTarget) -> Result<bool, String> {
    if matches!(pred.op, Op::Lt | Op::Lte | Op::Gt | Op::Gte) {
        return Ok(false);
    }
    let mut changed = false;
    for v in &mut pred.values {
        let new = match (target, &*v) {
            (ConvertTarget::Str, Value::Int(i)) => Value::Str(Pattern::literal(i.to_string())),
            (ConvertTarget::Str, Value::Float(f)) => Value::Str(Pattern::literal(float_text(*f))),
            (ConvertTarget::Num, Value::Str(p)) => number(p)?,
            _ => continue,
        };
        *v = new;
        changed = true;
    }
    Ok(changed)
}

/// A float as Python's `str` writes it: integral values keep one decimal (`2.0`).
fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}

fn number(p: &Pattern) -> Result<Value, String> {
    let text = p
        .as_literal()
        .ok_or_else(|| format!("value `{}` has wildcards and is not a number", p.to_sigma()))?;
    if let Ok(i) = text.trim().parse::<i64>() {
        return Ok(Value::Int(i));
    }
    match text.trim().parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Value::Float(f)),
        _ => Err(format!("value `{text}` is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pred(op: Op, values: Vec<Value>) -> Predicate {
        Predicate::new(Some("f".into()), op, values)
    }

    #[test]
    fn numbers_become_strings() {
        let mut p = pred(
            Op::Equals,
            vec![Value::Int(4688), Value::Float(2.0), Value::Bool(true)],
        );
        assert_eq!(convert(&mut p, ConvertTarget::Str), Ok(true));
        assert_eq!(
            p.values,
            vec![Value::str("4688"), Value::str("2.0"), Value::Bool(true)]
        );
    }

    #[test]
    fn comparisons_keep_their_numbers() {
        let mut p = pred(Op::Gt, vec![Value::Int(5)]);
        assert_eq!(convert(&mut p, ConvertTarget::Str), Ok(false));
        assert_eq!(p.values, vec![Value::Int(5)]);
    }

    #[test]
    fn numeric_strings_become_numbers() {
        let mut p = pred(Op::Equals, vec![Value::str("3389"), Value::str("0.5")]);
        assert_eq!(convert(&mut p, ConvertTarget::Num), Ok(true));
        assert_eq!(p.values, vec![Value::Int(3389), Value::Float(0.5)]);
    }

    #[test]
    fn other_strings_cannot_become_numbers() {
        let mut p = pred(Op::Equals, vec![Value::str("high")]);
        assert!(convert(&mut p, ConvertTarget::Num).is_err());
        let mut p = pred(
            Op::Equals,
            vec![Value::Str(Pattern::parse_sigma("12*", false))],
        );
        assert!(convert(&mut p, ConvertTarget::Num).is_err());
    }

    #[test]
    fn target_type_is_checked_when_read() {
        let ok = "transformations:\n  - type: convert_type\n    target_type: str\n";
        assert!(crate::Pipeline::from_yaml(ok, "p.yml").is_ok());
        let bad = "transformations:\n  - type: convert_type\n    target_type: int\n";
        let err = crate::Pipeline::from_yaml(bad, "p.yml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("p.yml:3:18:"), "{err}");
        assert!(err.contains("`str` or `num`"), "{err}");
    }

    #[test]
    fn strings_stay_strings_under_str() {
        let mut p = pred(Op::Contains, vec![Value::str("x")]);
        assert_eq!(convert(&mut p, ConvertTarget::Str), Ok(false));
    }
}
