//! The open correlation windows, kept in SQLite so that a restart resumes them.
//!
//! One row per open window: the correlation (by id, name or title: what stays the same
//! when the rules are compiled again), its group as a JSON array, and its hits as a JSON
//! array. The database is the windows' only copy: a batch with correlation hits opens a
//! write transaction (`BEGIN IMMEDIATE`), reads the windows it touches, advances them,
//! writes its detections out, writes the windows back and commits, and only then is the
//! batch acknowledged. WAL mode with `synchronous = NORMAL`: a process killed at any point
//! (even `kill -9`) leaves the state of the last committed batch, and the batches after it
//! are delivered again (and marked as repeats) by inputs that redeliver.
//!
//! Watchers that share one state file (scale-out on one host, one durable consumer)
//! thereby share their windows: the write lock orders their batches that touch windows,
//! and each reads what the others committed.

use std::path::Path;

use rusqlite::{Connection, params};
use serde_json::{Value, json};
use sigil_engine::{EventSummary, WindowHit};
use sigil_hunt::WindowName;

use crate::WatchError;
use crate::batch::Position;

/// The state file.
#[derive(Debug)]
pub(crate) struct State {
    db: Connection,
    path: String,
}

fn hit_json(h: &WindowHit) -> Value {
    json!({
        "base": h.base,
        "time": h.time,
        "value": h.value,
        "timestamp": h.summary.timestamp,
        "computer": h.summary.computer,
        "channel": h.summary.channel,
        "event_id": h.summary.event_id,
        "record_id": h.summary.record_id,
        "source": h.source.as_deref(),
    })
}

fn hit_of(v: &Value) -> Option<WindowHit> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    Some(WindowHit {
        base: u32::try_from(v.get("base")?.as_u64()?).ok()?,
        time: v.get("time")?.as_i64()?,
        value: text("value"),
        summary: EventSummary {
            timestamp: text("timestamp"),
            computer: text("computer"),
            channel: text("channel"),
            event_id: v.get("event_id").and_then(Value::as_i64),
            record_id: v.get("record_id").and_then(Value::as_i64),
        },
        source: v
            .get("source")
            .and_then(Value::as_str)
            .map(std::sync::Arc::from),
    })
}

impl State {
    /// Opens (or creates) the state file.
    pub(crate) fn open(path: &Path) -> Result<Self, WatchError> {
        let name = path.display().to_string();
        let failed = |e: rusqlite::Error| WatchError::State {
            path: name.clone(),
            message: e.to_string(),
        };
        let db = Connection::open(path).map_err(failed)?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA busy_timeout = 10000;
             CREATE TABLE IF NOT EXISTS windows (
                 correlation TEXT NOT NULL,
                 grp TEXT NOT NULL,
                 hits TEXT NOT NULL,
                 PRIMARY KEY (correlation, grp)
             );
             CREATE TABLE IF NOT EXISTS positions (
                 input TEXT PRIMARY KEY,
                 inode INTEGER NOT NULL,
                 offset INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS in_flight (
                 input TEXT PRIMARY KEY,
                 inode INTEGER NOT NULL,
                 offset INTEGER NOT NULL
             );",
        )
        .map_err(failed)?;
        Ok(Self { db, path: name })
    }

