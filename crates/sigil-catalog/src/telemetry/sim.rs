//! The simulated host: the processes a test starts and the events they cause, each made
//! from its event model (`models/*.yml`) with the slots the command readers give.

use std::collections::{HashMap, HashSet};

use super::SimEvent;
use super::model::{Access, Slots, model, programs};
use super::text::{file_name, full_path, host_port, is_ipv4, split_args, urls};

/// A process of the simulation, by index.
pub type Pid = usize;

/// The current directory of every process (Invoke-AtomicTest runs from the atomics folder's
/// parent).
pub const CURRENT_DIR: &str = r"C:\AtomicRedTeam\";
/// The test user, as Sysmon writes it.
pub const USER: &str = r"ATOMIC\atomic";
/// The user's registry hive under HKU.
pub const USER_SID: &str = "S-1-5-21-1004336348-1177238915-682003330-1001";

/// Folders other than System32 where programs named without a path are found.
const KNOWN_LOCATIONS: &[(&str, &str)] = &[
    (
        "powershell.exe",
        r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
    ),
    (
        "powershell_ise.exe",
        r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell_ise.exe",
    ),
    ("pwsh.exe", r"C:\Program Files\PowerShell\7\pwsh.exe"),
    ("wmic.exe", r"C:\Windows\System32\wbem\WMIC.exe"),
    ("explorer.exe", r"C:\Windows\explorer.exe"),
    ("regedit.exe", r"C:\Windows\regedit.exe"),
    ("hh.exe", r"C:\Windows\hh.exe"),
    (
        "csc.exe",
        r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\csc.exe",
    ),
    (
        "msbuild.exe",
        r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\MSBuild.exe",
    ),
    (
        "installutil.exe",
        r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\InstallUtil.exe",
    ),
    (
        "regasm.exe",
        r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\RegAsm.exe",
    ),
    (
        "regsvcs.exe",
        r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\RegSvcs.exe",
    ),
    (
        "winword.exe",
        r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
    ),
    (
        "excel.exe",
        r"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE",
    ),
    ("python.exe", r"C:\Program Files\Python311\python.exe"),
];

/// The PE names that differ from the file name.
const ORIGINAL_NAMES: &[(&str, &str)] = &[("pwsh.exe", "pwsh.dll")];

/// A process.
#[derive(Debug, Clone)]
pub struct Proc {
    /// Full path.
    pub image: String,
    /// Command line.
    pub command_line: String,
    /// Whether it runs elevated although the test's session does not (an auto-elevating
    /// program, or a process one started).
    pub elevated: bool,
}

/// The host being simulated.
#[derive(Debug)]
pub struct Sim {
    /// The events, in order.
    pub events: Vec<SimEvent>,
    procs: Vec<Proc>,
    integrity: &'static str,
    /// Files copied from a program: lower-case path to the original program's name.
    renamed: HashMap<String, String>,
    /// Services created by the test: lower-case name to binary path.
    pub services: HashMap<String, String>,
    /// Scheduled tasks created by the test: lower-case name to command.
    pub tasks: HashMap<String, String>,
    /// The script being run (module logging depends on what it defines).
    pub script: String,
    /// How deep readers are nested (`cmd /c powershell -c cmd /c ...`), to stop runaways.
    pub depth: usize,
    /// Modules imported, as (host, module name).
    pub imported: HashSet<(Pid, String)>,
    /// WMI classes the test derived from Win32_Process (lower case): their `Create` starts
    /// a process as Win32_Process's does.
    pub process_classes: HashSet<String>,
    wmi_host: Option<Pid>,
    dcom_host: Option<Pid>,
    service_host: Option<Pid>,
    schedule_host: Option<Pid>,
    /// Services' programs already running, by lower-case image.
    service_programs: HashMap<String, Pid>,
}

/// `explorer.exe`, the root of every test's processes.
pub const EXPLORER: Pid = 0;

impl Sim {
    /// An empty host; `elevated` tests run at High integrity.
    pub fn new(elevated: bool) -> Self {
        Self {
            events: Vec::new(),
            procs: vec![Proc {
                image: r"C:\Windows\explorer.exe".into(),
                command_line: r"C:\Windows\Explorer.EXE".into(),
                elevated: false,
            }],
            integrity: if elevated { "High" } else { "Medium" },
            renamed: HashMap::new(),
            services: HashMap::new(),
            tasks: HashMap::new(),
            script: String::new(),
            depth: 0,
            imported: HashSet::new(),
            process_classes: HashSet::new(),
            wmi_host: None,
            dcom_host: None,
            service_host: None,
            schedule_host: None,
            service_programs: HashMap::new(),
        }
    }

