//! Live hunting: events one at a time as they arrive, correlations fired as their hits
//! come in rather than at the end of a run.
//!
//! A [`LiveScan`] evaluates each event exactly as [`Hunter::run`] does (the same rules
//! for the same kinds of events, the same findings); what differs is correlations. A
//! batch sorts every hit at the end; a live caller keeps each group's open window itself
//! (in memory, in a database that survives restarts) and hands every new hit to
//! [`LiveScan::correlate`]. For hits that arrive in time order within their group, the
//! correlations fire as in the batch.

use std::sync::Arc;

use sigil_engine::{Detection, Scan, WindowHit, WindowKey};
use sigil_logs::FlatEvent;

use crate::finding::Finding;
use crate::prepare::Hunter;

/// One thread's live evaluation state over a [`Hunter`]'s rules.
#[derive(Debug)]
pub struct LiveScan<'h> {
    hunter: &'h Hunter,
    scan: Scan<'h>,
    source: Option<Arc<str>>,
}

/// A correlation, by what stays the same when its rules are compiled again: its id (or
/// name, or title when it has neither) and its group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WindowName {
    /// The correlation rule's id, name or title.
    pub correlation: String,
    /// The values of its `group-by` fields.
    pub group: Vec<Option<String>>,
}

impl Hunter {
    /// A live evaluation state (one per thread).
    pub fn live(&self) -> LiveScan<'_> {
        LiveScan {
            hunter: self,
            scan: self.engine.scan(),
            source: None,
        }
    }

    /// The lasting name of a window (see [`WindowName`]), or `None` when `key` names no
    /// correlation of these rules.
    pub fn window_name(&self, key: &WindowKey) -> Option<WindowName> {
        let (info, _) = self.engine.correlation(key.correlation)?;
        let correlation = info
            .id
            .clone()
            .or_else(|| info.name.clone())
            .unwrap_or_else(|| info.title.clone());
        Some(WindowName {
            correlation,
            group: key.group.clone(),
        })
    }

    /// The window key of a lasting name under these rules, with the correlation's
    /// timespan (µs); `None` when no correlation of these rules has that name.
    pub fn window_key(&self, name: &WindowName) -> Option<(WindowKey, i64)> {
        let n = self.engine.correlation_count() as u32;
        (0..n).find_map(|i| {
            let (info, span) = self.engine.correlation(i)?;
            let named = info.id.as_deref() == Some(name.correlation.as_str())
                || (info.id.is_none() && info.name.as_deref() == Some(name.correlation.as_str()))
                || (info.id.is_none() && info.name.is_none() && info.title == name.correlation);
            named.then(|| {
                (
                    WindowKey {
                        correlation: i,
                        group: name.group.clone(),
                    },
                    span,
                )
            })
        })
    }
}

impl LiveScan<'_> {
    /// Evaluates one JSON event from `source` and adds its findings to `found`. The
    /// correlation hits it gave wait in the scan: take them with [`LiveScan::take_hits`].
    /// Returns whether the event was of unknown source (every rule was evaluated).
    pub fn event(
        &mut self,
        event: &FlatEvent,
        source: Option<&Arc<str>>,
        found: &mut Vec<Finding>,
    ) -> bool {
        let same = match (&self.source, source) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.source = source.cloned();
            self.scan.set_source(self.source.clone());
        }
        self.hunter
            .evaluate(&mut self.scan, event, false, None, found)
    }

    /// The correlation hits of the events evaluated since the last call, in order.
    pub fn take_hits(&mut self) -> Vec<(WindowKey, WindowHit)> {
        self.scan.take_hits().drain_windows().collect()
    }

    /// Adds `hit` to `window`, the open window of `key` (empty for a new group), and adds
    /// the correlation's finding to `found` when it fires (the window is then emptied).
    /// Returns whether it fired.
    pub fn correlate(
        &self,
        key: &WindowKey,
        window: &mut Vec<WindowHit>,
        hit: WindowHit,
        found: &mut Vec<Finding>,
    ) -> bool {
        let hunter = self.hunter;
        let fields = &hunter.engine.options().summary_fields;
        hunter
            .engine
            .advance_window(key, window, hit, &mut |d: &Detection<'_>| {
                if hunter.reports(d.rule, None) {
                    found.push(Finding::of(d, fields, &mut None));
                }
            })
    }
}
