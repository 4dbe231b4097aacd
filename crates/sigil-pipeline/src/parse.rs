//! Reading pipeline YAML into [`Pipeline`] values, with positions on every error.
//!
//! Every mapping is checked against the keys pySigma accepts at that place, so a misspelled
//! key is an error at its position instead of a silently ignored setting.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use regex::Regex;

use crate::error::PipelineError;
use crate::model::{
    CmpOp, CondExpr, Conditions, DetectionItemCondition, FieldNameCondition, FieldSet,
    HashesFields, Linking, Pipeline, PlaceholderFilter, ProcessingItem, RuleCondition, Scalar,
    StateFromRule, Transformation, ValueLookup, ValueQuantifier,
};
use crate::yaml::{self, Key, Node, Pos};

/// Parses a pipeline from YAML `text`; `origin` (a path) goes into error messages.
pub fn pipeline(text: &str, origin: &str) -> Result<Pipeline, PipelineError> {
    let r = Reader { origin };
    let root = yaml::parse(text).map_err(|e| PipelineError::Yaml {
        origin: origin.to_string(),
        pos: e.pos,
        message: e.message,
    })?;
    let entries = r.map(&root, "a pipeline")?;
    r.check_keys(
        entries,
        "pipeline",
        &[
            "name",
            "priority",
            "transformations",
            "postprocessing",
            "finalizers",
            "vars",
            "allowed_backends",
        ],
    )?;
    let mut p = Pipeline {
        name: None,
        priority: 0,
        items: Vec::new(),
        vars: BTreeMap::new(),
        allowed_backends: Vec::new(),
        ignored_output_steps: Vec::new(),
        origin: origin.to_string(),
    };
    for (key, value) in entries {
        match key.text.as_deref().unwrap_or_default() {
            "name" => p.name = r.opt_string(value)?,
            "priority" => match value {
                Node::Int(i, _) => p.priority = *i,
                Node::Null(_) => {}
                other => return Err(r.invalid(other.pos(), "`priority` must be an integer")),
            },
            "transformations" => {
                for item in r.seq_or_empty(value, "`transformations`")? {
                    p.items.push(r.item(item)?);
                }
            }
            "postprocessing" | "finalizers" => {
                for step in r.seq_or_empty(value, "this list")? {
                    let e = r.map(step, "a postprocessing or finalizer step")?;
                    let ty = find(e, "type").and_then(Node::scalar_text);
                    p.ignored_output_steps
                        .push(ty.unwrap_or_else(|| "(untyped)".to_string()));
                }
            }
            "vars" if !matches!(value, Node::Null(_)) => {
                for (k, v) in r.map(value, "`vars`")? {
                    let name = r.key_text(k)?;
                    p.vars.insert(name, r.string_list(v)?);
                }
            }
            "allowed_backends" => p.allowed_backends = r.string_list(value)?,
            _ => {}
        }
    }
    Ok(p)
}

/// Reads one condition of a kind from its entries, its type and the type's position.
type ConditionReader<'o, C> =
    fn(&Reader<'o>, &[(Key, Node)], &str, Pos) -> Result<C, PipelineError>;

/// Reads nodes of one pipeline file; knows the file for error messages.
struct Reader<'a> {
    origin: &'a str,
}

const ITEM_KEYS: &[&str] = &[
    "id",
    "type",
    "rule_conditions",
    "rule_cond_op",
    "rule_cond_not",
    "rule_cond_expr",
    "detection_item_conditions",
    "detection_item_cond_op",
    "detection_item_cond_not",
    "detection_item_cond_expr",
    "field_name_conditions",
    "field_name_cond_op",
    "field_name_cond_not",
    "field_name_cond_expr",
];

/// pySigma transformation types sigil does not implement, with why.
const UNSUPPORTED_TRANSFORMATIONS: &[(&str, &str)] = &[
    ("regex", "transformation type `regex`"),
    ("nest", "transformation type `nest`"),
    ("case", "transformation type `case`"),
];

fn find<'n>(entries: &'n [(Key, Node)], name: &str) -> Option<&'n Node> {
    entries
        .iter()
        .find(|(k, _)| k.text.as_deref() == Some(name))
        .map(|(_, v)| v)
}

impl<'o> Reader<'o> {
    fn invalid(&self, pos: Pos, message: impl Into<String>) -> PipelineError {
        PipelineError::Invalid {
            origin: self.origin.to_string(),
            pos,
            message: message.into(),
        }
    }

