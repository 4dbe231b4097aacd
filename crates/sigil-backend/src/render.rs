//! The one rendering core: prints a query tree in a [`Dialect`].
//!
//! The decisions follow the reference converter (pySigma's `TextQueryBackend`) so that
//! output agrees with it: when a group needs parentheses, when an `Or` over one field
//! becomes a list, which string operator a wildcard pattern turns into. A target is a
//! [`Target`]: a dialect plus the few hooks it overrides; every hook has a default here.

use std::collections::BTreeMap;

use sigil_core::{Pattern, Piece, RegexFlags, Rule};

use crate::dialect::{Dialect, NotStyle, StrQuote, fill};
use crate::error::ConvertError;
use crate::tree::{BoolKind, CmpOp, Node, Str, Value};

/// The result of rendering a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    /// Query text.
    Text(String),
    /// A part moved behind the main query (index into [`Render::deferred`]).
    Deferred(usize),
    /// Nothing (e.g. an empty group).
    Empty,
}

/// A query part printed after the main expression (Splunk's `| regex`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deferred {
    /// The text when the part holds.
    pub positive: String,
    /// The text when the part is negated.
    pub negative: String,
    /// Whether it is negated.
    pub negated: bool,
}

impl Deferred {
    /// The text to print.
    pub fn text(&self) -> &str {
        if self.negated {
            &self.negative
        } else {
            &self.positive
        }
    }
}

/// What a target sees of the rule while it finishes a query.
#[derive(Debug, Clone, Copy)]
pub struct QueryContext<'a> {
    /// The rule.
    pub rule: &'a Rule,
    /// Pipeline state (e.g. `query_table` for KQL).
    pub state: &'a BTreeMap<String, String>,
}

/// Shorthand for render results.
pub type Res<T> = Result<T, ConvertError>;

/// A target: a dialect and its overrides of the rendering hooks.
pub trait Target: Sync + std::fmt::Debug {
    /// The dialect.
    fn dialect(&self) -> &Dialect;

    /// Whether `inner` can stand inside an `outer` operator without parentheses.
    fn needs_no_group(&self, outer: BoolKind, inner: &Node) -> bool {
        default_needs_no_group(self.dialect(), outer, inner)
    }

    /// `not arg`.
    fn not(&self, r: &mut Render<'_>, arg: &Node) -> Res<Out> {
        default_not(r, arg)
    }

    /// A string value in the target's syntax (escaped, wildcards translated, quoted).
    fn value_str(&self, p: &Pattern) -> Res<String> {
        default_value_str(self.dialect(), p)
    }

    /// A keyword value in the target's syntax (defaults to [`Target::value_str`]).
    fn keyword_value_str(&self, p: &Pattern) -> Res<String> {
        self.value_str(p)
    }

    /// `field` compared with a (case-insensitive) string.
    fn field_str(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        default_field_str(r, field, &s.pattern)
    }

    /// `field` compared with a case-sensitive string.
    fn field_str_cased(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        default_field_str_cased(r, field, &s.pattern)
    }

    /// `field` compared with a number.
    fn field_num(&self, r: &mut Render<'_>, field: &str, num: &str) -> Res<Out> {
        let d = r.dialect();
        Ok(Out::Text(format!(
            "{}{}{num}",
            d.field(field),
            d.num_eq_token.unwrap_or(d.eq_token)
        )))
    }

    /// `field` compared with a boolean.
    fn field_bool(&self, r: &mut Render<'_>, field: &str, b: bool) -> Res<Out> {
        let d = r.dialect();
        let values = d
            .bool_values
            .ok_or_else(|| r.unsupported("boolean values"))?;
        Ok(Out::Text(format!(
            "{}{}{}",
            d.field(field),
            d.eq_token,
            values[usize::from(b)]
        )))
    }

    /// `field` matched with a regular expression.
    fn field_regex(
        &self,
        r: &mut Render<'_>,
        field: &str,
        source: &str,
        flags: RegexFlags,
    ) -> Res<Out> {
        default_field_regex(r, field, source, flags)
    }

    /// `field`, analysed full text, holding a phrase of words. By default the phrase as a
    /// regular expression ([`sigil_core::words::phrase_regex`]); a target whose engine
    /// analyses text itself (Lucene) writes a phrase query.
    fn field_phrase(&self, r: &mut Render<'_>, field: &str, phrase: &Pattern) -> Res<Out> {
        let source = sigil_core::words::phrase_regex(phrase);
        self.field_regex(r, field, &source, RegexFlags::default())
    }

