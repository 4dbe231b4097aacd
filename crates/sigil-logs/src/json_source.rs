//! JSON logs: JSON lines, one object, several objects one after another, or an array of
//! objects. Every event is an object; nested objects are reached by dotted paths
//! (`process.parent.name`), array elements are values of the array's own name.
//!
//! Files are streamed: JSON lines line by line, and documents value by value (a scanner finds
//! where each top-level value, or each element of a top-level array, ends), so memory holds
//! one event at a time. A line or value that does not parse is counted and reported with its
//! line number, and reading goes on with the next.
//!
//! An object with an `Event` holding a `System` object is an EVTX record exported as JSON
//! (`evtx_dump -o jsonl`); it is flattened in the Windows event model, as an EVTX file is.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::evtx_model;
use crate::flat::{FlatEvent, Value};
use crate::read::{FileStats, LineRange, Reader, RecordMeta};
use crate::time::parse_timestamp_micros;
use crate::tree::{self, Kind, Node, child, children};

/// Fields holding an event's time, tried in this order.
pub const TIMESTAMP_FIELDS: [&str; 7] = [
    "@timestamp",
    "SystemTime",
    "TimeCreated",
    "UtcTime",
    "timestamp",
    "event.created",
    "time",
];
/// Fields holding the computer's name, tried in this order.
pub const COMPUTER_FIELDS: [&str; 6] = [
    "Computer",
    "Hostname",
    "ComputerName",
    "host.name",
    "host.hostname",
    "winlog.computer_name",
];
/// Fields holding the event log channel, tried in this order.
pub const CHANNEL_FIELDS: [&str; 2] = ["Channel", "winlog.channel"];
/// Fields holding the event id, tried in this order.
pub const EVENT_ID_FIELDS: [&str; 3] = ["EventID", "winlog.event_id", "event.code"];
/// Fields holding the record id, tried in this order.
pub const RECORD_ID_FIELDS: [&str; 2] = ["EventRecordID", "winlog.record_id"];

const BUFFER_SIZE: usize = 256 * 1024;

/// How a JSON file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One object per line.
    Lines,
    /// Values one after another, possibly spanning lines (a pretty-printed object).
    Values,
    /// One array whose elements are the events.
    Array,
}

/// Reads a JSON file of any layout.
pub(crate) fn read_json_file(
    reader: &mut Reader,
    path: &Path,
    on_event: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent),
) -> FileStats {
    let mut stats = FileStats::default();
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) => {
            stats.error(format!("{}: {error}", path.display()));
            return stats;
        }
    };
    let mut input = BufReader::with_capacity(BUFFER_SIZE, file);
    let layout = match input.fill_buf() {
        Ok(head) => layout_of(head),
        Err(error) => {
            stats.error(format!("{}: {error}", path.display()));
            return stats;
        }
    };
    match layout {
        Layout::Lines => read_lines(reader, path, &mut input, &mut stats, on_event),
        Layout::Values | Layout::Array => {
            read_values(reader, path, &mut input, layout, &mut stats, on_event);
        }
    }
    stats
}

/// Reads the lines `lines` of a JSON-lines file (a part made by
/// [`crate::split_json_lines`]).
pub(crate) fn read_line_range(
    reader: &mut Reader,
    path: &Path,
    lines: &LineRange,
    on_event: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent),
) -> FileStats {
    let mut stats = FileStats::default();
    let opened = File::open(path).and_then(|mut file| {
        file.seek(SeekFrom::Start(lines.bytes.start))?;
        Ok(file)
    });
    let file = match opened {
        Ok(file) => file,
        Err(error) => {
            stats.error(format!("{}: {error}", path.display()));
            return stats;
        }
    };
    let len = lines.bytes.end.saturating_sub(lines.bytes.start);
    let mut input = BufReader::with_capacity(BUFFER_SIZE, file.take(len));
    read_lines_from(
        reader,
        path,
        &mut input,
        lines.first_line.saturating_sub(1),
        &mut stats,
        on_event,
    );
    stats
}