    fn map<'n>(&self, node: &'n Node, what: &str) -> Result<&'n [(Key, Node)], PipelineError> {
        match node {
            Node::Map(entries, _) => Ok(entries),
            other => Err(self.invalid(
                other.pos(),
                format!("expected {what} (a mapping), found {}", other.kind()),
            )),
        }
    }

    fn seq_or_empty<'n>(&self, node: &'n Node, what: &str) -> Result<&'n [Node], PipelineError> {
        match node {
            Node::Seq(items, _) => Ok(items),
            Node::Null(_) => Ok(&[]),
            other => Err(self.invalid(
                other.pos(),
                format!("{what} must be a list, found {}", other.kind()),
            )),
        }
    }

    fn check_keys(
        &self,
        entries: &[(Key, Node)],
        context: &str,
        allowed: &[&str],
    ) -> Result<(), PipelineError> {
        for (key, _) in entries {
            let text = key.text.as_deref().unwrap_or("null");
            if !allowed.contains(&text) {
                return Err(PipelineError::UnknownKey {
                    origin: self.origin.to_string(),
                    pos: key.pos,
                    key: text.to_string(),
                    context: context.to_string(),
                    expected: if allowed.is_empty() {
                        "(none)".to_string()
                    } else {
                        allowed.join(", ")
                    },
                });
            }
        }
        Ok(())
    }

    fn key_text(&self, key: &Key) -> Result<String, PipelineError> {
        key.text
            .clone()
            .ok_or_else(|| self.invalid(key.pos, "a `null` key is not allowed here"))
    }

    fn string(&self, node: &Node, what: &str) -> Result<String, PipelineError> {
        match node {
            Node::Str(s, _) => Ok(s.clone()),
            Node::Int(..) | Node::Float(..) | Node::Bool(..) => {
                Ok(node.scalar_text().unwrap_or_default())
            }
            other => Err(self.invalid(
                other.pos(),
                format!("{what} must be a string, found {}", other.kind()),
            )),
        }
    }

    fn opt_string(&self, node: &Node) -> Result<Option<String>, PipelineError> {
        match node {
            Node::Null(_) => Ok(None),
            other => self.string(other, "this value").map(Some),
        }
    }

    fn bool(&self, node: &Node, what: &str) -> Result<bool, PipelineError> {
        match node {
            Node::Bool(b, _) => Ok(*b),
            Node::Null(_) => Ok(false),
            other => Err(self.invalid(
                other.pos(),
                format!("{what} must be true or false, found {}", other.kind()),
            )),
        }
    }

    /// A string or a list of strings.
    fn string_list(&self, node: &Node) -> Result<Vec<String>, PipelineError> {
        match node {
            Node::Seq(items, _) => items
                .iter()
                .map(|n| self.string(n, "a list entry"))
                .collect(),
            Node::Null(_) => Ok(Vec::new()),
            other => Ok(vec![self.string(other, "this value")?]),
        }
    }

    fn scalar(&self, node: &Node) -> Result<Scalar, PipelineError> {
        Ok(match node {
            Node::Null(_) => Scalar::Null,
            Node::Bool(b, _) => Scalar::Bool(*b),
            Node::Int(i, _) => Scalar::Int(*i),
            Node::Float(f, _) => Scalar::Float(*f),
            Node::Str(s, _) => Scalar::Str(s.clone()),
            other => {
                return Err(self.invalid(
                    other.pos(),
                    format!("expected a single value, found {}", other.kind()),
                ));
            }
        })
    }

    fn regex(&self, node: &Node, what: &str, anchored: bool) -> Result<Regex, PipelineError> {
        let text = self.string(node, what)?;
        let source = if anchored {
            format!("^(?:{text})")
        } else {
            text.clone()
        };
        Regex::new(&source).map_err(|e| {
            self.invalid(
                node.pos(),
                format!("invalid regular expression `{text}`: {e}"),
            )
        })
    }

    fn item(&self, node: &Node) -> Result<ProcessingItem, PipelineError> {
        let entries = self.map(node, "a transformation")?;
        let pos = node.pos();
        let ty_node = find(entries, "type")
            .ok_or_else(|| self.invalid(pos, "transformation without `type`"))?;
        let ty = self.string(ty_node, "`type`")?;
        let params: &[&str] = match ty.as_str() {
            "field_name_mapping" | "field_name_prefix_mapping" | "map_string" => &["mapping"],
            "field_name_prefix" => &["prefix"],
            "field_name_suffix" => &["suffix"],
            "field_name_transform" => &["transform_func", "mapping", "apply_keyword"],
            "convert_type" => &["target_type"],
            "set_value" => &["value", "force_type"],
            "add_condition" => &["conditions", "name", "template", "negated"],
            "change_logsource" => &["category", "product", "service"],
            "drop_detection_item" | "strict_field_mapping_failure" => &[],
            "replace_string" => &["regex", "replacement", "skip_special", "interpret_special"],
            "set_state" => &["key", "val"],
            "rule_failure" | "detection_item_failure" => &["message"],
            "add_field" | "remove_field" => &["field"],
            "set_field" => &["fields"],
            "set_custom_attribute" => &["attribute", "value"],
            "value_placeholders" | "wildcard_placeholders" => &["include", "exclude"],
            "query_expression_placeholders" => &["expression", "mapping", "include", "exclude"],
            "set_state_from_rule" => &["key", "by_category", "by_value", "message"],
            "split_domain_user" => &["domain_fields", "default_domain_field"],
            "hashes_fields" => &["valid_hash_algos", "field_prefix", "drop_algo_prefix"],
            "field_schema_failure" => &["key", "fields", "tables"],
            "wildcard_to_cidr" | "substring_match" => &[],
            "field_name_in_value" => &["separator", "numbers_only"],
            "field_to_keyword" => &[],
            "value_type_failure" => &["types", "message"],
            "append_state" => &["key", "val"],
            "append_state_from_values" => &["key", "mapping", "keep_unmapped"],
            "set_state_from_values" => &["key", "fields", "searches", "values"],
            "udm_field_failure" => &[],
            other => {
                if let Some((_, what)) = UNSUPPORTED_TRANSFORMATIONS
                    .iter()
                    .find(|(n, _)| *n == other)
                {
                    return Err(PipelineError::Unsupported {
                        origin: self.origin.to_string(),
                        pos: ty_node.pos(),
                        what: (*what).to_string(),
                    });
                }
                return Err(PipelineError::UnknownTransformation {
                    origin: self.origin.to_string(),
                    pos: ty_node.pos(),
                    name: other.to_string(),
                });
            }
        };
        let allowed: Vec<&str> = ITEM_KEYS.iter().chain(params).copied().collect();
        self.check_keys(entries, &format!("transformation of type `{ty}`"), &allowed)?;
        let param = |name: &str| find(entries, name);
        let required = |name: &str| {
            param(name)
                .ok_or_else(|| self.invalid(pos, format!("transformation `{ty}` needs `{name}`")))
        };
        let transformation = match ty.as_str() {
            "field_name_mapping" => {
                let mut mapping = Vec::new();
                for (k, v) in self.map(required("mapping")?, "`mapping`")? {
                    mapping.push((k.text.clone(), self.string_list(v)?));
                }
                Transformation::FieldNameMapping { mapping }
            }
            "field_name_prefix_mapping" => {
                let mut mapping = Vec::new();
                for (k, v) in self.map(required("mapping")?, "`mapping`")? {
                    mapping.push((self.key_text(k)?, self.string_list(v)?));
                }
                Transformation::FieldNamePrefixMapping { mapping }
            }
            "map_string" => {
                let mut mapping = Vec::new();
                for (k, v) in self.map(required("mapping")?, "`mapping`")? {
                    mapping.push((self.key_text(k)?, self.string_list(v)?));
                }
                Transformation::MapString { mapping }
            }
            "field_name_transform" => {
                let node = required("transform_func")?;
                let name = self.string(node, "`transform_func`")?;
                let function = crate::model::FieldFunction::from_name(&name).ok_or_else(|| {
                    self.invalid(
                        node.pos(),
                        format!("unknown `transform_func` `{name}`; expected snake_case or lower"),
                    )
                })?;
                if param("apply_keyword").is_some_and(|n| matches!(n, Node::Bool(true, _))) {
                    return Err(PipelineError::Unsupported {
                        origin: self.origin.to_string(),
                        pos,
                        what: "`apply_keyword: true` of `field_name_transform`".to_string(),
                    });
                }
                let mut mapping = Vec::new();
                if let Some(m) = param("mapping") {
                    for (k, v) in self.map(m, "`mapping`")? {
                        mapping.push((self.key_text(k)?, self.string(v, "a field name")?));
                    }
                }
                Transformation::FieldNameTransform { function, mapping }
            }
            "field_name_prefix" => Transformation::FieldNamePrefix {
                prefix: self.string(required("prefix")?, "`prefix`")?,
            },
            "field_name_suffix" => Transformation::FieldNameSuffix {
                suffix: self.string(required("suffix")?, "`suffix`")?,
            },
            "convert_type" => {
                let node = required("target_type")?;
                let name = self.string(node, "`target_type`")?;
                let target =
                    crate::convert_type::ConvertTarget::from_name(&name).ok_or_else(|| {
                        self.invalid(
                            node.pos(),
                            format!("`target_type` must be `str` or `num`, not `{name}`"),
                        )
                    })?;
                Transformation::ConvertType { target }
            }
            "set_value" => {
                let force = match param("force_type") {
                    None | Some(Node::Null(_)) => None,
                    Some(node) => {
                        let name = self.string(node, "`force_type`")?;
                        Some(
                            crate::convert_type::ConvertTarget::from_name(&name).ok_or_else(
                                || {
                                    self.invalid(
                                        node.pos(),
                                        format!(
                                            "`force_type` must be `str` or `num`, not `{name}`"
                                        ),
                                    )
                                },
                            )?,
                        )
                    }
                };
                let node = required("value")?;
                let value = crate::set_value::fixed_value(&self.scalar(node)?, force)
                    .map_err(|message| self.invalid(node.pos(), message))?;
                Transformation::SetValue { value }
            }
            "add_condition" => self.add_condition(entries, required("conditions")?)?,
            "change_logsource" => Transformation::ChangeLogsource {
                category: param("category")
                    .map(|n| self.opt_string(n))
                    .transpose()?
                    .flatten(),
                product: param("product")
                    .map(|n| self.opt_string(n))
                    .transpose()?
                    .flatten(),
                service: param("service")
                    .map(|n| self.opt_string(n))
                    .transpose()?
                    .flatten(),
            },
            "drop_detection_item" => Transformation::DropDetectionItem,
            "strict_field_mapping_failure" => Transformation::StrictFieldMappingFailure,
            "replace_string" => {
                let replacement_node = required("replacement")?;
                Transformation::ReplaceString {
                    regex: self.regex(required("regex")?, "`regex`", false)?,
                    replacement: python_replacement(
                        &self.string(replacement_node, "`replacement`")?,
                    ),
                    skip_special: param("skip_special")
                        .map(|n| self.bool(n, "`skip_special`"))
                        .transpose()?
                        .unwrap_or(false),
                    interpret_special: param("interpret_special")
                        .map(|n| self.bool(n, "`interpret_special`"))
                        .transpose()?
                        .unwrap_or(false),
                }
            }
            "set_state" => Transformation::SetState {
                key: self.string(required("key")?, "`key`")?,
                val: self.scalar(required("val")?)?,
            },
            "rule_failure" => Transformation::RuleFailure {
                message: self.string(required("message")?, "`message`")?,
            },
            "detection_item_failure" => Transformation::DetectionItemFailure {
                message: self.string(required("message")?, "`message`")?,
            },
            "add_field" => Transformation::AddField {
                fields: self.string_list(required("field")?)?,
            },
            "remove_field" => Transformation::RemoveField {
                fields: self.string_list(required("field")?)?,
            },
            "set_field" => Transformation::SetField {
                fields: self.string_list(required("fields")?)?,
            },
            "set_custom_attribute" => Transformation::SetCustomAttribute {
                attribute: self.string(required("attribute")?, "`attribute`")?,
                value: match required("value")? {
                    Node::Null(_) => "null".to_string(),
                    n => self.string(n, "`value`")?,
                },
            },
            "value_placeholders" => Transformation::ValuePlaceholders(self.filter(entries)?),
            "wildcard_placeholders" => Transformation::WildcardPlaceholders(self.filter(entries)?),
            "query_expression_placeholders" => Transformation::QueryExpressionPlaceholders {
                expression: self.string(required("expression")?, "`expression`")?,
                filter: self.filter(entries)?,
            },
            "set_state_from_rule" => Transformation::SetStateFromRule(StateFromRule {
                key: self.string(required("key")?, "`key`")?,
                by_category: match param("by_category") {
                    Some(n) => self.scalar_map(n, "`by_category`")?,
                    None => Vec::new(),
                },
                by_value: param("by_value")
                    .filter(|n| !matches!(n, Node::Null(_)))
                    .map(|n| self.value_lookup(n))
                    .transpose()?,
                message: match param("message") {
                    Some(n) => self.string(n, "`message`")?,
                    None => format!(
                        "no value for the pipeline state key `{}` can be determined from the rule",
                        self.string(required("key")?, "`key`")?
                    ),
                },
            }),
            "split_domain_user" => {
                let mut domain_fields = Vec::new();
                if let Some(n) = param("domain_fields").filter(|n| !matches!(n, Node::Null(_))) {
                    for (k, v) in self.map(n, "`domain_fields`")? {
                        domain_fields.push((self.key_text(k)?, self.string(v, "a domain field")?));
                    }
                }
                Transformation::SplitDomainUser {
                    domain_fields,
                    default_domain_field: param("default_domain_field")
                        .map(|n| self.opt_string(n))
                        .transpose()?
                        .flatten(),
                }
            }
            "hashes_fields" => Transformation::HashesFields(HashesFields {
                valid_hash_algos: self
                    .string_list(required("valid_hash_algos")?)?
                    .into_iter()
                    .map(|a| a.to_uppercase())
                    .collect(),
                field_prefix: param("field_prefix")
                    .map(|n| self.opt_string(n))
                    .transpose()?
                    .flatten()
                    .unwrap_or_default(),
                drop_algo_prefix: param("drop_algo_prefix")
                    .map(|n| self.bool(n, "`drop_algo_prefix`"))
                    .transpose()?
                    .unwrap_or(false),
            }),
            "field_schema_failure" => {
                let mut tables = BTreeMap::new();
                for (k, v) in self.map(required("tables")?, "`tables`")? {
                    tables.insert(
                        self.key_text(k)?,
                        self.string_list(v)?.into_iter().collect(),
                    );
                }
                Transformation::FieldSchemaFailure {
                    key: self.string(required("key")?, "`key`")?,
                    fields: match param("fields") {
                        Some(n) => self.string_list(n)?.into_iter().collect(),
                        None => BTreeSet::new(),
                    },
                    tables,
                }
            }
            "wildcard_to_cidr" => Transformation::WildcardToCidr,
            "substring_match" => Transformation::SubstringMatch,
            "field_name_in_value" => Transformation::FieldNameInValue {
                separator: sigil_core::Pattern::parse_sigma(
                    &self.string(required("separator")?, "`separator`")?,
                    false,
                ),
                numbers_only: param("numbers_only")
                    .map(|n| self.bool(n, "`numbers_only`"))
                    .transpose()?
                    .unwrap_or(false),
            },
            "field_to_keyword" => Transformation::FieldToKeyword,
            "value_type_failure" => {
                let types = self.string_list(required("types")?)?;
                if let Some(t) = types
                    .iter()
                    .find(|t| !crate::value_shape::VALUE_TYPES.contains(&t.as_str()))
                {
                    return Err(self.invalid(
                        pos,
                        format!(
                            "unknown value type `{t}` (known: {})",
                            crate::value_shape::VALUE_TYPES.join(", ")
                        ),
                    ));
                }
                Transformation::ValueTypeFailure {
                    types,
                    message: self.string(required("message")?, "`message`")?,
                }
            }
            "append_state" => Transformation::AppendState {
                key: self.string(required("key")?, "`key`")?,
                values: self.scalar_list(required("val")?)?,
            },
            "append_state_from_values" => {
                let mut mapping = Vec::new();
                for (k, v) in self.map(required("mapping")?, "`mapping`")? {
                    mapping.push((self.key_text(k)?, self.scalar_list(v)?));
                }
                Transformation::AppendStateFromValues {
                    key: self.string(required("key")?, "`key`")?,
                    mapping,
                    keep_unmapped: param("keep_unmapped")
                        .map(|n| self.bool(n, "`keep_unmapped`"))
                        .transpose()?
                        .unwrap_or(false),
                }
            }
            "set_state_from_values" => Transformation::SetStateFromValues {
                key: self.string(required("key")?, "`key`")?,
                lookup: ValueLookup {
                    fields: self.string_list(required("fields")?)?,
                    searches: match param("searches") {
                        Some(n) => self.regex(n, "`searches`", true)?,
                        None => Regex::new("").map_err(|e| self.invalid(pos, e.to_string()))?,
                    },
                    values: self.scalar_map(required("values")?, "`values`")?,
                },
            },
            "udm_field_failure" => Transformation::UdmFieldFailure,
            _ => unreachable!("type names are checked above"),
        };
        let id = param("id")
            .map(|n| self.opt_string(n))
            .transpose()?
            .flatten();
        Ok(ProcessingItem {
            id,
            transformation,
            rule_conditions: self.conditions(entries, "rule", Self::rule_condition)?,
            detection_item_conditions: self.conditions(
                entries,
                "detection_item",
                Self::detection_item_condition,
            )?,
            field_name_conditions: self.conditions(
                entries,
                "field_name",
                Self::field_name_condition,
            )?,
            pos,
        })
    }

    /// One scalar or a list of them.
    fn scalar_list(&self, node: &Node) -> Result<Vec<Scalar>, PipelineError> {
        match node {
            Node::Seq(items, _) => items.iter().map(|n| self.scalar(n)).collect(),
            n => Ok(vec![self.scalar(n)?]),
        }
    }

    /// A mapping of names to single values, in order.
    fn scalar_map(&self, node: &Node, what: &str) -> Result<Vec<(String, Scalar)>, PipelineError> {
        self.map(node, what)?
            .iter()
            .map(|(k, v)| Ok((self.key_text(k)?, self.scalar(v)?)))
            .collect()
    }

    /// `by_value` of `set_state_from_rule`.
    fn value_lookup(&self, node: &Node) -> Result<ValueLookup, PipelineError> {
        let entries = self.map(node, "`by_value`")?;
        self.check_keys(entries, "`by_value`", &["fields", "searches", "values"])?;
        let required = |name: &str| {
            find(entries, name)
                .ok_or_else(|| self.invalid(node.pos(), format!("`by_value` needs `{name}`")))
        };
        Ok(ValueLookup {
            fields: self.string_list(required("fields")?)?,
            searches: match find(entries, "searches") {
                Some(n) => self.regex(n, "`searches`", true)?,
                None => Regex::new("").map_err(|e| self.invalid(node.pos(), e.to_string()))?,
            },
            values: self.scalar_map(required("values")?, "`values`")?,
        })
    }

    fn filter(&self, entries: &[(Key, Node)]) -> Result<PlaceholderFilter, PipelineError> {
        let list = |name: &str| {
            find(entries, name)
                .filter(|n| !matches!(n, Node::Null(_)))
                .map(|n| self.string_list(n))
                .transpose()
        };
        Ok(PlaceholderFilter {
            include: list("include")?,
            exclude: list("exclude")?,
        })
    }

    fn add_condition(
        &self,
        entries: &[(Key, Node)],
        conditions: &Node,
    ) -> Result<Transformation, PipelineError> {
        let mut out = Vec::new();
        for (k, v) in self.map(conditions, "`conditions`")? {
            let field = self.key_text(k)?;
            // Checked now so that a typo in a modifier is a load error with a position.
            crate::condition_predicate::parse_field_spec(&field)
                .map_err(|m| self.invalid(k.pos, m))?;
            let values = match v {
                Node::Seq(items, _) => items
                    .iter()
                    .map(|n| self.scalar(n))
                    .collect::<Result<Vec<_>, _>>()?,
                other => vec![self.scalar(other)?],
            };
            out.push((field, values));
        }
        let flag = |name: &str| {
            find(entries, name)
                .map(|n| self.bool(n, &format!("`{name}`")))
                .transpose()
                .map(Option::unwrap_or_default)
        };
        Ok(Transformation::AddCondition {
            conditions: out,
            name: find(entries, "name")
                .map(|n| self.opt_string(n))
                .transpose()?
                .flatten(),
            template: flag("template")?,
            negated: flag("negated")?,
        })
    }

    /// Reads `<prefix>_conditions`, `<prefix>_cond_op`, `<prefix>_cond_not` and
    /// `<prefix>_cond_expr`.
    fn conditions<C>(
        &self,
        entries: &[(Key, Node)],
        prefix: &str,
        one: ConditionReader<'o, C>,
    ) -> Result<Conditions<C>, PipelineError> {
        let mut out = Conditions::default();
        if let Some(list) = find(entries, &format!("{prefix}_conditions")) {
            match list {
                Node::Seq(items, _) => {
                    for item in items {
                        let e = self.map(item, "a condition")?;
                        out.items
                            .push((None, self.condition(e, item.pos(), prefix, one)?));
                    }
                }
                Node::Map(named, _) => {
                    for (k, item) in named {
                        let e = self.map(item, "a condition")?;
                        let name = self.key_text(k)?;
                        out.items
                            .push((Some(name), self.condition(e, item.pos(), prefix, one)?));
                    }
                }
                Node::Null(_) => {}
                other => {
                    return Err(self.invalid(
                        other.pos(),
                        "conditions must be a list or a mapping of named conditions",
                    ));
                }
            }
        }
        if let Some(op) = find(entries, &format!("{prefix}_cond_op")) {
            out.linking = match self.string(op, "the condition operator")?.as_str() {
                "and" => Linking::All,
                "or" => Linking::Any,
                other => {
                    return Err(self.invalid(
                        op.pos(),
                        format!("condition operator must be `and` or `or`, not `{other}`"),
                    ));
                }
            };
        }
        if let Some(n) = find(entries, &format!("{prefix}_cond_not")) {
            out.negate = self.bool(n, "the condition negation")?;
        }
        if let Some(e) = find(entries, &format!("{prefix}_cond_expr")) {
            if find(entries, &format!("{prefix}_cond_op")).is_some() {
                return Err(self.invalid(
                    e.pos(),
                    "a condition expression excludes a condition operator",
                ));
            }
            let text = self.string(e, "a condition expression")?;
            let expr = parse_cond_expr(&text).map_err(|m| self.invalid(e.pos(), m))?;
            let mut missing = None;
            let mut used = Vec::new();
            expr.names(&mut |n| {
                used.push(n.to_string());
                if !out.items.iter().any(|(name, _)| name.as_deref() == Some(n)) {
                    missing.get_or_insert_with(|| n.to_string());
                }
            });
            if let Some(n) = missing {
                return Err(self.invalid(
                    e.pos(),
                    format!("condition expression refers to an undefined condition `{n}`"),
                ));
            }
            if let Some((Some(unused), _)) = out
                .items
                .iter()
                .find(|(n, _)| n.as_ref().is_some_and(|n| !used.contains(n)))
            {
                return Err(self.invalid(
                    e.pos(),
                    format!("condition `{unused}` is not used by the condition expression"),
                ));
            }
            out.expr = Some(expr);
        }
        Ok(out)
    }

    fn condition<C>(
        &self,
        entries: &[(Key, Node)],
        pos: Pos,
        prefix: &str,
        one: ConditionReader<'o, C>,
    ) -> Result<C, PipelineError> {
        let ty_node =
            find(entries, "type").ok_or_else(|| self.invalid(pos, "condition without `type`"))?;
        let ty = self.string(ty_node, "`type`")?;
        let _ = prefix;
        one(self, entries, &ty, ty_node.pos())
    }

    fn cmp_op(&self, entries: &[(Key, Node)], list_ops: bool) -> Result<CmpOp, PipelineError> {
        let Some(n) = find(entries, "op") else {
            return Ok(CmpOp::Eq);
        };
        Ok(match self.string(n, "`op`")?.as_str() {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gte" => CmpOp::Gte,
            "gt" => CmpOp::Gt,
            "lte" => CmpOp::Lte,
            "lt" => CmpOp::Lt,
            "in" if list_ops => CmpOp::In,
            "not_in" if list_ops => CmpOp::NotIn,
            other => return Err(self.invalid(n.pos(), format!("invalid operation `{other}`"))),
        })
    }

    fn quantifier(
        &self,
        entries: &[(Key, Node)],
        pos: Pos,
    ) -> Result<ValueQuantifier, PipelineError> {
        let n = find(entries, "cond")
            .ok_or_else(|| self.invalid(pos, "value conditions need `cond: any` or `cond: all`"))?;
        match self.string(n, "`cond`")?.as_str() {
            "any" => Ok(ValueQuantifier::Any),
            "all" => Ok(ValueQuantifier::All),
            other => Err(self.invalid(
                n.pos(),
                format!("`cond` must be `any` or `all`, not `{other}`"),
            )),
        }
    }

    fn req<'n>(
        &self,
        entries: &'n [(Key, Node)],
        name: &str,
        ty: &str,
        pos: Pos,
    ) -> Result<&'n Node, PipelineError> {
        find(entries, name)
            .ok_or_else(|| self.invalid(pos, format!("condition `{ty}` needs `{name}`")))
    }

    fn rule_condition(
        &self,
        e: &[(Key, Node)],
        ty: &str,
        pos: Pos,
    ) -> Result<RuleCondition, PipelineError> {
        let keys: &[&str] = match ty {
            "logsource" => &["type", "category", "product", "service"],
            "contains_detection_item" => &["type", "field", "value"],
            "contains_field" => &["type", "field"],
            "processing_item_applied" => &["type", "processing_item_id"],
            "processing_state" => &["type", "key", "val", "op"],
            "is_sigma_rule" | "is_sigma_correlation_rule" => &["type"],
            "rule_attribute" => &["type", "attribute", "value", "op"],
            "tag" => &["type", "tag"],
            _ => {
                return Err(PipelineError::UnknownCondition {
                    origin: self.origin.to_string(),
                    pos,
                    kind: "rule",
                    name: ty.to_string(),
                });
            }
        };
        self.check_keys(e, &format!("rule condition of type `{ty}`"), keys)?;
        let opt = |name: &str| {
            find(e, name)
                .map(|n| self.opt_string(n))
                .transpose()
                .map(Option::flatten)
        };
        Ok(match ty {
            "logsource" => RuleCondition::Logsource {
                category: opt("category")?,
                product: opt("product")?,
                service: opt("service")?,
            },
            "contains_detection_item" => RuleCondition::ContainsDetectionItem {
                field: opt("field")?,
                value: self.scalar(self.req(e, "value", ty, pos)?)?,
            },
            "contains_field" => RuleCondition::ContainsField {
                field: opt("field")?,
            },
            "processing_item_applied" => RuleCondition::ProcessingItemApplied {
                id: self.string(
                    self.req(e, "processing_item_id", ty, pos)?,
                    "`processing_item_id`",
                )?,
            },
            "processing_state" => RuleCondition::ProcessingState {
                key: self.string(self.req(e, "key", ty, pos)?, "`key`")?,
                val: self.scalar(self.req(e, "val", ty, pos)?)?,
                op: self.cmp_op(e, false)?,
            },
            "is_sigma_rule" => RuleCondition::IsSigmaRule,
            "is_sigma_correlation_rule" => RuleCondition::IsSigmaCorrelationRule,
            "rule_attribute" => RuleCondition::RuleAttribute {
                attribute: self.string(self.req(e, "attribute", ty, pos)?, "`attribute`")?,
                value: self.scalar(self.req(e, "value", ty, pos)?)?,
                op: self.cmp_op(e, true)?,
            },
            _ => RuleCondition::Tag {
                tag: self.string(self.req(e, "tag", ty, pos)?, "`tag`")?,
            },
        })
    }

    fn detection_item_condition(
        &self,
        e: &[(Key, Node)],
        ty: &str,
        pos: Pos,
    ) -> Result<DetectionItemCondition, PipelineError> {
        let keys: &[&str] = match ty {
            "match_string" => &["type", "cond", "pattern", "negate"],
            "match_value" => &["type", "cond", "value"],
            "contains_wildcard" | "is_null" => &["type", "cond"],
            "processing_item_applied" => &["type", "processing_item_id"],
            "processing_state" => &["type", "key", "val", "op"],
            _ => {
                return Err(PipelineError::UnknownCondition {
                    origin: self.origin.to_string(),
                    pos,
                    kind: "detection item",
                    name: ty.to_string(),
                });
            }
        };
        self.check_keys(e, &format!("detection item condition of type `{ty}`"), keys)?;
        Ok(match ty {
            "match_string" => DetectionItemCondition::MatchString {
                regex: self.regex(self.req(e, "pattern", ty, pos)?, "`pattern`", true)?,
                cond: self.quantifier(e, pos)?,
                negate: find(e, "negate")
                    .map(|n| self.bool(n, "`negate`"))
                    .transpose()?
                    .unwrap_or(false),
            },
            "match_value" => DetectionItemCondition::MatchValue {
                value: self.scalar(self.req(e, "value", ty, pos)?)?,
                cond: self.quantifier(e, pos)?,
            },
            "contains_wildcard" => DetectionItemCondition::ContainsWildcard {
                cond: self.quantifier(e, pos)?,
            },
            "is_null" => DetectionItemCondition::IsNull {
                cond: self.quantifier(e, pos)?,
            },
            "processing_item_applied" => DetectionItemCondition::ProcessingItemApplied {
                id: self.string(
                    self.req(e, "processing_item_id", ty, pos)?,
                    "`processing_item_id`",
                )?,
            },
            _ => DetectionItemCondition::ProcessingState {
                key: self.string(self.req(e, "key", ty, pos)?, "`key`")?,
                val: self.scalar(self.req(e, "val", ty, pos)?)?,
                op: self.cmp_op(e, false)?,
            },
        })
    }

    fn field_name_condition(
        &self,
        e: &[(Key, Node)],
        ty: &str,
        pos: Pos,
    ) -> Result<FieldNameCondition, PipelineError> {
        let keys: &[&str] = match ty {
            "include_fields" | "exclude_fields" => &["type", "fields", "mode"],
            "processing_item_applied" => &["type", "processing_item_id"],
            "processing_state" => &["type", "key", "val", "op"],
            _ => {
                return Err(PipelineError::UnknownCondition {
                    origin: self.origin.to_string(),
                    pos,
                    kind: "field name",
                    name: ty.to_string(),
                });
            }
        };
        self.check_keys(e, &format!("field name condition of type `{ty}`"), keys)?;
        Ok(match ty {
            "include_fields" | "exclude_fields" => {
                let fields_node = self.req(e, "fields", ty, pos)?;
                let fields = self.string_list(fields_node)?;
                let mode = find(e, "mode")
                    .map(|n| self.string(n, "`mode`"))
                    .transpose()?
                    .unwrap_or_else(|| "plain".to_string());
                let set = match mode.as_str() {
                    "plain" => FieldSet::Plain(fields),
                    "re" => FieldSet::Regex(
                        fields
                            .iter()
                            .map(|f| {
                                Regex::new(&format!("^(?:{f})")).map_err(|err| {
                                    self.invalid(
                                        fields_node.pos(),
                                        format!("invalid regular expression `{f}`: {err}"),
                                    )
                                })
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                    other => {
                        return Err(self.invalid(
                            pos,
                            format!("field matching `mode` must be `plain` or `re`, not `{other}`"),
                        ));
                    }
                };
                if ty == "include_fields" {
                    FieldNameCondition::IncludeFields(set)
                } else {
                    FieldNameCondition::ExcludeFields(set)
                }
            }
            "processing_item_applied" => FieldNameCondition::ProcessingItemApplied {
                id: self.string(
                    self.req(e, "processing_item_id", ty, pos)?,
                    "`processing_item_id`",
                )?,
            },
            _ => FieldNameCondition::ProcessingState {
                key: self.string(self.req(e, "key", ty, pos)?, "`key`")?,
                val: self.scalar(self.req(e, "val", ty, pos)?)?,
                op: self.cmp_op(e, false)?,
            },
        })
    }
}

/// Converts a Python `re.sub` replacement (`\1`, `\g<name>`, `\\`) to `regex` crate syntax
/// (`${1}`, `${name}`, `\`), escaping `$`.
pub fn python_replacement(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    let mut n = String::new();
                    while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                        if n.len() == 2 {
                            break;
                        }
                        n.push(d);
                        chars.next();
                    }
                    let _ = write!(out, "${{{n}}}");
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|&c| c != '>').collect();
                        let _ = write!(out, "${{{name}}}");
                    } else {
                        out.push_str("\\g");
                    }
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                _ => out.push('\\'),
            },
            other => out.push(other),
        }
    }
    out
}

