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
//! written back in the 0.14 form, so that rules see what the reference saw.
//!
//! # One pass
//!
//! A record is read in one pass over the JSON the crate renders, straight into the
//! [`FlatEvent`]: no tree, no copy. The rendered bytes become the event's text buffer; strings
//! are unescaped where they are (unescaping only ever shortens them), GUIDs and timestamps are
//! rewritten where they are, and only text that has no place in the record (values joined from
//! several `<Data>`, prefixed names) is written after it. The model's own field names
//! (`EventID`, `Provider_Name`, ...) are not written at all: fields refer to
//! [`MODEL_NAMES`]. The buffer is checked to be UTF-8 once, at the end, which is also what
//! makes unescaping in place safe: a bug there would be a rejected record, never a bad `str`.
//!
//! The pass accepts exactly the JSON that [`crate::tree`] accepts, with the same error offsets.
//! Where the model looks something up by name (the first `System`, the first `#text` of an
//! element), the pass keeps the first and only checks the syntax of later ones. Two things
//! need more than one look: a section that comes before one it must follow (`UserData`
//! before `EventData`) is only checked where it is and read once the `Event` element ends,
//! and the members of an element read before its `#text` turns up are taken back.
//!
//! # Files
//!
//! This file holds the model: the field names, the System slots, aliases and name
//! collisions, the GUID / FILETIME rewriting, [`read_record`] and the methods of the builder
//! that read an `Event`. The JSON it reads is scanned by the builder's methods in `json.rs`
//! (the grammar and error offsets of [`crate::tree`]); the tests are in `tests.rs`.
//! `template/` is the fast path: records whose templates have the shape of an ordinary
//! event are read from their slot values into the same model, without JSON; this JSON path
//! reads the rest and is the reference that path is tested against.

use std::io::Write as _;

use crate::flat::{
    Field, FlatEvent, STATIC_NAME, Value, name_hash_bytes, same_name_bytes, static_name,
};
use crate::tree::{Span, SyntaxError};

mod json;
mod template;
#[cfg(test)]
mod tests;

pub(crate) use template::{Shapes, read_templated};

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

/// Why a record was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RecordError {
    /// The bytes are not UTF-8 (checked before anything else, as if first).
    Utf8,
    /// The bytes are not JSON.
    Syntax(SyntaxError),
    /// The JSON is not an event.
    Model(ModelError),
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordError::Utf8 => f.write_str("rendered as invalid UTF-8"),
            RecordError::Syntax(e) => e.fmt(f),
            RecordError::Model(e) => e.fmt(f),
        }
    }
}

/// The builder stopped at an error, which it keeps (see [`Builder::failure`]): a small error
/// type keeps results in registers.
#[derive(Debug)]
struct Stop;

type Parsed<T> = Result<T, Stop>;

/// The System fields in the order the model gives them; [`system_slot`] says where each
/// comes from.
const SYSTEM_FIELDS: [&str; 19] = [
    "Provider_Name",
    "Provider_Guid",
    "Provider_EventSourceName",
    "Qualifiers",
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
    "ActivityID",
    "RelatedActivityID",
    "Execution_ProcessID",
    "Execution_ThreadID",
    "Security_UserID",
];

const EVENT_ID: usize = 4;
const EVENT_RECORD_ID: usize = 10;
const CHANNEL: usize = 11;
const COMPUTER: usize = 12;
const SYSTEM_TIME: usize = 13;

/// The aliases, each with the System field it copies.
const ALIASES: [(usize, usize); 3] = [(ALIAS, 16), (ALIAS + 1, 17), (ALIAS + 2, 18)];
const ALIAS: usize = SYSTEM_FIELDS.len();
/// `Data`, the name of unnamed event data.
const DATA: usize = ALIAS + 3;

/// Every field name the model makes itself: the System fields, the aliases, `Data`.
pub(crate) const MODEL_NAMES: [&str; DATA + 1] = {
    let mut names = [""; DATA + 1];
    let mut i = 0;
    while i < SYSTEM_FIELDS.len() {
        names[i] = SYSTEM_FIELDS[i];
        i += 1;
    }
    names[ALIAS] = "ProcessID";
    names[ALIAS + 1] = "ThreadID";
    names[ALIAS + 2] = "UserID";
    names[DATA] = "Data";
    names
};

