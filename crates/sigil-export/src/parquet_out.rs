//! The spilled rows written as Parquet with the run's schema, files in parallel.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{ArrayBuilder, BooleanBufferBuilder, ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use crate::rows::{Kind, RECORD_ID, RowReader, SOURCE, Value};
use crate::{ExportError, ExportOptions, Format, Spill, Spilled, Step, file_name, io};

/// Rows per record batch handed to the Parquet writer.
const BATCH_ROWS: usize = 8192;

/// The Arrow type of a column.
fn data_type(kind: Kind, multi: bool) -> DataType {
    if multi {
        return DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
    }
    match kind {
        Kind::Bool => DataType::Boolean,
        Kind::Int => DataType::Int64,
        Kind::Float => DataType::Float64,
        Kind::Null | Kind::Text => DataType::Utf8,
    }
}

/// The run's schema: `source`, `record_id`, then every column in order of appearance.
pub(crate) fn schema(spill: &Spill) -> SchemaRef {
    let c = &spill.columns;
    let mut fields = vec![
        Field::new(SOURCE, DataType::Utf8, false),
        Field::new(RECORD_ID, DataType::Int64, true),
    ];
    fields.extend(
        c.names
            .iter()
            .zip(c.kinds.iter().zip(&c.multi))
            .map(|(name, (kind, multi))| Field::new(name, data_type(*kind, *multi), true)),
    );
    Arc::new(Schema::new(fields))
}

/// Writes the spilled rows as Parquet files in `dir`; the files written, in order.
pub(crate) fn write(
    spill: &Spill,
    dir: &Path,
    options: &ExportOptions,
    progress: &(dyn Fn(Step) + Sync),
) -> Result<Vec<PathBuf>, ExportError> {
    // Consecutive blocks, up to the rows of one file each.
    let mut jobs: Vec<Vec<Spilled>> = Vec::new();
    let mut rows = 0;
    for block in &spill.blocks {
        match jobs.last_mut() {
            Some(job) if rows + block.rows <= options.rows_per_file || job.is_empty() => {
                job.push(*block);
                rows += block.rows;
            }
            _ => {
                jobs.push(vec![*block]);
                rows = block.rows;
            }
        }
    }
    progress(Step::Writing(jobs.len()));
    let schema = schema(spill);
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_size(options.rows_per_group.max(1))
        .set_created_by(format!("sigil {}", env!("CARGO_PKG_VERSION")))
        .build();
    jobs.par_iter()
        .enumerate()
        .map(|(n, blocks)| {
            let path = dir.join(file_name(n, Format::Parquet));
            write_file(spill, &schema, &props, blocks, &path)?;
            progress(Step::FileWritten);
            Ok(path)
        })
        .collect()
}

fn write_file(
    spill: &Spill,
    schema: &SchemaRef,
    props: &WriterProperties,
    blocks: &[Spilled],
    path: &Path,
) -> Result<(), ExportError> {
    let parquet_err = |source| ExportError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io(path))?;
    let mut writer = ArrowWriter::try_new(
        std::io::BufWriter::with_capacity(1 << 20, file),
        Arc::clone(schema),
        Some(props.clone()),
    )
    .map_err(parquet_err)?;
    let mut batch = Batch::new(spill);
    for &at in blocks {
        let block = spill.read_block(at)?;
        let mut rows = RowReader::new(&block.data);
        while let Some((record_id, count)) = rows.row() {
            batch.start_row(&block.source, record_id);
            for _ in 0..count {
                let Some((column, value)) = rows.field() else {
                    break;
                };
                if let Some(&c) = block.map.get(column as usize) {
                    batch.set(c as usize, value);
                }
            }
            batch.end_row();
            if batch.rows == BATCH_ROWS {
                writer
                    .write(&batch.finish(schema).map_err(parquet_err)?)
                    .map_err(parquet_err)?;
            }
        }
    }
    if batch.rows > 0 {
        writer
            .write(&batch.finish(schema).map_err(parquet_err)?)
            .map_err(parquet_err)?;
    }
    let out = writer.into_inner().map_err(parquet_err)?;
    out.into_inner()
        .map_err(|e| io(path)(e.into_error()))?
        .sync_all()
        .map_err(io(path))?;
    Ok(())
}

