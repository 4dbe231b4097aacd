//! A tool people act on never reports a clean result it did not earn: broken and disabled
//! rules are left out and said so, runs that read nothing or were given a wrong path fail,
//! and files that are not rules do not drown the real problems.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{shared_corpus, sigil};

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sigil-trust-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

const BROKEN: &str = "title: Broken selection name
id: 55555555-5555-4555-8555-555555555555
status: test
level: high
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\WMIC.exe'
  condition: selecton
";

#[test]
fn a_rule_check_reports_with_an_error_is_left_out_of_hunt_and_convert() {
    let dir = tempdir("broken");
    std::fs::write(dir.join("broken.yml"), BROKEN).expect("write");
    let logs = root().join("examples/logs");
    // Alone, it leaves nothing to hunt with: an error, not a clean run.
    let (code, _, stderr) = sigil(&["hunt", text(&logs), "--rules", text(&dir)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("selecton"), "{stderr}");
    // Beside sound rules, it is listed with its reason and the others run.
    let rules = root().join("examples/rules");
    let (code, _, stderr) = sigil(&["hunt", text(&logs), "--rules", text(&rules), text(&dir)]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("skipped rule:") && stderr.contains("broken.yml:11:14"),
        "{stderr}"
    );
    let (code, stdout, stderr) = sigil(&["convert", "-t", "splunk", text(&dir)]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.trim().is_empty(), "{stdout}");
    assert!(stderr.contains("selecton"), "{stderr}");
}

#[test]
fn wrong_paths_and_runs_that_read_nothing_exit_2() {
    let rules = root().join("examples/rules");
    let (code, _, stderr) = sigil(&["hunt", "/nonexistent/logs", "--rules", text(&rules)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("/nonexistent/logs"), "{stderr}");
    let (code, _, stderr) = sigil(&["query", "--kql", "a:b", "/nonexistent/logs"]);
    assert_eq!(code, Some(2), "{stderr}");
    // The only log cannot be read (a directory named like a log that is not one).
    let dir = tempdir("unreadable");
    std::fs::write(dir.join("bad.evtx"), b"not an evtx file at all").expect("write");
    let (code, _, stderr) = sigil(&["hunt", text(&dir), "--rules", text(&rules)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no event could be read"), "{stderr}");
    // A partial failure keeps 0/1 and says so; --strict makes it an error.
    std::fs::copy(
        root().join("examples/logs/wmi-activity.jsonl"),
        dir.join("good.jsonl"),
    )
    .expect("copy");
    let (code, _, stderr) = sigil(&["hunt", text(&dir), "--rules", text(&rules)]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("could not be read in full"), "{stderr}");
    let (code, _, _) = sigil(&["hunt", text(&dir), "--rules", text(&rules), "--strict"]);
    assert_eq!(code, Some(2));
}

#[test]
fn evtx_bytes_on_standard_input_are_read_as_evtx() {
    let Some(corpus) = shared_corpus(&["evtx"]) else {
        return;
    };
    let file = walk(&corpus.join("evtx"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "evtx"))
        .expect("an EVTX file");
    let rules = root().join("examples/rules");
    let by_path = sigil(&["hunt", text(&file), "--rules", text(&rules), "-f", "jsonl"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .args(["hunt", "-", "--rules", text(&rules), "-f", "jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let bytes = std::fs::read(&file).expect("read");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&bytes)
        .expect("write");
    let out = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("not UTF-8"), "{stderr}");
    let events = |s: &str| s.lines().find(|l| l.contains(" event")).map(str::to_string);
    assert_eq!(events(&stderr), events(&by_path.2), "{stderr}");
    assert_eq!(out.status.code(), by_path.0);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_huge_thread_count_is_capped() {
    let rules = root().join("examples/rules");
    let logs = root().join("examples/logs");
    let (code, _, stderr) = sigil(&[
        "hunt",
        text(&logs),
        "--rules",
        text(&rules),
        "--threads",
        "100000",
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("capped"), "{stderr}");
}

#[test]
fn yaml_files_that_are_not_rules_are_passed_over_in_folders() {
    let dir = tempdir("not-rules");
    std::fs::write(
        dir.join("info.yml"),
        "id: 66666666-6666-4666-8666-666666666666\ndescription: regression data\nrule_metadata:\n  - id: x\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("T1047.yaml"),
        "attack_technique: T1047\ndisplay_name: WMI\natomic_tests:\n  - name: a\n",
    )
    .expect("write");
    std::fs::copy(
        root().join("examples/rules/proc_creation_wmic_process_call_create.yml"),
        dir.join("rule.yml"),
    )
    .expect("copy");
    let (code, stdout, stderr) = sigil(&["check", text(&dir)]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.trim().is_empty(), "{stdout}");
    assert!(stderr.contains("passed over 2 YAML files"), "{stderr}");
    assert!(stderr.contains("checked 1 file, 1 rule:"), "{stderr}");
    // Named on the command line, such a file is what the user asked about: an error.
    let (code, _, _) = sigil(&["check", text(&dir.join("info.yml"))]);
    assert_eq!(code, Some(1));
    // Hunting with the folder passes over them too.
    let logs = root().join("examples/logs");
    let (code, _, stderr) = sigil(&["hunt", text(&logs), "--rules", text(&dir)]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("skipped rule"), "{stderr}");
    assert!(stderr.contains("passed over 2 YAML files"), "{stderr}");
}

#[test]
fn a_collection_sharing_its_global_id_is_not_a_duplicate() {
    let dir = tempdir("collection");
    std::fs::write(
        dir.join("legacy.yml"),
        "action: global
title: Legacy collection
id: 77777777-7777-4777-8777-777777777777
status: test
level: low
detection:
  condition: sel
---
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\\a.exe'
---
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\\b.exe'
",
    )
    .expect("write");
    let (_, stdout, stderr) = sigil(&["check", text(&dir)]);
    assert!(!stdout.contains("0 other rule"), "{stdout}{stderr}");
}

#[test]
fn disabled_elastic_rules_are_left_out_unless_asked_for() {
    let dir = tempdir("disabled");
    std::fs::write(
        dir.join("first.toml"),
        r#"[metadata]
creation_date = "2022/09/22"
maturity = "production"
updated_date = "2025/01/15"

[rule]
author = ["Elastic"]
description = "An onboarding example that matches every event."
enabled = false
from = "now-35m"
index = ["winlogbeat-*"]
language = "kuery"
license = "Elastic License v2"
name = "My First Rule"
risk_score = 21
rule_id = "a1a1a1a1-0000-4000-8000-000000000001"
severity = "low"
tags = ["OS: Windows"]
type = "query"
query = "event.kind:event"
"#,
    )
    .expect("write");
    let logs = root().join("examples/logs");
    let (code, _, stderr) = sigil(&["hunt", text(&logs), "--rules", text(&dir)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("disabled by its author"), "{stderr}");
    let rules = root().join("examples/rules");
    let with = sigil(&[
        "hunt",
        text(&logs),
        "--rules",
        text(&rules),
        text(&dir),
        "--include-disabled",
        "-f",
        "jsonl",
    ]);
    let without = sigil(&[
        "hunt",
        text(&logs),
        "--rules",
        text(&rules),
        text(&dir),
        "-f",
        "jsonl",
    ]);
    assert!(!without.1.contains("My First Rule"));
    assert!(with.1.contains("My First Rule"), "{}", with.2);
}

#[test]
fn kql_on_analysed_text_matches_phrases_in_hunt_query_and_conversions() {
    let Some(corpus) = shared_corpus(&["elastic/rules"]) else {
        return;
    };
    let rule = corpus.join("elastic/rules/windows/collection_mailbox_export_winlog.toml");
    let dir = tempdir("text-fields");
    let logs = dir.join("posh.jsonl");
    let event = |id: u32, text: &str| {
        serde_json::json!({
            "@timestamp": "2024-05-01T10:00:00Z",
            "event": {"category": "process", "code": id.to_string()},
            "host": {"os": {"type": "windows"}},
            "powershell": {"file": {"script_block_text": text}},
        })
        .to_string()
    };
    std::fs::write(
        &logs,
        [
            event(
                1,
                "New-MailboxExportRequest -Mailbox bob -FilePath \\\\srv\\share\\bob.pst",
            ),
            event(
                2,
                "new-mailboxexportrequest -mailbox alice -filepath c:\\x.pst",
            ),
            // One word, not the phrase: the analyser keeps `NewMailboxExportRequest` whole.
            event(
                3,
                "NewMailboxExportRequest -Mailbox bob -FilePath c:\\x.pst",
            ),
            event(4, "Get-Mailbox | Format-List"),
        ]
        .join("\n"),
    )
    .expect("write");

    let (code, stdout, stderr) = sigil(&[
        "hunt",
        text(&logs),
        "--rules",
        text(&rule),
        "--all-logsources",
        "-f",
        "jsonl",
    ]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let codes: Vec<String> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| v["event"]["event.code"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(codes, ["1", "2"], "{stdout}{stderr}");

    let (code, stdout, stderr) = sigil(&[
        "query",
        "--kql",
        "powershell.file.script_block_text : \"mailboxexportrequest -mailbox\"",
        text(&logs),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}{stderr}");

    // Conversions keep the meaning: a phrase query where the engine analyses text, the
    // phrase as a word-bounded expression elsewhere; never whole-value equality.
    let (_, lucene, stderr) = sigil(&["convert", "-t", "lucene", text(&rule)]);
    assert!(
        lucene.contains("powershell.file.script_block_text:\"New-MailboxExportRequest\""),
        "{lucene}{stderr}"
    );
    let (_, eql, stderr) = sigil(&["convert", "-t", "eql", text(&rule)]);
    assert!(
        !eql.contains("== \"New-MailboxExportRequest\""),
        "{eql}{stderr}"
    );
    assert!(
        eql.contains("powershell.file.script_block_text regex~ \"(.*[^a-zA-Z0-9_])?New[^a-zA-Z0-9_]+MailboxExportRequest([^a-zA-Z0-9_].*)?\""),
        "{eql}{stderr}"
    );
}

#[test]
fn a_reader_that_stops_early_ends_the_run_quietly() {
    let Some(corpus) = shared_corpus(&["sigma/rules"]) else {
        return;
    };
    let rules = corpus.join("sigma/rules/windows");
    // Far more than a pipe holds, so the writes after the reader has gone fail.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .args(["convert", "-t", "splunk", text(&rules)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut first = [0u8; 16];
    let stdout = child.stdout.as_mut().expect("stdout");
    std::io::Read::read_exact(stdout, &mut first).expect("some output");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("Broken pipe") && !stderr.contains("panicked"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn query_warns_of_a_truncated_evtx_as_hunt_does() {
    let Some(corpus) = shared_corpus(&["evtx"]) else {
        return;
    };
    let source = walk(&corpus.join("evtx"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "evtx"))
        .max_by_key(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .expect("an EVTX file");
    let bytes = std::fs::read(&source).expect("read");
    let dir = tempdir("truncated");
    let cut = dir.join("cut.evtx");
    // Past the first chunk and into the middle of a later one.
    std::fs::write(&cut, &bytes[..bytes.len() / 2 + 100]).expect("write");
    for q in [["--eql", "any where true"], ["--kql", "*"]] {
        let (code, stdout, stderr) = sigil(&["query", q[0], q[1], text(&cut)]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(!stdout.is_empty());
        assert!(
            stderr.contains("cut.evtx") && stderr.contains("truncated"),
            "{q:?}: {stderr}"
        );
    }
    let (_, _, stderr) = sigil(&[
        "hunt",
        text(&cut),
        "--rules",
        text(&root().join("examples/rules")),
    ]);
    assert!(stderr.contains("truncated"), "{stderr}");
}

#[test]
fn counts_speak_in_the_singular_when_there_is_one() {
    let dir = tempdir("singular");
    std::fs::write(
        dir.join("one.yml"),
        BROKEN.replace("condition: selecton", "condition: selection"),
    )
    .expect("write");
    let (code, _, stderr) = sigil(&["convert", "-t", "splunk", text(&dir.join("one.yml"))]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("1 rule to splunk"), "{stderr}");
    assert!(stderr.contains("(1 file)"), "{stderr}");
    assert!(
        !stderr.contains("1 rules") && !stderr.contains("1 files"),
        "{stderr}"
    );
    let logs = root().join("examples/logs/security-4688.json");
    let (_, _, stderr) = sigil(&["hunt", text(&logs), "--rules", text(&dir)]);
    assert!(
        stderr.contains("1 file,") && !stderr.contains("1 files"),
        "{stderr}"
    );
}

#[test]
fn coverage_without_attack_data_says_so() {
    let rules = root().join("examples/rules");
    let (code, stdout, stderr) = sigil(&["coverage", "--corpus", text(&rules)]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("no ATT&CK data was loaded"), "{stdout}");
    assert!(stdout.contains("enterprise-attack.json"), "{stdout}");
    assert!(!stdout.contains("of 0 ATT&CK techniques"), "{stdout}");
}
