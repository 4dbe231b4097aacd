//! Which checks run, and on which rules: sigil's defaults, every check, or a pySigma
//! validation configuration (`sigma check --validation-config FILE`).
//!
//! pySigma's format, as SigmaHQ's `tests/sigma_cli_conf.yml` writes it:
//!
//! ```yaml
//! validators:
//!   - all            # every validator
//!   - -tlptag        # but this one
//! exclusions:
//!   0e4a6ac2-...: escaped_wildcard          # one validator for one rule id
//!   5f2d6d5b-...: [attacktag, cvetag]       # or a list
//! config: {}        # validator parameters: read and ignored
//! ```
//!
//! Names are pySigma validator identifiers or sigil check codes. A pySigma validator
//! that sigil has no check for is accepted (and listed by [`Selection::unmatched`]);
//! a name that is neither is an error. Checks without a pySigma counterpart are sigil's
//! own: they run as without a configuration unless named with `-`.

use std::collections::{BTreeMap, BTreeSet};

use super::{LintInfo, PYSIGMA_VALIDATORS, registry};
use crate::yaml::{self, Node, NodeValue};

/// The checks to run and the findings to leave out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Run the optional checks too.
    all: bool,
    /// With a configuration: the pySigma validators named (after `all` and `-name`).
    validators: Option<BTreeSet<String>>,
    /// sigil checks turned off by code.
    off: BTreeSet<String>,
    /// Rule id (lower case) → validators or codes not reported for it.
    exclusions: BTreeMap<String, BTreeSet<String>>,
}

impl Selection {
    /// sigil's defaults: every check that is not optional.
    pub fn defaults() -> Self {
        Self::default()
    }

    /// Every check, the optional ones included (pySigma's `all`).
    pub fn all() -> Self {
        Self {
            all: true,
            ..Self::default()
        }
    }

    /// Reads a pySigma validation configuration.
    pub fn from_pysigma_config(text: &str) -> Result<Self, String> {
        let (docs, error) = yaml::load(text);
        if let Some(e) = error {
            let d = e.to_diagnostic();
            return Err(format!("line {}: {}", d.span.line, d.message));
        }
        let mut sel = Self {
            validators: Some(BTreeSet::new()),
            ..Self::default()
        };
        let Some(doc) = docs.first() else {
            return Ok(sel);
        };
        let names = |node: &Node| -> Result<Vec<(String, u32)>, String> {
            match &node.value {
                _ if node.is_null() => Ok(vec![]),
                NodeValue::Scalar(s) => Ok(vec![(s.text.to_string(), node.span.line)]),
                NodeValue::Seq(items) => items
                    .iter()
                    .map(|i| {
                        i.as_scalar()
                            .map(|s| (s.text.to_string(), i.span.line))
                            .ok_or_else(|| format!("line {}: expected a name", i.span.line))
                    })
                    .collect(),
                NodeValue::Map(_) => Err(format!(
                    "line {}: expected a name or a list of names",
                    node.span.line
                )),
            }
        };
        if let Some(v) = doc.root.get("validators") {
            for (name, line) in names(v)? {
                let (remove, name) = match name.strip_prefix('-') {
                    Some(rest) => (true, rest.to_string()),
                    None => (false, name),
                };
                if name == "all" {
                    sel.all = !remove;
                    let set = sel.validators.get_or_insert_default();
                    if remove {
                        set.clear();
                    } else {
                        set.extend(PYSIGMA_VALIDATORS.iter().map(ToString::to_string));
                    }
                    continue;
                }
                let targets = Self::resolve(&name, line)?;
                for t in targets {
                    match t {
                        Target::Validator(v) => {
                            let set = sel.validators.get_or_insert_default();
                            if remove {
                                set.remove(&v);
                            } else {
                                set.insert(v);
                            }
                        }
                        Target::Code(c) => {
                            if remove {
                                sel.off.insert(c);
                            } else {
                                sel.off.remove(&c);
                            }
                        }
                    }
                }
            }
        }
        if let Some(ex) = doc.root.get("exclusions") {
            let NodeValue::Map(entries) = &ex.value else {
                if ex.is_null() {
                    return Ok(sel);
                }
                return Err(format!(
                    "line {}: `exclusions` is not a mapping of rule ids",
                    ex.span.line
                ));
            };
            for (key, value) in entries {
                let Some(key) = key.as_scalar() else { continue };
                let id = key.text.to_ascii_lowercase();
                for (name, line) in names(value)? {
                    let resolved = Self::resolve(&name, line)?;
                    let set = sel.exclusions.entry(id.clone()).or_default();
                    for t in resolved {
                        set.insert(match t {
                            Target::Validator(v) => v,
                            Target::Code(c) => c,
                        });
                    }
                }
            }
        }
        Ok(sel)
    }

