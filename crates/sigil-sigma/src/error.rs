//! The errors of the Sigma front end. Each carries the span it is about and a stable
//! code; [`SigmaError::to_diagnostic`] turns it into a [`Diagnostic`] for reporting.

use sigil_core::{Diagnostic, Span};

/// A problem that keeps (part of) a Sigma file from being read as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigmaError {
    /// The YAML is malformed.
    #[error("invalid YAML: {message}")]
    Yaml {
        /// What the YAML parser reported.
        message: String,
        /// Where.
        span: Span,
    },
    /// The file nests deeper than the reader accepts.
    #[error("YAML nested deeper than {limit} levels")]
    TooDeep {
        /// The limit.
        limit: usize,
        /// Where the limit was crossed.
        span: Span,
    },
    /// The bytes are not UTF-8 text.
    #[error("the file is not UTF-8 text (invalid byte 0x{byte:02x})")]
    NotUtf8 {
        /// The first invalid byte.
        byte: u8,
        /// Where.
        span: Span,
    },
    /// The file holds NUL bytes: it is binary, not YAML.
    #[error("the file is binary (NUL byte), not YAML text")]
    Binary {
        /// Where the first NUL byte is.
        span: Span,
    },
    /// The file is larger than any rule file should be.
    #[error("the file is {size} bytes, more than the {limit} bytes a rule file may have")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The file holds no YAML document.
    #[error("the file is empty")]
    Empty,
    /// A field has the wrong YAML type.
    #[error("`{field}` must be {expected}, not {found}")]
    WrongType {
        /// The field (or a description of the place).
        field: String,
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: &'static str,
        /// Where.
        span: Span,
    },
    /// A required field is missing.
    #[error("missing `{field}`")]
    Missing {
        /// The field.
        field: &'static str,
        /// Where the enclosing node starts.
        span: Span,
    },
    /// A value modifier that is not part of Sigma.
    #[error("unknown modifier `{modifier}`{}", did_you_mean(*.suggestion))]
    UnknownModifier {
        /// The modifier as written.
        modifier: String,
        /// The modifier it was most likely meant to be.
        suggestion: Option<&'static str>,
        /// Where the field key is.
        span: Span,
    },
    /// A modifier that cannot apply where it is written (`|cidr|contains`, `|re|base64`...).
    #[error("{message}")]
    ModifierChain {
        /// Why.
        message: String,
        /// Where the field key is.
        span: Span,
    },
    /// A value that a modifier cannot use (a bad network, a wildcard in a field reference...).
    #[error("{message}")]
    InvalidValue {
        /// Why.
        message: String,
        /// Where the value is.
        span: Span,
    },
    /// The condition does not parse.
    #[error("condition: {message}")]
    Condition {
        /// Why.
        message: String,
        /// Where in the file.
        span: Span,
    },
    /// A legacy aggregation (`| count() by x > 5`), replaced by correlation rules.
    #[error(
        "condition: legacy aggregation `|` is not supported since Sigma 2.0; write a correlation rule instead"
    )]
    LegacyAggregation {
        /// Where the `|` is.
        span: Span,
    },
    /// A document of a collection that is not valid where it stands.
    #[error("{message}")]
    Collection {
        /// Why.
        message: String,
        /// Where.
        span: Span,
    },
    /// A correlation or filter section that is not valid.
    #[error("{message}")]
    Meta {
        /// Why.
        message: String,
        /// Where.
        span: Span,
    },
    /// Something unexpected went wrong inside the reader; the file is skipped.
    #[error("internal error while reading the file: {message}")]
    Internal {
        /// What.
        message: String,
    },
}

impl SigmaError {
    /// A stable kebab-case code for the kind of problem.
    pub fn code(&self) -> &'static str {
        match self {
            SigmaError::Yaml { .. } => "yaml-syntax",
            SigmaError::TooDeep { .. } => "yaml-too-deep",
            SigmaError::NotUtf8 { .. } => "not-utf8",
            SigmaError::Binary { .. } => "binary-file",
            SigmaError::TooLarge { .. } => "file-too-large",
            SigmaError::Empty => "empty-file",
            SigmaError::WrongType { .. } => "wrong-type",
            SigmaError::Missing { .. } => "missing-field",
            SigmaError::UnknownModifier { .. } => "unknown-modifier",
            SigmaError::ModifierChain { .. } => "invalid-modifier-chain",
            SigmaError::InvalidValue { .. } => "invalid-value",
            SigmaError::Condition { .. } => "condition-syntax",
            SigmaError::LegacyAggregation { .. } => "legacy-aggregation",
            SigmaError::Collection { .. } => "invalid-collection",
            SigmaError::Meta { .. } => "invalid-meta-rule",
            SigmaError::Internal { .. } => "internal-error",
        }
    }

    /// Where the problem is (line 1 for whole-file problems).
    pub fn span(&self) -> Span {
        match self {
            SigmaError::Yaml { span, .. }
            | SigmaError::TooDeep { span, .. }
            | SigmaError::NotUtf8 { span, .. }
            | SigmaError::Binary { span }
            | SigmaError::WrongType { span, .. }
            | SigmaError::Missing { span, .. }
            | SigmaError::UnknownModifier { span, .. }
            | SigmaError::ModifierChain { span, .. }
            | SigmaError::InvalidValue { span, .. }
            | SigmaError::Condition { span, .. }
            | SigmaError::LegacyAggregation { span }
            | SigmaError::Collection { span, .. }
            | SigmaError::Meta { span, .. } => *span,
            SigmaError::TooLarge { .. } | SigmaError::Empty | SigmaError::Internal { .. } => {
                Span::new(1, 1, 0)
            }
        }
    }

    /// The error as a [`Diagnostic`].
    pub fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::error(self.code(), self.span(), self.to_string())
    }
}

impl From<SigmaError> for Diagnostic {
    fn from(e: SigmaError) -> Self {
        e.to_diagnostic()
    }
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" (did you mean `{s}`?)"))
}
