//! Compiled string patterns: the fast paths of Sigma's wildcard matching.
//!
//! A Sigma string value is a [`Pattern`] of literal text, `*` and `?`. Most values are
//! a plain literal with at most a `*` at either end (that is what `contains`,
//! `startswith` and `endswith` produce), so those shapes get a byte comparison or a
//! `memmem` search. Patterns with `*` in the middle are matched segment by segment;
//! only `?`, which must count characters, falls back to a regular expression.

use rustc_hash::FxHashSet as HashSet;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, Input, MatchKind, StartKind, packed};
use memchr::memmem;
use sigil_core::{Pattern, Piece};

use crate::compile::Lit;
use crate::error::CompileError;
use crate::fold::fold;

/// `prefix*middle…*suffix`.
#[derive(Debug, Clone)]
pub(crate) struct Segments {
    prefix: Box<str>,
    suffix: Box<str>,
    middle: Box<[memmem::Finder<'static>]>,
}

/// The literal of a `*lit*` pattern, with its searcher built on first use: most
/// literals end up in a [`LiteralSet`] or are never searched for.
#[derive(Debug, Clone)]
pub(crate) struct Needle {
    text: Box<str>,
    finder: OnceLock<memmem::Finder<'static>>,
}

impl Needle {
    fn new(text: &str) -> Self {
        Needle {
            text: text.into(),
            finder: OnceLock::new(),
        }
    }

    fn find(&self, hay: &[u8]) -> bool {
        self.finder
            .get_or_init(|| memmem::Finder::new(self.text.as_bytes()).into_owned())
            .find(hay)
            .is_some()
    }
}

/// A compiled pattern, matched against the whole text of a value.
#[derive(Debug, Clone)]
pub(crate) enum TextMatch {
    /// `*`: any text.
    Any,
    /// No wildcard: the whole text.
    Exact(Box<str>),
    /// `lit*`.
    Prefix(Box<str>),
    /// `*lit`.
    Suffix(Box<str>),
    /// `*lit*`.
    Contains(Box<Needle>),
    /// `a*b*c` with no `?`: prefix, suffix and middle segments in order.
    Segments(Box<Segments>),
    /// Anything with `?`: an anchored regular expression.
    Regex(Box<LazyRegex>),
}

/// Settings of a regular expression beyond its source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct RegexOptions {
    pub(crate) ignore_case: bool,
    pub(crate) multi_line: bool,
    pub(crate) dot_all: bool,
}

/// The shortest form of `source` that matches the same texts somewhere, when it is
/// shorter. An expression searched anywhere in a text matches where its repetitions and
/// optional parts at its end are cut to their minimum: a match of `P X{m,n}` begins with a
/// match of `P X{m}`, and one of `P Y?` with one of `P`, and the converse holds trivially.
/// So `-k\s\w{1,64}(?:\s?(?:-p|-s))?` is searched as `-k\s\w`, which builds in
/// microseconds where a Unicode `\w{1,64}` takes tens of milliseconds.
fn trim_tail(source: &str, options: RegexOptions) -> Option<String> {
    use regex_syntax::hir::{Hir, HirKind, Repetition};

    fn minimum(rep: &Repetition) -> Hir {
        Hir::repetition(Repetition {
            max: Some(rep.min),
            ..rep.clone()
        })
    }
    fn trim(hir: &Hir) -> Option<Hir> {
        match hir.kind() {
            HirKind::Repetition(rep) if rep.min == 0 => Some(Hir::empty()),
            HirKind::Repetition(rep) if rep.max != Some(rep.min) => Some(minimum(rep)),
            HirKind::Concat(subs) => {
                let mut subs = subs.clone();
                let mut changed = false;
                while let Some(last) = subs.last() {
                    match last.kind() {
                        HirKind::Repetition(rep) if rep.min == 0 => {
                            subs.pop();
                        }
                        HirKind::Repetition(rep) if rep.max != Some(rep.min) => {
                            let cut = minimum(rep);
                            subs.pop();
                            subs.push(cut);
                            changed = true;
                            break;
                        }
                        _ => break,
                    }
                    changed = true;
                }
                changed.then(|| Hir::concat(subs))
            }
            _ => None,
        }
    }
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(options.ignore_case)
        .multi_line(options.multi_line)
        .dot_matches_new_line(options.dot_all)
        .build()
        .parse(source)
        .ok()?;
    trim(&hir).map(|h| h.to_string())
}

