//! Where detections go: the [`Sink`] callback and the [`Detection`] it receives.
//!
//! The engine renders nothing. It hands each detection to a sink, borrowed and short
//! lived, so the CLI (table, JSON lines, CSV), a server and tests all run the same
//! engine and each keeps only what it needs.

use std::sync::Arc;

use sigil_core::Level;
use sigil_logs::{Event, FieldValue};

use crate::correlation::CorrelationMatch;

/// What a detection says about the rule that fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    /// The rule's position in the list given to [`crate::Engine::compile`].
    pub index: usize,
    /// The rule id.
    pub id: Option<String>,
    /// The rule's unique name (correlations refer to it).
    pub name: Option<String>,
    /// The title.
    pub title: String,
    /// The level.
    pub level: Option<Level>,
    /// The tags.
    pub tags: Vec<String>,
}

impl RuleInfo {
    pub(crate) fn of(index: usize, rule: &sigil_core::Rule) -> Self {
        Self {
            index,
            id: rule.id.clone(),
            name: rule.name.clone(),
            title: rule.title.clone(),
            level: rule.level,
            tags: rule.tags.clone(),
        }
    }
}

/// One detection: a rule and what it matched.
#[derive(Clone, Copy)]
pub struct Detection<'a> {
    /// The rule that fired.
    pub rule: &'a RuleInfo,
    /// The log the event came from, as set with [`crate::Scan::set_source`].
    pub source: Option<&'a str>,
    /// What matched.
    pub matched: Matched<'a>,
}

impl std::fmt::Debug for Detection<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detection")
            .field("rule", &self.rule.id)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// What a rule matched.
#[derive(Clone, Copy)]
#[allow(missing_debug_implementations)] // `dyn Event` has no `Debug`
pub enum Matched<'a> {
    /// One event, for a plain detection rule. The event is borrowed: copy what you need.
    Event(&'a dyn Event),
    /// A group of events within a time window, for a correlation rule.
    Correlation(&'a CorrelationMatch),
}

impl Detection<'_> {
    /// The event's identifying fields (for a correlation: those of its last event).
    pub fn summary(&self, fields: &SummaryFields) -> EventSummary {
        match self.matched {
            Matched::Event(e) => EventSummary::of(e, fields),
            Matched::Correlation(c) => c
                .events
                .last()
                .map(|h| h.summary.clone())
                .unwrap_or_default(),
        }
    }
}

/// Receives detections.
pub trait Sink {
    /// Called once per detection.
    fn detection(&mut self, d: &Detection<'_>);
}

impl<F: FnMut(&Detection<'_>)> Sink for F {
    fn detection(&mut self, d: &Detection<'_>) {
        self(d);
    }
}

/// Which event fields identify an event in output; the first present name wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryFields {
    /// Event time (`SystemTime` in EVTX, `@timestamp` in ECS JSON, ...).
    pub timestamp: Vec<String>,
    /// Host name.
    pub computer: Vec<String>,
    /// Log channel.
    pub channel: Vec<String>,
    /// Event id.
    pub event_id: Vec<String>,
    /// Record number in the log.
    pub record_id: Vec<String>,
}

impl Default for SummaryFields {
    fn default() -> Self {
        let v = |names: &[&str]| names.iter().map(|s| (*s).to_string()).collect();
        Self {
            timestamp: v(&[
                "SystemTime",
                "TimeCreated_SystemTime",
                "Event.System.TimeCreated.SystemTime",
                "@timestamp",
                "timestamp",
                "UtcTime",
            ]),
            computer: v(&["Computer", "Event.System.Computer", "host.name", "hostname"]),
            channel: v(&["Channel", "Event.System.Channel"]),
            event_id: v(&["EventID", "Event.System.EventID", "event.code"]),
            record_id: v(&["EventRecordID", "Event.System.EventRecordID"]),
        }
    }
}

/// The identifying fields of an event, owned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventSummary {
    /// Event time, as the event writes it.
    pub timestamp: Option<String>,
    /// Host name.
    pub computer: Option<String>,
    /// Log channel.
    pub channel: Option<String>,
    /// Event id.
    pub event_id: Option<i64>,
    /// Record number in the log.
    pub record_id: Option<i64>,
}

fn first_text(event: &dyn Event, names: &[String]) -> Option<String> {
    names.iter().find_map(|n| {
        event
            .get(n)
            .and_then(|v| v.as_text().map(std::borrow::Cow::into_owned))
    })
}

fn first_int(event: &dyn Event, names: &[String]) -> Option<i64> {
    names.iter().find_map(|n| match event.get(n)? {
        FieldValue::Int(i) => Some(i),
        FieldValue::UInt(u) => i64::try_from(u).ok(),
        v => v.as_text()?.trim().parse().ok(),
    })
}

impl EventSummary {
    /// Reads the summary fields of `event`.
    pub fn of(event: &dyn Event, fields: &SummaryFields) -> Self {
        Self {
            timestamp: first_text(event, &fields.timestamp),
            computer: first_text(event, &fields.computer),
            channel: first_text(event, &fields.channel),
            event_id: first_int(event, &fields.event_id),
            record_id: first_int(event, &fields.record_id),
        }
    }
}

/// An owned copy of a detection, for sinks that keep detections (tests, servers).
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionRecord {
    /// The rule.
    pub rule: RuleInfo,
    /// The log the event came from.
    pub source: Option<Arc<str>>,
    /// The event's identifying fields.
    pub summary: EventSummary,
    /// Every field of the event (empty for correlations), as `(name, text)`.
    pub fields: Vec<(String, String)>,
    /// The correlation, for correlation rules.
    pub correlation: Option<CorrelationMatch>,
}

impl DetectionRecord {
    /// Copies a detection.
    pub fn of(d: &Detection<'_>, fields: &SummaryFields) -> Self {
        let mut all = Vec::new();
        let correlation = match d.matched {
            Matched::Event(e) => {
                e.for_each_field(&mut |name, value| {
                    if let Some(t) = value.as_text() {
                        all.push((name.to_string(), t.into_owned()));
                    }
                });
                None
            }
            Matched::Correlation(c) => Some(c.clone()),
        };
        Self {
            rule: d.rule.clone(),
            source: d.source.map(Arc::from),
            summary: d.summary(fields),
            fields: all,
            correlation,
        }
    }

    /// The value of a field of the event, ASCII-case-insensitively.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A sink that keeps an owned copy of every detection.
#[derive(Debug, Default)]
pub struct Collect {
    /// The detections, in the order they came.
    pub detections: Vec<DetectionRecord>,
    /// Which fields identify events.
    pub fields: SummaryFields,
}

impl Sink for Collect {
    fn detection(&mut self, d: &Detection<'_>) {
        self.detections.push(DetectionRecord::of(d, &self.fields));
    }
}
