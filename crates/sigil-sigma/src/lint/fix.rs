//! Fixes: the edits that resolve a finding, as data.
//!
//! A check that knows how to repair what it finds implements [`super::Lint::fix`]: given the
//! file's text and one of its findings, it returns a [`Fix`] — a title and byte-range
//! edits of the text. Nothing here writes files: `sigil check --fix` applies the fixes
//! that are [`Safety::Safe`] (they cannot change what a rule matches), and the language
//! server offers every fix as a quick fix. [`fixes_for`] finds the fixes of a finding from
//! its code, [`apply`] applies edits to a text.

use std::ops::Range;

use sigil_core::Diagnostic;

use super::registry;

/// Whether applying a fix can change what the rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    /// It cannot: the rule's IR is the same before and after (tag case, layout...).
    /// `sigil check --fix` applies these.
    Safe,
    /// It may: the fix is a likely repair (a misspelt modifier, a level), to be reviewed.
    /// Editors offer these; `--fix` does not apply them.
    Unsafe,
}

/// One replacement in a file's text: the bytes `range` become `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The bytes replaced (empty to insert at `range.start`).
    pub range: Range<usize>,
    /// What replaces them.
    pub text: String,
}

/// The edits that resolve one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, as an editor shows it (`Replace `contain` with `contains``).
    pub title: String,
    /// Whether it can change what the rule matches.
    pub safety: Safety,
    /// The edits, in any order, not overlapping.
    pub edits: Vec<Edit>,
}

impl Fix {
    /// A fix that replaces `range` of the text with `text`.
    pub fn replace(
        title: impl Into<String>,
        safety: Safety,
        range: Range<usize>,
        text: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            safety,
            edits: vec![Edit {
                range,
                text: text.into(),
            }],
        }
    }
}

/// The fix of `finding` in `text`, from the check that reported it (none when that check
/// has no fix for it).
pub fn fixes_for(text: &str, finding: &Diagnostic) -> Vec<Fix> {
    registry()
        .iter()
        .filter(|l| l.info().code == finding.code)
        .filter_map(|l| l.fix(text, finding))
        .collect()
}

/// `text` with `edits` applied; `None` when an edit lies outside the text, splits a
/// character, or overlaps another.
pub fn apply(text: &str, edits: &[Edit]) -> Option<String> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in sorted {
        let r = &e.range;
        if r.start < at
            || r.end < r.start
            || !text.is_char_boundary(r.start)
            || !text.is_char_boundary(r.end)
        {
            return None;
        }
        out.push_str(text.get(at..r.start)?);
        out.push_str(&e.text);
        at = r.end;
    }
    out.push_str(text.get(at..)?);
    Some(out)
}

/// The known name closest to `word` in edit distance, when it is close enough to be a
/// misspelling of it (at most a third of its letters differ, and fewer than three). The
/// distance is the optimal string alignment one: a swap of two neighbours is one edit
/// (`hihg` is one edit from `high`).
pub(crate) fn closest<'a>(word: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    // Nothing written is no misspelling (`F||contains`).
    if word.is_empty() {
        return None;
    }
    let limit = (word.chars().count() / 3).clamp(1, 2);
    names
        .into_iter()
        .map(|n| (strsim::osa_distance(&word, n), n))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, n)| (d, n.len()))
        .map(|(_, n)| n)
}

/// The byte range of the whole line (its newline included) of the block-sequence item
/// whose scalar starts at `offset`: `  - value`, with nothing after the scalar but
/// spaces or a comment. `None` for an item of a flow list (`[a, b]`).
pub(crate) fn item_line(text: &str, offset: usize) -> Option<Range<usize>> {
    let start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let before = &text[start..offset];
    let dash = before.trim_start();
    if !(dash.starts_with('-') && dash[1..].trim().is_empty() && dash.len() > 1) {
        return None;
    }
    let scalar = scalar_at(text, offset)?;
    let end = text[scalar.end..]
        .find('\n')
        .map_or(text.len(), |i| scalar.end + i + 1);
    let after = text[scalar.end..end].trim();
    (after.is_empty() || after.starts_with('#')).then_some(start..end)
}

