//! Checks of rule metadata: id, title, level, status, ATT&CK tags.

use sigil_core::{Diagnostic, Rule};

use super::fix::{Fix, Safety, closest, scalar_at};
use super::{Lint, LintInfo, declare_lint};
use crate::RuleSource;

/// The fix of a misspelt value among `names`: the scalar at the finding, replaced by the
/// nearest name.
fn respell(text: &str, finding: &Diagnostic, names: &[&'static str]) -> Option<Fix> {
    let range = scalar_at(text, finding.span.offset as usize)?;
    let written = &text[range.clone()];
    let quoted = written.starts_with(['"', '\'']);
    let inner = if quoted && written.len() >= 2 {
        range.start + 1..range.end - 1
    } else {
        range
    };
    let raw = &text[inner.clone()];
    let name = closest(raw, names.iter().copied())?;
    Some(Fix::replace(
        format!("Replace `{raw}` with `{name}`"),
        Safety::Unsafe,
        inner,
        name,
    ))
}

declare_lint! {
    /// The rule has no `id`.
    ///
    /// Why: the id is how other rules (correlations, filters, `related`), SIEMs and
    /// catalogs refer to a rule; without one, renaming the file breaks every link.
    ///
    /// Example: a rule with `title:` and `detection:` but no `id:` line — add
    /// `id: 0f0e2f5c-5e4b-4b8e-9d50-3c7b1c7a2b10` (a fresh UUID).
    MissingId, "missing-id", Warning, reader: false, pysigma: "identifier_existence"
}

impl Lint for MissingId {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        if rule.id.is_none() {
            out.push(Self::at(source.span, "the rule has no `id`"));
        }
    }
}

declare_lint! {
    /// The `id` is not a UUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hexadecimal).
    ///
    /// Why: the specification requires a UUID so ids are unique across rule sets; short
    /// or hand-written ids collide.
    ///
    /// Example: `id: my-rule-1` or `id: 929a690e-bef0-4204-a928-ef5e620d6fc` (one digit short).
    MalformedId, "malformed-id", Error, reader: false
}

/// Whether `s` is a UUID in its canonical 8-4-4-4-12 form.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

impl Lint for MalformedId {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        if let Some(id) = rule.id.as_ref().filter(|id| !is_uuid(id)) {
            out.push(Self::at(
                source.span_of("id"),
                format!("`{id}` is not a UUID"),
            ));
        }
    }
}

declare_lint! {
    /// The rule has no `title` (or an empty one).
    ///
    /// Why: the title is required by the specification and is what analysts see first in
    /// an alert.
    ///
    /// Example: a rule without a `title:` line.
    MissingTitle, "missing-title", Error, reader: false
}

impl Lint for MissingTitle {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        if rule.title.trim().is_empty() {
            out.push(Self::at(source.span_of("title"), "the rule has no `title`"));
        }
    }
}

declare_lint! {
    /// A detection rule has no `level`.
    ///
    /// Why: the level drives alert triage; tools fall back to different defaults.
    ///
    /// Example: add `level: medium`. Correlation and filter rules are not checked.
    MissingLevel, "missing-level", Warning, reader: false, pysigma: "sigmahq_level_existence"
}

impl Lint for MissingLevel {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let detection = matches!(rule.body, sigil_core::RuleBody::Detection(_));
        if detection && !source.keys.contains_key("level") {
            out.push(Self::at(source.span, "the rule has no `level`"));
        }
    }
}

declare_lint! {
    /// The `level` is not one of informational, low, medium, high, critical.
    ///
    /// Why: tools drop or misrank alerts with an unknown level.
    ///
    /// Example: `level: severe`, `level: hihg`.
    InvalidLevel, "invalid-level", Error, reader: false
}

impl Lint for InvalidLevel {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        if rule.level.is_none() && source.keys.contains_key("level") {
            let raw = source.values.get("level").map_or("", |v| v.1.as_str());
            out.push(Self::at(
                source.span_of("level"),
                format!("`{raw}` is not a level (informational, low, medium, high or critical)"),
            ));
        }
    }

    fn fix(&self, text: &str, finding: &Diagnostic) -> Option<Fix> {
        respell(
            text,
            finding,
            &["informational", "low", "medium", "high", "critical"],
        )
    }
}

declare_lint! {
    /// A detection rule has no `status`.
    ///
    /// Why: the status (stable, test, experimental, deprecated, unsupported) tells users
    /// how far to trust the rule.
    ///
    /// Example: add `status: experimental` to a new rule.
    MissingStatus, "missing-status", Warning, reader: false, pysigma: "sigmahq_status_existence"
}

