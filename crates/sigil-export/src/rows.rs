//! Events as compact rows, between reading and writing.
//!
//! A worker reads a part of a log and writes each event as a row of `(column, value)`
//! pairs into a [`Block`], with the part's own column names; the ordered side merges the
//! names into the run's [`Columns`] (the union of all names, each with the narrowest type
//! that holds every value seen) and spills the block to a temporary file. Once every log
//! is read the schema is known, and the blocks are read back ([`RowReader`]) and written
//! with it.

use std::collections::HashMap;

use sigil_logs::{Event, FieldValue, same_field_name};

/// The columns sigil adds to every row.
pub const SOURCE: &str = "source";
/// See [`SOURCE`].
pub const RECORD_ID: &str = "record_id";

/// What values a column has held: the narrowest type that holds them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// Only nulls so far.
    #[default]
    Null,
    /// Booleans.
    Bool,
    /// Integers that fit in `i64`.
    Int,
    /// Numbers, some with a fraction.
    Float,
    /// Text, or values of several kinds (written as text).
    Text,
}

impl Kind {
    /// The kind of one value.
    pub fn of(value: &FieldValue<'_>) -> Self {
        match value {
            FieldValue::Str(_) => Self::Text,
            FieldValue::Int(_) => Self::Int,
            FieldValue::UInt(u) => {
                if i64::try_from(*u).is_ok() {
                    Self::Int
                } else {
                    Self::Text
                }
            }
            FieldValue::Float(_) => Self::Float,
            FieldValue::Bool(_) => Self::Bool,
            FieldValue::Null => Self::Null,
        }
    }

    /// The narrowest kind that holds both.
    #[must_use]
    pub fn join(self, other: Self) -> Self {
        match (self, other) {
            (a, b) if a == b => a,
            (Self::Null, x) | (x, Self::Null) => x,
            (Self::Int, Self::Float) | (Self::Float, Self::Int) => Self::Float,
            _ => Self::Text,
        }
    }
}

const NULL: u8 = 0;
const STR: u8 = 1;
const INT: u8 = 2;
const FLOAT: u8 = 3;
const FALSE: u8 = 4;
const TRUE: u8 = 5;
const UINT: u8 = 6;

/// The name an event field is written under: its own, unless it is one of the columns
/// sigil adds, which keep their names (`source` of an event becomes `event_source`).
fn column_name(name: &str) -> String {
    if same_field_name(name, SOURCE) || same_field_name(name, RECORD_ID) {
        format!("event_{name}")
    } else {
        name.to_string()
    }
}

/// The rows of one part, with the part's own column names.
#[derive(Debug, Default)]
pub struct Block {
    /// The log the part comes from.
    pub source: String,
    /// Column names, in order of first appearance.
    pub names: Vec<String>,
    /// The kind of each column's values.
    pub kinds: Vec<Kind>,
    /// Whether some event held the column more than once (a list).
    pub multi: Vec<bool>,
    /// Rows written.
    pub rows: u64,
    /// The encoded rows.
    pub data: Vec<u8>,
    index: HashMap<u32, Vec<u32>>,
    /// For each column, the row (plus one) where it was last written.
    seen: Vec<u64>,
    /// For each column, whether it holds the field under its own name (not `event_NAME`).
    own_name: Vec<bool>,
    /// The columns of the last event's fields, in its order: the events of a part mostly
    /// repeat the fields of the one before, which are then found without a lookup.
    last: Vec<u32>,
    /// The current event's fields so far.
    current: Vec<u32>,
}

impl Block {
    /// An empty block for a part of `source`.
    pub fn new(source: String) -> Self {
        Self {
            source,
            ..Self::default()
        }
    }

    /// The column of `name` (with its hash), added when new. A renamed field
    /// (`event_source`) is found by its own name (`source`), whose hash it is kept under.
    fn column(&mut self, hash: u32, name: &str) -> u32 {
        // The field at this place in the last event, when it has the very same name (and so
        // is the column the lookup below finds: a name has one column).
        if let Some(&id) = self.last.get(self.current.len())
            && self.own_name[id as usize]
            && self.names[id as usize] == name
        {
            return id;
        }
        self.lookup(hash, name)
    }

    fn lookup(&mut self, hash: u32, name: &str) -> u32 {
        if let Some(ids) = self.index.get(&hash)
            && let Some(&id) = ids.iter().find(|&&id| {
                let stored = &self.names[id as usize];
                same_field_name(stored, name)
                    || stored
                        .strip_prefix("event_")
                        .is_some_and(|s| same_field_name(s, name))
            })
        {
            return id;
        }
        let id = self.names.len() as u32;
        let column = column_name(name);
        self.own_name.push(column == name);
        self.names.push(column);
        self.kinds.push(Kind::Null);
        self.multi.push(false);
        self.seen.push(0);
        self.index.entry(hash).or_default().push(id);
        id
    }

