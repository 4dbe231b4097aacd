//! `set_value`: pySigma's `SetValueTransformation`, which replaces every value of the
//! selected detection items by one fixed value, e.g. `ecs_windows` turns Sysmon's boolean
//! `Initiated: true` into ECS's `network.direction: egress`.
//!
//! The value keeps its YAML type (a string is read in Sigma syntax, so `*` is a wildcard)
//! unless `force_type` asks for `str` or `num`. The predicate becomes a plain equality: the
//! new value is the whole value, whatever modifier the old one had.

use sigil_core::{Op, Pattern, Predicate, Value};

use crate::convert_type::ConvertTarget;
use crate::model::Scalar;

/// The value `set_value` writes, built once when the pipeline is read.
///
/// `Err` says why `value` and `force_type` do not go together (pySigma's configuration
/// errors: only strings and numbers can be forced, and only numeric text becomes a number).
pub(crate) fn fixed_value(value: &Scalar, force: Option<ConvertTarget>) -> Result<Value, String> {
    Ok(match (force, value) {
        (None, Scalar::Str(s)) => Value::Str(Pattern::parse_sigma(s, false)),
        (None, Scalar::Bool(b)) => Value::Bool(*b),
        (None, Scalar::Int(i)) => Value::Int(*i),
        (None, Scalar::Float(f)) => Value::Float(*f),
        (None, Scalar::Null) => Value::Null,
        (Some(_), Scalar::Bool(_) | Scalar::Null) => {
            return Err("`force_type` is only allowed for string and numeric values".to_string());
        }
        (Some(ConvertTarget::Str), v) => Value::Str(Pattern::parse_sigma(&v.to_text(), false)),
        (Some(ConvertTarget::Num), Scalar::Int(i)) => Value::Int(*i),
        (Some(ConvertTarget::Num), Scalar::Float(f)) => Value::Float(*f),
        (Some(ConvertTarget::Num), Scalar::Str(s)) => {
            if let Ok(i) = s.trim().parse::<i64>() {
                Value::Int(i)
            } else {
                match s.trim().parse::<f64>() {
                    Ok(f) if f.is_finite() => Value::Float(f),
                    _ => return Err(format!("value `{s}` cannot be forced to a number")),
                }
            }
        }
    })
}

/// Replaces every value of `pred` by `value`.
pub(crate) fn set(pred: &mut Predicate, value: &Value) -> bool {
    if pred.values.is_empty() {
        return false;
    }
    for v in &mut pred.values {
        v.clone_from(value);
    }
    pred.op = Op::Equals;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_type_unless_forced() {
        assert_eq!(
            fixed_value(&Scalar::Str("egress".into()), None),
            Ok(Value::str("egress"))
        );
        assert_eq!(
            fixed_value(&Scalar::Bool(true), None),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            fixed_value(&Scalar::Int(3), Some(ConvertTarget::Str)),
            Ok(Value::str("3"))
        );
        assert_eq!(
            fixed_value(&Scalar::Str("42".into()), Some(ConvertTarget::Num)),
            Ok(Value::Int(42))
        );
        assert!(fixed_value(&Scalar::Str("x".into()), Some(ConvertTarget::Num)).is_err());
        assert!(fixed_value(&Scalar::Bool(true), Some(ConvertTarget::Str)).is_err());
    }

    #[test]
    fn every_value_is_replaced_and_the_modifier_dropped() {
        let mut p = Predicate::new(
            Some("network.direction".into()),
            Op::Contains,
            vec![Value::Bool(true), Value::str("x")],
        );
        assert!(set(&mut p, &Value::str("egress")));
        assert_eq!(p.op, Op::Equals);
        assert_eq!(p.values, vec![Value::str("egress"), Value::str("egress")]);
    }

    #[test]
    fn a_pipeline_sets_values_by_their_type() {
        let yaml = "transformations:\n  - type: set_value\n    value: egress\n    \
                    field_name_conditions:\n      - type: include_fields\n        \
                    fields: [network.direction]\n    detection_item_conditions:\n      \
                    - type: match_value\n        value: true\n        cond: all\n";
        let pipeline = crate::Pipeline::from_yaml(yaml, "p.yml").expect("reads");
        let rule = sigil_sigma::parse_str(
            "title: t\nlogsource: {product: windows}\ndetection:\n  a:\n    \
             network.direction: true\n  b:\n    network.direction: 'true'\n  \
             condition: a or b\n",
        )
        .rules
        .remove(0);
        let out = pipeline.apply(&rule).expect("applies");
        let sigil_core::RuleBody::Detection(d) = &out.body else {
            panic!("a detection");
        };
        let values: Vec<_> = d
            .searches
            .iter()
            .flat_map(|s| s.expr.predicates())
            .map(|p| p.values.clone())
            .collect();
        // Only the boolean matches `value: true`; the string 'true' is left alone.
        assert_eq!(
            values,
            vec![vec![Value::str("egress")], vec![Value::str("true")]]
        );
    }
}
