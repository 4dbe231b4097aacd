//! `sigil test`: SigmaHQ's regression data through the binary, as a rule repository's CI
//! runs it, and what happens when a sample no longer holds what its rule detects.

mod common;

use std::path::{Path, PathBuf};

use common::{shared_corpus, sigil};

/// Every rule folder of the corpus that holds rules with regression data.
const RULE_FOLDERS: [&str; 3] = ["rules", "rules-emerging-threats", "rules-threat-hunting"];

fn json_of(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// The corpus' rule files that name regression tests (not in a comment).
fn rules_with_regression_data(sigma: &Path) -> usize {
    let mut n = 0;
    for dir in RULE_FOLDERS {
        for entry in walkdir::WalkDir::new(sigma.join(dir)) {
            let entry = entry.expect("walks");
            if entry.path().extension().is_some_and(|e| e == "yml") {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                if text
                    .lines()
                    .any(|l| l.starts_with("regression_tests_path:"))
                {
                    n += 1;
                }
            }
        }
    }
    n
}

#[test]
fn every_rule_with_regression_data_passes_and_the_json_has_the_fixed_shape() {
    let Some(corpus) = shared_corpus(&["sigma/regression_data"]) else {
        return;
    };
    let sigma = corpus.join("sigma");
    let folders: Vec<String> = RULE_FOLDERS
        .iter()
        .map(|d| sigma.join(d).display().to_string())
        .collect();
    let mut args = vec!["test", "--format", "json"];
    args.extend(folders.iter().map(String::as_str));
    let (code, stdout, stderr) = sigil(&args);
    let report = json_of(&stdout);
    let failed: Vec<&serde_json::Value> = report["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .filter(|t| t["ok"] != true)
        .collect();
    assert!(failed.is_empty(), "failed: {failed:#?}\n{stderr}");
    assert_eq!(code, Some(0), "{stderr}");

    // One test per rule with regression data: every sample of the corpus' info.yml files
    // names one rule, and each rule has one sample.
    let expected = rules_with_regression_data(&sigma);
    assert!(expected >= 200, "{expected} rules name regression tests");
    assert_eq!(report["total"], expected);
    assert_eq!(report["passed"], expected);
    assert_eq!(report["failed"], 0);
    let keys: Vec<&str> = report
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["total", "passed", "failed", "tests"]);
    for t in report["tests"].as_array().expect("tests") {
        let keys: Vec<&str> = t
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["rule_id", "path", "sample", "expected", "found", "ok"]
        );
        assert!(t["found"].as_u64() >= t["expected"].as_u64(), "{t}");
        assert!(t["expected"].as_u64() >= Some(1), "{t}");
    }
}

