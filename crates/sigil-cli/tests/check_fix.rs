//! `sigil check --fix` over a copy of the whole Sigma corpus: every fixed file still
//! reads, its rules are the same rules (IR without spans, up to what the safe fixes
//! change on purpose), and a second `--fix` changes nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sigil_sigma::lint::autofix::same_meaning;

const FOLDERS: [&str; 5] = [
    "rules",
    "rules-emerging-threats",
    "rules-threat-hunting",
    "rules-placeholder",
    "deprecated",
];

/// A rule with one finding of each kind `--fix` repairs, and comments to keep.
const FIXABLE: &str = "title: Fixable Example # the title  \n\
id: 5d0b7e0c-3c0e-4c89-9c39-2b1b6e0f4a11\n\
status: test\n\
description: A rule with findings that have safe fixes.\n\
author: sigil\n\
date: 2024-05-01\n\
modified: 2023-01-10\n\
tags:\n    - attack.execution\n    - attack.T1059\n    - attack.execution\n\
logsource:\n    category: process_creation\n    product: windows\n\
detection:\n    selection:\n        # the shells\n        Image|endswith:\n            - '\\cmd.exe'\n            - '\\pwsh.exe'\n            - '\\cmd.exe'\n        CommandLine|contains: '*-enc*'\n\
    condition: selection\n\
falsepositives:\n    - Unknown\n\
level: low\n";

fn copy_tree(from: &Path, to: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    std::fs::create_dir_all(to).expect("folder");
    for entry in std::fs::read_dir(from).expect("readable corpus").flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &target, files);
        } else {
            let bytes = std::fs::read(&path).expect("readable file");
            std::fs::write(&target, &bytes).expect("writable copy");
            files.insert(target, bytes);
        }
    }
}

fn fix(dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .args(["check", "--fix", "--all-lints", "--format", "json"])
        .arg(dir)
        .output()
        .expect("sigil runs");
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn fixes_over_the_corpus_keep_every_rule() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/sigma");
    if !corpus.is_dir() {
        println!("skipped: ../shared/corpus/sigma not found");
        return;
    }
    let dir = std::env::temp_dir().join(format!("sigil-fix-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut before = BTreeMap::new();
    for folder in FOLDERS {
        copy_tree(&corpus.join(folder), &dir.join(folder), &mut before);
    }
    let fixable = dir.join("rules/proc_creation_win_fixable_example.yml");
    std::fs::write(&fixable, FIXABLE).expect("write");
    before.insert(fixable.clone(), FIXABLE.as_bytes().to_vec());

    let first = fix(&dir);
    assert!(first.contains("fixed "), "{first}");
    let mut changed = 0;
    let mut after = BTreeMap::new();
    for (path, old) in &before {
        let new = std::fs::read(path).expect("file still there");
        if &new != old {
            changed += 1;
            let (a, b) = (
                sigil_sigma::parse_bytes(old),
                sigil_sigma::parse_bytes(&new),
            );
            assert!(
                !b.has_errors() || a.has_errors(),
                "{} no longer reads: {:?}",
                path.display(),
                b.diagnostics
            );
            assert!(
                same_meaning(&a, &b),
                "{}: the rules changed",
                path.display()
            );
        }
        after.insert(path.clone(), new);
    }
    // The example was fixed, comments kept.
    let fixed = String::from_utf8(after[&fixable].clone()).expect("utf-8");
    assert!(
        fixed.contains("title: Fixable Example # the title\n"),
        "{fixed}"
    );
    assert!(fixed.contains("        # the shells\n"), "{fixed}");
    assert!(fixed.contains("    - attack.t1059\n"), "{fixed}");
    assert_eq!(fixed.matches("attack.execution").count(), 1, "{fixed}");
    assert_eq!(fixed.matches("cmd.exe").count(), 1, "{fixed}");
    assert!(fixed.contains("CommandLine|contains: '-enc'\n"), "{fixed}");
    assert!(
        fixed.contains("date: 2023-01-10\nmodified: 2024-05-01\n"),
        "{fixed}"
    );
    assert!(changed >= 1);
    println!("--fix changed {changed} of {} files", before.len());

    // A second pass has nothing left to fix.
    let second = fix(&dir);
    assert!(second.contains("fixed 0 findings in 0 files"), "{second}");
    for (path, bytes) in &after {
        assert_eq!(
            &std::fs::read(path).expect("file still there"),
            bytes,
            "{} changed on the second --fix",
            path.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Makes `path` unwritable, for the user running the tests: read-only permissions, and
/// for root (whom permissions do not stop) the immutable attribute. `false` if neither
/// works here.
fn make_unwritable(path: &Path) -> bool {
    let mut perms = std::fs::metadata(path).expect("file").permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(path, perms).expect("permissions");
    let writable = || std::fs::OpenOptions::new().write(true).open(path).is_ok();
    if writable() {
        let _ = Command::new("chattr").arg("+i").arg(path).status();
    }
    !writable()
}

#[test]
fn a_fix_that_cannot_be_written_fails_the_run() {
    let dir = std::env::temp_dir().join(format!("sigil-fix-ro-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("folder");
    let path = dir.join("proc_creation_win_fixable_example.yml");
    std::fs::write(&path, FIXABLE).expect("write");
    let unwritable = make_unwritable(&path);
    let out = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .args(["check", "--fix", "--format", "json"])
        .arg(&path)
        .output()
        .expect("sigil runs");
    let _ = Command::new("chattr").arg("-i").arg(&path).status();
    let _ = std::fs::remove_dir_all(&dir);
    if !unwritable {
        assert!(
            std::env::var_os("CI").is_none(),
            "cannot make a file unwritable here"
        );
        println!("skipped: cannot make a file unwritable here");
        return;
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("unwritable-file"), "{stdout}");
    assert!(stdout.contains("cannot write the fixes"), "{stdout}");
}
