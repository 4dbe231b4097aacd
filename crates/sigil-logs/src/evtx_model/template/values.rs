//! Substitution values: decoding them from a record as the `evtx` crate does, and writing
//! their text in the form the reference model reads.

use super::definition::{read_u16, read_u32};

/// A substitution value of a record, as the `evtx` crate decodes it; text and bytes as
/// offsets into the chunk.
#[derive(Debug, Clone, Copy)]
pub(super) enum Val {
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
    pub(super) fn is_empty(self, chunk: &[u8]) -> Option<bool> {
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
pub(super) fn read_values(
    chunk: &[u8],
    at: usize,
    end: usize,
    values: &mut Vec<Val>,
) -> Option<u32> {
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
/// A SID as the crate renders it: `S-revision-authority-sub-...`, the authority 48-bit
/// big-endian, the sub-authorities 32-bit little-endian.
pub(super) fn push_sid(out: &mut Vec<u8>, sid: &[u8]) {
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

pub(super) const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// UTF-16LE text up to its first NUL (as the crate reads text values) as UTF-8, an unpaired
/// surrogate as U+FFFD (as the crate renders text).
pub(super) fn push_utf16(out: &mut Vec<u8>, bytes: &[u8]) {
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
pub(super) fn push_guid(out: &mut Vec<u8>, guid: &[u8; 16]) {
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
pub(super) fn push_hex(out: &mut Vec<u8>, value: u64) {
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
pub(super) fn push_filetime(out: &mut Vec<u8>, filetime: u64) -> Option<()> {
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
