//! Raw Windows events seen as ECS: the field mapping of Elastic's Windows integrations, as
//! data (`pipelines/windows_to_ecs.yml`), and [`EcsEvent`], an event view that answers the
//! ECS names (`process.name`, `event.category`, `winlog.event_data.*`...) of a raw Sysmon,
//! Security, System or PowerShell event, computed when asked.
//!
//! It lives here rather than in `sigil-logs` because it is a field mapping, and field
//! mappings are this crate's data; `sigil-logs` stays a reader of events that knows
//! nothing of taxonomies. Rule pipelines rewrite *rules* to meet the data; this view
//! rewrites nothing and lets Elastic rules, which are written in ECS, meet raw data.
//!
//! * Raw names still answer, so Sigma rules and ECS rules can share one engine and one
//!   pass over the events.
//! * An event without `Channel` and `EventID` (JSON already in ECS, any other log) is
//!   passed through unchanged.
//! * [`Event::for_each_field`] gives the raw fields, then every ECS field the mapping
//!   yields for the event (event data a second time as `winlog.event_data.<name>`): keyword
//!   searches and the engine's literal prefilter walk the fields, and must see every name
//!   [`Event::get`] answers; detections printed from the view show both shapes.
//! * Values are borrowed from the raw event where the transform allows it (basename,
//!   directory, extension, registry path parts, unquoted arguments, constants); text that
//!   must change (lowercasing, quoted arguments, numbers in registry data) is allocated
//!   only when asked for.

use std::borrow::Cow;
use std::sync::OnceLock;

use sigil_logs::{Event, FieldValue};

use crate::yaml::{self, Node};

/// The text of the built-in mapping.
pub const WINDOWS_TO_ECS: &str = include_str!("../pipelines/windows_to_ecs.yml");

/// The built-in mapping of raw Windows events to ECS, read once.
///
/// # Panics
/// Never in practice: the embedded file is checked by this crate's tests.
pub fn windows_to_ecs() -> &'static EcsMapping {
    static MAPPING: OnceLock<EcsMapping> = OnceLock::new();
    MAPPING.get_or_init(|| {
        EcsMapping::from_yaml(WINDOWS_TO_ECS).unwrap_or_else(|e| {
            // The embedded file is tested; an empty mapping keeps a broken build usable.
            debug_assert!(false, "windows_to_ecs.yml: {e}");
            EcsMapping::default()
        })
    })
}

/// How one ECS field gets its values.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// Constants (none: the field is absent).
    Const(Vec<Box<str>>),
    /// The first raw field among `fields` that has a value, transformed.
    Field {
        fields: Vec<Box<str>>,
        transform: Transform,
    },
}

/// The transforms a mapping may apply to a raw value.
#[derive(Debug, Clone, PartialEq)]
enum Transform {
    None,
    /// After the last `\` (absent when there is none, as the integrations do).
    Basename,
    /// Before the last `\`.
    Directory,
    /// After the last `.` of the basename.
    Extension,
    /// The command line split as Windows' `CommandLineToArgvW` does; one value per argument.
    Args,
    /// The command line split at whitespace outside double quotes, quotes and empty pieces
    /// kept (the `system` integration's script for Security 4688).
    ArgsQuoted,
    /// Split at runs of whitespace (the integrations' `split` on `\s+`).
    Words,
    /// The text before the first `separator` (all of it when there is none).
    Before(Box<str>),
    /// An IP address without the IPv4-mapped `::ffff:` prefix (the security pipeline's gsub).
    Ip,
    /// ASCII-lowercased.
    Lower,
    /// A decimal or `0x` hexadecimal number, as an integer.
    Number,
    /// `ALGO=value` of a Sysmon `Hashes` list, lowercased.
    Hash(Box<str>),
    /// `DOMAIN\user` → `user`.
    UserName,
    /// `DOMAIN\user` → `DOMAIN`.
    UserDomain,
    /// The hive of a registry path, abbreviated (`HKLM`).
    RegistryHive,
    /// The registry path without its hive.
    RegistryKey,
    /// The last component of a registry path.
    RegistryValue,
    /// Sysmon registry `Details`: `DWORD (0x00000001)` → `1`, `QWORD (0x…-0x…)` → decimal,
    /// anything else as written.
    RegistryData,
    /// Values looked up in a table; values not in it are absent.
    Map(Vec<(Box<str>, Box<str>)>),
}

/// One ECS field of a field set.
#[derive(Debug, Clone, PartialEq)]
struct Mapped {
    name: Box<str>,
    hash: u32,
    source: Source,
}

/// The ECS fields of one kind of event, merged from `common`, the channel and the event.
#[derive(Debug, Clone, Default, PartialEq)]
struct FieldSet {
    fields: Vec<Mapped>,
}

impl FieldSet {
    fn set(&mut self, name: &str, source: Source) {
        let hash = name_hash(name);
        if let Some(m) = self
            .fields
            .iter_mut()
            .find(|m| m.hash == hash && m.name.eq_ignore_ascii_case(name))
        {
            m.source = source;
        } else {
            self.fields.push(Mapped {
                name: name.into(),
                hash,
                source,
            });
        }
    }

