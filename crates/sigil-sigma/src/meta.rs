//! Meta rules: correlations (`correlation:`) and filters (`filter:`).

use sigil_core::correlation::parse_timespan;
use sigil_core::{
    Correlation, CorrelationCondition, CorrelationKind, CorrelationRef, FieldAlias, Filter, Op,
};

use crate::SigmaError;
use crate::document::{Reader, read_detection};
use crate::yaml::{Node, NodeValue, Resolved};

fn meta_error(message: impl Into<String>, node: &Node<'_>) -> SigmaError {
    SigmaError::Meta {
        message: message.into(),
        span: node.span,
    }
}

/// `rules:` — one reference or a list of them.
fn read_refs(section: &str, node: &Node<'_>) -> Result<Vec<CorrelationRef>, SigmaError> {
    let items: Vec<&Node<'_>> = match &node.value {
        NodeValue::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item.as_text() {
            Some(t) if item.as_scalar().is_some() => out.push(CorrelationRef {
                reference: t.to_string(),
                span: item.span,
            }),
            _ => {
                return Err(meta_error(
                    format!(
                        "`{section}.rules` must list rule ids or names, not {}",
                        item.kind_name()
                    ),
                    item,
                ));
            }
        }
    }
    if out.is_empty() {
        return Err(meta_error(format!("`{section}.rules` is empty"), node));
    }
    Ok(out)
}

