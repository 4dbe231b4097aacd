//! MITRE ATT&CK references in rule tags.

use serde::Serialize;

/// An ATT&CK reference taken from a tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum AttackRef {
    /// A tactic by its short name (`execution`, `defense-evasion`, ...).
    Tactic(String),
    /// A technique or sub-technique id, upper case (`T1059`, `T1059.001`).
    Technique(String),
    /// A group (`G0016`), software (`S0002`) or other ATT&CK object id.
    Other(String),
}

/// Parses a Sigma ATT&CK tag (`attack.execution`, `attack.t1059.001`, `attack.g0016`).
/// Returns `None` for tags of other namespaces and for malformed ATT&CK tags.
pub fn parse_attack_tag(tag: &str) -> Option<AttackRef> {
    let rest = tag.strip_prefix("attack.")?;
    if rest.is_empty() {
        return None;
    }
    let bytes = rest.as_bytes();
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    match bytes[0].to_ascii_lowercase() {
        b't' if digits(&bytes[1..]) && bytes.len() == 5 => {
            return Some(AttackRef::Technique(rest.to_ascii_uppercase()));
        }
        b't' if bytes.len() == 9
            && digits(&bytes[1..5])
            && bytes[5] == b'.'
            && digits(&bytes[6..]) =>
        {
            return Some(AttackRef::Technique(rest.to_ascii_uppercase()));
        }
        b'g' | b's' | b'm' | b'c' | b'd' if bytes.len() == 5 && digits(&bytes[1..]) => {
            return Some(AttackRef::Other(rest.to_ascii_uppercase()));
        }
        _ => {}
    }
    if rest
        .chars()
        .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_')
    {
        return Some(AttackRef::Tactic(rest.replace('_', "-")));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(
            parse_attack_tag("attack.t1059.001"),
            Some(AttackRef::Technique("T1059.001".into()))
        );
        assert_eq!(
            parse_attack_tag("attack.T1047"),
            Some(AttackRef::Technique("T1047".into()))
        );
        assert_eq!(
            parse_attack_tag("attack.defense_evasion"),
            Some(AttackRef::Tactic("defense-evasion".into()))
        );
        assert_eq!(
            parse_attack_tag("attack.g0016"),
            Some(AttackRef::Other("G0016".into()))
        );
        assert_eq!(parse_attack_tag("attack.t10"), None);
        assert_eq!(parse_attack_tag("attack.T1059.1"), None);
        assert_eq!(parse_attack_tag("cve.2021-44228"), None);
    }
}

/// Whether an ATT&CK object is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackState {
    /// In use.
    Active,
    /// Replaced by another object.
    Revoked,
    /// No longer maintained.
    Deprecated,
}

/// An ATT&CK object of the built-in Enterprise data ([`attack_data`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttackEntry {
    /// Tactic, technique or data source.
    pub kind: AttackKind,
    /// The ATT&CK id (`TA0002`, `T1059.001`, `DS0009`).
    pub id: &'static str,
    /// A tactic's short name (`execution`); a technique's tactics, comma-separated.
    pub key: &'static str,
    /// Whether the object is current.
    pub state: AttackState,
    /// Its name (`Windows Management Instrumentation`).
    pub name: &'static str,
}

/// The kind of an [`AttackEntry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttackKind {
    /// A tactic (`TA0002`, `execution`).
    Tactic,
    /// A technique or sub-technique.
    Technique,
    /// A data source.
    DataSource,
}

/// The ATT&CK Enterprise release the built-in data comes from.
pub const ATTACK_VERSION: &str = "18.1";

/// The built-in ATT&CK Enterprise data (`data/attack-enterprise.tsv`, made from MITRE's
/// STIX release [`ATTACK_VERSION`]): tactics, techniques and data sources, revoked and
/// deprecated ones included and marked.
#[derive(Debug)]
pub struct AttackData {
    entries: Vec<AttackEntry>,
    by_id: std::collections::HashMap<&'static str, usize>,
    tactics: std::collections::HashMap<&'static str, usize>,
}

impl AttackData {
    fn parse(text: &'static str) -> Self {
        let mut entries = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let mut f = line.split('\t');
            let (Some(kind), Some(id), Some(key), Some(state), Some(name)) =
                (f.next(), f.next(), f.next(), f.next(), f.next())
            else {
                continue;
            };
            let kind = match kind {
                "tactic" => AttackKind::Tactic,
                "technique" => AttackKind::Technique,
                _ => AttackKind::DataSource,
            };
            let state = match state {
                "active" => AttackState::Active,
                "revoked" => AttackState::Revoked,
                _ => AttackState::Deprecated,
            };
            entries.push(AttackEntry {
                kind,
                id,
                key,
                state,
                name,
            });
        }
        let by_id = entries.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
        let tactics = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == AttackKind::Tactic)
            .map(|(i, e)| (e.key, i))
            .collect();
        Self {
            entries,
            by_id,
            tactics,
        }
    }

    /// Every entry, tactics first, then by id.
    pub fn entries(&self) -> &[AttackEntry] {
        &self.entries
    }

    /// The object with ATT&CK id `id` (upper case: `T1047`, `TA0002`).
    pub fn get(&self, id: &str) -> Option<&AttackEntry> {
        self.by_id.get(id).map(|&i| &self.entries[i])
    }

    /// The tactic with short name `name` (`defense-evasion`).
    pub fn tactic(&self, name: &str) -> Option<&AttackEntry> {
        self.tactics.get(name).map(|&i| &self.entries[i])
    }

    /// The short names of the tactics of technique `id` (upper case), if it is known.
    pub fn technique_tactics(
        &self,
        id: &str,
    ) -> Option<impl Iterator<Item = &'static str> + use<>> {
        let e = self.get(id).filter(|e| e.kind == AttackKind::Technique)?;
        let key: &'static str = e.key;
        Some(key.split(',').filter(|t| !t.is_empty() && *t != "-"))
    }
}

/// The built-in ATT&CK Enterprise data, parsed once.
pub fn attack_data() -> &'static AttackData {
    static DATA: std::sync::OnceLock<AttackData> = std::sync::OnceLock::new();
    DATA.get_or_init(|| AttackData::parse(include_str!("../data/attack-enterprise.tsv")))
}

#[cfg(test)]
mod data_tests {
    use super::*;

    #[test]
    fn built_in_data() {
        let d = attack_data();
        let wmi = d.get("T1047").expect("known");
        assert_eq!(wmi.name, "Windows Management Instrumentation");
        assert_eq!(wmi.state, AttackState::Active);
        assert_eq!(
            d.technique_tactics("T1047")
                .expect("known")
                .collect::<Vec<_>>(),
            ["execution"]
        );
        assert_eq!(d.tactic("defense-evasion").expect("known").id, "TA0005");
        assert_eq!(d.get("T1215").expect("known").state, AttackState::Revoked);
        assert!(d.tactic("defense_evasion").is_none());
    }
}
