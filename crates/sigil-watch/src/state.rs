//! The open correlation windows, kept in SQLite so that a restart resumes them.
//!
//! One row per open window: the correlation (by id, name or title: what stays the same
//! when the rules are compiled again), its group as a JSON array, and its hits as a JSON
//! array. The evaluator writes the windows a batch changed in one transaction before it
//! acknowledges the batch, in WAL mode with `synchronous = NORMAL`: a process killed at
//! any point (even `kill -9`) leaves the state of the last committed batch, and the
//! batches after it are delivered again (and marked as repeats) by inputs that redeliver.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::{Connection, params};
use serde_json::{Value, json};
use sigil_engine::{EventSummary, WindowHit};
use sigil_hunt::WindowName;

use crate::WatchError;

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

    /// Every open window kept. Rows that do not read (written by another version) are
    /// passed over.
    pub(crate) fn load(&self) -> Result<HashMap<WindowName, Vec<WindowHit>>, WatchError> {
        let mut out = HashMap::new();
        let mut stmt = self
            .db
            .prepare("SELECT correlation, grp, hits FROM windows")
            .map_err(|e| self.failed(&e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| self.failed(&e))?;
        for row in rows {
            let (correlation, group, hits) = row.map_err(|e| self.failed(&e))?;
            let Ok(group) = serde_json::from_str::<Vec<Option<String>>>(&group) else {
                continue;
            };
            let Ok(Value::Array(hits)) = serde_json::from_str::<Value>(&hits) else {
                continue;
            };
            let hits: Vec<WindowHit> = hits.iter().filter_map(hit_of).collect();
            out.insert(WindowName { correlation, group }, hits);
        }
        Ok(out)
    }

    /// Writes the windows named in `changed` as they are in `windows` (a window no longer
    /// there, or empty, is deleted), in one transaction.
    pub(crate) fn commit(
        &mut self,
        windows: &HashMap<WindowName, Vec<WindowHit>>,
        changed: &HashSet<WindowName>,
    ) -> Result<(), WatchError> {
        if changed.is_empty() {
            return Ok(());
        }
        let tx = self.db.transaction().map_err(|e| WatchError::State {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        let result = (|| {
            for name in changed {
                let group = serde_json::to_string(&name.group).unwrap_or_default();
                match windows.get(name).filter(|w| !w.is_empty()) {
                    Some(hits) => {
                        let hits = Value::Array(hits.iter().map(hit_json).collect()).to_string();
                        tx.execute(
                            "INSERT INTO windows (correlation, grp, hits) VALUES (?1, ?2, ?3)
                             ON CONFLICT (correlation, grp) DO UPDATE SET hits = excluded.hits",
                            params![name.correlation, group, hits],
                        )?;
                    }
                    None => {
                        tx.execute(
                            "DELETE FROM windows WHERE correlation = ?1 AND grp = ?2",
                            params![name.correlation, group],
                        )?;
                    }
                }
            }
            Ok::<(), rusqlite::Error>(())
        })();
        result
            .and_then(|()| tx.commit())
            .map_err(|e| WatchError::State {
                path: self.path.clone(),
                message: e.to_string(),
            })
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
        let mut windows = HashMap::new();
        windows.insert(name.clone(), vec![hit.clone(), hit.clone()]);
        let changed: HashSet<_> = [name.clone()].into_iter().collect();
        {
            let mut state = State::open(&path).unwrap();
            state.commit(&windows, &changed).unwrap();
        }
        let state = State::open(&path).unwrap();
        let loaded = state.load().unwrap();
        assert_eq!(loaded.get(&name), Some(&vec![hit.clone(), hit]));
        // An emptied window is deleted.
        let mut state = state;
        windows.insert(name.clone(), Vec::new());
        state.commit(&windows, &changed).unwrap();
        assert!(state.load().unwrap().is_empty());
    }
}