/// A regular expression checked when it is compiled into the engine and built when it is
/// first matched: most rules never get evaluated on a given log, and building the
/// automata of every expression of thousands of rules costs more than a short hunt.
///
/// Syntax errors (look-around, back-references) are found by [`LazyRegex::new`] exactly as
/// the `regex` crate reports them. Only an expression whose compiled form exceeds the
/// crate's size limit (64 MiB) fails later: it then matches nothing, and the failure is
/// kept for [`crate::Engine::failed_while_matching`] to report.
#[derive(Debug, Clone)]
pub(crate) struct LazyRegex {
    source: Box<str>,
    options: RegexOptions,
    built: OnceLock<Result<regex::Regex, String>>,
}

impl LazyRegex {
    /// Checks the syntax of `source`; the error message is the `regex` crate's.
    pub(crate) fn new(source: &str, options: RegexOptions) -> Result<Self, String> {
        regex_syntax::ParserBuilder::new()
            .case_insensitive(options.ignore_case)
            .multi_line(options.multi_line)
            .dot_matches_new_line(options.dot_all)
            .build()
            .parse(source)
            .map_err(|e| regex::Error::Syntax(e.to_string()).to_string())?;
        Ok(Self {
            source: source.into(),
            options,
            built: OnceLock::new(),
        })
    }

    /// Whether the expression matches somewhere in `text`.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.built
            .get_or_init(|| {
                let trimmed = trim_tail(&self.source, self.options);
                regex::RegexBuilder::new(trimmed.as_deref().unwrap_or(&self.source))
                    .case_insensitive(self.options.ignore_case)
                    .multi_line(self.options.multi_line)
                    .dot_matches_new_line(self.options.dot_all)
                    .size_limit(64 << 20)
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .is_ok_and(|re| re.is_match(text))
    }

    /// The expression and why it could not be built, if it was needed and could not.
    pub(crate) fn failure(&self) -> Option<(&str, &str)> {
        match self.built.get()? {
            Ok(_) => None,
            Err(message) => Some((&self.source, message)),
        }
    }
}

impl TextMatch {
    /// Compiles `pattern`; unless `cased`, its literals are folded (see [`crate::fold`])
    /// and the pattern must then be matched against folded text.
    pub(crate) fn compile(pattern: &Pattern, cased: bool) -> Result<Self, CompileError> {
        if let Some(Piece::Placeholder(name)) = pattern
            .pieces()
            .iter()
            .find(|p| matches!(p, Piece::Placeholder(_)))
        {
            return Err(CompileError::Placeholder { name: name.clone() });
        }
        let pattern = if cased {
            pattern.clone()
        } else {
            pattern.map_literals(fold)
        };
        let pieces = pattern.pieces();
        if pieces.iter().any(|p| matches!(p, Piece::AnyOne)) {
            let re = LazyRegex::new(&pattern.to_regex(), RegexOptions::default())
                .map_err(|e| CompileError::unsupported(format!("wildcard pattern: {e}")))?;
            return Ok(TextMatch::Regex(Box::new(re)));
        }
        // Only literals and `*` from here on; adjacent `*` behave as one.
        let mut segments: Vec<&str> = vec![""];
        let mut last_any = false;
        for piece in pieces {
            if let Piece::Lit(s) = piece {
                if let Some(last) = segments.last_mut() {
                    *last = s;
                }
                last_any = false;
            } else {
                if !last_any {
                    segments.push("");
                }
                last_any = true;
            }
        }
        Ok(match segments.as_slice() {
            [only] => TextMatch::Exact((*only).into()),
            ["", ""] => TextMatch::Any,
            [pre, ""] => TextMatch::Prefix((*pre).into()),
            ["", suf] => TextMatch::Suffix((*suf).into()),
            ["", mid, ""] => TextMatch::Contains(Box::new(Needle::new(mid))),
            [pre, mid @ .., suf] => TextMatch::Segments(Box::new(Segments {
                prefix: (*pre).into(),
                suffix: (*suf).into(),
                middle: mid
                    .iter()
                    .map(|m| memmem::Finder::new(m.as_bytes()).into_owned())
                    .collect(),
            })),
            [] => TextMatch::Exact("".into()),
        })
    }

