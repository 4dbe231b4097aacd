//! ATT&CK Navigator layers (layer format 4.5): one entry per technique with rules, scored
//! by the number of rules.

use serde_json::{Value as Json, json};

use crate::model::Catalog;

/// The layer format version written.
pub const LAYER_VERSION: &str = "4.5";

/// A Navigator layer of the catalog's rule coverage, scored by rule count per technique
/// (sub-techniques on their own rows). `name` titles the layer.
pub fn layer(catalog: &Catalog, name: &str) -> Json {
    let mut max = 0;
    let techniques: Vec<Json> = catalog
        .techniques
        .iter()
        .filter(|t| !t.rules.is_empty())
        .map(|t| {
            max = max.max(t.rules.len());
            let mut comment = format!("{} rule(s)", t.rules.len());
            if !t.known {
                comment.push_str("; not in the loaded ATT&CK data");
            }
            json!({
                "techniqueID": t.id,
                "score": t.rules.len(),
                "color": "",
                "comment": comment,
                "enabled": true,
                "metadata": [],
                "links": [],
                "showSubtechniques": false,
            })
        })
        .collect();
    let attack_version = catalog
        .attack_version
        .as_deref()
        .and_then(|v| v.split('.').next())
        .unwrap_or("18");
    json!({
        "name": name,
        "versions": {"attack": attack_version, "navigator": "5.1.0", "layer": LAYER_VERSION},
        "domain": "enterprise-attack",
        "description": format!(
            "Rule coverage: {} rules over {} techniques, scored by rule count.",
            catalog.rules.len(),
            techniques.len()
        ),
        "filters": {"platforms": ["Windows", "Linux", "macOS", "Network", "PRE", "Containers", "IaaS", "SaaS", "Office Suite", "Identity Provider", "ESXi"]},
        "sorting": 3,
        "layout": {"layout": "side", "aggregateFunction": "average", "showID": true, "showName": true, "showAggregateScores": false, "countUnscored": false, "expandedSubtechniques": "annotated"},
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": {"colors": ["#ffffffff", "#66b1ffff", "#1f5fbfff"], "minValue": 0, "maxValue": max.max(1)},
        "legendItems": [],
        "metadata": [],
        "links": [],
        "showTacticRowBackground": false,
        "tacticRowBackground": "#dddddd",
        "selectTechniquesAcrossTactics": true,
        "selectSubtechniquesWithParent": false,
        "selectVisibleTechniques": false,
    })
}
