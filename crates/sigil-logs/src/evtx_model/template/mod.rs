//! Records read straight from their template: the fast path of the EVTX model.
//!
//! Almost every EVTX record is an instance of a template: the template, stored once in its
//! chunk, is the event's XML with numbered slots; the record holds the slots' typed values.
//! Windows writes most events as two instances: the `System` template, one of whose slots
//! holds a BinXML fragment that is itself an instance of the provider's `EventData`
//! template. Where the templates have the shape of an ordinary Windows event (`System`, and
//! an `EventData` made of `<Data Name="...">` elements), their slots are mapped once per run
//! to the model's fields (a [`Shape`]), and each record's values are written straight into
//! the flat event: the record is not rendered to JSON and read back.
//!
//! Everything else is left to the JSON path ([`super::read_record`]), which stays the
//! reference: user data, unnamed or repeated data, value types whose text this path does not
//! reproduce (floats, arrays, system times, ANSI strings, ...), values whose size is not their
//! type's, and records that are not exactly one instance. A test reads every record of the
//! shared corpus both ways and requires the same events, field by field.
//!
//! This file holds the shapes and the reading of a record into fields; `definition.rs` reads
//! template definitions (and their fingerprints), `values.rs` decodes slot values and writes
//! their text.

use std::rc::Rc;

use super::{Builder, SYSTEM_FIELDS, Scratch, SystemIndex, finish, system_element, system_slot};
use crate::flat::{FlatEvent, Value, name_hash_bytes, same_name_bytes};
use crate::tree::Span;
use definition::{Element, fingerprint, read_template};
use values::{
    HEX_UPPER, Val, push_filetime, push_guid, push_hex, push_sid, push_utf16, read_values,
};

mod definition;
mod values;

/// A DependencyId that names no slot.
const NO_DEPENDENCY: u16 = 0xffff;

/// What the template path keeps from one record to the next: the shapes of the templates
/// seen, and the buffers for a record's values.
#[derive(Debug, Default)]
pub(crate) struct Shapes {
    known: Known,
    values: Vec<Val>,
    nested: Vec<Val>,
}

/// The templates seen, each with its shape (`None`: not one the fast path reads).
#[derive(Debug, Default)]
struct Known {
    /// This chunk's templates by the offset of their definition.
    chunk: Vec<(u32, Option<Rc<Shape>>)>,
    /// Every template seen, by [`fingerprint`].
    run: rustc_hash::FxHashMap<(u64, u64), Option<Rc<Shape>>>,
}

/// The most templates [`Known`] keeps from one chunk to the next; past it, it starts over.
const MAX_SEEN: usize = 4096;

impl Shapes {
    /// Forgets the templates of the previous chunk (offsets are chunk-relative).
    pub(crate) fn clear(&mut self) {
        self.known.chunk.clear();
    }
}

impl Known {
    /// The shape of the template defined at `offset` in `chunk`.
    fn get(&mut self, chunk: &[u8], offset: u32) -> Option<Rc<Shape>> {
        if let Some((_, shape)) = self.chunk.iter().find(|(o, _)| *o == offset) {
            return shape.clone();
        }
        let shape = match fingerprint(chunk, offset) {
            Some(key) => {
                if self.run.len() >= MAX_SEEN {
                    self.run.clear();
                }
                self.run
                    .entry(key)
                    .or_insert_with(|| read_shape(chunk, offset))
                    .clone()
            }
            None => None,
        };
        self.chunk.push((offset, shape.clone()));
        shape
    }
}

fn read_shape(chunk: &[u8], offset: u32) -> Option<Rc<Shape>> {
    read_template(chunk, offset).and_then(|root| Shape::of(&root).map(Rc::new))
}

/// Where a value of the model comes from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// A slot of the template, filled by each record; optional slots are left out when empty.
    Slot { index: u16, optional: bool },
    /// Text written in the template itself (UTF-8).
    Text(Box<str>),
}

