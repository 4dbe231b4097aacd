//! One YAML document → one [`Rule`]: metadata, logsource and body.

use std::collections::BTreeMap;

use sigil_core::{
    Detection, Diagnostic, LogSource, Related, Rule, RuleBody, RuleLanguage, Search, Span, Status,
};

use crate::condition::{ConditionSource, parse_condition};
use crate::detection::lower_search_owned;
use crate::meta::{lower_correlation, lower_filter};
use crate::yaml::{Node, NodeValue, Resolved};
use crate::{RuleSource, SigmaError};

/// Reading state shared by the documents of one file.
pub(crate) struct Reader<'t> {
    pub(crate) text: &'t str,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// Whether to record the [`RuleSource`] of each rule beyond its span.
    pub(crate) sources: bool,
}

impl Reader<'_> {
    pub(crate) fn report(&mut self, e: &SigmaError) {
        self.diagnostics.push(e.to_diagnostic());
    }

    /// Where a condition text written at `start` sits, exactly when the file holds it
    /// verbatim.
    pub(crate) fn condition_source(&self, start: Span, text: &str) -> ConditionSource {
        let at = start.offset as usize;
        let raw = self.text.get(at..).unwrap_or("");
        let (skip, raw) = match raw.as_bytes().first() {
            Some(b'\'' | b'"') => (1, &raw[1..]),
            _ => (0, raw),
        };
        let exact = !text.contains('\n') && raw.starts_with(text);
        ConditionSource {
            start: Span::new(start.line, start.column + skip, start.offset + skip),
            exact,
        }
    }
}

/// Text of a scalar, or an error naming the field. The text moves out of the node.
fn text_of(field: &str, node: Node<'_>) -> Result<Option<String>, SigmaError> {
    let span = node.span;
    match node.value {
        NodeValue::Scalar(s) => {
            let null = matches!(s.resolve(), Resolved::Null);
            Ok((!null).then(|| s.text.into_owned()))
        }
        value => Err(SigmaError::WrongType {
            field: field.to_string(),
            expected: "a string",
            found: Node { span, value }.kind_name(),
            span,
        }),
    }
}

/// A string or a list of strings, as a list.
fn list_of(field: &str, node: Node<'_>) -> Result<(Vec<String>, Vec<Span>), SigmaError> {
    let span = node.span;
    match node.value {
        NodeValue::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut spans = Vec::with_capacity(items.len());
            for item in items {
                let span = item.span;
                if let Some(t) = text_of(field, item)? {
                    out.push(t);
                    spans.push(span);
                }
            }
            Ok((out, spans))
        }
        value @ NodeValue::Scalar(_) => Ok(text_of(field, Node { span, value })?
            .map(|t| (vec![t], vec![span]))
            .unwrap_or_default()),
        NodeValue::Map(_) => Err(SigmaError::WrongType {
            field: field.to_string(),
            expected: "a list of strings",
            found: "a mapping",
            span,
        }),
    }
}

/// A compact text rendering of any node, for `custom` metadata.
pub(crate) fn render(node: &Node<'_>) -> String {
    fn go(node: &Node<'_>, out: &mut String) {
        match &node.value {
            NodeValue::Scalar(s) => out.push_str(&s.text),
            NodeValue::Seq(items) => {
                out.push('[');
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    go(it, out);
                }
                out.push(']');
            }
            NodeValue::Map(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    go(k, out);
                    out.push_str(": ");
                    go(v, out);
                }
                out.push('}');
            }
        }
    }
    let mut out = String::new();
    go(node, &mut out);
    out
}