    /// `field` inside a network.
    fn field_cidr(&self, r: &mut Render<'_>, field: &str, net: &ipnet::IpNet) -> Res<Out> {
        default_field_cidr(r, field, net)
    }

    /// `field` compared with a number by `<`, `<=`, `>`, `>=`.
    fn field_compare(&self, r: &mut Render<'_>, field: &str, op: CmpOp, num: &str) -> Res<Out> {
        default_field_compare(r, field, op, num)
    }

    /// Alternatives of one value (`windash`, `base64offset`).
    fn expansion(&self, r: &mut Render<'_>, field: &str, values: &[Value]) -> Res<Out> {
        let or = expansion_or(field, values);
        r.bool_op(BoolKind::Or, &or)
    }

    /// `field IN (...)` for an `Or` (or `And`) of plain values of one field.
    fn in_expression(&self, r: &mut Render<'_>, kind: BoolKind, args: &[Node]) -> Res<Out> {
        default_in_expression(r, kind, args)
    }

    /// Joins the rendered operands of one `and` / `or`. A target whose parser limits how
    /// deeply expressions nest overrides it (SQLite regroups long chains).
    fn join_operands(&self, parts: Vec<String>, joiner: &str) -> String {
        parts.join(joiner)
    }

    /// Wraps the rendered condition into a whole query (and appends deferred parts).
    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        let _ = ctx;
        Ok(r.text_of(&query).to_string())
    }

    /// The parts a query too long for the engine is split into, each printed as a query of
    /// its own (together they match what the query would); `None` keeps the query whole.
    fn split(&self, node: &Node, query: &str) -> Option<Vec<Node>> {
        let _ = (node, query);
        None
    }

    /// Prints a whole query with `r`, a renderer for this target: the condition, then
    /// [`Target::finish`]. A target that arranges the parts around the condition itself
    /// (Splunk's `| rex` commands) overrides it.
    fn query(&self, r: &mut Render<'_>, node: &Node, ctx: &QueryContext<'_>) -> Res<String> {
        let out = r.convert(node)?;
        self.finish(r, out, ctx)
    }
}

/// Rendering state for one query.
#[derive(Debug)]
pub struct Render<'t> {
    target: &'t dyn Target,
    /// Deferred parts, in order of appearance.
    pub deferred: Vec<Deferred>,
    /// The boolean operators above the node being rendered, outermost first.
    pub chain: Vec<BoolKind>,
    /// Free-form per-query counters for targets (e.g. Splunk's `rex` field names).
    pub extra: Vec<(String, String)>,
}

impl<'t> Render<'t> {
    /// A renderer for `target`.
    pub fn new(target: &'t dyn Target) -> Self {
        Self {
            target,
            deferred: Vec::new(),
            chain: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// The dialect.
    pub fn dialect(&self) -> &'t Dialect {
        self.target.dialect()
    }

    /// The target.
    pub fn target(&self) -> &'t dyn Target {
        self.target
    }

    /// An "unsupported" error for this target.
    pub fn unsupported(&self, construct: impl Into<String>) -> ConvertError {
        ConvertError::Unsupported {
            target: self.dialect().name,
            construct: construct.into(),
            span: sigil_core::Span::default(),
        }
    }

