//! Semantics tests on small fixture events: every operator, flag, encoding, keyword,
//! null, condition form, filter and correlation kind.

use std::borrow::Cow;

use serde_json::{Value as Json, json};
use sigil_core::{
    Condition, Correlation, CorrelationCondition, CorrelationKind, CorrelationRef, Detection,
    Encoding, Expr, FieldAlias, Filter, Flags, Op, Pattern, Predicate, RegexFlags, Rule, RuleBody,
    RuleLanguage, Search, Selector, Span, TimePart, Value,
};
use sigil_logs::{Event, FieldValue};

use crate::{Collect, CompileError, Engine, EngineOptions, Matched};

/// An event backed by a JSON object: fields by name (ASCII-case-insensitive) or dotted
/// path.
pub(crate) struct JsonEvent(serde_json::Map<String, Json>);

fn to_field(v: &Json) -> Option<FieldValue<'_>> {
    Some(match v {
        Json::Null => FieldValue::Null,
        Json::Bool(b) => FieldValue::Bool(*b),
        Json::Number(n) => n
            .as_i64()
            .map(FieldValue::Int)
            .or_else(|| n.as_u64().map(FieldValue::UInt))
            .unwrap_or_else(|| FieldValue::Float(n.as_f64().unwrap_or(f64::NAN))),
        Json::String(s) => FieldValue::Str(Cow::Borrowed(s)),
        Json::Array(_) | Json::Object(_) => return None,
    })
}

