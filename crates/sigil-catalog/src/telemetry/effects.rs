//! What commands do beyond starting a process: the registry, files, web requests, services,
//! accounts, and the programs they are known to start (WMI process creation under
//! WmiPrvSE.exe, `Add-Type` compiling with csc.exe and cvtres.exe, scheduled tasks, COM
//! servers). One reader per program or cmdlet, each small.

use super::cmd;
use super::powershell::{self, mentions, param};
use super::sim::{Pid, Sim, args_after_program, registry_details};
use super::text::{expand_env, file_name, split_args, unquote, urls, words};

/// What a started program does, by its file name.
pub fn program(sim: &mut Sim, pid: Pid, image: &str, line: &str) {
    let name = file_name(image).to_ascii_lowercase();
    let args = args_after_program(line);
    let argv = split_args(args);
    let cause = line;
    registered_commands(sim, pid, &name, cause);
    match name.as_str() {
        "cmd.exe" => {
            // `/c`, `/k` and `/r` take the rest of the line as a command.
            let mut rest = args;
            while let Some(w) = Some(cmd::first_word(rest)).filter(|w| w.starts_with('/')) {
                let lw = w.to_ascii_lowercase();
                rest = cmd::after_word(rest);
                if lw == "/c" || lw == "/k" || lw == "/r" {
                    let inner = rest.trim();
                    let inner = if inner.starts_with('"') && inner.ends_with('"') && inner.len() > 1
                    {
                        &inner[1..inner.len() - 1]
                    } else {
                        inner
                    };
                    cmd::run(sim, pid, inner);
                    break;
                }
            }
        }
        "powershell.exe" | "pwsh.exe" | "powershell_ise.exe" => {
            powershell::run_host(sim, pid, line);
        }
        "reg.exe" => reg(sim, pid, &argv, cause),
        "sc.exe" => sc(sim, pid, &argv, cause),
        "net.exe" | "net1.exe" => {
            let lower: Vec<String> = argv.iter().map(|a| a.to_ascii_lowercase()).collect();
            if lower.first().is_some_and(|a| a == "user")
                && lower.iter().any(|a| a == "/add")
                && let Some(account) = argv.get(1)
            {
                sim.user_created(pid, account, cause);
            }
        }
        "wmic.exe" => {
            let lower = args.to_ascii_lowercase();
            if let Some(at) = lower.find("call create") {
                let what = unquote(args[at + "call create".len()..].trim());
                wmi_create(sim, what, cause);
            }
            if let Some(at) = lower.find("call add") {
                let settings = &super::model::programs().settings;
                for setting in settings.values() {
                    if setting
                        .wmi_class
                        .as_deref()
                        .is_some_and(|c| lower[..at].contains(c))
                    {
                        let given: Vec<(String, String)> = args[at + "call add".len()..]
                            .split_whitespace()
                            .filter_map(|a| a.split_once('='))
                            .map(|(n, v)| (n.to_string(), v.to_string()))
                            .collect();
                        store_settings(sim, setting, &given, cause);
                    }
                }
            }
        }
        "schtasks.exe" => schtasks(sim, &argv, cause),
        "certutil.exe" => {
            let lower: Vec<String> = argv.iter().map(|a| a.to_ascii_lowercase()).collect();
            let plain: Vec<&String> = argv.iter().filter(|a| !a.starts_with(['-', '/'])).collect();
            if lower
                .iter()
                .any(|a| a.ends_with("urlcache") || a.ends_with("verifyctl"))
            {
                if let Some(out) = plain.iter().find(|a| !a.contains("://")) {
                    sim.file(pid, out, cause);
                }
            } else if lower
                .iter()
                .any(|a| a.ends_with("decode") || a.ends_with("decodehex") || a.ends_with("encode"))
                && let Some(out) = plain.get(1)
            {
                sim.file(pid, out, cause);
            }
        }
        "bitsadmin.exe" => {
            let plain: Vec<&String> = argv.iter().filter(|a| !a.starts_with('/')).collect();
            if let Some(pos) = plain.iter().position(|a| a.contains("://"))
                && let Some(out) = plain.get(pos + 1)
            {
                sim.file(pid, out, cause);
            }
        }
        "curl.exe" => {
            if let Some(i) = argv.iter().position(|a| a == "-o" || a == "--output")
                && let Some(out) = argv.get(i + 1)
            {
                sim.file(pid, out, cause);
            }
        }
        "rundll32.exe" => {
            if let Some(dll) = argv.first() {
                let dll = dll.split(',').next().unwrap_or(dll);
                let lower = dll.to_ascii_lowercase();
                let is_path =
                    !lower.contains(':') || lower.len() > 2 && lower.as_bytes()[1] == b':';
                if is_path && !lower.starts_with("javascript") && !lower.starts_with("vbscript") {
                    let path = if dll.contains('\\') {
                        super::text::full_path(dll, super::sim::CURRENT_DIR)
                    } else {
                        format!(r"C:\Windows\System32\{dll}")
                    };
                    sim.image_load(pid, &path, cause);
                }
            }
            script_host_runs(sim, pid, args, cause);
        }
        "mshta.exe" | "cscript.exe" | "wscript.exe" => script_host_runs(sim, pid, args, cause),
        "xcopy.exe" | "robocopy.exe" => {
            let plain: Vec<&String> = argv.iter().filter(|a| !a.starts_with('/')).collect();
            if let [from, to, ..] = plain.as_slice() {
                sim.copy(pid, from, to, cause);
            }
        }
        _ => {}
    }
}

