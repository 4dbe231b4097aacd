//! Rules built by hand for the tests.
#![allow(dead_code)]

use sigil_core::{
    Condition, Detection, Expr, LogSource, Op, Pattern, Predicate, Rule, RuleBody, RuleLanguage,
    Search, Span, Value,
};

/// A predicate `field: value` (plain equality).
pub fn eq(field: &str, value: Value) -> Expr {
    Expr::Pred(Predicate::new(
        Some(field.to_string()),
        Op::Equals,
        vec![value],
    ))
}

/// A predicate `field` with `op` over string values in Sigma syntax.
pub fn pred(field: &str, op: Op, values: &[&str]) -> Expr {
    Expr::Pred(Predicate::new(
        Some(field.to_string()),
        op,
        values
            .iter()
            .map(|v| Value::Str(Pattern::parse_sigma(v, false)))
            .collect(),
    ))
}

/// A reference to a search in a condition.
pub fn search(name: &str) -> Condition {
    Condition::Search {
        name: name.to_string(),
        span: Span::default(),
    }
}

/// A rule with a logsource, searches and one condition.
pub fn rule(
    category: Option<&str>,
    product: Option<&str>,
    service: Option<&str>,
    searches: Vec<(&str, Expr)>,
    condition: Condition,
) -> Rule {
    let mut r = Rule::new(RuleLanguage::Sigma, "test rule");
    r.id = Some("00000000-0000-0000-0000-000000000001".to_string());
    r.logsource = LogSource {
        category: category.map(str::to_string),
        product: product.map(str::to_string),
        service: service.map(str::to_string),
        ..LogSource::default()
    };
    r.body = RuleBody::Detection(Detection {
        searches: searches
            .into_iter()
            .map(|(name, expr)| Search {
                name: name.to_string(),
                expr,
                span: Span::default(),
            })
            .collect(),
        conditions: vec![condition],
        condition_span: Span::default(),
    });
    r
}

/// A `process_creation` rule on Windows: `selection: Image|endswith: \x.exe` with
/// `condition: selection`.
pub fn process_creation() -> Rule {
    rule(
        Some("process_creation"),
        Some("windows"),
        None,
        vec![(
            "selection",
            Expr::And(vec![pred("Image", Op::EndsWith, &["\\x.exe"])]),
        )],
        search("selection"),
    )
}

/// The detection of a processed rule.
pub fn detection(rule: &Rule) -> &Detection {
    rule.detection().expect("a detection rule")
}

/// Every predicate of every search, as `(field, values as text)`.
pub fn fields(rule: &Rule) -> Vec<(Option<String>, Vec<String>)> {
    let mut out = Vec::new();
    for s in &detection(rule).searches {
        s.expr.for_each_predicate(&mut |p| {
            out.push((
                p.field.clone(),
                p.values.iter().map(Value::to_text).collect(),
            ));
        });
    }
    out
}