fn walk(prefix: &str, v: &Json, f: &mut dyn FnMut(&str, FieldValue<'_>)) {
    match v {
        Json::Object(m) => {
            for (k, v) in m {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                walk(&name, v, f);
            }
        }
        Json::Array(a) => a.iter().for_each(|v| walk(prefix, v, f)),
        leaf => {
            if let Some(fv) = to_field(leaf) {
                f(prefix, fv);
            }
        }
    }
}

impl Event for JsonEvent {
    fn get(&self, field: &str) -> Option<FieldValue<'_>> {
        let mut cur: Option<&Json> = None;
        let mut map = &self.0;
        for part in field.split('.') {
            let (_, v) = map.iter().find(|(k, _)| k.eq_ignore_ascii_case(part))?;
            cur = Some(v);
            if let Json::Object(m) = v {
                map = m;
            }
        }
        to_field(cur?)
    }

    fn for_each_field(&self, f: &mut dyn FnMut(&str, FieldValue<'_>)) {
        walk("", &Json::Object(self.0.clone()), f);
    }

    fn for_each_value(&self, field: &str, f: &mut dyn FnMut(FieldValue<'_>)) {
        let found = self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(field));
        match found {
            Some((_, Json::Array(items))) => items.iter().filter_map(to_field).for_each(f),
            Some(_) => {
                if let Some(v) = self.get(field) {
                    f(v);
                }
            }
            None => {}
        }
    }
}

pub(crate) fn event(v: Json) -> JsonEvent {
    match v {
        Json::Object(m) => JsonEvent(m),
        _ => JsonEvent(serde_json::Map::new()),
    }
}

fn s(text: &str) -> Value {
    Value::Str(Pattern::parse_sigma(text, false))
}

fn p(field: &str, op: Op, values: Vec<Value>) -> Expr {
    Expr::Pred(Predicate::new(Some(field.into()), op, values))
}

fn pf(field: Option<&str>, op: Op, values: Vec<Value>, flags: Flags) -> Expr {
    let mut pred = Predicate::new(field.map(Into::into), op, values);
    pred.flags = flags;
    Expr::Pred(pred)
}

fn search(name: &str, expr: Expr) -> Search {
    Search {
        name: name.into(),
        expr,
        span: Span::default(),
    }
}

fn cond_search(name: &str) -> Condition {
    Condition::Search {
        name: name.into(),
        span: Span::default(),
    }
}

fn rule_with(id: &str, searches: Vec<Search>, condition: Condition) -> Rule {
    let mut r = Rule::new(RuleLanguage::Sigma, format!("rule {id}"));
    r.id = Some(id.into());
    r.body = RuleBody::Detection(Detection {
        searches,
        conditions: vec![condition],
        condition_span: Span::default(),
    });
    r
}

fn rule(expr: Expr) -> Rule {
    rule_with("r", vec![search("sel", expr)], cond_search("sel"))
}

/// The ids of the rules that fire, in order; the same with the prefilter on and off.
fn ids(rules: &[Rule], events: &[JsonEvent]) -> Vec<String> {
    let run = |prefilter: bool| {
        let options = EngineOptions {
            prefilter,
            ..EngineOptions::default()
        };
        run_with(rules, events, options)
            .iter()
            .map(|d| d.rule.id.clone().unwrap_or_default())
            .collect::<Vec<_>>()
    };
    let fired = run(true);
    assert_eq!(fired, run(false), "the prefilter changed the result");
    fired
}

/// Whether the one-rule `expr` matches `ev`.
fn hit(expr: Expr, ev: Json) -> bool {
    !ids(&[rule(expr)], &[event(ev)]).is_empty()
}

#[test]
fn equals_is_case_insensitive_and_whole_value() {
    let e = || p("Image", Op::Equals, vec![s(r"C:\Windows\System32\cmd.exe")]);
    assert!(hit(e(), json!({"Image": r"c:\windows\system32\CMD.EXE"})));
    assert!(!hit(
        e(),
        json!({"Image": r"c:\windows\system32\cmd.exe.bak"})
    ));
    assert!(!hit(e(), json!({"Other": r"C:\Windows\System32\cmd.exe"})));
}

#[test]
fn unicode_letters_fold_too() {
    let e = p("User", Op::Equals, vec![s("ÉLODIE")]);
    assert!(hit(e, json!({"User": "élodie"})));
}

#[test]
fn cased_compares_exactly() {
    let flags = Flags {
        cased: true,
        ..Flags::default()
    };
    let e = || pf(Some("A"), Op::Contains, vec![s("Secret")], flags.clone());
    assert!(hit(e(), json!({"A": "xSecretx"})));
    assert!(!hit(e(), json!({"A": "xsecretx"})));
}

#[test]
fn contains_startswith_endswith() {
    assert!(hit(
        p("C", Op::Contains, vec![s("WHOAMI")]),
        json!({"C": "cmd /c whoami /all"})
    ));
    assert!(!hit(
        p("C", Op::Contains, vec![s("whoami")]),
        json!({"C": "cmd"})
    ));
    assert!(hit(
        p("C", Op::StartsWith, vec![s("cmd")]),
        json!({"C": "CMD /c"})
    ));
    assert!(!hit(
        p("C", Op::StartsWith, vec![s("/c")]),
        json!({"C": "cmd /c"})
    ));
    assert!(hit(
        p("C", Op::EndsWith, vec![s(r"\cmd.exe")]),
        json!({"C": r"C:\x\Cmd.exe"})
    ));
    assert!(!hit(
        p("C", Op::EndsWith, vec![s(r"\cmd.exe")]),
        json!({"C": r"C:\x\cmd.exe "})
    ));
}

#[test]
fn wildcards_and_escapes() {
    assert!(hit(
        p("C", Op::Equals, vec![s(r"C:\\*\evil?.exe")]),
        json!({"C": r"c:\users\x\evil1.exe"})
    ));
    assert!(!hit(
        p("C", Op::Equals, vec![s(r"C:\\*\evil?.exe")]),
        json!({"C": r"c:\users\x\evil.exe"})
    ));
    // An escaped star is a literal star.
    assert!(hit(
        p("C", Op::Equals, vec![s(r"a\*b")]),
        json!({"C": "a*b"})
    ));
    assert!(!hit(
        p("C", Op::Equals, vec![s(r"a\*b")]),
        json!({"C": "axxb"})
    ));
    // Wildcards inside contains.
    assert!(hit(
        p("C", Op::Contains, vec![s("net*user")]),
        json!({"C": "x net1 user y"})
    ));
}

#[test]
fn any_and_all_values() {
    let any = p("C", Op::Contains, vec![s("a1"), s("b2")]);
    assert!(hit(any, json!({"C": "xx b2"})));
    let all = Flags {
        all: true,
        ..Flags::default()
    };
    let e = || pf(Some("C"), Op::Contains, vec![s("a1"), s("b2")], all.clone());
    assert!(hit(e(), json!({"C": "b2 a1"})));
    assert!(!hit(e(), json!({"C": "xx b2"})));
}

#[test]
fn numbers_match_numbers_and_text() {
    let e = || p("EventID", Op::Equals, vec![Value::Int(4688)]);
    assert!(hit(e(), json!({"EventID": 4688})));
    assert!(hit(e(), json!({"EventID": "4688"})));
    assert!(!hit(e(), json!({"EventID": 4689})));
    assert!(!hit(e(), json!({"EventID": "04688"})));
    assert!(hit(p("Pid", Op::Equals, vec![s("12")]), json!({"Pid": 12})));
}

#[test]
fn numeric_comparisons_never_compare_text() {
    assert!(hit(p("N", Op::Gt, vec![Value::Int(5)]), json!({"N": 10})));
    // As text, "10" < "5"; numerically it is greater.
    assert!(hit(p("N", Op::Gt, vec![Value::Int(5)]), json!({"N": "10"})));
    assert!(!hit(
        p("N", Op::Gt, vec![Value::Int(5)]),
        json!({"N": "abc"})
    ));
    assert!(hit(
        p("N", Op::Lte, vec![Value::Float(2.5)]),
        json!({"N": 2.5})
    ));
    assert!(!hit(p("N", Op::Lt, vec![Value::Int(2)]), json!({"N": 2})));
    assert!(hit(p("N", Op::Gte, vec![Value::Int(2)]), json!({"N": 2})));
}

#[test]
fn booleans() {
    let e = || p("B", Op::Equals, vec![Value::Bool(true)]);
    assert!(hit(e(), json!({"B": true})));
    assert!(hit(e(), json!({"B": "True"})));
    assert!(hit(e(), json!({"B": "1"})));
    assert!(!hit(e(), json!({"B": false})));
    assert!(hit(
        p("B", Op::Equals, vec![Value::Bool(false)]),
        json!({"B": "0"})
    ));
}

#[test]
fn null_means_absent() {
    let e = || p("X", Op::Equals, vec![Value::Null]);
    assert!(hit(e(), json!({"Y": 1})));
    assert!(hit(e(), json!({"X": null})));
    assert!(!hit(e(), json!({"X": ""})));
    // An empty string is a value, not null.
    assert!(hit(p("X", Op::Equals, vec![s("")]), json!({"X": ""})));
    assert!(!hit(p("X", Op::Equals, vec![s("")]), json!({"Y": ""})));
}

#[test]
fn exists() {
    assert!(hit(
        p("X", Op::Exists, vec![Value::Bool(true)]),
        json!({"X": ""})
    ));
    assert!(!hit(
        p("X", Op::Exists, vec![Value::Bool(true)]),
        json!({"Y": 1})
    ));
    assert!(hit(
        p("X", Op::Exists, vec![Value::Bool(false)]),
        json!({"Y": 1})
    ));
}

#[test]
fn regex_with_flags() {
    let re = |src: &str, flags: RegexFlags| {
        pf(
            Some("C"),
            Op::Regex,
            vec![Value::Regex(src.into())],
            Flags {
                regex: flags,
                ..Flags::default()
            },
        )
    };
    // Unanchored and case-sensitive by default.
    assert!(hit(
        re("who.mi", RegexFlags::default()),
        json!({"C": "x whoami y"})
    ));
    assert!(!hit(
        re("WHOAMI", RegexFlags::default()),
        json!({"C": "whoami"})
    ));
    let i = RegexFlags {
        ignore_case: true,
        ..RegexFlags::default()
    };
    assert!(hit(re("WHOAMI", i), json!({"C": "whoami"})));
    let m = RegexFlags {
        multi_line: true,
        ..RegexFlags::default()
    };
    assert!(hit(re("^b$", m), json!({"C": "a\nb\nc"})));
    assert!(!hit(
        re("^b$", RegexFlags::default()),
        json!({"C": "a\nb\nc"})
    ));
    let dot = RegexFlags {
        dot_all: true,
        ..RegexFlags::default()
    };
    assert!(hit(re("a.b", dot), json!({"C": "a\nb"})));
    assert!(!hit(re("a.b", RegexFlags::default()), json!({"C": "a\nb"})));
}

#[test]
fn bad_regex_skips_the_rule_with_a_reason() {
    let rules = vec![
        rule_with(
            "bad",
            vec![search(
                "sel",
                p("C", Op::Regex, vec![Value::Regex("(?<=a)b".into())]),
            )],
            cond_search("sel"),
        ),
        rule_with(
            "good",
            vec![search("sel", p("C", Op::Contains, vec![s("b")]))],
            cond_search("sel"),
        ),
    ];
    let engine = Engine::compile(&rules, EngineOptions::default());
    assert_eq!(engine.rule_count(), 1);
    assert_eq!(engine.skipped().len(), 1);
    assert_eq!(engine.skipped()[0].id.as_deref(), Some("bad"));
    assert!(matches!(
        engine.skipped()[0].error,
        CompileError::Regex { .. }
    ));
}

#[test]
fn a_regex_too_large_to_build_is_reported_after_matching() {
    // Valid syntax, but its compiled form exceeds the size limit: only building it tells.
    let huge = r"(?:\w{1000}){1000}";
    let rules = vec![
        rule_with(
            "huge",
            vec![search(
                "sel",
                p("C", Op::Regex, vec![Value::Regex(huge.into())]),
            )],
            cond_search("sel"),
        ),
        rule_with(
            "good",
            vec![search("sel", p("C", Op::Contains, vec![s("b")]))],
            cond_search("sel"),
        ),
    ];
    let engine = Engine::compile(&rules, EngineOptions::default());
    assert!(engine.skipped().is_empty());
    // Nothing is known before the expression is needed.
    assert!(engine.failed_while_matching().is_empty());
    let mut sink = Collect::default();
    let events = [event(json!({"C": "abc"}))];
    engine.run(events.iter().map(|e| e as &dyn Event), &mut sink);
    let matched: Vec<_> = sink.detections.iter().map(|d| d.rule.id.clone()).collect();
    assert_eq!(matched, [Some("good".to_string())]);
    let failed = engine.failed_while_matching();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id.as_deref(), Some("huge"));
    assert_eq!(failed[0].index, 0);
    assert!(matches!(
        failed[0].error,
        CompileError::RegexTooLarge { .. }
    ));
    assert!(failed[0].error.to_string().contains("could not be built"));
}

