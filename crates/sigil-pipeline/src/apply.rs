//! Applying processing items to a rule, with pySigma's semantics.
//!
//! The rule's searches are first moved into a working tree whose leaves carry, besides the
//! predicate, the ids of the processing items applied to them (pySigma tracks this per
//! detection item; `processing_item_applied` conditions read it). Items then run in order,
//! each seeing the rule as the items before it left it, and the tree is turned back into
//! plain expressions at the end.

use std::collections::{BTreeMap, BTreeSet};

use sigil_core::{
    Condition, Detection, Expr, Filter, Level, Pattern, Piece, Predicate, Rule, RuleBody, Search,
    Span, Status, Value,
};

use crate::condition_predicate;
use crate::error::PipelineError;
use crate::model::{
    CmpOp, DetectionItemCondition, FieldNameCondition, ProcessingItem, RuleCondition, Scalar,
    StateFromRule, Transformation, ValueLookup, ValueQuantifier,
};
use crate::value_rewrite;

/// A rule after a pipeline ran over it, with what the pipeline recorded on the way.
#[derive(Debug, Clone)]
pub struct Processed {
    /// The rewritten rule.
    pub rule: Rule,
    /// The ids of the processing items that applied to the rule.
    pub applied: BTreeSet<String>,
    /// The pipeline state set by `set_state` (backends read it, e.g. for an index name).
    pub state: BTreeMap<String, Scalar>,
    /// Whether an item chosen by the rule's logsource (a `logsource` rule condition that
    /// held) applied: the pipelines know the rule's log source and map it to their events.
    pub logsource_mapped: bool,
}

/// A search expression whose leaves remember the processing items applied to them.
#[derive(Debug, Clone)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Item(Item),
}

#[derive(Debug, Clone)]
struct Item {
    pred: Predicate,
    applied: Vec<String>,
}

impl Node {
    fn from_expr(e: Expr) -> Self {
        match e {
            Expr::And(v) => Node::And(v.into_iter().map(Node::from_expr).collect()),
            Expr::Or(v) => Node::Or(v.into_iter().map(Node::from_expr).collect()),
            Expr::Not(e) => Node::Not(Box::new(Node::from_expr(*e))),
            Expr::Pred(pred) => Node::Item(Item {
                pred,
                applied: Vec::new(),
            }),
        }
    }

    /// Like [`Node::from_expr`], copying the predicates of `e`.
    fn from_expr_ref(e: &Expr) -> Self {
        match e {
            Expr::And(v) => Node::And(v.iter().map(Node::from_expr_ref).collect()),
            Expr::Or(v) => Node::Or(v.iter().map(Node::from_expr_ref).collect()),
            Expr::Not(e) => Node::Not(Box::new(Node::from_expr_ref(e))),
            Expr::Pred(pred) => Node::Item(Item {
                pred: pred.clone(),
                applied: Vec::new(),
            }),
        }
    }

    fn into_expr(self) -> Expr {
        match self {
            Node::And(v) => Expr::And(v.into_iter().map(Node::into_expr).collect()),
            Node::Or(v) => Expr::Or(v.into_iter().map(Node::into_expr).collect()),
            Node::Not(e) => Expr::Not(Box::new(e.into_expr())),
            Node::Item(i) => Expr::Pred(i.pred),
        }
    }

    fn items(&self, f: &mut impl FnMut(&Item)) {
        match self {
            Node::And(v) | Node::Or(v) => v.iter().for_each(|n| n.items(f)),
            Node::Not(n) => n.items(f),
            Node::Item(i) => f(i),
        }
    }

    fn items_mut(&mut self, f: &mut impl FnMut(&mut Item)) {
        match self {
            Node::And(v) | Node::Or(v) => v.iter_mut().for_each(|n| n.items_mut(f)),
            Node::Not(n) => n.items_mut(f),
            Node::Item(i) => f(i),
        }
    }
}

/// What a detection-item transformation did to one item.
enum Action {
    /// Not touched.
    Keep,
    /// Changed in place.
    Changed,
    /// Replaced by another expression.
    Replace(Node),
    /// Removed.
    Delete,
}

type ItemFn<'a> = dyn FnMut(&mut Item) -> Result<Action, PipelineError> + 'a;

/// Runs `f` over the items of `node`, applying the replacements. `Changed` and `Replace`
/// mark the affected items with `id`.
fn rewrite(node: &mut Node, id: Option<&str>, f: &mut ItemFn<'_>) -> Result<(), PipelineError> {
    match node {
        Node::And(children) | Node::Or(children) => {
            let mut i = 0;
            while i < children.len() {
                if let Node::Item(item) = &mut children[i] {
                    match f(item)? {
                        Action::Keep => {}
                        Action::Changed => mark(item, id),
                        Action::Replace(mut n) => {
                            n.items_mut(&mut |it| mark(it, id));
                            children[i] = n;
                        }
                        Action::Delete => {
                            children.remove(i);
                            continue;
                        }
                    }
                } else {
                    rewrite(&mut children[i], id, f)?;
                }
                i += 1;
            }
            Ok(())
        }
        Node::Not(inner) => rewrite_root(inner, id, f),
        Node::Item(_) => rewrite_root(node, id, f),
    }
}

/// Like [`rewrite`] for a node that may itself be an item; a deleted root item leaves an
/// empty `And` (true), as an emptied detection in pySigma constrains nothing.
fn rewrite_root(
    node: &mut Node,
    id: Option<&str>,
    f: &mut ItemFn<'_>,
) -> Result<(), PipelineError> {
    if let Node::Item(item) = node {
        match f(item)? {
            Action::Keep => {}
            Action::Changed => mark(item, id),
            Action::Replace(mut n) => {
                n.items_mut(&mut |it| mark(it, id));
                *node = n;
            }
            Action::Delete => *node = Node::And(Vec::new()),
        }
        Ok(())
    } else {
        rewrite(node, id, f)
    }
}

/// `Changed` when `yes`, else `Keep`.
fn changed(yes: bool) -> Action {
    if yes { Action::Changed } else { Action::Keep }
}

fn mark(item: &mut Item, id: Option<&str>) {
    if let Some(id) = id
        && !item.applied.iter().any(|a| a == id)
    {
        item.applied.push(id.to_string());
    }
}

