//! Checks of rule tags: ATT&CK references against the built-in ATT&CK data, the other
//! namespaces' forms, duplicates.

use sigil_core::{AttackKind, AttackState, Diagnostic, Rule, Span, attack_data};

use super::{Fix, Lint, LintInfo, Safety, declare_lint};
use crate::RuleSource;
use crate::lint::fix::scalar_at;
use crate::lint::metadata::is_wellformed_attack_tag;

/// The span of tag `i` of the rule.
fn tag_span(source: &RuleSource, i: usize) -> Span {
    source
        .tag_spans
        .get(i)
        .copied()
        .unwrap_or_else(|| source.span_of("tags"))
}

/// `(namespace, name)` of a tag, split at its first dot.
fn split(tag: &str) -> Option<(&str, &str)> {
    tag.split_once('.')
}

/// Calls `f` on each tag of namespace `ns` with its index and name.
fn tags_in<'a>(rule: &'a Rule, ns: &str, mut f: impl FnMut(usize, &'a str)) {
    for (i, tag) in rule.tags.iter().enumerate() {
        if let Some((n, name)) = split(tag)
            && n == ns
        {
            f(i, name);
        }
    }
}

declare_lint! {
    /// An `attack.` tag that names nothing current in ATT&CK.
    ///
    /// Why: coverage reports and Navigator layers place a rule by its tags; a tag that
    /// ATT&CK does not know (a typo, a revoked technique, a tactic written with `_`, a
    /// tactic by its id, a data source — all deprecated in ATT&CK 18) places it nowhere.
    /// Checked against the ATT&CK Enterprise data built into sigil (release 18.1, tactics,
    /// techniques and data sources); group, software, mitigation and campaign ids
    /// (`attack.g0016`, `attack.s0002`) are checked for their form only. Tags are lower case.
    ///
    /// Example: `attack.t1086` (revoked: now `attack.t1059.001`), `attack.defense_evasion`
    /// (ATT&CK writes `attack.defense-evasion`), `attack.ta0005`.
    UnknownAttackTag, "unknown-attack-tag", Warning, reader: false, pysigma: "attacktag", optional: true
}

/// Why an `attack.` tag whose form is sound names nothing current, or `None` if it does.
pub fn attack_tag_problem(name: &str) -> Option<String> {
    let data = attack_data();
    let version = sigil_core::ATTACK_VERSION;
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some("ATT&CK tags are written in lower case".into());
    }
    let b = name.as_bytes();
    if b.len() == 5 && matches!(b[0], b'g' | b's' | b'm' | b'c') {
        // Groups, software, mitigations, campaigns: the form was checked already.
        return None;
    }
    if let Some(t) = data.tactic(name) {
        return (t.state != AttackState::Active).then(|| {
            format!("the tactic `{name}` is {:?} in ATT&CK {version}", t.state).to_lowercase()
        });
    }
    if name.contains('_') && data.tactic(&name.replace('_', "-")).is_some() {
        return Some(format!(
            "ATT&CK names the tactic `{}`",
            name.replace('_', "-")
        ));
    }
    let upper = name.to_ascii_uppercase();
    match data.get(&upper) {
        Some(e) if e.kind == AttackKind::Tactic => {
            Some(format!("tactics are tagged by name: `attack.{}`", e.key))
        }
        Some(e) if e.state == AttackState::Active => None,
        Some(e) => Some(format!(
            "{} ({}) is {} in ATT&CK {version}",
            e.id,
            e.name,
            match e.state {
                AttackState::Revoked => "revoked",
                _ => "deprecated",
            }
        )),
        None => Some(format!("ATT&CK {version} has no `{name}`")),
    }
}

impl Lint for UnknownAttackTag {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        for (i, tag) in rule.tags.iter().enumerate() {
            let Some(name) = tag.strip_prefix("attack.") else {
                continue;
            };
            if !is_wellformed_attack_tag(tag) {
                continue;
            }
            if let Some(why) = attack_tag_problem(name) {
                out.push(Self::at(tag_span(source, i), format!("`{tag}`: {why}")));
            }
        }
    }
}

