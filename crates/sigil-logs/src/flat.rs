//! [`FlatEvent`]: an event flattened into a compact list of `(name, value)` fields.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::evtx_model::MODEL_NAMES;
use crate::tree::Span;
use crate::{Event, FieldValue};

/// A stored field value; text lives in the event's text buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value {
    Str(Span),
    Int(i64),
    UInt(u64),
    Float(f64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    /// A span of the text buffer, or a name of the EVTX model (see [`STATIC_NAME`]).
    pub(crate) name: Span,
    /// Hash of the ASCII-lowercased name: lookups compare it before comparing text.
    pub(crate) hash: u32,
    pub(crate) value: Value,
}

/// Set in a field name's `start` when the name is not in the text buffer but is the name of
/// index `start & !STATIC_NAME` in [`MODEL_NAMES`]: the names the EVTX model gives every event
/// (`EventID`, `Provider_Name`, ...) are not copied into each event.
pub(crate) const STATIC_NAME: u32 = 1 << 31;

/// The span that stands for `MODEL_NAMES[index]`.
pub(crate) const fn static_name(index: usize) -> Span {
    Span {
        start: STATIC_NAME | index as u32,
        end: STATIC_NAME | index as u32,
    }
}

/// One event as a flat list of fields, every name and text value in one buffer.
///
/// This is what both sources hand to their callers. The buffers are reused from one record to
/// the next, so reading allocates nothing per event once they have grown (an EVTX event takes
/// the buffer the `evtx` crate renders its record into instead); lookups are a linear scan over
/// a few dozen precomputed name hashes, which is faster than a hash map at this size.
///
/// Field names are unique ASCII-case-insensitively for EVTX events. JSON events keep one field
/// per array element under the same dotted name, so a name can repeat there:
/// [`Event::get`] returns the first, [`Event::for_each_value`] all of them.
#[derive(Debug, Clone, Default)]
pub struct FlatEvent {
    text: String,
    fields: Vec<Field>,
}

/// FNV-1a over the ASCII-lowercased bytes, spaces left out (see [`same_name`]): names are
/// short, and this needs no table.
pub const fn name_hash(name: &str) -> u32 {
    name_hash_bytes(name.as_bytes())
}

/// [`name_hash`] of a name given as bytes.
pub(crate) const fn name_hash_bytes(name: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < name.len() {
        let b = name[i];
        i += 1;
        if b == b' ' {
            continue;
        }
        hash ^= b.to_ascii_lowercase() as u32;
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// Whether two field names are the same, ignoring ASCII case and spaces.
///
/// Some providers name their data with spaces (Windows Defender's `Threat Name`, `Source
/// Name`, `Process Name`), and Sigma rules write those names without them (`ThreatName`), as
/// SigmaHQ's own regression samples expect.
pub fn same_name(a: &str, b: &str) -> bool {
    same_name_bytes(a.as_bytes(), b.as_bytes())
}

/// [`same_name`] of names given as bytes.
pub(crate) fn same_name_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let mut a = a.iter().filter(|&&c| c != b' ');
    let mut b = b.iter().filter(|&&c| c != b' ');
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
            _ => return false,
        }
    }
}