/// Where a JSON-lines file of more than `bytes_per_part` bytes splits into runs of whole
/// lines of about that many bytes; `None` for a file of another layout, of one run, or
/// that cannot be read.
pub(crate) fn line_ranges(path: &Path, bytes_per_part: u64) -> Option<Vec<LineRange>> {
    let mut file = File::open(path).ok()?;
    let mut buffer = vec![0u8; 1 << 20];
    let mut filled = fill(&mut file, &mut buffer)?;
    if layout_of(&buffer[..filled]) != Layout::Lines {
        return None;
    }
    let mut ranges = Vec::new();
    let (mut start, mut first_line) = (0u64, 1u64);
    let (mut at, mut lines) = (0u64, 0u64);
    while filled > 0 {
        for end in memchr::memchr_iter(b'\n', &buffer[..filled]) {
            lines += 1;
            let next = at + end as u64 + 1;
            if next - start >= bytes_per_part {
                ranges.push(LineRange {
                    bytes: start..next,
                    first_line,
                });
                (start, first_line) = (next, lines + 1);
            }
        }
        at += filled as u64;
        filled = fill(&mut file, &mut buffer)?;
    }
    if at > start {
        ranges.push(LineRange {
            bytes: start..at,
            first_line,
        });
    }
    (ranges.len() > 1).then_some(ranges)
}

/// Reads into `buffer` until it is full or the file ends; the bytes read.
fn fill(file: &mut File, buffer: &mut [u8]) -> Option<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(filled)
}

/// Reads JSON lines from any reader (standard input, for one).
pub(crate) fn read_json_lines(
    reader: &mut Reader,
    path: &Path,
    input: &mut dyn BufRead,
    on_event: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent),
) -> FileStats {
    let mut stats = FileStats::default();
    read_lines(reader, path, input, &mut stats, on_event);
    stats
}

/// Decides the layout from the first bytes of the file.
fn layout_of(head: &[u8]) -> Layout {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty());
    let Some(first) = lines.next() else {
        return Layout::Lines;
    };
    if first.starts_with(b"[") {
        return Layout::Array;
    }
    // A JSON-lines file has an object on its first line, and so does its second line even
    // when the first is broken; a pretty-printed object has `{` alone, then a key.
    if first.len() > 1
        && (first.ends_with(b"}") || lines.next().is_none_or(|l| l.starts_with(b"{")))
    {
        Layout::Lines
    } else {
        Layout::Values
    }
}

fn read_lines(
    reader: &mut Reader,
    path: &Path,
    input: &mut dyn BufRead,
    stats: &mut FileStats,
    on_event: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent),
) {
    read_lines_from(reader, path, input, 0, stats, on_event);
}

/// [`read_lines`] of lines that follow `before` others (a part of a file).
fn read_lines_from(
    reader: &mut Reader,
    path: &Path,
    input: &mut dyn BufRead,
    before: u64,
    stats: &mut FileStats,
    on_event: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent),
) {
    let mut line_number = before;
    let mut one = |reader: &mut Reader, stats: &mut FileStats, bytes: &[u8], line_number: u64| {
        let mut line = bytes;
        if line_number == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if !line.trim_ascii().is_empty() {
            read_json_value(reader, path, line, line_number, stats, on_event);
        }
    };
    loop {
        // A line whole in the input's buffer is read where it lies; one that runs past the
        // buffer's end is gathered first.
        let whole = match input.fill_buf() {
            Ok([]) => break,
            Ok(buffer) => memchr::memchr(b'\n', buffer).map(|end| {
                line_number += 1;
                one(reader, stats, &buffer[..=end], line_number);
                end + 1
            }),
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => {
                one_error(stats, path, line_number, &error);
                break;
            }
        };
        if let Some(used) = whole {
            input.consume(used);
            continue;
        }
        let mut bytes = std::mem::take(&mut reader.bytes);
        bytes.clear();
        let read = input.read_until(b'\n', &mut bytes);
        if let Err(error) = read {
            one_error(stats, path, line_number, &error);
            reader.bytes = bytes;
            break;
        }
        line_number += 1;
        one(reader, stats, &bytes, line_number);
        reader.bytes = bytes;
    }
}

