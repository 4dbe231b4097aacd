//! Splunk CIM data-model searches (`| tstats ... from datamodel=...`), as
//! pysigma-backend-splunk writes them with its `data_model` format: the Splunk SPL condition
//! (the [`super::splunk`] renderer as it is) inside a `tstats` search over the data model the
//! `splunk_cim` pipeline chose (state `data_model_set`, `by` fields in state `fields`).
//!
//! Regular expressions cannot be evaluated by `tstats`: under an `and` they follow it as
//! `| regex` commands (the fields are `by` fields). Under an `or` they need `| rex` and
//! `| eval` helpers, which exist only after `tstats`: the whole condition then moves to a
//! `| search` after them and `tstats` reads the data model unfiltered (the reference keeps the
//! condition in `tstats`' `where` as well, where the helper field does not exist yet, and
//! loses the events only the expression matches).

use std::fmt::Write as _;

use crate::dialect::Dialect;
use crate::error::ConvertError;
use crate::registry::TargetInfo;
use crate::render::{Out, QueryContext, Render, Res, Target};
use crate::tree::Node;

use super::splunk::{self, Splunk};

/// The data-model target: Splunk SPL conditions in a `tstats` search.
#[derive(Debug, Clone, Copy, Default)]
pub struct SplunkDataModel;

/// SPL as the Splunk target writes it, under this target's name.
pub static DIALECT: Dialect = Dialect {
    name: "splunk-dm",
    ..splunk::DIALECT
};

/// The `splunk-dm` target (`splunk_cim` by default: without it there is no data model).
pub static TARGET: TargetInfo = TargetInfo {
    name: "splunk-dm",
    aliases: &["splunk_dm", "splunk_data_model", "data_model"],
    alias_notes: &[],
    engine: "Splunk CIM data models (`tstats` searches)",
    reference: "pysigma-backend-splunk 2.1.0 `splunk`, format `data_model`",
    default_pipeline: Some("splunk_cim"),
    formats: &[],
    renderer: &SplunkDataModel,
};

impl Target for SplunkDataModel {
    fn dialect(&self) -> &Dialect {
        &DIALECT
    }

    fn field_regex(
        &self,
        r: &mut Render<'_>,
        field: &str,
        source: &str,
        flags: sigil_core::RegexFlags,
    ) -> Res<Out> {
        Splunk.field_regex(r, field, source, flags)
    }

    fn field_cidr(&self, r: &mut Render<'_>, field: &str, net: &ipnet::IpNet) -> Res<Out> {
        Splunk.field_cidr(r, field, net)
    }

    fn query(&self, r: &mut Render<'_>, node: &Node, ctx: &QueryContext<'_>) -> Res<String> {
        let out = r.convert(node)?;
        let missing = |what: &str| ConvertError::Unsupported {
            target: DIALECT.name,
            construct: format!(
                "a rule without {what} (the `splunk_cim` pipeline sets it for the log sources it knows)"
            ),
            span: sigil_core::Span::default(),
        };
        let set = ctx
            .state
            .get("data_model_set")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("a data model"))?;
        let data_set = match set.split_once('.') {
            Some((model, data_set)) if !model.is_empty() && !data_set.is_empty() => data_set,
            _ => {
                return Err(ConvertError::InvalidValue {
                    message: format!(
                        "data model `{set}`: expected `data_model.data_set` (state `data_model_set`)"
                    ),
                    span: sigil_core::Span::default(),
                });
            }
        };
        let fields = ctx
            .state
            .get("fields")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("data-model fields"))?;
        let condition = match r.text_of(&out) {
            "" => "*",
            text => text,
        };
        let rex = splunk::rex_commands(r);
        let has_rex = !rex.is_empty();
        let mut q = format!(
            "| tstats summariesonly=false allow_old_summaries=true fillnull_value=\"null\" count min(_time) as firstTime max(_time) as lastTime from datamodel={set}"
        );
        if rex.is_empty() {
            q.push_str(" where ");
            q.push_str(condition);
        }
        q.push_str(" by ");
        q.push_str(fields);
        for command in rex {
            q.push_str(" | ");
            q.push_str(&command.replace('\n', " "));
        }
        for d in &r.deferred {
            q.push_str(" | ");
            q.push_str(d.text());
        }
        if has_rex {
            q.push_str(" | search ");
            q.push_str(condition);
        }
        let _ = write!(
            q,
            " | `drop_dm_object_name({data_set})` | convert timeformat=\"%Y-%m-%dT%H:%M:%S\" ctime(firstTime) | convert timeformat=\"%Y-%m-%dT%H:%M:%S\" ctime(lastTime)"
        );
        Ok(q)
    }
}
