//! The rule model: metadata, logsource and body.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{AttackRef, Condition, Correlation, Expr, Filter, Span, parse_attack_tag};

/// The language a rule was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleLanguage {
    /// Sigma YAML.
    Sigma,
    /// Elastic detection rule (TOML with an EQL, KQL, ES|QL or Lucene query).
    Elastic,
}

impl RuleLanguage {
    /// The short name used in reports (`sigma`, `elastic`).
    pub fn name(self) -> &'static str {
        match self {
            RuleLanguage::Sigma => "sigma",
            RuleLanguage::Elastic => "elastic",
        }
    }
}

/// Maturity of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Unsupported by common backends (special syntax).
    Unsupported,
    /// Deprecated.
    Deprecated,
    /// Newly written, not tested much.
    Experimental,
    /// Tested, may need tuning.
    Test,
    /// Stable.
    Stable,
}

impl Status {
    /// Parses a Sigma status.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "stable" => Status::Stable,
            "test" => Status::Test,
            "experimental" => Status::Experimental,
            "deprecated" => Status::Deprecated,
            "unsupported" => Status::Unsupported,
            _ => return None,
        })
    }

    /// The Sigma name.
    pub fn name(self) -> &'static str {
        match self {
            Status::Stable => "stable",
            Status::Test => "test",
            Status::Experimental => "experimental",
            Status::Deprecated => "deprecated",
            Status::Unsupported => "unsupported",
        }
    }
}

/// Severity of what a rule detects, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Informational.
    Informational,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Level {
    /// Parses a Sigma level (Elastic severities map onto the same names).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "informational" | "info" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    /// The Sigma name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the events a rule needs come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogSource {
    /// e.g. `process_creation`.
    pub category: Option<String>,
    /// e.g. `windows`.
    pub product: Option<String>,
    /// e.g. `security`, `sysmon`.
    pub service: Option<String>,
    /// Free text on how to collect the events.
    pub definition: Option<String>,
    /// Any other keys, as text.
    pub custom: BTreeMap<String, String>,
}

/// A link from a rule to another rule (`related:`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Related {
    /// The other rule's id.
    pub id: String,
    /// `derived`, `obsolete`, `merged`, `renamed` or `similar`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A named search (a Sigma search identifier; sigil calls it a *stage*).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Search {
    /// The identifier.
    pub name: String,
    /// Its logic.
    pub expr: Expr,
    /// Where the identifier was written.
    pub span: Span,
}

/// Named searches and the condition over them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// The searches, in source order.
    pub searches: Vec<Search>,
    /// The conditions. Sigma allows a list: each one is a separate query (pySigma emits
    /// one query per condition); the rule matches when any does.
    pub conditions: Vec<Condition>,
    /// Where the condition was written.
    pub condition_span: Span,
}

impl Detection {
    /// The search named `name`.
    pub fn search(&self, name: &str) -> Option<&Search> {
        self.searches.iter().find(|s| s.name == name)
    }

    /// The indices of the searches a selector picks, in source order.
    pub fn selected(&self, selector: &crate::Selector) -> Vec<usize> {
        self.searches
            .iter()
            .enumerate()
            .filter(|(_, s)| selector.matches(&s.name))
            .map(|(i, _)| i)
            .collect()
    }

    /// A condition with every search reference replaced by its expression and every
    /// selector expanded: one expression for the whole detection. Unknown names become
    /// an empty `Or` (false); front ends report them.
    pub fn resolve(&self, condition: &Condition) -> Expr {
        match condition {
            Condition::And(v) => Expr::And(v.iter().map(|c| self.resolve(c)).collect()),
            Condition::Or(v) => Expr::Or(v.iter().map(|c| self.resolve(c)).collect()),
            Condition::Not(c) => Expr::Not(Box::new(self.resolve(c))),
            Condition::Search { name, .. } => self
                .search(name)
                .map_or_else(|| Expr::Or(Vec::new()), |s| s.expr.clone()),
            Condition::OneOf(sel) => Expr::Or(
                self.selected(sel)
                    .into_iter()
                    .map(|i| self.searches[i].expr.clone())
                    .collect(),
            ),
            Condition::AllOf(sel) => Expr::And(
                self.selected(sel)
                    .into_iter()
                    .map(|i| self.searches[i].expr.clone())
                    .collect(),
            ),
        }
    }

