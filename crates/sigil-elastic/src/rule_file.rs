//! Elastic rule files: TOML with a `[metadata]` and a `[rule]` table.
//!
//! Metadata goes to the typed fields of [`Rule`] where sigil has one (id, title,
//! description, level, author, dates, references, false positives, license, status,
//! tags) and to [`Rule::custom`] for everything else, under its TOML key (`risk_score`,
//! `index`, `threat`, `threshold`, ...; `[metadata]` keys as `metadata.<key>`, other
//! top-level tables under their name). Strings are kept as written; other values as
//! JSON text. ATT&CK `threat` entries also become Sigma-style tags (`attack.execution`,
//! `attack.t1059`, `attack.t1059.003`) so every consumer sees ATT&CK the same way for
//! Sigma and Elastic rules.

use serde_json::Value as Json;
use sigil_core::{
    Correlation, CorrelationCondition, CorrelationKind, CorrelationRef, Detection, Diagnostic,
    Level, NotEvaluable, Op, QuerySource, Rule, RuleBody, RuleLanguage, Span, Status,
};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::eql::{self, LowerOptions};
use crate::error::{ElasticError, SyntaxError};
use crate::kql;
use crate::source::{LineIndex, StringMap};

/// The rules of one Elastic TOML file and the problems found reading it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ElasticFile {
    /// The rule first, then the synthetic step rules its correlation refers to
    /// (`<rule_id>#step1`, ...). Empty when the file could not be read.
    pub rules: Vec<Rule>,
    /// Errors and warnings, with positions in the file.
    pub diagnostics: Vec<Diagnostic>,
}

impl ElasticFile {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == sigil_core::Severity::Error)
    }
}

/// Reads one Elastic detection-rule file. Never panics; problems become diagnostics.
pub fn parse_rule_toml(text: &str) -> ElasticFile {
    match read(text) {
        Ok(file) => file,
        Err(e) => ElasticFile {
            rules: Vec::new(),
            diagnostics: vec![e.to_diagnostic()],
        },
    }
}

type Table<'i> = DeTable<'i>;
type Item<'i> = Spanned<DeValue<'i>>;

struct Reader<'a> {
    lines: LineIndex<'a>,
}

impl Reader<'_> {
    fn span(&self, range: &std::ops::Range<usize>) -> Span {
        self.lines.span(range.start)
    }
}

fn get<'t, 'i>(table: &'t Table<'i>, key: &str) -> Option<&'t Item<'i>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

fn get_str<'t>(table: &'t Table<'_>, key: &str) -> Option<&'t str> {
    get(table, key).and_then(|v| v.get_ref().as_str())
}

fn str_list(table: &Table<'_>, key: &str) -> Vec<String> {
    match get(table, key).map(Spanned::get_ref) {
        Some(DeValue::Array(a)) => a
            .iter()
            .filter_map(|v| v.get_ref().as_str().map(str::to_string))
            .collect(),
        Some(DeValue::String(s)) => vec![s.to_string()],
        _ => Vec::new(),
    }
}

/// A TOML value as JSON (datetimes as their text).
fn to_json(v: &DeValue<'_>) -> Json {
    match v {
        DeValue::String(s) => Json::String(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map_or_else(|_| Json::String(i.as_str().to_string()), Json::from),
        DeValue::Float(f) => f
            .as_str()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Json::String(f.as_str().to_string()), Json::Number),
        DeValue::Boolean(b) => Json::Bool(*b),
        DeValue::Datetime(d) => Json::String(d.to_string()),
        DeValue::Array(a) => Json::Array(a.iter().map(|x| to_json(x.get_ref())).collect()),
        DeValue::Table(t) => Json::Object(
            t.iter()
                .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
                .collect(),
        ),
    }
}

/// A value for [`Rule::custom`]: strings as written, the rest as JSON.
fn custom_text(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(s) => s.to_string(),
        other => to_json(other).to_string(),
    }
}

