//! Pages from a [`Publication`]: Markdown (for a rule repository's wiki) and a static HTML
//! site, both through `minijinja` templates embedded in the binary.
//!
//! HTML templates auto-escape every value (minijinja escapes for names ending in
//! `.html`), and the only markup this module builds itself comes from fixed strings, so
//! nothing a rule says can become markup. Markdown has no such mode: values go through
//! the `md` filters, which escape Markdown and HTML punctuation and keep table cells on
//! one line, and code is fenced with a fence longer than any backtick run inside it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use minijinja::{Environment, Value, context};
use rayon::prelude::*;
use serde_json::{Value as Json, json};
use sigil_catalog::{AtomicEntry, CatalogRule, TechniqueEntry};
use sigil_core::RuleLanguage;

use crate::convert::enrichment;
use crate::error::SiteError;
use crate::export::{CatalogExport, RuleDetails};
use crate::highlight::lines_html;
use crate::paths::file_name;
use crate::publication::Publication;

pub use crate::browser_index::search_index_js;
pub use crate::markdown::{fence, md_block, md_inline, md_link};

/// The matrix colours a technique by how many of these rule counts it reaches.
const COVERAGE_LEVELS: [usize; 4] = [1, 3, 10, 30];

/// Rendered files: relative path (with `/`) → content.
pub type Files = Vec<(String, Vec<u8>)>;

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, text) in TEMPLATES {
            // The templates are part of the binary; a broken one is caught by the tests.
            if let Err(e) = env.add_template(name, text) {
                panic!("built-in template {name}: {e}");
            }
        }
        env.add_filter("md", |s: &str| md_inline(s));
        env.add_filter("mdblock", |s: &str| md_block(s));
        env.add_filter("mdlink", |s: &str| md_link(s));
        env
    })
}

const TEMPLATES: [(&str, &str); 16] = [
    ("base.html", include_str!("../templates/base.html")),
    ("index.html", include_str!("../templates/index.html")),
    (
        "rules_index.html",
        include_str!("../templates/rules_index.html"),
    ),
    ("rule.html", include_str!("../templates/rule.html")),
    (
        "technique.html",
        include_str!("../templates/technique.html"),
    ),
    ("tactic.html", include_str!("../templates/tactic.html")),
    (
        "tactics_index.html",
        include_str!("../templates/tactics_index.html"),
    ),
    ("matrix.html", include_str!("../templates/matrix.html")),
    ("atomic.html", include_str!("../templates/atomic.html")),
    (
        "atomics_index.html",
        include_str!("../templates/atomics_index.html"),
    ),
    ("gaps.html", include_str!("../templates/gaps.html")),
    (
        "indicator.html",
        include_str!("../templates/indicator.html"),
    ),
    ("rule.md", include_str!("../templates/rule.md")),
    ("atomic.md", include_str!("../templates/atomic.md")),
    ("technique.md", include_str!("../templates/technique.md")),
    ("readme.md", include_str!("../templates/readme.md")),
];

fn render(name: &str, ctx: Value) -> Result<String, SiteError> {
    let tmpl = env()
        .get_template(name)
        .map_err(|source| SiteError::Template {
            name: name.to_string(),
            source,
        })?;
    tmpl.render(ctx).map_err(|source| SiteError::Template {
        name: name.to_string(),
        source,
    })
}

/// Page paths, relative to the site root.
pub mod page {
    use crate::paths::file_name;

    /// A rule page.
    pub fn rule(key: &str) -> String {
        format!("rules/{}.html", file_name(key))
    }
    /// A rule's details as data (`index.json` lists the rule and points here).
    pub fn rule_details(key: &str) -> String {
        format!("rules/{}.json", file_name(key))
    }
    /// A technique page.
    pub fn technique(id: &str) -> String {
        format!("techniques/{}.html", file_name(id))
    }
    /// A tactic page.
    pub fn tactic(shortname: &str) -> String {
        format!("tactics/{}.html", file_name(shortname))
    }
    /// An atomic test page.
    pub fn atomic(guid: &str) -> String {
        format!("atomics/{}.html", file_name(guid))
    }
}

