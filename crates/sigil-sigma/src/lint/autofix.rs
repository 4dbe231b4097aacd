//! `sigil check --fix`: applies the [`Safety::Safe`] fixes of a file's findings and proves
//! that the rules still mean the same.
//!
//! The proof: the file is read again after the edits; it must read without new errors,
//! hold as many rules, and each rule must equal its old self once spans are set aside
//! and the changes safe fixes make on purpose are made on both sides (tags in lower case
//! and without duplicates, exact duplicate values dropped from a list, a `*` that
//! `contains`, `startswith` or `endswith` implies dropped, `date` and `modified` in
//! order). A set of fixes
//! that fails the proof is tried one fix at a time, and a fix that fails alone is left
//! out. Fixing is repeated until nothing is left to fix, so a second `--fix` changes
//! nothing.

use std::path::Path;

use super::{Safety, Selection, apply, check_file_with, check_text_with, fixes_for};
use crate::SigmaFile;

/// What fixing one file did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixOutcome {
    /// The fixed text, if any fix was applied.
    pub text: Option<String>,
    /// How many findings were fixed.
    pub fixed: usize,
    /// Fixes left out because the rules would not have meant the same after them.
    pub refused: Vec<String>,
}

/// Reads `text` as `path` (for the checks of file names) with the checks of `selection`.
fn read(text: &str, path: Option<&Path>, selection: &Selection) -> SigmaFile {
    let mut file = crate::parse_str(text);
    if let Some(p) = path {
        file.set_path(p);
    }
    check_file_with(&mut file, selection);
    check_text_with(text, &mut file, selection);
    file
}

/// Applies the safe fixes of the findings of `selection`'s checks in `text`.
pub fn fix_text(text: &str, path: Option<&Path>, selection: &Selection) -> FixOutcome {
    let mut out = FixOutcome::default();
    let mut current = text.to_string();
    // Each round fixes what the last one left; a fix never creates a finding another
    // fixes back, but the rounds are bounded all the same.
    for _ in 0..4 {
        let file = read(&current, path, selection);
        let fixes: Vec<_> = file
            .diagnostics
            .iter()
            .flat_map(|d| fixes_for(&current, d))
            .filter(|f| f.safety == Safety::Safe)
            .collect();
        if fixes.is_empty() {
            break;
        }
        let try_all = |fixes: &[&super::Fix]| -> Option<(String, usize)> {
            let (edits, taken) = non_overlapping(fixes);
            let t = apply(&current, &edits)?;
            same_meaning(&file, &read(&t, path, selection)).then_some((t, taken))
        };
        let all: Vec<&super::Fix> = fixes.iter().collect();
        let mut next = try_all(&all);
        if next.is_none() {
            // One at a time: keep those that pass alone, then all of them together.
            let mut good = Vec::new();
            for f in &fixes {
                match apply(&current, &f.edits) {
                    Some(t) if same_meaning(&file, &read(&t, path, selection)) => good.push(f),
                    _ => out.refused.push(f.title.clone()),
                }
            }
            next = try_all(&good).or_else(|| good.first().and_then(|f| try_all(&[*f])));
        }
        let (next, applied) = match next {
            Some((t, n)) => (Some(t), n),
            None => (None, 0),
        };
        match next {
            Some(t) if t != current => {
                out.fixed += applied;
                current = t;
            }
            _ => break,
        }
    }
    if current != text {
        out.text = Some(current);
    }
    out
}

/// The edits of `fixes`, leaving out a fix that touches what an earlier one edits, and
/// how many fixes were taken.
fn non_overlapping(fixes: &[&super::Fix]) -> (Vec<super::Edit>, usize) {
    let mut edits: Vec<super::Edit> = Vec::new();
    let mut taken = 0;
    for f in fixes {
        let overlaps = f.edits.iter().any(|e| {
            edits.iter().any(|o| {
                e.range.start < o.range.end.max(o.range.start + 1)
                    && o.range.start < e.range.end.max(e.range.start + 1)
            })
        });
        if !overlaps {
            edits.extend(f.edits.iter().cloned());
            taken += 1;
        }
    }
    (edits, taken)
}

/// Whether two readings of a file hold the same rules, up to what safe fixes change.
pub fn same_meaning(before: &SigmaFile, after: &SigmaFile) -> bool {
    let errors = |f: &SigmaFile| {
        f.diagnostics
            .iter()
            .filter(|d| d.severity == sigil_core::Severity::Error)
            .count()
    };
    if errors(after) > errors(before) || before.rules.len() != after.rules.len() {
        return false;
    }
    before
        .rules
        .iter()
        .zip(&after.rules)
        .all(|(a, b)| normalized(a) == normalized(b))
}

/// A rule as JSON without spans, with the changes of safe fixes made.
pub fn normalized(rule: &sigil_core::Rule) -> serde_json::Value {
    let mut v = serde_json::to_value(rule).unwrap_or(serde_json::Value::Null);
    normalize(&mut v);
    v
}

