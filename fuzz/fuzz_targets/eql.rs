//! Fuzzes the EQL parser, its lowering into the IR and the evaluator: any text must parse
//! or fail with an in-bounds position, never panic, hang or overflow the stack.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_elastic::eql::{self, LowerOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match eql::parse_query(text) {
        Ok(query) => {
            let lowered = eql::lower_query(&query, text, "fuzz", &LowerOptions::default(), &|o| {
                sigil_core::Span::new(1, o as u32 + 1, o as u32)
            });
            let _ = lowered;
            let events = vec![eql::eval::EvalEvent {
                fields: serde_json::json!({"event": {"category": "process"}, "a": [1, "x"]}),
                millis: Some(0),
            }];
            let _ = eql::eval::evaluate(&query, &events, &eql::eval::EvalOptions::default());
        }
        Err(e) => assert!(e.offset <= text.len(), "offset out of bounds: {e:?}"),
    }
    // The same text as the query of a rule file.
    let toml = format!(
        "[rule]\nrule_id = \"f\"\nname = \"f\"\ntype = \"eql\"\nlanguage = \"eql\"\nquery = '''\n{}\n'''\n",
        text.replace("'''", "")
    );
    let _ = sigil_elastic::parse_rule_toml(&toml);
});
