//! The EDR and cloud-SIEM targets against their pySigma backends (the second set of
//! reference outputs, `../shared/oracle/README-wave2.md`): at least 97% of the rules each
//! reference converts must convert to the same query here.

mod common;

use common::oracle::{Syntax, check_valid};
use common::validity::{self, POWERQUERY, XQL};

#[test]
fn sentinelone_with_its_pipeline() {
    let syntax: Syntax =
        |q| validity::check(q.split(" | columns ").next().unwrap_or(q), &POWERQUERY);
    check_valid(
        "conv-sentinelone-pq.jsonl",
        "sentinelone",
        &["sentinelone_pq"],
        syntax,
    );
}

#[test]
fn cortexxdr_with_its_pipeline() {
    let syntax: Syntax = |q| {
        let filter = q.split_once(" | filter ").ok_or("no filter stage")?.1;
        validity::check(filter.split(" | fields ").next().unwrap_or(filter), &XQL)
    };
    check_valid("conv-cortexxdr.jsonl", "cortexxdr", &["cortexxdr"], syntax);
}

#[test]
fn carbonblack_without_pipeline() {
    let syntax: Syntax = validity::check_lucene;
    check_valid("conv-carbonblack.jsonl", "carbonblack", &[], syntax);
}

/// LogScale (pysigma-backend-crowdstrike 3.0.0 `log_scale`) with `crowdstrike_fdr`, as in
/// `../shared/oracle/README-wave2.md`.
#[test]
fn logscale_with_crowdstrike_fdr() {
    let syntax: Syntax = validity::check_logscale;
    check_valid(
        "conv-logscale-fdr.jsonl",
        "logscale",
        &["crowdstrike_fdr"],
        syntax,
    );
}

/// Logpoint (pysigma-backend-logpoint 1.0.2) with `logpoint_windows`, as in
/// `../shared/oracle/README-wave2.md`.
#[test]
fn logpoint_with_logpoint_windows() {
    common::oracle::check(
        "conv-logpoint-windows.jsonl",
        "logpoint",
        &["logpoint_windows"],
    );
}

/// QRadar AQL (pysigma-backend-qradar-community 0.4.0) with `qradar-aql-fields`, as in
/// `../shared/oracle/README-wave2.md`.
#[test]
fn qradar_with_qradar_aql_fields() {
    let syntax: Syntax = validity::check_aql;
    check_valid(
        "conv-qradar-aql.jsonl",
        "qradar",
        &["qradar-aql-fields"],
        syntax,
    );
}

#[test]
fn the_aql_check_rejects_what_breaks_a_query() {
    let ok = "SELECT * FROM events WHERE devicetype IN(12, 11) AND (LOWER(\"Process Path\") LIKE '%it''s%' OR INCIDR('10.0.0.0/8', sourceip)) AND NOT(Command IS NOT NULL)";
    assert_eq!(validity::check_aql(ok), Ok(()));
    for broken in [
        "SELECT * FROM events WHERE Command='it's'",
        "SELECT * FROM events WHERE (Command='x'",
        "SELECT * FROM events WHERE Command= AND x=1",
        "SELECT * FROM logs WHERE Command='x'",
        "Command='x'",
    ] {
        assert!(validity::check_aql(broken).is_err(), "{broken}");
    }
}

/// `qradar-aql-payload` searches a field QRadar does not map in the payload (the expected query
/// is the reference's for the same rule), and fails a value the payload cannot hold.
#[test]
fn qradar_payload_searches_unmapped_fields_in_the_payload() {
    let target = sigil_backend::TargetInfo::find("qradar").expect("target");
    let pipeline = sigil_pipeline::builtin("qradar-aql-payload").expect("built in");
    let conversion = sigil_backend::Conversion::new(target, vec![pipeline]);
    let convert = |detection: &str| {
        let text = format!(
            "title: t\nlogsource: {{product: windows, category: process_creation}}\ndetection:\n{detection}\n  condition: sel\n"
        );
        let rule = sigil_sigma::parse_str(&text).rules.remove(0);
        conversion.convert(&rule).map(|c| c.queries)
    };
    let queries = convert(
        "  sel:\n    CommandLine|contains: 'Foo'\n    Details|endswith: '\\Run'\n    Provider_Name: 5",
    )
    .expect("converts");
    assert_eq!(
        queries,
        [
            "SELECT * FROM events WHERE devicetype=12 AND LOWER(Command) LIKE '%foo%' AND LOWER(UTF8(payload)) LIKE '%\\run%' AND LOWER(UTF8(payload)) LIKE '%provider_name%5%'"
        ]
    );
    assert!(convert("  sel:\n    Details|re: 'a.b'").is_err());
}