/// A read error on the line after `line_number`.
fn one_error(stats: &mut FileStats, path: &Path, line_number: u64, error: &std::io::Error) {
    stats.error(format!(
        "{}: line {}: {error}",
        path.display(),
        line_number + 1
    ));
}

/// Parses and hands on one event, counting it as skipped when it is not a JSON object.
pub(crate) fn read_json_value(
    reader: &mut Reader,
    path: &Path,
    bytes: &[u8],
    line: u64,
    stats: &mut FileStats,
    on_event: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent),
) {
    let Reader {
        event,
        nodes,
        scratch,
        evtx,
        bare_meta,
        window,
        ..
    } = reader;
    let built = std::str::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 (byte {})", e.valid_up_to()))
        .and_then(|text| {
            event.clear();
            tree::parse(text, nodes, event.text_mut()).map_err(|e| e.to_string())
        })
        .and_then(|()| flatten(nodes, event, scratch, bytes, evtx));
    if let Err(message) = built {
        stats.skipped_records += 1;
        stats.error(format!("{}: line {line}: {message}", path.display()));
        return;
    }
    let meta = if *bare_meta {
        bare(path, line, event, !window.is_unbounded())
    } else {
        meta(path, line, event)
    };
    stats.events += 1;
    on_event(&meta, event);
}

/// Flattens a parsed JSON value (`bytes`, parsed into `nodes`) into `event`.
fn flatten(
    nodes: &[Node],
    event: &mut FlatEvent,
    scratch: &mut String,
    bytes: &[u8],
    evtx: &mut evtx_model::Scratch,
) -> Result<(), String> {
    if nodes.first().map(|n| n.kind) != Some(Kind::Object) {
        return Err("not a JSON object".to_string());
    }
    if let Some(record) = child(nodes, event.text(), 0, "Event")
        && child(nodes, event.text(), record, "System").is_some()
    {
        // A Windows event as the `evtx` crate renders it (`evtx_dump -o jsonl`): read again,
        // by the EVTX model, into the text buffer the tree no longer needs.
        let mut json = std::mem::take(event.text_mut()).into_bytes();
        json.clear();
        json.extend_from_slice(bytes);
        return evtx_model::read_record(json, event, evtx)
            .map(drop)
            .map_err(|e| e.to_string());
    }
    scratch.clear();
    walk(nodes, 0, event, scratch);
    Ok(())
}

/// Adds the leaves under `index` with their dotted path.
fn walk(nodes: &[Node], index: usize, event: &mut FlatEvent, path: &mut String) {
    match nodes[index].kind {
        Kind::Object => {
            for c in children(nodes, index) {
                let node = nodes[c];
                if path.is_empty()
                    && let Some(value) = leaf(node.kind)
                {
                    // A field of the event itself: its name is its key, already in the text.
                    event.push_spans(node.key, value);
                    continue;
                }
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(node.key.get(event.text()));
                walk(nodes, c, event, path);
                path.truncate(len);
            }
        }
        Kind::Array => {
            for c in children(nodes, index) {
                walk(nodes, c, event, path);
            }
        }
        kind => {
            let value = leaf(kind).unwrap_or(Value::Null);
            let name = event.push_text(path);
            event.push_spans(name, value);
        }
    }
}

/// The value of a leaf node (`None` for an object or an array).
fn leaf(kind: Kind) -> Option<Value> {
    Some(match kind {
        Kind::Str(s) => Value::Str(s),
        Kind::Int(i) => Value::Int(i),
        Kind::UInt(u) => Value::UInt(u),
        Kind::Float(f) => Value::Float(f),
        Kind::Bool(b) => Value::Bool(b),
        Kind::Null => Value::Null,
        Kind::Array | Kind::Object => return None,
    })
}

