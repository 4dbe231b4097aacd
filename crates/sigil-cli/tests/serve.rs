//! `sigil serve`: started on a free loopback port, it answers `/healthz` and a search,
//! then is stopped. Every wait is bounded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the server may take to load the fixture corpus and start listening.
const START_TIMEOUT: Duration = Duration::from_mins(2);
/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sigil-site/tests/fixtures/corpus")
}

/// The server process; killed when dropped, so a failing test leaves nothing running.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `sigil serve` on port 0 and reads the address it reports.
fn start() -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .args(["serve", "--addr", "127.0.0.1:0", "--corpus"])
        .arg(fixtures())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sigil serve starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("http://").nth(1) {
                let addr = rest.split('/').next().unwrap_or("").to_string();
                let _ = tx.send(addr);
            }
        }
    });
    let addr = match rx.recv_timeout(START_TIMEOUT) {
        Ok(a) => a,
        Err(e) => {
            let _ = child.kill();
            panic!("sigil serve did not report its address: {e}");
        }
    };
    let addr: SocketAddr = addr.parse().expect("a socket address");
    assert!(addr.ip().is_loopback(), "{addr}");
    assert_ne!(addr.port(), 0);
    Server { child, addr }
}

/// One HTTP/1.1 GET; returns the status code and the body.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT).expect("connects");
    s.set_read_timeout(Some(REQUEST_TIMEOUT)).expect("timeout");
    s.set_write_timeout(Some(REQUEST_TIMEOUT)).expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request written");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("response read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("headers end");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status code");
    // Bodies of unknown length come chunked; the JSON tested here is found either way.
    (status, body.to_string())
}

/// The JSON of a body, chunked or not.
fn json(body: &str) -> serde_json::Value {
    let start = body.find('{').expect("a JSON object");
    let end = body.rfind('}').expect("a JSON object");
    serde_json::from_str(&body[start..=end]).expect("JSON")
}

#[test]
fn serve_answers_healthz_and_search_then_stops() {
    let server = start();
    let (status, body) = get(server.addr, "/healthz");
    assert_eq!(status, 200, "{body}");
    let health = json(&body);
    assert_eq!(health["status"], "ok");
    assert!(health["rules"].as_u64() > Some(3), "{health}");

    let (status, body) = get(server.addr, "/api/rules?q=wmi");
    assert_eq!(status, 200, "{body}");
    let results = json(&body);
    let hits = results["results"].as_array().expect("results");
    assert!(!hits.is_empty(), "{results}");
    assert!(
        hits.iter()
            .all(|h| h["page"].as_str().is_some_and(|p| p.starts_with("rules/")))
    );

    // The page of the first hit is served, and bad input is a 4xx, not a 5xx.
    let page = hits[0]["page"].as_str().unwrap_or_default();
    let (status, html) = get(server.addr, &format!("/{page}"));
    assert_eq!(status, 200);
    assert!(html.contains("id=\"rule-title\""));
    let (status, _) = get(server.addr, "/api/rules?page=notanumber");
    assert_eq!(status, 400);
    let (status, _) = get(server.addr, "/api/rules/no-such-rule");
    assert_eq!(status, 404);
    drop(server);
}

#[test]
fn serve_with_a_missing_corpus_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--corpus",
            "no/such/corpus/folder",
        ])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no/such/corpus/folder"), "{err}");
}
