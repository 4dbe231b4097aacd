//! Event details: the few fields of an event a responder reads first, on one line.
//!
//! Which fields those are depends on the kind of event (a process creation: its command
//! line, image, parent and user; a logon: user, domain, logon type, source address), so
//! they are data: templates keyed by `(channel or provider, event id)`, shipped in
//! `details.yml` and replaceable or extensible by a user file. A rule that names its own
//! fields (Sigma `fields:`) is shown with those instead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sigil_logs::Event;
use sigil_pipeline::yaml::{self, Node, Pos};

/// The templates shipped with sigil.
pub const BUILTIN_DETAILS: &str = include_str!("../details.yml");

/// Segments of a template are joined with this.
pub const SEPARATOR: &str = " ¦ ";

/// A value longer than this many characters is cut (the whole event is in the output too).
const MAX_VALUE_CHARS: usize = 300;

/// Why a details file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DetailsError {
    /// The file cannot be read.
    #[error("cannot read details file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid details file.
    #[error("{}:{pos}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where in it.
        pos: Pos,
        /// What is wrong.
        message: String,
    },
}

/// Which event attribute a template is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum By {
    Channel,
    Provider,
}

/// A piece of a template segment.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(String),
}

/// One kind of event: its name and its details template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// What the event is (`Process creation`).
    pub name: Option<String>,
    /// The template as written.
    pub text: String,
    /// The segments, each a run of text and fields.
    segments: Vec<Vec<Piece>>,
}

impl Template {
    /// Parses a template: `{Field}` placeholders in segments separated by ` ¦ `.
    fn parse(text: &str) -> Result<Self, String> {
        let mut segments = Vec::new();
        for segment in text.split(SEPARATOR) {
            let mut pieces = Vec::new();
            let mut rest = segment;
            while let Some(open) = rest.find('{') {
                let Some(close) = rest[open..].find('}') else {
                    return Err(format!("`{{` without `}}` in `{segment}`"));
                };
                if open > 0 {
                    pieces.push(Piece::Text(rest[..open].to_string()));
                }
                let field = rest[open + 1..open + close].trim();
                if field.is_empty() {
                    return Err(format!("an empty `{{}}` in `{segment}`"));
                }
                pieces.push(Piece::Field(field.to_string()));
                rest = &rest[open + close + 1..];
            }
            if !rest.is_empty() {
                pieces.push(Piece::Text(rest.to_string()));
            }
            segments.push(pieces);
        }
        Ok(Self {
            name: None,
            text: text.to_string(),
            segments,
        })
    }

    /// The fields the template shows.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().flatten().filter_map(|p| match p {
            Piece::Field(f) => Some(f.as_str()),
            Piece::Text(_) => None,
        })
    }

    /// The template filled in from `event`; segments whose fields are all absent or empty
    /// are left out.
    pub fn render(&self, event: &dyn Event) -> String {
        let mut out = String::new();
        let mut segment = String::new();
        for pieces in &self.segments {
            segment.clear();
            let mut any = false;
            for piece in pieces {
                match piece {
                    Piece::Text(t) => segment.push_str(t),
                    Piece::Field(f) => any |= push_value(&mut segment, event, f),
                }
            }
            if any {
                if !out.is_empty() {
                    out.push_str(SEPARATOR);
                }
                out.push_str(segment.trim());
            }
        }
        out
    }
}

/// Appends the value of `field` on one line (whitespace runs as one space, cut when long);
/// whether there was a non-empty one.
fn push_value(out: &mut String, event: &dyn Event, field: &str) -> bool {
    let Some(value) = event.get(field) else {
        return false;
    };
    let Some(text) = value.as_text() else {
        return false;
    };
    let start = out.len();
    let mut chars = 0;
    let mut space = false;
    for c in text.trim().chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if chars >= MAX_VALUE_CHARS {
            out.push('…');
            break;
        }
        if space {
            out.push(' ');
            chars += 1;
            space = false;
        }
        out.push(c);
        chars += 1;
    }
    out.len() > start
}

/// The details templates in force: built-in ones, a user's, or both.
#[derive(Debug, Clone, Default)]
pub struct Details {
    templates: Vec<Template>,
    index: HashMap<(By, String, u64), usize>,
}

/// A details file as read: its entries, and whether it replaces the built-in ones.
struct DetailsFile {
    replace: bool,
    entries: Vec<((By, String, u64), Template)>,
}