fn coverage_level(n: usize) -> usize {
    COVERAGE_LEVELS.iter().filter(|&&t| n >= t).count()
}

fn language_label(l: RuleLanguage) -> &'static str {
    match l {
        RuleLanguage::Sigma => "Sigma",
        RuleLanguage::Elastic => "Elastic",
    }
}

/// The renderer: one publication, shared lookups.
///
/// Template values are built once and shared: a minijinja [`Value`] clones by reference
/// count, so the reference to a rule that hundreds of pages list is converted once.
struct Renderer<'a> {
    p: &'a Publication,
    stats: Value,
    tactic_names: BTreeMap<&'a str, (&'a str, Option<&'a str>)>,
    /// Tactic name or short name → short name.
    tactic_short: HashMap<&'a str, &'a str>,
    /// Per rule, its reference as pages one folder down link it (`../rules/<key>.html`).
    refs_up: Vec<Value>,
    /// Per rule, its reference as `rules/index.html` and the Markdown README link it.
    refs_here: Vec<Value>,
}

impl<'a> Renderer<'a> {
    fn new(p: &'a Publication) -> Self {
        let c = &p.catalog;
        let stats = Value::from_serialize(json!({
            "rules": c.rules.len(),
            "by_source": c.stats.rules_by_source,
            "tests": c.atomics.len(),
            "simulated": c.stats.simulated_tests,
            "detected": c.stats.detected_tests,
            "techniques": c.stats.attack_techniques,
            "covered": c.stats.covered_techniques,
            "attack_version": c.attack_version.clone().unwrap_or_else(|| "(not loaded)".into()),
        }));
        let tactic_names = c
            .tactics
            .iter()
            .map(|t| (t.shortname.as_str(), (t.name.as_str(), t.id.as_deref())))
            .collect();
        let mut tactic_short = HashMap::new();
        for t in &c.tactics {
            tactic_short
                .entry(t.name.as_str())
                .or_insert(t.shortname.as_str());
            tactic_short
                .entry(t.shortname.as_str())
                .or_insert(t.shortname.as_str());
        }
        let (refs_up, refs_here) = c
            .rules
            .par_iter()
            .map(|r| {
                (
                    Value::from_serialize(rule_ref_json(r, "../rules/")),
                    Value::from_serialize(rule_ref_json(r, "")),
                )
            })
            .unzip();
        Self {
            p,
            stats,
            tactic_names,
            tactic_short,
            refs_up,
            refs_here,
        }
    }

    /// A page's context: `root` (the way back to the site root) and the catalog counts
    /// next to the page's own values.
    fn ctx(&self, root: &str, v: Value) -> Value {
        context! { root => root, stats => self.stats, ..v }
    }

    fn tactic_refs(&self, shortnames: &[String], prefix: &str) -> Value {
        shortnames
            .iter()
            .map(|s| {
                let (name, id) = self
                    .tactic_names
                    .get(s.as_str())
                    .copied()
                    .unwrap_or((s.as_str(), None));
                context! {shortname => s, name => name, id => id, page => format!("{prefix}{}", page::tactic(s)), file => file_name(s)}
            })
            .collect::<Vec<_>>()
            .into()
    }