    /// The text of an output (deferred and empty parts print as nothing).
    pub fn text_of<'a>(&self, out: &'a Out) -> &'a str {
        match out {
            Out::Text(s) => s,
            _ => "",
        }
    }

    /// Renders a node.
    pub fn convert(&mut self, node: &Node) -> Res<Out> {
        let t = self.target;
        match node {
            Node::Or(args) | Node::And(args) => {
                let kind = node.kind().unwrap_or(BoolKind::And);
                if decide_in(self.dialect(), kind, args) {
                    t.in_expression(self, kind, args)
                } else {
                    self.bool_op(kind, args)
                }
            }
            Node::Not(arg) => {
                self.chain.push(BoolKind::Not);
                let out = t.not(self, arg);
                self.chain.pop();
                out
            }
            Node::Field { field, value } => self.field_value(field, value),
            Node::Keyword(value) => self.keyword(value),
        }
    }

    /// Renders `args` joined by the `kind` token, grouping where precedence requires.
    pub fn bool_op(&mut self, kind: BoolKind, args: &[Node]) -> Res<Out> {
        let d = self.dialect();
        let token = if kind == BoolKind::Or {
            d.or_token
        } else {
            d.and_token
        };
        let joiner = if d.token_separator == token {
            token.to_string()
        } else {
            format!("{}{token}{}", d.token_separator, d.token_separator)
        };
        self.chain.push(kind);
        let mut parts = Vec::with_capacity(args.len());
        for arg in args {
            let out = if self.target.needs_no_group(kind, arg) {
                self.convert(arg)
            } else {
                self.group(arg)
            };
            match out {
                Ok(Out::Text(s)) => parts.push(s),
                Ok(_) => {}
                Err(e) => {
                    self.chain.pop();
                    return Err(e);
                }
            }
        }
        self.chain.pop();
        Ok(if parts.is_empty() {
            Out::Empty
        } else {
            Out::Text(self.target.join_operands(parts, &joiner))
        })
    }

    /// Renders a node in parentheses.
    pub fn group(&mut self, node: &Node) -> Res<Out> {
        Ok(match self.convert(node)? {
            Out::Text(s) => Out::Text(fill(self.dialect().group, &[("expr", &s)])),
            other => other,
        })
    }

    fn field_value(&mut self, field: &str, value: &Value) -> Res<Out> {
        let t = self.target;
        let d = self.dialect();
        match value {
            Value::Str(s) if s.cased => t.field_str_cased(self, field, s),
            Value::Str(s) => t.field_str(self, field, s),
            Value::Num(n) => t.field_num(self, field, n),
            Value::Bool(b) => t.field_bool(self, field, *b),
            Value::Regex { source, flags } => t.field_regex(self, field, source, *flags),
            Value::Cidr(net) => t.field_cidr(self, field, net),
            Value::Phrase(phrase) => t.field_phrase(self, field, phrase),
            Value::Compare(op, num) => t.field_compare(self, field, *op, num),
            Value::FieldRef {
                field: other,
                starts_with,
                ends_with,
            } => {
                let (i, what) = match (starts_with, ends_with) {
                    (true, true) => (3, "a field reference with contains"),
                    (true, false) => (1, "a field reference with startswith"),
                    (false, true) => (2, "a field reference with endswith"),
                    (false, false) => (0, "a field reference (`fieldref`)"),
                };
                let tmpl = d.field_ref[i].ok_or_else(|| self.unsupported(what))?;
                Ok(Out::Text(fill(
                    tmpl,
                    &[("field1", &d.field(field)), ("field2", &d.field(other))],
                )))
            }
            Value::Null => {
                let tmpl = d
                    .field_null
                    .ok_or_else(|| self.unsupported("null values"))?;
                Ok(Out::Text(fill(tmpl, &[("field", &d.field(field))])))
            }
            Value::Exists(true) => {
                let tmpl = d
                    .field_exists
                    .ok_or_else(|| self.unsupported("field existence (`exists`)"))?;
                Ok(Out::Text(fill(tmpl, &[("field", &d.field(field))])))
            }
            Value::Exists(false) => {
                if let Some(tmpl) = d.field_not_exists {
                    return Ok(Out::Text(fill(tmpl, &[("field", &d.field(field))])));
                }
                let exists = Node::Field {
                    field: field.to_string(),
                    value: Value::Exists(true),
                };
                self.chain.push(BoolKind::Not);
                let out = t.not(self, &exists);
                self.chain.pop();
                out
            }
            Value::Expansion(values) => {
                self.chain.push(BoolKind::Or);
                let out = t.expansion(self, field, values);
                self.chain.pop();
                out
            }
        }
    }

    fn keyword(&mut self, value: &Value) -> Res<Out> {
        let d = self.dialect();
        let keyword = "a keyword (field-less) search";
        match value {
            Value::Str(s) => {
                let tmpl = d.unbound_str.ok_or_else(|| self.unsupported(keyword))?;
                let v = self.target.keyword_value_str(&s.pattern)?;
                Ok(Out::Text(fill(tmpl, &[("value", &v)])))
            }
            Value::Num(n) => {
                let tmpl = d.unbound_num.ok_or_else(|| self.unsupported(keyword))?;
                Ok(Out::Text(fill(tmpl, &[("value", n)])))
            }
            Value::Regex { source, flags } => {
                let tmpl = d
                    .unbound_re
                    .ok_or_else(|| self.unsupported("a keyword regular expression"))?;
                let re = escape_regex(d, source, *flags);
                Ok(Out::Text(fill(tmpl, &[("value", &re)])))
            }
            Value::Expansion(values) => {
                let or: Vec<Node> = values.iter().cloned().map(Node::Keyword).collect();
                self.bool_op(BoolKind::Or, &or)
            }
            _ => Err(self.unsupported("a keyword that is not a string or number")),
        }
    }
}