    /// Writes one event: its record id and every field of `event`.
    pub fn push(&mut self, record_id: Option<i64>, event: &dyn Event) {
        self.rows += 1;
        let row = self.rows;
        match record_id {
            Some(id) => {
                self.data.push(INT);
                self.data.extend_from_slice(&id.to_le_bytes());
            }
            None => self.data.push(NULL),
        }
        let count_at = self.data.len();
        self.data.extend_from_slice(&0u32.to_le_bytes());
        let mut count = 0u32;
        self.current.clear();
        event.for_each_field_hashed(&mut |hash, name, value| {
            let id = self.column(hash, name);
            self.current.push(id);
            let at = id as usize;
            self.kinds[at] = self.kinds[at].join(Kind::of(&value));
            if self.seen[at] == row {
                self.multi[at] = true;
            }
            self.seen[at] = row;
            count += 1;
            self.data.extend_from_slice(&id.to_le_bytes());
            encode(&mut self.data, &value);
        });
        self.data[count_at..count_at + 4].copy_from_slice(&count.to_le_bytes());
        std::mem::swap(&mut self.last, &mut self.current);
    }
}

fn encode(out: &mut Vec<u8>, value: &FieldValue<'_>) {
    match value {
        FieldValue::Str(s) => {
            out.push(STR);
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        FieldValue::Int(i) => {
            out.push(INT);
            out.extend_from_slice(&i.to_le_bytes());
        }
        FieldValue::UInt(u) => {
            if let Ok(i) = i64::try_from(*u) {
                out.push(INT);
                out.extend_from_slice(&i.to_le_bytes());
            } else {
                out.push(UINT);
                out.extend_from_slice(&u.to_le_bytes());
            }
        }
        FieldValue::Float(f) => {
            out.push(FLOAT);
            out.extend_from_slice(&f.to_le_bytes());
        }
        FieldValue::Bool(b) => out.push(if *b { TRUE } else { FALSE }),
        FieldValue::Null => out.push(NULL),
    }
}

/// A value read back from a block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Null.
    Null,
    /// Text.
    Str(&'a str),
    /// An integer.
    Int(i64),
    /// An integer beyond `i64`.
    UInt(u64),
    /// A number with a fraction.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// Reads the rows of a block's data.
#[derive(Debug)]
pub struct RowReader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> RowReader<'a> {
    /// A reader over encoded rows.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, at: 0 }
    }

    fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        let b = self.data.get(self.at..self.at + N)?.try_into().ok()?;
        self.at += N;
        Some(b)
    }

    /// The next row's record id and field count; `None` at the end (or on data that is
    /// not rows).
    pub fn row(&mut self) -> Option<(Option<i64>, u32)> {
        let record_id = match self.value()? {
            Value::Int(i) => Some(i),
            _ => None,
        };
        let count = u32::from_le_bytes(self.bytes()?);
        Some((record_id, count))
    }

    /// The next field of the row: its column and value.
    pub fn field(&mut self) -> Option<(u32, Value<'a>)> {
        let column = u32::from_le_bytes(self.bytes()?);
        Some((column, self.value()?))
    }

    fn value(&mut self) -> Option<Value<'a>> {
        let tag = *self.data.get(self.at)?;
        self.at += 1;
        Some(match tag {
            STR => {
                let len = u32::from_le_bytes(self.bytes()?) as usize;
                let bytes = self.data.get(self.at..self.at + len)?;
                self.at += len;
                Value::Str(std::str::from_utf8(bytes).ok()?)
            }
            INT => Value::Int(i64::from_le_bytes(self.bytes()?)),
            UINT => Value::UInt(u64::from_le_bytes(self.bytes()?)),
            FLOAT => Value::Float(f64::from_le_bytes(self.bytes()?)),
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            _ => Value::Null,
        })
    }
}

/// The run's columns: the union of the names of every block, in order of first
/// appearance, names compared as sigil compares field names (ignoring case and spaces).
#[derive(Debug, Default)]
pub struct Columns {
    /// Column names.
    pub names: Vec<String>,
    /// The kind of each column's values.
    pub kinds: Vec<Kind>,
    /// Whether some event held the column more than once.
    pub multi: Vec<bool>,
    by_key: HashMap<String, u32>,
}

/// A name as a key that equal field names share.
fn key(name: &str) -> String {
    name.bytes()
        .filter(|&b| b != b' ')
        .map(|b| char::from(b.to_ascii_lowercase()))
        .collect()
}

impl Columns {
    /// Merges a block's columns; the run's column of each of the block's columns.
    pub fn merge(&mut self, block: &Block) -> Vec<u32> {
        let mut map = Vec::with_capacity(block.names.len());
        for (i, name) in block.names.iter().enumerate() {
            let id = *self.by_key.entry(key(name)).or_insert_with(|| {
                self.names.push(name.clone());
                self.kinds.push(Kind::Null);
                self.multi.push(false);
                (self.names.len() - 1) as u32
            });
            let at = id as usize;
            self.kinds[at] = self.kinds[at].join(block.kinds[i]);
            self.multi[at] |= block.multi[i];
            map.push(id);
        }
        map
    }
}

