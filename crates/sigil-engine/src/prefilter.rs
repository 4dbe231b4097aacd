//! The literal prefilter: one Aho-Corasick automaton per field name.
//!
//! Every prefiltered rule has one to three sets of literals (clauses), each of which must
//! have a literal in the event (see [`crate::compile::PredTable::required_clauses`]): a
//! rule `selection_img and selection_cli` needs a literal of each selection. Each literal
//! belongs to a field, or to no field for keyword searches. The literals are grouped by field name:
//! the group of a field holds the literals of every rule that needs them in that field,
//! each literal once however many rules share it (the Sysmon and Security-audit variants
//! of a rule share theirs, and so do many rules). Keyword literals are scanned over every
//! value, so they are grouped by the combinations of index lists whose rules hold them:
//! an event scans only the keyword literals of the rules it can meet.
//!
//! An event is scanned field by field, each field's value with its own group's automaton,
//! and only the fields some candidate rule of the event's logsource combination has
//! literals in ([`ComboScan`]). A literal found marks the clauses that hold it; the rules
//! of the combination whose clauses are all marked are evaluated, with the combination's
//! rules that have no literals, in rule order; the other rules are never looked at. Since
//! a literal is looked for only in the field it is required in, this is at least as
//! selective as one scan of every field for every literal, and far less text is scanned.
//!
//! Automata are built on first use: an event stream meets only some fields, and building
//! every group up front would cost more than a short hunt takes.

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind, packed};

use crate::compile::{FieldTable, Lit};

/// The hash of a field name under `sigil-logs`'s naming rule (ASCII case and spaces
/// ignored: events write `Threat Name` where rules write `ThreatName`), so the prefilter
/// groups a rule's literals under the same names the event answers to. A collision only
/// makes the prefilter scan one more field, which is harmless.
pub(crate) fn name_hash(name: &str) -> u64 {
    u64::from(sigil_logs::field_name_hash(name))
}

/// Literals are looked for by their first this many bytes. A literal's prefix occurs
/// wherever the literal does, so the prefilter stays exact; long literals (file hashes,
/// paths) would only make the automata larger and slower to build without removing
/// more rules.
const MAX_LITERAL_LEN: usize = 16;

/// The part of a literal the prefilter looks for: its first [`MAX_LITERAL_LEN`] bytes (up
/// to a character boundary). Taking the end instead (`\openssh\sshd.exe` rather than
/// `c:\windows\syste`) removes more rules but makes the automata several times larger,
/// and measured no faster.
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

    /// Calls `found` with the number of every pattern that occurs in `hay` (once or more).
    pub(crate) fn each(&self, hay: &[u8], found: &mut dyn FnMut(usize)) {
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
                    found(p);
                    prefixes[p].iter().for_each(|&q| found(q as usize));
                    for &q in &extensions[p] {
                        if hay[start..].starts_with(&patterns[q as usize]) {
                            found(q as usize);
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
                    found(m.pattern().as_usize());
                }
            }
        }
    }
}

/// The literals of one field (or of keyword searches) and their automaton.
#[derive(Debug)]
pub(crate) struct Group {
    patterns: Vec<Box<str>>,
    /// The number of the group's first literal among all literals.
    first_literal: u32,
    /// For a keyword group, each pattern's number among all literals (the literals are
    /// those of a field group, see [`Prefilters::build`]); else `first_literal` on.
    numbers: Option<Box<[u32]>>,
    ac: OnceLock<Option<Searchers>>,
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
    /// The automaton, built on first use. `None` when it cannot be built (too large):
    /// then every rule of the group is kept, see [`Prefilters::literal_rules`].
    pub(crate) fn automaton(&self) -> Option<&Searchers> {
        self.ac
            .get_or_init(|| {
                if self.patterns.len() <= QUICK_MAX_PATTERNS
                    && let Some(quick) = Searchers::quick(&self.patterns)
                {
                    return Some(quick);
                }
                let kind = if self.patterns.len() < DFA_MAX_PATTERNS {
                    AhoCorasickKind::DFA
                } else {
                    AhoCorasickKind::ContiguousNFA
                };
                // Case-sensitive: the literals and the scanned text are ASCII-lowercase
                // (see `Scan::run_prefilter`), which keeps the automaton small.
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .kind(Some(kind))
                    .build(self.patterns.iter().map(|p| p.as_bytes()))
                    .ok()
                    .map(Searchers::Automaton)
            })
            .as_ref()
    }