#[test]
fn placeholders_skip_the_rule() {
    let v = Value::Str(Pattern::parse_sigma("%Admins%", true));
    let flags = Flags {
        expand: true,
        ..Flags::default()
    };
    let engine = Engine::compile(
        &[rule(pf(Some("U"), Op::Equals, vec![v], flags))],
        EngineOptions::default(),
    );
    assert_eq!(engine.rule_count(), 0);
    assert!(engine.skipped()[0].error.to_string().contains("Admins"));
}

#[test]
fn cidr_v4_and_v6() {
    let net = |t: &str| Value::Cidr(t.parse().unwrap());
    assert!(hit(
        p("Ip", Op::Cidr, vec![net("10.0.0.0/8")]),
        json!({"Ip": "10.1.2.3"})
    ));
    assert!(!hit(
        p("Ip", Op::Cidr, vec![net("10.0.0.0/8")]),
        json!({"Ip": "11.1.2.3"})
    ));
    assert!(!hit(
        p("Ip", Op::Cidr, vec![net("10.0.0.0/8")]),
        json!({"Ip": "not an ip"})
    ));
    assert!(hit(
        p("Ip", Op::Cidr, vec![net("fe80::/10")]),
        json!({"Ip": "fe80::1"})
    ));
    assert!(hit(
        p("Ip", Op::Cidr, vec![net("fe80::/10")]),
        json!({"Ip": "FEBF:0:0::1"})
    ));
    assert!(!hit(
        p("Ip", Op::Cidr, vec![net("fe80::/10")]),
        json!({"Ip": "fec0::1"})
    ));
}

#[test]
fn fieldref() {
    let f = |op| p("A", op, vec![Value::FieldRef("B".into())]);
    assert!(hit(f(Op::Equals), json!({"A": "X", "B": "x"})));
    assert!(!hit(f(Op::Equals), json!({"A": "x", "B": "y"})));
    assert!(!hit(f(Op::Equals), json!({"A": "x"})));
    assert!(hit(f(Op::StartsWith), json!({"A": "abc", "B": "AB"})));
    assert!(hit(f(Op::EndsWith), json!({"A": "abc", "B": "bc"})));
    assert!(hit(f(Op::Contains), json!({"A": "abc", "B": "b"})));
    assert!(!hit(f(Op::Contains), json!({"A": "abc", "B": "d"})));
}

