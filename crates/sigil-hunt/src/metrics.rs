//! What a pile of logs holds: events per channel and event id, per computer, the time
//! each file covers, and who logged on from where.
//!
//! [`Metrics::of_part`] counts one part of the logs (a worker's share); [`Metrics::merge`]
//! adds parts in input order, so that one file read in several parts is one row. Names of
//! event kinds come from the details templates (`details.yml`, whose entries have a `name`).

use std::collections::HashMap;

use serde::Serialize;
use sigil_logs::{Event, FieldValue, RecordMeta};

use crate::Details;

/// Counts of events by kind, computer and file; logons when asked for.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// Events counted.
    pub events: u64,
    by_event: HashMap<(Option<String>, Option<u64>), EventKind>,
    by_computer: HashMap<Option<String>, u64>,
    /// Per file, in input order.
    by_file: Vec<FileRow>,
    /// Logons, when counted.
    logons: Option<HashMap<LogonKey, Seen>>,
}

/// A kind of event: its count and a provider seen with it (to name it by).
#[derive(Debug, Clone, Default)]
struct EventKind {
    count: u64,
    provider: Option<String>,
}

/// One file's events and time range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRow {
    /// The file.
    pub path: String,
    /// Events read from it.
    pub events: u64,
    /// Its earliest event time (RFC 3339, UTC).
    #[serde(serialize_with = "as_time")]
    pub first: Option<i64>,
    /// Its latest event time.
    #[serde(serialize_with = "as_time")]
    pub last: Option<i64>,
}

/// What a logon is counted by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct LogonKey {
    event_id: u64,
    outcome: &'static str,
    user: Option<String>,
    domain: Option<String>,
    source_ip: Option<String>,
    logon_type: Option<String>,
}

/// How often and when.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    count: u64,
    first: Option<i64>,
    last: Option<i64>,
}

impl Seen {
    fn add(&mut self, count: u64, first: Option<i64>, last: Option<i64>) {
        self.count += count;
        self.first = min_opt(self.first, first);
        self.last = max_opt(self.last, last);
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[allow(clippy::ref_option, clippy::trivially_copy_pass_by_ref)] // serde's signature
fn as_time<S: serde::Serializer>(t: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&sigil_logs::format_timestamp_micros(*t)),
        None => s.serialize_none(),
    }
}

/// The logon events counted with `--logons`: (event id, what it says, and whether it is
/// read from the Security channel or from Terminal Services' remote connection manager).
const LOGON_EVENTS: [(u64, &str); 6] = [
    (4624, "success"),
    (4625, "failure"),
    (4648, "explicit_credentials"),
    (4778, "rdp_reconnect"),
    (4779, "rdp_disconnect"),
    (1149, "rdp_authenticated"),
];

/// The fields of a logon event: user, domain, source address, logon type.
fn logon_fields(event_id: u64) -> [Option<&'static str>; 4] {
    match event_id {
        4624 | 4625 => [
            Some("TargetUserName"),
            Some("TargetDomainName"),
            Some("IpAddress"),
            Some("LogonType"),
        ],
        4648 => [
            Some("TargetUserName"),
            Some("TargetDomainName"),
            Some("IpAddress"),
            None,
        ],
        4778 | 4779 => [
            Some("AccountName"),
            Some("AccountDomain"),
            Some("ClientAddress"),
            None,
        ],
        // RDP user authentication succeeded: user, domain and address in UserData.
        1149 => [Some("Param1"), Some("Param2"), Some("Param3"), None],
        _ => [None; 4],
    }
}

fn text(event: &dyn Event, field: Option<&str>) -> Option<String> {
    let value = event.get(field?)?;
    let text = match value {
        FieldValue::Null => return None,
        v => v.as_text()?.trim().to_string(),
    };
    // `-` is how Windows writes "none".
    (!text.is_empty() && text != "-").then_some(text)
}

impl Metrics {
    /// Empty counts; `logons` says whether logons are counted too.
    pub fn new(logons: bool) -> Self {
        Self {
            logons: logons.then(HashMap::new),
            ..Self::default()
        }
    }

    /// Counts one event.
    pub fn add(&mut self, meta: &RecordMeta<'_>, event: &dyn Event) {
        self.events += 1;
        let kind = self
            .by_event
            .entry((meta.channel.map(str::to_string), meta.event_id))
            .or_default();
        kind.count += 1;
        if kind.provider.is_none() {
            kind.provider = text(event, Some("Provider_Name"));
        }
        *self
            .by_computer
            .entry(meta.computer.map(str::to_string))
            .or_default() += 1;
        let source = meta.source.to_string_lossy();
        let row = match self.by_file.last_mut() {
            Some(row) if row.path == source => row,
            _ => {
                self.by_file.push(FileRow {
                    path: source.into_owned(),
                    events: 0,
                    first: None,
                    last: None,
                });
                let Some(row) = self.by_file.last_mut() else {
                    return;
                };
                row
            }
        };
        row.events += 1;
        row.first = min_opt(row.first, meta.timestamp);
        row.last = max_opt(row.last, meta.timestamp);
        if let Some(logons) = &mut self.logons
            && let Some(key) = logon_key(meta, event)
        {
            logons
                .entry(key)
                .or_default()
                .add(1, meta.timestamp, meta.timestamp);
        }
    }