/// Script hosts (`mshta vbscript:...`, `rundll32 javascript:...`) that run a program with
/// `.Run("...")` / `.Exec("...")` / `ShellExecute`.
/// The commands a program runs from registry keys the test wrote (`programs.yml`
/// `runs_registered`): the last default value set at each key, started under the program.
fn registered_commands(sim: &mut Sim, pid: Pid, name: &str, cause: &str) {
    use sigil_logs::Event;
    let Some(known) = super::model::programs().programs.get(name) else {
        return;
    };
    for key in &known.runs_registered {
        let Some(target) = super::sim::registry_path(key) else {
            continue;
        };
        let target = format!("{target}\\(Default)").to_ascii_lowercase();
        let command = sim.events.iter().rev().find_map(|e| {
            let text = |f: &str| {
                e.get(f)
                    .and_then(|v| v.as_text().map(std::borrow::Cow::into_owned))
            };
            (e.kind == "registry_set"
                && text("TargetObject").is_some_and(|t| t.to_ascii_lowercase() == target))
            .then(|| text("Details"))
            .flatten()
        });
        if let Some(command) = command.filter(|c| !c.trim().is_empty()) {
            cmd::start_program(
                sim,
                pid,
                command.trim(),
                &format!("{cause} (runs the command registered at {key})"),
            );
        }
    }
}

fn script_host_runs(sim: &mut Sim, pid: Pid, args: &str, cause: &str) {
    let lower = args.to_ascii_lowercase();
    for marker in [".run(", ".run ", ".exec(", "shellexecute("] {
        if let Some(at) = lower.find(marker) {
            let rest = args[at + marker.len()..].trim_start_matches([' ', '(']);
            if !rest.starts_with('"') {
                return;
            }
            let rest = rest.trim_start_matches('"');
            let end = rest.find('"').unwrap_or(rest.len());
            let inner = rest[..end].replace("\"\"", "\"");
            if !inner.trim().is_empty() {
                cmd::start_program(sim, pid, inner.trim(), cause);
            }
            return;
        }
    }
}

/// `reg add|delete|import|save`.
fn reg(sim: &mut Sim, pid: Pid, argv: &[String], cause: &str) {
    let op = argv
        .first()
        .map(|a| a.to_ascii_lowercase())
        .unwrap_or_default();
    let Some(key) = argv.get(1) else { return };
    let opt = |flag: &str| {
        argv.iter()
            .position(|a| a.eq_ignore_ascii_case(flag))
            .and_then(|i| argv.get(i + 1))
            .cloned()
    };
    let has = |flag: &str| argv.iter().any(|a| a.eq_ignore_ascii_case(flag));
    match op.as_str() {
        "add" => {
            let value = opt("/v");
            if value.is_none() && !has("/ve") {
                sim.registry_add(pid, key, cause);
                return;
            }
            let kind = opt("/t").unwrap_or_else(|| "REG_SZ".into());
            let data = opt("/d").unwrap_or_default();
            sim.registry_set(
                pid,
                key,
                value.as_deref(),
                &registry_details(&kind, &data),
                cause,
            );
        }
        "delete" => {
            let value = opt("/v");
            sim.registry_delete(pid, key, value.as_deref(), cause);
        }
        "save" | "export" => {
            if let Some(out) = argv.get(2) {
                sim.file(pid, out, cause);
            }
        }
        _ => {}
    }
}

