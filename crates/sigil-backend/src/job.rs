//! `--format job`: a whole rule set as one detection job over the events `sigil export`
//! writes, for the engines made for large tables: a PySpark program (`spark`), or one SQL
//! script over a table or view `events` (`duckdb`, `clickhouse`).
//!
//! The job reads the data once: each event is tested against every rule in one projection
//! (an array of the indices of the rules that hold), exploded and joined with the rules'
//! metadata. The detections have the columns [`COLUMNS`]: `source` and `record_id` as
//! `sigil hunt` reports them, `timestamp`, `computer`, `channel` and `event_id` from the
//! event's `SystemTime`, `Computer`, `Channel` and `EventID`.
//!
//! The conditions are the target's, rendered with Sigma's semantics where the target's plain
//! queries follow a reference that differs: every string comparison ignores case, numbers
//! compare as text (every field is read as text, as `hunt` compares), a negation holds where
//! a field is missing (`NOT COALESCE(x, false)`), networks are expanded to prefixes. Rules
//! the job cannot express (keywords: the table has no whole-event column; correlations) are
//! listed in the job's header with the reason.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use sigil_core::{Expr, Pattern, Rule, RuleBody};

use crate::dialect::{Dialect, NotStyle};
use crate::error::ConvertError;
use crate::registry::TargetInfo;
use crate::render::{Out, Render, Res, Target, default_not};
use crate::targets::{clickhouse, duckdb, spark};
use crate::tree::{BoolKind, CmpOp, Node, Str};

/// The columns of the detections, in order.
pub const COLUMNS: [&str; 10] = [
    "rule_id",
    "rule_title",
    "level",
    "tags",
    "timestamp",
    "computer",
    "channel",
    "event_id",
    "record_id",
    "source",
];

/// The event columns the detections take `timestamp`, `computer`, `channel`, `event_id`
/// from (the names of `sigil export`'s flat view).
const EVENT_COLUMNS: [(&str, &str); 4] = [
    ("timestamp", "SystemTime"),
    ("computer", "Computer"),
    ("channel", "Channel"),
    ("event_id", "EventID"),
];

/// The engines a job is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// A PySpark program.
    Spark,
    /// A DuckDB SQL script.
    DuckDb,
    /// A ClickHouse SQL script.
    ClickHouse,
}

impl Engine {
    /// The engine of a target that offers `--format job`.
    pub fn of(target: &TargetInfo) -> Option<Self> {
        match target.name {
            "spark" => Some(Engine::Spark),
            "duckdb" => Some(Engine::DuckDb),
            "clickhouse" => Some(Engine::ClickHouse),
            _ => None,
        }
    }

    fn base(self) -> &'static dyn Target {
        match self {
            Engine::Spark => &spark::Spark,
            Engine::DuckDb => &duckdb::DuckDb,
            Engine::ClickHouse => &clickhouse::ClickHouse,
        }
    }

    /// A field as text, or NULL where it cannot be read as a number.
    fn as_number(self, field: &str) -> String {
        match self {
            Engine::Spark => format!("try_cast({field} AS DOUBLE)"),
            Engine::DuckDb => format!("TRY_CAST({field} AS DOUBLE)"),
            Engine::ClickHouse => format!("toFloat64OrNull({field})"),
        }
    }
}

/// The name a condition on a list column gives each element.
const ELEMENT: &str = "sigil_v";

/// The target's renderer with Sigma's semantics over a table of text columns (and lists of
/// texts: see [`JobRenderer::on`]).
#[derive(Debug)]
struct JobRenderer<'a> {
    engine: Engine,
    dialect: Dialect,
    /// The columns that hold lists.
    lists: &'a BTreeSet<String>,
}

impl<'a> JobRenderer<'a> {
    fn new(engine: Engine, lists: &'a BTreeSet<String>) -> Self {
        let mut dialect = engine.base().dialect().clone();
        dialect.not_style = NotStyle::CoalesceFalse;
        // Networks are expanded to prefixes: `ip_cidr_contains` is Databricks' own and
        // ClickHouse's `isIPAddressInRange` fails on a value that is not an address.
        dialect.cidr_expression = None;
        // Keywords need the whole event, which the table does not hold.
        dialect.unbound_str = None;
        dialect.unbound_num = None;
        dialect.unbound_re = None;
        if engine == Engine::ClickHouse {
            // `IN` compares case-sensitively.
            dialect.in_list = None;
        }
        if engine == Engine::Spark {
            // The table's columns are flat: `User.Name` is one column, not a field of `User`.
            dialect.field_quote_when = crate::dialect::FieldQuote::UnlessWordOr("");
        }
        Self {
            engine,
            dialect,
            lists,
        }
    }

    /// A comparison of `field`, rendered by `compare` with the name to compare: the
    /// column's, or on a list column each element's, true where any element holds (as
    /// `sigil hunt` tests each value of a field an event holds more than once).
    fn on(&self, field: &str, compare: impl FnOnce(&str) -> Res<Out>) -> Res<Out> {
        if !self.lists.contains(field) {
            return compare(field);
        }
        let Out::Text(cond) = compare(ELEMENT)? else {
            return Ok(Out::Empty);
        };
        let list = self.field(field);
        Ok(Out::Text(match self.engine {
            Engine::Spark => format!("exists({list}, {ELEMENT} -> {cond})"),
            Engine::DuckDb => {
                format!("len(list_filter({list}, lambda {ELEMENT}: {cond})) > 0")
            }
            Engine::ClickHouse => format!("arrayExists({ELEMENT} -> {cond}, {list})"),
        }))
    }

    fn field(&self, name: &str) -> String {
        self.dialect.field(name)
    }

    /// `field` equal to a text, ignoring case.
    fn text_eq(&self, field: &str, text: &str) -> String {
        let f = self.field(field);
        match self.engine {
            Engine::Spark => format!("lower({f}) = lower({})", spark_literal(text)),
            Engine::DuckDb => duckdb::ilike(&f, &Pattern::literal(text)),
            Engine::ClickHouse => clickhouse::ilike(&f, &Pattern::literal(text)),
        }
    }
}

fn spark_literal(text: &str) -> String {
    crate::targets::sql::Literal::Backslash.quoted(text)
}

