//! Positions in a document: byte offsets (what the readers' spans hold) and the
//! line/character positions of the protocol, counted in the encoding the client chose.

use std::path::{Path, PathBuf};

use lsp_types::{Position, Range, Uri};

/// How the client counts characters in a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Bytes of UTF-8.
    Utf8,
    /// UTF-16 code units (the protocol's default).
    Utf16,
}

/// Where each line of a text starts.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// The index of `text`.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr_newlines(text).map(|i| i + 1));
        Self { starts }
    }

    /// The number of lines (a text ending with a newline has an empty last line).
    pub fn lines(&self) -> usize {
        self.starts.len()
    }

    /// The text of line `line` (0-based) without its line break; empty past the end.
    pub fn line<'a>(&self, text: &'a str, line: usize) -> &'a str {
        let Some(&start) = self.starts.get(line) else {
            return "";
        };
        let end = self.starts.get(line + 1).map_or(text.len(), |&e| e - 1);
        let s = text.get(start..end.max(start)).unwrap_or("");
        s.strip_suffix('\r').unwrap_or(s)
    }

    /// The byte offset where line `line` starts (the text's end past the last line).
    pub fn line_start(&self, text: &str, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(text.len())
    }

    /// The line (0-based) holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// The protocol position of byte `offset` (clamped to the text, and back to a character
    /// boundary).
    pub fn position(&self, text: &str, offset: usize, encoding: Encoding) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_of(offset);
        let start = self.starts[line];
        let before = &text[start..offset];
        let character = match encoding {
            Encoding::Utf8 => before.len(),
            Encoding::Utf16 => before.encode_utf16().count(),
        };
        Position::new(line as u32, character as u32)
    }

    /// The protocol range of bytes `start..end`.
    pub fn range(&self, text: &str, start: usize, end: usize, encoding: Encoding) -> Range {
        Range::new(
            self.position(text, start, encoding),
            self.position(text, end.max(start), encoding),
        )
    }

    /// The byte offset of a protocol position: a line past the end is the end of the text,
    /// a character past the end of its line is the end of the line, one inside a character
    /// is that character's start.
    pub fn offset(&self, text: &str, position: Position, encoding: Encoding) -> usize {
        let line = position.line as usize;
        if line >= self.starts.len() {
            return text.len();
        }
        let start = self.starts[line];
        let content = self.line(text, line);
        let want = position.character as usize;
        let mut counted = 0;
        for (i, c) in content.char_indices() {
            if counted >= want {
                return start + i;
            }
            counted += match encoding {
                Encoding::Utf8 => c.len_utf8(),
                Encoding::Utf16 => c.len_utf16(),
            };
            if counted > want {
                return start + i;
            }
        }
        start + content.len()
    }
}

fn memchr_newlines(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.bytes()
        .enumerate()
        .filter_map(|(i, b)| (b == b'\n').then_some(i))
}

/// The local path a `file:` URI names.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    // `file:///path` or `file://localhost/path`.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    Some(PathBuf::from(decoded.as_ref()))
}

/// The `file:` URI of a local path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
    /// What a URI path cannot hold as it is.
    const PATH: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'[')
        .add(b']')
        .add(b'^')
        .add(b'`')
        .add(b'{')
        .add(b'|')
        .add(b'}');
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let text = absolute.to_str()?;
    format!("file://{}", utf8_percent_encode(text, PATH))
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_in_both_encodings() {
        let text = "a: é\r\nb: 𝄞x\nc";
        let index = LineIndex::new(text);
        assert_eq!(index.lines(), 3);
        assert_eq!(index.line(text, 0), "a: é");
        assert_eq!(index.line(text, 1), "b: 𝄞x");
        let x = text.find('x').unwrap();
        assert_eq!(
            index.position(text, x, Encoding::Utf16),
            Position::new(1, 5)
        );
        assert_eq!(index.position(text, x, Encoding::Utf8), Position::new(1, 7));
        assert_eq!(index.offset(text, Position::new(1, 5), Encoding::Utf16), x);
        assert_eq!(index.offset(text, Position::new(1, 7), Encoding::Utf8), x);
        // Inside the surrogate pair: the character's start.
        assert_eq!(
            index.offset(text, Position::new(1, 4), Encoding::Utf16),
            x - 4
        );
        // Past the line and past the text.
        assert_eq!(index.offset(text, Position::new(0, 99), Encoding::Utf16), 5);
        assert_eq!(
            index.offset(text, Position::new(9, 0), Encoding::Utf16),
            text.len()
        );
        assert_eq!(
            index.position(text, 999, Encoding::Utf16),
            Position::new(2, 1)
        );
    }

    #[test]
    fn file_uris_and_paths() {
        let uri: Uri = "file:///tmp/a%20b/r%C3%A8gle.yml".parse().unwrap();
        assert_eq!(uri_to_path(&uri), Some(PathBuf::from("/tmp/a b/règle.yml")));
        let back = path_to_uri(Path::new("/tmp/a b/règle.yml")).unwrap();
        assert_eq!(
            uri_to_path(&back),
            Some(PathBuf::from("/tmp/a b/règle.yml"))
        );
        let other: Uri = "untitled:Untitled-1".parse().unwrap();
        assert_eq!(uri_to_path(&other), None);
    }
}
