//! The PowerShell readers: a `powershell.exe` command line (`-EncodedCommand` decoded,
//! `-Command`, `-File`, the rest taken as a command), and a script: its script block (4104),
//! its statements split at newlines, `;`, `|`, `&&` and `||` (outside quotes, brackets and
//! comments), each command invocation logged by module logging (4103, aliases resolved),
//! external programs started under the host, and what cmdlets do (`effects`).

use std::fmt::Write as _;

use base64::Engine as _;

use super::cmd;
use super::effects;
use super::model;
use super::sim::{Pid, Sim, resolve_program};
use super::text::{expand_env, find_ignore_case, unquote, words};

/// Aliases of PowerShell 5.1 and the commands they stand for.
const ALIASES: &[(&str, &str)] = &[
    ("iwr", "Invoke-WebRequest"),
    ("wget", "Invoke-WebRequest"),
    ("curl", "Invoke-WebRequest"),
    ("irm", "Invoke-RestMethod"),
    ("iex", "Invoke-Expression"),
    ("icm", "Invoke-Command"),
    ("gwmi", "Get-WmiObject"),
    ("iwmi", "Invoke-WmiMethod"),
    ("gcim", "Get-CimInstance"),
    ("icim", "Invoke-CimMethod"),
    ("sal", "Set-Alias"),
    ("saps", "Start-Process"),
    ("start", "Start-Process"),
    ("gci", "Get-ChildItem"),
    ("ls", "Get-ChildItem"),
    ("dir", "Get-ChildItem"),
    ("gc", "Get-Content"),
    ("cat", "Get-Content"),
    ("type", "Get-Content"),
    ("echo", "Write-Output"),
    ("write", "Write-Output"),
    ("cp", "Copy-Item"),
    ("copy", "Copy-Item"),
    ("cpi", "Copy-Item"),
    ("mv", "Move-Item"),
    ("move", "Move-Item"),
    ("mi", "Move-Item"),
    ("rm", "Remove-Item"),
    ("del", "Remove-Item"),
    ("ri", "Remove-Item"),
    ("rmdir", "Remove-Item"),
    ("erase", "Remove-Item"),
    ("rd", "Remove-Item"),
    ("ni", "New-Item"),
    ("md", "New-Item"),
    ("mkdir", "New-Item"),
    ("sp", "Set-ItemProperty"),
    ("gp", "Get-ItemProperty"),
    ("rp", "Remove-ItemProperty"),
    ("sc", "Set-Content"),
    ("ac", "Add-Content"),
    ("gps", "Get-Process"),
    ("ps", "Get-Process"),
    ("kill", "Stop-Process"),
    ("spps", "Stop-Process"),
    ("gsv", "Get-Service"),
    ("sasv", "Start-Service"),
    ("spsv", "Stop-Service"),
    ("select", "Select-Object"),
    ("where", "Where-Object"),
    ("?", "Where-Object"),
    ("%", "ForEach-Object"),
    ("foreach", "ForEach-Object"),
    ("cd", "Set-Location"),
    ("sl", "Set-Location"),
    ("ipmo", "Import-Module"),
    ("sleep", "Start-Sleep"),
    ("clc", "Clear-Content"),
    ("gi", "Get-Item"),
    ("si", "Set-Item"),
    ("nal", "New-Alias"),
    ("gal", "Get-Alias"),
    ("ogv", "Out-GridView"),
    ("ft", "Format-Table"),
    ("fl", "Format-List"),
    ("measure", "Measure-Object"),
    ("sort", "Sort-Object"),
];

/// Language keywords: a statement starting with one runs no command itself; its blocks
/// hold statements.
const KEYWORDS: &[&str] = &[
    "if", "elseif", "else", "foreach", "for", "while", "do", "until", "switch", "try", "catch",
    "finally", "function", "filter", "param", "return", "throw", "begin", "process", "end", "trap",
    "break", "continue", "exit", "class", "enum", "using", "workflow", "parallel", "sequence",
    "data",
];

