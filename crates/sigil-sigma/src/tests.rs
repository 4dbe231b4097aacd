//! Lowering tests: every modifier and condition form into the expected IR.

use sigil_core::{
    Condition, Encoding, Expr, Level, Op, Pattern, Piece, Predicate, RuleBody, Severity, Status,
    TimePart, Value,
};

use super::*;

/// A rule around one search body (indented under `selection:`) and `condition`.
fn rule_with(search: &str, condition: &str) -> SigmaFile {
    let mut body = String::new();
    for line in search.lines() {
        body.push_str("    ");
        body.push_str(line);
        body.push('\n');
    }
    parse_str(&format!(
        "title: T\nid: 929a690e-bef0-4204-a928-ef5e620d6fcc\nstatus: test\nlevel: low\nlogsource:\n  product: windows\ndetection:\n  selection:\n{body}  condition: {condition}\n"
    ))
}

/// The single predicate of `selection`.
fn pred(search: &str) -> Predicate {
    let file = rule_with(search, "selection");
    assert!(file.diagnostics.is_empty(), "{:?}", file.diagnostics);
    match &file.rules[0].detection().unwrap().searches[0].expr {
        Expr::Pred(p) => p.clone(),
        other => panic!("not a predicate: {other:?}"),
    }
}

/// The message of the first diagnostic.
fn error(search: &str) -> String {
    let file = rule_with(search, "selection");
    file.diagnostics
        .first()
        .map(|d| format!("{}: {}", d.code, d.message))
        .unwrap_or_default()
}

fn s(text: &str) -> Value {
    Value::Str(Pattern::parse_sigma(text, false))
}

#[test]
fn metadata_is_read() {
    let file = parse_str(
        "title: Whoami\nid: 929a690e-bef0-4204-a928-ef5e620d6fcc\nname: whoami_exec\nstatus: stable\n\
         description: d\nreferences:\n  - https://a\nauthor: me\ndate: 2024-01-02\nmodified: 2024/02/03\n\
         tags:\n  - attack.execution\n  - attack.t1033\nlogsource:\n  category: process_creation\n  product: windows\n  custom_key: v\n\
         detection:\n  selection:\n    Image|endswith: \\whoami.exe\n  condition: selection\n\
         falsepositives: Admins\nlevel: high\nfields: [Image]\nlicense: DRL\nscope: [server]\ntaxonomy: sigma\n\
         related:\n  - id: 0f0e2f5c-5e4b-4b8e-9d50-3c7b1c7a2b10\n    type: derived\nsimulation: none\n",
    );
    assert!(file.diagnostics.is_empty(), "{:?}", file.diagnostics);
    let r = &file.rules[0];
    assert_eq!(r.title, "Whoami");
    assert_eq!(r.name.as_deref(), Some("whoami_exec"));
    assert_eq!(r.status, Some(Status::Stable));
    assert_eq!(r.level, Some(Level::High));
    assert_eq!(r.date.as_deref(), Some("2024-01-02"));
    assert_eq!(r.modified.as_deref(), Some("2024/02/03"));
    assert_eq!(r.tags, ["attack.execution", "attack.t1033"]);
    assert_eq!(r.falsepositives, ["Admins"]);
    assert_eq!(r.fields, ["Image"]);
    assert_eq!(r.scope, ["server"]);
    assert_eq!(r.related[0].kind, "derived");
    assert_eq!(r.logsource.category.as_deref(), Some("process_creation"));
    assert_eq!(r.logsource.custom["custom_key"], "v");
    assert_eq!(r.custom["simulation"], "none");
    assert_eq!(r.span.line, 1);
    assert_eq!(file.sources[0].tag_spans[1].line, 13);
}

