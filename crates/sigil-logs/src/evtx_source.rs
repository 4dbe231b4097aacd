//! EVTX files, read through the `evtx` crate.
//!
//! A file is read in parts of whole chunks: each chunk of a part is read once, straight into
//! a reused 64 KiB buffer that the crate checks (`EvtxChunkData`). Each part is independent,
//! which is what lets several threads read one large file, and bounds the memory of a worker
//! to one part whatever the file size.
//!
//! The records of a sound chunk are walked here and read straight from their templates' slot
//! values into the Windows event model (`evtx_model::template`); from the first record that
//! the walk or the templates cannot take, the crate reads the rest of the chunk, rendering the
//! records the template path still cannot take to compact JSON, which is read in one pass
//! into the same model ([`crate::evtx_model`]). A test holds the two paths to the same events
//! on the whole corpus.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use evtx::ParserSettings;

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
    let loaded = match load_part(&mut reader.chunks, &mut reader.bytes, path, chunks.clone()) {
        Ok((loaded, truncated)) => {
            if let Some(message) = truncated {
                stats.error(format!("{shown}: {message}"));
            }
            loaded
        }
        Err(message) => {
            stats.error(format!("{shown}: {message}"));
            stats.skipped_chunks += chunks.end.saturating_sub(chunks.start);
            return stats;
        }
    };

    // The crate is trusted not to panic, but a panic on a hostile file must cost only that
    // part. A panic of the caller's callback is the caller's and is passed on unchanged.
    let mut in_callback = false;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let Reader {
            event,
            evtx,
            bytes,
            shapes,
            chunks: pool,
            window,
            ..
        } = reader;
        if let Err(error) = evtx::EvtxFileHeader::from_bytes(bytes) {
            stats.error(format!("{shown}: {}", error_chain(&error)));
            return;
        }
        PartReading {
            path,
            first_chunk: chunks.start,
            settings: Arc::new(settings()),
            shapes,
            event,
            scratch: evtx,
            stats: &mut stats,
            in_callback: &mut in_callback,
            on_event,
            window: *window,
        }
        .chunks(&mut pool[..loaded]);
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

/// Reads the file header into `header` and the chunks `chunks` into the first buffers of
/// `pool` (64 KiB each, kept from one part to the next), and returns how many there are
/// without the all-zero chunks at the end of the part; and, when the last chunk is cut short
/// (a truncated file), says so: it is padded with zeros, so that the records it still holds
/// are read. Each chunk is read once, straight into the buffer the crate then parses.
fn load_part(
    pool: &mut Vec<Vec<u8>>,
    header: &mut Vec<u8>,
    path: &Path,
    chunks: Range<u64>,
) -> Result<(usize, Option<String>), String> {
    header.clear();
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    header.resize(HEADER_SIZE, 0);
    file.read_exact(header)
        .map_err(|_| "too short for an EVTX file header".to_string())?;
    if !header.starts_with(EVTX_MAGIC) {
        return Err("not an EVTX file (no \"ElfFile\" signature)".to_string());
    }
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let start = HEADER_SIZE as u64 + chunks.start * CHUNK_SIZE as u64;
    let end = len.min(HEADER_SIZE as u64 + chunks.end * CHUNK_SIZE as u64);
    let size = end.saturating_sub(start);
    let count = usize::try_from(size.div_ceil(CHUNK_SIZE as u64)).map_err(|e| e.to_string())?;
    file.seek(SeekFrom::Start(start))
        .map_err(|e| e.to_string())?;
    if pool.len() < count {
        pool.resize_with(count, Vec::new);
    }
    let mut truncated = None;
    for (i, chunk) in pool.iter_mut().take(count).enumerate() {
        // Buffers keep their size, so reading into them again writes no zeros first.
        chunk.resize(CHUNK_SIZE, 0);
        let present = usize::try_from(size - i as u64 * CHUNK_SIZE as u64)
            .unwrap_or(usize::MAX)
            .min(CHUNK_SIZE);
        file.read_exact(&mut chunk[..present])
            .map_err(|e| e.to_string())?;
        if present < CHUNK_SIZE {
            chunk[present..].fill(0);
            truncated = Some(format!(
                "chunk {}: truncated file, {present} of {CHUNK_SIZE} bytes present; reading what is left",
                chunks.start + i as u64
            ));
        }
    }
    // Logs are often preallocated, so many files end in empty chunks; reading them would find
    // nothing. Only trailing ones go, so chunk numbers stay those of the file.
    let mut loaded = count;
    while loaded > 0 && truncated.is_none() && is_zero(&pool[loaded - 1]) {
        loaded -= 1;
    }
    Ok((loaded, truncated))
}