/// The record id of an event as `sigil hunt` reports it: the first of `EventRecordID`
/// and `Event.System.EventRecordID` that reads as an integer.
pub fn record_id(event: &dyn Event) -> Option<i64> {
    const NAMES: [&str; 2] = ["EventRecordID", "Event.System.EventRecordID"];
    NAMES.iter().find_map(|n| match event.get(n)? {
        FieldValue::Int(i) => Some(i),
        FieldValue::UInt(u) => i64::try_from(u).ok(),
        v => v.as_text()?.trim().parse().ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigil_logs::FlatEvent;

    fn event(fields: &[(&str, FieldValue<'static>)]) -> FlatEvent {
        let mut e = FlatEvent::new();
        for (n, v) in fields {
            e.push(n, v.clone());
        }
        e
    }

    #[test]
    fn kinds_widen_to_what_holds_every_value() {
        assert_eq!(Kind::Int.join(Kind::Null), Kind::Int);
        assert_eq!(Kind::Int.join(Kind::Float), Kind::Float);
        assert_eq!(Kind::Int.join(Kind::Bool), Kind::Text);
        assert_eq!(Kind::of(&FieldValue::UInt(u64::MAX)), Kind::Text);
        assert_eq!(Kind::of(&FieldValue::UInt(7)), Kind::Int);
    }

    #[test]
    fn rows_read_back_as_written_and_names_merge() {
        let mut block = Block::new("a.evtx".into());
        block.push(
            Some(7),
            &event(&[
                ("EventID", FieldValue::Int(1)),
                ("Image", FieldValue::Str("C:\\x.exe".into())),
                ("source", FieldValue::Str("app".into())),
                ("list", FieldValue::Str("p".into())),
                ("list", FieldValue::Str("q".into())),
            ]),
        );
        block.push(
            None,
            &event(&[
                ("image", FieldValue::Str("y".into())),
                ("EventID", FieldValue::Float(1.5)),
                ("Big", FieldValue::UInt(u64::MAX)),
                ("B", FieldValue::Bool(true)),
            ]),
        );
        assert_eq!(
            block.names,
            ["EventID", "Image", "event_source", "list", "Big", "B"]
        );
        assert_eq!(block.kinds[0], Kind::Float);
        assert_eq!(block.multi, [false, false, false, true, false, false]);
        let mut rows = RowReader::new(&block.data);
        assert_eq!(rows.row(), Some((Some(7), 5)));
        assert_eq!(rows.field(), Some((0, Value::Int(1))));
        assert_eq!(rows.field(), Some((1, Value::Str("C:\\x.exe"))));
        assert_eq!(rows.field(), Some((2, Value::Str("app"))));
        assert_eq!(rows.field(), Some((3, Value::Str("p"))));
        assert_eq!(rows.field(), Some((3, Value::Str("q"))));
        assert_eq!(rows.row(), Some((None, 4)));
        assert_eq!(rows.field(), Some((1, Value::Str("y"))));
        assert_eq!(rows.field(), Some((0, Value::Float(1.5))));
        assert_eq!(rows.field(), Some((4, Value::UInt(u64::MAX))));
        assert_eq!(rows.field(), Some((5, Value::Bool(true))));
        assert_eq!(rows.row(), None);

        let mut other = Block::new("b.json".into());
        other.push(
            None,
            &event(&[("B", FieldValue::Int(1)), ("New Name", FieldValue::Null)]),
        );
        let mut columns = Columns::default();
        assert_eq!(columns.merge(&block), [0, 1, 2, 3, 4, 5]);
        assert_eq!(columns.merge(&other), [5, 6]);
        assert_eq!(columns.kinds[5], Kind::Text);
        assert_eq!(columns.kinds[6], Kind::Null);
        assert!(columns.multi[3]);
    }

    #[test]
    fn fields_in_the_last_event_s_places_find_their_columns() {
        let mut block = Block::new("a.json".into());
        let fields = |first: &str, second: &str| {
            event(&[
                (first, FieldValue::Str("x".into())),
                (second, FieldValue::Int(1)),
            ])
        };
        block.push(None, &fields("source", "Image"));
        block.push(None, &fields("source", "image"));
        block.push(None, &fields("event_source", "Image"));
        block.push(None, &fields("Image", "source"));
        assert_eq!(block.names, ["event_source", "Image", "event_source"]);
        let mut rows = RowReader::new(&block.data);
        let mut columns = Vec::new();
        while let Some((_, count)) = rows.row() {
            for _ in 0..count {
                columns.push(rows.field().expect("field").0);
            }
        }
        assert_eq!(columns, [0, 1, 0, 1, 2, 1, 1, 0]);
    }

    #[test]
    fn record_ids_as_hunt_reads_them() {
        assert_eq!(
            record_id(&event(&[("EventRecordID", FieldValue::Str(" 12 ".into()))])),
            Some(12)
        );
        assert_eq!(record_id(&event(&[("x", FieldValue::Int(1))])), None);
    }
}