/// One value of the model: its source, and the slots the elements around it depend on (an
/// element whose dependency is NULL is left out, with everything in it).
#[derive(Debug, Clone)]
struct Item {
    source: Source,
    dependencies: Vec<u16>,
}

/// How a template's slots become the model's fields.
#[derive(Debug)]
pub(crate) struct Shape {
    /// Whether the root is `Event` (else `EventData`, a fragment nested in an `Event`).
    event: bool,
    /// System fields (index in `SYSTEM_FIELDS`), in template order: a later one wins.
    system: Vec<(usize, Item)>,
    /// Named event data, in template order, with the hash of each name.
    data: Vec<(Box<str>, u32, Item)>,
    /// The slot of an `Event` that holds its `EventData` as a nested fragment.
    nested: Option<Item>,
}

/// Why a record goes to the JSON path instead.
#[derive(Debug)]
pub(crate) struct Fallback;

impl Shape {
    /// The shape of a template whose root is `root`, when it is an ordinary event or the
    /// `EventData` of one.
    fn of(root: &Element) -> Option<Shape> {
        let mut shape = Shape {
            event: root.name == "Event",
            system: Vec::new(),
            data: Vec::new(),
            nested: None,
        };
        if !shape.event {
            if root.name != "EventData" {
                return None;
            }
            shape.read_event_data(root, &[])?;
            return Some(shape);
        }
        let outer = dependencies(&[], root);
        match root.content.as_slice() {
            [] => {}
            [source @ Source::Slot { .. }] => shape.nested = Some(item(source, &outer)),
            _ => return None,
        }
        let (mut system, mut event_data) = (false, false);
        for child in &root.children {
            match child.name.as_str() {
                "System" if !system => {
                    system = true;
                    shape.read_system(child, &outer)?;
                }
                "EventData" if !event_data && shape.nested.is_none() => {
                    event_data = true;
                    shape.read_event_data(child, &outer)?;
                }
                _ => return None,
            }
        }
        system.then_some(shape)
    }

    fn read_system(&mut self, system: &Element, outer: &[u16]) -> Option<()> {
        if !system.attributes.is_empty() || !system.content.is_empty() {
            return None;
        }
        let outer = dependencies(outer, system);
        let mut seen: Vec<&str> = Vec::new();
        for element in &system.children {
            if !element.children.is_empty() || element.content.len() > 1 {
                return None;
            }
            let name = element.name.as_str();
            if seen.contains(&name) {
                return None;
            }
            seen.push(name);
            // Elements no System field comes from are not read by the model.
            if system_element(name.as_bytes()).is_none() {
                continue;
            }
            let dependencies = dependencies(&outer, element);
            for (attribute, content) in &element.attributes {
                let [source] = content.as_slice() else {
                    return None;
                };
                if let Some(slot) = system_slot(name.as_bytes(), attribute.as_bytes()) {
                    self.system.push((slot, item(source, &dependencies)));
                }
            }
            if let [source] = element.content.as_slice() {
                // With attributes the element is an object in JSON, whose text the model only
                // reads for `EventID`.
                if name != "EventID" && !element.attributes.is_empty() {
                    return None;
                }
                if let Some(slot) = system_slot(name.as_bytes(), b"") {
                    self.system.push((slot, item(source, &dependencies)));
                }
            }
        }
        Some(())
    }

    fn read_event_data(&mut self, event_data: &Element, outer: &[u16]) -> Option<()> {
        if !event_data.attributes.is_empty() || !event_data.content.is_empty() {
            return None;
        }
        let outer = dependencies(outer, event_data);
        for data in &event_data.children {
            if data.name != "Data" || !data.children.is_empty() {
                return None;
            }
            let [(attribute, name)] = data.attributes.as_slice() else {
                return None;
            };
            let ([Source::Text(name)], [source]) = (name.as_slice(), data.content.as_slice())
            else {
                return None;
            };
            if attribute != "Name"
                || name.is_empty()
                || self
                    .data
                    .iter()
                    .any(|(n, _, _)| same_name_bytes(n.as_bytes(), name.as_bytes()))
            {
                return None;
            }
            let dependencies = dependencies(&outer, data);
            let hash = name_hash_bytes(name.as_bytes());
            self.data
                .push((name.clone(), hash, item(source, &dependencies)));
        }
        Some(())
    }
}

