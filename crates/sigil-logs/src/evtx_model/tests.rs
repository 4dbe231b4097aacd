use super::*;
use crate::{Event, FieldValue};

fn read(json: &[u8]) -> Result<FlatEvent, RecordError> {
    let mut event = FlatEvent::new();
    read_record(json.to_vec(), &mut event, &mut Scratch::default()).map(|_| event)
}

fn flat(json: &str) -> FlatEvent {
    read(json.as_bytes()).unwrap()
}

fn text(event: &FlatEvent, name: &str) -> Option<String> {
    event
        .get(name)
        .and_then(|v| v.as_text().map(std::borrow::Cow::into_owned))
}

fn fields(event: &FlatEvent) -> Vec<(String, FieldValue<'_>)> {
    event.iter().map(|(n, v)| (n.to_string(), v)).collect()
}

#[test]
fn system_fields_and_named_data() {
    let event = flat(
        r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"5770385F"}},"EventID":1,"Version":5,"Level":4,"Task":1,"Opcode":0,"Keywords":"0x8000000000000000","TimeCreated":{"#attributes":{"SystemTime":"2019-04-27T15:57:25.868863Z"}},"EventRecordID":7,"Correlation":null,"Execution":{"#attributes":{"ProcessID":1912,"ThreadID":996}},"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"IEWIN7","Security":{"#attributes":{"UserID":"S-1-5-18"}}},"EventData":{"RuleName":"","ProcessId":2772,"Image":"C:\\Windows\\Explorer.EXE","Binary":null,"Initiated":true}}}"##,
    );
    let names: Vec<&str> = event.iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "Provider_Name",
            "Provider_Guid",
            "EventID",
            "Version",
            "Level",
            "Task",
            "Opcode",
            "Keywords",
            "EventRecordID",
            "Channel",
            "Computer",
            "SystemTime",
            "Execution_ProcessID",
            "Execution_ThreadID",
            "Security_UserID",
            "RuleName",
            "ProcessId",
            "Image",
            "Initiated",
            "ThreadID",
            "UserID",
        ]
    );
    assert_eq!(event.get("eventid"), Some(FieldValue::Int(1)));
    // Sysmon's own ProcessId wins over the Execution alias.
    assert_eq!(event.get("ProcessID"), Some(FieldValue::Int(2772)));
    assert_eq!(event.get("Initiated"), Some(FieldValue::Bool(true)));
    assert_eq!(
        text(&event, "image").as_deref(),
        Some("C:\\Windows\\Explorer.EXE")
    );
}

#[test]
fn the_reader_finds_the_system_fields_it_needs() {
    let json = br##"{"Event":{"System":{"EventID":"4688","EventRecordID":9,"Channel":"Security","Computer":"pc","TimeCreated":{"#attributes":{"SystemTime":"2019-04-27T15:57:25.8688632Z"}}},"EventData":{"x":1}}}"##;
    let mut event = FlatEvent::new();
    let system = read_record(json.to_vec(), &mut event, &mut Scratch::default()).unwrap();
    assert_eq!(system.event_id(&event), Some(Value::Int(4688)));
    assert_eq!(system.record_id(&event), Some(Value::Int(9)));
    assert_eq!(system.channel(&event), Some("Security"));
    assert_eq!(system.computer(&event), Some("pc"));
    assert_eq!(
        system.system_time(&event),
        Some("2019-04-27T15:57:25.868863Z")
    );
    // Without a System field of that name, the first field of the name answers.
    let json = br#"{"Event":{"System":{},"EventData":{"computer":"data"}}}"#;
    let system = read_record(json.to_vec(), &mut event, &mut Scratch::default()).unwrap();
    assert_eq!(system.computer(&event), Some("data"));
    assert_eq!(system.channel(&event), None);
}

#[test]
fn qualified_event_id_and_unnamed_data() {
    let event = flat(
        r##"{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":16384},"#text":"3001"},"Execution":{"#attributes":{"ProcessID":4}}},"EventData":{"Data":{"#text":["sa"," Reason: x",7,true,null,1.0,2.5,[1,"q\"",{"k":null}]]},"Binary":"0A0B"}}}"##,
    );
    assert_eq!(event.get("EventID"), Some(FieldValue::Int(3001)));
    assert_eq!(event.get("Qualifiers"), Some(FieldValue::Int(16384)));
    assert_eq!(
        text(&event, "Data").as_deref(),
        Some("sa\n Reason: x\n7\nTrue\n\n1.0\n2.5\n[1,\"q\\\"\",{\"k\":null}]")
    );
    assert_eq!(text(&event, "Binary").as_deref(), Some("0A0B"));
    // No data field called ProcessId: the alias applies.
    assert_eq!(event.get("processid"), Some(FieldValue::Int(4)));
}

