//! Each transformation and condition type, through pipeline YAML.

mod common;

use common::{detection, eq, fields, pred, process_creation, rule, search};
use sigil_core::{Condition, Expr, Op, Pattern, Piece, Predicate, Value};
use sigil_pipeline::{Pipeline, PipelineError, PipelineSet};

fn pipeline(yaml: &str) -> Pipeline {
    Pipeline::from_yaml(yaml, "test.yml").unwrap_or_else(|e| panic!("{e}"))
}

fn field_names(r: &sigil_core::Rule) -> Vec<String> {
    fields(r).into_iter().filter_map(|(f, _)| f).collect()
}

fn two_field_rule() -> sigil_core::Rule {
    rule(
        Some("process_creation"),
        Some("windows"),
        None,
        vec![(
            "selection",
            Expr::And(vec![
                pred("Image", Op::EndsWith, &["\\x.exe"]),
                pred("CommandLine", Op::Contains, &["-enc"]),
            ]),
        )],
        search("selection"),
    )
}

#[test]
fn field_name_mapping_one_to_one_and_one_to_many() {
    let p = pipeline(
        "transformations:\n  - type: field_name_mapping\n    mapping:\n      Image: process.executable\n      CommandLine: [cmd.a, cmd.b]\n",
    );
    let r = p.apply(&two_field_rule()).expect("applies");
    let Expr::And(items) = &detection(&r).searches[0].expr else {
        panic!("expected an and")
    };
    assert!(matches!(&items[0], Expr::Pred(p) if p.field.as_deref() == Some("process.executable")));
    // One-to-many: an `or` of the same predicate on each name.
    let Expr::Or(alts) = &items[1] else {
        panic!("expected an or, got {:?}", items[1])
    };
    let names: Vec<_> = alts
        .iter()
        .map(|a| match a {
            Expr::Pred(p) => p.field.clone().unwrap_or_default(),
            _ => String::new(),
        })
        .collect();
    assert_eq!(names, vec!["cmd.a", "cmd.b"]);
}

#[test]
fn field_name_mapping_maps_field_references_and_the_fields_list() {
    let mut r = rule(
        None,
        None,
        None,
        vec![(
            "selection",
            Expr::Pred(Predicate::new(
                Some("A".into()),
                Op::Equals,
                vec![Value::FieldRef("B".into())],
            )),
        )],
        search("selection"),
    );
    r.fields = vec!["B".into(), "C".into()];
    let p = pipeline("transformations:\n  - type: field_name_mapping\n    mapping:\n      B: b\n");
    let r = p.apply(&r).expect("applies");
    assert_eq!(fields(&r), vec![(Some("A".into()), vec!["b".into()])]);
    assert_eq!(r.fields, vec!["b", "C"]);
}

#[test]
fn keyword_mapped_to_a_field_keeps_substring_meaning() {
    let r = rule(
        None,
        None,
        None,
        vec![(
            "keywords",
            Expr::Pred(Predicate::new(None, Op::Equals, vec![Value::str("evil")])),
        )],
        search("keywords"),
    );
    let p = pipeline(
        "transformations:\n  - type: field_name_mapping\n    mapping:\n      ~: message\n",
    );
    let r = p.apply(&r).expect("applies");
    assert_eq!(
        fields(&r),
        vec![(Some("message".into()), vec!["*evil*".into()])]
    );
}

#[test]
fn prefix_mapping_prefix_and_suffix() {
    let p = pipeline(
        "transformations:\n  - type: field_name_prefix_mapping\n    mapping:\n      Comm: proc.comm\n  - type: field_name_suffix\n    suffix: .keyword\n  - type: field_name_prefix\n    prefix: 'x.'\n",
    );
    let r = p.apply(&two_field_rule()).expect("applies");
    assert_eq!(
        field_names(&r),
        vec!["x.Image.keyword", "x.proc.commandLine.keyword"]
    );
}

