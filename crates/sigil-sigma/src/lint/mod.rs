//! The checks of `sigil check`.
//!
//! Each check is one documented unit: a unit struct whose doc comment says what it
//! finds, why it matters and gives an example, declared with [`declare_lint!`] so the
//! same text is available at run time ([`LintInfo::doc`]). [`registry`] lists them all;
//! `sigil check --list-lints` and `docs/lints.md` are generated from it.
//!
//! Three kinds of checks:
//! - *reader* checks are reported while reading a file (broken YAML, unknown modifier...);
//!   they are listed here so every code `sigil check` prints is documented;
//! - *rule* checks look at one rule ([`Lint::check_rule`]);
//! - *set* checks look at every rule checked together ([`Lint::check_set`]): duplicate
//!   ids, references to unknown rules.
//!
//! A check that knows how to repair what it finds says so in [`Lint::fix`]: the edits of
//! the file's text that resolve one finding ([`fix`]).

use std::fmt::Write as _;

use sigil_core::{Diagnostic, Rule, Severity, Span};

use crate::{RuleSource, SigmaFile};

mod detection;
pub mod fix;
mod metadata;
mod reader;
mod set;

pub use detection::{AllWithSingleValue, EmptyValueList, MissingSearch, UnusedSearch};
pub use fix::{Edit, Fix, Safety, apply, fixes_for};
pub use metadata::{
    InvalidLevel, InvalidStatus, MalformedAttackTag, MalformedId, MissingId, MissingLevel,
    MissingStatus, MissingTitle,
};
pub use reader::{
    BinaryFile, ConditionSyntax, DuplicateKey, EmptyFile, FileTooLarge, InternalError,
    InvalidCollection, InvalidMetaRule, InvalidModifierChain, InvalidValue, LegacyAggregation,
    MissingField, NotUtf8, UnknownModifier, WrongType, YamlSyntax, YamlTooDeep,
};
pub use set::{DuplicateId, UnknownRuleReference};

/// What a check is, for listings and docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LintInfo {
    /// The stable code printed with each finding (`unknown-modifier`).
    pub code: &'static str,
    /// How bad a finding is.
    pub severity: Severity,
    /// Whether the reader reports it (rather than a check on the read rules).
    pub reader: bool,
    /// The documentation: what, why, example (Markdown).
    pub doc: &'static str,
}