    fn base_slots(&self, pid: Pid) -> Slots {
        let p = &self.procs[pid];
        let mut s = Slots::new();
        s.insert("image", p.image.clone());
        s.insert("image_name", file_name(&p.image).to_string());
        s.insert("user", USER.into());
        s.insert("user_name", "atomic".into());
        s.insert("computer", super::HOST.into());
        s
    }

    fn emit(&mut self, kind: &str, slots: &Slots, cause: &str) {
        let mut ev = model(kind).event(slots);
        ev.cause = cause.to_string();
        self.events.push(ev);
    }

    /// A process that runs without being started by the test (services, hosts).
    fn background(&mut self, image: &str, command_line: &str) -> Pid {
        self.procs.push(Proc {
            image: image.into(),
            command_line: command_line.into(),
            elevated: false,
        });
        self.procs.len() - 1
    }

    /// `WmiPrvSE.exe`, the parent of processes WMI creates.
    pub fn wmi_host(&mut self) -> Pid {
        if let Some(p) = self.wmi_host {
            return p;
        }
        let p = self.background(
            r"C:\Windows\System32\wbem\WmiPrvSE.exe",
            r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding",
        );
        self.wmi_host = Some(p);
        p
    }

    /// `svchost.exe -k DcomLaunch`, the parent of COM servers.
    pub fn dcom_host(&mut self) -> Pid {
        if let Some(p) = self.dcom_host {
            return p;
        }
        let p = self.background(
            r"C:\Windows\System32\svchost.exe",
            r"C:\Windows\system32\svchost.exe -k DcomLaunch -p",
        );
        self.dcom_host = Some(p);
        p
    }

    /// `services.exe`, the parent of service binaries.
    pub fn service_host(&mut self) -> Pid {
        if let Some(p) = self.service_host {
            return p;
        }
        let p = self.background(
            r"C:\Windows\System32\services.exe",
            r"C:\Windows\system32\services.exe",
        );
        self.service_host = Some(p);
        p
    }

    /// A service's own program (`image`, a full path), running before the test.
    pub fn service_program(&mut self, image: &str) -> Pid {
        if let Some(&p) = self.service_programs.get(&image.to_ascii_lowercase()) {
            return p;
        }
        let p = self.background(image, &format!("\"{image}\""));
        self.service_programs.insert(image.to_ascii_lowercase(), p);
        p
    }

    /// The Task Scheduler service, the parent of scheduled tasks' programs.
    pub fn schedule_host(&mut self) -> Pid {
        if let Some(p) = self.schedule_host {
            return p;
        }
        let p = self.background(
            r"C:\Windows\System32\svchost.exe",
            r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
        );
        self.schedule_host = Some(p);
        p
    }