const MODEL_HASHES: [u32; DATA + 1] = {
    let mut hashes = [0; DATA + 1];
    let mut i = 0;
    while i < hashes.len() {
        hashes[i] = name_hash_bytes(MODEL_NAMES[i].as_bytes());
        i += 1;
    }
    hashes
};

/// The System field (index in [`SYSTEM_FIELDS`]) that is the attribute `attribute` of the
/// System element `element`, or with `""` its text.
fn system_slot(element: &[u8], attribute: &[u8]) -> Option<usize> {
    Some(match (element, attribute) {
        (b"Provider", b"Name") => 0,
        (b"Provider", b"Guid") => 1,
        (b"Provider", b"EventSourceName") => 2,
        (b"EventID", b"Qualifiers") => 3,
        (b"EventID", b"") => 4,
        (b"Version", b"") => 5,
        (b"Level", b"") => 6,
        (b"Task", b"") => 7,
        (b"Opcode", b"") => 8,
        (b"Keywords", b"") => 9,
        (b"EventRecordID", b"") => 10,
        (b"Channel", b"") => 11,
        (b"Computer", b"") => 12,
        (b"TimeCreated", b"SystemTime") => 13,
        (b"Correlation", b"ActivityID") => 14,
        (b"Correlation", b"RelatedActivityID") => 15,
        (b"Execution", b"ProcessID") => 16,
        (b"Execution", b"ThreadID") => 17,
        (b"Security", b"UserID") => 18,
        _ => return None,
    })
}

/// The element's name when some System field comes from it.
fn system_element(element: &[u8]) -> Option<&'static [u8]> {
    SYSTEM_ELEMENTS.iter().copied().find(|e| *e == element)
}

const SYSTEM_ELEMENTS: [&[u8]; 14] = [
    b"Provider",
    b"EventID",
    b"Version",
    b"Level",
    b"Task",
    b"Opcode",
    b"Keywords",
    b"EventRecordID",
    b"Channel",
    b"Computer",
    b"TimeCreated",
    b"Correlation",
    b"Execution",
    b"Security",
];

/// Where the System fields that [`RecordMeta`](crate::RecordMeta) needs ended up, so that
/// the reader takes them without looking them up by name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SystemIndex {
    fields: [Option<u32>; SYSTEM_FIELDS.len()],
}

impl SystemIndex {
    fn value(&self, event: &FlatEvent, field: usize) -> Option<Value> {
        match self.fields[field] {
            Some(index) => event.value_at(index as usize),
            // The first field of that name may still be event data.
            None => event.value_of(SYSTEM_FIELDS[field]),
        }
    }

    fn text<'e>(&self, event: &'e FlatEvent, field: usize) -> Option<&'e str> {
        match self.value(event, field)? {
            Value::Str(s) => Some(s.get(event.text())),
            _ => None,
        }
    }

    /// `EventRecordID`.
    pub(crate) fn record_id(&self, event: &FlatEvent) -> Option<Value> {
        self.value(event, EVENT_RECORD_ID)
    }

    /// `EventID`.
    pub(crate) fn event_id(&self, event: &FlatEvent) -> Option<Value> {
        self.value(event, EVENT_ID)
    }

    /// `SystemTime`.
    pub(crate) fn system_time<'e>(&self, event: &'e FlatEvent) -> Option<&'e str> {
        self.text(event, SYSTEM_TIME)
    }

    /// `Computer`.
    pub(crate) fn computer<'e>(&self, event: &'e FlatEvent) -> Option<&'e str> {
        self.text(event, COMPUTER)
    }

    /// `Channel`.
    pub(crate) fn channel<'e>(&self, event: &'e FlatEvent) -> Option<&'e str> {
        self.text(event, CHANNEL)
    }
}

/// Set in both ends of a span of the builder's `extra` text (after the record), until the
/// event's text is put together.
const EXTRA: u32 = 1 << 30;

/// Records of this size or more are refused (spans must leave [`EXTRA`] free).
const MAX_RECORD: usize = EXTRA as usize;

/// What reading records keeps from one to the next.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Text written after the record.
    extra: Vec<u8>,
}