fn dependencies(outer: &[u16], element: &Element) -> Vec<u16> {
    let mut all = outer.to_vec();
    if element.dependency != NO_DEPENDENCY {
        all.push(element.dependency);
    }
    all
}

fn item(source: &Source, dependencies: &[u16]) -> Item {
    Item {
        source: source.clone(),
        dependencies: dependencies.to_vec(),
    }
}

pub(crate) fn read_templated(
    chunk: &[u8],
    start: usize,
    end: usize,
    shapes: &mut Shapes,
    event: &mut FlatEvent,
    scratch: &mut Scratch,
) -> Option<SystemIndex> {
    // A fragment header, then the instance.
    if chunk.get(start) != Some(&0x0f) || end > chunk.len() {
        return None;
    }
    let Shapes {
        known,
        values,
        nested,
    } = shapes;
    let (shape, data) = read_both(chunk, start, end, known, values, nested)?;
    let data = data.as_deref().map(|d| (d, nested.as_slice()));
    read_instance(chunk, &shape, values, data, event, scratch).ok()
}

/// The shapes and values of the record at `chunk[start..end]` and of its nested `EventData`.
fn read_both(
    chunk: &[u8],
    start: usize,
    end: usize,
    shapes: &mut Known,
    values: &mut Vec<Val>,
    nested: &mut Vec<Val>,
) -> Option<(Rc<Shape>, Option<Rc<Shape>>)> {
    let definition = read_values(chunk, start + 4, end, values)?;
    let shape = shapes.get(chunk, definition).filter(|s| s.event)?;
    let Some(slot) = &shape.nested else {
        return Some((shape, None));
    };
    let Source::Slot { index, .. } = slot.source else {
        return None;
    };
    match *values.get(usize::from(index))? {
        Val::BinXml(at, end) if at < end => {
            if chunk[at] != 0x0f {
                return None;
            }
            let definition = read_values(chunk, at + 4, end, nested)?;
            let data = shapes.get(chunk, definition).filter(|s| !s.event)?;
            Some((shape, Some(data)))
        }
        // Left out: no event data.
        Val::Null | Val::BinXml(..) => Some((shape, None)),
        _ => None,
    }
}

/// Reads one record of template `shape`, whose slots hold `values` (and whose nested
/// `EventData`, if any, is `data` with its values), into `event` (whose text buffer is
/// reused). On [`Fallback`] the event is left empty.
fn read_instance(
    chunk: &[u8],
    shape: &Shape,
    values: &[Val],
    data: Option<(&Shape, &[Val])>,
    event: &mut FlatEvent,
    scratch: &mut Scratch,
) -> Result<SystemIndex, Fallback> {
    let mut buf = std::mem::take(event.text_mut()).into_bytes();
    buf.clear();
    event.clear();
    let extra = &mut scratch.extra;
    extra.clear();
    let mut builder = Builder::new(buf, extra, event.fields_mut());
    let mut fields = || {
        builder.system_from(chunk, shape, values)?;
        builder.data_from(chunk, shape, values)?;
        if let Some((data, values)) = data {
            builder.data_from(chunk, data, values)?;
        }
        builder.aliases();
        Ok(())
    };
    let outcome = fields();
    let Builder { buf, system, .. } = builder;
    let result = outcome.and_then(|()| finish(buf, extra, event).map_err(|_| Fallback));
    match result {
        Ok(()) => Ok(SystemIndex { fields: system }),
        Err(fallback) => {
            event.clear();
            Err(fallback)
        }
    }
}