/// A copy of `rule` without the searches of its detection, and those searches: they are
/// copied once, straight into the working tree, rather than copied and then converted.
fn split_searches(rule: &Rule) -> (Rule, &[Search]) {
    let without = |d: &Detection| Detection {
        searches: Vec::new(),
        conditions: d.conditions.clone(),
        condition_span: d.condition_span,
    };
    let (body, searches) = match &rule.body {
        RuleBody::Detection(d) => (RuleBody::Detection(without(d)), d.searches.as_slice()),
        RuleBody::Filter(f) => (
            RuleBody::Filter(Filter {
                rules: f.rules.clone(),
                detection: without(&f.detection),
            }),
            f.detection.searches.as_slice(),
        ),
        RuleBody::Correlation(c) => (RuleBody::Correlation(c.clone()), &[][..]),
    };
    // Every field is named, so a field added to `Rule` cannot be forgotten here.
    let copy = Rule {
        language: rule.language,
        id: rule.id.clone(),
        name: rule.name.clone(),
        title: rule.title.clone(),
        description: rule.description.clone(),
        status: rule.status,
        level: rule.level,
        author: rule.author.clone(),
        date: rule.date.clone(),
        modified: rule.modified.clone(),
        references: rule.references.clone(),
        tags: rule.tags.clone(),
        falsepositives: rule.falsepositives.clone(),
        fields: rule.fields.clone(),
        license: rule.license.clone(),
        related: rule.related.clone(),
        scope: rule.scope.clone(),
        taxonomy: rule.taxonomy.clone(),
        logsource: rule.logsource.clone(),
        body,
        custom: rule.custom.clone(),
        query: rule.query.clone(),
        not_evaluable: rule.not_evaluable.clone(),
        span: rule.span,
    };
    (copy, searches)
}

/// What can be worked out of a processing item once, before any rule: the predicates of
/// an `add_condition` without templates (or why one cannot be built).
#[derive(Debug, Clone, Default)]
pub(crate) struct Prepared {
    conditions: Option<Vec<Result<Predicate, String>>>,
}

impl Prepared {
    pub(crate) fn of(item: &ProcessingItem) -> Self {
        match &item.transformation {
            Transformation::AddCondition {
                conditions,
                template: false,
                ..
            } => Self {
                conditions: Some(
                    conditions
                        .iter()
                        .map(|(spec, values)| condition_predicate::build(spec, values))
                        .collect(),
                ),
            },
            _ => Self::default(),
        }
    }
}

/// The state of one rule while the items of a pipeline set run over it.
pub(crate) struct Work<'v> {
    rule: Rule,
    /// The detection's searches (empty for correlations).
    searches: Vec<(String, Span, Node)>,
    applied: BTreeSet<String>,
    state: BTreeMap<String, Scalar>,
    logsource_mapped: bool,
    /// Field names a mapping produced or consumed (what a strict pipeline accepts).
    mapped_fields: BTreeSet<String>,
    /// Processing items applied to each field name of the rule's `fields` list.
    field_applied: BTreeMap<String, BTreeSet<String>>,
    vars: &'v BTreeMap<String, Vec<String>>,
}

impl<'v> Work<'v> {
    pub(crate) fn new(rule: &Rule, vars: &'v BTreeMap<String, Vec<String>>) -> Self {
        let (rule, searches) = split_searches(rule);
        let searches = searches
            .iter()
            .map(|s| (s.name.clone(), s.span, Node::from_expr_ref(&s.expr)))
            .collect();
        Self {
            rule,
            searches,
            applied: BTreeSet::new(),
            state: BTreeMap::new(),
            logsource_mapped: false,
            mapped_fields: BTreeSet::new(),
            field_applied: BTreeMap::new(),
            vars,
        }
    }

    pub(crate) fn finish(mut self) -> Processed {
        let searches: Vec<Search> = self
            .searches
            .into_iter()
            .map(|(name, span, node)| Search {
                name,
                expr: node.into_expr(),
                span,
            })
            .collect();
        match &mut self.rule.body {
            RuleBody::Detection(d) => d.searches = searches,
            RuleBody::Filter(f) => f.detection.searches = searches,
            RuleBody::Correlation(_) => {}
        }
        Processed {
            rule: self.rule,
            applied: self.applied,
            state: self.state,
            logsource_mapped: self.logsource_mapped,
        }
    }

    fn is_detection(&self) -> bool {
        !matches!(self.rule.body, RuleBody::Correlation(_))
    }

    fn rule_name(&self) -> String {
        self.rule.display_id().to_string()
    }

    fn all_items(&self, f: &mut impl FnMut(&Item)) {
        for (_, _, n) in &self.searches {
            n.items(f);
        }
    }

    /// Applies one processing item if its rule conditions hold.
    pub(crate) fn apply_item(
        &mut self,
        item: &ProcessingItem,
        prepared: &Prepared,
    ) -> Result<(), PipelineError> {
        let matches = item.rule_conditions.is_empty()
            || item.rule_conditions.combine(|c| self.rule_condition(c));
        if !matches {
            return Ok(());
        }
        // Read before the transformation: `change_logsource` rewrites what it looked at.
        let by_logsource =
            item.rule_conditions.items.iter().any(|(_, c)| {
                matches!(c, RuleCondition::Logsource { .. }) && self.rule_condition(c)
            });
        self.transform(item, prepared)?;
        self.logsource_mapped |= by_logsource;
        if let Some(id) = &item.id {
            self.applied.insert(id.clone());
        }
        Ok(())
    }

    fn rule_condition(&self, c: &RuleCondition) -> bool {
        match c {
            RuleCondition::Logsource {
                category,
                product,
                service,
            } => {
                let ls = &self.rule.logsource;
                let eq =
                    |want: &Option<String>, have: &Option<String>| want.is_none() || want == have;
                !matches!(self.rule.body, RuleBody::Correlation(_))
                    && eq(category, &ls.category)
                    && eq(product, &ls.product)
                    && eq(service, &ls.service)
            }
            RuleCondition::ContainsDetectionItem { field, value } => {
                let mut found = false;
                self.all_items(&mut |i| {
                    found |= i.pred.field.is_some()
                        && i.pred.field == *field
                        && i.pred
                            .values
                            .iter()
                            .any(|v| scalar_is_value(value, v, i.pred.op));
                });
                found
            }
            RuleCondition::ContainsField { field } => {
                let mut found = false;
                self.all_items(&mut |i| {
                    found |= i.pred.field.is_some() && i.pred.field == *field;
                });
                found
            }
            RuleCondition::ProcessingItemApplied { id } => self.applied.contains(id),
            RuleCondition::ProcessingState { key, val, op } => self.state_matches(key, val, *op),
            RuleCondition::IsSigmaRule => self.is_detection(),
            RuleCondition::IsSigmaCorrelationRule => !self.is_detection(),
            RuleCondition::RuleAttribute {
                attribute,
                value,
                op,
            } => rule_attribute(&self.rule, attribute, value, *op),
            RuleCondition::Tag { tag } => self.rule.tags.iter().any(|t| t == tag),
        }
    }