/// The metadata of a reader that hands on only what the window needs: the source, the line,
/// and the timestamp when `timed`.
fn bare<'a>(path: &'a Path, line: u64, event: &FlatEvent, timed: bool) -> RecordMeta<'a> {
    RecordMeta {
        source: path,
        record_id: None,
        line: Some(line),
        timestamp: if timed { timestamp(event) } else { None },
        computer: None,
        channel: None,
        event_id: None,
    }
}

/// The first of [`TIMESTAMP_FIELDS`] that holds a time.
fn timestamp(event: &FlatEvent) -> Option<i64> {
    TIMESTAMP_FIELDS
        .iter()
        .find_map(|n| event.str_of(n).and_then(parse_timestamp_micros))
}

fn meta<'a>(path: &'a Path, line: u64, event: &'a FlatEvent) -> RecordMeta<'a> {
    let first_str = |names: &[&str]| names.iter().find_map(|n| event.str_of(n));
    let first_number = |names: &[&str]| {
        names.iter().find_map(|n| match event.value_of(n)? {
            Value::Int(i) => u64::try_from(i).ok(),
            Value::UInt(u) => Some(u),
            Value::Str(s) => s.get(event.text()).trim().parse().ok(),
            _ => None,
        })
    };
    RecordMeta {
        source: path,
        record_id: first_number(&RECORD_ID_FIELDS),
        line: Some(line),
        timestamp: timestamp(event),
        computer: first_str(&COMPUTER_FIELDS),
        channel: first_str(&CHANNEL_FIELDS),
        event_id: first_number(&EVENT_ID_FIELDS),
    }
}

/// Reads a document of values, or of one array of values, value by value.
fn read_values(
    reader: &mut Reader,
    path: &Path,
    input: &mut dyn BufRead,
    layout: Layout,
    stats: &mut FileStats,
    on_event: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent),
) {
    let mut scanner = Scanner {
        line: 1,
        in_array: false,
        array_done: false,
        first: true,
    };
    if layout == Layout::Array {
        scanner.in_array = true;
    }
    let mut value = std::mem::take(&mut reader.bytes);
    loop {
        value.clear();
        match scanner.next_value(input, &mut value) {
            Ok(Some(start_line)) => {
                read_json_value(reader, path, &value, start_line, stats, on_event);
            }
            Ok(None) => break,
            Err(error) => {
                stats.error(format!(
                    "{}: line {}: {error}",
                    path.display(),
                    scanner.line
                ));
                break;
            }
        }
    }
    reader.bytes = value;
}

/// Finds where top-level values (or the elements of a top-level array) end, without parsing
/// them: it only tracks strings and nesting.
struct Scanner {
    line: u64,
    in_array: bool,
    array_done: bool,
    first: bool,
}