declare_lint! {
    /// An ATT&CK technique tag without the tag of a tactic it belongs to.
    ///
    /// Why: tactic tags are how coverage is read by phase; a technique under a tactic the
    /// rule does not name is counted in one view and missing from the other. The tactics
    /// of each technique come from the built-in ATT&CK data (release 18.1); tactic tags are
    /// compared as written (`attack.defense_evasion` is not `attack.defense-evasion`).
    ///
    /// Example: `attack.t1047` without `attack.execution`.
    TechniqueWithoutTactic, "technique-without-tactic", Warning, reader: false,
    pysigma: "sigmahq_tags_techniques_without_tactics", optional: true
}

impl Lint for TechniqueWithoutTactic {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let data = attack_data();
        let mut tactics: Vec<&str> = Vec::new();
        let mut techniques: Vec<(usize, &str)> = Vec::new();
        tags_in(rule, "attack", |i, name| {
            if name.starts_with('t') && name.bytes().any(|b| b.is_ascii_digit()) {
                techniques.push((i, name));
            } else if !name.starts_with('t') {
                tactics.push(name);
            }
        });
        // Each missing tactic once, at the first technique that needs it.
        let mut missing: Vec<(&str, usize, Vec<&str>)> = Vec::new();
        for &(i, name) in &techniques {
            let Some(required) = data.technique_tactics(&name.to_ascii_uppercase()) else {
                continue;
            };
            for tactic in required {
                if tactics.contains(&tactic) {
                    continue;
                }
                match missing.iter_mut().find(|m| m.0 == tactic) {
                    Some(m) => m.2.push(name),
                    None => missing.push((tactic, i, vec![name])),
                }
            }
        }
        for (tactic, i, names) in missing {
            let names: Vec<String> = names.iter().map(|n| format!("`attack.{n}`")).collect();
            out.push(Self::at(
                tag_span(source, i),
                format!(
                    "{} belong{} to the tactic `attack.{tactic}`, which is not among the tags",
                    names.join(", "),
                    if names.len() == 1 { "s" } else { "" }
                ),
            ));
        }
    }
}

declare_lint! {
    /// A tag that is not `namespace.name` in lower-case letters, digits, `-`, `_` (and `.`
    /// in the name).
    ///
    /// Why: tools match tags as text; `Attack.T1059` or `attack t1059` is a different tag
    /// to every one of them.
    ///
    /// Example: `attack.T1059`, `cve 2021-44228`, `detection.threat hunting`.
    TagFormat, "tag-format", Warning, reader: false, pysigma: "tag_format"
}

/// Whether `tag` is `[a-z0-9_-]+\.[a-z0-9_.-]+`.
fn tag_form_ok(tag: &str) -> bool {
    let Some((ns, name)) = split(tag) else {
        return false;
    };
    let ok = |c: char, dot: bool| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' || (dot && c == '.')
    };
    !ns.is_empty()
        && !name.is_empty()
        && ns.chars().all(|c| ok(c, false))
        && name.chars().all(|c| ok(c, true))
}

impl Lint for TagFormat {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        for (i, tag) in rule.tags.iter().enumerate() {
            // A malformed ATT&CK tag is `malformed-attack-tag`'s.
            if !tag_form_ok(tag) && (!tag.starts_with("attack.") || is_wellformed_attack_tag(tag)) {
                out.push(Self::at(
                    tag_span(source, i),
                    format!(
                        "`{tag}` is not `namespace.name` in lower-case letters, digits, `-` and `_`"
                    ),
                ));
            }
        }
    }

    /// Lower case, when that is all the tag lacks.
    fn fix(&self, text: &str, finding: &Diagnostic) -> Option<Fix> {
        let range = scalar_at(text, finding.span.offset as usize)?;
        let written = &text[range.clone()];
        let (quote, inner) = match written.chars().next()? {
            q @ ('\'' | '"') => (Some(q), written.get(1..written.len() - 1)?),
            _ => (None, written),
        };
        let lower = inner.to_lowercase();
        if lower == inner || !tag_form_ok(&lower) {
            return None;
        }
        let new = match quote {
            Some(q) => format!("{q}{lower}{q}"),
            None => lower.clone(),
        };
        Some(Fix::replace(
            format!("Write `{lower}` in lower case"),
            Safety::Safe,
            range,
            new,
        ))
    }
}