#[test]
fn not_equals() {
    let e = || p("A", Op::NotEquals, vec![s("x"), s("y")]);
    assert!(hit(e(), json!({"A": "z"})));
    assert!(!hit(e(), json!({"A": "X"})));
    assert!(!hit(e(), json!({"A": "y"})));
    // The field must be present.
    assert!(!hit(e(), json!({"B": "z"})));
}

#[test]
fn time_parts() {
    let flags = |part| Flags {
        time_part: Some(part),
        ..Flags::default()
    };
    let t = json!({"T": "2024-03-05T14:07:00Z"});
    assert!(hit(
        pf(
            Some("T"),
            Op::Equals,
            vec![Value::Int(14)],
            flags(TimePart::Hour)
        ),
        t.clone()
    ));
    assert!(hit(
        pf(
            Some("T"),
            Op::Equals,
            vec![Value::Int(7)],
            flags(TimePart::Minute)
        ),
        t.clone()
    ));
    assert!(hit(
        pf(
            Some("T"),
            Op::Equals,
            vec![Value::Int(3)],
            flags(TimePart::Month)
        ),
        t.clone()
    ));
    assert!(hit(
        pf(
            Some("T"),
            Op::Gte,
            vec![Value::Int(2024)],
            flags(TimePart::Year)
        ),
        t.clone()
    ));
    assert!(hit(
        pf(
            Some("T"),
            Op::Equals,
            vec![Value::Int(5)],
            flags(TimePart::Day)
        ),
        t.clone()
    ));
    assert!(hit(
        pf(
            Some("T"),
            Op::Equals,
            vec![Value::Int(10)],
            flags(TimePart::Week)
        ),
        t.clone()
    ));
    assert!(!hit(
        pf(
            Some("T"),
            Op::Equals,
            vec![Value::Int(15)],
            flags(TimePart::Hour)
        ),
        t
    ));
}

#[test]
fn windash_variants() {
    let flags = Flags {
        windash: true,
        ..Flags::default()
    };
    let e = || pf(Some("C"), Op::Contains, vec![s(" -enc ")], flags.clone());
    assert!(hit(e(), json!({"C": "powershell /enc AAA"})));
    assert!(hit(e(), json!({"C": "powershell \u{2013}enc AAA"})));
    assert!(hit(e(), json!({"C": "powershell -ENC AAA"})));
    assert!(!hit(e(), json!({"C": "powershell +enc AAA"})));
}

#[test]
fn encodings() {
    let enc = |e: Vec<Encoding>| Flags {
        encodings: e,
        ..Flags::default()
    };
    // base64offset of "/bin/bash" at any alignment.
    let b64 = || {
        pf(
            Some("C"),
            Op::Contains,
            vec![s("/bin/bash")],
            enc(vec![Encoding::Base64Offset]),
        )
    };
    assert!(hit(
        b64(),
        json!({"C": "echo IC9iaW4vYmFzaA== | base64 -d"})
    ));
    assert!(hit(b64(), json!({"C": "x L2Jpbi9iYXNo"})));
    assert!(!hit(b64(), json!({"C": "/bin/bash"})));
    // wide then base64: "ping" in UTF-16LE, base64.
    let wide = pf(
        Some("C"),
        Op::Contains,
        vec![s("ping")],
        enc(vec![Encoding::Utf16Le, Encoding::Base64]),
    );
    assert!(hit(wide, json!({"C": "-enc cABpAG4AZwA="})));
    let plain_b64 = pf(
        Some("C"),
        Op::Equals,
        vec![s("abc")],
        enc(vec![Encoding::Base64]),
    );
    assert!(hit(plain_b64, json!({"C": "YWJj"})));
}

#[test]
fn keywords_are_substrings_of_any_value() {
    let k = |v: &str| Expr::Pred(Predicate::new(None, Op::Equals, vec![s(v)]));
    assert!(hit(
        k("mimikatz"),
        json!({"A": "x", "B": "run Mimikatz.exe now"})
    ));
    assert!(!hit(k("mimikatz"), json!({"A": "x", "B": "y"})));
    // Wildcards inside a keyword are honoured; numbers count as text.
    assert!(hit(
        k("sekurlsa*logon"),
        json!({"B": "sekurlsa::logonpasswords"})
    ));
    assert!(hit(k("4625"), json!({"EventID": 4625})));
    assert!(hit(k("-2.5"), json!({"A": "x", "N": -2.5})));
    assert!(hit(k("true"), json!({"A": "x", "B": true})));
    // Numbers are skipped only by literal groups that cannot occur in them.
    assert!(hit(
        Expr::Pred(Predicate::new(
            None,
            Op::Equals,
            vec![s("4625"), s("sekurlsa")]
        )),
        json!({"A": "x", "EventID": 4625})
    ));
    let all = Flags {
        all: true,
        ..Flags::default()
    };
    let both = || pf(None, Op::Equals, vec![s("alpha"), s("beta")], all.clone());
    assert!(hit(both(), json!({"A": "alpha", "B": "beta"})));
    assert!(!hit(both(), json!({"A": "alpha"})));
}

