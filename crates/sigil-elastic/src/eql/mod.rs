//! EQL (Event Query Language, the Elasticsearch dialect plus the legacy constructs of the
//! reference implementation): lexer, parser with positions, and lowering into the IR.

pub mod ast;
pub mod eval;
pub mod lexer;
pub mod lower;
pub mod parser;

pub use lower::{LowerOptions, Lowered, StepRule, lower_query};
pub use parser::{parse_expr, parse_query};