/// Parses a condition expression: names, `and`, `or`, `not` and parentheses, with `not`
/// binding tightest and `or` loosest.
pub fn parse_cond_expr(text: &str) -> Result<CondExpr, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' || c == ')' {
            tokens.push(c.to_string());
            chars.next();
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '(' || c == ')' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            tokens.push(word);
        }
    }
    let mut pos = 0;
    let expr = parse_or(&tokens, &mut pos)?;
    if pos != tokens.len() {
        return Err(format!(
            "unexpected `{}` in condition expression `{text}`",
            tokens[pos]
        ));
    }
    Ok(expr)
}

fn parse_or(tokens: &[String], pos: &mut usize) -> Result<CondExpr, String> {
    let mut left = parse_and(tokens, pos)?;
    while tokens
        .get(*pos)
        .is_some_and(|t| t.eq_ignore_ascii_case("or"))
    {
        *pos += 1;
        let right = parse_and(tokens, pos)?;
        left = CondExpr::Or(Box::new(left), Box::new(right));
    }
    Ok(left)
}

fn parse_and(tokens: &[String], pos: &mut usize) -> Result<CondExpr, String> {
    let mut left = parse_not(tokens, pos)?;
    while tokens
        .get(*pos)
        .is_some_and(|t| t.eq_ignore_ascii_case("and"))
    {
        *pos += 1;
        let right = parse_not(tokens, pos)?;
        left = CondExpr::And(Box::new(left), Box::new(right));
    }
    Ok(left)
}

