//! The conventions of SigmaHQ's rule repository for metadata: status, dates, author,
//! title, description, false positives, references, file names.
//!
//! They are style rather than meaning, but they are what SigmaHQ's CI enforces, so a
//! rule repository that follows SigmaHQ can run `sigil check` instead of `sigma check`.

use sigil_core::{Diagnostic, Rule, RuleBody, Status};

use super::fix::scalar_at;
use super::{Edit, Fix, Lint, LintInfo, Safety, declare_lint};
use crate::RuleSource;

/// Implements [`Lint`] for a check of one rule written as a function that returns
/// `(key whose value the finding points at, message)` for each finding.
macro_rules! rule_lint {
    ($name:ident, |$rule:ident, $source:ident| $body:expr) => {
        impl Lint for $name {
            fn info(&self) -> &'static LintInfo {
                &Self::INFO
            }

            fn check_rule(&self, $rule: &Rule, $source: &RuleSource, out: &mut Vec<Diagnostic>) {
                let found: Vec<(&str, String)> = $body;
                for (key, message) in found {
                    out.push(Self::at($source.span_of(key), message));
                }
            }
        }
    };
}

declare_lint! {
    /// A rule whose status is `deprecated` or `unsupported` among the rules checked.
    ///
    /// Why: such rules are kept for reference only; SigmaHQ keeps them out of its rule
    /// folders (in `deprecated/` and `unsupported/`) so that nobody deploys them. A rule
    /// repository's CI checks its active rules: one of these among them was misfiled.
    ///
    /// Example: `status: deprecated` in `rules/windows/...`.
    RetiredStatus, "retired-status", Warning, reader: false, pysigma: "sigmahq_status", optional: true
}
rule_lint!(RetiredStatus, |rule, _source| match rule.status {
    Some(s @ (Status::Deprecated | Status::Unsupported)) => vec![(
        "status",
        format!(
            "the rule is {}: keep it out of the active rules",
            if s == Status::Deprecated {
                "deprecated"
            } else {
                "unsupported"
            }
        ),
    )],
    _ => vec![],
});

declare_lint! {
    /// The rule has no `author`.
    ///
    /// Why: the author is who to ask about a rule; SigmaHQ requires it.
    ///
    /// Example: add `author: Jane Doe`.
    MissingAuthor, "missing-author", Warning, reader: false, pysigma: "sigmahq_author_existence", optional: true
}
rule_lint!(MissingAuthor, |rule, _source| if rule.author.is_none() {
    vec![("title", "the rule has no `author`".into())]
} else {
    vec![]
});

declare_lint! {
    /// The rule has no `date`.
    ///
    /// Why: the creation date tells how old a rule is; SigmaHQ requires it.
    ///
    /// Example: add `date: 2024-05-01`.
    MissingDate, "missing-date", Warning, reader: false, pysigma: "sigmahq_date_existence", optional: true
}
rule_lint!(MissingDate, |rule, _source| if rule.date.is_none() {
    vec![("title", "the rule has no `date`".into())]
} else {
    vec![]
});

/// A date as written, with `/` read as `-` (`2024/05/01` is `2024-05-01`), for comparing.
fn date_key(d: &str) -> String {
    d.trim().replace('/', "-")
}

declare_lint! {
    /// `modified` is earlier than `date`.
    ///
    /// Why: a rule cannot be changed before it was written; one of the two dates is
    /// wrong (often swapped).
    ///
    /// Example: `date: 2024-05-01` and `modified: 2023-01-10`.
    ModifiedBeforeDate, "modified-before-date", Warning, reader: false,
    pysigma: "sigmahq_modified_date_order", optional: true
}
impl Lint for ModifiedBeforeDate {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        if let (Some(d), Some(m)) = (&rule.date, &rule.modified)
            && date_key(m) < date_key(d)
        {
            out.push(Self::at(
                source.span_of("modified"),
                format!("`modified` ({m}) is earlier than `date` ({d})"),
            ));
        }
    }

    /// Swaps the two dates: the rule was written on the earlier day and changed on the
    /// later one. The finding points at `modified`; `date` is the top-level key of the
    /// same document.
    fn fix(&self, text: &str, finding: &Diagnostic) -> Option<Fix> {
        let at = finding.span.offset as usize;
        let modified = scalar_at(text, at)?;
        let doc_start = text.get(..at)?.rfind("\n---").map_or(0, |i| i + 4);
        let doc_end = text[at..].find("\n---").map_or(text.len(), |i| at + i);
        let mut line_start = doc_start;
        let mut date = None;
        for line in text[doc_start..doc_end].split_inclusive('\n') {
            if let Some(rest) = line.strip_prefix("date:") {
                let value = line_start + 5 + (rest.len() - rest.trim_start().len());
                date = scalar_at(text, value);
                break;
            }
            line_start += line.len();
        }
        let date = date.filter(|r| !r.is_empty())?;
        let (d, m) = (
            text[date.clone()].to_string(),
            text[modified.clone()].to_string(),
        );
        (date_key(m.trim_matches(['\'', '"'])) < date_key(d.trim_matches(['\'', '"']))).then(|| {
            Fix {
                title: "Swap `date` and `modified`".into(),
                safety: Safety::Safe,
                edits: vec![
                    Edit {
                        range: date,
                        text: m,
                    },
                    Edit {
                        range: modified,
                        text: d,
                    },
                ],
            }
        })
    }
}