/// `sc create|config|start`.
fn sc(sim: &mut Sim, pid: Pid, argv: &[String], cause: &str) {
    let mut argv: Vec<String> = argv.to_vec();
    // `sc \\host create ...` addresses another host: its effects are not here.
    if argv.first().is_some_and(|a| a.starts_with("\\\\")) {
        return;
    }
    let op = argv
        .first()
        .map(|a| a.to_ascii_lowercase())
        .unwrap_or_default();
    if argv.len() < 2 {
        return;
    }
    let name = argv.remove(1);
    // `binPath= X` (the value is the next word) or `binPath=X`.
    let opt = |key: &str| {
        argv.iter().enumerate().find_map(|(i, a)| {
            let lower = a.to_ascii_lowercase();
            let key = format!("{key}=");
            if lower == key {
                argv.get(i + 1).cloned()
            } else {
                lower.strip_prefix(&key).map(|_| a[key.len()..].to_string())
            }
        })
    };
    match op.as_str() {
        "create" => {
            let bin = opt("binpath").unwrap_or_default();
            let auto = opt("start").is_some_and(|s| s.eq_ignore_ascii_case("auto"));
            sim.service(pid, &name, &bin, auto, cause);
        }
        "config" => {
            if let Some(bin) = opt("binpath") {
                let services = sim.service_host();
                let key = format!(r"HKLM\System\CurrentControlSet\Services\{name}");
                sim.registry_set(services, &key, Some("ImagePath"), &bin, cause);
                sim.services.insert(name.to_ascii_lowercase(), bin);
            }
        }
        "start" => start_service(sim, &name, cause),
        _ => {}
    }
}

/// A service the test created, started: its binary under services.exe.
fn start_service(sim: &mut Sim, name: &str, cause: &str) {
    if let Some(bin) = sim.services.get(&name.to_ascii_lowercase()).cloned() {
        let host = sim.service_host();
        cmd::start_program(sim, host, &bin, cause);
    }
}

/// `schtasks /create /tn N /tr X` remembers the task; `/run /tn N` starts it under the
/// Task Scheduler.
fn schtasks(sim: &mut Sim, argv: &[String], cause: &str) {
    let opt = |flag: &str| {
        argv.iter()
            .position(|a| a.eq_ignore_ascii_case(flag))
            .and_then(|i| argv.get(i + 1))
            .cloned()
    };
    let has = |flag: &str| argv.iter().any(|a| a.eq_ignore_ascii_case(flag));
    let Some(name) = opt("/tn") else { return };
    if has("/create") {
        if let Some(run) = opt("/tr") {
            sim.tasks.insert(name.to_ascii_lowercase(), run);
        }
    } else if has("/run")
        && let Some(run) = sim.tasks.get(&name.to_ascii_lowercase()).cloned()
    {
        let host = sim.schedule_host();
        cmd::start_program(sim, host, &run, cause);
    }
}

/// WMI `Win32_Process.Create`: the command line starts under WmiPrvSE.exe.
fn wmi_create(sim: &mut Sim, command_line: &str, cause: &str) {
    let line = command_line.trim();
    if line.is_empty() || line.starts_with('$') {
        return;
    }
    let host = sim.wmi_host();
    cmd::start_program(
        sim,
        host,
        line,
        &format!("{cause} (WMI creates the process)"),
    );
}