fn parse_not(tokens: &[String], pos: &mut usize) -> Result<CondExpr, String> {
    match tokens.get(*pos).map(String::as_str) {
        Some(t) if t.eq_ignore_ascii_case("not") => {
            *pos += 1;
            Ok(CondExpr::Not(Box::new(parse_not(tokens, pos)?)))
        }
        Some("(") => {
            *pos += 1;
            let inner = parse_or(tokens, pos)?;
            if tokens.get(*pos).map(String::as_str) != Some(")") {
                return Err("missing `)` in condition expression".to_string());
            }
            *pos += 1;
            Ok(inner)
        }
        Some(")") => Err("unexpected `)` in condition expression".to_string()),
        Some(t) if t.eq_ignore_ascii_case("and") || t.eq_ignore_ascii_case("or") => {
            Err(format!("unexpected `{t}` in condition expression"))
        }
        Some(name) => {
            *pos += 1;
            Ok(CondExpr::Ref(name.to_string()))
        }
        None => Err("condition expression ends too early".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_replacements_convert() {
        assert_eq!(python_replacement(r"\1-\g<x>$"), "${1}-${x}$$");
        assert_eq!(python_replacement(r"a\\b"), r"a\b");
        assert_eq!(python_replacement(r"C:\Windows"), r"C:\Windows");
    }

    #[test]
    fn condition_expressions_parse_with_precedence() {
        let e = parse_cond_expr("a or not b and (c or d)").expect("valid expression");
        let r = |n: &str| Box::new(CondExpr::Ref(n.to_string()));
        assert_eq!(
            e,
            CondExpr::Or(
                r("a"),
                Box::new(CondExpr::And(
                    Box::new(CondExpr::Not(r("b"))),
                    Box::new(CondExpr::Or(r("c"), r("d")))
                ))
            )
        );
        assert!(parse_cond_expr("a and").is_err());
        assert!(parse_cond_expr("(a").is_err());
        assert!(parse_cond_expr("a b").is_err());
    }
}
