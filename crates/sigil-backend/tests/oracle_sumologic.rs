//! Sumo Logic Cloud SIEM against pysigma-backend-sumologic 0.2.5 (`sumologic_cse`, pipeline
//! `sumologic_cse`, `../shared/oracle/README-wave2.md`): the reference writes rule JSON, whose
//! `expression` is the query. At least 97% of the rules it converts must convert to the same
//! expression here.
//!
//! The reference builds its expressions by rewriting query text with regular expressions,
//! which changes the meaning of some values; `docs/conversion-differences.md` lists each such
//! defect. A renderer in this file writes sigil's query with the defects: rules whose
//! reference query equals it (and not sigil's) are counted under the defect and left out of
//! the measure, so that everything else is still compared exactly.

mod common;

use common::oracle::{Defect, Expect, check_expect_with_defects};
use sigil_backend::TargetInfo;
use sigil_backend::dialect::Dialect;
use sigil_backend::render::{Out, QueryContext, Render, Res, Target};
use sigil_backend::targets::sumologic::{self, SumoLogic, cse_field, cse_query};
use sigil_backend::tree::{Node, Str, Value};
use sigil_core::{LogSource, Pattern, Piece};

/// The reference doubles every backslash of a regular expression and escapes its dots.
const REGEX: u8 = 1;
/// A value with a wildcard anywhere but at its ends keeps `*` as it is (a quantifier) and
/// escapes `?` (a literal question mark).
const WILDCARDS: u8 = 2;
/// A wildcard value holding a double quote, or an empty one, keeps its quotes inside the
/// regex.
const QUOTES: u8 = 4;
/// `isEmpty(...)` names the field as the rule does, outside the product's raw fields.
const EMPTY: u8 = 8;
/// The condition is not grouped behind the vendor filter.
const UNGROUPED: u8 = 16;

#[derive(Debug)]
struct SumoReference {
    dialect: Dialect,
    defects: u8,
}

impl SumoReference {
    fn has(&self, d: u8) -> bool {
        self.defects & d != 0
    }
}

/// Characters the reference escapes in a wildcard value turned into a regex.
const REFERENCE_SPECIAL: &str = "/.()[]{}^$+?|";

