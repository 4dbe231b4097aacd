//! The Windows event model: how one EVTX record (as the `evtx` crate renders it to JSON)
//! becomes flat fields.
//!
//! The model is the one of the reference semantics (`flatten_events.py` of the oracle), so
//! rules see the same field names and values here as there:
//!
//! * System fields: `Provider_Name`, `Provider_Guid`, `Provider_EventSourceName`, `Qualifiers`,
//!   `EventID` (always an integer; the `{"#text": N, "#attributes": {"Qualifiers": Q}}` form
//!   gives `EventID = N`, `Qualifiers = Q`), `Version`, `Level`, `Task`, `Opcode`, `Keywords`,
//!   `EventRecordID`, `Channel`, `Computer`, `SystemTime`, `ActivityID`, `RelatedActivityID`,
//!   `Execution_ProcessID`, `Execution_ThreadID`, `Security_UserID`.
//! * `EventData`: each named `<Data>` as a top-level field; unnamed `<Data>` values as `Data`,
//!   joined with `"\n"` when there are several; `<Binary>` as its hex text.
//! * `UserData`: the leaves under its single wrapper element; `ProcessingErrorData`: its leaves.
//! * A data field whose name is taken already (ignoring ASCII case; System fields come first)
//!   is kept as `EventData_<name>` / `UserData_<name>`, or dropped when that is taken too.
//! * `ProcessID`, `ThreadID`, `UserID`: aliases of the Execution / Security attributes, added
//!   only when the event data has no field of that name.
//! * Null values are dropped.
//!
//! The `evtx` crate 0.15 renders two kinds of typed values differently from 0.14, which made
//! the reference: GUIDs as `{lowercase}` (0.14: `UPPERCASE` without braces) and FILETIMEs with
//! seven fractional digits (0.14: six, the seventh cut off). Values in exactly those forms are
//! written back in the 0.14 form, so that rules see what the
//! reference saw.

use std::fmt::Write as _;

use crate::flat::{FlatEvent, Value};
use crate::tree::{Kind, Node, Span, child, children};

/// Why a rendered record could not be read as an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModelError {
    /// The JSON has no `Event` object.
    NoEvent,
    /// The `Event` has no `System` object.
    NoSystem,
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ModelError::NoEvent => "the record has no Event element",
            ModelError::NoSystem => "the record has no System element",
        })
    }
}

/// Builds the flat fields of one record from its parsed JSON.
///
/// `nodes` must come from parsing into `event`'s text buffer, which still holds that text.
/// `scratch` is a reusable buffer for joined values.
pub(crate) fn flatten(
    nodes: &[Node],
    event: &mut FlatEvent,
    scratch: &mut String,
) -> Result<(), ModelError> {
    let root_event = child(nodes, event.text(), 0, "Event").ok_or(ModelError::NoEvent)?;
    let system = child(nodes, event.text(), root_event, "System").ok_or(ModelError::NoSystem)?;
    let mut b = Builder {
        nodes,
        event,
        scratch,
    };
    b.system(system);

    let data = child(nodes, b.event.text(), root_event, "EventData");
    if let Some(data) = data {
        b.event_data(data);
    }
    for section in ["UserData", "ProcessingErrorData"] {
        if let Some(node) = child(nodes, b.event.text(), root_event, section) {
            b.user_data(node, section);
        }
    }
    for (alias, source) in [
        ("ProcessID", "Execution_ProcessID"),
        ("ThreadID", "Execution_ThreadID"),
        ("UserID", "Security_UserID"),
    ] {
        if let Some(value) = b.event.value_of(source)
            && !b.event.contains(alias)
        {
            let name = b.event.push_text(alias);
            b.event.push_spans(name, value);
        }
    }
    Ok(())
}

/// A System field of the model: the text of `element`, or its attribute `attribute`.
struct SystemField {
    name: &'static str,
    element: &'static str,
    attribute: &'static str,
}

const fn field(name: &'static str, element: &'static str, attribute: &'static str) -> SystemField {
    SystemField {
        name,
        element,
        attribute,
    }
}

