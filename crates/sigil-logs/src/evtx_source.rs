//! EVTX files, read through the `evtx` crate.
//!
//! A file is read in parts of whole chunks: the part's chunks are copied behind the file
//! header into one reused buffer and handed to the crate as an in-memory log. Each part is
//! independent (its own parser and template cache), which is what lets several threads read
//! one large file, and bounds the memory of a worker to one part whatever the file size.
//!
//! Each record is rendered to compact JSON by the crate (its fastest complete rendering) and
//! read in one pass into the Windows event model ([`crate::evtx_model`]), the rendered bytes
//! becoming the event's text.

use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use evtx::{EvtxParser, ParserSettings};

use crate::discover::EVTX_MAGIC;
use crate::error::error_chain;
use crate::evtx_model;
use crate::flat::{FlatEvent, Value};
use crate::read::{FileStats, Reader, RecordMeta};
use crate::time::parse_timestamp_micros;

const HEADER_SIZE: usize = 4096;
const CHUNK_SIZE: usize = 65536;

/// The number of chunks of an EVTX file of `len` bytes, counting a partial last chunk.
pub(crate) fn chunk_count(len: u64) -> u64 {
    len.saturating_sub(HEADER_SIZE as u64)
        .div_ceil(CHUNK_SIZE as u64)
}

fn settings() -> ParserSettings {
    // Compact JSON (the default indents), no extra threads: parallelism is ours, over parts.
    ParserSettings::new().indent(false).num_threads(1)
}

/// Reads the chunks `chunks` of the EVTX file at `path`.
pub(crate) fn read_evtx(
    reader: &mut Reader,
    path: &Path,
    chunks: Range<u64>,
    on_event: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent),
) -> FileStats {
    let mut stats = FileStats::default();
    let shown = path.display();
    if let Err(message) = load_part(&mut reader.bytes, path, chunks.clone()) {
        stats.error(format!("{shown}: {message}"));
        stats.skipped_chunks += chunks.end.saturating_sub(chunks.start);
        return stats;
    }
    if let Some(message) = truncation(&mut reader.bytes, chunks.start) {
        stats.error(format!("{shown}: {message}"));
    }

    // The crate is trusted not to panic, but a panic on a hostile file must cost only that
    // part. A panic of the caller's callback is the caller's and is passed on unchanged.
    let mut in_callback = false;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        parse_part(
            reader,
            path,
            chunks.start,
            &mut stats,
            &mut in_callback,
            on_event,
        );
    }));
    if let Err(panic) = outcome {
        if in_callback {
            std::panic::resume_unwind(panic);
        }
        stats.skipped_chunks += 1;
        stats.error(format!(
            "{shown}: the EVTX parser failed on chunks {}..{}; the rest of this part is skipped",
            chunks.start, chunks.end
        ));
    }
    stats
}

/// Copies the file header and the chunks `chunks` into `bytes`.
fn load_part(bytes: &mut Vec<u8>, path: &Path, chunks: Range<u64>) -> Result<(), String> {
    bytes.clear();
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    bytes.resize(HEADER_SIZE, 0);
    file.read_exact(bytes)
        .map_err(|_| "too short for an EVTX file header".to_string())?;
    if !bytes.starts_with(EVTX_MAGIC) {
        return Err("not an EVTX file (no \"ElfFile\" signature)".to_string());
    }
    // Read exactly the part's bytes into the reused buffer: no growth, no probing reads.
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let start = HEADER_SIZE as u64 + chunks.start * CHUNK_SIZE as u64;
    let end = len.min(HEADER_SIZE as u64 + chunks.end * CHUNK_SIZE as u64);
    let size = usize::try_from(end.saturating_sub(start)).map_err(|e| e.to_string())?;
    file.seek(SeekFrom::Start(start))
        .map_err(|e| e.to_string())?;
    // `read_to_end` into reserved room reads without zeroing the buffer first.
    bytes.reserve_exact(size);
    let read = (&mut file)
        .take(size as u64)
        .read_to_end(bytes)
        .map_err(|e| e.to_string())?;
    if read != size {
        // What `read_exact` says when the file ends early.
        return Err("failed to fill whole buffer".to_string());
    }
    drop_empty_tail(bytes);
    Ok(())
}