/// Whether `chunk` is all zeros (OR-folding has no early exit, so it vectorises; a live chunk
/// starts with its signature, which ends the check at once).
fn is_zero(chunk: &[u8]) -> bool {
    chunk[..8] == [0; 8] && chunk.iter().fold(0, |acc, b| acc | b) == 0
}

/// The chunk the crate starts reading a log at: the one that holds the oldest records (the
/// lowest first record id of a header whose range is not reversed). It reads on to the end,
/// then from the start, as Windows reads a log that has wrapped around.
fn oldest_chunk(pool: &[Vec<u8>]) -> usize {
    let mut oldest = (u64::MAX, 0);
    for (i, chunk) in pool.iter().enumerate() {
        if let Ok(header) = evtx::EvtxChunkHeader::from_bytes(chunk)
            && header.first_event_record_id <= header.last_event_record_id
            && header.first_event_record_id < oldest.0
        {
            oldest = (header.first_event_record_id, i);
        }
    }
    oldest.1
}

/// What reading one part keeps: where it is, the reader's buffers, the part's statistics and
/// the caller's callback.
struct PartReading<'a, 'c> {
    path: &'a Path,
    /// The number in the file of the part's first chunk.
    first_chunk: u64,
    settings: Arc<ParserSettings>,
    shapes: &'a mut evtx_model::Shapes,
    event: &'a mut FlatEvent,
    scratch: &'a mut evtx_model::Scratch,
    stats: &'a mut FileStats,
    /// Set while the callback runs, so that a panic of it is told from the parser's.
    in_callback: &'a mut bool,
    on_event: &'a mut (dyn FnMut(&RecordMeta<'_>, &FlatEvent) + 'c),
    /// Chunks whose events lie well outside it are not read.
    window: crate::TimeWindow,
}

impl PartReading<'_, '_> {
    /// Reads the part's chunks (`pool`, numbered from the part's first) in the crate's order;
    /// each buffer goes back to the pool for the next part.
    fn chunks(&mut self, pool: &mut [Vec<u8>]) {
        let oldest = oldest_chunk(pool);
        for index in (oldest..pool.len()).chain(0..oldest) {
            // Empty chunks in the middle of a file (a dirty log) hold nothing.
            if is_zero(&pool[index]) {
                continue;
            }
            if !self.window.is_unbounded()
                && let Some((first, last)) = self.chunk_times(&pool[index])
                && self.window.rules_out(first, last)
            {
                self.stats.chunks_outside_window += 1;
                continue;
            }
            let number = index as u64;
            let mut data = match evtx::EvtxChunkData::new(std::mem::take(&mut pool[index]), false) {
                Ok(data) => data,
                Err(error) => {
                    self.chunk_skipped(number, &error);
                    continue;
                }
            };
            data.number = Some(number);
            self.chunk(&mut data);
            pool[index] = std::mem::take(&mut data.data);
        }
    }

