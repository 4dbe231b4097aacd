//! IBM QRadar's Ariel Query Language (AQL), as pysigma-backend-qradar-community writes it:
//! `SELECT * FROM events WHERE devicetype=12 AND ...`, every nested boolean expression in
//! parentheses, `NOT(...)`, values in single quotes (`''` inside), wildcard values as
//! `LOWER(field) LIKE '%value%'` (the value in lower case: case-insensitive), exact values
//! as `field='Value'`, lists as `field IN('a', 'b')`, regular expressions as
//! `field MATCHES '...'` and networks as `INCIDR('10.0.0.0/8', field)`.
//!
//! The pipeline (`qradar-aql-fields`, `qradar-aql-payload`) leaves two things in its state:
//! `table` (`flows` for flow log sources, else `events`; keywords search the flow's payloads
//! there) and `device_types`, the log source type ids of the rule's product and service,
//! written as `devicetype=ID` or `devicetype IN(...)`. The reference builds that list as a
//! Python `set` of small integers and prints it in the set's iteration order; sigil prints
//! the same order by inserting the ids into a model of CPython's set table
//! ([`python_set_order`]), so that queries compare equal, and the order is deterministic.
//!
//! Where the reference writes something AQL reads otherwise, sigil writes the rule's meaning
//! (`docs/conversion-differences.md`): a keyword regular expression is quoted; the flows
//! table's keyword search joins its two payloads with ` OR ` and matches both with `LIKE`
//! or both with `MATCHES`.

use sigil_core::{Pattern, Piece};

use crate::dialect::{Dialect, FieldQuote, InList, NotStyle, StrQuote, fill};
use crate::error::ConvertError;
use crate::registry::TargetInfo;
use crate::render::{Out, QueryContext, Render, Res, Target, not_written_as};
use crate::tree::{BoolKind, Node, Str, Value};

/// The QRadar target, for the table it queries: keywords search the event's payload, or a
/// flow's source and destination payloads.
#[derive(Debug, Clone, Copy)]
pub struct QRadar {
    flows: bool,
}

/// Events (the default table).
pub static EVENTS: QRadar = QRadar { flows: false };
/// Flows.
pub static FLOWS: QRadar = QRadar { flows: true };

/// AQL as data.
pub static DIALECT: Dialect = Dialect {
    name: "qradar",
    precedence: [BoolKind::Not, BoolKind::And, BoolKind::Or],
    parenthesize: true,
    group: "({expr})",
    token_separator: " ",
    or_token: "OR",
    and_token: "AND",
    not_token: "NOT",
    not_style: NotStyle::Call,
    eq_token: "=",
    num_eq_token: None,
    field_quote: "\"",
    field_quote_when: FieldQuote::UnlessNoSpaceOrCall,
    field_escape: None,
    str_quote: "'",
    str_quote_when: StrQuote::Always,
    escape_char: "'",
    wildcard_multi: Some("%"),
    wildcard_single: Some("_"),
    add_escaped: "'",
    bool_values: Some(["false", "true"]),
    startswith: None,
    endswith: None,
    contains: None,
    wildcard_match: Some("LOWER({field}) LIKE {value}"),
    re_expression: Some("{field} MATCHES '{regex}'"),
    re_escape_char: "'",
    re_escape: &["'"],
    re_escape_escape_char: true,
    re_flag_prefix: true,
    case_sensitive_match: None,
    cidr_expression: Some("INCIDR('{value}', {field})"),
    compare_op_expression: Some("{field} {operator} {value}"),
    field_ref: [None, None, None, None],
    field_null: Some("{field} IS NULL"),
    // The reference has none (the rule fails); AQL tests presence with `IS NOT NULL`.
    field_exists: Some("{field} IS NOT NULL"),
    field_not_exists: Some("{field} IS NULL"),
    in_list: Some(InList {
        template: "{field} {op}({list})",
        or_op: Some("IN"),
        and_op: None,
        separator: ", ",
        allow_wildcards: false,
    }),
    // Keywords are written whole by `QRadar::keyword_value_str` (the expression depends on
    // the table and on whether the value reads as a number).
    unbound_str: Some("{value}"),
    unbound_num: Some("{value}"),
    unbound_re: None,
};