/// The reference's text for one literal piece: `\` and `"` escaped as in a string, then the
/// regex characters.
fn reference_literal(s: &str, quotes_kept: bool) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '*' => out.push_str("\\\\*"),
            '?' if quotes_kept => out.push_str("\\\\?"),
            '?' => out.push_str("\\\\\\?"),
            c if !quotes_kept && REFERENCE_SPECIAL.contains(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The pattern's pieces without a leading and a trailing `*` when those are its only
/// wildcards (the reference's prefix, suffix and substring templates), and whether each was
/// there.
fn strip_ends(p: &Pattern) -> Option<(bool, &[Piece], bool)> {
    let pieces = p.pieces();
    let lead = matches!(pieces.first(), Some(Piece::AnyMany));
    let rest = if lead { &pieces[1..] } else { pieces };
    let trail = matches!(rest.last(), Some(Piece::AnyMany));
    let mid = if trail { &rest[..rest.len() - 1] } else { rest };
    mid.iter()
        .all(|p| matches!(p, Piece::Lit(_)))
        .then_some((lead, mid, trail))
}

impl Target for SumoReference {
    fn dialect(&self) -> &Dialect {
        &self.dialect
    }

    fn not(&self, r: &mut Render<'_>, arg: &Node) -> Res<Out> {
        SumoLogic.not(r, arg)
    }

    fn value_str(&self, p: &Pattern) -> Res<String> {
        SumoLogic.value_str(p)
    }

    fn field_str(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        let p = &s.pattern;
        if !p.has_wildcards() {
            return SumoLogic.field_str(r, field, s);
        }
        let literal = |ps: &[Piece]| {
            ps.iter()
                .any(|x| matches!(x, Piece::Lit(t) if t.contains('"')))
        };
        let (lead, mid, trail, interior) = match strip_ends(p) {
            // `*` alone is a prefix match of nothing.
            Some((_, [], _)) => (false, &[][..], true, false),
            Some((lead, mid, trail)) => (lead, mid, trail, false),
            None => (false, p.pieces(), false, true),
        };
        let quotes_kept = self.has(QUOTES)
            && (literal(mid)
                || mid
                    .iter()
                    .all(|x| matches!(x, Piece::Lit(t) if t.is_empty())));
        if interior && !self.has(WILDCARDS) && !quotes_kept {
            return SumoLogic.field_str(r, field, s);
        }
        if !interior && !quotes_kept {
            return SumoLogic.field_str(r, field, s);
        }
        let mut body = String::new();
        for piece in mid {
            match piece {
                Piece::Lit(t) => body.push_str(&reference_literal(t, quotes_kept)),
                Piece::AnyMany => body.push('*'),
                Piece::AnyOne if quotes_kept => body.push('?'),
                Piece::AnyOne => body.push_str("\\?"),
                Piece::Placeholder(_) => {}
            }
        }
        if quotes_kept {
            body = format!("\"{body}\"");
        }
        Ok(Out::Text(format!(
            "{field} matches /{}{body}{}/",
            if lead { ".*" } else { "" },
            if trail { ".*" } else { "" }
        )))
    }

    fn query(&self, r: &mut Render<'_>, node: &Node, ctx: &QueryContext<'_>) -> Res<String> {
        let empty = self.has(EMPTY);
        let name = move |field: &str, value: &Value, ls: &LogSource| {
            if empty && matches!(value, Value::Null | Value::Exists(_)) {
                reference_name(field)
            } else {
                cse_field(field, ls)
            }
        };
        let q = cse_query(r, node, ctx, &name)?;
        if self.has(UNGROUPED)
            && let Some((filter, rest)) = q.split_once(" AND (")
            && filter.starts_with("metadata_vendor=")
            && let Some(inner) = rest.strip_suffix(')')
        {
            return Ok(format!("{filter} AND {inner}"));
        }
        Ok(q)
    }
}

/// A field named as the reference names it before its text rewrites: schema fields and
/// plain names as they are, dotted names as raw fields.
fn reference_name(field: &str) -> String {
    if sumologic::in_schema(field) {
        field.to_string()
    } else if let Some(raw) = field.strip_prefix("fields.") {
        format!("fields['{raw}']")
    } else if field.contains('.') {
        format!("fields['{field}']")
    } else {
        field.to_string()
    }
}

fn reference(name: &'static str, defects: u8) -> Defect {
    let mut dialect = sumologic::DIALECT.clone();
    if defects & REGEX != 0 {
        dialect.re_escape = &["/", "."];
        dialect.re_escape_escape_char = true;
    }
    let renderer: &'static SumoReference = Box::leak(Box::new(SumoReference { dialect, defects }));
    let target: &'static TargetInfo = Box::leak(Box::new(TargetInfo {
        name: "sumologic-as-reference",
        aliases: &[],
        alias_notes: &[],
        engine: "",
        reference: "",
        default_pipeline: None,
        formats: &[],
        renderer,
    }));
    (name, target)
}

#[test]
fn sumologic_with_sumologic_cse() {
    let defects = [
        reference("regex backslashes doubled and dots escaped", REGEX),
        reference("wildcards inside a value as `*` and `\\?`", WILDCARDS),
        reference("quotes kept inside a regex", QUOTES),
        reference("isEmpty() on the rule's field name", EMPTY),
        reference("query not grouped behind the vendor filter", UNGROUPED),
        reference(
            "several of these",
            REGEX | WILDCARDS | QUOTES | EMPTY | UNGROUPED,
        ),
    ];
    check_expect_with_defects(
        "conv-sumologic-cse.jsonl",
        "sumologic",
        &["sumologic_cse"],
        Expect::RuleJson("expression"),
        None,
        &defects,
    );
}

