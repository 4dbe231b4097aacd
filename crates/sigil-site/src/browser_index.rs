//! The search index of the static site, searched in the browser.

use std::collections::BTreeSet;

use serde_json::{Value as Json, json};

use crate::error::SiteError;
use crate::paths::file_name;
use crate::publication::Publication;

/// How much of a rule's description the in-browser search index keeps.
const SEARCH_DESCRIPTION_CHARS: usize = 160;

/// The search index the static pages search in the browser: a script that assigns
/// `window.SIGIL_INDEX`, so that search works from `file://` where `fetch` does not.
/// Written in one buffer, the data escaped as it is serialised.
pub fn search_index_js(p: &Publication) -> Result<Vec<u8>, SiteError> {
    let entries: Vec<Json> = p
        .catalog
        .rules
        .iter()
        .map(|r| {
            let techniques: BTreeSet<&str> = r
                .analysis
                .attack
                .iter()
                .filter_map(|a| a.technique.as_deref())
                .collect();
            let description: String = r
                .description
                .as_deref()
                .unwrap_or("")
                .chars()
                .take(SEARCH_DESCRIPTION_CHARS)
                .collect();
            json!({
                "k": file_name(&r.key), "t": r.title, "i": r.display_id(),
                "l": r.language.name(), "v": r.level.clone().unwrap_or_default(),
                "a": techniques.into_iter().collect::<Vec<_>>().join(" "),
                "g": r.tags.join(" "), "d": description,
            })
        })
        .collect();
    // `<` is written as an escape so the data can never close a script element, even if
    // someone inlines the file.
    let mut out = b"window.SIGIL_INDEX = ".to_vec();
    serde_json::to_writer(EscapeLessThan(&mut out), &entries)?;
    out.extend_from_slice(b";\n");
    Ok(out)
}

/// Appends what JSON serialisation writes, each `<` as `\u003c`. `<` is not JSON syntax,
/// so it only ever occurs inside strings, where the escape means the same character.
struct EscapeLessThan<'a>(&'a mut Vec<u8>);

impl std::io::Write for EscapeLessThan<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while let Some(at) = rest.iter().position(|&b| b == b'<') {
            self.0.extend_from_slice(&rest[..at]);
            self.0.extend_from_slice(b"\\u003c");
            rest = &rest[at + 1..];
        }
        self.0.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
