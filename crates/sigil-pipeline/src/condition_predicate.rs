//! Predicates written in a pipeline: the `field|modifier: value` pairs of `add_condition`.
//!
//! pySigma builds these with the Sigma detection parser, so any modifier is allowed. The
//! ones that make sense for a logsource condition are supported here; the rest are a load
//! error rather than a silently different condition.

use sigil_core::{Flags, Op, Pattern, Predicate, Span, Value};

use crate::model::Scalar;

/// A field name with its modifiers, as parsed from `Field|mod1|mod2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// The field name.
    pub field: String,
    /// The operator the modifiers select.
    pub op: Op,
    /// Modifier flags.
    pub flags: Flags,
}

/// Parses `Field|modifier...`.
pub fn parse_field_spec(spec: &str) -> Result<FieldSpec, String> {
    let mut parts = spec.split('|');
    let field = parts.next().unwrap_or_default().to_string();
    let mut op = Op::Equals;
    let mut flags = Flags::default();
    for m in parts {
        match m {
            "contains" => op = Op::Contains,
            "startswith" => op = Op::StartsWith,
            "endswith" => op = Op::EndsWith,
            "re" => op = Op::Regex,
            "cidr" => op = Op::Cidr,
            "exists" => op = Op::Exists,
            "gt" => op = Op::Gt,
            "gte" => op = Op::Gte,
            "lt" => op = Op::Lt,
            "lte" => op = Op::Lte,
            "neq" => op = Op::NotEquals,
            "all" => flags.all = true,
            "cased" => flags.cased = true,
            "i" => flags.regex.ignore_case = true,
            "m" => flags.regex.multi_line = true,
            "s" => flags.regex.dot_all = true,
            "windash" => flags.windash = true,
            other => {
                return Err(format!(
                    "modifier `{other}` is not supported in pipeline conditions (`{spec}`)"
                ));
            }
        }
    }
    Ok(FieldSpec { field, op, flags })
}

/// Builds the predicate `spec: values` (values are alternatives unless `|all`).
pub fn build(spec: &str, values: &[Scalar]) -> Result<Predicate, String> {
    let FieldSpec { field, op, flags } = parse_field_spec(spec)?;
    let values = values
        .iter()
        .map(|v| value(v, op))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Predicate {
        field: Some(field),
        op,
        values,
        flags,
        span: Span::default(),
    })
}

fn value(v: &Scalar, op: Op) -> Result<Value, String> {
    Ok(match (v, op) {
        (Scalar::Str(s), Op::Regex) => Value::Regex(s.clone()),
        (Scalar::Str(s), Op::Cidr) => Value::Cidr(
            s.parse()
                .map_err(|_| format!("`{s}` is not a network in CIDR notation"))?,
        ),
        (Scalar::Str(s), _) => Value::Str(Pattern::parse_sigma(s, false)),
        (Scalar::Int(i), _) => Value::Int(*i),
        (Scalar::Float(f), _) => Value::Float(*f),
        (Scalar::Bool(b), _) => Value::Bool(*b),
        (Scalar::Null, _) => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_select_operator_and_flags() {
        let p = build("Image|endswith|cased", &[Scalar::Str("\\x.exe".into())]).expect("valid");
        assert_eq!(p.field.as_deref(), Some("Image"));
        assert_eq!(p.op, Op::EndsWith);
        assert!(p.flags.cased);
        assert_eq!(p.values, vec![Value::str("\\x.exe")]);
    }

    #[test]
    fn wildcards_in_values_are_sigma_wildcards() {
        let p = build("Channel", &[Scalar::Str("Microsoft-*".into())]).expect("valid");
        let Value::Str(pat) = &p.values[0] else {
            panic!("expected a string value")
        };
        assert!(pat.has_wildcards());
    }

    #[test]
    fn unknown_modifiers_are_errors() {
        assert!(build("a|base64offset", &[Scalar::Int(1)]).is_err());
        assert!(build("a|cidr", &[Scalar::Str("nope".into())]).is_err());
    }
}
