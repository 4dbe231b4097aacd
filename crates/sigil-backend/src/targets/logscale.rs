//! CrowdStrike Falcon LogScale (CQL), as pysigma-backend-crowdstrike's `LogScaleBackend`
//! writes it: every string comparison is a case-insensitive regular expression
//! (`CommandLine=/\/r /i`, anchored with `^` and `$` as the pattern's wildcards say), `and` is
//! a space and binds looser than `or`, and a network test is a `| cidr(...)` stage after the
//! filter.
//!
//! Where the reference writes something LogScale reads otherwise, sigil writes the rule's
//! meaning (`docs/conversion-differences.md`): a keyword is a regex over the raw event, not the
//! keyword in quotes; a `/` inside a regex is escaped; a `cidr` subnet is a quoted string; a
//! case-sensitive wildcard match is a regex without the `i` flag.

use sigil_core::{Pattern, Piece, RegexFlags};

use crate::dialect::{Dialect, FieldQuote, NotStyle, StrQuote};
use crate::error::ConvertError;
use crate::registry::TargetInfo;
use crate::render::{Deferred, Out, QueryContext, Render, Res, Target, escape_regex};
use crate::tree::{BoolKind, Str};

/// The LogScale target.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogScale;

/// LogScale's query language as data.
pub static DIALECT: Dialect = Dialect {
    name: "logscale",
    precedence: [BoolKind::Not, BoolKind::Or, BoolKind::And],
    parenthesize: false,
    group: "({expr})",
    token_separator: " ",
    or_token: "or",
    and_token: " ",
    not_token: "not",
    not_style: NotStyle::Prefix,
    eq_token: "=",
    num_eq_token: None,
    field_quote: "\"",
    field_quote_when: FieldQuote::UnlessTagOrPath,
    field_escape: Some(("\\", "")),
    str_quote: "\"",
    str_quote_when: StrQuote::Always,
    escape_char: "\\",
    // Strings are written as regular expressions (see `regex_text`); these are for the
    // case-sensitive plain comparison `field="value"`, where `*` is LogScale's wildcard.
    wildcard_multi: Some("*"),
    wildcard_single: None,
    add_escaped: "\\",
    bool_values: Some(["false", "true"]),
    startswith: None,
    endswith: None,
    contains: None,
    wildcard_match: None,
    re_expression: Some("{field}=/{regex}/"),
    re_escape_char: "\\",
    // The reference escapes quotes only; a slash would end the regex literal.
    re_escape: &["\"", "/"],
    re_escape_escape_char: false,
    re_flag_prefix: false,
    case_sensitive_match: Some("{field}={value}"),
    cidr_expression: None,
    compare_op_expression: Some("{field}{operator}{value}"),
    field_ref: [None, None, None, None],
    field_null: Some("{field}!=*"),
    // The reference has none (the rule fails); LogScale tests presence with `field=*`.
    field_exists: Some("{field}=*"),
    field_not_exists: Some("{field}!=*"),
    in_list: None,
    unbound_str: Some("/{value}/i"),
    unbound_num: Some("/{value}/i"),
    unbound_re: Some("/{value}/"),
};

/// The `logscale` target; `crowdstrike_falcon` (Falcon events, the default) or
/// `crowdstrike_fdr` (Falcon Data Replicator events) map Sigma's fields.
pub static TARGET: TargetInfo = TargetInfo {
    name: "logscale",
    aliases: &["log_scale", "crowdstrike", "falcon-logscale"],
    alias_notes: &[],
    engine: "CrowdStrike Falcon LogScale (CQL)",
    reference: "pysigma-backend-crowdstrike 3.0.0 `log_scale`",
    default_pipeline: Some("crowdstrike_falcon"),
    formats: &[],
    renderer: &LogScale,
};

/// Characters escaped in a regex built from a Sigma string (besides the backslash).
const REGEX_SPECIAL: &str = "*$^.|?()[]+/{}";

