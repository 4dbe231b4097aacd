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

pub mod autofix;
mod conditions;
mod config;
mod correlation;
mod detection;
pub mod fix;
mod layout;
mod logsource;
mod metadata;
mod reader;
mod set;
mod sigmahq;
mod tags;
mod values;

pub use conditions::{
    AllOfThem, OfPatternWithSingleSearch, OfThemWithSingleSearch, OfWithoutWildcard,
    ThemWithSingleSearch,
};
pub use config::Selection;
pub use correlation::{CorrelationWithoutGroupBy, TemporalSingleRule};
pub use detection::{AllWithSingleValue, EmptyValueList, MissingSearch, UnusedSearch};
pub use fix::{Edit, Fix, Safety, apply, fixes_for};
pub use layout::TrailingWhitespace;
pub use logsource::{
    FieldNameCase, FilenamePrefix, InvalidFieldName, InvalidHashValue, LocalizedUserName,
    NeedlessEventId, NeedlessProviderName, RedundantField, RegexLookaround, SpaceInFieldName,
    SpecificLogsource, SysmonWithoutEventId, UnknownLogsource, UnknownLogsourceKey,
};
pub use metadata::{
    InvalidLevel, InvalidStatus, MalformedAttackTag, MalformedId, MissingId, MissingLevel,
    MissingStatus, MissingTitle,
};
pub use reader::{
    BinaryFile, ConditionSyntax, DuplicateKey, EmptyFile, FileTooLarge, InternalError,
    InvalidCollection, InvalidMetaRule, InvalidModifierChain, InvalidValue, LegacyAggregation,
    MissingField, NotUtf8, UnknownModifier, WrongType, YamlSyntax, YamlTooDeep,
};
pub use set::{DuplicateFilename, DuplicateId, DuplicateTitle, UnknownRuleReference};
pub use sigmahq::{
    CorrelationFilename, FalsepositiveBannedWord, FalsepositiveCapital, FalsepositiveTypo,
    FieldsKey, FilenameConvention, FilenameLength, GithubBranchLink, LinkInDescription, LongTitle,
    MissingAuthor, MissingDate, MissingDescription, MisspeltKey, MitreLink, ModifiedBeforeDate,
    ModifiedWithoutDate, RedundantModified, RetiredStatus, ShortDescription, StatusTooHigh,
    TitleCase, TitleEndsWithDot, TitleStartsWithDetect, UnknownKey,
};
pub use tags::{
    DuplicateTag, InvalidCarTag, InvalidCveTag, InvalidD3fendTag, InvalidDetectionTag,
    InvalidStpTag, InvalidTlpTag, MissingDetectionTag, MultipleDetectionTags, MultipleTlpTags,
    SigmahqTlp, TagFormat, TechniqueWithoutTactic, TlpV1Tag, TlpV2Tag, UnknownAttackTag,
    UnknownTagNamespace, attack_tag_problem,
};
pub use values::{
    ControlCharacter, DoubleWildcard, DuplicateReference, DuplicateValue, EscapedWildcard,
    NumberAsString, RedundantWildcard, WildcardsInsteadOfModifier,
};

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
    /// The identifier of the pySigma validator (core or SigmaHQ plugin) that finds the
    /// same problem, if there is one (`attacktag`, `sigmahq_status`).
    pub pysigma: Option<&'static str>,
    /// Whether the check is off unless asked for (`--all-lints`, or named by a
    /// `--config`): SigmaHQ's conventions and checks against data that ages (ATT&CK).
    pub optional: bool,
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

    /// Checks the file's text as written, for what the reader does not keep (layout).
    fn check_text(&self, _text: &str, _out: &mut Vec<Diagnostic>) {}

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
        $(, pysigma: $pysigma:literal)?
        $(, optional: $optional:literal)?
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
                pysigma: $crate::lint::first::<&str>(&[$($pysigma)?]),
                optional: match $crate::lint::first::<bool>(&[$($optional)?]) {
                    Some(o) => o,
                    None => false,
                },
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

