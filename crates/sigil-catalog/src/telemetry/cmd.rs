//! The `cmd.exe` reader: a command text split into simple commands at `&`, `&&`, `||` and
//! `|` (outside double quotes, `^` escaping), redirections read off each (`> file` and
//! `>> file` write the file), built-ins run inside cmd (`copy` writes its destination),
//! and every other command starts its program under cmd, `cmd /c` and `start` nesting.

use super::effects;
use super::sim::{Pid, Sim, resolve_program};
use super::text::{self, expand_env, split_args, unquote};

/// `cmd.exe` built-ins: these start no process.
const BUILTINS: &[&str] = &[
    "assoc", "break", "cd", "chdir", "cls", "color", "copy", "date", "del", "dir", "echo",
    "endlocal", "erase", "exit", "for", "ftype", "goto", "if", "md", "mkdir", "mklink", "move",
    "path", "pause", "popd", "prompt", "pushd", "rd", "rem", "ren", "rename", "rmdir", "set",
    "setlocal", "shift", "time", "title", "type", "ver", "verify", "vol", "timeout",
];

/// One simple command and the operator that follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simple {
    /// The command text, redirections removed, trimmed.
    pub text: String,
    /// Files written by `>` / `>>`.
    pub writes: Vec<String>,
}

/// Splits a cmd command text into simple commands.
pub fn split(text: &str) -> Vec<Simple> {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '^' if !quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            '&' | '|' if !quoted => {
                // `2>&1` is a redirection, not an operator.
                if c == '&' && cur.ends_with('>') {
                    cur.push(c);
                    continue;
                }
                if chars.peek() == Some(&c) {
                    chars.next();
                }
                parts.push(std::mem::take(&mut cur));
            }
            '\n' | '\r' if !quoted => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
        .into_iter()
        .map(|p| {
            let trimmed = p.trim().trim_start_matches('(').trim_end_matches(')');
            redirections(trimmed)
        })
        .filter(|s| !s.text.is_empty())
        .collect()
}