#[test]
fn colliding_data_fields_are_prefixed() {
    let event = flat(
        r##"{"Event":{"System":{"EventID":104,"Channel":"System","Version":0},"EventData":{"version":"2","Version ":"3"},"UserData":{"LogFileCleared":{"#attributes":{"xmlns":"y"},"SubjectUserName":"admin01","Channel":"Security","Nested":{"Inner":"v","Attr":{"#attributes":{"a":1},"#text":"t"}}}}}}"##,
    );
    assert_eq!(event.get("Channel"), Some(FieldValue::Str("System".into())));
    assert_eq!(
        text(&event, "UserData_Channel").as_deref(),
        Some("Security")
    );
    assert_eq!(text(&event, "EventData_version").as_deref(), Some("2"));
    // Taken with its prefix too: dropped.
    assert!(!event.iter().any(|(_, v)| v == FieldValue::Str("3".into())));
    assert_eq!(text(&event, "SubjectUserName").as_deref(), Some("admin01"));
    assert_eq!(text(&event, "Inner").as_deref(), Some("v"));
    assert_eq!(text(&event, "Attr").as_deref(), Some("t"));
    assert!(!event.contains("xmlns"));
}

#[test]
fn guids_and_timestamps_take_the_reference_form() {
    let event = flat(
        r##"{"Event":{"System":{"Provider":{"#attributes":{"Guid":"{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"}},"TimeCreated":{"#attributes":{"SystemTime":"2019-04-27T15:57:25.8688632Z"}}},"EventData":{"A":"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}","B":"{not-a-guid}","C":"2019-04-27T15:57:25.868Z","D":["{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"],"E":"\u007b5770385f-c22a-43e0-bf4c-06f5698ffbd9}"}}}"##,
    );
    assert_eq!(
        text(&event, "Provider_Guid").as_deref(),
        Some("5770385F-C22A-43E0-BF4C-06F5698FFBD9")
    );
    assert_eq!(
        text(&event, "SystemTime").as_deref(),
        Some("2019-04-27T15:57:25.868863Z")
    );
    // Text that the crate did not render as a typed value keeps its form.
    assert_eq!(
        text(&event, "A").as_deref(),
        Some("{5770385F-C22A-43E0-BF4C-06F5698FFBD9}")
    );
    assert_eq!(text(&event, "B").as_deref(), Some("{not-a-guid}"));
    assert_eq!(
        text(&event, "C").as_deref(),
        Some("2019-04-27T15:57:25.868Z")
    );
    // A value is rewritten as it ends up: joined, or unescaped.
    assert_eq!(
        text(&event, "D").as_deref(),
        Some("5770385F-C22A-43E0-BF4C-06F5698FFBD9")
    );
    assert_eq!(
        text(&event, "E").as_deref(),
        Some("5770385F-C22A-43E0-BF4C-06F5698FFBD9")
    );
}