#[test]
fn keywords_are_found_in_events_that_keep_their_text_in_one_buffer() {
    // A flat event offers all its text at once: keyword literals are searched there.
    let k = |v: &str| Expr::Pred(Predicate::new(None, Op::Equals, vec![s(v)]));
    let engine = Engine::compile(
        &[
            rule_with("kw", vec![search("sel", k("sekurlsa"))], cond_search("sel")),
            rule_with("num", vec![search("sel", k("4625"))], cond_search("sel")),
        ],
        EngineOptions::default(),
    );
    let flat = |fields: &[(&str, FieldValue<'static>)]| {
        let mut e = sigil_logs::FlatEvent::new();
        for (name, value) in fields {
            e.push(name, value.clone());
        }
        e
    };
    let run = |e: &sigil_logs::FlatEvent| {
        let mut sink = Collect::default();
        engine.run(std::iter::once(e as &dyn Event), &mut sink);
        let mut ids: Vec<String> = sink
            .detections
            .iter()
            .filter_map(|d| d.rule.id.clone())
            .collect();
        ids.sort();
        ids
    };
    let hit = flat(&[
        ("EventID", FieldValue::Int(4625)),
        (
            "CommandLine",
            FieldValue::Str("run SEKURLSA::logonpasswords".into()),
        ),
    ]);
    assert_eq!(run(&hit), ["kw", "num"]);
    let miss = flat(&[
        ("EventID", FieldValue::Int(4624)),
        ("CommandLine", FieldValue::Str("whoami".into())),
    ]);
    assert!(run(&miss).is_empty());
}

#[test]
fn multi_valued_fields_match_any_element() {
    let e = || p("Tags", Op::Equals, vec![s("b")]);
    assert!(hit(e(), json!({"Tags": ["a", "B", "c"]})));
    assert!(!hit(e(), json!({"Tags": ["a", "c"]})));
    let all = Flags {
        all: true,
        ..Flags::default()
    };
    let both = || pf(Some("Tags"), Op::Equals, vec![s("a"), s("c")], all.clone());
    assert!(hit(both(), json!({"Tags": ["a", "b", "c"]})));
    assert!(!hit(both(), json!({"Tags": ["a", "b"]})));
    let neq = || p("Tags", Op::NotEquals, vec![s("a")]);
    assert!(!hit(neq(), json!({"Tags": ["b", "a"]})));
    assert!(hit(neq(), json!({"Tags": ["b", "c"]})));
}

#[test]
fn negation_is_two_valued() {
    let r = rule_with(
        "r",
        vec![
            search("selection", p("Image", Op::EndsWith, vec![s(r"\cmd.exe")])),
            search(
                "filter",
                p("ParentImage", Op::EndsWith, vec![s(r"\explorer.exe")]),
            ),
        ],
        Condition::And(vec![
            cond_search("selection"),
            Condition::Not(Box::new(cond_search("filter"))),
        ]),
    );
    let evs = [
        event(json!({"Image": r"c:\cmd.exe"})),
        event(json!({"Image": r"c:\cmd.exe", "ParentImage": r"c:\explorer.exe"})),
        event(json!({"Image": r"c:\cmd.exe", "ParentImage": r"c:\other.exe"})),
    ];
    let engine = Engine::compile(&[r], EngineOptions::default());
    let mut sink = Collect::default();
    engine.run(evs.iter().map(|e| e as &dyn Event), &mut sink);
    assert_eq!(sink.detections.len(), 2);
    assert_eq!(
        sink.detections[1].field("ParentImage"),
        Some(r"c:\other.exe")
    );
}

#[test]
fn condition_forms() {
    let searches = || {
        vec![
            search("sel_a", p("A", Op::Equals, vec![s("1")])),
            search("sel_b", p("B", Op::Equals, vec![s("1")])),
            search("_hidden", p("C", Op::Equals, vec![s("1")])),
        ]
    };
    let sel = |pat: &str| Selector {
        pattern: pat.into(),
        span: Span::default(),
    };
    let one_of = rule_with("one", searches(), Condition::OneOf(sel("sel_*")));
    let all_of = rule_with("all", searches(), Condition::AllOf(sel("sel_*")));
    let all_them = rule_with("them", searches(), Condition::AllOf(sel("them")));
    let or = rule_with(
        "or",
        searches(),
        Condition::Or(vec![cond_search("sel_a"), cond_search("_hidden")]),
    );
    let rules = [one_of, all_of, all_them, or];
    assert_eq!(ids(&rules, &[event(json!({"A": "1"}))]), ["one", "or"]);
    // `them` skips searches whose names start with `_`.
    assert_eq!(
        ids(&rules, &[event(json!({"A": "1", "B": "1"}))]),
        ["one", "all", "them", "or"]
    );
    assert_eq!(ids(&rules, &[event(json!({"C": "1"}))]), ["or"]);
    // A list of conditions matches when any does.
    let mut list = rule_with("list", searches(), cond_search("sel_a"));
    if let RuleBody::Detection(d) = &mut list.body {
        d.conditions.push(cond_search("sel_b"));
    }
    assert_eq!(ids(&[list], &[event(json!({"B": "1"}))]), ["list"]);
}

#[test]
fn logsource_conjuncts_index_rules() {
    let r = rule_with(
        "sysmon1",
        vec![
            search("sel", p("Image", Op::EndsWith, vec![s(r"\whoami.exe")])),
            search(
                "_cond_1",
                Expr::And(vec![
                    p("EventID", Op::Equals, vec![Value::Int(1)]),
                    p(
                        "Channel",
                        Op::Equals,
                        vec![s("Microsoft-Windows-Sysmon/Operational")],
                    ),
                ]),
            ),
        ],
        Condition::And(vec![cond_search("sel"), cond_search("_cond_1")]),
    );
    let base = json!({"Image": r"C:\Windows\whoami.exe"});
    let with = |chan: &str, id: Json| {
        let mut v = base.clone();
        v["Channel"] = json!(chan);
        v["EventID"] = id;
        event(v)
    };
    let rules = [r];
    assert_eq!(
        ids(
            &rules,
            &[with("microsoft-windows-sysmon/operational", json!(1))]
        )
        .len(),
        1
    );
    assert_eq!(
        ids(
            &rules,
            &[with("Microsoft-Windows-Sysmon/Operational", json!("1"))]
        )
        .len(),
        1
    );
    assert!(
        ids(
            &rules,
            &[with("Microsoft-Windows-Sysmon/Operational", json!(3))]
        )
        .is_empty()
    );
    assert!(ids(&rules, &[with("Security", json!(1))]).is_empty());
    assert!(ids(&rules, &[event(base)]).is_empty());
}

#[test]
fn prefilter_keeps_rules_that_need_no_literal() {
    // A rule that matches by absence and by regex only must still be evaluated.
    let r = rule(Expr::And(vec![
        p("X", Op::Equals, vec![Value::Null]),
        p("C", Op::Regex, vec![Value::Regex("^a+$".into())]),
    ]));
    assert!(hit(r_expr(&r), json!({"C": "aaa"})));
    // And a rule with a literal fires only when its literal occurs.
    let lit = p("C", Op::Contains, vec![s("needle")]);
    assert!(hit(lit.clone(), json!({"C": "hay NEEDLE hay"})));
    assert!(!hit(lit, json!({"D": "needle", "C": "hay"})));
}

fn r_expr(r: &Rule) -> Expr {
    r.detection()
        .map_or_else(|| Expr::Or(Vec::new()), Detection::to_expr)
}

#[test]
fn filters_exclude_from_named_rules() {
    let base = rule_with(
        "base",
        vec![search("sel", p("A", Op::Equals, vec![s("1")]))],
        cond_search("sel"),
    );
    let mut filter = Rule::new(RuleLanguage::Sigma, "filter");
    filter.id = Some("f".into());
    filter.body = RuleBody::Filter(Filter {
        rules: vec![CorrelationRef {
            reference: "base".into(),
            span: Span::default(),
        }],
        detection: Detection {
            searches: vec![search("known", p("User", Op::Equals, vec![s("admin")]))],
            conditions: vec![cond_search("known")],
            condition_span: Span::default(),
        },
    });
    let rules = [base, filter];
    let engine = Engine::compile(&rules, EngineOptions::default());
    assert_eq!(engine.filter_count(), 1);
    assert_eq!(
        ids(&rules, &[event(json!({"A": "1", "User": "Admin"}))]).len(),
        0
    );
    assert_eq!(
        ids(&rules, &[event(json!({"A": "1", "User": "bob"}))]).len(),
        1
    );
    assert_eq!(ids(&rules, &[event(json!({"A": "1"}))]).len(), 1);
}

fn correlation_rule(id: &str, c: Correlation) -> Rule {
    let mut r = Rule::new(RuleLanguage::Sigma, format!("corr {id}"));
    r.id = Some(id.into());
    r.body = RuleBody::Correlation(c);
    r
}

fn corr(
    kind: CorrelationKind,
    rules: &[&str],
    group_by: &[&str],
    secs: u64,
    cond: Option<CorrelationCondition>,
) -> Correlation {
    Correlation {
        kind,
        rules: rules
            .iter()
            .map(|r| CorrelationRef {
                reference: (*r).into(),
                span: Span::default(),
            })
            .collect(),
        aliases: Vec::new(),
        group_by: group_by.iter().map(|g| (*g).into()).collect(),
        timespan_secs: secs,
        timespan: format!("{secs}s"),
        condition: cond,
        generate: false,
    }
}

fn gte(n: f64, field: Option<&str>) -> CorrelationCondition {
    CorrelationCondition {
        field: field.map(Into::into),
        comparisons: vec![(Op::Gte, n)],
        percentile: None,
    }
}

fn failed_logon(user: &str, ip: &str, secs: u32) -> JsonEvent {
    event(json!({
        "EventID": 4625, "TargetUserName": user, "IpAddress": ip,
        "SystemTime": format!("2024-01-01T00:{:02}:{:02}Z", secs / 60, secs % 60),
    }))
}

fn run_all(rules: &[Rule], events: &[JsonEvent]) -> Vec<crate::DetectionRecord> {
    run_with(rules, events, EngineOptions::default())
}

/// Every detection of `rules` over `events`, compiled with `options`; no rule may be skipped.
fn run_with(
    rules: &[Rule],
    events: &[JsonEvent],
    options: EngineOptions,
) -> Vec<crate::DetectionRecord> {
    let engine = Engine::compile(rules, options);
    assert!(
        engine.skipped().is_empty(),
        "skipped: {:?}",
        engine.skipped()
    );
    let mut sink = Collect::default();
    engine.run(events.iter().map(|e| e as &dyn Event), &mut sink);
    sink.detections
}

fn base_rule(id: &str, eid: i64) -> Rule {
    rule_with(
        id,
        vec![search(
            "sel",
            p("EventID", Op::Equals, vec![Value::Int(eid)]),
        )],
        cond_search("sel"),
    )
}

#[test]
fn event_count_per_group_in_window() {
    let rules = [
        base_rule("fail", 4625),
        correlation_rule(
            "many",
            corr(
                CorrelationKind::EventCount,
                &["fail"],
                &["IpAddress"],
                60,
                Some(gte(3.0, None)),
            ),
        ),
    ];
    // Out of order on purpose: hits are sorted by time before windows are evaluated.
    let evs = [
        failed_logon("a", "10.0.0.1", 30),
        failed_logon("b", "10.0.0.1", 10),
        failed_logon("c", "10.0.0.2", 11),
        failed_logon("d", "10.0.0.1", 50),
        failed_logon("e", "10.0.0.1", 200),
    ];
    let d = run_all(&rules, &evs);
    // `generate: false`: the base rule reports nothing itself.
    assert_eq!(d.len(), 1, "{d:?}");
    let c = d[0].correlation.as_ref().unwrap();
    assert_eq!(d[0].rule.id.as_deref(), Some("many"));
    assert_eq!(
        c.group,
        vec![("IpAddress".to_string(), Some("10.0.0.1".to_string()))]
    );
    assert!((c.value - 3.0).abs() < f64::EPSILON);
    assert_eq!(c.events.len(), 3);
    assert!(c.first < c.last);
    // Outside the window: three hits spread over more than the time span.
    let spread = [
        failed_logon("a", "1", 0),
        failed_logon("a", "1", 70),
        failed_logon("a", "1", 140),
    ];
    assert!(run_all(&rules, &spread).is_empty());
}

#[test]
fn generate_keeps_base_detections() {
    let mut c = corr(
        CorrelationKind::EventCount,
        &["fail"],
        &[],
        60,
        Some(gte(2.0, None)),
    );
    c.generate = true;
    let rules = [base_rule("fail", 4625), correlation_rule("many", c)];
    let d = run_all(
        &rules,
        &[failed_logon("a", "1", 0), failed_logon("b", "1", 5)],
    );
    assert_eq!(
        d.iter()
            .filter(|d| d.rule.id.as_deref() == Some("fail"))
            .count(),
        2
    );
    assert_eq!(
        d.iter()
            .filter(|d| d.rule.id.as_deref() == Some("many"))
            .count(),
        1
    );
}

#[test]
fn value_count_counts_distinct_values() {
    let rules = [
        base_rule("fail", 4625),
        correlation_rule(
            "spray",
            corr(
                CorrelationKind::ValueCount,
                &["fail"],
                &["IpAddress"],
                60,
                Some(gte(3.0, Some("TargetUserName"))),
            ),
        ),
    ];
    let same_user = [
        failed_logon("a", "1", 0),
        failed_logon("a", "1", 1),
        failed_logon("A2", "1", 2),
    ];
    assert!(run_all(&rules, &same_user).is_empty());
    let spray = [
        failed_logon("a", "1", 0),
        failed_logon("b", "1", 1),
        failed_logon("c", "1", 2),
    ];
    let d = run_all(&rules, &spray);
    assert_eq!(d.len(), 1);
    assert!((d[0].correlation.as_ref().unwrap().value - 3.0).abs() < f64::EPSILON);
}

#[test]
fn temporal_and_ordered() {
    let ev = |eid: i64, secs: u32| {
        event(
            json!({"EventID": eid, "Host": "h", "SystemTime": format!("2024-01-01T00:00:{secs:02}Z")}),
        )
    };
    let rules = |kind| {
        [
            base_rule("a", 1),
            base_rule("b", 2),
            correlation_rule("t", corr(kind, &["a", "b"], &["Host"], 30, None)),
        ]
    };
    let b_then_a = [ev(2, 0), ev(1, 5)];
    assert_eq!(
        run_all(&rules(CorrelationKind::Temporal), &b_then_a).len(),
        1
    );
    assert!(run_all(&rules(CorrelationKind::TemporalOrdered), &b_then_a).is_empty());
    let a_then_b = [ev(1, 0), ev(2, 5)];
    assert_eq!(
        run_all(&rules(CorrelationKind::TemporalOrdered), &a_then_b).len(),
        1
    );
    let only_a = [ev(1, 0), ev(1, 5)];
    assert!(run_all(&rules(CorrelationKind::Temporal), &only_a).is_empty());
    // Too far apart.
    let far = [ev(1, 0), ev(2, 59)];
    assert!(run_all(&rules(CorrelationKind::Temporal), &far).is_empty());
}

#[test]
fn value_metrics_and_aliases() {
    let ev = |eid: i64, bytes: i64, secs: u32, host_field: &str| {
        let mut v = json!({"EventID": eid, "Bytes": bytes, "SystemTime": format!("2024-01-01T00:00:{secs:02}Z")});
        v[host_field] = json!("H1");
        event(v)
    };
    let metric = |kind, op: Op, n: f64| {
        let mut c = corr(kind, &["a", "b"], &["host"], 60, None);
        c.condition = Some(CorrelationCondition {
            field: Some("Bytes".into()),
            comparisons: vec![(op, n)],
            percentile: Some(90.0),
        });
        c.aliases = vec![FieldAlias {
            alias: "host".into(),
            mapping: vec![
                ("a".into(), "Computer".into()),
                ("b".into(), "hostname".into()),
            ],
        }];
        [
            base_rule("a", 1),
            base_rule("b", 2),
            correlation_rule("m", c),
        ]
    };
    // The two rules name the host differently; the alias puts them in one group.
    let evs = [
        ev(1, 100, 0, "Computer"),
        ev(2, 300, 1, "hostname"),
        ev(1, 500, 2, "Computer"),
    ];
    let d = run_all(&metric(CorrelationKind::ValueSum, Op::Gte, 900.0), &evs);
    assert_eq!(d.len(), 1);
    assert!((d[0].correlation.as_ref().unwrap().value - 900.0).abs() < 1e-9);
    assert!(run_all(&metric(CorrelationKind::ValueSum, Op::Gt, 900.0), &evs).is_empty());
    assert_eq!(
        run_all(&metric(CorrelationKind::ValueAvg, Op::Equals, 300.0), &evs).len(),
        1
    );
    assert_eq!(
        run_all(
            &metric(CorrelationKind::ValueMedian, Op::Equals, 300.0),
            &evs
        )
        .len(),
        1
    );
    assert_eq!(
        run_all(
            &metric(CorrelationKind::ValuePercentile, Op::Gte, 500.0),
            &evs
        )
        .len(),
        1
    );
}

#[test]
fn correlation_of_unknown_rule_is_skipped() {
    let rules = [correlation_rule(
        "c",
        corr(
            CorrelationKind::EventCount,
            &["nope"],
            &[],
            60,
            Some(gte(1.0, None)),
        ),
    )];
    let engine = Engine::compile(&rules, EngineOptions::default());
    assert_eq!(engine.correlation_count(), 0);
    assert!(matches!(
        engine.skipped()[0].error,
        CompileError::UnknownRule(_)
    ));
}

#[test]
fn detections_carry_rule_and_event() {
    let mut r = rule(p("A", Op::Equals, vec![s("1")]));
    r.level = Some(sigil_core::Level::High);
    r.tags = vec!["attack.t1059".into()];
    let engine = Engine::compile(&[r], EngineOptions::default());
    let ev = event(
        json!({"A": "1", "Computer": "HOST", "Channel": "Security", "EventID": 4688,
        "EventRecordID": 77, "SystemTime": "2024-01-01T00:00:00Z"}),
    );
    let mut scan = engine.scan();
    scan.set_source(Some("logs/a.evtx".into()));
    let mut seen = Vec::new();
    let n = scan.event(&ev, &mut |d: &crate::Detection<'_>| {
        let summary = d.summary(&crate::SummaryFields::default());
        assert!(matches!(d.matched, Matched::Event(_)));
        seen.push((
            d.rule.level,
            d.rule.tags.clone(),
            d.source.map(String::from),
            summary,
        ));
    });
    assert_eq!(n, 1);
    let (level, tags, source, summary) = &seen[0];
    assert_eq!(*level, Some(sigil_core::Level::High));
    assert_eq!(tags, &["attack.t1059"]);
    assert_eq!(source.as_deref(), Some("logs/a.evtx"));
    assert_eq!(summary.computer.as_deref(), Some("HOST"));
    assert_eq!(summary.channel.as_deref(), Some("Security"));
    assert_eq!(summary.event_id, Some(4688));
    assert_eq!(summary.record_id, Some(77));
    assert_eq!(summary.timestamp.as_deref(), Some("2024-01-01T00:00:00Z"));
}