#[test]
fn plain_values() {
    let p = pred("Image: C:\\Windows\\*.exe");
    assert_eq!(p.field.as_deref(), Some("Image"));
    assert_eq!(p.op, Op::Equals);
    assert_eq!(p.values, [s("C:\\Windows\\*.exe")]);
    assert_eq!(p.span.line, 9);
    assert_eq!(p.span.column, 5);
    assert_eq!(pred("EventID: 4688").values, [Value::Int(4688)]);
    assert_eq!(pred("EventID: '4688'").values, [s("4688")]);
    assert_eq!(pred("Ratio: 1.5").values, [Value::Float(1.5)]);
    assert_eq!(pred("Enabled: true").values, [Value::Bool(true)]);
    assert_eq!(pred("Parent: null").values, [Value::Null]);
    assert_eq!(pred("Parent: ''").values, [s("")]);
    let p = pred("Image: []");
    assert!(p.values.is_empty());
    let p = pred("EventID:\n  - 1\n  - 2");
    assert_eq!(p.values, [Value::Int(1), Value::Int(2)]);
}

#[test]
fn wildcards_and_escapes_follow_the_specification() {
    let p = pred(r"CommandLine: 'a\*b\?c\\*d?'");
    let Value::Str(pat) = &p.values[0] else {
        panic!()
    };
    assert_eq!(
        pat.pieces(),
        [
            Piece::Lit("a*b?c\\".into()),
            Piece::AnyMany,
            Piece::Lit("d".into()),
            Piece::AnyOne
        ]
    );
}

#[test]
fn string_modifiers() {
    assert_eq!(pred("F|contains: x").op, Op::Contains);
    assert_eq!(pred("F|startswith: x").op, Op::StartsWith);
    assert_eq!(pred("F|endswith: x").op, Op::EndsWith);
    assert_eq!(pred("F|startswith|endswith: x").op, Op::Contains);
    assert_eq!(pred("F|contains: 5").values, [s("5")]);
    let p = pred("F|contains|all:\n  - a\n  - b");
    assert!(p.flags.all);
    assert_eq!(p.values.len(), 2);
    assert!(pred("F|cased: X").flags.cased);
    assert!(pred("F|contains|windash: ' -enc '").flags.windash);
    let p = pred("F|contains|expand: '%Admins%'");
    assert!(p.flags.expand);
    let Value::Str(pat) = &p.values[0] else {
        panic!()
    };
    assert_eq!(pat.pieces(), [Piece::Placeholder("Admins".into())]);
}

#[test]
fn encoding_modifiers() {
    let p = pred("F|base64offset|contains: /bin/bash");
    assert_eq!(p.op, Op::Contains);
    assert_eq!(p.flags.encodings, [Encoding::Base64Offset]);
    assert_eq!(pred("F|base64: x").flags.encodings, [Encoding::Base64]);
    assert_eq!(
        pred("F|wide|base64offset|contains: ping").flags.encodings,
        [Encoding::Utf16Le, Encoding::Base64Offset]
    );
    assert_eq!(pred("F|utf16le: x").flags.encodings, [Encoding::Utf16Le]);
    assert_eq!(pred("F|utf16be: x").flags.encodings, [Encoding::Utf16Be]);
    assert_eq!(pred("F|utf16: x").flags.encodings, [Encoding::Utf16]);
    assert!(error("F|contains|base64: x").contains("cannot follow `contains`"));
    assert!(error("F|base64: 'a*'").starts_with("invalid-value"));
}

#[test]
fn regex_modifiers() {
    let p = pred(r"F|re: '^a.*\d$'");
    assert_eq!(p.op, Op::Regex);
    assert_eq!(p.values, [Value::Regex(r"^a.*\d$".into())]);
    let p = pred("F|re|i|m|s: x");
    assert!(p.flags.regex.ignore_case && p.flags.regex.multi_line && p.flags.regex.dot_all);
    let p = pred("F|re|ignorecase|multiline|dotall: x");
    assert!(p.flags.regex.ignore_case && p.flags.regex.multi_line && p.flags.regex.dot_all);
    // Unanchored already: contains changes nothing, as in pySigma's evaluation.
    assert_eq!(pred("F|re|contains: x").op, Op::Regex);
    assert!(error("F|i: x").contains("needs `re`"));
    assert!(error("F|contains|re: x").contains("must come first"));
}