    /// Starts `image` (a full path) with `command_line` under `parent`: its process
    /// creation, the modules it is known to load, the processes it is known to start and the
    /// URL it fetches (`programs.yml`). Returns the new process.
    pub fn start(&mut self, parent: Pid, image: &str, command_line: &str, cause: &str) -> Pid {
        let name = file_name(image).to_ascii_lowercase();
        let original = self
            .renamed
            .get(&image.to_ascii_lowercase())
            .cloned()
            .or_else(|| {
                ORIGINAL_NAMES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, o)| (*o).to_string())
            })
            .unwrap_or_else(|| file_name(image).to_string());
        let elevated = self.procs[parent].elevated
            || programs().programs.get(&name).is_some_and(|p| p.elevates);
        self.procs.push(Proc {
            image: image.into(),
            command_line: command_line.into(),
            elevated,
        });
        let pid = self.procs.len() - 1;
        let mut s = self.base_slots(pid);
        let parent_proc = self.procs[parent].clone();
        s.insert("original_name", original);
        s.insert("command_line", command_line.into());
        s.insert("current_directory", CURRENT_DIR.into());
        s.insert("logon_id", "0x4f1a2".into());
        s.insert(
            "integrity",
            if elevated { "High" } else { self.integrity }.into(),
        );
        s.insert("parent_image", parent_proc.image.clone());
        s.insert("parent_name", file_name(&parent_proc.image).to_string());
        s.insert("parent_command_line", parent_proc.command_line);
        self.emit("process_creation", &s, cause);

        let known = programs().programs.get(&name);
        if let Some(p) = known {
            let lower = command_line.to_ascii_lowercase();
            let mut loads: Vec<String> = p.loads.clone();
            for (needle, l) in &p.loads_if {
                if lower.contains(needle.as_str()) {
                    loads.extend(l.iter().cloned());
                }
            }
            for l in loads {
                self.image_load(pid, &l, cause);
            }
            let args = args_after_program(command_line);
            for (child, line) in &p.starts {
                let line = line.replace("{args}", args);
                self.start(pid, child, &line, cause);
            }
            if p.network {
                for u in urls(command_line) {
                    self.web(pid, &u, cause);
                }
            }
            for w in &p.writes {
                self.file(pid, w, cause);
            }
            for (needle, a) in &p.opens_if {
                if lower.contains(needle.as_str()) {
                    self.process_access(pid, a, cause);
                }
            }
            if let Some(ext) = &p.writes_argument {
                for arg in split_args(args_after_program(command_line)) {
                    if arg.to_ascii_lowercase().ends_with(ext.as_str()) {
                        self.file(pid, &arg, cause);
                    }
                }
            }
            for option in &p.writes_option {
                for arg in split_args(args_after_program(command_line)) {
                    let lower = arg.to_ascii_lowercase();
                    if let Some(file) = lower
                        .starts_with(option.as_str())
                        .then(|| super::text::unquote(&arg[option.len()..]))
                        .filter(|f| !f.is_empty())
                    {
                        self.file(pid, file, cause);
                    }
                }
            }
        }
        let shell = matches!(name.as_str(), "cmd.exe" | "powershell.exe" | "pwsh.exe");
        if !shell
            && args_after_program(command_line)
                .to_ascii_lowercase()
                .contains("accepteula")
        {
            let tool = name.trim_end_matches(".exe").to_string();
            let key = format!(r"HKCU\Software\Sysinternals\{tool}");
            self.registry_set(pid, &key, Some("EulaAccepted"), "DWORD (0x00000001)", cause);
        }
        pid
    }

    /// `pid` opens another process (`programs.yml` `opens_if`).
    pub fn process_access(&mut self, pid: Pid, access: &Access, cause: &str) {
        let mut s = self.base_slots(pid);
        s.insert("target", access.target.clone());
        s.insert("access", access.access.clone());
        s.insert("call_trace", access.call_trace.clone());
        self.emit("process_access", &s, cause);
    }

    /// A module load.
    pub fn image_load(&mut self, pid: Pid, path: &str, cause: &str) {
        let mut s = self.base_slots(pid);
        s.insert("loaded", path.into());
        s.insert("loaded_name", file_name(path).to_string());
        self.emit("image_load", &s, cause);
    }

    /// A file written by `pid` at `path` (resolved against the current directory).
    pub fn file(&mut self, pid: Pid, path: &str, cause: &str) {
        let target = full_path(path, CURRENT_DIR);
        if target.is_empty() || target.contains(['$', '*', '?']) {
            return;
        }
        let mut s = self.base_slots(pid);
        let name = file_name(&target).to_string();
        if let Some((_, ext)) = name.rsplit_once('.') {
            s.insert("target_extension", ext.to_string());
        }
        s.insert("target_name", name);
        s.insert("target", target);
        self.emit("file_event", &s, cause);
    }

    /// A file copied: its creation, and when the source is a program, the copy keeps the
    /// program's original name (so renamed-binary rules see it).
    pub fn copy(&mut self, pid: Pid, from: &str, to: &str, cause: &str) {
        let src = full_path(from, CURRENT_DIR);
        let mut dst = full_path(to, CURRENT_DIR);
        let src_name = file_name(&src).to_string();
        if to.ends_with(['\\', '/']) || !file_name(&dst).contains('.') && src_name.contains('.') {
            dst = format!("{}\\{src_name}", dst.trim_end_matches('\\'));
        }
        if super::powershell::has_extension(&src_name, &["exe", "dll"]) {
            let original = self
                .renamed
                .get(&src.to_ascii_lowercase())
                .cloned()
                .unwrap_or(src_name);
            self.renamed.insert(dst.to_ascii_lowercase(), original);
        }
        self.file(pid, &dst, cause);
    }

    /// A registry key created.
    pub fn registry_add(&mut self, pid: Pid, key: &str, cause: &str) {
        let Some(target) = registry_path(key) else {
            return;
        };
        let mut s = self.base_slots(pid);
        s.insert("target", target);
        self.emit("registry_add", &s, cause);
    }

    /// A registry value set (`value` `None`: the key's default value).
    pub fn registry_set(
        &mut self,
        pid: Pid,
        key: &str,
        value: Option<&str>,
        details: &str,
        cause: &str,
    ) {
        let Some(target) = registry_path(key) else {
            return;
        };
        let mut s = self.base_slots(pid);
        s.insert(
            "target",
            format!("{target}\\{}", value.unwrap_or("(Default)")),
        );
        s.insert("details", details.to_string());
        self.emit("registry_set", &s, cause);
    }

    /// A registry key (`value` `None`) or value deleted.
    pub fn registry_delete(&mut self, pid: Pid, key: &str, value: Option<&str>, cause: &str) {
        let Some(target) = registry_path(key) else {
            return;
        };
        let mut s = self.base_slots(pid);
        if let Some(v) = value {
            s.insert("target", format!("{target}\\{v}"));
            s.insert("event_type", "DeleteValue".into());
        } else {
            s.insert("target", target);
            s.insert("event_type", "DeleteKey".into());
        }
        self.emit("registry_delete", &s, cause);
    }

    /// A web request by `pid`: the DNS query for a host name, then the connection.
    pub fn web(&mut self, pid: Pid, url: &str, cause: &str) {
        let Some((host, port)) = host_port(url) else {
            return;
        };
        let mut s = self.base_slots(pid);
        let ip = if is_ipv4(&host) {
            host.clone()
        } else if host == "localhost" {
            "127.0.0.1".into()
        } else {
            "203.0.113.10".into()
        };
        s.insert("ip", ip);
        s.insert("port", port.to_string());
        if !is_ipv4(&host) {
            s.insert("host", host);
            self.emit("dns_query", &s, cause);
        }
        self.emit("network_connection", &s, cause);
    }

    /// A service installed: System 7045, Security 4697, and the service's registry key
    /// written by services.exe.
    pub fn service(&mut self, pid: Pid, name: &str, binary: &str, auto: bool, cause: &str) {
        let mut s = self.base_slots(pid);
        s.insert("service", name.into());
        s.insert("service_image", binary.into());
        s.insert(
            "start_type",
            if auto { "auto start" } else { "demand start" }.into(),
        );
        s.insert("start_type_code", if auto { "2" } else { "3" }.into());
        self.emit("service_install", &s, cause);
        self.emit("security_service_install", &s, cause);
        let services = self.service_host();
        let key = format!(r"HKLM\System\CurrentControlSet\Services\{name}");
        self.registry_set(services, &key, Some("ImagePath"), binary, cause);
        self.services
            .insert(name.to_ascii_lowercase(), binary.to_string());
    }

    /// A local user account created.
    pub fn user_created(&mut self, pid: Pid, account: &str, cause: &str) {
        let mut s = self.base_slots(pid);
        s.insert("account", account.into());
        self.emit("user_created", &s, cause);
    }

    /// A script block compiled by the PowerShell host `pid`.
    pub fn script_block(&mut self, pid: Pid, text: &str, cause: &str) {
        if text.trim().is_empty() {
            return;
        }
        let mut s = self.base_slots(pid);
        s.insert("text", text.to_string());
        s.insert("script_path", String::new());
        self.emit("ps_script", &s, cause);
    }

    /// A command invocation logged by module logging in the PowerShell host `pid`.
    pub fn module_event(&mut self, pid: Pid, command: &str, payload: &str, cause: &str) {
        let mut s = self.base_slots(pid);
        let host = self.procs[pid].command_line.clone();
        s.insert("command", command.into());
        s.insert("payload", payload.into());
        s.insert(
            "context",
            format!(
                "        Severity = Informational\r\n        Host Name = ConsoleHost\r\n        Host Version = 5.1.19041.1\r\n        Host Application = {host}\r\n        Engine Version = 5.1.19041.1\r\n        Command Name = {command}\r\n        Command Type = Cmdlet\r\n        Script Name = \r\n        User = {USER}\r\n        Shell ID = Microsoft.PowerShell\r\n"
            ),
        );
        self.emit("ps_module", &s, cause);
    }
}

