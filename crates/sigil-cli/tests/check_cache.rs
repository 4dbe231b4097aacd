//! `sigil check` with the check cache and without it (`--no-cache`): the same diagnostics,
//! summary and exit code, byte for byte, over the shared Sigma corpus (every folder: broken
//! rules, non-rule YAML and duplicates included) and the Elastic rules, with each choice
//! of checks; after files change; with a damaged cache.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn check(cache_home: &Path, args: &[&str], paths: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigil"))
        .env("XDG_CACHE_HOME", cache_home)
        .arg("check")
        .args(args)
        .args(paths)
        .output()
        .expect("sigil runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sigil-check-cache-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn assert_same(what: &str, out: &Output, plain: &Output) {
    assert_eq!(out.status.code(), plain.status.code(), "{what}: exit code");
    assert!(out.stdout == plain.stdout, "{what}: other diagnostics");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&plain.stderr),
        "{what}: another summary"
    );
}

/// The cache files of `home`.
fn caches(home: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(home.join("sigil"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// Each cache file's modification time.
fn stamps(home: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    let mut list: Vec<_> = caches(home)
        .into_iter()
        .map(|p| {
            let modified = std::fs::metadata(&p)
                .expect("scratch files")
                .modified()
                .expect("scratch files");
            (p, modified)
        })
        .collect();
    list.sort();
    list
}

#[test]
fn cached_and_uncached_checks_report_the_same() {
    let corpus = root().join("../shared/corpus");
    let paths: Vec<PathBuf> = if corpus.join("sigma").is_dir() {
        vec![corpus.join("sigma"), corpus.join("elastic")]
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared/corpus is missing (CI needs it)"
        );
        println!("../shared/corpus not found: the examples and fixtures only");
        vec![
            root().join("examples/rules"),
            root().join("crates/sigil-sigma/tests/fixtures"),
        ]
    };
    let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let home = scratch("corpus");
    for args in [&[][..], &["--format", "json"][..], &["--all-lints"][..]] {
        let mut no_cache = args.to_vec();
        no_cache.push("--no-cache");
        let plain = check(&home, &no_cache, &paths);
        assert_eq!(plain.status.code(), Some(1), "the corpus has errors");
        assert!(!plain.stdout.is_empty());
        let writing = check(&home, args, &paths);
        assert!(!caches(&home).is_empty(), "{args:?}: a cache is written");
        let written = stamps(&home);
        let reading = check(&home, args, &paths);
        assert_eq!(
            stamps(&home),
            written,
            "{args:?}: every file's outcome came from the cache (it was not written again)"
        );
        assert_same(&format!("{args:?} writing"), &writing, &plain);
        assert_same(&format!("{args:?} reading"), &reading, &plain);
    }
    assert_eq!(
        caches(&home).len(),
        2,
        "one cache per choice of checks (text and JSON share one)"
    );
    std::fs::remove_dir_all(&home).expect("removes the scratch folder");
}

const GOOD: &str = "title: Good\nid: 3f2e1d0c-9b8a-4765-8432-10fedcba9876\nstatus: test\nlevel: low\nlogsource:\n  product: windows\ndetection:\n  selection:\n    Image|endswith: '\\cmd.exe'\n  condition: selection\n";

#[test]
fn edited_files_and_a_damaged_cache_are_checked_anew() {
    let home = scratch("edits-home");
    let rules = scratch("edits-rules");
    for entry in std::fs::read_dir(root().join("examples/rules")).expect("scratch files") {
        let path = entry.expect("scratch files").path();
        std::fs::copy(&path, rules.join(path.file_name().expect("scratch files")))
            .expect("scratch files");
    }
    std::fs::write(rules.join("good.yml"), GOOD).expect("scratch files");
    std::fs::write(rules.join("notes.yml"), "just: [some, notes\n").expect("scratch files");
    let paths = [rules.as_path()];
    let run = |args: &[&str]| check(&home, args, &paths);
    let steps: [(&str, &dyn Fn()); 4] = [
        ("first", &|| {}),
        ("a new error", &|| {
            std::fs::write(
                rules.join("good.yml"),
                GOOD.replace("level: low", "level: loud"),
            )
            .expect("scratch files");
        }),
        ("a duplicate id", &|| {
            std::fs::write(rules.join("copy.yml"), GOOD.replace("Good", "Copy"))
                .expect("scratch files");
        }),
        ("a file removed", &|| {
            std::fs::remove_file(rules.join("copy.yml")).expect("scratch files");
        }),
    ];
    for (what, change) in steps {
        change();
        let plain = run(&["--no-cache"]);
        assert_same(&format!("{what}, writing"), &run(&[]), &plain);
        assert_same(&format!("{what}, reading"), &run(&[]), &plain);
    }
    let plain = run(&["--no-cache"]);
    assert!(
        String::from_utf8_lossy(&plain.stdout).contains("level"),
        "the edited file's error is reported"
    );
    let cache = caches(&home);
    assert_eq!(cache.len(), 1);
    let mut bytes = std::fs::read(&cache[0]).expect("scratch files");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    std::fs::write(&cache[0], &bytes).expect("scratch files");
    assert_same("a damaged cache", &run(&[]), &plain);
    assert_ne!(
        std::fs::read(&cache[0]).expect("scratch files"),
        bytes,
        "a damaged cache is written anew"
    );
    assert_same("after the damage", &run(&[]), &plain);
    std::fs::remove_dir_all(&home).expect("scratch files");
    std::fs::remove_dir_all(&rules).expect("scratch files");
}