impl Scanner {
    /// Copies the next value into `out` and returns the line it starts on; `None` at the end.
    fn next_value(
        &mut self,
        input: &mut dyn BufRead,
        out: &mut Vec<u8>,
    ) -> std::io::Result<Option<u64>> {
        // Skip to the value: blanks, a BOM, the array's `[`, commas between elements.
        loop {
            let buffer = input.fill_buf()?;
            if buffer.is_empty() || self.array_done {
                return Ok(None);
            }
            if self.first && buffer.starts_with(b"\xEF\xBB\xBF") {
                input.consume(3);
                continue;
            }
            let b = buffer[0];
            let opening = self.first && self.in_array && b == b'[';
            self.first = false;
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ if opening => {}
                b',' if self.in_array => {}
                b']' if self.in_array => {
                    self.array_done = true;
                    return Ok(None);
                }
                _ => break,
            }
            input.consume(1);
        }
        let start_line = self.line;
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let buffer = input.fill_buf()?;
            if buffer.is_empty() {
                // The input ended inside the value; the parser will say what is wrong.
                return Ok(Some(start_line));
            }
            let mut used = 0;
            let mut done = false;
            for &b in buffer {
                if !in_string && depth == 0 && !out.is_empty() {
                    // A scalar ends at a delimiter; a container ended at its closing bracket.
                    if matches!(b, b',' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                        done = true;
                        break;
                    }
                }
                used += 1;
                out.push(b);
                if b == b'\n' {
                    self.line += 1;
                }
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            done = true;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            input.consume(used);
            if done {
                return Ok(Some(start_line));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, FieldValue};
    use std::io::Cursor;

    fn collect(layout_text: &str) -> (Vec<String>, Vec<Option<u64>>, FileStats) {
        let mut reader = Reader::new();
        let mut events = Vec::new();
        let mut lines = Vec::new();
        let mut stats = FileStats::default();
        let path = Path::new("test.json");
        let mut input = Cursor::new(layout_text.as_bytes().to_vec());
        let layout = layout_of(layout_text.as_bytes());
        let mut on_event = |meta: &RecordMeta<'_>, event: &FlatEvent| {
            events.push(event.to_json());
            lines.push(meta.line);
        };
        match layout {
            Layout::Lines => read_lines(&mut reader, path, &mut input, &mut stats, &mut on_event),
            _ => read_values(
                &mut reader,
                path,
                &mut input,
                layout,
                &mut stats,
                &mut on_event,
            ),
        }
        (events, lines, stats)
    }

    #[test]
    fn bare_metadata_keeps_the_window_and_leaves_the_rest_out() {
        let text = concat!(
            r#"{"EventRecordID":7,"Computer":"pc1","Channel":"Security","EventID":4688,"#,
            r#""SystemTime":"2019-04-27T10:00:00Z"}"#,
            "\n",
            r#"{"EventRecordID":8,"Computer":"pc1","SystemTime":"2019-04-28T10:00:00Z"}"#,
            "\n"
        );
        let read = |bare: bool, window: crate::TimeWindow| {
            let mut reader = Reader::new();
            reader.set_bare_meta(bare);
            reader.set_window(window);
            let mut seen = Vec::new();
            let mut input = Cursor::new(text.as_bytes().to_vec());
            read_json_lines(
                &mut reader,
                Path::new("t.json"),
                &mut input,
                &mut |meta, _| {
                    seen.push((meta.line, meta.record_id, meta.computer.map(str::to_string)));
                },
            );
            seen
        };
        let all = crate::TimeWindow::default();
        assert_eq!(
            read(false, all),
            [
                (Some(1), Some(7), Some("pc1".to_string())),
                (Some(2), Some(8), Some("pc1".to_string()))
            ]
        );
        assert_eq!(
            read(true, all),
            [(Some(1), None, None), (Some(2), None, None)]
        );
        let day = crate::TimeWindow::parse(Some("2019-04-28"), Some("2019-04-28")).expect("valid");
        let mut reader = Reader::new();
        reader.set_bare_meta(true);
        reader.set_window(day);
        let mut input = Cursor::new(text.as_bytes().to_vec());
        let mut seen = Vec::new();
        let stats = read_json_lines(
            &mut reader,
            Path::new("t.json"),
            &mut input,
            &mut |meta, _| {
                if day.contains(meta.timestamp) {
                    seen.push(meta.line);
                }
            },
        );
        assert_eq!(stats.events, 2);
        assert_eq!(
            seen,
            [Some(2)],
            "the timestamp is read when a window is set"
        );
    }

    #[test]
    fn detects_layouts() {
        assert_eq!(layout_of(b"{\"a\":1}\n{\"a\":2}\n"), Layout::Lines);
        assert_eq!(layout_of(b"{\"a\":1, \"b\n{\"a\":2}\n"), Layout::Lines);
        assert_eq!(layout_of(b"{\n  \"a\": 1\n}\n"), Layout::Values);
        assert_eq!(layout_of(b"\xEF\xBB\xBF [\n {\"a\":1}]"), Layout::Array);
        assert_eq!(layout_of(b"{\"a\":1}"), Layout::Lines);
    }

