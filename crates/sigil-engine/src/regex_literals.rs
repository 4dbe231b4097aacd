//! The literals a regular expression requires, for the prefilter.
//!
//! A rule whose selection is a regex (`CommandLine|re: 'ipconfig\s+/all'`) would otherwise
//! be evaluated on every event of its logsource. Most such expressions require some
//! literal text: any match of `ipconfig\s+/all` contains `ipconfig` and `/all`, any match
//! of `net\s+user|whoami` contains `net` or `whoami`. This module walks the expression's
//! syntax tree and finds such a set: texts one of which every match contains.
//!
//! The prefilter looks for literals in the ASCII-lowercased value, so the texts are
//! ASCII-lowercased too; a regex matches the original value, whose non-ASCII characters
//! are the same bytes in its ASCII-lowercased form. So every character can be part of a
//! literal here (unlike Sigma strings, which are matched after Unicode case folding: see
//! [`crate::text::required_literal`]). Case-insensitive parts (`(?i)`) are classes such
//! as `[Ee]`, which lowercase to one character; `[Kk\u{212A}]` (the Kelvin sign) stays two
//! alternatives, so the set stays exact.

use regex_syntax::hir::{Class, Hir, HirKind};

use crate::compile::MIN_LITERAL_LEN;
use crate::text::RegexOptions;

/// The most texts a set holds; larger sets are given up (a product of alternatives grows
/// fast, and a large set removes few rules).
const MAX_SET: usize = 64;

/// Classes of at most this many characters (after ASCII lowercasing) are expanded.
const MAX_CLASS: usize = 4;

/// Texts one of which every match of the expression `source` contains (ASCII-lowercased,
/// each at least [`MIN_LITERAL_LEN`] bytes), or `None` when there is no such set.
pub(crate) fn required_literals(source: &str, options: RegexOptions) -> Option<Vec<String>> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(options.ignore_case)
        .multi_line(options.multi_line)
        .dot_matches_new_line(options.dot_all)
        .build()
        .parse(source)
        .ok()?;
    let info = info(&hir);
    let set = better(info.required, info.exact)?;
    // An empty set (an expression that matches nothing) is left to evaluation.
    (!set.is_empty() && set.iter().all(|s| s.len() >= MIN_LITERAL_LEN)).then_some(set)
}

/// What is known of the texts a node of the expression matches.
#[derive(Debug, Default)]
struct Info {
    /// Every text the node can match, when there are few.
    exact: Option<Vec<String>>,
    /// Texts one of which every match of the node contains.
    required: Option<Vec<String>>,
}

impl Info {
    fn exact(set: Vec<String>) -> Self {
        Self {
            exact: Some(set),
            required: None,
        }
    }

    /// The best set every match contains one of.
    fn contained(self) -> Option<Vec<String>> {
        better(self.required, self.exact)
    }
}

fn info(hir: &Hir) -> Info {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Info::exact(vec![String::new()]),
        HirKind::Literal(lit) => match std::str::from_utf8(&lit.0) {
            Ok(text) => Info::exact(vec![text.to_ascii_lowercase()]),
            Err(_) => Info::default(),
        },
        HirKind::Class(class) => class_texts(class).map_or_else(Info::default, Info::exact),
        HirKind::Capture(cap) => info(&cap.sub),
        HirKind::Repetition(rep) => {
            if rep.min == 0 {
                return if rep.max == Some(0) {
                    Info::exact(vec![String::new()])
                } else {
                    Info::default()
                };
            }
            let sub = info(&rep.sub);
            let exact = match (&sub.exact, rep.max) {
                (Some(e), Some(max)) if max == rep.min && rep.min <= 4 => {
                    let mut run = Some(vec![String::new()]);
                    for _ in 0..rep.min {
                        run = run.and_then(|r| product(&r, e));
                    }
                    run
                }
                _ => None,
            };
            Info {
                exact,
                required: sub.contained(),
            }
        }
        HirKind::Concat(subs) => concat(subs),
        HirKind::Alternation(subs) => {
            let infos: Vec<Info> = subs.iter().map(info).collect();
            let exact = union(infos.iter().map(|i| i.exact.clone()));
            let required = union(infos.into_iter().map(Info::contained));
            Info { exact, required }
        }
    }
}

/// A concatenation: adjacent parts with known texts multiply into longer texts; a part
/// without them ends the run, and the best of the runs and of the parts' own sets is
/// required.
fn concat(subs: &[Hir]) -> Info {
    let mut run = vec![String::new()];
    let mut whole = true;
    let mut candidates: Vec<Vec<String>> = Vec::new();
    for sub in subs {
        let sub = info(sub);
        if let Some(exact) = sub.exact {
            if let Some(longer) = product(&run, &exact) {
                run = longer;
            } else {
                whole = false;
                candidates.push(std::mem::replace(&mut run, exact));
            }
        } else {
            whole = false;
            candidates.push(std::mem::replace(&mut run, vec![String::new()]));
            candidates.extend(sub.required);
        }
    }
    if whole {
        return Info::exact(run);
    }
    candidates.push(run);
    Info {
        exact: None,
        required: candidates
            .into_iter()
            .reduce(|a, b| better(Some(a), Some(b)).unwrap_or_default()),
    }
}

