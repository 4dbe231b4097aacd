//! Bad input: syntax errors name the line and column inside the rule file.

use sigil_elastic::parse_rule_toml;

const HEAD: &str = r#"[metadata]
creation_date = "2020/10/19"
maturity = "production"
updated_date = "2024/01/01"

[rule]
author = ["Elastic"]
description = "test"
name = "Broken"
risk_score = 47
rule_id = "00000000-0000-0000-0000-000000000001"
severity = "medium"
tags = ["OS: Windows"]
"#;

fn rule(tail: &str) -> String {
    format!("{HEAD}{tail}")
}

#[test]
fn eql_error_in_a_multiline_literal_string() {
    let text = rule(
        "type = \"eql\"\nlanguage = \"eql\"\nquery = '''\nprocess where process.name : \"a.exe\" and\n  process.args == \n'''\n",
    );
    let file = parse_rule_toml(&text);
    assert_eq!(file.diagnostics.len(), 1, "{:?}", file.diagnostics);
    let d = &file.diagnostics[0];
    assert_eq!(d.code, "eql-syntax");
    // `query = '''` is line 16, the query text starts on line 17; the error is at the
    // end of the query, the start of line 19 (the closing quotes).
    assert_eq!((d.span.line, d.span.column), (19, 1), "{}", d.message);
    let text = rule(
        "type = \"eql\"\nlanguage = \"eql\"\nquery = '''\nprocess where process.name : \"a.exe\" and\n  process.args == )\n'''\n",
    );
    let d = &parse_rule_toml(&text).diagnostics[0];
    assert_eq!((d.span.line, d.span.column), (18, 19), "{}", d.message);
    assert!(d.message.contains("found `)`"), "{}", d.message);
    // The rule is still returned, marked.
    let file = parse_rule_toml(&text);
    assert_eq!(file.rules.len(), 1);
    assert!(!file.rules[0].is_evaluable());
}

#[test]
fn eql_error_in_a_basic_string_with_escapes() {
    // The `\\` escapes make the decoded query shorter than the TOML text; the column
    // must still be the file's.
    let text = rule(
        "type = \"eql\"\nlanguage = \"eql\"\nquery = \"process where a : \\\"C:\\\\\\\\x\\\" and b ==\"\n",
    );
    let file = parse_rule_toml(&text);
    let d = &file.diagnostics[0];
    let line = text.lines().nth(d.span.line as usize - 1).expect("line");
    assert!(line.starts_with("query = "), "{line}");
    assert_eq!(d.span.column as usize, line.chars().count(), "{line}");
}

#[test]
fn kql_errors_have_positions() {
    let text = rule(
        "type = \"query\"\nlanguage = \"kuery\"\nquery = '''\nevent.category:process and\n  process.name:(a or b\n'''\n",
    );
    let d = &parse_rule_toml(&text).diagnostics[0];
    assert_eq!(d.code, "kql-syntax");
    assert_eq!(d.span.line, 19);
}

#[test]
fn toml_and_schema_errors() {
    let d = &parse_rule_toml("[rule\nname = 1").diagnostics[0];
    assert_eq!(d.code, "invalid-toml");
    assert_eq!(d.span.line, 1);
    let d = &parse_rule_toml("[metadata]\nx = 1\n").diagnostics[0];
    assert_eq!(d.code, "invalid-rule");
    let d = &parse_rule_toml("[rule]\nname = \"x\"\ntype = \"eql\"\n").diagnostics[0];
    assert!(d.message.contains("rule_id"), "{}", d.message);
    let file = parse_rule_toml(&rule("type = \"eql\"\n"));
    assert!(file.has_errors());
}

#[test]
fn esql_ml_and_threshold_rules() {
    let file = parse_rule_toml(&rule(
        "type = \"esql\"\nlanguage = \"esql\"\nquery = '''\nfrom logs-* | where x == 1\n'''\n",
    ));
    assert!(file.diagnostics.is_empty());
    let r = &file.rules[0];
    assert!(r.not_evaluable[0].reason.contains("ES|QL"));
    assert_eq!(r.query.as_ref().map(|q| q.language.as_str()), Some("esql"));

    let file = parse_rule_toml(&rule(
        "type = \"machine_learning\"\nanomaly_threshold = 50\nmachine_learning_job_id = \"job\"\n",
    ));
    assert!(file.rules[0].not_evaluable[0].reason.contains("job"));

    let file = parse_rule_toml(&rule(
        "type = \"threshold\"\nlanguage = \"kuery\"\nfrom = \"now-5m\"\nquery = \"event.action:logon-failed\"\n[rule.threshold]\nfield = [\"user.name\"]\nvalue = 25\n",
    ));
    assert_eq!(file.rules.len(), 2);
    let sigil_core::RuleBody::Correlation(c) = &file.rules[0].body else {
        panic!("threshold is a correlation")
    };
    assert_eq!(c.kind, sigil_core::CorrelationKind::EventCount);
    assert_eq!(c.group_by, ["user.name"]);
    assert_eq!(c.timespan_secs, 300);
    assert_eq!(
        c.condition.as_ref().map(|c| c.comparisons.clone()),
        Some(vec![(sigil_core::Op::Gte, 25.0)])
    );
    assert_eq!(
        c.rules[0].reference,
        "00000000-0000-0000-0000-000000000001#query"
    );
    assert_eq!(
        file.rules[1].id.as_deref(),
        Some(c.rules[0].reference.as_str())
    );
    assert!(file.rules[0].is_evaluable());
}

#[test]
fn sequence_rules_return_their_steps() {
    let file = parse_rule_toml(&rule(
        "type = \"eql\"\nlanguage = \"eql\"\nquery = '''\nsequence by host.id with maxspan=1m\n  [process where process.name : \"a\"]\n  [network where true]\n'''\n[[rule.threat]]\nframework = \"MITRE ATT&CK\"\n[rule.threat.tactic]\nid = \"TA0002\"\nname = \"Execution\"\nreference = \"x\"\n",
    ));
    assert!(file.diagnostics.is_empty(), "{:?}", file.diagnostics);
    let ids: Vec<_> = file
        .rules
        .iter()
        .map(|r| r.id.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        ids,
        [
            "00000000-0000-0000-0000-000000000001",
            "00000000-0000-0000-0000-000000000001#step1",
            "00000000-0000-0000-0000-000000000001#step2"
        ]
    );
    assert!(file.rules[0].tags.contains(&"attack.execution".to_string()));
    assert_eq!(file.rules[1].logsource.category.as_deref(), Some("process"));
    assert_eq!(file.rules[1].span.line, 18);
}

#[test]
fn no_panic_on_garbage() {
    for text in [
        "",
        "\u{0}",
        "[rule]\nquery = 5\nrule_id = \"a\"\nname = \"b\"\ntype = \"eql\"\nlanguage = \"eql\"",
        "[rule]\nrule_id = \"a\"\nname = \"b\"\ntype = \"eql\"\nlanguage = \"eql\"\nquery = \"\"",
        "[rule]\nrule_id = \"a\"\nname = \"b\"\ntype = \"eql\"\nlanguage = \"eql\"\nquery = \"sequence [\"",
        "[rule]\nrule_id = \"a\"\nname = \"b\"\ntype = \"query\"\nlanguage = \"kuery\"\nquery = \"a:\\\\\"",
    ] {
        let _ = parse_rule_toml(text);
    }
}
