//! Fuzzes the KQL parser and its lowering, and the Elastic TOML reader on raw bytes: never
//! a panic, a hang or a stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match sigil_elastic::kql::parse_kql(text) {
        Ok(node) => {
            let _ = sigil_elastic::kql::lower_kql(&node, &|o| {
                sigil_core::Span::new(1, o as u32 + 1, o as u32)
            });
        }
        Err(e) => assert!(e.offset <= text.len(), "offset out of bounds: {e:?}"),
    }
    let _ = sigil_elastic::parse_rule_toml(text);
});