impl Target for JobRenderer<'_> {
    fn dialect(&self) -> &Dialect {
        &self.dialect
    }

    fn not(&self, r: &mut Render<'_>, arg: &Node) -> Res<Out> {
        default_not(r, arg)
    }

    fn value_str(&self, p: &Pattern) -> Res<String> {
        self.engine.base().value_str(p)
    }

    fn field_str(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        self.on(field, |field| match self.engine {
            Engine::Spark => self.engine.base().field_str(r, field, s),
            // `=` compares case-sensitively: every comparison is an `ILIKE`.
            Engine::DuckDb => Ok(Out::Text(duckdb::ilike(&self.field(field), &s.pattern))),
            Engine::ClickHouse => Ok(Out::Text(clickhouse::ilike(&self.field(field), &s.pattern))),
        })
    }

    fn field_str_cased(&self, r: &mut Render<'_>, field: &str, s: &Str) -> Res<Out> {
        self.on(field, |field| {
            self.engine.base().field_str_cased(r, field, s)
        })
    }

    fn field_num(&self, r: &mut Render<'_>, field: &str, num: &str) -> Res<Out> {
        let _ = r;
        self.on(field, |field| Ok(Out::Text(self.text_eq(field, num))))
    }

    fn field_bool(&self, r: &mut Render<'_>, field: &str, b: bool) -> Res<Out> {
        let _ = r;
        self.on(field, |field| {
            Ok(Out::Text(
                self.text_eq(field, if b { "true" } else { "false" }),
            ))
        })
    }

    fn field_regex(
        &self,
        r: &mut Render<'_>,
        field: &str,
        source: &str,
        flags: sigil_core::RegexFlags,
    ) -> Res<Out> {
        self.on(field, |field| {
            self.engine
                .base()
                .field_regex(r, field, &unpadded_regex(source), flags)
        })
    }

    fn field_compare(&self, r: &mut Render<'_>, field: &str, op: CmpOp, num: &str) -> Res<Out> {
        let _ = r;
        let op = match op {
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
        };
        self.on(field, |field| {
            Ok(Out::Text(format!(
                "{} {op} {num}",
                self.engine.as_number(&self.field(field))
            )))
        })
    }

    fn expansion(
        &self,
        r: &mut Render<'_>,
        field: &str,
        values: &[crate::tree::Value],
    ) -> Res<Out> {
        let or = crate::render::expansion_or(field, values);
        r.convert(&Node::Or(or))
    }

    fn in_expression(&self, r: &mut Render<'_>, kind: BoolKind, args: &[Node]) -> Res<Out> {
        // Spark's own form of a list (`rlike '.*(a|b).*'`) backtracks over the whole text at
        // every position: comparisons one by one, long lists folded (see [`fold`]).
        r.bool_op(kind, args)
    }
}

/// One rule of a job.
#[derive(Debug, Clone)]
struct JobRule {
    id: String,
    title: String,
    level: String,
    tags: Vec<String>,
}

/// The most rules one array of a job tests: an engine plans and compiles a few hundred
/// conditions at a time well, thousands in one expression badly (minutes, or never).
const RULES_PER_BRANCH: usize = 150;

/// Rules that share the conditions selecting their events (the comparisons of `Channel` and
/// `EventID` the rule and its pipelines require): the job tests an event against a group's
/// rules only where the shared conditions hold, so each event meets only the rules written
/// for its kind of event.
#[derive(Debug, Default)]
struct Group {
    /// The shared conditions; `None` for the rules that have none.
    selector: Option<String>,
    /// Each rule's index and what it requires beyond the shared conditions.
    rules: Vec<(usize, String)>,
}

impl Group {
    /// The group's rules in arrays of at most [`RULES_PER_BRANCH`].
    fn branches(&self) -> impl Iterator<Item = &[(usize, String)]> {
        self.rules.chunks(RULES_PER_BRANCH)
    }
}

/// The rules grouped by the conditions selecting their events, in order of their selectors.
fn group(rules: Vec<(usize, Option<String>, String)>) -> Vec<Group> {
    let mut groups: BTreeMap<Option<String>, Group> = BTreeMap::new();
    for (index, selector, rest) in rules {
        groups
            .entry(selector.clone())
            .or_insert_with(|| Group {
                selector,
                rules: Vec::new(),
            })
            .rules
            .push((index, rest));
    }
    groups.into_values().collect()
}

/// `a AND b`, each parenthesised, `true` for none, as SQL.
fn sql_and(a: Option<&str>, b: &str) -> String {
    match a {
        None => b.to_string(),
        Some(a) if b == "true" => a.to_string(),
        Some(a) => format!("({a}) AND ({b})"),
    }
}

/// A detection job being assembled: rules added one by one (after their pipelines), then
/// written whole.
#[derive(Debug)]
pub struct Job {
    engine: Engine,
    rules: Vec<(Rule, Vec<String>)>,
    skipped: Vec<(String, String)>,
    /// The lake's column of each field key (see [`name_key`]), when the job is written for
    /// a lake.
    lake: Option<BTreeMap<String, String>>,
    /// The lake's columns that hold lists.
    lists: BTreeSet<String>,
}