    /// The times of the first and last events of `chunk`, read from their templates;
    /// `None` when either cannot be read that way (the chunk is then read whole).
    fn chunk_times(&mut self, chunk: &[u8]) -> Option<(i64, i64)> {
        const RECORD_HEADER: usize = 24;
        let header = evtx::EvtxChunkHeader::from_bytes(chunk).ok()?;
        self.shapes.clear();
        let mut time_at = |offset: usize| -> Option<i64> {
            let head = chunk.get(offset..offset + RECORD_HEADER)?;
            if head[..4] != *b"\x2a\x2a\x00\x00" {
                return None;
            }
            let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
            let end = (offset + size).checked_sub(4)?;
            if end > chunk.len() || end < offset + RECORD_HEADER {
                return None;
            }
            let system = evtx_model::read_templated(
                chunk,
                offset + RECORD_HEADER,
                end,
                self.shapes,
                self.event,
                self.scratch,
            )?;
            system
                .system_time(self.event)
                .and_then(parse_timestamp_micros)
        };
        let first = time_at(512)?;
        let last = time_at(header.last_event_record_data_offset as usize)?;
        Some((first, last))
    }

    /// Reads the records of one chunk: walked here and read from their templates as long as
    /// the walk and the templates are ordinary; from the first record that is not, the crate
    /// reads the rest (the template path still takes the records it can, the JSON path the
    /// others).
    fn chunk(&mut self, data: &mut evtx::EvtxChunkData) {
        self.shapes.clear();
        let walked = for_each_record(data, &mut |record| {
            let Some(system) = evtx_model::read_templated(
                &data.data,
                record.binxml.start,
                record.binxml.end,
                self.shapes,
                self.event,
                self.scratch,
            ) else {
                return false;
            };
            self.emit(&system, record.id, record.timestamp);
            true
        });
        let Some(resume) = walked else { return };
        let number = data.number.unwrap_or_default();
        let mut chunk = match data.parse(Arc::clone(&self.settings)) {
            Ok(chunk) => chunk,
            Err(error) => {
                self.chunk_skipped(number, &error);
                return;
            }
        };
        let chunk_bytes = chunk.data;
        for record in chunk.iter() {
            let record = match record {
                Ok(record) if record.binxml_offset < resume => continue,
                Ok(record) => record,
                Err(error) => {
                    self.count_error(&error);
                    continue;
                }
            };
            let (record_id, timestamp) = (record.event_record_id, record.timestamp);
            let system = if let Some(system) =
                read_from_template(&record, chunk_bytes, self.shapes, self.event, self.scratch)
            {
                system
            } else {
                let rendered = match record.into_json_bytes() {
                    Ok(rendered) => rendered,
                    Err(error) => {
                        self.count_error(&error);
                        continue;
                    }
                };
                match evtx_model::read_record(rendered.data, self.event, self.scratch) {
                    Ok(system) => system,
                    Err(message) => {
                        self.stats.skipped_records += 1;
                        let shown = self.path.display();
                        self.stats
                            .error(format!("{shown}: record {record_id}: {message}"));
                        continue;
                    }
                }
            };
            self.emit(&system, record_id, timestamp.as_microsecond());
        }
    }

    /// Hands the event on, with its record id and time from the record header where the
    /// event has none.
    fn emit(&mut self, system: &evtx_model::SystemIndex, record_id: u64, timestamp: i64) {
        let event = &*self.event;
        let meta = RecordMeta {
            source: self.path,
            record_id: unsigned(system.record_id(event)).or(Some(record_id)),
            line: None,
            timestamp: system
                .system_time(event)
                .and_then(parse_timestamp_micros)
                .or(Some(timestamp)),
            computer: system.computer(event),
            channel: system.channel(event),
            event_id: unsigned(system.event_id(event)),
        };
        self.stats.events += 1;
        *self.in_callback = true;
        (self.on_event)(&meta, event);
        *self.in_callback = false;
    }