/// Nouns of the cmdlets of Windows PowerShell's own modules that tests use. Module logging
/// records module commands, not the functions a script defines or downloads: where a
/// script brings functions of its own (`function`, a downloaded script run by
/// `Invoke-Expression`, a dot-sourced file), only commands with these nouns are logged.
const MODULE_NOUNS: &[&str] = &[
    "acl",
    "adcomputer",
    "addomain",
    "adgroup",
    "adgroupmember",
    "adobject",
    "aduser",
    "alias",
    "archive",
    "bitstransfer",
    "childitem",
    "ciminstance",
    "cimmethod",
    "clipboard",
    "command",
    "computerinfo",
    "content",
    "credential",
    "date",
    "dnsclientcache",
    "eventlog",
    "executionpolicy",
    "expression",
    "filehash",
    "host",
    "hotfix",
    "item",
    "itemproperty",
    "job",
    "localgroup",
    "localgroupmember",
    "localuser",
    "location",
    "member",
    "module",
    "mppreference",
    "netadapter",
    "netfirewallrule",
    "netipaddress",
    "netipconfiguration",
    "nettcpconnection",
    "object",
    "output",
    "path",
    "process",
    "psdrive",
    "psreadlineoption",
    "restmethod",
    "scheduledtask",
    "scheduledtaskaction",
    "scheduledtasktrigger",
    "securestring",
    "service",
    "sleep",
    "smbmapping",
    "smbshare",
    "string",
    "type",
    "variable",
    "webrequest",
    "winevent",
    "wmimethod",
    "wmiobject",
    "file",
    "csv",
    "clixml",
    "list",
    "table",
    "json",
    "acl",
    "volume",
    "disk",
    "partition",
    "timezone",
    "culture",
    "printer",
    "psreadlinehistory",
    "history",
    "pssession",
    "wsmaninstance",
    "netneighbor",
    "netroute",
    "netconnectionprofile",
    "computer",
    "itempropertyvalue",
];

/// Whether module logging records an invocation of `name` in a script of `text`.
fn module_logged(name: &str, text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let name_lower = name.to_ascii_lowercase();
    if defines_function(&lower, &name_lower) {
        return false;
    }
    if !brings_functions(&lower) {
        return true;
    }
    let noun = name_lower.split_once('-').map_or("", |(_, n)| n);
    MODULE_NOUNS.contains(&noun)
}

/// Whether a script (lower case) defines the function `name` (lower case).
fn defines_function(lower: &str, name: &str) -> bool {
    lower.contains(&format!("function {name}")) || lower.contains(&format!("filter {name}"))
}

/// Whether a script (lower case) brings functions of its own: defines some, or loads code
/// at run time (a downloaded script run with `iex`, dot-sourcing, a script module).
fn brings_functions(lower: &str) -> bool {
    lower.contains("function ")
        || (lower.contains("iex") || lower.contains("invoke-expression"))
            && (lower.contains("download")
                || lower.contains("iwr")
                || lower.contains("invoke-webrequest")
                || lower.contains("irm "))
        || lower.contains(". .\\")
        || lower.contains(". \"")
        || lower.contains(". $")
        || lower.contains("import-module") && lower.contains(".ps1")
}

/// Whether a bare `name` (no path, no extension) that a script of `text` runs is one of the
/// script's functions rather than a program: PowerShell looks for a function first, so it
/// is one when the script defines it, or when the script brings functions of its own and
/// no program of that name is installed (`programs.yml`).
fn is_function(name: &str, text: &str) -> bool {
    if name.contains(['\\', '/', ':', '.']) {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    if defines_function(&lower, &name) {
        return true;
    }
    let known = model::programs();
    let installed = ["exe", "com", "cmd"].iter().any(|ext| {
        let file = format!("{name}.{ext}");
        known.installed.contains(&file) || known.programs.contains_key(&file)
    });
    brings_functions(&lower) && !installed
}

/// The script a PowerShell command line runs, and how it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostScript {
    /// `-EncodedCommand`, decoded.
    Encoded(String),
    /// `-Command` or the trailing text.
    Command(String),
    /// `-File`: a script file (its text is not known).
    File(String),
    /// Nothing to run (an interactive shell).
    None,
}