/// Reads one record, rendered by the `evtx` crate as JSON, into `event`, whose text buffer
/// becomes `json`. On error the event is left empty.
pub(crate) fn read_record(
    json: Vec<u8>,
    event: &mut FlatEvent,
    scratch: &mut Scratch,
) -> Result<SystemIndex, RecordError> {
    let extra = &mut scratch.extra;
    event.clear();
    extra.clear();
    if json.len() >= MAX_RECORD {
        return Err(if std::str::from_utf8(&json).is_err() {
            RecordError::Utf8
        } else {
            RecordError::Syntax(SyntaxError {
                offset: 0,
                message: "record too large",
            })
        });
    }
    let mut builder = Builder::new(json, extra, event.fields_mut());
    let outcome = builder.document();
    let Builder {
        buf,
        system,
        failure,
        ..
    } = builder;
    let result = match (outcome, failure) {
        (Ok(()), _) => finish(buf, extra, event),
        // Unescaping in place keeps bytes UTF-8 exactly when they were, so this says whether
        // the record was.
        (Err(Stop), _) if std::str::from_utf8(&buf).is_err() => Err(RecordError::Utf8),
        (Err(Stop), failure) => Err(failure.unwrap_or(RecordError::Utf8)),
    };
    match result {
        Ok(()) => Ok(SystemIndex { fields: system }),
        Err(e) => {
            event.clear();
            Err(e)
        }
    }
}

/// Puts the record and the extra text together as the event's text.
fn finish(mut buf: Vec<u8>, extra: &[u8], event: &mut FlatEvent) -> Result<(), RecordError> {
    if !extra.is_empty() {
        if buf.len() + extra.len() >= MAX_RECORD {
            return Err(RecordError::Syntax(SyntaxError {
                offset: 0,
                message: "record too large",
            }));
        }
        let base = buf.len() as u32;
        buf.extend_from_slice(extra);
        let relocate = |span: &mut Span| {
            if span.start & (STATIC_NAME | EXTRA) == EXTRA {
                span.start = (span.start & !EXTRA) + base;
                span.end = (span.end & !EXTRA) + base;
            }
        };
        for field in event.fields_mut() {
            relocate(&mut field.name);
            if let Value::Str(span) = &mut field.value {
                relocate(span);
            }
        }
    }
    let text = String::from_utf8(buf).map_err(|_| RecordError::Utf8)?;
    event.set_text(text);
    Ok(())
}

/// The sections of an `Event`, in the order the model reads them.
const SECTIONS: [&[u8]; 4] = [b"System", b"EventData", b"UserData", b"ProcessingErrorData"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    NotSeen,
    Done,
    /// Seen before a section that must come first: read later from this offset and depth.
    Later(usize, usize),
}

/// What the document's `Event` was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventShape {
    Absent,
    NotObject,
    Object { system: bool },
}

/// An element's first `#text`, once seen: its value (`None`: null, or not a data value).
#[derive(Debug, Clone, Copy)]
enum Text {
    Unseen,
    Seen(Option<Value>),
}

/// A member of `UserData` read so far (see [`Builder::user_data`]).
enum UserData {
    Start,
    /// One member, an object, read as the wrapper; with the field count before it, its name
    /// and its first `#text` (as a data value).
    Wrapper(usize, Span, Text),
    Plain,
}

struct Builder<'a> {
    /// The record; strings are unescaped in place.
    buf: Vec<u8>,
    pos: usize,
    /// Text written after the record (spans flagged with [`EXTRA`]).
    extra: &'a mut Vec<u8>,
    fields: &'a mut Vec<Field>,
    /// A 256-bit filter of the name hashes in `fields` (never cleared within a record:
    /// fields taken back only make it answer "maybe" more often).
    bloom: [u64; 4],
    /// Where each System field is in `fields`.
    system: [Option<u32>; SYSTEM_FIELDS.len()],
    /// Why the builder stopped.
    failure: Option<RecordError>,
}

/// The bytes of `span` (see [`Builder::bytes`]); empty when out of range.
fn resolve<'t>(buf: &'t [u8], extra: &'t [u8], span: Span) -> &'t [u8] {
    if span.start & STATIC_NAME != 0 {
        return MODEL_NAMES
            .get((span.start & !STATIC_NAME) as usize)
            .map_or(&[], |n| n.as_bytes());
    }
    let (text, start, end) = if span.start & EXTRA == 0 {
        (buf, span.start, span.end)
    } else {
        (extra, span.start & !EXTRA, span.end & !EXTRA)
    };
    text.get(start as usize..end as usize).unwrap_or_default()
}

fn bloom_bit(hash: u32) -> (usize, u64) {
    let h = hash.wrapping_mul(0x9E37_79B9) >> 24;
    ((h >> 6) as usize, 1 << (h & 63))
}