    /// The regular expression of the pattern that could not be built (see
    /// [`LazyRegex::failure`]).
    pub(crate) fn regex_failure(&self) -> Option<(&str, &str)> {
        match self {
            TextMatch::Regex(re) => re.failure(),
            _ => None,
        }
    }

    /// Whether `text` (folded unless the pattern is cased) matches.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        match self {
            TextMatch::Any => true,
            TextMatch::Exact(s) => text == &**s,
            TextMatch::Prefix(s) => text.starts_with(&**s),
            TextMatch::Suffix(s) => text.ends_with(&**s),
            TextMatch::Contains(needle) => needle.find(text.as_bytes()),
            TextMatch::Segments(seg) => {
                let Segments {
                    prefix,
                    suffix,
                    middle,
                } = &**seg;
                if text.len() < prefix.len() + suffix.len()
                    || !text.starts_with(&**prefix)
                    || !text.ends_with(&**suffix)
                {
                    return false;
                }
                // Leftmost matching of each segment is optimal when only `*` separates them.
                let mut rest = &text.as_bytes()[prefix.len()..text.len() - suffix.len()];
                for f in &**middle {
                    match f.find(rest) {
                        Some(i) => rest = &rest[i + f.needle().len()..],
                        None => return false,
                    }
                }
                true
            }
            TextMatch::Regex(re) => re.is_match(text),
        }
    }
}

/// Many plain literals of one predicate (`contains`/`startswith`/`endswith`/equals
/// lists that run to hundreds of values), matched in one pass each instead of one
/// search per value. The automata are built on first use (see [`LazyRegex`] for why).
#[derive(Debug, Clone)]
pub(crate) struct LiteralSet {
    exact: HashSet<Box<str>>,
    /// Anchored at the start of the text.
    prefixes: LiteralScan,
    /// Reversed suffixes, anchored at the start of the reversed text.
    suffixes: LiteralScan,
    contains: LiteralScan,
}

/// Literals searched at once with a searcher built on first use.
#[derive(Debug, Clone)]
struct LiteralScan {
    patterns: Vec<Vec<u8>>,
    anchored: bool,
    built: OnceLock<Option<Searcher>>,
    /// Searches done with a [`Searcher::Keyed`] table: when a set is searched often, the
    /// fastest searcher (slower to build) takes over, see [`KEYED_SEARCHES`].
    keyed_searches: Counter,
    upgraded: OnceLock<Option<Searcher>>,
}

/// After this many unanchored searches with a keyed table, a set builds its fastest searcher.
const KEYED_SEARCHES: u32 = 512;

/// A shared counter; a clone starts from zero.
#[derive(Debug, Default)]
struct Counter(std::sync::atomic::AtomicU32);

impl Clone for Counter {
    fn clone(&self) -> Self {
        Counter::default()
    }
}