#[test]
fn numeric_and_time_modifiers() {
    for (m, op) in [
        ("lt", Op::Lt),
        ("lte", Op::Lte),
        ("gt", Op::Gt),
        ("gte", Op::Gte),
    ] {
        let p = pred(&format!("F|{m}: 10"));
        assert_eq!((p.op, p.values), (op, vec![Value::Int(10)]));
    }
    assert!(error("F|gt: abc").starts_with("invalid-modifier-chain"));
    for (m, part) in [
        ("minute", TimePart::Minute),
        ("hour", TimePart::Hour),
        ("day", TimePart::Day),
        ("week", TimePart::Week),
        ("month", TimePart::Month),
        ("year", TimePart::Year),
    ] {
        let p = pred(&format!("Time|{m}: 3"));
        assert_eq!(p.flags.time_part, Some(part));
        assert_eq!(p.values, [Value::Int(3)]);
    }
}

#[test]
fn cidr_modifier() {
    let p = pred("Ip|cidr:\n  - 10.0.0.0/8\n  - 'fe80::/10'\n  - 192.168.1.1");
    assert_eq!(p.op, Op::Cidr);
    let nets: Vec<String> = p.values.iter().map(Value::to_text).collect();
    assert_eq!(nets, ["10.0.0.0/8", "fe80::/10", "192.168.1.1/32"]);
    assert_eq!(
        error("Ip|cidr|contains: 10.0.0.0/8"),
        "invalid-modifier-chain: modifier `contains` cannot apply to a CIDR network (made by `cidr`)"
    );
    assert!(error("Ip|cidr: 10.0.0.0/33").contains("not an IPv4 or IPv6 network"));
}

#[test]
fn exists_neq_fieldref() {
    let p = pred("F|exists: true");
    assert_eq!((p.op, p.values), (Op::Exists, vec![Value::Bool(true)]));
    assert!(error("F|exists: yes").contains("cannot apply to a string"));
    let p = pred("F|neq: x");
    assert_eq!(p.op, Op::NotEquals);
    let file = rule_with("F|neq|contains: x", "selection");
    let Expr::Not(inner) = &file.rules[0].detection().unwrap().searches[0].expr else {
        panic!("neq with an operator is a negation")
    };
    assert!(matches!(&**inner, Expr::Pred(p) if p.op == Op::Contains));
    let p = pred("F|fieldref: Other");
    assert_eq!(
        (p.op, p.values),
        (Op::Equals, vec![Value::FieldRef("Other".into())])
    );
    assert_eq!(pred("F|fieldref|startswith: Other").op, Op::StartsWith);
    assert_eq!(pred("F|fieldref|contains: Other").op, Op::Contains);
    assert!(error("F|fieldref: 'Oth*'").contains("must not hold wildcards"));
}

#[test]
fn unknown_modifiers_are_errors() {
    assert_eq!(
        error("F|contain: x"),
        "unknown-modifier: unknown modifier `contain` (did you mean `contains`?)"
    );
    assert_eq!(
        error("F||contains: x"),
        "unknown-modifier: unknown modifier ``"
    );
    assert_eq!(
        error("F|endwith: x"),
        "unknown-modifier: unknown modifier `endwith` (did you mean `endswith`?)"
    );
    assert_eq!(
        error("F|base46: x"),
        "unknown-modifier: unknown modifier `base46` (did you mean `base64`?)"
    );
    assert_eq!(
        error("F|Contains: x"),
        "unknown-modifier: unknown modifier `Contains` (did you mean `contains`?)"
    );
    assert_eq!(
        error("F|frobnicate: x"),
        "unknown-modifier: unknown modifier `frobnicate`"
    );
}

#[test]
fn search_shapes() {
    // A map is an And; a list of maps an Or; plain values are keywords.
    let file = rule_with("- A: 1\n  B: 2\n- C: 3", "selection");
    let Expr::Or(alts) = &file.rules[0].detection().unwrap().searches[0].expr else {
        panic!()
    };
    assert!(matches!(&alts[0], Expr::And(v) if v.len() == 2));
    let p = pred("- foo\n- 'bar*'");
    assert_eq!(p.field, None);
    assert_eq!(p.values, [s("foo"), s("bar*")]);
    let p = pred("'|all':\n  - a\n  - b");
    assert!(p.field.is_none() && p.flags.all);
}