#[test]
fn field_name_conditions_select_fields() {
    let p = pipeline(
        "transformations:\n  - type: field_name_prefix\n    prefix: 'p.'\n    field_name_conditions:\n      - type: include_fields\n        fields: [Image]\n  - type: field_name_suffix\n    suffix: '.s'\n    field_name_conditions:\n      - type: exclude_fields\n        fields: ['p\\.']\n        mode: re\n",
    );
    let r = p.apply(&two_field_rule()).expect("applies");
    assert_eq!(field_names(&r), vec!["p.Image", "CommandLine.s"]);
}

#[test]
fn field_name_cond_not_inverts() {
    let p = pipeline(
        "transformations:\n  - type: field_name_prefix\n    prefix: 'p.'\n    field_name_conditions:\n      - type: include_fields\n        fields: [Image]\n    field_name_cond_not: true\n",
    );
    let r = p.apply(&two_field_rule()).expect("applies");
    assert_eq!(field_names(&r), vec!["Image", "p.CommandLine"]);
}

#[test]
fn add_condition_negated_with_template_and_name() {
    let p = pipeline(
        "transformations:\n  - type: add_condition\n    name: _source\n    template: true\n    negated: true\n    conditions:\n      source: 'win-$category'\n      Level|gte: 3\n",
    );
    let r = p.apply(&process_creation()).expect("applies");
    let d = detection(&r);
    assert_eq!(
        d.conditions,
        vec![Condition::And(vec![
            Condition::Not(Box::new(search("_source"))),
            search("selection")
        ])]
    );
    let preds = d.search("_source").expect("added").expr.predicates();
    assert_eq!(preds[0].values, vec![Value::str("win-process_creation")]);
    assert_eq!(preds[1].op, Op::Gte);
}

#[test]
fn add_condition_rewrites_every_condition() {
    let mut r = process_creation();
    if let sigil_core::RuleBody::Detection(d) = &mut r.body {
        d.conditions
            .push(Condition::Not(Box::new(search("selection"))));
    }
    let p = pipeline("transformations:\n  - type: add_condition\n    conditions:\n      a: 1\n");
    let r = p.apply(&r).expect("applies");
    for c in &detection(&r).conditions {
        let Condition::And(parts) = c else {
            panic!("expected an and")
        };
        assert_eq!(parts[0], search("_cond_1"));
    }
}

#[test]
fn change_logsource_replaces_all_three_fields() {
    let p =
        pipeline("transformations:\n  - type: change_logsource\n    category: c\n    service: s\n");
    let r = p.apply(&process_creation()).expect("applies");
    assert_eq!(r.logsource.category.as_deref(), Some("c"));
    assert_eq!(r.logsource.product, None);
    assert_eq!(r.logsource.service.as_deref(), Some("s"));
}

#[test]
fn drop_detection_item_with_detection_item_condition() {
    let r = rule(
        None,
        None,
        None,
        vec![(
            "selection",
            Expr::And(vec![
                eq("EventID", Value::Int(1)),
                pred("Image", Op::Equals, &["*\\x.exe"]),
                pred("User", Op::Equals, &["SYSTEM"]),
            ]),
        )],
        search("selection"),
    );
    let p = pipeline(
        "transformations:\n  - type: drop_detection_item\n    field_name_conditions:\n      - type: include_fields\n        fields: [EventID]\n  - type: drop_detection_item\n    detection_item_conditions:\n      - type: contains_wildcard\n        cond: any\n",
    );
    let r = p.apply(&r).expect("applies");
    assert_eq!(field_names(&r), vec!["User"]);
}

#[test]
fn replace_string_and_match_string_condition() {
    let r = rule(
        None,
        None,
        None,
        vec![(
            "selection",
            Expr::And(vec![
                pred("TargetObject", Op::StartsWith, &["HKLM\\Software\\x"]),
                pred("Other", Op::StartsWith, &["HKLM\\y"]),
            ]),
        )],
        search("selection"),
    );
    let p = pipeline(
        "transformations:\n  - type: replace_string\n    regex: '(?i)^HKLM'\n    replacement: HKEY_LOCAL_MACHINE\n    detection_item_conditions:\n      - type: match_string\n        cond: any\n        pattern: 'HKLM\\\\Software'\n",
    );
    let r = p.apply(&r).expect("applies");
    assert_eq!(
        fields(&r),
        vec![
            (
                Some("TargetObject".into()),
                vec!["HKEY_LOCAL_MACHINE\\Software\\x".into()]
            ),
            (Some("Other".into()), vec!["HKLM\\y".into()]),
        ]
    );
}

