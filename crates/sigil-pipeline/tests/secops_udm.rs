//! The `secops_udm` pipeline: UDM event types from the logsource or the `EventID`s, field
//! names by event kind then the common table, UDM field-path validation.

use sigil_pipeline::{PipelineError, PipelineSet, Processed, Scalar, builtin};

fn process(yaml: &str) -> Result<Processed, PipelineError> {
    let parsed = sigil_sigma::parse_str(yaml);
    let rule = parsed.rules.first().expect("the test rule parses");
    PipelineSet::new(vec![builtin("secops_udm").expect("built in")]).process(rule)
}

fn fields(p: &Processed) -> Vec<String> {
    let mut out = Vec::new();
    if let sigil_core::RuleBody::Detection(d) = &p.rule.body {
        for s in &d.searches {
            s.expr.for_each_predicate(&mut |pred| {
                if let Some(f) = &pred.field {
                    out.push(f.clone());
                }
            });
        }
    }
    out
}

fn event_types(p: &Processed) -> Option<&str> {
    match p.state.get("event_types") {
        Some(Scalar::Str(s)) => Some(s),
        _ => None,
    }
}

#[test]
fn process_creation_maps_by_its_event_type() {
    let p = process(
        "title: t\nlogsource: {category: process_creation, product: windows}\n\
         detection:\n  sel:\n    Image|endswith: '\\x.exe'\n    CommandLine|contains: a\n    User: b\n    Hostname: c\n  condition: sel\n",
    )
    .expect("converts");
    assert_eq!(event_types(&p), Some("PROCESS_LAUNCH"));
    assert_eq!(p.state.get("prepend_metadata"), Some(&Scalar::Bool(true)));
    assert_eq!(
        fields(&p),
        [
            "target.process.file.full_path",
            "target.process.command_line",
            "target.user.userid",
            "hostname"
        ]
    );
}

#[test]
fn service_product_and_event_id_give_event_types() {
    let p = process(
        "title: t\nlogsource: {product: windows, service: powershell}\n\
         detection:\n  sel: {CommandLine: a}\n  condition: sel\n",
    )
    .expect("converts");
    assert_eq!(event_types(&p), Some("PROCESS_LAUNCH"));
    let p = process(
        "title: t\nlogsource: {product: windows, service: security}\n\
         detection:\n  selection:\n    EventID: [4624, 4625, 4720]\n    TargetUserName: x\n  filter:\n    EventID: 4688\n  condition: selection and not filter\n",
    )
    .expect("converts");
    assert_eq!(event_types(&p), Some("USER_LOGIN,USER_CREATION"));
    // Several event kinds: no kind's mapping, the common one.
    assert_eq!(
        fields(&p),
        [
            "metadata.product_event_type",
            "target.user.userid",
            "metadata.product_event_type"
        ]
    );
    let p = process(
        "title: t\nlogsource: {product: windows, service: system}\n\
         detection:\n  sel: {Provider_Name: x}\n  condition: sel\n",
    )
    .expect("converts");
    assert_eq!(event_types(&p), None);
    assert_eq!(fields(&p), ["metadata.product_name"]);
}

#[test]
fn a_field_outside_the_udm_rejects_the_rule() {
    let err = process(
        "title: t\nlogsource: {product: windows, category: ps_script}\n\
         detection:\n  sel: {ScriptBlockText|contains: x}\n  condition: sel\n",
    )
    .expect_err("ScriptBlockText is not a UDM field");
    assert!(
        err.to_string()
            .contains("Invalid UDM field: Field ScriptBlockText is not a valid UDM field"),
        "{err}"
    );
}

#[test]
fn initiated_becomes_a_direction_constant() {
    let p = process(
        "title: t\nlogsource: {category: network_connection, product: windows}\n\
         detection:\n  sel: {Initiated: 'true'}\n  condition: sel\n",
    )
    .expect("converts");
    assert_eq!(fields(&p), ["network.direction"]);
    let text = format!("{:?}", p.rule.body);
    assert!(text.contains("OUTBOUND"), "{text}");
}
