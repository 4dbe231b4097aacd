//! What a target's query language looks like, as data: tokens, quoting and escaping rules,
//! expression templates, and which constructs it has at all (capability flags: a `None`
//! template means "not expressible"; [`crate::render`] then falls back or reports).
//!
//! The field names mirror the reference converter's (pySigma `TextQueryBackend`), so a
//! target module reads like the backend it reproduces.

use sigil_core::Pattern;

use crate::tree::BoolKind;

/// When a field name is quoted.
#[derive(Debug, Clone, Copy)]
pub enum FieldQuote {
    /// Never.
    Never,
    /// Unless every character is a word character or one of `extra`.
    UnlessWordOr(&'static str),
    /// When the name starts with a digit or holds a character other than a letter, digit,
    /// `_`, `.` or `@` (EQL, whose parser would read `c-uri` as a subtraction).
    UnlessIdentifierPath,
    /// Unless every character is an ASCII word character and the name is not one of the
    /// reserved words (SQL).
    UnlessPlainAndNotReserved(&'static [&'static str]),
    /// Unless every character is a word character or one of `extra`, and the name is not one
    /// of the reserved words (case-insensitively; Logpoint's `process`, `search`, ...).
    UnlessWordOrNotReserved(&'static str, &'static [&'static str]),
    /// Unless the name is word characters and dots after an optional leading `@` or `#`
    /// (LogScale's metadata fields and tags: `@timestamp`, `#event_simpleName`).
    UnlessTagOrPath,
    /// Unless the name holds no whitespace or is an expression with a call in it (QRadar's
    /// `"Process Path"` beside `UTF8(payload)` and `QIDNAME(qid)`).
    UnlessNoSpaceOrCall,
}

/// When a string value is quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrQuote {
    /// Always.
    Always,
    /// Only the empty string (it would vanish otherwise).
    EmptyOnly,
}

/// Field-in-list expressions (`field IN (a, b)`).
#[derive(Debug, Clone, Copy)]
pub struct InList {
    /// Template with `{field}`, `{op}` and `{list}`.
    pub template: &'static str,
    /// Operator for an `Or` of values; `None` when ors are not listed.
    pub or_op: Option<&'static str>,
    /// Operator for an `And` of values (`all`); `None` when ands are not listed.
    pub and_op: Option<&'static str>,
    /// Separator between list items.
    pub separator: &'static str,
    /// Whether values with wildcards may be listed.
    pub allow_wildcards: bool,
}

/// How a target writes `not x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotStyle {
    /// `not_token` + separator + operand.
    Prefix,
    /// `not_token(operand)` (KQL).
    Call,
    /// `NOT COALESCE(operand, 0)`: SQL three-valued logic made two-valued, so a filter on
    /// a missing column still lets the selection match (Sigma semantics).
    Coalesce,
    /// `NOT COALESCE(operand, false)`: the same, for engines with a boolean type.
    CoalesceFalse,
}

/// The query language of a target, as data.
#[derive(Debug, Clone)]
pub struct Dialect {
    /// The target name used on the command line.
    pub name: &'static str,
    /// Boolean operators from the tightest-binding to the loosest.
    pub precedence: [BoolKind; 3],
    /// Put parentheses around every nested boolean expression.
    pub parenthesize: bool,
    /// Grouping template with `{expr}`.
    pub group: &'static str,
    /// Separator around boolean tokens.
    pub token_separator: &'static str,
    /// `or`
    pub or_token: &'static str,
    /// `and` (may equal the separator: Splunk's implicit and).
    pub and_token: &'static str,
    /// `not`
    pub not_token: &'static str,
    /// How negation is written.
    pub not_style: NotStyle,
    /// Between field and value.
    pub eq_token: &'static str,
    /// Between field and a number, when it differs from `eq_token`.
    pub num_eq_token: Option<&'static str>,
    /// Field quote character.
    pub field_quote: &'static str,
    /// When fields are quoted.
    pub field_quote_when: FieldQuote,
    /// Field escape prefix and the characters it goes before.
    pub field_escape: Option<(&'static str, &'static str)>,
    /// String quote.
    pub str_quote: &'static str,
    /// When strings are quoted.
    pub str_quote_when: StrQuote,
    /// Escape character inside strings.
    pub escape_char: &'static str,
    /// Multi-character wildcard (`None`: wildcards are not expressible).
    pub wildcard_multi: Option<&'static str>,
    /// Single-character wildcard.
    pub wildcard_single: Option<&'static str>,
    /// Characters escaped in addition to the wildcards and the quote.
    pub add_escaped: &'static str,
    /// Boolean literals (`[false, true]`).
    pub bool_values: Option<[&'static str; 2]>,
    /// Prefix match template (`{field}`, `{value}`).
    pub startswith: Option<&'static str>,
    /// Suffix match template.
    pub endswith: Option<&'static str>,
    /// Substring match template.
    pub contains: Option<&'static str>,
    /// Wildcard match template, when `eq_token` does not interpret wildcards.
    pub wildcard_match: Option<&'static str>,
    /// Regular expression template (`{field}`, `{regex}`).
    pub re_expression: Option<&'static str>,
    /// Regex escape character.
    pub re_escape_char: &'static str,
    /// Strings escaped inside regexes.
    pub re_escape: &'static [&'static str],
    /// Whether the regex escape character itself is escaped.
    pub re_escape_escape_char: bool,
    /// Regex flags written as an inline `(?ims)` prefix.
    pub re_flag_prefix: bool,
    /// Case-sensitive match template (`{field}`, `{value}`).
    pub case_sensitive_match: Option<&'static str>,
    /// Native CIDR template (`{field}`, `{value}`, `{network}`, `{prefixlen}`); `None`
    /// expands networks into prefix wildcards.
    pub cidr_expression: Option<&'static str>,
    /// Numeric comparison template (`{field}`, `{operator}`, `{value}`).
    pub compare_op_expression: Option<&'static str>,
    /// Field-equals-field templates (`{field1}`, `{field2}`): equals, startswith,
    /// endswith, contains.
    pub field_ref: [Option<&'static str>; 4],
    /// `field is null` template.
    pub field_null: Option<&'static str>,
    /// `field exists` template.
    pub field_exists: Option<&'static str>,
    /// `field does not exist` template; `None` negates `field_exists`.
    pub field_not_exists: Option<&'static str>,
    /// Value lists.
    pub in_list: Option<InList>,
    /// Keyword string template (`{value}`).
    pub unbound_str: Option<&'static str>,
    /// Keyword number template.
    pub unbound_num: Option<&'static str>,
    /// Keyword regex template.
    pub unbound_re: Option<&'static str>,
}

impl Dialect {
    /// Rank of an operator in the precedence order (0 binds tightest).
    pub fn rank(&self, kind: BoolKind) -> i32 {
        self.precedence
            .iter()
            .position(|k| *k == kind)
            .map_or(-1, |i| i as i32)
    }