#[test]
fn replace_string_with_capture_groups() {
    let r = rule(
        None,
        None,
        None,
        vec![("selection", pred("a", Op::Equals, &["user@DOMAIN"]))],
        search("selection"),
    );
    let p = pipeline(
        "transformations:\n  - type: replace_string\n    regex: '(\\w+)@(\\w+)'\n    replacement: '\\2\\\\\\1'\n",
    );
    let r = p.apply(&r).expect("applies");
    assert_eq!(
        fields(&r),
        vec![(Some("a".into()), vec!["DOMAIN\\user".into()])]
    );
}

#[test]
fn map_string_and_match_value_condition() {
    let r = rule(
        None,
        None,
        None,
        vec![(
            "selection",
            Expr::And(vec![
                pred("Initiated", Op::Equals, &["true"]),
                pred("Other", Op::Equals, &["true"]),
            ]),
        )],
        search("selection"),
    );
    let p = pipeline(
        "transformations:\n  - type: map_string\n    mapping:\n      'true': [outbound, egress]\n    field_name_conditions:\n      - type: include_fields\n        fields: [Initiated]\n",
    );
    let r = p.apply(&r).expect("applies");
    assert_eq!(
        fields(&r)[0],
        (
            Some("Initiated".into()),
            vec!["outbound".into(), "egress".into()]
        )
    );
    assert_eq!(fields(&r)[1].1, vec!["true".to_string()]);
}

#[test]
fn set_state_and_processing_state_condition() {
    let p = pipeline(
        "transformations:\n  - type: set_state\n    key: index\n    val: winlogbeat\n    rule_conditions:\n      - type: logsource\n        product: windows\n  - id: tagged\n    type: add_field\n    field: marker\n    rule_conditions:\n      - type: processing_state\n        key: index\n        val: winlogbeat\n",
    );
    let processed = PipelineSet::new(vec![p.clone()])
        .process(&process_creation())
        .expect("applies");
    assert_eq!(
        processed.state.get("index"),
        Some(&sigil_pipeline::Scalar::Str("winlogbeat".into()))
    );
    assert_eq!(processed.rule.fields, vec!["marker"]);
    assert!(processed.applied.contains("tagged"));
    let linux = rule(Some("x"), Some("linux"), None, vec![], search("s"));
    let processed = p.process(&linux).expect("applies");
    assert!(processed.state.is_empty());
    assert!(processed.rule.fields.is_empty());
}

#[test]
fn processing_item_applied_conditions() {
    let p = pipeline(
        "transformations:\n  - id: first\n    type: field_name_mapping\n    mapping:\n      Image: img\n  - type: field_name_suffix\n    suffix: _mapped\n    detection_item_conditions:\n      - type: processing_item_applied\n        processing_item_id: first\n  - type: add_field\n    field: after_first\n    rule_conditions:\n      - type: processing_item_applied\n        processing_item_id: first\n  - type: add_field\n    field: never\n    rule_conditions:\n      - type: processing_item_applied\n        processing_item_id: nope\n",
    );
    let r = p.apply(&two_field_rule()).expect("applies");
    assert_eq!(field_names(&r), vec!["img_mapped", "CommandLine"]);
    assert_eq!(r.fields, vec!["after_first"]);
}