    fn find(&self, name: &str) -> Option<&Mapped> {
        let hash = name_hash(name);
        self.fields
            .iter()
            .find(|m| m.hash == hash && m.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
struct ChannelMap {
    channel: Box<str>,
    /// The set for event ids not listed.
    default: usize,
    /// `(event id, set)`, sorted by id.
    events: Vec<(i64, usize)>,
}

/// A mapping of raw Windows events to ECS (the format of `windows_to_ecs.yml`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EcsMapping {
    system_fields: Vec<Box<str>>,
    sets: Vec<FieldSet>,
    channels: Vec<ChannelMap>,
}

/// Why a mapping file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct EcsMappingError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

fn error(node: &Node, message: impl Into<String>) -> EcsMappingError {
    let pos = node.pos();
    EcsMappingError {
        line: pos.line,
        column: pos.column,
        message: message.into(),
    }
}

fn map_entries<'n>(
    node: &'n Node,
    what: &str,
) -> Result<Vec<(&'n str, &'n Node)>, EcsMappingError> {
    match node {
        Node::Map(entries, _) => entries
            .iter()
            .map(|(k, v)| {
                k.text
                    .as_deref()
                    .map(|t| (t, v))
                    .ok_or_else(|| error(v, format!("{what}: a key is null")))
            })
            .collect(),
        Node::Null(_) => Ok(Vec::new()),
        other => Err(error(other, format!("{what} must be a mapping"))),
    }
}

fn get<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    match node {
        Node::Map(entries, _) => entries
            .iter()
            .find(|(k, _)| k.text.as_deref() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn texts(node: &Node) -> Result<Vec<Box<str>>, EcsMappingError> {
    match node {
        Node::Seq(items, _) => items
            .iter()
            .map(|i| {
                i.scalar_text()
                    .map(String::into_boxed_str)
                    .ok_or_else(|| error(i, format!("expected text, found {}", i.kind())))
            })
            .collect(),
        other => other
            .scalar_text()
            .map(|t| vec![t.into_boxed_str()])
            .ok_or_else(|| error(other, format!("expected text, found {}", other.kind()))),
    }
}

fn source(node: &Node) -> Result<Source, EcsMappingError> {
    if !matches!(node, Node::Map(..)) {
        return Ok(Source::Field {
            fields: texts(node)?,
            transform: Transform::None,
        });
    }
    for (key, _) in map_entries(node, "a field")? {
        if !matches!(
            key,
            "value" | "field" | "transform" | "algorithm" | "map" | "separator"
        ) {
            return Err(error(
                node,
                format!(
                    "unknown key `{key}`; expected value, field, transform, algorithm, map, separator"
                ),
            ));
        }
    }
    if let Some(v) = get(node, "value") {
        return Ok(Source::Const(texts(v)?));
    }
    let fields = get(node, "field").ok_or_else(|| error(node, "needs `value` or `field`"))?;
    let transform = match get(node, "transform") {
        None => Transform::None,
        Some(t) => {
            let name = t.scalar_text().unwrap_or_default();
            match name.as_str() {
                "basename" => Transform::Basename,
                "directory" => Transform::Directory,
                "extension" => Transform::Extension,
                "args" => Transform::Args,
                "args_quoted" => Transform::ArgsQuoted,
                "words" => Transform::Words,
                "ip" => Transform::Ip,
                "before" => {
                    let sep = get(node, "separator")
                        .and_then(Node::scalar_text)
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| error(t, "`before` needs `separator`"))?;
                    Transform::Before(sep.into_boxed_str())
                }
                "lower" => Transform::Lower,
                "number" => Transform::Number,
                "user_name" => Transform::UserName,
                "user_domain" => Transform::UserDomain,
                "registry_hive" => Transform::RegistryHive,
                "registry_key" => Transform::RegistryKey,
                "registry_value" => Transform::RegistryValue,
                "registry_data" => Transform::RegistryData,
                "hash" => {
                    let algo = get(node, "algorithm")
                        .and_then(Node::scalar_text)
                        .ok_or_else(|| error(t, "`hash` needs `algorithm`"))?;
                    Transform::Hash(algo.into_boxed_str())
                }
                "map" => {
                    let table = get(node, "map").ok_or_else(|| error(t, "`map` needs `map`"))?;
                    let mut pairs = Vec::new();
                    for (k, v) in map_entries(table, "map")? {
                        let v = v
                            .scalar_text()
                            .ok_or_else(|| error(v, "a map value must be text"))?;
                        pairs.push((k.into(), v.into_boxed_str()));
                    }
                    Transform::Map(pairs)
                }
                other => return Err(error(t, format!("unknown transform `{other}`"))),
            }
        }
    };
    Ok(Source::Field {
        fields: texts(fields)?,
        transform,
    })
}

fn apply_fields(set: &mut FieldSet, node: &Node) -> Result<(), EcsMappingError> {
    for (name, spec) in map_entries(node, "fields")? {
        set.set(name, source(spec)?);
    }
    Ok(())
}

impl EcsMapping {
    /// Reads a mapping in the format of `windows_to_ecs.yml` (see `docs/elastic.md`).
    ///
    /// # Errors
    /// A YAML error or a malformed entry, with its line and column.
    pub fn from_yaml(text: &str) -> Result<Self, EcsMappingError> {
        let root = yaml::parse(text).map_err(|e| EcsMappingError {
            line: e.pos.line,
            column: e.pos.column,
            message: e.message,
        })?;
        let mut mapping = EcsMapping::default();
        if let Some(system) = get(&root, "system_fields") {
            mapping.system_fields = texts(system)?;
        }
        let mut common = FieldSet::default();
        if let Some(c) = get(&root, "common") {
            apply_fields(&mut common, c)?;
        }
        mapping.sets.push(common.clone());
        let channels = match get(&root, "channels") {
            Some(Node::Seq(items, _)) => items.as_slice(),
            Some(other) => return Err(error(other, "`channels` must be a list")),
            None => &[],
        };
        for ch in channels {
            let name = get(ch, "channel")
                .and_then(Node::scalar_text)
                .ok_or_else(|| error(ch, "a channel needs `channel`"))?;
            let mut base = common.clone();
            if let Some(f) = get(ch, "fields") {
                apply_fields(&mut base, f)?;
            }
            let mut per_id: Vec<(i64, FieldSet)> = Vec::new();
            let entries = match get(ch, "events") {
                Some(Node::Seq(items, _)) => items.as_slice(),
                Some(other) => return Err(error(other, "`events` must be a list")),
                None => &[],
            };
            for entry in entries {
                let ids = get(entry, "ids").ok_or_else(|| error(entry, "an entry needs `ids`"))?;
                let fields =
                    get(entry, "fields").ok_or_else(|| error(entry, "an entry needs `fields`"))?;
                for id in texts(ids)? {
                    let id: i64 = id
                        .parse()
                        .map_err(|_| error(ids, format!("`{id}` is not an event id")))?;
                    let at = if let Some(at) = per_id.iter().position(|(i, _)| *i == id) {
                        at
                    } else {
                        per_id.push((id, base.clone()));
                        per_id.len() - 1
                    };
                    apply_fields(&mut per_id[at].1, fields)?;
                }
            }
            let default = mapping.sets.len();
            mapping.sets.push(base);
            let mut events = Vec::with_capacity(per_id.len());
            for (id, set) in per_id {
                events.push((id, mapping.sets.len()));
                mapping.sets.push(set);
            }
            events.sort_unstable_by_key(|(id, _)| *id);
            mapping.channels.push(ChannelMap {
                channel: name.into_boxed_str(),
                default,
                events,
            });
        }
        Ok(mapping)
    }

    /// The event seen through the mapping. An event without `Channel` and `EventID` is
    /// not a raw Windows event: the view passes it through.
    pub fn view<'a>(&'a self, raw: &'a dyn Event) -> EcsEvent<'a> {
        EcsEvent {
            raw,
            set: self.select(raw),
            system: &self.system_fields,
        }
    }

    /// Whether `event` is a raw Windows event (it has `Channel` and `EventID`).
    pub fn is_raw_windows(event: &dyn Event) -> bool {
        event.get("Channel").is_some() && event.get("EventID").is_some()
    }

    fn select(&self, raw: &dyn Event) -> Option<&FieldSet> {
        let channel = raw.get("Channel")?;
        let id = raw.get("EventID")?;
        let id = match id {
            FieldValue::Int(i) => Some(i),
            FieldValue::UInt(u) => i64::try_from(u).ok(),
            other => other.as_text().and_then(|t| t.trim().parse().ok()),
        };
        let channel = channel.as_text()?;
        let Some(ch) = self
            .channels
            .iter()
            .find(|c| c.channel.eq_ignore_ascii_case(&channel))
        else {
            return self.sets.first();
        };
        let set = id
            .and_then(|id| {
                ch.events
                    .binary_search_by_key(&id, |(i, _)| *i)
                    .ok()
                    .map(|at| ch.events[at].1)
            })
            .unwrap_or(ch.default);
        self.sets.get(set)
    }
}

/// A raw Windows event that also answers ECS names; see the module documentation.
#[derive(Clone, Copy)]
pub struct EcsEvent<'a> {
    raw: &'a dyn Event,
    set: Option<&'a FieldSet>,
    system: &'a [Box<str>],
}

impl std::fmt::Debug for EcsEvent<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcsEvent")
            .field("mapped", &self.set.is_some())
            .finish_non_exhaustive()
    }
}

