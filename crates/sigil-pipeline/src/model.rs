//! Pipelines as values: processing items, their transformations and conditions.
//!
//! The types mirror pySigma's processing-pipeline YAML one to one, so a pipeline file reads
//! the same in both tools. They are built by [`crate::Pipeline::from_yaml`] and applied by
//! [`crate::PipelineSet`].

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;

use crate::yaml::Pos;

/// A YAML scalar as a pipeline uses it: a condition value, a pipeline state value, a
/// variable.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
}

impl Scalar {
    /// The value as text (`null`, `true`, `4688`, ...).
    pub fn to_text(&self) -> String {
        match self {
            Scalar::Null => "null".to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Str(s) => s.clone(),
        }
    }
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// One processing pipeline (one YAML file).
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// `name:`.
    pub name: Option<String>,
    /// `priority:` (pySigma's default is 0); pipelines of a [`crate::PipelineSet`] run in
    /// ascending priority, ties in the order given.
    pub priority: i64,
    /// `transformations:`, in order.
    pub items: Vec<ProcessingItem>,
    /// `vars:`, used by `value_placeholders`; each variable has one or more values.
    pub vars: BTreeMap<String, Vec<String>>,
    /// `allowed_backends:`: the targets (names or aliases) the pipeline is for; empty for
    /// every target. `sigil convert` refuses the pipeline for any other target.
    pub allowed_backends: Vec<String>,
    /// The `type`s of the `postprocessing:` and `finalizers:` entries. They act on query
    /// text, which sigil's backends produce themselves, so they are read and not applied.
    pub ignored_output_steps: Vec<String>,
    /// Where the pipeline came from: a file path, or `builtin:<name>`.
    pub origin: String,
}

/// A transformation with the conditions under which it applies (`transformations:` entry).
#[derive(Debug, Clone)]
pub struct ProcessingItem {
    /// `id:`; what `processing_item_applied` conditions refer to.
    pub id: Option<String>,
    /// What it does.
    pub transformation: Transformation,
    /// `rule_conditions` with `rule_cond_op` / `rule_cond_not` / `rule_cond_expr`.
    pub rule_conditions: Conditions<RuleCondition>,
    /// `detection_item_conditions` with their `_op` / `_not` / `_expr`.
    pub detection_item_conditions: Conditions<DetectionItemCondition>,
    /// `field_name_conditions` with `field_name_cond_op` / `_not` / `_expr`.
    pub field_name_conditions: Conditions<FieldNameCondition>,
    /// Where the item was written.
    pub pos: Pos,
}

/// A list of conditions and how they combine.
#[derive(Debug, Clone)]
pub struct Conditions<C> {
    /// The conditions, each with its name when they were given as a mapping.
    pub items: Vec<(Option<String>, C)>,
    /// `and` (pySigma's default) or `or`.
    pub linking: Linking,
    /// `*_cond_not`: negate the combined result.
    pub negate: bool,
    /// `*_cond_expr`: a boolean expression over the names of the conditions.
    pub expr: Option<CondExpr>,
}

impl<C> Default for Conditions<C> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            linking: Linking::All,
            negate: false,
            expr: None,
        }
    }
}

impl<C> Conditions<C> {
    /// Whether there are no conditions at all.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Combines the results of the conditions, computed lazily by `eval`, as pySigma does:
    /// by the expression if there is one, else by the linking; then the negation.
    pub fn combine(&self, mut eval: impl FnMut(&C) -> bool) -> bool {
        let result = if let Some(expr) = &self.expr {
            expr.eval(&mut |name| {
                self.items
                    .iter()
                    .find(|(n, _)| n.as_deref() == Some(name))
                    .is_some_and(|(_, c)| eval(c))
            })
        } else {
            match self.linking {
                Linking::All => self.items.iter().all(|(_, c)| eval(c)),
                Linking::Any => self.items.iter().any(|(_, c)| eval(c)),
            }
        };
        result != self.negate
    }
}

/// How a list of conditions combines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linking {
    /// All must hold (`and`).
    All,
    /// One must hold (`or`).
    Any,
}