/// The `Or` an expansion stands for.
pub fn expansion_or(field: &str, values: &[Value]) -> Vec<Node> {
    values
        .iter()
        .map(|v| Node::Field {
            field: field.to_string(),
            value: v.clone(),
        })
        .collect()
}

/// Whether an `Or`/`And` over one field's plain values becomes a list expression.
pub fn decide_in(d: &Dialect, kind: BoolKind, args: &[Node]) -> bool {
    let Some(list) = d.in_list else {
        return false;
    };
    let enabled = match kind {
        BoolKind::Or => list.or_op.is_some(),
        BoolKind::And => list.and_op.is_some(),
        BoolKind::Not => false,
    };
    if !enabled {
        return false;
    }
    let mut field0: Option<&str> = None;
    for arg in args {
        let Node::Field { field, value } = arg else {
            return false;
        };
        if field0.is_some_and(|f| f != field) {
            return false;
        }
        field0 = Some(field);
        match value {
            Value::Str(s) => {
                if !list.allow_wildcards && s.pattern.has_wildcards() {
                    return false;
                }
            }
            Value::Num(_) => {}
            _ => return false,
        }
    }
    field0.is_some()
}

/// Default precedence decision (pySigma's `compare_precedence`).
pub fn default_needs_no_group(d: &Dialect, outer: BoolKind, inner: &Node) -> bool {
    if d.parenthesize && inner.kind().is_some() {
        return false;
    }
    let inner_kind = match inner {
        Node::Field {
            value: Value::Expansion(_),
            ..
        }
        | Node::Keyword(Value::Expansion(_)) => Some(BoolKind::Or),
        other => other.kind(),
    };
    let rank = inner_kind.map_or(-1, |k| d.rank(k));
    rank <= d.rank(outer)
}

/// Default negation: groups a negated boolean expression, negates deferred parts.
pub fn default_not(r: &mut Render<'_>, arg: &Node) -> Res<Out> {
    let d = r.dialect();
    let out = if arg.kind().is_some() {
        r.group(arg)?
    } else {
        r.convert(arg)?
    };
    Ok(match out {
        Out::Text(s) => Out::Text(negate_text(d, &s, arg.kind().is_some())),
        Out::Deferred(i) => {
            if let Some(def) = r.deferred.get_mut(i) {
                def.negated = !def.negated;
            }
            Out::Deferred(i)
        }
        Out::Empty => Out::Empty,
    })
}

/// `not arg` written by `negate` around the operand's text: a boolean operand is
/// rendered in parentheses first; a deferred or empty operand is passed on unchanged.
pub fn not_written_as(
    r: &mut Render<'_>,
    arg: &Node,
    negate: impl FnOnce(&str) -> String,
) -> Res<Out> {
    let out = if arg.kind().is_some() {
        r.group(arg)?
    } else {
        r.convert(arg)?
    };
    Ok(match out {
        Out::Text(s) => Out::Text(negate(&s)),
        other => other,
    })
}

/// `not` applied to rendered text (`grouped`: the text is already in parentheses).
pub fn negate_text(d: &Dialect, s: &str, grouped: bool) -> String {
    match d.not_style {
        NotStyle::Prefix => format!("{}{}{s}", d.not_token, d.token_separator),
        NotStyle::Call => format!("{}({s})", d.not_token),
        // The operand is always parenthesised inside COALESCE, a group only once.
        NotStyle::Coalesce if grouped => format!("{} COALESCE({s}, 0)", d.not_token),
        NotStyle::Coalesce => format!("{} COALESCE(({s}), 0)", d.not_token),
        NotStyle::CoalesceFalse if grouped => format!("{} COALESCE({s}, false)", d.not_token),
        NotStyle::CoalesceFalse => format!("{} COALESCE(({s}), false)", d.not_token),
    }
}

/// Default string value rendering (pySigma's `convert_value_str`).
pub fn default_value_str(d: &Dialect, p: &Pattern) -> Res<String> {
    let add = format!("{}{}", d.str_quote, d.add_escaped);
    let converted = d
        .escape_pattern(p, (d.wildcard_multi, d.wildcard_single), &add)
        .ok_or_else(|| ConvertError::Unsupported {
            target: d.name,
            construct: "wildcards".into(),
            span: sigil_core::Span::default(),
        })?;
    let quote = match d.str_quote_when {
        StrQuote::Always => !d.str_quote.is_empty(),
        StrQuote::EmptyOnly => p.is_empty(),
    };
    Ok(if quote {
        format!("{q}{converted}{q}", q = d.str_quote)
    } else {
        converted
    })
}

