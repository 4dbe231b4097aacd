//! Rules to queries for the published pages: every target a page shows, each through the
//! target's default pipeline (Sysmon event ids for Splunk, ECS for Elasticsearch, Defender
//! XDR tables for Kusto), the same as `sigil convert`'s.

use std::collections::BTreeMap;

use serde::Serialize;
use sigil_backend::{Conversion as TargetConversion, TargetInfo};
use sigil_core::{Expr, Rule, RuleBody};

/// One target as the pages show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetSpec {
    /// The backend target's name.
    pub target: &'static str,
    /// The tab label (`Splunk`).
    pub label: &'static str,
}

/// The targets every rule page shows, in tab order. Each converts through its default
/// pipeline (`sigil convert --list-targets`).
pub const TARGETS: [TargetSpec; 4] = [
    TargetSpec {
        target: "splunk",
        label: "Splunk",
    },
    TargetSpec {
        target: "lucene",
        label: "Lucene",
    },
    TargetSpec {
        target: "eql",
        label: "EQL",
    },
    TargetSpec {
        target: "kusto",
        label: "Kusto",
    },
];

/// One rule converted to one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conversion {
    /// Target name (`splunk`).
    pub target: String,
    /// Tab label (`Splunk`).
    pub label: String,
    /// The pipeline applied, `none` when the rule's fields were kept as written.
    pub pipeline: String,
    /// One query per condition; empty when the conversion failed.
    pub queries: Vec<String>,
    /// Why the rule does not convert to this target.
    pub error: Option<String>,
    /// The conditions the pipeline adds to the rule (`EventID = 7`), as text.
    pub added: Vec<String>,
}

/// The targets of [`TARGETS`] with their default pipelines, loaded once.
#[derive(Debug)]
pub struct Converter {
    sets: Vec<(TargetSpec, Result<TargetConversion, String>)>,
}

impl Default for Converter {
    fn default() -> Self {
        Self::new()
    }
}

impl Converter {
    /// Loads the targets' default pipelines.
    pub fn new() -> Self {
        let sets = TARGETS
            .iter()
            .map(|spec| {
                let conversion = TargetInfo::find(spec.target)
                    .ok_or_else(|| format!("unknown target `{}`", spec.target))
                    .and_then(|t| TargetConversion::with_default(t).map_err(|e| e.to_string()));
                (*spec, conversion)
            })
            .collect();
        Self { sets }
    }

    /// Converts `rule` to every target. Sigma rules go through each target's pipeline;
    /// Elastic rules already use ECS names, so they convert as written.
    pub fn convert(&self, rule: &Rule) -> Vec<Conversion> {
        self.sets
            .iter()
            .map(|(spec, conversion)| convert_one(rule, *spec, conversion))
            .collect()
    }
}

fn convert_one(
    rule: &Rule,
    spec: TargetSpec,
    conversion: &Result<TargetConversion, String>,
) -> Conversion {
    let mut out = Conversion {
        target: spec.target.to_string(),
        label: spec.label.to_string(),
        pipeline: "none".to_string(),
        queries: Vec::new(),
        error: None,
        added: Vec::new(),
    };
    let conversion = match conversion {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(e.clone());
            return out;
        }
    };
    if rule.language == sigil_core::RuleLanguage::Sigma {
        let names = conversion.pipeline_names();
        if !names.is_empty() {
            out.pipeline = names.join(", ");
        }
    }
    let result = conversion.process(rule).and_then(|p| {
        out.added = added_conditions(rule, &p.rule);
        conversion.render(&p)
    });
    match result {
        Ok(q) => out.queries = q,
        Err(e) => out.error = Some(e.to_string()),
    }
    out
}

/// The searches a pipeline added (pipelines add conditions as new searches), as text.
fn added_conditions(before: &Rule, after: &Rule) -> Vec<String> {
    let (RuleBody::Detection(b), RuleBody::Detection(a)) = (&before.body, &after.body) else {
        return Vec::new();
    };
    a.searches
        .iter()
        .filter(|s| !b.searches.iter().any(|o| o.name == s.name))
        .map(|s| expr_text(&s.expr))
        .collect()
}

/// A short, readable form of an expression for the Enrichment row.
pub fn expr_text(e: &Expr) -> String {
    let join = |v: &[Expr], op: &str| {
        let parts: Vec<String> = v.iter().map(expr_text).collect();
        if parts.len() == 1 {
            parts.join("")
        } else {
            format!("({})", parts.join(op))
        }
    };
    match e {
        Expr::And(v) => join(v, " and "),
        Expr::Or(v) => join(v, " or "),
        Expr::Not(inner) => format!("not {}", expr_text(inner)),
        Expr::Pred(p) => {
            let values: Vec<String> = p.values.iter().map(ToString::to_string).collect();
            let values = if values.len() == 1 {
                values.join("")
            } else {
                format!("({})", values.join(", "))
            };
            let op = match p.op {
                sigil_core::Op::Equals => "=".to_string(),
                other => other.kind().to_string(),
            };
            match &p.field {
                Some(f) => format!("{f} {op} {values}"),
                None => values,
            }
        }
    }
}

/// What the pipelines add to a rule, for the pages' "Enrichment" row: per pipeline, the
/// conditions it adds (`sysmon: EventID = 7`); empty when no pipeline adds any.
pub fn enrichment(conversions: &[Conversion]) -> Vec<String> {
    let mut seen: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in conversions {
        if c.added.is_empty() {
            continue;
        }
        let entry = seen.entry(c.pipeline.as_str()).or_default();
        for a in &c.added {
            if !entry.contains(&a.as_str()) {
                entry.push(a);
            }
        }
    }
    seen.into_iter()
        .map(|(p, items)| format!("{p}: {}", items.join(", ")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigma_rule_converts_to_every_target_through_its_pipeline() {
        let text = "title: t\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    ParentImage|endswith: '\\WmiPrvSE.exe'\n  condition: sel\n";
        let file = sigil_sigma::parse_str(text);
        let rule = file.rules.first().expect("one rule");
        let conv = Converter::new().convert(rule);
        assert_eq!(conv.len(), 4);
        let splunk = &conv[0];
        assert_eq!(splunk.target, "splunk");
        assert_eq!(splunk.pipeline, "sysmon");
        assert!(splunk.error.is_none(), "{:?}", splunk.error);
        assert!(
            splunk.queries[0].contains("WmiPrvSE.exe"),
            "{:?}",
            splunk.queries
        );
        let lucene = &conv[1];
        assert!(
            lucene.queries[0].contains("process.parent"),
            "{:?}",
            lucene.queries
        );
        assert_eq!(enrichment(&conv), ["sysmon: EventID = 1"]);
    }
}
