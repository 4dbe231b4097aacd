//! A catalog ready to publish: the [`Catalog`] plus what only pages need — every rule
//! converted to each target, and for each shared indicator the rules that share it.
//! Built once; the Markdown pages, the HTML site and the server all read it.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use sigil_catalog::{Catalog, CatalogRule, NormalizedIndicator, TechniqueEntry};
use sigil_core::Rule;

use crate::convert::{Conversion, Converter};
use crate::paths::stable_hash;

/// The catalog with conversions and indicator sharing.
#[derive(Debug)]
pub struct Publication {
    /// The catalog.
    pub catalog: Catalog,
    /// Conversions, parallel to `catalog.rules`, in [`crate::convert::TARGETS`] order.
    pub conversions: Vec<Vec<Conversion>>,
    /// Normalised indicator → the rules (positions in `catalog.rules`) that look for it,
    /// each rule once; only indicators at least two rules share.
    pub shared: HashMap<NormalizedIndicator, Vec<usize>>,
    by_key: HashMap<String, usize>,
    by_id: HashMap<String, usize>,
    techniques: HashMap<String, usize>,
    atomics: HashMap<String, usize>,
}

impl Publication {
    /// Converts every rule (in parallel) and indexes the catalog.
    pub fn new(catalog: Catalog) -> Self {
        let converter = Converter::new();
        let conversions: Vec<Vec<Conversion>> = catalog
            .rules
            .par_iter()
            .map(|r| converter.convert(&r.ir))
            .collect();
        Self::with_conversions(catalog, conversions)
    }

    /// Like [`Publication::new`], but each rule's IR (and an Elastic sequence's step
    /// rules) is freed as soon as the rule is converted, so that the conversions never sit
    /// in memory next to the whole IR. Only the conversions read the IR: pages,
    /// `index.json` and the server read the conversions and the catalog's other fields.
    /// Afterwards each rule's `ir` is an empty rule of its language and its `steps` are
    /// empty.
    pub fn without_rule_ir(mut catalog: Catalog) -> Self {
        let converter = Converter::new();
        let conversions: Vec<Vec<Conversion>> = catalog
            .rules
            .par_iter_mut()
            .map(|r| {
                let converted = converter.convert(&r.ir);
                r.ir = Rule::new(r.ir.language, String::new());
                r.steps = Vec::new();
                converted
            })
            .collect();
        Self::with_conversions(catalog, conversions)
    }

    fn with_conversions(catalog: Catalog, conversions: Vec<Vec<Conversion>>) -> Self {
        let mut sharing: HashMap<&NormalizedIndicator, Vec<usize>> = HashMap::new();
        for (i, r) in catalog.rules.iter().enumerate() {
            for ind in &r.analysis.indicators {
                let v = sharing.entry(&ind.normalized).or_default();
                if v.last() != Some(&i) {
                    v.push(i);
                }
            }
        }
        let shared = sharing
            .into_iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|(k, v)| (k.clone(), v))
            .collect();
        let by_key = catalog
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.key.clone(), i))
            .collect();
        let mut by_id = HashMap::new();
        for (i, r) in catalog.rules.iter().enumerate() {
            if let Some(id) = &r.id {
                by_id.entry(id.to_ascii_lowercase()).or_insert(i);
            }
        }
        let techniques = catalog
            .techniques
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.to_ascii_uppercase(), i))
            .collect();
        let atomics = catalog
            .atomics
            .iter()
            .enumerate()
            .map(|(i, t)| (t.guid.clone(), i))
            .collect();
        Self {
            catalog,
            conversions,
            shared,
            by_key,
            by_id,
            techniques,
            atomics,
        }
    }

    /// The position of a rule by catalog key or rule id (case-insensitive id).
    pub fn rule_index(&self, key_or_id: &str) -> Option<usize> {
        self.by_key
            .get(key_or_id)
            .or_else(|| self.by_id.get(&key_or_id.to_ascii_lowercase()))
            .copied()
    }

    /// A rule by catalog key or rule id.
    pub fn rule(&self, key_or_id: &str) -> Option<&CatalogRule> {
        self.rule_index(key_or_id).map(|i| &self.catalog.rules[i])
    }

    /// A technique by id (`t1047` or `T1047`).
    pub fn technique(&self, id: &str) -> Option<&TechniqueEntry> {
        self.techniques
            .get(&id.to_ascii_uppercase())
            .map(|&i| &self.catalog.techniques[i])
    }

    /// An atomic test's position by GUID.
    pub fn atomic_index(&self, guid: &str) -> Option<usize> {
        self.atomics.get(guid).copied()
    }

    /// The page name of a shared indicator.
    pub fn indicator_page(n: &NormalizedIndicator) -> String {
        stable_hash(&[&n.field, &n.kind, &n.value])
    }

    /// Techniques grouped under their parents: parent id → sub-technique ids.
    pub fn subtechniques(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for t in &self.catalog.techniques {
            if let Some(p) = &t.parent {
                out.entry(p.as_str()).or_default().push(t.id.as_str());
            }
        }
        out
    }
}
