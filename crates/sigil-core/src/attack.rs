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