fn number(node: &Node<'_>) -> Option<f64> {
    match node.as_scalar()?.resolve() {
        Resolved::Int(i) => Some(i as f64),
        Resolved::Float(f) => Some(f),
        Resolved::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Lowers a `correlation:` section.
pub(crate) fn lower_correlation(
    _r: &mut Reader<'_>,
    node: &Node<'_>,
) -> Result<Correlation, SigmaError> {
    if node.as_map().is_none() {
        return Err(meta_error(
            format!("`correlation` must be a mapping, not {}", node.kind_name()),
            node,
        ));
    }
    let kind_node = node.get("type").ok_or(SigmaError::Missing {
        field: "correlation.type",
        span: node.span,
    })?;
    let kind_text = kind_node.as_text().unwrap_or("");
    let kind = CorrelationKind::from_name(kind_text).ok_or_else(|| {
        meta_error(
            format!(
                "unknown correlation type `{kind_text}` (expected event_count, value_count, temporal, temporal_ordered, value_sum, value_avg, value_percentile or value_median)"
            ),
            kind_node,
        )
    })?;
    let rules = read_refs(
        "correlation",
        node.get("rules").ok_or(SigmaError::Missing {
            field: "correlation.rules",
            span: node.span,
        })?,
    )?;

    let mut group_by = Vec::new();
    if let Some(g) = node.get("group-by") {
        let items: Vec<&Node<'_>> = match &g.value {
            NodeValue::Seq(items) => items.iter().collect(),
            _ => vec![g],
        };
        for item in items {
            match item.as_text() {
                Some(t) => group_by.push(t.to_string()),
                None => {
                    return Err(meta_error(
                        "`correlation.group-by` must list field names",
                        item,
                    ));
                }
            }
        }
    }

    let span_node = node
        .get("timespan")
        .or_else(|| node.get("timeframe"))
        .ok_or(SigmaError::Missing {
            field: "correlation.timespan",
            span: node.span,
        })?;
    let timespan = span_node.as_text().unwrap_or("").to_string();
    let timespan_secs = parse_timespan(&timespan).ok_or_else(|| {
        meta_error(
            format!("`{timespan}` is not a time span (a number and one of s, m, h, d, w, M, y)"),
            span_node,
        )
    })?;

    let mut aliases = Vec::new();
    if let Some(a) = node.get("aliases") {
        let Some(pairs) = a.as_map() else {
            return Err(meta_error("`correlation.aliases` must be a mapping", a));
        };
        for (alias, mapping) in pairs {
            let Some(alias_name) = alias.as_text() else {
                return Err(meta_error("an alias name must be a string", alias));
            };
            let Some(m) = mapping.as_map() else {
                return Err(meta_error(
                    format!("alias `{alias_name}` must map rule names to field names"),
                    mapping,
                ));
            };
            let mut pairs_out = Vec::with_capacity(m.len());
            for (rule, field) in m {
                match (rule.as_text(), field.as_text()) {
                    (Some(r), Some(f)) => pairs_out.push((r.to_string(), f.to_string())),
                    _ => {
                        return Err(meta_error(
                            format!("alias `{alias_name}` must map rule names to field names"),
                            rule,
                        ));
                    }
                }
            }
            aliases.push(FieldAlias {
                alias: alias_name.to_string(),
                mapping: pairs_out,
            });
        }
    }

    let condition = match node.get("condition") {
        None => {
            if matches!(
                kind,
                CorrelationKind::Temporal | CorrelationKind::TemporalOrdered
            ) {
                None
            } else {
                return Err(SigmaError::Missing {
                    field: "correlation.condition",
                    span: node.span,
                });
            }
        }
        Some(c) => Some(read_correlation_condition(kind, c)?),
    };

    let generate = match node.get("generate") {
        None => false,
        Some(g) => match g.as_scalar().map(crate::yaml::Scalar::resolve) {
            Some(Resolved::Bool(b)) => b,
            _ => {
                return Err(meta_error(
                    "`correlation.generate` must be true or false",
                    g,
                ));
            }
        },
    };

    Ok(Correlation {
        kind,
        rules,
        aliases,
        group_by,
        timespan_secs,
        timespan,
        condition,
        generate,
    })
}

fn read_correlation_condition(
    kind: CorrelationKind,
    node: &Node<'_>,
) -> Result<CorrelationCondition, SigmaError> {
    let Some(pairs) = node.as_map() else {
        return Err(meta_error(
            "`correlation.condition` must be a mapping such as `gte: 10`",
            node,
        ));
    };
    let mut cond = CorrelationCondition::default();
    for (k, v) in pairs {
        let key = k.as_text().unwrap_or("");
        let op = match key {
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "eq" => Op::Equals,
            "field" => {
                cond.field = Some(
                    v.as_text()
                        .ok_or_else(|| meta_error("`condition.field` must be a field name", v))?
                        .to_string(),
                );
                continue;
            }
            "percentile" => {
                cond.percentile = Some(
                    number(v)
                        .ok_or_else(|| meta_error("`condition.percentile` must be a number", v))?,
                );
                continue;
            }
            _ => {
                return Err(meta_error(
                    format!(
                        "unknown correlation condition `{key}` (expected gt, gte, lt, lte, eq, field)"
                    ),
                    k,
                ));
            }
        };
        let n = number(v)
            .ok_or_else(|| meta_error(format!("`condition.{key}` must be a number"), v))?;
        cond.comparisons.push((op, n));
    }
    if kind.needs_field() && cond.field.is_none() {
        return Err(SigmaError::Missing {
            field: "correlation.condition.field",
            span: node.span,
        });
    }
    if cond.comparisons.is_empty() {
        return Err(meta_error(
            "`correlation.condition` needs a comparison (gt, gte, lt, lte or eq)",
            node,
        ));
    }
    Ok(cond)
}

/// Lowers a `filter:` section: `rules` and searches with a condition.
pub(crate) fn lower_filter(r: &mut Reader<'_>, node: &Node<'_>) -> Result<Filter, SigmaError> {
    if node.as_map().is_none() {
        return Err(meta_error(
            format!("`filter` must be a mapping, not {}", node.kind_name()),
            node,
        ));
    }
    let rules = read_refs(
        "filter",
        node.get("rules").ok_or(SigmaError::Missing {
            field: "filter.rules",
            span: node.span,
        })?,
    )?;
    let (detection, _) = read_detection(r, node.clone(), true, false);
    Ok(Filter { rules, detection })
}
