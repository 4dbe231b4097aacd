//! A detection as hunting reports it, and its JSON line.

use std::sync::Arc;

use sigil_core::Level;
use sigil_engine::{Detection, Matched, SummaryFields};
use sigil_logs::{Event, FieldValue};

/// One detection, owned: the rule, the event's identifying fields and the event itself
/// as JSON. This is what `sigil hunt` writes, one JSON line each.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The rule's id.
    pub rule_id: Option<String>,
    /// The rule's title.
    pub title: String,
    /// The rule's level.
    pub level: Option<Level>,
    /// The rule's tags.
    pub tags: Vec<String>,
    /// When the event happened, as the event writes it.
    pub timestamp: Option<String>,
    /// The computer that logged it.
    pub computer: Option<String>,
    /// The event log channel.
    pub channel: Option<String>,
    /// The event id.
    pub event_id: Option<i64>,
    /// The record number in its log.
    pub record_id: Option<i64>,
    /// The log the event came from.
    pub source: Option<String>,
    /// The fields that matter for the event's kind, on one line (see [`crate::Details`]);
    /// empty when there is no template for it.
    pub details: String,
    /// The event's fields as a compact JSON object (see [`event_json`]), shared by the
    /// findings of one event; for a correlation, the correlation and its events.
    pub event: Arc<str>,
}

impl Finding {
    /// The finding of a detection. `json` keeps the JSON of the matched event, so that
    /// the findings of one event share it: pass the same `None` for every detection of
    /// one event.
    pub fn of(d: &Detection<'_>, fields: &SummaryFields, json: &mut Option<Arc<str>>) -> Self {
        let summary = d.summary(fields);
        let details = match d.matched {
            Matched::Event(_) => String::new(),
            Matched::Correlation(c) => correlation_details(c),
        };
        let event = match d.matched {
            Matched::Event(e) => Arc::clone(json.get_or_insert_with(|| event_json(e).into())),
            Matched::Correlation(c) => serde_json::json!({
                "correlation": c.kind.name(),
                "group": c.group.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
                "value": c.value,
                "events": c.events.iter().map(|e| serde_json::json!({
                    "rule_id": e.rule.id,
                    "rule_title": e.rule.title,
                    "timestamp": e.summary.timestamp,
                    "computer": e.summary.computer,
                    "event_id": e.summary.event_id,
                    "record_id": e.summary.record_id,
                    "source": e.source.as_deref(),
                })).collect::<Vec<_>>(),
            })
            .to_string()
            .into(),
        };
        Self {
            rule_id: d.rule.id.clone(),
            title: d.rule.title.clone(),
            level: d.rule.level,
            tags: d.rule.tags.clone(),
            timestamp: summary.timestamp,
            computer: summary.computer,
            channel: summary.channel,
            event_id: summary.event_id,
            record_id: summary.record_id,
            source: d.source.map(str::to_string),
            details,
            event,
        }
    }

    /// Appends the finding's JSON line (with its newline) to `line`: the keys `rule_id,
    /// rule_title, level, tags, timestamp, computer, channel, event_id, record_id, source,
    /// details, event`, in this order.
    pub fn write_jsonl(&self, line: &mut Vec<u8>) {
        let start = line.len();
        let key = |line: &mut Vec<u8>, name: &str| {
            line.push(if line.len() == start { b'{' } else { b',' });
            write_json(line, name);
            line.push(b':');
        };
        key(line, "rule_id");
        write_json(line, &self.rule_id);
        key(line, "rule_title");
        write_json(line, &self.title);
        key(line, "level");
        write_json(line, &self.level.map(Level::name));
        key(line, "tags");
        write_json(line, &self.tags);
        key(line, "timestamp");
        write_json(line, &self.timestamp);
        key(line, "computer");
        write_json(line, &self.computer);
        key(line, "channel");
        write_json(line, &self.channel);
        key(line, "event_id");
        write_json(line, &self.event_id);
        key(line, "record_id");
        write_json(line, &self.record_id);
        key(line, "source");
        write_json(line, &self.source);
        key(line, "details");
        write_json(line, &self.details);
        key(line, "event");
        line.extend_from_slice(self.event.as_bytes());
        line.extend_from_slice(b"}\n");
    }
}

/// What a correlation measured and for which group, on one line.
fn correlation_details(c: &sigil_engine::CorrelationMatch) -> String {
    let mut parts = vec![format!(
        "{}: {} ({} event{})",
        c.kind.name(),
        c.value,
        c.events.len(),
        if c.events.len() == 1 { "" } else { "s" }
    )];
    for (name, value) in &c.group {
        parts.push(format!("{name}: {}", value.as_deref().unwrap_or("-")));
    }
    parts.join(crate::details::SEPARATOR)
}