impl Counter {
    /// Counts one more and returns the count before.
    fn bump(&self) -> u32 {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

/// The searcher of a [`LiteralScan`].
#[derive(Debug, Clone)]
enum Searcher {
    /// Up to 64 literals: Teddy (SIMD), fast to build and to run.
    Teddy {
        teddy: packed::Searcher,
        /// The longest literal: an anchored match lies within this many bytes.
        longest: usize,
    },
    /// Literals none shorter than [`Keyed::MIN_KEY`]: a hash table by their first bytes.
    /// It builds in microseconds where Teddy takes a tenth of a millisecond and an
    /// automaton over thousands of long literals (file hashes) tens, and most sets are
    /// searched on a handful of events only.
    Keyed(Keyed),
    Automaton(AhoCorasick),
}

/// Sets of at most this many literals use Teddy.
const TEDDY_MAX_PATTERNS: usize = 64;

/// Literals by the hash of their first `key` bytes.
#[derive(Debug, Clone)]
struct Keyed {
    key: usize,
    /// Open addressing: `slots[h & mask]` onwards holds `(hash, first literal of the
    /// chain)`; `next` links literals of the same hash.
    slots: Box<[(u64, u32)]>,
    next: Box<[u32]>,
    mask: usize,
}

impl Keyed {
    /// Literals shorter than this would make too many positions candidates.
    const MIN_KEY: usize = 4;
    /// Keys are at most this long (one `u64`).
    const MAX_KEY: usize = 8;
    const EMPTY: u32 = u32::MAX;

    fn new(patterns: &[Vec<u8>]) -> Option<Keyed> {
        let key = patterns.iter().map(Vec::len).min()?.min(Self::MAX_KEY);
        if key < Self::MIN_KEY || patterns.len() >= Self::EMPTY as usize {
            return None;
        }
        let size = (patterns.len() * 2).next_power_of_two();
        let mut keyed = Keyed {
            key,
            slots: vec![(0, Self::EMPTY); size].into(),
            next: vec![Self::EMPTY; patterns.len()].into(),
            mask: size - 1,
        };
        for (i, p) in patterns.iter().enumerate() {
            let h = Keyed::hash(&p[..key]);
            let mut at = h as usize & keyed.mask;
            loop {
                let (sh, first) = keyed.slots[at];
                if first == Self::EMPTY {
                    keyed.slots[at] = (h, i as u32);
                    break;
                }
                if sh == h {
                    keyed.next[i] = first;
                    keyed.slots[at].1 = i as u32;
                    break;
                }
                at = (at + 1) & keyed.mask;
            }
        }
        Some(keyed)
    }

    fn hash(bytes: &[u8]) -> u64 {
        let mut word = [0u8; 8];
        word[..bytes.len()].copy_from_slice(bytes);
        (u64::from_le_bytes(word) ^ 0x9e37_79b9_7f4a_7c15).wrapping_mul(0xbf58_476d_1ce4_e5b9) >> 7
    }

    /// Whether a literal starts at `at` in `text`.
    fn at(&self, patterns: &[Vec<u8>], text: &[u8], at: usize) -> bool {
        let Some(window) = text.get(at..at + self.key) else {
            return false;
        };
        let h = Self::hash(window);
        let mut slot = h as usize & self.mask;
        loop {
            let (sh, first) = self.slots[slot];
            if first == Self::EMPTY {
                return false;
            }
            if sh == h {
                let mut i = first;
                while i != Self::EMPTY {
                    if text[at..].starts_with(&patterns[i as usize]) {
                        return true;
                    }
                    i = self.next[i as usize];
                }
                return false;
            }
            slot = (slot + 1) & self.mask;
        }
    }
}

impl LiteralScan {
    fn new(patterns: Vec<Vec<u8>>, anchored: bool) -> Self {
        Self {
            patterns,
            anchored,
            built: OnceLock::new(),
            keyed_searches: Counter::default(),
            upgraded: OnceLock::new(),
        }
    }

    /// A keyed table when the literals allow one (it builds in microseconds, and
    /// answers an anchored search with one lookup), else the fastest searcher.
    fn build(&self) -> Option<Searcher> {
        Keyed::new(&self.patterns)
            .map(Searcher::Keyed)
            .or_else(|| self.fastest())
    }

    /// Teddy for up to 64 literals, else an automaton.
    fn fastest(&self) -> Option<Searcher> {
        if self.patterns.len() <= TEDDY_MAX_PATTERNS
            && let Some(teddy) = packed::Config::new()
                .builder()
                .extend(&self.patterns)
                .build()
        {
            let longest = self.patterns.iter().map(Vec::len).max().unwrap_or(0);
            return Some(Searcher::Teddy { teddy, longest });
        }
        self.automaton().map(Searcher::Automaton)
    }

    fn automaton(&self) -> Option<AhoCorasick> {
        // A DFA scans fastest but is slow to build for many literals.
        let kind = if self.patterns.len() <= 64 {
            AhoCorasickKind::DFA
        } else {
            AhoCorasickKind::ContiguousNFA
        };
        AhoCorasick::builder()
            .kind(Some(kind))
            .match_kind(MatchKind::Standard)
            .start_kind(if self.anchored {
                StartKind::Anchored
            } else {
                StartKind::Unanchored
            })
            .build(&self.patterns)
            .ok()
    }

    fn is_match(&self, text: &[u8]) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        let searcher = match self.built.get_or_init(|| self.build()) {
            Some(Searcher::Keyed(keyed)) if self.anchored => {
                return keyed.at(&self.patterns, text, 0);
            }
            Some(Searcher::Keyed(keyed)) => {
                // Searched often: the fastest searcher pays for its building.
                let upgraded = (self.keyed_searches.bump() >= KEYED_SEARCHES)
                    .then(|| self.upgraded.get_or_init(|| self.fastest()).as_ref())
                    .flatten();
                match upgraded {
                    Some(searcher) => searcher,
                    None => return (0..text.len()).any(|at| keyed.at(&self.patterns, text, at)),
                }
            }
            Some(searcher) => searcher,
            // An automaton too large to build: the literals one by one.
            None if self.anchored => return self.patterns.iter().any(|p| text.starts_with(p)),
            None => {
                return self
                    .patterns
                    .iter()
                    .any(|p| memchr::memmem::find(text, p).is_some());
            }
        };
        match searcher {
            // Leftmost semantics: when a literal starts at 0, the match found does.
            Searcher::Teddy { teddy, longest } if self.anchored => {
                let span = aho_corasick::Span::from(0..text.len().min(*longest));
                teddy.find_in(text, span).is_some_and(|m| m.start() == 0)
            }
            Searcher::Teddy { teddy, .. } => teddy.find(text).is_some(),
            Searcher::Keyed(keyed) if self.anchored => keyed.at(&self.patterns, text, 0),
            Searcher::Keyed(keyed) => (0..text.len()).any(|at| keyed.at(&self.patterns, text, at)),
            Searcher::Automaton(ac) => {
                let anchored = if self.anchored {
                    Anchored::Yes
                } else {
                    Anchored::No
                };
                ac.find(Input::new(text).anchored(anchored)).is_some()
            }
        }
    }
}

/// Fewer plain literals than this are searched one by one.
pub(crate) const LITERAL_SET_MIN: usize = 4;

impl LiteralSet {
    /// Takes the plain-literal matchers out of `alts` into a set; the others stay.
    pub(crate) fn extract(alts: &mut Vec<TextMatch>) -> Option<LiteralSet> {
        let plain = |m: &TextMatch| {
            matches!(
                m,
                TextMatch::Exact(_)
                    | TextMatch::Prefix(_)
                    | TextMatch::Suffix(_)
                    | TextMatch::Contains(_)
            )
        };
        if alts.iter().filter(|m| plain(m)).count() < LITERAL_SET_MIN {
            return None;
        }
        let mut exact = HashSet::default();
        let (mut prefixes, mut suffixes, mut contains) = (Vec::new(), Vec::new(), Vec::new());
        let mut rest = Vec::new();
        for m in alts.drain(..) {
            match m {
                TextMatch::Exact(s) => {
                    exact.insert(s);
                }
                TextMatch::Prefix(s) => prefixes.push(s.as_bytes().to_vec()),
                TextMatch::Suffix(s) => suffixes.push(s.bytes().rev().collect::<Vec<u8>>()),
                TextMatch::Contains(needle) => contains.push(needle.text.as_bytes().to_vec()),
                other => rest.push(other),
            }
        }
        *alts = rest;
        Some(LiteralSet {
            exact,
            prefixes: LiteralScan::new(prefixes, true),
            suffixes: LiteralScan::new(suffixes, true),
            contains: LiteralScan::new(contains, false),
        })
    }