#[test]
fn rule_condition_linking_negation_and_expressions() {
    let p = pipeline(
        "transformations:\n  - type: add_field\n    field: or\n    rule_cond_op: or\n    rule_conditions:\n      - type: logsource\n        product: linux\n      - type: contains_field\n        field: Image\n  - type: add_field\n    field: not\n    rule_cond_not: true\n    rule_conditions:\n      - type: logsource\n        product: windows\n  - type: add_field\n    field: expr\n    rule_cond_expr: 'win and not (tagged or lin)'\n    rule_conditions:\n      win:\n        type: logsource\n        product: windows\n      tagged:\n        type: tag\n        tag: attack.t1059\n      lin:\n        type: logsource\n        product: linux\n  - type: add_field\n    field: item\n    rule_conditions:\n      - type: contains_detection_item\n        field: Image\n        value: '\\x.exe'\n",
    );
    let r = p.apply(&two_field_rule()).expect("applies");
    // `Image|endswith` is not plain equality, so `contains_detection_item` does not hold.
    assert_eq!(r.fields, vec!["or", "expr"]);
}

#[test]
fn rule_attribute_and_is_sigma_rule_conditions() {
    let mut r = process_creation();
    r.level = Some(sigil_core::Level::High);
    r.tags = vec!["attack.t1059".into()];
    let p = pipeline(
        "transformations:\n  - type: add_field\n    field: high\n    rule_conditions:\n      - type: rule_attribute\n        attribute: level\n        value: medium\n        op: gte\n  - type: add_field\n    field: tagged\n    rule_conditions:\n      - type: rule_attribute\n        attribute: tags\n        value: attack.t1059\n        op: in\n  - type: add_field\n    field: rule\n    rule_conditions:\n      - type: is_sigma_rule\n  - type: add_field\n    field: corr\n    rule_conditions:\n      - type: is_sigma_correlation_rule\n",
    );
    assert_eq!(
        p.apply(&r).expect("applies").fields,
        vec!["high", "tagged", "rule"]
    );
}

#[test]
fn is_null_condition() {
    let r = rule(
        None,
        None,
        None,
        vec![(
            "selection",
            Expr::And(vec![eq("A", Value::Null), eq("B", Value::str("x"))]),
        )],
        search("selection"),
    );
    let p = pipeline(
        "transformations:\n  - type: field_name_suffix\n    suffix: _null\n    detection_item_conditions:\n      - type: is_null\n        cond: all\n",
    );
    assert_eq!(
        field_names(&p.apply(&r).expect("applies")),
        vec!["A_null", "B"]
    );
}

#[test]
fn rule_failure_rejects_with_the_rule_named() {
    let p = pipeline(
        "transformations:\n  - type: rule_failure\n    message: no table for this logsource\n    rule_conditions:\n      - type: logsource\n        category: process_creation\n",
    );
    let err = p.apply(&process_creation()).expect_err("rejected");
    assert_eq!(
        err,
        PipelineError::Rejected {
            rule: "00000000-0000-0000-0000-000000000001".into(),
            message: "no table for this logsource".into()
        }
    );
    assert!(err.to_string().contains("no table for this logsource"));
}

#[test]
fn detection_item_failure_only_with_a_matching_item() {
    let p = pipeline(
        "transformations:\n  - type: detection_item_failure\n    message: Hashes unsupported\n    field_name_conditions:\n      - type: include_fields\n        fields: [Hashes]\n",
    );
    assert!(p.apply(&process_creation()).is_ok());
    let r = rule(
        None,
        None,
        None,
        vec![("selection", pred("Hashes", Op::Contains, &["MD5="]))],
        search("selection"),
    );
    assert!(matches!(p.apply(&r), Err(PipelineError::Rejected { .. })));
}

#[test]
fn strict_field_mapping_reports_unmapped_fields() {
    let p = pipeline(
        "transformations:\n  - type: field_name_mapping\n    mapping:\n      Image: process.executable\n  - type: strict_field_mapping_failure\n",
    );
    let err = p
        .apply(&two_field_rule())
        .expect_err("CommandLine is not mapped");
    assert_eq!(
        err,
        PipelineError::UnmappedFields {
            rule: "00000000-0000-0000-0000-000000000001".into(),
            fields: vec!["CommandLine".into()]
        }
    );
    assert!(p.apply(&process_creation()).is_ok());
}

