//! Event sources for hunting: EVTX files (through the `evtx` crate) and JSON / JSON-lines
//! logs, seen through one borrowed, read-only [`Event`] view.
//!
//! The engine only ever asks an event for a field by name ([`Event::get`]) or walks all of
//! its values (keyword searches, output), so a source can keep its own representation and
//! hand out borrowed values without building a map per event.
//!
//! # Reading
//!
//! * [`discover`] turns the paths a user gives (files, folders, `-`) into [`Input`]s,
//!   recognised by content (the EVTX signature, JSON), with one error per path that is not a log.
//! * [`split_into_parts`] cuts them into [`Part`]s: whole files, and large EVTX files in runs of
//!   chunks, so that a parallel caller has work of similar sizes.
//! * A [`Reader`] reads a part and calls back with a [`RecordMeta`] and a [`FlatEvent`] per
//!   event; it reuses its buffers, so reading allocates nothing per event once warm, and memory
//!   does not grow with the input. [`read_parallel`] runs parts on the rayon pool.
//! * Problems inside a file (a corrupt chunk, a broken line) are skipped and counted in
//!   [`FileStats`]; they never stop the read.
//!
//! Windows events follow the reference event model, described in [`evtx_model`].

#![warn(missing_docs)]

use std::borrow::Cow;

mod discover;
mod error;
pub mod evtx_model;
mod evtx_source;
mod flat;
pub mod json_source;
mod read;
#[cfg(test)]
mod test_random;
mod time;
mod tree;

pub use discover::{Discovery, Input, InputKind, classify, discover, relative_key};
pub use error::LogError;
pub use flat::{FlatEvent, name_hash as field_name_hash, same_name as same_field_name};
pub use read::{
    DEFAULT_CHUNKS_PER_PART, FileStats, JSON_BYTES_PER_PART, LineRange, MAX_ERRORS_PER_FILE, Part,
    Reader, RecordMeta, read_file, read_parallel, split_into_parts, split_json_lines,
};
pub use time::{
    CHUNK_SKIP_MARGIN_MICROS, TimeWindow, format_timestamp_micros, format_timestamp_seconds,
    parse_timestamp_micros,
};

/// A value of an event field, borrowed from the event where possible.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    /// Text.
    Str(Cow<'a, str>),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer too large for `i64`.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// An explicit null (JSON `null`); an absent field is `None` instead.
    Null,
}

impl FieldValue<'_> {
    /// The value as text, the way Sigma compares strings against numbers too
    /// (`4688` matches `"4688"`). `None` for null.
    pub fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            FieldValue::Str(s) => Some(Cow::Borrowed(s.as_ref())),
            FieldValue::Int(i) => Some(Cow::Owned(i.to_string())),
            FieldValue::UInt(u) => Some(Cow::Owned(u.to_string())),
            FieldValue::Float(f) => Some(Cow::Owned(f.to_string())),
            FieldValue::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            FieldValue::Null => None,
        }
    }

    /// The value as a number, when it is one or is text that parses as one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Int(i) => Some(*i as f64),
            FieldValue::UInt(u) => Some(*u as f64),
            FieldValue::Float(f) => Some(*f),
            FieldValue::Str(s) => s.trim().parse().ok(),
            FieldValue::Bool(_) | FieldValue::Null => None,
        }
    }
}

/// A read-only view of one event.
///
/// Field names are matched ASCII-case-insensitively (Windows field names are not
/// consistently cased across providers, and the reference semantics treat them so).
/// Nested JSON objects are reached by dotted paths (`process.parent.name`).
pub trait Event {
    /// The value of `field`, or `None` when the event has no such field.
    fn get(&self, field: &str) -> Option<FieldValue<'_>>;

    /// Calls `f` with every leaf field of the event, as `(dotted name, value)`.
    fn for_each_field(&self, f: &mut dyn FnMut(&str, FieldValue<'_>));

    /// Calls `f` with every value of `field`: a JSON array gives one value per element, so
    /// that a rule matches when any element does. The default gives [`Event::get`]'s value.
    fn for_each_value(&self, field: &str, f: &mut dyn FnMut(FieldValue<'_>)) {
        if let Some(value) = self.get(field) {
            f(value);
        }
    }

    /// [`Event::for_each_field`] with each name's [`field_name_hash`]; events that keep
    /// the hashes give them without hashing again.
    fn for_each_field_hashed(&self, f: &mut dyn FnMut(u32, &str, FieldValue<'_>)) {
        self.for_each_field(&mut |name, value| f(field_name_hash(name), name, value));
    }

    /// [`Event::for_each_value`] for a `field` whose [`field_name_hash`] is `hash`.
    fn for_each_value_hashed(&self, field: &str, hash: u32, f: &mut dyn FnMut(FieldValue<'_>)) {
        let _ = hash;
        self.for_each_value(field, f);
    }

    /// A text in which every string value of the event occurs verbatim, other text
    /// possibly too (names, values' separators), when the event keeps one: a search for
    /// literals in any value can scan it once instead of value by value. Numbers and
    /// booleans need not occur in it.
    fn text_of_values(&self) -> Option<&str> {
        None
    }
}