    /// Whether any literal matches `text`; `reversed` is scratch space.
    pub(crate) fn is_match(&self, text: &str, reversed: &mut Vec<u8>) -> bool {
        if self.exact.contains(text) || self.prefixes.is_match(text.as_bytes()) {
            return true;
        }
        if !self.suffixes.patterns.is_empty() {
            reversed.clear();
            reversed.extend(text.bytes().rev());
            if self.suffixes.is_match(reversed) {
                return true;
            }
        }
        self.contains.is_match(text.as_bytes())
    }
}

/// The literal that must occur in any text `pattern` matches, for the prefilter: the
/// longest run of its literal pieces made of ASCII and caseless characters, folded, and
/// whether every match holds it at the start or the end of the text. `None` when there is
/// none.
///
/// The prefilter scans the ASCII-lowercased value, while the pattern matches the folded
/// value (see [`crate::fold`]). Both hold an ASCII letter in the same form; a caseless
/// character (an emoji, a digit of another script, most symbols) is what no other
/// character folds to, so it is in the value wherever it is in the folded value. Other
/// characters (`é`, which `É` folds to) end a run. Folding maps each character to one
/// character, so a run at the start (or end) of the folded value is at the start (or
/// end) of the ASCII-lowercased value too.
pub(crate) fn required_literal(pattern: &Pattern) -> Option<Lit> {
    let mut best: &str = "";
    for lit in pattern.literals() {
        for run in lit.split(|c: char| !c.is_ascii() && !is_caseless(c)) {
            if run.len() > best.len() {
                best = run;
            }
        }
    }
    if best.is_empty() {
        return None;
    }
    let pieces = pattern.pieces();
    let at_start = matches!(pieces.first(), Some(Piece::Lit(s)) if s.starts_with(best));
    let at_end = matches!(pieces.last(), Some(Piece::Lit(s)) if s.ends_with(best));
    Some(Lit {
        text: best.to_ascii_lowercase(),
        field: None,
        at_start,
        at_end,
    })
}

/// Whether `c` has no other case: nothing folds to it but itself.
pub(crate) fn is_caseless(c: char) -> bool {
    let (mut lower, mut upper) = (c.to_lowercase(), c.to_uppercase());
    lower.next() == Some(c)
        && lower.next().is_none()
        && upper.next() == Some(c)
        && upper.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str) -> TextMatch {
        TextMatch::compile(&Pattern::parse_sigma(p, false), false).unwrap()
    }