/// Reads a `powershell.exe` / `pwsh.exe` command line (program included).
pub fn host_script(command_line: &str) -> HostScript {
    let mut rest = cmd::after_word(command_line);
    loop {
        let word = cmd::first_word(rest);
        if word.is_empty() {
            return HostScript::None;
        }
        let flag = word
            .strip_prefix('-')
            .or_else(|| word.strip_prefix('/'))
            .map(str::to_ascii_lowercase);
        let Some(flag) = flag.filter(|f| !f.is_empty()) else {
            return HostScript::Command(unquote(rest).to_string());
        };
        let after = cmd::after_word(rest);
        let value = || unquote(cmd::first_word(after)).to_string();
        let prefix_of = |full: &str, min: usize| flag.len() >= min && full.starts_with(&flag);
        if flag == "e" || flag == "ec" || prefix_of("encodedcommand", 2) && flag.starts_with("en") {
            return decode(&value()).map_or(HostScript::None, HostScript::Encoded);
        }
        if prefix_of("command", 1) {
            return HostScript::Command(unquote(after).to_string());
        }
        if prefix_of("file", 1) {
            return HostScript::File(value());
        }
        let takes_value = flag == "ep"
            || flag == "ea"
            || prefix_of("executionpolicy", 2) && flag.starts_with("ex")
            || prefix_of("windowstyle", 1)
            || prefix_of("version", 1)
            || prefix_of("inputformat", 2)
            || prefix_of("outputformat", 1)
            || prefix_of("configurationname", 4)
            || prefix_of("encodedarguments", 8)
            || prefix_of("psconsolefile", 2)
            || flag == "settingsfile"
            || flag == "workingdirectory"
            || flag == "wd";
        rest = if takes_value {
            cmd::after_word(after)
        } else {
            after
        };
    }
}

/// Base64 of UTF-16LE text, as `-EncodedCommand` takes it.
pub fn decode(b64: &str) -> Option<String> {
    let clean: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(clean.as_bytes())
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(clean.trim_end_matches('='))
        })
        .ok()?;
    if bytes.len() < 2 {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).ok()?;
    text.chars()
        .all(|c| !c.is_control() || c.is_whitespace())
        .then_some(text)
}

/// Runs what a PowerShell host started with `command_line` runs, in that host `pid`.
pub fn run_host(sim: &mut Sim, pid: Pid, command_line: &str) {
    match host_script(command_line) {
        HostScript::Encoded(text) => run_script(sim, pid, &text, "the decoded -EncodedCommand"),
        HostScript::Command(text) => run_script(sim, pid, &text, "the -Command text"),
        HostScript::File(_) | HostScript::None => {}
    }
}

/// Runs a script in the PowerShell host `pid`: its script block, then its statements.
pub fn run_script(sim: &mut Sim, pid: Pid, text: &str, what: &str) {
    if sim.depth > 8 {
        return;
    }
    sim.depth += 1;
    sim.script_block(pid, text, what);
    let outer = std::mem::replace(&mut sim.script, text.to_string());
    run_statements(sim, pid, text);
    sim.script = outer;
    sim.depth -= 1;
}

/// Runs statements (no script block of their own: they belong to an enclosing one).
pub fn run_statements(sim: &mut Sim, pid: Pid, text: &str) {
    for st in statements(text) {
        run_statement(sim, pid, &st);
    }
}

/// Splits a script into statements and pipeline elements.
pub fn statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut here: Option<char> = None;
    let mut depth = 0usize;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let push = |cur: &mut String, out: &mut Vec<String>| {
        let t = cur.trim();
        if !t.is_empty() {
            out.push(t.to_string());
        }
        cur.clear();
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if let Some(h) = here {
            cur.push(c);
            if c == h && next == Some('@') && (i == 0 || chars[i - 1] == '\n') {
                cur.push('@');
                i += 2;
                here = None;
                continue;
            }
            i += 1;
            continue;
        }
        if let Some(q) = quote {
            cur.push(c);
            if c == '`' {
                if let Some(n) = next {
                    cur.push(n);
                }
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            '@' if matches!(next, Some('\'' | '"'))
                && chars.get(i + 2).is_some_and(|c| *c == '\n' || *c == '\r') =>
            {
                here = next;
                cur.push(c);
                cur.push(next.unwrap_or('"'));
                i += 2;
                continue;
            }
            '\'' | '"' => quote = Some(c),
            '`' => {
                // A line continuation or an escaped character.
                if matches!(next, Some('\n' | '\r')) {
                    cur.push(' ');
                    i += 1;
                    while matches!(chars.get(i), Some('\n' | '\r')) {
                        i += 1;
                    }
                    continue;
                }
                cur.push(c);
                if let Some(n) = next {
                    cur.push(n);
                }
                i += 2;
                continue;
            }
            '#' if depth == 0 || cur.trim().is_empty() || cur.ends_with([' ', '\t', '\n']) => {
                if next == Some('>') {
                    // not a comment start
                } else {
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                    continue;
                }
            }
            '<' if next == Some('#') => {
                let rest: String = chars[i..].iter().collect();
                let end = rest
                    .find("#>")
                    .map_or(chars.len(), |e| i + rest[..e].chars().count() + 2);
                i = end;
                continue;
            }
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' => depth = depth.saturating_sub(1),
            '\n' | '\r' | ';' if depth == 0 => {
                push(&mut cur, &mut out);
                i += 1;
                continue;
            }
            '|' if depth == 0 => {
                if next == Some('|') {
                    i += 1;
                }
                push(&mut cur, &mut out);
                i += 1;
                continue;
            }
            '&' if depth == 0 && next == Some('&') => {
                push(&mut cur, &mut out);
                i += 2;
                continue;
            }
            _ => {}
        }
        cur.push(c);
        i += 1;
    }
    push(&mut cur, &mut out);
    out
}