#[test]
fn conditions() {
    let file = parse_str(
        "title: T\nlogsource: {product: x}\ndetection:\n  sel_a: {A: 1}\n  sel_b: {B: 1}\n  _hidden: {H: 1}\n  filter: {F: 1}\n  condition:\n    - 1 of sel_* and not filter\n    - all of them\n",
    );
    assert!(file.diagnostics.is_empty(), "{:?}", file.diagnostics);
    let d = file.rules[0].detection().unwrap();
    assert_eq!(d.conditions.len(), 2);
    let Condition::And(parts) = &d.conditions[0] else {
        panic!()
    };
    let Condition::OneOf(sel) = &parts[0] else {
        panic!()
    };
    assert_eq!(d.selected(sel), [0, 1]);
    let Condition::AllOf(them) = &d.conditions[1] else {
        panic!()
    };
    // `them` leaves out `_hidden`
    assert_eq!(d.selected(them), [0, 1, 3]);
    // positions point into the file
    assert_eq!((sel.span.line, sel.span.column), (9, 12));
}

#[test]
fn legacy_aggregation_is_an_error_with_a_position() {
    let file = rule_with("A: 1", "selection | count() by B > 5");
    let d = &file.diagnostics[0];
    assert_eq!(
        (d.code, d.severity),
        ("legacy-aggregation", Severity::Error)
    );
    assert_eq!((d.span.line, d.span.column), (10, 24));
    assert_eq!(file.rules[0].custom["aggregation"], "count() by B > 5");
}

#[test]
fn collections_merge_global_and_repeat() {
    let file = parse_str(
        "action: global\ntitle: Shared\nlogsource: {product: windows}\ndetection:\n  condition: selection\n---\n\
         logsource: {service: security}\ndetection:\n  selection: {EventID: 1}\n---\naction: repeat\ndetection:\n  selection: {EventID: 2}\n---\n\
         action: reset\n---\ntitle: Alone\nlogsource: {product: linux}\ndetection: {s: {A: 1}, condition: s}\n",
    );
    assert!(file.diagnostics.is_empty(), "{:?}", file.diagnostics);
    assert_eq!(file.rules.len(), 3);
    assert_eq!(file.rules[0].title, "Shared");
    assert_eq!(file.rules[0].logsource.product.as_deref(), Some("windows"));
    assert_eq!(file.rules[0].logsource.service.as_deref(), Some("security"));
    let ev = |i: usize| match &file.rules[i].detection().unwrap().searches[0].expr {
        Expr::Pred(p) => p.values[0].clone(),
        _ => panic!(),
    };
    assert_eq!(ev(0), Value::Int(1));
    assert_eq!(ev(1), Value::Int(2));
    assert_eq!(file.rules[2].title, "Alone");
    assert_eq!(file.rules[2].logsource.product.as_deref(), Some("linux"));
}

#[test]
fn without_sources_the_rules_and_diagnostics_are_the_same() {
    let text = "title: T\ntitle: T2\nstatus: test\ntags: [attack.execution]\nlogsource: {product: windows}\n\
                detection:\n  selection: {Image|endswith: '\\x.exe', CommandLine: 'a*b'}\n  condition: selection\n\
                ---\naction: repeat\ndetection:\n  selection: {Image: y}\n  condition: selection\n";
    let full = parse_str(text);
    let lean = parse_str_with(text, ReadOptions { sources: false });
    assert_eq!(full.rules, lean.rules);
    assert_eq!(full.diagnostics, lean.diagnostics);
    // The duplicate title, once per rule: the repeated document copies it.
    assert_eq!(full.diagnostics.len(), 2, "{:?}", full.diagnostics);
    assert_eq!(full.rules.len(), 2);
    assert_eq!(lean.sources.len(), 2);
    assert!(!full.sources[0].keys.is_empty());
    assert!(lean.sources[0].keys.is_empty() && lean.sources[0].tag_spans.is_empty());
    assert_eq!(lean.sources[0].span, full.sources[0].span);
}

