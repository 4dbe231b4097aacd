//! Searching logs without rules: every event that holds a text, matches a regular
//! expression, has a field of a value, or answers a single-event EQL query.
//!
//! A [`Search`] is built once from its [`Needle`]s (compiled, checked) and asked per event
//! with a [`SearchScan`], the per-thread state an EQL needle needs. Texts and regular
//! expressions look at every value of the event as the reader gives it (the rendered
//! values, numbers as their digits), never at field names; case is ignored unless the
//! search says otherwise.

use std::sync::Arc;

use sigil_core::{Rule, RuleBody, RuleLanguage, Span};
use sigil_engine::{Engine, EngineOptions, Matched, Scan};
use sigil_logs::{Event, RecordMeta};

use crate::finding::event_json;

/// What to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needle {
    /// A text that some value of the event contains.
    Text(String),
    /// A regular expression (Rust `regex` syntax) that some value matches.
    Regex(String),
    /// `NAME=VALUE`: the field `NAME` (any case) has a value equal to `VALUE`, in which
    /// `*` stands for any run of characters and `?` for one.
    Field(String),
    /// A single-event EQL query (`process where process.name : "wmic.exe"`), over the
    /// event's own fields and their ECS names.
    Eql(String),
}

/// Why a search cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Nothing to look for.
    #[error("nothing to search for: give a pattern, -e REGEX, --field NAME=VALUE or --eql QUERY")]
    Empty,
    /// A needle is not valid; the message says which and why.
    #[error("{0}")]
    Invalid(String),
}

/// A compiled needle.
#[derive(Debug)]
enum Compiled {
    /// Texts and regular expressions, matched against every value.
    Values(regex::Regex),
    /// A field and its value pattern.
    Field { name: String, value: regex::Regex },
    /// An EQL query as one compiled rule.
    Eql(Box<Engine>),
}

/// A compiled search: an event matches when any needle does (all of them with
/// [`Search::new`]'s `all`).
#[derive(Debug)]
pub struct Search {
    needles: Vec<Compiled>,
    all: bool,
    ecs: Option<&'static sigil_pipeline::ecs::EcsMapping>,
}

/// What one thread keeps while searching: the EQL needles' scans.
pub struct SearchScan<'a> {
    scans: Vec<Option<Scan<'a>>>,
}

impl std::fmt::Debug for SearchScan<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchScan")
            .field("eql_scans", &self.scans.iter().flatten().count())
            .finish()
    }
}

impl Search {
    /// Compiles `needles`; case is ignored unless `case_sensitive`. With `all`, an event
    /// must match every needle, otherwise any.
    pub fn new(needles: &[Needle], case_sensitive: bool, all: bool) -> Result<Self, SearchError> {
        if needles.is_empty() {
            return Err(SearchError::Empty);
        }
        let flags = if case_sensitive { "" } else { "(?i)" };
        let regex = |what: &str, pattern: &str| {
            regex::Regex::new(&format!("{flags}{pattern}"))
                .map_err(|e| SearchError::Invalid(format!("{what} `{pattern}`: {e}")))
        };
        let mut compiled = Vec::new();
        let mut ecs = None;
        for needle in needles {
            compiled.push(match needle {
                Needle::Text(t) if t.is_empty() => {
                    return Err(SearchError::Invalid("an empty pattern".to_string()));
                }
                Needle::Text(t) => Compiled::Values(regex("pattern", &regex::escape(t))?),
                Needle::Regex(r) => Compiled::Values(regex("regular expression", r)?),
                Needle::Field(f) => {
                    let Some((name, value)) = f.split_once('=').filter(|(n, _)| !n.is_empty())
                    else {
                        return Err(SearchError::Invalid(format!(
                            "--field `{f}` is not NAME=VALUE"
                        )));
                    };
                    Compiled::Field {
                        name: name.trim().to_string(),
                        value: regex("--field value", &wildcard(value))?,
                    }
                }
                Needle::Eql(q) => {
                    ecs = Some(sigil_pipeline::ecs::windows_to_ecs());
                    Compiled::Eql(Box::new(eql_engine(q, case_sensitive)?))
                }
            });
        }
        Ok(Self {
            needles: compiled,
            all,
            ecs,
        })
    }