/// The full path of a program named in a command: a path as given (resolved), a bare name
/// in its known location or System32, `.exe` added when the name has no extension.
pub fn resolve_program(token: &str) -> String {
    let t = super::text::unquote(token);
    let mut name = t.to_string();
    let has_ext = file_name(&name).contains('.');
    if !has_ext {
        name.push_str(".exe");
    }
    if name.contains(['\\', '/'])
        || name.contains('%')
        || name.to_ascii_lowercase().contains("$env:")
    {
        return full_path(&name, CURRENT_DIR);
    }
    let lower = name.to_ascii_lowercase();
    KNOWN_LOCATIONS
        .iter()
        .find(|(n, _)| *n == lower)
        .map_or_else(
            || format!(r"C:\Windows\System32\{name}"),
            |(_, p)| (*p).to_string(),
        )
}

/// A command line after its program (quoted or not).
pub fn args_after_program(line: &str) -> &str {
    let t = line.trim_start();
    if let Some(rest) = t.strip_prefix('"') {
        return rest.split_once('"').map_or("", |(_, r)| r).trim_start();
    }
    t.split_once([' ', '\t'])
        .map_or("", |(_, r)| r)
        .trim_start()
}

/// A registry path in Sysmon's spelling (`HKLM\...`, `HKU\<SID>\...` for the current user,
/// `HKCR\...`), or `None` for text that is not a registry path.
pub fn registry_path(key: &str) -> Option<String> {
    let k = super::text::unquote(key).replace('/', "\\");
    let k = k.trim_end_matches('\\');
    let k = k
        .strip_prefix("Registry::")
        .or_else(|| k.strip_prefix("registry::"))
        .unwrap_or(k);
    let (root, rest) = k.split_once('\\').unwrap_or((k, ""));
    let root = root.trim_end_matches(':').to_ascii_uppercase();
    let mapped = match root.as_str() {
        "HKLM" | "HKEY_LOCAL_MACHINE" => "HKLM".to_string(),
        "HKCU" | "HKEY_CURRENT_USER" => format!(r"HKU\{USER_SID}"),
        "HKCR" | "HKEY_CLASSES_ROOT" => "HKCR".to_string(),
        "HKU" | "HKEY_USERS" => "HKU".to_string(),
        "HKCC" | "HKEY_CURRENT_CONFIG" => {
            r"HKLM\System\CurrentControlSet\Hardware Profiles\Current".to_string()
        }
        _ => return None,
    };
    Some(if rest.is_empty() {
        mapped
    } else {
        format!("{mapped}\\{rest}")
    })
}

