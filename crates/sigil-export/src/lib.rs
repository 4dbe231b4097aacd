//! Logs into a data lake: every event of EVTX and JSON logs as one row, in Parquet files
//! that Spark, ClickHouse and DuckDB read as one table, or in JSON lines.
//!
//! An export reads the logs as `hunt` does (the same parts, readers, time window and
//! counts, [`sigil_hunt::Logs`]) and writes one row per event: the columns
//! `source` (the log's path, as `hunt` reports it) and `record_id` (the event's
//! `EventRecordID`, as `hunt` reports it), then one column per field of the event in
//! sigil's event model ([`View::Flat`]) or its ECS view ([`View::Ecs`]).
//!
//! # One schema in bounded memory
//!
//! A Parquet folder is one table only when every file has the same schema, and the fields
//! of a run are known only once every log is read. The export therefore reads in two
//! steps: workers encode each part's events as compact rows with the part's own names
//! (`rows::Block`); the ordered side merges those names into the run's columns (the union
//! of all names, each with the narrowest type that holds every value seen: integer, float,
//! boolean or text; a field some event holds twice becomes a list of texts) and spills the
//! rows to a temporary file beside the output. Then the spilled rows are written with the
//! run's schema, a Parquet file per run of at most [`ExportOptions::rows_per_file`] rows,
//! files in parallel, nulls where an event lacks a field. Memory holds the parts in flight
//! and one batch per file being written, whatever the input size.
//!
//! JSON lines need no common schema: each event is one object with the same names,
//! written as the logs are read.

mod lake;
mod parquet_out;
pub mod rows;
mod view;

use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sigil_hunt::{EventFilter, Logs, PartReader, ReadSummary};
use sigil_logs::{Event, Part};

pub use lake::{LakeColumn, lake_columns};
pub use rows::{Kind, RECORD_ID, SOURCE};
pub use view::View;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Apache Parquet, zstd-compressed, one schema for the run.
    #[default]
    Parquet,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// The extension of the files written.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Parquet => "parquet",
            Self::Jsonl => "jsonl",
        }
    }
}

/// How to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The output format.
    pub format: Format,
    /// Which names of each event are written.
    pub view: View,
    /// Only events of this time window and these computers.
    pub filter: EventFilter,
    /// At most this many rows in one file.
    pub rows_per_file: u64,
    /// At most this many rows in one Parquet row group.
    pub rows_per_group: usize,
}

/// Rows per file by default: about a million events, tens of megabytes of Parquet.
pub const DEFAULT_ROWS_PER_FILE: u64 = 1 << 20;
/// Rows per Parquet row group by default.
pub const DEFAULT_ROWS_PER_GROUP: usize = 128 * 1024;

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            format: Format::Parquet,
            view: View::Flat,
            filter: EventFilter::default(),
            rows_per_file: DEFAULT_ROWS_PER_FILE,
            rows_per_group: DEFAULT_ROWS_PER_GROUP,
        }
    }
}

/// What an export did, for its summary.
#[derive(Debug, Clone, Default)]
pub struct ExportSummary {
    /// What was read: files, events, records and chunks skipped, read errors.
    pub read: ReadSummary,
    /// Rows written (one per event).
    pub rows: u64,
    /// The columns of the table (with `source` and `record_id`).
    pub columns: usize,
    /// The files written, in order.
    pub written: Vec<PathBuf>,
}

/// Where an export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A part of the logs was read.
    PartRead,
    /// The logs are read; this many files are being written.
    Writing(usize),
    /// A file was written.
    FileWritten,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The output folder exists and holds files.
    #[error("{} exists and is not empty (--force replaces its exported files)", .0.display())]
    Exists(PathBuf),
    /// The output path is a file.
    #[error("{} is not a folder", .0.display())]
    NotAFolder(PathBuf),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The Parquet writer failed.
    #[error("{}: {source}", path.display())]
    Parquet {
        /// The file being written.
        path: PathBuf,
        /// What failed.
        source: parquet::errors::ParquetError,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The name of the `n`th file of an export.
pub fn file_name(n: usize, format: Format) -> String {
    format!("part-{n:05}.{}", format.extension())
}

/// Whether `name` is the name of a file an export writes.
fn is_export_file(name: &str) -> bool {
    name.strip_prefix("part-").is_some_and(|rest| {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && matches!(&rest[digits..], ".parquet" | ".jsonl")
    })
}

/// Makes `dir` ready for an export: created when missing; when it exists and holds
/// anything, refused unless `force`, which removes the files an earlier export wrote
/// there (`part-NNNNN.parquet`, `part-NNNNN.jsonl`) and leaves anything else.
pub fn prepare_dir(dir: &Path, force: bool) -> Result<(), ExportError> {
    if dir.exists() {
        if !dir.is_dir() {
            return Err(ExportError::NotAFolder(dir.to_path_buf()));
        }
        let entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .collect::<Result<_, _>>()
            .map_err(io(dir))?;
        if entries.is_empty() {
            return Ok(());
        }
        if !force {
            return Err(ExportError::Exists(dir.to_path_buf()));
        }
        for entry in entries {
            let path = entry.path();
            if entry.file_name().to_str().is_some_and(is_export_file) {
                std::fs::remove_file(&path).map_err(io(&path))?;
            }
        }
        Ok(())
    } else {
        std::fs::create_dir_all(dir).map_err(io(dir))
    }
}

/// Where a block of rows lies in the spill file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spilled {
    offset: u64,
    rows: u64,
}