/// Reads one (merged) document into a rule, moving its texts into the rule. Problems in
/// one field are reported and the field skipped, so one mistake does not hide the
/// others; `None` when the document cannot be a rule at all.
pub(crate) fn read_rule(r: &mut Reader<'_>, root: Node<'_>) -> Option<(Rule, RuleSource)> {
    let span = root.span;
    let pairs = match root.value {
        NodeValue::Map(pairs) => pairs,
        value => {
            r.report(&SigmaError::WrongType {
                field: "a Sigma document".into(),
                expected: "a mapping",
                found: Node { span, value }.kind_name(),
                span,
            });
            return None;
        }
    };
    let mut rule = Rule::new(RuleLanguage::Sigma, "");
    rule.span = span;
    let mut source = RuleSource {
        span,
        ..RuleSource::default()
    };
    // The line of the previous use of each key given twice, found before the keys are
    // consumed.
    let mut duplicate_of: Vec<Option<u32>> = vec![None; pairs.len()];
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for ((key, _), dup) in pairs.iter().zip(&mut duplicate_of) {
        if let Some(name) = key.as_scalar().map(|s| s.text.as_ref()) {
            *dup = seen.insert(name, key.span).map(|first| first.line);
        }
    }
    drop(seen);
    let mut detection_node = None;
    let mut correlation_node = None;
    let mut filter_node = None;

    for ((key, value), duplicate_of) in pairs.into_iter().zip(duplicate_of) {
        let Some(name) = key.as_scalar().map(|s| s.text.as_ref()) else {
            r.report(&SigmaError::WrongType {
                field: "a top-level key".into(),
                expected: "a string",
                found: key.kind_name(),
                span: key.span,
            });
            continue;
        };
        if let Some(line) = duplicate_of {
            r.diagnostics.push(Diagnostic::error(
                "duplicate-key",
                key.span,
                format!("`{name}` is given twice (first at line {line})"),
            ));
        }
        if r.sources {
            source.keys.insert(name.to_string(), key.span);
            if let Some(s) = value.as_scalar() {
                source
                    .values
                    .insert(name.to_string(), (value.span, s.text.to_string()));
            }
        }
        let result: Result<(), SigmaError> = (|| {
            match name {
                "title" => rule.title = text_of(name, value)?.unwrap_or_default(),
                "id" => rule.id = text_of(name, value)?,
                "name" => rule.name = text_of(name, value)?,
                "description" => rule.description = text_of(name, value)?,
                "status" => {
                    rule.status = text_of(name, value)?.as_deref().and_then(Status::from_name);
                }
                "level" => {
                    rule.level = text_of(name, value)?
                        .as_deref()
                        .and_then(sigil_core::Level::from_name);
                }
                "author" => rule.author = text_of(name, value)?,
                "date" => rule.date = text_of(name, value)?,
                "modified" => rule.modified = text_of(name, value)?,
                "license" => rule.license = text_of(name, value)?,
                "taxonomy" => rule.taxonomy = text_of(name, value)?,
                "references" => rule.references = list_of(name, value)?.0,
                "falsepositives" => rule.falsepositives = list_of(name, value)?.0,
                "fields" => rule.fields = list_of(name, value)?.0,
                "scope" => rule.scope = list_of(name, value)?.0,
                "tags" => {
                    let (tags, spans) = list_of(name, value)?;
                    rule.tags = tags;
                    if r.sources {
                        source.tag_spans = spans;
                    }
                }
                "related" => rule.related = read_related(&value)?,
                "logsource" => rule.logsource = read_logsource(value)?,
                "detection" => detection_node = Some(value),
                "correlation" => correlation_node = Some(value),
                "filter" => filter_node = Some(value),
                _ => {
                    rule.custom.insert(name.to_string(), render(&value));
                }
            }
            Ok(())
        })();
        if let Err(e) = result {
            r.report(&e);
        }
    }

    match (detection_node, correlation_node, filter_node) {
        (_, Some(c), _) => match lower_correlation(r, &c) {
            Ok(c) => rule.body = RuleBody::Correlation(c),
            Err(e) => r.report(&e),
        },
        (_, None, Some(f)) => match lower_filter(r, &f) {
            Ok(f) => rule.body = RuleBody::Filter(f),
            Err(e) => r.report(&e),
        },
        (Some(d), None, None) => {
            // A deprecated rule is kept for the record: its legacy aggregation is noted,
            // not an error.
            let deprecated = rule.status == Some(Status::Deprecated);
            let (detection, custom) = read_detection(r, d, false, deprecated);
            rule.custom.extend(custom);
            rule.body = RuleBody::Detection(detection);
        }
        (None, None, None) => r.report(&SigmaError::Missing {
            field: "detection",
            span,
        }),
    }
    Some((rule, source))
}

fn read_related(node: &Node<'_>) -> Result<Vec<Related>, SigmaError> {
    let NodeValue::Seq(items) = &node.value else {
        return Err(SigmaError::WrongType {
            field: "related".into(),
            expected: "a list",
            found: node.kind_name(),
            span: node.span,
        });
    };
    let mut out = Vec::new();
    for item in items {
        let id = item
            .get("id")
            .map(|n| text_of("related.id", n.clone()))
            .transpose()?;
        let kind = item
            .get("type")
            .map(|n| text_of("related.type", n.clone()))
            .transpose()?;
        match (id.flatten(), kind.flatten()) {
            (Some(id), Some(kind)) => out.push(Related { id, kind }),
            (None, _) => {
                return Err(SigmaError::Missing {
                    field: "related.id",
                    span: item.span,
                });
            }
            (_, None) => {
                return Err(SigmaError::Missing {
                    field: "related.type",
                    span: item.span,
                });
            }
        }
    }
    Ok(out)
}