/// The string operator a pattern turns into, and the pattern without the wildcards the
/// operator implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrOp {
    /// Prefix.
    StartsWith,
    /// Suffix.
    EndsWith,
    /// Substring.
    Contains,
    /// Wildcard match.
    Wildcard,
    /// Equality.
    Equals,
}

/// Picks the operator for a pattern, given which operators the target has.
pub fn choose_str_op(
    p: &Pattern,
    has: [bool; 4], // startswith, endswith, contains, wildcard
) -> (StrOp, Pattern) {
    let pieces = p.pieces();
    let starts_any = matches!(pieces.first(), Some(Piece::AnyMany));
    let ends_any = matches!(pieces.last(), Some(Piece::AnyMany));
    let strip = |from: usize, to: usize| Pattern::from_pieces(pieces[from..to].iter().cloned());
    let n = pieces.len();
    if has[0] && ends_any && !strip(0, n - 1).has_wildcards() {
        return (StrOp::StartsWith, strip(0, n - 1));
    }
    if has[1] && starts_any && !strip(1, n).has_wildcards() {
        return (StrOp::EndsWith, strip(1, n));
    }
    if has[2] && starts_any && ends_any && n >= 2 && !strip(1, n - 1).has_wildcards() {
        return (StrOp::Contains, strip(1, n - 1));
    }
    if has[3] && p.has_wildcards() {
        return (StrOp::Wildcard, p.clone());
    }
    (StrOp::Equals, p.clone())
}

/// Default `field = string` (pySigma's `convert_condition_field_eq_val_str`).
pub fn default_field_str(r: &mut Render<'_>, field: &str, p: &Pattern) -> Res<Out> {
    let d = r.dialect();
    let templates = StrTemplates {
        startswith: d.startswith,
        endswith: d.endswith,
        contains: d.contains,
        wildcard: d.wildcard_match,
        equals: None,
    };
    field_str_with(r, field, p, &templates)
}

/// The string-match templates one comparison chooses from (`{field}`, `{value}`); `None`
/// where the target has no such operator (`equals: None` is `field`, `eq_token`, `value`).
#[derive(Debug, Clone, Copy, Default)]
pub struct StrTemplates {
    /// Prefix match.
    pub startswith: Option<&'static str>,
    /// Suffix match.
    pub endswith: Option<&'static str>,
    /// Substring match.
    pub contains: Option<&'static str>,
    /// Wildcard match.
    pub wildcard: Option<&'static str>,
    /// Equality.
    pub equals: Option<&'static str>,
}

/// `field = string` with the operator chosen among `templates` as pySigma chooses it (also
/// for its case-sensitive variants, which have templates of their own).
pub fn field_str_with(
    r: &mut Render<'_>,
    field: &str,
    p: &Pattern,
    templates: &StrTemplates,
) -> Res<Out> {
    let d = r.dialect();
    let has = [
        templates.startswith.is_some(),
        templates.endswith.is_some(),
        templates.contains.is_some(),
        templates.wildcard.is_some(),
    ];
    let (op, value) = choose_str_op(p, has);
    let value_text = r.target().value_str(&value)?;
    let field_text = d.field(field);
    let tmpl = match op {
        StrOp::StartsWith => templates.startswith,
        StrOp::EndsWith => templates.endswith,
        StrOp::Contains => templates.contains,
        StrOp::Wildcard => templates.wildcard,
        StrOp::Equals => templates.equals,
    };
    Ok(Out::Text(match tmpl {
        Some(tmpl) => fill(tmpl, &[("field", &field_text), ("value", &value_text)]),
        None => format!("{field_text}{}{value_text}", d.eq_token),
    }))
}

/// Default numeric comparison: the dialect's template.
pub fn default_field_compare(r: &mut Render<'_>, field: &str, op: CmpOp, num: &str) -> Res<Out> {
    let d = r.dialect();
    let tmpl = d
        .compare_op_expression
        .ok_or_else(|| r.unsupported("numeric comparisons"))?;
    let op = match op {
        CmpOp::Lt => "<",
        CmpOp::Lte => "<=",
        CmpOp::Gt => ">",
        CmpOp::Gte => ">=",
    };
    Ok(Out::Text(fill(
        tmpl,
        &[("field", &d.field(field)), ("operator", op), ("value", num)],
    )))
}

