//! Errors of the Elastic front end.

use sigil_core::{Diagnostic, Span};

/// A syntax error inside a query, at a byte offset of the query text. The TOML reader
/// turns the offset into a line and column of the rule file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    /// Byte offset in the query text.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl SyntaxError {
    /// An error at `offset`.
    pub fn new(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
        }
    }
}

/// Everything that can go wrong reading an Elastic rule file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElasticError {
    /// The file is not valid TOML.
    #[error("invalid TOML: {message}")]
    Toml {
        /// The TOML parser's message.
        message: String,
        /// Where.
        span: Span,
    },
    /// A required key is missing or has the wrong type.
    #[error("{message}")]
    Schema {
        /// What is missing or wrong.
        message: String,
        /// Where (the table, or the key).
        span: Span,
    },
    /// The EQL query does not parse.
    #[error("EQL syntax error: {message}")]
    Eql {
        /// What is wrong.
        message: String,
        /// Where, in the rule file.
        span: Span,
    },
    /// The KQL query does not parse.
    #[error("KQL syntax error: {message}")]
    Kql {
        /// What is wrong.
        message: String,
        /// Where, in the rule file.
        span: Span,
    },
}

impl ElasticError {
    /// Where the error is.
    pub fn span(&self) -> Span {
        match self {
            ElasticError::Toml { span, .. }
            | ElasticError::Schema { span, .. }
            | ElasticError::Eql { span, .. }
            | ElasticError::Kql { span, .. } => *span,
        }
    }

    /// The stable diagnostic code.
    pub fn code(&self) -> &'static str {
        match self {
            ElasticError::Toml { .. } => "invalid-toml",
            ElasticError::Schema { .. } => "invalid-rule",
            ElasticError::Eql { .. } => "eql-syntax",
            ElasticError::Kql { .. } => "kql-syntax",
        }
    }

    /// The error as a diagnostic.
    pub fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::error(self.code(), self.span(), self.to_string())
    }
}
