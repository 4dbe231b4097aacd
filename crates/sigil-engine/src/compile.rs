//! Lowering the IR of one rule into compiled predicates and a boolean tree over them.
//!
//! Every string value is expanded once (windash variants and byte encodings through
//! [`sigil_core::encode::expand`]), shaped by its operator (`contains` is `*v*`, ...)
//! and compiled to a [`TextMatch`]. Identical predicates of different rules share one
//! compiled predicate, so each is evaluated at most once per event.

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use ipnet::IpNet;
use sigil_core::{Expr, Op, Pattern, Predicate, TimePart, Value};

use crate::error::CompileError;
use crate::phrase::Phrase;
use crate::regex_literals;
use crate::text::{LazyRegex, LiteralSet, RegexOptions, TextMatch, required_literal};

/// Index of an interned field name.
pub(crate) type FieldId = u32;

/// Field names, interned ASCII-case-insensitively (events look fields up that way).
#[derive(Debug, Default)]
pub(crate) struct FieldTable {
    pub(crate) names: Vec<String>,
    /// Each name's [`sigil_logs::field_name_hash`].
    pub(crate) hashes: Vec<u32>,
    ids: HashMap<String, FieldId>,
}

impl FieldTable {
    pub(crate) fn intern(&mut self, name: &str) -> FieldId {
        let key = name.to_ascii_lowercase();
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let id = self.names.len() as FieldId;
        self.names.push(name.to_string());
        self.hashes.push(sigil_logs::field_name_hash(name));
        self.ids.insert(key, id);
        id
    }
}

/// A compiled boolean tree over predicates.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Const(bool),
    Pred(u32),
    Not(Box<Node>),
    And(Box<[Node]>),
    Or(Box<[Node]>),
}

/// A compiled predicate: a field (or `None` for a keyword search over every value) and
/// how its values are tested.
#[derive(Debug)]
pub(crate) struct CompiledPred {
    pub(crate) field: Option<FieldId>,
    pub(crate) test: Arc<PredTest>,
}

/// How the value tests of a predicate combine.
#[derive(Debug)]
pub(crate) enum PredTest {
    /// At least one value matches.
    Any(Box<[ValueTest]>),
    /// Every value matches (`all`).
    All(Box<[ValueTest]>),
    /// The field is present and matches none of the values (`neq`).
    NotEquals(Box<[ValueTest]>),
}

impl PredTest {
    /// A regular expression of the test that could not be built when it was first
    /// needed: `(expression, why)`.
    pub(crate) fn regex_failure(&self) -> Option<(&str, &str)> {
        let (PredTest::Any(tests) | PredTest::All(tests) | PredTest::NotEquals(tests)) = self;
        tests.iter().find_map(|t| match t {
            ValueTest::Regex(re) => re.failure(),
            ValueTest::Text { alts, .. } => alts.iter().find_map(TextMatch::regex_failure),
            _ => None,
        })
    }
}

/// The test of one value written in a rule, against one field value.
#[derive(Debug)]
pub(crate) enum ValueTest {
    /// The field is absent (`null`, `exists: false`).
    Absent,
    /// The field is present (`exists: true`).
    Present,
    /// Any of the alternatives (encodings and windash variants of one value) matches the
    /// text of the value; folded text unless `cased`.
    Text { alts: Box<[TextMatch]>, cased: bool },
    /// Many plain literals of the values of one predicate, over folded text.
    Literals(Box<LiteralSet>),
    /// An unanchored regular expression over the original text.
    Regex(Box<LazyRegex>),
    /// A phrase of words over the folded text (analysed full text).
    Phrase(Box<Phrase>),
    /// A boolean: the value `true`/`false`, or the text `true`/`1`, `false`/`0`.
    Bool(bool),
    /// A numeric comparison; text that parses as a number counts.
    Number { op: Op, n: f64 },
    /// The value is an IP address inside the network.
    Cidr(IpNet),
    /// A comparison with another field of the same event.
    FieldRef { op: Op, other: FieldId, cased: bool },
    /// A numeric comparison of a part of a timestamp.
    TimePart { part: TimePart, op: Op, n: f64 },
}

/// Literals one of which must occur in the event's text for a node to hold, or `None`
/// when the node constrains nothing the prefilter can see.
pub(crate) type Literals = Option<Vec<Lit>>;