/// The rows read, spilled to a temporary file, and the run's columns.
pub(crate) struct Spill {
    file: Mutex<std::fs::File>,
    path: PathBuf,
    blocks: Vec<Spilled>,
    columns: rows::Columns,
}

/// A block read back from the spill: its source, column map and rows.
pub(crate) struct SpilledBlock {
    pub source: String,
    pub map: Vec<u32>,
    pub data: Vec<u8>,
}

impl Spill {
    fn read_block(&self, at: Spilled) -> Result<SpilledBlock, ExportError> {
        let mut file = self
            .file
            .lock()
            .map_err(|_| io(&self.path)(std::io::Error::other("spill file lock poisoned")))?;
        let err = io(&self.path);
        let mut read = || -> std::io::Result<SpilledBlock> {
            file.seek(SeekFrom::Start(at.offset))?;
            let mut len = [0u8; 8];
            let mut take = |file: &mut std::fs::File| -> std::io::Result<Vec<u8>> {
                file.read_exact(&mut len)?;
                let len = u64::from_le_bytes(len);
                let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
                if file.take(len).read_to_end(&mut buf)? as u64 != len {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                Ok(buf)
            };
            let map = take(&mut file)?
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            let source = String::from_utf8_lossy(&take(&mut file)?).into_owned();
            let data = take(&mut file)?;
            Ok(SpilledBlock { source, map, data })
        };
        read().map_err(err)
    }
}

/// Writes a block to the spill: its column map, source and rows, each with its length.
fn spill_block(out: &mut impl Write, map: &[u32], block: &rows::Block) -> std::io::Result<u64> {
    let mut written = 0;
    let mut put = |bytes: &[u8]| -> std::io::Result<()> {
        out.write_all(&(bytes.len() as u64).to_le_bytes())?;
        out.write_all(bytes)?;
        written += 8 + bytes.len() as u64;
        Ok(())
    };
    let map: Vec<u8> = map.iter().flat_map(|c| c.to_le_bytes()).collect();
    put(&map)?;
    put(block.source.as_bytes())?;
    put(&block.data)?;
    Ok(written)
}

/// Hands each event of a part that the run's filter admits, in the chosen view, to `f`.
fn each_event(events: &mut PartReader<'_>, part: &Part, view: View, f: &mut dyn FnMut(&dyn Event)) {
    let ecs = (view == View::Ecs).then(sigil_pipeline::ecs::windows_to_ecs);
    events.each(part, &mut |_meta, event| match ecs {
        Some(mapping) => f(&view::EcsOnly {
            view: mapping.view(event),
        }),
        None => f(event),
    });
}

/// Exports the events of `logs` into `dir`, which [`prepare_dir`] made ready, on the
/// current rayon pool. `progress` hears of each step.
pub fn export(
    logs: &Logs,
    dir: &Path,
    options: &ExportOptions,
    progress: &(dyn Fn(Step) + Sync),
) -> Result<ExportSummary, ExportError> {
    match options.format {
        Format::Parquet => export_parquet(logs, dir, options, progress),
        Format::Jsonl => export_jsonl(logs, dir, options, progress),
    }
}

fn export_parquet(
    logs: &Logs,
    dir: &Path,
    options: &ExportOptions,
    progress: &(dyn Fn(Step) + Sync),
) -> Result<ExportSummary, ExportError> {
    let spill_path = dir.join(".sigil-export-spill");
    let file = tempfile::tempfile_in(dir).map_err(io(&spill_path))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut offset = 0u64;
    let mut blocks = Vec::new();
    let mut columns = rows::Columns::default();
    let mut rows = 0;
    let read = logs.read(
        &options.filter,
        &|| progress(Step::PartRead),
        || (),
        |(), events, part| {
            let mut block = rows::Block::new(part.input.path.to_string_lossy().into_owned());
            each_event(events, part, options.view, &mut |event| {
                block.push(rows::record_id(event), event);
            });
            block
        },
        |block: rows::Block| {
            if block.rows == 0 {
                return Ok(());
            }
            let map = columns.merge(&block);
            let len = spill_block(&mut out, &map, &block).map_err(io(&spill_path))?;
            blocks.push(Spilled {
                offset,
                rows: block.rows,
            });
            offset += len;
            rows += block.rows;
            Ok::<(), ExportError>(())
        },
    )?;
    let file = out
        .into_inner()
        .map_err(|e| io(&spill_path)(e.into_error()))?;
    let spill = Spill {
        file: Mutex::new(file),
        path: spill_path,
        blocks,
        columns,
    };
    Ok(ExportSummary {
        read,
        rows,
        columns: spill.columns.names.len() + 2,
        written: parquet_out::write(&spill, dir, options, progress)?,
    })
}

fn export_jsonl(
    logs: &Logs,
    dir: &Path,
    options: &ExportOptions,
    progress: &(dyn Fn(Step) + Sync),
) -> Result<ExportSummary, ExportError> {
    let mut written = Vec::new();
    let mut rows = 0;
    let mut out: Option<(PathBuf, BufWriter<std::fs::File>)> = None;
    let mut in_file = 0u64;
    let read = logs.read(
        &options.filter,
        &|| progress(Step::PartRead),
        || (),
        |(), events, part| {
            let source: Arc<str> = Arc::from(part.input.path.to_string_lossy().as_ref());
            let mut lines: Vec<Vec<u8>> = Vec::new();
            each_event(events, part, options.view, &mut |event| {
                lines.push(json_line(&source, rows::record_id(event), event));
            });
            lines
        },
        |lines: Vec<Vec<u8>>| {
            for line in lines {
                if out.is_none() || in_file >= options.rows_per_file {
                    if let Some((path, mut w)) = out.take() {
                        w.flush().map_err(io(&path))?;
                        progress(Step::FileWritten);
                    }
                    let path = dir.join(file_name(written.len(), Format::Jsonl));
                    let file = std::fs::File::create(&path).map_err(io(&path))?;
                    written.push(path.clone());
                    out = Some((path, BufWriter::with_capacity(1 << 18, file)));
                    in_file = 0;
                }
                if let Some((path, w)) = &mut out {
                    w.write_all(&line).map_err(io(path))?;
                }
                in_file += 1;
                rows += 1;
            }
            Ok::<(), ExportError>(())
        },
    )?;
    if let Some((path, mut w)) = out.take() {
        w.flush().map_err(io(&path))?;
        progress(Step::FileWritten);
    }
    Ok(ExportSummary {
        read,
        rows,
        columns: 0,
        written,
    })
}

/// One event as a JSON line: `source`, `record_id`, then the event's fields (a field
/// named like either is written as `event_source` / `event_record_id`).
fn json_line(source: &str, record_id: Option<i64>, event: &dyn Event) -> Vec<u8> {
    let mut line = serde_json::to_vec(&serde_json::json!({ SOURCE: source, RECORD_ID: record_id }))
        .unwrap_or_default();
    let renamed = event.get(SOURCE).is_some() || event.get(RECORD_ID).is_some();
    let fields = if renamed {
        sigil_hunt::event_json(&Renamed(event))
    } else {
        sigil_hunt::event_json(event)
    };
    if let Some(rest) = fields.strip_prefix('{')
        && rest != "}"
    {
        line.pop();
        line.push(b',');
        line.extend_from_slice(rest.as_bytes());
    }
    line.push(b'\n');
    line
}

/// An event whose fields named like sigil's columns are written as `event_NAME`.
struct Renamed<'a>(&'a dyn Event);