impl FlatEvent {
    /// An empty event.
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes every field, keeping the buffers.
    pub fn clear(&mut self) {
        self.text.clear();
        self.fields.clear();
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the event has no field.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields in order, as `(name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, FieldValue<'_>)> {
        self.fields
            .iter()
            .map(|f| (self.name(f.name), self.field_value(f.value)))
    }

    /// The text of a field name.
    fn name(&self, name: Span) -> &str {
        if name.start & STATIC_NAME == 0 {
            name.get(&self.text)
        } else {
            MODEL_NAMES
                .get((name.start & !STATIC_NAME) as usize)
                .copied()
                .unwrap_or_default()
        }
    }

    /// Adds a field. Names may repeat; use [`FlatEvent::contains`] first to keep them unique.
    pub fn push(&mut self, name: &str, value: FieldValue<'_>) {
        let name = self.push_text(name);
        let value = match value {
            FieldValue::Str(s) => Value::Str(self.push_text(&s)),
            FieldValue::Int(i) => Value::Int(i),
            FieldValue::UInt(u) => Value::UInt(u),
            FieldValue::Float(f) => Value::Float(f),
            FieldValue::Bool(b) => Value::Bool(b),
            FieldValue::Null => Value::Null,
        };
        self.push_spans(name, value);
    }

    /// Whether a field of this name exists, ignoring ASCII case.
    pub fn contains(&self, name: &str) -> bool {
        self.find(name_hash(name), name).is_some()
    }

    /// The text buffer, for builders that write names and values straight into it.
    pub(crate) fn text_mut(&mut self) -> &mut String {
        &mut self.text
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The fields, for builders that write them directly (the EVTX model); names and values
    /// must be spans of the text set with [`FlatEvent::set_text`] afterwards.
    pub(crate) fn fields_mut(&mut self) -> &mut Vec<Field> {
        &mut self.fields
    }

    /// Replaces the text buffer (the previous one is dropped).
    pub(crate) fn set_text(&mut self, text: String) {
        self.text = text;
    }

    /// The value of the field at `index`.
    pub(crate) fn value_at(&self, index: usize) -> Option<Value> {
        self.fields.get(index).map(|f| f.value)
    }

    /// Appends `s` to the text buffer and returns where it is.
    pub(crate) fn push_text(&mut self, s: &str) -> Span {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Span {
            start,
            end: self.text.len() as u32,
        }
    }

    /// Adds a field whose name and value are already in the text buffer.
    pub(crate) fn push_spans(&mut self, name: Span, value: Value) {
        let hash = name_hash(self.name(name));
        self.fields.push(Field { name, hash, value });
    }

    /// The first field value of this name (exact name match first is not needed: names
    /// compare case-insensitively, as the reference model does).
    pub(crate) fn value_of(&self, name: &str) -> Option<Value> {
        self.find(name_hash(name), name)
            .map(|i| self.fields[i].value)
    }

    /// The text of a string field (`None` for other kinds or absent fields).
    pub(crate) fn str_of(&self, name: &str) -> Option<&str> {
        match self.value_of(name)? {
            Value::Str(s) => Some(s.get(&self.text)),
            _ => None,
        }
    }

    fn find(&self, hash: u32, name: &str) -> Option<usize> {
        self.fields
            .iter()
            .position(|f| f.hash == hash && same_name(self.name(f.name), name))
    }

    fn field_value(&self, value: Value) -> FieldValue<'_> {
        match value {
            Value::Str(s) => FieldValue::Str(Cow::Borrowed(s.get(&self.text))),
            Value::Int(i) => FieldValue::Int(i),
            Value::UInt(u) => FieldValue::UInt(u),
            Value::Float(f) => FieldValue::Float(f),
            Value::Bool(b) => FieldValue::Bool(b),
            Value::Null => FieldValue::Null,
        }
    }

    /// The event as one compact JSON object (repeated names become arrays), for output.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + self.fields.len() * 8);
        out.push('{');
        let mut written: Vec<usize> = Vec::new();
        for (i, field) in self.fields.iter().enumerate() {
            if written.contains(&i) {
                continue;
            }
            let name = self.name(field.name);
            // Fields of the same name (JSON arrays) are written together as an array.
            let same: Vec<usize> = (i..self.fields.len())
                .filter(|&j| {
                    self.fields[j].hash == field.hash && self.name(self.fields[j].name) == name
                })
                .collect();
            if out.len() > 1 {
                out.push(',');
            }
            write_json_str(&mut out, name);
            out.push(':');
            if same.len() == 1 {
                self.write_json_value(&mut out, field.value);
            } else {
                out.push('[');
                for (n, &j) in same.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    self.write_json_value(&mut out, self.fields[j].value);
                }
                out.push(']');
                written.extend(same);
            }
        }
        out.push('}');
        out
    }

    fn write_json_value(&self, out: &mut String, value: Value) {
        match value {
            Value::Str(s) => write_json_str(out, s.get(&self.text)),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::UInt(u) => {
                let _ = write!(out, "{u}");
            }
            Value::Float(f) if f.is_finite() => {
                let _ = write!(out, "{f}");
            }
            Value::Float(_) | Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        }
    }
}

/// Writes `s` as a JSON string literal.
fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Event for FlatEvent {
    /// The text buffer: every string value is a span of it.
    fn text_of_values(&self) -> Option<&str> {
        Some(&self.text)
    }

    fn get(&self, field: &str) -> Option<FieldValue<'_>> {
        self.find(name_hash(field), field)
            .map(|i| self.field_value(self.fields[i].value))
    }

    fn for_each_field(&self, f: &mut dyn FnMut(&str, FieldValue<'_>)) {
        for field in &self.fields {
            f(self.name(field.name), self.field_value(field.value));
        }
    }

    fn for_each_value(&self, field: &str, f: &mut dyn FnMut(FieldValue<'_>)) {
        self.for_each_value_hashed(field, name_hash(field), f);
    }

    fn for_each_field_hashed(&self, f: &mut dyn FnMut(u32, &str, FieldValue<'_>)) {
        for field in &self.fields {
            f(
                field.hash,
                self.name(field.name),
                self.field_value(field.value),
            );
        }
    }

    fn for_each_value_hashed(&self, field: &str, hash: u32, f: &mut dyn FnMut(FieldValue<'_>)) {
        for stored in &self.fields {
            if stored.hash == hash && same_name(self.name(stored.name), field) {
                f(self.field_value(stored.value));
            }
        }
    }
}

impl serde::Serialize for FlatEvent {
    /// Serialises as a map of fields; for repeated names (JSON arrays) every value is written
    /// under the name, so prefer [`FlatEvent::to_json`] when arrays matter.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (name, value) in self.iter() {
            match value {
                FieldValue::Str(s) => map.serialize_entry(name, s.as_ref())?,
                FieldValue::Int(i) => map.serialize_entry(name, &i)?,
                FieldValue::UInt(u) => map.serialize_entry(name, &u)?,
                FieldValue::Float(f) => map.serialize_entry(name, &f)?,
                FieldValue::Bool(b) => map.serialize_entry(name, &b)?,
                FieldValue::Null => map.serialize_entry(name, &())?,
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FlatEvent {
        let mut event = FlatEvent::new();
        event.push("EventID", FieldValue::Int(4688));
        event.push("CommandLine", FieldValue::Str("cmd /c \"x\"".into()));
        event.push("tags", FieldValue::Str("a".into()));
        event.push("tags", FieldValue::Str("b".into()));
        event
    }

    #[test]
    fn lookup_ignores_ascii_case() {
        let event = sample();
        assert_eq!(event.get("eventid"), Some(FieldValue::Int(4688)));
        assert_eq!(
            event.get("COMMANDLINE"),
            Some(FieldValue::Str("cmd /c \"x\"".into()))
        );
        assert_eq!(event.get("Image"), None);
        assert!(event.contains("EVENTID"));
    }

    #[test]
    fn repeated_names_give_every_value() {
        let event = sample();
        let mut seen = Vec::new();
        event.for_each_value("Tags", &mut |v| {
            seen.push(v.as_text().unwrap().into_owned());
        });
        assert_eq!(seen, ["a", "b"]);
        assert_eq!(event.get("tags"), Some(FieldValue::Str("a".into())));
    }

    #[test]
    fn renders_json_with_arrays_for_repeated_names() {
        assert_eq!(
            sample().to_json(),
            r#"{"EventID":4688,"CommandLine":"cmd /c \"x\"","tags":["a","b"]}"#
        );
    }

    #[test]
    fn clear_keeps_nothing() {
        let mut event = sample();
        event.clear();
        assert!(event.is_empty());
        assert_eq!(event.get("EventID"), None);
    }
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn names_match_without_spaces_and_case() {
        let mut e = FlatEvent::new();
        e.push("Threat Name", FieldValue::Str(Cow::Borrowed("EICAR")));
        assert_eq!(
            e.get("ThreatName")
                .and_then(|v| v.as_text().map(Cow::into_owned)),
            Some("EICAR".to_string())
        );
        assert!(e.get("threatname").is_some());
        assert!(e.get("Threat").is_none());
        assert!(same_name("Source Name", "SOURCENAME"));
        assert!(!same_name("SourceName", "SourceNames"));
    }
}
