//! `sigil check` end to end, on the built binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigil"))
        .args(args)
        .output()
        .expect("sigil runs")
}

fn fixtures(kind: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sigil-sigma/tests/fixtures")
        .join(kind)
        .display()
        .to_string()
}

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sigil-check-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

const GOOD: &str = "title: Good\nid: 3f2e1d0c-9b8a-4765-8432-10fedcba9876\nstatus: test\nlevel: low\nlogsource:\n  product: windows\ndetection:\n  selection:\n    Image|endswith: '\\cmd.exe'\n  condition: selection\n";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn valid_rules_exit_zero() {
    let out = sigil(&["check", &fixtures("valid")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).starts_with("checked 4 files, 7 rules: 0 errors, 0 warnings"));
}

#[test]
fn every_bad_file_is_reported_and_the_others_still_checked() {
    let out = sigil(&["check", &fixtures("invalid"), &fixtures("valid")]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    for entry in std::fs::read_dir(fixtures("invalid")).expect("fixtures") {
        let path = entry.expect("entry").path();
        let prefix = format!("{}:", path.display());
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("{} not reported:\n{stdout}", path.display()));
        // path:line:column: severity: message
        let rest = &line[prefix.len()..];
        let mut parts = rest.splitn(3, ':');
        assert!(
            parts
                .next()
                .expect("line")
                .parse::<u32>()
                .expect("line number")
                > 0
        );
        assert!(parts.next().expect("column").parse::<u32>().is_ok());
        let msg = parts.next().expect("message");
        assert!(
            msg.starts_with(" error: ") || msg.starts_with(" warning: "),
            "{line}"
        );
    }
    assert!(!stdout.contains("/valid/"), "{stdout}");
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("checked 17 files,"), "{stderr}");
}