/// The tag namespaces Sigma defines.
pub const TAG_NAMESPACES: [&str; 7] = ["attack", "car", "cve", "d3fend", "detection", "stp", "tlp"];

declare_lint! {
    /// A tag in a namespace Sigma does not define.
    ///
    /// Why: the namespaces are `attack`, `car`, `cve`, `d3fend`, `detection`, `stp` and
    /// `tlp`; tools read only those, and anything else is usually a typo.
    ///
    /// Example: `atack.t1059`, `mitre.t1059`.
    UnknownTagNamespace, "unknown-tag-namespace", Warning, reader: false, pysigma: "namespace_tag"
}

impl Lint for UnknownTagNamespace {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        for (i, tag) in rule.tags.iter().enumerate() {
            let ns = split(tag).map_or(tag.as_str(), |(ns, _)| ns);
            if !TAG_NAMESPACES.contains(&ns) {
                out.push(Self::at(
                    tag_span(source, i),
                    format!("`{ns}` is not a tag namespace of Sigma"),
                ));
            }
        }
    }
}

/// Whether `s` is one or more ASCII digits.
fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Declares a check of the form of the tags of one namespace.
macro_rules! tag_pattern_lint {
    ($name:ident, $ns:literal, $ok:expr, $what:literal) => {
        impl Lint for $name {
            fn info(&self) -> &'static LintInfo {
                &Self::INFO
            }

            fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
                let ok: fn(&str) -> bool = $ok;
                tags_in(rule, $ns, |i, name| {
                    if !ok(name) {
                        out.push(Self::at(
                            tag_span(source, i),
                            format!(concat!("`", $ns, ".{}` is not ", $what), name),
                        ));
                    }
                });
            }
        }
    };
}

declare_lint! {
    /// A `cve.` tag that is not `cve.YEAR-NUMBER`.
    ///
    /// Why: CVE ids are `CVE-2021-44228`; the tag is the id in lower case without the
    /// prefix, and tools link it to the advisory only in that form.
    ///
    /// Example: `cve.2021.44228` (a dot for the dash), `cve.CVE-2021-44228`.
    InvalidCveTag, "invalid-cve-tag", Warning, reader: false, pysigma: "cvetag"
}
tag_pattern_lint!(
    InvalidCveTag,
    "cve",
    |n| n
        .split_once('-')
        .is_some_and(|(a, b)| digits(a) && digits(b)),
    "`cve.YEAR-NUMBER`"
);

declare_lint! {
    /// A `d3fend.` tag that is neither a D3FEND tactic nor a technique id.
    ///
    /// Why: D3FEND's tactics are `model`, `harden`, `detect`, `isolate`, `deceive`,
    /// `evict` and `restore`, its techniques `D3-` ids (`d3fend.d3-pa`), and its digital
    /// artifacts one word (`d3fend.file`); tools link the tag to D3FEND only in those
    /// forms. sigil holds no copy of the D3FEND ontology: technique ids and artifacts are
    /// checked for their form, not looked up.
    ///
    /// Example: `d3fend.d3_pa` (`_` for `-`), `d3fend.process-analysis`.
    InvalidD3fendTag, "invalid-d3fend-tag", Warning, reader: false, pysigma: "d3_fendtag"
}

/// Whether `name` has the form of a D3FEND tactic, technique id or artifact.
fn d3fend_name(name: &str) -> bool {
    const TACTICS: [&str; 7] = [
        "model", "harden", "detect", "isolate", "deceive", "evict", "restore",
    ];
    let alnum = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    TACTICS.contains(&name)
        || name
            .strip_prefix("d3-")
            .or_else(|| name.strip_prefix("D3-"))
            .is_some_and(alnum)
        || (alnum(name) && name.starts_with(|c: char| c.is_ascii_alphabetic()))
}
tag_pattern_lint!(
    InvalidD3fendTag,
    "d3fend",
    d3fend_name,
    "a D3FEND tactic, technique id (`d3-...`) or artifact"
);

