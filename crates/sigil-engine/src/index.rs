//! The rule index by logsource: an event meets only the rules that can match its
//! `Channel` and `EventID`.
//!
//! Pipelines turn a rule's logsource into conditions on `Channel` and `EventID` that are
//! and-ed to the whole condition. Such a top-level conjunct is a necessary condition, so
//! it is taken out of the rule and becomes its key in the index: the conjunct is then
//! decided once per event (one hash lookup) instead of once per rule. Rules without
//! such conjuncts sit in the catch-all buckets and meet every event.

use rustc_hash::FxHashMap as HashMap;

use sigil_core::{Expr, Predicate, Value};

use crate::fold::fold;

/// One level of the index: rules by event id, and rules for any event id.
#[derive(Debug, Default)]
pub(crate) struct Bucket {
    pub(crate) by_event_id: HashMap<i64, Vec<u32>>,
    pub(crate) any_event_id: Vec<u32>,
    /// The combination of lists an event id meets, numbered (see
    /// [`LogsourceIndex::finalize`]).
    combos: HashMap<i64, u32>,
    combo_other: u32,
}

impl Bucket {
    fn insert(&mut self, event_ids: Option<&[i64]>, rule: u32) {
        match event_ids {
            Some(ids) => {
                for &id in ids {
                    self.by_event_id.entry(id).or_default().push(rule);
                }
            }
            None => self.any_event_id.push(rule),
        }
    }

    /// The two lists an event with `event_id` meets.
    pub(crate) fn lists(&self, event_id: Option<i64>) -> [&[u32]; 2] {
        let by_id = event_id
            .and_then(|id| self.by_event_id.get(&id))
            .map_or(&[][..], Vec::as_slice);
        [by_id, &self.any_event_id]
    }
}

/// Rules by folded channel name, then by event id.
#[derive(Debug, Default)]
pub(crate) struct LogsourceIndex {
    pub(crate) by_channel: HashMap<String, Bucket>,
    pub(crate) any_channel: Bucket,
}

impl LogsourceIndex {
    pub(crate) fn insert(&mut self, key: &LogsourceKey, rule: u32) {
        let ids = key.event_ids.as_deref();
        match &key.channels {
            Some(channels) => {
                for c in channels {
                    self.by_channel
                        .entry(c.clone())
                        .or_default()
                        .insert(ids, rule);
                }
            }
            None => self.any_channel.insert(ids, rule),
        }
    }

    /// The rule lists an event meets (at most four, disjoint), and the number of that
    /// combination of lists.
    pub(crate) fn lists(&self, channel: Option<&str>, event_id: Option<i64>) -> ([&[u32]; 4], u32) {
        let bucket = channel.and_then(|c| self.by_channel.get(c));
        let [a, b] = bucket.map_or([&[][..], &[][..]], |bucket| bucket.lists(event_id));
        let [c, d] = self.any_channel.lists(event_id);
        let numbered = bucket.unwrap_or(&self.any_channel);
        let combo = event_id
            .and_then(|id| numbered.combos.get(&id).copied())
            .unwrap_or(numbered.combo_other);
        ([a, b, c, d], combo)
    }

    /// Numbers every combination of lists an event can meet and returns the rules of
    /// each: per channel, each event id some list names plus one for any other id; the
    /// same for events of no indexed channel. The prefilter scans, for each combination,
    /// only the fields (and keyword literals) of the rules an event there can meet.
    pub(crate) fn finalize(&mut self) -> Vec<Vec<u32>> {
        let any_ids: Vec<i64> = self.any_channel.by_event_id.keys().copied().collect();
        let mut combos: Vec<Vec<u32>> = Vec::new();
        let mut number = |bucket: &mut Bucket, any: &Bucket, in_channel: bool| {
            let mut ids: Vec<i64> = bucket
                .by_event_id
                .keys()
                .copied()
                .chain(any_ids.iter().copied())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let rules = |id: Option<i64>, bucket: &Bucket| {
                let own = if in_channel {
                    bucket.lists(id)
                } else {
                    [&[][..], &[][..]]
                };
                let [c, d] = any.lists(id);
                own.iter()
                    .chain([c, d].iter())
                    .flat_map(|l| l.iter().copied())
                    .collect::<Vec<u32>>()
            };
            for id in ids {
                let r = rules(Some(id), bucket);
                bucket.combos.insert(id, combos.len() as u32);
                combos.push(r);
            }
            let r = rules(None, bucket);
            bucket.combo_other = combos.len() as u32;
            combos.push(r);
        };
        let any_snapshot = Bucket {
            by_event_id: self.any_channel.by_event_id.clone(),
            any_event_id: self.any_channel.any_event_id.clone(),
            combos: HashMap::default(),
            combo_other: 0,
        };
        for bucket in self.by_channel.values_mut() {
            number(bucket, &any_snapshot, true);
        }
        number(&mut self.any_channel, &any_snapshot, false);
        combos
    }
}