    /// The per-rule context shared by the HTML and Markdown pages.
    fn rule_ctx(&self, i: usize) -> Value {
        let r = &self.p.catalog.rules[i];
        let conversions = &self.p.conversions[i];
        let mut tactics: Vec<String> = Vec::new();
        let mut techniques: Vec<Json> = Vec::new();
        for a in &r.analysis.attack {
            if let Some(t) = &a.tactic {
                let short = self
                    .tactic_short
                    .get(t.as_str())
                    .map_or_else(|| t.clone(), |x| (*x).to_string());
                if !tactics.contains(&short) {
                    tactics.push(short);
                }
            }
            if let Some(id) = &a.technique
                && !techniques.iter().any(|t| t["id"] == json!(id))
            {
                let url = self.p.technique(id).map_or_else(
                    || {
                        format!(
                            "https://attack.mitre.org/techniques/{}/",
                            id.replace('.', "/")
                        )
                    },
                    |t| t.url.clone(),
                );
                techniques.push(json!({
                    "id": id, "name": a.name, "url": url,
                    "page": page::technique(id), "file": file_name(id),
                }));
            }
        }
        let indicators: Vec<Json> = r
            .analysis
            .indicators
            .iter()
            .map(|ind| {
                let by: Vec<String> = ind
                    .corpus_by_source
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect();
                let corpus_text = if ind.corpus == 0 {
                    "0".to_string()
                } else {
                    format!("{} ({})", ind.corpus, by.join(", "))
                };
                let page = self
                    .p
                    .shared
                    .contains_key(&ind.normalized)
                    .then(|| Publication::indicator_page(&ind.normalized));
                json!({
                    "field": ind.field, "kind": ind.kind, "value": ind.value,
                    "negated": ind.negated, "corpus": ind.corpus,
                    "corpus_text": corpus_text, "page": page,
                })
            })
            .collect();
        let related: Vec<Json> = r
            .analysis
            .related
            .iter()
            .map(|rel| {
                json!({
                    "title": rel.title, "id": rel.id, "language": rel.language.name(),
                    "score": rel.score, "reasons": rel.reasons,
                    "page": format!("../{}", page::rule(&rel.key)), "file": file_name(&rel.key),
                })
            })
            .collect();
        let tests: Vec<Json> = r
            .fired_by
            .iter()
            .map(|t| {
                json!({
                    "guid": t.guid, "name": t.name, "technique": t.technique,
                    "page": format!("{}.html", file_name(&t.guid)), "file": file_name(&t.guid),
                })
            })
            .collect();
        let convs: Vec<Json> = conversions
            .iter()
            .map(|c| {
                let mut v = json!(c);
                v["fence"] = json!(fence(&c.queries.join("\n")));
                v
            })
            .collect();
        let stage_fences: Vec<String> = r.analysis.stages.iter().map(|s| fence(&s.expr)).collect();
        context! {
            rule => r,
            stage_fences => stage_fences,
            path => r.path.display().to_string(),
            source_label => language_label(r.language),
            source_lang => if r.language == RuleLanguage::Sigma { "yaml" } else { "toml" },
            source_fence => fence(&r.source),
            conversions => convs,
            enrichment => enrichment(conversions),
            tactics => self.tactic_refs(&tactics, ""),
            techniques => techniques,
            indicators => indicators,
            related => related,
            tests => tests,
        }
    }

    /// A rule's HTML and Markdown pages (each when asked for), from one context.
    fn rule_pages(
        &self,
        i: usize,
        html: bool,
        markdown: bool,
    ) -> Result<(Option<String>, Option<String>), SiteError> {
        let ctx = self.ctx("../", self.rule_ctx(i));
        let page = if html {
            let lines = Value::from_safe_string(lines_html(&self.p.catalog.rules[i].source));
            Some(render(
                "rule.html",
                context! { lines => lines, ..ctx.clone() },
            )?)
        } else {
            None
        };
        let md = if markdown {
            Some(render("rule.md", ctx)?)
        } else {
            None
        };
        Ok((page, md))
    }

    /// The rules of a technique, as pages under `techniques/` link them.
    fn technique_rules(&self, t: &TechniqueEntry) -> Vec<Value> {
        t.rules
            .iter()
            .filter_map(|k| self.p.rule_index(k))
            .map(|i| self.refs_up[i].clone())
            .collect()
    }

    fn technique_tests(&self, t: &TechniqueEntry, prefix: &str) -> Vec<Json> {
        t.tests
            .iter()
            .filter_map(|g| self.p.atomic_index(g))
            .map(|i| atomic_ref_json(&self.p.catalog.atomics[i], prefix))
            .collect()
    }