    fn failed(&self, e: &rusqlite::Error) -> WatchError {
        WatchError::State {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// Opens a write transaction, waiting for other watchers sharing the file.
    pub(crate) fn begin(&mut self) -> Result<(), WatchError> {
        self.db
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.failed(&e))
    }

    /// Commits the open transaction.
    pub(crate) fn commit(&mut self) -> Result<(), WatchError> {
        self.db.execute_batch("COMMIT").map_err(|e| self.failed(&e))
    }

    /// The window of `name` (empty when none is open). A row that does not read (written
    /// by another version) counts as no window.
    pub(crate) fn window(&self, name: &WindowName) -> Result<Vec<WindowHit>, WatchError> {
        let group = serde_json::to_string(&name.group).unwrap_or_default();
        let hits: Option<String> = match self.db.query_row(
            "SELECT hits FROM windows WHERE correlation = ?1 AND grp = ?2",
            params![name.correlation, group],
            |r| r.get(0),
        ) {
            Ok(h) => Some(h),
            Err(rusqlite::Error::QueryReturnedNoRows) => None,
            Err(e) => return Err(self.failed(&e)),
        };
        Ok(
            match hits.and_then(|h| serde_json::from_str::<Value>(&h).ok()) {
                Some(Value::Array(hits)) => hits.iter().filter_map(hit_of).collect(),
                _ => Vec::new(),
            },
        )
    }

    /// Writes the window of `name` (an empty one is deleted).
    pub(crate) fn put(&self, name: &WindowName, hits: &[WindowHit]) -> Result<(), WatchError> {
        let group = serde_json::to_string(&name.group).unwrap_or_default();
        let done = if hits.is_empty() {
            self.db.execute(
                "DELETE FROM windows WHERE correlation = ?1 AND grp = ?2",
                params![name.correlation, group],
            )
        } else {
            let hits = Value::Array(hits.iter().map(hit_json).collect()).to_string();
            self.db.execute(
                "INSERT INTO windows (correlation, grp, hits) VALUES (?1, ?2, ?3)
                 ON CONFLICT (correlation, grp) DO UPDATE SET hits = excluded.hits",
                params![name.correlation, group, hits],
            )
        };
        done.map(drop).map_err(|e| self.failed(&e))
    }

    /// Closes the windows of correlations not in `keep`.
    pub(crate) fn keep_only(&mut self, keep: &[String]) -> Result<usize, WatchError> {
        let names: Vec<String> = {
            let mut stmt = self
                .db
                .prepare("SELECT DISTINCT correlation FROM windows")
                .map_err(|e| self.failed(&e))?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(|e| self.failed(&e))?;
            rows.filter_map(Result::ok).collect()
        };
        let mut closed = 0;
        for name in names.iter().filter(|n| !keep.contains(n)) {
            closed += self
                .db
                .execute("DELETE FROM windows WHERE correlation = ?1", params![name])
                .map_err(|e| self.failed(&e))?;
        }
        Ok(closed)
    }

    /// The number of open windows.
    pub(crate) fn open_windows(&self) -> u64 {
        self.db
            .query_row("SELECT count(*) FROM windows", [], |r| r.get::<_, i64>(0))
            .map_or(0, |n| n as u64)
    }

    /// Where the last run's committed batches of a followed file ended.
    pub(crate) fn position(&self, input: &str) -> Option<Position> {
        self.at("positions", input)
    }

    /// Records where a followed file has been read to.
    pub(crate) fn put_position(&self, input: &str, p: Position) -> Result<(), WatchError> {
        self.put_at("positions", input, p)
    }

    /// Where the records of a followed file whose detections may have been written end: a
    /// run that stopped between writing them and committing their position leaves it
    /// beyond the position, and the next run marks those records' detections as repeats.
    pub(crate) fn in_flight(&self, input: &str) -> Option<Position> {
        self.at("in_flight", input)
    }

    /// Records, before their detections are written, how far a followed file's records
    /// go; committed on its own.
    pub(crate) fn put_in_flight(&mut self, input: &str, p: Position) -> Result<(), WatchError> {
        self.begin()?;
        self.put_at("in_flight", input, p)?;
        self.commit()
    }

    fn at(&self, table: &str, input: &str) -> Option<Position> {
        self.db
            .query_row(
                &format!("SELECT inode, offset FROM {table} WHERE input = ?1"),
                params![input],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
            .ok()
            .map(|(inode, offset)| Position {
                inode: inode as u64,
                offset: offset as u64,
            })
    }

    fn put_at(&self, table: &str, input: &str, p: Position) -> Result<(), WatchError> {
        self.db
            .execute(
                &format!(
                    "INSERT INTO {table} (input, inode, offset) VALUES (?1, ?2, ?3)
                     ON CONFLICT (input) DO UPDATE SET inode = excluded.inode,
                     offset = excluded.offset"
                ),
                params![input, p.inode as i64, p.offset as i64],
            )
            .map(drop)
            .map_err(|e| self.failed(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let name = WindowName {
            correlation: "c1".into(),
            group: vec![Some("WS01".into()), None],
        };
        let hit = WindowHit {
            base: 0,
            time: 1_700_000_000_000_000,
            value: Some("v".into()),
            summary: EventSummary {
                timestamp: Some("2023-11-14T22:13:20Z".into()),
                computer: Some("WS01".into()),
                channel: None,
                event_id: Some(1),
                record_id: Some(42),
            },
            source: Some("-".into()),
        };
        {
            let mut state = State::open(&path).unwrap();
            state.begin().unwrap();
            state.put(&name, &[hit.clone(), hit.clone()]).unwrap();
            state
                .put_position(
                    "f",
                    Position {
                        inode: 7,
                        offset: 99,
                    },
                )
                .unwrap();
            state.commit().unwrap();
            // Not committed: gone with the process.
            state.begin().unwrap();
            state.put(&name, &[]).unwrap();
        }
        let mut state = State::open(&path).unwrap();
        assert_eq!(state.window(&name).unwrap(), vec![hit.clone(), hit]);
        assert_eq!(
            state.position("f"),
            Some(Position {
                inode: 7,
                offset: 99
            })
        );
        assert_eq!(state.open_windows(), 1);
        assert_eq!(state.in_flight("f"), None);
        let p = Position {
            inode: 7,
            offset: 120,
        };
        state.put_in_flight("f", p).unwrap();
        assert_eq!(State::open(&path).unwrap().in_flight("f"), Some(p));
        assert_eq!(state.keep_only(&["c2".to_string()]).unwrap(), 1);
        assert!(state.window(&name).unwrap().is_empty());
    }
}
