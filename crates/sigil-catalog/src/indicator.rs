//! Indicators: how a predicate value is shown, and the normalised form under which
//! indicators of different rules and languages are compared.
//!
//! Normalisation, step by step (also in `docs/analysis.md`):
//!
//! 1. **Field names** go to one namespace. Sigma rules for `product: windows` are run
//!    through the built-in `ecs_windows` pipeline, the same mapping the Elastic backends
//!    use, so `ParentImage` becomes `process.parent.executable` and unmapped fields get
//!    the `winlog.event_data.` prefix; Elastic rules are already in ECS; other rules keep
//!    their names. Field names are then compared case-insensitively, without an
//!    Elasticsearch multi-field suffix (`.caseless`, `.keyword`, `.text`, `.wildcard`).
//! 2. **Wildcard shapes** become the operator they mean: `*x` is `ends_with x`, `x*` is
//!    `starts_with x`, `*x*` is `contains x`; any other pattern is a `wildcard` of the
//!    whole pattern its operator matches.
//! 3. **ECS name fields** become suffixes of their path fields, since ECS defines a
//!    `*.name` as the file name of the `*.executable` / `*.path` next to it:
//!    `process.parent.name equals x.exe` is `process.parent.executable ends_with \x.exe`
//!    (likewise `process.name`, `file.name`, `dll.name`). That is how Elastic's
//!    `process.parent.name : "WmiPrvSE.exe"` meets Sigma's
//!    `ParentImage|endswith: '\WmiPrvSE.exe'`.
//! 4. **Values** compare case-insensitively (lower-cased), except regular expressions.
//!    `windash` and `cased` do not change the indicator; byte encodings do (a
//!    `base64offset` value is not the plain text), so they prefix the value.

use sigil_core::{Encoding, Op, Pattern, Piece, Predicate, Value};

use crate::model::NormalizedIndicator;

/// ECS fields that hold the file name of another field's path.
const NAME_FIELDS: [(&str, &str); 4] = [
    ("process.name", "process.executable"),
    ("process.parent.name", "process.parent.executable"),
    ("file.name", "file.path"),
    ("dll.name", "dll.path"),
];

/// Elasticsearch multi-field suffixes: other indexings of the same field.
const MULTI_FIELD_SUFFIXES: [&str; 4] = [".caseless", ".keyword", ".text", ".wildcard"];

/// How one value of a predicate is shown: `(kind, value)`, the kind saying what the
/// value matches. A string is read with its operator (`contains x` matches `*x*`): a
/// literal keeps the operator's kind, a pattern whose only wildcards are a leading and/or
/// trailing `*` becomes `equals`, `starts_with`, `ends_with` or `contains` of its literal,
/// and any other pattern is a `wildcard`, shown whole in Sigma syntax
/// (`Image|endswith: '\x*.exe'` is `wildcard *\x*.exe`).
pub fn display(pred: &Predicate, value: &Value) -> (&'static str, String) {
    if pred.field.is_none() {
        return ("keyword", value.to_text());
    }
    match (pred.op, value) {
        (_, Value::FieldRef(f)) => ("fieldref", f.clone()),
        (Op::Exists, v) => ("exists", v.to_text()),
        (_, Value::Null) => ("exists", "false".to_string()),
        // Analysed full text: the words of a phrase, wherever they stand in the field.
        (Op::Equals | Op::NotEquals, Value::Str(p)) if pred.flags.words => ("phrase", p.to_sigma()),
        (op, Value::Str(p)) if p.has_wildcards() => match matched_pattern(op, p) {
            Some(full) => match shape(&full) {
                Some((kind, lit)) => (kind, lit.to_string()),
                None => ("wildcard", full.to_sigma()),
            },
            None => (op_kind(op), pattern_text(p)),
        },
        (op, Value::Str(p)) => (op_kind(op), pattern_text(p)),
        // `neq` names a value compared by equality; the negation is the predicate's context.
        (Op::NotEquals, v) => ("equals", v.to_text()),
        (op, v) => (op_kind(op), v.to_text()),
    }
}

/// The whole-value pattern a string operator matches (`contains x` is `*x*`); `None`
/// for operators that do not read wildcards.
fn matched_pattern(op: Op, p: &Pattern) -> Option<Pattern> {
    match op {
        Op::Equals | Op::NotEquals => Some(p.clone()),
        Op::Contains => Some(p.with_leading_any().with_trailing_any()),
        Op::StartsWith => Some(p.with_trailing_any()),
        Op::EndsWith => Some(p.with_leading_any()),
        _ => None,
    }
}

/// The field without an Elasticsearch multi-field suffix (`process.executable.caseless`
/// is `process.executable` indexed another way), lower case.
fn base_field(field: &str) -> String {
    let lower = field.to_ascii_lowercase();
    MULTI_FIELD_SUFFIXES
        .iter()
        .find_map(|s| lower.strip_suffix(s))
        .map_or_else(|| lower.clone(), str::to_string)
}

/// A literal as its plain text (no escapes to read); a pattern in Sigma syntax.
fn pattern_text(p: &Pattern) -> String {
    p.as_literal().map_or_else(|| p.to_sigma(), str::to_string)
}

fn op_kind(op: Op) -> &'static str {
    match op {
        Op::Equals | Op::NotEquals => "equals",
        other => other.kind(),
    }
}

