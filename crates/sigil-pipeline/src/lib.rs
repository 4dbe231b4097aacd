//! Processing pipelines as data: rewrite rules before hunting and conversion, exactly as
//! pySigma's processing pipelines do.
//!
//! A Sigma rule says *what* to look for in the generic terms of its logsource
//! (`category: process_creation`) and of the Sigma field taxonomy (`Image`). A pipeline
//! says how that meets a concrete data source: which events a logsource means
//! (`EventID: 1` in the Sysmon channel) and what the fields are called there
//! (`process.executable` in ECS). sigil's conversions equal pySigma's and its hunting
//! findings equal the reference only if the same rewriting happens first, so this crate
//! implements pySigma's processing-pipeline YAML format (a documented subset, see
//! `docs/pipelines.md`) with the same semantics, and ships pySigma's usual pipelines as
//! YAML data files under the names pySigma gives them.
//!
//! ```
//! use sigil_pipeline::{PipelineSet, builtin};
//!
//! let set = PipelineSet::new(vec![
//!     builtin("sysmon").expect("built in"),
//!     builtin("windows-logsources").expect("built in"),
//! ]);
//! assert_eq!(set.pipelines().len(), 2);
//! ```

mod apply;
mod builtin;
mod condition_predicate;
pub mod convert_type;
pub mod ecs;
pub mod error;
mod index;
pub mod model;
mod parse;
pub mod scope;
mod set;
mod set_value;
pub mod udm;
mod value_rewrite;
pub mod value_shape;
pub mod yaml;

pub use apply::Processed;
pub use builtin::{builtin, builtin_names, builtin_source};
pub use error::PipelineError;
pub use index::{LogsourceKeys, logsource_keys};
pub use model::{
    CmpOp, CondExpr, Conditions, DetectionItemCondition, FieldNameCondition, FieldSet,
    HashesFields, Linking, Pipeline, PlaceholderFilter, ProcessingItem, RuleCondition, Scalar,
    StateFromRule, Transformation, ValueLookup, ValueQuantifier,
};
pub use scope::{Admission, LogScope};
pub use set::PipelineSet;

use sigil_core::Rule;

impl Pipeline {
    /// Reads a pipeline from YAML text. `origin` names the source (a file path) in error
    /// messages, which read `origin:line:column: message`.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, PipelineError> {
        parse::pipeline(text, origin)
    }

    /// Reads a pipeline file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, PipelineError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PipelineError::NotFound {
            name: origin.clone(),
            reason: e.to_string(),
            known: builtin_names().join(", "),
        })?;
        Self::from_yaml(&text, &origin)
    }

    /// A built-in pipeline by name, else the pipeline file at that path (what a
    /// `--pipeline NAME|FILE` option accepts).
    pub fn resolve(name_or_path: &str) -> Result<Self, PipelineError> {
        if let Some(p) = builtin(name_or_path) {
            return Ok(p);
        }
        Self::from_file(std::path::Path::new(name_or_path))
    }

    /// The pipeline's name, else its origin.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.origin)
    }

    /// Applies this pipeline alone to `rule`.
    pub fn apply(&self, rule: &Rule) -> Result<Rule, PipelineError> {
        self.process(rule).map(|p| p.rule)
    }

    /// Applies this pipeline alone to `rule`, returning what was recorded too.
    pub fn process(&self, rule: &Rule) -> Result<Processed, PipelineError> {
        let mut work = apply::Work::new(rule, &self.vars);
        let prepared = apply::Prepared::default();
        for item in &self.items {
            work.apply_item(item, &prepared)?;
        }
        Ok(work.finish())
    }
}
