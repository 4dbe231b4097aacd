//! Every query sigil writes for the Sigma corpus, run through the target engine's own
//! offline parser: a query must be valid where it is emitted (a rule the engine cannot
//! express fails with the reason instead). Each target is converted through its default
//! pipeline and without any (the two forms the reference files use).
//!
//! A target whose engine has an offline parser registers it in [`PARSERS`].

mod common;

use std::path::{Path, PathBuf};

use sigil_backend::{Conversion, TargetInfo};

/// `(target, language)`: the language names a checker of `tests/parsers/` (see
/// `common::engine`).
const PARSERS: &[(&str, &str)] = &[
    ("kusto", "kusto"),
    ("loki", "logql"),
    ("eql", "eql"),
    ("lucene", "lucene"),
    ("opensearch", "lucene"),
    ("sqlite", "sql:sqlite"),
    ("duckdb", "sql:duckdb"),
    ("clickhouse", "sql:clickhouse"),
    ("spark", "sql:spark"),
];

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/sigma");
    dir.is_dir().then_some(dir)
}

/// Every rule of the four rule folders, with its path.
fn rules(corpus: &Path) -> Vec<(String, sigil_core::Rule)> {
    let mut files = Vec::new();
    for dir in [
        "rules",
        "rules-emerging-threats",
        "rules-threat-hunting",
        "rules-placeholder",
    ] {
        let mut stack = vec![corpus.join(dir)];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "yml") {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let rule = sigil_sigma::parse_str(&text).rules.into_iter().next()?;
            let rel = p.strip_prefix(corpus).unwrap_or(&p).display().to_string();
            Some((rel, rule))
        })
        .collect()
}

#[test]
fn every_emitted_query_parses_in_its_engine() {
    let Some(corpus) = corpus() else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let langs: Vec<&str> = PARSERS.iter().map(|(_, l)| *l).collect();
    if let Some(why) = common::engine::missing(&langs) {
        println!("skipped: {why}");
        return;
    }
    let rules = rules(&corpus);
    // (target, path, query), each distinct query of a rule once.
    let mut emitted: Vec<(&str, &str, String)> = Vec::new();
    for (target, lang) in PARSERS {
        let info = TargetInfo::find(target).expect("a registered target");
        let mut conversions = vec![Conversion::new(info, Vec::new())];
        if info.default_pipeline.is_some() {
            conversions.push(Conversion::with_default(info).expect("default pipeline"));
        }
        let before = emitted.len();
        for (path, rule) in &rules {
            let mut mine: Vec<String> = Vec::new();
            for c in &conversions {
                if let Ok(converted) = c.convert(rule) {
                    mine.extend(converted.queries);
                }
            }
            mine.sort();
            mine.dedup();
            emitted.extend(mine.into_iter().map(|q| (*lang, path.as_str(), q)));
        }
        println!("{target}: {} queries", emitted.len() - before);
    }
    let items: Vec<(&str, &str)> = emitted.iter().map(|(l, _, q)| (*l, q.as_str())).collect();
    let results = common::engine::check(&items);
    let mut invalid: Vec<String> = Vec::new();
    let mut per_cause = std::collections::BTreeMap::<String, usize>::new();
    for ((lang, path, q), r) in emitted.iter().zip(&results) {
        if let Some(e) = r {
            invalid.push(format!("[{lang}] {path}: {e}\n      {q}"));
            let cause: String = e.chars().take(60).collect();
            *per_cause.entry(format!("[{lang}] {cause}")).or_default() += 1;
        }
    }
    for (cause, n) in &per_cause {
        println!("{n:5} x {cause}");
    }
    for line in invalid.iter().take(200) {
        println!("{line}");
    }
    assert!(
        invalid.is_empty(),
        "{} of {} queries are rejected by their engine's parser",
        invalid.len(),
        emitted.len()
    );
}