const EVENT_DATA: &str = "winlog.event_data.";

/// FNV-1a over the ASCII-lowercased name.
fn name_hash(name: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for &b in name.as_bytes() {
        hash ^= u32::from(b.to_ascii_lowercase());
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// Values the integrations drop from event data.
fn is_empty_value(value: &FieldValue<'_>) -> bool {
    match value {
        FieldValue::Str(s) => {
            let s = s.as_ref();
            s.is_empty() || s == "-" || s == "{00000000-0000-0000-0000-000000000000}"
        }
        FieldValue::Null => true,
        _ => false,
    }
}

/// `cow[range]`, borrowed when `cow` is.
fn sub<'v>(cow: &Cow<'v, str>, start: usize, end: usize) -> Cow<'v, str> {
    match cow {
        Cow::Borrowed(s) => Cow::Borrowed(&s[start..end]),
        Cow::Owned(s) => Cow::Owned(s[start..end].to_string()),
    }
}

fn strip_prefix_ignore_case<'n>(name: &'n str, prefix: &str) -> Option<&'n str> {
    let head = name.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &name[prefix.len()..])
}

const HIVES: [(&str, &str); 14] = [
    ("HKEY_CLASSES_ROOT", "HKCR"),
    ("HKCR", "HKCR"),
    ("HKEY_CURRENT_CONFIG", "HKCC"),
    ("HKCC", "HKCC"),
    ("HKEY_CURRENT_USER", "HKCU"),
    ("HKCU", "HKCU"),
    ("HKEY_DYN_DATA", "HKDD"),
    ("HKDD", "HKDD"),
    ("HKEY_LOCAL_MACHINE", "HKLM"),
    ("HKLM", "HKLM"),
    ("HKEY_PERFORMANCE_DATA", "HKPD"),
    ("HKPD", "HKPD"),
    ("HKEY_USERS", "HKU"),
    ("HKU", "HKU"),
];

