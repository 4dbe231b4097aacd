//! Source positions.

use serde::{Deserialize, Serialize};

/// A position in a source file: 1-based line and column (in characters), and the byte
/// offset where the node starts. A default span (`line == 0`) means "no position known",
/// e.g. for nodes synthesised by a pipeline.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Span {
    /// 1-based line; 0 when unknown.
    pub line: u32,
    /// 1-based column; 0 when unknown.
    pub column: u32,
    /// Byte offset of the start in the source text.
    pub offset: u32,
}

impl Span {
    /// A span at `line`:`column` (both 1-based) and byte `offset`.
    pub fn new(line: u32, column: u32, offset: u32) -> Self {
        Self {
            line,
            column,
            offset,
        }
    }

    /// Whether this span points somewhere.
    pub fn is_known(self) -> bool {
        self.line > 0
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}