    fn technique_ctx(&self, t: &TechniqueEntry, subs: &[&str]) -> Value {
        let sub_refs: Vec<Json> = subs
            .iter()
            .filter_map(|s| self.p.technique(s))
            .map(|s| json!({"id": s.id, "name": s.name, "rules": s.rules.len(), "page": format!("{}.html", file_name(&s.id))}))
            .collect();
        let parent = t.parent.as_deref().map(|pid| {
            let name = self.p.technique(pid).and_then(|x| x.name.clone());
            json!({"id": pid, "name": name, "page": format!("{}.html", file_name(pid))})
        });
        context! {
            t => t,
            tactics => self.tactic_refs(&t.tactics, ""),
            parent => parent,
            subs => sub_refs,
            rules => self.technique_rules(t),
            tests => self.technique_tests(t, "../atomics/"),
        }
    }

    fn atomic_ctx(&self, a: &AtomicEntry) -> Value {
        let tactics = self
            .p
            .technique(&a.technique)
            .map(|t| t.tactics.clone())
            .unwrap_or_default();
        let refs = |keys: &mut dyn Iterator<Item = &str>| -> Vec<Value> {
            keys.filter_map(|key| self.p.rule_index(key))
                .map(|i| self.refs_up[i].clone())
                .collect()
        };
        context! {
            a => a,
            technique_page => page::technique(&a.technique),
            technique_file => file_name(&a.technique),
            tactics => self.tactic_refs(&tactics, ""),
            fired => refs(&mut a.fired.iter().map(|r| r.key.as_str())),
            same => refs(&mut a.same_technique.iter().map(|r| r.key.as_str())),
            command_fence => fence(&a.command),
        }
    }

    /// An atomic test's HTML and Markdown pages (each when asked for), from one context.
    fn atomic_pages(
        &self,
        a: &AtomicEntry,
        html: bool,
        markdown: bool,
    ) -> Result<(Option<String>, Option<String>), SiteError> {
        let ctx = self.ctx("../", self.atomic_ctx(a));
        let page = if html {
            Some(render("atomic.html", ctx.clone())?)
        } else {
            None
        };
        let md = if markdown {
            Some(render("atomic.md", ctx)?)
        } else {
            None
        };
        Ok((page, md))
    }

    /// Rules under a technique and its sub-techniques.
    fn rules_with_subs(&self, id: &str, subs: &BTreeMap<&str, Vec<&str>>) -> usize {
        let own = self.p.technique(id).map_or(0, |t| t.rules.len());
        own + subs.get(id).map_or(0, |v| {
            v.iter()
                .filter_map(|s| self.p.technique(s))
                .map(|t| t.rules.len())
                .sum()
        })
    }

    fn tests_with_subs(&self, id: &str, subs: &BTreeMap<&str, Vec<&str>>) -> usize {
        let own = self.p.technique(id).map_or(0, |t| t.tests.len());
        own + subs.get(id).map_or(0, |v| {
            v.iter()
                .filter_map(|s| self.p.technique(s))
                .map(|t| t.tests.len())
                .sum()
        })
    }
}

fn rule_ref_json(r: &CatalogRule, prefix: &str) -> Json {
    let techniques: BTreeSet<&str> = r
        .analysis
        .attack
        .iter()
        .filter_map(|a| a.technique.as_deref())
        .collect();
    json!({
        "key": r.key, "id": r.display_id(), "title": r.title,
        "language": r.language.name(), "level": r.level,
        "page": format!("{prefix}{}.html", file_name(&r.key)),
        "file": file_name(&r.key),
        "file_name": r.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        "techniques": techniques,
    })
}

