//! The Google SecOps Unified Data Model (UDM) field schema, as data
//! (`schemas/udm_field_schema.json`, see `schemas/README.md` for its origin and licence).
//!
//! A field path is valid when it walks the schema: a grouped field alone (`hostname`, `ip`),
//! or a noun (`principal`, `target`, ...) or a top-level field (`metadata`, `network`, ...),
//! then names that each exist at their level, down to a primitive type (`string`, `integer`,
//! `boolean`, `list`) or an enumeration, where the walk stops; a name whose type is a subtype
//! continues in that subtype. This is the check of pysigma-backend-secops 1.0.0, whose UDM
//! pipeline rejects a rule with any other field.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use crate::yaml::{self, Node};

/// The type of one name at one level of the schema.
#[derive(Debug, Clone)]
enum FieldType {
    /// A type name: a primitive, `@enum:...`, `@subtype` or a subtype name.
    Name(String),
    /// A nested level written in place.
    Level(Level),
}

type Level = BTreeMap<String, FieldType>;

/// The UDM field schema.
#[derive(Debug, Clone, Default)]
pub struct UdmSchema {
    nouns: BTreeSet<String>,
    top: Level,
    subtypes: BTreeMap<String, Level>,
    grouped: BTreeSet<String>,
    enums: BTreeSet<String>,
}

fn level(node: &Node) -> Level {
    let mut out = Level::new();
    if let Node::Map(entries, _) = node {
        for (k, v) in entries {
            let Some(name) = &k.text else { continue };
            let ty = match v {
                Node::Map(..) => FieldType::Level(level(v)),
                other => FieldType::Name(other.scalar_text().unwrap_or_default()),
            };
            out.insert(name.clone(), ty);
        }
    }
    out
}

fn keys(node: Option<&Node>) -> BTreeSet<String> {
    match node {
        Some(Node::Map(entries, _)) => entries.iter().filter_map(|(k, _)| k.text.clone()).collect(),
        Some(Node::Seq(items, _)) => items.iter().filter_map(Node::scalar_text).collect(),
        _ => BTreeSet::new(),
    }
}

impl UdmSchema {
    /// Reads a schema in the layout of `udm_field_schema.json` (`Nouns`, `TopLevelFields`,
    /// `Subtypes`, `GroupedFields`, `Enums`).
    pub fn from_text(text: &str) -> Result<Self, String> {
        let root = yaml::parse(text).map_err(|e| format!("{}: {}", e.pos, e.message))?;
        let Node::Map(entries, _) = &root else {
            return Err("the UDM schema is not a mapping".to_string());
        };
        let get = |name: &str| {
            entries
                .iter()
                .find(|(k, _)| k.text.as_deref() == Some(name))
                .map(|(_, v)| v)
        };
        let mut subtypes = BTreeMap::new();
        if let Some(Node::Map(entries, _)) = get("Subtypes") {
            for (k, v) in entries {
                if let Some(name) = &k.text {
                    subtypes.insert(name.clone(), level(v));
                }
            }
        }
        Ok(Self {
            nouns: keys(get("Nouns")),
            top: get("TopLevelFields").map(level).unwrap_or_default(),
            subtypes,
            grouped: keys(get("GroupedFields")),
            enums: keys(get("Enums")),
        })
    }

    /// Whether `path` (`target.process.command_line`) is a UDM field.
    pub fn is_valid_field(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('.').collect();
        if parts.len() == 1 && self.grouped.contains(parts[0]) {
            return true;
        }
        let first = parts[0];
        let start = if self.nouns.contains(first) {
            self.top.get("noun")
        } else {
            self.top.get(first)
        };
        let mut current: Option<&Level> = match start {
            Some(FieldType::Level(l)) => Some(l),
            Some(FieldType::Name(n)) => self.subtypes.get(n.trim_start_matches('@')),
            None => return false,
        };
        for part in &parts[1..] {
            let Some(ty) = current.and_then(|l| l.get(*part)) else {
                return false;
            };
            match ty {
                FieldType::Level(l) => current = Some(l),
                FieldType::Name(n) if n.starts_with("@enum:") => return true,
                FieldType::Name(n)
                    if matches!(n.as_str(), "string" | "integer" | "boolean" | "list") =>
                {
                    return true;
                }
                FieldType::Name(n) => current = self.subtypes.get(n.trim_start_matches('@')),
            }
        }
        true
    }

    /// Whether `path` names an enumeration of the schema (`network.direction`,
    /// `metadata.event_type`): its values are upper-case constants compared exactly.
    pub fn is_enum(&self, path: &str) -> bool {
        self.enums.contains(path)
    }
}

/// The built-in UDM schema.
pub fn udm() -> &'static UdmSchema {
    static SCHEMA: OnceLock<UdmSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        UdmSchema::from_text(include_str!("../schemas/udm_field_schema.json")).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_schema_reads() {
        let s = udm();
        assert!(s.nouns.contains("principal"));
        assert!(s.subtypes.len() > 100, "{}", s.subtypes.len());
        assert!(s.is_enum("network.direction"));
        assert!(!s.is_enum("target.hostname"));
    }

    #[test]
    fn field_paths() {
        let s = udm();
        for ok in [
            "target.process.command_line",
            "principal.process.parent_process.command_line",
            "metadata.product_event_type",
            "metadata.event_type",
            "network.dns.questions.name",
            "target.port",
            "hostname",
            "file_path",
            "hash",
        ] {
            assert!(s.is_valid_field(ok), "{ok}");
        }
        for bad in [
            "ScriptBlockText",
            "CommandLine",
            "target.process.commandline",
            "target.port.x",
            "process.command_line",
        ] {
            assert!(!s.is_valid_field(bad), "{bad}");
        }
    }
}
