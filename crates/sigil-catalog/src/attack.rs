//! MITRE ATT&CK from STIX 2 objects: techniques, tactics (in matrix order) and data
//! components.
//!
//! Any JSON file holding a STIX bundle (or a single STIX object) is accepted, so both the
//! one-object-per-file layout of `mitre/cti` and a whole-domain bundle load the same way.
//! Objects of other types are ignored.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;

/// A technique or sub-technique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Technique {
    /// `T1059` or `T1059.001`.
    pub id: String,
    /// Its own name.
    pub name: String,
    /// Tactic short names (`execution`), as the STIX kill-chain phases list them.
    pub tactics: Vec<String>,
    /// Platforms.
    pub platforms: Vec<String>,
    /// The ATT&CK page.
    pub url: String,
    /// Revoked or deprecated.
    pub retired: bool,
}

/// A tactic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tactic {
    /// `TA0002`.
    pub id: String,
    /// `execution`.
    pub shortname: String,
    /// `Execution`.
    pub name: String,
    stix_id: String,
}

/// A data component with the log sources ATT&CK lists for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataComponent {
    /// `DC0032`.
    pub id: String,
    /// `Process Creation`.
    pub name: String,
    /// `(name, channel)` pairs such as `("WinEventLog:Sysmon", "EventCode=1")`.
    pub log_sources: Vec<(String, String)>,
}

/// The ATT&CK objects of a corpus.
#[derive(Debug, Clone, Default)]
pub struct AttackData {
    techniques: HashMap<String, Technique>,
    tactics: Vec<Tactic>,
    matrix_order: Vec<String>,
    /// Data components, by id.
    pub data_components: Vec<DataComponent>,
}

impl AttackData {
    /// Adds the STIX objects of one JSON document. Returns how many objects were taken.
    pub fn add_json(&mut self, json: &Json) -> usize {
        let objects: Vec<&Json> = match json.get("objects").and_then(Json::as_array) {
            Some(list) => list.iter().collect(),
            None if json.get("type").is_some() => vec![json],
            None => Vec::new(),
        };
        let mut taken = 0;
        for o in objects {
            let kind = o.get("type").and_then(Json::as_str).unwrap_or("");
            let taken_one = match kind {
                "attack-pattern" => self.add_technique(o),
                "x-mitre-tactic" => self.add_tactic(o),
                "x-mitre-matrix" => self.add_matrix(o),
                "x-mitre-data-component" => self.add_component(o),
                _ => false,
            };
            taken += usize::from(taken_one);
        }
        taken
    }

    /// Merges another set of objects into this one (for parallel loading).
    pub fn merge(&mut self, other: AttackData) {
        for (id, t) in other.techniques {
            self.insert_technique(id, t);
        }
        for t in other.tactics {
            if !self.tactics.iter().any(|x| x.id == t.id) {
                self.tactics.push(t);
            }
        }
        if self.matrix_order.is_empty() {
            self.matrix_order = other.matrix_order;
        }
        for c in other.data_components {
            if !self.data_components.iter().any(|x| x.id == c.id) {
                self.data_components.push(c);
            }
        }
    }

    /// Whether no technique was loaded.
    pub fn is_empty(&self) -> bool {
        self.techniques.is_empty() && self.tactics.is_empty()
    }

    /// The technique with this id (case-insensitive).
    pub fn technique(&self, id: &str) -> Option<&Technique> {
        self.techniques.get(&id.to_ascii_uppercase())
    }

    /// Every technique, in no particular order.
    pub fn techniques(&self) -> impl Iterator<Item = &Technique> {
        self.techniques.values()
    }

    /// The full name of a technique: `Parent: Sub` for sub-techniques.
    pub fn full_name(&self, id: &str) -> Option<String> {
        let t = self.technique(id)?;
        match id.split_once('.') {
            Some((parent, _)) => Some(match self.technique(parent) {
                Some(p) => format!("{}: {}", p.name, t.name),
                None => t.name.clone(),
            }),
            None => Some(t.name.clone()),
        }
    }

    /// The tactic with this short name (`execution`) or id (`TA0002`), case-insensitive.
    pub fn tactic(&self, name_or_id: &str) -> Option<&Tactic> {
        self.tactics.iter().find(|t| {
            t.shortname.eq_ignore_ascii_case(name_or_id) || t.id.eq_ignore_ascii_case(name_or_id)
        })
    }