    /// The number among all literals of the group's pattern `pattern`.
    pub(crate) fn literal(&self, pattern: usize) -> usize {
        match &self.numbers {
            Some(numbers) => numbers[pattern] as usize,
            None => self.first_literal as usize + pattern,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.patterns.len()
    }

    /// Whether some literal could occur in the text of a number or boolean.
    pub(crate) fn in_numbers(&self) -> bool {
        self.in_numbers
    }
}

/// What the prefilter scans for the events of one combination of index lists.
#[derive(Debug, Default)]
pub(crate) struct ComboScan {
    /// `(field name hash, group)` of the fields the combination's rules have literals
    /// in, sorted by hash.
    pub(crate) fields: Box<[(u64, u32)]>,
    /// The group of the keyword literals of the combination's rules (scanned over
    /// every value), if they have any.
    pub(crate) keyword: Option<u32>,
    /// The combination's rules without literals, which every event of it evaluates, in
    /// rule order.
    pub(crate) always: Box<[u32]>,
    /// The combination's prefiltered rules, as a bit set over rule numbers: a rule whose
    /// clauses are all hit is evaluated if it is one of them.
    members: Box<[u64]>,
    /// The number of rules of the combination.
    pub(crate) rules: usize,
}

impl ComboScan {
    /// Whether there is nothing to scan.
    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.keyword.is_none()
    }

    /// Whether `rule` is a prefiltered rule of the combination.
    pub(crate) fn has(&self, rule: usize) -> bool {
        self.members
            .get(rule / 64)
            .is_some_and(|w| w & (1 << (rule % 64)) != 0)
    }

    /// The group of a field, when the combination scans it.
    pub(crate) fn group_of(&self, hash: u64) -> Option<u32> {
        self.fields
            .binary_search_by_key(&hash, |&(h, _)| h)
            .ok()
            .map(|i| self.fields[i].1)
    }
}

/// What one rule needs scanned: `(field name hash, group)` of its fields, and the
/// numbers of its keyword literals within the keyword group.
type RuleScan = (Vec<(u64, u32)>, Vec<u32>);

/// A group while it is gathered: its literals, their numbers, and each one's clauses.
type GroupBuilder<'a> = (Vec<Box<str>>, HashMap<&'a str, u32>, Vec<Vec<u32>>);

/// Every literal group of an engine, and what each combination scans.
#[derive(Debug, Default)]
pub(crate) struct Prefilters {
    pub(crate) groups: Vec<Group>,
    /// For each literal (numbered across groups), the clauses that hold it.
    pub(crate) clauses_of: Vec<Box<[u32]>>,
    /// The rule of each clause.
    pub(crate) clause_rule: Vec<u32>,
    /// The number of clauses of each rule (0: not prefiltered).
    pub(crate) clause_count: Vec<u8>,
    /// One per combination of index lists.
    pub(crate) combos: Vec<ComboScan>,
}