/// A prefilter literal (folded ASCII), the field it must occur in (`None`: any value, for
/// keyword searches), and where in the value every match holds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Lit {
    pub(crate) text: String,
    pub(crate) field: Option<FieldId>,
    /// The value starts with the literal.
    pub(crate) at_start: bool,
    /// The value ends with the literal.
    pub(crate) at_end: bool,
}

impl Lit {
    /// A literal that may occur anywhere in a value.
    pub(crate) fn anywhere(text: String) -> Lit {
        Lit {
            text,
            field: None,
            at_start: false,
            at_end: false,
        }
    }
}

/// The literals of one value, before they are tied to the predicate's field.
type ValueLiterals = Option<Vec<Lit>>;

/// Literals shorter than this occur in nearly every event; they make a set useless.
pub(crate) const MIN_LITERAL_LEN: usize = 3;

/// Compiled predicates shared by every rule of an engine.
#[derive(Debug, Default)]
pub(crate) struct PredTable {
    pub(crate) preds: Vec<CompiledPred>,
    pub(crate) literals: Vec<Literals>,
    /// Predicates by field and test.
    by_key: HashMap<(Option<FieldId>, u32), u32>,
    /// Tests by the hash of what they are compiled from ([`TestSource`]).
    tests_by_hash: HashMap<u64, Vec<u32>>,
    tests: Vec<CompiledTest>,
}

/// What a predicate's test is compiled from: all of the predicate but its field, so
/// that predicates on different fields (a rule's Sysmon and Security-audit variants)
/// share one compiled test.
#[derive(Debug)]
struct TestSource {
    keyword: bool,
    op: Op,
    values: Vec<Value>,
    flags: sigil_core::Flags,
}

impl TestSource {
    fn hash_of(p: &Predicate) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        p.field.is_none().hash(&mut h);
        p.op.hash(&mut h);
        p.flags.hash(&mut h);
        p.values.len().hash(&mut h);
        for v in &p.values {
            std::mem::discriminant(v).hash(&mut h);
            match v {
                Value::Str(s) => s.hash(&mut h),
                Value::Int(i) => i.hash(&mut h),
                Value::Float(f) => f.to_bits().hash(&mut h),
                Value::Bool(b) => b.hash(&mut h),
                Value::Null => {}
                Value::Regex(r) | Value::FieldRef(r) => r.hash(&mut h),
                Value::Cidr(n) => n.hash(&mut h),
            }
        }
        h.finish()
    }

    fn is_of(&self, p: &Predicate) -> bool {
        let same = |a: &Value, b: &Value| match (a, b) {
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            _ => a == b,
        };
        self.keyword == p.field.is_none()
            && self.op == p.op
            && self.flags == p.flags
            && self.values.len() == p.values.len()
            && self.values.iter().zip(&p.values).all(|(a, b)| same(a, b))
    }
}

/// A compiled test and the literals of its values (before they are tied to a field).
#[derive(Debug)]
struct CompiledTest {
    source: TestSource,
    test: Arc<PredTest>,
    literals: ValueLiterals,
}

