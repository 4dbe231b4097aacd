//! Small readers shared by the command readers: arguments, quotes, environment variables,
//! paths and URLs.

/// The test host's environment, as `%NAME%` (cmd) and `$env:NAME` (PowerShell) expand.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("temp", r"C:\Users\atomic\AppData\Local\Temp"),
    ("tmp", r"C:\Users\atomic\AppData\Local\Temp"),
    ("userprofile", r"C:\Users\atomic"),
    ("homepath", r"\Users\atomic"),
    ("homedrive", "C:"),
    ("appdata", r"C:\Users\atomic\AppData\Roaming"),
    ("localappdata", r"C:\Users\atomic\AppData\Local"),
    ("public", r"C:\Users\Public"),
    ("allusersprofile", r"C:\ProgramData"),
    ("programdata", r"C:\ProgramData"),
    ("programfiles", r"C:\Program Files"),
    ("programfiles(x86)", r"C:\Program Files (x86)"),
    ("systemroot", r"C:\Windows"),
    ("windir", r"C:\Windows"),
    ("systemdrive", "C:"),
    ("comspec", r"C:\Windows\System32\cmd.exe"),
    ("computername", "ATOMIC-HOST"),
    ("username", "atomic"),
    ("userdomain", "ATOMIC"),
];

/// Where the atomics folder is on the test host (Invoke-AtomicTest's default).
pub const ATOMICS_FOLDER: &str = r"C:\AtomicRedTeam\atomics";

fn env(name: &str) -> Option<&'static str> {
    ENVIRONMENT
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// Expands `%NAME%` and `$env:NAME` (also `${env:NAME}`) of known variables; others stay.
pub fn expand_env(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let pct = rest.find('%');
        let dollar = find_ignore_case(rest, "$env:");
        let brace = find_ignore_case(rest, "${env:");
        let next = [pct, dollar, brace].into_iter().flatten().min();
        let Some(at) = next else { break };
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if Some(at) == brace {
            if let Some(end) = tail.find('}')
                && let Some(v) = env(&tail[6..end])
            {
                out.push_str(v);
                rest = &tail[end + 1..];
                continue;
            }
            out.push('$');
            rest = &tail[1..];
        } else if Some(at) == dollar {
            let name_len = tail[5..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len() - 5);
            if let Some(v) = env(&tail[5..5 + name_len]) {
                out.push_str(v);
                rest = &tail[5 + name_len..];
            } else {
                out.push('$');
                rest = &tail[1..];
            }
        } else if let Some((end, v)) = tail[1..]
            .find('%')
            .and_then(|end| Some((end, env(&tail[1..=end])?)))
        {
            out.push_str(v);
            rest = &tail[end + 2..];
        } else {
            out.push('%');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The byte offset of `needle` in `hay`, ignoring ASCII case.
pub fn find_ignore_case(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() || n.len() > h.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// Command-line arguments as Windows splits them, roughly: spaces separate, double
/// quotes group and are removed.
pub fn split_args(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            ' ' | '\t' | '\n' | '\r' if !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            _ => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Words of a PowerShell or cmd command: whitespace separates; single and double quotes
/// group (and are removed); parentheses, braces and brackets keep their content together.
pub fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    let mut any = false;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                if depth > 0 {
                    cur.push(c);
                }
            }
            Some(_) => cur.push(c),
            None => match c {
                '"' | '\'' => {
                    quote = Some(c);
                    any = true;
                    if depth > 0 {
                        cur.push(c);
                    }
                }
                '(' | '{' | '[' => {
                    depth += 1;
                    cur.push(c);
                }
                ')' | '}' | ']' => {
                    depth = depth.saturating_sub(1);
                    cur.push(c);
                }
                ' ' | '\t' | '\n' | '\r' if depth == 0 => {
                    if any || !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                        any = false;
                    }
                }
                _ => cur.push(c),
            },
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Strips one pair of surrounding quotes (single or double).
pub fn unquote(s: &str) -> &str {
    let t = s.trim();
    for q in ['"', '\''] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return &t[1..t.len() - 1];
        }
    }
    t
}