impl Prefilters {
    /// Groups the literal sets of the rules' clauses (`None`: the rule is not
    /// prefiltered) and derives what each combination (a list of rules) scans.
    pub(crate) fn build(
        rule_clauses: &[Option<Vec<Vec<Lit>>>],
        fields: &FieldTable,
        combos: &[Vec<u32>],
    ) -> Prefilters {
        // Group key: the field name's hash, `None` for keyword literals.
        let mut group_of_key: HashMap<Option<u64>, u32> = HashMap::default();
        let mut groups: Vec<GroupBuilder<'_>> = Vec::new();
        // Per rule, the (hash, group) of the fields it has literals in, and the numbers of
        // its keyword literals within their group.
        let mut rule_fields: Vec<RuleScan> = vec![(Vec::new(), Vec::new()); rule_clauses.len()];
        let mut clause_rule = Vec::new();
        let mut clause_count = vec![0u8; rule_clauses.len()];
        for (r, clauses) in rule_clauses.iter().enumerate() {
            let Some(clauses) = clauses else { continue };
            clause_count[r] = u8::try_from(clauses.len()).unwrap_or(u8::MAX);
            for lit in clauses.iter().enumerate().flat_map(|(k, set)| {
                let clause = (clause_rule.len() + k) as u32;
                set.iter().map(move |lit| (clause, lit))
            }) {
                let (clause, lit) = lit;
                let hash = lit.field.map(|f| name_hash(&fields.names[f as usize]));
                let next = groups.len() as u32;
                let g = *group_of_key.entry(hash).or_insert(next);
                if g == next {
                    groups.push((Vec::new(), HashMap::default(), Vec::new()));
                }
                let (patterns, ids, rules) = &mut groups[g as usize];
                let next = patterns.len() as u32;
                let text = literal_window(&lit.text);
                let id = *ids.entry(text).or_insert(next);
                if id == next {
                    patterns.push(text.into());
                    rules.push(Vec::new());
                }
                let list = &mut rules[id as usize];
                if list.last() != Some(&clause) {
                    list.push(clause);
                }
                match hash {
                    Some(h) => rule_fields[r].0.push((h, g)),
                    None => rule_fields[r].1.push(id),
                }
            }
            clause_rule.extend(std::iter::repeat_n(r as u32, clauses.len()));
            rule_fields[r].0.sort_unstable();
            rule_fields[r].0.dedup();
            rule_fields[r].1.sort_unstable();
            rule_fields[r].1.dedup();
        }
        let keyword = group_of_key.get(&None).copied();
        let mut out = Prefilters {
            clause_rule,
            clause_count,
            ..Prefilters::default()
        };
        for (patterns, _, rules) in groups {
            out.groups.push(Group {
                first_literal: out.clauses_of.len() as u32,
                in_numbers: patterns.iter().any(|p| in_numbers(p)),
                patterns,
                numbers: None,
                ac: OnceLock::new(),
            });
            out.clauses_of
                .extend(rules.into_iter().map(Vec::into_boxed_slice));
        }
        // Keyword groups, one per distinct set of keyword literals of a combination.
        let mut keyword_groups: HashMap<Vec<u32>, u32> = HashMap::default();
        for combo in combos {
            let mut scan_fields: Vec<(u64, u32)> = Vec::new();
            let mut keywords: Vec<u32> = Vec::new();
            let mut always = Vec::new();
            let mut members = vec![0u64; rule_clauses.len().div_ceil(64)];
            for &r in combo {
                let (f, k) = &rule_fields[r as usize];
                scan_fields.extend_from_slice(f);
                keywords.extend_from_slice(k);
                if rule_clauses[r as usize].is_some() {
                    members[r as usize / 64] |= 1 << (r % 64);
                } else {
                    always.push(r);
                }
            }
            always.sort_unstable();
            scan_fields.sort_unstable();
            scan_fields.dedup();
            keywords.sort_unstable();
            keywords.dedup();
            let keyword = keyword.filter(|_| !keywords.is_empty()).map(|all| {
                let next = out.groups.len() as u32;
                *keyword_groups.entry(keywords).or_insert_with_key(|ids| {
                    let all = &out.groups[all as usize];
                    let patterns: Vec<Box<str>> = ids
                        .iter()
                        .map(|&i| all.patterns[i as usize].clone())
                        .collect();
                    let group = Group {
                        in_numbers: patterns.iter().any(|p| in_numbers(p)),
                        patterns,
                        first_literal: all.first_literal,
                        numbers: Some(ids.iter().map(|&i| all.first_literal + i).collect()),
                        ac: OnceLock::new(),
                    };
                    out.groups.push(group);
                    next
                })
            });
            out.combos.push(ComboScan {
                fields: scan_fields.into_boxed_slice(),
                keyword,
                always: always.into_boxed_slice(),
                members: members.into_boxed_slice(),
                rules: combo.len(),
            });
        }
        out
    }

    /// The number of literals over all groups.
    pub(crate) fn literal_count(&self) -> usize {
        self.clauses_of.len()
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

    fn found(searchers: &Searchers, hay: &[u8]) -> Vec<usize> {
        let mut out = Vec::new();
        searchers.each(hay, &mut |p| out.push(p));
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
        let patterns: Vec<Box<str>> = [
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
        ]
        .iter()
        .map(|&p| p.into())
        .collect();
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
