//! Reading logs: the per-record callback, the statistics of a read, and the units of work that
//! a parallel caller schedules.

use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use crate::discover::{Input, InputKind};
use crate::flat::FlatEvent;
use crate::tree::Node;
use crate::{LogError, discover};

/// At most this many error messages are kept per file; the rest are only counted.
pub const MAX_ERRORS_PER_FILE: usize = 100;

/// EVTX files are read in parts of this many 64 KiB chunks, so that one large file is read by
/// several threads and a worker holds at most one part in memory.
pub const DEFAULT_CHUNKS_PER_PART: u64 = 32;

/// What a source knows about a record besides its fields.
#[derive(Debug, Clone, Copy)]
pub struct RecordMeta<'a> {
    /// The file the record comes from (`-` for standard input).
    pub source: &'a Path,
    /// The record's id: `EventRecordID` for EVTX, and for JSON events that carry one.
    pub record_id: Option<u64>,
    /// For JSON sources, the line where the record starts (1-based).
    pub line: Option<u64>,
    /// When the event happened, in microseconds since the Unix epoch (UTC): `SystemTime` for
    /// EVTX, the first of [`crate::json_source::TIMESTAMP_FIELDS`] for JSON.
    pub timestamp: Option<i64>,
    /// The computer that logged it.
    pub computer: Option<&'a str>,
    /// The event log channel.
    pub channel: Option<&'a str>,
    /// The event id.
    pub event_id: Option<u64>,
}

/// The outcome of reading a file or a part of one. Problems are counted, never fatal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileStats {
    /// Events handed to the callback.
    pub events: u64,
    /// Records (EVTX records, JSON lines or values) that could not be read and were skipped.
    pub skipped_records: u64,
    /// EVTX chunks that could not be read at all (their records are not counted above).
    pub skipped_chunks: u64,
    /// Events read but outside the reader's time window (not handed on, not in `events`).
    pub outside_window: u64,
    /// EVTX chunks not read because their events lie outside the reader's time window.
    pub chunks_outside_window: u64,
    /// One line per problem, `path: where: what`; at most [`MAX_ERRORS_PER_FILE`] per file.
    pub errors: Vec<String>,
}

impl FileStats {
    /// Adds the counts and errors of `other`.
    pub fn merge(&mut self, other: FileStats) {
        self.events += other.events;
        self.skipped_records += other.skipped_records;
        self.skipped_chunks += other.skipped_chunks;
        self.outside_window += other.outside_window;
        self.chunks_outside_window += other.chunks_outside_window;
        let room = MAX_ERRORS_PER_FILE.saturating_sub(self.errors.len());
        self.errors.extend(other.errors.into_iter().take(room));
    }

    /// Records an error message, keeping at most [`MAX_ERRORS_PER_FILE`].
    pub(crate) fn error(&mut self, message: String) {
        if self.errors.len() < MAX_ERRORS_PER_FILE {
            self.errors.push(message);
        }
    }
}

/// A unit of reading work: a whole input, or a range of chunks of an EVTX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The input.
    pub input: Arc<Input>,
    /// For EVTX, the chunks to read (`None`: all of them).
    pub chunks: Option<Range<u64>>,
}

/// Splits inputs into parts for parallel reading: each EVTX file larger than
/// `chunks_per_part` chunks becomes several parts; other inputs stay whole. Parts come in
/// input order, so results collected per part keep the order of the files.
pub fn split_into_parts(inputs: &[Input], chunks_per_part: u64) -> Vec<Part> {
    let chunks_per_part = chunks_per_part.max(1);
    let mut parts = Vec::with_capacity(inputs.len());
    for input in inputs {
        let input = Arc::new(input.clone());
        let chunks = crate::evtx_source::chunk_count(input.len);
        if input.kind == InputKind::Evtx && chunks > chunks_per_part {
            let mut start = 0;
            while start < chunks {
                let end = (start + chunks_per_part).min(chunks);
                parts.push(Part {
                    input: Arc::clone(&input),
                    chunks: Some(start..end),
                });
                start = end;
            }
        } else {
            parts.push(Part {
                input,
                chunks: None,
            });
        }
    }
    parts
}

/// Reads logs, keeping its buffers from one record and one file to the next.
///
/// One reader serves one thread; a parallel caller keeps one per worker (rayon's
/// `map_init`, or see [`read_parallel`]).
#[derive(Debug, Default)]
pub struct Reader {
    pub(crate) event: FlatEvent,
    pub(crate) nodes: Vec<Node>,
    pub(crate) scratch: String,
    pub(crate) bytes: Vec<u8>,
    /// What reading EVTX records keeps from one to the next.
    pub(crate) evtx: crate::evtx_model::Scratch,
    /// The templates of the EVTX chunk being read.
    pub(crate) shapes: crate::evtx_model::Shapes,
    /// The chunks of the EVTX part being read, 64 KiB each.
    pub(crate) chunks: Vec<Vec<u8>>,
    /// Only events in this window are handed on.
    pub(crate) window: crate::TimeWindow,
    /// JSON events' metadata only as far as the window needs (see [`Reader::set_bare_meta`]).
    pub(crate) bare_meta: bool,
}

impl Reader {
    /// A reader with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hands on only the events of `window` (by [`RecordMeta::timestamp`]); EVTX chunks
    /// whose events lie well outside it are not read at all
    /// ([`crate::CHUNK_SKIP_MARGIN_MICROS`]).
    pub fn set_window(&mut self, window: crate::TimeWindow) {
        self.window = window;
    }

    /// With `true`, the metadata of JSON events holds only the source, the line and (when a
    /// window is set) the timestamp: the record id, computer, channel and event id are left
    /// out (`None`) instead of being looked up in every event. For a caller that reads
    /// nothing else of the metadata, as a hunt without a computer filter. EVTX events carry
    /// their metadata at no cost, and always do.
    pub fn set_bare_meta(&mut self, bare: bool) {
        self.bare_meta = bare;
    }