impl Builder<'_> {
    /// The System fields of a template instance, as [`Builder::system`] makes them from its
    /// JSON.
    fn system_from(&mut self, chunk: &[u8], shape: &Shape, values: &[Val]) -> Result<(), Fallback> {
        let mut slots: [Option<Value>; SYSTEM_FIELDS.len()] = [None; SYSTEM_FIELDS.len()];
        for (slot, item) in &shape.system {
            slots[*slot] = self.item_value(chunk, item, values)?;
        }
        self.push_system(&slots).map_err(|_| Fallback)
    }

    /// The named event data of a template instance, as [`Builder::event_data`] makes them.
    fn data_from(&mut self, chunk: &[u8], shape: &Shape, values: &[Val]) -> Result<(), Fallback> {
        for (name, hash, item) in &shape.data {
            if let Some(value) = self.item_value(chunk, item, values)? {
                let name = self.write(name.as_bytes());
                let value = self.normalize(value);
                self.put_named_hashed(name, *hash, value, "EventData");
            }
        }
        Ok(())
    }

    /// Appends `bytes` to the record's text.
    fn write(&mut self, bytes: &[u8]) -> Span {
        let start = self.buf.len() as u32;
        self.buf.extend_from_slice(bytes);
        Span {
            start,
            end: self.buf.len() as u32,
        }
    }

    /// The value of `item` in this record (`None`: left out or null), as the model would have
    /// read it from the JSON the crate renders.
    fn item_value(
        &mut self,
        chunk: &[u8],
        item: &Item,
        values: &[Val],
    ) -> Result<Option<Value>, Fallback> {
        for &dependency in &item.dependencies {
            match values.get(usize::from(dependency)) {
                Some(Val::Null) => return Ok(None),
                Some(value) if value.is_empty(chunk) == Some(false) => {}
                _ => return Err(Fallback),
            }
        }
        match &item.source {
            Source::Text(text) if !text.is_empty() => {
                Ok(Some(Value::Str(self.write(text.as_bytes()))))
            }
            Source::Text(_) => Err(Fallback),
            Source::Slot { index, optional } => {
                let value = *values.get(usize::from(*index)).ok_or(Fallback)?;
                match (value, value.is_empty(chunk)) {
                    (Val::Null, _) | (_, Some(true)) if *optional => Ok(None),
                    (Val::Null, _) => Ok(None),
                    _ => self.value(chunk, value).map(Some),
                }
            }
        }
    }

    /// A substitution value as the model reads it from its JSON: integers and booleans as
    /// JSON numbers and booleans, the rest as the crate's text.
    fn value(&mut self, chunk: &[u8], value: Val) -> Result<Value, Fallback> {
        let start = self.buf.len();
        match value {
            Val::Int(v) => return Ok(Value::Int(v)),
            Val::UInt(v) => return Ok(Value::UInt(v)),
            Val::Bool(v) => return Ok(Value::Bool(v)),
            Val::Utf16(from, to) => push_utf16(&mut self.buf, &chunk[from..to]),
            Val::Guid(at) => {
                let guid: &[u8; 16] = chunk[at..at + 16].try_into().map_err(|_| Fallback)?;
                push_guid(&mut self.buf, guid);
            }
            Val::FileTime(time) => push_filetime(&mut self.buf, time).ok_or(Fallback)?,
            Val::Sid(from, to) => push_sid(&mut self.buf, &chunk[from..to]),
            Val::Hex(v) => push_hex(&mut self.buf, v),
            Val::Binary(from, to) if from < to => {
                for &b in &chunk[from..to] {
                    self.buf.extend_from_slice(&[
                        HEX_UPPER[usize::from(b >> 4)],
                        HEX_UPPER[usize::from(b & 15)],
                    ]);
                }
            }
            _ => return Err(Fallback),
        }
        // Rewritten to the reference form later by `Builder::normalize`, as on the JSON path.
        Ok(Value::Str(Span {
            start: start as u32,
            end: self.buf.len() as u32,
        }))
    }
}