    /// What a name in a configuration means.
    fn resolve(name: &str, line: u32) -> Result<Vec<Target>, String> {
        if PYSIGMA_VALIDATORS.contains(&name) {
            return Ok(vec![Target::Validator(name.to_string())]);
        }
        match registry().iter().find(|l| l.info().code == name) {
            Some(l) => Ok(vec![match l.info().pysigma {
                Some(v) => Target::Validator(v.to_string()),
                None => Target::Code(name.to_string()),
            }]),
            None => Err(format!(
                "line {line}: `{name}` is neither a pySigma validator nor a sigil check"
            )),
        }
    }

    /// Whether the check runs.
    pub fn enabled(&self, info: &LintInfo) -> bool {
        if info.reader {
            return true;
        }
        if self.off.contains(info.code) {
            return false;
        }
        match (&self.validators, info.pysigma) {
            (Some(set), Some(v)) => set.contains(v),
            _ => self.all || !info.optional,
        }
    }

    /// Whether findings of `info` are left out for the rule with id `id`.
    pub fn excluded(&self, id: Option<&str>, info: &LintInfo) -> bool {
        let Some(id) = id else { return false };
        self.exclusions
            .get(&id.to_ascii_lowercase())
            .is_some_and(|set| {
                set.contains(info.code) || info.pysigma.is_some_and(|v| set.contains(v))
            })
    }

    /// The pySigma validators the configuration names that sigil has no check for.
    pub fn unmatched(&self) -> impl Iterator<Item = &str> {
        self.validators
            .iter()
            .flatten()
            .map(String::as_str)
            .filter(|v| !registry().iter().any(|l| l.info().pysigma == Some(*v)))
    }
}

enum Target {
    Validator(String),
    Code(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::{EscapedWildcard, MissingId, TagFormat, UnknownAttackTag, UnusedSearch};

    #[test]
    fn defaults_leave_optional_checks_out() {
        let s = Selection::defaults();
        assert!(s.enabled(&TagFormat::INFO));
        assert!(!s.enabled(&UnknownAttackTag::INFO));
        assert!(Selection::all().enabled(&UnknownAttackTag::INFO));
    }

    #[test]
    fn reads_pysigma_configuration() {
        let s = Selection::from_pysigma_config(
            "validators:\n  - all\n  - -escaped_wildcard\n  - -unused-search\nexclusions:\n  \
             0E4A6AC2-0000-4000-8000-000000000000: attacktag\n  \
             11111111-0000-4000-8000-000000000000: [tag_format, missing-id]\n",
        )
        .expect("readable test data");
        assert!(s.enabled(&UnknownAttackTag::INFO));
        assert!(!s.enabled(&EscapedWildcard::INFO));
        assert!(!s.enabled(&UnusedSearch::INFO));
        assert!(s.excluded(
            Some("0e4a6ac2-0000-4000-8000-000000000000"),
            &UnknownAttackTag::INFO
        ));
        assert!(!s.excluded(
            Some("0e4a6ac2-0000-4000-8000-000000000000"),
            &TagFormat::INFO
        ));
        assert!(s.excluded(
            Some("11111111-0000-4000-8000-000000000000"),
            &MissingId::INFO
        ));
        // sigil has a check for every pySigma validator.
        assert!(s.unmatched().next().is_none());
        let e = Selection::from_pysigma_config("validators: [all, -no_such_check]\n")
            .expect_err("an error");
        assert!(e.contains("no_such_check"), "{e}");
    }

    #[test]
    fn a_list_without_all_runs_only_what_it_names() {
        let s = Selection::from_pysigma_config("validators: [attacktag]\n")
            .expect("readable test data");
        assert!(s.enabled(&UnknownAttackTag::INFO));
        assert!(!s.enabled(&TagFormat::INFO));
        assert!(!s.enabled(&MissingId::INFO));
        // sigil's own checks are not pySigma's to turn off.
        assert!(s.enabled(&crate::lint::EmptyValueList::INFO));
    }
}