    /// Adds the counts of `other`, read after these (a file split in parts stays one row).
    pub fn merge(&mut self, other: Metrics) {
        self.events += other.events;
        for (key, kind) in other.by_event {
            let mine = self.by_event.entry(key).or_default();
            mine.count += kind.count;
            if mine.provider.is_none() {
                mine.provider = kind.provider;
            }
        }
        for (key, n) in other.by_computer {
            *self.by_computer.entry(key).or_default() += n;
        }
        for row in other.by_file {
            match self.by_file.last_mut() {
                Some(mine) if mine.path == row.path => {
                    mine.events += row.events;
                    mine.first = min_opt(mine.first, row.first);
                    mine.last = max_opt(mine.last, row.last);
                }
                _ => self.by_file.push(row),
            }
        }
        if let (Some(mine), Some(theirs)) = (&mut self.logons, other.logons) {
            for (key, seen) in theirs {
                mine.entry(key)
                    .or_default()
                    .add(seen.count, seen.first, seen.last);
            }
        }
    }

    /// Notes a file that was read but held no event, so that it has its row.
    pub fn file_read(&mut self, path: &str) {
        if self.by_file.last().is_none_or(|r| r.path != path) {
            self.by_file.push(FileRow {
                path: path.to_string(),
                events: 0,
                first: None,
                last: None,
            });
        }
    }

    /// The report: counts sorted (most first), kinds named from `details`.
    pub fn report(&self, details: &Details) -> MetricsReport {
        let mut by_event: Vec<EventRow> = self
            .by_event
            .iter()
            .map(|((channel, id), kind)| EventRow {
                channel: channel.clone(),
                event_id: *id,
                name: id.and_then(|id| {
                    details
                        .template(channel.as_deref(), kind.provider.as_deref(), id)
                        .and_then(|t| t.name.clone())
                }),
                count: kind.count,
            })
            .collect();
        by_event.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.channel.cmp(&b.channel))
                .then_with(|| a.event_id.cmp(&b.event_id))
        });
        let mut by_computer: Vec<ComputerRow> = self
            .by_computer
            .iter()
            .map(|(computer, &count)| ComputerRow {
                computer: computer.clone(),
                count,
            })
            .collect();
        by_computer.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.computer.cmp(&b.computer))
        });
        let logons = self.logons.as_ref().map(|logons| {
            let mut rows: Vec<LogonRow> = logons
                .iter()
                .map(|(k, s)| LogonRow {
                    event_id: k.event_id,
                    outcome: k.outcome,
                    user: k.user.clone(),
                    domain: k.domain.clone(),
                    source_ip: k.source_ip.clone(),
                    logon_type: k.logon_type.clone(),
                    count: s.count,
                    first: s.first,
                    last: s.last,
                })
                .collect();
            rows.sort_by(|a, b| {
                b.count.cmp(&a.count).then_with(|| {
                    (a.event_id, &a.user, &a.source_ip, &a.logon_type).cmp(&(
                        b.event_id,
                        &b.user,
                        &b.source_ip,
                        &b.logon_type,
                    ))
                })
            });
            rows
        });
        MetricsReport {
            files: self.by_file.len(),
            events: self.events,
            by_event,
            by_computer,
            by_file: self.by_file.clone(),
            logons,
        }
    }
}

/// The logon an event records, if it is one.
fn logon_key(meta: &RecordMeta<'_>, event: &dyn Event) -> Option<LogonKey> {
    let id = meta.event_id?;
    let &(_, outcome) = LOGON_EVENTS.iter().find(|(i, _)| *i == id)?;
    let channel = meta.channel.unwrap_or_default();
    let expected = if id == 1149 {
        channel
            .to_ascii_lowercase()
            .contains("terminalservices-remoteconnectionmanager")
    } else {
        channel.eq_ignore_ascii_case("Security")
    };
    if !expected {
        return None;
    }
    let [user, domain, ip, logon_type] = logon_fields(id);
    Some(LogonKey {
        event_id: id,
        outcome,
        user: text(event, user),
        domain: text(event, domain),
        source_ip: text(event, ip),
        logon_type: text(event, logon_type),
    })
}