/// The System fields in the order the model gives them.
const SYSTEM_FIELDS: [SystemField; 19] = [
    field("Provider_Name", "Provider", "Name"),
    field("Provider_Guid", "Provider", "Guid"),
    field("Provider_EventSourceName", "Provider", "EventSourceName"),
    field("Qualifiers", "EventID", "Qualifiers"),
    field("EventID", "EventID", ""),
    field("Version", "Version", ""),
    field("Level", "Level", ""),
    field("Task", "Task", ""),
    field("Opcode", "Opcode", ""),
    field("Keywords", "Keywords", ""),
    field("EventRecordID", "EventRecordID", ""),
    field("Channel", "Channel", ""),
    field("Computer", "Computer", ""),
    field("SystemTime", "TimeCreated", "SystemTime"),
    field("ActivityID", "Correlation", "ActivityID"),
    field("RelatedActivityID", "Correlation", "RelatedActivityID"),
    field("Execution_ProcessID", "Execution", "ProcessID"),
    field("Execution_ThreadID", "Execution", "ThreadID"),
    field("Security_UserID", "Security", "UserID"),
];

struct Builder<'a> {
    nodes: &'a [Node],
    event: &'a mut FlatEvent,
    scratch: &'a mut String,
}

impl Builder<'_> {
    fn child(&self, index: usize, key: &str) -> Option<usize> {
        child(self.nodes, self.event.text(), index, key)
    }

    /// Adds a System field with a scalar value; nulls and nested values are left out.
    fn put_system(&mut self, name: &str, node: Option<usize>) {
        let Some(value) = node.and_then(|n| scalar_value(self.nodes[n].kind)) else {
            return;
        };
        let value = normalize_rendering(self.event, value);
        let name = self.event.push_text(name);
        self.event.push_spans(name, value);
    }

    /// The System fields, in the order of the model. One pass over the System element finds
    /// them all (looking each up by name costs a scan per field).
    fn system(&mut self, system: usize) {
        let mut slots: [Option<usize>; SYSTEM_FIELDS.len()] = [None; SYSTEM_FIELDS.len()];
        let mut event_id_text = None;
        for element in children(self.nodes, system) {
            let key = self.nodes[element].key.get(self.event.text());
            if self.nodes[element].kind != Kind::Object {
                if let Some(slot) = SYSTEM_FIELDS
                    .iter()
                    .position(|f| f.element == key && f.attribute.is_empty())
                {
                    slots[slot] = Some(element);
                }
                continue;
            }
            if key == "EventID" {
                // `<EventID Qualifiers="..">N</EventID>`
                event_id_text = Some(self.child(element, "#text"));
            }
            let Some(attributes) = self.child(element, "#attributes") else {
                continue;
            };
            for attribute in children(self.nodes, attributes) {
                let name = self.nodes[attribute].key.get(self.event.text());
                if let Some(slot) = SYSTEM_FIELDS
                    .iter()
                    .position(|f| f.element == key && f.attribute == name)
                {
                    slots[slot] = Some(attribute);
                }
            }
        }
        for (field, slot) in SYSTEM_FIELDS.iter().zip(slots) {
            if field.name == "EventID" {
                let node = event_id_text.unwrap_or(slot);
                if let Some(value) = node.and_then(|n| self.event_id(self.nodes[n].kind)) {
                    let name = self.event.push_text("EventID");
                    self.event.push_spans(name, value);
                }
            } else {
                self.put_system(field.name, slot);
            }
        }
    }

    /// `EventID` is always an integer in the model (text that is a number becomes one).
    fn event_id(&self, kind: Kind) -> Option<Value> {
        match kind {
            Kind::Int(i) => Some(Value::Int(i)),
            Kind::UInt(u) => Some(Value::UInt(u)),
            Kind::Float(f) => Some(Value::Int(f as i64)),
            Kind::Bool(b) => Some(Value::Int(i64::from(b))),
            Kind::Str(s) => Some(
                s.get(self.event.text())
                    .trim()
                    .parse::<i64>()
                    .map_or(Value::Str(s), Value::Int),
            ),
            Kind::Null | Kind::Array | Kind::Object => None,
        }
    }

    fn event_data(&mut self, data: usize) {
        match self.nodes[data].kind {
            Kind::Object => {
                for c in children(self.nodes, data) {
                    let key = self.nodes[c].key;
                    if key.get(self.event.text()) == "#attributes" {
                        continue;
                    }
                    if self.nodes[c].kind == Kind::Object {
                        if let Some(text) = self.child(c, "#text") {
                            self.put_data(key, text, "EventData");
                        } else {
                            self.leaves(c, "EventData");
                        }
                    } else {
                        self.put_data(key, c, "EventData");
                    }
                }
            }
            Kind::Null => {}
            _ => {
                let name = self.event.push_text("Data");
                self.put_data(name, data, "EventData");
            }
        }
    }

    fn user_data(&mut self, node: usize, section: &str) {
        if self.nodes[node].kind != Kind::Object {
            return;
        }
        let mut content = children(self.nodes, node)
            .filter(|&c| self.nodes[c].key.get(self.event.text()) != "#attributes");
        let first = content.next();
        let only = content.next().is_none();
        // UserData holds one wrapper element (LogFileCleared, EventXML, ...): its children are
        // the fields.
        let source = match first {
            Some(wrapper)
                if section == "UserData" && only && self.nodes[wrapper].kind == Kind::Object =>
            {
                wrapper
            }
            _ => node,
        };
        self.leaves(source, section);
    }

    /// Adds the leaves under the object `node`: nested objects are walked (an element with
    /// text and attributes gives its text), everything else is a value.
    fn leaves(&mut self, node: usize, section: &str) {
        for c in children(self.nodes, node) {
            let key = self.nodes[c].key;
            if key.get(self.event.text()) == "#attributes" {
                continue;
            }
            if self.nodes[c].kind == Kind::Object {
                if let Some(text) = self.child(c, "#text") {
                    self.put_data(key, text, section);
                } else {
                    self.leaves(c, section);
                }
            } else {
                self.put_data(key, c, section);
            }
        }
    }

    /// Adds a data field unless its value is null; a name taken already is prefixed with the
    /// section, and the field is dropped when that is taken too.
    fn put_data(&mut self, name: Span, node: usize, section: &str) {
        let Some(value) = self.data_value(node) else {
            return;
        };
        let value = normalize_rendering(self.event, value);
        let mut name = name;
        let (mut hash, taken) = self.event.lookup_span(name);
        if taken {
            let text = self.event.text_mut();
            let start = text.len() as u32;
            text.push_str(section);
            text.push('_');
            let Some(original) = text.get(name.start as usize..name.end as usize) else {
                return;
            };
            // Copy through the scratch buffer: the name lives in the same buffer.
            self.scratch.clear();
            self.scratch.push_str(original);
            text.push_str(self.scratch);
            name = Span {
                start,
                end: text.len() as u32,
            };
            let (prefixed_hash, taken) = self.event.lookup_span(name);
            if taken {
                return;
            }
            hash = prefixed_hash;
        }
        self.event.push_hashed(name, hash, value);
    }

    /// A data value: scalars as they are, arrays (several unnamed `<Data>`) joined with
    /// `"\n"`, nulls `None`.
    fn data_value(&mut self, node: usize) -> Option<Value> {
        let kind = self.nodes[node].kind;
        if kind != Kind::Array {
            return scalar_value(kind);
        }
        self.scratch.clear();
        for (i, element) in children(self.nodes, node).enumerate() {
            if i > 0 {
                self.scratch.push('\n');
            }
            write_as_text(self.nodes, element, self.event.text(), self.scratch);
        }
        Some(Value::Str(self.event.push_text(self.scratch)))
    }
}

