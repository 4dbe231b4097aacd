//! The engines' own offline parsers, run over many queries at once: Kusto
//! (`@kusto/language-service-next`), LogQL (`@grafana/lezer-logql`), EQL (Elastic's `eql`
//! with its Elasticsearch syntax), Lucene (`luqum`) and SQL dialects (`sqlglot`).
//!
//! `.ci/run` installs them under `target/parsers/` and names them in `SIGIL_PARSERS_PYTHON`
//! (a Python with `eql`, `luqum`, `sqlglot`) and `SIGIL_PARSERS_NODE_PATH` (a `node_modules`
//! folder); without those variables the folders under `target/parsers/` are used when they
//! exist. The checkers are `tests/parsers/check.py` and `check.mjs`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Which program checks a language.
fn runs_on_node(lang: &str) -> bool {
    matches!(lang, "kusto" | "logql")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> Option<PathBuf> {
    std::env::var_os("SIGIL_PARSERS_PYTHON")
        .map(PathBuf::from)
        .or_else(|| Some(workspace().join("target/parsers/venv/bin/python")))
        .filter(|p| p.exists())
}

fn node_path() -> Option<PathBuf> {
    std::env::var_os("SIGIL_PARSERS_NODE_PATH")
        .map(PathBuf::from)
        .or_else(|| Some(workspace().join("target/parsers/npm/node_modules")))
        .filter(|p| p.is_dir())
}

/// Why the parsers of `langs` cannot run here, if they cannot. Under `CI=true` a missing
/// parser is a failure, never a skip.
pub fn missing(langs: &[&str]) -> Option<String> {
    let mut why = Vec::new();
    if langs.iter().any(|l| !runs_on_node(l)) && python().is_none() {
        why.push(
            "no Python with eql, luqum and sqlglot (SIGIL_PARSERS_PYTHON; .ci/run installs it)",
        );
    }
    if langs.iter().any(|l| runs_on_node(l)) && node_path().is_none() {
        why.push("no node_modules with the Kusto and LogQL parsers (SIGIL_PARSERS_NODE_PATH; .ci/run installs them)");
    }
    if why.is_empty() {
        return None;
    }
    let why = why.join("; ");
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the engines' parsers are missing under CI: {why}"
    );
    Some(why)
}

/// Runs every `(language, query)` through its parser: `None` where the parser accepts the
/// query, else its message. Panics when a parser cannot run (call [`missing`] first).
pub fn check(items: &[(&str, &str)]) -> Vec<Option<String>> {
    let mut results = vec![None; items.len()];
    for node in [false, true] {
        let indices: Vec<usize> = (0..items.len())
            .filter(|&i| runs_on_node(items[i].0) == node)
            .collect();
        if indices.is_empty() {
            continue;
        }
        let mut input = String::new();
        for &i in &indices {
            let (lang, q) = items[i];
            input.push_str(&serde_json::json!({"lang": lang, "q": q}).to_string());
            input.push('\n');
        }
        let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parsers");
        let mut cmd = if node {
            let mut c = Command::new("node");
            c.arg(scripts.join("check.mjs"))
                .env("NODE_PATH", node_path().expect("node_modules"));
            c
        } else {
            let mut c = Command::new(python().expect("python"));
            c.arg(scripts.join("check.py"));
            c
        };
        let answers = run(&mut cmd, input);
        assert_eq!(answers.len(), indices.len(), "one answer per query");
        for (i, a) in indices.into_iter().zip(answers) {
            results[i] = a;
        }
    }
    results
}

fn run(cmd: &mut Command, input: String) -> Vec<Option<String>> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the parser runs");
    let mut stdin = child.stdin.take().expect("stdin");
    // Written from a thread so that a full output pipe cannot block the writer.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("the parser ends");
    writer.join().expect("writer").expect("input written");
    assert!(out.status.success(), "the parser failed: {}", out.status);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Option<String>>(l).expect("a JSON answer"))
        .collect()
}
