//! The HTTP API and the static site, in process: search ranking, lookups, conversion and
//! checks, and every kind of bad input (malformed JSON, huge bodies, traversal).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use serde_json::Value as Json;
use sigil_site::server::{MAX_BODY, router};
use tower::ServiceExt as _;

async fn send(req: Request<Body>) -> (StatusCode, String) {
    let app = router(common::state());
    let resp = app.oneshot(req).await.expect("the router answers");
    let status = resp.status();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .expect("body reads")
        .to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn get(uri: &str) -> (StatusCode, String) {
    send(Request::get(uri).body(Body::empty()).expect("request")).await
}

async fn post_json(uri: &str, body: impl Into<Body>) -> (StatusCode, String) {
    send(
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.into())
            .expect("request"),
    )
    .await
}

fn json(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test]
async fn healthz() {
    let (status, body) = get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let v = json(&body);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["rules"], 8);
}

#[tokio::test]
async fn search_ranks_title_matches_first_and_filters() {
    let (status, body) = get("/api/rules?q=wmic").await;
    assert_eq!(status, StatusCode::OK);
    let v = json(&body);
    let titles: Vec<&str> = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["title"].as_str())
        .collect();
    assert!(!titles.is_empty());
    assert!(
        titles[0].to_lowercase().contains("wmic"),
        "a title with the word ranks first: {titles:?}"
    );
    let (_, body) = get("/api/rules?q=wmi&source=elastic").await;
    let v = json(&body);
    assert!(v["total"].as_u64().expect("total") >= 1);
    for r in v["results"].as_array().expect("results") {
        assert_eq!(r["language"], "elastic");
    }
    let (_, body) = get("/api/rules?technique=t1047&level=high").await;
    let v = json(&body);
    assert!(v["total"].as_u64().expect("total") >= 1);
    for r in v["results"].as_array().expect("results") {
        assert_eq!(r["level"], "high");
    }
    let (_, body) = get("/api/rules?q=nothingmatchesthisword").await;
    assert_eq!(json(&body)["total"], 0);
    // Query syntax errors are forgiven, never a 500.
    let (status, _) = get("/api/rules?q=%22unbalanced%20(%5B").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bad_query_parameters_are_400() {
    let (status, body) = get("/api/rules?page=minus-one").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json(&body)["error"].is_string());
}