impl Details {
    /// The templates shipped with sigil (`details.yml`).
    pub fn builtin() -> Self {
        let mut details = Self::default();
        // The shipped file is checked by the tests; were it broken, events would only go
        // without details.
        if let Ok(file) = parse_file(BUILTIN_DETAILS, Path::new("details.yml")) {
            details.extend(file.entries);
        }
        details
    }

    /// The built-in templates with the user's file at `path`: its entries take the place of
    /// built-in ones for the same kind of event and add the others; with `replace: true` in
    /// the file, only its entries count.
    pub fn with_file(path: &Path) -> Result<Self, DetailsError> {
        let text = std::fs::read_to_string(path).map_err(|source| DetailsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file = parse_file(&text, path)?;
        let mut details = if file.replace {
            Self::default()
        } else {
            Self::builtin()
        };
        details.extend(file.entries);
        Ok(details)
    }

    fn extend(&mut self, entries: Vec<((By, String, u64), Template)>) {
        for (key, template) in entries {
            let at = self.templates.len();
            self.templates.push(template);
            self.index.insert(key, at);
        }
    }

    /// Every template, in the order read (a template replaced by a later one stays here).
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        let mut live: Vec<usize> = self.index.values().copied().collect();
        live.sort_unstable();
        live.dedup();
        live.into_iter().map(|i| &self.templates[i])
    }

    /// The kinds of event each template is for, as `(channel or provider, event id)`.
    pub fn keys(&self) -> impl Iterator<Item = (KeyKind, &str, u64, &Template)> {
        self.index.iter().map(|((by, name, id), &i)| {
            let kind = match by {
                By::Channel => KeyKind::Channel,
                By::Provider => KeyKind::Provider,
            };
            (kind, name.as_str(), *id, &self.templates[i])
        })
    }

    /// The template for events of `channel` or `provider` with `event_id` (the channel's
    /// first).
    pub fn template(
        &self,
        channel: Option<&str>,
        provider: Option<&str>,
        event_id: u64,
    ) -> Option<&Template> {
        let find = |by: By, name: Option<&str>| {
            let key = (by, name?.to_ascii_lowercase(), event_id);
            self.index.get(&key).map(|&i| &self.templates[i])
        };
        find(By::Channel, channel).or_else(|| find(By::Provider, provider))
    }

    /// The template for `event`, from its `Channel`, `Provider_Name` and `EventID`.
    pub fn template_for(&self, event: &dyn Event) -> Option<&Template> {
        let event_id = event.get("EventID").and_then(|v| match v {
            sigil_logs::FieldValue::Int(i) => u64::try_from(i).ok(),
            sigil_logs::FieldValue::UInt(u) => Some(u),
            other => other.as_text()?.trim().parse().ok(),
        })?;
        let text = |name: &str| {
            event
                .get(name)
                .and_then(|v| v.as_text().map(std::borrow::Cow::into_owned))
        };
        self.template(
            text("Channel").as_deref(),
            text("Provider_Name").as_deref(),
            event_id,
        )
    }

    /// The details of `event`: the fields the rule names (`fields:`), when the event has
    /// any of them, else its kind's template; empty when there is neither.
    pub fn render(&self, event: &dyn Event, rule_fields: &[String]) -> String {
        if !rule_fields.is_empty() {
            let mut out = String::new();
            for field in rule_fields {
                let start = out.len();
                if !out.is_empty() {
                    out.push_str(SEPARATOR);
                }
                out.push_str(field);
                out.push_str(": ");
                if !push_value(&mut out, event, field) {
                    out.truncate(start);
                }
            }
            if !out.is_empty() {
                return out;
            }
        }
        self.template_for(event)
            .map(|t| t.render(event))
            .unwrap_or_default()
    }
}

/// Whether a template is keyed by channel or by provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// By the event's `Channel`.
    Channel,
    /// By the event's `Provider_Name`.
    Provider,
}

