//! SigmaHQ's validator data: the logsources SigmaHQ knows with their field names, the file
//! name prefix of each logsource, and what Windows categories need no `EventID` or
//! `Provider_Name`.
//!
//! The data are the JSON files of `data/sigmahq/`, taken unmodified from SigmaHQ's
//! pySigma-validators-sigmaHQ (`tools/`) and embedded at build time. They are under the
//! GNU LGPL 2.1, not sigil's licence: the licence and origin are kept beside them
//! (`data/sigmahq/LICENSE`, `README.md`), and replacing the files replaces the data.
//!
//! A logsource is looked up by its `(product, category, service)` as written; a key that
//! is absent is absent (`None`), as SigmaHQ keys them.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;
use sigil_core::LogSource;

/// `(product, category, service)`, as written.
pub type LogsourceKey = (Option<String>, Option<String>, Option<String>);

/// The key of a rule's logsource.
pub fn key_of(ls: &LogSource) -> LogsourceKey {
    (ls.product.clone(), ls.category.clone(), ls.service.clone())
}

/// What SigmaHQ's taxonomy says of one logsource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaxonomyEntry {
    /// Its field names (the event's own and those SigmaHQ adds), sorted without regard
    /// to case. Empty when SigmaHQ does not list them.
    pub fields: Vec<String>,
    /// Fields the logsource already implies (`Channel`, `EventID` of a Sysmon category).
    pub redundant: Vec<String>,
    /// How to collect the events, when SigmaHQ says.
    pub definition: Option<String>,
}

/// SigmaHQ's validator data, read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigmahqData {
    /// The taxonomy's version (a date, `20251205`).
    pub taxonomy_version: String,
    /// Every logsource SigmaHQ knows.
    pub taxonomy: BTreeMap<LogsourceKey, TaxonomyEntry>,
    /// The file name prefix of a logsource.
    pub filename_prefix: BTreeMap<LogsourceKey, String>,
    /// Windows categories whose events are of one kind, so `EventID` selects nothing.
    pub category_no_eventid: Vec<String>,
    /// Windows category → the providers its events come from, so `Provider_Name` with one
    /// of them selects nothing.
    pub category_provider_name: BTreeMap<String, Vec<String>>,
}

/// The embedded data, read once.
pub fn builtin() -> &'static SigmahqData {
    static DATA: OnceLock<SigmahqData> = OnceLock::new();
    DATA.get_or_init(|| {
        SigmahqData::parse(
            include_str!("../data/sigmahq/sigmahq_taxonomy.json"),
            include_str!("../data/sigmahq/sigmahq_filename.json"),
            include_str!("../data/sigmahq/sigmahq_windows_validator.json"),
        )
        // The embedded files are tested to read (`tests` below); a damaged build reads
        // as no data rather than a panic.
        .unwrap_or_default()
    })
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(text).collect())
        .unwrap_or_default()
}

fn logsource_key(v: &Value) -> LogsourceKey {
    (
        text(&v["product"]),
        text(&v["category"]),
        text(&v["service"]),
    )
}