#[test]
fn fields_list_transformations_and_custom_attributes() {
    let mut r = process_creation();
    r.fields = vec!["a".into(), "b".into()];
    let p = pipeline(
        "transformations:\n  - type: add_field\n    field: [c, d]\n  - type: remove_field\n    field: a\n  - type: set_custom_attribute\n    attribute: index\n    value: logs-*\n",
    );
    let r2 = p.apply(&r).expect("applies");
    assert_eq!(r2.fields, vec!["b", "c", "d"]);
    assert_eq!(r2.custom.get("index").map(String::as_str), Some("logs-*"));
    let p = pipeline("transformations:\n  - type: set_field\n    fields: [x]\n");
    assert_eq!(p.apply(&r).expect("applies").fields, vec!["x"]);
}

fn placeholder_rule() -> sigil_core::Rule {
    let mut p = Predicate::new(
        Some("User".into()),
        Op::Equals,
        vec![Value::Str(Pattern::parse_sigma("%admins%\\x", true))],
    );
    p.flags.expand = true;
    rule(
        None,
        None,
        None,
        vec![("selection", Expr::Pred(p))],
        search("selection"),
    )
}

#[test]
fn value_placeholders_expand_from_vars() {
    let p = pipeline(
        "vars:\n  admins: [alice, 'bob*']\ntransformations:\n  - type: value_placeholders\n",
    );
    let r = p.apply(&placeholder_rule()).expect("applies");
    let values = &detection(&r).searches[0].expr.predicates()[0].values;
    assert_eq!(values.len(), 2);
    assert_eq!(values[0], Value::Str(Pattern::literal("alice\\x")));
    let Value::Str(second) = &values[1] else {
        panic!("a string")
    };
    assert_eq!(second.pieces()[1], Piece::AnyMany);

    let missing = pipeline("transformations:\n  - type: value_placeholders\n");
    assert!(matches!(
        missing.apply(&placeholder_rule()),
        Err(PipelineError::Transformation { .. })
    ));
}

#[test]
fn wildcard_and_query_expression_placeholders() {
    let p = pipeline("transformations:\n  - type: wildcard_placeholders\n");
    let r = p.apply(&placeholder_rule()).expect("applies");
    assert_eq!(fields(&r)[0].1, vec!["*\\x".to_string()]);

    let p = pipeline(
        "transformations:\n  - type: query_expression_placeholders\n    expression: '{field} in list'\n    include: [admins]\n",
    );
    assert!(matches!(
        p.apply(&placeholder_rule()),
        Err(PipelineError::Transformation { .. })
    ));
    let p = pipeline(
        "transformations:\n  - type: query_expression_placeholders\n    expression: '{field} in list'\n    exclude: [admins]\n",
    );
    assert!(p.apply(&placeholder_rule()).is_ok());
}

#[test]
fn pipeline_set_orders_by_priority_then_given_order() {
    let late = pipeline(
        "priority: 50\ntransformations:\n  - type: field_name_suffix\n    suffix: _late\n",
    );
    let early = pipeline(
        "priority: 10\ntransformations:\n  - type: field_name_suffix\n    suffix: _early\n",
    );
    let also_early = pipeline(
        "priority: 10\ntransformations:\n  - type: field_name_suffix\n    suffix: _second\n",
    );
    let set = PipelineSet::new(vec![late, early, also_early]);
    let r = set.apply(&process_creation()).expect("applies");
    assert_eq!(field_names(&r), vec!["Image_early_second_late"]);
}

#[test]
fn postprocessing_and_finalizers_are_read_and_listed() {
    let p = pipeline(
        "name: x\npostprocessing:\n  - type: embed\n    prefix: a\nfinalizers:\n  - type: concat\n    separator: ' OR '\n",
    );
    assert_eq!(p.ignored_output_steps, vec!["embed", "concat"]);
    assert_eq!(
        p.apply(&process_creation()).expect("applies"),
        process_creation()
    );
}