#[test]
fn event_data_as_text_becomes_data() {
    let event = flat(r#"{"Event":{"System":{"EventID":400},"EventData":"plain"}}"#);
    assert_eq!(text(&event, "Data").as_deref(), Some("plain"));
    let event = flat(r#"{"Event":{"System":{"EventID":400},"EventData":["a","b"]}}"#);
    assert_eq!(text(&event, "Data").as_deref(), Some("a\nb"));
}

#[test]
fn missing_event_or_system_is_an_error() {
    for (json, error) in [
        (r#"{"x":1}"#, ModelError::NoEvent),
        ("[1]", ModelError::NoEvent),
        (r#"{"Event":{}}"#, ModelError::NoSystem),
        (r#"{"Event":[{"System":{}}]}"#, ModelError::NoSystem),
    ] {
        assert_eq!(
            read(json.as_bytes()).err(),
            Some(RecordError::Model(error)),
            "{json}"
        );
    }
    // A System that is not an object gives no fields, but is there.
    assert_eq!(flat(r#"{"Event":{"System":null}}"#).len(), 0);
}

#[test]
fn sections_are_read_in_the_model_order_whatever_the_document_order() {
    let canonical = flat(
        r##"{"Event":{"System":{"Channel":"c","Execution":{"#attributes":{"ThreadID":1}}},"EventData":{"channel":"d","Data":"e"},"UserData":{"W":{"Data":"u","threadid":2}},"ProcessingErrorData":{"Data":"p"}}}"##,
    );
    for json in [
        r##"{"Event":{"ProcessingErrorData":{"Data":"p"},"UserData":{"W":{"Data":"u","threadid":2}},"EventData":{"channel":"d","Data":"e"},"System":{"Channel":"c","Execution":{"#attributes":{"ThreadID":1}}}}}"##,
        r##"{"Event":{"UserData":{"W":{"Data":"u","threadid":2}},"System":{"Channel":"c","Execution":{"#attributes":{"ThreadID":1}}},"ProcessingErrorData":{"Data":"p"},"EventData":{"channel":"d","Data":"e"},"EventData":{"Data":"later ones are not read"}}}"##,
    ] {
        assert_eq!(fields(&flat(json)), fields(&canonical), "{json}");
    }
    assert_eq!(
        fields(&canonical)
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        [
            "Channel",
            "Execution_ThreadID",
            "EventData_channel",
            "Data",
            "UserData_Data",
            "threadid",
            "ProcessingErrorData_Data"
        ]
    );
}

#[test]
fn system_values_given_twice_keep_the_last() {
    let event = flat(
        r##"{"Event":{"System":{"Channel":"a","Channel":"b","Level":1,"Level":[2],"EventID":{"#text":5,"#text":6},"EventID":7,"Version":{"#attributes":[3]}}}}"##,
    );
    assert_eq!(text(&event, "Channel").as_deref(), Some("b"));
    assert_eq!(event.get("Level"), None);
    // An EventID element with text wins over a plain value, and keeps its first text.
    assert_eq!(event.get("EventID"), Some(FieldValue::Int(5)));
    assert_eq!(event.get("Version"), Some(FieldValue::Int(3)));
}

#[test]
fn an_element_with_text_gives_its_text_only() {
    // Members before the `#text` are taken back.
    let event = flat(
        r##"{"Event":{"System":{},"EventData":{"Data":{"A":"x","B":{"C":"y"},"#text":"t","#text":"u","D":"z"},"A":"after"}}}"##,
    );
    assert_eq!(
        fields(&event),
        [
            ("Data".to_string(), FieldValue::Str("t".into())),
            ("A".to_string(), FieldValue::Str("after".into()))
        ]
    );
}

#[test]
fn user_data_is_one_wrapper_or_fields() {
    // One wrapper: its members are the fields, `#text` among them.
    let event = flat(
        r##"{"Event":{"System":{},"UserData":{"#attributes":{},"W":{"A":"a","#text":"t"}}}}"##,
    );
    assert_eq!(
        fields(&event),
        [
            ("A".to_string(), FieldValue::Str("a".into())),
            ("#text".to_string(), FieldValue::Str("t".into()))
        ]
    );
    // Two members: each is an element, so the first gives its text.
    let event = flat(
        r##"{"Event":{"System":{},"UserData":{"W":{"A":"a","#text":"{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"},"V":"v"}}}"##,
    );
    assert_eq!(
        fields(&event),
        [
            (
                "W".to_string(),
                FieldValue::Str("5770385F-C22A-43E0-BF4C-06F5698FFBD9".into())
            ),
            ("V".to_string(), FieldValue::Str("v".into()))
        ]
    );
    // A first member that is not an object: fields.
    let event = flat(r#"{"Event":{"System":{},"UserData":{"V":"v","W":{"A":"a"}}}}"#);
    assert_eq!(
        fields(&event),
        [
            ("V".to_string(), FieldValue::Str("v".into())),
            ("A".to_string(), FieldValue::Str("a".into()))
        ]
    );
}

#[test]
fn escapes_are_decoded_in_keys_and_values() {
    let event = flat(
        r#"{"Ev\u0065nt":{"System":{"Ch\u0061nnel":"C:\\x \"q\" \u00e9 \ud83d\ude00 \ud800 \u+0e9\/"},"EventData":{"K\u00e9y\n":"\\\\","N":-12,"F":1e2,"U":18446744073709551615,"B":false}}}"#,
    );
    assert_eq!(
        text(&event, "Channel").as_deref(),
        Some("C:\\x \"q\" é 😀 \u{fffd} é/")
    );
    assert_eq!(text(&event, "Kéy\n").as_deref(), Some("\\\\"));
    assert_eq!(event.get("N"), Some(FieldValue::Int(-12)));
    assert_eq!(event.get("F"), Some(FieldValue::Float(100.0)));
    assert_eq!(event.get("U"), Some(FieldValue::UInt(u64::MAX)));
    assert_eq!(event.get("B"), Some(FieldValue::Bool(false)));
}

#[test]
fn the_system_table_matches_the_names() {
    for (i, name) in SYSTEM_FIELDS.iter().enumerate() {
        let (element, attribute) = match *name {
            "Qualifiers" => ("EventID", "Qualifiers"),
            "SystemTime" => ("TimeCreated", "SystemTime"),
            "ActivityID" | "RelatedActivityID" => ("Correlation", *name),
            _ => name.split_once('_').unwrap_or((name, "")),
        };
        assert_eq!(
            system_slot(element.as_bytes(), attribute.as_bytes()),
            Some(i),
            "{name}"
        );
        assert!(system_element(element.as_bytes()).is_some());
    }
}

/// Syntax errors are those of `tree::parse`, at the same offsets, and invalid UTF-8
/// anywhere is reported as such first.
#[test]
fn broken_records_fail_as_the_json_parser_says() {
    let mut nodes = Vec::new();
    let mut text = String::new();
    let check = |input: &[u8], nodes: &mut Vec<crate::tree::Node>, text: &mut String| {
        let ours = read(input).err();
        let Ok(s) = std::str::from_utf8(input) else {
            assert_eq!(ours, Some(RecordError::Utf8), "{input:?}");
            return;
        };
        text.clear();
        match crate::tree::parse(s, nodes, text) {
            Err(e) => assert_eq!(ours, Some(RecordError::Syntax(e)), "{s}"),
            Ok(()) => assert!(!matches!(ours, Some(RecordError::Syntax(_))), "{s}"),
        }
    };
    for input in [
        r#"{"a": 1"#,
        r#"{"a" 1}"#,
        r#"{"a": tru}"#,
        r#"{"a": 1} x"#,
        r#""abc"#,
        "",
        r#"{"Event":{"System":{"A":"x\q"}}}"#,
        r#"{"Event":{"System":{"A":"x\"#,
        r#"{"Event":{"System":{"A":"\\x"#,
        r#"{"Event":{"System":{"A":"\u12"}}}"#,
        r#"{"Event":{"System":{"A":"\ud800\uzzzz"}}}"#,
        r#"{"Event":{"System":{"A":--1}}}"#,
        r#"{"Event":{"System":{"A":[1,]}}}"#,
        r#"{"Event":{"System":{"A":1,}}}"#,
    ] {
        check(input.as_bytes(), &mut nodes, &mut text);
    }
    let deep = "[".repeat(200);
    check(deep.as_bytes(), &mut nodes, &mut text);
    let deep = format!(
        r#"{{"Event":{{"System":{{}},"EventData":{}}}}}"#,
        "[".repeat(200)
    );
    check(deep.as_bytes(), &mut nodes, &mut text);
    check(
        b"{\"Event\":{\"System\":{\"A\":\"\\\\\xc3\xa9\xff\"}}}",
        &mut nodes,
        &mut text,
    );
    check(
        b"{\"Event\":{\"System\":{\"A\":\"\\\\\xc3\xa9\"}}} \xff",
        &mut nodes,
        &mut text,
    );

    // Random damage to a typical record: never a panic, always the parser's verdict.
    let record = br##"{"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":1},"TimeCreated":{"#attributes":{"SystemTime":"2019-04-27T15:57:25.8688632Z"}},"EventRecordID":7,"Correlation":null,"Execution":{"#attributes":{"ProcessID":1912,"ThreadID":996}},"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"IEWIN7"},"EventData":{"Image":"C:\\Windows\\\u00e9 \"x\".exe","Data":{"#text":["a",1,1.5e3,null,true]},"Hashes":"SHA1=1"},"UserData":{"W":{"A":"\ud83d\ude00"}}}}"##;
    let mut next = crate::test_random::xorshift(0x2545_F491_4F6C_DD1D);
    for round in 0..20_000 {
        let mut input = record.to_vec();
        for _ in 0..=round % 4 {
            if input.is_empty() {
                break;
            }
            let at = next() as usize % input.len();
            match next() % 4 {
                0 => input[at] = next() as u8,
                1 => input.truncate(at.max(1)),
                2 => {
                    input.remove(at);
                }
                _ => {
                    let set = b"\"\\{}[],:u0e9 \xc3\xa9\xff";
                    input.insert(at, set[next() as usize % set.len()]);
                }
            }
        }
        check(&input, &mut nodes, &mut text);
    }
}
