//! Elasticsearch field types of the fields Elastic rules query, as data
//! (`data/field_types.toml`): which fields are analysed full text, where a KQL value is
//! a phrase of words rather than the whole value.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// How Elasticsearch indexes a field, as far as matching is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Whole value, case-sensitively (the default).
    Keyword,
    /// Like a keyword for queries.
    Wildcard,
    /// Analysed full text.
    Text,
    /// Analysed full text without positions (phrases still match).
    MatchOnlyText,
}

impl FieldType {
    /// Whether the field is split into words.
    pub fn is_analysed(self) -> bool {
        matches!(self, FieldType::Text | FieldType::MatchOnlyText)
    }
}

#[derive(Debug, Deserialize)]
struct Table {
    analysed_suffixes: Vec<String>,
    types: HashMap<String, FieldType>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        // The file is part of the build; a test reads it, so a broken edit fails there.
        toml::from_str(include_str!("../data/field_types.toml")).unwrap_or_else(|_| Table {
            analysed_suffixes: Vec::new(),
            types: HashMap::new(),
        })
    })
}

/// The type of `field`.
pub fn field_type(field: &str) -> FieldType {
    let t = table();
    if let Some(ty) = t.types.get(field) {
        return *ty;
    }
    if t.analysed_suffixes
        .iter()
        .any(|s| field.ends_with(s.as_str()))
    {
        return FieldType::MatchOnlyText;
    }
    FieldType::Keyword
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_reads_and_says_which_fields_are_text() {
        let parsed: Result<Table, _> = toml::from_str(include_str!("../data/field_types.toml"));
        assert!(parsed.is_ok(), "{parsed:?}");
        assert!(field_type("powershell.file.script_block_text").is_analysed());
        assert!(field_type("message").is_analysed());
        assert!(field_type("process.command_line.text").is_analysed());
        assert!(!field_type("process.command_line").is_analysed());
        assert!(!field_type("process.name").is_analysed());
    }
}