fn read(text: &str) -> Result<ElasticFile, ElasticError> {
    let reader = Reader {
        lines: LineIndex::new(text),
    };
    let doc = DeTable::parse(text).map_err(|e| ElasticError::Toml {
        message: e.message().to_string(),
        span: e
            .span()
            .map_or_else(Span::default, |r| reader.lines.span(r.start)),
    })?;
    let root = doc.get_ref();
    if get(root, "hunt").is_some() {
        return Err(ElasticError::Schema {
            message: "a hunting query (`[hunt]`), not a detection rule".to_string(),
            span: reader.lines.span(0),
        });
    }
    let rule_item = get(root, "rule").ok_or_else(|| ElasticError::Schema {
        message: "missing `[rule]` table".to_string(),
        span: reader.lines.span(0),
    })?;
    let DeValue::Table(rt) = rule_item.get_ref() else {
        return Err(ElasticError::Schema {
            message: "`rule` is not a table".to_string(),
            span: reader.span(&rule_item.span()),
        });
    };
    let empty = Table::default();
    let meta = match get(root, "metadata").map(Spanned::get_ref) {
        Some(DeValue::Table(t)) => t,
        _ => &empty,
    };
    let rule_span = reader.span(&rule_item.span());
    let required = |key: &str| -> Result<String, ElasticError> {
        get_str(rt, key)
            .map(str::to_string)
            .ok_or_else(|| ElasticError::Schema {
                message: format!("missing string `rule.{key}`"),
                span: rule_span,
            })
    };
    let rule_id = required("rule_id")?;
    let name = required("name")?;
    let kind = required("type")?;

    let mut rule = Rule::new(RuleLanguage::Elastic, name);
    rule.id = Some(rule_id.clone());
    rule.span = rule_span;
    rule.taxonomy = Some("ecs".to_string());
    rule.description = get_str(rt, "description").map(str::to_string);
    rule.level = get_str(rt, "severity").and_then(Level::from_name);
    let authors = str_list(rt, "author");
    rule.author = (!authors.is_empty()).then(|| authors.join(", "));
    rule.date = get_str(meta, "creation_date").map(str::to_string);
    rule.modified = get_str(meta, "updated_date").map(str::to_string);
    rule.references = str_list(rt, "references");
    rule.falsepositives = str_list(rt, "false_positives");
    rule.license = get_str(rt, "license").map(str::to_string);
    rule.status = get_str(meta, "maturity").and_then(|m| match m {
        "production" => Some(Status::Stable),
        "development" => Some(Status::Experimental),
        "deprecated" => Some(Status::Deprecated),
        _ => None,
    });
    rule.tags = str_list(rt, "tags");
    if let Some(threat) = get(rt, "threat") {
        rule.tags.extend(attack_tags(threat.get_ref()));
    }
    rule.fields = match get(rt, "investigation_fields").map(Spanned::get_ref) {
        Some(DeValue::Table(t)) => str_list(t, "field_names"),
        _ => Vec::new(),
    };
    rule.logsource.product = os_product(&rule.tags);
    let index = str_list(rt, "index");
    if !index.is_empty() {
        rule.logsource
            .custom
            .insert("index".to_string(), index.join(","));
    }

    let consumed = [
        "rule_id",
        "name",
        "description",
        "severity",
        "author",
        "references",
        "false_positives",
        "license",
        "tags",
        "query",
    ];
    for (k, v) in rt {
        let key = k.get_ref().as_ref();
        if !consumed.contains(&key) {
            rule.custom
                .insert(key.to_string(), custom_text(v.get_ref()));
        }
    }
    for (k, v) in meta {
        rule.custom.insert(
            format!("metadata.{}", k.get_ref()),
            custom_text(v.get_ref()),
        );
    }
    for (k, v) in root {
        let key = k.get_ref().as_ref();
        if key != "rule" && key != "metadata" {
            rule.custom
                .insert(key.to_string(), custom_text(v.get_ref()));
        }
    }

    let language = get_str(rt, "language").map(str::to_string);
    let query_item = get(rt, "query");
    let query = query_item.and_then(|q| {
        let s = q.get_ref().as_str()?;
        let range = q.span();
        let raw = text.get(range.clone())?;
        Some((s.to_string(), StringMap::new(raw, range.start, s), range))
    });
    if let (Some(lang), Some((q, _, range))) = (&language, &query) {
        rule.query = Some(QuerySource {
            language: lang.clone(),
            text: q.clone(),
            span: reader.span(range),
        });
    }

    let mut diagnostics = Vec::new();
    let mut extra_rules = Vec::new();
    let locate = |map: &StringMap| {
        let map = map.clone();
        let lines = reader.lines.clone();
        move |o: usize| lines.span(map.file_offset(o))
    };
    let not_eval = |reason: String, span: Span| NotEvaluable { reason, span };

    match (kind.as_str(), language.as_deref(), &query) {
        ("eql", _, Some((q, map, _))) | (_, Some("eql"), Some((q, map, _))) => {
            let locate = locate(map);
            match eql::parse_query(q) {
                Ok(ast) => {
                    let options = LowerOptions {
                        category_field: get_str(rt, "event_category_override")
                            .unwrap_or("event.category")
                            .to_string(),
                        case_insensitive: false,
                    };
                    let lowered = eql::lower_query(&ast, q, &rule_id, &options, &locate);
                    rule.logsource.category.clone_from(&lowered.category);
                    rule.body = lowered.body;
                    rule.not_evaluable.extend(lowered.not_evaluable);
                    for step in lowered.steps {
                        let mut sub = Rule::new(
                            RuleLanguage::Elastic,
                            format!("{} ({})", rule.title, step.suffix.trim_start_matches('#')),
                        );
                        sub.id = Some(format!("{rule_id}{}", step.suffix));
                        sub.level = rule.level;
                        sub.status = rule.status;
                        sub.taxonomy.clone_from(&rule.taxonomy);
                        sub.logsource.product.clone_from(&rule.logsource.product);
                        sub.logsource.category = step.category;
                        sub.custom
                            .insert("elastic.parent_rule".to_string(), rule_id.clone());
                        sub.query = Some(QuerySource {
                            language: "eql".to_string(),
                            text: step.text,
                            span: step.span,
                        });
                        sub.span = step.span;
                        sub.body = RuleBody::Detection(step.detection);
                        extra_rules.push(sub);
                    }
                }
                Err(e) => {
                    let err = syntax(&e, &locate, true);
                    diagnostics.push(err.to_diagnostic());
                    rule.not_evaluable.push(not_eval(
                        "the EQL query does not parse".to_string(),
                        err.span(),
                    ));
                }
            }
        }
        (_, Some("kuery"), Some((q, map, _))) => {
            let locate = locate(map);
            match kql::parse_kql(q) {
                Ok(node) => {
                    let lowered = kql::lower_kql(&node, &locate);
                    rule.not_evaluable.extend(lowered.not_evaluable);
                    let detection = single_search(lowered.expr, rule.query.as_ref());
                    rule.body = RuleBody::Detection(detection);
                }
                Err(e) => {
                    let err = syntax(&e, &locate, false);
                    diagnostics.push(err.to_diagnostic());
                    rule.not_evaluable.push(not_eval(
                        "the KQL query does not parse".to_string(),
                        err.span(),
                    ));
                }
            }
        }
        (_, Some(lang @ ("esql" | "lucene")), _) => {
            let span = rule.query.as_ref().map_or(rule_span, |q| q.span);
            let name = if lang == "esql" { "ES|QL" } else { "Lucene" };
            rule.not_evaluable.push(not_eval(
                format!("{name} queries are not evaluated yet; the query text is kept"),
                span,
            ));
        }
        ("machine_learning", _, _) => {
            let job = rule
                .custom
                .get("machine_learning_job_id")
                .cloned()
                .unwrap_or_default();
            rule.not_evaluable.push(not_eval(
                format!(
                    "machine-learning rules depend on anomaly job {job} and cannot be evaluated"
                ),
                rule_span,
            ));
        }
        _ => {
            diagnostics.push(Diagnostic::error(
                "invalid-rule",
                rule_span,
                format!(
                    "rule of type `{kind}` has no query in a known language ({})",
                    language.as_deref().unwrap_or("none")
                ),
            ));
            rule.not_evaluable.push(not_eval(
                "the rule has no usable query".to_string(),
                rule_span,
            ));
        }
    }

    type_specific(&mut rule, &kind, rt, &reader, &mut extra_rules);
    let mut rules = vec![rule];
    rules.extend(extra_rules);
    Ok(ElasticFile { rules, diagnostics })
}