    /// The field name, escaped and quoted as the target needs.
    pub fn field(&self, name: &str) -> String {
        let mut escaped = String::with_capacity(name.len() + 2);
        for c in name.chars() {
            if let Some((esc, chars)) = self.field_escape {
                let hit = chars.contains(c)
                    || (chars.contains(' ') && c.is_whitespace())
                    || (!self.field_quote.is_empty() && self.field_quote.contains(c));
                if hit {
                    escaped.push_str(esc);
                }
            }
            escaped.push(c);
        }
        let quote = match self.field_quote_when {
            FieldQuote::Never => false,
            FieldQuote::UnlessWordOr(extra) => !escaped
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || extra.contains(c)),
            FieldQuote::UnlessPlainAndNotReserved(words) => {
                !escaped
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                    || words.iter().any(|w| w.eq_ignore_ascii_case(&escaped))
            }
            FieldQuote::UnlessWordOrNotReserved(extra, words) => {
                !escaped
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || extra.contains(c))
                    || words.iter().any(|w| w.eq_ignore_ascii_case(&escaped))
            }
            FieldQuote::UnlessTagOrPath => {
                let rest = escaped.strip_prefix(['@', '#']).unwrap_or(&escaped);
                rest.is_empty()
                    || !rest
                        .chars()
                        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.'))
            }
            FieldQuote::UnlessNoSpaceOrCall => {
                escaped.chars().any(char::is_whitespace) && !has_call(&escaped)
            }
            FieldQuote::UnlessIdentifierPath => {
                escaped.starts_with(|c: char| c.is_ascii_digit())
                    || !escaped
                        .chars()
                        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '@'))
            }
        };
        if quote && !self.field_quote.is_empty() {
            format!("{q}{escaped}{q}", q = self.field_quote)
        } else {
            escaped
        }
    }

    /// A string pattern in the target's syntax, without quotes: literal characters that
    /// the target would read as special are escaped, wildcards translated.
    pub fn escape_pattern(
        &self,
        p: &Pattern,
        wildcards: (Option<&str>, Option<&str>),
        add_escaped: &str,
    ) -> Option<String> {
        use sigil_core::Piece;
        let (multi, single) = wildcards;
        let mut out = String::new();
        for piece in p.pieces() {
            match piece {
                Piece::Lit(s) => {
                    for c in s.chars() {
                        let special = multi.is_some_and(|m| m.contains(c))
                            || single.is_some_and(|m| m.contains(c))
                            || add_escaped.contains(c);
                        if special {
                            out.push_str(self.escape_char);
                        }
                        out.push(c);
                    }
                }
                Piece::AnyMany => out.push_str(multi?),
                Piece::AnyOne => out.push_str(single?),
                Piece::Placeholder(_) => return None,
            }
        }
        Some(out)
    }
}

/// Whether `name` holds a parenthesised part without parentheses inside (`f(x)`).
fn has_call(name: &str) -> bool {
    let mut open = None;
    for (i, c) in name.char_indices() {
        match c {
            '(' => open = Some(i),
            ')' if open.is_some() => return true,
            _ => {}
        }
    }
    false
}

/// Fills `{name}` slots of a template in one pass (so values holding braces are safe).
pub fn fill(template: &str, slots: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let key = &after[..end];
        if let Some((_, v)) = slots.iter().find(|(k, _)| *k == key) {
            out.push_str(v);
        } else {
            out.push('{');
            out.push_str(key);
            out.push('}');
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_is_single_pass() {
        assert_eq!(
            fill("{field}={value}", &[("field", "a"), ("value", "{field}")]),
            "a={field}"
        );
        assert_eq!(fill("x{unknown}y", &[]), "x{unknown}y");
    }
}