/// A field name as a key that the names sigil takes for one field share: ASCII case and
/// spaces ignored (`Process Name` is `ProcessName`), as `sigil hunt` matches names.
fn name_key(name: &str) -> String {
    name.chars()
        .filter(|&c| c != ' ')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl Job {
    /// An empty job for `engine`, for a table whose columns the rules' fields name (as sigil
    /// matches names) and hold text.
    pub fn new(engine: Engine) -> Self {
        Self {
            engine,
            rules: Vec::new(),
            skipped: Vec::new(),
            lake: None,
            lists: BTreeSet::new(),
        }
    }

    /// An empty job for `engine` written for a lake whose columns are `columns` (name,
    /// whether it holds lists), as [`sigil export`] writes them: each field a rule names is
    /// read from the lake's column of that name (ignoring case and spaces), and a condition
    /// on a list holds where any element meets it.
    pub fn for_lake(engine: Engine, columns: impl IntoIterator<Item = (String, bool)>) -> Self {
        let mut job = Self::new(engine);
        let mut lake = BTreeMap::new();
        for (name, list) in columns {
            if list {
                job.lists.insert(name.clone());
            }
            lake.entry(name_key(&name)).or_insert(name);
        }
        job.lake = Some(lake);
        job
    }

    /// Adds a rule as its pipelines left it; a rule the job cannot express is listed in the
    /// header with the reason and the error returned.
    pub fn add(&mut self, rule: &Rule) -> Result<(), ConvertError> {
        let renderer = JobRenderer::new(self.engine, &self.lists);
        let checked = match &self.lake {
            Some(lake) => {
                let rule = respell(rule, lake);
                list_limits(self.engine, &rule, &self.lists)
                    .and_then(|()| conditions(&renderer, &rule))
            }
            None => conditions(&renderer, rule),
        };
        match checked {
            Ok(parts) => {
                self.rules.push((rule.clone(), parts));
                Ok(())
            }
            Err(e) => {
                self.skip(rule.id.as_deref(), &rule.title, e.to_string());
                Err(e)
            }
        }
    }

    /// Lists a rule that cannot be expressed (or read), with the reason.
    pub fn skip(&mut self, id: Option<&str>, title: &str, reason: String) {
        let name = match id {
            Some(id) => format!("{id} {title}"),
            None => title.to_string(),
        };
        self.skipped.push((name, reason));
    }

    /// How many rules the job evaluates.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// How many rules the job lists as not expressed.
    pub fn skipped(&self) -> usize {
        self.skipped.len()
    }

    /// Whether the job evaluates no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The job's text.
    pub fn render(&self) -> String {
        // Field names are matched as sigil matches them (ignoring case and spaces): one
        // spelling per field, the lake's where the job is written for one, so that an engine
        // with case-sensitive names (ClickHouse) finds its column.
        let mut spelling: BTreeMap<String, String> = self.lake.clone().unwrap_or_default();
        for (_, name) in EVENT_COLUMNS {
            spelling
                .entry(name_key(name))
                .or_insert_with(|| name.to_string());
        }
        let mut fields = BTreeSet::new();
        for (rule, _) in &self.rules {
            for f in rule_fields(rule) {
                let canonical = spelling
                    .entry(name_key(&f))
                    .or_insert_with(|| f.clone())
                    .clone();
                fields.insert(canonical);
            }
        }
        let renderer = JobRenderer::new(self.engine, &self.lists);
        let mut rules = Vec::with_capacity(self.rules.len());
        let mut selected = Vec::with_capacity(self.rules.len());
        for (index, (rule, parts)) in self.rules.iter().enumerate() {
            let respelled = respell(rule, &spelling);
            let (selector, rest) =
                split(&renderer, &respelled).unwrap_or_else(|_| (None, join_or(parts)));
            selected.push((index, selector, rest));
            rules.push(JobRule {
                id: rule.id.clone().unwrap_or_else(|| rule.title.clone()),
                title: rule.title.clone(),
                level: rule
                    .level
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                tags: rule.tags.clone(),
            });
        }
        let groups = group(selected);
        for (_, name) in EVENT_COLUMNS {
            fields.insert(spelling[&name_key(name)].clone());
        }
        let fields: Vec<Field> = fields
            .into_iter()
            .map(|name| Field {
                list: self.lists.contains(&name),
                name,
            })
            .collect();
        let job = JobText {
            rules: &rules,
            groups: &groups,
            fields: &fields,
            skipped: &self.skipped,
            event: EVENT_COLUMNS
                .map(|(as_name, column)| (as_name, spelling[&name_key(column)].clone())),
        };
        match self.engine {
            Engine::Spark => spark_job(&job),
            Engine::DuckDb => duckdb_job(&job),
            Engine::ClickHouse => clickhouse_job(&job),
        }
    }
}

/// The rule's condition split into the comparisons selecting its events (see [`Group`]) and
/// the rest, each rendered; a rule with several Sigma conditions, or none that selects, has
/// no selector.
fn split(renderer: &JobRenderer, rule: &Rule) -> Result<(Option<String>, String), ConvertError> {
    let parts = conditions(renderer, rule)?;
    let RuleBody::Detection(detection) = &rule.body else {
        return Ok((None, join_or(&parts)));
    };
    let mut nodes = lowered(detection)?;
    if nodes.len() != 1 {
        return Ok((None, join_or(&parts)));
    }
    let mut conjuncts = Vec::new();
    flatten_and(nodes.remove(0), &mut conjuncts);
    let (selectors, rest): (Vec<Node>, Vec<Node>) = conjuncts.into_iter().partition(selects);
    if selectors.is_empty() {
        return Ok((None, join_or(&parts)));
    }
    let render = |nodes: Vec<Node>| -> Result<String, ConvertError> {
        let node = if nodes.len() == 1 {
            nodes.into_iter().next().unwrap_or(Node::And(Vec::new()))
        } else {
            Node::And(nodes)
        };
        let mut r = Render::new(renderer);
        let out = r.convert(&node)?;
        let text = r.text_of(&out).to_string();
        Ok(if text.is_empty() {
            "true".to_string()
        } else {
            text
        })
    };
    // One order of the selectors, so that rules selecting the same events share a group.
    let mut keyed = selectors
        .into_iter()
        .map(|n| Ok((render(vec![n.clone()])?, n)))
        .collect::<Result<Vec<_>, ConvertError>>()?;
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.dedup_by(|a, b| a.0 == b.0);
    let selector = render(keyed.into_iter().map(|(_, n)| n).collect())?;
    let rest = if rest.is_empty() {
        "true".to_string()
    } else {
        render(rest)?
    };
    Ok((Some(selector), rest))
}

/// The fewest alternatives of one field an OR folds into one regular expression.
const FOLD_ALTERNATIVES: usize = 16;

/// The detection's conditions as trees, long ORs of one field folded (see [`fold`]).
fn lowered(detection: &sigil_core::Detection) -> Result<Vec<Node>, ConvertError> {
    Ok(crate::lower::lower_detection(detection)?
        .into_iter()
        .map(fold)
        .collect())
}

/// The node with every OR of many plain comparisons of one field (a list of hashes, of
/// paths) folded into one case-insensitive regular expression of the alternatives: an
/// engine plans one regular expression in a moment and thousands of `ILIKE`s in seconds
/// (DuckDB, ClickHouse) and tests it in one pass over the text.
fn fold(node: Node) -> Node {
    match node {
        Node::And(v) => Node::And(v.into_iter().map(fold).collect()),
        Node::Not(n) => Node::Not(Box::new(fold(*n))),
        Node::Or(v) => {
            let v: Vec<Node> = v.into_iter().map(fold).collect();
            let mut by_field: BTreeMap<String, usize> = BTreeMap::new();
            for n in &v {
                if let Some((field, _)) = plain(n) {
                    *by_field.entry(field.to_string()).or_default() += 1;
                }
            }
            if by_field.values().all(|&n| n < FOLD_ALTERNATIVES) {
                return Node::Or(v);
            }
            let mut out = Vec::new();
            let mut folded: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
            for n in v {
                match plain(&n) {
                    Some((field, p)) if by_field[field] >= FOLD_ALTERNATIVES => {
                        let key = field.to_string();
                        let alternative = unanchored_regex(p);
                        let slot = out.len();
                        let entry = folded.entry(key).or_insert((slot, Vec::new()));
                        if entry.1.is_empty() {
                            out.push(Node::Or(Vec::new()));
                        }
                        entry.1.push(alternative);
                    }
                    _ => out.push(n),
                }
            }
            for (field, (slot, alternatives)) in folded {
                out[slot] = Node::Field {
                    field,
                    value: crate::tree::Value::Regex {
                        source: format!("(?:{})", alternatives.join("|")),
                        flags: sigil_core::RegexFlags {
                            ignore_case: true,
                            multi_line: false,
                            dot_all: false,
                        },
                    },
                };
            }
            if out.len() == 1 {
                out.pop().unwrap_or(Node::Or(Vec::new()))
            } else {
                Node::Or(out)
            }
        }
        n => n,
    }
}

/// A comparison of a field with a plain (case-insensitive) text, as `(field, pattern)`:
/// equal to, containing, starting or ending with the text, no wildcard within (which would
/// make a backtracking engine, Java's, retry every alternative at every position).
fn plain(node: &Node) -> Option<(&str, &Pattern)> {
    use sigil_core::pattern::Piece;
    match node {
        Node::Field {
            field,
            value: crate::tree::Value::Str(s),
        } if !s.cased => {
            let pieces = s.pattern.pieces();
            let inner = match pieces {
                [Piece::AnyMany, inner @ .., Piece::AnyMany] => inner,
                [Piece::AnyMany, inner @ ..] | [inner @ .., Piece::AnyMany] => inner,
                inner => inner,
            };
            matches!(inner, [Piece::Lit(_)]).then_some((field.as_str(), &s.pattern))
        }
        _ => None,
    }
}

/// A regular expression found anywhere in a text exactly where the pattern matches the
/// whole text: anchored at an end unless the pattern starts (ends) with `*`.
fn unanchored_regex(p: &Pattern) -> String {
    use sigil_core::pattern::Piece;
    let pieces = p.pieces();
    let start = usize::from(matches!(pieces.first(), Some(Piece::AnyMany)));
    let trailing = matches!(pieces.last(), Some(Piece::AnyMany));
    let end = pieces.len() - usize::from(trailing && pieces.len() > start);
    let mut out = String::new();
    if start == 0 {
        out.push('^');
    }
    for piece in &pieces[start..end] {
        match piece {
            Piece::Lit(s) => out.push_str(&sigil_core::pattern::regex_escape(s)),
            Piece::AnyMany | Piece::Placeholder(_) => out.push_str("(?s:.*)"),
            Piece::AnyOne => out.push_str("(?s:.)"),
        }
    }
    if !trailing {
        out.push('$');
    }
    out
}

/// A regular expression without a leading or trailing `.*`, which change nothing where the
/// expression is searched anywhere in the text (as Sigma's `re` is), but make a backtracking
/// engine (Java's, Spark's) try every end of the text from every position.
fn unpadded_regex(source: &str) -> String {
    // Inline flags first, as `(?i)`.
    let flags_end = source
        .strip_prefix("(?")
        .and_then(|rest| rest.find(')').map(|end| (rest, end)))
        .filter(|(rest, end)| rest[..*end].chars().all(|c| c.is_ascii_alphabetic()))
        .map_or(0, |(_, end)| end + 3);
    let (flags, mut s) = source.split_at(flags_end);
    if let Some(rest) = s.strip_prefix(".*")
        && !rest.starts_with(['*', '+', '?', '{'])
    {
        s = rest;
    }
    if let Some(rest) = s.strip_suffix(".*") {
        // Not an escaped dot (an odd run of backslashes before it), not a lazy `.*?`.
        let backslashes = rest.len() - rest.trim_end_matches('\\').len();
        if backslashes % 2 == 0 && !rest.ends_with(['*', '+', '?', '}', '|', '(']) {
            s = rest;
        }
    }
    format!("{flags}{s}")
}

/// The conjuncts of nested ANDs.
fn flatten_and(node: Node, out: &mut Vec<Node>) {
    match node {
        Node::And(v) => v.into_iter().for_each(|n| flatten_and(n, out)),
        n => out.push(n),
    }
}

/// Whether a conjunct compares `Channel` or `EventID` with plain values (one or several).
fn selects(node: &Node) -> bool {
    fn field(node: &Node) -> Option<&str> {
        match node {
            Node::Field {
                field,
                value: crate::tree::Value::Str(_) | crate::tree::Value::Num(_),
            } if field.eq_ignore_ascii_case("Channel") || field.eq_ignore_ascii_case("EventID") => {
                Some(field)
            }
            _ => None,
        }
    }
    match node {
        Node::Or(v) => {
            let first = v.first().and_then(field);
            first.is_some() && v.iter().all(|n| field(n) == first)
        }
        n => field(n).is_some(),
    }
}

/// The rule's conditions in the job's renderer, one per Sigma condition.
fn conditions(renderer: &JobRenderer, rule: &Rule) -> Result<Vec<String>, ConvertError> {
    if let Some(n) = rule.not_evaluable.first() {
        return Err(ConvertError::InvalidValue {
            message: format!("not convertible: {}", n.reason),
            span: n.span,
        });
    }
    let detection = match &rule.body {
        RuleBody::Detection(d) => d,
        RuleBody::Filter(_) => return Err(ConvertError::NotADetection("filter")),
        RuleBody::Correlation(_) => return Err(ConvertError::NotADetection("correlation")),
    };
    let mut parts = Vec::new();
    for node in lowered(detection)? {
        let mut r = Render::new(renderer);
        let out = r.convert(&node)?;
        let text = r.text_of(&out).to_string();
        parts.push(if text.is_empty() {
            "true".to_string()
        } else {
            text
        });
    }
    Ok(parts)
}

fn join_or(parts: &[String]) -> String {
    if parts.len() == 1 {
        parts[0].clone()
    } else {
        parts
            .iter()
            .map(|p| format!("({p})"))
            .collect::<Vec<_>>()
            .join(" OR ")
    }
}

/// Every field a rule names.
fn rule_fields(rule: &Rule) -> Vec<String> {
    let mut out = Vec::new();
    if let RuleBody::Detection(d) = &rule.body {
        for s in &d.searches {
            for p in s.expr.predicates() {
                out.extend(p.field.clone());
                for v in &p.values {
                    if let sigil_core::Value::FieldRef(f) = v {
                        out.push(f.clone());
                    }
                }
            }
        }
    }
    out
}

/// An error for what a job does not express on a list column: a field reference
/// (`fieldref`) to or from one; on ClickHouse, whose lists cannot be NULL (a missing list is
/// empty), a test of `null` or `exists`.
fn list_limits(engine: Engine, rule: &Rule, lists: &BTreeSet<String>) -> Result<(), ConvertError> {
    let RuleBody::Detection(d) = &rule.body else {
        return Ok(());
    };
    for s in &d.searches {
        for p in s.expr.predicates() {
            if engine == Engine::ClickHouse
                && let Some(f) = &p.field
                && lists.contains(f)
                && (p.op == sigil_core::Op::Exists
                    || p.values
                        .iter()
                        .any(|v| matches!(v, sigil_core::Value::Null)))
            {
                return Err(ConvertError::InvalidValue {
                    message: format!(
                        "not convertible: `null` or `exists` of the list column `{f}` (a ClickHouse array is empty, not NULL, where the field is missing)"
                    ),
                    span: p.span,
                });
            }
            for v in &p.values {
                if let sigil_core::Value::FieldRef(f) = v
                    && (lists.contains(f) || p.field.as_ref().is_some_and(|f| lists.contains(f)))
                {
                    return Err(ConvertError::InvalidValue {
                        message: format!(
                            "not convertible: a field reference between `{}` and `{f}`, one of them a list column",
                            p.field.as_deref().unwrap_or("")
                        ),
                        span: p.span,
                    });
                }
            }
        }
    }
    Ok(())
}

/// The rule with every field named by its one spelling (`spelling` keyed by [`name_key`]).
fn respell(rule: &Rule, spelling: &BTreeMap<String, String>) -> Rule {
    fn walk(e: &mut Expr, spelling: &BTreeMap<String, String>) {
        match e {
            Expr::And(v) | Expr::Or(v) => v.iter_mut().for_each(|x| walk(x, spelling)),
            Expr::Not(x) => walk(x, spelling),
            Expr::Pred(p) => {
                if let Some(f) = &mut p.field
                    && let Some(s) = spelling.get(&name_key(f))
                {
                    f.clone_from(s);
                }
                for v in &mut p.values {
                    if let sigil_core::Value::FieldRef(f) = v
                        && let Some(s) = spelling.get(&name_key(f))
                    {
                        f.clone_from(s);
                    }
                }
            }
        }
    }
    let mut rule = rule.clone();
    if let RuleBody::Detection(d) = &mut rule.body {
        for s in &mut d.searches {
            walk(&mut s.expr, spelling);
        }
    }
    rule
}

/// The header lines every job starts with (without the comment marker).
fn header(engine: &str, rules: &[JobRule], skipped: &[(String, String)]) -> Vec<String> {
    let mut out = vec![
        format!(
            "sigil detection job for {engine}: {} rules, evaluated in one pass over the events.",
            rules.len()
        ),
        format!("Detections: {}.", COLUMNS.join(", ")),
    ];
    if skipped.is_empty() {
        out.push("Every rule could be expressed.".into());
    } else {
        out.push(format!(
            "Rules that cannot be expressed ({}):",
            skipped.len()
        ));
        for (name, reason) in skipped {
            out.push(format!("  {}: {}", one_line(name), one_line(reason)));
        }
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn sql_comment(lines: &[String]) -> String {
    let mut out = String::new();
    for l in lines {
        let _ = writeln!(out, "-- {l}");
    }
    out
}

/// The rules' metadata as SQL rows `(index, id, title, level, tags)`.
fn rule_rows(rules: &[JobRule], lit: fn(&str) -> String, tags: fn(&[String]) -> String) -> String {
    rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "  ({i}, {}, {}, {}, {})",
                lit(&r.id),
                lit(&r.title),
                lit(&r.level),
                tags(&r.tags)
            )
        })
        .collect::<Vec<_>>()
        .join(",\n")
}