declare_lint! {
    /// `modified` without `date`.
    ///
    /// Why: a new rule has a `date`; `modified` records later changes.
    ///
    /// Example: `modified: 2024-05-01` alone — rename it `date`.
    ModifiedWithoutDate, "modified-without-date", Warning, reader: false,
    pysigma: "sigmahq_modified_without_date", optional: true
}
rule_lint!(
    ModifiedWithoutDate,
    |rule, _source| if rule.modified.is_some() && rule.date.is_none() {
        vec![("modified", "`modified` without `date`".into())]
    } else {
        vec![]
    }
);

declare_lint! {
    /// `modified` is the same day as `date`.
    ///
    /// Why: it records no change; SigmaHQ drops it.
    ///
    /// Example: `date: 2024-05-01` and `modified: 2024-05-01`.
    RedundantModified, "redundant-modified", Warning, reader: false,
    pysigma: "sigmahq_redundant_modified", optional: true
}
rule_lint!(
    RedundantModified,
    |rule, _source| match (&rule.date, &rule.modified) {
        (Some(d), Some(m)) if date_key(m) == date_key(d) => {
            vec![("modified", "`modified` is the same day as `date`".into())]
        }
        _ => vec![],
    }
);

declare_lint! {
    /// The rule has no `description`.
    ///
    /// Why: the description is what the rule detects and why, for the analyst who gets
    /// the alert; SigmaHQ requires it.
    ///
    /// Example: add `description: Detects ...`.
    MissingDescription, "missing-description", Warning, reader: false,
    pysigma: "sigmahq_description_existence", optional: true
}
rule_lint!(
    MissingDescription,
    |rule, _source| if rule.description.is_none() {
        vec![("title", "the rule has no `description`".into())]
    } else {
        vec![]
    }
);

declare_lint! {
    /// A `description` shorter than 16 characters.
    ///
    /// Why: it cannot say what the rule detects and why.
    ///
    /// Example: `description: Detects mimikatz`.
    ShortDescription, "short-description", Warning, reader: false,
    pysigma: "sigmahq_description_length", optional: true
}
rule_lint!(ShortDescription, |rule, _source| match &rule.description {
    Some(d) if d.chars().count() < 16 => {
        vec![(
            "description",
            "the description is shorter than 16 characters".into(),
        )]
    }
    _ => vec![],
});

declare_lint! {
    /// A link (or "internal research") in the `description` of a rule without
    /// `references`.
    ///
    /// Why: sources belong in `references`, where tools list and check them.
    ///
    /// Example: `description: See https://example.com/post` with no `references:`.
    LinkInDescription, "link-in-description", Warning, reader: false,
    pysigma: "sigmahq_link_in_description", optional: true
}
rule_lint!(LinkInDescription, |rule, _source| {
    let mut found = vec![];
    if let Some(d) = &rule.description
        && rule.references.is_empty()
    {
        let lower = d.to_lowercase();
        if let Some(w) = ["http://", "https://", "internal research"]
            .into_iter()
            .find(|w| lower.contains(w))
        {
            found.push((
                "description",
                format!("the description holds `{w}`: put sources in `references`"),
            ));
        }
    }
    found
});

declare_lint! {
    /// A title longer than 120 characters.
    ///
    /// Why: titles are shown in alert lists and file names; a long one is cut.
    ///
    /// Example: a title that is a whole sentence about the attack.
    LongTitle, "long-title", Warning, reader: false, pysigma: "sigmahq_title_length", optional: true
}
rule_lint!(
    LongTitle,
    |rule, _source| if rule.title.chars().count() > 120 {
        vec![("title", "the title is longer than 120 characters".into())]
    } else {
        vec![]
    }
);

