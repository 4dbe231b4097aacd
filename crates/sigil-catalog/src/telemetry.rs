//! The telemetry an atomic test would produce on a Windows host, without a lab.
//!
//! Invoke-AtomicTest runs a test from PowerShell: it starts the executor's shell with the
//! test's command, and the shell starts the programs the command names. For each non-empty
//! line of the command (with `#{args}` already replaced by their defaults) this module
//! builds:
//!
//! - a **process-creation** event for the executor: `cmd.exe /c <line>` or
//!   `powershell.exe -Command <line>`, its parent `explorer.exe` (as if a person ran it,
//!   so rules about odd shell parents judge the test and not the test harness);
//! - when the line starts with an external program (`wmic …`, `reg.exe …`,
//!   `"C:\x\y.exe" …`), a process-creation event for that program with the line as its
//!   command line and the shell as its parent;
//!
//! and, for `powershell` executors, one **script-block** event (4104) holding the whole
//! command. Events carry Sysmon EventID 1 field names (so the `sysmon` pipeline's rules
//! apply) and, for Elastic rules, the ECS names of the same values (`process.name`,
//! `process.args`, `powershell.file.script_block_text`, ...).

use std::borrow::Cow;

use sigil_logs::{Event, FieldValue};

use crate::model::{AtomicEntry, SimulatedEvent};

const SYSMON_CHANNEL: &str = "Microsoft-Windows-Sysmon/Operational";
const POWERSHELL_CHANNEL: &str = "Microsoft-Windows-PowerShell/Operational";
const SYSTEM32: &str = r"C:\Windows\System32\";
const POWERSHELL: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
const CMD: &str = r"C:\Windows\System32\cmd.exe";
const HOST: &str = "ATOMIC-HOST";
const EXPLORER: &str = r"C:\Windows\explorer.exe";

/// `cmd.exe` built-ins: lines starting with these start no process.
const CMD_BUILTINS: &[&str] = &[
    "assoc", "break", "call", "cd", "chdir", "cls", "color", "copy", "date", "del", "dir", "echo",
    "endlocal", "erase", "exit", "for", "ftype", "goto", "if", "md", "mkdir", "mklink", "move",
    "path", "pause", "popd", "prompt", "pushd", "rd", "rem", "ren", "rename", "rmdir", "set",
    "setlocal", "shift", "time", "title", "type", "ver", "verify", "vol",
];

/// PowerShell keywords and the aliases of built-in cmdlets: lines starting with these
/// run inside the PowerShell process.
const POWERSHELL_BUILTINS: &[&str] = &[
    "begin", "break", "cat", "catch", "cd", "clear", "cls", "continue", "copy", "cp", "del", "dir",
    "do", "echo", "else", "elseif", "end", "exit", "filter", "finally", "for", "foreach",
    "function", "gc", "gci", "gcm", "gi", "gl", "gp", "gps", "gsv", "gwmi", "if", "iex", "iwr",
    "kill", "ls", "md", "mkdir", "mount", "move", "mv", "param", "popd", "process", "ps", "pushd",
    "pwd", "return", "ri", "rm", "rmdir", "sal", "select", "set", "sleep", "sls", "start",
    "switch", "throw", "trap", "try", "type", "until", "where", "while", "write",
];

/// A value of a simulated event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimValue {
    /// Text.
    Str(String),
    /// A number (event ids).
    Int(i64),
    /// A list (ECS `process.args`): a rule matches when any element does.
    List(Vec<String>),
}

/// One simulated event, readable by the engine through [`Event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimEvent {
    /// `process_creation` or `ps_script`.
    pub kind: &'static str,
    /// Field names and values, Sysmon names first then ECS names.
    pub fields: Vec<(&'static str, SimValue)>,
    /// How many of [`SimEvent::fields`] are the Sysmon-named ones (shown to people).
    pub shown: usize,
}

