//! Every shipped details template against real events of its kind from the EVTX corpus:
//! each has one, renders it to a non-empty line, and names only fields that events of its
//! kind carry (a misspelt field would silently show nothing).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sigil_hunt::{Details, KeyKind};
use sigil_logs::Event;

/// Fields a template may name that the corpus does not hold for its kind: Sysmon 12 and 13
/// share a template, and only 13 (a value set) has `Details`.
const NOT_IN_CORPUS: [(u64, &str); 1] = [(12, "Details")];

/// Per kind of event: events seen, rendered non-empty, fields seen.
type Seen = (usize, usize, BTreeSet<String>);

#[test]
fn every_shipped_template_describes_a_real_event() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/evtx");
    if !corpus.is_dir() {
        println!("skipped: ../shared/corpus not found");
        return;
    }
    let details = Details::builtin();
    let mut seen: BTreeMap<(bool, String, u64), Seen> = BTreeMap::new();
    let discovery = sigil_logs::discover(&[corpus]);
    let mut reader = sigil_logs::Reader::new();
    for input in &discovery.inputs {
        reader.read_input(input, &mut |meta, event| {
            let Some(id) = meta.event_id else { return };
            let provider = event
                .get("Provider_Name")
                .and_then(|v| v.as_text().map(std::borrow::Cow::into_owned));
            let Some(template) = details.template(meta.channel, provider.as_deref(), id) else {
                return;
            };
            let (by_channel, name) = match meta.channel {
                Some(c) if details.template(Some(c), None, id).is_some() => {
                    (true, c.to_ascii_lowercase())
                }
                _ => (false, provider.unwrap_or_default().to_ascii_lowercase()),
            };
            let entry = seen.entry((by_channel, name, id)).or_default();
            entry.0 += 1;
            let text = template.render(event);
            if !text.is_empty() {
                entry.1 += 1;
            }
            for field in template.fields() {
                if event.get(field).is_some() {
                    entry.2.insert(field.to_ascii_lowercase());
                }
            }
        });
    }
    let mut problems = Vec::new();
    let mut covered = 0;
    for (kind, name, id, template) in details.keys() {
        let key = (kind == KeyKind::Channel, name.to_string(), id);
        let Some((events, rendered, fields)) = seen.get(&key) else {
            problems.push(format!("{name} {id}: no event of this kind in the corpus"));
            continue;
        };
        covered += 1;
        if rendered == &0 {
            problems.push(format!(
                "{name} {id}: renders empty for all {events} events"
            ));
        }
        for field in template.fields() {
            let lower = field.to_ascii_lowercase();
            let excused = NOT_IN_CORPUS
                .iter()
                .any(|(i, f)| *i == id && f.eq_ignore_ascii_case(field));
            if !fields.contains(&lower) && !excused {
                problems.push(format!("{name} {id}: no event has `{field}`"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    println!("{covered} templates each described a real event");
    assert!(covered > 60, "{covered}");
}