/// Web requests, downloads and process starts written as .NET calls anywhere in a
/// PowerShell statement: `(New-Object Net.WebClient).DownloadString(url)`,
/// `.DownloadFile(url, path)`, `[Net.WebRequest]::Create(url)`, `[IO.File]::WriteAll*`,
/// `([wmiclass]'win32_process').Create(cmd)`.
pub fn inline(sim: &mut Sim, pid: Pid, statement: &str) {
    let lower = statement.to_ascii_lowercase();
    let web = [
        ".downloadstring(",
        ".downloadfile(",
        ".downloaddata(",
        ".openread(",
        "webrequest]::create(",
        ".uploadstring(",
        ".uploadfile(",
        "httpclient",
        "xmlhttp",
    ];
    if web.iter().any(|w| lower.contains(w)) {
        for u in urls(statement) {
            sim.web(pid, &u, statement);
        }
    }
    if let Some(at) = lower.find(".downloadfile(") {
        let args = call_args(&statement[at + ".downloadfile(".len()..]);
        if let Some(path) = args.get(1) {
            sim.file(pid, path, statement);
        }
    }
    for call in [
        "]::writealltext(",
        "]::writeallbytes(",
        "]::writealllines(",
        "]::copy(",
    ] {
        if let Some(at) = lower.find(call) {
            let args = call_args(&statement[at + call.len()..]);
            let target = if call == "]::copy(" {
                args.get(1)
            } else {
                args.first()
            };
            if let Some(path) = target {
                sim.file(pid, path, statement);
            }
        }
    }
    // `WScript.Shell`'s `.CreateShortcut(path)`, saved by the script: the shortcut file.
    if let Some(at) = lower.find(".createshortcut(")
        && sim.script.to_ascii_lowercase().contains(".save()")
        && let Some(arg) = call_args(&statement[at + ".createshortcut(".len()..]).first()
    {
        let path = if arg.starts_with('$') {
            assigned_text(&sim.script, arg)
        } else {
            Some(arg.clone())
        };
        if let Some(path) = path {
            let path = home(&expand_env(&path));
            if !path.starts_with('$') {
                sim.file(pid, &path, statement);
            }
        }
    }
    // `$Class.Derive("Name")` on a variable the script made a Win32_Process class.
    if let Some(at) = lower.find(".derive(")
        && let Some(var) = lower[..at]
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
            .next()
            .filter(|v| v.starts_with('$') && v.len() > 1)
        && assigns(&sim.script, var, "win32_process")
        && let Some(name) = call_args(&statement[at + ".derive(".len()..]).first()
    {
        sim.process_classes.insert(name.to_ascii_lowercase());
    }
    if lower.contains("win32_process")
        && let Some(at) = lower.find(".create(")
    {
        let args = call_args(&statement[at + ".create(".len()..]);
        if let Some(line) = args.first() {
            wmi_create(sim, line, statement);
        }
    }
    if let Some(at) = lower.find("process]::start(") {
        let args = call_args(&statement[at + "process]::start(".len()..]);
        if let Some(prog) = args.first() {
            let line = match args.get(1) {
                Some(a) => format!("\"{prog}\" {a}"),
                None => prog.clone(),
            };
            cmd::start_program(sim, pid, &line, statement);
        }
    }
}

/// Settings a service keeps (`programs.yml` `settings`): each item of each parameter
/// `given` (name, value as written: a list, a quoted text, a variable the script assigned a
/// text) becomes a value under the parameter's key, written by the service's program.
fn store_settings(
    sim: &mut Sim,
    setting: &super::model::Setting,
    given: &[(String, String)],
    cause: &str,
) {
    for (name, value) in given {
        let Some((_, key)) = setting
            .keys
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        else {
            continue;
        };
        let value = value.trim();
        let value = if value.starts_with('$') {
            assigned_text(&sim.script, value).unwrap_or_else(|| value.to_string())
        } else {
            value.to_string()
        };
        let writer = sim.service_program(&setting.writer);
        for item in value.split(',') {
            let item = item.trim().trim_matches(['"', '\'', '\\', ' ']);
            if !item.is_empty() {
                let details = registry_details("DWORD", &setting.data);
                sim.registry_set(writer, key, Some(item), &details, cause);
            }
        }
    }
}

/// A parameter's value when it is a list written with spaces after its commas
/// (`-X 'a', 'b'`): the items joined again.
fn list_param(args: &[String], name: &str) -> Option<String> {
    let first = param(args, &[name], None)?;
    let mut value = first.clone();
    let at = args.iter().position(|a| *a == first)?;
    for a in &args[at + 1..] {
        if !value.trim_end().ends_with(',') {
            break;
        }
        value.push_str(a);
    }
    Some(value)
}

