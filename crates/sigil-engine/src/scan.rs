//! Evaluating events: the per-thread state and the per-event caches.
//!
//! A [`Scan`] holds everything that changes while events are evaluated, so the
//! [`Engine`] stays immutable and shared. Per event it caches, in buffers reused from
//! one event to the next (nothing is allocated per event once they have grown):
//!
//! - each field's text, original and folded, read once through [`Event::get`] however
//!   many rules test it;
//! - each predicate's result, since rules share predicates;
//! - which literals of the prefilter occur in the event, found in one Aho-Corasick pass
//!   over the values some rule of its logsource has literals in, and from them the
//!   rules left to evaluate (see [`crate::prefilter`]).
//!
//! Generation counters mark what belongs to the current event, so starting the next
//! event costs nothing but a counter increment.

use std::fmt::Write as _;

use std::net::IpAddr;
use std::sync::Arc;

use sigil_core::Op;
use sigil_logs::{Event, FieldValue};

use crate::compile::{CompiledPred, FieldId, Node, PredTest, ValueTest};
use crate::correlation::{CorrelationHits, Hit, WindowHit, WindowKey};
use crate::engine::Engine;
use crate::fold::{fold_into, is_folded};
use crate::index::canonical_int;
use crate::prefilter::{ComboScan, Memo};
use crate::sink::{Detection, EventSummary, Matched, Sink};
use crate::time::{parse_timestamp, time_part};

/// What kind of value a cached field holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Str,
    Num(f64),
    Bool(bool),
}

/// A field value of the current event; its text lives in [`Scan::text`].
#[derive(Debug, Clone, Copy)]
struct Slot {
    generation: u32,
    present: bool,
    kind: Kind,
    orig: (u32, u32),
    folded: (u32, u32),
    /// Further values of a multi-valued field (a JSON array): a range of [`Scan::multi`].
    extra: (u32, u32),
}

impl Slot {
    const EMPTY: Slot = Slot {
        generation: 0,
        present: false,
        kind: Kind::Str,
        orig: (0, 0),
        folded: (0, 0),
        extra: (0, 0),
    };
}

/// The evaluation state of one thread. Create it with [`Engine::scan`].
pub struct Scan<'e> {
    engine: &'e Engine,
    generation: u32,
    /// Text of the current event's cached values.
    text: String,
    fields: Vec<Slot>,
    /// The second and later values of multi-valued fields.
    multi: Vec<Slot>,
    /// Every value of the event (keyword searches and the prefilter), when loaded.
    values: Vec<Slot>,
    values_loaded: bool,
    values_folded: bool,
    pred_generation: Vec<u32>,
    pred_result: Vec<bool>,
    literal_generation: Vec<u32>,
    clause_generation: Vec<u32>,
    rule_generation: Vec<u32>,
    /// Clauses of each rule hit in the current event (valid where `rule_generation` is).
    rule_hits: Vec<u8>,
    /// The rules of the current event whose clauses are all hit.
    ready: Vec<u32>,
    source: Option<Arc<str>>,
    hits: CorrelationHits,
    events: u64,
    stats: ScanStats,
    /// Scratch space for suffix matching.
    reversed: Vec<u8>,
    /// Scratch space for the text of a number.
    number: String,
    /// Scratch space for every value of an event, for the keyword prefilter.
    keyword_text: Vec<u8>,
    /// Scratch space for the ASCII-lowercase form of a value, for the prefilter.
    lower: Vec<u8>,
    /// What the large prefilter groups found in recent values.
    memo: Memo,
}

/// Counters of the work a scan did, to see where matching time goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Events evaluated.
    pub events: u64,
    /// Candidate rules met through the logsource index.
    pub candidates: u64,
    /// Candidates the literal prefilter removed.
    pub prefiltered_out: u64,
    /// Rules whose condition was evaluated.
    pub evaluated: u64,
    /// Events whose values the prefilter scanned.
    pub prefilter_scans: u64,
}

impl std::fmt::Debug for Scan<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scan")
            .field("events", &self.events)
            .field("source", &self.source)
            .field("buffered_hits", &self.hits.len())
            .finish_non_exhaustive()
    }
}