/// A Sigma string as the body of a LogScale regex: special characters escaped, wildcards as
/// `.*` and `.`.
fn regex_text(p: &Pattern) -> Res<String> {
    let mut out = String::with_capacity(p.pieces().len() * 8);
    for piece in p.pieces() {
        match piece {
            Piece::Lit(s) => {
                for c in s.chars() {
                    if c == '\\' || REGEX_SPECIAL.contains(c) {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
            Piece::AnyMany => out.push_str(".*"),
            Piece::AnyOne => out.push('.'),
            Piece::Placeholder(_) => return Err(unsupported("an unexpanded placeholder")),
        }
    }
    Ok(out)
}

/// `field=/.../flags`, anchored as the pattern's leading and trailing wildcards say: a
/// pattern with both is a substring test, then one with a leading wildcard a suffix test,
/// then one with a trailing wildcard a prefix test (the reference's order), else a whole match.
fn field_regex_match(field: &str, p: &Pattern, flags: &str) -> Res<String> {
    let pieces = p.pieces();
    let starts = matches!(pieces.first(), Some(Piece::AnyMany));
    let ends = matches!(pieces.last(), Some(Piece::AnyMany));
    let n = pieces.len();
    let inner =
        |from: usize, to: usize| Pattern::from_pieces(pieces[from.min(to)..to].iter().cloned());
    let (pre, body, post) = if starts && ends {
        ("", inner(1, n.saturating_sub(1)), "")
    } else if starts {
        ("", inner(1, n), "$")
    } else if ends {
        ("^", inner(0, n - 1), "")
    } else {
        ("^", p.clone(), "$")
    };
    Ok(format!(
        "{}=/{pre}{}{post}/{flags}",
        DIALECT.field(field),
        regex_text(&body)?
    ))
}

impl Target for LogScale {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn keyword_value_str(&self, p: &Pattern) -> Res<String> {
        regex_text(p)
    }

    fn field_str(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        let _ = r;
        Ok(Out::Text(field_regex_match(field, &s.pattern, "i")?))
    }

    fn field_str_cased(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        let _ = r;
        if let Some(text) = s.pattern.as_literal() {
            let mut quoted = String::with_capacity(text.len() + 2);
            quoted.push('"');
            for c in text.chars() {
                if matches!(c, '\\' | '"' | '*') {
                    quoted.push('\\');
                }
                quoted.push(c);
            }
            quoted.push('"');
            return Ok(Out::Text(format!("{}={quoted}", DIALECT.field(field))));
        }
        Ok(Out::Text(field_regex_match(field, &s.pattern, "")?))
    }

    fn field_regex(
        &self,
        r: &mut Render<'_>,
        field: &str,
        source: &str,
        flags: RegexFlags,
    ) -> Res<Out> {
        let _ = r;
        let mut suffix = String::new();
        for (on, c) in [
            (flags.ignore_case, 'i'),
            (flags.multi_line, 'm'),
            (flags.dot_all, 's'),
        ] {
            if on {
                suffix.push(c);
            }
        }
        let re = escape_regex(&DIALECT, source, RegexFlags::default());
        Ok(Out::Text(format!(
            "{}=/{re}/{suffix}",
            DIALECT.field(field)
        )))
    }

    fn field_cidr(&self, r: &mut Render<'_>, field: &str, net: &ipnet::IpNet) -> Res<Out> {
        if r.chain.contains(&BoolKind::Or) {
            return Err(r.unsupported("a network (`cidr`) test under `or`"));
        }
        let field = DIALECT.field(field);
        r.deferred.push(Deferred {
            positive: format!("cidr({field}, subnet=\"{net}\")"),
            negative: format!("!cidr({field}, subnet=\"{net}\")"),
            negated: false,
        });
        Ok(Out::Deferred(r.deferred.len() - 1))
    }

    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        let _ = ctx;
        let mut text = r.text_of(&query).to_string();
        for d in &r.deferred {
            text.push_str(" | ");
            text.push_str(d.text());
        }
        Ok(text)
    }
}

fn unsupported(construct: &str) -> ConvertError {
    ConvertError::Unsupported {
        target: DIALECT.name,
        construct: construct.into(),
        span: sigil_core::Span::default(),
    }
}
