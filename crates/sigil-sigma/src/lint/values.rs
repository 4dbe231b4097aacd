//! Checks of the values a rule searches for: escaped wildcards, numbers written as
//! strings, doubled wildcards, control characters, duplicates in a list.

use sigil_core::{Diagnostic, Expr, Op, Pattern, Piece, Predicate, Rule, Value};

use super::{Edit, Fix, Lint, LintInfo, Safety, declare_lint};
use crate::RuleSource;

/// Calls `f` on every predicate of every search of the rule.
fn predicates<'a>(rule: &'a Rule, f: &mut impl FnMut(&'a Predicate)) {
    if let Some(d) = rule.detection() {
        for s in &d.searches {
            Expr::for_each_predicate(&s.expr, f);
        }
    }
}

/// Calls `f` on every string value of the rule with its predicate.
fn strings<'a>(rule: &'a Rule, f: &mut impl FnMut(&'a Predicate, &'a Pattern)) {
    predicates(rule, &mut |p| {
        for v in &p.values {
            if let Value::Str(s) = v {
                f(p, s);
            }
        }
    });
}

declare_lint! {
    /// A value with an escaped wildcard (`\*`, `\?`): a literal `*` or `?`.
    ///
    /// Why: in Windows paths a backslash before `*` or `?` is usually a path separator
    /// followed by a wildcard (`C:\Users\*\AppData`), which Sigma reads as a literal
    /// star; write `\\*` for a backslash and a wildcard. Make sure the escape is meant.
    ///
    /// Example: `Image|endswith: '\*.exe'` (a file named `*.exe`).
    EscapedWildcard, "escaped-wildcard", Warning, reader: false, pysigma: "escaped_wildcard", optional: true
}

impl Lint for EscapedWildcard {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        strings(rule, &mut |p, s| {
            if s.literals().any(|l| l.contains(['*', '?'])) {
                out.push(Self::at(
                    p.span,
                    format!(
                        "`{}` holds an escaped wildcard (a literal `*` or `?`)",
                        s.to_sigma()
                    ),
                ));
            }
        });
    }
}

declare_lint! {
    /// A number written as a string (`EventID: '4688'`).
    ///
    /// Why: backends compare strings and numbers differently; in a field that holds
    /// numbers a quoted number may never match. Write it without quotes.
    ///
    /// Example: `EventID: '4688'` — `EventID: 4688`.
    NumberAsString, "number-as-string", Warning, reader: false, pysigma: "number_as_string"
}

/// Whether `s` reads as an integer: an optional sign, then digits with single `_`
/// between them.
fn is_integer_text(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    !s.is_empty()
        && !s.starts_with('_')
        && !s.ends_with('_')
        && !s.contains("__")
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'_')
}

impl Lint for NumberAsString {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        strings(rule, &mut |p, s| {
            if p.op == Op::Equals
                && let [Piece::Lit(text)] = s.pieces()
                && is_integer_text(text)
            {
                out.push(Self::at(
                    p.span,
                    format!("`'{text}'` is a number written as a string"),
                ));
            }
        });
    }
}

declare_lint! {
    /// Two `*` wildcards in a row.
    ///
    /// Why: `**` means the same as `*`; it is usually a slip of the keyboard or of an
    /// edit that joined two values.
    ///
    /// Example: `CommandLine: '**foo*'`.
    DoubleWildcard, "double-wildcard", Warning, reader: false, pysigma: "double_wildcard"
}

impl Lint for DoubleWildcard {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        strings(rule, &mut |p, s| {
            // `contains`, `startswith` and `endswith` add a `*` only where there is none.
            let pieces = s.pieces();
            if pieces
                .windows(2)
                .any(|w| matches!(w, [Piece::AnyMany, Piece::AnyMany]))
            {
                out.push(Self::at(
                    p.span,
                    format!("`{}` has two `*` in a row", s.to_sigma()),
                ));
            }
        });
    }
}

declare_lint! {
    /// A control character (tab, newline...) in a value.
    ///
    /// Why: almost always a YAML escape in a double-quoted string (`"C:\temp"` holds a
    /// tab); write single quotes or double the backslash.
    ///
    /// Example: `Image: "C:\Windows\temp\x.exe"` (`\t` is a tab).
    ControlCharacter, "control-character", Warning, reader: false, pysigma: "control_character"
}

impl Lint for ControlCharacter {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        strings(rule, &mut |p, s| {
            if s.literals().any(|l| l.chars().any(|c| (c as u32) < 32)) {
                out.push(Self::at(
                    p.span,
                    format!("{:?} holds a control character", s.to_sigma()),
                ));
            }
        });
    }
}

declare_lint! {
    /// The same value twice in one field's list.
    ///
    /// Why: a copy-and-paste leftover; the second says nothing more. Values are compared
    /// without case unless a modifier makes case matter (`cased`, `re`, `base64`).
    ///
    /// Example: `Image|endswith: ['\cmd.exe', '\CMD.exe']`.
    DuplicateValue, "duplicate-value", Warning, reader: false,
    pysigma: "sigmahq_field_duplicate_value"
}

