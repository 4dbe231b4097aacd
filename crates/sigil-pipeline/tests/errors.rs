//! Pipeline files with mistakes: each is a typed error at the right position.

use sigil_pipeline::{Pipeline, PipelineError};

fn load_err(yaml: &str) -> PipelineError {
    Pipeline::from_yaml(yaml, "my.yml").expect_err("must be rejected")
}

#[test]
fn unknown_transformation_type_points_at_the_type() {
    let err = load_err(
        "name: x\ntransformations:\n  - id: a\n    type: field_name_mappin\n    mapping: {}\n",
    );
    assert!(
        matches!(err, PipelineError::UnknownTransformation { ref name, .. } if name == "field_name_mappin")
    );
    assert_eq!(
        err.to_string(),
        "my.yml:4:11: unknown transformation type `field_name_mappin`"
    );
    assert!(err.is_load_error());
}

#[test]
fn misspelled_item_key_points_at_the_key() {
    let err = load_err(
        "transformations:\n  - type: field_name_mapping\n    mapping: {a: b}\n    rule_condition:\n      - type: logsource\n",
    );
    let PipelineError::UnknownKey { pos, key, .. } = &err else {
        panic!("unexpected {err}")
    };
    assert_eq!(key, "rule_condition");
    assert_eq!((pos.line, pos.column), (4, 5));
    assert!(
        err.to_string()
            .starts_with("my.yml:4:5: unknown key `rule_condition`")
    );
}

#[test]
fn misspelled_top_level_and_condition_keys() {
    let err = load_err("nmae: x\n");
    assert!(
        err.to_string()
            .starts_with("my.yml:1:1: unknown key `nmae` in pipeline")
    );
    let err = load_err(
        "transformations:\n  - type: drop_detection_item\n    field_name_conditions:\n      - type: include_fields\n        field: [a]\n",
    );
    assert!(
        err.to_string()
            .starts_with("my.yml:5:9: unknown key `field`"),
        "{err}"
    );
}

#[test]
fn unknown_condition_types() {
    let err = load_err(
        "transformations:\n  - type: drop_detection_item\n    rule_conditions:\n      - type: logsorce\n",
    );
    assert!(
        matches!(err, PipelineError::UnknownCondition { kind: "rule", .. }),
        "{err}"
    );
    assert!(err.to_string().starts_with("my.yml:4:15:"), "{err}");
}

#[test]
fn unsupported_pysigma_features_are_named() {
    let err = load_err("transformations:\n  - type: nest\n    items: []\n");
    assert!(matches!(err, PipelineError::Unsupported { .. }), "{err}");
    let err =
        load_err("transformations:\n  - type: add_condition\n    conditions:\n      a|base64: x\n");
    assert!(err.to_string().contains("modifier `base64`"), "{err}");
}

#[test]
fn bad_values_and_missing_parameters() {
    let err = load_err("transformations:\n  - type: field_name_prefix\n");
    assert!(err.to_string().contains("needs `prefix`"), "{err}");
    let err = load_err(
        "transformations:\n  - type: replace_string\n    regex: '('\n    replacement: x\n",
    );
    assert!(
        err.to_string().contains("invalid regular expression"),
        "{err}"
    );
    let err = load_err("priority: high\n");
    assert!(err.to_string().starts_with("my.yml:1:11:"), "{err}");
    let err = load_err("transformations: 3\n");
    assert!(matches!(err, PipelineError::Invalid { .. }));
    let err = load_err(
        "transformations:\n  - type: drop_detection_item\n    rule_cond_expr: a and b\n    rule_conditions:\n      a:\n        type: is_sigma_rule\n",
    );
    assert!(err.to_string().contains("undefined condition `b`"), "{err}");
}

#[test]
fn yaml_syntax_errors_have_positions() {
    let err = load_err("transformations:\n  - type: [x\n");
    assert!(matches!(err, PipelineError::Yaml { .. }), "{err}");
    assert!(err.to_string().starts_with("my.yml:"));
}

#[test]
fn no_input_panics() {
    for text in [
        "",
        "~",
        "[]",
        "- a",
        "transformations:\n  - 3\n",
        "transformations:\n  - type: 5\n",
        "transformations:\n  - type: add_condition\n    conditions: [1]\n",
        "vars:\n  a: {b: c}\n",
        "transformations:\n  - type: field_name_mapping\n    mapping:\n      [a]: b\n",
        "a: &x 1\nb: *x\n",
        "\u{0}\u{1}",
    ] {
        let _ = Pipeline::from_yaml(text, "fuzz.yml");
    }
}

#[test]
fn missing_pipeline_files_name_the_builtins() {
    let err = Pipeline::resolve("/no/such/pipeline.yml").expect_err("not found");
    assert!(err.to_string().contains("sysmon"), "{err}");
    assert!(Pipeline::resolve("sysmon").is_ok());
}

#[test]
fn mistakes_in_the_kusto_transformations() {
    let err = load_err(
        "transformations:\n  - type: set_state_from_rule\n    key: t\n    by_value:\n      fields: [EventID]\n      search: sel\n      values: {1: A}\n",
    );
    assert!(
        matches!(&err, PipelineError::UnknownKey { key, .. } if key == "search"),
        "{err}"
    );
    assert!(err.to_string().starts_with("my.yml:6:7:"), "{err}");
    let err = load_err(
        "transformations:\n  - type: set_state_from_rule\n    key: t\n    by_value:\n      fields: [EventID]\n",
    );
    assert!(
        err.to_string().contains("`by_value` needs `values`"),
        "{err}"
    );
    let err = load_err("transformations:\n  - type: hashes_fields\n    field_prefix: x\n");
    assert!(
        err.to_string().contains("needs `valid_hash_algos`"),
        "{err}"
    );
    let err = load_err("transformations:\n  - type: field_schema_failure\n    key: t\n");
    assert!(err.to_string().contains("needs `tables`"), "{err}");
    let err = load_err("transformations:\n  - type: split_domain_user\n    domain_fields: [a]\n");
    assert!(err.to_string().starts_with("my.yml:3:20:"), "{err}");
}