/// A condition expression (`rule_cond_expr: "a and not b"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CondExpr {
    /// A condition by name.
    Ref(String),
    /// Both.
    And(Box<CondExpr>, Box<CondExpr>),
    /// Either.
    Or(Box<CondExpr>, Box<CondExpr>),
    /// Negation.
    Not(Box<CondExpr>),
}

impl CondExpr {
    /// Evaluates the expression with `lookup` giving each named condition's result.
    pub fn eval(&self, lookup: &mut impl FnMut(&str) -> bool) -> bool {
        match self {
            CondExpr::Ref(n) => lookup(n),
            CondExpr::And(a, b) => a.eval(lookup) && b.eval(lookup),
            CondExpr::Or(a, b) => a.eval(lookup) || b.eval(lookup),
            CondExpr::Not(a) => !a.eval(lookup),
        }
    }

    /// Calls `f` with every name the expression refers to.
    pub fn names<'a>(&'a self, f: &mut impl FnMut(&'a str)) {
        match self {
            CondExpr::Ref(n) => f(n),
            CondExpr::And(a, b) | CondExpr::Or(a, b) => {
                a.names(f);
                b.names(f);
            }
            CondExpr::Not(a) => a.names(f),
        }
    }
}

/// A comparison of `processing_state` conditions and `rule_attribute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `eq` (default).
    Eq,
    /// `ne`.
    Ne,
    /// `gte`.
    Gte,
    /// `gt`.
    Gt,
    /// `lte`.
    Lte,
    /// `lt`.
    Lt,
    /// `in` (rule attributes that are lists, such as tags).
    In,
    /// `not_in`.
    NotIn,
}

/// `cond: any | all` of value conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueQuantifier {
    /// One value of the detection item must match.
    Any,
    /// Every value must match.
    All,
}

/// A condition on the whole rule (`rule_conditions`).
#[derive(Debug, Clone)]
pub enum RuleCondition {
    /// `logsource`: the rule's logsource has every given field with the given value.
    Logsource {
        /// `category`.
        category: Option<String>,
        /// `product`.
        product: Option<String>,
        /// `service`.
        service: Option<String>,
    },
    /// `contains_detection_item`: a predicate on `field` has `value` among its values.
    ContainsDetectionItem {
        /// The field.
        field: Option<String>,
        /// The value.
        value: Scalar,
    },
    /// `contains_field`: a predicate on `field` exists.
    ContainsField {
        /// The field.
        field: Option<String>,
    },
    /// `processing_item_applied`: the item with this id was applied to the rule.
    ProcessingItemApplied {
        /// The processing item id.
        id: String,
    },
    /// `processing_state`: the pipeline state holds `key` compared to `val`.
    ProcessingState {
        /// The state key.
        key: String,
        /// The value compared with.
        val: Scalar,
        /// The comparison.
        op: CmpOp,
    },
    /// `is_sigma_rule`: a detection rule (not a correlation).
    IsSigmaRule,
    /// `is_sigma_correlation_rule`.
    IsSigmaCorrelationRule,
    /// `rule_attribute`: a metadata attribute compared with a value.
    RuleAttribute {
        /// The attribute (`level`, `status`, `id`, `title`, `tags`, `author`, ... or a custom key).
        attribute: String,
        /// The value compared with.
        value: Scalar,
        /// The comparison.
        op: CmpOp,
    },
    /// `tag`: the rule has this tag.
    Tag {
        /// The tag, e.g. `attack.t1059`.
        tag: String,
    },
}

/// A condition on one detection item (`detection_item_conditions`).
#[derive(Debug, Clone)]
pub enum DetectionItemCondition {
    /// `match_string`: string values match a regular expression (anchored at the start,
    /// as Python's `re.match`).
    MatchString {
        /// The compiled pattern.
        regex: Regex,
        /// `any` or `all` values.
        cond: ValueQuantifier,
        /// `negate`: invert each value's result.
        negate: bool,
    },
    /// `match_value`: a value equals the given one.
    MatchValue {
        /// The value.
        value: Scalar,
        /// `any` or `all` values.
        cond: ValueQuantifier,
    },
    /// `contains_wildcard`: a string value holds `*` or `?`.
    ContainsWildcard {
        /// `any` or `all` values.
        cond: ValueQuantifier,
    },
    /// `is_null`: a value is `null`.
    IsNull {
        /// `any` or `all` values.
        cond: ValueQuantifier,
    },
    /// `processing_item_applied`: the item with this id was applied to the detection item.
    ProcessingItemApplied {
        /// The processing item id.
        id: String,
    },
    /// `processing_state`.
    ProcessingState {
        /// The state key.
        key: String,
        /// The value compared with.
        val: Scalar,
        /// The comparison.
        op: CmpOp,
    },
}

