//! The one error type of the crate.

use crate::yaml::Pos;

/// Why a pipeline could not be loaded, or why it rejected a rule.
///
/// Load errors carry the pipeline file's path (its *origin*) and the position in it, and
/// render as `path:line:column: message`. Apply errors name the rule (its id, name or
/// title) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    /// The file is not valid YAML.
    #[error("{origin}:{pos}: invalid YAML: {message}")]
    Yaml {
        /// The pipeline file.
        origin: String,
        /// Where.
        pos: Pos,
        /// The parser's message.
        message: String,
    },
    /// A key that the place it is written at does not know (a typo, usually).
    #[error("{origin}:{pos}: unknown key `{key}` in {context}; expected one of: {expected}")]
    UnknownKey {
        /// The pipeline file.
        origin: String,
        /// Where.
        pos: Pos,
        /// The key as written.
        key: String,
        /// What was being read (`pipeline`, `transformation of type field_name_mapping`, ...).
        context: String,
        /// The keys allowed there, comma-separated.
        expected: String,
    },
    /// A transformation `type` that pySigma does not define.
    #[error("{origin}:{pos}: unknown transformation type `{name}`")]
    UnknownTransformation {
        /// The pipeline file.
        origin: String,
        /// Where.
        pos: Pos,
        /// The type as written.
        name: String,
    },
    /// A condition `type` that pySigma does not define for that kind of condition.
    #[error("{origin}:{pos}: unknown {kind} condition type `{name}`")]
    UnknownCondition {
        /// The pipeline file.
        origin: String,
        /// Where.
        pos: Pos,
        /// `rule`, `detection item` or `field name`.
        kind: &'static str,
        /// The type as written.
        name: String,
    },
    /// A pySigma feature that sigil does not implement.
    #[error("{origin}:{pos}: {what} is not supported by sigil pipelines")]
    Unsupported {
        /// The pipeline file.
        origin: String,
        /// Where.
        pos: Pos,
        /// What (e.g. "transformation type `nest`").
        what: String,
    },
    /// A key is missing or holds a value of the wrong kind.
    #[error("{origin}:{pos}: {message}")]
    Invalid {
        /// The pipeline file.
        origin: String,
        /// Where.
        pos: Pos,
        /// What is wrong.
        message: String,
    },
    /// No built-in pipeline of that name, and no readable file at that path.
    #[error(
        "no built-in pipeline named `{name}` and no pipeline file at that path ({reason}); built-in pipelines: {known}"
    )]
    NotFound {
        /// The name or path as given.
        name: String,
        /// Why the file could not be read.
        reason: String,
        /// The built-in names, comma-separated.
        known: String,
    },
    /// A `rule_failure` or `detection_item_failure` transformation rejected the rule.
    #[error("rule `{rule}` rejected by the pipeline: {message}")]
    Rejected {
        /// The rule's id, name or title.
        rule: String,
        /// The message of the failure transformation.
        message: String,
    },
    /// A strict pipeline met fields it does not map.
    #[error("rule `{rule}`: the following fields are not mapped: {}", fields.join(", "))]
    UnmappedFields {
        /// The rule's id, name or title.
        rule: String,
        /// The unmapped field names, sorted.
        fields: Vec<String>,
    },
    /// A `field_schema_failure` found fields the rule's table does not have.
    #[error("rule `{rule}`: the table `{table}` has no field {}", fields.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "))]
    FieldsNotInSchema {
        /// The rule's id, name or title.
        rule: String,
        /// The table (the pipeline state value).
        table: String,
        /// The fields the table lacks, sorted.
        fields: Vec<String>,
    },
    /// A transformation could not be applied to the rule (e.g. a placeholder without a value).
    #[error("rule `{rule}`: {message}")]
    Transformation {
        /// The rule's id, name or title.
        rule: String,
        /// What went wrong.
        message: String,
    },
}

impl PipelineError {
    /// Whether the error comes from loading a pipeline (as opposed to applying one).
    pub fn is_load_error(&self) -> bool {
        !matches!(
            self,
            PipelineError::Rejected { .. }
                | PipelineError::UnmappedFields { .. }
                | PipelineError::FieldsNotInSchema { .. }
                | PipelineError::Transformation { .. }
        )
    }
}