/// Registry data as Sysmon renders it: `DWORD (0x0000000n)` for numbers of a DWORD value,
/// `QWORD (...)` likewise, `Binary Data` for binary, the text otherwise.
pub fn registry_details(kind: &str, data: &str) -> String {
    let kind = kind.to_ascii_uppercase().replace("REG_", "");
    let number = || {
        let d = data.trim();
        d.strip_prefix("0x")
            .or_else(|| d.strip_prefix("0X"))
            .map_or_else(
                || d.parse::<u64>().ok(),
                |h| u64::from_str_radix(h, 16).ok(),
            )
    };
    match kind.as_str() {
        "DWORD" => format!("DWORD (0x{:08x})", number().unwrap_or(0) as u32),
        "QWORD" => {
            let n = number().unwrap_or(0);
            format!("QWORD (0x{:08x}-0x{:08x})", n >> 32, n & 0xffff_ffff)
        }
        "BINARY" => "Binary Data".to_string(),
        _ => data.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_resolve() {
        assert_eq!(resolve_program("reg"), r"C:\Windows\System32\reg.exe");
        assert_eq!(
            resolve_program("PowerShell.exe"),
            r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
        );
        assert_eq!(
            resolve_program(r#""%TEMP%\x.exe""#),
            r"C:\Users\atomic\AppData\Local\Temp\x.exe"
        );
        assert_eq!(args_after_program(r#""C:\a b\x.exe" -y z"#), "-y z");
    }

    #[test]
    fn registry_spelling() {
        assert_eq!(
            registry_path(r"HKCU:\Software\X").as_deref(),
            Some(format!(r"HKU\{USER_SID}\Software\X").as_str())
        );
        assert_eq!(
            registry_path(r"HKEY_LOCAL_MACHINE\SOFTWARE\Y\").as_deref(),
            Some(r"HKLM\SOFTWARE\Y")
        );
        assert_eq!(registry_path(r"C:\x"), None);
        assert_eq!(registry_details("REG_DWORD", "1"), "DWORD (0x00000001)");
        assert_eq!(registry_details("REG_SZ", "a b"), "a b");
    }

    #[test]
    fn a_copied_program_keeps_its_original_name() {
        let mut sim = Sim::new(false);
        sim.copy(
            EXPLORER,
            r"C:\Windows\System32\cmd.exe",
            r"%TEMP%\x.exe",
            "copy",
        );
        sim.start(
            EXPLORER,
            r"C:\Users\atomic\AppData\Local\Temp\x.exe",
            "x.exe",
            "run",
        );
        let ev = &sim.events[1];
        assert!(ev.fields.contains(&(
            "OriginalFileName",
            super::super::SimValue::Str("cmd.exe".into())
        )));
    }
}