/// Rewrites a GUID or a timestamp in the `evtx` crate 0.15 form into the 0.14 form of the
/// reference, in place: `{365abb72-7acc-5cc4-0000-0010b2470300}` becomes
/// `365ABB72-7ACC-5CC4-0000-0010B2470300`, `2019-04-27T15:57:25.8688632Z` becomes
/// `2019-04-27T15:57:25.868863Z`. Other values are returned unchanged.
pub(crate) fn normalize_rendering(event: &mut FlatEvent, value: Value) -> Value {
    let Value::Str(span) = value else {
        return value;
    };
    let len = span.end - span.start;
    if len != 38 && len != 28 {
        return value;
    }
    let text = span.get(event.text()).as_bytes();
    if is_braced_lowercase_guid(text) {
        let inner = Span {
            start: span.start + 1,
            end: span.end - 1,
        };
        if let Some(guid) = event
            .text_mut()
            .get_mut(inner.start as usize..inner.end as usize)
        {
            guid.make_ascii_uppercase();
        }
        return Value::Str(inner);
    }
    if is_seven_digit_timestamp(text) {
        // `...ss.fffffffZ`: put the `Z` over the seventh digit.
        let seventh = span.end as usize - 2;
        event.text_mut().replace_range(seventh..=seventh, "Z");
        return Value::Str(Span {
            start: span.start,
            end: span.end - 1,
        });
    }
    value
}