/// The `qradar` target; `qradar-aql-fields` (the default) maps Sigma's fields to QRadar's
/// properties and fails rules with fields it does not know, `qradar-aql-payload` searches
/// the payload for those.
pub static TARGET: TargetInfo = TargetInfo {
    name: "qradar",
    aliases: &[
        "qradar-aql",
        "qradar-aql-community",
        "ibm-qradar-aql",
        "aql",
    ],
    alias_notes: &[],
    engine: "IBM QRadar (AQL)",
    reference: "pysigma-backend-qradar-community 0.4.0 `qradar-aql-community`",
    default_pipeline: Some("qradar-aql-fields"),
    formats: &[],
    renderer: &EVENTS,
};

/// A value in AQL's syntax without its quotes: `'` doubled, wildcards as `%` and `_`. Like
/// the reference, a literal `%` or `_` is not escaped (AQL's `LIKE` has no escape character
/// by default), so in a `LIKE` pattern it stands for any text or character.
fn value_text(p: &Pattern) -> Res<String> {
    let mut out = String::new();
    for piece in p.pieces() {
        match piece {
            Piece::Lit(s) => out.push_str(&s.replace('\'', "''")),
            Piece::AnyMany => out.push('%'),
            Piece::AnyOne => out.push('_'),
            Piece::Placeholder(n) => {
                return Err(ConvertError::Unsupported {
                    target: DIALECT.name,
                    construct: format!("the unexpanded placeholder `%{n}%`"),
                    span: sigil_core::Span::default(),
                });
            }
        }
    }
    Ok(out)
}

/// Whether a quoted value is digits, `%` and quotes only (the reference compares such a
/// value without `LOWER`).
fn reads_as_number(quoted: &str) -> bool {
    quoted
        .chars()
        .all(|c| c.is_ascii_digit() || c == '%' || c == '\'')
}

impl Target for QRadar {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn not(&self, r: &mut Render<'_>, arg: &Node) -> Res<Out> {
        not_written_as(r, arg, |s| format!("NOT({s})"))
    }

    fn value_str(&self, p: &Pattern) -> Res<String> {
        Ok(format!("'{}'", value_text(p)?))
    }

    fn keyword_value_str(&self, p: &Pattern) -> Res<String> {
        let value = self.value_str(p)?;
        Ok(match (self.flows, reads_as_number(&value)) {
            (false, true) => format!("UTF8(payload) LIKE {value}"),
            (false, false) => format!("LOWER(UTF8(payload)) LIKE {}", value.to_lowercase()),
            (true, true) => {
                format!("UTF8(sourcepayload) LIKE {value} OR UTF8(destinationpayload) LIKE {value}")
            }
            (true, false) => {
                let value = value.to_lowercase();
                format!(
                    "LOWER(UTF8(sourcepayload)) LIKE {value} OR LOWER(UTF8(destinationpayload)) LIKE {value}"
                )
            }
        })
    }

    fn field_str(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        let _ = r;
        let value = self.value_str(&s.pattern)?;
        let field = DIALECT.field(field);
        Ok(Out::Text(if !s.pattern.has_wildcards() {
            format!("{field}={value}")
        } else if reads_as_number(&value) {
            format!("{field} LIKE {value}")
        } else {
            fill(
                "LOWER({field}) LIKE {value}",
                &[("field", &field), ("value", &value.to_lowercase())],
            )
        }))
    }

    fn in_expression(&self, r: &mut Render<'_>, kind: BoolKind, args: &[Node]) -> Res<Out> {
        let mut field = "";
        let mut items = Vec::with_capacity(args.len());
        for arg in args {
            if let Node::Field { field: f, value } = arg {
                field = f;
                items.push(match value {
                    Value::Str(s) => self.value_str(&s.pattern)?,
                    // Numbers are listed as strings, as the reference lists them.
                    Value::Num(n) => format!("'{n}'"),
                    _ => return r.bool_op(kind, args),
                });
            }
        }
        Ok(Out::Text(format!(
            "{} IN({})",
            DIALECT.field(field),
            items.join(", ")
        )))
    }