impl<'e> Scan<'e> {
    pub(crate) fn new(engine: &'e Engine) -> Self {
        let literals = engine.prefilters.literal_count();
        Self {
            engine,
            generation: 0,
            text: String::with_capacity(4096),
            fields: vec![Slot::EMPTY; engine.fields.names.len()],
            multi: Vec::new(),
            values: Vec::with_capacity(64),
            values_loaded: false,
            values_folded: false,
            pred_generation: vec![0; engine.preds.preds.len()],
            pred_result: vec![false; engine.preds.preds.len()],
            literal_generation: vec![0; literals],
            clause_generation: vec![0; engine.prefilters.clause_rule.len()],
            rule_generation: vec![0; engine.rules.len()],
            rule_hits: vec![0; engine.rules.len()],
            ready: Vec::with_capacity(64),
            source: None,
            hits: CorrelationHits::default(),
            events: 0,
            stats: ScanStats::default(),
            reversed: Vec::with_capacity(256),
            number: String::with_capacity(32),
            keyword_text: Vec::new(),
            lower: Vec::with_capacity(256),
            memo: Memo::default(),
        }
    }

    /// Sets the log the next events come from; detections carry it as their source.
    pub fn set_source(&mut self, source: Option<Arc<str>>) {
        self.source = source;
    }

    /// The number of events evaluated so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Counters of the work done so far.
    pub fn stats(&self) -> ScanStats {
        ScanStats {
            events: self.events,
            ..self.stats
        }
    }

    /// Takes the correlation hits buffered so far (see [`Engine::finish`]).
    pub fn take_hits(&mut self) -> CorrelationHits {
        std::mem::take(&mut self.hits)
    }

    /// The correlation hits buffered by this scan.
    pub fn into_hits(self) -> CorrelationHits {
        self.hits
    }

