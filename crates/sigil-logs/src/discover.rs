//! Finding the logs among the paths a user gives: files, folders (recursive), and `-`.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::LogError;

/// The EVTX file signature.
pub(crate) const EVTX_MAGIC: &[u8; 8] = b"ElfFile\0";

/// The kind of a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// A Windows event log file.
    Evtx,
    /// JSON: one object, an array of objects, or JSON lines.
    Json,
    /// JSON lines read from standard input (the path `-`).
    Stdin,
}

/// A log to read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Input {
    /// Its path (`-` for standard input).
    pub path: PathBuf,
    /// What it holds.
    pub kind: InputKind,
    /// Its size in bytes (0 for standard input), to split and schedule work.
    pub len: u64,
}

/// The logs found under some paths, and the paths that are not logs.
#[derive(Debug, Default)]
pub struct Discovery {
    /// The logs, in a stable order (as given; folders sorted by path).
    pub inputs: Vec<Input>,
    /// One error per path that could not be used.
    pub errors: Vec<LogError>,
}

/// Extensions that name a log. A file named so must be one; other files count only when their
/// content says so.
const JSON_EXTENSIONS: [&str; 4] = ["json", "jsonl", "ndjson", "log"];

/// Finds the logs among `paths`.
///
/// * `-` is JSON lines on standard input.
/// * A file is a log by its content: the EVTX signature, or JSON (first non-blank character
///   `{` or `[`). A file given by name that is not a log is an error.
/// * A folder is walked recursively; its files are kept when they are logs by content. Files
///   with a log extension (`.evtx`, `.json`, `.jsonl`, `.ndjson`) that are not logs are errors;
///   others (READMEs, licences) are passed over quietly. A `.log` file that is not JSON is
///   passed over too, as plain-text logs are common and not supported.
pub fn discover<P: AsRef<Path>>(paths: &[P]) -> Discovery {
    let mut found = Discovery::default();
    for path in paths {
        let path = path.as_ref();
        if path.as_os_str() == "-" {
            found.inputs.push(Input {
                path: path.to_path_buf(),
                kind: InputKind::Stdin,
                len: 0,
            });
            continue;
        }
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(source) => {
                found.errors.push(LogError::Io {
                    path: path.to_path_buf(),
                    source,
                });
                continue;
            }
        };
        if metadata.is_dir() {
            walk(path, &mut found);
        } else {
            match classify(path) {
                Ok(Some(input)) => found.inputs.push(input),
                Ok(None) => found.errors.push(LogError::NotALog {
                    path: path.to_path_buf(),
                }),
                Err(error) => found.errors.push(error),
            }
        }
    }
    found
}

fn walk(root: &Path, found: &mut Discovery) {
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let path = error.path().unwrap_or(root).to_path_buf();
                let source = error
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("file system loop"));
                found.errors.push(LogError::Io { path, source });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        match classify(path) {
            Ok(Some(input)) => found.inputs.push(input),
            Ok(None) => match extension(path).as_deref() {
                Some("evtx") => found.errors.push(LogError::NotEvtx {
                    path: path.to_path_buf(),
                }),
                Some("json" | "jsonl" | "ndjson") => found.errors.push(LogError::NotJson {
                    path: path.to_path_buf(),
                }),
                _ => {}
            },
            Err(error) => found.errors.push(error),
        }
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// What a file holds, by its first bytes (`None`: not a log).
pub fn classify(path: &Path) -> Result<Option<Input>, LogError> {
    let io = |source| LogError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut head = [0u8; 4096];
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    let Some(kind) = sniff(&head[..filled], extension(path).as_deref()) else {
        return Ok(None);
    };
    Ok(Some(Input {
        path: path.to_path_buf(),
        kind,
        len,
    }))
}

/// The kind of log that starts with `head`.
fn sniff(head: &[u8], extension: Option<&str>) -> Option<InputKind> {
    if head.starts_with(EVTX_MAGIC) {
        return Some(InputKind::Evtx);
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        Some(b'{' | b'[') => Some(InputKind::Json),
        // An empty file named like a JSON log is an empty log, not an error.
        None if extension.is_some_and(|e| JSON_EXTENSIONS.contains(&e)) => Some(InputKind::Json),
        _ => None,
    }
}

/// `path` relative to `root` (when it is under it), with `/` between components: a stable,
/// platform-independent key for reports and for comparing with the reference events.
pub fn relative_key(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"ElfFile\0rest", None), Some(InputKind::Evtx));
        assert_eq!(sniff(b"  \n{\"a\":1}", None), Some(InputKind::Json));
        assert_eq!(
            sniff(b"\xEF\xBB\xBF[{}]", Some("txt")),
            Some(InputKind::Json)
        );
        assert_eq!(sniff(b"", Some("jsonl")), Some(InputKind::Json));
        assert_eq!(sniff(b"", Some("md")), None);
        assert_eq!(sniff(b"# README", Some("md")), None);
        assert_eq!(sniff(b"\x7fELF\x02\x01", None), None);
    }
}