impl Lint for DuplicateValue {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        predicates(rule, &mut |p| {
            if p.field.is_none() {
                return;
            }
            let exact = p.flags.cased || !p.flags.encodings.is_empty() || p.op == Op::Regex;
            let mut seen: Vec<String> = Vec::new();
            for v in &p.values {
                let text = v.to_text();
                let key = if exact {
                    text.clone()
                } else {
                    text.to_lowercase()
                };
                if seen.contains(&key) {
                    out.push(Self::at(p.span, format!("`{text}` is listed twice")));
                } else {
                    seen.push(key);
                }
            }
        });
    }

    /// Removes the items of the field's list that repeat an earlier item exactly (as
    /// written), when each is a line of its own.
    fn fix(&self, text: &str, finding: &Diagnostic) -> Option<Fix> {
        let start = finding.span.offset as usize;
        let key_line_end = start + text.get(start..)?.find('\n')?;
        let key_line = &text[text[..start].rfind('\n').map_or(0, |i| i + 1)..key_line_end];
        let indent = key_line.len() - key_line.trim_start().len();
        if !key_line.trim_end().ends_with(':') {
            return None;
        }
        let mut seen: Vec<&str> = Vec::new();
        let mut edits = Vec::new();
        let mut at = key_line_end + 1;
        while at < text.len() {
            let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
            let line = &text[at..end];
            let content = line.trim_start();
            let item_indent = line.len() - content.len();
            let Some(item) = content.strip_prefix("- ") else {
                break;
            };
            if item_indent < indent {
                break;
            }
            let item = item.trim_end();
            // Only items that are exactly a scalar: no comment, no nested structure.
            if item.contains(" #") || item.is_empty() {
                return None;
            }
            if seen.contains(&item) {
                edits.push(Edit {
                    range: at..end,
                    text: String::new(),
                });
            } else {
                seen.push(item);
            }
            at = end;
        }
        (!edits.is_empty()).then(|| Fix {
            title: "Remove the repeated values".into(),
            safety: Safety::Safe,
            edits,
        })
    }
}

declare_lint! {
    /// The same reference twice.
    ///
    /// Why: a copy-and-paste leftover.
    ///
    /// Example: one URL listed twice under `references`.
    DuplicateReference, "duplicate-reference", Warning, reader: false,
    pysigma: "duplicate_references"
}

impl Lint for DuplicateReference {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        for (i, r) in rule.references.iter().enumerate() {
            if rule.references[..i].contains(r) && !rule.references[i + 1..].contains(r) {
                out.push(Self::at(
                    source.span_of("references"),
                    format!("`{r}` is listed more than once"),
                ));
            }
        }
    }
}

declare_lint! {
    /// A value that wildcards where a modifier says it better (`'*foo*'` for
    /// `|contains: foo`).
    ///
    /// Why: `contains`, `startswith` and `endswith` say what is meant and let backends
    /// use their fastest operator; a value that only has `*` at its ends is better
    /// written with them. A lone `*` (any value) is left alone.
    ///
    /// Example: `CommandLine: '*mimikatz*'` — `CommandLine|contains: mimikatz`.
    WildcardsInsteadOfModifier, "wildcards-instead-of-modifier", Warning, reader: false,
    pysigma: "wildcards_instead_of_modifiers", optional: true
}

/// Whether `p` is a plain string of more than one piece character... with `*` at the
/// ends `lead`/`trail` and no other wildcard.
fn only_end_wildcards(s: &Pattern, lead: bool, trail: bool) -> bool {
    let pieces = s.pieces();
    let n = pieces.len();
    let len: usize = pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(l) => l.chars().count(),
            _ => 1,
        })
        .sum();
    if len < 2 {
        return false;
    }
    let starts = matches!(pieces.first(), Some(Piece::AnyMany));
    let ends = matches!(pieces.last(), Some(Piece::AnyMany));
    if (lead && !starts) || (trail && !ends) {
        return false;
    }
    let lo = usize::from(lead);
    let hi = n - usize::from(trail);
    lo <= hi && pieces[lo..hi].iter().all(|p| matches!(p, Piece::Lit(_)))
}

impl Lint for WildcardsInsteadOfModifier {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        predicates(rule, &mut |p| {
            if p.op != Op::Equals || p.values.is_empty() || p.flags.expand {
                return;
            }
            let all = |lead, trail| {
                p.values.iter().all(|v| match v {
                    Value::Str(s) => only_end_wildcards(s, lead, trail),
                    _ => false,
                })
            };
            let which = if all(true, true) {
                "contains"
            } else if all(true, false) {
                "endswith"
            } else if all(false, true) {
                "startswith"
            } else {
                return;
            };
            out.push(Self::at(
                p.span,
                format!("the values only wildcard their ends: use `|{which}`"),
            ));
        });
    }
}

