//! Line-by-line highlighting of rule sources (Sigma YAML, Elastic TOML).
//!
//! [`highlight`] gives data — tokens with a class. [`lines_html`] gives the rows of the
//! rule page's source table, built from fixed markup and the tokens' text escaped exactly
//! as the HTML templates escape values ([`minijinja::HtmlEscape`]), so a hostile rule
//! cannot inject markup through its source either way.

use std::fmt::Write as _;

use minijinja::HtmlEscape;
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

/// The source as the rows of the rule page's line table: per line
/// `<tr><td class="ln">N</td><td class="lc">…</td></tr>`, each token with a class in a
/// `<span class="…">`, plain text bare, all text HTML-escaped. The same bytes the
/// template loop over [`highlight`]'s tokens wrote, without a template value per token.
pub fn lines_html(source: &str) -> String {
    let mut out = String::with_capacity(source.len() * 2 + 64);
    for (n, line) in source.lines().enumerate() {
        // Writing to a String cannot fail.
        let _ = write!(out, "<tr><td class=\"ln\">{}</td><td class=\"lc\">", n + 1);
        for t in line_tokens(line) {
            if t.class.is_empty() {
                let _ = write!(out, "{}", HtmlEscape(&t.text));
            } else {
                let _ = write!(
                    out,
                    "<span class=\"{}\">{}</span>",
                    HtmlEscape(t.class),
                    HtmlEscape(&t.text)
                );
            }
        }
        out.push_str("</td></tr>");
    }
    out
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

    /// The rows are what the template loop over the tokens renders, byte for byte,
    /// markup in the source included.
    #[test]
    fn lines_html_is_the_template_loop() {
        let mut env = minijinja::Environment::new();
        env.add_template(
            "t.html",
            "{% for line in lines %}<tr><td class=\"ln\">{{ loop.index }}</td><td class=\"lc\">{% for t in line %}{% if t.class %}<span class=\"{{ t.class }}\">{{ t.text }}</span>{% else %}{{ t.text }}{% endif %}{% endfor %}</td></tr>{% endfor %}",
        )
        .expect("template");
        for source in [
            "title: <script>alert('x')</script>\n  - \"a & b\" # c/d\n\n[rule]\nname = \"q\"\r\n",
            "",
            "détection: 'é' # ü\n\t- x > y\n",
        ] {
            let expected = env
                .get_template("t.html")
                .and_then(|t| t.render(minijinja::context! { lines => highlight(source) }))
                .expect("render");
            assert_eq!(lines_html(source), expected, "{source:?}");
        }
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