/// The contents of the top-level `{...}` blocks of a statement.
fn blocks(statement: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut start = 0;
    let mut hashtable = false;
    let mut prev = ' ';
    for (i, c) in statement.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            prev = c;
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '{' => {
                if depth == 0 {
                    start = i + 1;
                    // `@{...}` is a hashtable, `${...}` a variable: not statements.
                    hashtable = matches!(prev, '@' | '$');
                }
                depth += 1;
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 && !hashtable {
                    out.push(statement[start..i].to_string());
                }
            }
            _ => {}
        }
        prev = c;
    }
    out
}

/// What a statement's command is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A cmdlet or function (aliases resolved), with its words after the name.
    Cmdlet(String, Vec<String>),
    /// An external program: the name as written and the text after it.
    Program(String, String),
    /// A keyword, an expression or an assignment of one: no command.
    None,
}

/// Reads the command of a statement.
pub fn command_of(statement: &str) -> Command {
    let mut s = statement.trim();
    // `$x = <command>` and `$x += ...`.
    if s.starts_with('$')
        && let Some(eq) = s.find('=')
        && s[..eq]
            .trim_end_matches(['+', '-', '*', '/'])
            .trim()
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '$' | '_' | ':' | '.' | '{' | '}'))
        && !s[eq + 1..].starts_with('=')
    {
        s = s[eq + 1..].trim_start();
    }
    let mut call = false;
    if let Some(r) = s.strip_prefix('&').or_else(|| s.strip_prefix(". ")) {
        s = r.trim_start();
        call = true;
    }
    // `iex(...)`: the name ends at a parenthesis.
    let paren_split;
    if let Some(p) = s.find('(')
        && p > 0
        && !s[..p].contains([' ', '\t', '"', '\''])
        && !s.starts_with(['$', '['])
    {
        paren_split = format!("{} {}", &s[..p], &s[p..]);
        s = &paren_split;
    }
    let name_word = cmd::first_word(s);
    if !call && name_word.starts_with(['\'', '"']) {
        // A string: an expression, not a command.
        return Command::None;
    }
    let name = unquote(name_word);
    if name.is_empty()
        || name.starts_with([
            '$', '(', '[', '@', '{', '-', '!', '+', '0', '1', '2', '3', '4', '5', '6', '7', '8',
            '9', '\'', '"',
        ]) && !call
    {
        return Command::None;
    }
    if name.starts_with(['$', '(', '{']) {
        return Command::None;
    }
    let lower = name.to_ascii_lowercase();
    if KEYWORDS.contains(&lower.as_str()) && !call {
        return Command::None;
    }
    let rest = cmd::after_word(s);
    if let Some((_, full)) = ALIASES.iter().find(|(a, _)| *a == lower) {
        return Command::Cmdlet((*full).to_string(), words(rest));
    }
    let is_path = name.contains(['\\', '/', ':']) || has_extension(&lower, &["exe", "com"]);
    if !is_path && is_cmdlet_name(name) {
        return Command::Cmdlet(name.to_string(), words(rest));
    }
    if has_extension(&lower, &["ps1", "bat", "cmd"]) {
        // A script: its own text is not known here.
        return Command::None;
    }
    if name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
        || is_path
    {
        return Command::Program(name.to_string(), rest.to_string());
    }
    Command::None
}