// The value readers are inlined into their callers: returned through memory, their results
// cost a stall per value (measured: about a sixth of the time of a record).
#[allow(clippy::inline_always)]
impl<'a> Builder<'a> {
    /// A builder of the fields of one record whose text is `buf`.
    fn new(buf: Vec<u8>, extra: &'a mut Vec<u8>, fields: &'a mut Vec<Field>) -> Self {
        Builder {
            buf,
            pos: 0,
            extra,
            fields,
            bloom: [0; 4],
            system: [None; SYSTEM_FIELDS.len()],
            failure: None,
        }
    }

    // ---- Fields.

    /// The bytes of a name or value span: in the record, in `extra`, or a model name.
    #[inline]
    fn bytes(&self, span: Span) -> &[u8] {
        resolve(&self.buf, self.extra, span)
    }

    fn bytes_mut(&mut self, span: Span) -> Option<&mut [u8]> {
        if span.start & STATIC_NAME != 0 {
            return None;
        }
        if span.start & EXTRA == 0 {
            self.buf.get_mut(span.start as usize..span.end as usize)
        } else {
            self.extra
                .get_mut((span.start & !EXTRA) as usize..(span.end & !EXTRA) as usize)
        }
    }

    #[inline]
    fn push(&mut self, name: Span, hash: u32, value: Value) {
        let (word, bit) = bloom_bit(hash);
        self.bloom[word] |= bit;
        self.fields.push(Field { name, hash, value });
    }

    /// The first field named `name` (ignoring ASCII case and spaces), whose hash is `hash`.
    fn find(&self, hash: u32, name: &[u8]) -> Option<usize> {
        let (word, bit) = bloom_bit(hash);
        if self.bloom[word] & bit == 0 {
            return None;
        }
        self.fields
            .iter()
            .position(|f| f.hash == hash && same_name_bytes(self.bytes(f.name), name))
    }

    /// Adds a model field (no check for a field of the same name).
    fn push_model(&mut self, index: usize, value: Value) {
        self.push(static_name(index), MODEL_HASHES[index], value);
    }

    /// Adds a data field after rewriting its value to the reference form; a name taken
    /// already is prefixed with the section, and the field is dropped when that is taken too.
    fn put_data(&mut self, name: Span, value: Value, section: &str) {
        let value = self.normalize(value);
        self.put_named(name, value, section);
    }

    /// [`Builder::put_data`] of a value already rewritten.
    fn put_named(&mut self, name: Span, value: Value, section: &str) {
        let hash = name_hash_bytes(self.bytes(name));
        self.put_named_hashed(name, hash, value, section);
    }

    /// [`Builder::put_named`] of a name whose hash is `hash`.
    fn put_named_hashed(&mut self, name: Span, hash: u32, value: Value, section: &str) {
        if self.find(hash, self.bytes(name)).is_none() {
            self.push(name, hash, value);
            return;
        }
        let start = self.extra.len();
        self.extra.extend_from_slice(section.as_bytes());
        self.extra.push(b'_');
        let bytes = resolve(&self.buf, &[], name);
        if name.start & (STATIC_NAME | EXTRA) == EXTRA {
            // Names never come from `extra`, but copying from it is still safe.
            let range = (name.start & !EXTRA) as usize..(name.end & !EXTRA) as usize;
            if range.end <= start {
                self.extra.extend_from_within(range);
            }
        } else {
            self.extra.extend_from_slice(bytes);
        }
        let prefixed = self.extra_span(start);
        let hash = name_hash_bytes(self.bytes(prefixed));
        if self.find(hash, self.bytes(prefixed)).is_none() {
            self.push(prefixed, hash, value);
        }
    }

    /// The span of `extra` from `start` to its end.
    fn extra_span(&self, start: usize) -> Span {
        Span {
            start: start as u32 | EXTRA,
            end: self.extra.len() as u32 | EXTRA,
        }
    }

    /// Rewrites a GUID or a timestamp in the `evtx` crate 0.15 form into the 0.14 form of the
    /// reference, in place: `{365abb72-7acc-5cc4-0000-0010b2470300}` becomes
    /// `365ABB72-7ACC-5CC4-0000-0010B2470300`, `2019-04-27T15:57:25.8688632Z` becomes
    /// `2019-04-27T15:57:25.868863Z`. Other values are returned unchanged.
    #[inline(always)]
    fn normalize(&mut self, value: Value) -> Value {
        match value {
            Value::Str(span) if matches!(span.end.wrapping_sub(span.start), 28 | 38) => {
                self.normalize_text(span)
            }
            _ => value,
        }
    }

