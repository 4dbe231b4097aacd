//! `docs/targets.md` describes every registered target: a row in its table and a section
//! naming the target's default pipeline and each of its formats.

use std::path::Path;

use sigil_backend::targets::ALL;

fn doc() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/targets.md");
    std::fs::read_to_string(&path).expect("docs/targets.md exists")
}

/// The text of the section `### \`name\``, up to the next heading of that level or above.
fn section<'a>(doc: &'a str, name: &str) -> Option<&'a str> {
    let heading = format!("\n### `{name}`\n");
    let start = doc.find(&heading)? + heading.len();
    let rest = &doc[start..];
    let end = rest
        .find("\n## ")
        .into_iter()
        .chain(rest.find("\n### "))
        .min();
    Some(&rest[..end.unwrap_or(rest.len())])
}

#[test]
fn every_target_has_its_row_and_section() {
    let doc = doc();
    let mut missing = Vec::new();
    for t in ALL {
        if !doc.contains(&format!("| [`{}`](#{}) |", t.name, t.name.replace('|', ""))) {
            missing.push(format!("{}: no row in the table", t.name));
        }
        let Some(text) = section(&doc, t.name) else {
            missing.push(format!("{}: no section", t.name));
            continue;
        };
        match t.default_pipeline {
            Some(p) if !text.contains(&format!("default `{p}`")) => {
                missing.push(format!(
                    "{}: the section does not say `default `{p}``",
                    t.name
                ));
            }
            None if !text.contains("none by default") => {
                missing.push(format!(
                    "{}: the section does not say `none by default`",
                    t.name
                ));
            }
            _ => {}
        }
        for f in t.formats {
            if !text.contains(&format!("`{}`", f.name)) {
                missing.push(format!("{}: format `{}` not described", t.name, f.name));
            }
        }
        if !text.contains("**Cannot express**") {
            missing.push(format!("{}: no **Cannot express** line", t.name));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/targets.md:\n{}",
        missing.join("\n")
    );
}