impl Lint for MissingStatus {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let detection = matches!(rule.body, sigil_core::RuleBody::Detection(_));
        if detection && !source.keys.contains_key("status") {
            out.push(Self::at(source.span, "the rule has no `status`"));
        }
    }
}

declare_lint! {
    /// The `status` is not one of stable, test, experimental, deprecated, unsupported.
    ///
    /// Why: tools filter rules by status; an unknown one is filtered unpredictably.
    ///
    /// Example: `status: testing`, `status: production`.
    InvalidStatus, "invalid-status", Error, reader: false
}

impl Lint for InvalidStatus {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        if rule.status.is_none() && source.keys.contains_key("status") {
            let raw = source.values.get("status").map_or("", |v| v.1.as_str());
            out.push(Self::at(
                source.span_of("status"),
                format!(
                    "`{raw}` is not a status (stable, test, experimental, deprecated or unsupported)"
                ),
            ));
        }
    }

    fn fix(&self, text: &str, finding: &Diagnostic) -> Option<Fix> {
        respell(
            text,
            finding,
            &[
                "stable",
                "test",
                "experimental",
                "deprecated",
                "unsupported",
            ],
        )
    }
}

declare_lint! {
    /// An `attack.` tag that is not a well-formed ATT&CK reference.
    ///
    /// Why: malformed tags silently drop out of ATT&CK coverage reports and Navigator
    /// layers. Only the *form* is checked — a tactic name in lower case with `-` or `_`
    /// (`attack.defense-evasion`), a technique `attack.t1234` or sub-technique
    /// `attack.t1234.001`, a group/software/mitigation/campaign id (`attack.g0016`,
    /// `attack.s0002`), a tactic or data source id (`attack.ta0005`, `attack.ds0005`) — so tactics and techniques newer
    /// than any ATT&CK release sigil knows (`attack.stealth`, `attack.t1685`) are fine.
    ///
    /// Example: `attack.t1059.1` (sub-techniques have three digits), `attack.T 1059`,
    /// `attack.Defense Evasion`, `attack.`.
    MalformedAttackTag, "malformed-attack-tag", Error, reader: false, pysigma: "attacktag"
}

/// Whether an `attack.`-namespace tag is well formed.
pub fn is_wellformed_attack_tag(tag: &str) -> bool {
    if sigil_core::parse_attack_tag(tag).is_some() {
        return true;
    }
    // Tactic (`TA0005`) and data source (`DS0005`) ids are ATT&CK ids the core parser
    // does not model.
    tag.strip_prefix("attack.").is_some_and(|rest| {
        let b = rest.as_bytes();
        b.len() == 6
            && (b[..2].eq_ignore_ascii_case(b"ta") || b[..2].eq_ignore_ascii_case(b"ds"))
            && b[2..].iter().all(u8::is_ascii_digit)
    })
}

impl Lint for MalformedAttackTag {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        for (i, tag) in rule.tags.iter().enumerate() {
            if tag.starts_with("attack.") && !is_wellformed_attack_tag(tag) {
                let span = source
                    .tag_spans
                    .get(i)
                    .copied()
                    .unwrap_or_else(|| source.span_of("tags"));
                out.push(Self::at(
                    span,
                    format!("`{tag}` is not a well-formed ATT&CK tag"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids() {
        assert!(is_uuid("929a690e-bef0-4204-a928-ef5e620d6fcc"));
        assert!(is_uuid("929A690E-BEF0-4204-A928-EF5E620D6FCC"));
        assert!(!is_uuid("929a690e-bef0-4204-a928-ef5e620d6fc"));
        assert!(!is_uuid("929a690e_bef0-4204-a928-ef5e620d6fcc"));
        assert!(!is_uuid("929a690e-bef0-4204-a928-ef5e620d6fcg"));
    }

    #[test]
    fn attack_tags_tolerate_new_names() {
        for ok in [
            "attack.stealth",
            "attack.defense-impairment",
            "attack.defense_evasion",
            "attack.t1685",
            "attack.t1059.001",
            "attack.g0016",
            "attack.ta0005",
            "attack.ds0005",
        ] {
            assert!(is_wellformed_attack_tag(ok), "{ok}");
        }
        for bad in [
            "attack.t1059.1",
            "attack.T 1059",
            "attack.Defense Evasion",
            "attack.",
        ] {
            assert!(!is_wellformed_attack_tag(bad), "{bad}");
        }
    }
}