/// `*x` → `ends_with x`, `x*` → `starts_with x`, `*x*` → `contains x`.
fn shape(p: &Pattern) -> Option<(&'static str, &str)> {
    match p.pieces() {
        [Piece::AnyMany, Piece::Lit(s)] => Some(("ends_with", s)),
        [Piece::Lit(s), Piece::AnyMany] => Some(("starts_with", s)),
        [Piece::AnyMany, Piece::Lit(s), Piece::AnyMany] => Some(("contains", s)),
        _ => None,
    }
}

/// The normalised indicator of one value of `pred`, whose field is `mapped_field` in the
/// common namespace (see the module documentation).
pub fn normalize(
    pred: &Predicate,
    mapped_field: Option<&str>,
    value: &Value,
) -> NormalizedIndicator {
    // The shown value is the literal for literal kinds, Sigma syntax for a wildcard.
    let (mut kind, mut text) = display(pred, value);
    let mut field = base_field(mapped_field.unwrap_or_default());
    if kind == "equals"
        && matches!(value, Value::Str(p) if p.as_literal().is_some())
        && let Some((_, path)) = NAME_FIELDS.iter().find(|(name, _)| *name == field)
    {
        field = (*path).to_string();
        kind = "ends_with";
        text = format!("\\{text}");
    }
    if kind != "regex" {
        text = text.to_lowercase();
    }
    if !pred.flags.encodings.is_empty() {
        let names: Vec<&str> = pred
            .flags
            .encodings
            .iter()
            .map(|e| encoding_name(*e))
            .collect();
        text = format!("{}:{text}", names.join("|"));
    }
    NormalizedIndicator {
        field,
        kind: kind.to_string(),
        value: text,
    }
}

fn encoding_name(e: Encoding) -> &'static str {
    match e {
        Encoding::Base64 => "base64",
        Encoding::Base64Offset => "base64offset",
        Encoding::Utf16Le => "utf16le",
        Encoding::Utf16Be => "utf16be",
        Encoding::Utf16 => "utf16",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pred(field: &str, op: Op, v: &str) -> Predicate {
        Predicate::new(
            Some(field.into()),
            op,
            vec![Value::Str(Pattern::parse_sigma(v, false))],
        )
    }

    #[test]
    fn wildcard_shapes_become_operators() {
        let p = pred("ParentImage", Op::Equals, r"*\EdgeTransport.exe");
        assert_eq!(
            display(&p, &p.values[0]),
            ("ends_with", r"\EdgeTransport.exe".into())
        );
        let p = pred("CommandLine", Op::Equals, "*-enc*");
        assert_eq!(display(&p, &p.values[0]).0, "contains");
        // Any other pattern is a wildcard, shown whole with what its operator adds.
        let p = pred("CommandLine", Op::Equals, "a*b");
        assert_eq!(display(&p, &p.values[0]), ("wildcard", "a*b".into()));
        let p = pred("process.args", Op::Equals, "format*:*");
        assert_eq!(display(&p, &p.values[0]), ("wildcard", "format*:*".into()));
        let p = pred("Image", Op::EndsWith, r"\vsimmersiveactivatehelper*.exe");
        assert_eq!(
            display(&p, &p.values[0]),
            ("wildcard", r"*\vsimmersiveactivatehelper*.exe".into())
        );
        let p = pred("CommandLine", Op::Contains, "a?b");
        assert_eq!(display(&p, &p.values[0]), ("wildcard", "*a?b*".into()));
        // A contained pattern that only adds stars is still a substring.
        let p = pred("CommandLine", Op::Contains, "*-enc");
        assert_eq!(display(&p, &p.values[0]), ("contains", "-enc".into()));
        // A literal keeps its operator; an escaped star is no wildcard.
        let p = pred("CommandLine", Op::Contains, r"a\*b");
        assert_eq!(display(&p, &p.values[0]), ("contains", "a*b".into()));
    }

    #[test]
    fn ecs_names_meet_sigma_suffixes() {
        let elastic = pred("process.parent.name", Op::Equals, "WmiPrvSE.exe");
        let sigma = pred("ParentImage", Op::EndsWith, r"\WmiPrvSE.exe");
        let a = normalize(&elastic, Some("process.parent.name"), &elastic.values[0]);
        let b = normalize(&sigma, Some("process.parent.executable"), &sigma.values[0]);
        assert_eq!(a, b);
        assert_eq!(a.value, r"\wmiprvse.exe");
        assert_eq!(a.kind, "ends_with");
    }

    #[test]
    fn regexes_keep_their_case_and_encodings_are_kept_apart() {
        let mut p = Predicate::new(
            Some("CommandLine".into()),
            Op::Regex,
            vec![Value::Regex("A+".into())],
        );
        assert_eq!(normalize(&p, Some("commandline"), &p.values[0]).value, "A+");
        p.op = Op::Contains;
        p.values = vec![Value::str("IEX")];
        p.flags.encodings = vec![Encoding::Base64Offset];
        assert_eq!(
            normalize(&p, Some("x"), &p.values[0]).value,
            "base64offset:iex"
        );
    }

    #[test]
    fn keywords_nulls_and_fieldrefs() {
        let p = Predicate::new(None, Op::Contains, vec![Value::str("mimikatz")]);
        assert_eq!(display(&p, &p.values[0]).0, "keyword");
        let p = Predicate::new(Some("User".into()), Op::Equals, vec![Value::Null]);
        assert_eq!(display(&p, &p.values[0]), ("exists", "false".into()));
        let p = Predicate::new(
            Some("A".into()),
            Op::Equals,
            vec![Value::FieldRef("B".into())],
        );
        assert_eq!(display(&p, &p.values[0]), ("fieldref", "B".into()));
    }
}
