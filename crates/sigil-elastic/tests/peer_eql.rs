//! The EQL reference implementation's own query suite (`peer-tests/eql`): every query
//! is parsed and evaluated over `test_data.json`, and the serial ids of the matching
//! events must come out as the suite expects, in order.

use std::path::Path;

use serde_json::Value as Json;
use sigil_elastic::eql::eval::{EvalEvent, EvalOptions, evaluate};
use sigil_elastic::eql::parse_query;

/// Windows FILETIME (100 ns units) to milliseconds.
fn filetime_millis(v: &Json) -> Option<i64> {
    v.as_i64().map(|t| t / 10_000)
}

#[test]
fn reference_suite() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peer-tests/eql");
    if !dir.is_dir() {
        println!("skipped: ../shared/corpus not found");
        return;
    }
    let data: Vec<Json> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("test_data.json")).expect("test data"),
    )
    .expect("JSON");
    let events: Vec<EvalEvent> = data
        .into_iter()
        .map(|fields| EvalEvent {
            millis: fields.get("timestamp").and_then(filetime_millis),
            fields,
        })
        .collect();
    let suite: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("test_queries.toml")).expect("suite"))
            .expect("TOML");
    let queries = suite["queries"].as_array().expect("queries");
    let (mut passed, mut failed) = (0, Vec::new());
    for q in queries {
        let text = q["query"].as_str().expect("query text");
        let expected: Vec<i64> = q["expected_event_ids"]
            .as_array()
            .expect("ids")
            .iter()
            .filter_map(toml::Value::as_integer)
            .collect();
        let options = EvalOptions {
            category_field: "event_type".to_string(),
            case_insensitive: q
                .get("case_insensitive")
                .and_then(toml::Value::as_bool)
                .unwrap_or(false),
        };
        let got: Result<Vec<i64>, String> = parse_query(text)
            .map_err(|e| format!("parse error at {}: {}", e.offset, e.message))
            .map(|ast| {
                evaluate(&ast, &events, &options)
                    .iter()
                    .flat_map(|m| m.events.iter())
                    .filter_map(|&i| events[i].fields.get("serial_event_id")?.as_i64())
                    .collect()
            });
        match got {
            Ok(ids) if ids == expected => passed += 1,
            other => failed.push(format!(
                "{}\n    expected {expected:?}\n    got      {other:?}",
                text.trim()
            )),
        }
    }
    println!("{passed} of {} reference queries pass", queries.len());
    assert!(
        failed.is_empty(),
        "{} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert_eq!(passed, queries.len());
}