impl AsRef<str> for Lit {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl PredTable {
    /// Compiles `expr` into a node, adding its predicates to the table.
    pub(crate) fn compile_expr(
        &mut self,
        expr: &Expr,
        fields: &mut FieldTable,
    ) -> Result<Node, CompileError> {
        Ok(match expr {
            Expr::And(v) if v.is_empty() => Node::Const(true),
            Expr::Or(v) if v.is_empty() => Node::Const(false),
            Expr::And(v) if v.len() == 1 => self.compile_expr(&v[0], fields)?,
            Expr::Or(v) if v.len() == 1 => self.compile_expr(&v[0], fields)?,
            Expr::And(v) => Node::And(
                v.iter()
                    .map(|e| self.compile_expr(e, fields))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Or(v) => Node::Or(
                v.iter()
                    .map(|e| self.compile_expr(e, fields))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Not(e) => Node::Not(Box::new(self.compile_expr(e, fields)?)),
            Expr::Pred(p) => Node::Pred(self.predicate(p, fields).map_err(|e| e.at(p.span))?),
        })
    }

    fn predicate(&mut self, p: &Predicate, fields: &mut FieldTable) -> Result<u32, CompileError> {
        let field = p.field.as_deref().map(|f| fields.intern(f));
        let hash = TestSource::hash_of(p);
        let known = self.tests_by_hash.get(&hash).and_then(|ids| {
            ids.iter()
                .copied()
                .find(|&t| self.tests[t as usize].source.is_of(p))
        });
        let test = if let Some(t) = known {
            t
        } else {
            let (test, literals) = compile_test(p, fields)?;
            let t = self.tests.len() as u32;
            self.tests.push(CompiledTest {
                source: TestSource {
                    keyword: p.field.is_none(),
                    op: p.op,
                    values: p.values.clone(),
                    flags: p.flags.clone(),
                },
                test: Arc::new(test),
                literals,
            });
            self.tests_by_hash.entry(hash).or_default().push(t);
            t
        };
        if let Some(&i) = self.by_key.get(&(field, test)) {
            return Ok(i);
        }
        let compiled = &self.tests[test as usize];
        let i = self.preds.len() as u32;
        self.preds.push(CompiledPred {
            field,
            test: Arc::clone(&compiled.test),
        });
        self.literals.push(compiled.literals.as_ref().map(|lits| {
            lits.iter()
                .map(|lit| Lit {
                    field,
                    // A keyword literal is looked for in every value at once.
                    at_start: lit.at_start && field.is_some(),
                    at_end: lit.at_end && field.is_some(),
                    ..lit.clone()
                })
                .collect()
        }));
        self.by_key.insert((field, test), i);
        Ok(i)
    }

    /// The literal set of a node (see [`Literals`]): for `And` the best child's, for `Or`
    /// the union of all children's, nothing for negations.
    pub(crate) fn required_literals(&self, node: &Node) -> Literals {
        match node {
            Node::Const(true) | Node::Not(_) => None,
            Node::Const(false) => Some(Vec::new()),
            Node::Pred(i) => self.literals[*i as usize].clone(),
            Node::And(v) => best(v.iter().filter_map(|n| self.required_literals(n))),
            Node::Or(v) => {
                let mut all = Vec::new();
                for n in v {
                    all.extend(self.required_literals(n)?);
                }
                all.sort_unstable();
                all.dedup();
                Some(all)
            }
        }
    }
}

/// At most this many literal sets are required of one rule: each further set removes
/// fewer candidates than the last and costs a little on every event that holds it.
const MAX_CLAUSES: usize = 3;

impl PredTable {
    /// The literal sets of a rule's condition, each of which must be hit for it to hold
    /// (sets of the conjuncts of a top-level `And`, each as [`PredTable::required_literals`]
    /// gives it), the most selective first, at most [`MAX_CLAUSES`]. `None` when no set
    /// constrains the rule.
    pub(crate) fn required_clauses(&self, node: &Node) -> Option<Vec<Vec<Lit>>> {
        let mut clauses = Vec::new();
        self.collect_clauses(node, &mut clauses);
        for clause in &mut clauses {
            clause.sort_unstable();
            clause.dedup();
        }
        clauses.sort_by_key(|c| std::cmp::Reverse(selectivity(c)));
        clauses.dedup();
        clauses.truncate(MAX_CLAUSES);
        (!clauses.is_empty()).then_some(clauses)
    }

    fn collect_clauses(&self, node: &Node, out: &mut Vec<Vec<Lit>>) {
        match node {
            Node::And(v) => v.iter().for_each(|n| self.collect_clauses(n, out)),
            _ => out.extend(self.required_literals(node)),
        }
    }
}

/// How selective a literal set is, greater is better: an empty set (never matches)
/// first, then the one whose shortest literal is longest, then the smaller one.
fn selectivity<T: AsRef<str>>(set: &[T]) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = set
        .iter()
        .map(|l| l.as_ref().len())
        .min()
        .unwrap_or(usize::MAX);
    (shortest, std::cmp::Reverse(set.len()))
}

/// The most selective of several literal sets: an empty set (never matches) first, then
/// the one whose shortest literal is longest, then the smaller one.
fn best<T: AsRef<str>>(sets: impl Iterator<Item = Vec<T>>) -> Option<Vec<T>> {
    sets.max_by_key(|s| selectivity(s))
}

/// Compiles the test of a predicate (all of it but the field) and the literals of its
/// values, one of which must occur in the field for the test to hold.
fn compile_test(
    p: &Predicate,
    fields: &mut FieldTable,
) -> Result<(PredTest, ValueLiterals), CompileError> {
    let mut tests: Vec<ValueTest> = Vec::with_capacity(p.values.len());
    let mut lits = Vec::with_capacity(p.values.len());
    for v in &p.values {
        let (test, lit) = compile_value(p, v, fields)?;
        tests.push(test);
        lits.push(lit);
    }
    if !p.flags.all {
        tests = merge_literals(tests);
    }
    let (test, strings) = match p.op {
        Op::NotEquals => (PredTest::NotEquals(tests.into()), None),
        _ if p.flags.all => (
            PredTest::All(tests.into()),
            best(lits.into_iter().flatten()),
        ),
        _ => {
            let union = lits.into_iter().try_fold(Vec::new(), |mut acc, l| {
                acc.extend(l?);
                Some(acc)
            });
            (PredTest::Any(tests.into()), union)
        }
    };
    Ok((test, strings))
}

/// When any value may match, the plain literals of all values go into one
/// [`LiteralSet`] (if there are enough of them to pay off).
fn merge_literals(tests: Vec<ValueTest>) -> Vec<ValueTest> {
    let mut pool = Vec::new();
    let mut out = Vec::with_capacity(tests.len());
    for t in tests {
        match t {
            ValueTest::Text { alts, cased: false } => pool.extend(alts.into_vec()),
            other => out.push(other),
        }
    }
    if let Some(set) = LiteralSet::extract(&mut pool) {
        out.insert(0, ValueTest::Literals(Box::new(set)));
    }
    if !pool.is_empty() {
        out.insert(
            0,
            ValueTest::Text {
                alts: pool.into(),
                cased: false,
            },
        );
    }
    out
}

/// The operator's shape applied to a pattern; a keyword search is a substring search.
fn shape(pattern: &Pattern, op: Op, keyword: bool) -> Pattern {
    match op {
        Op::Contains => pattern.with_leading_any().with_trailing_any(),
        Op::StartsWith => pattern.with_trailing_any(),
        Op::EndsWith => pattern.with_leading_any(),
        _ if keyword => pattern.with_leading_any().with_trailing_any(),
        _ => pattern.clone(),
    }
}

fn bad(v: &Value, op: Op) -> CompileError {
    CompileError::BadValue {
        value: v.to_text(),
        op: op.kind(),
    }
}

fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(p) => p.as_literal()?.trim().parse().ok(),
        _ => None,
    }
}

