//! Problems the reader reports while turning a file into rules. They are declared here
//! so that every code `sigil check` prints has its documentation.

use sigil_core::Diagnostic;

use super::fix::{Fix, Safety, scalar_at};
use super::{Lint, LintInfo, declare_lint};
use crate::modifier::Modifier;

macro_rules! reader_lint {
    ($($name:ident),+) => {
        $(impl Lint for $name {
            fn info(&self) -> &'static LintInfo {
                &Self::INFO
            }
        })+
    };
}

declare_lint! {
    /// The file is not valid YAML.
    ///
    /// Why: nothing in the file can be read. The message is the YAML parser's, at the
    /// place it stopped; tab indentation is the usual cause.
    ///
    /// Example: `detection:\n\tselection:` (a tab where YAML needs spaces).
    YamlSyntax, "yaml-syntax", Error, reader: true
}

declare_lint! {
    /// The file nests mappings and lists deeper than the reader accepts (128 levels).
    ///
    /// Why: no rule needs it; refusing keeps the reader safe on hostile input.
    ///
    /// Example: a file of 10,000 `[`.
    YamlTooDeep, "yaml-too-deep", Error, reader: true
}

declare_lint! {
    /// The file is not UTF-8 text.
    ///
    /// Why: Sigma rules are UTF-8 YAML; other encodings (UTF-16, Latin-1) are read wrong by
    /// every tool. The position is that of the first invalid byte.
    ///
    /// Example: `title: caf\xe9` saved as Latin-1.
    NotUtf8, "not-utf8", Error, reader: true
}

declare_lint! {
    /// The file holds NUL bytes: it is binary, not a rule.
    ///
    /// Why: a binary file with a `.yml` name is a mistake in the rule folder.
    ///
    /// Example: an EVTX file renamed `rule.yml`.
    BinaryFile, "binary-file", Error, reader: true
}

declare_lint! {
    /// The file is larger than any rule file (16 MiB).
    ///
    /// Why: it is not a rule, and reading it would slow a check of thousands of files.
    ///
    /// Example: a 50 MB log saved with a `.yml` name.
    FileTooLarge, "file-too-large", Error, reader: true
}

declare_lint! {
    /// The file holds no YAML document (or only comments).
    ///
    /// Why: an empty rule file is usually a failed save or a leftover.
    ///
    /// Example: a zero-byte `rule.yml`.
    EmptyFile, "empty-file", Error, reader: true
}

declare_lint! {
    /// A key is given twice in the same mapping (a top-level field or a search).
    ///
    /// Why: YAML forbids it and tools disagree on which value wins; the first one is
    /// silently lost by most.
    ///
    /// Example: two `selection:` keys under `detection:`.
    DuplicateKey, "duplicate-key", Error, reader: true
}

declare_lint! {
    /// A required part is missing: `detection`, its `condition`, a correlation's `type`,
    /// `rules` or `timespan`, a filter's `rules`.
    ///
    /// Why: the rule cannot be evaluated without it.
    ///
    /// Example: a `detection:` with searches but no `condition:`.
    MissingField, "missing-field", Error, reader: true
}

declare_lint! {
    /// A field has the wrong YAML type.
    ///
    /// Why: the value cannot mean what the author intended.
    ///
    /// Example: `logsource: windows` (a string where a mapping is required).
    WrongType, "wrong-type", Error, reader: true
}

declare_lint! {
    /// A value modifier that Sigma does not define.
    ///
    /// Why: tools either reject the rule or ignore the modifier and match something else.
    /// The accepted names are those of the specification plus pySigma's aliases (`wide`,
    /// `ignorecase`, `multiline`, `dotall`).
    ///
    /// Example: `CommandLine|contain: foo` (for `contains`).
    UnknownModifier, "unknown-modifier", Error, reader: true
}

declare_lint! {
    /// A modifier that cannot apply where it is written in the chain.
    ///
    /// Why: each modifier expects a kind of value (a string, a number, a regular
    /// expression...); the chains pySigma refuses are refused here with the reason.
    ///
    /// Example: `DestinationIp|cidr|contains: 10.0.0.0/8` (a network is not a string),
    /// `Image|contains|base64: x` (base64 of a wildcard pattern), `Field|i: x` (a regex flag
    /// without `re`).
    InvalidModifierChain, "invalid-modifier-chain", Error, reader: true, pysigma: "invalid_modifier_combinations"
}

declare_lint! {
    /// A value a modifier cannot use.
    ///
    /// Why: the rule would fail in every backend.
    ///
    /// Example: `DestinationIp|cidr: 10.0.0.0/33`, `Field|fieldref: Other*`.
    InvalidValue, "invalid-value", Error, reader: true
}

declare_lint! {
    /// The condition does not parse.
    ///
    /// Why: the rule cannot be evaluated. The position points at the offending word.
    ///
    /// Example: `condition: selection and (filter or` (the parenthesis is never closed).
    ConditionSyntax, "condition-syntax", Error, reader: true
}

declare_lint! {
    /// A legacy aggregation in the condition (`| count() by Host > 5`).
    ///
    /// Why: Sigma 2 replaced aggregations with correlation rules; no current tool reads
    /// them.
    ///
    /// Example: `condition: selection | count() > 5` — write an `event_count` correlation.
    LegacyAggregation, "legacy-aggregation", Error, reader: true
}

declare_lint! {
    /// A multi-document file (`action: global` / `reset` / `repeat`) used wrongly.
    ///
    /// Why: the documents would not combine into the rules the author meant.
    ///
    /// Example: `action: repeat` as the first document, or `action: merge`.
    InvalidCollection, "invalid-collection", Error, reader: true
}

declare_lint! {
    /// A correlation or filter section that is not valid.
    ///
    /// Why: the meta rule cannot be evaluated.
    ///
    /// Example: `type: event_counts`, `timespan: 5 minutes`, a `value_count` without
    /// `condition.field`.
    InvalidMetaRule, "invalid-meta-rule", Error, reader: true
}

declare_lint! {
    /// The reader failed unexpectedly on the file.
    ///
    /// Why: this is a bug in sigil; the file is skipped and the others are still read.
    ///
    /// Example: none known; please report the file.
    InternalError, "internal-error", Error, reader: true
}

reader_lint!(
    YamlSyntax,
    YamlTooDeep,
    NotUtf8,
    BinaryFile,
    FileTooLarge,
    EmptyFile,
    DuplicateKey,
    MissingField,
    WrongType,
    InvalidModifierChain,
    InvalidValue,
    ConditionSyntax,
    LegacyAggregation,
    InvalidCollection,
    InvalidMetaRule,
    InternalError
);

impl Lint for UnknownModifier {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    /// The modifier nearest in spelling to the unknown one (`contain` → `contains`).
    fn fix(&self, text: &str, finding: &Diagnostic) -> Option<Fix> {
        // The finding is at the field's key: find its first unknown modifier.
        let key = scalar_at(text, finding.span.offset as usize)?;
        let mut at = key.start;
        for (i, part) in text[key.clone()].split('|').enumerate() {
            let start = at;
            at += part.len() + 1;
            // The field name, and a closing quote on the last part.
            let part = part.trim_end_matches(['"', '\'']);
            if i == 0 || Modifier::from_name(part).is_some() {
                continue;
            }
            let name = Modifier::closest(part)?;
            return Some(Fix::replace(
                format!("Replace `{part}` with `{name}`"),
                Safety::Unsafe,
                start..start + part.len(),
                name,
            ));
        }
        None
    }
}
