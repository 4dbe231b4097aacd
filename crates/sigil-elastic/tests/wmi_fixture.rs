//! The corpus rule "Suspicious Cmd Execution via WMI" fires on an event built for it and
//! stays quiet when one condition is missing.

use std::path::Path;

use serde_json::json;
use sigil_elastic::eql::eval::{EvalEvent, EvalOptions, evaluate};
use sigil_elastic::eql::parse_query;

#[test]
fn suspicious_cmd_execution_via_wmi_fires() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/elastic/rules/windows/execution_suspicious_cmd_wmi.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let file = sigil_elastic::parse_rule_toml(&text);
    let rule = &file.rules[0];
    assert_eq!(rule.title, "Suspicious Cmd Execution via WMI");
    assert!(rule.is_evaluable());
    let query = rule.query.as_ref().expect("query");
    let ast = parse_query(&query.text).expect("parses");
    let event = |parent: &str| EvalEvent {
        fields: json!({
            "event": {"category": "process", "type": "start"},
            "host": {"os": {"type": "windows"}},
            "process": {
                "name": "cmd.exe",
                "parent": {"name": parent},
                "args": ["cmd.exe", "/Q", "/c", "whoami", "1>",
                         "\\\\127.0.0.1\\ADMIN$\\__1700000000.123", "2>&1"]
            }
        }),
        millis: Some(0),
    };
    let events = [
        event("WmiPrvSE.exe"),
        event("explorer.exe"),
        event("wmiprvse.exe"),
    ];
    let hits: Vec<usize> = evaluate(&ast, &events, &EvalOptions::default())
        .into_iter()
        .flat_map(|m| m.events)
        .collect();
    // `:` ignores case, so both spellings of the WMI host fire; explorer does not.
    assert_eq!(hits, [0, 2]);
}
