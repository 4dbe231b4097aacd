//! The errors of compiling rules into an [`crate::Engine`].

use sigil_core::Span;

/// Why a rule cannot be compiled. The engine skips such a rule and reports it with this
/// reason; it never stops the other rules from loading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// A regular expression that the `regex` crate rejects (look-around and
    /// back-references are not supported, for instance).
    #[error("invalid regular expression `{pattern}`: {message}")]
    Regex {
        /// The expression as written.
        pattern: String,
        /// What the regex parser said.
        message: String,
    },
    /// An `expand` placeholder that no pipeline replaced.
    #[error("placeholder `%{name}%` was not expanded by a pipeline")]
    Placeholder {
        /// The placeholder's name.
        name: String,
    },
    /// A value that cannot be encoded as its modifiers ask.
    #[error("cannot encode value: {0}")]
    Encoding(#[from] sigil_core::encode::EncodeError),
    /// A value that does not fit its operator (e.g. text under `gt`).
    #[error("value `{value}` cannot be used with `{op}`")]
    BadValue {
        /// The value as written.
        value: String,
        /// The operator's name.
        op: &'static str,
    },
    /// A construct the engine does not evaluate.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A regular expression that passed the syntax check but could not be built when
    /// first needed (its compiled form exceeds the size limit); the rule matched nothing.
    #[error(
        "regular expression `{pattern}` could not be built, the rule matched nothing: {message}"
    )]
    RegexTooLarge {
        /// The expression as compiled.
        pattern: String,
        /// What the regex crate said.
        message: String,
    },
    /// A correlation or filter names a rule that is not loaded.
    #[error("unknown rule `{0}` referenced")]
    UnknownRule(String),
    /// The rule's front end marked parts of it as not evaluable.
    #[error("not evaluable: {0}")]
    NotEvaluable(String),
    /// An error at a known place in the rule file.
    #[error("{span}: {error}")]
    At {
        /// Where the offending predicate was written.
        span: Span,
        /// The error.
        error: Box<CompileError>,
    },
}

impl CompileError {
    pub(crate) fn unsupported(what: impl Into<String>) -> Self {
        CompileError::Unsupported(what.into())
    }

    /// Attaches a source position, when one is known.
    pub(crate) fn at(self, span: Span) -> Self {
        if span.is_known() && !matches!(self, CompileError::At { .. }) {
            CompileError::At {
                span,
                error: Box::new(self),
            }
        } else {
            self
        }
    }

    /// Where the error was found, when known.
    pub fn span(&self) -> Option<Span> {
        match self {
            CompileError::At { span, .. } => Some(*span),
            _ => None,
        }
    }
}