    #[test]
    fn shapes_pick_fast_paths() {
        assert!(matches!(m("abc"), TextMatch::Exact(_)));
        assert!(matches!(m("abc*"), TextMatch::Prefix(_)));
        assert!(matches!(m("*abc"), TextMatch::Suffix(_)));
        assert!(matches!(m("*abc*"), TextMatch::Contains(_)));
        assert!(matches!(m("**"), TextMatch::Any));
        assert!(matches!(m("a*b*c"), TextMatch::Segments(_)));
        assert!(matches!(m("a?c"), TextMatch::Regex(_)));
    }

    #[test]
    fn segments_match_in_order() {
        let p = m(r"c:\\*\foo*.exe");
        assert!(p.is_match(r"c:\x\y\foo\bar.exe"));
        assert!(!p.is_match(r"c:\x.exe"));
        assert!(!p.is_match(r"d:\x\foo.exe"));
        // prefix and suffix may not overlap
        assert!(!m("ab*ba").is_match("aba"));
        assert!(m("ab*ba").is_match("abba"));
        assert!(m("a**b").is_match("ab"));
    }

    #[test]
    fn question_mark_counts_characters() {
        let p = m("a?c");
        assert!(p.is_match("abc"));
        assert!(p.is_match("aéc"));
        assert!(!p.is_match("ac"));
        assert!(!p.is_match("abbc"));
        assert!(m("*a?c*").is_match("xxabcxx"));
        assert!(m("a.c?").is_match("a.cd"));
        assert!(!m("a.c?").is_match("abcd"));
    }