/// Cuts off the all-zero chunks at the end of the part. Logs are often preallocated, so many
/// files end in empty chunks; the parser would copy and scan each of them to find nothing.
/// Only trailing ones go, so chunk numbers stay those of the file.
fn drop_empty_tail(bytes: &mut Vec<u8>) {
    while bytes.len() >= HEADER_SIZE + CHUNK_SIZE {
        let last = &bytes[bytes.len() - CHUNK_SIZE..];
        // OR-folding has no early exit, so it vectorises; a chunk's first bytes are its
        // signature, so a live chunk stops the loop at once anyway.
        if last[..8] != [0; 8] || last.iter().fold(0, |acc, b| acc | b) != 0 {
            break;
        }
        bytes.truncate(bytes.len() - CHUNK_SIZE);
    }
}

/// When the last chunk is cut short (a truncated file), pads it with zeros so that the parser
/// reads the records it still holds, and says so.
fn truncation(bytes: &mut Vec<u8>, first_chunk: u64) -> Option<String> {
    let partial = (bytes.len() - HEADER_SIZE) % CHUNK_SIZE;
    if partial == 0 {
        return None;
    }
    let chunk = first_chunk + ((bytes.len() - HEADER_SIZE) / CHUNK_SIZE) as u64;
    bytes.resize(bytes.len() + CHUNK_SIZE - partial, 0);
    Some(format!(
        "chunk {chunk}: truncated file, {partial} of {CHUNK_SIZE} bytes present; reading what is left"
    ))
}

fn parse_part(
    reader: &mut Reader,
    path: &Path,
    first_chunk: u64,
    stats: &mut FileStats,
    in_callback: &mut bool,
    on_event: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent),
) {
    let shown = path.display();
    let Reader {
        event, evtx, bytes, ..
    } = reader;
    let mut parser = match EvtxParser::from_read_seek(Cursor::new(bytes.as_slice())) {
        Ok(parser) => parser.with_configuration(settings()),
        Err(error) => {
            stats.error(format!("{shown}: {}", error_chain(&error)));
            return;
        }
    };
    for record in parser.records_json_bytes() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                count_error(stats, &shown, first_chunk, &error);
                continue;
            }
        };
        let system = match evtx_model::read_record(record.data, event, evtx) {
            Ok(system) => system,
            Err(message) => {
                stats.skipped_records += 1;
                stats.error(format!(
                    "{shown}: record {}: {message}",
                    record.event_record_id
                ));
                continue;
            }
        };
        let meta = RecordMeta {
            source: path,
            record_id: unsigned(system.record_id(event)).or(Some(record.event_record_id)),
            line: None,
            timestamp: system
                .system_time(event)
                .and_then(parse_timestamp_micros)
                .or(Some(record.timestamp.as_microsecond())),
            computer: system.computer(event),
            channel: system.channel(event),
            event_id: unsigned(system.event_id(event)),
        };
        stats.events += 1;
        *in_callback = true;
        on_event(&meta, &*event);
        *in_callback = false;
    }
}

/// Counts a failed chunk or record and keeps its message, with the chunk number in the file.
fn count_error(
    stats: &mut FileStats,
    shown: &std::path::Display<'_>,
    first_chunk: u64,
    error: &evtx::err::EvtxError,
) {
    use evtx::err::EvtxError;
    if let EvtxError::FailedToParseChunk { chunk_id, source } = error {
        stats.skipped_chunks += 1;
        stats.error(format!(
            "{shown}: chunk {}: skipped: {}",
            first_chunk + chunk_id,
            error_chain(source.as_ref())
        ));
        return;
    }
    stats.skipped_records += 1;
    // The crate numbers chunks within the part it was given.
    let base = if first_chunk > 0 {
        format!(" (chunks counted from chunk {first_chunk})")
    } else {
        String::new()
    };
    stats.error(format!(
        "{shown}: record skipped: {}{base}",
        error_chain(error)
    ));
}

fn unsigned(value: Option<Value>) -> Option<u64> {
    match value? {
        Value::Int(i) => u64::try_from(i).ok(),
        Value::UInt(u) => Some(u),
        _ => None,
    }
}