fn normalize(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            // Where things were written (`span`, `condition_span`) moves with any edit.
            map.retain(|k, _| k != "span" && !k.ends_with("_span") && !k.ends_with("_spans"));
            if let Some(Value::Array(tags)) = map.get_mut("tags") {
                let mut seen: Vec<Value> = Vec::new();
                for t in tags.iter() {
                    let t = Value::String(t.as_str().unwrap_or_default().to_lowercase());
                    if !seen.contains(&t) {
                        seen.push(t);
                    }
                }
                *tags = seen;
            }
            // A `*` that the operator implies (`contains` of `*x*`) is dropped.
            let ends = match map.get("op").and_then(Value::as_str) {
                Some("contains") => Some((true, true)),
                Some("starts_with") => Some((false, true)),
                Some("ends_with") => Some((true, false)),
                _ => None,
            };
            if let (Some((lead, trail)), Some(Value::Array(values))) = (ends, map.get_mut("values"))
            {
                for v in values.iter_mut() {
                    if let Some(Value::Array(pieces)) = v.get_mut("str") {
                        let star = Value::String("any_many".into());
                        let literal = pieces.iter().any(|p| p.get("lit").is_some());
                        while literal && lead && pieces.first() == Some(&star) {
                            pieces.remove(0);
                        }
                        while literal && trail && pieces.last() == Some(&star) {
                            pieces.pop();
                        }
                    }
                }
            }
            // `modified` earlier than `date`: the two dates swapped.
            if let (Some(Value::String(d)), Some(Value::String(m))) =
                (map.get("date"), map.get("modified"))
                && m.replace('/', "-") < d.replace('/', "-")
            {
                let (d, m) = (d.clone(), m.clone());
                map.insert("date".into(), Value::String(m));
                map.insert("modified".into(), Value::String(d));
            }
            if let Some(Value::Array(values)) = map.get_mut("values") {
                let mut seen: Vec<Value> = Vec::new();
                for x in values.drain(..) {
                    if !seen.contains(&x) {
                        seen.push(x);
                    }
                }
                *values = seen;
            }
            for (_, x) in map.iter_mut() {
                normalize(x);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "title: Fixable # keep this comment\n\
id: 3f2e1d0c-9b8a-4765-8432-10fedcba9876\n\
status: test\n\
level: low\n\
tags:\n    - attack.execution\n    - attack.T1059\n    - attack.execution   # twice\n\
logsource:\n    product: windows\n\
detection:\n    selection:\n        Image|endswith:\n            - '\\cmd.exe'\n            - '\\pwsh.exe'\n            - '\\cmd.exe'\n\
    condition: selection\n";

    #[test]
    fn safe_fixes_keep_comments_and_meaning() {
        let out = fix_text(RULE, None, &Selection::all());
        let fixed = out.text.expect("fixed");
        assert_eq!(out.fixed, 3, "{fixed}");
        assert!(fixed.contains("title: Fixable # keep this comment\n"));
        assert!(fixed.contains("    - attack.t1059\n"), "{fixed}");
        assert_eq!(fixed.matches("attack.execution").count(), 1, "{fixed}");
        assert_eq!(fixed.matches("cmd.exe").count(), 1, "{fixed}");
        assert!(same_meaning(
            &crate::parse_str(RULE),
            &crate::parse_str(&fixed)
        ));
        // Nothing is left to fix.
        assert_eq!(
            fix_text(&fixed, None, &Selection::all()),
            FixOutcome::default()
        );
    }

    #[test]
    fn wildcards_and_whitespace_are_fixed_and_block_text_is_kept() {
        let text = concat!(
            "title: Layout   \n",
            "description: |\n  kept as written  \n",
            "logsource:\n    product: windows\n",
            "detection:\n    selection:\n",
            "        CommandLine|contains: '*-enc*'\n",
            "        Image|endswith:\n",
            "            - '*\\cmd.exe'   # comment\n",
            "            - pwsh.exe\n",
            "        ParentImage|startswith: C:\\Temp\\*\n",
            "        CurrentDirectory|startswith: C:\\Users*\n",
            "        OriginalFileName|contains: '*'\n",
            "    condition: selection\n",
        );
        let before = crate::parse_str(text);
        let out = fix_text(text, None, &Selection::defaults());
        let fixed = out.text.expect("fixed");
        assert!(fixed.starts_with("title: Layout\n"), "{fixed}");
        assert!(fixed.contains("  kept as written  \n"), "{fixed}");
        assert!(fixed.contains("CommandLine|contains: '-enc'\n"), "{fixed}");
        assert!(fixed.contains("- '\\cmd.exe'   # comment\n"), "{fixed}");
        // `\*` is a literal star: not a wildcard, not removed.
        assert!(
            fixed.contains("ParentImage|startswith: C:\\Temp\\*\n"),
            "{fixed}"
        );
        assert!(
            fixed.contains("CurrentDirectory|startswith: C:\\Users\n"),
            "{fixed}"
        );
        // A lone `*` is "any value": left alone.
        assert!(
            fixed.contains("OriginalFileName|contains: '*'\n"),
            "{fixed}"
        );
        assert!(same_meaning(&before, &crate::parse_str(&fixed)));
        assert_eq!(
            fix_text(&fixed, None, &Selection::defaults()),
            FixOutcome::default()
        );
        // An escaped star is a literal star, not a wildcard: not removed.
        let literal = text.replace("'*-enc*'", "'-enc\\*'");
        let out = fix_text(&literal, None, &Selection::defaults());
        assert!(out.text.expect("fixed").contains("'-enc\\*'"));
    }

    #[test]
    fn meaning_compares_rules_without_spans() {
        let a = crate::parse_str(RULE);
        let moved = crate::parse_str(&format!("# a comment\n{RULE}"));
        assert!(same_meaning(&a, &moved));
        let other = crate::parse_str(&RULE.replace("pwsh.exe", "powershell.exe"));
        assert!(!same_meaning(&a, &other));
    }
}