    fn state_matches(&self, key: &str, val: &Scalar, op: CmpOp) -> bool {
        self.state
            .get(key)
            .is_some_and(|have| compare(have, val, op))
    }

    /// pySigma's detection-item selection: detection item conditions and field name
    /// conditions (on the field, or on a field referenced by a value) must both hold.
    fn item_selected(&self, pi: &ProcessingItem, item: &Item) -> bool {
        let di = pi
            .detection_item_conditions
            .combine(|c| self.detection_item_condition(c, item));
        di && pi.field_name_conditions.combine(|c| {
            self.field_condition(c, item.pred.field.as_deref(), Some(&item.applied))
                || item.pred.values.iter().any(|v| match v {
                    Value::FieldRef(f) => self.field_condition(c, Some(f), Some(&item.applied)),
                    _ => false,
                })
        })
    }

    /// The field name conditions on one field name.
    fn field_selected(
        &self,
        pi: &ProcessingItem,
        field: Option<&str>,
        applied: Option<&[String]>,
    ) -> bool {
        pi.field_name_conditions
            .combine(|c| self.field_condition(c, field, applied))
    }

    fn detection_item_condition(&self, c: &DetectionItemCondition, item: &Item) -> bool {
        let quantify = |q: ValueQuantifier, f: &dyn Fn(&Value) -> bool| match q {
            ValueQuantifier::Any => item.pred.values.iter().any(f),
            ValueQuantifier::All => item.pred.values.iter().all(f),
        };
        match c {
            DetectionItemCondition::MatchString {
                regex,
                cond,
                negate,
            } => quantify(*cond, &|v| {
                // Matched as pySigma sees the value: with the operator's wildcards.
                let m = matches!(v, Value::Str(p)
                    if regex.is_match(&value_rewrite::with_op_wildcards(item.pred.op, p).to_sigma()));
                m != *negate
            }),
            DetectionItemCondition::MatchValue { value, cond } => quantify(*cond, &|v| {
                scalar_is_value(value, v, sigil_core::Op::Equals)
            }),
            DetectionItemCondition::ContainsWildcard { cond } => {
                quantify(*cond, &|v| matches!(v, Value::Str(p) if p.has_wildcards()))
            }
            DetectionItemCondition::IsNull { cond } => {
                quantify(*cond, &|v| matches!(v, Value::Null))
            }
            DetectionItemCondition::ProcessingItemApplied { id } => {
                item.applied.iter().any(|a| a == id)
            }
            DetectionItemCondition::ProcessingState { key, val, op } => {
                self.state_matches(key, val, *op)
            }
        }
    }

    fn field_condition(
        &self,
        c: &FieldNameCondition,
        field: Option<&str>,
        applied: Option<&[String]>,
    ) -> bool {
        match c {
            FieldNameCondition::IncludeFields(set) => set.contains(field),
            FieldNameCondition::ExcludeFields(set) => !set.contains(field),
            FieldNameCondition::ProcessingItemApplied { id } => match applied {
                Some(a) => a.iter().any(|x| x == id),
                None => field
                    .and_then(|f| self.field_applied.get(f))
                    .is_some_and(|s| s.contains(id)),
            },
            FieldNameCondition::ProcessingState { key, val, op } => {
                self.state_matches(key, val, *op)
            }
        }
    }

    fn reject(&self, message: impl Into<String>) -> PipelineError {
        PipelineError::Transformation {
            rule: self.rule_name(),
            message: message.into(),
        }
    }