#[test]
fn pipelines_never_touch_correlation_bodies_they_cannot_apply_to() {
    use sigil_core::{Correlation, CorrelationKind, RuleBody};
    let mut r = sigil_core::Rule::new(sigil_core::RuleLanguage::Sigma, "corr");
    r.body = RuleBody::Correlation(Correlation {
        kind: CorrelationKind::EventCount,
        rules: Vec::new(),
        aliases: Vec::new(),
        group_by: vec!["Image".into()],
        timespan_secs: 60,
        timespan: "1m".into(),
        condition: None,
        generate: false,
    });
    let p = pipeline(
        "transformations:\n  - type: field_name_mapping\n    mapping:\n      Image: process.executable\n  - type: add_condition\n    conditions:\n      a: 1\n",
    );
    let out = p.apply(&r).expect("applies");
    let RuleBody::Correlation(c) = &out.body else {
        panic!("still a correlation")
    };
    assert_eq!(c.group_by, vec!["process.executable"]);
}

fn state_text(p: &sigil_pipeline::Processed, key: &str) -> Option<String> {
    p.state.get(key).map(sigil_pipeline::Scalar::to_text)
}

const TABLE_BY_RULE: &str = "transformations:
  - id: table
    type: set_state_from_rule
    key: query_table
    by_category: {process_creation: Processes}
    by_value:
      fields: [EventID]
      searches: '(?i)sel'
      values: {4624: Logons, 4688: Processes}
    message: no table for this rule
";

fn security_rule(searches: Vec<(&str, Expr)>) -> sigil_core::Rule {
    rule(
        None,
        Some("windows"),
        Some("security"),
        searches,
        search("selection"),
    )
}

#[test]
fn set_state_from_rule_by_category_then_by_value() {
    let p = pipeline(TABLE_BY_RULE);
    let processed = p.process(&process_creation()).expect("a mapped category");
    assert_eq!(
        state_text(&processed, "query_table").as_deref(),
        Some("Processes")
    );
    assert!(processed.applied.contains("table"));

    // No category: the first known value among the top-level items of a `sel*` search.
    let r = security_rule(vec![
        ("filter", eq("EventID", Value::Int(4688))),
        (
            "Selection_1",
            Expr::And(vec![
                eq("EventID", Value::Int(1)),
                eq("EventID", Value::Int(4624)),
            ]),
        ),
    ]);
    let processed = p.process(&r).expect("an event id");
    assert_eq!(
        state_text(&processed, "query_table").as_deref(),
        Some("Logons")
    );

    // Nested alternatives (a list of mappings) are not looked into, nor other searches.
    let r = security_rule(vec![
        ("filter", eq("EventID", Value::Int(4688))),
        (
            "selection",
            Expr::Or(vec![
                eq("EventID", Value::Int(4624)),
                eq("EventID", Value::Int(4688)),
            ]),
        ),
    ]);
    let err = p.process(&r).expect_err("no table");
    assert!(
        matches!(&err, PipelineError::Transformation { message, .. } if message == "no table for this rule"),
        "{err}"
    );

    // A category decides alone, even when unmapped.
    let mut r = security_rule(vec![("selection", eq("EventID", Value::Int(4624)))]);
    r.logsource.category = Some("ps_script".into());
    assert!(p.process(&r).is_err());
}

#[test]
fn set_state_from_rule_keeps_an_earlier_value() {
    let earlier =
        pipeline("transformations:\n  - type: set_state\n    key: query_table\n    val: Mine\n");
    let set = PipelineSet::new(vec![earlier, pipeline(TABLE_BY_RULE)]);
    let r = security_rule(vec![("selection", eq("Other", Value::Int(1)))]);
    let processed = set.process(&r).expect("the earlier value is kept");
    assert_eq!(
        state_text(&processed, "query_table").as_deref(),
        Some("Mine")
    );
}