/// PowerShell's `$HOME` at the start of a path: the user's profile folder.
fn home(path: &str) -> String {
    match path.get(..5) {
        Some(h)
            if h.eq_ignore_ascii_case("$home")
                && !path[5..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') =>
        {
            format!(r"C:\Users\atomic{}", &path[5..])
        }
        _ => path.to_string(),
    }
}

/// The text `script` assigns `var` (with its `$`) in a statement of its own, when it is a
/// quoted or bare literal.
fn assigned_text(script: &str, var: &str) -> Option<String> {
    let var = var.to_ascii_lowercase();
    script.lines().flat_map(|l| l.split(';')).find_map(|st| {
        let st = st.trim();
        let rest = st
            .get(..var.len())
            .filter(|h| h.eq_ignore_ascii_case(&var))
            .map(|_| st[var.len()..].trim_start())?;
        let value = rest.strip_prefix('=')?.trim();
        (!value.starts_with(['$', '(', '@', '['])).then(|| unquote(value).to_string())
    })
}

/// Whether `script` assigns `var` (lower case, with its `$`) a value that mentions `what`
/// (lower case) in a statement of its own.
fn assigns(script: &str, var: &str, what: &str) -> bool {
    script.lines().flat_map(|l| l.split(';')).any(|st| {
        let st = st.trim().to_ascii_lowercase();
        st.strip_prefix(var)
            .map(str::trim_start)
            .and_then(|rest| rest.strip_prefix('='))
            .is_some_and(|value| value.contains(what))
    })
}

/// The literal arguments of a call, up to its closing parenthesis: quoted strings as text,
/// other arguments as written.
fn call_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' => {
                    depth += 1;
                    cur.push(c);
                }
                ')' if depth == 0 => break,
                ')' => {
                    depth -= 1;
                    cur.push(c);
                }
                ',' if depth == 0 => out.push(std::mem::take(&mut cur).trim().to_string()),
                _ => cur.push(c),
            },
        }
    }
    let last = cur.trim().to_string();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