/// A condition on a field name (`field_name_conditions`).
#[derive(Debug, Clone)]
pub enum FieldNameCondition {
    /// `include_fields`: the field is one of these (plain names or regular expressions).
    IncludeFields(FieldSet),
    /// `exclude_fields`: the field is none of these.
    ExcludeFields(FieldSet),
    /// `processing_item_applied`: the item with this id was applied to the field.
    ProcessingItemApplied {
        /// The processing item id.
        id: String,
    },
    /// `processing_state`.
    ProcessingState {
        /// The state key.
        key: String,
        /// The value compared with.
        val: Scalar,
        /// The comparison.
        op: CmpOp,
    },
}

/// The field list of `include_fields` / `exclude_fields`.
#[derive(Debug, Clone)]
pub enum FieldSet {
    /// `mode: plain` (default): exact names.
    Plain(Vec<String>),
    /// `mode: re`: regular expressions matched at the start of the name.
    Regex(Vec<Regex>),
}

impl FieldSet {
    /// Whether `field` is in the set (a keyword, `None`, never is).
    pub fn contains(&self, field: Option<&str>) -> bool {
        let Some(field) = field else { return false };
        match self {
            FieldSet::Plain(names) => names.iter().any(|n| n == field),
            FieldSet::Regex(res) => res.iter().any(|r| r.is_match(field)),
        }
    }
}

