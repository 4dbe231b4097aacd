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
    /// For a JSON-lines file read in several parts, this part's lines (`None`: the whole
    /// file). See [`split_json_lines`].
    pub lines: Option<LineRange>,
}

/// Whole lines of a JSON-lines file: their bytes, and the number of the first (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRange {
    /// The bytes of the lines, from the start of a line to the end of one.
    pub bytes: Range<u64>,
    /// The number of the first line, for messages.
    pub first_line: u64,
}

/// JSON-lines files are read in parts of about this many bytes by [`split_json_lines`].
pub const JSON_BYTES_PER_PART: u64 = 4 << 20;

/// Splits the JSON-lines files among `parts` that are larger than `bytes_per_part` into
/// parts of whole lines of about that size, so that one large file is read by several
/// threads. Finding where the lines fall reads each such file once (a scan for newlines,
/// much faster than reading its events); a file that is not JSON lines (one document, an
/// array), or cannot be read, stays one part, and reading it reports what is wrong.
pub fn split_json_lines(parts: Vec<Part>, bytes_per_part: u64) -> Vec<Part> {
    let bytes_per_part = bytes_per_part.max(1);
    let mut split = Vec::with_capacity(parts.len());
    for part in parts {
        let whole = part.input.kind == InputKind::Json
            && part.chunks.is_none()
            && part.lines.is_none()
            && part.input.len > bytes_per_part;
        let ranges = whole
            .then(|| crate::json_source::line_ranges(&part.input.path, bytes_per_part))
            .flatten();
        match ranges {
            Some(ranges) => split.extend(ranges.into_iter().map(|lines| Part {
                input: Arc::clone(&part.input),
                chunks: None,
                lines: Some(lines),
            })),
            None => split.push(part),
        }
    }
    split
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
                    lines: None,
                });
                start = end;
            }
        } else {
            parts.push(Part {
                input,
                chunks: None,
                lines: None,
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
            InputKind::Json => match &part.lines {
                Some(lines) => {
                    crate::json_source::read_line_range(self, &input.path, lines, on_event)
                }
                None => crate::json_source::read_json_file(self, &input.path, on_event),
            },
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
                lines: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    /// Every event of `parts` read in order with one reader: (line, event JSON), and the
    /// merged statistics.
    fn read_all(parts: &[Part]) -> (Vec<(Option<u64>, String)>, FileStats) {
        let mut reader = Reader::new();
        let mut seen = Vec::new();
        let mut stats = FileStats::default();
        for part in parts {
            stats.merge(reader.read_part(part, &mut |meta, event| {
                seen.push((meta.line, event.to_json()));
            }));
        }
        (seen, stats)
    }

    #[test]
    fn json_lines_split_in_parts_read_as_the_whole_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut text = String::from("\u{feff}");
        for i in 1..=60 {
            match i {
                7 => text.push_str("{\"broken\": \n"),
                13 => text.push('\n'),
                21 => text.push_str("[1, 2]\n"),
                _ => {
                    let _ = writeln!(text, "{{\"n\":{i},\"name\":\"line {i}\"}}");
                }
            }
        }
        text.push_str("{\"n\":61,\"last\":\"no newline\"}");
        let path = dir.path().join("big.jsonl");
        std::fs::write(&path, &text).expect("write");
        let input = discover::classify(&path).expect("readable").expect("a log");
        let whole = split_into_parts(std::slice::from_ref(&input), DEFAULT_CHUNKS_PER_PART);
        assert_eq!(whole.len(), 1);
        let (expected, expected_stats) = read_all(&whole);
        assert_eq!(expected.len(), 58);
        assert_eq!(
            expected_stats.errors.len(),
            2,
            "{:?}",
            expected_stats.errors
        );
        for bytes in [1, 100, 333, 1000] {
            let parts = split_json_lines(whole.clone(), bytes);
            assert!(parts.len() > 1, "{bytes} bytes per part");
            let ranges: Vec<&LineRange> = parts.iter().filter_map(|p| p.lines.as_ref()).collect();
            assert_eq!(ranges.len(), parts.len());
            assert_eq!(ranges[0].bytes.start, 0);
            assert_eq!(ranges.last().map(|r| r.bytes.end), Some(text.len() as u64));
            for pair in ranges.windows(2) {
                assert_eq!(
                    pair[0].bytes.end, pair[1].bytes.start,
                    "{bytes} bytes per part"
                );
            }
            let (seen, stats) = read_all(&parts);
            assert_eq!(seen, expected, "{bytes} bytes per part");
            assert_eq!(stats, expected_stats, "{bytes} bytes per part");
        }
    }

    #[test]
    fn other_json_layouts_and_small_files_are_not_split() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pretty = dir.path().join("pretty.json");
        std::fs::write(&pretty, "{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n").expect("write");
        let array = dir.path().join("array.json");
        std::fs::write(&array, "[{\"a\": 1},\n{\"a\": 2}]\n").expect("write");
        let small = dir.path().join("small.jsonl");
        std::fs::write(&small, "{\"a\": 1}\n{\"a\": 2}\n").expect("write");
        let inputs: Vec<Input> = [&pretty, &array, &small]
            .iter()
            .map(|p| discover::classify(p).expect("readable").expect("a log"))
            .collect();
        let parts = split_into_parts(&inputs, DEFAULT_CHUNKS_PER_PART);
        assert_eq!(
            split_json_lines(parts.clone(), 4).len(),
            4,
            "the small file splits"
        );
        let parts = split_into_parts(&inputs[..2], DEFAULT_CHUNKS_PER_PART);
        let split = split_json_lines(parts, 4);
        assert_eq!(split.len(), 2);
        assert!(split.iter().all(|p| p.lines.is_none()));
    }
}