/// Every text of `a` followed by every text of `b`, unless there are too many.
fn product(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() * b.len() > MAX_SET {
        return None;
    }
    let mut out: Vec<String> = a
        .iter()
        .flat_map(|x| b.iter().map(move |y| format!("{x}{y}")))
        .collect();
    out.sort_unstable();
    out.dedup();
    Some(out)
}

/// The union of sets, when each is known and the union is not too large.
fn union(sets: impl Iterator<Item = Option<Vec<String>>>) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for set in sets {
        out.extend(set?);
        if out.len() > MAX_SET * 4 {
            return None;
        }
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

/// The more selective of two sets: the one whose shortest text is longest, then the
/// smaller one.
fn better(a: Option<Vec<String>>, b: Option<Vec<String>>) -> Option<Vec<String>> {
    let key = |s: &Vec<String>| {
        let shortest = s.iter().map(String::len).min().unwrap_or(0);
        (shortest, std::cmp::Reverse(s.len()))
    };
    match (a, b) {
        (Some(a), Some(b)) => Some(if key(&b) > key(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// The texts of a small class, ASCII-lowercased (`[Ee]` is one text).
fn class_texts(class: &Class) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |c: char| {
        let text = c.to_ascii_lowercase().to_string();
        if !out.contains(&text) {
            out.push(text);
        }
        out.len() <= MAX_CLASS
    };
    match class {
        Class::Unicode(u) => {
            for range in u.ranges() {
                // A large range would take long to walk only to be given up.
                if u32::from(range.end()) - u32::from(range.start()) > 64 {
                    return None;
                }
                for c in range.start()..=range.end() {
                    if !push(c) {
                        return None;
                    }
                }
            }
        }
        Class::Bytes(b) => {
            for range in b.ranges() {
                if !range.end().is_ascii() {
                    return None;
                }
                for c in range.start()..=range.end() {
                    if !push(char::from(c)) {
                        return None;
                    }
                }
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(source: &str) -> Option<Vec<String>> {
        required_literals(source, RegexOptions::default())
    }

    #[allow(clippy::unnecessary_wraps)] // compared with `lits`, which is an Option
    fn set(texts: &[&str]) -> Option<Vec<String>> {
        Some(texts.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn literals_of_plain_expressions() {
        assert_eq!(lits(r"ipconfig\s+/all"), set(&["ipconfig"]));
        assert_eq!(lits(r"net\s+user|whoami"), set(&["user", "whoami"]));
        assert_eq!(
            lits(r"\$VerbosePreference\.ToString\("),
            set(&["$verbosepreference.tostring("])
        );
        // The longest required part wins over a shorter one.
        assert_eq!(
            lits(r"(?i)\.exe\s+[^x]{0,64}werfault\.exe\s+\d{2,10}"),
            set(&["werfault.exe"])
        );
    }

    #[test]
    fn case_insensitive_parts_lowercase() {
        assert_eq!(lits("(?i)abc"), set(&["abc"]));
        // The Kelvin sign matches `(?i)k`: both stay, so the set stays exact.
        let k = lits("(?i)kerb").unwrap();
        assert!(k.contains(&"kerb".to_string()) && k.contains(&"\u{212a}erb".to_string()));
    }

    #[test]
    fn optional_and_short_parts_give_nothing() {
        assert_eq!(lits(r"\w+`\w+`"), None);
        assert_eq!(lits(r"(abc)?"), None);
        assert_eq!(lits(r"abc|x"), None);
        assert_eq!(lits(r".*"), None);
        assert_eq!(lits(r"(ab){2}"), set(&["abab"]));
        assert_eq!(lits(r"(abc)+x"), set(&["abc"]));
    }

    #[test]
    fn every_match_holds_a_literal() {
        let cases = [
            (r"(?i)net\s+(user|group)\s+/domain", "NET  GROUP /domain"),
            (r"(?i)\.exe[\x22']?\s+werfault", "A.EXE' WerFault"),
            (r"a[bB]c(d|e)f", "aBcef"),
            (
                r"(?i)sekurlsa::(logonpasswords|minidump)",
                "SEKURLSA::MiniDump",
            ),
        ];
        for (source, text) in cases {
            assert!(regex::Regex::new(source).unwrap().is_match(text));
            let lower = text.to_ascii_lowercase();
            let set = lits(source).unwrap_or_else(|| panic!("no literals for {source}"));
            assert!(
                set.iter().any(|l| lower.contains(l.as_str())),
                "{source}: {set:?}"
            );
        }
    }
}