/// The first of `ids`, if any (how [`declare_lint!`] turns an optional `pysigma:` into an
/// `Option` in a constant).
pub(crate) const fn first<T: Copy>(ids: &[T]) -> Option<T> {
    match ids {
        [first, ..] => Some(*first),
        [] => None,
    }
}

/// The identifiers of the validators of pySigma 1.5.1 and pysigma-validators-sigmahq
/// 0.21.0 (what `sigma check` runs with `validators: [all]`).
pub const PYSIGMA_VALIDATORS: [&str; 80] = [
    "all_of_them_condition",
    "attacktag",
    "cartag",
    "control_character",
    "custom_attributes",
    "cvetag",
    "d3_fendtag",
    "dangling_condition",
    "dangling_detection",
    "detection_tag",
    "double_wildcard",
    "duplicate_filename",
    "duplicate_references",
    "duplicate_tag",
    "duplicate_title",
    "escaped_wildcard",
    "fieldname_logsource",
    "filename_length",
    "identifier_existence",
    "identifier_uniqueness",
    "invalid_modifier_combinations",
    "namespace_tag",
    "number_as_string",
    "sigmahq_author_existence",
    "sigmahq_category_event_id",
    "sigmahq_category_windows_provider_name",
    "sigmahq_correlation_filename_prefix",
    "sigmahq_correlation_group_by_existence",
    "sigmahq_correlation_rules_minimum",
    "sigmahq_date_existence",
    "sigmahq_description_existence",
    "sigmahq_description_length",
    "sigmahq_falsepositives_banned_word",
    "sigmahq_falsepositives_capital",
    "sigmahq_falsepositives_typo_word",
    "sigmahq_field_duplicate_value",
    "sigmahq_field_user",
    "sigmahq_fieldname_cast",
    "sigmahq_fields_existence",
    "sigmahq_filename_convention",
    "sigmahq_filename_prefix",
    "sigmahq_github_link",
    "sigmahq_invalid_all_modifier",
    "sigmahq_invalid_fieldname",
    "sigmahq_invalid_hash_kv",
    "sigmahq_level_existence",
    "sigmahq_link_in_description",
    "sigmahq_logsource_unknown",
    "sigmahq_missing_asterisk_condition",
    "sigmahq_mitre_link",
    "sigmahq_modified_date_order",
    "sigmahq_modified_without_date",
    "sigmahq_ofselection_condition",
    "sigmahq_ofthem_condition",
    "sigmahq_redundant_field",
    "sigmahq_redundant_modified",
    "sigmahq_space_field_name",
    "sigmahq_status",
    "sigmahq_status_existence",
    "sigmahq_status_to_high",
    "sigmahq_sysmon_missing_eventid",
    "sigmahq_tags_detection",
    "sigmahq_tags_techniques_without_tactics",
    "sigmahq_tags_tlp",
    "sigmahq_tags_unique_detection",
    "sigmahq_tags_unique_tlp",
    "sigmahq_title_case",
    "sigmahq_title_end",
    "sigmahq_title_length",
    "sigmahq_title_start",
    "sigmahq_unknown_field",
    "sigmahq_unsupported_regex_group_construct",
    "specific_instead_of_generic_logsource",
    "stptag",
    "tag_format",
    "them_condition_with_single_detection",
    "tlptag",
    "tlpv1_tag",
    "tlpv2_tag",
    "wildcards_instead_of_modifiers",
];

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
        &UnknownAttackTag,
        &TechniqueWithoutTactic,
        &TagFormat,
        &UnknownTagNamespace,
        &InvalidCveTag,
        &InvalidD3fendTag,
        &InvalidCarTag,
        &InvalidDetectionTag,
        &InvalidStpTag,
        &InvalidTlpTag,
        &TlpV1Tag,
        &TlpV2Tag,
        &SigmahqTlp,
        &DuplicateTag,
        &MultipleDetectionTags,
        &MultipleTlpTags,
        &MissingDetectionTag,
        &EscapedWildcard,
        &NumberAsString,
        &DoubleWildcard,
        &ControlCharacter,
        &DuplicateValue,
        &DuplicateReference,
        &WildcardsInsteadOfModifier,
        &RedundantWildcard,
        &TrailingWhitespace,
        &AllOfThem,
        &ThemWithSingleSearch,
        &OfThemWithSingleSearch,
        &OfPatternWithSingleSearch,
        &OfWithoutWildcard,
        &UnknownLogsource,
        &UnknownLogsourceKey,
        &SpecificLogsource,
        &SysmonWithoutEventId,
        &NeedlessEventId,
        &NeedlessProviderName,
        &RedundantField,
        &InvalidFieldName,
        &FieldNameCase,
        &SpaceInFieldName,
        &LocalizedUserName,
        &InvalidHashValue,
        &RegexLookaround,
        &TemporalSingleRule,
        &CorrelationWithoutGroupBy,
        &MisspeltKey,
        &StatusTooHigh,
        &RetiredStatus,
        &MissingAuthor,
        &MissingDate,
        &ModifiedBeforeDate,
        &ModifiedWithoutDate,
        &RedundantModified,
        &MissingDescription,
        &ShortDescription,
        &LinkInDescription,
        &LongTitle,
        &TitleStartsWithDetect,
        &TitleEndsWithDot,
        &TitleCase,
        &FalsepositiveCapital,
        &FalsepositiveBannedWord,
        &FalsepositiveTypo,
        &FieldsKey,
        &UnknownKey,
        &GithubBranchLink,
        &MitreLink,
        &FilenameConvention,
        &CorrelationFilename,
        &FilenameLength,
        &FilenamePrefix,
        &DuplicateId,
        &UnknownRuleReference,
        &DuplicateTitle,
        &DuplicateFilename,
    ]
}