#[test]
fn correlations_of_every_kind() {
    for kind in [
        "event_count",
        "value_count",
        "temporal",
        "temporal_ordered",
        "value_sum",
        "value_avg",
        "value_percentile",
        "value_median",
    ] {
        let file = parse_str(&format!(
            "title: C\nid: 929a690e-bef0-4204-a928-ef5e620d6fcc\ncorrelation:\n  type: {kind}\n  rules:\n    - failed_logon\n    - other\n  aliases:\n    user:\n      failed_logon: TargetUserName\n      other: User\n  group-by:\n    - user\n  timespan: 15m\n  condition:\n    gte: 10\n    lt: 100\n    field: Port\n    percentile: 95\n  generate: true\n"
        ));
        assert!(
            file.diagnostics.is_empty(),
            "{kind}: {:?}",
            file.diagnostics
        );
        let RuleBody::Correlation(c) = &file.rules[0].body else {
            panic!()
        };
        assert_eq!(c.kind.name(), kind);
        assert_eq!(c.rules[1].reference, "other");
        assert_eq!(c.rules[1].span.line, 7);
        assert_eq!(c.aliases[0].mapping[1], ("other".into(), "User".into()));
        assert_eq!(c.group_by, ["user"]);
        assert_eq!((c.timespan_secs, c.timespan.as_str()), (900, "15m"));
        let cond = c.condition.as_ref().unwrap();
        assert_eq!(cond.comparisons, [(Op::Gte, 10.0), (Op::Lt, 100.0)]);
        assert_eq!(cond.field.as_deref(), Some("Port"));
        assert_eq!(cond.percentile, Some(95.0));
        assert!(c.generate);
    }
    let bad =
        parse_str("title: C\ncorrelation:\n  type: event_counts\n  rules: a\n  timespan: 5m\n");
    assert!(
        bad.diagnostics[0]
            .message
            .contains("unknown correlation type")
    );
    let bad = parse_str(
        "title: C\ncorrelation:\n  type: value_count\n  rules: a\n  timespan: 5m\n  condition: {gt: 1}\n",
    );
    assert_eq!(bad.diagnostics[0].code, "missing-field");
}

#[test]
fn filters() {
    let file = parse_str(
        "title: F\nlogsource: {product: windows}\nfilter:\n  rules:\n    - 929a690e-bef0-4204-a928-ef5e620d6fcc\n  selection:\n    User: admin\n  condition: not selection\n",
    );
    assert!(file.diagnostics.is_empty(), "{:?}", file.diagnostics);
    let RuleBody::Filter(f) = &file.rules[0].body else {
        panic!()
    };
    assert_eq!(f.rules[0].reference, "929a690e-bef0-4204-a928-ef5e620d6fcc");
    assert_eq!(f.detection.searches.len(), 1);
    assert!(matches!(f.detection.conditions[0], Condition::Not(_)));
}

#[test]
fn bad_input_never_panics_and_names_a_line() {
    let cases: [&[u8]; 7] = [
        b"",
        b"title: [unclosed\n",
        b"title: x\n\tdetection: y\n",
        b"\xff\xfe t\x00i\x00",
        b"title: ok\ndescription: caf\xe9\n",
        b"- a\n- b\n",
        b"title: x\ndetection:\n  sel: {a: 1}\n  condition: sel and (\n",
    ];
    for case in cases {
        let file = parse_bytes(case);
        assert!(file.has_errors(), "{:?}", String::from_utf8_lossy(case));
        assert!(file.diagnostics.iter().all(|d| d.span.line > 0));
    }
    assert_eq!(
        parse_bytes(b"title: ok\ndescription: caf\xe9\n").diagnostics[0]
            .span
            .line,
        2
    );
}