    /// Runs `f` over every selected detection item of every search.
    fn for_selected_items(
        &mut self,
        pi: &ProcessingItem,
        f: &mut dyn FnMut(&Work<'_>, &mut Item) -> Result<Action, PipelineError>,
    ) -> Result<(), PipelineError> {
        let mut searches = std::mem::take(&mut self.searches);
        let mut result = Ok(());
        for (_, _, node) in &mut searches {
            let this: &Work<'_> = self;
            result = rewrite_root(node, pi.id.as_deref(), &mut |item| {
                if this.item_selected(pi, item) {
                    f(this, item)
                } else {
                    Ok(Action::Keep)
                }
            });
            if result.is_err() {
                break;
            }
        }
        self.searches = searches;
        result
    }

    fn transform(&mut self, pi: &ProcessingItem, prepared: &Prepared) -> Result<(), PipelineError> {
        match &pi.transformation {
            Transformation::FieldNameMapping { .. }
            | Transformation::FieldNamePrefixMapping { .. }
            | Transformation::FieldNamePrefix { .. }
            | Transformation::FieldNameTransform { .. }
            | Transformation::FieldNameSuffix { .. } => self.map_fields(pi),
            Transformation::AddCondition {
                conditions,
                name,
                template,
                negated,
            } => self.add_condition(
                conditions,
                prepared.conditions.as_deref(),
                name.as_deref(),
                *template,
                *negated,
            ),
            Transformation::ChangeLogsource {
                category,
                product,
                service,
            } => {
                let ls = &mut self.rule.logsource;
                ls.category.clone_from(category);
                ls.product.clone_from(product);
                ls.service.clone_from(service);
                // pySigma builds a new logsource from the three fields alone.
                ls.definition = None;
                ls.custom.clear();
                Ok(())
            }
            Transformation::DropDetectionItem => {
                self.for_selected_items(pi, &mut |_, _| Ok(Action::Delete))
            }
            Transformation::ReplaceString {
                regex,
                replacement,
                skip_special,
                interpret_special,
            } => self.for_selected_items(pi, &mut |_, item| {
                // Rewritten as pySigma sees the value: with the operator's wildcards.
                let views = value_rewrite::op_views(&item.pred);
                if views.is_empty() {
                    return Ok(Action::Keep);
                }
                let replaced = views
                    .iter()
                    .map(|p| {
                        let how = Replace {
                            skip_special: *skip_special,
                            interpret_special: *interpret_special,
                        };
                        replace_in_pattern(p, regex, replacement, how)
                    })
                    .collect();
                value_rewrite::restore_op(&mut item.pred, replaced);
                Ok(Action::Changed)
            }),
            Transformation::MapString { mapping } => self.for_selected_items(pi, &mut |_, item| {
                let mut changed = false;
                let mut out = Vec::with_capacity(item.pred.values.len());
                let mut patterns = Vec::new();
                for v in &item.pred.values {
                    match v {
                        Value::Str(p) => {
                            // Matched as pySigma sees the value: with the operator's wildcards.
                            let view = value_rewrite::with_op_wildcards(item.pred.op, p);
                            let text = view.to_sigma();
                            if let Some((_, to)) = mapping.iter().find(|(k, _)| *k == text) {
                                for t in to {
                                    out.push(Value::Str(Pattern::default()));
                                    patterns.push(Pattern::parse_sigma(t, false));
                                }
                                changed = true;
                            } else {
                                out.push(v.clone());
                                patterns.push(view);
                            }
                        }
                        other => out.push(other.clone()),
                    }
                }
                if !changed {
                    return Ok(Action::Keep);
                }
                item.pred.values = out;
                value_rewrite::restore_op(&mut item.pred, patterns);
                Ok(Action::Changed)
            }),
            Transformation::ConvertType { target } => {
                let rule = self.rule_name();
                self.for_selected_items(pi, &mut |_, item| {
                    match crate::convert_type::convert(&mut item.pred, *target) {
                        Ok(true) => Ok(Action::Changed),
                        Ok(false) => Ok(Action::Keep),
                        Err(message) => Err(PipelineError::Rejected {
                            rule: rule.clone(),
                            message,
                        }),
                    }
                })
            }
            Transformation::SetValue { value } => self.for_selected_items(pi, &mut |_, item| {
                Ok(if crate::set_value::set(&mut item.pred, value) {
                    Action::Changed
                } else {
                    Action::Keep
                })
            }),
            Transformation::SetState { key, val } => {
                self.state.insert(key.clone(), val.clone());
                Ok(())
            }
            Transformation::RuleFailure { message } => Err(PipelineError::Rejected {
                rule: self.rule_name(),
                message: message.clone(),
            }),
            Transformation::DetectionItemFailure { message } => {
                self.for_selected_items(pi, &mut |w, _| {
                    Err(PipelineError::Rejected {
                        rule: w.rule_name(),
                        message: message.clone(),
                    })
                })
            }
            Transformation::StrictFieldMappingFailure => self.strict_check(),
            Transformation::AddField { fields } => {
                self.rule.fields.extend(fields.iter().cloned());
                Ok(())
            }
            Transformation::RemoveField { fields } => {
                for f in fields {
                    if let Some(i) = self.rule.fields.iter().position(|x| x == f) {
                        self.rule.fields.remove(i);
                    }
                }
                Ok(())
            }
            Transformation::SetField { fields } => {
                self.rule.fields.clone_from(fields);
                Ok(())
            }
            Transformation::SetCustomAttribute { attribute, value } => {
                self.rule.custom.insert(attribute.clone(), value.clone());
                Ok(())
            }
            Transformation::ValuePlaceholders(filter) => {
                self.for_selected_items(pi, &mut |w, item| {
                    let mut changed = false;
                    let mut out = Vec::new();
                    for v in item.pred.values.drain(..) {
                        match v {
                            Value::Str(p) if p.pieces().iter().any(|x| matches!(x, Piece::Placeholder(n) if filter.handles(n))) => {
                                changed = true;
                                out.extend(
                                    expand_placeholders(&p, &|n| filter.handles(n), w.vars)
                                        .map_err(|m| w.reject(m))?
                                        .into_iter()
                                        .map(Value::Str),
                                );
                            }
                            other => out.push(other),
                        }
                    }
                    item.pred.values = out;
                    Ok(if changed { Action::Changed } else { Action::Keep })
                })
            }
            Transformation::WildcardPlaceholders(filter) => {
                self.for_selected_items(pi, &mut |_, item| {
                    let mut changed = false;
                    for v in &mut item.pred.values {
                        if let Value::Str(p) = v
                            && p.pieces().iter().any(|x| matches!(x, Piece::Placeholder(n) if filter.handles(n)))
                        {
                            changed = true;
                            *p = Pattern::from_pieces(p.pieces().iter().map(|x| match x {
                                Piece::Placeholder(n) if filter.handles(n) => Piece::AnyMany,
                                other => other.clone(),
                            }));
                        }
                    }
                    Ok(if changed { Action::Changed } else { Action::Keep })
                })
            }
            Transformation::SetStateFromRule(cfg) => self.set_state_from_rule(cfg),
            Transformation::SplitDomainUser {
                domain_fields,
                default_domain_field,
            } => self.for_selected_items(pi, &mut |_, item| {
                let Some(field) = item.pred.field.as_deref() else {
                    return Ok(Action::Keep);
                };
                let domain = domain_fields
                    .iter()
                    .find(|(user, _)| user == field)
                    .map(|(_, domain)| domain)
                    .or(default_domain_field.as_ref());
                Ok(
                    match domain.and_then(|d| value_rewrite::split_domain_user(&item.pred, d)) {
                        Some(e) => Action::Replace(Node::from_expr(e)),
                        None => Action::Keep,
                    },
                )
            }),
            Transformation::HashesFields(cfg) => self.for_selected_items(pi, &mut |w, item| {
                value_rewrite::hashes_fields(&item.pred, cfg)
                    .map(|e| Action::Replace(Node::from_expr(e)))
                    .map_err(|m| w.reject(m))
            }),
            Transformation::FieldSchemaFailure {
                key,
                fields,
                tables,
            } => {
                let Some(Scalar::Str(table)) = self.state.get(key) else {
                    return Ok(());
                };
                let Some(known) = tables.get(table) else {
                    return Ok(());
                };
                let mut missing = BTreeSet::new();
                self.all_items(&mut |i| {
                    if let Some(f) = &i.pred.field
                        && !known.contains(f)
                        && !fields.contains(f)
                        && self.item_selected(pi, i)
                    {
                        missing.insert(f.clone());
                    }
                });
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(PipelineError::FieldsNotInSchema {
                        rule: self.rule_name(),
                        table: table.clone(),
                        fields: missing.into_iter().collect(),
                    })
                }
            }
            Transformation::WildcardToCidr => self.for_selected_items(pi, &mut |w, item| {
                match crate::value_shape::wildcard_to_cidr(&item.pred) {
                    Ok(Some(e)) => Ok(Action::Replace(Node::from_expr(e))),
                    Ok(None) => Ok(Action::Keep),
                    Err(m) => Err(w.reject(m)),
                }
            }),
            Transformation::SubstringMatch => self.for_selected_items(pi, &mut |_, item| {
                Ok(changed(crate::value_shape::substring_match(&mut item.pred)))
            }),
            Transformation::FieldNameInValue {
                separator,
                numbers_only,
            } => self.for_selected_items(pi, &mut |_, item| {
                Ok(changed(crate::value_shape::field_name_in_value(
                    &mut item.pred,
                    separator,
                    *numbers_only,
                )))
            }),
            Transformation::FieldToKeyword => self.for_selected_items(pi, &mut |_, item| {
                Ok(changed(item.pred.field.take().is_some()))
            }),
            Transformation::ValueTypeFailure { types, message } => {
                self.for_selected_items(pi, &mut |w, item| {
                    if crate::value_shape::has_value_type(&item.pred, types) {
                        Err(w.reject(message.clone()))
                    } else {
                        Ok(Action::Keep)
                    }
                })
            }
            Transformation::AppendState { key, values } => {
                self.append_state(key, values.iter().map(Scalar::to_text));
                Ok(())
            }
            Transformation::AppendStateFromValues {
                key,
                mapping,
                keep_unmapped,
            } => {
                let mut found = Vec::new();
                self.for_selected_items(pi, &mut |_, item| {
                    for v in &item.pred.values {
                        let text = match v {
                            Value::Str(p) => {
                                value_rewrite::with_op_wildcards(item.pred.op, p).to_sigma()
                            }
                            other => other.to_text(),
                        };
                        match mapping.iter().find(|(k, _)| *k == text) {
                            Some((_, to)) => found.extend(to.iter().map(Scalar::to_text)),
                            None if *keep_unmapped => found.push(text),
                            None => {}
                        }
                    }
                    Ok(Action::Changed)
                })?;
                self.append_state(key, found.into_iter());
                Ok(())
            }
            Transformation::SetStateFromValues { key, lookup } => {
                let found = self.values_found(lookup, false);
                if !found.is_empty() {
                    let text: Vec<String> = found.iter().map(Scalar::to_text).collect();
                    self.state.insert(key.clone(), Scalar::Str(text.join(",")));
                }
                Ok(())
            }
            Transformation::UdmFieldFailure => {
                let schema = crate::udm::udm();
                let mut invalid = None;
                self.all_items(&mut |i| {
                    if invalid.is_none()
                        && let Some(f) = &i.pred.field
                        && self.item_selected(pi, i)
                        && !schema.is_valid_field(f)
                    {
                        invalid = Some(f.clone());
                    }
                });
                match invalid {
                    Some(f) => Err(PipelineError::Rejected {
                        rule: self.rule_name(),
                        message: format!("Invalid UDM field: Field {f} is not a valid UDM field"),
                    }),
                    None => Ok(()),
                }
            }
            Transformation::QueryExpressionPlaceholders { filter, .. } => {
                self.for_selected_items(pi, &mut |w, item| {
                    let hit = item.pred.values.iter().find_map(|v| match v {
                        Value::Str(p) => p.pieces().iter().find_map(|x| match x {
                            Piece::Placeholder(n) if filter.handles(n) => Some(n.clone()),
                            _ => None,
                        }),
                        _ => None,
                    });
                    match hit {
                        Some(n) => Err(w.reject(format!(
                            "placeholder `%{n}%` is mapped to a query expression, which sigil cannot express"
                        ))),
                        None => Ok(Action::Keep),
                    }
                })
            }
        }
    }