    /// Counts a chunk that could not be read at all (`number` within the part) and keeps why.
    fn chunk_skipped(&mut self, number: u64, error: &(dyn std::error::Error + 'static)) {
        self.stats.skipped_chunks += 1;
        self.stats.error(format!(
            "{}: chunk {}: skipped: {}",
            self.path.display(),
            self.first_chunk + number,
            error_chain(error)
        ));
    }

    /// Counts a failed chunk or record and keeps its message, with the chunk number in the
    /// file.
    fn count_error(&mut self, error: &evtx::err::EvtxError) {
        use evtx::err::EvtxError;
        if let EvtxError::FailedToParseChunk { chunk_id, source } = error {
            self.chunk_skipped(*chunk_id, source.as_ref());
            return;
        }
        self.stats.skipped_records += 1;
        // The crate numbers chunks within the part it was given.
        let base = if self.first_chunk > 0 {
            format!(" (chunks counted from chunk {})", self.first_chunk)
        } else {
            String::new()
        };
        self.stats.error(format!(
            "{}: record skipped: {}{base}",
            self.path.display(),
            error_chain(error)
        ));
    }
}

/// A record found by [`for_each_record`].
struct RawRecord {
    id: u64,
    /// When it was written, in microseconds since the Unix epoch.
    timestamp: i64,
    /// Where its BinXML is in the chunk.
    binxml: Range<usize>,
}

/// Walks the live records of `chunk` as the crate does on a sound chunk: from the chunk
/// header, one record after another, up to the free space or the chunk's last record. `f`
/// takes each record and says whether it could. The walk stops at the first record `f` could
/// not take, or that the crate would handle in its own way (a bad record header, a record
/// past the chunk, a time it cannot represent), and returns the offset of that record's
/// BinXML: the crate reads the chunk from there. `None`: every record was taken.
fn for_each_record(
    chunk: &evtx::EvtxChunkData,
    f: &mut dyn FnMut(&RawRecord) -> bool,
) -> Option<u64> {
    const RECORD_HEADER: usize = 24;
    const CHUNK_HEADER: usize = 512;
    // 100 ns ticks from 1601 to 1970, and to 9000 (well inside what the crate represents).
    const UNIX_EPOCH: u64 = 116_444_736_000_000_000;
    const YEAR_9000: u64 = 2_524_450_752_000_000_000;
    let data = chunk.data.as_slice();
    let header = &chunk.header;
    let live_end = (header.free_space_offset as usize).min(data.len());
    let mut offset = CHUNK_HEADER;
    while offset < live_end {
        let unusual = Some((offset + RECORD_HEADER) as u64);
        let Some(head) = data.get(offset..offset + RECORD_HEADER) else {
            return unusual;
        };
        let word = |at: usize| u64::from_le_bytes(head[at..at + 8].try_into().unwrap_or_default());
        let (magic, size) = (
            &head[..4],
            u32::from_le_bytes([head[4], head[5], head[6], head[7]]),
        );
        let (id, filetime) = (word(8), word(16));
        let size = size as usize;
        if magic != b"\x2a\x2a\x00\x00" || size < RECORD_HEADER + 4 || filetime > YEAR_9000 {
            return unusual;
        }
        let binxml = offset + RECORD_HEADER..offset + size - 4;
        if binxml.end > data.len() {
            return unusual;
        }
        let record = RawRecord {
            id,
            timestamp: (filetime / 10) as i64 - (UNIX_EPOCH / 10) as i64,
            binxml,
        };
        if !f(&record) {
            return Some(record.binxml.start as u64);
        }
        if id == header.last_event_record_id {
            return None;
        }
        offset += size;
    }
    None
}

/// Reads `record` straight from its templates when they have the shape of an ordinary event
/// (see [`evtx_model::read_templated`]); `None` sends it to the JSON path.
fn read_from_template(
    record: &evtx::EvtxRecord<'_>,
    chunk: &[u8],
    shapes: &mut evtx_model::Shapes,
    event: &mut FlatEvent,
    scratch: &mut evtx_model::Scratch,
) -> Option<evtx_model::SystemIndex> {
    let start = usize::try_from(record.binxml_offset).ok()?;
    let end = start.checked_add(usize::try_from(record.binxml_size).ok()?)?;
    evtx_model::read_templated(chunk, start, end, shapes, event, scratch)
}

fn unsigned(value: Option<Value>) -> Option<u64> {
    match value? {
        Value::Int(i) => u64::try_from(i).ok(),
        Value::UInt(u) => Some(u),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evtx::EvtxParser;

    /// The shared EVTX corpus, when it is there.
    fn corpus() -> Option<std::path::PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/evtx");
        if root.is_dir() {
            return Some(root);
        }
        eprintln!("skipped: ../shared/corpus not found");
        None
    }

    /// Every record of the shared EVTX corpus, read from its template where that path takes
    /// it, gives the event the JSON path gives, field by field, with the same System index;
    /// and that path takes most records (it is the fast one).
    #[test]
    fn records_read_from_templates_equal_the_json_path() {
        // Also: the records walked without the crate are the ones the crate reads.
        let Some(root) = corpus() else { return };
        let (mut total, mut fast) = (0usize, 0usize);
        let (mut walks, mut clean_walks, mut files_compared) = (0usize, 0usize, 0usize);
        let fields = |e: &FlatEvent| -> Vec<String> {
            e.iter().map(|(n, v)| format!("{n}={v:?}")).collect()
        };
        let mut differences = Vec::new();
        let settings = Arc::new(settings());
        let mut files: Vec<_> = walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "evtx"))
            .map(walkdir::DirEntry::into_path)
            .collect();
        files.sort();
        let mut shapes = evtx_model::Shapes::default();
        for path in &files {
            let Ok(parser) = EvtxParser::from_path(path) else {
                continue;
            };
            let mut parser = parser.with_configuration((*settings).clone());
            // The events of the file through the JSON path, in the crate's order.
            let mut reference_events = Vec::new();
            for chunk in parser.chunks() {
                let Ok(mut data) = chunk else { continue };
                // The records walked here are the crate's, up to where the walk hands over.
                let mut walked = Vec::new();
                let walk = for_each_record(&data, &mut |r| {
                    walked.push((r.id, r.binxml.clone(), r.timestamp));
                    true
                });
                walks += 1;
                clean_walks += usize::from(walk.is_none());
                let Ok(mut chunk) = data.parse(Arc::clone(&settings)) else {
                    continue;
                };
                let crate_records: Vec<_> = chunk
                    .iter()
                    .filter_map(Result::ok)
                    .map(|r| {
                        let start = r.binxml_offset as usize;
                        (
                            r.event_record_id,
                            start..start + r.binxml_size as usize,
                            r.timestamp.as_microsecond(),
                        )
                    })
                    .collect();
                match walk {
                    None => assert_eq!(walked, crate_records, "{}", path.display()),
                    Some(_) => assert_eq!(
                        walked[..],
                        crate_records[..walked.len()],
                        "{}",
                        path.display()
                    ),
                }
                shapes.clear();
                let bytes = chunk.data;
                for record in chunk.iter() {
                    let Ok(record) = record else { continue };
                    total += 1;
                    let mut ours = FlatEvent::new();
                    let mut scratch = evtx_model::Scratch::default();
                    let system =
                        read_from_template(&record, bytes, &mut shapes, &mut ours, &mut scratch);
                    let id = record.event_record_id;
                    let rendered = record.into_json_bytes().unwrap().data;
                    let mut reference = FlatEvent::new();
                    let Ok(reference_system) =
                        evtx_model::read_record(rendered.clone(), &mut reference, &mut scratch)
                    else {
                        assert!(system.is_none(), "{}: record {id}", path.display());
                        continue;
                    };
                    reference_events.push(fields(&reference));
                    let Some(system) = system else { continue };
                    fast += 1;
                    let meta = |s: &evtx_model::SystemIndex, e: &FlatEvent| {
                        format!(
                            "{:?} {:?} {:?} {:?} {:?}",
                            s.record_id(e),
                            s.event_id(e),
                            s.channel(e),
                            s.computer(e),
                            s.system_time(e)
                        )
                    };
                    if fields(&ours) != fields(&reference)
                        || meta(&system, &ours) != meta(&reference_system, &reference)
                    {
                        differences.push(format!(
                            "{}: record {id}\n  template: {:?}\n  json:     {:?}\n  rendered: {}",
                            path.display(),
                            fields(&ours),
                            fields(&reference),
                            String::from_utf8_lossy(&rendered)
                        ));
                    }
                }
            }
            // The reader, as a hunt reads the file, gives the same events in the same order.
            let input = crate::discover::classify(path).unwrap().unwrap();
            let mut read = Vec::new();
            let stats = Reader::new().read_input(&input, &mut |_, event| read.push(fields(event)));
            assert!(
                stats.errors.is_empty(),
                "{}: {:?}",
                path.display(),
                stats.errors
            );
            assert!(
                read == reference_events,
                "{}: the reader's events differ",
                path.display()
            );
            files_compared += 1;
        }
        eprintln!(
            "{fast} of {total} records read from their template; {clean_walks} of {walks} \
             chunks walked to the end without the crate; {files_compared} files read whole"
        );
        assert_eq!(files_compared, files.len());
        assert_eq!(clean_walks, walks, "a sound corpus walks cleanly");
        assert!(
            differences.is_empty(),
            "{} differences, the first:\n{}",
            differences.len(),
            differences
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(total > 8_000, "{total} records");
        assert!(fast * 10 >= total * 9, "{fast} of {total} from templates");
    }

