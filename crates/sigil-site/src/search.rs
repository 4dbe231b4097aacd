//! Ranked full-text search over the rules with `tantivy`, in memory, built once when the
//! server starts. Titles weigh most, then ids, techniques and tags, then descriptions,
//! indicator values and the source. Filters (technique, level, language) are exact terms.

use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, STORED, STRING, Schema, TEXT, Value as _};
use tantivy::{Index, IndexReader, TantivyDocument, Term, doc};

use crate::error::SiteError;
use crate::publication::Publication;

/// Results per page of [`SearchIndex::search`].
pub const PAGE_SIZE: usize = 20;
/// The last page a query may ask for: deep pages cost more and nobody reads them.
pub const MAX_PAGE: usize = 500;

/// A search request: free text plus exact filters.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Free text (tantivy query syntax accepted; errors are forgiven, never fatal).
    pub q: String,
    /// A technique id (`T1047`); matches the technique and its sub-techniques.
    pub technique: Option<String>,
    /// A level (`high`).
    pub level: Option<String>,
    /// A language (`sigma`, `elastic`).
    pub source: Option<String>,
    /// Zero-based page.
    pub page: usize,
}

/// One hit.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// Catalog key.
    pub key: String,
    /// Rule id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Language.
    pub language: String,
    /// Level.
    pub level: String,
    /// Relevance (higher first).
    pub score: f32,
    /// The rule's HTML page, relative to the site root.
    pub page: String,
}

/// A page of results.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// How many rules match.
    pub total: usize,
    /// This page (zero-based).
    pub page: usize,
    /// Results per page.
    pub per_page: usize,
    /// The hits, best first.
    pub results: Vec<Hit>,
}

/// The index and its fields.
pub struct SearchIndex {
    reader: IndexReader,
    parser: QueryParser,
    f: Fields,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    id: Field,
    title: Field,
    language: Field,
    level: Field,
    technique: Field,
    idtext: Field,
    tags: Field,
    description: Field,
    body: Field,
}

impl SearchIndex {
    /// Indexes every rule of the publication.
    pub fn build(p: &Publication) -> Result<Self, SiteError> {
        let mut sb = Schema::builder();
        let f = Fields {
            key: sb.add_text_field("key", STRING | STORED),
            id: sb.add_text_field("id", STORED),
            title: sb.add_text_field("title", TEXT | STORED),
            language: sb.add_text_field("language", STRING | STORED),
            level: sb.add_text_field("level", STRING | STORED),
            technique: sb.add_text_field("technique", STRING),
            idtext: sb.add_text_field("idtext", TEXT),
            tags: sb.add_text_field("tags", TEXT),
            description: sb.add_text_field("description", TEXT),
            body: sb.add_text_field("body", TEXT),
        };
        let index = Index::create_in_ram(sb.build());
        // One thread and a small arena: the index is small and the machine shared.
        let mut writer = index.writer_with_num_threads(1, 50_000_000)?;
        for r in &p.catalog.rules {
            let mut d = doc!(
                f.key => r.key.clone(),
                f.id => r.display_id().to_string(),
                f.title => r.title.clone(),
                f.language => r.language.name().to_string(),
                f.level => r.level.clone().unwrap_or_default().to_ascii_lowercase(),
                f.idtext => r.display_id().to_string(),
                f.tags => r.tags.join(" "),
                f.description => r.description.clone().unwrap_or_default(),
            );
            let mut body = String::new();
            for a in &r.analysis.attack {
                if let Some(t) = &a.technique {
                    let t = t.to_ascii_uppercase();
                    // Sub-techniques also match their parent's filter.
                    if let Some((parent, _)) = t.split_once('.') {
                        d.add_text(f.technique, parent);
                    }
                    d.add_text(f.technique, &t);
                    d.add_text(f.idtext, &t);
                }
                for s in [&a.name, &a.tactic].into_iter().flatten() {
                    body.push_str(s);
                    body.push(' ');
                }
            }
            for i in &r.analysis.indicators {
                body.push_str(&i.value);
                body.push(' ');
            }
            body.push_str(&r.source);
            d.add_text(f.body, &body);
            writer.add_document(d)?;
        }
        writer.commit()?;
        let reader = index.reader()?;
        let mut parser = QueryParser::for_index(
            &index,
            vec![f.title, f.idtext, f.tags, f.description, f.body],
        );
        parser.set_field_boost(f.title, 5.0);
        parser.set_field_boost(f.idtext, 4.0);
        parser.set_field_boost(f.tags, 2.0);
        parser.set_field_boost(f.description, 1.5);
        parser.set_field_boost(f.body, 0.5);
        // Every word must match somewhere, as users expect from a search box.
        parser.set_conjunction_by_default();
        Ok(Self { reader, parser, f })
    }

    /// Runs a query; never fails on the user's text (unparsable parts are dropped).
    pub fn search(&self, q: &SearchQuery) -> Result<SearchResults, SiteError> {
        let f = self.f;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let text = q.q.trim();
        if text.is_empty() {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        } else {
            let (parsed, _errors) = self.parser.parse_query_lenient(text);
            clauses.push((Occur::Must, parsed));
        }
        let mut filter = |field: Field, value: Option<&String>, upper: bool| {
            if let Some(v) = value.map(|v| v.trim()).filter(|v| !v.is_empty()) {
                let v = if upper {
                    v.to_ascii_uppercase()
                } else {
                    v.to_ascii_lowercase()
                };
                clauses.push((
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(field, &v),
                        IndexRecordOption::Basic,
                    )),
                ));
            }
        };
        filter(f.technique, q.technique.as_ref(), true);
        filter(f.level, q.level.as_ref(), false);
        filter(f.language, q.source.as_ref(), false);
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let page = q.page.min(MAX_PAGE);
        let (top, total) = searcher.search(
            &query,
            &(
                TopDocs::with_limit(PAGE_SIZE).and_offset(page * PAGE_SIZE),
                Count,
            ),
        )?;
        let mut results = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr)?;
            let text = |field: Field| {
                d.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let key = text(f.key);
            results.push(Hit {
                page: crate::render::page::rule(&key),
                key,
                id: text(f.id),
                title: text(f.title),
                language: text(f.language),
                level: text(f.level),
                score,
            });
        }
        Ok(SearchResults {
            total,
            page,
            per_page: PAGE_SIZE,
            results,
        })
    }
}