    /// Reads one JSON object (a line of a stream, a message's payload) as an event and
    /// hands it to `on_event`; `origin` and `line` are what the record's metadata and an
    /// error name. An event outside the window (when one is set) is passed over. The
    /// error says why the bytes are not an event (not UTF-8, not JSON, not an object).
    pub fn read_json_record(
        &mut self,
        origin: &Path,
        line: u64,
        bytes: &[u8],
        on_event: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent),
    ) -> Result<(), String> {
        let window = self.window;
        let mut stats = FileStats::default();
        crate::json_source::read_json_value(self, origin, bytes, line, &mut stats, &mut |m, e| {
            if window.contains(m.timestamp) {
                on_event(m, e);
            }
        });
        match stats.errors.pop() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Reads one part, calling `on_event` for every event (of the window, when one is set).
    pub fn read_part(
        &mut self,
        part: &Part,
        on_event: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent),
    ) -> FileStats {
        if self.window.is_unbounded() {
            return self.read_part_whole(part, on_event);
        }
        let window = self.window;
        let mut outside = 0;
        let mut stats = self.read_part_whole(part, &mut |meta, event| {
            if window.contains(meta.timestamp) {
                on_event(meta, event);
            } else {
                outside += 1;
            }
        });
        stats.events -= outside;
        stats.outside_window += outside;
        stats
    }

    fn read_part_whole(
        &mut self,
        part: &Part,
        on_event: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent),
    ) -> FileStats {
        let input = &part.input;
        match input.kind {
            InputKind::Evtx => {
                let chunks = part
                    .chunks
                    .clone()
                    .unwrap_or(0..crate::evtx_source::chunk_count(input.len));
                crate::evtx_source::read_evtx(self, &input.path, chunks, on_event)
            }
            InputKind::Json => crate::json_source::read_json_file(self, &input.path, on_event),
            InputKind::Stdin => {
                let stdin = std::io::stdin();
                let mut lock = stdin.lock();
                self.read_stream(&input.path, &mut lock, on_event)
            }
        }
    }

    /// Reads a stream: EVTX bytes (recognised by their signature) or JSON lines. EVTX
    /// needs random access to its chunks, so the stream is first copied to a temporary
    /// file; `path` (`-` for standard input) is what messages name.
    pub fn read_stream(
        &mut self,
        path: &Path,
        input: &mut dyn std::io::Read,
        on_event: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent),
    ) -> FileStats {
        let failed = |message: String| {
            let mut stats = FileStats::default();
            stats.error(format!("{}: {message}", path.display()));
            stats
        };
        // The first bytes, however the stream delivers them; then the stream as it was.
        let mut head = Vec::with_capacity(discover::EVTX_MAGIC.len());
        if let Err(e) = (&mut *input)
            .take(discover::EVTX_MAGIC.len() as u64)
            .read_to_end(&mut head)
        {
            return failed(e.to_string());
        }
        let is_evtx = head.as_slice() == discover::EVTX_MAGIC;
        let mut whole = std::io::BufReader::new(std::io::Cursor::new(head).chain(input));
        if !is_evtx {
            return crate::json_source::read_json_lines(self, path, &mut whole, on_event);
        }
        let spooled = tempfile::Builder::new()
            .prefix("sigil-stream-")
            .suffix(".evtx")
            .tempfile()
            .and_then(|mut file| {
                std::io::copy(&mut whole, &mut file)?;
                Ok(file)
            });
        let file = match spooled {
            Ok(file) => file,
            Err(e) => {
                return failed(format!(
                    "cannot keep the EVTX stream in a temporary file: {e}"
                ));
            }
        };
        let len = file.as_file().metadata().map_or(0, |m| m.len());
        let chunks = 0..crate::evtx_source::chunk_count(len);
        let mut stats = crate::evtx_source::read_evtx(self, file.path(), chunks, on_event);
        let spool = file.path().display().to_string();
        let named = path.display().to_string();
        for e in &mut stats.errors {
            *e = e.replace(&spool, &named);
        }
        stats
    }

    /// Reads one whole input.
    pub fn read_input(
        &mut self,
        input: &Input,
        on_event: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent),
    ) -> FileStats {
        self.read_part(
            &Part {
                input: Arc::new(input.clone()),
                chunks: None,
            },
            on_event,
        )
    }
}

/// Reads one file (EVTX or JSON, recognised by content), calling `on_event` for every event.
/// The error is for a file that cannot be opened or is not a log; problems inside it are in
/// the returned statistics.
pub fn read_file(
    path: &Path,
    on_event: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent),
) -> Result<FileStats, LogError> {
    let input = discover::classify(path)?.ok_or_else(|| LogError::NotALog {
        path: path.to_path_buf(),
    })?;
    Ok(Reader::new().read_input(&input, on_event))
}

/// Reads parts on the current rayon pool, one [`Reader`] per worker. For each part, `init`
/// makes a state, `on_event` sees the part's events with it; the states and statistics come
/// back in part order.
pub fn read_parallel<T, I, F>(parts: &[Part], init: I, on_event: F) -> Vec<(T, FileStats)>
where
    T: Send,
    I: Fn(&Part) -> T + Sync,
    F: Fn(&mut T, &RecordMeta<'_>, &FlatEvent) + Sync,
{
    use rayon::prelude::*;
    parts
        .par_iter()
        .map_init(Reader::new, |reader, part| {
            let mut state = init(part);
            let stats = reader.read_part(part, &mut |meta, event| {
                on_event(&mut state, meta, event);
            });
            (state, stats)
        })
        .collect()
}