/// The rule fields of the reference's JSON that `cse_rule` writes (its mapping-confidence
/// metadata is not written here; the conversion time and the rule's git commit differ from
/// run to run).
const RULE_KEYS: &[&str] = &[
    "content_type",
    "enabled",
    "is_prototype",
    "name",
    "name_expression",
    "rule_source",
    "summary_expression",
    "pattern_type",
    "stream",
    "description_expression",
    "entity_selectors",
    "score_mapping",
    "tags",
    "category",
    "created",
    "last_updated",
];

/// `cse_rule` against the reference's rule JSON for every rule it converts: every
/// field above (the expression is the measure of the other test) and the rule's id and status
/// in `conversion_metadata` must agree for at least 97% of them.
#[test]
fn cse_rule_format_matches_the_reference_rule_json() {
    use serde_json::Value as Json;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let oracle = std::env::var_os("SIGIL_ORACLE_DIR")
        .map_or_else(|| dir.join("oracle"), std::path::PathBuf::from);
    let Ok(text) = std::fs::read_to_string(oracle.join("conv-sumologic-cse.jsonl")) else {
        println!("skipped: ../shared/oracle/conv-sumologic-cse.jsonl not found");
        return;
    };
    let (mut total, mut equal) = (0, 0);
    for line in text.lines() {
        let Ok(row) = serde_json::from_str::<Json>(line) else {
            continue;
        };
        if row["ok"] != Json::Bool(true) {
            continue;
        }
        let Some(path) = row["path"].as_str() else {
            continue;
        };
        let Some(doc) = row["queries"][0]
            .as_str()
            .and_then(|q| serde_json::from_str::<Json>(q).ok())
        else {
            continue;
        };
        let reference = &doc["rules"][0];
        let source =
            std::fs::read_to_string(dir.join("corpus/sigma").join(path)).unwrap_or_default();
        let Some(rule) = sigil_sigma::parse_str(&source).rules.into_iter().next() else {
            continue;
        };
        let ours = sigil_backend::format::sumologic::rule_json(&rule, "");
        total += 1;
        let mut differs: Vec<&str> = RULE_KEYS
            .iter()
            .copied()
            .filter(|k| ours.get(*k) != reference.get(*k))
            .collect();
        for k in ["sigma_uid", "sigma_status"] {
            if ours["conversion_metadata"][k] != reference["conversion_metadata"][k] {
                differs.push(k);
            }
        }
        if differs.is_empty() {
            equal += 1;
        } else if total - equal <= 5 {
            for k in &differs {
                println!(
                    "{path}: {k}\n  reference: {}\n  sigil:     {}",
                    reference[*k], ours[*k]
                );
            }
        }
    }
    println!("cse_rule: {equal} / {total} rules with every field equal");
    assert!(total > 0);
    assert!(equal * 100 >= total * 97, "only {equal} / {total} equal");
}

#[test]
fn a_foreign_pipeline_is_refused() {
    use sigil_backend::{Conversion, Pipelines};
    let sumo = TargetInfo::find("sumologic").expect("registered");
    let loki = TargetInfo::find("loki").expect("registered");
    let loki_pipeline = sigil_pipeline::builtin("loki_promtail_sysmon").expect("built in");
    let sumo_pipeline = sigil_pipeline::builtin("sumologic_cse").expect("built in");
    let err = Conversion::plan(&[sumo], &Pipelines::Chosen(vec![loki_pipeline]))
        .expect_err("loki's pipeline is not for sumologic");
    assert!(err.to_string().contains("loki"), "{err}");
    assert!(Conversion::plan(&[loki], &Pipelines::Chosen(vec![sumo_pipeline.clone()])).is_err());
    assert!(Conversion::plan(&[sumo], &Pipelines::Chosen(vec![sumo_pipeline])).is_ok());
}