    #[test]
    fn literals_fold_unless_cased() {
        let folded = m("*ABC*");
        assert!(folded.is_match("xabcx"));
        let cased = TextMatch::compile(&Pattern::literal("ABC"), true).unwrap();
        assert!(cased.is_match("ABC"));
        assert!(!cased.is_match("abc"));
    }

    #[test]
    fn placeholders_are_rejected() {
        let p = Pattern::parse_sigma("%Admins%", true);
        assert!(matches!(
            TextMatch::compile(&p, false),
            Err(CompileError::Placeholder { .. })
        ));
    }

    #[test]
    fn literal_sets_match_like_their_members() {
        let mut alts: Vec<TextMatch> = ["exact", "pre*", "*suf", "*mid*", "a*b*c", "x?z"]
            .iter()
            .map(|p| m(p))
            .collect();
        let set = LiteralSet::extract(&mut alts).unwrap();
        // The segment and `?` patterns stay outside the set.
        assert_eq!(alts.len(), 2);
        let mut scratch = Vec::new();
        for (text, expected) in [
            ("exact", true),
            ("exactly", false),
            ("prefix", true),
            ("xpre", false),
            ("the suf", true),
            ("sufx", false),
            ("amidst", true),
            ("nothing", false),
        ] {
            assert_eq!(set.is_match(text, &mut scratch), expected, "{text}");
        }
        let mut few = vec![m("a"), m("*b*")];
        assert!(LiteralSet::extract(&mut few).is_none());
        assert_eq!(few.len(), 2);
    }