    fn begin(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // After 2^32 events the stamps would repeat: clear them once.
            self.fields.fill(Slot::EMPTY);
            self.pred_generation.fill(0);
            self.literal_generation.fill(0);
            self.clause_generation.fill(0);
            self.rule_generation.fill(0);
            self.generation = 1;
        }
        self.text.clear();
        self.multi.clear();
        self.values.clear();
        self.values_loaded = false;
        self.values_folded = false;
        self.events += 1;
    }

    /// Evaluates every rule that can match `event`, giving each detection to `sink`.
    /// Returns the number of detections emitted.
    pub fn event(&mut self, event: &dyn Event, sink: &mut dyn Sink) -> usize {
        self.event_within(event, None, sink)
    }

    /// Like [`Scan::event`], evaluating only the rules that `allowed` admits. `allowed` is
    /// indexed like the rules given to [`Engine::compile`] (rules past its end are not
    /// admitted); `None` admits every rule. A rule left out records no correlation hit.
    /// Callers use it when logs of several kinds are read in one run and each kind is for
    /// some of the rules only.
    pub fn event_within(
        &mut self,
        event: &dyn Event,
        allowed: Option<&[bool]>,
        sink: &mut dyn Sink,
    ) -> usize {
        self.begin();
        let engine = self.engine;
        let channel = self.field(engine.channel_field, event);
        let event_id = self.field(engine.event_id_field, event);
        let event_id = if event_id.present {
            canonical_int(self.orig(event_id))
        } else {
            None
        };
        let (lists, combo) = if channel.present {
            engine.index.lists(Some(self.folded(channel)), event_id)
        } else {
            engine.index.lists(None, event_id)
        };
        let prefilter = engine
            .prefilters
            .combos
            .get(combo as usize)
            .filter(|c| !c.is_empty());
        let mut emitted = 0;
        let Some(combo) = prefilter else {
            // Nothing to scan for: every candidate is evaluated.
            for list in lists {
                self.stats.candidates += list.len() as u64;
                for &r in list {
                    emitted += self.rule(r, event, allowed, sink);
                }
            }
            return emitted;
        };
        self.stats.candidates += combo.rules as u64;
        self.run_prefilter(combo, event);
        // The rules whose clauses were all hit, merged in rule order with those that
        // have no literals.
        let mut ready = std::mem::take(&mut self.ready);
        ready.sort_unstable();
        self.stats.prefiltered_out += (combo.rules - combo.always.len() - ready.len()) as u64;
        let (mut a, mut b) = (0, 0);
        let always = &combo.always;
        while a < always.len() || b < ready.len() {
            let r = if b == ready.len() || (a < always.len() && always[a] < ready[b]) {
                a += 1;
                always[a - 1]
            } else {
                b += 1;
                ready[b - 1]
            };
            emitted += self.rule(r, event, allowed, sink);
        }
        ready.clear();
        self.ready = ready;
        emitted
    }

    fn rule(
        &mut self,
        r: u32,
        event: &dyn Event,
        allowed: Option<&[bool]>,
        sink: &mut dyn Sink,
    ) -> usize {
        let engine = self.engine;
        let rule = &engine.rules[r as usize];
        if let Some(allowed) = allowed
            && !allowed.get(rule.info.index).copied().unwrap_or(false)
        {
            return 0;
        }
        self.stats.evaluated += 1;
        if !self.eval(&rule.node, event) {
            return 0;
        }
        for &(c, base) in &rule.links {
            self.record_hit(c, base, event);
        }
        if rule.emits {
            sink.detection(&Detection {
                rule: &rule.info,
                source: self.source.as_deref(),
                matched: Matched::Event(event),
            });
            1
        } else {
            0
        }
    }

    /// Finds which literals occur in the fields they belong to (and, for keyword
    /// literals, in any value), and stamps the clauses they stand for, counting each
    /// rule's clauses hit.
    fn run_prefilter(&mut self, combo: &ComboScan, event: &dyn Event) {
        self.stats.prefilter_scans += 1;
        let prefilters = &self.engine.prefilters;
        let generation = self.generation;
        let literal_generation = &mut self.literal_generation;
        let clause_generation = &mut self.clause_generation;
        let rule_generation = &mut self.rule_generation;
        let rule_hits = &mut self.rule_hits;
        let ready = &mut self.ready;
        let number = &mut self.number;
        let keyword = combo.keyword.map(|g| &prefilters.groups[g as usize]);
        let mut stamp = |lit: usize| {
            if literal_generation[lit] != generation {
                literal_generation[lit] = generation;
                for &c in &prefilters.clauses_of[lit] {
                    if clause_generation[c as usize] == generation {
                        continue;
                    }
                    clause_generation[c as usize] = generation;
                    let r = prefilters.clause_rule[c as usize] as usize;
                    if rule_generation[r] == generation {
                        rule_hits[r] = rule_hits[r].saturating_add(1);
                    } else {
                        rule_generation[r] = generation;
                        rule_hits[r] = 1;
                    }
                    if rule_hits[r] == prefilters.clause_count[r] && combo.has(r) {
                        ready.push(r as u32);
                    }
                }
            }
        };
        // The literals are ASCII-lowercase (see `required_literal`) and the automata
        // case-sensitive, which lets them skip ahead with SIMD: each value is scanned in
        // its ASCII-lowercase form, which holds a literal wherever the value holds it in
        // any ASCII case.
        let lower = &mut self.lower;
        let memo = &mut self.memo;
        // Keyword literals may occur in any value: the values are gathered, separated by
        // a NUL, and scanned at once (a literal found across two values only keeps a rule
        // that cannot match, which evaluation then rejects).
        let keyword_text = &mut self.keyword_text;
        keyword_text.clear();
        // An event that keeps all its text values in one buffer has it scanned at once
        // for keyword literals that cannot occur in numbers (other text in the buffer
        // only keeps rules that evaluation then rejects).
        let whole = keyword
            .filter(|g| !g.in_numbers())
            .and_then(|_| event.text_of_values());
        let keyword = keyword.filter(|_| whole.is_none());
        if let (Some(text), Some(g)) = (whole, combo.keyword) {
            keyword_text.extend_from_slice(text.as_bytes());
            keyword_text.make_ascii_lowercase();
            prefilters.groups[g as usize].each(keyword_text, &mut stamp);
            keyword_text.clear();
        }
        if combo.fields.is_empty() && keyword.is_none() {
            return;
        }
        event.for_each_field_hashed(&mut |hash, _, value| {
            let own = combo
                .group_of(u64::from(hash))
                .map(|g| (g, &prefilters.groups[g as usize]));
            let text = matches!(value, FieldValue::Str(_));
            // The text of a number or boolean holds only literals made of its characters.
            let own = own.filter(|(_, g)| text || g.in_numbers());
            let keyword = keyword.filter(|g| text || g.in_numbers());
            if own.is_none() && keyword.is_none() {
                return;
            }
            let hay: &str = match &value {
                FieldValue::Str(s) => s,
                FieldValue::Null => return,
                other => {
                    number.clear();
                    write_number(other, number);
                    number
                }
            };
            // The lowercase value goes where the keyword scan wants it, or to scratch.
            let buffer = if keyword.is_some() {
                &mut *keyword_text
            } else {
                &mut *lower
            };
            if keyword.is_none() {
                buffer.clear();
            }
            let start = buffer.len();
            buffer.extend_from_slice(hay.as_bytes());
            buffer[start..].make_ascii_lowercase();
            if let Some((g, group)) = own {
                memo.each(g, group, &buffer[start..], &mut stamp);
            }
            if keyword.is_some() {
                buffer.push(0);
            }
        });
        if let Some(group) = keyword {
            group.each(keyword_text, &mut stamp);
        }
    }

    fn eval(&mut self, node: &Node, event: &dyn Event) -> bool {
        match node {
            Node::Const(b) => *b,
            Node::Pred(i) => self.pred(*i, event),
            Node::Not(n) => !self.eval(n, event),
            Node::And(v) => v.iter().all(|n| self.eval(n, event)),
            Node::Or(v) => v.iter().any(|n| self.eval(n, event)),
        }
    }

    fn pred(&mut self, i: u32, event: &dyn Event) -> bool {
        let i = i as usize;
        if self.pred_generation[i] == self.generation {
            return self.pred_result[i];
        }
        let engine = self.engine;
        let p: &CompiledPred = &engine.preds.preds[i];
        let result = match p.field {
            Some(f) => {
                let slot = self.field(f, event);
                self.test_pred(&p.test, slot, event)
            }
            None => self.keyword(&p.test, event),
        };
        self.pred_generation[i] = self.generation;
        self.pred_result[i] = result;
        result
    }

    fn test_pred(&mut self, test: &PredTest, slot: Slot, event: &dyn Event) -> bool {
        if slot.extra.0 < slot.extra.1 {
            return self.test_multi(test, slot, event);
        }
        match test {
            PredTest::Any(v) => v.iter().any(|t| self.test_value(t, slot, event)),
            PredTest::All(v) => v.iter().all(|t| self.test_value(t, slot, event)),
            PredTest::NotEquals(v) => {
                slot.present && !v.iter().any(|t| self.test_value(t, slot, event))
            }
        }
    }

    /// A multi-valued field matches when any of its values does (for `all`: when each
    /// value of the rule matches one of them; for `neq`: when none equals a value).
    fn test_multi(&mut self, test: &PredTest, first: Slot, event: &dyn Event) -> bool {
        let (a, b) = first.extra;
        let some_value = |scan: &mut Self, t: &ValueTest| {
            scan.test_value(t, first, event)
                || (a..b).any(|k| {
                    let slot = scan.multi[k as usize];
                    scan.test_value(t, slot, event)
                })
        };
        match test {
            PredTest::Any(v) => v.iter().any(|t| some_value(self, t)),
            PredTest::All(v) => v.iter().all(|t| some_value(self, t)),
            PredTest::NotEquals(v) => !v.iter().any(|t| some_value(self, t)),
        }
    }

    /// A keyword search: each value of the predicate must (`all`) or may match any
    /// value of the event.
    fn keyword(&mut self, test: &PredTest, event: &dyn Event) -> bool {
        self.load_values(event);
        self.fold_values();
        let n = self.values.len();
        let any_value = |scan: &mut Self, t: &ValueTest| {
            (0..n).any(|k| {
                let slot = scan.values[k];
                scan.test_value(t, slot, event)
            })
        };
        match test {
            PredTest::Any(v) => v.iter().any(|t| any_value(self, t)),
            PredTest::All(v) => v.iter().all(|t| any_value(self, t)),
            PredTest::NotEquals(v) => !v.iter().any(|t| any_value(self, t)),
        }
    }

    fn test_value(&mut self, test: &ValueTest, slot: Slot, event: &dyn Event) -> bool {
        match test {
            ValueTest::Absent => return !slot.present,
            ValueTest::Present => return slot.present,
            _ if !slot.present => return false,
            _ => {}
        }
        match test {
            // Decided above, before the field had to be present.
            ValueTest::Absent | ValueTest::Present => false,
            ValueTest::Literals(set) => {
                let text = &self.text[slot.folded.0 as usize..slot.folded.1 as usize];
                set.is_match(text, &mut self.reversed)
            }
            ValueTest::Text { alts, cased } => {
                let text = if *cased {
                    self.orig(slot)
                } else {
                    self.folded(slot)
                };
                alts.iter().any(|m| m.is_match(text))
            }
            ValueTest::Regex(re) => re.is_match(self.orig(slot)),
            ValueTest::Phrase(phrase) => phrase.is_match(self.folded(slot)),
            ValueTest::Bool(b) => {
                if let Kind::Bool(x) = slot.kind {
                    return x == *b;
                }
                let t = self.folded(slot);
                if *b {
                    t == "true" || t == "1"
                } else {
                    t == "false" || t == "0"
                }
            }
            ValueTest::Number { op, n } => self.number(slot).is_some_and(|x| compare(*op, x, *n)),
            ValueTest::Cidr(net) => self
                .orig(slot)
                .trim()
                .parse::<IpAddr>()
                .is_ok_and(|ip| net.contains(&ip)),
            ValueTest::FieldRef { op, other, cased } => {
                let o = self.field(*other, event);
                if !o.present {
                    return false;
                }
                let (a, b) = if *cased {
                    (self.orig(slot), self.orig(o))
                } else {
                    (self.folded(slot), self.folded(o))
                };
                match op {
                    Op::Contains => a.contains(b),
                    Op::StartsWith => a.starts_with(b),
                    Op::EndsWith => a.ends_with(b),
                    _ => a == b,
                }
            }
            ValueTest::TimePart { part, op, n } => parse_timestamp(self.orig(slot))
                .is_some_and(|t| compare(*op, time_part(t, *part) as f64, *n)),
        }
    }

    fn number(&self, slot: Slot) -> Option<f64> {
        match slot.kind {
            Kind::Num(x) => Some(x),
            Kind::Bool(_) => None,
            Kind::Str => self.orig(slot).trim().parse().ok(),
        }
    }

    fn orig(&self, slot: Slot) -> &str {
        &self.text[slot.orig.0 as usize..slot.orig.1 as usize]
    }

    fn folded(&self, slot: Slot) -> &str {
        &self.text[slot.folded.0 as usize..slot.folded.1 as usize]
    }

    /// The cached value of field `f`, read from the event on first use.
    fn field(&mut self, f: FieldId, event: &dyn Event) -> Slot {
        let cached = self.fields[f as usize];
        if cached.generation == self.generation {
            return cached;
        }
        let name = &self.engine.fields.names[f as usize];
        let hash = self.engine.fields.hashes[f as usize];
        let text = &mut self.text;
        let multi = &mut self.multi;
        let start = multi.len();
        let mut first: Option<Slot> = None;
        event.for_each_value_hashed(name, hash, &mut |v| {
            let s = store(text, &v, true);
            if !s.present {
                return;
            }
            if first.is_none() {
                first = Some(s);
            } else {
                multi.push(s);
            }
        });
        let mut slot = first.unwrap_or(Slot::EMPTY);
        slot.extra = (start as u32, multi.len() as u32);
        slot.generation = self.generation;
        self.fields[f as usize] = slot;
        slot
    }

    /// Reads every value of the event (original text only; see [`Scan::fold_values`]).
    fn load_values(&mut self, event: &dyn Event) {
        if self.values_loaded {
            return;
        }
        self.values_loaded = true;
        let text = &mut self.text;
        let values = &mut self.values;
        event.for_each_field(&mut |_, v| {
            let slot = store(text, &v, false);
            if slot.present {
                values.push(slot);
            }
        });
    }

    fn fold_values(&mut self) {
        if self.values_folded {
            return;
        }
        self.values_folded = true;
        for k in 0..self.values.len() {
            let mut slot = self.values[k];
            let (a, b) = slot.orig;
            let orig = &self.text[a as usize..b as usize];
            if is_folded(orig) {
                slot.folded = slot.orig;
            } else {
                let start = self.text.len();
                let owned = orig.to_string();
                fold_into(&owned, &mut self.text);
                slot.folded = (start as u32, self.text.len() as u32);
            }
            self.values[k] = slot;
        }
    }

    fn record_hit(&mut self, c: u32, base: u32, event: &dyn Event) {
        let engine = self.engine;
        let corr = &engine.correlations[c as usize];
        let summary = EventSummary::of(event, &engine.options.summary_fields);
        let Some(time) = summary.timestamp.as_deref().and_then(parse_timestamp) else {
            self.hits.untimed += 1;
            return;
        };
        let text_of = |name: &str| {
            event
                .get(name)
                .and_then(|v| v.as_text().map(std::borrow::Cow::into_owned))
        };
        let group = corr.group_fields[base as usize]
            .iter()
            .map(|g| text_of(g))
            .collect();
        let value = corr.value_fields[base as usize]
            .as_deref()
            .and_then(text_of);
        self.hits.hits.push(Hit {
            key: WindowKey {
                correlation: c,
                group,
            },
            hit: WindowHit {
                base,
                time,
                value,
                summary,
                source: self.source.clone(),
            },
        });
    }
}