/// A column being built: a list column in Arrow's builder (few columns, few values), any
/// other column as the rows of the batch that hold a value and those values, made into an
/// array of the batch's exact size once the batch is full. Most columns are null in most
/// rows; growing a builder row by row (nulls included) for each of hundreds of columns,
/// anew for every batch, cost more than writing the Parquet.
enum Column {
    Scalar(Scalar),
    List(ListBuilder<StringBuilder>),
}

impl Column {
    fn of(kind: Kind, multi: bool) -> Self {
        if multi {
            return Self::List(ListBuilder::new(StringBuilder::new()));
        }
        Self::Scalar(Scalar::new(match kind {
            Kind::Bool => Values::Bool(Vec::new()),
            Kind::Int => Values::Int(Vec::new()),
            Kind::Float => Values::Float(Vec::new()),
            Kind::Null | Kind::Text => Values::Text {
                bytes: Vec::new(),
                ends: Vec::new(),
            },
        }))
    }

    fn finish(&mut self, rows: usize) -> Result<ArrayRef, ParquetError> {
        match self {
            Self::Scalar(s) => s.finish(rows),
            Self::List(b) => {
                if b.len() < rows {
                    b.append_nulls(rows - b.len());
                }
                Ok(Arc::new(b.finish()))
            }
        }
    }
}

/// The values of a scalar column, in the order of the rows that hold them.
enum Values {
    /// The texts one after another, and where each ends.
    Text {
        bytes: Vec<u8>,
        ends: Vec<usize>,
    },
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
}

/// A scalar column of the batch being gathered.
struct Scalar {
    values: Values,
    /// The rows (of the batch) that hold a value, ascending; every other row is null.
    rows: Vec<u32>,
    /// Rows before this one are decided: the first value set in a row is the row's.
    decided: usize,
}

impl Scalar {
    fn new(values: Values) -> Self {
        Self {
            values,
            rows: Vec::new(),
            decided: 0,
        }
    }

    fn text() -> Self {
        Self::new(Values::Text {
            bytes: Vec::new(),
            ends: Vec::new(),
        })
    }

    /// Sets row `row` to `value` unless the row is set already (a null leaves it open; a
    /// value of another kind sets it to null).
    fn set(&mut self, row: usize, value: Value<'_>, text: &mut String) {
        if self.decided > row || value == Value::Null {
            return;
        }
        self.decided = row + 1;
        let held = match (&mut self.values, value) {
            (Values::Int(v), Value::Int(i)) => {
                v.push(i);
                true
            }
            (Values::Float(v), Value::Float(f)) => {
                v.push(f);
                true
            }
            (Values::Float(v), Value::Int(i)) => {
                v.push(i as f64);
                true
            }
            (Values::Bool(v), Value::Bool(b)) => {
                v.push(b);
                true
            }
            (Values::Text { bytes, ends }, v) => match text_of(v, text) {
                Some(t) => {
                    bytes.extend_from_slice(t.as_bytes());
                    ends.push(bytes.len());
                    true
                }
                None => false,
            },
            // The column's kind holds every value of the run: nothing else arrives.
            (Values::Int(_) | Values::Float(_) | Values::Bool(_), _) => false,
        };
        if held {
            self.rows.push(row as u32);
        }
    }

    /// The column's array of `n` rows; the column is empty again.
    fn finish(&mut self, n: usize) -> Result<ArrayRef, ParquetError> {
        let nulls = (self.rows.len() < n).then(|| {
            let mut valid = BooleanBufferBuilder::new(n);
            valid.append_n(n, false);
            for &r in &self.rows {
                valid.set_bit(r as usize, true);
            }
            NullBuffer::new(valid.finish())
        });
        let rows = std::mem::take(&mut self.rows);
        self.decided = 0;
        let array: ArrayRef = match &mut self.values {
            Values::Int(v) => Arc::new(Int64Array::new(scatter(&rows, v, n).into(), nulls)),
            Values::Float(v) => Arc::new(Float64Array::new(scatter(&rows, v, n).into(), nulls)),
            Values::Bool(v) => {
                let mut bits = BooleanBufferBuilder::new(n);
                bits.append_n(n, false);
                for (&r, &b) in rows.iter().zip(v.iter()) {
                    bits.set_bit(r as usize, b);
                }
                v.clear();
                Arc::new(BooleanArray::new(bits.finish(), nulls))
            }
            Values::Text { bytes, ends } => {
                let offset = |end: usize| {
                    i32::try_from(end).map_err(|_| {
                        ParquetError::General(
                            "more than 2 GiB of text in one column of a batch".into(),
                        )
                    })
                };
                let mut offsets: Vec<i32> = Vec::with_capacity(n + 1);
                offsets.push(0);
                let mut last = 0;
                for (&r, &end) in rows.iter().zip(ends.iter()) {
                    offsets.resize(r as usize + 1, last);
                    last = offset(end)?;
                    offsets.push(last);
                }
                offsets.resize(n + 1, last);
                let text = std::mem::replace(bytes, Vec::with_capacity(bytes.len()));
                ends.clear();
                Arc::new(StringArray::try_new(
                    OffsetBuffer::new(offsets.into()),
                    text.into(),
                    nulls,
                )?)
            }
        };
        self.rows = rows;
        self.rows.clear();
        Ok(array)
    }
}