    fn normalize_text(&mut self, span: Span) -> Value {
        let value = Value::Str(span);
        let Some(text) = self.bytes_mut(span) else {
            return value;
        };
        if is_braced_lowercase_guid(text) {
            text[1..37].make_ascii_uppercase();
            return Value::Str(Span {
                start: span.start + 1,
                end: span.end - 1,
            });
        }
        if is_seven_digit_timestamp(text) {
            // `...ss.fffffffZ`: put the `Z` over the seventh digit.
            text[26] = b'Z';
            return Value::Str(Span {
                start: span.start,
                end: span.end - 1,
            });
        }
        value
    }

    // ---- The model.

    fn document(&mut self) -> Parsed<()> {
        self.skip_ws();
        let mut event = EventShape::Absent;
        if self.peek() == Some(b'{') {
            self.members(0, |p, key, depth| {
                if event == EventShape::Absent && p.bytes(key) == b"Event" {
                    event = p.event(depth)?;
                    Ok(())
                } else {
                    p.skip_value(depth)
                }
            })?;
        } else {
            self.skip_value(0)?;
        }
        self.skip_ws();
        if self.pos != self.buf.len() {
            return Err(self.error("unexpected data after the value"));
        }
        match event {
            EventShape::Absent => Err(self.fail(RecordError::Model(ModelError::NoEvent))),
            EventShape::NotObject | EventShape::Object { system: false } => {
                Err(self.fail(RecordError::Model(ModelError::NoSystem)))
            }
            EventShape::Object { system: true } => {
                self.aliases();
                Ok(())
            }
        }
    }

    /// The `Event` element: its sections, in the model's order whatever the document's.
    fn event(&mut self, depth: usize) -> Parsed<EventShape> {
        if self.peek() != Some(b'{') {
            self.skip_value(depth)?;
            return Ok(EventShape::NotObject);
        }
        let mut sections = [Section::NotSeen; SECTIONS.len()];
        self.members(depth, |p, key, depth| {
            let key = p.bytes(key);
            let Some(index) = SECTIONS.iter().position(|s| *s == key) else {
                return p.skip_value(depth);
            };
            if sections[index] != Section::NotSeen {
                return p.skip_value(depth);
            }
            if sections[..index].iter().all(|s| *s == Section::Done) {
                sections[index] = Section::Done;
                p.section(index, depth)
            } else {
                sections[index] = Section::Later(p.pos, depth);
                p.skip_value(depth)
            }
        })?;
        let end = self.pos;
        for (index, section) in sections.iter().enumerate() {
            if let Section::Later(pos, depth) = *section {
                self.pos = pos;
                self.section(index, depth)?;
            }
        }
        self.pos = end;
        Ok(EventShape::Object {
            system: sections[0] != Section::NotSeen,
        })
    }

    fn section(&mut self, index: usize, depth: usize) -> Parsed<()> {
        match index {
            0 => self.system(depth),
            1 => self.event_data(depth),
            2 => self.user_data(depth),
            _ if self.peek() == Some(b'{') => self.children(depth, "ProcessingErrorData"),
            _ => self.skip_value(depth),
        }
    }

    /// The System fields, in the order of the model; the last value given for a field wins.
    fn system(&mut self, depth: usize) -> Parsed<()> {
        if self.peek() != Some(b'{') {
            return self.skip_value(depth);
        }
        let mut slots: [Option<Value>; SYSTEM_FIELDS.len()] = [None; SYSTEM_FIELDS.len()];
        // `<EventID Qualifiers="..">N</EventID>` gives its `#text` (or nothing without one).
        let mut event_id_text = Text::Unseen;
        self.members(depth, |p, key, depth| {
            let element = p.bytes(key);
            if p.peek() != Some(b'{') {
                return match system_slot(element, b"") {
                    Some(slot) => {
                        slots[slot] = p.scalar(depth)?;
                        Ok(())
                    }
                    None => p.skip_value(depth),
                };
            }
            let Some(element) = system_element(element) else {
                return p.skip_value(depth);
            };
            let event_id = element == b"EventID";
            if event_id {
                event_id_text = Text::Seen(None);
            }
            let (mut text_seen, mut attributes_seen) = (false, false);
            p.members(depth, |p, key, depth| {
                let key = p.bytes(key);
                if event_id && !text_seen && key == b"#text" {
                    text_seen = true;
                    event_id_text = Text::Seen(p.scalar(depth)?);
                    Ok(())
                } else if !attributes_seen && key == b"#attributes" {
                    attributes_seen = true;
                    p.attributes(element, depth, &mut slots)
                } else {
                    p.skip_value(depth)
                }
            })
        })?;
        if let Text::Seen(text) = event_id_text {
            slots[EVENT_ID] = text;
        }
        self.push_system(&slots)
    }