impl SigmahqData {
    /// Reads the three files of SigmaHQ's format (`sigmahq_taxonomy.json`,
    /// `sigmahq_filename.json`, `sigmahq_windows_validator.json`).
    pub fn parse(taxonomy: &str, filename: &str, windows: &str) -> Result<Self, String> {
        let read = |name: &str, t: &str| -> Result<Value, String> {
            serde_json::from_str(t).map_err(|e| format!("{name}: {e}"))
        };
        let taxonomy = read("sigmahq_taxonomy.json", taxonomy)?;
        let filename = read("sigmahq_filename.json", filename)?;
        let windows = read("sigmahq_windows_validator.json", windows)?;
        let mut data = Self {
            taxonomy_version: text(&taxonomy["version"]).unwrap_or_default(),
            category_no_eventid: strings(&windows["category_no_eventid"]),
            ..Self::default()
        };
        for info in taxonomy["taxonomy"]
            .as_object()
            .ok_or("sigmahq_taxonomy.json: no `taxonomy` object")?
            .values()
        {
            let ls = &info["logsource"];
            let field = &info["field"];
            let mut fields = strings(&field["native"]);
            fields.extend(strings(&field["custom"]));
            fields.sort_by_key(|f| f.to_lowercase());
            data.taxonomy.insert(
                logsource_key(ls),
                TaxonomyEntry {
                    fields,
                    redundant: strings(&field["redundant"]),
                    definition: text(&ls["definition"]),
                },
            );
        }
        for info in filename["pattern"]
            .as_object()
            .ok_or("sigmahq_filename.json: no `pattern` object")?
            .values()
        {
            if let Some(prefix) = text(&info["prefix"])
                && info["logsource"].is_object()
            {
                data.filename_prefix
                    .insert(logsource_key(&info["logsource"]), prefix);
            }
        }
        if let Some(map) = windows["category_provider_name"].as_object() {
            for (category, providers) in map {
                data.category_provider_name
                    .insert(category.clone(), strings(providers));
            }
        }
        Ok(data)
    }

    /// What the taxonomy says of the logsource `ls`, if SigmaHQ knows it.
    pub fn logsource(&self, ls: &LogSource) -> Option<&TaxonomyEntry> {
        self.taxonomy.get(&key_of(ls))
    }

    /// The field names SigmaHQ lists for `ls` (none if it lists none).
    pub fn fields(&self, ls: &LogSource) -> &[String] {
        self.logsource(ls).map_or(&[], |e| e.fields.as_slice())
    }

    /// The file name prefix SigmaHQ gives rules of `ls`: that of the logsource, else that
    /// of its product alone.
    pub fn filename_prefix(&self, ls: &LogSource) -> Option<&str> {
        self.filename_prefix
            .get(&key_of(ls))
            .or_else(|| {
                ls.product
                    .as_ref()
                    .and_then(|p| self.filename_prefix.get(&(Some(p.clone()), None, None)))
            })
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(product: &str, category: Option<&str>, service: Option<&str>) -> LogSource {
        LogSource {
            product: Some(product.into()),
            category: category.map(Into::into),
            service: service.map(Into::into),
            ..LogSource::default()
        }
    }

    #[test]
    fn the_embedded_files_read() {
        let d = SigmahqData::parse(
            include_str!("../data/sigmahq/sigmahq_taxonomy.json"),
            include_str!("../data/sigmahq/sigmahq_filename.json"),
            include_str!("../data/sigmahq/sigmahq_windows_validator.json"),
        )
        .expect("the embedded data reads");
        assert_eq!(d, *builtin());
        assert!(d.taxonomy.len() > 100);
        let pc = ls("windows", Some("process_creation"), None);
        let fields = d.fields(&pc);
        assert!(fields.iter().any(|f| f == "CommandLine"), "{fields:?}");
        assert!(
            d.logsource(&pc)
                .expect("known")
                .redundant
                .contains(&"EventID".to_string())
        );
        assert_eq!(d.filename_prefix(&pc), Some("proc_creation_win_"));
        // A product alone gives its prefix to a logsource the data does not list.
        assert_eq!(
            d.filename_prefix(&ls("azure", Some("nothing"), None)),
            Some("azure_")
        );
        assert!(d.logsource(&ls("windows", Some("nothing"), None)).is_none());
        assert!(d.category_no_eventid.contains(&"process_creation".into()));
        assert!(
            d.category_provider_name["process_creation"]
                .contains(&"Microsoft-Windows-Sysmon".into())
        );
        assert!(!d.taxonomy_version.is_empty());
    }

    #[test]
    fn damaged_data_is_an_error() {
        assert!(SigmahqData::parse("{", "{}", "{}").is_err());
        assert!(SigmahqData::parse("{}", "{}", "{}").is_err());
    }
}