/// The byte range of the scalar that starts at `offset` on its line: a quoted scalar up to
/// its closing quote (quotes included), a plain one up to `: `, ` #` or the end of the line
/// (trailing spaces left out).
pub(crate) fn scalar_at(text: &str, offset: usize) -> Option<Range<usize>> {
    let rest = text.get(offset..)?;
    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    let line = line.strip_suffix('\r').unwrap_or(line);
    let first = line.chars().next()?;
    let len = if first == '"' || first == '\'' {
        line[1..].find(first).map_or(line.len(), |i| i + 2)
    } else {
        let mut end = line.len();
        for pat in [": ", " #", "\t#"] {
            if let Some(i) = line.find(pat) {
                end = end.min(i);
            }
        }
        if line.ends_with(':') {
            end = end.min(line.len() - 1);
        }
        line[..end].trim_end().len()
    };
    Some(offset..offset + len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_any_order_and_refuse_overlaps() {
        let text = "abc def";
        let edits = [
            Edit {
                range: 4..7,
                text: "xyz".into(),
            },
            Edit {
                range: 0..0,
                text: ">".into(),
            },
        ];
        assert_eq!(apply(text, &edits).as_deref(), Some(">abc xyz"));
        let overlapping = [
            Edit {
                range: 0..3,
                text: String::new(),
            },
            Edit {
                range: 2..4,
                text: String::new(),
            },
        ];
        assert_eq!(apply(text, &overlapping), None);
        let outside = [Edit {
            range: 5..9,
            text: String::new(),
        }];
        assert_eq!(apply(text, &outside), None);
        assert_eq!(
            apply(
                "é",
                &[Edit {
                    range: 1..2,
                    text: String::new()
                }]
            ),
            None
        );
    }

    #[test]
    fn misspellings_find_their_word() {
        let names = ["contains", "endswith", "startswith", "all", "re"];
        assert_eq!(closest("contain", names), Some("contains"));
        assert_eq!(closest("endwith", names), Some("endswith"));
        assert_eq!(closest("Contains", names), Some("contains"));
        assert_eq!(closest("banana", names), None);
        assert_eq!(closest("x", ["re"]), None);
        assert_eq!(closest("", ["i", "m"]), None);
        assert_eq!(closest("hihg", ["high", "low"]), Some("high"));
    }

    #[test]
    fn scalars_end_where_yaml_ends_them() {
        let text = "  Image|contain: x\n  'a|b': y\nlevel: hihg # typo\n";
        assert_eq!(&text[scalar_at(text, 2).unwrap()], "Image|contain");
        assert_eq!(&text[scalar_at(text, 21).unwrap()], "'a|b'");
        let level = text.find("hihg").unwrap();
        assert_eq!(&text[scalar_at(text, level).unwrap()], "hihg");
    }

    /// Every finding of `code` in `text`, after the rule checks.
    fn findings(text: &str, code: &str) -> Vec<Diagnostic> {
        let mut file = crate::parse_str(text);
        super::super::check_file(&mut file);
        file.diagnostics.retain(|d| d.code == code);
        file.diagnostics
    }

    /// Applies the first fix of the first `code` finding and returns the fixed text.
    fn fixed(text: &str, code: &str) -> String {
        let found = findings(text, code);
        let d = found
            .first()
            .unwrap_or_else(|| panic!("no {code} in {text}"));
        let fixes = fixes_for(text, d);
        let fix = fixes.first().unwrap_or_else(|| panic!("no fix for {d:?}"));
        let out = apply(text, &fix.edits).expect("the edits apply");
        assert!(findings(&out, code).is_empty(), "{code} still in {out}");
        out
    }

    const RULE: &str = "title: t\nid: 929a690e-bef0-4204-a928-ef5e620d6fcc\nstatus: test\nlevel: high\n\
        logsource: {product: windows}\ndetection:\n  selection:\n    Image|endswith: x\n  \
        condition: selection\n";

    #[test]
    fn fixes_resolve_their_findings() {
        let misspelt = RULE.replace("Image|endswith", "'Image|contain|all'");
        assert!(fixed(&misspelt, "unknown-modifier").contains("'Image|contains|all'"));
        let level = RULE.replace("level: high", "level: \"hihg\"");
        assert!(fixed(&level, "invalid-level").contains("level: \"high\""));
        let status = RULE.replace("status: test", "status: experimantal # new");
        assert!(fixed(&status, "invalid-status").contains("status: experimental # new"));
        let all = RULE.replace("Image|endswith", "Image|endswith|all");
        assert!(fixed(&all, "all-single-value").contains("    Image|endswith: x"));
    }

    #[test]
    fn no_fix_without_a_likely_word() {
        let text = RULE.replace("Image|endswith", "Image|banana");
        let d = &findings(&text, "unknown-modifier")[0];
        assert!(fixes_for(&text, d).is_empty());
    }
}
