//! Splunk `savedsearches.conf`: a `[default]` stanza, then one stanza per query.

use std::fmt::Write as _;

use sigil_core::Rule;

use super::{FormatInput, OutputFormat};
use crate::registry::TargetInfo;

/// `savedsearches.conf` stanzas.
pub static SAVEDSEARCHES: OutputFormat = OutputFormat {
    name: "savedsearches",
    aliases: &[],
    description: "Splunk savedsearches.conf stanzas",
    header: Some(savedsearches_header),
    rule: savedsearches_rule,
    footer: None,
};

/// The `[default]` stanza that starts a `savedsearches.conf`.
pub fn savedsearches_header(_: &TargetInfo) -> String {
    "[default]\ndispatch.earliest_time = -30d\ndispatch.latest_time = now\n".to_string()
}

fn savedsearches_rule(input: &FormatInput<'_>) -> String {
    input
        .queries
        .iter()
        .enumerate()
        .map(|(i, q)| savedsearches_stanza(input.rule, q, i))
        .collect()
}

/// One `savedsearches.conf` stanza per query. Brackets are removed from the title (they
/// delimit stanza names) and line ends in the query are continued with `\`.
pub fn savedsearches_stanza(rule: &Rule, query: &str, index: usize) -> String {
    let mut title: String = rule
        .title
        .chars()
        .filter(|c| *c != '[' && *c != ']')
        .collect();
    if index > 0 {
        let _ = write!(title, " ({})", index + 1);
    }
    let search = query.split('\n').collect::<Vec<_>>().join(" \\\n");
    format!("\n[{title}]\nsearch = {search}\n")
}

/// An SPL2 module: one named search statement per query (pySigma's `module` format, whose
/// statements are all `$result`; here each has a name of its own so that a module holding
/// many rules stays valid).
pub static SPL2_MODULE: OutputFormat = OutputFormat {
    name: "module",
    aliases: &["spl2_module"],
    description: "an SPL2 module: one `$name = FROM ...;` statement per query",
    header: None,
    rule: spl2_module_rule,
    footer: None,
};

fn spl2_module_rule(input: &FormatInput<'_>) -> String {
    let mut out = String::new();
    for (i, q) in input.queries.iter().enumerate() {
        let title: String = input.rule.title.chars().filter(|c| *c != '\n').collect();
        let _ = write!(
            out,
            "// {title}\n${} = {q};\n",
            statement_name(&super::query_id(input.rule, i))
        );
    }
    out
}

/// A module statement name from a rule id: `sigma_` and the id's letters and digits, other
/// characters as `_`.
fn statement_name(id: &str) -> String {
    let mut name = String::from("sigma_");
    name.extend(
        id.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
    );
    name
}