declare_lint! {
    /// A `*` at an end of a value that its modifier already wildcards (`contains: '*foo*'`,
    /// `startswith: 'foo*'`, `endswith: '*foo'`).
    ///
    /// Why: `contains` matches anywhere, `startswith` anything after, `endswith` anything
    /// before: the `*` says it twice. It is harmless, but it hides what the modifier
    /// means and reads as if something else were meant. `sigil check --fix` removes it.
    ///
    /// Example: `CommandLine|contains: '*-enc*'` — `CommandLine|contains: '-enc'`.
    RedundantWildcard, "redundant-wildcard", Warning, reader: false
}

/// Whether the modifier of `op` already wildcards the start and the end of a value.
fn wildcarded_ends(op: Op) -> Option<(bool, bool)> {
    match op {
        Op::Contains => Some((true, true)),
        Op::StartsWith => Some((false, true)),
        Op::EndsWith => Some((true, false)),
        _ => None,
    }
}

/// Whether a value of a predicate of `op` has a `*` its modifier already adds (a value
/// that is only wildcards is left alone: it is "any value").
fn redundant_star(op: Op, s: &Pattern) -> bool {
    let Some((lead, trail)) = wildcarded_ends(op) else {
        return false;
    };
    let pieces = s.pieces();
    if !pieces.iter().any(|p| matches!(p, Piece::Lit(_))) {
        return false;
    }
    (lead && matches!(pieces.first(), Some(Piece::AnyMany)))
        || (trail && matches!(pieces.last(), Some(Piece::AnyMany)))
}

impl Lint for RedundantWildcard {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        predicates(rule, &mut |p| {
            if p.flags.expand || p.flags.windash {
                return;
            }
            if let Some(Value::Str(s)) = p
                .values
                .iter()
                .find(|v| matches!(v, Value::Str(s) if redundant_star(p.op, s)))
            {
                out.push(Self::at(
                    p.span,
                    format!(
                        "`{}`: `{}` already wildcards this end",
                        s.to_sigma(),
                        match p.op {
                            Op::StartsWith => "startswith",
                            Op::EndsWith => "endswith",
                            _ => "contains",
                        }
                    ),
                ));
            }
        });
    }

    /// Removes the redundant `*` of each value of the field, written on the field's line
    /// (`F|contains: '*x*'`) or as block list items below it.
    fn fix(&self, text: &str, finding: &Diagnostic) -> Option<Fix> {
        let start = finding.span.offset as usize;
        let key = super::fix::scalar_at(text, start)?;
        let modifiers: Vec<&str> = text[key.clone()]
            .trim_matches(['\'', '"'])
            .split('|')
            .skip(1)
            .collect();
        let (lead, trail) = match () {
            () if modifiers.contains(&"contains") => (true, true),
            () if modifiers.contains(&"startswith") && modifiers.contains(&"endswith") => {
                (true, true)
            }
            () if modifiers.contains(&"startswith") => (false, true),
            () if modifiers.contains(&"endswith") => (true, false),
            () => return None,
        };
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let after_key = text[key.end..line_end].strip_prefix(':')?;
        let mut values = Vec::new();
        let inline = after_key.trim_start();
        if !inline.is_empty() && !inline.starts_with('#') {
            values.push(key.end + 1 + (after_key.len() - inline.len()));
        } else {
            let key_line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let indent = start - key_line_start;
            let mut at = line_end + 1;
            while at < text.len() {
                let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
                let line = &text[at..end];
                let content = line.trim_start();
                let Some(item) = content.strip_prefix("- ") else {
                    break;
                };
                if line.len() - content.len() < indent {
                    break;
                }
                values.push(
                    at + (line.len() - content.len()) + 2 + (item.len() - item.trim_start().len()),
                );
                at = end + 1;
            }
        }
        let mut edits = Vec::new();
        for offset in values {
            let range = super::fix::scalar_at(text, offset)?;
            let written = &text[range.clone()];
            let (quote, inner) = match written.chars().next()? {
                '\'' => ('\'', written.get(1..written.len().checked_sub(1)?)?),
                // Backslashes are YAML escapes in double quotes: left alone.
                '"' if !written.contains('\\') => {
                    ('"', written.get(1..written.len().checked_sub(1)?)?)
                }
                '"' | '[' | '{' | '&' | '*' | '!' | '|' | '>' => return None,
                _ => (' ', written),
            };
            let mut new = inner;
            if lead {
                new = new.trim_start_matches('*');
            }
            if trail {
                // A `*` after a backslash is written literally (`\*`); an even run of
                // backslashes before it is escaped backslashes, which the proof of
                // `--fix` checks like the rest.
                while new.ends_with('*') && !new[..new.len() - 1].ends_with('\\') {
                    new = &new[..new.len() - 1];
                }
            }
            if new == inner || new.is_empty() || new.chars().all(|c| c == '*') {
                continue;
            }
            let replacement = if quote == ' ' {
                new.to_string()
            } else {
                format!("{quote}{new}{quote}")
            };
            edits.push(super::Edit {
                range,
                text: replacement,
            });
        }
        (!edits.is_empty()).then(|| Fix {
            title: "Remove the `*` the modifier already implies".into(),
            safety: Safety::Safe,
            edits,
        })
    }
}