    /// The template path reads bytes of the file as offsets, sizes and types: chunks of the
    /// corpus with bytes changed at random (anywhere, so also in templates, names, value
    /// descriptors and record headers) must never make it panic or read out of bounds.
    #[test]
    fn damaged_chunks_never_panic_the_template_path() {
        let Some(root) = corpus() else { return };
        let mut chunks = Vec::new();
        for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
            let Ok(entry) = entry else { continue };
            if entry.path().extension().is_none_or(|x| x != "evtx") {
                continue;
            }
            let bytes = std::fs::read(entry.path()).unwrap();
            for chunk in bytes
                .get(HEADER_SIZE..)
                .unwrap_or_default()
                .chunks_exact(CHUNK_SIZE)
            {
                if chunk.starts_with(b"ElfChnk\0") && chunks.len() < 60 {
                    chunks.push(chunk.to_vec());
                }
            }
        }
        assert!(chunks.len() >= 30);
        let mut next = crate::test_random::xorshift(0x2545_F491_4F6C_DD1D);
        let mut shapes = evtx_model::Shapes::default();
        let mut event = FlatEvent::new();
        let mut scratch = evtx_model::Scratch::default();
        let mut events = 0;
        for round in 0..200 {
            for original in &chunks {
                let mut bytes = original.clone();
                // From single bytes to runs, past the chunk header (which the crate checks).
                for _ in 0..=(round % 8) {
                    let at = 512 + (next() as usize) % (CHUNK_SIZE - 512);
                    let len = 1 + (next() as usize) % (1 << (round % 6));
                    for b in bytes.iter_mut().skip(at).take(len) {
                        *b = next() as u8;
                    }
                }
                let Ok(data) = evtx::EvtxChunkData::new(bytes, false) else {
                    continue;
                };
                shapes.clear();
                let _ = for_each_record(&data, &mut |record| {
                    if evtx_model::read_templated(
                        &data.data,
                        record.binxml.start,
                        record.binxml.end,
                        &mut shapes,
                        &mut event,
                        &mut scratch,
                    )
                    .is_some()
                    {
                        events += 1;
                    }
                    true
                });
            }
        }
        // Most damage lands in values the events still hold.
        assert!(events > 10_000, "{events}");
    }
}
