//! A target with the pipelines its rules go through: what `sigil convert`, the catalog
//! pages and the server's API share.
//!
//! Which pipelines run for a target:
//!
//! - none chosen: the target's [`TargetInfo::default_pipeline`], if it has one;
//! - chosen (`-p`): those that are for the target (a pipeline's `allowed_backends` names
//!   it, or is empty); when none of them is, the default still runs, so that
//!   `-t kusto -t splunk -p splunk_cim` keeps Kusto's table;
//! - [`Pipelines::Without`] (`-p none`): none at all.
//!
//! A chosen pipeline that is for none of the targets is a [`SetupError`]. Pipelines rewrite
//! Sigma rules only: Elastic rules already speak ECS and convert as written.

use std::collections::BTreeMap;

use sigil_core::{Expr, Rule, RuleBody, RuleLanguage};
use sigil_pipeline::{Pipeline, PipelineSet, Processed};

use crate::error::{ConvertError, SetupError};
use crate::registry::TargetInfo;

/// The pipelines asked for.
#[derive(Debug, Clone)]
pub enum Pipelines {
    /// Each target's default.
    Defaults,
    /// These, each for the targets it allows (defaults where none is).
    Chosen(Vec<Pipeline>),
    /// None at all, not even the defaults.
    Without,
}

/// A target and the pipelines that run before it renders.
#[derive(Debug, Clone)]
pub struct Conversion {
    target: &'static TargetInfo,
    set: PipelineSet,
}

/// One rule converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertedRule {
    /// One query per condition.
    pub queries: Vec<String>,
    /// An Elastic rule whose case-sensitive comparisons (EQL's `==`) were made
    /// case-insensitive, because the target has no case-sensitive match.
    pub uncased: bool,
}

impl Conversion {
    /// `target` with exactly `pipelines` (no default, no check).
    pub fn new(target: &'static TargetInfo, pipelines: Vec<Pipeline>) -> Self {
        Self {
            target,
            set: PipelineSet::new(pipelines),
        }
    }

    /// `target` with its default pipeline.
    pub fn with_default(target: &'static TargetInfo) -> Result<Self, SetupError> {
        Ok(Self::new(target, default_pipeline(target)?))
    }

