//! Converts sigil's detection IR into the query languages of the engines detection
//! engineers run: Splunk SPL, Elasticsearch Lucene query strings, EQL and ES|QL,
//! Microsoft KQL, and SQLite.
//!
//! The stages:
//!
//! | stage | module | output |
//! |---|---|---|
//! | resolve the condition, apply value modifiers | [`lower`] | a [`tree::Node`] per condition |
//! | print in a dialect | [`render`] with a [`dialect::Dialect`] | query text |
//! | finish per target (table, `any where`, deferred commands) | [`targets`] | one query |
//! | wrap for import (Splunk stanzas, Elastic rules) | [`format`] | files |
//!
//! Each target is a small module: its dialect as data (tokens, quoting, templates and
//! capability flags) plus the few hooks it overrides. The output follows the reference
//! converter, pySigma, so that existing queries and tests carry over.
//!
//! ```
//! use sigil_backend::{convert_rule, TargetName};
//! # use sigil_core::{Rule, RuleLanguage, RuleBody, Detection, Search, Condition, Expr, Predicate, Op, Value, Span};
//! # let mut rule = Rule::new(RuleLanguage::Sigma, "t");
//! # rule.body = RuleBody::Detection(Detection {
//! #     searches: vec![Search { name: "sel".into(), span: Span::default(),
//! #         expr: Expr::Pred(Predicate::new(Some("Image".into()), Op::EndsWith, vec![Value::str("\\cmd.exe")])) }],
//! #     conditions: vec![Condition::Search { name: "sel".into(), span: Span::default() }],
//! #     condition_span: Span::default() });
//! let queries = convert_rule(&rule, TargetName::Splunk, &Default::default()).unwrap();
//! assert_eq!(queries, [r#"Image="*\\cmd.exe""#]);
//! ```

use std::collections::BTreeMap;

use sigil_core::{Rule, RuleBody};

pub mod cidr;
pub mod dialect;
pub mod error;
pub mod format;
pub mod lower;
pub mod render;
pub mod targets;
pub mod tree;

pub use error::ConvertError;
pub use render::Target;

/// The targets sigil converts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TargetName {
    /// Splunk SPL.
    Splunk,
    /// Elasticsearch query string (Lucene syntax).
    Lucene,
    /// Elasticsearch EQL.
    Eql,
    /// Elasticsearch ES|QL.
    Esql,
    /// Microsoft KQL (Sentinel, Defender XDR).
    Kql,
    /// SQLite SQL.
    Sqlite,
    /// SentinelOne PowerQuery.
    SentinelOne,
    /// Palo Alto Cortex XDR XQL.
    CortexXdr,
    /// VMware Carbon Black Cloud (Enterprise EDR).
    CarbonBlack,
}

impl TargetName {
    /// Every target.
    pub const ALL: &[TargetName] = &[
        TargetName::Splunk,
        TargetName::Lucene,
        TargetName::Eql,
        TargetName::Esql,
        TargetName::Kql,
        TargetName::Sqlite,
        TargetName::SentinelOne,
        TargetName::CortexXdr,
        TargetName::CarbonBlack,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TargetName::Splunk => "splunk",
            TargetName::Lucene => "lucene",
            TargetName::Eql => "eql",
            TargetName::Esql => "esql",
            TargetName::Kql => "kql",
            TargetName::Sqlite => "sqlite",
            TargetName::SentinelOne => "sentinelone",
            TargetName::CarbonBlack => "carbonblack",
            TargetName::CortexXdr => "cortexxdr",
        }
    }

    /// Parses a target name (a few common aliases are accepted).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "splunk" | "spl" => TargetName::Splunk,
            "lucene" | "elasticsearch" | "es-qs" => TargetName::Lucene,
            "eql" => TargetName::Eql,
            "esql" | "es|ql" => TargetName::Esql,
            "kql" | "kusto" => TargetName::Kql,
            "sqlite" | "sql" => TargetName::Sqlite,
            "sentinelone" | "sentinel_one_pq" | "sentinelone-pq" => TargetName::SentinelOne,
            "carbonblack" | "carbon_black" | "carbon-black" => TargetName::CarbonBlack,
            "cortexxdr" | "cortex_xdr" | "cortex-xdr" | "xql" => TargetName::CortexXdr,
            _ => return None,
        })
    }

    /// The target implementation.
    pub fn target(self) -> &'static dyn Target {
        match self {
            TargetName::Splunk => &targets::splunk::Splunk,
            TargetName::Lucene => &targets::lucene::Lucene,
            TargetName::Eql => &targets::eql::Eql,
            TargetName::Esql => &targets::esql::Esql,
            TargetName::Kql => &targets::kql::Kql,
            TargetName::Sqlite => &targets::sqlite::Sqlite,
            TargetName::SentinelOne => &targets::sentinelone::SentinelOne,
            TargetName::CarbonBlack => &targets::carbonblack::CarbonBlack,
            TargetName::CortexXdr => &targets::cortexxdr::CortexXdr,
        }
    }
}

impl std::fmt::Display for TargetName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Converts a rule: one query per condition. `state` carries what pipelines decided
/// (e.g. `query_table` for KQL, `index` for ES|QL).
pub fn convert_rule(
    rule: &Rule,
    target: TargetName,
    state: &BTreeMap<String, String>,
) -> Result<Vec<String>, ConvertError> {
    let detection = match &rule.body {
        RuleBody::Detection(d) => d,
        RuleBody::Filter(_) => return Err(ConvertError::NotADetection("filter")),
        RuleBody::Correlation(_) => return Err(ConvertError::NotADetection("correlation")),
    };
    let ctx = render::QueryContext { rule, state };
    lower::lower_detection(detection)?
        .iter()
        .map(|node| convert_node(node, target, &ctx))
        .collect()
}

/// Prints one query tree as a whole query of `target`.
pub fn convert_node(
    node: &tree::Node,
    target: TargetName,
    ctx: &render::QueryContext<'_>,
) -> Result<String, ConvertError> {
    if target == TargetName::Splunk {
        return targets::splunk::Splunk.render(node, ctx);
    }
    let t = target.target();
    let mut r = render::Render::new(t);
    let out = r.convert(node)?;
    t.finish(&r, out, ctx)
}