    /// All conditions resolved and or-ed: the detection as one expression.
    pub fn to_expr(&self) -> Expr {
        match self.conditions.as_slice() {
            [one] => self.resolve(one),
            many => Expr::Or(many.iter().map(|c| self.resolve(c)).collect()),
        }
    }
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum RuleBody {
    /// A plain detection over single events.
    Detection(Detection),
    /// A correlation over the detections of other rules.
    Correlation(Correlation),
    /// A filter that narrows other rules.
    Filter(Filter),
}

/// Reads what `Serialize` writes: a map whose first entry is `type`, then the variant's
/// fields. Serde's derived reader of an internally tagged enum buffers the whole map
/// first (the tag may come anywhere); with the tag first, the rest is read straight into
/// the variant.
impl<'de> Deserialize<'de> for RuleBody {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Body;
        impl<'de> serde::de::Visitor<'de> for Body {
            type Value = RuleBody;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a rule body: a map with `type` first")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RuleBody, A::Error> {
                use serde::de::{Error, value::MapAccessDeserializer};
                match map.next_key::<String>()?.as_deref() {
                    Some("type") => {}
                    _ => return Err(A::Error::custom("a rule body starts with `type`")),
                }
                let kind: String = map.next_value()?;
                let rest = MapAccessDeserializer::new(map);
                match kind.as_str() {
                    "detection" => Detection::deserialize(rest).map(RuleBody::Detection),
                    "correlation" => Correlation::deserialize(rest).map(RuleBody::Correlation),
                    "filter" => Filter::deserialize(rest).map(RuleBody::Filter),
                    other => Err(A::Error::unknown_variant(
                        other,
                        &["detection", "correlation", "filter"],
                    )),
                }
            }
        }
        deserializer.deserialize_map(Body)
    }
}

/// A detection rule of any language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The language it was written in.
    pub language: RuleLanguage,
    /// Unique id (a UUID for Sigma, `rule_id` for Elastic).
    pub id: Option<String>,
    /// Optional unique name other rules may refer to (Sigma `name`).
    pub name: Option<String>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Status.
    pub status: Option<Status>,
    /// Level.
    pub level: Option<Level>,
    /// Author(s), as written.
    pub author: Option<String>,
    /// Creation date, as written (`YYYY-MM-DD` or `YYYY/MM/DD`).
    pub date: Option<String>,
    /// Last modification date, as written.
    pub modified: Option<String>,
    /// References (URLs mostly).
    pub references: Vec<String>,
    /// Tags (`attack.t1059.001`, `cve.2021-44228`, ...).
    pub tags: Vec<String>,
    /// Known false positives.
    pub falsepositives: Vec<String>,
    /// Fields worth showing with a detection.
    pub fields: Vec<String>,
    /// License of the rule.
    pub license: Option<String>,
    /// Links to other rules.
    pub related: Vec<Related>,
    /// Scope (e.g. `server`).
    pub scope: Vec<String>,
    /// The field-name taxonomy (Sigma `taxonomy`, default `sigma`).
    pub taxonomy: Option<String>,
    /// Where the events come from.
    pub logsource: LogSource,
    /// Detection, correlation or filter.
    pub body: RuleBody,
    /// Other top-level keys and language-specific metadata, as text (e.g. Elastic's
    /// `risk_score`, `index`).
    pub custom: BTreeMap<String, String>,
    /// The query text the body was lowered from, for languages written as a query
    /// (Elastic EQL, KQL, ES|QL, Lucene); `None` for Sigma.
    pub query: Option<QuerySource>,
    /// Why the body does not capture the rule's whole meaning: parts that the IR cannot
    /// express (EQL arithmetic, ES|QL, machine-learning jobs, ...). Empty when the body is
    /// faithful. Consumers that evaluate or convert the body must report these rather
    /// than act as if the body were the rule.
    pub not_evaluable: Vec<NotEvaluable>,
    /// Where the rule starts in its file.
    pub span: Span,
}

