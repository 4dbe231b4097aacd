//! Records read straight from their template: the fast path of the EVTX model.
//!
//! Almost every EVTX record is an instance of a template: the template, stored once in its
//! chunk, is the event's XML with numbered slots; the record holds the slots' typed values.
//! Windows writes most events as two instances: the `System` template, one of whose slots
//! holds a BinXML fragment that is itself an instance of the provider's `EventData`
//! template. Where the templates have the shape of an ordinary Windows event (`System`, and
//! an `EventData` made of `<Data Name="...">` elements), their slots are mapped once per chunk
//! to the model's fields (a [`Shape`]), and each record's values are written straight into
//! the flat event: the record is not rendered to JSON and read back.
//!
//! Everything else is left to the JSON path ([`super::read_record`]), which stays the
//! reference: user data, unnamed or repeated data, value types whose text this path does not
//! reproduce (floats, arrays, system times, ANSI strings, ...), values whose size is not their
//! type's, and records that are not exactly one instance. A test reads every record of the
//! shared corpus both ways and requires the same events, field by field.

use std::hash::Hasher as _;
use std::rc::Rc;

use super::{Builder, SYSTEM_FIELDS, Scratch, SystemIndex, finish, system_element, system_slot};
use crate::flat::{FlatEvent, Value, name_hash_bytes, same_name_bytes};
use crate::tree::Span;

/// A DependencyId that names no slot.
const NO_DEPENDENCY: u16 = 0xffff;

/// The templates of one chunk, by the offset of their definition, each with its shape (`None`:
/// not one the fast path reads); and the buffers for the values of a record.
#[derive(Debug, Default)]
pub(crate) struct Shapes {
    /// This chunk's templates by offset.
    known: Vec<(u32, Option<Rc<Shape>>)>,
    /// Every template seen, by [`fingerprint`].
    seen: rustc_hash::FxHashMap<(u64, u64), Option<Rc<Shape>>>,
    values: Vec<Val>,
    nested: Vec<Val>,
}

/// The most templates [`Shapes`] keeps from one chunk to the next; past it, it starts over.
const MAX_SEEN: usize = 4096;

impl Shapes {
    /// Forgets the templates of the previous chunk (offsets are chunk-relative).
    pub(crate) fn clear(&mut self) {
        self.known.clear();
    }