    /// One conversion per target, with the pipelines that run for it (see the module
    /// documentation).
    pub fn plan(
        targets: &[&'static TargetInfo],
        pipelines: &Pipelines,
    ) -> Result<Vec<Self>, SetupError> {
        let chosen = match pipelines {
            Pipelines::Defaults => &[][..],
            Pipelines::Chosen(p) => p.as_slice(),
            Pipelines::Without => {
                return Ok(targets.iter().map(|t| Self::new(t, Vec::new())).collect());
            }
        };
        for p in chosen {
            if !targets
                .iter()
                .any(|t| t.accepts_pipeline(&p.allowed_backends))
            {
                return Err(SetupError::PipelineNotForTarget {
                    pipeline: short_name(p).to_string(),
                    allowed: p.allowed_backends.join(", "),
                    targets: targets
                        .iter()
                        .map(|t| t.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        targets
            .iter()
            .map(|t| {
                let mine: Vec<Pipeline> = chosen
                    .iter()
                    .filter(|p| t.accepts_pipeline(&p.allowed_backends))
                    .cloned()
                    .collect();
                if mine.is_empty() {
                    Self::with_default(t)
                } else {
                    Ok(Self::new(t, mine))
                }
            })
            .collect()
    }

    /// The target.
    pub fn target(&self) -> &'static TargetInfo {
        self.target
    }

    /// The pipelines that run, in order, by the names they were chosen with (a built-in
    /// name, else the file).
    pub fn pipeline_names(&self) -> Vec<&str> {
        self.set.pipelines().iter().map(short_name).collect()
    }

    /// The rule after the pipelines (an Elastic rule as it is).
    pub fn process(&self, rule: &Rule) -> Result<Processed, ConvertError> {
        if rule.language == RuleLanguage::Sigma {
            Ok(self.set.process(rule)?)
        } else {
            Ok(Processed {
                rule: rule.clone(),
                applied: std::collections::BTreeSet::new(),
                state: BTreeMap::new(),
                logsource_mapped: false,
            })
        }
    }

    /// A processed rule's queries.
    pub fn render(&self, processed: &Processed) -> Result<Vec<String>, ConvertError> {
        let state: BTreeMap<String, String> = processed
            .state
            .iter()
            .map(|(k, v)| (k.clone(), v.to_text()))
            .collect();
        crate::convert_rule(&processed.rule, self.target, &state)
    }

    /// Runs the pipelines over `rule` and renders its queries. An Elastic rule that uses
    /// EQL's case-sensitive `==` converts case-insensitively where the target has no
    /// case-sensitive match (and says so in [`ConvertedRule::uncased`]).
    pub fn convert(&self, rule: &Rule) -> Result<ConvertedRule, ConvertError> {
        let first = self.process(rule).and_then(|p| self.render(&p));
        match first {
            Err(ConvertError::Unsupported { construct, .. })
                if rule.language == RuleLanguage::Elastic
                    && construct.starts_with("case-sensitive matching") =>
            {
                let queries = self.render(&self.process(&uncased(rule))?)?;
                Ok(ConvertedRule {
                    queries,
                    uncased: true,
                })
            }
            other => other.map(|queries| ConvertedRule {
                queries,
                uncased: false,
            }),
        }
    }
}

/// A pipeline by the name it was chosen with: a built-in's name, else its file.
fn short_name(p: &Pipeline) -> &str {
    p.origin.strip_prefix("builtin:").unwrap_or(&p.origin)
}

/// The default pipeline of `target`, as a list of zero or one.
fn default_pipeline(target: &'static TargetInfo) -> Result<Vec<Pipeline>, SetupError> {
    let Some(name) = target.default_pipeline else {
        return Ok(Vec::new());
    };
    let p = sigil_pipeline::builtin(name).ok_or(SetupError::MissingDefault {
        target: target.name,
        pipeline: name,
    })?;
    Ok(vec![p])
}

/// The rule with every comparison case-insensitive.
fn uncased(rule: &Rule) -> Rule {
    fn walk(e: &mut Expr) {
        match e {
            Expr::And(v) | Expr::Or(v) => v.iter_mut().for_each(walk),
            Expr::Not(x) => walk(x),
            Expr::Pred(p) => {
                p.flags.cased = false;
                p.flags.regex.ignore_case = true;
            }
        }
    }
    let mut rule = rule.clone();
    if let RuleBody::Detection(d) = &mut rule.body {
        for s in &mut d.searches {
            walk(&mut s.expr);
        }
    }
    rule
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str) -> &'static TargetInfo {
        TargetInfo::find(name).expect("target")
    }

    fn names(c: &Conversion) -> Vec<String> {
        c.pipeline_names().iter().map(ToString::to_string).collect()
    }

    fn builtin(name: &str) -> Pipeline {
        sigil_pipeline::builtin(name).expect("built in")
    }

    #[test]
    fn defaults_apply_when_nothing_is_chosen() {
        let plan = Conversion::plan(&[target("kusto"), target("sqlite")], &Pipelines::Defaults)
            .expect("plan");
        assert_eq!(names(&plan[0]), ["microsoft_xdr"]);
        assert!(names(&plan[1]).is_empty());
    }

    #[test]
    fn a_chosen_pipeline_replaces_the_default_of_the_targets_it_is_for() {
        let chosen = Pipelines::Chosen(vec![builtin("sentinel_asim")]);
        let plan = Conversion::plan(&[target("kusto"), target("lucene")], &chosen).expect("plan");
        assert_eq!(names(&plan[0]), ["sentinel_asim"]);
        // Lucene keeps its own default: sentinel_asim is not for it.
        assert_eq!(names(&plan[1]), ["ecs_windows"]);
    }

    #[test]
    fn without_drops_the_defaults() {
        let plan = Conversion::plan(&[target("kusto")], &Pipelines::Without).expect("plan");
        assert!(names(&plan[0]).is_empty());
    }

    #[test]
    fn a_pipeline_of_another_target_is_an_error() {
        let chosen = Pipelines::Chosen(vec![builtin("splunk_cim")]);
        let err = Conversion::plan(&[target("loki")], &chosen).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pipeline `splunk_cim` is for splunk-dm, not for loki"
        );
        let chosen = Pipelines::Chosen(vec![builtin("loki_promtail_sysmon")]);
        let plan = Conversion::plan(&[target("loki")], &chosen).expect("plan");
        assert_eq!(names(&plan[0]), ["loki_promtail_sysmon"]);
    }

    #[test]
    fn a_pipeline_for_none_of_the_targets_is_an_error() {
        let chosen = Pipelines::Chosen(vec![builtin("microsoft_xdr")]);
        let err = Conversion::plan(&[target("sqlite"), target("splunk")], &chosen).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pipeline `microsoft_xdr` is for kusto, not for sqlite, splunk"
        );
    }
}