    /// Adds the System fields in the model's order, from the value found for each (`EventID`
    /// as an integer, the others rewritten to the reference form).
    fn push_system(&mut self, slots: &[Option<Value>; SYSTEM_FIELDS.len()]) -> Parsed<()> {
        for (index, slot) in slots.iter().enumerate() {
            let value = if index == EVENT_ID {
                match slot {
                    Some(value) => self.event_id(*value)?,
                    None => None,
                }
            } else {
                slot.map(|v| self.normalize(v))
            };
            if let Some(value) = value {
                self.system[index] = Some(self.fields.len() as u32);
                self.push_model(index, value);
            }
        }
        Ok(())
    }

    /// The attributes of a System element: an object of them, or (as the model reads an
    /// array) values of the element itself.
    fn attributes(
        &mut self,
        element: &[u8],
        depth: usize,
        slots: &mut [Option<Value>; SYSTEM_FIELDS.len()],
    ) -> Parsed<()> {
        match self.peek() {
            Some(b'{') => self.members(depth, |p, key, depth| {
                match system_slot(element, p.bytes(key)) {
                    Some(slot) => {
                        slots[slot] = p.scalar(depth)?;
                        Ok(())
                    }
                    None => p.skip_value(depth),
                }
            }),
            Some(b'[') => self.elements(depth, |p, depth| match system_slot(element, b"") {
                Some(slot) => {
                    slots[slot] = p.scalar(depth)?;
                    Ok(())
                }
                None => p.skip_value(depth),
            }),
            _ => self.skip_value(depth),
        }
    }

    /// `EventID` is always an integer in the model (text that is a number becomes one).
    fn event_id(&mut self, value: Value) -> Parsed<Option<Value>> {
        Ok(Some(match value {
            Value::Float(f) => Value::Int(f as i64),
            Value::Bool(b) => Value::Int(i64::from(b)),
            Value::Str(s) => {
                let Ok(text) = std::str::from_utf8(self.bytes(s)) else {
                    return Err(self.fail(RecordError::Utf8));
                };
                text.trim().parse::<i64>().map_or(Value::Str(s), Value::Int)
            }
            Value::Null => return Ok(None),
            Value::Int(_) | Value::UInt(_) => value,
        }))
    }

    fn event_data(&mut self, depth: usize) -> Parsed<()> {
        if self.peek() == Some(b'{') {
            return self.children(depth, "EventData");
        }
        if let Some(value) = self.data_value(depth)? {
            self.put_data(static_name(DATA), value, "EventData");
        }
        Ok(())
    }

    /// `UserData` holds one wrapper element (`LogFileCleared`, `EventXML`, ...) whose children
    /// are the fields; otherwise its own children are. Which one it is shows only at its end,
    /// so a first member that is an object is read as the wrapper, and read again as an
    /// element (see [`Builder::element`]) when a second member follows. The two readings
    /// differ only when the member has a `#text`, whose value is kept for that.
    fn user_data(&mut self, depth: usize) -> Parsed<()> {
        const SECTION: &str = "UserData";
        if self.peek() != Some(b'{') {
            return self.skip_value(depth);
        }
        let mut state = UserData::Start;
        self.members(depth, |p, key, depth| {
            if p.bytes(key) == b"#attributes" {
                return p.skip_value(depth);
            }
            match std::mem::replace(&mut state, UserData::Plain) {
                UserData::Start if p.peek() == Some(b'{') => {
                    let mark = p.fields.len();
                    let text = p.wrapper(depth, SECTION)?;
                    state = UserData::Wrapper(mark, key, text);
                    return Ok(());
                }
                UserData::Wrapper(mark, first, Text::Seen(text)) => {
                    p.fields.truncate(mark);
                    if let Some(value) = text {
                        p.put_named(first, value, SECTION);
                    }
                }
                UserData::Start | UserData::Wrapper(..) | UserData::Plain => {}
            }
            p.member(key, depth, SECTION)
        })
    }