declare_lint! {
    /// A title that starts with "Detect" or "Detects".
    ///
    /// Why: every rule detects; the word says nothing (SigmaHQ's convention).
    ///
    /// Example: `title: Detects Mimikatz` — `title: Mimikatz Execution`.
    TitleStartsWithDetect, "title-starts-with-detect", Warning, reader: false,
    pysigma: "sigmahq_title_start", optional: true
}
rule_lint!(
    TitleStartsWithDetect,
    |rule, _source| if rule.title.starts_with("Detect ") || rule.title.starts_with("Detects ") {
        vec![("title", "the title starts with \"Detect\"".into())]
    } else {
        vec![]
    }
);

declare_lint! {
    /// A title that ends with a dot.
    ///
    /// Why: a title is not a sentence (SigmaHQ's convention).
    ///
    /// Example: `title: Mimikatz Execution.`
    TitleEndsWithDot, "title-ends-with-dot", Warning, reader: false,
    pysigma: "sigmahq_title_end", optional: true
}
rule_lint!(
    TitleEndsWithDot,
    |rule, _source| if rule.title.ends_with('.') {
        vec![("title", "the title ends with a dot".into())]
    } else {
        vec![]
    }
);

declare_lint! {
    /// A word of the title in lower case that title case capitalises.
    ///
    /// Why: SigmaHQ titles are in title case; short function words (a, and, of, to,
    /// via, with...) and words with `.`, `/`, `_` or a leading digit stay as written.
    ///
    /// Example: `title: Suspicious process Creation` (`process`).
    TitleCase, "title-case", Warning, reader: false, pysigma: "sigmahq_title_case", optional: true
}

/// Words that title case leaves in lower case.
const MINOR_WORDS: [&str; 20] = [
    "a", "an", "and", "as", "at", "by", "for", "from", "in", "new", "of", "on", "or", "over",
    "the", "through", "to", "via", "with", "without",
];

/// Whether `word` has cased characters, all of them lower case (Python's `islower`).
fn is_lower(word: &str) -> bool {
    let mut cased = false;
    for c in word.chars() {
        if c.is_uppercase() {
            return false;
        }
        cased |= c.is_lowercase();
    }
    cased
}

rule_lint!(TitleCase, |rule, _source| rule
    .title
    .split(' ')
    .filter(|w| {
        is_lower(w)
            && !MINOR_WORDS.contains(&w.to_lowercase().as_str())
            && !w.contains(['.', '/', '_'])
            && !w.starts_with(|c: char| c.is_ascii_digit())
    })
    .map(|w| ("title", format!("`{w}` is not capitalised")))
    .collect());

declare_lint! {
    /// A `falsepositives` entry that starts with a lower-case letter.
    ///
    /// Why: SigmaHQ writes each entry as a sentence.
    ///
    /// Example: `- legitimate administration` — `- Legitimate administration`.
    FalsepositiveCapital, "falsepositive-capital", Warning, reader: false,
    pysigma: "sigmahq_falsepositives_capital", optional: true
}
rule_lint!(FalsepositiveCapital, |rule, _source| rule
    .falsepositives
    .iter()
    .filter(|fp| {
        fp.chars()
            .next()
            .is_some_and(|c| c.to_uppercase().next() != Some(c))
    })
    .map(|fp| {
        (
            "falsepositives",
            format!(
                "`{}` does not start with a capital letter",
                fp.split(' ').next().unwrap_or("")
            ),
        )
    })
    .collect());

declare_lint! {
    /// A `falsepositives` entry with the word "none", "pentest" or "penetration".
    ///
    /// Why: every rule has false positives ("Unknown" if none are known), and a penetration
    /// test is the attack the rule is for, not a false positive.
    ///
    /// Example: `- None`, `- Pentest activity`.
    FalsepositiveBannedWord, "falsepositive-banned-word", Warning, reader: false,
    pysigma: "sigmahq_falsepositives_banned_word", optional: true
}
rule_lint!(FalsepositiveBannedWord, |rule, _source| rule
    .falsepositives
    .iter()
    .flat_map(|fp| fp.split(' '))
    .filter(|w| ["none", "pentest", "penetration"].contains(&w.trim().to_lowercase().as_str()))
    .map(|w| ("falsepositives", format!("`{w}` is not a false positive")))
    .collect());