    /// The shape of the template defined at `offset` in `chunk`.
    fn get(&mut self, chunk: &[u8], offset: u32) -> Option<Rc<Shape>> {
        if let Some((_, shape)) = self.known.iter().find(|(o, _)| *o == offset) {
            return shape.clone();
        }
        let shape = match fingerprint(chunk, offset) {
            Some(key) => {
                if self.seen.len() >= MAX_SEEN {
                    self.seen.clear();
                }
                self.seen
                    .entry(key)
                    .or_insert_with(|| read_shape(chunk, offset))
                    .clone()
            }
            None => None,
        };
        self.known.push((offset, shape.clone()));
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

// ---- Records.

/// A substitution value of a record, as the `evtx` crate decodes it; text and bytes as
/// offsets into the chunk.
#[derive(Debug, Clone, Copy)]
enum Val {
    Null,
    /// UTF-16LE code units; the text ends at the first NUL.
    Utf16(usize, usize),
    Int(i64),
    UInt(u64),
    Bool(bool),
    Guid(usize),
    FileTime(u64),
    Sid(usize, usize),
    Hex(u64),
    Binary(usize, usize),
    BinXml(usize, usize),
    /// A value this path does not read.
    Other,
}

impl Val {
    /// Whether the crate takes the value for an empty one (`None`: not known here).
    fn is_empty(self, chunk: &[u8]) -> Option<bool> {
        match self {
            Val::Null => Some(true),
            Val::Binary(start, end) | Val::BinXml(start, end) => Some(start == end),
            Val::Utf16(start, end) => Some(start == end || chunk[start..start + 2] == [0, 0]),
            Val::Other => None,
            _ => Some(false),
        }
    }
}

/// Decodes a value of type `kind` stored in `size` bytes at `at`, as the crate does; a value
/// whose size is not its type's is [`Val::Other`] (the crate reads such records its own way).
fn decode(chunk: &[u8], kind: u8, at: usize, size: usize) -> Val {
    let Some(bytes) = chunk.get(at..at + size) else {
        return Val::Other;
    };
    // The little-endian integer of a value of exactly `n` bytes.
    let le = |n: usize| -> Option<u64> {
        if size != n {
            return None;
        }
        let mut word = [0; 8];
        word[..n].copy_from_slice(bytes);
        Some(u64::from_le_bytes(word))
    };
    let value = match kind {
        0x00 => Some(Val::Null),
        // Its text ends at the first NUL, which `push_utf16` finds.
        0x01 if size.is_multiple_of(2) => Some(Val::Utf16(at, at + size)),
        0x03 => le(1).map(|v| Val::Int(i64::from(v as u8 as i8))),
        0x05 => le(2).map(|v| Val::Int(i64::from(v as u16 as i16))),
        0x07 => le(4).map(|v| Val::Int(i64::from(v as u32 as i32))),
        0x04 | 0x06 | 0x08 | 0x09 => le(match kind {
            0x04 => 1,
            0x06 => 2,
            0x08 => 4,
            _ => 8,
        })
        .map(|v| Val::Int(v as i64)),
        0x0a => le(8).map(|v| i64::try_from(v).map_or(Val::UInt(v), Val::Int)),
        0x0d => le(4).map(|v| match v as u32 as i32 {
            0 => Val::Bool(false),
            1 => Val::Bool(true),
            raw => Val::Int(i64::from(raw)),
        }),
        0x0e => Some(Val::Binary(at, at + size)),
        0x0f if size == 16 => Some(Val::Guid(at)),
        0x10 | 0x14 | 0x15 => match (kind, size) {
            (0x10 | 0x14, 4) | (0x10 | 0x15, 8) => le(size).map(Val::Hex),
            _ => None,
        },
        0x11 => le(8).map(Val::FileTime),
        0x13 if size >= 8 && size == 8 + 4 * usize::from(bytes[1]) => Some(Val::Sid(at, at + size)),
        0x21 => Some(Val::BinXml(at, at + size)),
        _ => None,
    };
    value.unwrap_or(Val::Other)
}

/// Reads the template instance whose token is at `at` in `chunk` and ends by `end`: its
/// values go to `values`; returns the offset of the template's definition.
fn read_values(chunk: &[u8], at: usize, end: usize, values: &mut Vec<Val>) -> Option<u32> {
    values.clear();
    if chunk.get(at) != Some(&0x0c) {
        return None;
    }
    // The token, one byte, the template id, the definition's offset (the definition follows
    // when it is defined here), the number of values, their (size, type) descriptors.
    let definition = read_u32(chunk, at + 6)?;
    let mut pos = at + 10;
    if pos == usize::try_from(definition).ok()? {
        pos += 24 + usize::try_from(read_u32(chunk, pos + 20)?).ok()?;
    }
    let count = usize::try_from(read_u32(chunk, pos)?).ok()?;
    let descriptors = pos + 4;
    pos = descriptors.checked_add(count.checked_mul(4)?)?;
    if pos > end {
        return None;
    }
    for i in 0..count {
        let size = usize::from(read_u16(chunk, descriptors + 4 * i)?);
        let kind = *chunk.get(descriptors + 4 * i + 2)?;
        values.push(decode(chunk, kind, pos, size));
        pos += size;
    }
    // Nothing but the end of the stream after the instance.
    (pos == end || (pos < end && chunk[pos] == 0)).then_some(definition)
}

/// Reads the record whose BinXML is `chunk[start..end]` straight from its templates into
/// `event`, when they have the shape of an ordinary event; `None` sends it to the JSON path
/// (the event is then left empty).
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
    let mut values = std::mem::take(&mut shapes.values);
    let mut nested = std::mem::take(&mut shapes.nested);
    let result =
        read_both(chunk, start, end, shapes, &mut values, &mut nested).and_then(|(shape, data)| {
            read_instance(
                chunk,
                &shape,
                &values,
                data.as_deref().map(|d| (d, nested.as_slice())),
                event,
                scratch,
            )
            .ok()
        });
    shapes.values = values;
    shapes.nested = nested;
    result
}

/// The shapes and values of the record at `chunk[start..end]` and of its nested `EventData`.
fn read_both(
    chunk: &[u8],
    start: usize,
    end: usize,
    shapes: &mut Shapes,
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
    let mut outcome = builder.system_from(chunk, shape, values);
    if outcome.is_ok() {
        outcome = builder.data_from(chunk, shape, values);
    }
    if let (Ok(()), Some((data, values))) = (&outcome, data) {
        outcome = builder.data_from(chunk, data, values);
    }
    if outcome.is_ok() {
        builder.aliases();
    }
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

/// A SID as the crate renders it: `S-revision-authority-sub-...`, the authority 48-bit
/// big-endian, the sub-authorities 32-bit little-endian.
fn push_sid(out: &mut Vec<u8>, sid: &[u8]) {
    let &[revision, count, a0, a1, a2, a3, a4, a5, ref subs @ ..] = sid else {
        out.extend_from_slice(b"S-?");
        return;
    };
    out.extend_from_slice(b"S-");
    out.extend_from_slice(itoa::Buffer::new().format(revision).as_bytes());
    out.push(b'-');
    let authority = u64::from_be_bytes([0, 0, a0, a1, a2, a3, a4, a5]);
    out.extend_from_slice(itoa::Buffer::new().format(authority).as_bytes());
    for sub in subs.chunks_exact(4).take(usize::from(count)) {
        out.push(b'-');
        let sub = u32::from_le_bytes([sub[0], sub[1], sub[2], sub[3]]);
        out.extend_from_slice(itoa::Buffer::new().format(sub).as_bytes());
    }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// UTF-16LE text up to its first NUL (as the crate reads text values) as UTF-8, an unpaired
/// surrogate as U+FFFD (as the crate renders text).
fn push_utf16(out: &mut Vec<u8>, bytes: &[u8]) {
    // ASCII, the common case, a byte per unit, eight units at a time.
    const NOT_ASCII: u64 = 0xff80_ff80_ff80_ff80;
    const UNIT_ONES: u64 = 0x0001_0001_0001_0001;
    const UNIT_HIGHS: u64 = 0x8000_8000_8000_8000;
    // The low bytes of four ASCII units, as four bytes.
    let pack = |w: u64| {
        let pairs = (w | (w >> 8)) & 0x0000_ffff_0000_ffff;
        (pairs | (pairs >> 16)) as u32
    };
    out.reserve(bytes.len() / 2);
    let mut rest = bytes;
    while let Some((eight, tail)) = rest.split_first_chunk::<16>() {
        let (low, high) = eight.split_at(8);
        let low = u64::from_le_bytes(low.try_into().unwrap_or_default());
        let high = u64::from_le_bytes(high.try_into().unwrap_or_default());
        // Not all ASCII, or a NUL unit among them: unit by unit.
        let nul = |w: u64| w.wrapping_sub(UNIT_ONES) & !w & UNIT_HIGHS;
        if (low | high) & NOT_ASCII != 0 || nul(low) | nul(high) != 0 {
            break;
        }
        let packed = u64::from(pack(low)) | u64::from(pack(high)) << 32;
        out.extend_from_slice(&packed.to_le_bytes());
        rest = tail;
    }
    while let Some((&[low, 0], tail)) = rest.split_first_chunk::<2>()
        && low < 0x80
    {
        if low == 0 {
            return;
        }
        out.push(low);
        rest = tail;
    }
    if rest.len() < 2 {
        return;
    }
    let units = rest
        .chunks_exact(2)
        .map(|u| u16::from_le_bytes([u[0], u[1]]))
        .take_while(|&u| u != 0);
    let mut encoded = [0; 4];
    for c in char::decode_utf16(units) {
        let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
        out.extend_from_slice(c.encode_utf8(&mut encoded).as_bytes());
    }
}

/// A GUID in the reference form: uppercase, no braces (the crate renders `{lowercase}`, which
/// the model rewrites). The first three fields are little-endian, the rest bytes in order.
fn push_guid(out: &mut Vec<u8>, guid: &[u8; 16]) {
    let mut text = [b'-'; 36];
    let data1 = u32::from_le_bytes([guid[0], guid[1], guid[2], guid[3]]);
    let data2 = u16::from_le_bytes([guid[4], guid[5]]);
    let data3 = u16::from_le_bytes([guid[6], guid[7]]);
    let data4 = u64::from_be_bytes([
        guid[8], guid[9], guid[10], guid[11], guid[12], guid[13], guid[14], guid[15],
    ]);
    let mut hex = |at: usize, digits: usize, value: u64| {
        for i in 0..digits {
            text[at + i] = HEX_UPPER[((value >> (4 * (digits - 1 - i))) & 15) as usize];
        }
    };
    hex(0, 8, u64::from(data1));
    hex(9, 4, u64::from(data2));
    hex(14, 4, u64::from(data3));
    hex(19, 4, data4 >> 48);
    hex(24, 12, data4 & 0xffff_ffff_ffff);
    out.extend_from_slice(&text);
}

/// `0x` and lowercase hex digits without leading zeros, as the crate renders hex integers.
fn push_hex(out: &mut Vec<u8>, value: u64) {
    let mut text = [b'0'; 18];
    text[1] = b'x';
    let digits = (64 - value.leading_zeros()).div_ceil(4).max(1) as usize;
    for i in 0..digits {
        text[1 + digits - i] = HEX_LOWER[((value >> (i * 4)) & 15) as usize];
    }
    out.extend_from_slice(&text[..2 + digits]);
}

/// A FILETIME in the reference form, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (the crate renders seven
/// fractional digits, which the model cuts to six). `None` for times the crate renders in
/// another way (past `i64::MAX` ticks or year 9999).
fn push_filetime(out: &mut Vec<u8>, filetime: u64) -> Option<()> {
    const TICKS_PER_SECOND: u64 = 10_000_000;
    const TICKS_PER_DAY: u64 = 86_400 * TICKS_PER_SECOND;
    if filetime > i64::MAX as u64 {
        return None;
    }
    let (days, ticks) = (filetime / TICKS_PER_DAY, filetime % TICKS_PER_DAY);
    // Howard Hinnant's `civil_from_days`, counted from 0000-03-01 (584,694 days before
    // 1601-01-01) in eras of 400 years.
    let z = days + 584_694;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = era * 400 + yoe + u64::from(month <= 2);
    if year > 9_999 {
        return None;
    }
    let seconds = ticks / TICKS_PER_SECOND;
    let mut text = *b"0000-00-00T00:00:00.000000Z";
    for (range, value) in [
        (0..4, year),
        (5..7, month),
        (8..10, day),
        (11..13, seconds / 3_600),
        (14..16, seconds / 60 % 60),
        (17..19, seconds % 60),
        (20..26, ticks % TICKS_PER_SECOND / 10),
    ] {
        let mut value = value;
        for b in text[range].iter_mut().rev() {
            *b = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    out.extend_from_slice(&text);
    Some(())
}

// ---- Template definitions.

/// An element of a template definition.
#[derive(Debug, Default)]
struct Element {
    name: String,
    /// The slot whose NULL value leaves the element out ([`NO_DEPENDENCY`]: none).
    dependency: u16,
    attributes: Vec<(String, Vec<Source>)>,
    children: Vec<Element>,
    /// Text and slots between the element's tags.
    content: Vec<Source>,
}

/// Reads the template defined at `offset` in `chunk` into its root element; `None` for
/// anything unexpected (the JSON path then reads its records).
fn read_template(chunk: &[u8], offset: u32) -> Option<Element> {
    TemplateReader::at(chunk, offset)?.read()
}

/// What a template's [`Shape`] is made of, hashed: the tokens, dependencies, names (their
/// text, not where the chunk keeps them), texts and slots that [`TemplateReader::read`] reads.
/// The same template in another chunk or file has the same fingerprint, so its shape is read
/// once per run instead of once per chunk. Two independent 64-bit hashes make a collision
/// between different templates practically impossible.
fn fingerprint(chunk: &[u8], offset: u32) -> Option<(u64, u64)> {
    TemplateReader::at(chunk, offset)?.fingerprint()
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

/// The template's BinXML tokens, as the `evtx` crate reads template definitions.
struct TemplateReader<'a> {
    chunk: &'a [u8],
    pos: usize,
    end: usize,
}

/// The most elements open at once in a template the fast path reads.
const MAX_DEPTH: usize = 16;

impl<'a> TemplateReader<'a> {
    /// A reader of the template defined at `offset` in `chunk`: after the next template's
    /// offset, the GUID and the size, its BinXML.
    fn at(chunk: &'a [u8], offset: u32) -> Option<Self> {
        let start = usize::try_from(offset).ok()?;
        let size = read_u32(chunk, start.checked_add(20)?)?;
        let pos = start + 24;
        let end = pos.checked_add(usize::try_from(size).ok()?)?;
        (end <= chunk.len()).then_some(TemplateReader { chunk, pos, end })
    }

    /// The UTF-16 bytes of the name a name reference points to, moving past its definition
    /// when it is defined right here.
    fn name_bytes(&mut self) -> Option<&'a [u8]> {
        let offset = self.u32()?;
        let at = usize::try_from(offset).ok()?;
        // Link to the next name, hash, character count, characters, NUL.
        let count = usize::from(read_u16(self.chunk, at.checked_add(6)?)?);
        let chars = at + 8;
        let name = self.chunk.get(chars..chars.checked_add(count * 2)?)?;
        if at == self.pos {
            self.pos = chars + count * 2 + 2;
        }
        Some(name)
    }

    /// See [`fingerprint`]: the tokens [`TemplateReader::read`] accepts, hashed.
    fn fingerprint(&mut self) -> Option<(u64, u64)> {
        let mut fx = rustc_hash::FxHasher::default();
        let mut fnv: u64 = 0xcbf2_9ce4_8422_2325;
        let mut hash = |bytes: &[u8]| {
            fx.write(bytes);
            fx.write_usize(bytes.len());
            for &b in bytes {
                fnv = (fnv ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        };
        while self.pos < self.end {
            let token = self.u8()?;
            hash(&[token]);
            match token {
                0x00 => break,
                0x0f => self.pos += 3,
                0x01 | 0x41 => {
                    hash(&self.u16()?.to_le_bytes());
                    self.u32()?;
                    hash(self.name_bytes()?);
                    if token == 0x41 {
                        self.u32()?;
                    }
                }
                0x06 | 0x46 => hash(self.name_bytes()?),
                0x05 | 0x45 => {
                    if self.u8()? != 0x01 {
                        return None;
                    }
                    let count = usize::from(self.u16()?);
                    let bytes = self.chunk.get(self.pos..self.pos.checked_add(count * 2)?)?;
                    self.pos += count * 2;
                    hash(bytes);
                }
                0x0d | 0x0e => {
                    hash(&self.u16()?.to_le_bytes());
                    self.u8()?;
                }
                0x02..=0x04 => {}
                _ => return None,
            }
        }
        Some((fx.finish(), fnv))
    }

    fn u8(&mut self) -> Option<u8> {
        let b = *self.chunk.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        let v = read_u16(self.chunk, self.pos)?;
        self.pos += 2;
        Some(v)
    }

    fn u32(&mut self) -> Option<u32> {
        let v = read_u32(self.chunk, self.pos)?;
        self.pos += 4;
        Some(v)
    }

    /// A name reference: the offset of a name in the chunk, defined right here when it points
    /// here.
    fn name(&mut self) -> Option<String> {
        let name = self.name_bytes()?;
        let mut text = Vec::with_capacity(name.len() / 2);
        push_utf16(&mut text, name);
        String::from_utf8(text).ok()
    }

    /// A substitution token's slot and type (the type is the record's to say).
    fn slot(&mut self, optional: bool) -> Option<Source> {
        let index = self.u16()?;
        self.u8()?;
        Some(Source::Slot { index, optional })
    }

    /// A value token: only text (`StringType`) is expected in the templates read here.
    fn text(&mut self) -> Option<Source> {
        if self.u8()? != 0x01 {
            return None;
        }
        let count = usize::from(self.u16()?);
        let bytes = self.chunk.get(self.pos..self.pos.checked_add(count * 2)?)?;
        self.pos += count * 2;
        let mut text = Vec::with_capacity(count);
        push_utf16(&mut text, bytes);
        Some(Source::Text(String::from_utf8(text).ok()?.into()))
    }

    fn read(&mut self) -> Option<Element> {
        // Open elements; the last one's start tag is open while `in_tag`.
        let mut stack: Vec<Element> = Vec::new();
        let mut in_tag = false;
        let mut root = None;
        while self.pos < self.end {
            let token = self.u8()?;
            match token {
                0x00 => break,
                0x0f => self.pos += 3,
                0x01 | 0x41 if root.is_none() && stack.len() < MAX_DEPTH => {
                    let dependency = self.u16()?;
                    self.u32()?;
                    let name = self.name()?;
                    if token == 0x41 {
                        self.u32()?;
                    }
                    stack.push(Element {
                        name,
                        dependency,
                        ..Element::default()
                    });
                    in_tag = true;
                }
                0x06 | 0x46 if in_tag => {
                    let name = self.name()?;
                    stack.last_mut()?.attributes.push((name, Vec::new()));
                }
                0x05 | 0x45 | 0x0d | 0x0e => {
                    let source = if matches!(token, 0x05 | 0x45) {
                        self.text()?
                    } else {
                        self.slot(token == 0x0e)?
                    };
                    let element = stack.last_mut()?;
                    if in_tag {
                        element.attributes.last_mut()?.1.push(source);
                    } else {
                        element.content.push(source);
                    }
                }
                0x02 if in_tag => in_tag = false,
                0x03 | 0x04 if in_tag == (token == 0x03) => {
                    in_tag = false;
                    let element = stack.pop()?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => root = Some(element),
                    }
                }
                _ => return None,
            }
        }
        if stack.is_empty() { root } else { None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn text(push: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = b"before:".to_vec();
        push(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn utf16_text_ends_at_its_first_nul_and_keeps_every_character() {
        for s in [
            "",
            "C:\\Windows\\System32\\cmd.exe /c whoami",
            "exactly 16 chars",
            "caf\u{e9} na\u{ef}ve \u{1f600} \u{4e2d}\u{6587} and ASCII after it, long enough",
        ] {
            assert_eq!(text(|o| push_utf16(o, &utf16(s))), format!("before:{s}"));
            // A NUL in each position of the eight-unit blocks and of the tail ends the text.
            for cut in 0..s.chars().count() {
                let head: String = s.chars().take(cut).collect();
                let with_nul = format!("{head}\0{}", "tail after the nul");
                assert_eq!(
                    text(|o| push_utf16(o, &utf16(&with_nul))),
                    format!("before:{head}")
                );
            }
        }
        // An unpaired surrogate becomes U+FFFD; an odd last byte is not a unit.
        let mut lone = utf16("ab");
        lone.extend_from_slice(&0xd800u16.to_le_bytes());
        lone.extend_from_slice(&utf16("cd"));
        lone.push(b'x');
        assert_eq!(text(|o| push_utf16(o, &lone)), "before:ab\u{fffd}cd");
    }

    #[test]
    fn typed_values_are_written_as_the_reference_model_reads_them() {
        // A GUID's first three fields are little-endian.
        let guid = [
            0x72, 0xbb, 0x5a, 0x36, 0xcc, 0x7a, 0xc4, 0x5c, 0x00, 0x00, 0x00, 0x10, 0xb2, 0x47,
            0x03, 0x00,
        ];
        assert_eq!(
            text(|o| push_guid(o, &guid)),
            "before:365ABB72-7ACC-5CC4-0000-0010B2470300"
        );
        assert_eq!(text(|o| push_hex(o, 0)), "before:0x0");
        assert_eq!(
            text(|o| push_hex(o, 0x8000_0000_0000_0000)),
            "before:0x8000000000000000"
        );
        assert_eq!(text(|o| push_hex(o, 0x1f)), "before:0x1f");
        assert_eq!(text(|o| push_hex(o, u64::MAX)), "before:0xffffffffffffffff");
        // S-1-5-21-...-500, and a 48-bit authority.
        let mut sid = vec![1, 4, 0, 0, 0, 0, 0, 5];
        for sub in [21u32, 3_623_811_015, 3_361_044_348, 500] {
            sid.extend_from_slice(&sub.to_le_bytes());
        }
        assert_eq!(
            text(|o| push_sid(o, &sid)),
            "before:S-1-5-21-3623811015-3361044348-500"
        );
        assert_eq!(
            text(|o| push_sid(o, &[1, 0, 1, 2, 3, 4, 5, 6])),
            "before:S-1-1108152157446"
        );
        assert_eq!(text(|o| push_sid(o, &[1, 1])), "before:S-?");
        // 2019-04-27T15:57:25.8688632Z, the seventh digit cut as the reference does.
        let mut out = Vec::new();
        assert!(push_filetime(&mut out, 132_008_542_458_688_632).is_some());
        assert_eq!(out, b"2019-04-27T15:57:25.868863Z");
        out.clear();
        assert!(push_filetime(&mut out, 0).is_some());
        assert_eq!(out, b"1601-01-01T00:00:00.000000Z");
        // Leap day, end of a century, the last representable year.
        for (year, month, day) in [(2000, 2, 29), (1900, 3, 1), (2100, 12, 31), (9999, 12, 31)] {
            let days = days_since_1601(year, month, day);
            out.clear();
            assert!(push_filetime(&mut out, days * 864_000_000_000 + 10_000_001).is_some());
            assert_eq!(
                String::from_utf8(out.clone()).unwrap(),
                format!("{year:04}-{month:02}-{day:02}T00:00:01.000000Z")
            );
        }
        assert!(push_filetime(&mut out, days_since_1601(10_000, 1, 1) * 864_000_000_000).is_none());
        assert!(push_filetime(&mut out, u64::MAX).is_none());
    }

    /// Days from 1601-01-01 to a date, counted naively.
    fn days_since_1601(year: u64, month: u64, day: u64) -> u64 {
        let leap =
            |y: u64| y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400));
        let mut days = (1601..year)
            .map(|y| if leap(y) { 366 } else { 365 })
            .sum::<u64>();
        let lengths = [
            31,
            if leap(year) { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        days += lengths[..(month - 1) as usize].iter().sum::<u64>();
        days + day - 1
    }
}