    #[test]
    fn keyed_literal_sets_match_like_their_members() {
        // Pseudo-random literals over a small alphabet so that keys collide and texts
        // hold some of them; sets within Teddy's reach and beyond, with and without a
        // literal too short for keys.
        let mut state: u32 = 7;
        let mut next = |n: u32| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (state >> 16) % n
        };
        let word = |len: usize, next: &mut dyn FnMut(u32) -> u32| -> Vec<u8> {
            (0..len).map(|_| b"abcd"[next(4) as usize]).collect()
        };
        for (short, count) in [(false, 300), (true, 300), (false, 20), (true, 20)] {
            let mut patterns: Vec<Vec<u8>> = (0..count)
                .map(|_| {
                    let len = 4 + next(9) as usize;
                    word(len, &mut next)
                })
                .collect();
            if short {
                patterns.push(b"dd".to_vec());
            }
            for anchored in [false, true] {
                let scan = LiteralScan::new(patterns.clone(), anchored);
                // More searches than KEYED_SEARCHES: the automaton takes over midway.
                for _ in 0..(KEYED_SEARCHES as usize + 500) {
                    let len = next(30) as usize;
                    let text = word(len, &mut next);
                    let expected = patterns.iter().any(|p| {
                        if anchored {
                            text.starts_with(p)
                        } else {
                            text.windows(p.len()).any(|w| w == p.as_slice())
                        }
                    });
                    assert_eq!(
                        scan.is_match(&text),
                        expected,
                        "{text:?} anchored {anchored}"
                    );
                }
                let keyed = matches!(scan.built.get(), Some(Some(Searcher::Keyed(_))));
                assert_eq!(keyed, !short, "short literals take the automaton");
                let upgraded = matches!(scan.upgraded.get(), Some(Some(_)));
                assert_eq!(upgraded, keyed && !anchored);
            }
        }
    }

    #[test]
    fn regexes_are_searched_in_their_shortest_form() {
        let options = RegexOptions::default();
        let trimmed = trim_tail(r"-k\s\w{1,64}(?:\s?(?:-p|-s))?", options).expect("trimmed");
        assert!(!trimmed.contains("64"), "{trimmed}");
        assert_eq!(trim_tail(r"^abc$", options), None);
        assert_eq!(trim_tail(r"a{2,5}$", options), None);
        // Same answers as the expressions as written.
        for (source, ignore_case) in [
            (r"-k\s\w{1,64}(?:\s?(?:-p|-s))?", false),
            (r"ab(c|d){2,3}e?", false),
            (r"AB[0-9]{3,}x*", true),
            (r"(?m)^line\d+(\s\w+)*", false),
            (r"x?", false),
        ] {
            let options = RegexOptions {
                ignore_case,
                ..RegexOptions::default()
            };
            let full = regex::RegexBuilder::new(source)
                .case_insensitive(ignore_case)
                .build()
                .expect("valid");
            let lazy = LazyRegex::new(source, options).expect("valid");
            for text in [
                "",
                "-k a",
                "-k é",
                "-k",
                "abcce",
                "abd",
                "ab",
                "zab123",
                "ab12x",
                "AB999",
                "x\nline7 w",
                "line",
                "-k\tz -p",
            ] {
                assert_eq!(
                    lazy.is_match(text),
                    full.is_match(text),
                    "{source} on {text:?}"
                );
            }
        }
    }

    #[test]
    fn required_literal_is_longest_ascii_run() {
        let text = |p: &str| required_literal(&Pattern::parse_sigma(p, false)).map(|l| l.text);
        assert_eq!(
            text(r"*\Temp\*ÉlodieVeryLong*").as_deref(),
            Some("lodieverylong")
        );
        assert_eq!(text("*"), None);
        // Caseless characters belong to a run.
        assert_eq!(text("*x🦆Duck*").as_deref(), Some("x🦆duck"));
    }

    #[test]
    fn required_literal_knows_where_matches_hold_it() {
        let anchors = |p: &str| {
            required_literal(&Pattern::parse_sigma(p, false)).map(|l| (l.at_start, l.at_end))
        };
        assert_eq!(anchors(r"C:\Windows\cmd.exe"), Some((true, true)));
        assert_eq!(anchors(r"C:\Windows\\*"), Some((true, false)));
        assert_eq!(anchors(r"*\cmd.exe"), Some((false, true)));
        assert_eq!(anchors(r"*\cmd.exe*"), Some((false, false)));
        // The longest run is not the first piece's start, or not its end.
        assert_eq!(anchors(r"a*\longer.exe"), Some((false, true)));
        assert_eq!(anchors(r"Élodie\Desktop"), Some((false, true)));
        assert_eq!(anchors(r"Desktop\Élo"), Some((true, false)));
        assert_eq!(anchors(r"ab?defgh"), Some((false, true)));
    }

    #[test]
    fn nothing_folds_to_a_caseless_character() {
        // What keeps literals with caseless characters exact: the folded text holds a
        // caseless character only where the text itself does.
        for o in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let f = crate::fold::fold_char(o);
            assert!(f == o || !is_caseless(f), "{o:?} folds to caseless {f:?}");
        }
    }
}