/// What a cmdlet does, by its (alias-resolved) name.
pub fn cmdlet(sim: &mut Sim, pid: Pid, name: &str, args: &[String], statement: &str) {
    let lower = name.to_ascii_lowercase();
    import_module_of(sim, pid, name, statement);
    let p = |names: &[&str], pos: Option<usize>| param(args, names, pos);
    if let Some(setting) = super::model::programs().settings.get(&lower) {
        let given: Vec<(String, String)> = setting
            .keys
            .iter()
            .filter_map(|(name, _)| Some((name.clone(), list_param(args, name)?)))
            .collect();
        store_settings(sim, setting, &given, statement);
    }
    match lower.as_str() {
        "start-process" => {
            let Some(file) = p(&["FilePath", "Path"], Some(0)) else {
                return;
            };
            let argl = p(&["ArgumentList", "Args"], Some(1));
            let image = super::sim::resolve_program(&file);
            let line = match argl {
                Some(a) => format!("\"{image}\" {}", a.replace("', '", " ").replace("','", " ")),
                None => format!("\"{image}\""),
            };
            let child = sim.start(pid, &image, &line, statement);
            program(sim, child, &image, &line);
        }
        "invoke-expression" => {
            if let Some(cmd) = p(&["Command"], Some(0))
                && !cmd.starts_with(['(', '$'])
            {
                powershell::run_script(sim, pid, &cmd, "the string Invoke-Expression runs");
            }
        }
        "invoke-webrequest" | "invoke-restmethod" | "start-bitstransfer" => {
            let url = p(&["Uri", "Source"], Some(0));
            if let Some(u) = url.as_deref().filter(|u| u.contains("://")) {
                sim.web(pid, u, statement);
            }
            if let Some(out) = p(
                &["OutFile", "Destination"],
                if lower == "start-bitstransfer" {
                    Some(1)
                } else {
                    None
                },
            ) {
                sim.file(pid, &out, statement);
            }
        }
        "new-object" => {
            if let Some(class) = p(&["ComObject"], None) {
                let prog = super::model::programs()
                    .com
                    .get(&unquote(&class).to_ascii_lowercase())
                    .cloned();
                if let Some(image) = prog {
                    let host = sim.dcom_host();
                    let line = format!("\"{image}\" /automation -Embedding");
                    let child = sim.start(host, &image, &line, statement);
                    program(sim, child, &image, &line);
                }
            }
        }
        "add-type" => {
            let compiles = ["TypeDefinition", "MemberDefinition", "Path", "LiteralPath"]
                .iter()
                .any(|n| p(&[n], None).is_some())
                || p(&["TypeDefinition"], Some(0))
                    .is_some_and(|v| !v.eq_ignore_ascii_case("-AssemblyName"));
            if compiles && p(&["AssemblyName"], None).is_none() {
                let csc = compile(sim, pid, statement);
                // `-OutputAssembly`: csc writes the assembly there too.
                if let Some(out) = p(&["OutputAssembly"], None) {
                    let out = expand_env(unquote(&out));
                    sim.file(csc, &out, statement);
                }
            }
        }
        "set-itemproperty" | "new-itemproperty" => {
            let Some(path) = p(&["Path", "LiteralPath"], Some(0)) else {
                return;
            };
            let value_name = p(&["Name"], Some(1));
            let value = p(&["Value"], Some(2)).unwrap_or_default();
            let kind = p(&["PropertyType", "Type"], None).unwrap_or_else(|| {
                if value.parse::<i64>().is_ok() || value.starts_with("0x") {
                    "DWORD".into()
                } else {
                    "SZ".into()
                }
            });
            let kind = match kind.to_ascii_lowercase().as_str() {
                "dword" => "DWORD",
                "qword" => "QWORD",
                "binary" => "BINARY",
                _ => "SZ",
            };
            sim.registry_set(
                pid,
                &path,
                value_name.as_deref(),
                &registry_details(kind, unquote(&value)),
                statement,
            );
        }
        "new-item" => {
            let Some(mut path) = p(&["Path"], Some(0)) else {
                return;
            };
            if let Some(n) = p(&["Name"], None) {
                path = format!("{}\\{n}", path.trim_end_matches('\\'));
            }
            if super::sim::registry_path(&path).is_some() {
                sim.registry_add(pid, &path, statement);
                if let Some(value) = p(&["Value"], None) {
                    sim.registry_set(pid, &path, None, unquote(&value), statement);
                }
            } else if !p(&["ItemType", "Type"], None)
                .is_some_and(|t| t.eq_ignore_ascii_case("directory"))
                && !matches!(statement.split_whitespace().next(), Some("mkdir" | "md"))
            {
                sim.file(pid, &path, statement);
            }
        }
        "remove-item" => {
            if let Some(path) = p(&["Path", "LiteralPath"], Some(0))
                && super::sim::registry_path(&path).is_some()
            {
                sim.registry_delete(pid, &path, None, statement);
            }
        }
        "remove-itemproperty" => {
            if let Some(path) = p(&["Path", "LiteralPath"], Some(0)) {
                let value = p(&["Name"], Some(1));
                sim.registry_delete(pid, &path, value.as_deref(), statement);
            }
        }
        "out-file" | "set-content" | "add-content" | "export-csv" | "export-clixml" => {
            if let Some(path) = p(&["FilePath", "Path", "LiteralPath"], Some(0)) {
                sim.file(pid, &path, statement);
            }
        }
        "copy-item" | "move-item" => {
            if let (Some(from), Some(to)) = (
                p(&["Path", "LiteralPath"], Some(0)),
                p(&["Destination"], Some(1)),
            ) {
                sim.copy(pid, &from, &to, statement);
            }
        }
        "invoke-wmimethod" => {
            let class = p(&["Class", "Path"], None).unwrap_or_default();
            let method = p(&["Name"], None).unwrap_or_default();
            let class = unquote(&class).to_ascii_lowercase();
            if (class.contains("win32_process") || sim.process_classes.contains(&class))
                && method.eq_ignore_ascii_case("create")
                && p(&["ComputerName"], None).is_none()
                && let Some(line) = p(&["ArgumentList"], None)
            {
                wmi_create(sim, unquote(&line), statement);
            }
        }
        "invoke-cimmethod" => {
            let class = p(&["ClassName", "Class"], None).unwrap_or_default();
            let method = p(&["MethodName", "Name"], None).unwrap_or_default();
            if class.to_ascii_lowercase().contains("win32_process")
                && method.eq_ignore_ascii_case("create")
                && let Some(a) = p(&["Arguments"], None)
                && let Some(at) = a.to_ascii_lowercase().find("commandline")
            {
                let rest = a[at + "commandline".len()..].trim_start_matches([' ', '=']);
                let line = words(rest).into_iter().next().unwrap_or_default();
                wmi_create(sim, line.trim_end_matches('}'), statement);
            }
        }
        "new-service" => {
            if let (Some(name), Some(bin)) =
                (p(&["Name"], Some(0)), p(&["BinaryPathName"], Some(1)))
            {
                let auto =
                    p(&["StartupType"], None).is_some_and(|s| s.eq_ignore_ascii_case("automatic"));
                sim.service(pid, &name, &bin, auto, statement);
            }
        }
        "start-service" => {
            if let Some(name) = p(&["Name"], Some(0)) {
                start_service(sim, &name, statement);
            }
        }
        "new-localuser" => {
            if let Some(name) = p(&["Name"], Some(0)) {
                sim.user_created(pid, &name, statement);
            }
        }
        "invoke-command" | "start-job" | "foreach-object" => {
            // Their script blocks run here (remote sessions aside); the blocks are read as
            // statements by the caller.
            let _ = mentions(statement, "-ComputerName");
        }
        _ => {}
    }
}

