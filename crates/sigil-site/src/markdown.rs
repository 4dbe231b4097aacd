//! Markdown escaping for the pages' `md` filters: values escaped for Markdown and HTML,
//! table cells kept on one line, code fenced longer than any backtick run inside it.

/// Markdown text on one line: HTML and Markdown punctuation escaped, line breaks as
/// spaces (a table cell cannot hold one).
pub fn md_inline(s: &str) -> String {
    md_escape(s, false)
}

/// Markdown text that keeps its line breaks.
pub fn md_block(s: &str) -> String {
    md_escape(s, true)
}

fn md_escape(s: &str, keep_lines: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => {}
            '\n' if !keep_lines => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A reference as a Markdown link when it is a plain http(s) URL, else escaped text.
pub fn md_link(s: &str) -> String {
    let is_url = (s.starts_with("https://") || s.starts_with("http://"))
        && !s.contains(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '<' | '>' | '"'));
    if is_url {
        format!("[{}]({s})", md_inline(s))
    } else {
        md_inline(s)
    }
}

/// A code fence longer than any run of backticks in `text`.
pub fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}
