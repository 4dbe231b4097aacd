//! The EDR and cloud-SIEM targets against their pySigma backends (the second set of
//! reference outputs, `../shared/oracle/README-wave2.md`): at least 97% of the rules each
//! reference converts must convert to the same query here.

mod common;

use common::oracle::{Syntax, check_valid};
use common::validity::{POWERQUERY, XQL};
use sigil_backend::TargetName;

#[test]
fn sentinelone_with_its_pipeline() {
    let syntax = Syntax {
        lexical: POWERQUERY,
        expression: |q| Some(q.split(" | columns ").next().unwrap_or(q)),
    };
    check_valid(
        "conv-sentinelone-pq.jsonl",
        TargetName::SentinelOne,
        &["sentinelone_pq"],
        &syntax,
    );
}

#[test]
fn cortexxdr_with_its_pipeline() {
    let syntax = Syntax {
        lexical: XQL,
        expression: |q| {
            let filter = q.split_once(" | filter ")?.1;
            Some(filter.split(" | fields ").next().unwrap_or(filter))
        },
    };
    check_valid(
        "conv-cortexxdr.jsonl",
        TargetName::CortexXdr,
        &["cortexxdr"],
        &syntax,
    );
}