#[test]
fn generated_monsters_are_reported_with_lines() {
    let dir = scratch("monsters");
    // 50 MB of values.
    let mut huge =
        String::from("title: Huge\nlogsource: {product: x}\ndetection:\n  s:\n    Image:\n");
    while huge.len() < 50 * 1024 * 1024 {
        huge.push_str("      - 'C:\\Windows\\System32\\some-long-file-name-here.exe'\n");
    }
    huge.push_str("  condition: s\n");
    std::fs::write(dir.join("huge.yml"), huge).expect("write");
    std::fs::write(
        dir.join("deep.yml"),
        format!("title: Deep\ndetection:\n  {}x\n", "- ".repeat(10_000)),
    )
    .expect("write");
    std::fs::write(dir.join("binary.yml"), b"\x7fELF\x02\x01\x01\x00\x00\x00").expect("write");
    std::fs::write(dir.join("good.yml"), GOOD).expect("write");

    let out = sigil(&["check", &dir.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let line_of = |name: &str| {
        stdout
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not reported:\n{stdout}"))
            .to_string()
    };
    assert!(line_of("huge.yml").contains("huge.yml:1:1: error: the file is"));
    assert!(line_of("deep.yml").contains("deep.yml:3:"));
    assert!(line_of("deep.yml").contains("nested deeper than 128 levels"));
    assert!(line_of("binary.yml").contains("binary.yml:1:8: error: the file is binary"));
    assert!(!stdout.contains("good.yml"));
    assert!(text(&out.stderr).starts_with("checked 4 files, 1 rule: 3 errors, 0 warnings"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn json_output() {
    let dir = scratch("json");
    std::fs::write(dir.join("a.yml"), GOOD).expect("write");
    // Same id in a second file, and an unknown modifier.
    std::fs::write(
        dir.join("b.yml"),
        GOOD.replace("Image|endswith", "Image|endwith"),
    )
    .expect("write");
    let out = sigil(&["check", "--format", "json", &dir.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["files"], 2);
    assert_eq!(v["rules"], 2);
    let errors = v["errors"].as_array().expect("errors");
    let messages: Vec<&str> = errors
        .iter()
        .map(|e| e["message"].as_str().unwrap_or(""))
        .collect();
    assert!(
        messages.contains(&"unknown modifier `endwith` (did you mean `endswith`?)"),
        "{messages:?}"
    );
    let dups = messages
        .iter()
        .filter(|m| m.contains("is also used by 1 other rule"))
        .count();
    assert_eq!(dups, 2, "{messages:?}");
    let unknown = errors
        .iter()
        .find(|e| e["code"] == "unknown-modifier")
        .expect("unknown-modifier entry");
    assert!(unknown["pysigma"].is_null(), "{unknown}");
    let dup = errors
        .iter()
        .find(|e| e["code"] == "duplicate-id")
        .expect("duplicate-id entry");
    assert_eq!(dup["pysigma"], "identifier_uniqueness");
    let e = &errors[0];
    for key in ["path", "line", "column", "message", "code", "pysigma"] {
        assert!(e.get(key).is_some(), "{key} missing in {e}");
    }
    assert_eq!(e["line"], 2);
    // The two rules also share their title.
    let warnings = v["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .all(|w| w["code"] == "duplicate-title" && w["pysigma"] == "duplicate_title")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(sigil(&["check"]).status.code(), Some(2));
    let out = sigil(&["check", "/no/such/path/anywhere"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no such file or folder"));
    assert_eq!(
        sigil(&["check", "--format", "yaml", "x"]).status.code(),
        Some(2)
    );
}

#[test]
fn lints_list_themselves() {
    let out = sigil(&["check", "--list-lints"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    for code in [
        "unknown-modifier",
        "unused-search",
        "missing-search",
        "duplicate-id",
        "malformed-attack-tag",
        "unknown-rule-reference",
    ] {
        assert!(stdout.contains(code), "{code} not listed");
    }
    let md = text(&sigil(&["check", "--list-lints", "--format", "markdown"]).stdout);
    assert!(md.contains("## invalid-modifier-chain"));
    // docs/lints.md is generated from the same registry: it must be current.
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/lints.md");
    let committed = std::fs::read_to_string(&doc).unwrap_or_default();
    assert_eq!(
        committed, md,
        "docs/lints.md is stale: regenerate with `sigil check --list-lints --format markdown > docs/lints.md`"
    );
}

#[test]
fn optional_checks_and_pysigma_configuration() {
    let dir = scratch("config");
    let id = "3f2e1d0c-9b8a-4765-8432-10fedcba9876";
    // A technique without its tactic, an escaped wildcard, no date and no author.
    let rule = GOOD
        .replace("level: low\n", "level: low\ntags:\n  - attack.t1047\n")
        .replace("'\\cmd.exe'", "'\\*.exe'");
    std::fs::write(dir.join("proc_creation_win_example.yml"), &rule).expect("write");
    let run = |extra: &[&str]| {
        let mut args = vec!["check", "--format", "json"];
        args.extend_from_slice(extra);
        let d = dir.display().to_string();
        let mut all: Vec<&str> = args.clone();
        all.push(&d);
        let out = sigil(&all);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let codes: Vec<String> = v["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .map(|w| w["code"].as_str().unwrap_or("").to_string())
            .collect();
        (out.status.code(), codes)
    };
    // By default only sigil's own checks run.
    let (code, codes) = run(&[]);
    assert_eq!(code, Some(0));
    assert!(codes.is_empty(), "{codes:?}");
    // Every check.
    let (_, codes) = run(&["--all-lints"]);
    for c in [
        "technique-without-tactic",
        "escaped-wildcard",
        "missing-date",
        "missing-author",
    ] {
        assert!(codes.iter().any(|x| x == c), "{c} not in {codes:?}");
    }
    // pySigma's configuration: all but one validator, one excluded for the rule.
    let config = dir.join("conf.yml");
    std::fs::write(
        &config,
        format!(
            "validators:\n  - all\n  - -escaped_wildcard\nexclusions:\n  {id}: sigmahq_date_existence\n"
        ),
    )
    .expect("write");
    let conf = config.display().to_string();
    let (code, codes) = run(&["--config", &conf]);
    assert_eq!(code, Some(0));
    assert!(
        codes.iter().any(|x| x == "technique-without-tactic"),
        "{codes:?}"
    );
    assert!(codes.iter().any(|x| x == "missing-author"), "{codes:?}");
    assert!(!codes.iter().any(|x| x == "escaped-wildcard"), "{codes:?}");
    assert!(!codes.iter().any(|x| x == "missing-date"), "{codes:?}");
    // A name that is neither a validator nor a check is a usage error.
    std::fs::write(&config, "validators: [all, -no_such_validator]\n").expect("write");
    let out = sigil(&["check", "--config", &conf, &dir.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no_such_validator"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sigmahq_configuration_reads_as_it_is() {
    let conf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/sigma/tests/sigma_cli_conf.yml");
    if !conf.is_file() {
        println!("skipped: ../shared/corpus/sigma not found");
        return;
    }
    let dir = scratch("sigmahq-conf");
    std::fs::write(dir.join("proc_creation_win_example.yml"), GOOD).expect("write");
    let out = sigil(&[
        "check",
        "--config",
        &conf.display().to_string(),
        &dir.display().to_string(),
    ]);
    // The rule lacks SigmaHQ's metadata (author, date, description): warnings, no error.
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("[missing-author]"), "{stdout}");
    // The configuration turns `sigmahq_filename_prefix` off, among others.
    assert!(text(&out.stderr).contains("checked 1 file"));
    let _ = std::fs::remove_dir_all(dir);
}