/// The check with code `code`, if sigil has one.
pub fn by_code(code: &str) -> Option<&'static dyn Lint> {
    registry().iter().copied().find(|l| l.info().code == code)
}

/// The identifier of the pySigma validator that finds what the check `code` finds.
pub fn pysigma_of(code: &str) -> Option<&'static str> {
    by_code(code).and_then(|l| l.info().pysigma)
}

/// Runs sigil's default rule checks on the rules of `file`, appending to its diagnostics.
pub fn check_file(file: &mut SigmaFile) {
    check_file_with(file, &Selection::defaults());
}

/// Runs the rule checks `selection` enables on the rules of `file`, leaving out the
/// findings it excludes for a rule, and appends to its diagnostics.
pub fn check_file_with(file: &mut SigmaFile, selection: &Selection) {
    let mut out = Vec::new();
    for (rule, source) in file.rules.iter().zip(&file.sources) {
        for lint in registry() {
            let info = lint.info();
            if selection.enabled(info) && !selection.excluded(rule.id.as_deref(), info) {
                lint.check_rule(rule, source, &mut out);
            }
        }
    }
    file.diagnostics.extend(out);
}

/// Runs the text checks `selection` enables on `text`, the contents `file` was read from,
/// and appends to its diagnostics.
pub fn check_text_with(text: &str, file: &mut SigmaFile, selection: &Selection) {
    let mut out = Vec::new();
    for lint in registry() {
        if selection.enabled(lint.info()) {
            lint.check_text(text, &mut out);
        }
    }
    file.diagnostics.extend(out);
}

/// The errors the rule checks find in one rule: what makes `hunt`, `convert` and the
/// catalog leave a rule out (warnings do not).
pub fn rule_errors(rule: &Rule, source: &RuleSource) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for lint in registry() {
        if lint.info().severity == Severity::Error {
            lint.check_rule(rule, source, &mut out);
        }
    }
    out.retain(|d| d.severity == Severity::Error);
    out
}

/// Runs sigil's default set checks over `files`; findings are `(file index,
/// diagnostic)`, sorted.
pub fn check_set(files: &[&SigmaFile]) -> Vec<(usize, Diagnostic)> {
    check_set_with(files, &Selection::defaults())
}

