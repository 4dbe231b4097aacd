//! Line-by-line highlighting of rule sources (Sigma YAML, Elastic TOML).
//!
//! The output is data — tokens with a class — never HTML: templates escape the text, so
//! a hostile rule cannot inject markup through its source.

use serde::Serialize;

/// A piece of a line with its highlighting class (`k` key, `s` string, `c` comment,
/// `h` TOML table header, `p` punctuation, empty for plain text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Token {
    /// CSS class.
    pub class: &'static str,
    /// The text, unescaped.
    pub text: String,
}

/// The source split into numbered lines of tokens.
pub fn highlight(source: &str) -> Vec<Vec<Token>> {
    source.lines().map(line_tokens).collect()
}

fn tok(class: &'static str, text: &str) -> Token {
    Token {
        class,
        text: text.to_string(),
    }
}

fn line_tokens(line: &str) -> Vec<Token> {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let mut out = Vec::new();
    if !indent.is_empty() {
        out.push(tok("", indent));
    }
    if trimmed.starts_with('#') {
        out.push(tok("c", trimmed));
        return out;
    }
    if trimmed.starts_with('[') && trimmed.trim_end().ends_with(']') {
        out.push(tok("h", trimmed));
        return out;
    }
    let mut rest = trimmed;
    if let Some(r) = rest.strip_prefix("- ") {
        out.push(tok("p", "- "));
        rest = r;
    }
    // A key: YAML `key:` (followed by a space or the end) or TOML `key =`.
    let key_end = rest
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '|')))
        .map_or(rest.len(), |(i, _)| i);
    if key_end > 0 {
        let after = &rest[key_end..];
        let sep = if after.starts_with(": ") || after == ":" {
            Some(1)
        } else if after.starts_with(" = ") {
            Some(3)
        } else {
            None
        };
        if let Some(n) = sep {
            out.push(tok("k", &rest[..key_end]));
            out.push(tok("p", &after[..n]));
            rest = &after[n..];
        }
    }
    value_tokens(rest, &mut out);
    out
}

/// Strings in quotes and trailing comments; the rest plain.
fn value_tokens(text: &str, out: &mut Vec<Token>) {
    let mut plain_start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                let mut end = text.len();
                let mut escaped = false;
                for (j, d) in chars.by_ref() {
                    if c == '"' && d == '\\' && !escaped {
                        escaped = true;
                        continue;
                    }
                    if d == c && !escaped {
                        end = j + d.len_utf8();
                        break;
                    }
                    escaped = false;
                }
                if plain_start < i {
                    out.push(tok("", &text[plain_start..i]));
                }
                out.push(tok("s", &text[i..end]));
                plain_start = end;
            }
            '#' if i == 0 || text[..i].ends_with(' ') => {
                if plain_start < i {
                    out.push(tok("", &text[plain_start..i]));
                }
                out.push(tok("c", &text[i..]));
                return;
            }
            _ => {}
        }
    }
    if plain_start < text.len() {
        out.push(tok("", &text[plain_start..]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(line: &str) -> Vec<(&'static str, String)> {
        line_tokens(line)
            .into_iter()
            .map(|t| (t.class, t.text))
            .collect()
    }

    #[test]
    fn yaml_key_string_and_comment() {
        assert_eq!(
            classes("    EventID: 7 # image loaded"),
            vec![
                ("", "    ".to_string()),
                ("k", "EventID".to_string()),
                ("p", ":".to_string()),
                ("", " 7 ".to_string()),
                ("c", "# image loaded".to_string()),
            ]
        );
        assert_eq!(
            classes("- '\\wmiclnt.dll'"),
            vec![
                ("p", "- ".to_string()),
                ("s", "'\\wmiclnt.dll'".to_string())
            ]
        );
    }

    #[test]
    fn toml_header_and_key() {
        assert_eq!(classes("[rule]"), vec![("h", "[rule]".to_string())]);
        let t = classes("name = \"Suspicious \\\" Cmd\"");
        assert_eq!(t[0], ("k", "name".to_string()));
        assert_eq!(t[2], ("s", "\"Suspicious \\\" Cmd\"".to_string()));
    }

    #[test]
    fn every_byte_is_kept() {
        for line in [
            "a: 'unterminated",
            "x = \"a\" # c",
            "plain text: here",
            "  - \"q\"",
        ] {
            let joined: String = line_tokens(line).into_iter().map(|t| t.text).collect();
            assert_eq!(joined, line);
        }
    }
}