#[test]
fn shared_predicates_are_compiled_once() {
    let a = rule_with(
        "a",
        vec![search("s", p("C", Op::Contains, vec![s("x1")]))],
        cond_search("s"),
    );
    let b = rule_with(
        "b",
        vec![search("s", p("c", Op::Contains, vec![s("x1")]))],
        cond_search("s"),
    );
    let engine = Engine::compile(&[a, b], EngineOptions::default());
    assert_eq!(engine.predicate_count(), 1);
}

#[test]
fn engine_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Engine>();
}

/// Live correlation: every hit handed to `advance_window` as it comes, with the windows
/// kept by the caller, as `sigil watch` does.
fn run_live(rules: &[Rule], events: &[JsonEvent]) -> Vec<crate::DetectionRecord> {
    let engine = Engine::compile(rules, EngineOptions::default());
    let mut sink = Collect::default();
    let mut windows: std::collections::HashMap<crate::WindowKey, Vec<crate::WindowHit>> =
        std::collections::HashMap::new();
    let mut scan = engine.scan();
    for e in events {
        scan.event(e, &mut sink);
        for (key, hit) in scan.take_hits().drain_windows() {
            let window = windows.entry(key.clone()).or_default();
            engine.advance_window(&key, window, hit, &mut sink);
        }
    }
    sink.detections
}