    /// Appends `values` to the comma-separated list the state key holds.
    fn append_state(&mut self, key: &str, values: impl Iterator<Item = String>) {
        let mut list = match self.state.get(key) {
            Some(Scalar::Str(s)) if !s.is_empty() => s.clone(),
            Some(Scalar::Str(_) | Scalar::Null) | None => String::new(),
            Some(other) => other.to_text(),
        };
        for v in values {
            if !list.is_empty() {
                list.push(',');
            }
            list.push_str(&v);
        }
        self.state.insert(key.to_string(), Scalar::Str(list));
    }

    /// The new name(s) of `field` under a field-name transformation, before conditions.
    fn mapped_name(t: &Transformation, field: Option<&str>) -> Option<Vec<String>> {
        match t {
            Transformation::FieldNameMapping { mapping } => mapping
                .iter()
                .find(|(k, _)| k.as_deref() == field)
                .map(|(_, v)| v.clone()),
            Transformation::FieldNamePrefixMapping { mapping } => {
                let f = field?;
                mapping
                    .iter()
                    .find(|(src, _)| f.starts_with(src.as_str()))
                    .map(|(src, dests)| {
                        dests
                            .iter()
                            .map(|d| format!("{d}{}", &f[src.len()..]))
                            .collect()
                    })
            }
            Transformation::FieldNamePrefix { prefix } => Some(vec![format!("{prefix}{}", field?)]),
            Transformation::FieldNameTransform { function, mapping } => {
                let f = field?;
                Some(vec![
                    mapping
                        .iter()
                        .find(|(k, _)| k == f)
                        .map_or_else(|| function.apply(f), |(_, v)| v.clone()),
                ])
            }
            Transformation::FieldNameSuffix { suffix } => Some(vec![format!("{}{suffix}", field?)]),
            _ => None,
        }
    }

    fn track(&mut self, from: Option<&str>, to: &[String], id: Option<&str>) {
        if let Some(f) = from {
            self.mapped_fields.insert(f.to_string());
        }
        self.mapped_fields.extend(to.iter().cloned());
        if let Some(f) = from
            && (to.len() != 1 || to[0] != f)
        {
            let mut ids = self.field_applied.remove(f).unwrap_or_default();
            if let Some(id) = id {
                ids.insert(id.to_string());
            }
            for t in to {
                self.field_applied.insert(t.clone(), ids.clone());
            }
        }
    }

    /// The names `field` maps to under `pi`, honouring its field name conditions; the field
    /// itself when nothing applies (pySigma's `_apply_field_name`).
    fn map_one_name(&mut self, pi: &ProcessingItem, field: &str) -> Vec<String> {
        match Self::mapped_name(&pi.transformation, Some(field)) {
            Some(to) if self.field_selected(pi, Some(field), None) => {
                self.track(Some(field), &to, pi.id.as_deref());
                to
            }
            _ => vec![field.to_string()],
        }
    }