declare_lint! {
    /// A common typo in `falsepositives` ("unkown", "ligitimate", "legitimeate").
    ///
    /// Why: the list is read by analysts and searched by tools.
    ///
    /// Example: `- Unkown`.
    FalsepositiveTypo, "falsepositive-typo", Warning, reader: false,
    pysigma: "sigmahq_falsepositives_typo_word", optional: true
}
rule_lint!(FalsepositiveTypo, |rule, _source| rule
    .falsepositives
    .iter()
    .flat_map(|fp| fp.split(' '))
    .filter(|w| {
        ["unkown", "ligitimate", "legitim ", "legitimeate"]
            .contains(&w.trim().to_lowercase().as_str())
    })
    .map(|w| ("falsepositives", format!("`{w}` is misspelt")))
    .collect());

declare_lint! {
    /// The rule has a `fields` list.
    ///
    /// Why: SigmaHQ deprecated `fields`: backends read it inconsistently, and which event
    /// fields to show is the SIEM's business.
    ///
    /// Example: `fields: [CommandLine, ParentImage]` — remove it.
    FieldsKey, "fields-key", Warning, reader: false, pysigma: "sigmahq_fields_existence", optional: true
}
rule_lint!(FieldsKey, |rule, _source| if rule.fields.is_empty() {
    vec![]
} else {
    vec![("fields", "SigmaHQ rules no longer list `fields`".into())]
});

declare_lint! {
    /// A top-level key that Sigma does not define.
    ///
    /// Why: tools ignore it, and it is often a typo of a real key (`falsepositive`,
    /// `reference`). SigmaHQ allows `regression_tests_path` and `simulation` besides
    /// Sigma's keys.
    ///
    /// Example: `reference:` (for `references:`).
    UnknownKey, "unknown-key", Warning, reader: false, pysigma: "sigmahq_unknown_field", optional: true
}
rule_lint!(UnknownKey, |rule, source| {
    let unknown: Vec<&String> = rule
        .custom
        .keys()
        .filter(|k| {
            !matches!(k.as_str(), "regression_tests_path" | "simulation")
                && source.keys.contains_key(k.as_str())
        })
        .collect();
    match unknown.first() {
        Some(first) => vec![(
            first.as_str(),
            format!(
                "{} {} not a key of Sigma",
                unknown
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if unknown.len() == 1 { "is" } else { "are" }
            ),
        )],
        None => vec![],
    }
});

declare_lint! {
    /// A GitHub link to a file on a branch rather than at a commit.
    ///
    /// Why: branches move; the file changes or disappears and the reference no longer
    /// shows what the rule was based on. Link the commit (`/blob/<40 hex digits>/...`).
    ///
    /// Example: `https://github.com/org/repo/blob/main/tool.ps1`.
    GithubBranchLink, "github-branch-link", Warning, reader: false,
    pysigma: "sigmahq_github_link", optional: true
}

/// Whether `link` is a GitHub link to a file (an extension of 1 to 3 word characters)
/// with no 40-character commit hash in its path.
fn github_branch_link(link: &str) -> bool {
    let Some(rest) = link.strip_prefix("https://github.com/") else {
        return false;
    };
    let ext_ok = rest.rsplit_once('.').is_some_and(|(_, ext)| {
        (1..=3).contains(&ext.chars().count())
            && ext.chars().all(|c| c.is_alphanumeric() || c == '_')
    });
    if !ext_ok {
        return false;
    }
    // `.*/[0-9a-z]{40}/.*`: a path segment of 40 lower-case letters or digits.
    let segments: Vec<&str> = link.split('/').collect();
    let pinned = segments.len() > 2
        && segments[1..segments.len() - 1].iter().any(|s| {
            s.len() == 40
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        });
    !pinned
}

rule_lint!(GithubBranchLink, |rule, _source| rule
    .references
    .iter()
    .filter(|l| github_branch_link(l))
    .map(|l| ("references", format!("`{l}` links a branch, not a commit")))
    .collect());

declare_lint! {
    /// A reference to attack.mitre.org.
    ///
    /// Why: ATT&CK techniques are tags (`attack.t1053.003`), which tools read; a link is
    /// only text.
    ///
    /// Example: `https://attack.mitre.org/techniques/T1053/003/` in `references`.
    MitreLink, "mitre-link", Warning, reader: false, pysigma: "sigmahq_mitre_link", optional: true
}
rule_lint!(MitreLink, |rule, _source| rule
    .references
    .iter()
    .filter(|l| l.starts_with("https://attack.mitre.org/"))
    .map(|l| ("references", format!("`{l}`: use an `attack.` tag")))
    .collect());

