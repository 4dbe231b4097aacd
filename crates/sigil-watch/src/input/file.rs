//! `file:PATH`: a file followed as it grows, across rotation, as `tail -F` does.
//!
//! The file is read from its start (or, with `--state`, from where the last run's
//! committed batches ended, when it is still the same file), then polled. When the path
//! names another file (rotated: renamed and created anew) the old one is read to its end
//! and the new one from its start; when it shrinks (truncated in place) it is read again
//! from its start. A missing file is waited for.
//!
//! With `--state`, the evaluator records how far a batch's records go before it writes
//! their detections, and their position once it has: a run stopped in between (even by
//! `kill -9`) reads those records again, and their detections carry `"repeat": true`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{Context, Lines, send_blocking};
use crate::WatchError;
use crate::batch::{Batch, Position};

/// How often a file at its end is checked for more, or for rotation.
const POLL: Duration = Duration::from_millis(100);

pub(super) fn start(path: &Path, context: Context) -> Result<(), WatchError> {
    let path = path.to_path_buf();
    std::thread::Builder::new()
        .name("watch-file".to_string())
        .spawn(move || follow(&path, &context))?;
    Ok(())
}

struct Open {
    file: File,
    inode: u64,
    /// Bytes read from the file.
    read: u64,
    /// Bytes of whole lines sent (where the next record starts).
    sent: u64,
    /// Records ending at or before this offset were read by a run that may have written
    /// their detections: they are marked as repeats.
    repeat_until: Option<u64>,
    lines: Lines,
    line: u64,
}

fn open(path: &Path, resume: Option<Position>, in_flight: Option<Position>) -> Option<Open> {
    let mut file = File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    let mut read = 0;
    if let Some(p) = resume.filter(|p| p.inode == meta.ino() && p.offset <= meta.len()) {
        file.seek(SeekFrom::Start(p.offset)).ok()?;
        read = p.offset;
    }
    Some(Open {
        file,
        inode: meta.ino(),
        read,
        sent: read,
        repeat_until: in_flight
            .filter(|p| p.inode == meta.ino() && p.offset > read)
            .map(|p| p.offset),
        lines: Lines::default(),
        line: 0,
    })
}

/// Marks the records of `batch` (which start at `start`) that end at or before `until`.
fn mark_repeats(batch: &mut Batch, start: u64, until: u64) {
    let mut end = start;
    for r in &mut batch.records {
        // Each record is its line without the newline.
        end += r.range.len() as u64 + 1;
        if end <= until {
            r.repeat = true;
        }
    }
}

fn follow(path: &PathBuf, context: &Context) {
    let origin: Arc<str> = Arc::from(path.display().to_string());
    let mut resume = context.resume;
    let mut in_flight = context.repeat_until;
    let mut buffer = vec![0u8; 256 * 1024];
    let mut current: Option<Open> = None;
    let mut waiting_said = false;
    while !*context.stop.borrow() {
        let Some(f) = current.as_mut() else {
            if let Some(f) = open(path, resume.take(), in_flight.take()) {
                current = Some(f);
            } else {
                if !waiting_said {
                    eprintln!("sigil watch: {}: waiting for the file", path.display());
                    waiting_said = true;
                }
                std::thread::sleep(POLL);
            }
            continue;
        };
        let n = match f.file.read(&mut buffer) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("sigil watch: {}: {e}", path.display());
                current = None;
                std::thread::sleep(POLL);
                continue;
            }
        };
        if n > 0 {
            f.read += n as u64;
            let mut batch = Batch::new(context.index, &origin);
            f.lines.split(&buffer[..n], &mut f.line, &mut batch);
            let end = f.read - f.lines.pending() as u64;
            if let Some(until) = f.repeat_until {
                mark_repeats(&mut batch, f.sent, until);
                if end >= until {
                    f.repeat_until = None;
                }
            }
            f.sent = end;
            batch.position = Some(Position {
                inode: f.inode,
                offset: end,
            });
            if !batch.is_empty() && !send_blocking(context, batch) {
                return;
            }
            continue;
        }
        // At the end: rotated, truncated, or just nothing new yet.
        match std::fs::metadata(path) {
            Ok(meta) if meta.ino() != f.inode => {
                // Rotated: the old file is read to its end (done), its last line even
                // without a newline, then the new one from its start.
                let mut batch = Batch::new(context.index, &origin);
                f.lines.finish(&mut f.line, &mut batch);
                if !batch.is_empty() && !send_blocking(context, batch) {
                    return;
                }
                current = None;
                continue;
            }
            Ok(meta) if meta.len() < f.read => {
                let _ = f.file.seek(SeekFrom::Start(0));
                f.read = 0;
                f.sent = 0;
                f.repeat_until = None;
                f.lines = Lines::default();
            }
            _ => {}
        }
        std::thread::sleep(POLL);
    }
}