#[test]
fn live_windows_fire_as_the_batch_does_for_hits_in_time_order() {
    let rules = [
        base_rule("fail", 4625),
        correlation_rule(
            "many",
            corr(
                CorrelationKind::EventCount,
                &["fail"],
                &["IpAddress"],
                60,
                Some(gte(3.0, None)),
            ),
        ),
    ];
    let evs: Vec<JsonEvent> = [
        ("10.0.0.1", 10),
        ("10.0.0.2", 11),
        ("10.0.0.1", 30),
        ("10.0.0.1", 50),
        ("10.0.0.1", 55),
        ("10.0.0.1", 58),
        ("10.0.0.1", 60),
        ("10.0.0.2", 200),
        ("10.0.0.2", 230),
        ("10.0.0.2", 300),
        ("10.0.0.2", 301),
    ]
    .iter()
    .map(|(ip, s)| failed_logon("u", ip, *s))
    .collect();
    let batch = run_all(&rules, &evs);
    let live = run_live(&rules, &evs);
    assert_eq!(batch.len(), 2, "{batch:?}");
    assert_eq!(live, batch);
    // A window stays open across calls: the caller may keep it anywhere (a restart
    // reloads it), and the third hit fires with the first two.
    let engine = Engine::compile(&rules, EngineOptions::default());
    let mut scan = engine.scan();
    let mut sink = Collect::default();
    let mut kept = Vec::new();
    for e in &evs[..3] {
        scan.event(e, &mut sink);
        for (key, hit) in scan.take_hits().drain_windows() {
            if key.group == [Some("10.0.0.1".to_string())] {
                let mut window = kept.clone();
                engine.advance_window(&key, &mut window, hit, &mut sink);
                kept = window;
            }
        }
    }
    assert!(sink.detections.is_empty());
    assert_eq!(kept.len(), 2);
    scan.event(&evs[3], &mut sink);
    for (key, hit) in scan.take_hits().drain_windows() {
        assert!(engine.advance_window(&key, &mut kept, hit, &mut sink));
    }
    assert_eq!(sink.detections.len(), 1);
    assert!(kept.is_empty());
    assert_eq!(
        engine.correlation(0).map(|(r, span)| (r.id.clone(), span)),
        Some((Some("many".to_string()), 60_000_000))
    );
}
