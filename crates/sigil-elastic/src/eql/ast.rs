//! The EQL syntax tree. Every node keeps the byte range of the query text it came from.

use serde::Serialize;

/// A byte range of the query text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Loc {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Loc {
    /// The range `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The range covering both.
    #[must_use]
    pub fn to(self, other: Loc) -> Loc {
        Loc::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A whole query: a base query and its pipes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Query {
    /// The query before the pipes.
    pub body: QueryBody,
    /// `| head 5`, `| unique a`, ... in order.
    pub pipes: Vec<Pipe>,
    /// The whole query.
    pub loc: Loc,
}

/// The base query.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum QueryBody {
    /// `<category> where <expr>`.
    Event(EventQuery),
    /// `sequence ...`.
    Sequence(Sequence),
    /// `sample by ...`.
    Sample(Sample),
    /// `join ...` (legacy dialect).
    Join(Sequence),
}

/// `<category> where <expr>`; `category` is `None` for `any`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventQuery {
    /// The event category, or `None` for `any`.
    pub category: Option<String>,
    /// Where the category was written.
    pub category_loc: Loc,
    /// The condition.
    pub expr: Expr,
    /// The whole event query.
    pub loc: Loc,
}

/// One bracketed step of a sequence, sample or join.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// The step's event query.
    pub query: EventQuery,
    /// `![ ... ]`: an event that must not occur.
    pub missing: bool,
    /// Per-step join keys (`[ ... ] by a, b`).
    pub by: Vec<Expr>,
    /// `with runs=N`: the step repeats N times.
    pub runs: Option<u64>,
    /// `fork=true` (legacy): matching this step leaves the sequence it extends pending,
    /// so later events can extend it too.
    pub fork: bool,
    /// The whole step.
    pub loc: Loc,
}

/// A time span (`maxspan=5m`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeSpan {
    /// As written.
    pub text: String,
    /// In milliseconds.
    pub millis: u64,
    /// Where it was written.
    pub loc: Loc,
}

/// `sequence [by ...] [with maxspan=...] [step]... [until [step]]` (and legacy `join`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sequence {
    /// Join keys shared by every step.
    pub by: Vec<Expr>,
    /// The maximum time between the first and the last event.
    pub maxspan: Option<TimeSpan>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// `until [ ... ]`: an event that ends pending sequences.
    pub until: Option<Box<Step>>,
}

/// `sample by ... [step]...`: events sharing the join keys, in any order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// Join keys shared by every step.
    pub by: Vec<Expr>,
    /// The steps.
    pub steps: Vec<Step>,
}

/// A pipe: `| name args`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pipe {
    /// `head`, `tail`, `filter`, `unique`, `count`, ...
    pub name: String,
    /// Its arguments.
    pub args: Vec<Expr>,
    /// The whole pipe.
    pub loc: Loc,
}

/// An expression with its range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where.
    pub loc: Loc,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Literal {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A decimal number.
    Float(f64),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// One part of a field path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldPart {
    /// A name.
    Name(String),
    /// An array index (`args[0]`).
    Index(u64),
}

/// A field reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The path.
    pub parts: Vec<FieldPart>,
    /// Written as `?field`: may be absent from the mapping.
    pub optional: bool,
}

impl Field {
    /// The dotted name (`process.args[0]` for an indexed path).
    pub fn dotted(&self) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                FieldPart::Name(n) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(n);
                }
                FieldPart::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }

    /// Whether the path has an array index.
    pub fn has_index(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, FieldPart::Index(_)))
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    /// `==` (or the legacy `=`).
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator with its operands swapped (`a < b` is `b > a`).
    #[must_use]
    pub fn flipped(self) -> Self {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }

    /// As written.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A string predicate operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StrOp {
    /// `:`: case-insensitive equality with `*`/`?` wildcards.
    Colon,
    /// `like` / `like~`: wildcard match.
    Like,
    /// `regex` / `regex~`: whole-value regular expression.
    Regex,
}

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
}

/// The relation of a legacy lineage test (`descendant of [...]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// `descendant of`
    Descendant,
    /// `child of`
    Child,
    /// `event of`
    Event,
}

/// An expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExprKind {
    /// A literal.
    Literal(Literal),
    /// A field.
    Field(Field),
    /// `not e`.
    Not(Box<Expr>),
    /// `a and b and ...`.
    And(Vec<Expr>),
    /// `a or b or ...`.
    Or(Vec<Expr>),
    /// `a <op> b`.
    Compare {
        /// The operator.
        op: CmpOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `a in (...)`, `a in~ (...)`, `a not in (...)`.
    In {
        /// The tested value.
        expr: Box<Expr>,
        /// The set.
        values: Vec<Expr>,
        /// `not in`.
        negated: bool,
        /// `in~`.
        insensitive: bool,
    },
    /// `a : x`, `a like~ (x, y)`, `a regex "…"`.
    StrPred {
        /// The operator.
        op: StrOp,
        /// Written with `~` (`:` is always case-insensitive and has no `~` form).
        insensitive: bool,
        /// The tested value.
        expr: Box<Expr>,
        /// The patterns (any may match).
        values: Vec<Expr>,
    },
    /// `name(args)` or `name~(args)`; a legacy method `x:name(args)` is a call with `x`
    /// as first argument.
    Call {
        /// The function name as written.
        name: String,
        /// Written with `~`.
        insensitive: bool,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// Arithmetic.
    Arith {
        /// The operator.
        op: ArithOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// Unary minus.
    Neg(Box<Expr>),
    /// Legacy lineage or event test: `descendant of [process where ...]`.
    Lineage {
        /// The relation.
        relation: Relation,
        /// The related event's query.
        query: Box<EventQuery>,
    },
}

impl Expr {
    /// The field, if the expression is one.
    pub fn as_field(&self) -> Option<&Field> {
        match &self.kind {
            ExprKind::Field(f) => Some(f),
            _ => None,
        }
    }

    /// The literal, if the expression is one (a negated number counts).
    pub fn as_literal(&self) -> Option<Literal> {
        match &self.kind {
            ExprKind::Literal(l) => Some(l.clone()),
            ExprKind::Neg(e) => match &e.kind {
                ExprKind::Literal(Literal::Int(i)) => Some(Literal::Int(-*i)),
                ExprKind::Literal(Literal::Float(f)) => Some(Literal::Float(-*f)),
                _ => None,
            },
            _ => None,
        }
    }
}
