//! The rule model and the detection IR of sigil.
//!
//! Every front end (Sigma YAML, Elastic TOML with EQL or KQL) lowers its rules into the
//! types of this crate, and every consumer (backends, the hunting engine, the catalog)
//! reads only these types. That is what lets an analysis or a backend be written once
//! for every rule language.
//!
//! The layers, from the outside in:
//!
//! - [`Rule`]: metadata (id, title, level, tags, logsource, ...) and a [`RuleBody`]:
//!   a plain detection, a correlation over other rules, or a filter applied to other rules.
//! - [`Detection`]: named searches (Sigma's search identifiers, here called *stages*) and
//!   a [`Condition`] over them.
//! - [`Expr`]: each search is a boolean expression over [`Predicate`]s
//!   `(field or keyword, operator, values, flags)`.
//! - [`Pattern`]: a string value with its wildcards and placeholders kept apart from its
//!   literal text, so no consumer ever re-parses escapes.
//!
//! Every node keeps the [`Span`] it came from. The crate does no I/O and knows no rule
//! language: the normalisation passes in [`fold`] and the value encodings in [`encode`]
//! exist once, here.
#![doc = ""]

pub mod attack;
pub mod condition;
pub mod correlation;
pub mod diagnostic;
pub mod encode;
pub mod expr;
pub mod fold;
pub mod pattern;
pub mod rule;
pub mod span;
pub mod words;

pub use attack::{
    ATTACK_VERSION, AttackData, AttackEntry, AttackKind, AttackRef, AttackState, attack_data,
    parse_attack_tag,
};
pub use condition::{Condition, Selector};
pub use correlation::{
    Correlation, CorrelationCondition, CorrelationKind, CorrelationRef, FieldAlias, Filter,
};
pub use diagnostic::{Diagnostic, Severity};
pub use expr::{Encoding, Expr, Flags, Op, Predicate, RegexFlags, TimePart, Value};
pub use pattern::{Pattern, Piece};
pub use rule::{
    Detection, Level, LogSource, NotEvaluable, QuerySource, Related, Rule, RuleBody, RuleLanguage,
    Search, Status,
};
pub use span::Span;
