//! The telemetry an atomic test would produce on a Windows host, without a lab.
//!
//! Invoke-AtomicTest runs a test's command with its executor: `command_prompt` as
//! `cmd.exe /c <lines joined with " & ">`, `powershell` as `powershell.exe & {<command>}`.
//! The simulation follows the command from there, as the programs themselves would:
//!
//! - the command readers ([`cmd`], [`powershell`]) split a command into the commands it
//!   chains (`&`, `&&`, `||`, `|`, `;`, new lines), follow nested `cmd /c` and `powershell
//!   -Command` / `-EncodedCommand` (decoded), and start each external program under the
//!   process that runs it;
//! - PowerShell hosts log each script block they compile (4104) and each command
//!   invocation (4103, module logging, with its parameters);
//! - [`effects`] reads what commands do: registry writes (`reg add`, `Set-ItemProperty`),
//!   files (`>`, `copy`, `Out-File`, `-OutFile`, `certutil -urlcache`), web requests
//!   (connection and DNS query from the process that makes them), services (7045, 4697),
//!   accounts (4720), and the programs commands are known to start (WMI process creation
//!   under WmiPrvSE.exe, `Add-Type` → csc.exe → cvtres.exe, COM servers, scheduled tasks,
//!   `net` → `net1`);
//! - every event is made from its event model ([`model`], one YAML file per event kind,
//!   fields named as Sysmon and Windows name them, plus their ECS names for Elastic
//!   rules), and remembers the part of the command that caused it.
//!
//! Nothing is downloaded or run: a test that fetches a payload gets the effects of the
//! fetch (connection, file), not the payload's content. The result is deterministic.

mod cmd;
mod effects;
pub mod model;
mod powershell;
mod sim;
mod text;

use std::borrow::Cow;

use sigil_logs::{Event, FieldValue};

use crate::model::{AtomicEntry, SimulatedEvent};

pub use powershell::decode as decode_encoded_command;

/// The simulated host's name.
pub const HOST: &str = "ATOMIC-HOST";

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

impl SimValue {
    /// The value as text.
    pub fn text(&self) -> String {
        match self {
            SimValue::Str(s) => s.clone(),
            SimValue::Int(i) => i.to_string(),
            SimValue::List(l) => serde_json::to_string(l).unwrap_or_default(),
        }
    }
}

/// One simulated event, readable by the engine through [`Event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimEvent {
    /// The event kind: its model's name (`process_creation`, `registry_set`, ...).
    pub kind: &'static str,
    /// Field names and values: the model's Windows names first, then ECS names.
    pub fields: Vec<(&'static str, SimValue)>,
    /// How many of [`SimEvent::fields`] are the Windows-named ones (shown to people).
    pub shown: usize,
    /// The part of the test's command that caused the event.
    pub cause: String,
}

impl SimEvent {
    /// The event as the catalog shows it: the Windows-named fields.
    pub fn to_simulated(&self) -> SimulatedEvent {
        SimulatedEvent {
            kind: self.kind.to_string(),
            fields: self.fields[..self.shown]
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.text()))
                .collect(),
            cause: self.cause.clone(),
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
    // Invoke-AtomicTest puts the atomics folder in place of `PathToAtomicsFolder`.
    let command = test
        .command
        .replace("$PathToAtomicsFolder", text::ATOMICS_FOLDER)
        .replace("PathToAtomicsFolder", text::ATOMICS_FOLDER);
    let mut host = sim::Sim::new(test.elevation_required);
    if test.executor == "powershell" {
        let script = command.trim();
        let image = sim::resolve_program("powershell.exe");
        let line = format!("powershell.exe & {{{}}}", script.replace('"', "\\\"\""));
        let shell = host.start(sim::EXPLORER, &image, &line, "the powershell executor");
        powershell::run_script(&mut host, shell, script, "the test's command");
    } else {
        let lines: Vec<&str> = command
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !is_cmd_comment(l))
            .collect();
        let joined = lines.join(" & ");
        let line = format!("cmd.exe /c {joined}");
        let shell = host.start(
            sim::EXPLORER,
            r"C:\Windows\System32\cmd.exe",
            &line,
            "the command_prompt executor",
        );
        cmd::run(&mut host, shell, &joined);
    }
    let mut out = host.events;
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

fn is_cmd_comment(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    line.starts_with("::") || lower == "rem" || lower.starts_with("rem ")
}

#[cfg(test)]
mod tests;