fn atomic_ref_json(a: &AtomicEntry, prefix: &str) -> Json {
    json!({
        "guid": a.guid, "name": a.name, "technique": a.technique,
        "executor": a.executor, "fired": a.fired.len(),
        "page": format!("{prefix}{}.html", file_name(&a.guid)),
        "technique_page": format!("{prefix}../{}", page::technique(&a.technique)),
        "file": file_name(&a.guid),
    })
}

/// The Markdown pages: `rules/`, `atomics/`, `techniques/` and a `README.md` (paths
/// relative to the Markdown folder).
pub fn markdown(p: &Publication) -> Result<Files, SiteError> {
    Ok(pages(p, false, true)?
        .into_iter()
        .map(|(path, bytes)| match path.strip_prefix("markdown/") {
            Some(rel) => (rel.to_string(), bytes),
            None => (path, bytes),
        })
        .collect())
}

/// The HTML site: every page, the assets, the search index, `index.json` and the
/// Navigator layer.
pub fn html(p: &Publication) -> Result<Files, SiteError> {
    pages(p, true, false)
}

/// The HTML site at the root and the Markdown pages under `markdown/`, each when asked
/// for, collected in memory (sorted by path).
pub fn pages(p: &Publication, html: bool, markdown: bool) -> Result<Files, SiteError> {
    let files = std::sync::Mutex::new(Files::new());
    pages_into(p, html, markdown, &|path, bytes| {
        files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((path, bytes));
        Ok(())
    })?;
    let mut files = files
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// Where rendered files go, one at a time and from several threads: relative path (with
/// `/`) and content. An error stops the rendering.
pub type Emit<'a> = &'a (dyn Fn(String, Vec<u8>) -> Result<(), SiteError> + Sync);

/// Renders the HTML site at the root and the Markdown pages under `markdown/`, each when
/// asked for, handing each file to `emit` as soon as it is rendered, so that no more than
/// the pages in flight are held. Rule, test and indicator pages are rendered in parallel
/// (both formats of a rule or test from one context), in no fixed order.
pub fn pages_into(
    p: &Publication,
    html: bool,
    markdown: bool,
    emit: Emit<'_>,
) -> Result<(), SiteError> {
    let r = Renderer::new(p);
    let c = &p.catalog;
    let md_path = |rel: String| format!("markdown/{rel}");
    (0..c.rules.len()).into_par_iter().try_for_each(|i| {
        let rule = &c.rules[i];
        let (page_html, page_md) = r.rule_pages(i, html, markdown)?;
        if let Some(h) = page_html {
            emit(page::rule(&rule.key), h.into_bytes())?;
            emit(
                page::rule_details(&rule.key),
                serde_json::to_vec(&RuleDetails::new(p, rule))?,
            )?;
        }
        if let Some(m) = page_md {
            emit(
                md_path(format!("rules/{}.md", file_name(&rule.key))),
                m.into_bytes(),
            )?;
        }
        Ok::<(), SiteError>(())
    })?;
    c.atomics.par_iter().try_for_each(|a| {
        let (page_html, page_md) = r.atomic_pages(a, html, markdown)?;
        if let Some(h) = page_html {
            emit(page::atomic(&a.guid), h.into_bytes())?;
        }
        if let Some(m) = page_md {
            emit(
                md_path(format!("atomics/{}.md", file_name(&a.guid))),
                m.into_bytes(),
            )?;
        }
        Ok::<(), SiteError>(())
    })?;
    // The rest: technique and tactic pages, indicator pages, lists, index files. The two
    // sites' parts run side by side (each page is written on its own, so the order they
    // are written in changes nothing).
    let (md_done, html_done) = rayon::join(
        || {
            if markdown {
                markdown_rest(&r, emit)
            } else {
                Ok(())
            }
        },
        || if html { html_rest(&r, emit) } else { Ok(()) },
    );
    md_done?;
    html_done
}

/// The Markdown technique pages and README.
fn markdown_rest(r: &Renderer<'_>, emit: Emit<'_>) -> Result<(), SiteError> {
    let p = r.p;
    let c = &p.catalog;
    let subs = p.subtechniques();
    c.techniques
        .par_iter()
        .filter(|t| !(t.rules.is_empty() && t.tests.is_empty() && !t.known))
        .try_for_each(|t| {
            let own_subs = subs.get(t.id.as_str()).cloned().unwrap_or_default();
            let ctx = r.technique_ctx(t, &own_subs);
            emit(
                format!("markdown/techniques/{}.md", file_name(&t.id)),
                render("technique.md", r.ctx("../", ctx))?.into_bytes(),
            )
        })?;
    let techniques: Vec<Json> = c
        .techniques
        .iter()
        .filter(|t| !t.rules.is_empty() || !t.tests.is_empty())
        .map(|t| json!({"id": t.id, "name": t.name, "file": file_name(&t.id)}))
        .collect();
    let tests: Vec<Json> = c.atomics.iter().map(|a| atomic_ref_json(a, "")).collect();
    let readme = context! { rules => r.refs_here, techniques => techniques, tests => tests };
    emit(
        "markdown/README.md".into(),
        render("readme.md", r.ctx("", readme))?.into_bytes(),
    )?;
    Ok(())
}

/// The HTML pages other than rules and tests, the assets, the search index, `index.json`
/// and the Navigator layer.
fn html_rest(r: &Renderer<'_>, emit: Emit<'_>) -> Result<(), SiteError> {
    // The lists and index files, the largest single files, are written while the pages
    // of techniques, tactics and indicators are.
    let (pages, lists) = rayon::join(|| html_pages(r, emit), || html_lists(r, emit));
    pages?;
    lists
}

/// The technique, tactic, matrix, gaps and indicator pages.
fn html_pages(r: &Renderer<'_>, emit: Emit<'_>) -> Result<(), SiteError> {
    let p = r.p;
    let c = &p.catalog;
    let subs = p.subtechniques();
    c.techniques.par_iter().try_for_each(|t| {
        let own_subs = subs.get(t.id.as_str()).cloned().unwrap_or_default();
        let ctx = r.technique_ctx(t, &own_subs);
        emit(
            page::technique(&t.id),
            render("technique.html", r.ctx("../", ctx))?.into_bytes(),
        )
    })?;

    // Tactics and the matrix: techniques (not sub-techniques) per tactic, counted with
    // their sub-techniques.
    let mut columns = Vec::new();
    let mut tactic_rows = Vec::new();
    for ta in &c.tactics {
        let cells: Vec<Json> = ta
            .techniques
            .iter()
            .filter_map(|id| p.technique(id))
            .filter(|t| !t.retired)
            .map(|t| {
                let n = r.rules_with_subs(&t.id, &subs);
                json!({
                    "id": t.id, "name": t.name, "rules": n,
                    "tests": r.tests_with_subs(&t.id, &subs),
                    "level": coverage_level(n),
                })
            })
            .collect();
        let covered = cells.iter().filter(|x| x["rules"] != json!(0)).count();
        let with_page = |prefix: &str| -> Vec<Json> {
            cells
                .iter()
                .map(|x| {
                    let mut x = x.clone();
                    x["page"] = json!(format!(
                        "{prefix}{}.html",
                        file_name(x["id"].as_str().unwrap_or(""))
                    ));
                    x
                })
                .collect()
        };
        emit(
            page::tactic(&ta.shortname),
            render(
                "tactic.html",
                r.ctx(
                    "../",
                    context! {tactic => ta, techniques => with_page("../techniques/")},
                ),
            )?
            .into_bytes(),
        )?;
        tactic_rows.push(json!({
            "id": ta.id, "name": ta.name, "rules": ta.rules, "techniques": cells.len(),
            "page": format!("{}.html", file_name(&ta.shortname)),
        }));
        if ta.id.is_some() {
            columns.push(json!({
                "name": ta.name, "page": page::tactic(&ta.shortname),
                "covered": covered, "cells": with_page("techniques/"),
            }));
        }
    }
    emit(
        "tactics/index.html".into(),
        render(
            "tactics_index.html",
            r.ctx("../", context! {tactics => tactic_rows}),
        )?
        .into_bytes(),
    )?;
    emit(
        "matrix.html".into(),
        render("matrix.html", r.ctx("", context! {columns => columns}))?.into_bytes(),
    )?;

    // Gaps.
    let gap_tests: Vec<Json> = c
        .gaps
        .iter()
        .filter_map(|g| p.atomic_index(g))
        .map(|i| atomic_ref_json(&c.atomics[i], "atomics/"))
        .collect();
    let gap_techniques: Vec<Json> = c
        .techniques
        .iter()
        .filter(|t| !t.tests.is_empty() && r.rules_with_subs(&t.id, &subs) == 0)
        .map(|t| json!({"id": t.id, "name": t.name, "tests": t.tests.len(), "page": page::technique(&t.id)}))
        .collect();
    let unresolved: Vec<Json> = c
        .unresolved_attack
        .iter()
        .map(|u| json!({"tag": u.tag, "rules": u.rules.len()}))
        .collect();
    emit(
        "gaps.html".into(),
        render(
            "gaps.html",
            r.ctx(
                "",
                context! {tests => gap_tests, techniques => gap_techniques, unresolved => unresolved},
            ),
        )?
        .into_bytes(),
    )?;

    // Indicator pages: one per indicator that two or more rules share.
    let shared: Vec<_> = p.shared.iter().collect();
    shared.par_iter().try_for_each(|(n, rules)| {
        let rows: Vec<Value> = rules
            .iter()
            .map(|&i| {
                let rule = &c.rules[i];
                let written: BTreeSet<String> = rule
                    .analysis
                    .indicators
                    .iter()
                    .filter(|x| &x.normalized == *n)
                    .map(|x| {
                        format!(
                            "{} {} {}",
                            x.field.as_deref().unwrap_or("(keyword)"),
                            x.kind,
                            x.value
                        )
                    })
                    .collect();
                context! {r => r.refs_up[i], written => written}
            })
            .collect();
        emit(
            format!("indicators/{}.html", Publication::indicator_page(n)),
            render(
                "indicator.html",
                r.ctx("../", context! {n => n, rules => rows}),
            )?
            .into_bytes(),
        )
    })
}

/// The lists of rules and tests, the home page, the assets, the search index,
/// `index.json` and the Navigator layer.
fn html_lists(r: &Renderer<'_>, emit: Emit<'_>) -> Result<(), SiteError> {
    let p = r.p;
    let c = &p.catalog;
    emit(
        "rules/index.html".into(),
        render(
            "rules_index.html",
            r.ctx("../", context! {rules => r.refs_here}),
        )?
        .into_bytes(),
    )?;
    let test_rows: Vec<Json> = c.atomics.iter().map(|a| atomic_ref_json(a, "")).collect();
    emit(
        "atomics/index.html".into(),
        render(
            "atomics_index.html",
            r.ctx("../", context! {tests => test_rows}),
        )?
        .into_bytes(),
    )?;
    let levels: BTreeSet<&str> = c.rules.iter().filter_map(|x| x.level.as_deref()).collect();
    emit(
        "index.html".into(),
        render("index.html", r.ctx("", context! {levels => levels}))?.into_bytes(),
    )?;
    emit("assets/search-index.js".into(), search_index_js(p)?)?;
    emit(
        "assets/site.css".into(),
        include_bytes!("../assets/site.css").to_vec(),
    )?;
    emit(
        "assets/site.js".into(),
        include_bytes!("../assets/site.js").to_vec(),
    )?;
    emit(
        "index.json".into(),
        serde_json::to_vec(&CatalogExport::new(p))?,
    )?;
    emit(
        "navigator-layer.json".into(),
        serde_json::to_vec_pretty(&sigil_catalog::navigator::layer(
            c,
            "sigil catalog coverage",
        ))?,
    )?;
    Ok(())
}
