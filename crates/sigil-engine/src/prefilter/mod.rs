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
//! A literal also knows where every match holds it: a `startswith` literal at the start of
//! the value, an `endswith` one at its end, a whole value at both. The automata look for
//! each literal's first [`MAX_LITERAL_LEN`] bytes; a literal longer than that, or bound to
//! a place, counts as found only once the rest of its text and its place are confirmed
//! ([`Group::each`]). `Image: 'C:\Windows\System32\lsass.exe'` is then found in
//! `c:\windows\system32\lsass.exe` only, not in every value under
//! `c:\windows\system32\`, and a rule is evaluated only when each of its clauses could
//! hold.
//!
//! Automata are built on first use: an event stream meets only some fields, and building
//! every group up front would cost more than a short hunt takes.

use rustc_hash::FxHashMap as HashMap;

use crate::compile::{FieldTable, Lit};

/// The hash of a field name under `sigil-logs`'s naming rule (ASCII case and spaces
/// ignored: events write `Threat Name` where rules write `ThreatName`), so the prefilter
/// groups a rule's literals under the same names the event answers to. A collision only
/// makes the prefilter scan one more field, which is harmless.
pub(crate) fn name_hash(name: &str) -> u64 {
    u64::from(sigil_logs::field_name_hash(name))
}

mod group;
mod memo;

pub(crate) use group::Group;
pub(crate) use memo::Memo;

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
/// numbers of its keyword literals.
type RuleScan = (Vec<(u64, u32)>, Vec<u32>);

/// A distinct literal while the groups are gathered.
#[derive(Debug, Clone, Copy)]
struct LitEntry<'a> {
    text: &'a str,
    at_start: bool,
    at_end: bool,
}

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
        // A literal is known by its group key (the field name's hash, `None` for keyword
        // literals), its text and where it must lie; each is numbered once however many
        // rules share it (the Sysmon and Security-audit variants of a rule share theirs).
        // These numbers are provisional: the groups number their literals in the end.
        type Key<'a> = (Option<u64>, &'a str, bool, bool);
        let mut numbers: HashMap<Key<'_>, u32> = HashMap::default();
        let mut literals: Vec<LitEntry<'_>> = Vec::new();
        let mut clauses_of: Vec<Vec<u32>> = Vec::new();
        // The literals of each field group, in the order groups are met, and the keyword
        // literals.
        let mut group_of_hash: HashMap<u64, u32> = HashMap::default();
        let mut group_literals: Vec<Vec<u32>> = Vec::new();
        let mut keyword_literals: Vec<u32> = Vec::new();
        let mut rule_fields: Vec<RuleScan> = vec![(Vec::new(), Vec::new()); rule_clauses.len()];
        let mut clause_rule = Vec::new();
        let mut clause_count = vec![0u8; rule_clauses.len()];
        for (r, clauses) in rule_clauses.iter().enumerate() {
            let Some(clauses) = clauses else { continue };
            clause_count[r] = u8::try_from(clauses.len()).unwrap_or(u8::MAX);
            for (k, set) in clauses.iter().enumerate() {
                let clause = (clause_rule.len() + k) as u32;
                for lit in set {
                    let hash = lit.field.map(|f| name_hash(&fields.names[f as usize]));
                    let key = (hash, lit.text.as_str(), lit.at_start, lit.at_end);
                    let next = literals.len() as u32;
                    let id = *numbers.entry(key).or_insert(next);
                    if id == next {
                        literals.push(LitEntry {
                            text: &lit.text,
                            at_start: lit.at_start,
                            at_end: lit.at_end,
                        });
                        clauses_of.push(Vec::new());
                        match hash {
                            Some(h) => {
                                let g = group_literals.len() as u32;
                                let g = *group_of_hash.entry(h).or_insert(g);
                                if g as usize == group_literals.len() {
                                    group_literals.push(Vec::new());
                                }
                                group_literals[g as usize].push(id);
                            }
                            None => keyword_literals.push(id),
                        }
                    }
                    let list = &mut clauses_of[id as usize];
                    if list.last() != Some(&clause) {
                        list.push(clause);
                    }
                    match hash {
                        Some(h) => rule_fields[r].0.push((h, group_of_hash[&h])),
                        None => rule_fields[r].1.push(id),
                    }
                }
            }
            clause_rule.extend(std::iter::repeat_n(r as u32, clauses.len()));
            rule_fields[r].0.sort_unstable();
            rule_fields[r].0.dedup();
            rule_fields[r].1.sort_unstable();
            rule_fields[r].1.dedup();
        }
        // Each field group numbers its literals; the keyword literals are numbered as one
        // group too, whose parts the combinations scan.
        let mut finals = vec![0u32; literals.len()];
        let mut next = 0u32;
        let mut groups: Vec<Group> = group_literals
            .iter()
            .map(|ids| {
                let group = Group::of(ids, &literals, &mut finals, Some(next));
                next += group.literal_count();
                group
            })
            .collect();
        next += Group::of(&keyword_literals, &literals, &mut finals, Some(next)).literal_count();
        let mut numbered: Vec<Box<[u32]>> = vec![Box::default(); next as usize];
        for (id, clauses) in clauses_of.into_iter().enumerate() {
            numbered[finals[id] as usize] = clauses.into_boxed_slice();
        }
        // Keyword groups, one per distinct set of keyword literals of a combination.
        let mut keyword_groups: HashMap<Vec<u32>, u32> = HashMap::default();
        let mut scans = Vec::with_capacity(combos.len());
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
            let keyword = (!keywords.is_empty()).then(|| {
                let next = groups.len() as u32;
                *keyword_groups.entry(keywords).or_insert_with_key(|ids| {
                    groups.push(Group::of(ids, &literals, &mut finals, None));
                    next
                })
            });
            scans.push(ComboScan {
                fields: scan_fields.into_boxed_slice(),
                keyword,
                always: always.into_boxed_slice(),
                members: members.into_boxed_slice(),
                rules: combo.len(),
            });
        }
        Prefilters {
            groups,
            clauses_of: numbered,
            clause_rule,
            clause_count,
            combos: scans,
        }
    }

    /// The number of literals over all groups.
    pub(crate) fn literal_count(&self) -> usize {
        self.clauses_of.len()
    }
}