/// Whether a file name has one of these extensions (compared ignoring case).
pub fn has_extension(name: &str, exts: &[&str]) -> bool {
    std::path::Path::new(name)
        .extension()
        .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// `Verb-Noun`.
fn is_cmdlet_name(name: &str) -> bool {
    let Some((verb, noun)) = name.split_once('-') else {
        return false;
    };
    !verb.is_empty()
        && !noun.is_empty()
        && verb.chars().all(|c| c.is_ascii_alphabetic())
        && noun
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Runs one statement in the PowerShell host `pid`.
fn run_statement(sim: &mut Sim, pid: Pid, statement: &str) {
    effects::inline(sim, pid, statement);
    // A session on this computer runs the statement's script block in its own host.
    let mut remote = None;
    match command_of(statement) {
        Command::Cmdlet(name, args) => {
            if module_logged(&name, &sim.script) {
                let payload = payload(&name, &args);
                sim.module_event(pid, &name, &payload, statement);
            }
            effects::cmdlet(sim, pid, &name, &args, statement);
            remote = effects::remoting(sim, pid, &name, &args, statement);
        }
        Command::Program(name, _) if is_function(&name, &sim.script) => {}
        Command::Program(name, rest) => {
            let image = resolve_program(&name);
            let line = native_command_line(&image, &rest);
            let child = sim.start(pid, &image, &line, statement);
            effects::program(sim, child, &image, &line);
        }
        Command::None => {}
    }
    for b in blocks(statement) {
        if sim.depth > 8 {
            break;
        }
        if let Some(server) = remote {
            run_script(sim, server, &b, "the script block run over WinRM");
        } else {
            sim.depth += 1;
            run_statements(sim, pid, &b);
            sim.depth -= 1;
        }
    }
}

/// The command line PowerShell gives a native program: its full path quoted, then the
/// arguments with variables of the environment expanded and quotes as Windows expects.
pub fn native_command_line(image: &str, rest: &str) -> String {
    let mut line = format!("\"{image}\"");
    for w in words(&expand_env(rest)) {
        line.push(' ');
        if w.contains([' ', '\t']) && !w.starts_with(['(', '{', '[']) {
            line.push('"');
            line.push_str(&w);
            line.push('"');
        } else {
            line.push_str(&w);
        }
    }
    line
}

/// Module logging's payload: the invocation and one line per bound parameter.
fn payload(name: &str, args: &[String]) -> String {
    let mut out = format!("CommandInvocation({name}): \"{name}\"");
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if let Some(p) = a
            .strip_prefix('-')
            .filter(|p| p.chars().next().is_some_and(char::is_alphabetic))
        {
            let (pname, inline) = match p.split_once(':') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (p, None),
            };
            let value = inline.or_else(|| {
                args.get(i + 1)
                    .filter(|v| !v.starts_with('-'))
                    .inspect(|_| i += 1)
                    .cloned()
            });
            let _ = write!(
                out,
                "\r\nParameterBinding({name}): name=\"{pname}\"; value=\"{}\"",
                value.unwrap_or_else(|| "True".into())
            );
        } else {
            let _ = write!(
                out,
                "\r\nParameterBinding({name}): name=\"\"; value=\"{a}\""
            );
        }
        i += 1;
    }
    out
}

/// The value of a parameter (`-Name value`, `-Name:value`, a unique prefix of the name
/// allowed), or the `position`-th positional argument.
pub fn param(args: &[String], names: &[&str], position: Option<usize>) -> Option<String> {
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if let Some(p) = a
            .strip_prefix('-')
            .filter(|p| p.chars().next().is_some_and(char::is_alphabetic))
        {
            let (pname, inline) = match p.split_once(':') {
                Some((n, v)) => (n.to_ascii_lowercase(), Some(v.to_string())),
                None => (p.to_ascii_lowercase(), None),
            };
            let matches = names.iter().any(|n| {
                let n = n.to_ascii_lowercase();
                n == pname || (pname.len() >= 3 && n.starts_with(&pname))
            });
            let takes = inline.is_none()
                && args
                    .get(i + 1)
                    .is_some_and(|v| !v.starts_with('-') || v.len() == 1);
            if matches {
                return inline.or_else(|| args.get(i + 1).filter(|_| takes).cloned());
            }
            if takes && !is_switch(&pname) {
                i += 1;
            }
        } else {
            positional.push(a.clone());
        }
        i += 1;
    }
    position.and_then(|p| positional.get(p).cloned())
}