/// A regex test and the literals one of which every match contains.
fn compile_regex(src: &str, p: &Predicate) -> Result<(ValueTest, ValueLiterals), CompileError> {
    let flags = p.flags.regex;
    let options = RegexOptions {
        ignore_case: flags.ignore_case,
        multi_line: flags.multi_line,
        dot_all: flags.dot_all,
    };
    let re = LazyRegex::new(src, options).map_err(|message| CompileError::Regex {
        pattern: src.to_string(),
        message,
    })?;
    Ok((
        ValueTest::Regex(Box::new(re)),
        regex_literals::required_literals(src, options)
            .map(|set| set.into_iter().map(Lit::anywhere).collect()),
    ))
}

fn compile_value(
    p: &Predicate,
    v: &Value,
    fields: &mut FieldTable,
) -> Result<(ValueTest, ValueLiterals), CompileError> {
    let op = p.op;
    let keyword = p.field.is_none();
    if keyword && (matches!(v, Value::Null | Value::FieldRef(_)) || op == Op::Exists) {
        return Err(CompileError::unsupported(format!(
            "`{}` in a keyword search",
            v.to_text()
        )));
    }
    if let Some(part) = p.flags.time_part {
        let n = number_of(v).ok_or_else(|| bad(v, op))?;
        let op = match op {
            Op::Equals | Op::NotEquals => Op::Equals,
            o if o.is_numeric() => o,
            _ => return Err(bad(v, op)),
        };
        return Ok((ValueTest::TimePart { part, op, n }, None));
    }
    let cased = p.flags.cased;
    Ok(match (v, op) {
        (Value::Bool(b), Op::Exists) => (
            if *b {
                ValueTest::Present
            } else {
                ValueTest::Absent
            },
            None,
        ),
        (Value::Str(s), Op::Exists) => match s.as_literal().map(str::to_ascii_lowercase).as_deref()
        {
            Some("true" | "yes") => (ValueTest::Present, None),
            Some("false" | "no") => (ValueTest::Absent, None),
            _ => return Err(bad(v, op)),
        },
        (_, Op::Exists) => return Err(bad(v, op)),
        (Value::Null, Op::Equals | Op::NotEquals) => (ValueTest::Absent, None),
        // Analysed full text (an Elastic `text` field): the value is a phrase of words.
        (Value::Str(s), Op::Equals | Op::NotEquals) if p.flags.words => {
            // Matched word by word; the prefilter's literals are those of the expression
            // the converters write for it.
            let flags = p.flags.regex;
            let options = RegexOptions {
                ignore_case: flags.ignore_case,
                multi_line: flags.multi_line,
                dot_all: flags.dot_all,
            };
            (
                ValueTest::Phrase(Box::new(Phrase::compile(s))),
                regex_literals::required_literals(&sigil_core::words::phrase_regex(s), options)
                    .map(|set| set.into_iter().map(Lit::anywhere).collect()),
            )
        }
        (Value::Regex(src), _) => compile_regex(src, p)?,
        (Value::Str(s), Op::Regex) => {
            let src = s.as_literal().map_or_else(|| s.to_sigma(), str::to_string);
            compile_regex(&src, p)?
        }
        (Value::Cidr(net), Op::Cidr) => (ValueTest::Cidr(net.trunc()), None),
        (Value::Str(s), Op::Cidr) => {
            let net: IpNet = s
                .as_literal()
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| bad(v, op))?;
            (ValueTest::Cidr(net.trunc()), None)
        }
        (_, Op::Lt | Op::Lte | Op::Gt | Op::Gte) => {
            let n = number_of(v).ok_or_else(|| bad(v, op))?;
            (ValueTest::Number { op, n }, None)
        }
        (
            Value::FieldRef(other),
            Op::Equals | Op::NotEquals | Op::Contains | Op::StartsWith | Op::EndsWith,
        ) => (
            ValueTest::FieldRef {
                op: if op == Op::NotEquals { Op::Equals } else { op },
                other: fields.intern(other),
                cased,
            },
            None,
        ),
        (
            Value::Str(s),
            Op::Equals | Op::NotEquals | Op::Contains | Op::StartsWith | Op::EndsWith,
        ) => {
            let patterns = sigil_core::encode::expand(s, &p.flags)?;
            let mut alts = Vec::with_capacity(patterns.len());
            let mut lits = Some(Vec::with_capacity(patterns.len()));
            for pat in &patterns {
                let shaped = shape(pat, op, keyword);
                match (required_literal(&shaped), lits.as_mut()) {
                    (Some(l), Some(set)) if l.text.len() >= MIN_LITERAL_LEN => set.push(l),
                    _ => lits = None,
                }
                alts.push(TextMatch::compile(&shaped, cased)?);
            }
            (
                ValueTest::Text {
                    alts: alts.into(),
                    cased,
                },
                lits,
            )
        }
        (
            Value::Int(i),
            Op::Equals | Op::NotEquals | Op::Contains | Op::StartsWith | Op::EndsWith,
        ) => {
            // Sigma compares a number with the field's number or its decimal text.
            let text = i.to_string();
            let shaped = shape(&Pattern::literal(&text), op, keyword);
            let lit = required_literal(&shaped)
                .filter(|l| l.text.len() >= MIN_LITERAL_LEN)
                .map(|l| vec![l]);
            let alts = vec![TextMatch::compile(&shaped, true)?];
            (
                ValueTest::Text {
                    alts: alts.into(),
                    cased: true,
                },
                lit,
            )
        }
        (Value::Float(f), Op::Equals | Op::NotEquals) => (
            ValueTest::Number {
                op: Op::Equals,
                n: *f,
            },
            None,
        ),
        (Value::Bool(b), Op::Equals | Op::NotEquals) => (ValueTest::Bool(*b), None),
        _ => {
            return Err(CompileError::unsupported(format!(
                "value `{}` with operator `{}`",
                v.to_text(),
                op.kind()
            )));
        }
    })
}