impl LintInfo {
    /// The first paragraph of the documentation, on one line.
    pub fn summary(&self) -> String {
        self.doc
            .lines()
            .map(str::trim)
            .take_while(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A check.
pub trait Lint: Sync + Send + std::fmt::Debug {
    /// What the check is.
    fn info(&self) -> &'static LintInfo;

    /// Checks one rule, pushing findings to `out`.
    fn check_rule(&self, _rule: &Rule, _source: &RuleSource, _out: &mut Vec<Diagnostic>) {}

    /// Checks every rule of the set together. Findings are `(file index, diagnostic)`.
    fn check_set(&self, _files: &[&SigmaFile], _out: &mut Vec<(usize, Diagnostic)>) {}

    /// The fix of one of this check's findings in the file `text` (none by default).
    fn fix(&self, _text: &str, _finding: &Diagnostic) -> Option<Fix> {
        None
    }
}

/// Declares a documented check: a unit struct with an `INFO` constant whose `doc` is the
/// struct's doc comment.
macro_rules! declare_lint {
    (
        $(#[doc = $doc:literal])+
        $name:ident, $code:literal, $severity:ident, reader: $reader:literal
    ) => {
        $(#[doc = $doc])+
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl $name {
            /// What the check is.
            pub const INFO: $crate::lint::LintInfo = $crate::lint::LintInfo {
                code: $code,
                severity: sigil_core::Severity::$severity,
                reader: $reader,
                doc: concat!($($doc, "\n"),+),
            };

            /// A finding of this check at `span`.
            #[allow(dead_code)]
            pub(crate) fn at(span: sigil_core::Span, message: impl Into<String>) -> sigil_core::Diagnostic {
                sigil_core::Diagnostic {
                    severity: Self::INFO.severity,
                    code: Self::INFO.code,
                    message: message.into(),
                    span,
                }
            }
        }
    };
}
pub(crate) use declare_lint;

/// Every check, reader checks first.
pub fn registry() -> &'static [&'static dyn Lint] {
    &[
        &YamlSyntax,
        &YamlTooDeep,
        &NotUtf8,
        &BinaryFile,
        &FileTooLarge,
        &EmptyFile,
        &DuplicateKey,
        &MissingField,
        &WrongType,
        &UnknownModifier,
        &InvalidModifierChain,
        &InvalidValue,
        &ConditionSyntax,
        &LegacyAggregation,
        &InvalidCollection,
        &InvalidMetaRule,
        &InternalError,
        &MissingId,
        &MalformedId,
        &MissingTitle,
        &MissingLevel,
        &InvalidLevel,
        &MissingStatus,
        &InvalidStatus,
        &MalformedAttackTag,
        &MissingSearch,
        &UnusedSearch,
        &AllWithSingleValue,
        &EmptyValueList,
        &DuplicateId,
        &UnknownRuleReference,
    ]
}

/// Runs every rule check on the rules of `file`, appending to its diagnostics.
pub fn check_file(file: &mut SigmaFile) {
    let mut out = Vec::new();
    for (rule, source) in file.rules.iter().zip(&file.sources) {
        for lint in registry() {
            lint.check_rule(rule, source, &mut out);
        }
    }
    file.diagnostics.extend(out);
}

/// The errors the rule checks find in one rule: what makes `hunt`, `convert` and the
/// catalog leave a rule out (warnings do not).
pub fn rule_errors(rule: &Rule, source: &RuleSource) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for lint in registry() {
        lint.check_rule(rule, source, &mut out);
    }
    out.retain(|d| d.severity == Severity::Error);
    out
}

/// Runs every set check over `files`; findings are `(file index, diagnostic)`, sorted.
pub fn check_set(files: &[&SigmaFile]) -> Vec<(usize, Diagnostic)> {
    let mut out = Vec::new();
    for lint in registry() {
        lint.check_set(files, &mut out);
    }
    out.sort_by_key(|(i, d)| (*i, d.span));
    out
}

/// The documentation of every check, as Markdown (the content of `docs/lints.md`).
pub fn docs_markdown() -> String {
    let mut out = String::from(
        "# `sigil check` diagnostics\n\n\
         Generated from the code (`sigil check --list-lints --format markdown`); do not edit.\n\n\
         | code | severity | reported by | summary |\n|---|---|---|---|\n",
    );
    for lint in registry() {
        let i = lint.info();
        let _ = writeln!(
            out,
            "| [`{}`](#{}) | {} | {} | {} |",
            i.code,
            i.code,
            i.severity,
            if i.reader { "reader" } else { "check" },
            // A `|` would end the table cell.
            i.summary().replace('|', "\\|")
        );
    }
    for lint in registry() {
        let i = lint.info();
        let _ = write!(out, "\n## {}\n\n", i.code);
        for line in i.doc.lines() {
            // Doc comments keep the space after `///`.
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
    }
    out
}

/// A span that is known: `span` if it is, else `fallback`.
pub(crate) fn known(span: Span, fallback: Span) -> Span {
    if span.is_known() { span } else { fallback }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_documented() {
        let mut codes: Vec<_> = registry().iter().map(|l| l.info().code).collect();
        for lint in registry() {
            let i = lint.info();
            assert!(i.doc.contains("Example"), "{} lacks an example", i.code);
            assert!(!i.summary().is_empty());
        }
        let n = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), n);
    }

    #[test]
    fn reader_codes_match_the_errors() {
        use crate::SigmaError;
        let span = Span::default();
        let errors = [
            SigmaError::Yaml {
                message: String::new(),
                span,
            },
            SigmaError::NotUtf8 { byte: 0, span },
            SigmaError::Binary { span },
            SigmaError::Empty,
            SigmaError::UnknownModifier {
                modifier: String::new(),
                span,
            },
            SigmaError::ModifierChain {
                message: String::new(),
                span,
            },
            SigmaError::InvalidValue {
                message: String::new(),
                span,
            },
            SigmaError::Condition {
                message: String::new(),
                span,
            },
            SigmaError::LegacyAggregation { span },
            SigmaError::Missing { field: "x", span },
            SigmaError::TooDeep { limit: 1, span },
            SigmaError::TooLarge { size: 1, limit: 1 },
            SigmaError::WrongType {
                field: String::new(),
                expected: "",
                found: "",
                span,
            },
            SigmaError::Collection {
                message: String::new(),
                span,
            },
            SigmaError::Meta {
                message: String::new(),
                span,
            },
            SigmaError::Internal {
                message: String::new(),
            },
        ];
        for e in errors {
            assert!(
                registry().iter().any(|l| l.info().code == e.code()),
                "{} is not documented",
                e.code()
            );
        }
    }
}