declare_lint! {
    /// A `car.` tag that is not a MITRE CAR analytic id (`car.2016-04-005`).
    ///
    /// Why: CAR ids are `YYYY-MM-NNN`; any other form links to nothing.
    ///
    /// Example: `car.2016-04-5`.
    InvalidCarTag, "invalid-car-tag", Warning, reader: false, pysigma: "cartag"
}
tag_pattern_lint!(
    InvalidCarTag,
    "car",
    |n| {
        let p: Vec<&str> = n.split('-').collect();
        p.len() == 3
            && p[0].len() == 4
            && p[1].len() == 2
            && p[2].len() == 3
            && p.iter().all(|s| digits(s))
    },
    "a CAR id (`car.YYYY-MM-NNN`)"
);

declare_lint! {
    /// A `detection.` tag other than `dfir`, `emerging-threats` or `threat-hunting`.
    ///
    /// Why: the namespace says what kind of rule it is; these three are the kinds Sigma
    /// defines.
    ///
    /// Example: `detection.hunting`.
    InvalidDetectionTag, "invalid-detection-tag", Warning, reader: false, pysigma: "detection_tag"
}
tag_pattern_lint!(
    InvalidDetectionTag,
    "detection",
    |n| ["dfir", "emerging-threats", "threat-hunting"]
        .iter()
        .any(|k| n.starts_with(k)),
    "`dfir`, `emerging-threats` or `threat-hunting`"
);

declare_lint! {
    /// An `stp.` tag that is not a Summiting the Pyramid level (`stp.1` to `stp.5`,
    /// optionally followed by `a`, `u` or `k`).
    ///
    /// Why: the level rates how hard the detection is to evade; another form rates
    /// nothing.
    ///
    /// Example: `stp.6`, `stp.2x`.
    InvalidStpTag, "invalid-stp-tag", Warning, reader: false, pysigma: "stptag"
}
tag_pattern_lint!(
    InvalidStpTag,
    "stp",
    |n| {
        let b = n.as_bytes();
        (b.len() == 1 || (b.len() == 2 && matches!(b[1], b'a' | b'u' | b'k')))
            && (b'1'..=b'5').contains(&b[0])
    },
    "a Summiting the Pyramid level (`stp.1` to `stp.5`, with `a`, `u` or `k`)"
);

declare_lint! {
    /// A `tlp.` tag that is no Traffic Light Protocol label (`clear`, `white`, `green`,
    /// `amber`, `amber-strict`, `red`).
    ///
    /// Why: the label says who may see the rule; an unknown one says nothing.
    ///
    /// Example: `tlp.yellow`.
    InvalidTlpTag, "invalid-tlp-tag", Warning, reader: false, pysigma: "tlptag"
}
tag_pattern_lint!(
    InvalidTlpTag,
    "tlp",
    |n| ["white", "green", "amber", "red", "clear", "amber-strict"].contains(&n),
    "a TLP label"
);

declare_lint! {
    /// A `tlp.` tag that is not a label of TLP 1.0 (`white`, `green`, `amber`, `red`).
    ///
    /// Why: for rule sets that still share under TLP 1.0.
    ///
    /// Example: `tlp.clear` (TLP 2.0 for `white`).
    TlpV1Tag, "tlp-v1-tag", Warning, reader: false, pysigma: "tlpv1_tag", optional: true
}
tag_pattern_lint!(
    TlpV1Tag,
    "tlp",
    |n| ["white", "green", "amber", "red"].contains(&n),
    "a TLP 1.0 label"
);

declare_lint! {
    /// A `tlp.` tag that is not a label of TLP 2.0 (`clear`, `green`, `amber`,
    /// `amber-strict`, `red`).
    ///
    /// Why: TLP 2.0 replaced `white` with `clear` in 2022.
    ///
    /// Example: `tlp.white`.
    TlpV2Tag, "tlp-v2-tag", Warning, reader: false, pysigma: "tlpv2_tag", optional: true
}
tag_pattern_lint!(
    TlpV2Tag,
    "tlp",
    |n| ["clear", "green", "amber", "amber-strict", "red"].contains(&n),
    "a TLP 2.0 label"
);

declare_lint! {
    /// A `tlp.` tag other than `tlp.clear` (SigmaHQ shares its rules publicly).
    ///
    /// Why: SigmaHQ's rule set is public; a rule marked for restricted sharing does not
    /// belong in it.
    ///
    /// Example: `tlp.amber`.
    SigmahqTlp, "sigmahq-tlp", Warning, reader: false, pysigma: "sigmahq_tags_tlp", optional: true
}