/// Common switch parameters (take no value).
fn is_switch(p: &str) -> bool {
    matches!(
        p,
        "force"
            | "recurse"
            | "usebasicparsing"
            | "wait"
            | "passthru"
            | "nonewwindow"
            | "verbose"
            | "confirm"
            | "whatif"
            | "raw"
            | "append"
            | "noprofile"
            | "asjob"
            | "hidden"
    )
}

/// Whether a text mentions `needle`, ignoring case.
pub fn mentions(text: &str, needle: &str) -> bool {
    find_ignore_case(text, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_commands_decode() {
        let line = "powershell -exec bypass -e SQBuAHYAbwBrAGUALQBXAG0AaQBNAGUAdABoAG8AZAAgAC0AUABhAHQAaAAgAHcAaQBuADMAMgBfAHAAcgBvAGMAZQBzAHMAIAAtAE4AYQBtAGUAIABjAHIAZQBhAHQAZQAgAC0AQQByAGcAdQBtAGUAbgB0AEwAaQBzAHQAIABuAG8AdABlAHAAYQBkAC4AZQB4AGUA";
        assert_eq!(
            host_script(line),
            HostScript::Encoded(
                "Invoke-WmiMethod -Path win32_process -Name create -ArgumentList notepad.exe"
                    .into()
            )
        );
        assert_eq!(
            host_script(r#"powershell.exe -nop -w hidden -c "Get-Process; whoami""#),
            HostScript::Command("Get-Process; whoami".into())
        );
        assert_eq!(
            host_script(r"powershell -ExecutionPolicy Bypass -File C:\x.ps1"),
            HostScript::File(r"C:\x.ps1".into())
        );
        assert_eq!(
            host_script("powershell Get-Date"),
            HostScript::Command("Get-Date".into())
        );
        assert_eq!(decode("not base64!"), None);
    }

    #[test]
    fn statements_split_outside_quotes_and_blocks() {
        assert_eq!(
            statements(
                "$a = 'x; y'\nGet-Process | Stop-Process; if ($a) { whoami; hostname }\n# note\n<# block #>whoami"
            ),
            [
                "$a = 'x; y'",
                "Get-Process",
                "Stop-Process",
                "if ($a) { whoami; hostname }",
                "whoami"
            ]
        );
        assert_eq!(
            blocks("if ($a) { whoami; hostname }"),
            [" whoami; hostname "]
        );
    }

    #[test]
    fn commands_are_cmdlets_programs_or_nothing() {
        assert_eq!(
            command_of("iwr http://x -OutFile y"),
            Command::Cmdlet(
                "Invoke-WebRequest".into(),
                vec!["http://x".into(), "-OutFile".into(), "y".into()]
            )
        );
        assert_eq!(
            command_of(r#"& "C:\a b\x.exe" /q"#),
            Command::Program(r"C:\a b\x.exe".into(), "/q".into())
        );
        assert_eq!(
            command_of("$p = whoami /all"),
            Command::Program("whoami".into(), "/all".into())
        );
        assert_eq!(command_of("[IO.File]::Exists('x')"), Command::None);
        assert_eq!(command_of("if ($x) { y }"), Command::None);
    }

    #[test]
    fn parameters() {
        let args: Vec<String> = words(r"-Path 'HKCU:\X' -Name Y -Value 1 -Force");
        assert_eq!(
            param(&args, &["Path"], Some(0)).as_deref(),
            Some(r"HKCU:\X")
        );
        assert_eq!(param(&args, &["Value"], None).as_deref(), Some("1"));
        let args: Vec<String> = words("notepad.exe -ArgumentList x");
        assert_eq!(
            param(&args, &["FilePath"], Some(0)).as_deref(),
            Some("notepad.exe")
        );
        assert!(
            payload("Get-LocalGroup", &words("-Name Administrators"))
                .contains(r#"name="Name"; value="Administrators""#)
        );
    }
}