fn hive_of(path: &str) -> Option<&'static str> {
    let first = path.split('\\').next()?;
    HIVES.iter().find(|(h, _)| *h == first).map(|(_, a)| *a)
}

/// Applies `transform` to one raw value, giving each resulting value to `f`.
fn transform<'v>(t: &Transform, value: FieldValue<'v>, f: &mut dyn FnMut(FieldValue<'v>)) {
    let text = match value {
        FieldValue::Str(s) => s,
        other => match t {
            Transform::None | Transform::Number => return f(other),
            _ => match other.as_text() {
                Some(t) => Cow::Owned(t.into_owned()),
                None => return,
            },
        },
    };
    let s: &str = &text;
    match t {
        Transform::None => f(FieldValue::Str(text.clone())),
        Transform::Basename => {
            if let Some(i) = s.rfind('\\')
                && i + 1 < s.len()
            {
                f(FieldValue::Str(sub(&text, i + 1, s.len())));
            }
        }
        Transform::Directory => {
            if let Some(i) = s.rfind('\\') {
                f(FieldValue::Str(sub(&text, 0, i)));
            }
        }
        Transform::Extension => {
            let base = s.rfind('\\').map_or(0, |i| i + 1);
            if let Some(dot) = s[base..].rfind('.')
                && base + dot + 1 < s.len()
            {
                f(FieldValue::Str(sub(&text, base + dot + 1, s.len())));
            }
        }
        Transform::Args => split_command_line(&text, f),
        Transform::ArgsQuoted => split_keeping_quotes(&text, f),
        Transform::Words => {
            let mut rest = s;
            let mut at = 0;
            while !rest.is_empty() {
                let start = rest.len() - rest.trim_start().len();
                let word = &rest[start..];
                let len = word.find(char::is_whitespace).unwrap_or(word.len());
                if len > 0 {
                    f(FieldValue::Str(sub(&text, at + start, at + start + len)));
                }
                at += start + len;
                rest = &s[at..];
            }
        }
        Transform::Before(sep) => {
            let end = s.find(sep.as_ref()).unwrap_or(s.len());
            if end > 0 {
                f(FieldValue::Str(sub(&text, 0, end)));
            }
        }
        Transform::Ip => match strip_prefix_ignore_case(s, "::ffff:") {
            Some(v4) if v4.contains('.') => f(FieldValue::Str(sub(&text, 7, s.len()))),
            _ => f(FieldValue::Str(text.clone())),
        },
        Transform::Lower => {
            if s.bytes().any(|b| b.is_ascii_uppercase()) {
                f(FieldValue::Str(Cow::Owned(s.to_ascii_lowercase())));
            } else {
                f(FieldValue::Str(text.clone()));
            }
        }
        Transform::Number => {
            let trimmed = s.trim();
            let parsed = match strip_prefix_ignore_case(trimmed, "0x") {
                Some(hex) => i64::from_str_radix(hex, 16).ok(),
                None => trimmed.parse().ok(),
            };
            if let Some(n) = parsed {
                f(FieldValue::Int(n));
            }
        }
        Transform::Hash(algo) => {
            for part in s.split(',') {
                if let Some((k, v)) = part.split_once('=')
                    && k.trim().eq_ignore_ascii_case(algo)
                {
                    let v = v.trim();
                    if !v.is_empty() && !v.bytes().all(|b| b == b'0') {
                        f(FieldValue::Str(Cow::Owned(v.to_ascii_lowercase())));
                    }
                    return;
                }
            }
        }
        Transform::UserName | Transform::UserDomain => {
            if let Some((domain, user)) = s.split_once('\\')
                && !user.contains('\\')
            {
                let (start, end) = if matches!(t, Transform::UserName) {
                    (domain.len() + 1, s.len())
                } else {
                    (0, domain.len())
                };
                if start < end {
                    f(FieldValue::Str(sub(&text, start, end)));
                }
            }
        }
        Transform::RegistryHive => {
            if let Some(h) = hive_of(s) {
                f(FieldValue::Str(Cow::Borrowed(h)));
            }
        }
        Transform::RegistryKey => {
            if hive_of(s).is_some()
                && let Some(i) = s.find('\\')
            {
                f(FieldValue::Str(sub(&text, i + 1, s.len())));
            }
        }
        Transform::RegistryValue => {
            let start = s.rfind('\\').map_or(0, |i| i + 1);
            f(FieldValue::Str(sub(&text, start, s.len())));
        }
        Transform::RegistryData => match registry_number(s) {
            Some(n) => f(FieldValue::Str(Cow::Owned(n.to_string()))),
            None => f(FieldValue::Str(text.clone())),
        },
        Transform::Map(table) => {
            if let Some((_, v)) = table.iter().find(|(k, _)| k.eq_ignore_ascii_case(s)) {
                // The table outlives no event: copy the (short) constant.
                f(FieldValue::Str(Cow::Owned(v.to_string())));
            }
        }
    }
}