#[tokio::test]
async fn rule_and_technique_lookups() {
    let (status, body) = get("/api/rules/3c8a5f2e-7d41-4b6a-9e0f-52a1c7d9b810").await;
    assert_eq!(status, StatusCode::OK);
    let v = json(&body);
    assert_eq!(v["rule"]["analysis"]["stages"][2]["name"], "not filter");
    assert_eq!(v["conversions"][0]["target"], "splunk");
    let (status, body) = get("/api/rules/no-such-rule").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        json(&body)["error"]
            .as_str()
            .expect("message")
            .contains("no-such-rule")
    );
    let (status, body) = get("/api/techniques/t1047").await;
    assert_eq!(status, StatusCode::OK);
    let v = json(&body);
    assert_eq!(v["technique"]["id"], "T1047");
    assert!(v["rules"].as_array().expect("rules").len() >= 3);
    let (status, _) = get("/api/techniques/T9999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn convert_and_check() {
    let rule = "title: t\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    Image|endswith: '\\\\cmd.exe'\n  condition: sel\n";
    let body = serde_json::json!({ "rule": rule }).to_string();
    let (status, out) = post_json("/api/convert", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let v = json(&out);
    let convs = v["rules"][0]["conversions"]
        .as_array()
        .expect("conversions");
    let targets: Vec<&str> = convs.iter().filter_map(|c| c["target"].as_str()).collect();
    assert_eq!(targets, ["splunk", "lucene", "eql", "kusto"]);
    assert!(
        convs[0]["queries"][0]
            .as_str()
            .expect("query")
            .contains("cmd.exe")
    );

    let (status, out) = post_json("/api/check", body).await;
    assert_eq!(status, StatusCode::OK);
    let v = json(&out);
    assert_eq!(v["errors"], 0);
    assert!(
        v["warnings"].as_u64().expect("warnings") >= 1,
        "no id: {out}"
    );

    // A broken rule: conversion refuses with diagnostics, the check reports them.
    let broken =
        serde_json::json!({"rule": "title: x\ndetection:\n  condition: nope and\n"}).to_string();
    let (status, out) = post_json("/api/convert", broken.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json(&out)["diagnostics"].as_array().is_some());
    let (status, out) = post_json("/api/check", broken).await;
    assert_eq!(status, StatusCode::OK);
    assert!(json(&out)["errors"].as_u64().expect("errors") >= 1);
}

#[tokio::test]
async fn malformed_json_is_400_with_a_message() {
    for body in ["{bad", "", "[1,2]", "{\"rule\": 5}", "\u{0}"] {
        for uri in ["/api/convert", "/api/check"] {
            let (status, out) = post_json(uri, body.to_string()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri} {body:?}: {out}");
            assert!(json(&out)["error"].is_string());
        }
    }
    // Not UTF-8, as plain text.
    let (status, _) = send(
        Request::post("/api/check")
            .body(Body::from(vec![0xff, 0xfe, 0x00]))
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn huge_body_is_413() {
    let big = vec![b'a'; MAX_BODY + 1];
    let (status, _) = post_json("/api/convert", big.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = send(
        Request::post("/api/check")
            .body(Body::from(big))
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn path_traversal_is_refused() {
    for uri in [
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/rules/..%2f..%2fCargo.toml",
        "/..%5c..%5cetc%5cpasswd",
        "/assets/%00site.js",
        "//etc/passwd",
        "/rules/../index.html",
    ] {
        let (status, body) = get(uri).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
            "{uri}: {status}"
        );
        assert!(!body.contains("root:"), "{uri}");
    }
    let (status, _) = get("/Cargo.toml").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn site_pages_are_served_with_a_strict_policy() {
    let app = router(common::state());
    let resp = app
        .oneshot(Request::get("/").body(Body::empty()).expect("request"))
        .await
        .expect("answer");
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers();
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    assert!(
        h[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii")
            .contains("default-src 'none'")
    );
    let (status, body) = get("/assets/search-index.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with("window.SIGIL_INDEX = ["));
    let (status, _) = send(
        Request::delete("/index.html")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn hostile_rule_is_escaped_everywhere() {
    let (status, page) = get("/rules/0b7f3c2e-5550-4d1a-9c3e-000000000001.html").await;
    assert_eq!(status, StatusCode::OK);
    // minijinja also escapes `/` (as `&#x2f;`).
    assert!(page.contains("&lt;script&gt;alert(1)&lt;"));
    for raw in [
        "<script>alert",
        "<img src=x",
        "<b>mallory",
        "<iframe>",
        "</pre><script>",
    ] {
        assert!(!page.contains(raw), "raw `{raw}` in the page");
    }
    // A `javascript:` reference is text, never a link.
    assert!(!page.contains("href=\"javascript:"));
    let (_, index) = get("/assets/search-index.js").await;
    assert!(!index.contains("<script>"), "the search index escapes `<`");
    let (_, md) = get("/markdown/rules/0b7f3c2e-5550-4d1a-9c3e-000000000001.md").await;
    assert!(md.contains("| Title                | &lt;script&gt;alert(1)&lt;/script&gt; |"));
    assert!(
        md.contains("\\| and \\| pipes"),
        "pipes cannot break the table"
    );
}

#[tokio::test]
async fn a_repeated_search_gets_the_same_answer() {
    // One server for every request, so the second answer of each query is the kept one.
    let app = router(common::state());
    let ask = |uri: &'static str| {
        let app = app.clone();
        async move {
            let resp = app
                .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
                .await
                .expect("the router answers");
            let status = resp.status();
            let kind = resp.headers().get(header::CONTENT_TYPE).cloned();
            let body = resp.into_body().collect().await.expect("body").to_bytes();
            (status, kind, body)
        }
    };
    for uri in [
        "/api/rules?q=wmic",
        "/api/rules?q=wmi&source=elastic",
        "/api/rules?technique=t1047&level=high",
        "/api/rules?q=nothingmatchesthisword",
    ] {
        let first = ask(uri).await;
        let again = ask(uri).await;
        assert_eq!(first.0, StatusCode::OK, "{uri}");
        assert_eq!(first, again, "{uri}");
        assert_eq!(
            first.1.as_ref().and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        assert!(json(&String::from_utf8_lossy(&first.2))["total"].is_u64());
    }
    // Different queries, different answers.
    assert_ne!(
        ask("/api/rules?q=wmic").await.2,
        ask("/api/rules?q=nothingmatchesthisword").await.2
    );
}