    /// The per-thread state to search with.
    pub fn scan(&self) -> SearchScan<'_> {
        SearchScan {
            scans: self
                .needles
                .iter()
                .map(|n| match n {
                    Compiled::Eql(engine) => Some(engine.scan()),
                    _ => None,
                })
                .collect(),
        }
    }

    /// Whether `event` matches.
    pub fn matches(&self, scan: &mut SearchScan<'_>, event: &dyn Event) -> bool {
        let mut one = |i: usize, needle: &Compiled| -> bool {
            match needle {
                Compiled::Values(re) => {
                    let mut hit = false;
                    event.for_each_field(&mut |_, value| {
                        if !hit && let Some(text) = value.as_text() {
                            hit = re.is_match(&text);
                        }
                    });
                    hit
                }
                Compiled::Field { name, value } => {
                    let mut hit = false;
                    event.for_each_value(name, &mut |v| {
                        if !hit && let Some(text) = v.as_text() {
                            hit = value.is_match(&text);
                        }
                    });
                    hit
                }
                Compiled::Eql(_) => {
                    let Some(Some(scan)) = scan.scans.get_mut(i) else {
                        return false;
                    };
                    let view = self.ecs.map(|m| m.view(event));
                    let seen: &dyn Event = match &view {
                        Some(v) => v,
                        None => event,
                    };
                    let mut hit = false;
                    scan.event(seen, &mut |d: &sigil_engine::Detection<'_>| {
                        hit |= matches!(d.matched, Matched::Event(_));
                    });
                    hit
                }
            }
        };
        if self.all {
            self.needles.iter().enumerate().all(|(i, n)| one(i, n))
        } else {
            self.needles.iter().enumerate().any(|(i, n)| one(i, n))
        }
    }
}

/// A wildcard value (`*`, `?`) as an anchored regular expression.
fn wildcard(value: &str) -> String {
    let mut re = String::from("(?s)^");
    for c in value.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    re.push('$');
    re
}

/// A single-event EQL query as an engine of one rule.
fn eql_engine(query: &str, case_sensitive: bool) -> Result<Engine, SearchError> {
    let invalid = |m: String| SearchError::Invalid(format!("--eql: {m}"));
    let ast = sigil_elastic::eql::parse_query(query).map_err(|e| {
        let at = query[..e.offset.min(query.len())].chars().count() + 1;
        invalid(format!("syntax error at column {at}: {}", e.message))
    })?;
    let options = sigil_elastic::eql::lower::LowerOptions {
        case_insensitive: !case_sensitive,
        ..Default::default()
    };
    let lowered = sigil_elastic::eql::lower_query(&ast, query, "search", &options, &|o| {
        Span::new(1, o as u32 + 1, o as u32)
    });
    if let Some(n) = lowered.not_evaluable.first() {
        return Err(invalid(format!("cannot be evaluated: {}", n.reason)));
    }
    let RuleBody::Detection(detection) = lowered.body else {
        return Err(invalid(
            "search takes single-event queries; `sigil query --eql` runs sequences".to_string(),
        ));
    };
    let mut rule = Rule::new(RuleLanguage::Elastic, "search");
    rule.id = Some("search".to_string());
    rule.body = RuleBody::Detection(detection);
    let engine = Engine::compile(&[rule], EngineOptions::default());
    if let Some(s) = engine.skipped().first() {
        return Err(invalid(s.error.to_string()));
    }
    Ok(engine)
}

/// An event a search found, as `sigil search` writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// When the event happened (RFC 3339, UTC), when it says.
    pub timestamp: Option<String>,
    /// The computer that logged it.
    pub computer: Option<String>,
    /// The event log channel.
    pub channel: Option<String>,
    /// The event id.
    pub event_id: Option<u64>,
    /// The record number in its log.
    pub record_id: Option<u64>,
    /// The log the event came from.
    pub source: String,
    /// The event's fields as a compact JSON object.
    pub event: Arc<str>,
}

impl Hit {
    /// The hit of an event read.
    pub fn of(meta: &RecordMeta<'_>, event: &dyn Event) -> Self {
        Self {
            timestamp: meta.timestamp.map(sigil_logs::format_timestamp_micros),
            computer: meta.computer.map(str::to_string),
            channel: meta.channel.map(str::to_string),
            event_id: meta.event_id,
            record_id: meta.record_id,
            source: meta.source.to_string_lossy().into_owned(),
            event: Arc::from(event_json(event)),
        }
    }