/// The metrics as `sigil metrics` reports them; its JSON is the command's JSON output.
#[derive(Debug, Clone, Serialize)]
pub struct MetricsReport {
    /// Files read.
    pub files: usize,
    /// Events counted.
    pub events: u64,
    /// Per channel and event id, most first.
    pub by_event: Vec<EventRow>,
    /// Per computer, most first.
    pub by_computer: Vec<ComputerRow>,
    /// Per file, in input order.
    pub by_file: Vec<FileRow>,
    /// Logons per event id, outcome, user, source address and logon type, most first
    /// (only when counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logons: Option<Vec<LogonRow>>,
}

/// Events of one channel and event id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRow {
    /// The channel.
    pub channel: Option<String>,
    /// The event id.
    pub event_id: Option<u64>,
    /// What events of this kind are, when known.
    pub name: Option<String>,
    /// How many.
    pub count: u64,
}

/// Events of one computer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComputerRow {
    /// The computer.
    pub computer: Option<String>,
    /// How many.
    pub count: u64,
}

/// Logons of one kind, user, source and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogonRow {
    /// 4624, 4625, 4648, 4778, 4779 (Security) or 1149 (Terminal Services).
    pub event_id: u64,
    /// `success`, `failure`, `explicit_credentials`, `rdp_reconnect`, `rdp_disconnect`,
    /// `rdp_authenticated`.
    pub outcome: &'static str,
    /// The account.
    pub user: Option<String>,
    /// Its domain.
    pub domain: Option<String>,
    /// Where the logon came from.
    pub source_ip: Option<String>,
    /// The logon type (2 interactive, 3 network, 10 remote interactive, ...), for 4624
    /// and 4625.
    pub logon_type: Option<String>,
    /// How many.
    pub count: u64,
    /// The first.
    #[serde(serialize_with = "as_time")]
    pub first: Option<i64>,
    /// The last.
    #[serde(serialize_with = "as_time")]
    pub last: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigil_logs::FlatEvent;
    use std::path::Path;

    fn logon(user: &str, ip: &str, logon_type: i64) -> FlatEvent {
        let mut e = FlatEvent::new();
        e.push(
            "Provider_Name",
            FieldValue::Str("Microsoft-Windows-Security-Auditing".into()),
        );
        e.push("TargetUserName", FieldValue::Str(user.to_string().into()));
        e.push("TargetDomainName", FieldValue::Str("CORP".into()));
        e.push("IpAddress", FieldValue::Str(ip.to_string().into()));
        e.push("LogonType", FieldValue::Int(logon_type));
        e
    }

    fn meta<'a>(source: &'a Path, id: u64, time: i64, channel: &'a str) -> RecordMeta<'a> {
        RecordMeta {
            source,
            record_id: None,
            line: None,
            timestamp: Some(time),
            computer: Some("PC1"),
            channel: Some(channel),
            event_id: Some(id),
        }
    }

    #[test]
    fn parts_merge_into_one_row_per_file_and_logons_add_up() {
        let (a, b) = (Path::new("a.evtx"), Path::new("b.evtx"));
        let mut first = Metrics::new(true);
        first.add(&meta(a, 4624, 30, "Security"), &logon("bob", "10.0.0.5", 3));
        first.add(&meta(a, 4624, 10, "Security"), &logon("bob", "10.0.0.5", 3));
        let mut second = Metrics::new(true);
        second.add(&meta(a, 4625, 50, "Security"), &logon("bob", "-", 3));
        second.add(&meta(b, 4624, 20, "Security"), &logon("bob", "10.0.0.5", 3));
        // The same id in another channel is not a logon.
        second.add(
            &meta(b, 4624, 25, "Application"),
            &logon("eve", "1.2.3.4", 2),
        );
        first.merge(second);
        let report = first.report(&Details::builtin());
        assert_eq!(report.files, 2);
        assert_eq!(report.events, 5);
        assert_eq!(
            report.by_file,
            [
                FileRow {
                    path: "a.evtx".into(),
                    events: 3,
                    first: Some(10),
                    last: Some(50)
                },
                FileRow {
                    path: "b.evtx".into(),
                    events: 2,
                    first: Some(20),
                    last: Some(25)
                },
            ]
        );
        assert_eq!(report.by_event[0].count, 3);
        assert_eq!(report.by_event[0].event_id, Some(4624));
        assert!(
            report.by_event[0]
                .name
                .as_deref()
                .is_some_and(|n| !n.is_empty())
        );
        let logons = report.logons.expect("counted");
        assert_eq!(logons.len(), 2);
        assert_eq!(logons[0].count, 3);
        assert_eq!((logons[0].first, logons[0].last), (Some(10), Some(30)));
        assert_eq!(logons[0].logon_type.as_deref(), Some("3"));
        assert_eq!(logons[1].outcome, "failure");
        assert_eq!(logons[1].source_ip, None);
        let json = serde_json::to_value(&logons[0]).expect("JSON");
        assert_eq!(json["first"], "1970-01-01T00:00:00.000010Z");
    }
}
