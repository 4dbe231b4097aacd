//! Syslog messages as events: RFC 5424 and the older BSD form (RFC 3164).
//!
//! A message whose text is a JSON object is read as that event (collectors forward JSON
//! events this way); any other message becomes an event with `message` and the header's
//! fields (`facility`, `severity`, `timestamp`, `hostname`, `app_name`, `procid`,
//! `msgid`, and `structured_data` for RFC 5424). A frame without a valid `<PRI>` is not a
//! syslog message: it is counted and skipped.

use serde_json::{Map, Value};

/// Why a frame is not a syslog message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyslogError {
    /// The frame does not start with `<PRI>` (a number from 0 to 191).
    #[error("not a syslog message: no <PRI> at its start")]
    NoPriority,
    /// The frame is not UTF-8 text.
    #[error("not a syslog message: not UTF-8 text")]
    NotText,
}

/// The event of a syslog message, as JSON text.
pub fn event_of(frame: &[u8]) -> Result<String, SyslogError> {
    let frame = frame.strip_suffix(b"\n").unwrap_or(frame);
    let frame = frame.strip_suffix(b"\r").unwrap_or(frame);
    let text = std::str::from_utf8(frame).map_err(|_| SyslogError::NotText)?;
    let (pri, rest) = priority(text).ok_or(SyslogError::NoPriority)?;
    let mut fields = Map::new();
    fields.insert("facility".into(), Value::from(pri / 8));
    fields.insert("severity".into(), Value::from(pri % 8));
    let message = match rest.strip_prefix("1 ") {
        Some(rest) => rfc5424(rest, &mut fields),
        None => rfc3164(rest, &mut fields),
    };
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    let trimmed = message.trim();
    if trimmed.starts_with('{')
        && let Ok(Value::Object(event)) = serde_json::from_str::<Value>(trimmed)
    {
        return Ok(Value::Object(event).to_string());
    }
    fields.insert("message".into(), Value::from(message));
    Ok(Value::Object(fields).to_string())
}

/// `<PRI>` and what follows it.
fn priority(text: &str) -> Option<(u32, &str)> {
    let rest = text.strip_prefix('<')?;
    let end = rest.find('>')?;
    let digits = &rest[..end];
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let pri: u32 = digits.parse().ok()?;
    (pri <= 191).then(|| (pri, &rest[end + 1..]))
}

/// Splits off one space-separated header field.
fn field(text: &str) -> (&str, &str) {
    match text.split_once(' ') {
        Some((f, rest)) => (f, rest),
        None => (text, ""),
    }
}

fn put(fields: &mut Map<String, Value>, name: &str, value: &str) {
    if value != "-" && !value.is_empty() {
        fields.insert(name.into(), Value::from(value));
    }
}

/// `TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]` after `<PRI>1 `.
fn rfc5424<'a>(text: &'a str, fields: &mut Map<String, Value>) -> &'a str {
    let (timestamp, rest) = field(text);
    let (hostname, rest) = field(rest);
    let (app, rest) = field(rest);
    let (procid, rest) = field(rest);
    let (msgid, rest) = field(rest);
    put(fields, "timestamp", timestamp);
    put(fields, "hostname", hostname);
    put(fields, "app_name", app);
    put(fields, "procid", procid);
    put(fields, "msgid", msgid);
    if let Some(rest) = rest.strip_prefix('-') {
        return rest.strip_prefix(' ').unwrap_or(rest);
    }
    // Structured data: `[id k="v" ...]` elements, `\]` `\"` `\\` escaped inside values.
    let bytes = rest.as_bytes();
    let mut i = 0;
    let mut elements = Map::new();
    while bytes.get(i) == Some(&b'[') {
        let Some((element, end)) = sd_element(rest, i) else {
            break;
        };
        elements.insert(element.0, Value::Object(element.1));
        i = end;
    }
    if !elements.is_empty() {
        fields.insert("structured_data".into(), Value::Object(elements));
    }
    let rest = &rest[i..];
    rest.strip_prefix(' ').unwrap_or(rest)
}

type SdElement = (String, Map<String, Value>);