/// A syntax error at its place in the rule file.
fn syntax(e: &SyntaxError, locate: &dyn Fn(usize) -> Span, is_eql: bool) -> ElasticError {
    let span = locate(e.offset);
    if is_eql {
        ElasticError::Eql {
            message: e.message.clone(),
            span,
        }
    } else {
        ElasticError::Kql {
            message: e.message.clone(),
            span,
        }
    }
}

fn single_search(expr: sigil_core::Expr, query: Option<&QuerySource>) -> Detection {
    let span = query.map_or_else(Span::default, |q| q.span);
    Detection {
        searches: vec![sigil_core::Search {
            name: "query".to_string(),
            expr,
            span,
        }],
        conditions: vec![sigil_core::Condition::Search {
            name: "query".to_string(),
            span,
        }],
        condition_span: span,
    }
}

/// What the rule type adds on top of its query: a threshold becomes an `event_count`
/// (or `value_count`) correlation over the query, the other types are marked.
fn type_specific(
    rule: &mut Rule,
    kind: &str,
    rt: &Table<'_>,
    reader: &Reader<'_>,
    extra: &mut Vec<Rule>,
) {
    let span_of = |key: &str| get(rt, key).map_or(rule.span, |v| reader.span(&v.span()));
    match kind {
        "threshold" => {
            let Some(DeValue::Table(th)) = get(rt, "threshold").map(Spanned::get_ref) else {
                rule.not_evaluable.push(NotEvaluable {
                    reason: "threshold rule without a `threshold` table".to_string(),
                    span: rule.span,
                });
                return;
            };
            let span = span_of("threshold");
            let group_by = str_list(th, "field");
            let value = get(th, "value")
                .map(|v| to_json(v.get_ref()))
                .and_then(|j| j.as_f64())
                .unwrap_or(1.0);
            let cardinality: Vec<(String, f64)> = match get(th, "cardinality").map(Spanned::get_ref)
            {
                Some(DeValue::Array(a)) => a
                    .iter()
                    .filter_map(|c| {
                        let t = c.get_ref().as_table()?;
                        let f = get_str(t, "field")?.to_string();
                        let v = to_json(get(t, "value")?.get_ref()).as_f64()?;
                        Some((f, v))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let lookback = rule.custom.get("from").and_then(|f| lookback(f));
            let (timespan, timespan_secs) = match &lookback {
                Some((text, secs)) => (text.clone(), *secs),
                None => ("9m".to_string(), 540),
            };
            let id = rule.id.clone().unwrap_or_default();
            let reference = format!("{id}#query");
            let (kind, condition) = match cardinality.as_slice() {
                [] => (
                    CorrelationKind::EventCount,
                    CorrelationCondition {
                        field: None,
                        comparisons: vec![(Op::Gte, value)],
                        percentile: None,
                    },
                ),
                [(field, distinct)] => {
                    if value > 1.0 {
                        rule.not_evaluable.push(NotEvaluable {
                            reason: format!(
                                "the threshold needs both {value} events and {distinct} distinct values; only the distinct count is expressed"
                            ),
                            span,
                        });
                    }
                    (
                        CorrelationKind::ValueCount,
                        CorrelationCondition {
                            field: Some(field.clone()),
                            comparisons: vec![(Op::Gte, *distinct)],
                            percentile: None,
                        },
                    )
                }
                _ => {
                    rule.not_evaluable.push(NotEvaluable {
                        reason: "a threshold over several cardinality fields is not expressible"
                            .to_string(),
                        span,
                    });
                    return;
                }
            };
            // The query becomes a rule of its own, which the correlation counts.
            let mut sub = rule.clone();
            sub.id = Some(reference.clone());
            sub.title = format!("{} (query)", rule.title);
            sub.custom.clear();
            sub.custom
                .insert("elastic.parent_rule".to_string(), id.clone());
            sub.not_evaluable.clear();
            rule.body = RuleBody::Correlation(Correlation {
                kind,
                rules: vec![CorrelationRef { reference, span }],
                aliases: Vec::new(),
                group_by,
                timespan_secs,
                timespan,
                condition: Some(condition),
                generate: false,
            });
            extra.insert(0, sub);
        }
        "new_terms" => rule.not_evaluable.push(NotEvaluable {
            reason:
                "new_terms rules need the history of the fields' values; only the query is lowered"
                    .to_string(),
            span: span_of("new_terms"),
        }),
        "threat_match" => rule.not_evaluable.push(NotEvaluable {
            reason: "threat_match rules need a threat-indicator index; only the query is lowered"
                .to_string(),
            span: span_of("threat_mapping"),
        }),
        _ => {}
    }
}

/// The look-back window of `from = "now-9m"`: (`9m`, 540).
fn lookback(from: &str) -> Option<(String, u64)> {
    let rest = from.trim().strip_prefix("now-")?;
    let secs = sigil_core::correlation::parse_timespan(rest)?;
    Some((rest.to_string(), secs))
}

/// Sigma-style ATT&CK tags from Elastic `threat` tables.
fn attack_tags(threat: &DeValue<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let DeValue::Array(entries) = threat else {
        return out;
    };
    for entry in entries {
        let Some(t) = entry.get_ref().as_table() else {
            continue;
        };
        if get_str(t, "framework").is_some_and(|f| f != "MITRE ATT&CK") {
            continue;
        }
        if let Some(DeValue::Table(tactic)) = get(t, "tactic").map(Spanned::get_ref)
            && let Some(name) = get_str(tactic, "name")
        {
            let tag = format!(
                "attack.{}",
                name.trim().to_ascii_lowercase().replace([' ', '_'], "-")
            );
            push_unique(&mut out, tag);
        }
        if let Some(DeValue::Array(techniques)) = get(t, "technique").map(Spanned::get_ref) {
            for tech in techniques {
                let Some(tt) = tech.get_ref().as_table() else {
                    continue;
                };
                if let Some(id) = get_str(tt, "id") {
                    push_unique(&mut out, format!("attack.{}", id.to_ascii_lowercase()));
                }
                if let Some(DeValue::Array(subs)) = get(tt, "subtechnique").map(Spanned::get_ref) {
                    for sub in subs {
                        if let Some(id) = sub.get_ref().as_table().and_then(|s| get_str(s, "id")) {
                            push_unique(&mut out, format!("attack.{}", id.to_ascii_lowercase()));
                        }
                    }
                }
            }
        }
    }
    out
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// `windows` from an `OS: Windows` tag, when the rule names exactly one OS.
fn os_product(tags: &[String]) -> Option<String> {
    let mut oses = tags
        .iter()
        .filter_map(|t| t.strip_prefix("OS: "))
        .map(|o| o.trim().to_ascii_lowercase());
    let first = oses.next()?;
    oses.next().is_none().then_some(first)
}

/// An ATT&CK object named by a `threat` table: id and name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttackItem {
    /// `TA0002`, `T1059`, `T1059.003`.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// A technique of a `threat` table, with its sub-techniques.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Technique {
    /// The technique.
    pub technique: AttackItem,
    /// Its sub-techniques.
    pub subtechniques: Vec<AttackItem>,
}

/// The `threat` tables of a rule as read from its TOML, typed: for consumers that need
/// more than the tags (names).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Threat {
    /// `MITRE ATT&CK`.
    pub framework: String,
    /// The tactic.
    pub tactic: Option<AttackItem>,
    /// The techniques.
    pub techniques: Vec<Technique>,
}

/// Parses the JSON kept in `Rule::custom["threat"]` back into typed tables.
pub fn threats(rule: &Rule) -> Vec<Threat> {
    let Some(json) = rule.custom.get("threat") else {
        return Vec::new();
    };
    let Ok(Json::Array(entries)) = serde_json::from_str::<Json>(json) else {
        return Vec::new();
    };
    let s = |v: &Json, k: &str| v.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    let item = |v: &Json| AttackItem {
        id: s(v, "id"),
        name: s(v, "name"),
    };
    let list = |v: &Json, k: &str| -> Vec<Json> {
        v.get(k)
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default()
    };
    entries
        .iter()
        .map(|e| Threat {
            framework: s(e, "framework"),
            tactic: e.get("tactic").map(item),
            techniques: list(e, "technique")
                .iter()
                .map(|t| Technique {
                    technique: item(t),
                    subtechniques: list(t, "subtechnique").iter().map(item).collect(),
                })
                .collect(),
        })
        .collect()
}
