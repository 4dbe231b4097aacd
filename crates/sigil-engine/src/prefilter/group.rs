//! A literal group: the literals of one field (or of keyword searches), their automaton,
//! and the checks that confirm a literal where its window is found.

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind, packed};

use super::LitEntry;

/// Literals are looked for by their first this many bytes, and the rest is confirmed
/// where such a window is found (see [`Group::each`]): whole long literals (file hashes,
/// paths) would make the automata larger and slower to build, and find no more.
const MAX_LITERAL_LEN: usize = 16;

/// The part of a literal the automata look for: its first [`MAX_LITERAL_LEN`] bytes (up
/// to a character boundary). Many literals share a window (`c:\windows\syste`), which
/// keeps the automata small; taking the end instead (`\openssh\sshd.exe`) made them
/// several times larger.
fn literal_window(text: &str) -> &str {
    let mut end = text.len().min(MAX_LITERAL_LEN);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Groups of fewer literals than this get a DFA (fastest to scan); larger ones a
/// contiguous NFA, which builds much faster and stays small.
const DFA_MAX_PATTERNS: usize = 400;

/// Groups of at most this many literals are searched with a SIMD searcher (Teddy), many
/// times faster than any automaton on text that holds none of them.
const QUICK_MAX_PATTERNS: usize = 64;

/// How a group finds its literals.
#[derive(Debug)]
pub(crate) enum Searchers {
    /// Few literals: Teddy, with what it takes to report every occurrence (see
    /// [`Searchers::each`]).
    Quick {
        teddy: packed::Searcher,
        patterns: Box<[Box<[u8]>]>,
        /// For each pattern, the other patterns that are prefixes of it.
        prefixes: Box<[Box<[u32]>]>,
        /// For each pattern, the other patterns it is a prefix of.
        extensions: Box<[Box<[u32]>]>,
    },
    /// More literals: one automaton.
    Automaton(AhoCorasick),
}

impl Searchers {
    fn quick(patterns: &[Box<str>]) -> Option<Searchers> {
        let teddy = packed::Config::new()
            .builder()
            .extend(patterns.iter().map(|p| p.as_bytes()))
            .build()?;
        let related = |p: &[u8], test: &dyn Fn(&[u8], &[u8]) -> bool| -> Box<[u32]> {
            (0..patterns.len() as u32)
                .filter(|&q| {
                    let q = patterns[q as usize].as_bytes();
                    q != p && test(p, q)
                })
                .collect()
        };
        Some(Searchers::Quick {
            teddy,
            patterns: patterns.iter().map(|p| p.as_bytes().into()).collect(),
            prefixes: patterns
                .iter()
                .map(|p| related(p.as_bytes(), &|p, q| p.starts_with(q)))
                .collect(),
            extensions: patterns
                .iter()
                .map(|p| related(p.as_bytes(), &|p, q| q.starts_with(p)))
                .collect(),
        })
    }

    /// Calls `found` with the number, start and end of every occurrence of a pattern in
    /// `hay` (the same pattern may be reported at several places).
    pub(crate) fn each(&self, hay: &[u8], found: &mut dyn FnMut(usize, usize, usize)) {
        match self {
            Searchers::Quick {
                teddy,
                patterns,
                prefixes,
                extensions,
            } => {
                // Teddy reports, at the leftmost position where some pattern starts, one
                // pattern. Any other pattern starting there is a prefix of it (and so
                // occurs) or has it as a prefix (and is checked); the search then goes on
                // from the next position.
                let mut at = 0;
                while at < hay.len() {
                    let Some(m) = teddy.find_in(hay, aho_corasick::Span::from(at..hay.len()))
                    else {
                        return;
                    };
                    let (start, p) = (m.start(), m.pattern().as_usize());
                    found(p, start, m.end());
                    for &q in &prefixes[p] {
                        found(q as usize, start, start + patterns[q as usize].len());
                    }
                    for &q in &extensions[p] {
                        let text = &patterns[q as usize];
                        if hay[start..].starts_with(text) {
                            found(q as usize, start, start + text.len());
                        }
                    }
                    at = start + 1;
                }
            }
            Searchers::Automaton(ac) => {
                // Most values hold no literal: a plain search (which can skip ahead) says
                // so. Otherwise every occurrence is wanted; none ends before the first
                // found, so none starts before its end minus the longest literal.
                let Some(m) = ac.find(hay) else { return };
                let from = m.end().saturating_sub(ac.max_pattern_len());
                let input = aho_corasick::Input::new(hay).range(from..);
                for m in ac.find_overlapping_iter(input) {
                    found(m.pattern().as_usize(), m.start(), m.end());
                }
            }
        }
    }
}

/// A literal as it is confirmed once its window (see [`literal_window`]) is found: the
/// rest of its text after the window (a range of [`Group::rests`]), where in the value it
/// must lie, and its number among all literals.
#[derive(Debug, Clone, Copy)]
struct Check {
    literal: u32,
    rest: (u32, u32),
    at_start: bool,
    at_end: bool,
}

impl Check {
    fn rest_len(&self) -> usize {
        (self.rest.1 - self.rest.0) as usize
    }

    /// Whether the literal lies in `hay` where it must, its window being found at
    /// `start..end`.
    #[inline]
    fn holds(&self, rests: &[u8], hay: &[u8], start: usize, end: usize) -> bool {
        if self.at_start && start != 0 {
            return false;
        }
        let rest = &rests[self.rest.0 as usize..self.rest.1 as usize];
        let last = end + rest.len();
        last <= hay.len() && (!self.at_end || last == hay.len()) && hay[end..last] == *rest
    }
}

/// Where the checks of a confirmed pattern are: `checks[from..from + count]`, the first
/// `free` of them literals that may end anywhere, the others literals that end the value,
/// by the length of their rest.
#[derive(Debug, Clone, Copy, Default)]
struct CheckSpan {
    from: u32,
    free: u32,
    count: u32,
}

/// The literals of one field (or of keyword searches) and their automaton.
///
/// The automaton looks for the literals' windows (their first [`MAX_LITERAL_LEN`] bytes).
/// Most windows stand for one literal that may lie anywhere: found, it is found. Other
/// windows are confirmed for each literal they stand for, by the rest of the literal's
/// text and where it must lie (at the start or end of the value, for `startswith`,
/// `endswith` and whole-value literals). So a literal counts as found only where the
/// value can match it, and a rule is evaluated only when it could match.
#[derive(Debug)]
pub(crate) struct Group {
    /// The windows looked for: ASCII ones first, then the others.
    patterns: Vec<Box<str>>,
    /// The number of ASCII windows.
    ascii: usize,
    /// The number among all literals of the one literal of an unconfirmed pattern `p`:
    /// `first_literal + p`, or `numbers[p]` when given.
    first_literal: u32,
    numbers: Option<Box<[u32]>>,
    /// The patterns whose literals are confirmed, a bit each.
    confirmed: Box<[u64]>,
    /// For each confirmed pattern, its checks.
    spans: Box<[CheckSpan]>,
    checks: Box<[Check]>,
    /// The text of every check's rest.
    rests: Box<[u8]>,
    ac: OnceLock<Option<Searchers>>,
    ac_other: OnceLock<Option<Searchers>>,
    /// Whether some literal could occur in the text of a number or boolean.
    in_numbers: bool,
}

/// Whether `literal` could occur in the text of a number or boolean (`-1.5e-7`, `inf`,
/// `NaN`, `true`, ASCII-lowercase).
fn in_numbers(literal: &str) -> bool {
    literal
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.einfatruls".contains(&b))
}

impl Group {
    /// The searchers of the ASCII patterns and of the others, each built on first use.
    /// `None` when one cannot be built (too large): then every literal of its patterns
    /// counts as found (see [`Group::each`]).
    fn searchers(&self, ascii: bool) -> Option<&Searchers> {
        let (cell, patterns) = if ascii {
            (&self.ac, &self.patterns[..self.ascii])
        } else {
            (&self.ac_other, &self.patterns[self.ascii..])
        };
        cell.get_or_init(|| {
            if patterns.len() <= QUICK_MAX_PATTERNS
                && let Some(quick) = Searchers::quick(patterns)
            {
                return Some(quick);
            }
            let kind = if patterns.len() < DFA_MAX_PATTERNS {
                AhoCorasickKind::DFA
            } else {
                AhoCorasickKind::ContiguousNFA
            };
            // Case-sensitive: the literals and the scanned text are ASCII-lowercase
            // (see `Scan::run_prefilter`), which keeps the automaton small.
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(kind))
                .build(patterns.iter().map(|p| p.as_bytes()))
                .ok()
                .map(Searchers::Automaton)
        })
        .as_ref()
    }

    /// A group of `literals` (numbers into `all`, whose numbers among all literals are
    /// `finals`). With `first`, the group numbers its literals from `first` on and writes
    /// them to `finals` (see [`Group::literal_count`]); without, `finals` holds them.
    pub(super) fn of(
        literals: &[u32],
        all: &[LitEntry<'_>],
        finals: &mut [u32],
        first: Option<u32>,
    ) -> Group {
        let mut windows: HashMap<&str, u32> = HashMap::default();
        let mut patterns: Vec<Box<str>> = Vec::new();
        let mut members: Vec<Vec<u32>> = Vec::new();
        for &id in literals {
            let window = literal_window(all[id as usize].text);
            let next = patterns.len() as u32;
            let p = *windows.entry(window).or_insert(next);
            if p == next {
                patterns.push(window.into());
                members.push(Vec::new());
            }
            members[p as usize].push(id);
        }
        // The ASCII windows first: the others are looked for only in values that are not
        // ASCII (rare in logs, while emoji lists make half of some fields' literals).
        let mut order: Vec<usize> = (0..patterns.len()).collect();
        order.sort_by_key(|&p| !patterns[p].is_ascii());
        let ascii = patterns.iter().filter(|p| p.is_ascii()).count();
        let patterns: Vec<Box<str>> = order.iter().map(|&p| patterns[p].clone()).collect();
        let members: Vec<&Vec<u32>> = order.iter().map(|&p| &members[p]).collect();
        let plain = |ids: &[u32]| match ids {
            [id] => {
                let lit = &all[*id as usize];
                !lit.at_start && !lit.at_end && literal_window(lit.text).len() == lit.text.len()
            }
            _ => false,
        };
        let mut confirmed = vec![0u64; patterns.len().div_ceil(64)];
        let mut spans = vec![CheckSpan::default(); patterns.len()];
        let mut checks = Vec::new();
        let mut rests = Vec::new();
        let mut next_final = first.map(|f| f + patterns.len() as u32);
        let mut numbers = Vec::with_capacity(patterns.len());
        for (p, ids) in members.iter().enumerate() {
            if plain(ids) {
                let id = ids[0] as usize;
                match first {
                    Some(f) => finals[id] = f + p as u32,
                    None => numbers.push(finals[id]),
                }
                continue;
            }
            numbers.push(u32::MAX);
            confirmed[p / 64] |= 1 << (p % 64);
            let mut list: Vec<Check> = ids
                .iter()
                .map(|&id| {
                    let lit = &all[id as usize];
                    let literal = match next_final.as_mut() {
                        Some(n) => {
                            finals[id as usize] = *n;
                            *n += 1;
                            *n - 1
                        }
                        None => finals[id as usize],
                    };
                    let start = rests.len() as u32;
                    rests.extend_from_slice(&lit.text.as_bytes()[patterns[p].len()..]);
                    Check {
                        literal,
                        rest: (start, rests.len() as u32),
                        at_start: lit.at_start,
                        at_end: lit.at_end,
                    }
                })
                .collect();
            list.sort_by_key(|c| (c.at_end, c.rest_len()));
            spans[p] = CheckSpan {
                from: checks.len() as u32,
                free: list.iter().filter(|c| !c.at_end).count() as u32,
                count: list.len() as u32,
            };
            checks.extend(list);
        }
        Group {
            in_numbers: literals.iter().any(|&id| in_numbers(all[id as usize].text)),
            patterns,
            ascii,
            first_literal: first.unwrap_or(0),
            numbers: first.is_none().then(|| numbers.into_boxed_slice()),
            confirmed: confirmed.into_boxed_slice(),
            spans: spans.into_boxed_slice(),
            checks: checks.into_boxed_slice(),
            rests: rests.into_boxed_slice(),
            ac: OnceLock::new(),
            ac_other: OnceLock::new(),
        }
    }

    /// How many literal numbers the group takes from its first (some may go unused).
    pub(super) fn literal_count(&self) -> u32 {
        (self.patterns.len() + self.checks.len()) as u32
    }

    /// Calls `found` with the number of every literal of the group that lies in `hay`
    /// where it must (once or more). When an automaton cannot be built, every literal of
    /// its patterns.
    pub(crate) fn each(&self, hay: &[u8], found: &mut dyn FnMut(usize)) {
        self.each_of(true, hay, found);
        if self.ascii < self.patterns.len() && !hay.is_ascii() {
            self.each_of(false, hay, found);
        }
    }

    /// [`Group::each`] for the ASCII patterns or the others.
    fn each_of(&self, ascii: bool, hay: &[u8], found: &mut dyn FnMut(usize)) {
        let offset = if ascii { 0 } else { self.ascii };
        let Some(searchers) = self.searchers(ascii) else {
            let range = if ascii {
                0..self.ascii
            } else {
                self.ascii..self.patterns.len()
            };
            for p in range {
                if self.confirmed[p / 64] & (1 << (p % 64)) == 0 {
                    found(self.literal(p));
                } else {
                    let span = self.spans[p];
                    let checks =
                        &self.checks[span.from as usize..(span.from + span.count) as usize];
                    for c in checks {
                        found(c.literal as usize);
                    }
                }
            }
            return;
        };
        searchers.each(hay, &mut |p, start, end| {
            let p = p + offset;
            if self.confirmed[p / 64] & (1 << (p % 64)) == 0 {
                found(self.literal(p));
                return;
            }
            let span = self.spans[p];
            let checks = &self.checks[span.from as usize..(span.from + span.count) as usize];
            let (free, ending) = checks.split_at(span.free as usize);
            for c in free {
                if c.holds(&self.rests, hay, start, end) {
                    found(c.literal as usize);
                }
            }
            // A literal that ends the value has exactly the rest this window leaves.
            let rest = hay.len() - end;
            let from = ending.partition_point(|c| c.rest_len() < rest);
            for c in ending[from..].iter().take_while(|c| c.rest_len() == rest) {
                if c.holds(&self.rests, hay, start, end) {
                    found(c.literal as usize);
                }
            }
        });
    }

    /// Whether the group is searched with an automaton rather than a SIMD searcher: a
    /// scan that costs more than a lookup in [`Memo`].
    pub(super) fn is_large(&self) -> bool {
        self.ascii > QUICK_MAX_PATTERNS
    }

    /// The literal of the unconfirmed pattern `p`.
    fn literal(&self, p: usize) -> usize {
        match &self.numbers {
            Some(numbers) => numbers[p] as usize,
            None => self.first_literal as usize + p,
        }
    }

    /// Whether some literal could occur in the text of a number or boolean.
    pub(crate) fn in_numbers(&self) -> bool {
        self.in_numbers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pattern occurring in `hay`, by brute force.
    fn occurring(patterns: &[Box<str>], hay: &[u8]) -> Vec<usize> {
        (0..patterns.len())
            .filter(|&p| {
                hay.windows(patterns[p].len())
                    .any(|w| w == patterns[p].as_bytes())
            })
            .collect()
    }

    fn patterns_of(searchers: &Searchers) -> Vec<Box<[u8]>> {
        match searchers {
            Searchers::Quick { patterns, .. } => patterns.to_vec(),
            Searchers::Automaton(_) => PATTERNS.iter().map(|p| p.as_bytes().into()).collect(),
        }
    }

    const PATTERNS: [&str; 10] = [
        "abc",
        "abcd",
        "ab",
        "bcd",
        "cde",
        "xyz",
        "kerberos::",
        "kerberos::ptt",
        "rb",
        "::p",
    ];

    fn found(searchers: &Searchers, hay: &[u8]) -> Vec<usize> {
        let mut out = Vec::new();
        searchers.each(hay, &mut |p, start, end| {
            assert_eq!(&hay[start..end], patterns_of(searchers)[p].as_ref());
            out.push(p);
        });
        out.sort_unstable();
        out.dedup();
        out
    }

    #[test]
    fn literals_that_can_occur_in_numbers() {
        for literal in [
            "4624", "-1.5e-7", "inf", "nan", "true", "false", "5.", "e+1",
        ] {
            assert!(in_numbers(literal), "{literal}");
        }
        for literal in ["sekurlsa::", "0x10", "\\cmd.exe", "12 34", "{guid}"] {
            assert!(!in_numbers(literal), "{literal}");
        }
    }

    #[test]
    fn both_searchers_report_every_occurring_pattern() {
        // Prefixes of each other, overlapping, repeated and absent patterns.
        let patterns: Vec<Box<str>> = PATTERNS.iter().map(|&p| p.into()).collect();
        let quick = Searchers::quick(&patterns).expect("Teddy builds here");
        let automaton = Searchers::Automaton(
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(patterns.iter().map(|p| p.as_bytes()))
                .expect("small automaton"),
        );
        // A fixed pseudo-random walk over a small alphabet makes many overlaps.
        let alphabet = b"abcdexyz:ptkrs";
        let mut state: u32 = 12345;
        for round in 0..2000 {
            let len = round % 60;
            let hay: Vec<u8> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    alphabet[(state >> 16) as usize % alphabet.len()]
                })
                .collect();
            let expected = occurring(&patterns, &hay);
            assert_eq!(
                found(&quick, &hay),
                expected,
                "{:?}",
                String::from_utf8_lossy(&hay)
            );
            assert_eq!(
                found(&automaton, &hay),
                expected,
                "{:?}",
                String::from_utf8_lossy(&hay)
            );
        }
        let long = b"xx kerberos::ptt abcd cde".repeat(3);
        assert_eq!(found(&quick, &long), occurring(&patterns, &long));
    }
}