impl SimEvent {
    /// The event as the catalog shows it: the Sysmon-named fields.
    pub fn to_simulated(&self) -> SimulatedEvent {
        SimulatedEvent {
            kind: self.kind.to_string(),
            fields: self.fields[..self.shown]
                .iter()
                .map(|(k, v)| {
                    let text = match v {
                        SimValue::Str(s) => s.clone(),
                        SimValue::Int(i) => i.to_string(),
                        SimValue::List(l) => serde_json::to_string(l).unwrap_or_default(),
                    };
                    ((*k).to_string(), text)
                })
                .collect(),
        }
    }
}

impl Event for SimEvent {
    fn get(&self, field: &str) -> Option<FieldValue<'_>> {
        let (_, v) = self
            .fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(field))?;
        Some(match v {
            SimValue::Str(s) => FieldValue::Str(Cow::Borrowed(s)),
            SimValue::Int(i) => FieldValue::Int(*i),
            SimValue::List(l) => FieldValue::Str(Cow::Borrowed(l.first()?)),
        })
    }

    fn for_each_field(&self, f: &mut dyn FnMut(&str, FieldValue<'_>)) {
        for (k, v) in &self.fields {
            match v {
                SimValue::Str(s) => f(k, FieldValue::Str(Cow::Borrowed(s))),
                SimValue::Int(i) => f(k, FieldValue::Int(*i)),
                SimValue::List(l) => l
                    .iter()
                    .for_each(|s| f(k, FieldValue::Str(Cow::Borrowed(s)))),
            }
        }
    }

    fn for_each_value(&self, field: &str, f: &mut dyn FnMut(FieldValue<'_>)) {
        for (k, v) in &self.fields {
            if !k.eq_ignore_ascii_case(field) {
                continue;
            }
            match v {
                SimValue::Str(s) => f(FieldValue::Str(Cow::Borrowed(s))),
                SimValue::Int(i) => f(FieldValue::Int(*i)),
                SimValue::List(l) => l.iter().for_each(|s| f(FieldValue::Str(Cow::Borrowed(s)))),
            }
        }
    }
}

/// Whether the test is simulated: a Windows test run by `command_prompt` or
/// `powershell` with a command.
pub fn is_simulated(test: &AtomicEntry) -> bool {
    test.platforms
        .iter()
        .any(|p| p.eq_ignore_ascii_case("windows"))
        && matches!(test.executor.as_str(), "command_prompt" | "powershell")
        && !test.command.trim().is_empty()
}

/// The events of one test (empty when it is not simulated).
pub fn events(test: &AtomicEntry) -> Vec<SimEvent> {
    if !is_simulated(test) {
        return Vec::new();
    }
    let powershell = test.executor == "powershell";
    let (shell, shell_name) = if powershell {
        (POWERSHELL, "PowerShell.EXE")
    } else {
        (CMD, "Cmd.Exe")
    };
    // The shell is started the way a person would start it, so that rules about unusual
    // parents of shells judge the test's own processes, not the harness.
    let runner_line = EXPLORER.to_string();
    let mut out = Vec::new();
    for line in test
        .command
        .lines()
        .map(str::trim)
        .filter(|l| !is_comment(l, powershell))
    {
        let shell_line = if powershell {
            format!("\"{POWERSHELL}\" -Command {line}")
        } else {
            format!("\"{CMD}\" /c {line}")
        };
        out.push(process(
            shell,
            shell_name,
            &shell_line,
            EXPLORER,
            &runner_line,
            test.elevation_required,
        ));
        if let Some(image) = program(line, powershell) {
            let name = image.rsplit('\\').next().unwrap_or(&image).to_string();
            out.push(process(
                &image,
                &name,
                line,
                shell,
                &shell_line,
                test.elevation_required,
            ));
        }
    }
    if powershell {
        let text = test.command.trim_end().to_string();
        out.push(script_block(text));
    }
    // One second apart, on one host: correlations and sequences need time and a group.
    for (i, ev) in out.iter_mut().enumerate() {
        let (m, s) = (i / 60 % 60, i % 60);
        let h = i / 3600;
        ev.fields.push((
            "@timestamp",
            SimValue::Str(format!("2026-01-01T{h:02}:{m:02}:{s:02}.000Z")),
        ));
        ev.fields.push(("Computer", SimValue::Str(HOST.into())));
        ev.fields.push(("host.name", SimValue::Str(HOST.into())));
    }
    out
}

fn script_block(text: String) -> SimEvent {
    SimEvent {
        kind: "ps_script",
        shown: 3,
        fields: vec![
            ("Channel", SimValue::Str(POWERSHELL_CHANNEL.into())),
            ("EventID", SimValue::Int(4104)),
            ("ScriptBlockText", SimValue::Str(text.clone())),
            ("winlog.channel", SimValue::Str(POWERSHELL_CHANNEL.into())),
            ("event.code", SimValue::Str("4104".into())),
            ("event.category", SimValue::Str("process".into())),
            ("host.os.type", SimValue::Str("windows".into())),
            ("host.os.family", SimValue::Str("windows".into())),
            ("powershell.file.script_block_text", SimValue::Str(text)),
        ],
    }
}

fn is_comment(line: &str, powershell: bool) -> bool {
    let lower = line.to_ascii_lowercase();
    line.is_empty()
        || (powershell && line.starts_with('#'))
        || (!powershell && (line.starts_with("::") || lower == "rem" || lower.starts_with("rem ")))
}

fn process(
    image: &str,
    original_name: &str,
    command_line: &str,
    parent: &str,
    parent_command_line: &str,
    elevated: bool,
) -> SimEvent {
    let name = image.rsplit('\\').next().unwrap_or(image).to_string();
    let parent_name = parent.rsplit('\\').next().unwrap_or(parent).to_string();
    let s = |v: &str| SimValue::Str(v.to_string());
    SimEvent {
        kind: "process_creation",
        shown: 10,
        fields: vec![
            ("Channel", s(SYSMON_CHANNEL)),
            ("EventID", SimValue::Int(1)),
            ("Image", s(image)),
            ("OriginalFileName", s(original_name)),
            ("CommandLine", s(command_line)),
            ("CurrentDirectory", s(r"C:\AtomicRedTeam\")),
            ("User", s(r"ATOMIC\atomic")),
            (
                "IntegrityLevel",
                s(if elevated { "High" } else { "Medium" }),
            ),
            ("ParentImage", s(parent)),
            ("ParentCommandLine", s(parent_command_line)),
            ("event.category", s("process")),
            ("event.type", s("start")),
            ("event.action", s("start")),
            ("host.os.type", s("windows")),
            ("host.os.family", s("windows")),
            ("process.name", s(&name)),
            ("process.executable", s(image)),
            ("process.command_line", s(command_line)),
            ("process.args", SimValue::List(split_args(command_line))),
            ("process.pe.original_file_name", s(original_name)),
            ("process.parent.name", s(&parent_name)),
            ("process.parent.executable", s(parent)),
            ("process.parent.command_line", s(parent_command_line)),
        ],
    }
}

/// The program a line starts, as a full image path, when it names an external one.
fn program(line: &str, powershell: bool) -> Option<String> {
    let mut rest = line.trim_start_matches(['&', '@', ' ', '.']).trim_start();
    // `start [/b] [""] prog` and `call prog` hand over to the program.
    let lower = rest.to_ascii_lowercase();
    if !powershell && (lower.starts_with("start ") || lower.starts_with("call ")) {
        rest = rest.split_once(' ').map_or("", |(_, r)| r).trim_start();
        while rest.starts_with('/') || rest.starts_with("\"\"") {
            rest = rest.split_once(' ').map_or("", |(_, r)| r).trim_start();
        }
    }
    let token = first_token(rest);
    if token.is_empty() {
        return None;
    }
    let lower = token.to_ascii_lowercase();
    let has_ext = [".exe", ".com"].iter().any(|e| lower.ends_with(e));
    if !has_ext {
        let builtins = if powershell {
            POWERSHELL_BUILTINS
        } else {
            CMD_BUILTINS
        };
        let bare = lower.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        // Cmdlets are Verb-Noun; variables, script blocks and paths to scripts are not
        // programs either.
        if !bare || builtins.contains(&lower.as_str()) || lower.len() < 2 {
            return None;
        }
    }
    let file = if has_ext {
        token.to_string()
    } else {
        format!("{token}.exe")
    };
    Some(if file.contains('\\') || file.contains('/') {
        file.replace('/', "\\")
    } else {
        format!("{SYSTEM32}{file}")
    })
}

/// The first word, or the quoted text when the line starts with a quote.
fn first_token(s: &str) -> &str {
    if let Some(q) = s.strip_prefix('"') {
        return q.split('"').next().unwrap_or("");
    }
    if let Some(q) = s.strip_prefix('\'') {
        return q.split('\'').next().unwrap_or("");
    }
    s.split([' ', '\t', '|', '>', '<', ';', '('])
        .next()
        .unwrap_or("")
}

/// Command-line arguments as Windows splits them, roughly: spaces separate, double
/// quotes group and are removed.
fn split_args(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' | '\t' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(executor: &str, command: &str) -> AtomicEntry {
        AtomicEntry {
            guid: "g".into(),
            name: "n".into(),
            technique: "T1047".into(),
            technique_name: String::new(),
            description: String::new(),
            platforms: vec!["windows".into()],
            executor: executor.into(),
            elevation_required: false,
            command: command.into(),
            cleanup_command: None,
            input_arguments: Vec::new(),
            path: "x".into(),
            events: Vec::new(),
            fired: Vec::new(),
            same_technique: Vec::new(),
        }
    }

    #[test]
    fn cmd_lines_start_the_shell_and_the_program() {
        let ev = events(&test(
            "command_prompt",
            "wmic process call create notepad.exe\necho done\n",
        ));
        // wmic: shell + program; echo: shell only.
        assert_eq!(ev.len(), 3);
        assert_eq!(
            ev[1]
                .get("Image")
                .and_then(|v| v.as_text().map(Cow::into_owned)),
            Some(r"C:\Windows\System32\wmic.exe".into())
        );
        assert_eq!(
            ev[1]
                .get("ParentImage")
                .and_then(|v| v.as_text().map(Cow::into_owned)),
            Some(CMD.into())
        );
        assert_eq!(
            ev[0]
                .get("commandline")
                .and_then(|v| v.as_text().map(Cow::into_owned)),
            Some(format!("\"{CMD}\" /c wmic process call create notepad.exe"))
        );
    }

    #[test]
    fn powershell_gets_a_script_block_and_cmdlets_start_nothing() {
        let ev = events(&test(
            "powershell",
            "Invoke-WmiMethod -Path win32_process\n# note\n",
        ));
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[1].kind, "ps_script");
        assert_eq!(ev[1].get("EventID"), Some(FieldValue::Int(4104)));
        let mut args = Vec::new();
        ev[0].for_each_value("process.args", &mut |v| {
            args.push(v.as_text().map(Cow::into_owned));
        });
        assert_eq!(args.len(), 5);
    }

    #[test]
    fn quoted_and_started_programs() {
        assert_eq!(
            program(r#""C:\Tools\x.exe" -a"#, false).as_deref(),
            Some(r"C:\Tools\x.exe")
        );
        assert_eq!(
            program("start /b calc", false).as_deref(),
            Some(r"C:\Windows\System32\calc.exe")
        );
        assert_eq!(program("$x = 1", true), None);
        assert!(!is_simulated(&test("manual", "x")));
    }
}
