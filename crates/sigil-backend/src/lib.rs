//! Converts sigil's detection IR into the query languages of the engines detection
//! engineers run: Splunk SPL, Elasticsearch Lucene query strings, EQL and ES|QL,
//! Microsoft Kusto, SQLite, and the others listed in [`targets::ALL`].
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
//! capability flags), the few hooks it overrides, and a [`TargetInfo`] naming it, its
//! default pipeline and its output formats. A [`Conversion`] runs a target's pipelines
//! (`sigil-pipeline`) before rendering. The output follows the reference
//! converter, pySigma, so that existing queries and tests carry over.
//!
//! ```
//! use sigil_backend::{convert_rule, TargetInfo};
//! # use sigil_core::{Rule, RuleLanguage, RuleBody, Detection, Search, Condition, Expr, Predicate, Op, Value, Span};
//! # let mut rule = Rule::new(RuleLanguage::Sigma, "t");
//! # rule.body = RuleBody::Detection(Detection {
//! #     searches: vec![Search { name: "sel".into(), span: Span::default(),
//! #         expr: Expr::Pred(Predicate::new(Some("Image".into()), Op::EndsWith, vec![Value::str("\\cmd.exe")])) }],
//! #     conditions: vec![Condition::Search { name: "sel".into(), span: Span::default() }],
//! #     condition_span: Span::default() });
//! let splunk = TargetInfo::find("splunk").unwrap();
//! let queries = convert_rule(&rule, splunk, &Default::default()).unwrap();
//! assert_eq!(queries, [r#"Image="*\\cmd.exe""#]);
//! ```

use std::collections::BTreeMap;

use sigil_core::{Rule, RuleBody};

pub mod cidr;
pub mod conversion;
pub mod dialect;
pub mod error;
pub mod format;
pub mod job;
pub mod lower;
pub mod registry;
pub mod render;
pub mod targets;
pub mod tree;

pub use conversion::{Conversion, ConvertedRule, Pipelines};
pub use error::{ConvertError, SetupError};
pub use registry::TargetInfo;
pub use render::Target;

/// Converts a rule: one query per condition. `state` carries what pipelines decided
/// (e.g. `query_table` for Kusto, `index` for ES|QL). To run the target's pipelines too,
/// use a [`Conversion`].
pub fn convert_rule(
    rule: &Rule,
    target: &TargetInfo,
    state: &BTreeMap<String, String>,
) -> Result<Vec<String>, ConvertError> {
    let detection = match &rule.body {
        RuleBody::Detection(d) => d,
        RuleBody::Filter(_) => return Err(ConvertError::NotADetection("filter")),
        RuleBody::Correlation(_) => return Err(ConvertError::NotADetection("correlation")),
    };
    let ctx = render::QueryContext { rule, state };
    let mut queries = Vec::new();
    for node in lower::lower_detection(detection)? {
        queries.extend(convert_node(&node, target, &ctx)?);
    }
    Ok(queries)
}

/// Prints one query tree as whole queries of `target`: one, or several when the target
/// splits a query too long for its engine ([`render::Target::split`]).
pub fn convert_node(
    node: &tree::Node,
    target: &TargetInfo,
    ctx: &render::QueryContext<'_>,
) -> Result<Vec<String>, ConvertError> {
    let t = target.renderer;
    let mut r = render::Render::new(t);
    let query = t.query(&mut r, node, ctx)?;
    match t.split(node, &query) {
        None => Ok(vec![query]),
        Some(parts) => parts
            .iter()
            .map(|part| t.query(&mut render::Render::new(t), part, ctx))
            .collect(),
    }
}