/// One `[id k="v" ...]` element starting at `start`, and where it ends.
fn sd_element(text: &str, start: usize) -> Option<(SdElement, usize)> {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    let id_end = text[i..].find([' ', ']'])? + i;
    let id = text[i..id_end].to_string();
    i = id_end;
    let mut params = Map::new();
    loop {
        match bytes.get(i)? {
            b']' => return Some(((id, params), i + 1)),
            b' ' => i += 1,
            _ => {
                let eq = text[i..].find('=')? + i;
                let name = text[i..eq].to_string();
                if bytes.get(eq + 1) != Some(&b'"') {
                    return None;
                }
                i = eq + 2;
                let mut value = String::new();
                loop {
                    let c = text[i..].chars().next()?;
                    i += c.len_utf8();
                    match c {
                        '\\' => {
                            let next = text[i..].chars().next()?;
                            if !matches!(next, '"' | '\\' | ']') {
                                value.push('\\');
                            }
                            value.push(next);
                            i += next.len_utf8();
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
                params.insert(name, Value::from(value));
            }
        }
    }
}

/// `Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG` after `<PRI>`; a message without that header
/// is taken whole.
fn rfc3164<'a>(text: &'a str, fields: &mut Map<String, Value>) -> &'a str {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = text.as_bytes();
    let stamped = b.len() >= 16
        && MONTHS.iter().any(|m| text.starts_with(m))
        && b[3] == b' '
        && b[6] == b' '
        && b[9] == b':'
        && b[12] == b':'
        && b[15] == b' ';
    if !stamped {
        return text;
    }
    put(fields, "timestamp", &text[..15]);
    let (hostname, rest) = field(&text[16..]);
    put(fields, "hostname", hostname);
    // TAG: up to 32 alphanumeric characters, then `[pid]` and/or `:`.
    let tag_end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
        .unwrap_or(rest.len());
    let (tag, mut after) = rest.split_at(tag_end);
    if tag.is_empty() {
        return rest;
    }
    if let Some(p) = after.strip_prefix('[')
        && let Some(close) = p.find(']')
    {
        put(fields, "procid", &p[..close]);
        after = &p[close + 1..];
    }
    match after.strip_prefix(':') {
        Some(msg) => {
            put(fields, "app_name", tag);
            msg.strip_prefix(' ').unwrap_or(msg)
        }
        None => rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(frame: &str) -> Value {
        serde_json::from_str(&event_of(frame.as_bytes()).expect("a syslog message")).unwrap()
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let e = event(
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 \
             [exampleSDID@32473 iut=\"3\" eventSource=\"App\\]lication\"] An application event",
        );
        assert_eq!(e["facility"], 20);
        assert_eq!(e["severity"], 5);
        assert_eq!(e["timestamp"], "2003-10-11T22:14:15.003Z");
        assert_eq!(e["hostname"], "mymachine.example.com");
        assert_eq!(e["app_name"], "evntslog");
        assert!(e.get("procid").is_none());
        assert_eq!(e["msgid"], "ID47");
        assert_eq!(
            e["structured_data"]["exampleSDID@32473"]["eventSource"],
            "App]lication"
        );
        assert_eq!(e["message"], "An application event");
    }

    #[test]
    fn rfc5424_json_payload_is_the_event() {
        let e = event(
            "<14>1 2024-01-01T00:00:00Z host app 12 - - \u{feff}{\"EventID\": 1, \"Image\": \"C:\\\\x.exe\"}",
        );
        assert_eq!(e, serde_json::json!({"EventID": 1, "Image": "C:\\x.exe"}));
    }

    #[test]
    fn rfc3164() {
        let e = event(
            "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8",
        );
        assert_eq!(e["facility"], 4);
        assert_eq!(e["severity"], 2);
        assert_eq!(e["timestamp"], "Oct 11 22:14:15");
        assert_eq!(e["hostname"], "mymachine");
        assert_eq!(e["app_name"], "su");
        assert_eq!(e["procid"], "230");
        assert_eq!(e["message"], "'su root' failed for lonvick on /dev/pts/8");
        // No header after PRI: the whole text is the message.
        let e = event("<13>just a message");
        assert_eq!(e["message"], "just a message");
    }

    #[test]
    fn frames_without_priority_are_not_messages() {
        assert_eq!(event_of(b"hello"), Err(SyslogError::NoPriority));
        assert_eq!(event_of(b"<999>1 x"), Err(SyslogError::NoPriority));
        assert_eq!(event_of(b"<>x"), Err(SyslogError::NoPriority));
        assert_eq!(event_of(b"<13>\xff"), Err(SyslogError::NotText));
    }
}