    /// The tactics in matrix order (tactics the matrix does not list come last, by id).
    pub fn tactics(&self) -> Vec<&Tactic> {
        let mut out: Vec<&Tactic> = self.tactics.iter().collect();
        let rank = |t: &Tactic| {
            self.matrix_order
                .iter()
                .position(|s| *s == t.stix_id)
                .unwrap_or(usize::MAX)
        };
        out.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.id.cmp(&b.id)));
        out
    }

    /// The data components whose ATT&CK log sources name this event: a Windows event log
    /// source (`WinEventLog:<name>`) whose name occurs in `channel` and whose channel
    /// column lists `EventCode=<id>` for one of `event_ids`.
    pub fn components_for(&self, channel: &str, event_ids: &[i64]) -> Vec<String> {
        let channel = channel.to_ascii_lowercase();
        let mut out: Vec<String> = self
            .data_components
            .iter()
            .filter(|c| {
                c.log_sources.iter().any(|(name, chan)| {
                    let Some(log) = name.strip_prefix("WinEventLog:") else {
                        return false;
                    };
                    !log.is_empty()
                        && channel.contains(&log.to_ascii_lowercase())
                        && event_codes(chan).iter().any(|c| event_ids.contains(c))
                })
            })
            .map(|c| format!("{} {}", c.id, c.name))
            .collect();
        out.sort();
        out
    }

    fn insert_technique(&mut self, id: String, t: Technique) {
        // A revoked object may share its id with the current one: keep the current one.
        match self.techniques.get(&id) {
            Some(old) if !old.retired && t.retired => {}
            _ => {
                self.techniques.insert(id, t);
            }
        }
    }

    fn add_technique(&mut self, o: &Json) -> bool {
        let Some((id, url)) = external_id(o) else {
            return false;
        };
        let tactics = o
            .get("kill_chain_phases")
            .and_then(Json::as_array)
            .map(|phases| {
                phases
                    .iter()
                    .filter(|p| {
                        p.get("kill_chain_name").and_then(Json::as_str) == Some("mitre-attack")
                    })
                    .filter_map(|p| p.get("phase_name").and_then(Json::as_str))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let t = Technique {
            id: id.to_ascii_uppercase(),
            name: text(o, "name"),
            tactics,
            platforms: strings(o, "x_mitre_platforms"),
            url,
            retired: flag(o, "revoked") || flag(o, "x_mitre_deprecated"),
        };
        self.insert_technique(t.id.clone(), t);
        true
    }

    fn add_tactic(&mut self, o: &Json) -> bool {
        let Some((id, _)) = external_id(o) else {
            return false;
        };
        if self.tactics.iter().any(|t| t.id == id) {
            return true;
        }
        self.tactics.push(Tactic {
            id,
            shortname: text(o, "x_mitre_shortname"),
            name: text(o, "name"),
            stix_id: text(o, "id"),
        });
        true
    }

    fn add_matrix(&mut self, o: &Json) -> bool {
        self.matrix_order = strings(o, "tactic_refs");
        true
    }

    fn add_component(&mut self, o: &Json) -> bool {
        let Some((id, _)) = external_id(o) else {
            return false;
        };
        if flag(o, "revoked") || flag(o, "x_mitre_deprecated") {
            return true;
        }
        let log_sources = o
            .get("x_mitre_log_sources")
            .and_then(Json::as_array)
            .map(|list| {
                list.iter()
                    .map(|s| (text(s, "name"), text(s, "channel")))
                    .collect()
            })
            .unwrap_or_default();
        self.data_components.push(DataComponent {
            id,
            name: text(o, "name"),
            log_sources,
        });
        true
    }

    /// Techniques by tactic short name, each list sorted by id (techniques only, not
    /// sub-techniques, not retired).
    pub fn techniques_by_tactic(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in self.techniques.values() {
            if t.retired || t.id.contains('.') {
                continue;
            }
            for tactic in &t.tactics {
                out.entry(tactic.clone()).or_default().push(t.id.clone());
            }
        }
        for list in out.values_mut() {
            list.sort();
        }
        out
    }
}

/// The numbers of `EventCode=4768, 4769` style text.
fn event_codes(text: &str) -> Vec<i64> {
    let Some(rest) = text.split("EventCode=").nth(1) else {
        return Vec::new();
    };
    rest.split([',', ' ', '/', ';'])
        .map_while(|s| {
            let s = s.trim();
            if s.is_empty() {
                Some(None)
            } else {
                s.parse::<i64>().ok().map(Some)
            }
        })
        .flatten()
        .collect()
}

fn external_id(o: &Json) -> Option<(String, String)> {
    o.get("external_references")?
        .as_array()?
        .iter()
        .find(|r| r.get("source_name").and_then(Json::as_str) == Some("mitre-attack"))
        .and_then(|r| {
            let id = r.get("external_id")?.as_str()?.to_string();
            let url = r
                .get("url")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string();
            Some((id, url))
        })
}

fn text(o: &Json, key: &str) -> String {
    o.get(key)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string()
}

fn flag(o: &Json, key: &str) -> bool {
    o.get(key).and_then(Json::as_bool).unwrap_or(false)
}

fn strings(o: &Json, key: &str) -> Vec<String> {
    o.get(key)
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_codes_are_read_from_log_source_channels() {
        assert_eq!(event_codes("EventCode=4768, 4769"), vec![4768, 4769]);
        assert_eq!(event_codes("EventCode=1"), vec![1]);
        assert_eq!(event_codes("execve"), Vec::<i64>::new());
    }

    #[test]
    fn sub_techniques_get_parent_names() {
        let mut a = AttackData::default();
        let bundle = |id: &str, name: &str| {
            serde_json::json!({"type":"bundle","objects":[{"type":"attack-pattern","name":name,
            "external_references":[{"source_name":"mitre-attack","external_id":id,"url":"u"}],
            "kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"execution"}]}]})
        };
        assert_eq!(
            a.add_json(&bundle("T1059", "Command and Scripting Interpreter")),
            1
        );
        a.add_json(&bundle("T1059.001", "PowerShell"));
        assert_eq!(
            a.full_name("t1059.001").as_deref(),
            Some("Command and Scripting Interpreter: PowerShell")
        );
        assert_eq!(a.full_name("T9999"), None);
        assert_eq!(a.techniques_by_tactic()["execution"], vec!["T1059"]);
    }
}
