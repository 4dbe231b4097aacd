//! `sigil hunt` with Elastic rules (written in ECS) over raw Windows events, which are
//! seen through the built-in ECS view (`windows_to_ecs.yml`).

use std::path::Path;

mod common;
use common::sigil;

fn detections(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn elastic_windows_rules_fire_on_the_evtx_corpus() {
    let Some(corpus) = common::shared_corpus(&["elastic/rules/windows", "evtx"]) else {
        return;
    };
    let (code, out, err) = sigil(&[
        "hunt",
        path_str(&corpus.join("evtx")),
        "--rules",
        path_str(&corpus.join("elastic/rules/windows")),
        "--format",
        "jsonl",
        "--no-progress",
    ]);
    assert_eq!(code, Some(1), "detections give exit 1: {err}");
    let found = detections(&out);
    assert!(found.len() > 100, "{} detections\n{err}", found.len());
    let fired = |id: &str| found.iter().filter(|d| d["rule_id"] == id).count();
    // Suspicious Cmd Execution via WMI: impacket's wmiexec (cmd.exe /Q /c ... 1> \\127.0.0.1\ADMIN$\__...).
    assert!(fired("12f07955-1674-44f7-86b5-c35da0a6f41a") >= 1);
    let wmi = found
        .iter()
        .find(|d| d["rule_id"] == "12f07955-1674-44f7-86b5-c35da0a6f41a")
        .expect("the WMI rule fired");
    assert_eq!(wmi["event"]["EventID"], 1);
    assert_eq!(wmi["event"]["process.parent.name"], "WmiPrvSE.exe");
    assert!(
        wmi["source"]
            .as_str()
            .is_some_and(|s| s.contains("wmiexec"))
    );
    // Microsoft IIS Service Account Password Dumped: appcmd.exe list ... /text:processmodel.password.
    assert!(fired("0564fb9d-90b9-4234-a411-82a546dc1343") >= 1);
    // Windows Event Logs Cleared: Security 1102 (event.action "audit-log-cleared").
    assert!(fired("45ac4800-840f-414c-b221-53dd36a5aaf7") >= 1);
    // Every event detection is of a raw Windows event seen as ECS; EQL sequences fire as
    // correlations (Mshta Making Network Connections: mshta.exe starts, then connects).
    for d in found.iter().filter(|d| d["event"]["correlation"].is_null()) {
        assert_eq!(d["event"]["host.os.type"], "windows", "{d}");
    }
    assert!(
        found
            .iter()
            .any(|d| d["rule_id"] == "c2d90150-0133-451c-a783-533e736c12d7"
                && d["event"]["correlation"] == "temporal_ordered")
    );
}

/// A Sysmon process creation as the raw event model has it (JSON lines read the same way
/// as EVTX records).
fn sysmon_1(parent: &str, command_line: &str) -> String {
    serde_json::json!({
        "Provider_Name": "Microsoft-Windows-Sysmon",
        "EventID": 1,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Computer": "WS01",
        "SystemTime": "2024-05-01T10:00:00.000000Z",
        "EventRecordID": 7,
        "Image": "C:\\Windows\\System32\\cmd.exe",
        "CommandLine": command_line,
        "ParentImage": parent,
        "User": "CORP\\alice",
    })
    .to_string()
}

#[test]
fn wmi_rule_fires_on_a_raw_sysmon_event() {
    let Some(corpus) = common::shared_corpus(&["elastic/rules/windows", "evtx"]) else {
        return;
    };
    let rule = corpus.join("elastic/rules/windows/execution_suspicious_cmd_wmi.toml");
    let dir = std::env::temp_dir().join(format!("sigil-elastic-hunt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let log = dir.join("events.jsonl");
    let wmiexec = r"cmd.exe /Q /c whoami 1> \\127.0.0.1\ADMIN$\__1714557600.5 2>&1";
    let lines = [
        sysmon_1(r"C:\Windows\System32\wbem\WmiPrvSE.exe", wmiexec),
        // The same command line from another parent is not this rule's.
        sysmon_1(r"C:\Windows\explorer.exe", wmiexec),
        // WMI, but not the wmiexec output redirection.
        sysmon_1(
            r"C:\Windows\System32\wbem\WmiPrvSE.exe",
            "cmd.exe /c whoami",
        ),
    ];
    std::fs::write(&log, lines.join("\n") + "\n").expect("write log");
    let (code, out, err) = sigil(&[
        "hunt",
        path_str(&log),
        "--rules",
        path_str(&rule),
        "--format",
        "jsonl",
        "--no-progress",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, Some(1), "{err}");
    let found = detections(&out);
    assert_eq!(found.len(), 1, "{out}\n{err}");
    let d = &found[0];
    assert_eq!(d["rule_title"], "Suspicious Cmd Execution via WMI");
    assert_eq!(
        d["event"]["ParentImage"],
        r"C:\Windows\System32\wbem\WmiPrvSE.exe"
    );
    assert_eq!(d["event"]["process.name"], "cmd.exe");
    assert_eq!(
        d["event"]["process.args"],
        serde_json::json!([
            "cmd.exe",
            "/Q",
            "/c",
            "whoami",
            "1>",
            r"\\127.0.0.1\ADMIN$\__1714557600.5",
            "2>&1"
        ])
    );
}
