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

fn kusto(name: &str) -> PipelineSet {
    PipelineSet::new(vec![builtin(name).expect("built in")])
}

fn query_table(p: &sigil_pipeline::Processed) -> Option<String> {
    match p.state.get("query_table") {
        Some(sigil_pipeline::Scalar::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

/// `(field, operator, values)` of every predicate of every search.
fn leaves(r: &sigil_core::Rule) -> Vec<(String, Op, Vec<String>)> {
    let mut out = Vec::new();
    for s in &detection(r).searches {
        s.expr.for_each_predicate(&mut |p| {
            out.push((
                p.field.clone().unwrap_or_default(),
                p.op,
                p.values.iter().map(Value::to_text).collect(),
            ));
        });
    }
    out
}

#[test]
fn microsoft_xdr_process_creation() {
    let r = rule(
        Some("process_creation"),
        Some("windows"),
        None,
        vec![(
            "selection",
            Expr::And(vec![
                common::pred("Image", Op::EndsWith, &["\\x.exe"]),
                common::pred("ParentImage", Op::EndsWith, &["\\cmd.exe"]),
                common::pred("User", Op::Contains, &["AUTHORI\\SYSTEM"]),
                common::pred("ProcessId", Op::Equals, &["4"]),
                common::pred("Hashes", Op::Contains, &["SHA1=AB", "IMPHASH=CD"]),
            ]),
        )],
        search("selection"),
    );
    let p = kusto("microsoft_365_defender")
        .process(&r)
        .expect("applies");
    assert_eq!(query_table(&p).as_deref(), Some("DeviceProcessEvents"));
    assert_eq!(
        leaves(&p.rule),
        vec![
            ("FolderPath".into(), Op::EndsWith, vec!["\\x.exe".into()]),
            // process_creation has the parent's path: no file-name rewrite.
            (
                "InitiatingProcessFolderPath".into(),
                Op::EndsWith,
                vec!["\\cmd.exe".into()]
            ),
            ("AccountName".into(), Op::Equals, vec!["SYSTEM*".into()]),
            ("AccountDomain".into(), Op::Equals, vec!["*AUTHORI".into()]),
            // The table mapping keeps ProcessId, so the generic one does not apply.
            ("ProcessId".into(), Op::Equals, vec!["4".into()]),
            ("SHA1".into(), Op::Equals, vec!["AB*".into()]),
        ]
    );
}

#[test]
fn microsoft_xdr_registry_and_parent_image_values() {
    let r = rule(
        Some("registry_set"),
        Some("windows"),
        None,
        vec![(
            "selection",
            Expr::And(vec![
                common::pred(
                    "TargetObject",
                    Op::StartsWith,
                    &["HKLM\\SYSTEM\\CurrentControlSet\\Services\\"],
                ),
                common::pred("Details", Op::Contains, &["HKLM\\x"]),
                common::pred("EventType", Op::Equals, &["DeleteKey"]),
                common::pred("ParentImage", Op::EndsWith, &["\\cmd.exe"]),
                common::pred("Image", Op::Contains, &["\\Temp\\"]),
            ]),
        )],
        search("selection"),
    );
    let p = kusto("microsoft_xdr").process(&r).expect("applies");
    assert_eq!(query_table(&p).as_deref(), Some("DeviceRegistryEvents"));
    assert_eq!(
        leaves(&p.rule),
        vec![
            (
                "RegistryKey".into(),
                Op::StartsWith,
                vec!["HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet001\\Services\\\\".into()]
            ),
            // Only registry keys are rewritten.
            (
                "RegistryValueData".into(),
                Op::Contains,
                vec!["HKLM\\x".into()]
            ),
            (
                "ActionType".into(),
                Op::Equals,
                vec!["RegistryKeyDeleted".into(), "RegistryValueDeleted".into()]
            ),
            // Outside process_creation only the parent's file name is known.
            (
                "InitiatingProcessParentFileName".into(),
                Op::Equals,
                vec!["cmd.exe".into()]
            ),
            (
                "InitiatingProcessFolderPath".into(),
                Op::Contains,
                vec!["\\Temp\\\\".into()]
            ),
        ]
    );
}

#[test]
fn microsoft_xdr_table_from_event_id_and_schema_check() {
    let security = |field: &str| {
        rule(
            None,
            Some("windows"),
            Some("security"),
            vec![(
                "selection",
                Expr::And(vec![
                    common::eq("EventID", Value::Int(4624)),
                    common::pred(field, Op::Equals, &["10"]),
                ]),
            )],
            search("selection"),
        )
    };
    let p = kusto("microsoft_xdr")
        .process(&security("LogonType"))
        .expect("a DeviceLogonEvents field");
    assert_eq!(query_table(&p).as_deref(), Some("DeviceLogonEvents"));
    // The event id is dropped: the table says it.
    assert_eq!(leaves(&p.rule).len(), 1);
    let err = kusto("microsoft_xdr")
        .process(&security("SubjectUserSid"))
        .expect_err("not a DeviceLogonEvents field");
    assert!(
        matches!(&err, sigil_pipeline::PipelineError::FieldsNotInSchema { table, fields, .. }
            if table == "DeviceLogonEvents" && fields == &["SubjectUserSid".to_string()]),
        "{err}"
    );
    // No category and no event id of a known kind, or a category without a table.
    let mut no_table = security("LogonType");
    no_table.logsource.category = Some("ps_script".into());
    let err = kusto("microsoft_xdr")
        .process(&no_table)
        .expect_err("no table");
    assert!(
        err.to_string().contains("Unable to determine table name"),
        "{err}"
    );
}

#[test]
fn microsoft_xdr_keeps_a_query_table_chosen_before() {
    let user = sigil_pipeline::Pipeline::from_yaml(
        "transformations:\n  - type: set_state\n    key: query_table\n    val: DeviceEvents\n",
        "user.yml",
    )
    .expect("loads");
    let set = PipelineSet::new(vec![builtin("microsoft_xdr").expect("built in"), user]);
    let p = set.process(&process_creation()).expect("applies");
    assert_eq!(query_table(&p).as_deref(), Some("DeviceEvents"));
    assert_eq!(leaves(&p.rule)[0].0, "InitiatingProcessFolderPath");
}

#[test]
fn sentinel_asim_and_azure_monitor_choose_their_tables() {
    let r = rule(
        Some("process_creation"),
        Some("windows"),
        None,
        vec![(
            "selection",
            Expr::And(vec![
                common::pred("Image", Op::EndsWith, &["\\x.exe"]),
                common::pred("CommandLine", Op::Contains, &["-enc"]),
            ]),
        )],
        search("selection"),
    );
    let p = kusto("sentinel").process(&r).expect("applies");
    assert_eq!(query_table(&p).as_deref(), Some("imProcessCreate"));
    let names: Vec<String> = leaves(&p.rule).into_iter().map(|l| l.0).collect();
    assert_eq!(names, vec!["TargetProcessName", "TargetProcessCommandLine"]);

    let p = kusto("azure_monitor").process(&r).expect("applies");
    assert_eq!(query_table(&p).as_deref(), Some("SecurityEvent"));
    let names: Vec<String> = leaves(&p.rule).into_iter().map(|l| l.0).collect();
    assert_eq!(names, vec!["NewProcessName", "CommandLine"]);
}
