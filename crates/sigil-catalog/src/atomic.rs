//! Atomic Red Team technique files (`atomics/T*/T*.yaml`): the tests, their executors and
//! their input arguments, with `#{name}` replaced by each argument's default.

use std::path::Path;

use saphyr::{LoadableYamlNode, Scalar, Yaml};

use crate::model::{AtomicEntry, InputArgument};

/// Whether a YAML text looks like an Atomic Red Team technique file (cheap test used
/// to recognise files by content).
pub fn looks_like_atomics(text: &str) -> bool {
    text.contains("attack_technique:") && text.contains("atomic_tests:")
}

/// Reads the tests of one technique file.
pub fn parse_atomics(text: &str, path: &Path) -> Result<Vec<AtomicEntry>, String> {
    let docs = Yaml::load_from_str(text).map_err(|e| e.to_string())?;
    let doc = docs.first().ok_or("empty document")?;
    let technique = scalar_text(doc.as_mapping_get("attack_technique"))
        .ok_or("no `attack_technique`")?
        .to_ascii_uppercase();
    let technique_name = scalar_text(doc.as_mapping_get("display_name")).unwrap_or_default();
    let Some(Yaml::Sequence(tests)) = doc.as_mapping_get("atomic_tests") else {
        return Err("no `atomic_tests` list".into());
    };
    let mut out = Vec::with_capacity(tests.len());
    for (i, t) in tests.iter().enumerate() {
        let text_of = |k: &str| scalar_text(t.as_mapping_get(k)).unwrap_or_default();
        let name = text_of("name");
        // Tests without a GUID are still listed; a stable stand-in keeps them addressable.
        let guid = scalar_text(t.as_mapping_get("auto_generated_guid"))
            .unwrap_or_else(|| format!("{technique}-{}", i + 1));
        let input_arguments = input_arguments(t.as_mapping_get("input_arguments"));
        let executor = t.as_mapping_get("executor");
        let exec_text = |k: &str| executor.and_then(|e| scalar_text(e.as_mapping_get(k)));
        let substitute = |s: String| substitute(&s, &input_arguments);
        out.push(AtomicEntry {
            guid,
            name,
            technique: technique.clone(),
            technique_name: technique_name.clone(),
            description: text_of("description"),
            platforms: string_list(t.as_mapping_get("supported_platforms")),
            executor: exec_text("name").unwrap_or_default(),
            elevation_required: executor
                .and_then(|e| e.as_mapping_get("elevation_required"))
                .and_then(Yaml::as_bool)
                .unwrap_or(false),
            command: exec_text("command").map(substitute).unwrap_or_default(),
            cleanup_command: exec_text("cleanup_command").map(substitute),
            input_arguments,
            path: path.to_path_buf(),
            events: Vec::new(),
            fired: Vec::new(),
            same_technique: Vec::new(),
            firings: Vec::new(),
        });
    }
    Ok(out)
}

fn input_arguments(node: Option<&Yaml>) -> Vec<InputArgument> {
    let Some(Yaml::Mapping(map)) = node else {
        return Vec::new();
    };
    map.iter()
        .filter_map(|(k, v)| {
            let name = scalar_text(Some(k))?;
            Some(InputArgument {
                name,
                description: scalar_text(v.as_mapping_get("description")).unwrap_or_default(),
                kind: scalar_text(v.as_mapping_get("type")).unwrap_or_default(),
                default: scalar_text(v.as_mapping_get("default")).unwrap_or_default(),
            })
        })
        .collect()
}

/// Replaces every `#{name}` whose name is an input argument by its default. Atomic Red
/// Team matches argument names case-insensitively; unknown names stay as written.
pub fn substitute(text: &str, args: &[InputArgument]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("#{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        if let Some(end) = after.find('}') {
            let name = after[..end].trim();
            match args.iter().find(|a| a.name.eq_ignore_ascii_case(name)) {
                Some(a) => out.push_str(&a.default),
                None => out.push_str(&rest[start..=start + 2 + end]),
            }
            rest = &after[end + 1..];
        } else {
            out.push_str(&rest[start..]);
            rest = "";
        }
    }
    out.push_str(rest);
    out
}

fn scalar_text(node: Option<&Yaml>) -> Option<String> {
    match node? {
        Yaml::Value(s) => match s {
            Scalar::String(s) => Some(s.to_string()),
            Scalar::Integer(i) => Some(i.to_string()),
            Scalar::FloatingPoint(f) => Some(f.to_string()),
            Scalar::Boolean(b) => Some(b.to_string()),
            Scalar::Null => None,
        },
        Yaml::Representation(s, _, _) => Some(s.to_string()),
        _ => None,
    }
}

fn string_list(node: Option<&Yaml>) -> Vec<String> {
    match node {
        Some(Yaml::Sequence(items)) => items.iter().filter_map(|i| scalar_text(Some(i))).collect(),
        Some(other) => scalar_text(Some(other)).into_iter().collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r"attack_technique: T1047
display_name: Windows Management Instrumentation
atomic_tests:
- name: WMI Execute Local Process
  auto_generated_guid: b3bdfc91-b33e-4c6d-a5c8-d64bee0276b3
  description: Runs a process.
  supported_platforms:
  - windows
  input_arguments:
    process_to_execute:
      description: Name or path of process to execute.
      type: string
      default: notepad.exe
    count:
      description: How many.
      type: integer
      default: 3
  executor:
    command: |
      wmic process call create #{process_to_execute} #{COUNT} #{unknown}
    name: command_prompt
    elevation_required: true
";

    #[test]
    fn tests_are_read_with_arguments_substituted() {
        let tests = parse_atomics(FILE, Path::new("T1047.yaml")).expect("parses");
        assert_eq!(tests.len(), 1);
        let t = &tests[0];
        assert_eq!(t.technique, "T1047");
        assert_eq!(t.executor, "command_prompt");
        assert!(t.elevation_required);
        assert_eq!(t.platforms, vec!["windows"]);
        assert_eq!(t.input_arguments[1].default, "3");
        assert_eq!(
            t.command,
            "wmic process call create notepad.exe 3 #{unknown}\n"
        );
    }

    #[test]
    fn broken_files_are_errors_not_panics() {
        assert!(parse_atomics("attack_technique: [", Path::new("x")).is_err());
        assert!(parse_atomics("a: 1", Path::new("x")).is_err());
        assert_eq!(substitute("#{a", &[]), "#{a");
    }
}