declare_lint! {
    /// A file name against SigmaHQ's convention: 10 to 90 characters of lower-case
    /// letters, digits and `_` (at least one), ending `.yml`.
    ///
    /// Why: SigmaHQ names files after what they detect, in one style, so that they sort
    /// and search well.
    ///
    /// Example: `Mimikatz-Detection.yaml`.
    FilenameConvention, "filename-convention", Warning, reader: false,
    pysigma: "sigmahq_filename_convention", optional: true
}
rule_lint!(FilenameConvention, |_rule, source| {
    let name = source
        .path
        .as_ref()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned());
    match name {
        Some(name) => {
            // `[a-z0-9_]{10,90}\.yml` at the start of the name, and a `_` somewhere.
            let stem_len = name
                .bytes()
                .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
                .count();
            let ok = (10..=90).contains(&stem_len)
                && name[stem_len..].starts_with(".yml")
                && name.contains('_');
            if ok {
                vec![]
            } else {
                vec![(
                    "title",
                    format!("`{name}` does not follow SigmaHQ's file naming"),
                )]
            }
        }
        None => vec![],
    }
});

declare_lint! {
    /// A correlation rule whose file name does not start with `correlation_`.
    ///
    /// Why: SigmaHQ keeps correlation rules recognisable by name.
    ///
    /// Example: `brute_force_followed_by_logon.yml` holding a correlation.
    CorrelationFilename, "correlation-filename", Warning, reader: false,
    pysigma: "sigmahq_correlation_filename_prefix", optional: true
}
rule_lint!(CorrelationFilename, |rule, source| {
    let name = source
        .path
        .as_ref()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned());
    match (&rule.body, name) {
        (RuleBody::Correlation(_), Some(name)) if !name.starts_with("correlation_") => {
            vec![(
                "title",
                format!("`{name}` holds a correlation but does not start with `correlation_`"),
            )]
        }
        _ => vec![],
    }
});

declare_lint! {
    /// A top-level key that is a known misspelling of a Sigma key (`realted`, `reference`,
    /// ...).
    ///
    /// Why: the key is read as custom metadata, so the rule silently loses its related
    /// rules or references.
    ///
    /// Example: `reference:` (for `references:`), `realted:` (for `related:`).
    MisspeltKey, "misspelt-key", Warning, reader: false, pysigma: "custom_attributes"
}
rule_lint!(MisspeltKey, |rule, _source| {
    let known = |k: &str| match k {
        "realted" | "relatde" | "relted" | "rlated" => Some("related"),
        "reference" => Some("references"),
        _ => None,
    };
    rule.custom
        .keys()
        .find_map(|k| known(k).map(|meant| (k, meant)))
        .map(|(k, meant)| (k.as_str(), format!("`{k}` is not a Sigma key: `{meant}`?")))
        .into_iter()
        .collect()
});

declare_lint! {
    /// A file name shorter than 10 or longer than 90 characters.
    ///
    /// Why: short names say nothing of the rule; long ones are cut in listings and break
    /// path limits on some systems (SigmaHQ's bounds).
    ///
    /// Example: `rule1.yml`.
    FilenameLength, "filename-length", Warning, reader: false, pysigma: "filename_length", optional: true
}
rule_lint!(FilenameLength, |_rule, source| {
    let name = source
        .path
        .as_ref()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned());
    match name {
        Some(name) if !(10..=90).contains(&name.chars().count()) => vec![(
            "title",
            format!(
                "`{name}` has {} characters (10 to 90)",
                name.chars().count()
            ),
        )],
        _ => vec![],
    }
});

declare_lint! {
    /// A new rule with a status above its age: `test` or `stable` within 60 days of its
    /// `date`, or `stable` at once for a rule with regression tests
    /// (`regression_tests_path`).
    ///
    /// Why: SigmaHQ's policy: a rule starts `experimental`, and is raised once it has been
    /// seen in use; a rule with regression tests may start at `test`. Measured from the
    /// day the check runs.
    ///
    /// Example: `status: stable` and `date:` last week.
    StatusTooHigh, "status-too-high", Warning, reader: false,
    pysigma: "sigmahq_status_to_high", optional: true
}