/// The event's fields as one compact JSON object, in the event's order; repeated names
/// (JSON arrays flattened by the reader) become arrays again, in the first one's place.
pub fn event_json(event: &dyn Event) -> String {
    // Names are almost always distinct: write straight through, and gather repeated
    // names only when one shows up. Names are compared by their hash first (equal names
    // have equal hashes).
    let mut out = Vec::with_capacity(1024);
    let mut names = String::new();
    let mut seen: Vec<(u32, usize, usize)> = Vec::with_capacity(64);
    let mut repeated = false;
    out.push(b'{');
    event.for_each_field_hashed(&mut |hash, name, value| {
        if repeated {
            return;
        }
        if seen
            .iter()
            .any(|&(h, start, end)| h == hash && &names[start..end] == name)
        {
            repeated = true;
            return;
        }
        seen.push((hash, names.len(), names.len() + name.len()));
        names.push_str(name);
        if out.len() > 1 {
            out.push(b',');
        }
        write_json(&mut out, name);
        out.push(b':');
        write_json_value(&mut out, &value);
    });
    if repeated {
        return event_json_grouped(event);
    }
    out.push(b'}');
    String::from_utf8(out).unwrap_or_default()
}

/// [`event_json`] for events with repeated names.
fn event_json_grouped(event: &dyn Event) -> String {
    let mut map = serde_json::Map::new();
    event.for_each_field(&mut |name, value| {
        let v = json_value(&value);
        match map.get_mut(name) {
            None => {
                map.insert(name.to_string(), v);
            }
            Some(serde_json::Value::Array(a)) => a.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = serde_json::Value::Array(vec![first, v]);
            }
        }
    });
    serde_json::Value::Object(map).to_string()
}

/// A field value as a JSON value (a non-finite float is `null`).
pub fn json_value(value: &FieldValue<'_>) -> serde_json::Value {
    match value {
        FieldValue::Str(s) => serde_json::Value::String(s.to_string()),
        FieldValue::Int(i) => (*i).into(),
        FieldValue::UInt(u) => (*u).into(),
        FieldValue::Float(f) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        FieldValue::Bool(b) => (*b).into(),
        FieldValue::Null => serde_json::Value::Null,
    }
}

/// Writes a value as serde_json does (a non-finite float is `null`).
fn write_json_value(out: &mut Vec<u8>, value: &FieldValue<'_>) {
    match value {
        FieldValue::Str(s) => write_json(out, s.as_ref()),
        FieldValue::Int(i) => write_json(out, i),
        FieldValue::UInt(u) => write_json(out, u),
        FieldValue::Float(f) if f.is_finite() => write_json(out, f),
        FieldValue::Float(_) | FieldValue::Null => out.extend_from_slice(b"null"),
        FieldValue::Bool(b) => write_json(out, b),
    }
}

/// Writes `value` as compact JSON (writing to memory cannot fail).
fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let _ = serde_json::to_writer(out, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigil_logs::FlatEvent;

    fn event(fields: &[(&str, FieldValue<'_>)]) -> FlatEvent {
        let mut e = FlatEvent::new();
        for (name, value) in fields {
            e.push(name, value.clone());
        }
        e
    }

    #[test]
    fn event_json_keeps_order_and_regroups_arrays() {
        let e = event(&[
            ("b", FieldValue::Int(1)),
            ("a", FieldValue::Str("x".into())),
            ("list", FieldValue::Str("p".into())),
            ("f", FieldValue::Float(1.5)),
            ("list", FieldValue::Str("q".into())),
            ("n", FieldValue::Null),
        ]);
        assert_eq!(
            event_json(&e),
            r#"{"b":1,"a":"x","list":["p","q"],"f":1.5,"n":null}"#
        );
        let plain = event(&[
            ("Image", FieldValue::Str(r#"C:\a "b".exe"#.into())),
            ("EventID", FieldValue::UInt(1)),
        ]);
        assert_eq!(
            event_json(&plain),
            r#"{"Image":"C:\\a \"b\".exe","EventID":1}"#
        );
    }

    #[test]
    fn json_lines_have_every_key_in_order() {
        let f = Finding {
            rule_id: Some("id".into()),
            title: "T \"q\"".into(),
            level: Some(Level::High),
            tags: vec!["attack.t1047".into()],
            timestamp: None,
            computer: Some("PC".into()),
            channel: None,
            event_id: Some(1),
            record_id: Some(7),
            source: Some("a.evtx".into()),
            details: "Cmdline: x".into(),
            event: Arc::from("{\"x\":1}"),
        };
        let mut line = b"previous\n".to_vec();
        f.write_jsonl(&mut line);
        let text = String::from_utf8(line).expect("UTF-8");
        let written = text.strip_prefix("previous\n").expect("appended");
        let value: serde_json::Value = serde_json::from_str(written).expect("one JSON line");
        let keys: Vec<&str> = value
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "rule_id",
                "rule_title",
                "level",
                "tags",
                "timestamp",
                "computer",
                "channel",
                "event_id",
                "record_id",
                "source",
                "details",
                "event"
            ]
        );
        assert_eq!(value["event"]["x"], 1);
        assert_eq!(value["rule_title"], "T \"q\"");
        assert!(written.ends_with('\n'));
    }
}
