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
use crate::targets::{clickhouse as clickhouse_sql, duckdb as duckdb_sql, spark as spark_sql};
use crate::tree::{BoolKind, CmpOp, Node, Str};

mod clickhouse;
mod duckdb;
mod group;
mod spark;

use clickhouse::clickhouse_job;
use duckdb::duckdb_job;
#[cfg(test)]
use group::unanchored_regex;
use group::{Group, group, lowered, split, sql_and, union_branches, unpadded_regex};
use spark::spark_job;

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
            Engine::Spark => &spark_sql::Spark,
            Engine::DuckDb => &duckdb_sql::DuckDb,
            Engine::ClickHouse => &clickhouse_sql::ClickHouse,
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
            Engine::DuckDb => duckdb_sql::ilike(&f, &Pattern::literal(text)),
            Engine::ClickHouse => clickhouse_sql::ilike(&f, &Pattern::literal(text)),
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
            Engine::DuckDb => Ok(Out::Text(duckdb_sql::ilike(&self.field(field), &s.pattern))),
            Engine::ClickHouse => Ok(Out::Text(clickhouse_sql::ilike(
                &self.field(field),
                &s.pattern,
            ))),
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