fn duckdb_literal(s: &str) -> String {
    crate::targets::sql::Literal::Standard.quoted(s)
}

fn clickhouse_literal(s: &str) -> String {
    crate::targets::sql::Literal::BackslashDoubledQuote.quoted(s)
}

/// A column a job reads.
#[derive(Debug)]
struct Field {
    name: String,
    /// Whether it holds lists of texts.
    list: bool,
}

/// What a job's text is written from.
struct JobText<'a> {
    rules: &'a [JobRule],
    groups: &'a [Group],
    /// Every column the rules name, and the event columns.
    fields: &'a [Field],
    skipped: &'a [(String, String)],
    /// The columns of the detections taken from the event, and the event's column of each.
    event: [(&'static str, String); 4],
}

/// The event columns of the detections, as `expr AS name` with `field` quoting names.
fn event_projection(event: &[(&str, String)], field: impl Fn(&str) -> String) -> String {
    event
        .iter()
        .map(|(name, column)| format!("{} AS {name}", field(column)))
        .chain(["record_id".to_string(), "source".to_string()])
        .collect::<Vec<_>>()
        .join(", ")
}

fn duckdb_job(job: &JobText<'_>) -> String {
    let JobText {
        rules,
        groups,
        fields,
        skipped,
        ..
    } = job;
    let d = &duckdb::DIALECT;
    let mut head = header("DuckDB", rules, skipped);
    head.push(String::new());
    head.push(
        "Run it over a table or view `events`, e.g. over a folder `sigil export` wrote:".into(),
    );
    head.push(
        "  CREATE VIEW events AS SELECT * FROM read_parquet('lake/*.parquet', union_by_name = true);"
            .into(),
    );
    head.push("The last statement returns the detections.".into());
    let mut out = sql_comment(&head);
    out.push('\n');
    // Every field a rule names, as text (a list of texts for a list column), and NULL where
    // the table has no such column: read once into a temporary table, which every group's
    // SELECT reads (a view would be planned again for each).
    let columns: Vec<String> = ["record_id".to_string(), "source".to_string()]
        .into_iter()
        .chain(fields.iter().map(|f| d.field(&f.name)))
        .collect();
    let template: Vec<String> = std::iter::once("NULL::BIGINT AS record_id".to_string())
        .chain(std::iter::once("NULL::VARCHAR AS source".to_string()))
        .chain(fields.iter().map(|f| {
            let ty = if f.list { "VARCHAR[]" } else { "VARCHAR" };
            format!("NULL::{ty} AS {}", d.field(&f.name))
        }))
        .collect();
    let _ = writeln!(
        out,
        "CREATE OR REPLACE TEMP TABLE sigil_events AS\nSELECT {} FROM (\n  SELECT * FROM (SELECT {} LIMIT 0)\n  UNION ALL BY NAME SELECT * FROM events\n);\n",
        columns.join(", "),
        template.join(", ")
    );
    let _ = writeln!(
        out,
        "CREATE OR REPLACE TEMP TABLE sigil_rules (rule_index INTEGER, rule_id VARCHAR, rule_title VARCHAR, level VARCHAR, tags VARCHAR[]);"
    );
    if !rules.is_empty() {
        let tags = |t: &[String]| {
            format!(
                "[{}]::VARCHAR[]",
                t.iter()
                    .map(|s| duckdb_literal(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let _ = writeln!(
            out,
            "INSERT INTO sigil_rules VALUES\n{};",
            rule_rows(rules, duckdb_literal, tags)
        );
    }
    out.push('\n');
    let projection = event_projection(&job.event, |c| d.field(c));
    let branches = union_branches(groups, |selector, branch| {
        let from = "FROM sigil_events";
        if let [(i, rest)] = branch {
            return format!(
                "  SELECT {projection}, {i} AS rule_index\n  {from}\n  WHERE {}",
                sql_and(selector, rest)
            );
        }
        let cases: Vec<String> = branch
            .iter()
            .map(|(i, rest)| format!("    CASE WHEN {rest} THEN {i} END"))
            .collect();
        let filter = selector
            .map(|s| format!("\n  WHERE {s}"))
            .unwrap_or_default();
        format!(
            "  SELECT {projection}, unnest(list_distinct([\n{}\n  ])) AS rule_index\n  {from}{filter}",
            cases.join(",\n")
        )
    })
    .unwrap_or_else(|| {
        format!("  SELECT {projection}, NULL::INTEGER AS rule_index FROM sigil_events WHERE false")
    });
    let _ = writeln!(
        out,
        "SELECT r.rule_id, r.rule_title, r.level, r.tags, h.timestamp, h.computer, h.channel, h.event_id, h.record_id, h.source\nFROM (\n{branches}\n) AS h\nJOIN sigil_rules AS r USING (rule_index)\nORDER BY h.source, h.record_id, r.rule_id;"
    );
    out
}

/// One SELECT per branch of every group, as `UNION ALL`; `None` for no rules.
fn union_branches(
    groups: &[Group],
    branch: impl Fn(Option<&str>, &[(usize, String)]) -> String,
) -> Option<String> {
    let selects: Vec<String> = groups
        .iter()
        .flat_map(|g| g.branches().map(|b| branch(g.selector.as_deref(), b)))
        .collect();
    (!selects.is_empty()).then(|| selects.join("\n  UNION ALL\n"))
}

fn clickhouse_job(job: &JobText<'_>) -> String {
    let JobText {
        rules,
        groups,
        fields,
        skipped,
        ..
    } = job;
    let d = &clickhouse::DIALECT;
    let structure: Vec<String> = [
        "source String".to_string(),
        "record_id Nullable(Int64)".to_string(),
    ]
    .into_iter()
    .chain(fields.iter().map(|f| {
        // An array cannot be NULL in ClickHouse: a list column is empty where it is missing.
        let ty = if f.list {
            "Array(String)"
        } else {
            "Nullable(String)"
        };
        format!("{} {ty}", d.field(&f.name))
    }))
    .collect();
    let mut head = header("ClickHouse", rules, skipped);
    head.push(String::new());
    head.push("Run it over a table or view `events` whose columns the rules name are text, e.g. over a folder".into());
    head.push("`sigil export` wrote (missing columns read as NULL, numbers as text):".into());
    head.push(format!(
        "  CREATE VIEW events AS SELECT * FROM file('lake/*.parquet', Parquet, '{}') SETTINGS input_format_parquet_allow_missing_columns = 1, input_format_parquet_case_insensitive_column_matching = 1;",
        structure.join(", ").replace('\\', "\\\\").replace('\'', "\\'")
    ));
    head.push("The last statement returns the detections.".into());
    let mut out = sql_comment(&head);
    out.push('\n');
    // The conditions of a large rule set make a long query.
    out.push_str("SET max_query_size = 1073741824;\nSET max_ast_elements = 100000000;\nSET max_expanded_ast_elements = 100000000;\n\n");
    let rows = if rules.is_empty() {
        "SELECT toInt32(0) AS rule_index, '' AS rule_id, '' AS rule_title, '' AS level, CAST([], 'Array(String)') AS tags WHERE 0".to_string()
    } else {
        let tags = |t: &[String]| {
            format!(
                "[{}]::Array(String)",
                t.iter()
                    .map(|s| clickhouse_literal(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        format!(
            "SELECT * FROM values('rule_index Int32, rule_id String, rule_title String, level String, tags Array(String)',\n{})",
            rule_rows(rules, clickhouse_literal, tags)
        )
    };
    let projection = event_projection(&job.event, |c| d.field(c));
    let branches = union_branches(groups, |selector, branch| {
        if let [(i, rest)] = branch {
            return format!(
                "  SELECT {projection}, toInt32({i}) AS rule_index\n  FROM events\n  WHERE {}",
                sql_and(selector, rest)
            );
        }
        let ifs: Vec<String> = branch
            .iter()
            .map(|(i, rest)| format!("    if({rest}, {i}, -1)"))
            .collect();
        let filter = selector
            .map(|s| format!("\n  WHERE {s}"))
            .unwrap_or_default();
        format!(
            "  SELECT {projection}, arrayJoin(arrayFilter(x -> x >= 0, [\n{}\n  ])) AS rule_index\n  FROM events{filter}",
            ifs.join(",\n")
        )
    })
    .unwrap_or_else(|| format!("  SELECT {projection}, toInt32(-1) AS rule_index FROM events WHERE 0"));
    let _ = writeln!(
        out,
        "SELECT r.rule_id, r.rule_title, r.level, r.tags, h.timestamp, h.computer, h.channel, h.event_id, h.record_id, h.source\nFROM (\n{branches}\n) AS h\nINNER JOIN (\n{rows}\n) AS r USING (rule_index)\nORDER BY h.source, h.record_id, r.rule_id;"
    );
    out
}

/// A Python string literal (JSON's escapes are Python's).
fn py_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn spark_job(job: &JobText<'_>) -> String {
    let JobText {
        rules,
        groups,
        fields,
        skipped,
        ..
    } = job;
    let no_lists = BTreeSet::new();
    let renderer = JobRenderer::new(Engine::Spark, &no_lists);
    let d = &renderer.dialect;
    let mut out = String::from("#!/usr/bin/env python3\n");
    for l in header("Apache Spark", rules, skipped) {
        let _ = writeln!(out, "# {l}");
    }
    out.push_str(
        "#\n# python detect.py --input DIR --output DIR       (Spark in local mode when no master is configured)\n# spark-submit detect.py --input s3://... --output s3://...\n# reads the Parquet folder `sigil export` wrote, writes the detections as Parquet to --output.\n\nimport argparse\nimport json\n\nfrom pyspark import SparkConf\nfrom pyspark.sql import SparkSession, functions as F, types as T\n\n",
    );
    let meta: Vec<serde_json::Value> = rules
        .iter()
        .map(|r| serde_json::json!([r.id, r.title, r.level, r.tags]))
        .collect();
    let _ = writeln!(
        out,
        "RULES = json.loads({})\n",
        py_str(&serde_json::Value::Array(meta).to_string())
    );
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    let lists: Vec<&str> = fields
        .iter()
        .filter(|f| f.list)
        .map(|f| f.name.as_str())
        .collect();
    let _ = writeln!(
        out,
        "FIELDS = json.loads({})\n",
        py_str(&serde_json::json!(names).to_string())
    );
    let _ = writeln!(
        out,
        "LISTS = set(json.loads({}))\n",
        py_str(&serde_json::json!(lists).to_string())
    );
    // One array of rule indices per branch, empty unless the branch's selector holds; the
    // arrays of an event are concatenated and exploded (one pass over the data).
    let branches: Vec<String> = groups
        .iter()
        .flat_map(|g| {
            g.branches().map(|branch| {
                let selector = g.selector.as_deref();
                if let [(i, rest)] = branch {
                    format!(
                        "CASE WHEN {} THEN array({i}) ELSE CAST(array() AS ARRAY<INT>) END",
                        sql_and(selector, rest)
                    )
                } else {
                    let cases: Vec<String> = branch
                        .iter()
                        .map(|(i, rest)| format!("CASE WHEN {rest} THEN {i} ELSE -1 END"))
                        .collect();
                    // `array_remove`, not a `filter` lambda: Spark generates code for it.
                    let array = format!("array_remove(array(\n  {}\n), -1)", cases.join(",\n  "));
                    match selector {
                        Some(s) => format!(
                            "CASE WHEN {s} THEN {array} ELSE CAST(array() AS ARRAY<INT>) END"
                        ),
                        None => array,
                    }
                }
            })
        })
        .collect();
    let _ = writeln!(
        out,
        "PROJECTION = {}\n",
        py_str(&event_projection(&job.event, |c| d.field(c)))
    );
    let _ = writeln!(
        out,
        "BRANCHES = json.loads({})\n",
        py_str(&serde_json::json!(branches).to_string())
    );
    out.push_str(SPARK_MAIN);
    out
}

const SPARK_MAIN: &str = r#"
def main():
    parser = argparse.ArgumentParser(description="Runs the rules over the events sigil export wrote.")
    parser.add_argument("--input", required=True, help="folder of Parquet files")
    parser.add_argument("--output", required=True, help="folder the detections are written to (Parquet)")
    args = parser.parse_args()
    builder = SparkSession.builder.appName("sigil detection job")
    if not SparkConf().contains("spark.master"):
        builder = builder.master("local[*]")
    spark = builder.getOrCreate()
    events = spark.read.parquet(args.input)
    # Every field the rules name, as text (the fields of LISTS as lists of texts); NULL where
    # the data has no such column. Names are matched as sigil matches them: ignoring case and
    # spaces (`Process Name` is `ProcessName`).
    def key(name):
        return name.lower().replace(" ", "")

    def col(name):
        # A column by its name as it is (`User.Name` is not a field of a struct `User`).
        return F.col("`{}`".format(name.replace("`", "``")))

    present = {}
    for c in events.schema.fields:
        present.setdefault(key(c.name), c)
    for name in FIELDS:
        column = present.get(key(name))
        if column is not None and column.name != name:
            events = events.withColumnRenamed(column.name, name)
        is_list = column is not None and isinstance(column.dataType, T.ArrayType)
        if name in LISTS:
            if column is None:
                value = F.lit(None).cast("array<string>")
            elif is_list:
                value = col(name).cast("array<string>")
            else:
                value = F.when(col(name).isNull(), F.lit(None).cast("array<string>")).otherwise(
                    F.array(col(name).cast("string"))
                )
        elif is_list:
            raise SystemExit(
                "column `{}` holds lists: write the job for this data with `sigil convert --format job --lake DIR`".format(
                    column.name
                )
            )
        elif column is None:
            value = F.lit(None).cast("string")
        else:
            value = col(name).cast("string")
        events = events.withColumn(name, value)
    if "record_id" not in present:
        events = events.withColumn("record_id", F.lit(None).cast("long"))
    events.createOrReplaceTempView("events")
    matches = "concat({})".format(", ".join(BRANCHES)) if BRANCHES else "CAST(array() AS ARRAY<INT>)"
    hits = spark.sql("SELECT {}, explode({}) AS rule_index FROM events".format(PROJECTION, matches))
    schema = T.StructType([
        T.StructField("rule_index", T.IntegerType()),
        T.StructField("rule_id", T.StringType()),
        T.StructField("rule_title", T.StringType()),
        T.StructField("level", T.StringType()),
        T.StructField("tags", T.ArrayType(T.StringType())),
    ])
    rules = spark.createDataFrame([(i, *r) for i, r in enumerate(RULES)], schema)
    detections = hits.join(F.broadcast(rules), "rule_index").select(
        "rule_id", "rule_title", "level", "tags", "timestamp", "computer", "channel", "event_id", "record_id", "source"
    )
    detections.write.mode("overwrite").parquet(args.output)
    spark.stop()


if __name__ == "__main__":
    main()
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(yaml: &str) -> Rule {
        sigil_sigma::parse_str(yaml)
            .rules
            .into_iter()
            .next()
            .expect("a rule")
    }

    const PROC: &str = "title: Cmd\nid: 11111111-0000-0000-0000-000000000000\nlevel: high\ntags: [attack.execution]\nlogsource: {product: windows}\ndetection:\n  sel:\n    image|endswith: '\\cmd.exe'\n    EventID: 1\n  filter:\n    CommandLine|contains: 'x_y'\n  condition: sel and not filter\n";
    const KEYWORD: &str =
        "title: Kw\nlogsource: {product: windows}\ndetection:\n  kw: [mimikatz]\n  condition: kw\n";

    fn job(engine: Engine) -> String {
        let mut job = Job::new(engine);
        job.add(&rule(PROC)).expect("expressible");
        assert!(job.add(&rule(KEYWORD)).is_err());
        assert_eq!(job.len(), 1);
        job.render()
    }

    #[test]
    fn duckdb_job_reads_every_field_as_text_and_ignores_case() {
        let text = job(Engine::DuckDb);
        assert!(
            text.contains("-- Rules that cannot be expressed (1):\n--   Kw: "),
            "{text}"
        );
        // Every field the rules name is a column of text, NULL where the table lacks it,
        // read once into a table.
        assert!(text.contains("NULL::VARCHAR AS image"), "{text}");
        assert!(
            text.contains(
                "CREATE OR REPLACE TEMP TABLE sigil_events AS\nSELECT record_id, source, "
            ),
            "{text}"
        );
        // The comparison of EventID selects the events; the rest is tested on them.
        assert!(
            text.contains("  FROM sigil_events\n  WHERE (EventID ILIKE '1') AND (image ILIKE '%\\cmd.exe' AND (NOT COALESCE((CommandLine ILIKE '%x\\_y%' ESCAPE '\\'), false)))"),
            "{text}"
        );
        assert!(text.contains(
            "'11111111-0000-0000-0000-000000000000', 'Cmd', 'high', ['attack.execution']"
        ));
        assert!(
            text.trim_end()
                .ends_with("ORDER BY h.source, h.record_id, r.rule_id;")
        );
    }

    #[test]
    fn clickhouse_job_names_its_columns_and_compares_without_in_lists() {
        let text = job(Engine::ClickHouse);
        assert!(text.contains("image Nullable(String)"), "{text}");
        assert!(
            text.contains("toInt32(0) AS rule_index\n  FROM events\n  WHERE (EventID ILIKE '1') AND (image ILIKE '%\\\\\\\\cmd.exe' AND "),
            "{text}"
        );
    }

    #[test]
    fn spark_job_is_a_program_with_the_rules_as_data() {
        let text = job(Engine::Spark);
        assert!(text.starts_with(
            "#!/usr/bin/env python3\n# sigil detection job for Apache Spark: 1 rules"
        ));
        assert!(
            text.contains("# Rules that cannot be expressed (1):"),
            "{text}"
        );
        assert!(text.contains("RULES = json.loads("), "{text}");
        assert!(text.contains("BRANCHES = json.loads("), "{text}");
        assert!(text.contains("lower(EventID) = lower('1')"), "{text}");
        assert!(text.contains("def main():"));
    }

    fn selecting(event_id: u32, image: &str) -> String {
        format!(
            "title: R{event_id}{image}\nlogsource: {{product: windows}}\ndetection:\n  sel:\n    EventID: {event_id}\n    Image|endswith: '{image}'\n  condition: sel\n"
        )
    }

    #[test]
    fn rules_selecting_the_same_events_share_one_array() {
        let mut job = Job::new(Engine::DuckDb);
        for yaml in [
            selecting(1, "a.exe"),
            selecting(3, "b.exe"),
            selecting(1, "c.exe"),
            PROC.to_string(),
        ] {
            job.add(&rule(&yaml)).expect("expressible");
        }
        job.add(&rule("title: Any\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image: x.exe\n  condition: sel\n"))
            .expect("expressible");
        let text = job.render();
        // EventID 1: three rules in one array, tested only where EventID is 1.
        let one = "  WHERE EventID ILIKE '1'";
        assert_eq!(text.matches(one).count(), 1, "{text}");
        let branch = &text[..text.find(one).expect("the group")];
        let branch = &branch[branch.rfind("SELECT").expect("its SELECT")..];
        assert!(
            branch.contains("CASE WHEN Image ILIKE '%a.exe' THEN 0 END"),
            "{branch}"
        );
        assert!(
            branch.contains("CASE WHEN Image ILIKE '%c.exe' THEN 2 END"),
            "{branch}"
        );
        assert!(branch.contains("THEN 3 END"), "{branch}");
        // EventID 3 alone, and the rule that selects nothing tested on every event.
        assert!(
            text.contains("1 AS rule_index\n  FROM sigil_events\n  WHERE (EventID ILIKE '3') AND (Image ILIKE '%b.exe')"),
            "{text}"
        );
        assert!(
            text.contains("4 AS rule_index\n  FROM sigil_events\n  WHERE Image ILIKE 'x.exe'"),
            "{text}"
        );
        assert_eq!(text.matches("UNION ALL\n").count(), 2, "{text}");
    }

    #[test]
    fn a_long_list_of_one_field_is_one_regular_expression() {
        let values: Vec<String> = (0..20).map(|i| format!("      - 'h{i}.x'")).collect();
        let yaml = format!(
            "title: Hashes\nlogsource: {{product: windows}}\ndetection:\n  sel:\n    Hashes|contains:\n{}\n  sel2:\n    Image|startswith: 'C:\\a'\n  condition: sel or sel2\n",
            values.join("\n")
        );
        for (engine, expected) in [
            (
                Engine::DuckDb,
                "regexp_matches(Hashes, '(?i)(?:h0\\.x|h1\\.x|",
            ),
            (
                Engine::ClickHouse,
                "match(Hashes, '(?i)(?:h0\\\\.x|h1\\\\.x|",
            ),
            (Engine::Spark, "Hashes rlike '(?iu)(?:h0"),
        ] {
            let mut job = Job::new(engine);
            job.add(&rule(&yaml)).expect("expressible");
            let text = job.render();
            assert!(text.contains(expected), "{engine:?}: {text}");
            assert!(text.contains("|h19"), "{engine:?}: {text}");
            assert!(!text.contains("%h7"), "{engine:?}: {text}");
            assert!(text.contains("'C:"), "{engine:?}: {text}");
        }
    }

    #[test]
    fn a_searched_regex_loses_its_padding() {
        assert_eq!(unpadded_regex(".*(a|b).*"), "(a|b)");
        assert_eq!(unpadded_regex("(?i).*a"), "(?i)a");
        assert_eq!(unpadded_regex("^.*a.*$"), "^.*a.*$");
        assert_eq!(unpadded_regex(r"a\.*"), r"a\.*");
        assert_eq!(unpadded_regex(r"a\\.*"), r"a\\");
        assert_eq!(unpadded_regex(".*?a"), ".*?a");
        assert_eq!(unpadded_regex(".*"), "");
    }

    #[test]
    fn alternatives_are_anchored_where_the_pattern_has_no_wildcard() {
        let re = |s: &str| unanchored_regex(&Pattern::parse_sigma(s, false));
        assert_eq!(re("*a.b*"), "a\\.b");
        assert_eq!(re("a*"), "^a");
        assert_eq!(re("*a"), "a$");
        assert_eq!(re("a?b"), "^a(?s:.)b$");
        assert_eq!(re("*a*b*"), "a(?s:.*)b");
        assert_eq!(re("*"), "");
        assert_eq!(re(""), "^$");
    }

    const LISTS: &str = "title: Tags\nlogsource: {product: test}\ndetection:\n  sel:\n    tags|contains: persist\n    processname: evil.exe\n  filter:\n    Ports|gte: 1024\n  condition: sel and not filter\n";

    fn lake() -> Vec<(String, bool)> {
        [("Tags", true), ("Process Name", false), ("Ports", true)]
            .map(|(n, l)| (n.to_string(), l))
            .into()
    }

    #[test]
    fn a_job_for_a_lake_reads_its_columns_and_tests_every_element_of_a_list() {
        for (engine, tags, ports) in [
            (
                Engine::DuckDb,
                "len(list_filter(Tags, lambda sigil_v: sigil_v ILIKE '%persist%')) > 0",
                "NOT COALESCE((len(list_filter(Ports, lambda sigil_v: TRY_CAST(sigil_v AS DOUBLE) >= 1024)) > 0), false)",
            ),
            (
                Engine::ClickHouse,
                "arrayExists(sigil_v -> sigil_v ILIKE '%persist%', Tags)",
                "arrayExists(sigil_v -> toFloat64OrNull(sigil_v) >= 1024, Ports)",
            ),
            (
                Engine::Spark,
                "exists(Tags, sigil_v -> contains(lower(sigil_v), lower('persist')))",
                "exists(Ports, sigil_v -> try_cast(sigil_v AS DOUBLE) >= 1024)",
            ),
        ] {
            let mut job = Job::for_lake(engine, lake());
            job.add(&rule(LISTS)).expect("expressible");
            let text = job.render();
            assert!(text.contains(tags), "{engine:?}: {text}");
            assert!(text.contains(ports), "{engine:?}: {text}");
            // `processname` is the lake's `Process Name` (case and spaces ignored).
            assert!(!text.contains("processname"), "{engine:?}: {text}");
        }
        let duckdb = {
            let mut job = Job::for_lake(Engine::DuckDb, lake());
            job.add(&rule(LISTS)).expect("expressible");
            job.render()
        };
        assert!(duckdb.contains("NULL::VARCHAR[] AS Tags"), "{duckdb}");
        assert!(
            duckdb.contains("NULL::VARCHAR AS \"Process Name\""),
            "{duckdb}"
        );
        assert!(
            duckdb.contains("\"Process Name\" ILIKE 'evil.exe'"),
            "{duckdb}"
        );
        let clickhouse = {
            let mut job = Job::for_lake(Engine::ClickHouse, lake());
            job.add(&rule(LISTS)).expect("expressible");
            job.render()
        };
        assert!(clickhouse.contains("Tags Array(String)"), "{clickhouse}");
        assert!(
            clickhouse.contains("`Process Name` Nullable(String)"),
            "{clickhouse}"
        );
        let spark = {
            let mut job = Job::for_lake(Engine::Spark, lake());
            job.add(&rule(LISTS)).expect("expressible");
            job.render()
        };
        assert!(
            spark.contains(r#"LISTS = set(json.loads("[\"Ports\",\"Tags\"]"))"#),
            "{spark}"
        );
        assert!(spark.contains("`Process Name`"), "{spark}");
    }

    #[test]
    fn what_a_list_column_cannot_be_asked_is_listed() {
        let fieldref = "title: Ref\nlogsource: {product: test}\ndetection:\n  sel:\n    Tags|fieldref: Image\n  condition: sel\n";
        let null = "title: Null\nlogsource: {product: test}\ndetection:\n  sel:\n    Tags: null\n  condition: sel\n";
        for engine in [Engine::DuckDb, Engine::ClickHouse, Engine::Spark] {
            let mut job = Job::for_lake(engine, lake());
            let err = job.add(&rule(fieldref)).expect_err("a reference to a list");
            assert!(err.to_string().contains("list column"), "{err}");
            // ClickHouse has no NULL array; the others compare NULL as the field missing.
            let null = job.add(&rule(null));
            assert_eq!(
                null.is_err(),
                engine == Engine::ClickHouse,
                "{engine:?}: {null:?}"
            );
            assert_eq!(job.skipped(), 1 + usize::from(engine == Engine::ClickHouse));
        }
    }

    #[test]
    fn a_spark_job_quotes_a_dotted_name_as_one_column() {
        let yaml = "title: Dotted\nlogsource: {product: test}\ndetection:\n  sel:\n    process.name: x.exe\n  condition: sel\n";
        let mut job = Job::new(Engine::Spark);
        job.add(&rule(yaml)).expect("expressible");
        let text = job.render();
        assert!(
            text.contains("CASE WHEN lower(`process.name`) = lower('x.exe')"),
            "{text}"
        );
    }

    #[test]
    fn only_the_sql_engines_have_a_job() {
        assert_eq!(
            Engine::of(&crate::targets::duckdb::TARGET),
            Some(Engine::DuckDb)
        );
        assert_eq!(Engine::of(&crate::targets::sqlite::TARGET), None);
    }
}