/// The logsource constraints taken out of a rule.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct LogsourceKey {
    /// Folded channel names, one of which the event's channel must equal.
    pub(crate) channels: Option<Vec<String>>,
    /// Event ids, one of which the event's must equal.
    pub(crate) event_ids: Option<Vec<i64>>,
}

/// Splits the top-level `Channel` and `EventID` equality conjuncts off a flattened
/// expression. The rest is returned; with the key it means the same as `expr`.
pub(crate) fn take_logsource(
    expr: Expr,
    channel_field: &str,
    event_id_field: &str,
) -> (LogsourceKey, Expr) {
    let conjuncts = match expr {
        Expr::And(v) => v,
        other => vec![other],
    };
    let mut key = LogsourceKey::default();
    let mut rest = Vec::with_capacity(conjuncts.len());
    for c in conjuncts {
        if key.channels.is_none()
            && let Some(set) = equality_set(&c, channel_field, channel_value)
        {
            key.channels = Some(set);
            continue;
        }
        if key.event_ids.is_none()
            && let Some(set) = equality_set(&c, event_id_field, event_id_value)
        {
            key.event_ids = Some(set);
            continue;
        }
        rest.push(c);
    }
    (key, Expr::And(rest))
}

/// The values of a conjunct that says `field` equals one of a set of plain values: a
/// predicate, or an `Or` of predicates on that field.
fn equality_set<T>(e: &Expr, field: &str, value: fn(&Value) -> Option<T>) -> Option<Vec<T>> {
    let preds: Vec<&Predicate> = match e {
        Expr::Pred(p) => vec![p],
        Expr::Or(v) if !v.is_empty() => v
            .iter()
            .map(|c| match c {
                Expr::Pred(p) => Some(p),
                _ => None,
            })
            .collect::<Option<_>>()?,
        _ => return None,
    };
    let mut out = Vec::new();
    for p in preds {
        let f = &p.flags;
        let plain = p.op == sigil_core::Op::Equals
            && !f.cased
            && f.encodings.is_empty()
            && !f.windash
            && !f.expand
            && f.time_part.is_none()
            && (!f.all || p.values.len() == 1);
        if !plain
            || !p
                .field
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(field))
        {
            return None;
        }
        for v in &p.values {
            out.push(value(v)?);
        }
    }
    (!out.is_empty()).then_some(out)
}

fn channel_value(v: &Value) -> Option<String> {
    match v {
        Value::Str(p) => p.as_literal().map(fold),
        _ => None,
    }
}

fn event_id_value(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Str(p) => canonical_int(p.as_literal()?),
        _ => None,
    }
}

/// The integer whose decimal text is exactly `text` (so that an index lookup by number
/// agrees with Sigma's comparison of a number with text).
pub(crate) fn canonical_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0";
    if canonical { text.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigil_core::Op;

    fn eq(field: &str, values: Vec<Value>) -> Expr {
        Expr::Pred(Predicate::new(Some(field.into()), Op::Equals, values))
    }

    #[test]
    fn takes_channel_and_event_id_conjuncts() {
        let e = Expr::And(vec![
            eq("Image", vec![Value::str("x")]),
            eq(
                "Channel",
                vec![Value::str("Microsoft-Windows-Sysmon/Operational")],
            ),
            Expr::Or(vec![
                eq("EventID", vec![Value::Int(1)]),
                eq("EventID", vec![Value::str("4688")]),
            ]),
        ]);
        let (key, rest) = take_logsource(e, "Channel", "EventID");
        assert_eq!(
            key.channels,
            Some(vec!["microsoft-windows-sysmon/operational".into()])
        );
        assert_eq!(key.event_ids, Some(vec![1, 4688]));
        assert_eq!(rest, Expr::And(vec![eq("Image", vec![Value::str("x")])]));
    }

    #[test]
    fn leaves_wildcards_and_negations() {
        let e = Expr::And(vec![
            eq(
                "Channel",
                vec![Value::Str(sigil_core::Pattern::parse_sigma(
                    "Micro*", false,
                ))],
            ),
            Expr::Not(Box::new(eq("EventID", vec![Value::Int(1)]))),
            eq("EventID", vec![Value::str("04688")]),
        ]);
        let (key, rest) = take_logsource(e.clone(), "Channel", "EventID");
        assert_eq!(key, LogsourceKey::default());
        assert_eq!(rest, e);
    }

    #[test]
    fn canonical_ints() {
        assert_eq!(canonical_int("4688"), Some(4688));
        assert_eq!(canonical_int("-5"), Some(-5));
        assert_eq!(canonical_int("0"), Some(0));
        assert_eq!(canonical_int("04688"), None);
        assert_eq!(canonical_int("+1"), None);
        assert_eq!(canonical_int("-0"), None);
        assert_eq!(canonical_int(""), None);
    }
}
