//! Elastic detection rules in the sigil IR.
//!
//! Elastic's rules are TOML files with metadata and a query in EQL, KQL (`kuery`),
//! ES|QL or Lucene. This crate reads the TOML with positions, parses EQL and KQL, and
//! lowers both into [`sigil_core`]'s IR, so every analysis, backend and the hunting
//! engine treat Elastic rules like Sigma rules.
//!
//! - [`parse_rule_toml`] reads one file into an [`ElasticFile`]: the rule (id =
//!   `rule_id`, title = `name`, level = `severity`, ATT&CK `threat` tables as
//!   `attack.*` tags, the rest of the metadata in `custom`), plus synthetic step rules
//!   when the query is a sequence (see [`eql::lower`] for how steps are referenced).
//! - What the IR cannot express is never dropped: it is listed in
//!   [`sigil_core::Rule::not_evaluable`] with the reason and the position. ES|QL,
//!   Lucene, machine-learning, new_terms and threat_match rules are read for their
//!   metadata and query text, and marked so.
//! - [`eql`] and [`kql`] can be used on their own for ad-hoc queries.

pub mod eql;
pub mod error;
pub mod field_types;
pub mod kql;
pub mod rule_file;
pub mod source;

pub use error::{ElasticError, SyntaxError};
pub use rule_file::{AttackItem, ElasticFile, Technique, Threat, parse_rule_toml, threats};