#[test]
fn field_schema_failure_names_the_missing_fields() {
    let p = pipeline(
        "transformations:
  - type: set_state
    key: query_table
    val: Processes
  - type: field_schema_failure
    key: query_table
    fields: [Common]
    tables:
      Processes: [Image, CommandLine]
      Other: [X]
",
    );
    let ok = security_rule(vec![(
        "selection",
        Expr::And(vec![
            pred("Image", Op::EndsWith, &["\\x.exe"]),
            pred("Common", Op::Equals, &["y"]),
            // Keywords have no field to check.
            Expr::Pred(Predicate::new(None, Op::Contains, vec![Value::str("kw")])),
        ]),
    )]);
    assert!(p.process(&ok).is_ok());
    let bad = security_rule(vec![(
        "selection",
        Expr::And(vec![
            pred("Image", Op::EndsWith, &["\\x.exe"]),
            pred("Zeta", Op::Equals, &["y"]),
            pred("Alpha", Op::Equals, &["y"]),
        ]),
    )]);
    let err = p.process(&bad).expect_err("unknown fields");
    assert_eq!(
        err.to_string(),
        "rule `00000000-0000-0000-0000-000000000001`: the table `Processes` has no field `Alpha`, `Zeta`"
    );
    assert!(!err.is_load_error());
    // A table the schema does not list is not checked.
    let custom = pipeline(
        "transformations:\n  - type: set_state\n    key: query_table\n    val: Custom\n  - type: field_schema_failure\n    key: query_table\n    tables: {Processes: [Image]}\n",
    );
    assert!(custom.process(&bad).is_ok());
}

#[test]
fn split_domain_user_through_yaml() {
    let p = pipeline(
        "transformations:
  - type: split_domain_user
    domain_fields: {AccountName: AccountDomain}
    field_name_conditions:
      - type: include_fields
        fields: [AccountName, Other]
",
    );
    let r = security_rule(vec![(
        "selection",
        Expr::And(vec![
            pred("AccountName", Op::Equals, &["CORP\\alice"]),
            // Selected, but without a domain field and no default: left alone.
            pred("Other", Op::Equals, &["CORP\\bob"]),
        ]),
    )]);
    let r = p.apply(&r).expect("applies");
    assert_eq!(
        fields(&r),
        vec![
            (Some("AccountName".into()), vec!["alice".into()]),
            (Some("AccountDomain".into()), vec!["CORP".into()]),
            (Some("Other".into()), vec!["CORP\\bob".into()]),
        ]
    );
}

#[test]
fn hashes_fields_through_yaml() {
    let p = pipeline(
        "transformations:
  - type: hashes_fields
    valid_hash_algos: [sha256, md5]
    field_prefix: File
    field_name_conditions:
      - type: include_fields
        fields: [Hashes]
",
    );
    let r = security_rule(vec![(
        "selection",
        pred(
            "Hashes",
            Op::Contains,
            &["SHA256=ABC", "MD5=DEF", "SHA1=GHI"],
        ),
    )]);
    let r = p.apply(&r).expect("applies");
    assert_eq!(
        fields(&r),
        vec![
            (Some("FileSHA256".into()), vec!["ABC*".into()]),
            (Some("FileMD5".into()), vec!["DEF*".into()]),
        ]
    );
    let r = security_rule(vec![(
        "selection",
        pred("Hashes", Op::Equals, &["SHA1=GHI"]),
    )]);
    let err = p.apply(&r).expect_err("no valid algorithm");
    assert!(err.to_string().contains("SHA256, MD5"), "{err}");
}

