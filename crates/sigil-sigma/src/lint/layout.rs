//! Checks of the file's layout as written: what the reader does not keep.

use sigil_core::{Diagnostic, Span};

use super::{Fix, Lint, LintInfo, Safety, declare_lint};

declare_lint! {
    /// Spaces or tabs at the end of a line.
    ///
    /// Why: they are invisible, make diffs noisy, and SigmaHQ's CI (yamllint) refuses them.
    /// Inside a block scalar (`|`, `>`) they belong to the text and are left alone.
    /// `sigil check --fix` removes them.
    ///
    /// Example: `title: Mimikatz Use␠␠`.
    TrailingWhitespace, "trailing-whitespace", Warning, reader: false
}

/// Whether `line` (a comment left out) ends with a block scalar indicator: `key: |`,
/// `- >-`, `key: |2+`.
fn opens_block(line: &str) -> bool {
    let code = match line.find(" #") {
        Some(i) => &line[..i],
        None => line,
    };
    let code = code.trim_end();
    let last = code.rsplit([' ', '\t']).next().unwrap_or(code);
    let mut chars = last.chars();
    matches!(chars.next(), Some('|' | '>'))
        && chars.all(|c| matches!(c, '-' | '+' | '1'..='9'))
        && (code.len() == last.len()
            || code[..code.len() - last.len()]
                .trim_end()
                .ends_with([':', '-']))
}

/// The byte ranges of the whitespace that ends a line, outside block scalars, with the
/// line's 1-based number and the 1-based column where it starts.
fn trailing(text: &str) -> Vec<(std::ops::Range<usize>, u32, u32)> {
    let mut out = Vec::new();
    // The indentation of the line that opened the block scalar we are in.
    let mut block: Option<usize> = None;
    let mut at = 0;
    for (n, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let content = line.trim_start_matches([' ', '\t']);
        let indent = line.len() - content.len();
        if let Some(b) = block {
            if content.is_empty() || indent > b {
                at += raw.len();
                continue;
            }
            block = None;
        }
        let kept = line.trim_end_matches([' ', '\t']);
        if kept.len() < line.len() {
            let column = kept.chars().count() + 1;
            out.push((
                at + kept.len()..at + line.len(),
                u32::try_from(n + 1).unwrap_or(u32::MAX),
                u32::try_from(column).unwrap_or(u32::MAX),
            ));
        }
        if opens_block(kept) {
            block = Some(indent);
        }
        at += raw.len();
    }
    out
}

impl Lint for TrailingWhitespace {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_text(&self, text: &str, out: &mut Vec<Diagnostic>) {
        for (range, line, column) in trailing(text) {
            out.push(Self::at(
                Span::new(line, column, u32::try_from(range.start).unwrap_or(u32::MAX)),
                "whitespace at the end of the line",
            ));
        }
    }

    fn fix(&self, text: &str, finding: &Diagnostic) -> Option<Fix> {
        let start = finding.span.offset as usize;
        let rest = text.get(start..)?;
        let len = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let after = &rest[len..];
        // Only what ends the line.
        if len == 0 || !(after.is_empty() || after.starts_with('\n') || after.starts_with("\r\n")) {
            return None;
        }
        Some(Fix::replace(
            "Remove the whitespace at the end of the line",
            Safety::Safe,
            start..start + len,
            "",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_whitespace_outside_block_scalars() {
        let text = "title: T  \ndescription: |\n  kept  \n\n  also kept\t\nlevel: high\t\r\nx: 1\n";
        let found = trailing(text);
        let lines: Vec<u32> = found.iter().map(|f| f.1).collect();
        assert_eq!(lines, [1, 6]);
        assert_eq!(&text[found[0].0.clone()], "  ");
        assert_eq!(found[0].2, 9);
        assert_eq!(&text[found[1].0.clone()], "\t");
        assert!(opens_block("description: >-"));
        assert!(opens_block("  - |"));
        assert!(opens_block("key: |2 # comment"));
        assert!(!opens_block("CommandLine|contains: '|'"));
        assert!(!opens_block("Image: a|"));
    }

    #[test]
    fn the_fix_removes_it_and_nothing_else() {
        let text = "title: T  \r\nlevel: high\n";
        let mut out = Vec::new();
        TrailingWhitespace.check_text(text, &mut out);
        assert_eq!(out.len(), 1);
        let fix = TrailingWhitespace.fix(text, &out[0]).expect("a fix");
        assert_eq!(
            super::super::apply(text, &fix.edits).as_deref(),
            Some("title: T\r\nlevel: high\n")
        );
    }
}
