//! The spilled rows written as Parquet with the run's schema, files in parallel.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
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
            batch.source.append_value(&block.source);
            batch.record_id.append_option(record_id);
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

/// A column being built.
enum Column {
    Text(StringBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    List(ListBuilder<StringBuilder>),
}

impl Column {
    fn of(kind: Kind, multi: bool) -> Self {
        if multi {
            return Self::List(ListBuilder::new(StringBuilder::new()));
        }
        match kind {
            Kind::Bool => Self::Bool(BooleanBuilder::new()),
            Kind::Int => Self::Int(Int64Builder::new()),
            Kind::Float => Self::Float(Float64Builder::new()),
            Kind::Null | Kind::Text => Self::Text(StringBuilder::new()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Text(b) => b.len(),
            Self::Int(b) => b.len(),
            Self::Float(b) => b.len(),
            Self::Bool(b) => b.len(),
            Self::List(b) => b.len(),
        }
    }

    /// Nulls up to `rows` rows.
    fn pad(&mut self, rows: usize) {
        let n = rows.saturating_sub(self.len());
        if n == 0 {
            return;
        }
        match self {
            Self::Text(b) => b.append_nulls(n),
            Self::Int(b) => b.append_nulls(n),
            Self::Float(b) => b.append_nulls(n),
            Self::Bool(b) => b.append_nulls(n),
            Self::List(b) => b.append_nulls(n),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Text(b) => Arc::new(b.finish()),
            Self::Int(b) => Arc::new(b.finish()),
            Self::Float(b) => Arc::new(b.finish()),
            Self::Bool(b) => Arc::new(b.finish()),
            Self::List(b) => Arc::new(b.finish()),
        }
    }
}

/// Rows being gathered into one record batch.
struct Batch {
    source: StringBuilder,
    record_id: Int64Builder,
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
            source: StringBuilder::new(),
            record_id: Int64Builder::new(),
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

    /// Sets column `c` of the current row to `value`.
    fn set(&mut self, c: usize, value: Value<'_>) {
        let row = self.rows;
        let Some(column) = self.columns.get_mut(c) else {
            return;
        };
        if let Column::List(list) = column {
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
            return;
        }
        // A column holds one value per row.
        if column.len() > row {
            return;
        }
        column.pad(row);
        match (column, value) {
            (_, Value::Null) | (Column::List(_), _) => {}
            (Column::Int(b), Value::Int(i)) => b.append_value(i),
            (Column::Float(b), Value::Float(f)) => b.append_value(f),
            (Column::Float(b), Value::Int(i)) => b.append_value(i as f64),
            (Column::Bool(b), Value::Bool(v)) => b.append_value(v),
            (Column::Text(b), v) => match text_of(v, &mut self.text) {
                Some(t) => b.append_value(t),
                None => b.append_null(),
            },
            // The column's kind holds every value of the run: nothing else arrives.
            (Column::Int(b), _) => b.append_null(),
            (Column::Float(b), _) => b.append_null(),
            (Column::Bool(b), _) => b.append_null(),
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

    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch, parquet::errors::ParquetError> {
        let rows = self.rows;
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len() + 2);
        arrays.push(Arc::new(self.source.finish()));
        arrays.push(Arc::new(self.record_id.finish()));
        for column in &mut self.columns {
            column.pad(rows);
            arrays.push(column.finish());
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