    fn query(&self, r: &mut Render<'_>, node: &Node, ctx: &QueryContext<'_>) -> Res<String> {
        let table = ctx.state.get("table").map_or("events", String::as_str);
        // Keywords depend on the table: render with the target of that table.
        let flows = table == "flows";
        let out = if flows == self.flows {
            r.convert(node)?
        } else {
            let t: &QRadar = if flows { &FLOWS } else { &EVENTS };
            Render::new(t).convert(node)?
        };
        let query = r.text_of(&out).to_string();
        let mut fields = String::from("*");
        for f in &ctx.rule.fields {
            fields.push_str(", ");
            fields.push_str(&DIALECT.field(f));
        }
        let device_types = device_types(ctx)?;
        let filter = match device_types.as_slice() {
            [] => return Ok(format!("SELECT {fields} FROM {table} WHERE {query}")),
            [one] => format!("devicetype={one}"),
            many => {
                let list: Vec<String> = many.iter().map(u64::to_string).collect();
                format!("devicetype IN({})", list.join(", "))
            }
        };
        let query = if needs_group(&query) {
            format!("({query})")
        } else {
            query
        };
        Ok(format!(
            "SELECT {fields} FROM {table} WHERE {filter} AND {query}"
        ))
    }
}

/// The log source type ids the pipeline collected (state `device_types`, a comma-separated
/// list), each once, in the order the reference prints them.
fn device_types(ctx: &QueryContext<'_>) -> Res<Vec<u64>> {
    let Some(list) = ctx.state.get("device_types") else {
        return Ok(Vec::new());
    };
    let mut ids = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        ids.push(item.parse::<u64>().map_err(|_| ConvertError::Unsupported {
            target: DIALECT.name,
            construct: format!("the log source type `{item}` (not a QRadar device type id)"),
            span: sigil_core::Span::default(),
        })?);
    }
    Ok(python_set_order(&ids))
}

/// Whether the query must be grouped before `AND` joins it to the device type test: when
/// ` OR ` occurs outside parentheses and quoted values, and also when the reference's test
/// says so. That test removes balanced parentheses from the text without regard to quotes
/// (a value holding `(` or `)` confuses it) and groups more often than needed; the extra
/// parentheses change nothing, and writing them keeps the queries equal.
fn needs_group(query: &str) -> bool {
    or_outside_parentheses(query) || or_outside_balanced_parentheses(query)
}

/// Whether ` OR ` occurs outside parentheses and quoted values.
fn or_outside_parentheses(query: &str) -> bool {
    let bytes = query.as_bytes();
    let mut depth = 0usize;
    let mut quoted = false;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth = depth.saturating_sub(1),
            b' ' if !quoted && depth == 0 && bytes[i..].starts_with(b" OR ") => return true,
            _ => {}
        }
    }
    false
}

