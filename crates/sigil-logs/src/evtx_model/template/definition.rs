//! Template definitions: the BinXML tokens of a template, read into a tree of elements (and
//! hashed into a fingerprint) as the `evtx` crate reads template definitions.

use std::hash::Hasher as _;

use super::Source;
use super::values::push_utf16;

/// An element of a template definition.
#[derive(Debug, Default)]
pub(super) struct Element {
    pub(super) name: String,
    /// The slot whose NULL value leaves the element out (`NO_DEPENDENCY`: none).
    pub(super) dependency: u16,
    pub(super) attributes: Vec<(String, Vec<Source>)>,
    pub(super) children: Vec<Element>,
    /// Text and slots between the element's tags.
    pub(super) content: Vec<Source>,
}

/// Reads the template defined at `offset` in `chunk` into its root element; `None` for
/// anything unexpected (the JSON path then reads its records).
pub(super) fn read_template(chunk: &[u8], offset: u32) -> Option<Element> {
    TemplateReader::at(chunk, offset)?.read()
}

/// What a template's [`Shape`] is made of, hashed: the tokens, dependencies, names (their
/// text, not where the chunk keeps them), texts and slots that [`TemplateReader::read`] reads.
/// The same template in another chunk or file has the same fingerprint, so its shape is read
/// once per run instead of once per chunk. Two independent 64-bit hashes make a collision
/// between different templates practically impossible.
pub(super) fn fingerprint(chunk: &[u8], offset: u32) -> Option<(u64, u64)> {
    TemplateReader::at(chunk, offset)?.fingerprint()
}

pub(super) fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

pub(super) fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
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