fn read_logsource(node: Node<'_>) -> Result<LogSource, SigmaError> {
    let span = node.span;
    let pairs = match node.value {
        NodeValue::Map(pairs) => pairs,
        value => {
            return Err(SigmaError::WrongType {
                field: "logsource".into(),
                expected: "a mapping",
                found: Node { span, value }.kind_name(),
                span,
            });
        }
    };
    let mut ls = LogSource::default();
    for (k, v) in pairs {
        let Some(key) = k.as_scalar().map(|s| s.text.as_ref()) else {
            continue;
        };
        let field = format!("logsource.{key}");
        match key {
            "category" => ls.category = text_of(&field, v)?,
            "product" => ls.product = text_of(&field, v)?,
            "service" => ls.service = text_of(&field, v)?,
            "definition" => ls.definition = text_of(&field, v)?,
            _ => {
                ls.custom.insert(key.to_string(), render(&v));
            }
        }
    }
    Ok(ls)
}

/// Reads a `detection:` (or a filter's) mapping: the searches and the condition.
/// `skip` lists keys that are not searches (a filter's `rules`). Returns the detection
/// and keys kept as custom metadata (a legacy `timeframe` or aggregation). A legacy
/// aggregation (`selection | count() > 5`) is an error, or a warning when
/// `legacy_is_warning`; either way the part before the `|` is read as the condition and
/// the aggregation kept as `custom["aggregation"]`.
pub(crate) fn read_detection(
    r: &mut Reader<'_>,
    node: Node<'_>,
    is_filter: bool,
    legacy_is_warning: bool,
) -> (Detection, Vec<(String, String)>) {
    let mut detection = Detection::default();
    let mut custom = Vec::new();
    let span = node.span;
    let pairs = match node.value {
        NodeValue::Map(pairs) => pairs,
        value => {
            r.report(&SigmaError::WrongType {
                field: if is_filter { "filter" } else { "detection" }.into(),
                expected: "a mapping",
                found: Node { span, value }.kind_name(),
                span,
            });
            return (detection, custom);
        }
    };
    let mut condition_node = None;
    for (key, value) in pairs {
        let key_span = key.span;
        let name = match key.value {
            NodeValue::Scalar(s) => s.text,
            other => {
                r.report(&SigmaError::WrongType {
                    field: "a search identifier".into(),
                    expected: "a string",
                    found: Node {
                        span: key_span,
                        value: other,
                    }
                    .kind_name(),
                    span: key_span,
                });
                continue;
            }
        };
        match name.as_ref() {
            "condition" => condition_node = Some((key_span, value)),
            "timeframe" => custom.push(("timeframe".to_string(), render(&value))),
            "rules" if is_filter => {}
            _ => {
                if let Some(first) = detection.search(&name) {
                    let line = first.span.line;
                    r.diagnostics.push(Diagnostic::error(
                        "duplicate-key",
                        key_span,
                        format!("search `{name}` is defined twice (first at line {line})"),
                    ));
                    continue;
                }
                match lower_search_owned(value) {
                    Ok(expr) => detection.searches.push(Search {
                        name: name.into_owned(),
                        expr,
                        span: key_span,
                    }),
                    Err(e) => {
                        r.report(&e);
                        // Keep the name so the condition check does not report it as missing.
                        detection.searches.push(Search {
                            name: name.into_owned(),
                            expr: sigil_core::Expr::Or(Vec::new()),
                            span: key_span,
                        });
                    }
                }
            }
        }
    }
    let Some((cond_key_span, cond_value)) = condition_node else {
        r.report(&SigmaError::Missing {
            field: "condition",
            span,
        });
        return (detection, custom);
    };
    detection.condition_span = cond_key_span;
    let items: Vec<Node<'_>> = match cond_value.value {
        NodeValue::Seq(items) => items,
        value => vec![Node {
            span: cond_value.span,
            value,
        }],
    };
    for item in items {
        let item_span = item.span;
        match text_of("condition", item) {
            Ok(Some(text)) => {
                let src = r.condition_source(item_span, &text);
                let (search_part, aggregation) = match text.find('|') {
                    Some(i) => (&text[..i], Some(text[i + 1..].trim())),
                    None => (text.as_str(), None),
                };
                if let Some(agg) = aggregation {
                    let e = SigmaError::LegacyAggregation {
                        span: src.at(&text, search_part.len()),
                    };
                    let mut d = e.to_diagnostic();
                    if legacy_is_warning {
                        d.severity = sigil_core::Severity::Warning;
                        d.message
                            .push_str(" (kept as written: the rule is deprecated)");
                    }
                    r.diagnostics.push(d);
                    custom.push(("aggregation".to_string(), agg.to_string()));
                }
                match parse_condition(search_part, &src) {
                    Ok(c) => detection.conditions.push(c),
                    Err(e) => r.report(&e),
                }
            }
            Ok(None) => r.report(&SigmaError::Condition {
                message: "the condition is empty".into(),
                span: item_span,
            }),
            Err(e) => r.report(&e),
        }
    }
    (detection, custom)
}