/// The file name of a path.
pub fn file_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// A Windows path as Sysmon writes it: forward slashes turned, `.\` and `..\` resolved,
/// environment variables and the atomics folder expanded, a relative path under the
/// current directory.
pub fn full_path(path: &str, current_dir: &str) -> String {
    let expanded = expand_env(unquote(path)).replace('/', "\\");
    let absolute = if expanded.len() >= 2 && expanded.as_bytes()[1] == b':' {
        expanded
    } else if expanded.starts_with("\\\\") {
        return expanded;
    } else if let Some(rest) = expanded.strip_prefix('\\') {
        format!(r"C:\{rest}")
    } else if let Some(rest) = expanded.strip_prefix('~') {
        format!(r"C:\Users\atomic{rest}")
    } else {
        format!("{}\\{expanded}", current_dir.trim_end_matches('\\'))
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in absolute.split('\\') {
        match p {
            "." | "" if !parts.is_empty() => {}
            ".." => {
                if parts.len() > 1 {
                    parts.pop();
                }
            }
            _ => parts.push(p),
        }
    }
    parts.join("\\")
}

/// The URLs in a text (`http://`, `https://`, `ftp://`), up to a quote, space or bracket.
pub fn urls(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = s.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = ["http://", "https://", "ftp://"]
        .iter()
        .filter_map(|p| lower[from..].find(p))
        .min()
    {
        let start = from + pos;
        let end = s[start..]
            .find(|c: char| {
                c.is_whitespace()
                    || matches!(c, '"' | '\'' | ')' | '`' | ';' | '<' | '>' | '|' | ',')
            })
            .map_or(s.len(), |e| start + e);
        out.push(s[start..end].to_string());
        from = end;
    }
    out
}

/// A URL's host and port.
pub fn host_port(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => {
            (h, p.parse().ok()?)
        }
        _ => (
            authority,
            match scheme.to_ascii_lowercase().as_str() {
                "http" => 80,
                "ftp" => 21,
                _ => 443,
            },
        ),
    };
    let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
    (!host.is_empty() && !host.contains(['$', '#', '{'])).then_some((host, port))
}

/// Whether a host is an IPv4 address.
pub fn is_ipv4(host: &str) -> bool {
    host.split('.').count() == 4 && host.split('.').all(|p| p.parse::<u8>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_variables_expand_in_both_spellings() {
        assert_eq!(
            expand_env(r"%TEMP%\a.exe and $env:APPDATA\b and ${env:windir} %nope% 50%"),
            r"C:\Users\atomic\AppData\Local\Temp\a.exe and C:\Users\atomic\AppData\Roaming\b and C:\Windows %nope% 50%"
        );
    }

    #[test]
    fn paths_resolve() {
        assert_eq!(
            full_path(
                r#""C:\AtomicRedTeam\atomics\..\ExternalPayloads\x.exe""#,
                "C:\\"
            ),
            r"C:\AtomicRedTeam\ExternalPayloads\x.exe"
        );
        assert_eq!(full_path(r".\x.txt", r"C:\Work\"), r"C:\Work\x.txt");
        assert_eq!(
            full_path("$env:TEMP/a.txt", "C:\\"),
            r"C:\Users\atomic\AppData\Local\Temp\a.txt"
        );
    }

    #[test]
    fn words_and_urls() {
        assert_eq!(
            words(r#"Set-ItemProperty -Path 'HKCU:\A B' -Value (Get-X "y z")"#),
            [
                "Set-ItemProperty",
                "-Path",
                r"HKCU:\A B",
                "-Value",
                r#"(Get-X "y z")"#
            ]
        );
        assert_eq!(
            urls("iex(iwr 'https://raw.githubusercontent.com/a/b.ps1')"),
            ["https://raw.githubusercontent.com/a/b.ps1"]
        );
        assert_eq!(
            host_port("http://10.0.0.1:8080/x"),
            Some(("10.0.0.1".into(), 8080))
        );
        assert_eq!(
            host_port("https://Example.com/x"),
            Some(("example.com".into(), 443))
        );
        assert!(is_ipv4("10.0.0.1") && !is_ipv4("a.b.c.d"));
        assert_eq!(split_args(r#"a "b c" "" d"#), ["a", "b c", "", "d"]);
    }
}