    /// The members of an object as fields (`EventData`, `ProcessingErrorData`, a wrapper).
    fn children(&mut self, depth: usize, section: &str) -> Parsed<()> {
        self.members(depth, |p, key, depth| {
            if p.bytes(key) == b"#attributes" {
                p.skip_value(depth)
            } else {
                p.member(key, depth, section)
            }
        })
    }

    /// One member of an object read by [`Builder::children`].
    fn member(&mut self, key: Span, depth: usize, section: &str) -> Parsed<()> {
        if self.peek() == Some(b'{') {
            return self.element(key, depth, section);
        }
        if let Some(value) = self.data_value(depth)? {
            self.put_data(key, value, section);
        }
        Ok(())
    }

    /// An element under a data section: its `#text` when it has one (an element with
    /// attributes and text), else its members. Members read before a `#text` turns up are
    /// taken back; after it, they are only checked.
    fn element(&mut self, key: Span, depth: usize, section: &str) -> Parsed<()> {
        let mark = self.fields.len();
        let mut text = Text::Unseen;
        self.members(depth, |p, child, depth| {
            if let Text::Seen(_) = text {
                return p.skip_value(depth);
            }
            match p.bytes(child) {
                b"#attributes" => p.skip_value(depth),
                b"#text" => {
                    text = Text::Seen(p.data_value(depth)?);
                    Ok(())
                }
                _ => p.member(child, depth, section),
            }
        })?;
        if let Text::Seen(text) = text {
            self.fields.truncate(mark);
            if let Some(value) = text {
                self.put_data(key, value, section);
            }
        }
        Ok(())
    }

    /// [`Builder::children`] of `UserData`'s first member, which also returns the rewritten
    /// data value of the member's first `#text`.
    fn wrapper(&mut self, depth: usize, section: &str) -> Parsed<Text> {
        let mut text = Text::Unseen;
        self.members(depth, |p, key, depth| {
            let first_text = matches!(text, Text::Unseen) && p.bytes(key) == b"#text";
            match p.bytes(key) {
                b"#attributes" => p.skip_value(depth),
                _ if p.peek() == Some(b'{') => {
                    if first_text {
                        text = Text::Seen(None);
                    }
                    p.element(key, depth, section)
                }
                _ => {
                    let value = p.data_value(depth)?.map(|v| p.normalize(v));
                    if first_text {
                        text = Text::Seen(value);
                    }
                    if let Some(value) = value {
                        p.put_named(key, value, section);
                    }
                    Ok(())
                }
            }
        })?;
        Ok(text)
    }

    /// `ProcessID`, `ThreadID`, `UserID`: copies of the Execution / Security attributes, added
    /// only when no field has that name.
    fn aliases(&mut self) {
        for (alias, source) in ALIASES {
            let value = match self.system[source] {
                Some(index) => self.fields.get(index as usize).map(|f| f.value),
                None => self
                    .find(MODEL_HASHES[source], MODEL_NAMES[source].as_bytes())
                    .map(|i| self.fields[i].value),
            };
            if let Some(value) = value
                && self
                    .find(MODEL_HASHES[alias], MODEL_NAMES[alias].as_bytes())
                    .is_none()
            {
                self.push_model(alias, value);
            }
        }
    }

    // ---- Values.

