//! Sigma correlation rules and filters (meta rules that refer to other rules).

use serde::{Deserialize, Serialize};

use crate::{Detection, Op, Span};

/// The kind of a correlation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationKind {
    /// Number of events per group in the time span.
    EventCount,
    /// Number of distinct values of a field per group.
    ValueCount,
    /// All referenced rules fire within the time span, in any order.
    Temporal,
    /// All referenced rules fire within the time span, in the listed order.
    TemporalOrdered,
    /// Sum of a numeric field.
    ValueSum,
    /// Average of a numeric field.
    ValueAvg,
    /// A percentile of a numeric field.
    ValuePercentile,
    /// Median of a numeric field.
    ValueMedian,
}

impl CorrelationKind {
    /// The Sigma name (`event_count`, ...).
    pub fn name(self) -> &'static str {
        match self {
            CorrelationKind::EventCount => "event_count",
            CorrelationKind::ValueCount => "value_count",
            CorrelationKind::Temporal => "temporal",
            CorrelationKind::TemporalOrdered => "temporal_ordered",
            CorrelationKind::ValueSum => "value_sum",
            CorrelationKind::ValueAvg => "value_avg",
            CorrelationKind::ValuePercentile => "value_percentile",
            CorrelationKind::ValueMedian => "value_median",
        }
    }

    /// Parses a Sigma correlation type name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "event_count" => CorrelationKind::EventCount,
            "value_count" => CorrelationKind::ValueCount,
            "temporal" => CorrelationKind::Temporal,
            "temporal_ordered" => CorrelationKind::TemporalOrdered,
            "value_sum" => CorrelationKind::ValueSum,
            "value_avg" => CorrelationKind::ValueAvg,
            "value_percentile" => CorrelationKind::ValuePercentile,
            "value_median" => CorrelationKind::ValueMedian,
            _ => return None,
        })
    }

    /// Whether the kind aggregates a field (and so its condition needs `field`).
    pub fn needs_field(self) -> bool {
        !matches!(
            self,
            CorrelationKind::EventCount
                | CorrelationKind::Temporal
                | CorrelationKind::TemporalOrdered
        )
    }
}

/// A reference from a meta rule to another rule, by id or by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrelationRef {
    /// The id or name as written.
    pub reference: String,
    /// Where it was written.
    pub span: Span,
}

/// A field alias of a correlation: one name for fields that differ between rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldAlias {
    /// The alias used in `group-by` / the condition.
    pub alias: String,
    /// `(rule reference, field name in that rule's events)`.
    pub mapping: Vec<(String, String)>,
}

/// The threshold of a correlation: `field` (for value_* kinds) and comparisons that
/// must all hold (e.g. `gte: 10` and `lt: 100`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CorrelationCondition {
    /// The aggregated field, for kinds that need one.
    pub field: Option<String>,
    /// `(comparison, number)` pairs; `Op` is one of `Lt`, `Lte`, `Gt`, `Gte`, `Equals`.
    pub comparisons: Vec<(Op, f64)>,
    /// The percentile rank for `value_percentile` (e.g. 95).
    pub percentile: Option<f64>,
}

impl CorrelationCondition {
    /// Whether `value` satisfies every comparison.
    pub fn holds(&self, value: f64) -> bool {
        self.comparisons.iter().all(|&(op, n)| match op {
            Op::Lt => value < n,
            Op::Lte => value <= n,
            Op::Gt => value > n,
            Op::Gte => value >= n,
            Op::Equals => (value - n).abs() < f64::EPSILON,
            _ => false,
        })
    }
}

/// A correlation rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    /// What is counted or sequenced.
    pub kind: CorrelationKind,
    /// The rules correlated, in order (the order matters for `temporal_ordered`).
    pub rules: Vec<CorrelationRef>,
    /// Field aliases.
    pub aliases: Vec<FieldAlias>,
    /// Fields (or aliases) whose values form the groups.
    pub group_by: Vec<String>,
    /// The time window, in seconds.
    pub timespan_secs: u64,
    /// The time window as written (`5m`, `1h`, ...).
    pub timespan: String,
    /// The threshold (absent for temporal kinds without one).
    pub condition: Option<CorrelationCondition>,
    /// Whether the referenced rules also produce their own detections.
    pub generate: bool,
}

/// A Sigma filter (meta filter rule): extra conditions that exclude events from the
/// rules it names. Its detection's condition is combined as `rule and not filter`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    /// The rules the filter applies to.
    pub rules: Vec<CorrelationRef>,
    /// The filter's own searches and condition.
    pub detection: Detection,
}

/// Parses a Sigma time span (`30s`, `5m`, `1h`, `2d`, `1w`, `1M`, `1y`) into seconds.
pub fn parse_timespan(text: &str) -> Option<u64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: u64 = text[..text.len() - unit.len_utf8()].trim().parse().ok()?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        'M' => 30 * 86_400,
        'y' => 365 * 86_400,
        _ => return None,
    };
    number.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("5m"), Some(300));
        assert_eq!(parse_timespan("1h"), Some(3600));
        assert_eq!(parse_timespan("30s"), Some(30));
        assert_eq!(parse_timespan("1M"), Some(30 * 86_400));
        assert_eq!(parse_timespan("m"), None);
        assert_eq!(parse_timespan("5x"), None);
        assert_eq!(parse_timespan(""), None);
    }

    #[test]
    fn conditions_combine() {
        let c = CorrelationCondition {
            field: None,
            comparisons: vec![(Op::Gte, 10.0), (Op::Lt, 100.0)],
            percentile: None,
        };
        assert!(c.holds(10.0));
        assert!(!c.holds(100.0));
        assert!(!c.holds(9.0));
    }
}
