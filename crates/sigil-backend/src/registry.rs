//! The targets users pick with `-t`: each one's name and aliases, the engine it is for, its
//! renderer, the pipeline it needs by default and the output formats it offers.
//!
//! A target module declares one [`TargetInfo`] static beside its dialect; the list of them
//! is [`crate::targets::ALL`]. Everything a command line, a server or a document says about
//! a target comes from that value.

use crate::format::OutputFormat;
use crate::render::Target;

/// One conversion target as users see it.
#[derive(Debug)]
pub struct TargetInfo {
    /// The `-t` name (`kusto`, `opensearch-ppl`).
    pub name: &'static str,
    /// Other names accepted by `-t`: common spellings and the reference converter's backend
    /// identifier (`log_scale`), which is also how pipelines name the targets they are for
    /// (`allowed_backends`).
    pub aliases: &'static [&'static str],
    /// Aliases that mean something else elsewhere, with the note printed (once) when one is
    /// used: `kql` is Microsoft's Kusto here, not Kibana's KQL.
    pub alias_notes: &'static [(&'static str, &'static str)],
    /// The engine and its query language, in a few words.
    pub engine: &'static str,
    /// The reference converter the output follows: its package, version and backend
    /// identifier (`pysigma-backend-splunk 2.1.0 \`splunk\``).
    pub reference: &'static str,
    /// The built-in pipeline applied when the command line names none that is for this
    /// target: set where queries without it would not be usable (no table, field names the
    /// engine's data does not have).
    pub default_pipeline: Option<&'static str>,
    /// Output containers besides `plain` and `jsonl`.
    pub formats: &'static [&'static OutputFormat],
    /// The renderer.
    pub renderer: &'static dyn Target,
}

impl TargetInfo {
    /// The target named `name` (its name or an alias, case-insensitively).
    pub fn find(name: &str) -> Option<&'static TargetInfo> {
        crate::targets::ALL
            .iter()
            .copied()
            .find(|t| t.is_named(name))
    }

    /// Whether `name` is this target's name or one of its aliases (case-insensitively).
    pub fn is_named(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
            || self
                .alias_notes
                .iter()
                .any(|(a, _)| a.eq_ignore_ascii_case(name))
    }

    /// The note for an alias that means something else elsewhere, when `used` is one.
    pub fn alias_note(&self, used: &str) -> Option<&'static str> {
        self.alias_notes
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(used))
            .map(|(_, note)| *note)
    }

    /// Whether a pipeline whose `allowed_backends` is `allowed` may run for this target: an
    /// empty list allows every target.
    pub fn accepts_pipeline(&self, allowed: &[String]) -> bool {
        allowed.is_empty() || allowed.iter().any(|a| self.is_named(a))
    }

    /// The output format named `name` (`plain` and `jsonl` are the caller's).
    pub fn format(&self, name: &str) -> Option<&'static OutputFormat> {
        self.formats.iter().copied().find(|f| f.is_named(name))
    }
}

impl PartialEq for TargetInfo {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TargetInfo {}

impl std::hash::Hash for TargetInfo {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl std::fmt::Display for TargetInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::ALL;

    #[test]
    fn names_and_aliases_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for t in ALL {
            let names = std::iter::once(t.name)
                .chain(t.aliases.iter().copied())
                .chain(t.alias_notes.iter().map(|(a, _)| *a));
            for n in names {
                assert!(
                    seen.insert(n.to_ascii_lowercase()),
                    "`{n}` names two targets"
                );
            }
        }
    }

    #[test]
    fn lookup_by_name_alias_and_case() {
        assert_eq!(TargetInfo::find("KUSTO").map(|t| t.name), Some("kusto"));
        let kql = TargetInfo::find("kql").expect("alias");
        assert_eq!(kql.name, "kusto");
        assert!(kql.alias_note("kql").is_some_and(|n| n.contains("Kibana")));
        assert!(kql.alias_note("kusto").is_none());
        assert!(TargetInfo::find("splnk").is_none());
    }

    #[test]
    fn default_pipelines_are_built_in_and_accept_their_target() {
        for t in ALL {
            let Some(name) = t.default_pipeline else {
                continue;
            };
            let p = sigil_pipeline::builtin(name)
                .unwrap_or_else(|| panic!("{}: default pipeline `{name}` is not built in", t.name));
            assert!(
                t.accepts_pipeline(&p.allowed_backends),
                "{}: its default pipeline `{name}` is for {:?}",
                t.name,
                p.allowed_backends
            );
        }
    }

    #[test]
    fn an_empty_allow_list_accepts_every_target() {
        for t in ALL {
            assert!(t.accepts_pipeline(&[]));
        }
        let kusto = TargetInfo::find("kusto").expect("target");
        assert!(kusto.accepts_pipeline(&["kusto".to_string()]));
        assert!(!kusto.accepts_pipeline(&["lucene".to_string(), "eql".to_string()]));
    }
}