#[cfg(test)]
mod checks {
    use super::*;
    use crate::prefilter::Memo;

    fn lit(text: &str, at_start: bool, at_end: bool) -> LitEntry<'_> {
        LitEntry {
            text,
            at_start,
            at_end,
        }
    }

    /// The literals (by their number in `all`) found in `hay` by the group of `all`.
    fn found(all: &[LitEntry<'_>], hay: &str) -> Vec<usize> {
        let ids: Vec<u32> = (0..all.len() as u32).collect();
        let mut finals = vec![0; all.len()];
        let group = Group::of(&ids, all, &mut finals, Some(7));
        let mut out = Vec::new();
        group.each(hay.as_bytes(), &mut |l| {
            out.push(
                finals
                    .iter()
                    .position(|&f| f as usize == l)
                    .expect("a literal"),
            );
        });
        out.sort_unstable();
        out.dedup();
        // Numbered as a part of a group, the same literals are found.
        let mut part = Vec::new();
        let given = Group::of(&ids, all, &mut finals, None);
        given.each(hay.as_bytes(), &mut |l| {
            part.push(
                finals
                    .iter()
                    .position(|&f| f as usize == l)
                    .expect("a literal"),
            );
        });
        part.sort_unstable();
        part.dedup();
        assert_eq!(out, part);
        out
    }

    #[test]
    fn literals_count_only_where_they_must_lie() {
        let all = [
            lit(r"c:\windows\system32\cmd.exe", true, true),
            lit(r"c:\windows\system32\", true, false),
            lit(r"\windows\system32\lsass.exe", false, true),
            lit(r"\windows\system32\lsass", false, false),
            lit("cmd.exe", false, true),
            lit("whoami", false, false),
        ];
        assert_eq!(found(&all, r"c:\windows\system32\cmd.exe"), [0, 1, 4]);
        assert_eq!(found(&all, r"c:\windows\system32\cmd.exe.bak"), [1]);
        assert_eq!(found(&all, r"d:\c:\windows\system32\cmd.exe"), [4]);
        assert_eq!(found(&all, r"c:\windows\system32\lsass.exe"), [1, 2, 3]);
        assert_eq!(found(&all, r"x\windows\system32\lsass.exe2"), [3]);
        assert_eq!(found(&all, r"c:\windows\syswow64\whoami.exe"), [5]);
        // A window found near the end leaves no room for the rest.
        assert_eq!(found(&all, r"\windows\system3"), Vec::<usize>::new());
    }

    #[test]
    fn literals_that_are_not_ascii_are_found_in_values_that_are_not() {
        let all = [
            lit("x🦆duck", false, false),
            lit("🦆🦆🦆", false, true),
            lit("duck", false, false),
            lit("ünïcödé", true, false),
        ];
        assert_eq!(found(&all, "a x🦆duck 🦆🦆🦆"), [0, 1, 2]);
        assert_eq!(found(&all, "a x🦆duck 🦆🦆🦆 "), [0, 2]);
        assert_eq!(found(&all, "a duck"), [2]);
        assert_eq!(found(&all, "ünïcödé 🦆🦆"), [3]);
        assert_eq!(found(&all, " ünïcödé"), Vec::<usize>::new());
    }

    #[test]
    fn the_memo_answers_as_the_groups_do() {
        let texts: Vec<String> = (0..300).map(|i| format!("tool{i}.exe")).collect();
        let all: Vec<LitEntry<'_>> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| lit(t, false, i % 2 == 0))
            .collect();
        let mut finals = vec![0; all.len()];
        let ids: Vec<u32> = (0..all.len() as u32).collect();
        let first = Group::of(&ids[..200], &all, &mut finals, Some(0));
        let second = Group::of(&ids[100..], &all, &mut finals, Some(1000));
        assert!(first.is_large() && second.is_large());
        let mut memo = Memo::default();
        let values: Vec<String> = (0..400)
            .map(|i| {
                format!(
                    "c:\\x\\tool{}.exe{}",
                    i % 250,
                    if i % 3 == 0 { "" } else { " /q" }
                )
            })
            .collect();
        // Every value twice, for both groups: the second time from the table.
        for round in 0..2 {
            for v in &values {
                for (g, group) in [(0, &first), (1, &second)] {
                    let mut direct = Vec::new();
                    group.each(v.as_bytes(), &mut |l| direct.push(l));
                    let mut memoized = Vec::new();
                    memo.each(g, group, v.as_bytes(), &mut |l| memoized.push(l));
                    direct.sort_unstable();
                    memoized.sort_unstable();
                    assert_eq!(direct, memoized, "{v} in group {g}, round {round}");
                }
            }
        }
    }

    #[test]
    fn a_long_group_confirms_like_a_short_one() {
        // Past the size of a Teddy searcher, the automaton reports the same literals.
        let texts: Vec<String> = (0..200)
            .map(|i| format!(r"c:\windows\system32\tool{i}.exe"))
            .collect();
        let all: Vec<LitEntry<'_>> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| lit(t, i % 2 == 0, i % 3 == 0))
            .collect();
        for (i, t) in texts.iter().enumerate() {
            assert_eq!(found(&all, t), [i], "{t}");
            let longer = format!("x{t}x");
            let expected: Vec<usize> = (i % 2 != 0 && i % 3 != 0)
                .then_some(i)
                .into_iter()
                .collect();
            assert_eq!(found(&all, &longer), expected, "{longer}");
        }
    }
}