fn is_braced_lowercase_guid(b: &[u8]) -> bool {
    b.len() == 38
        && b[0] == b'{'
        && b[37] == b'}'
        && b[1..37].iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
}

/// `YYYY-MM-DDTHH:MM:SS.fffffffZ`.
fn is_seven_digit_timestamp(b: &[u8]) -> bool {
    b.len() == 28
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'.',
            27 => c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// A scalar node's value; `None` for null and for nested values.
fn scalar_value(kind: Kind) -> Option<Value> {
    match kind {
        Kind::Str(s) => Some(Value::Str(s)),
        Kind::Int(i) => Some(Value::Int(i)),
        Kind::UInt(u) => Some(Value::UInt(u)),
        Kind::Float(f) => Some(Value::Float(f)),
        Kind::Bool(b) => Some(Value::Bool(b)),
        Kind::Null | Kind::Array | Kind::Object => None,
    }
}

/// Writes an element of a joined value as text. Numbers and booleans are written the way the
/// reference model writes them (Python's `str`: `True`, `1.0`); null is empty; a nested value,
/// which no known provider produces, as compact JSON.
fn write_as_text(nodes: &[Node], node: usize, text: &str, out: &mut String) {
    match nodes[node].kind {
        Kind::Str(s) => out.push_str(s.get(text)),
        Kind::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Kind::UInt(u) => {
            let _ = write!(out, "{u}");
        }
        Kind::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 => {
            let _ = write!(out, "{f:.1}");
        }
        Kind::Float(f) => {
            let _ = write!(out, "{f}");
        }
        Kind::Bool(b) => out.push_str(if b { "True" } else { "False" }),
        Kind::Null => {}
        Kind::Array | Kind::Object => write_json(nodes, node, text, out),
    }
}

fn write_json(nodes: &[Node], node: usize, text: &str, out: &mut String) {
    match nodes[node].kind {
        Kind::Str(s) => {
            let _ = write!(out, "{:?}", s.get(text));
        }
        Kind::Null => out.push_str("null"),
        Kind::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Kind::Int(_) | Kind::UInt(_) | Kind::Float(_) => write_as_text(nodes, node, text, out),
        Kind::Array => {
            out.push('[');
            for (i, c) in children(nodes, node).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(nodes, c, text, out);
            }
            out.push(']');
        }
        Kind::Object => {
            out.push('{');
            for (i, c) in children(nodes, node).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{:?}:", nodes[c].key.get(text));
                write_json(nodes, c, text, out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::parse;
    use crate::{Event, FieldValue};

    fn flat(json: &str) -> FlatEvent {
        let mut event = FlatEvent::new();
        let mut nodes = Vec::new();
        let mut scratch = String::new();
        parse(json, &mut nodes, event.text_mut()).unwrap();
        flatten(&nodes, &mut event, &mut scratch).unwrap();
        event
    }

    fn text(event: &FlatEvent, name: &str) -> Option<String> {
        event
            .get(name)
            .and_then(|v| v.as_text().map(std::borrow::Cow::into_owned))
    }

    #[test]
    fn system_fields_and_named_data() {
        let event = flat(
            r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"5770385F"}},"EventID":1,"Version":5,"Level":4,"Task":1,"Opcode":0,"Keywords":"0x8000000000000000","TimeCreated":{"#attributes":{"SystemTime":"2019-04-27T15:57:25.868863Z"}},"EventRecordID":7,"Correlation":null,"Execution":{"#attributes":{"ProcessID":1912,"ThreadID":996}},"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"IEWIN7","Security":{"#attributes":{"UserID":"S-1-5-18"}}},"EventData":{"RuleName":"","ProcessId":2772,"Image":"C:\\Windows\\Explorer.EXE","Binary":null,"Initiated":true}}}"##,
        );
        let names: Vec<&str> = event.iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "Provider_Name",
                "Provider_Guid",
                "EventID",
                "Version",
                "Level",
                "Task",
                "Opcode",
                "Keywords",
                "EventRecordID",
                "Channel",
                "Computer",
                "SystemTime",
                "Execution_ProcessID",
                "Execution_ThreadID",
                "Security_UserID",
                "RuleName",
                "ProcessId",
                "Image",
                "Initiated",
                "ThreadID",
                "UserID",
            ]
        );
        assert_eq!(event.get("eventid"), Some(FieldValue::Int(1)));
        // Sysmon's own ProcessId wins over the Execution alias.
        assert_eq!(event.get("ProcessID"), Some(FieldValue::Int(2772)));
        assert_eq!(event.get("Initiated"), Some(FieldValue::Bool(true)));
        assert_eq!(
            text(&event, "image").as_deref(),
            Some("C:\\Windows\\Explorer.EXE")
        );
    }

    #[test]
    fn qualified_event_id_and_unnamed_data() {
        let event = flat(
            r##"{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":16384},"#text":"3001"},"Execution":{"#attributes":{"ProcessID":4}}},"EventData":{"Data":{"#text":["sa"," Reason: x",7,true,null]},"Binary":"0A0B"}}}"##,
        );
        assert_eq!(event.get("EventID"), Some(FieldValue::Int(3001)));
        assert_eq!(event.get("Qualifiers"), Some(FieldValue::Int(16384)));
        assert_eq!(
            text(&event, "Data").as_deref(),
            Some("sa\n Reason: x\n7\nTrue\n")
        );
        assert_eq!(text(&event, "Binary").as_deref(), Some("0A0B"));
        // No data field called ProcessId: the alias applies.
        assert_eq!(event.get("processid"), Some(FieldValue::Int(4)));
    }

    #[test]
    fn colliding_data_fields_are_prefixed() {
        let event = flat(
            r##"{"Event":{"System":{"EventID":104,"Channel":"System","Version":0},"EventData":{"version":"2"},"UserData":{"LogFileCleared":{"#attributes":{"xmlns":"y"},"SubjectUserName":"admin01","Channel":"Security","Nested":{"Inner":"v","Attr":{"#attributes":{"a":1},"#text":"t"}}}}}}"##,
        );
        assert_eq!(event.get("Channel"), Some(FieldValue::Str("System".into())));
        assert_eq!(
            text(&event, "UserData_Channel").as_deref(),
            Some("Security")
        );
        assert_eq!(text(&event, "EventData_version").as_deref(), Some("2"));
        assert_eq!(text(&event, "SubjectUserName").as_deref(), Some("admin01"));
        assert_eq!(text(&event, "Inner").as_deref(), Some("v"));
        assert_eq!(text(&event, "Attr").as_deref(), Some("t"));
        assert!(!event.contains("xmlns"));
    }

    #[test]
    fn guids_and_timestamps_take_the_reference_form() {
        let event = flat(
            r##"{"Event":{"System":{"Provider":{"#attributes":{"Guid":"{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"}},"TimeCreated":{"#attributes":{"SystemTime":"2019-04-27T15:57:25.8688632Z"}}},"EventData":{"A":"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}","B":"{not-a-guid}","C":"2019-04-27T15:57:25.868Z"}}}"##,
        );
        assert_eq!(
            text(&event, "Provider_Guid").as_deref(),
            Some("5770385F-C22A-43E0-BF4C-06F5698FFBD9")
        );
        assert_eq!(
            text(&event, "SystemTime").as_deref(),
            Some("2019-04-27T15:57:25.868863Z")
        );
        // Text that the crate did not render as a typed value keeps its form.
        assert_eq!(
            text(&event, "A").as_deref(),
            Some("{5770385F-C22A-43E0-BF4C-06F5698FFBD9}")
        );
        assert_eq!(text(&event, "B").as_deref(), Some("{not-a-guid}"));
        assert_eq!(
            text(&event, "C").as_deref(),
            Some("2019-04-27T15:57:25.868Z")
        );
    }

    #[test]
    fn event_data_as_text_becomes_data() {
        let event = flat(r#"{"Event":{"System":{"EventID":400},"EventData":"plain"}}"#);
        assert_eq!(text(&event, "Data").as_deref(), Some("plain"));
    }

    #[test]
    fn missing_event_or_system_is_an_error() {
        let mut event = FlatEvent::new();
        let mut nodes = Vec::new();
        let mut scratch = String::new();
        parse(r#"{"x":1}"#, &mut nodes, event.text_mut()).unwrap();
        assert_eq!(
            flatten(&nodes, &mut event, &mut scratch),
            Err(ModelError::NoEvent)
        );
        event.clear();
        parse(r#"{"Event":{}}"#, &mut nodes, event.text_mut()).unwrap();
        assert_eq!(
            flatten(&nodes, &mut event, &mut scratch),
            Err(ModelError::NoSystem)
        );
    }
}