    fn map_fields(&mut self, pi: &ProcessingItem) -> Result<(), PipelineError> {
        // The rule's `fields` list.
        let fields = std::mem::take(&mut self.rule.fields);
        self.rule.fields = fields
            .iter()
            .flat_map(|f| self.map_one_name(pi, f))
            .collect();

        if let RuleBody::Correlation(c) = &mut self.rule.body {
            let mut corr = c.clone();
            let aliases: BTreeSet<String> = corr.aliases.iter().map(|a| a.alias.clone()).collect();
            for alias in &mut corr.aliases {
                for (_, field) in &mut alias.mapping {
                    let mut to = self.map_one_name(pi, field);
                    if to.len() > 1 {
                        return Err(self.reject(
                            "a field name mapping of a correlation alias must give one field",
                        ));
                    }
                    if let Some(t) = to.pop() {
                        *field = t;
                    }
                }
            }
            corr.group_by = corr
                .group_by
                .iter()
                .flat_map(|g| {
                    if aliases.contains(g) {
                        vec![g.clone()]
                    } else {
                        self.map_one_name(pi, g)
                    }
                })
                .collect();
            if let Some(cond) = &mut corr.condition
                && let Some(f) = cond.field.clone()
            {
                let mut to = self.map_one_name(pi, &f);
                if to.len() > 1 {
                    return Err(self.reject(
                        "a field name mapping of a correlation condition field must give one field",
                    ));
                }
                cond.field = to.pop();
            }
            self.rule.body = RuleBody::Correlation(corr);
            return Ok(());
        }

        let mut tracked: Vec<(Option<String>, Vec<String>)> = Vec::new();
        self.for_selected_items(pi, &mut |w, item| {
            // Field references in values.
            let mut fieldref_match = false;
            let mut values = Vec::with_capacity(item.pred.values.len());
            for v in item.pred.values.drain(..) {
                match v {
                    Value::FieldRef(f) if w.field_selected(pi, Some(&f), Some(&item.applied)) => {
                        match Self::mapped_name(&pi.transformation, Some(&f)) {
                            Some(to) => {
                                tracked.push((Some(f.clone()), to.clone()));
                                values.extend(to.into_iter().map(Value::FieldRef));
                            }
                            None => values.push(Value::FieldRef(f)),
                        }
                        fieldref_match = true;
                    }
                    other => values.push(other),
                }
            }
            item.pred.values = values;

            let field = item.pred.field.clone();
            let Some(to) = Self::mapped_name(&pi.transformation, field.as_deref())
                .filter(|_| w.field_selected(pi, field.as_deref(), Some(&item.applied)))
            else {
                return Ok(if fieldref_match {
                    Action::Changed
                } else {
                    Action::Keep
                });
            };
            if field.is_none() {
                // A keyword mapped to a field keeps its "anywhere in the value" meaning.
                for v in &mut item.pred.values {
                    if let Value::Str(p) = v {
                        *p = p.with_leading_any().with_trailing_any();
                    }
                }
            }
            tracked.push((field, to.clone()));
            Ok(match to.as_slice() {
                [one] => {
                    item.pred.field = Some(one.clone());
                    Action::Changed
                }
                many => Action::Replace(Node::Or(
                    many.iter()
                        .map(|f| {
                            let mut it = item.clone();
                            it.pred.field = Some(f.clone());
                            Node::Item(it)
                        })
                        .collect(),
                )),
            })
        })?;
        for (from, to) in tracked {
            self.track(from.as_deref(), &to, pi.id.as_deref());
        }
        Ok(())
    }

    fn add_condition(
        &mut self,
        conditions: &[(String, Vec<Scalar>)],
        prepared: Option<&[Result<Predicate, String>]>,
        name: Option<&str>,
        template: bool,
        negated: bool,
    ) -> Result<(), PipelineError> {
        if !self.is_detection() {
            return Ok(());
        }
        let mut preds = Vec::with_capacity(conditions.len());
        for (i, (spec, values)) in conditions.iter().enumerate() {
            let built = match prepared.and_then(|p| p.get(i)) {
                Some(built) => built.clone(),
                None if template => {
                    let ls = &self.rule.logsource;
                    let values: Vec<Scalar> = values
                        .iter()
                        .map(|v| match v {
                            Scalar::Str(s) => Scalar::Str(substitute_template(s, ls)),
                            other => other.clone(),
                        })
                        .collect();
                    condition_predicate::build(spec, &values)
                }
                None => condition_predicate::build(spec, values),
            };
            let pred = built.map_err(|m| self.reject(m))?;
            preds.push(Node::Item(Item {
                pred,
                applied: Vec::new(),
            }));
        }
        let node = if preds.len() == 1 {
            preds.pop().unwrap_or(Node::And(Vec::new()))
        } else {
            Node::And(preds)
        };
        let name = match name {
            Some(n) => n.to_string(),
            // Among n searches at most n names are taken, so one of n + 1 is free.
            None => (1..=self.searches.len() + 1)
                .map(|i| format!("_cond_{i}"))
                .find(|n| !self.searches.iter().any(|(s, _, _)| s == n))
                .unwrap_or_else(|| "_cond".to_string()),
        };
        if let Some(slot) = self.searches.iter_mut().find(|(s, _, _)| *s == name) {
            slot.2 = node;
        } else {
            self.searches.push((name.clone(), Span::default(), node));
        }
        let reference = Condition::Search {
            name,
            span: Span::default(),
        };
        let added = if negated {
            Condition::Not(Box::new(reference))
        } else {
            reference
        };
        let detection = match &mut self.rule.body {
            RuleBody::Detection(d) => d,
            RuleBody::Filter(f) => &mut f.detection,
            RuleBody::Correlation(_) => return Ok(()),
        };
        for c in &mut detection.conditions {
            let original = std::mem::replace(c, Condition::And(Vec::new()));
            *c = Condition::And(vec![added.clone(), original]);
        }
        Ok(())
    }

    /// `set_state_from_rule`, as pySigma-backend-kusto chooses its query table: a value the
    /// state already holds wins; else the rule's category decides; else, for a rule without
    /// a category, the first listed value of a `by_value` field among the top-level items of
    /// the matching searches (the items of a search's mapping; a list of mappings is not
    /// looked into). Nothing found rejects the rule.
    fn set_state_from_rule(&mut self, cfg: &StateFromRule) -> Result<(), PipelineError> {
        let present = match self.state.get(&cfg.key) {
            None | Some(Scalar::Null | Scalar::Bool(false) | Scalar::Int(0)) => false,
            Some(Scalar::Str(s)) => !s.is_empty(),
            Some(_) => true,
        };
        if present {
            return Ok(());
        }
        let found = match self
            .rule
            .logsource
            .category
            .as_deref()
            .filter(|c| !c.is_empty())
        {
            Some(category) => cfg
                .by_category
                .iter()
                .find(|(c, _)| c == category)
                .map(|(_, v)| v.clone()),
            None => cfg
                .by_value
                .as_ref()
                .and_then(|lookup| self.values_found(lookup, true).into_iter().next()),
        };
        match found {
            Some(v) => {
                self.state.insert(cfg.key.clone(), v);
                Ok(())
            }
            None => Err(self.reject(cfg.message.clone())),
        }
    }