/// The reference's test: ` OR ` in the text left between balanced parenthesised parts
/// (each `(` whose parentheses balance before the end of the text starts one), quotes
/// ignored.
fn or_outside_balanced_parentheses(query: &str) -> bool {
    let bytes = query.as_bytes();
    let mut piece_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'(' {
            let mut depth = 0usize;
            let mut end = None;
            for (j, b) in bytes.iter().enumerate().skip(i) {
                match b {
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(j);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            if let Some(end) = end {
                if bytes[piece_start..i].windows(4).any(|w| w == b" OR ") {
                    return true;
                }
                piece_start = end + 1;
                i = end + 1;
                continue;
            }
        }
        i += 1;
    }
    bytes[piece_start..].windows(4).any(|w| w == b" OR ")
}

/// The distinct `values` in the iteration order of a CPython `set` built by adding them one
/// by one (`set(iterable)`): a small non-negative integer hashes to itself, its slot is the
/// hash masked by the table size, a taken slot moves the search on by CPython's linear
/// probes then its perturbed recurrence, and the table (8 slots at first) grows to the
/// smallest power of two above four times the entries once it is three fifths full.
/// (`Objects/setobject.c`: `set_add_entry`, `set_table_resize`, `set_insert_clean`.)
pub fn python_set_order(values: &[u64]) -> Vec<u64> {
    const LINEAR_PROBES: usize = 9;
    const PERTURB_SHIFT: u32 = 5;
    /// The slot for `v`: where it is, or the free slot it goes in.
    fn find(table: &[Option<u64>], v: u64) -> usize {
        let mask = table.len() - 1;
        let mut perturb = v;
        // Truncation is CPython's: the hash is masked by the table size.
        let mut i = (v as usize) & mask;
        loop {
            let probes = if i + LINEAR_PROBES <= mask {
                LINEAR_PROBES
            } else {
                0
            };
            for (j, slot) in table.iter().enumerate().skip(i).take(probes + 1) {
                match slot {
                    None => return j,
                    Some(x) if *x == v => return j,
                    Some(_) => {}
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    }
    let mut table: Vec<Option<u64>> = vec![None; 8];
    let mut used = 0usize;
    for &v in values {
        let slot = find(&table, v);
        if table[slot].is_some() {
            continue;
        }
        table[slot] = Some(v);
        used += 1;
        let mask = table.len() - 1;
        if used * 5 >= mask * 3 {
            let mut size = 8;
            while size <= used * 4 {
                size <<= 1;
            }
            let old = std::mem::replace(&mut table, vec![None; size]);
            for x in old.into_iter().flatten() {
                let slot = find(&table, x);
                table[slot] = Some(x);
            }
        }
    }
    table.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_order_is_cpythons() {
        // Orders printed by CPython 3.11 for `list(set(xs))`.
        assert_eq!(
            python_set_order(&[347, 440, 456, 460, 501, 502, 507, 516, 519]),
            [516, 519, 456, 460, 501, 502, 507, 440, 347]
        );
        assert_eq!(
            python_set_order(&[347, 440, 456, 460, 501, 502, 507, 516, 519, 436]),
            [516, 519, 456, 460, 436, 501, 502, 507, 440, 347]
        );
        assert_eq!(python_set_order(&[12, 433]), [433, 12]);
        assert_eq!(python_set_order(&[11, 12, 11]), [11, 12]);
        assert_eq!(python_set_order(&[397, 443]), [443, 397]);
    }

    #[test]
    fn field_names_are_quoted_unless_plain_or_calls() {
        assert_eq!(DIALECT.field("Process Path"), "\"Process Path\"");
        assert_eq!(DIALECT.field("Command"), "Command");
        assert_eq!(DIALECT.field("UTF8(payload)"), "UTF8(payload)");
        assert_eq!(
            DIALECT.field("CONCAT('file directory', '/', filename)"),
            "CONCAT('file directory', '/', filename)"
        );
    }

    #[test]
    fn or_is_found_outside_groups_and_quotes_only() {
        assert!(or_outside_parentheses("a=1 OR b=2"));
        assert!(!or_outside_parentheses("(a=1 OR b=2) AND c=3"));
        assert!(!or_outside_parentheses("a='x OR y'"));
        assert!(!or_outside_parentheses("a='it''s (' AND (b=1 OR c=2)"));
        // The reference's test pairs a `(` inside a value with the `)` of a call.
        let confusing = "(a=1 AND b=2) AND (c=1 OR LOWER(d) LIKE '%x(%')";
        assert!(!or_outside_parentheses(confusing));
        assert!(or_outside_balanced_parentheses(confusing));
        assert!(!or_outside_balanced_parentheses(
            "a LIKE '%(%' AND (b=1 OR c=2)"
        ));
        assert!(!or_outside_balanced_parentheses(
            "(a=1 OR b=2) AND LOWER(c) LIKE 'x'"
        ));
        assert!(needs_group("a LIKE '%(%' OR b LIKE '%)%'"));
    }
}