/// What a processing item does.
#[derive(Debug, Clone)]
pub enum Transformation {
    /// `field_name_mapping`: rename fields; a field mapped to several names becomes an `or`
    /// of the predicate on each name.
    FieldNameMapping {
        /// Source field → target fields. A `null` source maps keyword (field-less) predicates.
        mapping: Vec<(Option<String>, Vec<String>)>,
    },
    /// `field_name_prefix_mapping`: replace the first matching prefix.
    FieldNamePrefixMapping {
        /// Source prefix → target prefixes, in order.
        mapping: Vec<(String, Vec<String>)>,
    },
    /// `field_name_transform`: rename every field with a named function, unless `mapping`
    /// names it. pySigma takes a Python function; sigil names one of its own
    /// ([`FieldFunction`]).
    FieldNameTransform {
        /// `transform_func`.
        function: FieldFunction,
        /// Field → new name, taking precedence over the function.
        mapping: Vec<(String, String)>,
    },
    /// `field_name_prefix`: prepend to every field name.
    FieldNamePrefix {
        /// The prefix.
        prefix: String,
    },
    /// `field_name_suffix`: append to every field name.
    FieldNameSuffix {
        /// The suffix.
        suffix: String,
    },
    /// `add_condition`: a new search `_cond_N` and every condition rewritten as
    /// `_cond_N and (condition)`.
    AddCondition {
        /// `field[|modifier...]` → values (one value or a list, an alternative each).
        conditions: Vec<(String, Vec<Scalar>)>,
        /// `name`: the search name to use instead of `_cond_N`.
        name: Option<String>,
        /// `template`: substitute `$category`, `$product`, `$service` in string values.
        template: bool,
        /// `negated`: add `not _cond_N and (condition)` instead.
        negated: bool,
    },
    /// `change_logsource`: replace the rule's logsource.
    ChangeLogsource {
        /// `category`.
        category: Option<String>,
        /// `product`.
        product: Option<String>,
        /// `service`.
        service: Option<String>,
    },
    /// `drop_detection_item`: remove the matching predicates.
    DropDetectionItem,
    /// `replace_string`: regex replacement in string values.
    ReplaceString {
        /// The compiled pattern.
        regex: Regex,
        /// The replacement in `regex` crate syntax (`$1`), converted from Python's `\1`.
        replacement: String,
        /// `skip_special`: replace only in the literal parts, leaving wildcards alone.
        skip_special: bool,
        /// `interpret_special` (with `skip_special`): the replaced literal parts are read as
        /// Sigma syntax, so a replacement may bring wildcards (`\\Device\\HarddiskVolume?`).
        interpret_special: bool,
    },
    /// `map_string`: replace whole string values.
    MapString {
        /// Value → replacement values.
        mapping: Vec<(String, Vec<String>)>,
    },
    /// `convert_type`: numbers to strings or strings to numbers (see [`crate::convert_type`]).
    ConvertType {
        /// `target_type`: `str` or `num`.
        target: crate::convert_type::ConvertTarget,
    },
    /// `set_value`: replace every value by one fixed value (see [`crate::set_value`]).
    SetValue {
        /// `value`, with `force_type` applied.
        value: sigil_core::Value,
    },
    /// `set_state`: set a pipeline state key (backends read the state, e.g. for an index).
    SetState {
        /// The key.
        key: String,
        /// The value.
        val: Scalar,
    },
    /// `rule_failure`: reject the rule with a message.
    RuleFailure {
        /// The message.
        message: String,
    },
    /// `detection_item_failure`: reject the rule when a matching predicate exists.
    DetectionItemFailure {
        /// The message.
        message: String,
    },
    /// `strict_field_mapping_failure`: reject the rule if it uses a field no mapping of the
    /// pipelines touched (sigil's "strict" pipelines).
    StrictFieldMappingFailure,
    /// `add_field`: append to the rule's `fields`.
    AddField {
        /// The fields.
        fields: Vec<String>,
    },
    /// `remove_field`: remove from the rule's `fields`.
    RemoveField {
        /// The fields.
        fields: Vec<String>,
    },
    /// `set_field`: replace the rule's `fields`.
    SetField {
        /// The fields.
        fields: Vec<String>,
    },
    /// `set_custom_attribute`: set a custom attribute of the rule (kept as text).
    SetCustomAttribute {
        /// The attribute.
        attribute: String,
        /// The value.
        value: String,
    },
    /// `value_placeholders`: replace `%name%` placeholders with the values of the pipeline
    /// variable `name`.
    ValuePlaceholders(PlaceholderFilter),
    /// `wildcard_placeholders`: replace placeholders with `*`.
    WildcardPlaceholders(PlaceholderFilter),
    /// `query_expression_placeholders`: a backend query expression per placeholder. The IR
    /// has no query expressions, so a rule with a matching placeholder is rejected.
    QueryExpressionPlaceholders {
        /// `expression`, as written.
        expression: String,
        /// Which placeholders.
        filter: PlaceholderFilter,
    },
    /// `set_state_from_rule`: set a state key from the rule itself, e.g. the query table of
    /// a KQL rule from its logsource category or its `EventID`.
    SetStateFromRule(StateFromRule),
    /// `split_domain_user`: split `DOMAIN\user` values into the user and a domain field.
    SplitDomainUser {
        /// User field → the field that receives the domain.
        domain_fields: Vec<(String, String)>,
        /// The domain field of user fields not in `domain_fields`; without it, their values
        /// are left alone.
        default_domain_field: Option<String>,
    },
    /// `hashes_fields`: split `ALGO=value` values of a hashes field into one field per
    /// algorithm.
    HashesFields(HashesFields),
    /// `wildcard_to_cidr`: string values with wildcards become the network their address
    /// prefix names (`10.*` is `10.0.0.0/8`); a value that names none fails the rule (see
    /// [`crate::value_shape`]).
    WildcardToCidr,
    /// `substring_match`: string values become substring matches and numbers their text
    /// matched as a substring.
    SubstringMatch,
    /// `field_name_in_value`: string values become the field name, `separator` and the value.
    FieldNameInValue {
        /// Read as Sigma syntax (`*` is a wildcard).
        separator: sigil_core::Pattern,
        /// Only numbers and values of digits (the text `[0-9%']*`) are rewritten.
        numbers_only: bool,
    },
    /// `field_to_keyword`: the selected predicates lose their field: the value is searched
    /// anywhere in the event.
    FieldToKeyword,
    /// `value_type_failure`: reject the rule when a selected predicate has a value of one of
    /// `types`.
    ValueTypeFailure {
        /// `null` (also the empty string), `bool` (also the strings `true` and `false`),
        /// `regex`, `cidr`, `compare` (`lt`, `lte`, `gt`, `gte`).
        types: Vec<String>,
        /// The message.
        message: String,
    },
    /// `append_state`: append values to the comma-separated list a state key holds.
    AppendState {
        /// The state key.
        key: String,
        /// The values appended.
        values: Vec<Scalar>,
    },
    /// `append_state_from_values`: the values of the selected detection items, looked up in
    /// `mapping`, appended to the comma-separated list a state key holds.
    AppendStateFromValues {
        /// The state key.
        key: String,
        /// Value (as text) → what is appended.
        mapping: Vec<(String, Vec<Scalar>)>,
        /// Append a value `mapping` does not name as it is (else it is left out).
        keep_unmapped: bool,
    },
    /// `field_schema_failure`: reject a rule that uses fields the table named by a state key
    /// does not have.
    FieldSchemaFailure {
        /// The state key naming the table (`query_table`).
        key: String,
        /// Fields valid in every table.
        fields: BTreeSet<String>,
        /// Table → its fields. A table not listed is not checked.
        tables: BTreeMap<String, BTreeSet<String>>,
    },
    /// `set_state_from_values`: set a state key to every value found for `fields` among the
    /// top-level items of the matching searches, looked up in `values` (distinct, in the order
    /// found, joined by `,`); nothing found leaves the state as it is.
    SetStateFromValues {
        /// The state key.
        key: String,
        /// The fields, searches and value table.
        lookup: ValueLookup,
    },
    /// `udm_field_failure`: reject a rule that uses a field that is not a Google SecOps UDM
    /// field path ([`crate::udm`]).
    UdmFieldFailure,
}