    #[test]
    fn json_lines_skip_broken_lines_with_their_number() {
        let (events, lines, stats) =
            collect("{\"a\":1}\n\n{\"a\": 2, \"b\n{\"a\":3}\nnot json\n{\"a\":4}");
        assert_eq!(events, [r#"{"a":1}"#, r#"{"a":3}"#, r#"{"a":4}"#]);
        assert_eq!(lines, [Some(1), Some(4), Some(6)]);
        assert_eq!(stats.events, 3);
        assert_eq!(stats.skipped_records, 2);
        assert!(
            stats.errors[0].starts_with("test.json: line 3: invalid JSON"),
            "{:?}",
            stats.errors
        );
        assert!(
            stats.errors[1].starts_with("test.json: line 5: "),
            "{:?}",
            stats.errors
        );
    }

    #[test]
    fn arrays_and_pretty_documents_are_split_into_events() {
        let text = "[\n {\"a\": {\"b\": \"x,]}\"}},\n {\"a\": [1, 2]}\n, 5]";
        let (events, lines, stats) = collect(text);
        assert_eq!(events, [r#"{"a.b":"x,]}"}"#, r#"{"a":[1,2]}"#]);
        assert_eq!(lines, [Some(2), Some(3)]);
        assert_eq!(stats.skipped_records, 1);
        assert!(
            stats.errors[0].contains("line 4: not a JSON object"),
            "{:?}",
            stats.errors
        );

        let (events, lines, _) = collect("{\n  \"x\": 1\n}\n{\n  \"x\": 2\n}\n");
        assert_eq!(events, [r#"{"x":1}"#, r#"{"x":2}"#]);
        assert_eq!(lines, [Some(1), Some(4)]);
    }

    #[test]
    fn nested_fields_by_dotted_path() {
        let mut reader = Reader::new();
        let mut stats = FileStats::default();
        let mut seen = 0;
        let line = br#"{"process":{"parent":{"name":"cmd.exe"},"pid":4},"tags":["a","b"],"host":{"name":"WS1"},"@timestamp":"2020-10-29T08:23:18Z","event":{"code":"4688"},"x":null}"#;
        read_json_value(
            &mut reader,
            Path::new("-"),
            line,
            1,
            &mut stats,
            &mut |meta, event| {
                seen += 1;
                assert_eq!(
                    event.get("process.parent.name"),
                    Some(FieldValue::Str("cmd.exe".into()))
                );
                assert_eq!(event.get("PROCESS.PID"), Some(FieldValue::Int(4)));
                assert_eq!(event.get("x"), Some(FieldValue::Null));
                let mut tags = Vec::new();
                event.for_each_value("tags", &mut |v| {
                    tags.push(v.as_text().unwrap().into_owned());
                });
                assert_eq!(tags, ["a", "b"]);
                assert_eq!(meta.computer, Some("WS1"));
                assert_eq!(meta.event_id, Some(4688));
                assert_eq!(meta.timestamp, Some(1_603_959_798_000_000));
            },
        );
        assert_eq!(seen, 1);
    }

    #[test]
    fn exported_evtx_records_use_the_windows_model() {
        let mut reader = Reader::new();
        let mut stats = FileStats::default();
        let line = br##"{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":0},"#text":7045},"Channel":"System"},"EventData":{"ServiceName":"x"}}}"##;
        let mut seen = 0;
        read_json_value(
            &mut reader,
            Path::new("-"),
            line,
            1,
            &mut stats,
            &mut |meta, event| {
                seen += 1;
                assert_eq!(event.get("EventID"), Some(FieldValue::Int(7045)));
                assert_eq!(event.get("ServiceName"), Some(FieldValue::Str("x".into())));
                assert_eq!(meta.channel, Some("System"));
            },
        );
        assert_eq!(seen, 1);
    }
}