impl Event for Renamed<'_> {
    fn get(&self, field: &str) -> Option<sigil_logs::FieldValue<'_>> {
        self.0.get(field)
    }

    fn for_each_field(&self, f: &mut dyn FnMut(&str, sigil_logs::FieldValue<'_>)) {
        self.0.for_each_field(&mut |name, value| {
            if sigil_logs::same_field_name(name, SOURCE)
                || sigil_logs::same_field_name(name, RECORD_ID)
            {
                f(&format!("event_{name}"), value);
            } else {
                f(name, value);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exported_files_are_replaced() {
        assert!(is_export_file("part-00000.parquet"));
        assert!(is_export_file("part-12.jsonl"));
        assert!(!is_export_file("part-.parquet"));
        assert!(!is_export_file("notes.parquet"));
        assert!(!is_export_file("part-00001.parquet.bak"));
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("out");
        prepare_dir(&out, false).expect("created");
        prepare_dir(&out, false).expect("empty folder taken");
        std::fs::write(out.join("part-00000.parquet"), b"x").expect("write");
        std::fs::write(out.join("keep.txt"), b"x").expect("write");
        assert!(matches!(
            prepare_dir(&out, false),
            Err(ExportError::Exists(_))
        ));
        prepare_dir(&out, true).expect("forced");
        assert!(!out.join("part-00000.parquet").exists());
        assert!(out.join("keep.txt").exists());
    }

    #[test]
    fn json_lines_lead_with_source_and_record_id() {
        let mut e = sigil_logs::FlatEvent::new();
        e.push("EventID", sigil_logs::FieldValue::Int(4688));
        e.push("Source", sigil_logs::FieldValue::Str("app".into()));
        let line = json_line("a.evtx", Some(3), &e);
        assert_eq!(
            String::from_utf8(line).expect("UTF-8"),
            "{\"source\":\"a.evtx\",\"record_id\":3,\"EventID\":4688,\"event_Source\":\"app\"}\n"
        );
        let empty = json_line("b.json", None, &sigil_logs::FlatEvent::new());
        assert_eq!(
            String::from_utf8(empty).expect("UTF-8"),
            "{\"source\":\"b.json\",\"record_id\":null}\n"
        );
    }
}