/// A copy of one corpus rule and its regression data under `dir`, laid out as in the
/// repository (the rule under `rules/`, the data under `regression_data/`). Returns the
/// rule's copy and its sample's copy.
fn copy_case(sigma: &Path, rule: &str, dir: &Path) -> (PathBuf, PathBuf) {
    let rule_src = sigma.join(rule);
    let text = std::fs::read_to_string(&rule_src).expect("rule");
    let info_rel = text
        .lines()
        .find_map(|l| l.strip_prefix("regression_tests_path:"))
        .expect("the rule names its regression data")
        .trim()
        .to_string();
    let rule_dst = dir.join(rule);
    std::fs::create_dir_all(rule_dst.parent().expect("a folder")).expect("mkdir");
    std::fs::write(&rule_dst, &text).expect("write rule");
    let info_dst = dir.join(&info_rel);
    let info_dir = info_dst.parent().expect("a folder");
    std::fs::create_dir_all(info_dir).expect("mkdir");
    let mut sample = None;
    for entry in std::fs::read_dir(sigma.join(&info_rel).parent().expect("a folder")).expect("ls") {
        let path = entry.expect("entry").path();
        let to = info_dir.join(path.file_name().expect("a name"));
        std::fs::copy(&path, &to).expect("copy");
        if path.extension().is_some_and(|e| e == "evtx") {
            sample = Some(to);
        }
    }
    (rule_dst, sample.expect("an EVTX sample"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sigil-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

const BITSADMIN_RULE: &str =
    "rules/windows/process_creation/proc_creation_win_bitsadmin_download.yml";
const OTHER_RULE: &str = "rules/windows/sysmon/sysmon_config_modification.yml";

#[test]
fn a_sample_that_no_longer_holds_the_detection_fails_the_run() {
    let Some(corpus) = shared_corpus(&["sigma/regression_data"]) else {
        return;
    };
    let sigma = corpus.join("sigma");
    let dir = scratch("changed");
    let (rule, sample) = copy_case(&sigma, BITSADMIN_RULE, &dir);
    let rule_arg = rule.to_str().expect("utf-8");

    // As copied, the rule finds its sample's event.
    let (code, stdout, stderr) = sigil(&["test", rule_arg, "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(json_of(&stdout)["passed"], 1);

    // The sample replaced by another rule's: the rule no longer fires.
    let (_, other_sample) = copy_case(&sigma, OTHER_RULE, &dir.join("other"));
    std::fs::copy(&other_sample, &sample).expect("replace the sample");
    let junit = dir.join("junit.xml");
    let (code, stdout, _) = sigil(&[
        "test",
        rule_arg,
        "--format",
        "json",
        "--junit",
        junit.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(1), "{stdout}");
    let report = json_of(&stdout);
    assert_eq!(report["failed"], 1);
    let t = &report["tests"][0];
    assert_eq!(t["found"], 0);
    assert_eq!(t["expected"], 1);
    assert_eq!(t["ok"], false);
    assert_eq!(t["sample"], sample.display().to_string());
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report");
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains("tests=\"1\" failures=\"1\""), "{xml}");
    assert!(xml.contains("<failure message=\"expected at least 1 detection, found 0\""));

    // The text report says which rule and sample failed, then the summary.
    let (code, stdout, _) = sigil(&["test", rule_arg]);
    assert_eq!(code, Some(1));
    assert!(stdout.starts_with("FAIL "), "{stdout}");
    assert!(stdout.contains(&sample.display().to_string()), "{stdout}");
    assert!(stdout.ends_with("1 test: 0 passed, 1 failed\n"), "{stdout}");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn a_json_sample_edited_so_that_the_rule_no_longer_matches_fails() {
    let Some(corpus) = shared_corpus(&["sigma/regression_data"]) else {
        return;
    };
    let sigma = corpus.join("sigma");
    let dir = scratch("json");
    let (rule, sample) = copy_case(&sigma, BITSADMIN_RULE, &dir);
    let json = sample.with_extension("json");
    let info = sample.with_file_name("info.yml");
    let info_text = std::fs::read_to_string(&info).expect("info.yml");
    std::fs::write(
        &info,
        info_text
            .replace("type: evtx", "type: json")
            .replace(".evtx", ".json"),
    )
    .expect("write info.yml");
    let rule_arg = rule.to_str().expect("utf-8");
    let (code, stdout, stderr) = sigil(&["test", rule_arg, "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(json_of(&stdout)["tests"][0]["found"], 1);

    // bitsadmin no longer in the event: the rule's selection cannot match.
    let event = std::fs::read_to_string(&json).expect("sample");
    assert!(
        event.contains("bitsadmin"),
        "the sample is the bitsadmin one"
    );
    std::fs::write(&json, event.replace("bitsadmin", "notepad")).expect("edit");
    let (code, stdout, _) = sigil(&["test", rule_arg, "--format", "json"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert_eq!(json_of(&stdout)["tests"][0]["found"], 0);
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn benign_logs_fail_the_rules_that_fire_on_them() {
    let Some(corpus) = shared_corpus(&["sigma/regression_data"]) else {
        return;
    };
    let sigma = corpus.join("sigma");
    let dir = scratch("benign");
    let (rule, sample) = copy_case(&sigma, BITSADMIN_RULE, &dir);
    let (_, other_sample) = copy_case(&sigma, OTHER_RULE, &dir.join("other"));
    let rule_arg = rule.to_str().expect("utf-8");

    // Another rule's sample is benign for this rule: the regression test and the benign
    // test pass.
    let (code, stdout, stderr) = sigil(&[
        "test",
        rule_arg,
        "--format",
        "json",
        "--benign",
        other_sample.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report = json_of(&stdout);
    assert_eq!(report["total"], 2);
    let benign = &report["tests"][1];
    assert_eq!(benign["expected"], 0);
    assert_eq!(benign["found"], 0);
    assert_eq!(benign["sample"], other_sample.display().to_string());

    // Its own sample is not benign for it.
    let (code, stdout, _) = sigil(&[
        "test",
        rule_arg,
        "--format",
        "json",
        "--benign",
        sample.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(1), "{stdout}");
    let report = json_of(&stdout);
    assert_eq!(report["failed"], 1);
    assert_eq!(report["tests"][1]["found"], 1);
    assert_eq!(report["tests"][1]["ok"], false);
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn missing_data_and_bad_paths_are_reported() {
    let dir = scratch("missing");
    let rule = dir.join("rule.yml");
    std::fs::write(
        &rule,
        "title: t\nid: 929a690e-bef0-4204-a928-ef5e620d6fcc\nstatus: test\nlevel: low\n\
         regression_tests_path: regression_data/nowhere/info.yml\n\
         logsource: {product: windows, category: process_creation}\n\
         detection:\n  selection:\n    Image|endswith: x.exe\n  condition: selection\n",
    )
    .expect("write");
    let rule_arg = rule.to_str().expect("utf-8");
    let (code, stdout, _) = sigil(&["test", rule_arg]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("regression_data/nowhere/info.yml"),
        "{stdout}"
    );

    // No regression data and no benign logs: nothing to test is a usage error.
    std::fs::write(
        &rule,
        std::fs::read_to_string(&rule)
            .expect("read")
            .replace("regression_tests_path", "# regression_tests_path"),
    )
    .expect("write");
    let (code, _, stderr) = sigil(&["test", rule_arg]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no test to run"), "{stderr}");
    let (code, _, stderr) = sigil(&["test", "/no/such/rules"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("/no/such/rules"), "{stderr}");
    std::fs::remove_dir_all(&dir).expect("clean up");
}
