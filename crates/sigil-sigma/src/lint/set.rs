//! Checks over every rule checked together.

use std::collections::HashMap;

use sigil_core::{Diagnostic, Span};

use super::{Lint, LintInfo, declare_lint, known};
use crate::{RuleIndex, SigmaFile, references};

declare_lint! {
    /// Two rules of the checked set have the same `id`.
    ///
    /// Why: ids must be unique: SIEMs, correlations and catalogs would pick one of the
    /// two at random. Copying a rule as a template without a fresh id is the usual cause.
    ///
    /// Example: `rules/a.yml` and `rules/b.yml` both with
    /// `id: 929a690e-bef0-4204-a928-ef5e620d6fcc`.
    DuplicateId, "duplicate-id", Error, reader: false, pysigma: "identifier_uniqueness"
}

impl Lint for DuplicateId {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_set(&self, files: &[&SigmaFile], out: &mut Vec<(usize, Diagnostic)>) {
        // id -> every (file, span) that declares it, in file order.
        let mut seen: HashMap<&str, Vec<(usize, Span)>> = HashMap::new();
        for (fi, file) in files.iter().enumerate() {
            for (rule, source) in file.rules.iter().zip(&file.sources) {
                if let Some(id) = &rule.id {
                    seen.entry(id.as_str())
                        .or_default()
                        .push((fi, source.span_of("id")));
                }
            }
        }
        for (id, mut places) in seen {
            // Rules of one collection may share the id of their `action: global` document:
            // that is one place, reported at most once.
            places.dedup();
            if places.len() < 2 {
                continue;
            }
            for &(fi, span) in &places {
                let others = places.len() - 1;
                out.push((
                    fi,
                    Self::at(
                        span,
                        format!(
                            "id `{id}` is also used by {others} other rule{}",
                            if others == 1 { "" } else { "s" }
                        ),
                    ),
                ));
            }
        }
    }
}

declare_lint! {
    /// A correlation or filter names a rule (by id or `name`) that is not in the checked
    /// set.
    ///
    /// Why: the meta rule can never fire (correlation) or never applies (filter). Check
    /// the referenced rule's files together with the meta rule.
    ///
    /// Example: `correlation: {type: event_count, rules: [failed_logon], ...}` with no
    /// rule whose `name` is `failed_logon`.
    UnknownRuleReference, "unknown-rule-reference", Error, reader: false
}

impl Lint for UnknownRuleReference {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_set(&self, files: &[&SigmaFile], out: &mut Vec<(usize, Diagnostic)>) {
        let index = RuleIndex::new(files.iter().flat_map(|f| f.rules.iter()));
        for (fi, file) in files.iter().enumerate() {
            for (rule, source) in file.rules.iter().zip(&file.sources) {
                for r in references(rule) {
                    if index.resolve(&r.reference).is_none() {
                        out.push((
                            fi,
                            Self::at(
                                known(r.span, source.span),
                                format!(
                                    "`{}` names no rule (by id or name) among the checked files",
                                    r.reference
                                ),
                            ),
                        ));
                    }
                }
            }
        }
    }
}

declare_lint! {
    /// Two rules of the checked set have the same title.
    ///
    /// Why: analysts tell alerts apart by title; two rules with one title look like one
    /// rule firing for two different reasons. The rules of one multi-document file share
    /// its title by design and are not reported.
    ///
    /// Example: two rules titled `Suspicious PowerShell Invocation`.
    DuplicateTitle, "duplicate-title", Warning, reader: false, pysigma: "duplicate_title"
}

impl Lint for DuplicateTitle {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_set(&self, files: &[&SigmaFile], out: &mut Vec<(usize, Diagnostic)>) {
        let mut seen: HashMap<&str, Vec<(usize, Span)>> = HashMap::new();
        for (fi, file) in files.iter().enumerate() {
            for (rule, source) in file.rules.iter().zip(&file.sources) {
                if rule.language == sigil_core::RuleLanguage::Sigma {
                    seen.entry(rule.title.as_str())
                        .or_default()
                        .push((fi, source.span_of("title")));
                }
            }
        }
        for (title, mut places) in seen {
            places.dedup_by_key(|p| p.0);
            if places.len() < 2 {
                continue;
            }
            let others = places.len() - 1;
            for &(fi, span) in &places {
                out.push((
                    fi,
                    Self::at(
                        span,
                        format!(
                            "the title `{title}` is also used by {others} other rule{}",
                            if others == 1 { "" } else { "s" }
                        ),
                    ),
                ));
            }
        }
    }
}

declare_lint! {
    /// Two files of the checked set have the same file name (in different folders).
    ///
    /// Why: rule sets are often flattened into one folder on export; one file then
    /// overwrites the other.
    ///
    /// Example: `rules/windows/a/proc_creation_x.yml` and `rules/windows/b/proc_creation_x.yml`.
    DuplicateFilename, "duplicate-filename", Warning, reader: false, pysigma: "duplicate_filename", optional: true
}

impl Lint for DuplicateFilename {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_set(&self, files: &[&SigmaFile], out: &mut Vec<(usize, Diagnostic)>) {
        let mut seen: HashMap<String, Vec<(usize, Span, &std::path::Path)>> = HashMap::new();
        for (fi, file) in files.iter().enumerate() {
            let Some(source) = file.sources.first() else {
                continue;
            };
            let Some(path) = &source.path else { continue };
            if file.rules.first().map(|r| r.language) != Some(sigil_core::RuleLanguage::Sigma) {
                continue;
            }
            if let Some(name) = path.file_name() {
                seen.entry(name.to_string_lossy().into_owned())
                    .or_default()
                    .push((fi, source.span, path));
            }
        }
        for (name, mut places) in seen {
            places.dedup_by(|a, b| a.2 == b.2);
            if places.len() < 2 {
                continue;
            }
            for &(fi, span, path) in &places {
                let others: Vec<String> = places
                    .iter()
                    .filter(|p| p.2 != path)
                    .map(|p| p.2.display().to_string())
                    .collect();
                out.push((
                    fi,
                    Self::at(
                        span,
                        format!("`{name}` is also the name of {}", others.join(", ")),
                    ),
                ));
            }
        }
    }
}
