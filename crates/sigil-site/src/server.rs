//! `sigil serve`: the published site, live, plus a JSON API.
//!
//! | route | answer |
//! |---|---|
//! | `GET /healthz` | `{"status":"ok","rules":N}` |
//! | `GET /api/rules?q=&technique=&level=&source=&page=` | ranked search ([`crate::search`]) |
//! | `GET /api/rules/{id}` | a rule by id or catalog key, with its analysis and conversions |
//! | `GET /api/techniques/{id}` | a technique with its rules and tests |
//! | `POST /api/convert` | a pasted rule → queries for every target |
//! | `POST /api/check` | a pasted rule → diagnostics |
//! | `GET /*` | the static site, from memory |
//!
//! Everything a client sends is untrusted: bodies are limited to [`MAX_BODY`] (413 past
//! it), malformed input gets 400 with a JSON message, unknown ids 404, and pages come from
//! the in-memory [`Site`] by exact path, so no request can reach the file system.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use sigil_core::{Diagnostic, Rule, Severity};

use crate::convert::Converter;
use crate::error::SiteError;
use crate::paths::is_safe_relative;
use crate::publication::Publication;
use crate::render::page;
use crate::search::{SearchIndex, SearchQuery};
use crate::site::{Site, SiteOptions};

/// The largest request body accepted (1 MiB): far above any rule, far below harm.
pub const MAX_BODY: usize = 1024 * 1024;

/// The security policy of every page: nothing loads from anywhere but the site itself.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// How many distinct searches [`AppState`] keeps the answers of; past it, the kept
/// answers are dropped and it starts again (searches are cheap to redo, memory is not
/// free, and the queries people send repeat).
pub const SEARCH_CACHE: usize = 4096;

/// A search request as the server received it (the cache key).
type SearchKey = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    usize,
);

/// What the server holds: the publication, its rendered site, the search index and the
/// answers to the searches already made (the catalog does not change while it serves, so
/// an answer stays true).
#[derive(Debug)]
pub struct AppState {
    publication: Publication,
    site: Site,
    search: SearchIndex,
    converter: Converter,
    searches: Mutex<HashMap<SearchKey, Bytes>>,
}

impl AppState {
    /// Renders the site (HTML and Markdown) and indexes the rules.
    pub fn new(publication: Publication) -> Result<Self, SiteError> {
        let site = Site::build(&publication, SiteOptions::default())?;
        let search = SearchIndex::build(&publication)?;
        Ok(Self {
            publication,
            site,
            search,
            converter: Converter::new(),
            searches: Mutex::new(HashMap::new()),
        })
    }

    /// The rendered site.
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// The publication.
    pub fn publication(&self) -> &Publication {
        &self.publication
    }
}

/// The application: routes, body limit, fallbacks.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/rules", get(search_rules))
        .route("/api/rules/{id}", get(get_rule))
        .route("/api/techniques/{id}", get(get_technique))
        .route("/api/convert", post(convert))
        .route("/api/check", post(check))
        .fallback(static_file)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), SiteError> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(SiteError::Server)
}

fn json_response(status: StatusCode, body: &Json) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    resp.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    json_response(status, &json!({"error": message.to_string()}))
}

async fn healthz(State(s): State<Arc<AppState>>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"status": "ok", "rules": s.publication.catalog.rules.len()}),
    )
}

/// Query parameters of `GET /api/rules`.
#[derive(Debug, Deserialize)]
struct SearchParams {
    q: Option<String>,
    technique: Option<String>,
    level: Option<String>,
    source: Option<String>,
    page: Option<usize>,
}

async fn search_rules(
    State(s): State<Arc<AppState>>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Response {
    let Query(p) = match params {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let key: SearchKey = (
        p.q.unwrap_or_default(),
        p.technique,
        p.level,
        p.source,
        p.page.unwrap_or(0),
    );
    let cached = s
        .searches
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
        .cloned();
    if let Some(body) = cached {
        return json_bytes(body);
    }
    let query = SearchQuery {
        q: key.0.clone(),
        technique: key.1.clone(),
        level: key.2.clone(),
        source: key.3.clone(),
        page: key.4,
    };
    // Searching is CPU work; keep it off the reactor threads.
    let state = Arc::clone(&s);
    let work = move || -> Result<Bytes, String> {
        let results = state.search.search(&query).map_err(|e| e.to_string())?;
        let body = Bytes::from(serde_json::to_vec(&results).map_err(|e| e.to_string())?);
        let mut searches = state
            .searches
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if searches.len() >= SEARCH_CACHE {
            searches.clear();
        }
        searches.insert(key, body.clone());
        Ok(body)
    };
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(body)) => json_bytes(body),
        Ok(Err(e)) => error(StatusCode::SERVICE_UNAVAILABLE, e),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

/// A 200 answer with a JSON body already serialised.
fn json_bytes(body: Bytes) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

async fn get_rule(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let p = &s.publication;
    let Some(i) = p.rule_index(&id) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no rule with id or key `{id}`"),
        );
    };
    let rule = &p.catalog.rules[i];
    json_response(
        StatusCode::OK,
        &json!({
            "rule": rule,
            "conversions": p.conversions[i],
            "page": page::rule(&rule.key),
        }),
    )
}