/// A rule's query as written, with its language and position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuerySource {
    /// The query language as the rule names it (`eql`, `kuery`, `esql`, `lucene`).
    pub language: String,
    /// The query text.
    pub text: String,
    /// Where the query text starts in the rule file.
    pub span: Span,
}

/// A part of a rule that the IR cannot express, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotEvaluable {
    /// What is missing, in one sentence (e.g. "ES|QL queries are not evaluated yet").
    pub reason: String,
    /// Where the construct was written (in the rule file), when known.
    pub span: Span,
}

impl Rule {
    /// Whether the rule's author disabled it (Elastic `enabled = false`): it is shipped
    /// as an example or a template, not to run.
    pub fn is_disabled(&self) -> bool {
        self.custom
            .get("enabled")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
    }

    /// An empty detection rule with `title`, for front ends and tests to fill in.
    pub fn new(language: RuleLanguage, title: impl Into<String>) -> Self {
        Self {
            language,
            id: None,
            name: None,
            title: title.into(),
            description: None,
            status: None,
            level: None,
            author: None,
            date: None,
            modified: None,
            references: Vec::new(),
            tags: Vec::new(),
            falsepositives: Vec::new(),
            fields: Vec::new(),
            license: None,
            related: Vec::new(),
            scope: Vec::new(),
            taxonomy: None,
            logsource: LogSource::default(),
            body: RuleBody::Detection(Detection::default()),
            custom: BTreeMap::new(),
            query: None,
            not_evaluable: Vec::new(),
            span: Span::default(),
        }
    }

    /// Whether the body captures the whole rule (nothing in [`Rule::not_evaluable`]).
    pub fn is_evaluable(&self) -> bool {
        self.not_evaluable.is_empty()
    }

    /// The plain detection, if the rule is one.
    pub fn detection(&self) -> Option<&Detection> {
        match &self.body {
            RuleBody::Detection(d) => Some(d),
            RuleBody::Filter(f) => Some(&f.detection),
            RuleBody::Correlation(_) => None,
        }
    }

    /// The ATT&CK tactics and techniques named by the tags.
    pub fn attack(&self) -> Vec<AttackRef> {
        self.tags
            .iter()
            .filter_map(|t| parse_attack_tag(t))
            .collect()
    }

    /// The id if there is one, else the name, else the title: how other tools refer to it.
    pub fn display_id(&self) -> &str {
        self.id
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or(&self.title)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CorrelationKind, Filter};

    #[test]
    fn rule_bodies_read_back_what_they_write() {
        let detection = Detection {
            condition_span: Span {
                line: 3,
                column: 4,
                ..Span::default()
            },
            ..Detection::default()
        };
        let bodies = [
            RuleBody::Detection(detection.clone()),
            RuleBody::Correlation(Correlation {
                kind: CorrelationKind::TemporalOrdered,
                rules: Vec::new(),
                aliases: Vec::new(),
                group_by: vec!["Computer".to_string()],
                timespan_secs: 300,
                timespan: "5m".to_string(),
                condition: None,
                generate: true,
            }),
            RuleBody::Filter(Filter {
                rules: Vec::new(),
                detection,
            }),
        ];
        for body in bodies {
            let text = serde_json::to_string(&body).unwrap();
            assert!(text.starts_with(r#"{"type":"#), "{text}");
            let back: RuleBody = serde_json::from_str(&text).unwrap();
            assert_eq!(back, body, "{text}");
        }
        // The tag must come first; an unknown tag is an error, not a guess.
        assert!(serde_json::from_str::<RuleBody>(r#"{"searches":[],"type":"detection"}"#).is_err());
        assert!(serde_json::from_str::<RuleBody>(r#"{"type":"sequence"}"#).is_err());
    }
}
