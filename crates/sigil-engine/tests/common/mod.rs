//! Shared by the corpus-wide tests and the benchmark: loading the SigmaHQ windows rules
//! through the reference pipelines, and the oracle's flat events.

#![allow(dead_code)] // each test target uses a part

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use sigil_core::Rule;
use sigil_logs::{FieldValue, FlatEvent};

/// `../shared` beside the repository, when present.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    dir.join("corpus").is_dir().then_some(dir)
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
}

/// A rule with the file it came from (relative to the Sigma repository root).
pub struct LoadedRules {
    pub rules: Vec<Rule>,
    pub paths: Vec<String>,
    /// Files or rules that could not be read or processed, with the reason.
    pub errors: Vec<String>,
}

/// Every rule under `rules/windows`, processed by the `sysmon` and
/// `windows-logsources` pipelines (what the oracle used).
pub fn load_windows_rules(shared: &Path) -> LoadedRules {
    let root = shared.join("corpus/sigma");
    let mut files = Vec::new();
    yaml_files(&root.join("rules/windows"), &mut files);
    let pipelines = sigil_pipeline::PipelineSet::new(
        ["sysmon", "windows-logsources"]
            .iter()
            .filter_map(|n| sigil_pipeline::builtin(n))
            .collect(),
    );
    let mut out = LoadedRules {
        rules: Vec::new(),
        paths: Vec::new(),
        errors: Vec::new(),
    };
    for file in files {
        let rel = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let Ok(text) = std::fs::read_to_string(&file) else {
            out.errors.push(format!("{rel}: unreadable"));
            continue;
        };
        let parsed = sigil_sigma::parse_str(&text);
        for rule in parsed.rules {
            match pipelines.apply(&rule) {
                Ok(processed) => {
                    out.rules.push(processed);
                    out.paths.push(rel.clone());
                }
                Err(e) => out.errors.push(format!("{rel}: {e}")),
            }
        }
    }
    out
}

/// The oracle's events: `(key, event)`, in file order.
pub fn load_oracle_events(shared: &Path) -> Vec<(String, FlatEvent)> {
    let path = shared.join("oracle/events.jsonl.gz");
    let Ok(file) = std::fs::File::open(&path) else {
        return Vec::new();
    };
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for line in reader.lines() {
        let Ok(line) = line else { break };
        let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&line)
        else {
            continue;
        };
        let mut event = FlatEvent::new();
        let mut key = String::new();
        for (name, value) in &map {
            if name == "_key" {
                key = value.as_str().unwrap_or_default().to_string();
                continue;
            }
            let v = match value {
                serde_json::Value::String(s) => FieldValue::Str(s.as_str().into()),
                serde_json::Value::Bool(b) => FieldValue::Bool(*b),
                serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                    (Some(i), _) => FieldValue::Int(i),
                    (None, Some(u)) => FieldValue::UInt(u),
                    _ => FieldValue::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                serde_json::Value::Null => FieldValue::Null,
                other => FieldValue::Str(other.to_string().into()),
            };
            event.push(name, v);
        }
        out.push((key, event));
    }
    out
}
