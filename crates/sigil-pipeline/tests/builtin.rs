//! The built-in pipelines, applied to hand-built rules.

mod common;

use common::{detection, process_creation, rule, search};
use sigil_core::{Condition, Expr, Op, Value};
use sigil_pipeline::{LogsourceKeys, PipelineSet, builtin, logsource_keys};

fn windows_set() -> PipelineSet {
    PipelineSet::new(vec![
        builtin("sysmon").expect("built in"),
        builtin("windows-logsources").expect("built in"),
    ])
}

fn cond_value(rule: &sigil_core::Rule, name: &str) -> (String, Vec<Value>) {
    let s = detection(rule).search(name).expect("added search");
    match &s.expr {
        Expr::Pred(p) => {
            assert_eq!(p.op, Op::Equals);
            (p.field.clone().expect("a field"), p.values.clone())
        }
        other => panic!("unexpected added search {other:?}"),
    }
}

#[test]
fn sysmon_and_windows_logsources_add_event_id_then_channel() {
    let processed = windows_set().process(&process_creation()).expect("applies");
    let r = &processed.rule;
    assert_eq!(r.logsource.service.as_deref(), Some("sysmon"));
    assert_eq!(r.logsource.category.as_deref(), Some("process_creation"));
    assert_eq!(
        cond_value(r, "_cond_1"),
        ("EventID".to_string(), vec![Value::Int(1)])
    );
    assert_eq!(
        cond_value(r, "_cond_2"),
        (
            "Channel".to_string(),
            vec![Value::str("Microsoft-Windows-Sysmon/Operational")]
        )
    );
    // pySigma rewrites each condition as `_cond and (condition)`, outermost last.
    assert_eq!(
        detection(r).conditions,
        vec![Condition::And(vec![
            search("_cond_2"),
            Condition::And(vec![search("_cond_1"), search("selection")])
        ])]
    );
    assert!(
        processed
            .applied
            .contains("sysmon_process_creation_eventid")
    );
    assert!(
        processed
            .applied
            .contains("sysmon_process_creation_logsource")
    );
    assert!(processed.applied.contains("windows_logsource_sysmon"));
    assert!(!processed.applied.contains("windows_logsource_security"));

    let keys = logsource_keys(r);
    assert_eq!(
        keys.channels.map(|c| c.into_iter().collect::<Vec<_>>()),
        Some(vec!["Microsoft-Windows-Sysmon/Operational".to_string()])
    );
    assert_eq!(
        keys.event_ids.map(|c| c.into_iter().collect::<Vec<_>>()),
        Some(vec![1])
    );
}

#[test]
fn sysmon_alone_adds_only_the_event_id() {
    let r = builtin("sysmon")
        .expect("built in")
        .apply(&process_creation())
        .expect("applies");
    assert_eq!(detection(&r).searches.len(), 2);
    assert_eq!(
        detection(&r).conditions,
        vec![Condition::And(vec![search("_cond_1"), search("selection")])]
    );
    let keys = logsource_keys(&r);
    assert_eq!(keys.channels, None);
    assert_eq!(keys.event_ids.map(|s| s.len()), Some(1));
}

#[test]
fn registry_event_takes_three_event_ids() {
    let r = rule(
        Some("registry_event"),
        Some("windows"),
        None,
        vec![(
            "selection",
            common::pred("TargetObject", Op::Contains, &["\\Run\\"]),
        )],
        search("selection"),
    );
    let r = windows_set().apply(&r).expect("applies");
    assert_eq!(
        cond_value(&r, "_cond_1").1,
        vec![Value::Int(12), Value::Int(13), Value::Int(14)]
    );
}

#[test]
fn powershell_script_gets_4104_and_both_channels() {
    let r = rule(
        Some("ps_script"),
        Some("windows"),
        None,
        vec![(
            "selection",
            common::pred("ScriptBlockText", Op::Contains, &["Invoke-"]),
        )],
        search("selection"),
    );
    let processed = windows_set().process(&r).expect("applies");
    let r = &processed.rule;
    assert_eq!(r.logsource.service.as_deref(), Some("powershell"));
    assert_eq!(cond_value(r, "_cond_1").1, vec![Value::Int(4104)]);
    assert_eq!(
        cond_value(r, "_cond_2").1,
        vec![
            Value::str("Microsoft-Windows-PowerShell/Operational"),
            Value::str("PowerShellCore/Operational")
        ]
    );
    assert!(processed.applied.contains("windows_ps_script_channel"));
    assert!(processed.applied.contains("windows_logsource_powershell"));
}

#[test]
fn classic_powershell_maps_to_the_windows_powershell_log() {
    for (category, id) in [
        ("ps_classic_start", 400),
        ("ps_classic_provider_start", 600),
        ("ps_classic_script", 800),
    ] {
        let r = rule(
            Some(category),
            Some("windows"),
            None,
            vec![("selection", common::pred("Data", Op::Contains, &["x"]))],
            search("selection"),
        );
        let r = windows_set().apply(&r).expect("applies");
        assert_eq!(
            cond_value(&r, "_cond_1").1,
            vec![Value::Int(id)],
            "{category}"
        );
        assert_eq!(
            cond_value(&r, "_cond_2").1,
            vec![Value::str("Windows PowerShell")],
            "{category}"
        );
    }
}

