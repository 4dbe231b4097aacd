//! The hunting engine: Sigma semantics, compiled for speed.
//!
//! Rules arrive as sigil's IR (already processed by their pipelines) and are compiled
//! once into an immutable [`Engine`]; events are then evaluated by a per-thread
//! [`Scan`] and detections flow to a [`Sink`]. The shape follows from one goal: run
//! thousands of rules over every event for a few microseconds per event.
//!
//! - **Rule index by logsource.** Pipelines add `Channel` and `EventID` conditions to
//!   every rule; these are taken out of the rule and become its key
//!   ([`index`](crate::index)), so an event meets only the rules of its channel and id.
//! - **Literal prefilter.** For each rule the compiler derives a set of literals one of
//!   which must occur in the event for the rule to match (for `and` any child's set,
//!   for `or` the union, nothing from negations). The literals are grouped by the field
//!   they must occur in, and each field of the event that a candidate rule has literals
//!   in is scanned once with Aho-Corasick for all of them; a candidate rule none of whose
//!   literals occur (where its patterns put them: at the start of the value for
//!   `startswith`, ...) is skipped without evaluation.
//! - **Fast predicates.** Values are folded to one case at compile time; each field is
//!   read and folded once per event; `startswith`/`endswith`/`contains` literals are
//!   byte comparisons or `memmem` searches; wildcard patterns are split into segments,
//!   and only `?` and `re` use regular expressions. Identical predicates of different
//!   rules are compiled once and evaluated at most once per event.
//! - **Immutable engine, mutable scan.** The engine is `Send + Sync`; everything that
//!   changes per event lives in a [`Scan`] with buffers reused across events.
//!
//! # Semantics
//!
//! The reference is the Sigma specification as pySigma implements it:
//!
//! - Strings compare case-insensitively unless `cased`. Folding is Unicode-aware
//!   (pySigma's SQLite reference folds ASCII only), see [`fold`](crate::fold).
//! - `*` matches any run of characters, `?` exactly one character.
//! - A number in a rule matches a numeric field of that value or text spelling it
//!   (`4688` matches `"4688"`); `true`/`false` match booleans and the texts
//!   `true`/`1`, `false`/`0`.
//! - `null` and `exists: false` hold when the field is absent (an explicit JSON
//!   `null` counts as absent); an empty string is not null.
//! - `re` is an unanchored search with the `regex` crate; `i`, `m` and `s` flags apply.
//!   Expressions the crate rejects (look-around, back-references) make the rule skipped.
//! - `cidr` parses the field as an IP address (v4 or v6) and tests membership.
//! - `lt`/`lte`/`gt`/`gte` compare numbers; text that parses as a number counts, other
//!   text never matches (there is no text ordering).
//! - `neq`: the field is present and differs from every value.
//! - `fieldref` compares with the other field's value (equals, startswith, endswith,
//!   contains); both fields must be present.
//! - Time modifiers (`minute`, `hour`, `day`, `week`, `month`, `year`) compare the part
//!   of the field's timestamp, in UTC.
//! - Keyword searches (no field) match when a value is a substring of any value of the
//!   event (a keyword is always a substring search: `*` is added at both ends unless
//!   already there; wildcards inside are honoured).
//! - Negation is two-valued: a predicate on an absent field is false, so
//!   `selection and not filter` fires when the filter's field is missing.
//!
//! Correlation rules and Sigma filters are handled too; see [`correlation`].

mod compile;
pub mod correlation;
mod engine;
mod error;
pub mod fold;
mod index;
mod phrase;
mod prefilter;
mod regex_literals;
mod scan;
mod sink;
mod text;
pub mod time;

#[cfg(test)]
mod tests;

pub use correlation::{CorrelatedEvent, CorrelationHits, CorrelationMatch, WindowHit, WindowKey};
pub use engine::{Engine, EngineOptions, SkippedRule};
pub use error::CompileError;
pub use scan::{Scan, ScanStats};
pub use sink::{
    Collect, Detection, DetectionRecord, EventSummary, Matched, RuleInfo, Sink, SummaryFields,
};