#[test]
fn replace_string_sees_the_operator_wildcards() {
    // As in pySigma, `contains` puts a `*` in front of the value: `^HKLM` does not match.
    let p = pipeline(
        "transformations:\n  - type: replace_string\n    regex: '^HKLM'\n    replacement: HKEY_LOCAL_MACHINE\n",
    );
    let r = security_rule(vec![(
        "selection",
        Expr::And(vec![
            pred("a", Op::Contains, &["HKLM\\x"]),
            pred("b", Op::StartsWith, &["HKLM\\x"]),
        ]),
    )]);
    let r = p.apply(&r).expect("applies");
    let ops: Vec<(Op, String)> = detection(&r).searches[0]
        .expr
        .predicates()
        .iter()
        .map(|p| (p.op, p.values[0].to_text()))
        .collect();
    assert_eq!(
        ops,
        vec![
            (Op::Contains, "HKLM\\x".to_string()),
            (Op::StartsWith, "HKEY_LOCAL_MACHINE\\x".to_string()),
        ]
    );
    // A rewrite that removes the operator's wildcard leaves a plain equality.
    let p = pipeline(
        "transformations:\n  - type: replace_string\n    regex: '^.*[\\\\/]'\n    replacement: ''\n",
    );
    let r = security_rule(vec![("selection", pred("a", Op::EndsWith, &["\\cmd.exe"]))]);
    let r = p.apply(&r).expect("applies");
    let Expr::Pred(out) = &detection(&r).searches[0].expr else {
        panic!("expected a predicate")
    };
    assert_eq!(
        (out.op, out.values[0].to_text()),
        (Op::Equals, "cmd.exe".to_string())
    );
}

#[test]
fn match_string_sees_the_operator_wildcards() {
    // `endswith: '\x.exe'` is `*\x.exe` to the condition, as in pySigma.
    let p = pipeline(
        "transformations:\n  - type: detection_item_failure\n    message: not a file name\n    detection_item_conditions:\n      - type: match_string\n        cond: any\n        pattern: '^\\*\\\\?[^\\\\]+$'\n        negate: true\n",
    );
    let name_only = security_rule(vec![("selection", pred("a", Op::EndsWith, &["\\x.exe"]))]);
    assert!(p.apply(&name_only).is_ok());
    let full_path = security_rule(vec![("selection", pred("a", Op::Equals, &["C:\\x.exe"]))]);
    assert!(p.apply(&full_path).is_err());
}

#[test]
fn replace_string_interpret_special_reads_wildcards_in_the_replacement() {
    let p = pipeline(
        "transformations:\n  - type: replace_string\n    regex: '[C-Z]:'\n    replacement: '\\\\Device\\\\HarddiskVolume?'\n    skip_special: true\n    interpret_special: true\n",
    );
    let r = security_rule(vec![(
        "selection",
        pred("a", Op::StartsWith, &["C:\\Windows\\"]),
    )]);
    let r = p.apply(&r).expect("applies");
    let Expr::Pred(out) = &detection(&r).searches[0].expr else {
        panic!("expected a predicate")
    };
    let Value::Str(pattern) = &out.values[0] else {
        panic!("expected a string")
    };
    assert_eq!(
        pattern.pieces(),
        &[
            Piece::Lit("\\Device\\HarddiskVolume".into()),
            Piece::AnyOne,
            Piece::Lit("\\Windows\\".into()),
        ]
    );
    assert_eq!(out.op, Op::StartsWith);
}

#[test]
fn field_name_transform_snake_case_with_a_mapping_first() {
    let p = pipeline(
        "transformations:\n  - type: field_name_transform\n    transform_func: snake_case\n    mapping:\n      CommandLine: command\n",
    );
    let r = p.apply(&two_field_rule()).expect("applies");
    assert_eq!(field_names(&r), vec!["image", "command"]);
    for (from, to) in [
        ("TargetUserName", "target_user_name"),
        ("EventID", "event_id"),
        ("Provider_Name", "provider_name"),
        ("HTTPServer2", "https_erver2"),
        ("cs-uri", "cs_uri"),
    ] {
        assert_eq!(
            sigil_pipeline::model::FieldFunction::SnakeCase.apply(from),
            to,
            "{from}"
        );
    }
    let err = Pipeline::from_yaml(
        "transformations:\n  - type: field_name_transform\n    transform_func: camel\n",
        "test.yml",
    )
    .unwrap_err();
    assert!(err.to_string().contains("snake_case"), "{err}");
}