fn parse_file(text: &str, path: &Path) -> Result<DetailsFile, DetailsError> {
    let invalid = |pos: Pos, message: String| DetailsError::Invalid {
        path: path.to_path_buf(),
        pos,
        message,
    };
    let root = yaml::parse(text).map_err(|e| invalid(e.pos, e.message))?;
    let Node::Map(top, pos) = &root else {
        return Err(invalid(
            root.pos(),
            format!(
                "expected a mapping with `templates:`, found {}",
                root.kind()
            ),
        ));
    };
    let mut file = DetailsFile {
        replace: false,
        entries: Vec::new(),
    };
    let mut seen_templates = false;
    for (key, value) in top {
        match (key.text.as_deref(), value) {
            (Some("replace"), Node::Bool(b, _)) => file.replace = *b,
            (Some("templates"), Node::Seq(items, _)) => {
                seen_templates = true;
                for item in items {
                    file.entries
                        .extend(parse_entry(item).map_err(|(p, m)| invalid(p, m))?);
                }
            }
            (Some("replace"), other) => {
                return Err(invalid(
                    other.pos(),
                    format!("`replace` must be true or false, not {}", other.kind()),
                ));
            }
            (Some("templates"), other) => {
                return Err(invalid(
                    other.pos(),
                    format!("`templates` must be a list, not {}", other.kind()),
                ));
            }
            (name, _) => {
                return Err(invalid(
                    key.pos,
                    format!(
                        "unknown key `{}` (expected `templates`, `replace`)",
                        name.unwrap_or("null")
                    ),
                ));
            }
        }
    }
    if !seen_templates {
        return Err(invalid(*pos, "no `templates:` list".to_string()));
    }
    Ok(file)
}

type Entry = ((By, String, u64), Template);

/// One entry of `templates:`: one template for each event id it names.
fn parse_entry(item: &Node) -> Result<Vec<Entry>, (Pos, String)> {
    let Node::Map(fields, pos) = item else {
        return Err((
            item.pos(),
            format!("a template entry must be a mapping, not {}", item.kind()),
        ));
    };
    let mut by = None;
    let mut ids = Vec::new();
    let mut name = None;
    let mut details = None;
    for (key, value) in fields {
        let text = || {
            value.scalar_text().ok_or_else(|| {
                (
                    value.pos(),
                    format!("expected text, found {}", value.kind()),
                )
            })
        };
        match key.text.as_deref() {
            Some("channel") => by = Some((By::Channel, text()?)),
            Some("provider") => by = Some((By::Provider, text()?)),
            Some("name") => name = Some(text()?),
            Some("details") => details = Some((text()?, value.pos())),
            Some("event_id") => ids = event_ids(value)?,
            other => {
                return Err((
                    key.pos,
                    format!(
                        "unknown key `{}` (expected channel, provider, event_id, name, details)",
                        other.unwrap_or("null")
                    ),
                ));
            }
        }
    }
    let (by, on) = by.ok_or((*pos, "a template needs `channel` or `provider`".to_string()))?;
    if ids.is_empty() {
        return Err((*pos, "a template needs `event_id`".to_string()));
    }
    let (details, at) = details.ok_or((*pos, "a template needs `details`".to_string()))?;
    let mut template = Template::parse(&details).map_err(|m| (at, m))?;
    template.name = name;
    let on = on.to_ascii_lowercase();
    Ok(ids
        .into_iter()
        .map(|id| ((by, on.clone(), id), template.clone()))
        .collect())
}

