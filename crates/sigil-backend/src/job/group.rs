//! The rules of a job grouped by the `Channel` / `EventID` comparisons that select their
//! events, in arrays of bounded size, and long ORs of one field folded into one regular
//! expression.

use super::{
    BTreeMap, ConvertError, JobRenderer, Node, Pattern, Render, Rule, RuleBody, conditions, join_or,
};

/// The most rules one array of a job tests: an engine plans and compiles a few hundred
/// conditions at a time well, thousands in one expression badly (minutes, or never).
pub(super) const RULES_PER_BRANCH: usize = 150;

/// Rules that share the conditions selecting their events (the comparisons of `Channel` and
/// `EventID` the rule and its pipelines require): the job tests an event against a group's
/// rules only where the shared conditions hold, so each event meets only the rules written
/// for its kind of event.
#[derive(Debug, Default)]
pub(super) struct Group {
    /// The shared conditions; `None` for the rules that have none.
    pub(super) selector: Option<String>,
    /// Each rule's index and what it requires beyond the shared conditions.
    pub(super) rules: Vec<(usize, String)>,
}

impl Group {
    /// The group's rules in arrays of at most [`RULES_PER_BRANCH`].
    pub(super) fn branches(&self) -> impl Iterator<Item = &[(usize, String)]> {
        self.rules.chunks(RULES_PER_BRANCH)
    }
}

/// The rules grouped by the conditions selecting their events, in order of their selectors.
pub(super) fn group(rules: Vec<(usize, Option<String>, String)>) -> Vec<Group> {
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
pub(super) fn sql_and(a: Option<&str>, b: &str) -> String {
    match a {
        None => b.to_string(),
        Some(a) if b == "true" => a.to_string(),
        Some(a) => format!("({a}) AND ({b})"),
    }
}

/// The rule's condition split into the comparisons selecting its events (see [`Group`]) and
/// the rest, each rendered; a rule with several Sigma conditions, or none that selects, has
/// no selector.
pub(super) fn split(
    renderer: &JobRenderer,
    rule: &Rule,
) -> Result<(Option<String>, String), ConvertError> {
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
pub(super) const FOLD_ALTERNATIVES: usize = 16;

/// The detection's conditions as trees, long ORs of one field folded (see [`fold`]).
pub(super) fn lowered(detection: &sigil_core::Detection) -> Result<Vec<Node>, ConvertError> {
    Ok(crate::lower::lower_detection(detection)?
        .into_iter()
        .map(fold)
        .collect())
}

/// The node with every OR of many plain comparisons of one field (a list of hashes, of
/// paths) folded into one case-insensitive regular expression of the alternatives: an
/// engine plans one regular expression in a moment and thousands of `ILIKE`s in seconds
/// (DuckDB, ClickHouse) and tests it in one pass over the text.
pub(super) fn fold(node: Node) -> Node {
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
pub(super) fn plain(node: &Node) -> Option<(&str, &Pattern)> {
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
pub(super) fn unanchored_regex(p: &Pattern) -> String {
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
pub(super) fn unpadded_regex(source: &str) -> String {
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
pub(super) fn flatten_and(node: Node, out: &mut Vec<Node>) {
    match node {
        Node::And(v) => v.into_iter().for_each(|n| flatten_and(n, out)),
        n => out.push(n),
    }
}

/// Whether a conjunct compares `Channel` or `EventID` with plain values (one or several).
pub(super) fn selects(node: &Node) -> bool {
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

/// One SELECT per branch of every group, as `UNION ALL`; `None` for no rules.
pub(super) fn union_branches(
    groups: &[Group],
    branch: impl Fn(Option<&str>, &[(usize, String)]) -> String,
) -> Option<String> {
    let selects: Vec<String> = groups
        .iter()
        .flat_map(|g| g.branches().map(|b| branch(g.selector.as_deref(), b)))
        .collect();
    (!selects.is_empty()).then(|| selects.join("\n  UNION ALL\n"))
}
