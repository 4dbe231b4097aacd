//! Why a rule cannot be converted.

use sigil_core::Span;

/// A rule that a target cannot express, or whose detection is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// A construct the target has no way to express.
    #[error("{target} cannot express {construct}")]
    Unsupported {
        /// The target name (`splunk`, `sqlite`, ...).
        target: &'static str,
        /// What could not be expressed, e.g. "a keyword (field-less) search".
        construct: String,
        /// Where it was written, when known.
        span: Span,
    },
    /// A `%placeholder%` (`expand` modifier) that no pipeline replaced.
    #[error("placeholder `%{name}%` was not replaced by a pipeline")]
    UnexpandedPlaceholder {
        /// The placeholder name.
        name: String,
        /// Where it was written.
        span: Span,
    },
    /// A value whose modifiers cannot be applied (e.g. `base64` of a wildcard).
    #[error("invalid value: {message}")]
    InvalidValue {
        /// What is wrong.
        message: String,
        /// Where it was written.
        span: Span,
    },
    /// The condition names a search the detection does not define.
    #[error("the condition refers to an unknown search `{name}`")]
    UnknownSearch {
        /// The name.
        name: String,
        /// Where it was named.
        span: Span,
    },
    /// The rule is not a plain detection (correlation rules are not converted yet).
    #[error("{0} rules are not converted")]
    NotADetection(&'static str),
    /// A pipeline rejected the rule (a field it cannot map, no table for its logsource).
    #[error(transparent)]
    Pipeline(#[from] sigil_pipeline::PipelineError),
}

/// Pipelines that do not fit the targets they were asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// A pipeline whose `allowed_backends` names none of the targets.
    #[error("pipeline `{pipeline}` is for {allowed}, not for {targets}")]
    PipelineNotForTarget {
        /// The pipeline's name.
        pipeline: String,
        /// The targets it names, comma-separated.
        allowed: String,
        /// The targets it was asked for, comma-separated.
        targets: String,
    },
    /// A target's default pipeline is not built in (a broken build).
    #[error("the default pipeline `{pipeline}` of {target} is not built in")]
    MissingDefault {
        /// The target.
        target: &'static str,
        /// The pipeline it names.
        pipeline: &'static str,
    },
}

impl ConvertError {
    /// Where the problem was written, when known.
    pub fn span(&self) -> Span {
        match self {
            ConvertError::Unsupported { span, .. }
            | ConvertError::UnexpandedPlaceholder { span, .. }
            | ConvertError::InvalidValue { span, .. }
            | ConvertError::UnknownSearch { span, .. } => *span,
            ConvertError::NotADetection(_) | ConvertError::Pipeline(_) => Span::default(),
        }
    }
}