#[test]
fn services_map_to_channels() {
    let r = rule(
        None,
        Some("windows"),
        Some("security"),
        vec![("selection", common::eq("EventID", Value::Int(4624)))],
        search("selection"),
    );
    let r = windows_set().apply(&r).expect("applies");
    assert_eq!(cond_value(&r, "_cond_1").1, vec![Value::str("Security")]);
    let keys = logsource_keys(&r);
    // The rule's own `EventID: 4624` is a top-level conjunct too.
    assert_eq!(
        keys.event_ids.map(|s| s.into_iter().collect::<Vec<_>>()),
        Some(vec![4624])
    );
}

#[test]
fn unknown_logsources_pass_unchanged() {
    let original = rule(
        Some("file_access"),
        Some("windows"),
        None,
        vec![(
            "selection",
            common::pred("FileName", Op::EndsWith, &[".key"]),
        )],
        search("selection"),
    );
    let processed = windows_set().process(&original).expect("applies");
    assert_eq!(processed.rule, original);
    assert!(processed.applied.is_empty());
    assert_eq!(logsource_keys(&processed.rule), LogsourceKeys::default());
}

#[test]
fn other_products_are_not_touched() {
    let original = rule(
        Some("process_creation"),
        Some("linux"),
        None,
        vec![("selection", common::pred("Image", Op::EndsWith, &["/sh"]))],
        search("selection"),
    );
    assert_eq!(windows_set().apply(&original).expect("applies"), original);
}

#[test]
fn windows_audit_maps_process_creation_to_4688() {
    let set = PipelineSet::new(vec![
        builtin("windows-audit").expect("built in"),
        builtin("windows-logsources").expect("built in"),
    ]);
    let mut r = process_creation();
    if let sigil_core::RuleBody::Detection(d) = &mut r.body {
        d.searches.push(sigil_core::Search {
            name: "parent".into(),
            expr: common::pred("ParentImage", Op::EndsWith, &["\\cmd.exe"]),
            span: sigil_core::Span::default(),
        });
    }
    let processed = set.process(&r).expect("applies");
    let r = &processed.rule;
    assert_eq!(r.logsource.service.as_deref(), Some("security"));
    assert_eq!(r.logsource.category, None);
    assert_eq!(cond_value(r, "_cond_1").1, vec![Value::Int(4688)]);
    assert_eq!(cond_value(r, "_cond_2").1, vec![Value::str("Security")]);
    let fields: Vec<_> = common::fields(r)
        .into_iter()
        .filter_map(|(f, _)| f)
        .collect();
    assert!(fields.contains(&"NewProcessName".to_string()), "{fields:?}");
    assert!(
        fields.contains(&"ParentProcessName".to_string()),
        "{fields:?}"
    );
    assert!(!fields.contains(&"Image".to_string()));
    assert!(processed.applied.contains("windows_audit_fieldmappings"));
}

#[test]
fn windows_audit_registry_set_adds_operation_type() {
    let r = rule(
        Some("registry_set"),
        Some("windows"),
        None,
        vec![(
            "selection",
            common::pred("TargetObject", Op::Contains, &["\\Run"]),
        )],
        search("selection"),
    );
    let r = builtin("windows-audit")
        .expect("built in")
        .apply(&r)
        .expect("applies");
    let s = detection(&r).search("_cond_1").expect("added");
    let preds = s.expr.predicates();
    assert_eq!(preds.len(), 2);
    assert_eq!(preds[0].field.as_deref(), Some("EventID"));
    assert_eq!(preds[0].values, vec![Value::Int(4657)]);
    assert_eq!(preds[1].field.as_deref(), Some("OperationType"));
    assert_eq!(
        preds[1].values,
        vec![Value::str("Existing registry value modified")]
    );
}

#[test]
fn ecs_windows_maps_and_prefixes_fields() {
    let r = rule(
        Some("process_creation"),
        Some("windows"),
        None,
        vec![(
            "selection",
            Expr::And(vec![
                common::pred("Image", Op::EndsWith, &["\\x.exe"]),
                common::pred("CommandLine", Op::Contains, &["-enc"]),
                common::pred("IntegrityLevel", Op::Equals, &["High"]),
                common::pred("OriginalFileName", Op::Equals, &["x.exe"]),
            ]),
        )],
        search("selection"),
    );
    let r = builtin("ecs_windows")
        .expect("built in")
        .apply(&r)
        .expect("applies");
    let fields: Vec<_> = common::fields(&r)
        .into_iter()
        .filter_map(|(f, _)| f)
        .collect();
    assert_eq!(
        fields,
        vec![
            "process.executable.caseless",
            "process.command_line",
            "winlog.event_data.IntegrityLevel",
            "process.pe.original_file_name",
        ]
    );
}

#[test]
fn ecs_windows_adds_the_winlog_channel_for_services() {
    let r = rule(
        None,
        Some("windows"),
        Some("security"),
        vec![(
            "selection",
            Expr::And(vec![
                common::eq("EventID", Value::Int(4624)),
                common::eq("LogonType", Value::Int(9)),
                common::pred("SubjectUserName", Op::Equals, &["admin"]),
            ]),
        )],
        search("selection"),
    );
    let r = builtin("ecs_windows")
        .expect("built in")
        .apply(&r)
        .expect("applies");
    assert_eq!(
        common::fields(&r),
        vec![
            (Some("event.code".to_string()), vec!["4624".to_string()]),
            (
                Some("winlog.event_data.LogonType".to_string()),
                vec!["9".to_string()]
            ),
            (Some("user.name".to_string()), vec!["admin".to_string()]),
            (
                Some("winlog.channel".to_string()),
                vec!["Security".to_string()]
            ),
        ]
    );
    assert_eq!(
        detection(&r).conditions,
        vec![Condition::And(vec![search("_cond_1"), search("selection")])]
    );
}
