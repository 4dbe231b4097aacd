//! The SigmaHQ rules through the `microsoft_xdr` pipeline, checked against pySigma's
//! KustoBackend + `microsoft_xdr_pipeline()` conversions in `../shared/oracle`: a rule fails
//! in sigil when it failed in pySigma, and the chosen table is the one pySigma's query starts
//! with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sigil_pipeline::{PipelineError, PipelineSet, Scalar, builtin};

fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    dir.join("corpus").is_dir().then_some(dir)
}

/// One line of the reference file.
struct Reference {
    path: String,
    ok: bool,
    /// The table the first query starts with (`Table\n| where ...`).
    table: Option<String>,
    /// The exception class and the start of its message.
    error: Option<String>,
}

fn references(shared: &Path) -> Vec<Reference> {
    let text = std::fs::read_to_string(shared.join("oracle/conv-kusto-xdr.jsonl"))
        .expect("the reference conversions are readable");
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|v| {
            Some(Reference {
                path: v["path"].as_str()?.to_string(),
                ok: v["ok"].as_bool()?,
                table: v["queries"][0]
                    .as_str()
                    .and_then(|q| q.split_once("\n| where "))
                    .map(|(t, _)| t.to_string()),
                error: v["error"].as_str().map(|e| {
                    let short: String = e.chars().take(60).collect();
                    short
                }),
            })
        })
        .collect()
}

/// What kind of failure an error is, for grouping.
fn kind(e: &PipelineError) -> &'static str {
    match e {
        PipelineError::FieldsNotInSchema { .. } => "fields not in the table",
        PipelineError::Transformation { message, .. } if message.contains("table name") => {
            "no table"
        }
        PipelineError::Transformation { message, .. } if message.contains("hash") => {
            "unusable Hashes"
        }
        _ => "other",
    }
}

#[test]
fn microsoft_xdr_fails_and_chooses_tables_as_pysigma() {
    let Some(shared) = shared() else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let root = shared.join("corpus/sigma");
    let set = PipelineSet::new(vec![builtin("microsoft_xdr").expect("built in")]);
    let refs = references(&shared);
    assert!(refs.len() > 1000, "only {} reference lines", refs.len());

    let (mut compared, mut agree, mut tables_compared) = (0usize, 0usize, 0usize);
    // cause → examples
    let mut disagreements: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut table_mismatches = Vec::new();
    for r in &refs {
        let Ok(text) = std::fs::read_to_string(root.join(&r.path)) else {
            disagreements
                .entry("rule file missing".into())
                .or_default()
                .push(r.path.clone());
            continue;
        };
        let file = sigil_sigma::parse_str(&text);
        let Some(rule) = file.rules.first() else {
            disagreements
                .entry("sigil cannot read the rule".into())
                .or_default()
                .push(r.path.clone());
            continue;
        };
        compared += 1;
        let ours = set.process(rule);
        let cause = match (&ours, r.ok) {
            (Ok(_), true) => None,
            (Err(e), false) => {
                // Same outcome; the same reason too, when both say which.
                let theirs = r.error.as_deref().unwrap_or_default();
                let same = match kind(e) {
                    "no table" => theirs.contains("Unable to determine table"),
                    "fields not in the table" => theirs.contains("Invalid SigmaDetectionItem"),
                    "unusable Hashes" => theirs.starts_with("InvalidHashAlgorithmError"),
                    _ => true,
                };
                (!same).then(|| format!("both fail, for other reasons: sigil {}", kind(e)))
            }
            (Ok(_), false) => Some(format!(
                "pySigma fails, sigil passes: {}",
                r.error.as_deref().unwrap_or_default()
            )),
            (Err(e), true) => Some(format!("sigil fails ({}), pySigma passes", kind(e))),
        };
        if ours.is_ok() == r.ok {
            agree += 1;
        }
        if let Some(cause) = cause {
            let detail = match &ours {
                Err(e) => format!("{}: {e}", r.path),
                Ok(_) => r.path.clone(),
            };
            disagreements.entry(cause).or_default().push(detail);
        }
        if let (Ok(p), Some(table)) = (&ours, &r.table) {
            tables_compared += 1;
            let chosen = match p.state.get("query_table") {
                Some(Scalar::Str(s)) => s.as_str(),
                _ => "(none)",
            };
            if chosen != table {
                table_mismatches.push(format!("{}: sigil {chosen}, pySigma {table}", r.path));
            }
        }
    }

    let share = agree as f64 / compared as f64;
    println!(
        "microsoft_xdr: {agree} of {compared} rules agree on ok/failed ({:.2}%); {} tables compared, {} differ",
        share * 100.0,
        tables_compared,
        table_mismatches.len()
    );
    for (cause, examples) in &disagreements {
        println!("  {} × {cause}", examples.len());
        for e in examples.iter().take(5) {
            println!("      {}", e.lines().next().unwrap_or_default());
        }
    }
    for m in &table_mismatches {
        println!("  table differs: {m}");
    }
    assert!(compared > 1000, "only {compared} rules compared");
    assert!(
        share >= 0.97,
        "only {:.2}% agree on ok/failed",
        share * 100.0
    );
    assert!(
        tables_compared > 800,
        "only {tables_compared} tables compared"
    );
    assert!(
        table_mismatches.is_empty(),
        "{} tables differ",
        table_mismatches.len()
    );
}