/// PowerShell remoting (`Invoke-Command -ComputerName`, `New-PSSession`, `Enter-PSSession`):
/// the client connects to the computer's WinRM port (5985); on this computer (its name,
/// `localhost`, `.`) the session is a `wsmprovhost.exe` the DCOM launcher starts, returned
/// for the statement's script block to run in. Another computer's side is not simulated.
pub fn remoting(
    sim: &mut Sim,
    pid: Pid,
    name: &str,
    args: &[String],
    statement: &str,
) -> Option<Pid> {
    let lower = name.to_ascii_lowercase();
    let position = match lower.as_str() {
        "invoke-command" => None,
        "new-pssession" | "enter-pssession" => Some(0),
        _ => return None,
    };
    let computer = param(args, &["ComputerName", "Cn"], position)?;
    let computer = expand_env(unquote(&computer)).to_ascii_lowercase();
    let computer = computer
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    if computer.is_empty() || computer.contains(['$', '(', '@']) {
        return None;
    }
    sim.web(pid, &format!("http://{computer}:5985/wsman"), statement);
    let local = computer.eq_ignore_ascii_case(super::HOST)
        || matches!(computer.as_str(), "localhost" | "." | "127.0.0.1" | "::1");
    if !local {
        return None;
    }
    let launcher = sim.dcom_host();
    let image = r"C:\Windows\System32\wsmprovhost.exe";
    Some(sim.start(
        launcher,
        image,
        r"C:\Windows\system32\wsmprovhost.exe -Embedding",
        statement,
    ))
}

/// The first call of a function of a module that compiles C# when imported (`programs.yml`)
/// imports it into the host: csc.exe compiles, once per host.
/// The prefix is matched as written and must be followed by a capital (`Invoke-ATHMSHTA`).
fn import_module_of(sim: &mut Sim, pid: Pid, name: &str, statement: &str) {
    let Some((_, noun)) = name.split_once('-') else {
        return;
    };
    let module = super::model::programs()
        .compiling_modules
        .iter()
        .find(|(prefix, _)| {
            noun.strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
        })
        .map(|(_, m)| m.clone());
    if let Some(module) = module
        && sim.imported.insert((pid, module.clone()))
    {
        compile(sim, pid, &format!("{statement} (importing {module})"));
    }
}

/// `Add-Type` with source code: PowerShell writes the source and a `.cmdline` file in the
/// user's temp folder and runs csc.exe, which runs cvtres.exe and writes the assembly.
fn compile(sim: &mut Sim, pid: Pid, cause: &str) -> Pid {
    const TEMP: &str = r"C:\Users\atomic\AppData\Local\Temp";
    const NET: &str = r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319";
    let stem = "k2x4ab1c";
    let why = format!("{cause} (Add-Type compiles C# with csc.exe)");
    sim.file(pid, &format!(r"{TEMP}\{stem}\{stem}.0.cs"), &why);
    sim.file(pid, &format!(r"{TEMP}\{stem}\{stem}.cmdline"), &why);
    let csc_image = format!(r"{NET}\csc.exe");
    let csc_line =
        format!("\"{csc_image}\" /noconfig /fullpaths @\"{TEMP}\\{stem}\\{stem}.cmdline\"");
    let csc = sim.start(pid, &csc_image, &csc_line, &why);
    let cvtres_image = format!(r"{NET}\cvtres.exe");
    let cvtres_line = format!(
        "{cvtres_image} /NOLOGO /READONLY /MACHINE:IX86 \"/OUT:{TEMP}\\RESA1B2.tmp\" \"c:\\Users\\atomic\\AppData\\Local\\Temp\\{stem}\\CSC5D2E.tmp\""
    );
    sim.start(csc, &cvtres_image, &cvtres_line, &why);
    sim.file(csc, &format!(r"{TEMP}\{stem}\{stem}.dll"), &why);
    csc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_arguments() {
        assert_eq!(
            call_args("'http://x/y', \"$env:TEMP\\a.exe\")"),
            ["http://x/y", r"$env:TEMP\a.exe"]
        );
    }
}