/// Appends the text of a number or boolean, as [`FieldValue::as_text`] gives it.
fn write_number(value: &FieldValue<'_>, out: &mut String) {
    let _ = match value {
        FieldValue::Int(i) => {
            out.push_str(itoa::Buffer::new().format(*i));
            Ok(())
        }
        FieldValue::UInt(u) => {
            out.push_str(itoa::Buffer::new().format(*u));
            Ok(())
        }
        FieldValue::Float(f) => write!(out, "{f}"),
        FieldValue::Bool(b) => write!(out, "{b}"),
        FieldValue::Str(s) => write!(out, "{s}"),
        FieldValue::Null => Ok(()),
    };
}

/// Stores a field value's text in `text`; with `fold`, its folded form too.
fn store(text: &mut String, v: &FieldValue<'_>, fold: bool) -> Slot {
    let start = text.len();
    let kind = match v {
        FieldValue::Null => return Slot::EMPTY,
        FieldValue::Str(s) => {
            text.push_str(s);
            Kind::Str
        }
        // Integers are stored for every event (event and process ids): `itoa` writes them
        // without the formatting machinery.
        FieldValue::Int(i) => {
            text.push_str(itoa::Buffer::new().format(*i));
            Kind::Num(*i as f64)
        }
        FieldValue::UInt(u) => {
            text.push_str(itoa::Buffer::new().format(*u));
            Kind::Num(*u as f64)
        }
        FieldValue::Float(f) => {
            let _ = write!(text, "{f}");
            Kind::Num(*f)
        }
        FieldValue::Bool(b) => {
            text.push_str(if *b { "true" } else { "false" });
            Kind::Bool(*b)
        }
    };
    let orig = (start as u32, text.len() as u32);
    let folded = if !fold || is_folded(&text[start..]) {
        orig
    } else {
        let f_start = text.len();
        // Only text can be unfolded: numbers and booleans render in lowercase.
        if let FieldValue::Str(s) = v {
            fold_into(s, text);
        }
        (f_start as u32, text.len() as u32)
    };
    Slot {
        generation: 0,
        present: true,
        kind,
        orig,
        folded,
        extra: (0, 0),
    }
}

// Numbers in rules are exact (`EventID: 4688`, `gte: 2.5`): equality is meant exactly.
#[allow(clippy::float_cmp)]
fn compare(op: Op, x: f64, n: f64) -> bool {
    match op {
        Op::Lt => x < n,
        Op::Lte => x <= n,
        Op::Gt => x > n,
        Op::Gte => x >= n,
        _ => x == n,
    }
}

#[cfg(test)]
mod numbers {
    use super::{FieldValue, write_number};

    #[test]
    fn integers_are_written_as_rust_writes_them() {
        for i in [
            0,
            1,
            -1,
            9,
            10,
            -10,
            4688,
            i64::MAX,
            i64::MIN,
            -9_223_372_036_854_775_807,
        ] {
            let mut out = String::from("x");
            write_number(&FieldValue::Int(i), &mut out);
            assert_eq!(out, format!("x{i}"));
        }
        for u in [0, 7, 100, u64::from(u32::MAX), u64::MAX] {
            let mut out = String::new();
            write_number(&FieldValue::UInt(u), &mut out);
            assert_eq!(out, u.to_string());
        }
    }
}