/// A field-name function of `field_name_transform`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldFunction {
    /// `snake_case`: the name's words (runs of lower-case letters and digits, a capital with
    /// the lower-case letters after it, runs of capitals and digits) joined by `_`, in lower
    /// case (`CommandLine` → `command_line`, `EventID` → `event_id`).
    SnakeCase,
    /// `lower`: the name in lower case.
    Lower,
}

impl FieldFunction {
    /// The function named `name` in a pipeline file.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "snake_case" => Some(Self::SnakeCase),
            "lower" => Some(Self::Lower),
            _ => None,
        }
    }

    /// `field` renamed.
    pub fn apply(self, field: &str) -> String {
        match self {
            Self::Lower => field.to_lowercase(),
            Self::SnakeCase => {
                let mut words: Vec<String> = Vec::new();
                let chars: Vec<char> = field.chars().collect();
                let lower_or_digit = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
                let upper_or_digit = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit();
                let mut i = 0;
                while i < chars.len() {
                    let c = chars[i];
                    let start = i;
                    if lower_or_digit(c) {
                        while i < chars.len() && lower_or_digit(chars[i]) {
                            i += 1;
                        }
                    } else if c.is_ascii_uppercase()
                        && chars.get(i + 1).is_some_and(|n| lower_or_digit(*n))
                    {
                        i += 1;
                        while i < chars.len() && lower_or_digit(chars[i]) {
                            i += 1;
                        }
                    } else if upper_or_digit(c) {
                        while i < chars.len() && upper_or_digit(chars[i]) {
                            i += 1;
                        }
                    } else {
                        i += 1;
                        continue;
                    }
                    words.push(chars[start..i].iter().collect());
                }
                if words.is_empty() {
                    field.to_lowercase()
                } else {
                    words.join("_").to_lowercase()
                }
            }
        }
    }
}

/// The parameters of `set_state_from_rule`.
#[derive(Debug, Clone)]
pub struct StateFromRule {
    /// The state key to set.
    pub key: String,
    /// `by_category`: logsource category → value. A rule with a category is decided by its
    /// category alone.
    pub by_category: Vec<(String, Scalar)>,
    /// `by_value`: for a rule without a category, the value chosen by a field value.
    pub by_value: Option<ValueLookup>,
    /// `message`: why the rule fails when no value is found.
    pub message: String,
}