/// `DWORD (0x0000000a)` → 10; `QWORD (0x00000001-0x00000002)` → the integrations' value
/// (`(high << 8) + low`, as their ingest script computes it).
fn registry_number(s: &str) -> Option<u64> {
    let hex = |t: &str| {
        strip_prefix_ignore_case(t.trim(), "0x").and_then(|h| u64::from_str_radix(h, 16).ok())
    };
    if let Some(inner) = strip_prefix_ignore_case(s, "DWORD (").and_then(|r| r.strip_suffix(')')) {
        return hex(inner);
    }
    if let Some(inner) = strip_prefix_ignore_case(s, "QWORD (").and_then(|r| r.strip_suffix(')')) {
        let (high, low) = inner.split_once('-')?;
        return hex(high)?.checked_shl(8)?.checked_add(hex(low)?);
    }
    None
}

/// Splits a command line as `CommandLineToArgvW` does (with the pre-2008 rule for `""`
/// inside quotes, as Elastic's ingest pipelines implement it). Arguments without quotes
/// are borrowed from the command line.
#[allow(
    clippy::ptr_arg,
    reason = "a borrowed command line gives borrowed arguments: the Cow says which"
)]
pub fn split_command_line<'v>(command: &Cow<'v, str>, emit: &mut dyn FnMut(FieldValue<'v>)) {
    let line: &str = command;
    let bytes = line.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() {
        if bytes[pos] == b' ' || bytes[pos] == b'\t' {
            pos += 1;
            continue;
        }
        let start = pos;
        // Fast path: an argument without quotes is the text up to the next blank.
        let end = bytes[pos..]
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .map_or(bytes.len(), |n| pos + n);
        if !bytes[start..end].contains(&b'"') {
            emit(FieldValue::Str(sub(command, start, end)));
            pos = end;
            continue;
        }
        let (arg, consumed) = read_quoted_arg(&line[start..]);
        emit(FieldValue::Str(Cow::Owned(arg)));
        pos = start + consumed;
    }
}

/// Splits a command line as the `system` integration does for Security 4688: at each
/// whitespace character outside double quotes, the quotes kept and empty pieces (from
/// repeated blanks) kept too.
#[allow(
    clippy::ptr_arg,
    reason = "a borrowed command line gives borrowed arguments: the Cow says which"
)]
fn split_keeping_quotes<'v>(command: &Cow<'v, str>, emit: &mut dyn FnMut(FieldValue<'v>)) {
    let line: &str = command;
    let mut start = 0;
    let mut in_quote = false;
    for (i, c) in line.char_indices() {
        if c == '"' {
            in_quote = !in_quote;
        } else if java_whitespace(c) && !in_quote {
            emit(FieldValue::Str(sub(command, start, i)));
            start = i + c.len_utf8();
        }
    }
    if !line.is_empty() {
        emit(FieldValue::Str(sub(command, start, line.len())));
    }
}