    /// A scalar value; `None` for null and for nested values (which are only checked).
    #[inline(always)]
    fn scalar(&mut self, depth: usize) -> Parsed<Option<Value>> {
        self.check_depth(depth)?;
        Ok(Some(match self.peek() {
            Some(b'"') => Value::Str(self.string()?),
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b't') => {
                self.literal(b"true")?;
                Value::Bool(true)
            }
            Some(b'f') => {
                self.literal(b"false")?;
                Value::Bool(false)
            }
            _ => {
                self.skip_value(depth)?;
                return Ok(None);
            }
        }))
    }

    /// A data value: scalars as they are, arrays (several unnamed `<Data>`) joined with
    /// `"\n"`, nulls and objects `None`.
    #[inline(always)]
    fn data_value(&mut self, depth: usize) -> Parsed<Option<Value>> {
        if self.peek() != Some(b'[') {
            return self.scalar(depth);
        }
        self.check_depth(depth)?;
        let start = self.extra.len();
        let mut first = true;
        self.elements(depth, |p, depth| {
            if !first {
                p.extra.push(b'\n');
            }
            first = false;
            p.write_as_text(depth)
        })?;
        Ok(Some(Value::Str(self.extra_span(start))))
    }

    /// Writes an element of a joined value as text. Numbers and booleans are written the way
    /// the reference model writes them (Python's `str`: `True`, `1.0`); null is empty; a
    /// nested value, which no known provider produces, as compact JSON.
    fn write_as_text(&mut self, depth: usize) -> Parsed<()> {
        self.check_depth(depth)?;
        match self.peek() {
            Some(b'[' | b'{') => return self.write_json(depth),
            Some(b'n') => return self.literal(b"null"),
            _ => {}
        }
        match self.scalar(depth)? {
            Some(Value::Str(s)) => {
                let text = resolve(&self.buf, &[], s);
                self.extra.extend_from_slice(text);
            }
            Some(Value::Bool(b)) => {
                self.extra
                    .extend_from_slice(if b { b"True" } else { b"False" });
            }
            Some(number) => write_number(self.extra, number),
            None => {}
        }
        Ok(())
    }

    /// Writes a nested value as compact JSON, strings as Rust writes them with `{:?}`.
    fn write_json(&mut self, depth: usize) -> Parsed<()> {
        self.check_depth(depth)?;
        match self.peek() {
            Some(b'[') => {
                self.extra.push(b'[');
                let mut first = true;
                self.elements(depth, |p, depth| {
                    if !first {
                        p.extra.push(b',');
                    }
                    first = false;
                    p.write_json(depth)
                })?;
                self.extra.push(b']');
            }
            Some(b'{') => {
                self.extra.push(b'{');
                let mut first = true;
                self.members(depth, |p, key, depth| {
                    if !first {
                        p.extra.push(b',');
                    }
                    first = false;
                    let Ok(key) = std::str::from_utf8(resolve(&p.buf, &[], key)) else {
                        return Err(p.fail(RecordError::Utf8));
                    };
                    let _ = write!(p.extra, "{key:?}:");
                    p.write_json(depth)
                })?;
                self.extra.push(b'}');
            }
            Some(b'n') => {
                self.literal(b"null")?;
                self.extra.extend_from_slice(b"null");
            }
            _ => match self.scalar(depth)? {
                Some(Value::Str(s)) => {
                    let Ok(text) = std::str::from_utf8(resolve(&self.buf, &[], s)) else {
                        return Err(self.fail(RecordError::Utf8));
                    };
                    let _ = write!(self.extra, "{text:?}");
                }
                Some(Value::Bool(b)) => {
                    self.extra
                        .extend_from_slice(if b { b"true" } else { b"false" });
                }
                Some(number) => write_number(self.extra, number),
                None => {}
            },
        }
        Ok(())
    }
}

fn write_number(out: &mut Vec<u8>, number: Value) {
    let _ = match number {
        Value::Int(i) => write!(out, "{i}"),
        Value::UInt(u) => write!(out, "{u}"),
        Value::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 => {
            write!(out, "{f:.1}")
        }
        Value::Float(f) => write!(out, "{f}"),
        Value::Str(_) | Value::Bool(_) | Value::Null => Ok(()),
    };
}

/// Byte classes for the two forms: a digit, a lowercase hex letter.
const DIGIT: u8 = 1;
const HEX_LETTER: u8 = 2;
const CLASSES: [u8; 256] = {
    let mut classes = [0; 256];
    let mut c = b'0';
    while c <= b'9' {
        classes[c as usize] = DIGIT;
        c += 1;
    }
    let mut c = b'a';
    while c <= b'f' {
        classes[c as usize] = HEX_LETTER;
        c += 1;
    }
    classes
};

/// `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`, lowercase hex digits.
fn is_braced_lowercase_guid(b: &[u8]) -> bool {
    let [b'{', inner @ .., b'}'] = b else {
        return false;
    };
    inner.len() == 36
        && inner.iter().enumerate().fold(true, |ok, (i, &c)| {
            ok & if matches!(i, 8 | 13 | 18 | 23) {
                c == b'-'
            } else {
                CLASSES[usize::from(c)] != 0
            }
        })
}

/// `YYYY-MM-DDTHH:MM:SS.fffffffZ`.
fn is_seven_digit_timestamp(b: &[u8]) -> bool {
    const FORM: &[u8; 28] = b"0000-00-00T00:00:00.0000000Z";
    b.len() == 28
        && b.iter().zip(FORM).fold(true, |ok, (&c, &f)| {
            ok & if f == b'0' {
                CLASSES[usize::from(c)] == DIGIT
            } else {
                c == f
            }
        })
}
