//! Splunk SPL2, Splunk data models, Grafana Loki and OpenSearch PPL against their pySigma
//! backends (the second set of reference outputs, `../shared/oracle/README-wave2.md`): at
//! least 97% of the rules each reference converts must convert to the same query here.
//!
//! Where a reference writes queries whose meaning differs from the rule's in a way
//! `docs/conversion-differences.md` documents, a renderer in this file writes sigil's query
//! with that one defect: rules whose reference query equals it are counted under the defect
//! and left out of the measure, so that everything else is still compared exactly.

mod common;

use common::oracle::{Defect, check, check_with_defects};
use sigil_backend::TargetInfo;
use sigil_backend::dialect::Dialect;
use sigil_backend::render::{Out, QueryContext, Render, Res, Target};
use sigil_backend::targets::spl2::{self, Spl2};
use sigil_backend::tree::BoolKind;
use sigil_core::Pattern;

/// SPL2 as the reference writes it, with some of its defects.
#[derive(Debug)]
struct Spl2Reference {
    dialect: Dialect,
}

impl Target for Spl2Reference {
    fn dialect(&self) -> &Dialect {
        &self.dialect
    }

    fn keyword_value_str(&self, p: &Pattern) -> Res<String> {
        Spl2.keyword_value_str(p)
    }

    fn finish(&self, r: &Render<'_>, query: Out, ctx: &QueryContext<'_>) -> Res<String> {
        Ok(spl2::from_where(r.text_of(&query), ctx))
    }
}

/// The reference reads `OR` as binding tighter than `AND` (the search command's order, not
/// `WHERE`'s).
fn spl2_precedence(d: &mut Dialect) {
    d.precedence = [BoolKind::Not, BoolKind::Or, BoolKind::And];
}

/// The reference doubles every backslash of a `/.../` regular expression and makes every
/// expression case-insensitive.
fn spl2_regex(d: &mut Dialect) {
    d.re_escape_escape_char = true;
    d.re_flag_prefix = false;
    d.re_expression = Some("match({field}, /(?i){regex}/)");
}

fn spl2_reference(name: &'static str, defects: &'static [fn(&mut Dialect)]) -> Defect {
    let renderer: &'static Spl2Reference = Box::leak(Box::new(Spl2Reference {
        dialect: {
            let mut d = spl2::DIALECT.clone();
            for f in defects {
                f(&mut d);
            }
            d
        },
    }));
    let target: &'static TargetInfo = Box::leak(Box::new(TargetInfo {
        renderer,
        formats: &[],
        ..spl2_info()
    }));
    (name, target)
}

fn spl2_info() -> TargetInfo {
    TargetInfo {
        name: "spl2-as-reference",
        aliases: &[],
        alias_notes: &[],
        engine: "",
        reference: "",
        default_pipeline: None,
        formats: &[],
        renderer: &Spl2,
    }
}

#[test]
fn spl2_without_pipeline() {
    let defects = [
        spl2_reference("`OR` read before `AND`", &[spl2_precedence]),
        spl2_reference("regex backslashes doubled, `(?i)` forced", &[spl2_regex]),
        spl2_reference("both", &[spl2_precedence, spl2_regex]),
    ];
    check_with_defects("conv-splunk-spl2.jsonl", "spl2", &[], None, &defects);
}

#[test]
fn splunk_data_model_with_splunk_cim() {
    check("conv-splunk-cim.jsonl", "splunk-dm", &["splunk_cim"]);
}