/// Reads `>`, `>>`, `1>`, `2>` and `<` off a simple command.
fn redirections(text: &str) -> Simple {
    let mut out = String::new();
    let mut writes = Vec::new();
    let mut quoted = false;
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == '"' {
            quoted = !quoted;
        }
        if !quoted && (c == '>' || c == '<') {
            let input = c == '<';
            // A stream number before `>` belongs to the redirection.
            if !input && out.ends_with(['1', '2']) && out[..out.len() - 1].ends_with(' ') {
                out.pop();
            }
            i += 1;
            while i < bytes.len() && bytes[i] == '>' {
                i += 1;
            }
            while i < bytes.len() && bytes[i] == ' ' {
                i += 1;
            }
            let mut target = String::new();
            let mut q = false;
            while i < bytes.len() && (q || bytes[i] != ' ') {
                if bytes[i] == '"' {
                    q = !q;
                }
                target.push(bytes[i]);
                i += 1;
            }
            let t = unquote(&target).to_ascii_lowercase();
            if !input && !t.is_empty() && !t.starts_with('&') && t != "nul" && t != "con" {
                writes.push(unquote(&target).to_string());
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    Simple {
        text: out.trim().trim_start_matches('@').trim().to_string(),
        writes,
    }
}

/// Runs a cmd command text in the cmd process `pid`.
pub fn run(sim: &mut Sim, pid: Pid, text: &str) {
    if sim.depth > 8 {
        return;
    }
    sim.depth += 1;
    for simple in split(text) {
        run_simple(sim, pid, &simple);
    }
    sim.depth -= 1;
}

fn run_simple(sim: &mut Sim, pid: Pid, simple: &Simple) {
    let cause = simple.text.clone();
    for w in &simple.writes {
        sim.file(pid, w, &format!("{cause} (redirected to a file by cmd)"));
    }
    let text = expand_env(&simple.text);
    let mut rest = text.trim();
    let first = first_word(rest).to_ascii_lowercase();
    // `echo.`, `echo(`, `set/p`: a built-in run together with what follows.
    let first = match first.find(['.', '/', '(', ':', ';', ',', '=']) {
        Some(i) if i > 0 && BUILTINS.contains(&&first[..i]) => first[..i].to_string(),
        _ => first,
    };
    if first.starts_with("::") || first == "rem" {
        return;
    }
    match first.as_str() {
        "start" => {
            rest = after_word(rest);
            // Options, and a first quoted argument, which is the window title.
            loop {
                let w = first_word(rest);
                let lw = w.to_ascii_lowercase();
                if lw.starts_with('/') {
                    rest = after_word(rest);
                    if lw == "/d" {
                        rest = after_word(rest);
                    }
                } else if rest.starts_with('"')
                    && rest[1..].contains('"')
                    && {
                        // `start "title" prog`: the quoted word is a title when another word follows.
                        let after = after_word(rest);
                        !after.is_empty()
                    }
                    && !unquote(w).contains(['\\', '.'])
                {
                    rest = after_word(rest);
                } else {
                    break;
                }
            }
            if !rest.is_empty() {
                start_program(sim, pid, rest, &cause);
            }
        }
        "call" => {
            let r = after_word(rest);
            if !r.starts_with(':') && !r.is_empty() {
                start_program(sim, pid, r, &cause);
            }
        }
        "copy" | "move" => {
            let words: Vec<String> = split_args(rest)
                .into_iter()
                .skip(1)
                .filter(|w| !w.starts_with('/'))
                .collect();
            if let [from, to, ..] = words.as_slice() {
                sim.copy(pid, from, to, &format!("{cause} (cmd copies the file)"));
            }
        }
        w if BUILTINS.contains(&w) => {}
        _ => {
            start_program(sim, pid, rest, &cause);
        }
    }
}

/// Starts the program a command line names, under `parent`, then what it does. A
/// document or script is opened by the program Windows associates with it (`.vbs` by
/// wscript.exe, `.msc` by mmc.exe, `.bat` by cmd.exe, ...); a URL, a name that cannot be
/// a program and a document no rule would see opened start nothing.
pub fn start_program(sim: &mut Sim, parent: Pid, line: &str, cause: &str) -> Option<Pid> {
    let token = first_word(line);
    let bare = unquote(token);
    if bare.is_empty()
        || bare.starts_with(['-', '/', '$', '{', '(', '[', '%', ')', ';'])
        || bare.contains("://")
        || bare.contains([';', '(', ')', '=', '*', '?', '<', '>', '|', ','])
        || bare.to_ascii_lowercase().starts_with("shell:")
    {
        return None;
    }
    let path = resolve_program(token);
    let ext = text::file_name(&path)
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let host = |program: &str, prefix: &str| Some((resolve_program(program), prefix.to_string()));
    let (image, line) = match ext.as_str() {
        "exe" | "com" | "scr" | "pif" => (path.clone(), line.to_string()),
        other => {
            let opener = match other {
                "bat" | "cmd" => host("cmd.exe", "C:\\Windows\\system32\\cmd.exe /c"),
                "vbs" | "vbe" | "js" | "jse" | "wsf" | "wsh" => {
                    host("wscript.exe", "\"C:\\Windows\\System32\\WScript.exe\"")
                }
                "msc" => host("mmc.exe", "\"C:\\Windows\\system32\\mmc.exe\""),
                "hta" => host("mshta.exe", "\"C:\\Windows\\SysWOW64\\mshta.exe\""),
                "msi" => host("msiexec.exe", "\"C:\\Windows\\System32\\msiexec.exe\" /i"),
                "cpl" => host(
                    "rundll32.exe",
                    "\"C:\\Windows\\system32\\rundll32.exe\" Shell32.dll,Control_RunDLL",
                ),
                "txt" | "log" => host("notepad.exe", "\"C:\\Windows\\system32\\NOTEPAD.EXE\""),
                _ => None,
            };
            let (image, prefix) = opener?;
            let rest = after_word(line);
            let line = format!("{prefix} \"{path}\" {rest}").trim_end().to_string();
            (image, line)
        }
    };
    let child = sim.start(parent, &image, &line, cause);
    effects::program(sim, child, &image, &line);
    Some(child)
}

/// The first word of a command (a quoted word whole).
pub fn first_word(s: &str) -> &str {
    let s = s.trim_start();
    if let Some(inner) = s.strip_prefix('"') {
        return match inner.find('"') {
            Some(end) => &s[..end + 2],
            None => s,
        };
    }
    s.split([' ', '\t']).next().unwrap_or("")
}

/// The text after the first word.
pub fn after_word(s: &str) -> &str {
    let s = s.trim_start();
    s[first_word(s).len()..].trim_start()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        split(s).into_iter().map(|x| x.text).collect()
    }

    #[test]
    fn every_chaining_operator_separates_commands() {
        assert_eq!(texts("a & b && c || d | e"), ["a", "b", "c", "d", "e"]);
        assert_eq!(texts(r#"echo "a & b" & c"#), [r#"echo "a & b""#, "c"]);
        assert_eq!(texts("echo a ^& b"), ["echo a & b"]);
        assert_eq!(texts("(whoami & hostname)"), ["whoami", "hostname"]);
    }

    #[test]
    fn redirections_write_files() {
        let s = split(r#"whoami /all > "%TEMP%\out.txt" 2>&1"#);
        assert_eq!(s[0].text, "whoami /all");
        assert_eq!(s[0].writes, [r"%TEMP%\out.txt"]);
        let s = split("dir >> log.txt 2>nul");
        assert_eq!(s[0].writes, ["log.txt"]);
    }

    #[test]
    fn words() {
        assert_eq!(first_word(r#""C:\a b\x.exe" y"#), r#""C:\a b\x.exe""#);
        assert_eq!(after_word("start /b calc"), "/b calc");
    }
}