    /// The values of `lookup.fields` among the top-level items of the searches whose name
    /// matches, looked up in `lookup.values`, in the order found (each search contributes the
    /// values of its first item that has a field of the list); `first` stops at the first.
    fn values_found(&self, lookup: &ValueLookup, first: bool) -> Vec<Scalar> {
        let mut out: Vec<Scalar> = Vec::new();
        for (_, _, node) in self
            .searches
            .iter()
            .filter(|(name, _, _)| lookup.searches.is_match(name))
        {
            let top: Vec<&Item> = match node {
                Node::Item(i) => vec![i],
                Node::And(children) => children
                    .iter()
                    .filter_map(|c| match c {
                        Node::Item(i) => Some(i),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let items = top.into_iter().filter(|i| {
                i.pred
                    .field
                    .as_ref()
                    .is_some_and(|f| lookup.fields.contains(f))
            });
            for item in items {
                let found: Vec<Scalar> = item
                    .pred
                    .values
                    .iter()
                    .filter_map(|v| {
                        let text = match v {
                            Value::Int(n) => n.to_string(),
                            Value::Str(p) => p.as_literal()?.to_string(),
                            _ => return None,
                        };
                        lookup
                            .values
                            .iter()
                            .find(|(k, _)| *k == text)
                            .map(|(_, v)| v.clone())
                    })
                    .collect();
                if found.is_empty() {
                    continue;
                }
                if first {
                    return found.into_iter().take(1).collect();
                }
                for v in found {
                    if !out.contains(&v) {
                        out.push(v);
                    }
                }
                break;
            }
        }
        out
    }

    fn strict_check(&self) -> Result<(), PipelineError> {
        let mut unmapped = BTreeSet::new();
        self.all_items(&mut |i| {
            if let Some(f) = &i.pred.field
                && !self.mapped_fields.contains(f)
            {
                unmapped.insert(f.clone());
            }
        });
        if unmapped.is_empty() {
            Ok(())
        } else {
            Err(PipelineError::UnmappedFields {
                rule: self.rule_name(),
                fields: unmapped.into_iter().collect(),
            })
        }
    }
}

/// Python's `string.Template.safe_substitute` for `$category`, `$product`, `$service`
/// (and the `${...}` forms); pySigma passes `None` through as the text `None`.
fn substitute_template(s: &str, ls: &sigil_core::LogSource) -> String {
    let value = |name: &str| -> Option<String> {
        let v = match name {
            "category" => &ls.category,
            "product" => &ls.product,
            "service" => &ls.service,
            _ => return None,
        };
        Some(v.clone().unwrap_or_else(|| "None".to_string()))
    };
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
            continue;
        }
        let (name, len) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        if let Some(v) = value(name).filter(|_| len > 0) {
            out.push_str(&v);
            rest = &after[len..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// How `replace_string` treats wildcards.
#[derive(Debug, Clone, Copy)]
struct Replace {
    skip_special: bool,
    interpret_special: bool,
}

/// Regex replacement in a string value. With `skip_special` only the literal parts are
/// rewritten (and, with `interpret_special`, read back as Sigma syntax); otherwise the whole value in Sigma syntax is, and the result is read back as
/// Sigma syntax (so a replacement may add wildcards), as pySigma does.
///
/// One difference: pySigma writes a literal backslash before a wildcard as `\*` and reads
/// that back as an escaped, literal `*`, so `startswith: 'HKLM\Software\'` would come back
/// as an equality with `…\Software*`. Here such a wildcard stays a wildcard.
fn replace_in_pattern(p: &Pattern, re: &regex::Regex, replacement: &str, how: Replace) -> Pattern {
    // Stand-ins (private-use characters) for wildcards right after a literal backslash.
    const MANY: char = '\u{E000}';
    const ONE: char = '\u{E001}';
    if how.skip_special && how.interpret_special {
        let mut out = Pattern::default();
        for piece in p.pieces() {
            match piece {
                Piece::Lit(s) => {
                    let replaced = re.replace_all(s, replacement);
                    for q in Pattern::parse_sigma(&replaced, false).pieces() {
                        out.push(q.clone());
                    }
                }
                other => out.push(other.clone()),
            }
        }
        return out;
    }
    if how.skip_special {
        return p.map_literals(|s| re.replace_all(s, replacement).into_owned());
    }
    // Literal wildcard characters are escaped; backslashes are left as they are, then
    // every backslash not escaping a wildcard is doubled before reading back.
    let mut text = String::new();
    for piece in p.pieces() {
        let after_backslash = text.ends_with('\\');
        match piece {
            Piece::Lit(s) => {
                for c in s.chars() {
                    if c == '*' || c == '?' {
                        text.push('\\');
                    }
                    text.push(c);
                }
            }
            Piece::AnyMany => text.push(if after_backslash { MANY } else { '*' }),
            Piece::AnyOne => text.push(if after_backslash { ONE } else { '?' }),
            Piece::Placeholder(n) => {
                text.push('%');
                text.push_str(n);
                text.push('%');
            }
        }
    }
    let replaced = re.replace_all(&text, replacement);
    let mut escaped = String::with_capacity(replaced.len());
    let chars: Vec<char> = replaced.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            MANY => escaped.push('*'),
            ONE => escaped.push('?'),
            _ => {
                escaped.push(c);
                if c == '\\' && !matches!(chars.get(i + 1), Some('*' | '?')) {
                    escaped.push('\\');
                }
            }
        }
    }
    Pattern::parse_sigma(&escaped, p.has_placeholders())
}

/// Every pattern obtained by replacing the handled placeholders of `p` with the values of
/// the variables of the same name (each value read as Sigma syntax).
fn expand_placeholders(
    p: &Pattern,
    handles: &dyn Fn(&str) -> bool,
    vars: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<Pattern>, String> {
    let mut out: Vec<Vec<Piece>> = vec![Vec::new()];
    for piece in p.pieces() {
        match piece {
            Piece::Placeholder(n) if handles(n) => {
                let values = vars.get(n).ok_or_else(|| {
                    format!(
                        "placeholder `%{n}%` has no value: the pipeline defines no variable `{n}`"
                    )
                })?;
                let mut next = Vec::with_capacity(out.len() * values.len());
                for prefix in &out {
                    for v in values {
                        let mut pieces = prefix.clone();
                        pieces.extend(Pattern::parse_sigma(v, false).pieces().iter().cloned());
                        next.push(pieces);
                    }
                }
                out = next;
            }
            other => out.iter_mut().for_each(|v| v.push(other.clone())),
        }
    }
    Ok(out.into_iter().map(Pattern::from_pieces).collect())
}

/// Whether a pipeline-written value equals a predicate value of the same type (pySigma
/// compares only values of the condition value's type). Strings compare as Sigma strings,
/// and only under plain equality, since other operators change the value in pySigma.
fn scalar_is_value(s: &Scalar, v: &Value, op: sigil_core::Op) -> bool {
    match (s, v) {
        (Scalar::Str(a), Value::Str(b)) => {
            op == sigil_core::Op::Equals && Pattern::parse_sigma(a, false) == *b
        }
        (Scalar::Int(a), Value::Int(b)) => a == b,
        (Scalar::Float(a), Value::Float(b)) => (a - b).abs() < f64::EPSILON,
        (Scalar::Int(a), Value::Float(b)) | (Scalar::Float(b), Value::Int(a)) => {
            (*a as f64 - b).abs() < f64::EPSILON
        }
        (Scalar::Bool(a), Value::Bool(b)) => a == b,
        (Scalar::Null, Value::Null) => true,
        _ => false,
    }
}

/// Compares two scalars; values of unrelated types are only ever unequal.
fn compare(have: &Scalar, want: &Scalar, op: CmpOp) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (have, want) {
        (Scalar::Int(a), Scalar::Int(b)) => Some(a.cmp(b)),
        (Scalar::Int(a), Scalar::Float(b)) => (*a as f64).partial_cmp(b),
        (Scalar::Float(a), Scalar::Int(b)) => a.partial_cmp(&(*b as f64)),
        (Scalar::Float(a), Scalar::Float(b)) => a.partial_cmp(b),
        (Scalar::Str(a), Scalar::Str(b)) => Some(a.cmp(b)),
        (Scalar::Bool(a), Scalar::Bool(b)) => Some(a.cmp(b)),
        (Scalar::Null, Scalar::Null) => Some(Ordering::Equal),
        _ => None,
    };
    match (ord, op) {
        (Some(o), CmpOp::Eq) => o == Ordering::Equal,
        (Some(o), CmpOp::Ne) => o != Ordering::Equal,
        (None, CmpOp::Ne) => true,
        (Some(o), CmpOp::Gte) => o != Ordering::Less,
        (Some(o), CmpOp::Gt) => o == Ordering::Greater,
        (Some(o), CmpOp::Lte) => o != Ordering::Greater,
        (Some(o), CmpOp::Lt) => o == Ordering::Less,
        _ => false,
    }
}

/// `rule_attribute`: metadata attributes by their Sigma names, then custom attributes.
fn rule_attribute(rule: &Rule, attribute: &str, value: &Scalar, op: CmpOp) -> bool {
    let list = |items: &[String]| {
        let want = value.to_text();
        match op {
            CmpOp::In => items.contains(&want),
            CmpOp::NotIn => !items.contains(&want),
            CmpOp::Ne => true,
            _ => false,
        }
    };
    let text = |have: Option<&str>| match (have, op) {
        (None, _) => false,
        (Some(h), CmpOp::Eq) => h == value.to_text(),
        (Some(h), CmpOp::Ne) => h != value.to_text(),
        // Dates written as YYYY-MM-DD order as text.
        (Some(h), _) if matches!(attribute, "date" | "modified") => compare(
            &Scalar::Str(h.replace('/', "-")),
            &Scalar::Str(value.to_text().replace('/', "-")),
            op,
        ),
        _ => false,
    };
    match attribute {
        "level" => {
            let (Some(have), Some(want)) = (rule.level, Level::from_name(&value.to_text())) else {
                return false;
            };
            ordered(have.cmp(&want), op)
        }
        "status" => {
            let (Some(have), Some(want)) = (
                rule.status,
                Status::from_name(&value.to_text().to_ascii_lowercase()),
            ) else {
                return false;
            };
            ordered(have.cmp(&want), op)
        }
        "tags" => list(&rule.tags),
        "references" => list(&rule.references),
        "falsepositives" => list(&rule.falsepositives),
        "fields" => list(&rule.fields),
        "scope" => list(&rule.scope),
        "id" => text(rule.id.as_deref()),
        "name" => text(rule.name.as_deref()),
        "title" => text(Some(&rule.title)),
        "description" => text(rule.description.as_deref()),
        "author" => text(rule.author.as_deref()),
        "date" => text(rule.date.as_deref()),
        "modified" => text(rule.modified.as_deref()),
        "license" => text(rule.license.as_deref()),
        "taxonomy" => text(rule.taxonomy.as_deref()),
        other => text(rule.custom.get(other).map(String::as_str)),
    }
}

fn ordered(o: std::cmp::Ordering, op: CmpOp) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match op {
        CmpOp::Eq => o == Equal,
        CmpOp::Ne => o != Equal,
        CmpOp::Gte => o != Less,
        CmpOp::Gt => o == Greater,
        CmpOp::Lte => o != Greater,
        CmpOp::Lt => o == Less,
        CmpOp::In | CmpOp::NotIn => false,
    }
}

#[cfg(test)]
mod tests {
    const WHOLE: Replace = Replace {
        skip_special: false,
        interpret_special: false,
    };
    use super::*;

    #[test]
    fn templates_substitute_logsource_fields() {
        let ls = sigil_core::LogSource {
            category: Some("process_creation".into()),
            product: Some("windows".into()),
            ..Default::default()
        };
        assert_eq!(
            substitute_template("$product-${category}/$service $$x $other", &ls),
            "windows-process_creation/None $x $other"
        );
    }

    #[test]
    fn replace_string_rereads_sigma_syntax() {
        let re = regex::Regex::new(r"^C:\\").expect("valid regex");
        let p = Pattern::parse_sigma(r"C:\Windows\*.exe", false);
        let out = replace_in_pattern(&p, &re, "*", WHOLE);
        assert_eq!(out.to_sigma(), r"*Windows\*.exe");
        assert!(out.has_wildcards());
        // A wildcard after a literal backslash stays a wildcard.
        let p = Pattern::parse_sigma(r"HKLM\x\\*", false);
        let re = regex::Regex::new("^HKLM").expect("valid regex");
        let out = replace_in_pattern(&p, &re, "HKEY", WHOLE);
        assert_eq!(out.pieces().last(), Some(&Piece::AnyMany));
        assert_eq!(out.to_sigma(), r"HKEY\x\\*");
        let lit = Pattern::literal(r"a\*b");
        let re = regex::Regex::new("b").expect("valid regex");
        assert_eq!(
            replace_in_pattern(&lit, &re, "c", WHOLE),
            Pattern::literal(r"a\*c")
        );
    }

    #[test]
    fn scalar_comparisons() {
        assert!(compare(&Scalar::Int(3), &Scalar::Float(2.5), CmpOp::Gt));
        assert!(compare(
            &Scalar::Str("a".into()),
            &Scalar::Str("a".into()),
            CmpOp::Eq
        ));
        assert!(!compare(
            &Scalar::Str("1".into()),
            &Scalar::Int(1),
            CmpOp::Eq
        ));
        assert!(compare(
            &Scalar::Str("1".into()),
            &Scalar::Int(1),
            CmpOp::Ne
        ));
    }
}