    /// Appends the hit's JSON line (with its newline): the keys `timestamp, computer,
    /// channel, event_id, record_id, source, event`, in this order.
    pub fn write_jsonl(&self, line: &mut Vec<u8>) {
        let head = serde_json::json!({
            "timestamp": self.timestamp,
            "computer": self.computer,
            "channel": self.channel,
            "event_id": self.event_id,
            "record_id": self.record_id,
            "source": self.source,
        });
        let mut text = head.to_string();
        text.pop();
        line.extend_from_slice(text.as_bytes());
        line.extend_from_slice(b",\"event\":");
        line.extend_from_slice(self.event.as_bytes());
        line.extend_from_slice(b"}\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigil_logs::{FieldValue, FlatEvent};

    fn event(fields: &[(&str, FieldValue<'_>)]) -> FlatEvent {
        let mut e = FlatEvent::new();
        for (name, value) in fields {
            e.push(name, value.clone());
        }
        e
    }

    fn sysmon() -> FlatEvent {
        event(&[
            (
                "Channel",
                FieldValue::Str("Microsoft-Windows-Sysmon/Operational".into()),
            ),
            ("EventID", FieldValue::Int(1)),
            ("Image", FieldValue::Str(r"C:\Tools\MimiKatz.exe".into())),
            (
                "CommandLine",
                FieldValue::Str("mimikatz.exe sekurlsa::logonpasswords".into()),
            ),
            ("ProcessId", FieldValue::Int(4242)),
        ])
    }

    fn found(needles: &[Needle], case_sensitive: bool, all: bool, e: &FlatEvent) -> bool {
        let search = Search::new(needles, case_sensitive, all).expect("valid");
        let mut scan = search.scan();
        search.matches(&mut scan, e)
    }

    #[test]
    fn texts_and_regexes_match_values_ignoring_case() {
        let e = sysmon();
        let text = |t: &str| Needle::Text(t.into());
        assert!(found(&[text("MIMIKATZ")], false, false, &e));
        assert!(!found(&[text("MIMIKATZ")], true, false, &e));
        assert!(found(&[text("MimiKatz.exe")], true, false, &e));
        // Numbers are their digits; names are not searched.
        assert!(found(&[text("4242")], false, false, &e));
        assert!(!found(&[text("CommandLine")], false, false, &e));
        // A pattern is a literal, not a regular expression.
        assert!(!found(&[text("mimi.atz")], false, false, &e));
        assert!(found(&[Needle::Regex("mimi.atz".into())], false, false, &e));
        assert!(found(
            &[Needle::Regex(r"sekurlsa::\w+".into())],
            false,
            false,
            &e
        ));
    }

    #[test]
    fn fields_take_wildcards_and_several_needles_any_or_all() {
        let e = sysmon();
        let field = |f: &str| Needle::Field(f.into());
        assert!(found(&[field(r"image=*\mimikatz.exe")], false, false, &e));
        assert!(!found(&[field(r"image=mimikatz.exe")], false, false, &e));
        assert!(found(&[field("EventID=1")], false, false, &e));
        assert!(!found(&[field("Nothing=*")], false, false, &e));
        let both = [field("EventID=1"), Needle::Text("psexec".into())];
        assert!(found(&both, false, false, &e));
        assert!(!found(&both, false, true, &e));
    }

    #[test]
    fn eql_sees_raw_and_ecs_names() {
        let e = sysmon();
        let eql = |q: &str| Needle::Eql(q.into());
        assert!(found(
            &[eql(r#"process where process.name : "mimikatz.exe""#)],
            false,
            false,
            &e
        ));
        assert!(found(
            &[eql("any where ProcessId == 4242")],
            false,
            false,
            &e
        ));
        assert!(!found(&[eql("network where true")], false, false, &e));
    }

    #[test]
    fn bad_needles_say_what_is_wrong() {
        let err = |n: Needle| {
            Search::new(&[n], false, false)
                .expect_err("invalid")
                .to_string()
        };
        assert!(err(Needle::Regex("(unclosed".into())).contains("(unclosed"));
        assert!(err(Needle::Field("no-equals".into())).contains("NAME=VALUE"));
        assert!(err(Needle::Eql("process where".into())).contains("--eql"));
        assert!(
            err(Needle::Eql(
                "sequence [process where true] [network where true]".into()
            ))
            .contains("single-event")
        );
        assert!(matches!(
            Search::new(&[], false, false),
            Err(SearchError::Empty)
        ));
    }

    #[test]
    fn json_lines_have_the_keys_in_order() {
        let hit = Hit {
            timestamp: Some("2019-04-27T15:57:25.868863Z".into()),
            computer: Some("PC".into()),
            channel: None,
            event_id: Some(4624),
            record_id: Some(7),
            source: "a \"b\".evtx".into(),
            event: Arc::from("{\"x\":1}"),
        };
        let mut line = Vec::new();
        hit.write_jsonl(&mut line);
        let value: serde_json::Value = serde_json::from_slice(&line).expect("JSON");
        let keys: Vec<&str> = value
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "timestamp",
                "computer",
                "channel",
                "event_id",
                "record_id",
                "source",
                "event"
            ]
        );
        assert_eq!(value["event"]["x"], 1);
        assert_eq!(value["source"], "a \"b\".evtx");
    }
}