impl Lint for SigmahqTlp {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let mut found = None;
        tags_in(rule, "tlp", |i, name| {
            if name != "clear" && found.is_none() {
                found = Some((i, name));
            }
        });
        if let Some((i, name)) = found {
            out.push(Self::at(
                tag_span(source, i),
                format!("`tlp.{name}`: SigmaHQ rules are `tlp.clear`"),
            ));
        }
    }
}

declare_lint! {
    /// The same tag twice.
    ///
    /// Why: a copy-and-paste leftover; counts built from tags count the rule twice.
    ///
    /// Example: `attack.t1059` listed twice.
    DuplicateTag, "duplicate-tag", Warning, reader: false, pysigma: "duplicate_tag"
}

impl Lint for DuplicateTag {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        for (i, tag) in rule.tags.iter().enumerate() {
            if rule.tags[..i].contains(tag) {
                out.push(Self::at(
                    tag_span(source, i),
                    format!("`{tag}` is listed twice"),
                ));
            }
        }
    }

    /// Removes the second entry, when it is a line of its own (`  - tag`).
    fn fix(&self, text: &str, finding: &Diagnostic) -> Option<Fix> {
        let range = super::fix::item_line(text, finding.span.offset as usize)?;
        Some(Fix::replace(
            "Remove the duplicate tag",
            Safety::Safe,
            range,
            "",
        ))
    }
}

/// Declares a check that a namespace holds at most one tag.
macro_rules! unique_namespace_lint {
    ($name:ident, $ns:literal) => {
        impl Lint for $name {
            fn info(&self) -> &'static LintInfo {
                &Self::INFO
            }

            fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
                let mut seen = Vec::new();
                tags_in(rule, $ns, |i, _| seen.push(i));
                if let Some(&second) = seen.get(1) {
                    out.push(Self::at(
                        tag_span(source, second),
                        concat!("more than one `", $ns, ".` tag"),
                    ));
                }
            }
        }
    };
}

declare_lint! {
    /// More than one `detection.` tag.
    ///
    /// Why: a rule is of one kind (`dfir`, `emerging-threats` or `threat-hunting`).
    ///
    /// Example: `detection.dfir` and `detection.threat-hunting` together.
    MultipleDetectionTags, "multiple-detection-tags", Warning, reader: false,
    pysigma: "sigmahq_tags_unique_detection", optional: true
}
unique_namespace_lint!(MultipleDetectionTags, "detection");

declare_lint! {
    /// More than one `tlp.` tag.
    ///
    /// Why: a rule is shared under one label; two contradict each other.
    ///
    /// Example: `tlp.clear` and `tlp.amber` together.
    MultipleTlpTags, "multiple-tlp-tags", Warning, reader: false,
    pysigma: "sigmahq_tags_unique_tlp", optional: true
}
unique_namespace_lint!(MultipleTlpTags, "tlp");

declare_lint! {
    /// A rule in a SigmaHQ kind folder (`rules-dfir`, `rules-emerging-threats`,
    /// `rules-threat-hunting`) without the matching `detection.` tag.
    ///
    /// Why: SigmaHQ marks the kind of rule in its tags, so the kind survives when the
    /// rule is copied out of the folder.
    ///
    /// Example: `rules-threat-hunting/x.yml` without `detection.threat-hunting`.
    MissingDetectionTag, "missing-detection-tag", Warning, reader: false,
    pysigma: "sigmahq_tags_detection", optional: true
}

impl Lint for MissingDetectionTag {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let Some(path) = &source.path else { return };
        let path = path.to_string_lossy();
        for kind in ["dfir", "emerging-threats", "threat-hunting"] {
            if path.contains(&format!("rules-{kind}")) {
                let mut found = false;
                tags_in(rule, "detection", |_, name| found |= name == kind);
                if !found {
                    out.push(Self::at(
                        source.span_of("tags"),
                        format!("a rule of `rules-{kind}` without the tag `detection.{kind}`"),
                    ));
                }
                return;
            }
        }
    }
}