/// Default case-sensitive `field = string`.
pub fn default_field_str_cased(r: &mut Render<'_>, field: &str, p: &Pattern) -> Res<Out> {
    let d = r.dialect();
    let tmpl = d
        .case_sensitive_match
        .ok_or_else(|| r.unsupported("case-sensitive matching (`cased`)"))?;
    let v = r.target().value_str(p)?;
    Ok(Out::Text(fill(
        tmpl,
        &[("field", &d.field(field)), ("value", &v)],
    )))
}

/// A regex escaped for the target, with its flags as an inline prefix where the target
/// writes them so.
pub fn escape_regex(d: &Dialect, source: &str, flags: RegexFlags) -> String {
    let mut out = String::with_capacity(source.len() + 8);
    if d.re_flag_prefix && (flags.ignore_case || flags.multi_line || flags.dot_all) {
        out.push_str("(?");
        if flags.ignore_case {
            out.push('i');
        }
        if flags.multi_line {
            out.push('m');
        }
        if flags.dot_all {
            out.push('s');
        }
        out.push(')');
    }
    let esc = d.re_escape_char;
    let mut rest = source;
    // Where the escape character itself is left alone (Lucene's `/.../`), a delimiter the
    // regex already escapes (`\/`) is not escaped again: `\\/` would end the regex.
    let mut escaped_by_source = false;
    'outer: while !rest.is_empty() {
        if d.re_escape_escape_char && !esc.is_empty() && rest.starts_with(esc) {
            out.push_str(esc);
            out.push_str(esc);
            rest = &rest[esc.len()..];
            continue;
        }
        for s in d.re_escape {
            if !s.is_empty() && rest.starts_with(s) {
                if !escaped_by_source {
                    out.push_str(esc);
                }
                out.push_str(s);
                rest = &rest[s.len()..];
                escaped_by_source = false;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
        escaped_by_source =
            !d.re_escape_escape_char && !esc.is_empty() && esc.starts_with(c) && !escaped_by_source;
    }
    out
}

/// Default regex match.
pub fn default_field_regex(
    r: &mut Render<'_>,
    field: &str,
    source: &str,
    flags: RegexFlags,
) -> Res<Out> {
    let d = r.dialect();
    let tmpl = d
        .re_expression
        .ok_or_else(|| r.unsupported("regular expressions"))?;
    let re = escape_regex(d, source, flags);
    Ok(Out::Text(fill(
        tmpl,
        &[("field", &d.field(field)), ("regex", &re)],
    )))
}

/// Default CIDR match: the native template, or prefix wildcards.
pub fn default_field_cidr(r: &mut Render<'_>, field: &str, net: &ipnet::IpNet) -> Res<Out> {
    let d = r.dialect();
    if let Some(tmpl) = d.cidr_expression {
        return Ok(Out::Text(fill(
            tmpl,
            &[
                ("field", field),
                ("value", &net.to_string()),
                ("network", &net.network().to_string()),
                ("prefixlen", &net.prefix_len().to_string()),
            ],
        )));
    }
    let or: Vec<Node> = crate::cidr::expand(net)
        .into_iter()
        .map(|p| Node::Field {
            field: field.to_string(),
            value: Value::Str(Str {
                pattern: p,
                cased: false,
            }),
        })
        .collect();
    r.convert(&Node::Or(or))
}

/// Default list expression (pySigma's `convert_condition_as_in_expression`).
pub fn default_in_expression(r: &mut Render<'_>, kind: BoolKind, args: &[Node]) -> Res<Out> {
    let d = r.dialect();
    let Some(list) = d.in_list else {
        return r.bool_op(kind, args);
    };
    let mut field = "";
    let mut items = Vec::with_capacity(args.len());
    for arg in args {
        if let Node::Field { field: f, value } = arg {
            field = f;
            items.push(match value {
                Value::Str(s) => r.target().value_str(&s.pattern)?,
                Value::Num(n) => n.clone(),
                _ => return r.bool_op(kind, args),
            });
        }
    }
    let op = if kind == BoolKind::Or {
        list.or_op
    } else {
        list.and_op
    }
    .unwrap_or_default();
    Ok(Out::Text(fill(
        list.template,
        &[
            ("field", &d.field(field)),
            ("op", op),
            ("list", &items.join(list.separator)),
        ],
    )))
}
