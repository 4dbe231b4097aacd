//! Google SecOps YARA-L 2.0 detection rules: one rule per query, its `meta` from the Sigma
//! rule, its `events` the UDM query with every field read from the event variable `$event1`
//! (the event types on a line of their own), its `condition` that event (pySigma's `yara_l`
//! format of pysigma-backend-secops).
//!
//! Unlike the reference, the section is `condition:` as YARA-L 2.0 names it (the reference
//! writes `conditions:`, which Google SecOps does not read), the rule name is an identifier (every character that is not a
//! letter, digit or `_` becomes `_`) and the `meta` strings are escaped (`\"`, `\\`, `\n`), so
//! that a title or description holding quotes or several lines still makes a valid rule; a
//! missing date is an empty string, not `None`.

use std::fmt::Write as _;

use super::{FormatInput, OutputFormat};

/// YARA-L 2.0 rules.
pub static YARA_L: OutputFormat = OutputFormat {
    name: "yara_l",
    aliases: &["yara-l", "yaral"],
    description: "Google SecOps YARA-L 2.0 detection rules, one per query",
    header: None,
    rule: yara_l_rule,
    footer: None,
};

/// The event variable every field is read from.
const EVENT: &str = "$event1.";

fn yara_l_rule(input: &FormatInput<'_>) -> String {
    let mut out = String::new();
    for (i, q) in input.queries.iter().enumerate() {
        out.push_str(&rule_text(input, q, i));
    }
    out
}

/// A YARA-L string literal.
fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The rule name: the title in lower case, every character but letters, digits and `_` as `_`.
pub fn rule_name(title: &str, index: usize) -> String {
    let mut name: String = title
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "rule_");
    }
    if index > 0 {
        let _ = write!(name, "_{}", index + 1);
    }
    name
}

/// Splits a `secops` query into its event-type part and the condition:
/// `(metadata.event_type = "A" OR ...) AND (condition)`, or the condition alone.
pub fn split_event_types(query: &str) -> (Option<&str>, &str) {
    if let Some(rest) = query.strip_prefix("(metadata.event_type = ")
        && let Some(end) = rest.find(") AND (")
        && let Some(condition) = rest[end + ") AND (".len()..].strip_suffix(')')
    {
        let types = &query[1..1 + "metadata.event_type = ".len() + end];
        return (Some(types), condition);
    }
    (None, query)
}

/// `query` with every field name read from the event variable: identifiers outside strings
/// and regular expressions that are not operators, keywords or function names.
pub fn with_event_variable(query: &str) -> String {
    let chars: Vec<char> = query.chars().collect();
    let mut out = String::with_capacity(query.len() + 64);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '/' {
            // A string or a regular expression, to its closing delimiter.
            out.push(c);
            i += 1;
            while i < chars.len() {
                out.push(chars[i]);
                if chars[i] == '\\' && i + 1 < chars.len() {
                    out.push(chars[i + 1]);
                    i += 2;
                    continue;
                }
                i += 1;
                if chars[i - 1] == c {
                    break;
                }
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | '.'))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let keyword = matches!(
                word.as_str(),
                "AND" | "OR" | "NOT" | "nocase" | "true" | "false"
            );
            let function = chars.get(i) == Some(&'(');
            if !keyword && !function {
                out.push_str(EVENT);
            }
            out.push_str(&word);
            continue;
        }
        if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                out.push(chars[i]);
                i += 1;
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn rule_text(input: &FormatInput<'_>, query: &str, index: usize) -> String {
    let rule = input.rule;
    let (types, condition) = split_event_types(query);
    let mut events = Vec::new();
    if let Some(t) = types {
        events.push(with_event_variable(t));
    }
    events.push(with_event_variable(condition));
    let falsepositives = if rule.falsepositives.is_empty() {
        "Unknown".to_string()
    } else {
        rule.falsepositives.join(", ")
    };
    let meta = [
        ("id", rule.id.clone().unwrap_or_default()),
        ("title", rule.title.clone()),
        ("description", rule.description.clone().unwrap_or_default()),
        ("author", rule.author.clone().unwrap_or_default()),
        ("reference", rule.references.join(", ")),
        ("date", rule.date.clone().unwrap_or_default()),
        ("tags", rule.tags.join(", ")),
        (
            "severity",
            rule.level.map(|l| l.to_string()).unwrap_or_default(),
        ),
        ("falsepositives", falsepositives),
    ];
    let mut out = format!("rule {} {{\n  meta:\n", rule_name(&rule.title, index));
    for (k, v) in meta {
        let _ = writeln!(out, "    {k} = {}", string(&v));
    }
    out.push_str("\n  events:\n");
    for e in events {
        let _ = writeln!(out, "    {e}");
    }
    out.push_str("\n  condition:\n    $event1\n}\n\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_from_the_event() {
        assert_eq!(
            with_event_variable(
                "a.b = \"x y\" nocase AND (c != /d\\/e f/ nocase OR net.ip_in_range_cidr(ip, \"10.0.0.0/8\")) AND NOT g < 5"
            ),
            "$event1.a.b = \"x y\" nocase AND ($event1.c != /d\\/e f/ nocase OR net.ip_in_range_cidr($event1.ip, \"10.0.0.0/8\")) AND NOT $event1.g < 5"
        );
    }

    #[test]
    fn event_types_split_off() {
        let (t, c) = split_event_types(
            "(metadata.event_type = \"A\" OR metadata.event_type = \"B\") AND (x = 1 AND (y = 2))",
        );
        assert_eq!(
            t,
            Some("metadata.event_type = \"A\" OR metadata.event_type = \"B\"")
        );
        assert_eq!(c, "x = 1 AND (y = 2)");
        assert_eq!(split_event_types("x = 1"), (None, "x = 1"));
    }

    #[test]
    fn names_are_identifiers() {
        assert_eq!(
            rule_name("Suspicious Use-Of (X.exe)", 0),
            "suspicious_use_of__x_exe_"
        );
        assert_eq!(rule_name("7zip Run", 1), "rule_7zip_run_2");
    }
}