/// Java's `Character.isWhitespace`, which the ingest scripts call: Unicode spaces except the
/// non-breaking ones, and the ASCII separators U+001C..U+001F.
fn java_whitespace(c: char) -> bool {
    matches!(c, '\u{1c}'..='\u{1f}')
        || (c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{2007}' | '\u{202f}' | '\u{85}'))
}

/// One argument with quotes, from the start of `rest`: the argument and the bytes read.
fn read_quoted_arg(rest: &str) -> (String, usize) {
    let mut arg = String::new();
    let mut in_quote = false;
    let mut slashes = 0usize;
    let mut chars = rest.char_indices().peekable();
    let mut consumed = rest.len();
    while let Some((at, c)) = chars.next() {
        match c {
            ' ' | '\t' if !in_quote => {
                consumed = at + 1;
                break;
            }
            '"' => {
                arg.extend(std::iter::repeat_n('\\', slashes / 2));
                if slashes.is_multiple_of(2) {
                    if in_quote && chars.peek().is_some_and(|&(_, next)| next == '"') {
                        arg.push('"');
                        chars.next();
                    }
                    in_quote = !in_quote;
                } else {
                    arg.push('"');
                }
                slashes = 0;
            }
            '\\' => slashes += 1,
            _ => {
                arg.extend(std::iter::repeat_n('\\', slashes));
                slashes = 0;
                arg.push(c);
            }
        }
    }
    arg.extend(std::iter::repeat_n('\\', slashes));
    (arg, consumed)
}

impl<'a> EcsEvent<'a> {
    /// Whether the event is a raw Windows event the mapping applies to.
    pub fn is_mapped(&self) -> bool {
        self.set.is_some()
    }

    fn is_system(&self, name: &str) -> bool {
        self.system.iter().any(|s| s.eq_ignore_ascii_case(name))
    }

    /// Gives every value of a mapped field to `f`.
    fn values(&self, m: &'a Mapped, f: &mut dyn FnMut(FieldValue<'a>)) {
        match &m.source {
            Source::Const(values) => {
                for v in values {
                    f(FieldValue::Str(Cow::Borrowed(v)));
                }
            }
            Source::Field {
                fields,
                transform: t,
            } => {
                for name in fields {
                    if let Some(v) = self.raw.get(name)
                        && !is_empty_value(&v)
                    {
                        transform(t, v, f);
                        return;
                    }
                }
            }
        }
    }

    /// The ECS answer for `name`: `Some` when the mapping knows the name (with no value
    /// when the event lacks it), `None` when the raw event should answer.
    fn ecs_values(&self, name: &str, f: &mut dyn FnMut(FieldValue<'a>)) -> Option<()> {
        let set = self.set?;
        if let Some(m) = set.find(name) {
            self.values(m, f);
            return Some(());
        }
        let data = strip_prefix_ignore_case(name, EVENT_DATA)?;
        if !self.is_system(data)
            && let Some(v) = self.raw.get(data)
            && !is_empty_value(&v)
        {
            f(v);
        }
        Some(())
    }
}

/// Whether a name can be an ECS name: raw Windows names have neither dots nor `@`.
fn ecs_like(name: &str) -> bool {
    name.bytes().any(|b| b == b'.' || b == b'@')
}

impl Event for EcsEvent<'_> {
    fn get(&self, field: &str) -> Option<FieldValue<'_>> {
        if self.set.is_some() && ecs_like(field) {
            let mut first = None;
            if self
                .ecs_values(field, &mut |v| {
                    if first.is_none() {
                        first = Some(v);
                    }
                })
                .is_some()
            {
                return first;
            }
        }
        self.raw.get(field)
    }

    fn for_each_field(&self, f: &mut dyn FnMut(&str, FieldValue<'_>)) {
        self.raw.for_each_field(f);
        let Some(set) = self.set else {
            return;
        };
        for m in &set.fields {
            self.values(m, &mut |v| f(&m.name, v));
        }
        let mut name = String::with_capacity(64);
        self.raw.for_each_field(&mut |raw_name, v| {
            if self.is_system(raw_name) || is_empty_value(&v) {
                return;
            }
            name.clear();
            name.push_str(EVENT_DATA);
            name.push_str(raw_name);
            if set.find(&name).is_none() {
                f(&name, v);
            }
        });
    }

    fn for_each_value(&self, field: &str, f: &mut dyn FnMut(FieldValue<'_>)) {
        if self.set.is_some() && ecs_like(field) && self.ecs_values(field, &mut |v| f(v)).is_some()
        {
            return;
        }
        self.raw.for_each_value(field, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigil_logs::FlatEvent;

    fn sysmon_1() -> FlatEvent {
        let mut e = FlatEvent::new();
        let s = |t: &'static str| FieldValue::Str(Cow::Borrowed(t));
        e.push("EventID", FieldValue::Int(1));
        e.push("Channel", s("Microsoft-Windows-Sysmon/Operational"));
        e.push("Computer", s("WS01.corp.local"));
        e.push("Image", s(r"C:\Windows\System32\cmd.exe"));
        e.push(
            "CommandLine",
            s(r#""C:\Windows\System32\cmd.exe" /c "echo hi" a\"b"#),
        );
        e.push("ParentImage", s(r"C:\Windows\System32\wbem\WmiPrvSE.exe"));
        e.push("User", s(r"CORP\alice"));
        e.push("ProcessId", s("4242"));
        e.push(
            "Hashes",
            s("SHA1=AB,MD5=CD,SHA256=EF01,IMPHASH=00000000000000000000000000000000"),
        );
        e.push("RuleName", s("-"));
        e
    }

    fn all(e: &dyn Event, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        e.for_each_value(name, &mut |v| {
            out.push(v.as_text().unwrap_or_default().into_owned());
        });
        out
    }

    #[test]
    fn builtin_mapping_reads() {
        let m = EcsMapping::from_yaml(WINDOWS_TO_ECS).expect("windows_to_ecs.yml");
        assert!(m.channels.len() >= 4);
        assert_eq!(windows_to_ecs(), &m);
    }

    #[test]
    fn sysmon_process_creation_as_ecs() {
        let raw = sysmon_1();
        let view = windows_to_ecs().view(&raw);
        assert!(view.is_mapped());
        assert_eq!(all(&view, "process.name"), ["cmd.exe"]);
        assert_eq!(all(&view, "process.parent.name"), ["WmiPrvSE.exe"]);
        assert_eq!(
            all(&view, "process.args"),
            [r"C:\Windows\System32\cmd.exe", "/c", "echo hi", r#"a"b"#]
        );
        assert_eq!(all(&view, "event.category"), ["process"]);
        assert_eq!(all(&view, "event.type"), ["start"]);
        assert_eq!(all(&view, "event.module"), ["sysmon"]);
        assert_eq!(all(&view, "host.os.type"), ["windows"]);
        assert_eq!(all(&view, "host.name"), ["ws01.corp.local"]);
        assert_eq!(all(&view, "user.name"), ["alice"]);
        assert_eq!(all(&view, "user.domain"), ["CORP"]);
        assert_eq!(view.get("process.pid"), Some(FieldValue::Int(4242)));
        assert_eq!(all(&view, "process.hash.sha256"), ["ef01"]);
        assert!(all(&view, "process.pe.imphash").is_empty());
        assert_eq!(all(&view, "winlog.event_data.Image").len(), 1);
        assert!(view.get("winlog.event_data.EventID").is_none());
        assert!(view.get("rule.name").is_none());
        // Raw names still answer; case does not matter.
        assert_eq!(all(&view, "image"), [r"C:\Windows\System32\cmd.exe"]);
        assert_eq!(all(&view, "PROCESS.NAME"), ["cmd.exe"]);
        // Walking the fields shows both shapes.
        let mut names = Vec::new();
        view.for_each_field(&mut |n, _| names.push(n.to_string()));
        for n in [
            "Image",
            "process.name",
            "winlog.event_data.Image",
            "event.type",
        ] {
            assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
        }
        assert_eq!(names.iter().filter(|n| *n == "process.args").count(), 4);
    }

    #[test]
    fn other_events_pass_through() {
        let mut e = FlatEvent::new();
        e.push("event.category", FieldValue::Str("file".into()));
        let view = windows_to_ecs().view(&e);
        assert!(!view.is_mapped());
        assert_eq!(all(&view, "event.category"), ["file"]);
        assert!(view.get("host.os.type").is_none());
    }

    #[test]
    fn security_and_registry() {
        let mut e = FlatEvent::new();
        e.push("EventID", FieldValue::Int(4688));
        e.push("Channel", FieldValue::Str("Security".into()));
        e.push("NewProcessName", FieldValue::Str(r"C:\x\a.EXE".into()));
        e.push("NewProcessId", FieldValue::Str("0x1a4".into()));
        e.push("ParentProcessName", FieldValue::Str(r"C:\y\b.exe".into()));
        let view = windows_to_ecs().view(&e);
        assert_eq!(all(&view, "process.name"), ["a.EXE"]);
        assert_eq!(view.get("process.pid"), Some(FieldValue::Int(0x1a4)));
        assert_eq!(all(&view, "process.parent.name"), ["b.exe"]);
        assert_eq!(all(&view, "event.action"), ["created-process"]);

        let mut r = FlatEvent::new();
        r.push("EventID", FieldValue::Int(13));
        r.push(
            "Channel",
            FieldValue::Str("Microsoft-Windows-Sysmon/Operational".into()),
        );
        r.push(
            "TargetObject",
            FieldValue::Str(r"HKLM\SOFTWARE\Run\evil".into()),
        );
        r.push("Details", FieldValue::Str("DWORD (0x0000000a)".into()));
        let view = windows_to_ecs().view(&r);
        assert_eq!(all(&view, "registry.hive"), ["HKLM"]);
        assert_eq!(all(&view, "registry.key"), [r"SOFTWARE\Run\evil"]);
        assert_eq!(all(&view, "registry.value"), ["evil"]);
        assert_eq!(all(&view, "registry.data.strings"), ["10"]);
        assert_eq!(all(&view, "event.category"), ["configuration", "registry"]);
        assert_eq!(all(&view, "event.action"), ["RegistryEvent (Value Set)"]);
    }

    fn security(id: i64, fields: &[(&'static str, &'static str)]) -> FlatEvent {
        let mut e = FlatEvent::new();
        e.push("EventID", FieldValue::Int(id));
        e.push("Channel", FieldValue::Str("Security".into()));
        for (k, v) in fields {
            e.push(k, FieldValue::Str(Cow::Borrowed(v)));
        }
        e
    }

    /// The fields of Security events as the `system` integration's security pipeline
    /// (`standard.yml` of elastic/integrations) sets them.
    #[test]
    fn security_events_as_the_system_integration() {
        // 4688: the integration's split keeps quotes; the target user is the effective one.
        let e = security(
            4688,
            &[
                ("NewProcessName", r"C:\x\a.exe"),
                ("CommandLine", r#""C:\x\a.exe"  /c "echo hi""#),
                ("SubjectUserName", "alice"),
                ("TargetUserName", "bob@corp.local"),
                ("Keywords", "0x8020000000000000"),
            ],
        );
        let view = windows_to_ecs().view(&e);
        assert_eq!(
            all(&view, "process.args"),
            [r#""C:\x\a.exe""#, "", "/c", r#""echo hi""#]
        );
        assert_eq!(all(&view, "user.name"), ["alice"]);
        assert_eq!(all(&view, "user.effective.name"), ["bob"]);
        assert_eq!(all(&view, "event.outcome"), ["success"]);
        assert_eq!(all(&view, "event.module"), ["system"]);

        // 4624: the target user; the logon id is the subject's; IPv4-mapped addresses.
        let e = security(
            4624,
            &[
                ("SubjectUserName", "WS01$"),
                ("SubjectLogonId", "0x3e7"),
                ("TargetUserName", "alice"),
                ("TargetUserSid", "S-1-5-21-1-2-3-1001"),
                ("TargetLogonId", "0x1234"),
                ("LogonType", "3"),
                ("IpAddress", "::ffff:10.0.0.5"),
                ("IpPort", "49712"),
            ],
        );
        let view = windows_to_ecs().view(&e);
        assert_eq!(all(&view, "user.name"), ["alice"]);
        assert_eq!(all(&view, "user.id"), ["S-1-5-21-1-2-3-1001"]);
        assert_eq!(all(&view, "winlog.logon.id"), ["0x3e7"]);
        assert_eq!(all(&view, "winlog.logon.type"), ["Network"]);
        assert_eq!(all(&view, "source.ip"), ["10.0.0.5"]);
        assert_eq!(view.get("source.port"), Some(FieldValue::Int(49712)));

        // 4648: the subject is the user, the target the effective user.
        let e = security(
            4648,
            &[("SubjectUserName", "alice"), ("TargetUserName", "admin")],
        );
        let view = windows_to_ecs().view(&e);
        assert_eq!(all(&view, "user.name"), ["alice"]);
        assert_eq!(all(&view, "user.effective.name"), ["admin"]);

        // 4672: the privilege list is split; 4663: only the task names the action.
        let e = security(
            4672,
            &[(
                "PrivilegeList",
                "SeBackupPrivilege\r\n\t\t\tSeDebugPrivilege",
            )],
        );
        let view = windows_to_ecs().view(&e);
        assert_eq!(
            all(&view, "winlog.event_data.PrivilegeList"),
            ["SeBackupPrivilege", "SeDebugPrivilege"]
        );
        let mut e = security(
            4663,
            &[("ObjectName", r"C:\s\a.txt"), ("SubjectUserName", "alice")],
        );
        e.push("Task", FieldValue::Int(12800));
        let view = windows_to_ecs().view(&e);
        assert_eq!(all(&view, "event.action"), ["File System"]);
        assert!(all(&view, "event.category").is_empty());
        assert!(all(&view, "file.path").is_empty());
        assert!(all(&view, "user.name").is_empty());

        // 5145: the relative name as a whole; the share's local path as the directory.
        let e = security(
            5145,
            &[
                ("RelativeTargetName", r"Windows\System32\x.dll"),
                ("ShareLocalPath", r"\??\C:\"),
            ],
        );
        let view = windows_to_ecs().view(&e);
        assert_eq!(all(&view, "file.name"), [r"Windows\System32\x.dll"]);
        assert_eq!(all(&view, "file.directory"), [r"\??\C:\"]);
        assert_eq!(all(&view, "file.extension"), ["dll"]);
    }

    #[test]
    fn added_transforms() {
        let run = |spec: &str, value: &'static str| {
            let m = EcsMapping::from_yaml(&format!("common:\n  x.y: {spec}\n")).expect(spec);
            let mut e = FlatEvent::new();
            e.push("EventID", FieldValue::Int(1));
            e.push("Channel", FieldValue::Str("C".into()));
            e.push("V", FieldValue::Str(Cow::Borrowed(value)));
            all(&m.view(&e), "x.y")
        };
        let quoted = "{field: V, transform: args_quoted}";
        assert_eq!(run(quoted, r#"a "b c"d e "#), ["a", r#""b c"d"#, "e", ""]);
        assert_eq!(run(quoted, "a"), ["a"]);
        let words = "{field: V, transform: words}";
        assert_eq!(run(words, " a \t\n b  "), ["a", "b"]);
        let before = "{field: V, transform: before, separator: '@'}";
        assert_eq!(run(before, "bob@corp"), ["bob"]);
        assert_eq!(run(before, "bob"), ["bob"]);
        let ip = "{field: V, transform: ip}";
        assert_eq!(run(ip, "::ffff:10.1.2.3"), ["10.1.2.3"]);
        assert_eq!(run(ip, "::1"), ["::1"]);
        assert!(EcsMapping::from_yaml("common:\n  a.b: {field: X, transform: before}\n").is_err());
    }

    #[test]
    fn command_lines_split_like_windows() {
        let split = |s: &str| {
            let mut out = Vec::new();
            split_command_line(&Cow::Borrowed(s), &mut |v| {
                out.push(v.as_text().unwrap_or_default().into_owned());
            });
            out
        };
        assert_eq!(split(r#"a  "b c"	d"#), ["a", "b c", "d"]);
        // `""` inside quotes gives a quote and closes the quoted part (the pre-2008 rule).
        assert_eq!(split(r#"x "a""b" y"#), ["x", r#"a"b y"#]);
        assert_eq!(split(r#"x "a""b y"#), ["x", r#"a"b"#, "y"]);
        assert_eq!(split(r"c:\dir\ \\x"), [r"c:\dir\", r"\\x"]);
        assert_eq!(split(r#""a\\" b"#), [r"a\", "b"]);
        assert_eq!(split("  "), Vec::<String>::new());
    }

    #[test]
    fn bad_mappings_are_errors() {
        let e = EcsMapping::from_yaml("common:\n  a.b: {field: X, transform: nope}\n")
            .expect_err("unknown transform");
        assert!(e.message.contains("nope"), "{e}");
        assert_eq!(e.line, 2);
        assert!(EcsMapping::from_yaml("channels: 3").is_err());
    }
}
