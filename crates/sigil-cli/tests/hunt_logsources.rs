//! `sigil hunt` evaluates a rule only against logs it is written for: rules for other
//! products (zeek, linux, macOS, cisco, ...) never fire on Windows event logs, they are
//! counted in the summary, and `--all-logsources` brings them back.

mod common;

use common::{shared_corpus, sigil};

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sigil-logsources-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The detection lines of a JSON-lines hunt, sorted.
fn lines(stdout: &str) -> Vec<String> {
    let mut v: Vec<String> = stdout.lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn the_whole_sigma_corpus_on_windows_logs_fires_only_windows_rules() {
    let Some(corpus) = shared_corpus(&["evtx", "sigma/rules"]) else {
        return;
    };
    let evtx = corpus.join("evtx");
    let evtx = evtx.to_str().expect("utf-8");
    let all = corpus.join("sigma/rules");
    let windows = corpus.join("sigma/rules/windows");
    let hunt = |rules: &str, extra: &[&str]| {
        let mut args = vec!["hunt", evtx, "--rules", rules, "--format", "jsonl"];
        args.extend_from_slice(extra);
        sigil(&args)
    };
    let (code, from_all, stderr) = hunt(all.to_str().expect("utf-8"), &[]);
    assert_eq!(code, Some(1), "{stderr}");
    let (_, from_windows, _) = hunt(windows.to_str().expect("utf-8"), &[]);
    assert_eq!(lines(&from_all), lines(&from_windows));
    for line in from_all.lines() {
        let d: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        let title = d["rule_title"].as_str().unwrap_or_default();
        assert!(
            !title.contains("macOS") && !title.starts_with("Cisco"),
            "{title}"
        );
    }
    assert!(
        stderr.contains("not for these logs") && stderr.contains("zeek 21"),
        "{stderr}"
    );
    // The rules left out are evaluated again on request (the zeek rule whose condition is
    // `not selection` then matches every event).
    let (_, everything, stderr) = hunt(all.to_str().expect("utf-8"), &["--all-logsources"]);
    assert!(everything.lines().count() > from_all.lines().count() * 2);
    assert!(everything.contains("Publicly Accessible RDP Service"));
    assert!(!stderr.contains("not for these logs"), "{stderr}");
}

/// A Windows rule whose service no pipeline knows is still a Windows rule (seed 003's
/// `service: image_loaded` with its own `EventID: 7`); a rule without product that no
/// pipeline maps is not.
#[test]
fn windows_rules_stay_whatever_their_service_and_productless_rules_go() {
    let dir = tempdir("services");
    std::fs::write(
        dir.join("events.jsonl"),
        concat!(
            r#"{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":7,"ImageLoaded":"C:\\x\\wmiutils.dll","Image":"C:\\x\\evil.exe"}"#,
            "\n",
            r#"{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Image":"C:\\x\\evil.exe","query":"select * from users"}"#,
            "\n"
        ),
    )
    .expect("write");
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).expect("rules dir");
    std::fs::write(
        rules.join("image_loaded.yml"),
        "title: Odd service\nid: 11111111-1111-4111-8111-111111111111\nlogsource:\n  product: windows\n  service: image_loaded\ndetection:\n  sel:\n    EventID: 7\n    ImageLoaded|endswith: '\\wmiutils.dll'\n  condition: sel\nlevel: high\n",
    )
    .expect("write");
    std::fs::write(
        rules.join("database.yml"),
        "title: Database rule\nid: 22222222-2222-4222-8222-222222222222\nlogsource:\n  category: database\ndetection:\n  sel:\n    query|contains: select\n  condition: sel\nlevel: high\n",
    )
    .expect("write");
    let (code, stdout, stderr) = sigil(&[
        "hunt",
        dir.join("events.jsonl").to_str().expect("utf-8"),
        "--rules",
        rules.to_str().expect("utf-8"),
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.contains("Odd service"), "{stdout}");
    assert!(!stdout.contains("Database rule"), "{stdout}");
    assert!(stderr.contains("1 rule not for these logs"), "{stderr}");
}

/// JSON logs of another product are named with `--logsource`: rules for that source run,
/// Windows rules do not.
#[test]
fn a_declared_json_logsource_selects_its_rules() {
    let dir = tempdir("declared");
    std::fs::write(
        dir.join("auditd.jsonl"),
        "{\"type\":\"EXECVE\",\"a0\":\"nc\",\"a1\":\"-e\",\"Image\":\"nc\"}\n",
    )
    .expect("write");
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).expect("rules dir");
    std::fs::write(
        rules.join("linux.yml"),
        "title: Netcat reverse shell\nid: 33333333-3333-4333-8333-333333333333\nlogsource:\n  product: linux\n  service: auditd\ndetection:\n  sel:\n    type: EXECVE\n    a0: nc\n  condition: sel\nlevel: high\n",
    )
    .expect("write");
    std::fs::write(
        rules.join("windows.yml"),
        "title: Any netcat on Windows\nid: 44444444-4444-4444-8444-444444444444\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    Image|endswith: nc\n  condition: sel\nlevel: high\n",
    )
    .expect("write");
    let log = dir.join("auditd.jsonl");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "hunt",
            log.to_str().expect("utf-8"),
            "--rules",
            rules.to_str().expect("utf-8"),
            "--format",
            "jsonl",
            "-p",
            "sysmon",
        ];
        args.extend_from_slice(extra);
        sigil(&args)
    };
    let (code, stdout, stderr) = run(&["--logsource", "product=linux,service=auditd"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.contains("Netcat reverse shell"));
    assert!(!stdout.contains("Any netcat on Windows"), "{stdout}");
    // Without the declaration the events are of unknown source: every rule is checked,
    // and the summary says so.
    let (_, _, stderr) = run(&[]);
    assert!(stderr.contains("unknown log source"), "{stderr}");
    let (code, _, stderr) = run(&["--logsource", "product"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("key=value"), "{stderr}");
}