/// Runs the set checks `selection` enables over `files`, leaving out the findings it
/// excludes for the rule they are about; findings are `(file index, diagnostic)`, sorted.
pub fn check_set_with(files: &[&SigmaFile], selection: &Selection) -> Vec<(usize, Diagnostic)> {
    let mut out = Vec::new();
    for lint in registry() {
        if selection.enabled(lint.info()) {
            lint.check_set(files, &mut out);
        }
    }
    out.retain(|(i, d)| {
        let Some(lint) = by_code(d.code) else {
            return true;
        };
        // The rule a finding is about: the last one that starts at or before it.
        let file = files[*i];
        let rule = file
            .rules
            .iter()
            .zip(&file.sources)
            .rfind(|(_, s)| s.span.line <= d.span.line)
            .or_else(|| file.rules.iter().zip(&file.sources).next())
            .map(|(r, _)| r);
        !selection.excluded(rule.and_then(|r| r.id.as_deref()), lint.info())
    });
    out.sort_by_key(|(i, d)| (*i, d.span));
    out
}

/// The documentation of every check, as Markdown (the content of `docs/lints.md`).
pub fn docs_markdown() -> String {
    let mut out = String::from(
        "# `sigil check` diagnostics\n\n\
         Generated from the code (`sigil check --list-lints --format markdown`); do not edit.\n\n\
         Checks marked *optional* run with `--all-lints` or when a `--config` names them:\n\
         SigmaHQ's conventions (some against SigmaHQ's validator data, built in), and ATT&CK\n\
         tags against the built-in ATT&CK data. The\n\
         *pySigma* column names the validator of pySigma 1.5 (core and the SigmaHQ plugin)\n\
         that finds the same problem; `sigil check --config FILE` reads pySigma's\n\
         validation configuration ([below](#pysigma-validators)).\n\n\
         | code | severity | reported by | pySigma | summary |\n|---|---|---|---|---|\n",
    );
    for lint in registry() {
        let i = lint.info();
        let _ = writeln!(
            out,
            "| [`{}`](#{}) | {}{} | {} | {} | {} |",
            i.code,
            i.code,
            i.severity,
            if i.optional { " (optional)" } else { "" },
            if i.reader { "reader" } else { "check" },
            i.pysigma.map_or(String::new(), |p| format!("`{p}`")),
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
        if let Some(p) = i.pysigma {
            let _ = writeln!(out, "\npySigma: `{p}`.");
        }
    }
    out.push_str(
        "\n## pySigma validators\n\n\
         Every validator of pySigma 1.5.1 and pysigma-validators-sigmahq 0.21.0, and the sigil\n\
         check that finds the same problem.\n\n| pySigma | sigil |\n|---|---|\n",
    );
    for v in PYSIGMA_VALIDATORS {
        let codes: Vec<String> = registry()
            .iter()
            .filter(|l| l.info().pysigma == Some(v))
            .map(|l| format!("[`{0}`](#{0})", l.info().code))
            .collect();
        let _ = writeln!(
            out,
            "| `{v}` | {} |",
            if codes.is_empty() {
                "none yet".to_string()
            } else {
                codes.join(", ")
            }
        );
    }
    out.push('\n');
    out.push_str(include_str!("pysigma.md"));
    out
}

/// A span that is known: `span` if it is, else `fallback`.
pub(crate) fn known(span: Span, fallback: Span) -> Span {
    if span.is_known() { span } else { fallback }
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// The codes of the findings of every check (`--all-lints`) on `text`.
    pub(crate) fn codes(text: &str) -> Vec<&'static str> {
        let mut f = crate::parse_str(text);
        super::check_file_with(&mut f, &super::Selection::all());
        f.diagnostics.iter().map(|d| d.code).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pysigma_validator_has_a_check() {
        for v in PYSIGMA_VALIDATORS {
            assert!(
                registry().iter().any(|l| l.info().pysigma == Some(v)),
                "no check for the pySigma validator {v}"
            );
        }
        for l in registry() {
            if let Some(p) = l.info().pysigma {
                assert!(
                    PYSIGMA_VALIDATORS.contains(&p),
                    "{p} is not a pySigma validator"
                );
            }
        }
    }

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
                suggestion: None,
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