/// `n` values, those of `values` at `rows` and the default elsewhere; `values` is emptied.
fn scatter<T: Copy + Default>(rows: &[u32], values: &mut Vec<T>, n: usize) -> Vec<T> {
    let mut out = vec![T::default(); n];
    for (&r, &v) in rows.iter().zip(values.iter()) {
        out[r as usize] = v;
    }
    values.clear();
    out
}

/// Rows being gathered into one record batch.
struct Batch {
    source: Scalar,
    record_id: Scalar,
    columns: Vec<Column>,
    /// List columns with a list open in the current row.
    open: Vec<usize>,
    is_open: Vec<bool>,
    rows: usize,
    text: String,
}

impl Batch {
    fn new(spill: &Spill) -> Self {
        let c = &spill.columns;
        Self {
            source: Scalar::text(),
            record_id: Scalar::new(Values::Int(Vec::new())),
            columns: c
                .kinds
                .iter()
                .zip(&c.multi)
                .map(|(k, m)| Column::of(*k, *m))
                .collect(),
            open: Vec::new(),
            is_open: vec![false; c.names.len()],
            rows: 0,
            text: String::new(),
        }
    }

    /// Starts a row of `source` with `record_id`.
    fn start_row(&mut self, source: &str, record_id: Option<i64>) {
        let row = self.rows;
        self.source.set(row, Value::Str(source), &mut self.text);
        self.record_id.set(
            row,
            record_id.map_or(Value::Null, Value::Int),
            &mut self.text,
        );
    }

    /// Sets column `c` of the current row to `value`.
    fn set(&mut self, c: usize, value: Value<'_>) {
        let row = self.rows;
        match self.columns.get_mut(c) {
            Some(Column::Scalar(s)) => s.set(row, value, &mut self.text),
            Some(Column::List(list)) => {
                if !self.is_open[c] {
                    if list.len() < row {
                        list.append_nulls(row - list.len());
                    }
                    self.is_open[c] = true;
                    self.open.push(c);
                }
                match text_of(value, &mut self.text) {
                    Some(t) => list.values().append_value(t),
                    None => list.values().append_null(),
                }
            }
            None => {}
        }
    }

    fn end_row(&mut self) {
        for c in self.open.drain(..) {
            if let Some(Column::List(list)) = self.columns.get_mut(c) {
                list.append(true);
            }
            self.is_open[c] = false;
        }
        self.rows += 1;
    }

    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch, ParquetError> {
        let rows = self.rows;
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len() + 2);
        arrays.push(self.source.finish(rows)?);
        arrays.push(self.record_id.finish(rows)?);
        for column in &mut self.columns {
            arrays.push(column.finish(rows)?);
        }
        self.rows = 0;
        Ok(RecordBatch::try_new(Arc::clone(schema), arrays)?)
    }
}

/// A value as text, the way sigil compares values (`4688` is `"4688"`); `None` for null.
fn text_of<'a>(value: Value<'a>, buf: &'a mut String) -> Option<&'a str> {
    buf.clear();
    match value {
        Value::Null => return None,
        Value::Str(s) => return Some(s),
        Value::Int(i) => {
            let _ = write!(buf, "{i}");
        }
        Value::UInt(u) => {
            let _ = write!(buf, "{u}");
        }
        Value::Float(f) => {
            let _ = write!(buf, "{f}");
        }
        Value::Bool(b) => return Some(if b { "true" } else { "false" }),
    }
    Some(buf.as_str())
}