fn event_ids(value: &Node) -> Result<Vec<u64>, (Pos, String)> {
    let one = |v: &Node| match v {
        Node::Int(i, _) if *i >= 0 => Ok(*i as u64),
        other => Err((
            other.pos(),
            format!("an event id must be a whole number, not {}", other.kind()),
        )),
    };
    match value {
        Node::Seq(items, _) => items.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigil_logs::{FieldValue, FlatEvent};

    fn event(fields: &[(&str, &str)]) -> FlatEvent {
        let mut e = FlatEvent::new();
        for (name, value) in fields {
            match value.parse::<i64>() {
                Ok(n) if *name == "EventID" => e.push(name, FieldValue::Int(n)),
                _ => e.push(name, FieldValue::Str((*value).into())),
            }
        }
        e
    }

    #[test]
    fn the_builtin_file_reads() {
        let file = parse_file(BUILTIN_DETAILS, Path::new("details.yml")).expect("valid");
        assert!(file.entries.len() > 40);
        assert!(!file.replace);
    }

    #[test]
    fn renders_present_fields_and_leaves_out_empty_segments() {
        let details = Details::builtin();
        let e = event(&[
            ("Channel", "Microsoft-Windows-Sysmon/Operational"),
            ("EventID", "1"),
            ("CommandLine", "cmd.exe  /c\r\n\twhoami"),
            ("Image", "C:\\Windows\\System32\\cmd.exe"),
            ("ParentCommandLine", ""),
            ("User", "PC\\alice"),
        ]);
        assert_eq!(
            details.render(&e, &[]),
            "Cmdline: cmd.exe /c whoami ¦ Image: C:\\Windows\\System32\\cmd.exe ¦ User: PC\\alice"
        );
        // A rule's own fields come first; absent ones are left out.
        let fields = ["Image".to_string(), "Nope".to_string(), "User".to_string()];
        assert_eq!(
            details.render(&e, &fields),
            "Image: C:\\Windows\\System32\\cmd.exe ¦ User: PC\\alice"
        );
        // No template: no details.
        let other = event(&[("Channel", "Security"), ("EventID", "1")]);
        assert_eq!(details.render(&other, &[]), "");
    }

    #[test]
    fn channel_names_match_ignoring_case_and_providers_are_a_fallback() {
        let text =
            "templates:\n  - provider: MyProvider\n    event_id: [7, 8]\n    details: 'X: {x}'\n";
        let file = parse_file(text, Path::new("f.yml")).expect("valid");
        let mut details = Details::default();
        details.extend(file.entries);
        assert!(
            details
                .template(Some("whatever"), Some("myprovider"), 8)
                .is_some()
        );
        assert!(details.template(None, Some("MyProvider"), 9).is_none());
        let e = event(&[
            ("Provider_Name", "MYPROVIDER"),
            ("EventID", "7"),
            ("x", "1"),
        ]);
        assert_eq!(details.render(&e, &[]), "X: 1");
    }

    #[test]
    fn long_values_are_cut() {
        let long = "a".repeat(1000);
        let e = event(&[
            ("Channel", "System"),
            ("EventID", "7045"),
            ("ImagePath", &long),
        ]);
        let text = Details::builtin().render(&e, &[]);
        assert!(text.starts_with("Path: aaa"), "{text}");
        assert!(text.ends_with('…'));
        assert_eq!(text.chars().count(), "Path: ".len() + MAX_VALUE_CHARS + 1);
    }

    #[test]
    fn bad_files_are_reported_with_their_position() {
        let cases = [
            ("templates: 3\n", "1:12: `templates` must be a list"),
            ("nope: 1\n", "1:1: unknown key `nope`"),
            (
                "templates:\n  - channel: X\n    details: a\n",
                "2:5: a template needs `event_id`",
            ),
            (
                "templates:\n  - channel: X\n    event_id: x\n    details: a\n",
                "3:15: an event id must be a whole number",
            ),
            (
                "templates:\n  - channel: X\n    event_id: 1\n    details: 'a {b'\n",
                "4:14: `{` without `}`",
            ),
            ("replace: true\n", "1:1: no `templates:` list"),
        ];
        for (text, expected) in cases {
            let Err(e) = parse_file(text, Path::new("d.yml")) else {
                panic!("{text} was accepted");
            };
            let shown = e.to_string();
            assert!(shown.starts_with(&format!("d.yml:{expected}")), "{shown}");
        }
        let missing = Details::with_file(Path::new("/nonexistent/details.yml"));
        assert!(matches!(missing, Err(DetailsError::Read { .. })));
    }

    #[test]
    fn a_user_file_extends_or_replaces() {
        let dir = std::env::temp_dir().join(format!("sigil-details-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("mine.yml");
        let e = event(&[
            ("Channel", "System"),
            ("EventID", "7045"),
            ("ServiceName", "s"),
        ]);
        std::fs::write(
            &path,
            "templates:\n  - channel: system\n    event_id: 7045\n    details: 'Svc={ServiceName}'\n",
        )
        .expect("write");
        let extended = Details::with_file(&path).expect("valid");
        assert_eq!(extended.render(&e, &[]), "Svc=s");
        let process = event(&[
            ("Channel", "Security"),
            ("EventID", "4688"),
            ("CommandLine", "x"),
        ]);
        assert_eq!(extended.render(&process, &[]), "Cmdline: x");
        std::fs::write(
            &path,
            "replace: true\ntemplates:\n  - channel: system\n    event_id: 7045\n    details: 'Svc={ServiceName}'\n",
        )
        .expect("write");
        let replaced = Details::with_file(&path).expect("valid");
        assert_eq!(replaced.render(&process, &[]), "");
        assert_eq!(replaced.render(&e, &[]), "Svc=s");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
