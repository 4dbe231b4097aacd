//! What a folder of Parquet files holds: its columns and which of them are lists, read from
//! the files' footers, so that a detection job can be written for the lake it will read.

use std::path::{Path, PathBuf};

use arrow_schema::DataType;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};

use crate::{ExportError, io};

/// A column of a lake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeColumn {
    /// The column's name, as the files spell it.
    pub name: String,
    /// Whether the column holds lists (in some file): a field an event held more than once.
    pub list: bool,
}

/// The columns of every Parquet file under `dir` (searched recursively, as Spark reads a
/// folder), in order of first appearance (files in order of their paths), a column a list where any file has it as one.
/// An error names the file whose footer cannot be read; a folder without Parquet files is
/// an error too.
pub fn lake_columns(dir: &Path) -> Result<Vec<LakeColumn>, ExportError> {
    let mut files = Vec::new();
    parquet_files(dir, &mut files)?;
    if files.is_empty() {
        return Err(ExportError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no Parquet file in it"),
        });
    }
    files.sort();
    let mut columns: Vec<LakeColumn> = Vec::new();
    for path in files {
        let file = std::fs::File::open(&path).map_err(io(&path))?;
        let meta =
            ArrowReaderMetadata::load(&file, ArrowReaderOptions::default()).map_err(|source| {
                ExportError::Parquet {
                    path: path.clone(),
                    source,
                }
            })?;
        for field in meta.schema().fields() {
            let list = matches!(
                field.data_type(),
                DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)
            );
            match columns.iter_mut().find(|c| c.name == *field.name()) {
                Some(c) => c.list |= list,
                None => columns.push(LakeColumn {
                    name: field.name().clone(),
                    list,
                }),
            }
        }
    }
    Ok(columns)
}

fn parquet_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ExportError> {
    let entries = std::fs::read_dir(dir).map_err(io(dir))?;
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Spark's and Hadoop's own files (`_SUCCESS`, `.part-0.crc`) are not data.
        if name.starts_with(['.', '_']) {
            continue;
        }
        if entry.file_type().map_err(io(&path))?.is_dir() {
            parquet_files(&path, out)?;
        } else if name.ends_with(".parquet") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use arrow_schema::{Field, Schema};
    use parquet::arrow::ArrowWriter;

    fn write(path: &Path, columns: Vec<(&str, ArrayRef)>) {
        let schema = Schema::new(
            columns
                .iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        );
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .expect("batch");
        let file = std::fs::File::create(path).expect("file");
        let mut w = ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
        w.write(&batch).expect("write");
        w.close().expect("close");
    }

    #[test]
    fn columns_of_every_file_with_their_lists() {
        let dir = tempfile::tempdir().expect("temp dir");
        let text: ArrayRef = Arc::new(StringArray::from(vec!["a"]));
        let mut list = ListBuilder::new(StringBuilder::new());
        list.values().append_value("x");
        list.append(true);
        let list: ArrayRef = Arc::new(list.finish());
        write(
            &dir.path().join("part-00000.parquet"),
            vec![("source", text.clone()), ("Process Name", text.clone())],
        );
        std::fs::create_dir(dir.path().join("batch=2")).expect("sub folder");
        write(
            &dir.path().join("batch=2/part-00000.parquet"),
            vec![("source", text.clone()), ("tags", list)],
        );
        std::fs::write(dir.path().join("_SUCCESS"), "").expect("marker");
        let columns = lake_columns(dir.path()).expect("columns");
        let seen: Vec<(&str, bool)> = columns.iter().map(|c| (c.name.as_str(), c.list)).collect();
        assert_eq!(
            seen,
            [("source", false), ("tags", true), ("Process Name", false)]
        );
    }

    #[test]
    fn a_folder_without_parquet_or_with_a_broken_file_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = lake_columns(dir.path()).expect_err("no files");
        assert!(err.to_string().contains("no Parquet file"), "{err}");
        std::fs::write(dir.path().join("part-00000.parquet"), "not parquet").expect("file");
        let err = lake_columns(dir.path()).expect_err("broken");
        assert!(err.to_string().contains("part-00000.parquet"), "{err}");
    }
}