/// Days since 1970-01-01 of a date written `YYYY-MM-DD` (or with `/`), if it is one.
fn days_of(date: &str) -> Option<i64> {
    let key = date_key(date);
    let mut parts = key.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Today, in days since 1970-01-01 (UTC).
fn today() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| (d.as_secs() / 86_400) as i64)
}

/// Whether a rule of `status`, written `age` days ago, is above SigmaHQ's policy.
fn status_too_high(status: Status, age: i64, tested: bool) -> bool {
    let (max, min_days) = if tested {
        (Status::Test, 0)
    } else {
        (Status::Experimental, 60)
    };
    status > max && age <= min_days
}

rule_lint!(StatusTooHigh, |rule, _source| {
    let tested = rule.custom.contains_key("regression_tests_path");
    match (rule.status, rule.date.as_deref().and_then(days_of)) {
        (Some(status), Some(day)) if status_too_high(status, today() - day, tested) => vec![(
            "status",
            format!(
                "a rule of {} is `{}` already",
                rule.date.as_deref().unwrap_or_default(),
                status.name()
            ),
        )],
        _ => vec![],
    }
});

#[cfg(test)]
mod tests {
    use super::super::tests_support::codes;
    use super::*;

    #[test]
    fn swapped_dates_are_swapped_back() {
        let text = "title: T\ndate: 2024-05-01 # written\nmodified: '2023/01/10'\nlogsource:\n  product: windows\ndetection:\n  sel:\n    a: b\n  condition: sel\n";
        let out = crate::lint::autofix::fix_text(text, None, &crate::lint::Selection::all());
        let fixed = out.text.expect("fixed");
        assert!(
            fixed.contains("date: '2023/01/10' # written\nmodified: 2024-05-01\n"),
            "{fixed}"
        );
        assert!(!codes(&fixed).contains(&"modified-before-date"));
    }

    #[test]
    fn misspelt_keys() {
        let found = codes(
            "title: T\nreference:\n  - https://x\nlogsource:\n  product: windows\ndetection:\n  sel:\n    a: b\n  condition: sel\n",
        );
        assert!(found.contains(&"misspelt-key"), "{found:?}");
    }

    #[test]
    fn dates_and_status_age() {
        assert_eq!(days_of("1970-01-01"), Some(0));
        assert_eq!(days_of("2024/03/01"), Some(19_783));
        assert_eq!(days_of("2024-13-01"), None);
        assert_eq!(days_of("soon"), None);
        assert!(status_too_high(Status::Test, 10, false));
        assert!(!status_too_high(Status::Test, 61, false));
        assert!(!status_too_high(Status::Experimental, 0, false));
        assert!(!status_too_high(Status::Test, 0, true));
        assert!(status_too_high(Status::Stable, 0, true));
        assert!(!status_too_high(Status::Stable, 1, true));
        // The check itself, with a date written today and one long ago.
        let now = today();
        let (y, m, d) = {
            // Civil from days (the inverse of `days_of`), for writing today's date.
            let z = now + 719_468;
            let era = z.div_euclid(146_097);
            let doe = z - era * 146_097;
            let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
            let mp = (5 * doy + 2) / 153;
            let d = doy - (153 * mp + 2) / 5 + 1;
            let m = if mp < 10 { mp + 3 } else { mp - 9 };
            (yoe + era * 400 + i64::from(m <= 2), m, d)
        };
        let today_text = format!("{y:04}-{m:02}-{d:02}");
        assert_eq!(days_of(&today_text), Some(now));
        let rule = |date: &str| {
            format!(
                "title: T\nstatus: stable\ndate: {date}\nlogsource:\n  product: windows\ndetection:\n  sel:\n    a: b\n  condition: sel\n"
            )
        };
        assert!(codes(&rule(&today_text)).contains(&"status-too-high"));
        assert!(!codes(&rule("2019-01-01")).contains(&"status-too-high"));
    }

    #[test]
    fn filename_length() {
        let text = "title: T\nlogsource:\n  product: windows\ndetection:\n  sel:\n    a: b\n  condition: sel\n";
        let at = |name: &str| {
            let mut f = crate::parse_str(text);
            f.set_path(std::path::Path::new(name));
            crate::lint::check_file_with(&mut f, &crate::lint::Selection::all());
            f.diagnostics.iter().any(|d| d.code == "filename-length")
        };
        assert!(at("a.yml"));
        assert!(!at("win_something_long.yml"));
        assert!(at(&format!("{}.yml", "a".repeat(90))));
    }
}
