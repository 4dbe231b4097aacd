//! Differential harness against the reference converter (pySigma): every rule pySigma
//! converted must convert here to the same queries (after whitespace normalisation) for at
//! least 97% of the rules of each target. Differences are printed grouped by cause.
//!
//! `SIGIL_ORACLE_DIR` points the harness at another folder of `conv-*.jsonl` files made
//! the same way (e.g. for the held-out rules), instead of `../shared/oracle`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use sigil_backend::{Conversion, TargetInfo};
use sigil_pipeline::builtin;

/// How the reference's output holds the query.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// Each output is a query.
    Queries,
    /// Each output is a JSON document (`{"rules": [...]}`) whose rules hold the query under
    /// this key (Sumo Logic's rule JSON).
    RuleJson(&'static str),
}

fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    dir.join("corpus").is_dir().then_some(dir)
}

fn normalise(q: &str) -> String {
    q.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A coarse cause for a mismatch: the shape of the text where the two first differ.
fn cause(expected: &str, got: &str) -> String {
    let e: Vec<char> = expected.chars().collect();
    let g: Vec<char> = got.chars().collect();
    let i = e.iter().zip(&g).take_while(|(a, b)| a == b).count();
    let shape = |v: &[char]| -> String {
        v.iter()
            .skip(i.saturating_sub(3))
            .take(10)
            .map(|c| if c.is_alphanumeric() { 'a' } else { *c })
            .collect()
    };
    format!("expected `{}` got `{}`", shape(&e), shape(&g))
}

struct Outcome {
    total: usize,
    equal: usize,
    /// Rules whose reference query is not valid in the language (left out of `total`).
    reference_invalid: Vec<String>,
    /// sigil queries that are not valid in the language.
    invalid: Vec<String>,
    causes: BTreeMap<String, Vec<String>>,
    /// Rules whose reference query is what sigil writes with one of the reference's
    /// documented defects (left out of `total`), by defect.
    reference_defects: BTreeMap<&'static str, usize>,
}

/// A documented defect of the reference: its name and a renderer that writes sigil's query
/// with that defect. A rule whose reference query equals that renderer's, and not sigil's,
/// is counted under the defect and left out of the measure.
pub type Defect = (&'static str, &'static TargetInfo);

/// The syntax check of a target's language on a whole query: `Err(reason)` for a query
/// the language's parser would reject.
pub type Syntax = fn(&str) -> Result<(), String>;

fn expected_queries(row: &Json, expect: Expect) -> Vec<String> {
    let outputs = row["queries"].as_array().into_iter().flatten();
    match expect {
        Expect::Queries => outputs.filter_map(Json::as_str).map(normalise).collect(),
        Expect::RuleJson(key) => outputs
            .filter_map(Json::as_str)
            .filter_map(|text| serde_json::from_str::<Json>(text).ok())
            .flat_map(|doc| {
                doc["rules"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r[key].as_str().map(normalise))
                    .collect::<Vec<_>>()
            })
            .collect(),
    }
}

fn oracle_dir(shared: &Path) -> PathBuf {
    std::env::var_os("SIGIL_ORACLE_DIR").map_or_else(|| shared.join("oracle"), PathBuf::from)
}

/// A syntax check that may hold state (the engines' verdicts, see [`check_engine`]).
type SyntaxRef<'a> = &'a dyn Fn(&str) -> Result<(), String>;

fn run(
    file: &str,
    target: &str,
    pipelines: &[&str],
    expect: Expect,
    syntax: Option<SyntaxRef<'_>>,
    defects: &[Defect],
) -> Option<Outcome> {
    let Some(shared) = shared() else {
        println!("skipped: ../shared/corpus not found");
        return None;
    };
    let mut set = Vec::new();
    for name in pipelines {
        let Some(p) = builtin(name) else {
            println!("skipped {file}: pipeline `{name}` is not built in");
            return None;
        };
        set.push(p);
    }
    let imitations: Vec<(&str, Conversion)> = defects
        .iter()
        .map(|(name, t)| (*name, Conversion::new(t, set.clone())))
        .collect();
    let conversion = Conversion::new(TargetInfo::find(target).expect("a registered target"), set);
    let Ok(text) = std::fs::read_to_string(oracle_dir(&shared).join(file)) else {
        println!("skipped: {file} not found");
        return None;
    };
    let mut out = Outcome {
        total: 0,
        equal: 0,
        reference_invalid: Vec::new(),
        invalid: Vec::new(),
        causes: BTreeMap::new(),
        reference_defects: BTreeMap::new(),
    };
    for line in text.lines() {
        let Ok(row) = serde_json::from_str::<Json>(line) else {
            continue;
        };
        let path = row["path"].as_str().unwrap_or_default().to_string();
        let converted = convert_file(&shared, &path, &conversion);
        // Every query sigil writes must be valid, for the rules the reference converts or not.
        if let (Some(syntax), Ok(got)) = (syntax, &converted) {
            for q in got {
                if let Err(e) = syntax(q) {
                    out.invalid.push(format!("{path}: {e}\n      {q}"));
                }
            }
        }
        if row["ok"] != Json::Bool(true) {
            continue;
        }
        let expected = expected_queries(&row, expect);
        if let Some(syntax) = syntax
            && let Some(e) = expected.iter().find_map(|q| syntax(q).err())
        {
            out.reference_invalid.push(format!("{path}: {e}"));
            continue;
        }
        // A defect sigil refuses to write (its rule fails here) is looked for as well.
        if converted.as_ref().map_or(true, |got| *got != expected)
            && let Some((name, _)) = imitations
                .iter()
                .find(|(_, c)| convert_file(&shared, &path, c).is_ok_and(|q| q == expected))
        {
            *out.reference_defects.entry(name).or_default() += 1;
            continue;
        }
        out.total += 1;
        match converted {
            Ok(got) if got == expected => out.equal += 1,
            Ok(got) => {
                let key = match (expected.first(), got.first()) {
                    (Some(e), Some(g)) => cause(e, g),
                    _ => format!("query count {} vs {}", expected.len(), got.len()),
                };
                out.causes.entry(key).or_default().push(format!(
                    "{path}\n      pySigma: {}\n      sigil:   {}",
                    expected.join(" ;; "),
                    got.join(" ;; ")
                ));
            }
            Err(cause) => out.causes.entry(cause).or_default().push(path),
        }
    }
    Some(out)
}

/// sigil's queries for one corpus file (whitespace-normalised), or the cause of failure.
fn convert_file(shared: &Path, path: &str, conversion: &Conversion) -> Result<Vec<String>, String> {
    let source =
        std::fs::read_to_string(shared.join("corpus/sigma").join(path)).unwrap_or_default();
    let parsed = sigil_sigma::parse_str(&source);
    let rule = parsed
        .rules
        .first()
        .ok_or_else(|| "sigil: no rule parsed".to_string())?;
    let processed = conversion.process(rule).map_err(|e| {
        format!(
            "pipeline error: {}",
            e.to_string().chars().take(60).collect::<String>()
        )
    })?;
    let got = conversion.render(&processed).map_err(|e| {
        format!(
            "sigil error: {}",
            e.to_string().chars().take(70).collect::<String>()
        )
    })?;
    Ok(got.iter().map(|q| normalise(q)).collect())
}

/// Checks that at least 97% of the rules the reference converted convert equal here.
pub fn check(file: &str, target: &str, pipelines: &[&str]) {
    check_at(file, target, pipelines, 0.97);
}

/// Like [`check`], with the share of rules that must be equal.
pub fn check_at(file: &str, target: &str, pipelines: &[&str], required: f64) {
    check_with(file, target, pipelines, Expect::Queries, required);
}

/// Like [`check`]; rules whose reference query `syntax` rejects are left out of the
/// measure (and listed), and every query sigil writes must pass `syntax`.
pub fn check_valid(file: &str, target: &str, pipelines: &[&str], syntax: Syntax) {
    check_full(file, target, pipelines, Expect::Queries, 0.97, Some(syntax));
}

/// Like [`check_at`], reading the reference's queries as `expect` says.
pub fn check_with(file: &str, target: &str, pipelines: &[&str], expect: Expect, required: f64) {
    check_full(file, target, pipelines, expect, required, None);
}

/// The general form of the checks above.
pub fn check_full(
    file: &str,
    target: &str,
    pipelines: &[&str],
    expect: Expect,
    required: f64,
    syntax: Option<Syntax>,
) {
    let syntax = syntax.map(|f| move |q: &str| f(q));
    let Some(out) = run(
        file,
        target,
        pipelines,
        expect,
        syntax.as_ref().map(|f| f as SyntaxRef<'_>),
        &[],
    ) else {
        return;
    };
    report(file, &out, required);
}

/// Like [`check`], with the engine's own offline parser for `lang` (see
/// [`super::engine`]) as the syntax check: rules whose reference query the engine rejects are
/// left out of the measure, and every query sigil writes must be accepted.
pub fn check_engine(file: &str, target: &str, pipelines: &[&str], lang: &str, required: f64) {
    check_engine_full(file, target, pipelines, lang, required, &[]);
}

/// Like [`check_engine`], leaving out the rules whose reference query has one of `defects`
/// (see [`check_with_defects`]); at least 97% of the rest must be equal.
pub fn check_engine_with_defects(
    file: &str,
    target: &str,
    pipelines: &[&str],
    lang: &str,
    defects: &[Defect],
) {
    check_engine_full(file, target, pipelines, lang, 0.97, defects);
}

fn check_engine_full(
    file: &str,
    target: &str,
    pipelines: &[&str],
    lang: &str,
    required: f64,
    defects: &[Defect],
) {
    if let Some(why) = super::engine::missing(&[lang]) {
        println!("skipped {file}: {why}");
        return;
    }
    // A first pass records every query the check looks at; the engine judges them at once.
    let seen = std::cell::RefCell::new(Vec::<String>::new());
    let record = |q: &str| {
        seen.borrow_mut().push(q.to_string());
        Ok(())
    };
    if run(
        file,
        target,
        pipelines,
        Expect::Queries,
        Some(&record),
        defects,
    )
    .is_none()
    {
        return;
    }
    let mut queries = seen.into_inner();
    queries.sort();
    queries.dedup();
    let items: Vec<(&str, &str)> = queries.iter().map(|q| (lang, q.as_str())).collect();
    let verdicts: std::collections::HashMap<&str, Option<String>> = queries
        .iter()
        .map(String::as_str)
        .zip(super::engine::check(&items))
        .collect();
    let judge = |q: &str| match verdicts.get(q) {
        Some(Some(e)) => Err(e.clone()),
        _ => Ok(()),
    };
    if let Some(out) = run(
        file,
        target,
        pipelines,
        Expect::Queries,
        Some(&judge),
        defects,
    ) {
        report(file, &out, required);
    }
}

fn report(file: &str, out: &Outcome, required: f64) {
    let mut causes: Vec<_> = out.causes.iter().collect();
    causes.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    for (cause, cases) in &causes {
        println!("[{file}] {} x {cause}", cases.len());
        for c in cases.iter().take(2) {
            println!("    {c}");
        }
    }
    if !out.reference_invalid.is_empty() {
        println!(
            "[{file}] {} reference queries not valid, left out of the measure",
            out.reference_invalid.len()
        );
    }
    for r in out.reference_invalid.iter().take(5) {
        println!("    {r}");
    }
    for (defect, n) in &out.reference_defects {
        println!(
            "[{file}] {n} reference queries with a documented defect ({defect}), left out of the measure"
        );
    }
    for r in &out.invalid {
        println!("[{file}] sigil query not valid: {r}");
    }
    assert!(
        out.invalid.is_empty(),
        "{file}: {} sigil queries are not valid",
        out.invalid.len()
    );
    let rate = out.equal as f64 / out.total.max(1) as f64;
    println!(
        "[{file}] {} / {} equal ({:.2}%)",
        out.equal,
        out.total,
        rate * 100.0
    );
    assert!(
        rate >= required,
        "{file}: only {:.2}% of queries equal pySigma's",
        rate * 100.0
    );
}

/// Like [`check_full`], leaving out the rules whose reference query has one of `defects`
/// (each counted and printed); `syntax`, when given, must accept every query sigil writes.
pub fn check_with_defects(
    file: &str,
    target: &str,
    pipelines: &[&str],
    syntax: Option<Syntax>,
    defects: &[Defect],
) {
    check_expect_with_defects(file, target, pipelines, Expect::Queries, syntax, defects);
}

/// Like [`check_with_defects`], reading the reference's queries as `expect` says.
pub fn check_expect_with_defects(
    file: &str,
    target: &str,
    pipelines: &[&str],
    expect: Expect,
    syntax: Option<Syntax>,
    defects: &[Defect],
) {
    let syntax = syntax.map(|f| move |q: &str| f(q));
    let Some(out) = run(
        file,
        target,
        pipelines,
        expect,
        syntax.as_ref().map(|f| f as SyntaxRef<'_>),
        defects,
    ) else {
        return;
    };
    report(file, &out, 0.97);
}