async fn get_technique(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let p = &s.publication;
    let Some(t) = p.technique(&id) else {
        return error(StatusCode::NOT_FOUND, format!("no technique `{id}`"));
    };
    let rules: Vec<Json> = t
        .rules
        .iter()
        .filter_map(|k| p.rule(k))
        .map(|r| json!(r.to_ref()))
        .collect();
    let tests: Vec<Json> = t
        .tests
        .iter()
        .filter_map(|g| p.atomic_index(g))
        .map(|i| {
            let a = &p.catalog.atomics[i];
            json!({"guid": a.guid, "name": a.name, "executor": a.executor, "fired": a.fired})
        })
        .collect();
    json_response(
        StatusCode::OK,
        &json!({"technique": t, "rules": rules, "tests": tests, "page": page::technique(&t.id)}),
    )
}

/// The rule text of a POST body: `{"rule": "..."}` when the body is JSON, else the body
/// itself as UTF-8 text.
fn rule_text(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<String, Box<Response>> {
    let body = body.map_err(|e| Box::new(error(e.status(), e.body_text())))?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if is_json {
        let v: Json = serde_json::from_slice(&body).map_err(|e| {
            Box::new(error(
                StatusCode::BAD_REQUEST,
                format!("malformed JSON: {e}"),
            ))
        })?;
        match v.get("rule").and_then(Json::as_str) {
            Some(t) => Ok(t.to_string()),
            None => Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "expected a JSON object with a string field `rule`",
            ))),
        }
    } else {
        String::from_utf8(body.to_vec())
            .map_err(|_| Box::new(error(StatusCode::BAD_REQUEST, "the body is not UTF-8 text")))
    }
}

fn diagnostics_json(ds: &[Diagnostic]) -> Vec<Json> {
    ds.iter()
        .map(|d| {
            json!({
                "severity": d.severity.to_string(), "code": d.code, "message": d.message,
                "line": d.span.line, "column": d.span.column,
            })
        })
        .collect()
}

/// Elastic TOML rules have a `[rule]` table; anything else is read as Sigma.
fn looks_like_toml(text: &str) -> bool {
    text.lines().any(|l| l.trim() == "[rule]")
}

fn parse_rules(text: &str) -> (Vec<Rule>, Vec<Diagnostic>) {
    if looks_like_toml(text) {
        let f = sigil_elastic::parse_rule_toml(text);
        // Step rules of a sequence are internal; the pasted rule is the first.
        (f.rules.into_iter().take(1).collect(), f.diagnostics)
    } else {
        let mut f = sigil_sigma::parse_str(text);
        sigil_sigma::lint::check_file(&mut f);
        (f.rules, f.diagnostics)
    }
}

async fn convert(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let text = match rule_text(&headers, body) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let state = Arc::clone(&s);
    let work = move || {
        let (rules, diagnostics) = parse_rules(&text);
        let errors = diagnostics.iter().any(|d| d.severity == Severity::Error);
        if rules.is_empty() || errors {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({
                    "error": if rules.is_empty() { "no rule could be read" } else { "the rule has errors" },
                    "diagnostics": diagnostics_json(&diagnostics),
                }),
            );
        }
        let out: Vec<Json> = rules
            .iter()
            .map(|r| {
                json!({
                    "id": r.id, "title": r.title, "language": r.language.name(),
                    "conversions": state.converter.convert(r),
                })
            })
            .collect();
        json_response(
            StatusCode::OK,
            &json!({"rules": out, "diagnostics": diagnostics_json(&diagnostics)}),
        )
    };
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| error(StatusCode::SERVICE_UNAVAILABLE, e))
}

async fn check(headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    let text = match rule_text(&headers, body) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let work = move || {
        let (rules, diagnostics) = parse_rules(&text);
        let count = |sev| diagnostics.iter().filter(|d| d.severity == sev).count();
        json_response(
            StatusCode::OK,
            &json!({
                "rules": rules.len(),
                "errors": count(Severity::Error),
                "warnings": count(Severity::Warning),
                "diagnostics": diagnostics_json(&diagnostics),
            }),
        )
    };
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| error(StatusCode::SERVICE_UNAVAILABLE, e))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, e)| e) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("md") => "text/markdown; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn static_file(State(s): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return error(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
    }
    let Ok(decoded) = percent_encoding::percent_decode_str(uri.path()).decode_utf8() else {
        return error(StatusCode::BAD_REQUEST, "the path is not UTF-8");
    };
    let mut path = decoded.trim_start_matches('/').to_string();
    if path.is_empty() || path.ends_with('/') {
        path.push_str("index.html");
    }
    if !is_safe_relative(&path) {
        return error(StatusCode::BAD_REQUEST, "bad path");
    }
    let Some(bytes) = s.site.get_shared(&path) else {
        return error(StatusCode::NOT_FOUND, format!("no page `{path}`"));
    };
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&path)),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}