/// `by_value` of `set_state_from_rule`: the first value of one of `fields` among the
/// top-level items of the searches whose name matches `searches`, looked up in `values`.
#[derive(Debug, Clone)]
pub struct ValueLookup {
    /// The fields read (`EventID`, `EventCode`).
    pub fields: Vec<String>,
    /// Which searches are read: a regular expression matched at the start of the name.
    pub searches: Regex,
    /// Field value (as text) → state value.
    pub values: Vec<(String, Scalar)>,
}

/// The parameters of `hashes_fields` (pySigma's `HashesFieldsDetectionItemTransformation`).
#[derive(Debug, Clone)]
pub struct HashesFields {
    /// `valid_hash_algos`: the algorithms kept, upper case; values of others are dropped.
    pub valid_hash_algos: Vec<String>,
    /// `field_prefix`: prepended to the algorithm to form the field name.
    pub field_prefix: String,
    /// `drop_algo_prefix`: use `field_prefix` alone as the field name.
    pub drop_algo_prefix: bool,
}

/// `include` / `exclude` lists of the placeholder transformations.
#[derive(Debug, Clone, Default)]
pub struct PlaceholderFilter {
    /// Only these placeholders (all when absent).
    pub include: Option<Vec<String>>,
    /// Not these placeholders.
    pub exclude: Option<Vec<String>>,
}

impl PlaceholderFilter {
    /// Whether the placeholder `name` is handled.
    pub fn handles(&self, name: &str) -> bool {
        self.include
            .as_ref()
            .is_none_or(|i| i.iter().any(|n| n == name))
            && self
                .exclude
                .as_ref()
                .is_none_or(|e| !e.iter().any(|n| n == name))
    }
}

impl Transformation {
    /// The pySigma type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Transformation::FieldNameMapping { .. } => "field_name_mapping",
            Transformation::FieldNamePrefixMapping { .. } => "field_name_prefix_mapping",
            Transformation::FieldNameTransform { .. } => "field_name_transform",
            Transformation::FieldNamePrefix { .. } => "field_name_prefix",
            Transformation::FieldNameSuffix { .. } => "field_name_suffix",
            Transformation::AddCondition { .. } => "add_condition",
            Transformation::ChangeLogsource { .. } => "change_logsource",
            Transformation::DropDetectionItem => "drop_detection_item",
            Transformation::ReplaceString { .. } => "replace_string",
            Transformation::MapString { .. } => "map_string",
            Transformation::ConvertType { .. } => "convert_type",
            Transformation::SetValue { .. } => "set_value",
            Transformation::SetState { .. } => "set_state",
            Transformation::RuleFailure { .. } => "rule_failure",
            Transformation::DetectionItemFailure { .. } => "detection_item_failure",
            Transformation::StrictFieldMappingFailure => "strict_field_mapping_failure",
            Transformation::AddField { .. } => "add_field",
            Transformation::RemoveField { .. } => "remove_field",
            Transformation::SetField { .. } => "set_field",
            Transformation::SetCustomAttribute { .. } => "set_custom_attribute",
            Transformation::ValuePlaceholders(_) => "value_placeholders",
            Transformation::WildcardPlaceholders(_) => "wildcard_placeholders",
            Transformation::QueryExpressionPlaceholders { .. } => "query_expression_placeholders",
            Transformation::SetStateFromRule(_) => "set_state_from_rule",
            Transformation::SplitDomainUser { .. } => "split_domain_user",
            Transformation::HashesFields(_) => "hashes_fields",
            Transformation::FieldSchemaFailure { .. } => "field_schema_failure",
            Transformation::WildcardToCidr => "wildcard_to_cidr",
            Transformation::SubstringMatch => "substring_match",
            Transformation::FieldNameInValue { .. } => "field_name_in_value",
            Transformation::FieldToKeyword => "field_to_keyword",
            Transformation::ValueTypeFailure { .. } => "value_type_failure",
            Transformation::AppendState { .. } => "append_state",
            Transformation::AppendStateFromValues { .. } => "append_state_from_values",
            Transformation::SetStateFromValues { .. } => "set_state_from_values",
            Transformation::UdmFieldFailure => "udm_field_failure",
        }
    }
}
