//! End-to-end tests in a real browser: headless Chromium driven through `chromedriver`
//! (WebDriver over HTTP on loopback, spoken by the small client below), shared by the tests
//! of the pages sigil writes (the catalog site, the hunt report).
//!
//! [`browser`] finds Chromium and chromedriver; a test that needs them skips where they
//! are absent, except under `CI=true`, where `.ci/run` installs them and their absence is
//! a failure. [`Driver::start`] opens a session; its methods panic with the WebDriver
//! error, which is what a test wants.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value as Json, json};

fn find(names: &[&str]) -> Option<PathBuf> {
    names.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// Chromium and chromedriver, when both are installed. Under `CI=true` their absence
/// panics: CI installs them, so a test must not skip there.
pub fn browser() -> Option<(PathBuf, PathBuf)> {
    let found = find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]).zip(find(&[
        "/usr/bin/chromedriver",
        "/usr/lib/chromium/chromedriver",
    ]));
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium and chromedriver are missing under CI (.ci/run installs them)"
        );
        println!("skipped: chromium not found");
    }
    found
}

/// A WebDriver session on a chromedriver child process.
#[derive(Debug)]
pub struct Driver {
    addr: SocketAddr,
    session: String,
    child: Child,
}

impl Driver {
    /// Starts chromedriver and a headless Chromium session with the profile folder
    /// `profile`.
    pub fn start(chromedriver: &Path, chromium: &Path, profile: &Path) -> Self {
        Self::start_with(chromedriver, chromium, profile, false)
    }

    /// [`Driver::start`], keeping Chromium's performance log (every network request, for
    /// [`Driver::requests`]) when `log_requests`.
    pub fn start_with(
        chromedriver: &Path,
        chromium: &Path,
        profile: &Path,
        log_requests: bool,
    ) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut d = Driver {
            addr,
            session: String::new(),
            child,
        };
        let mut always = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1280,1000",
                         format!("--user-data-dir={}", profile.display())],
            }
        });
        if log_requests {
            always["goog:loggingPrefs"] = json!({"performance": "ALL"});
        }
        let caps = json!({"capabilities": {"alwaysMatch": always}});
        let v = d.call("POST", "/session", Some(&caps));
        d.session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        d
    }

    /// One WebDriver command (HTTP/1.1, one connection each).
    pub fn call(&self, method: &str, path: &str, body: Option<&Json>) -> Json {
        let body = body.map(Json::to_string).unwrap_or_default();
        let mut s = TcpStream::connect(self.addr).expect("connect to chromedriver");
        s.set_read_timeout(Some(Duration::from_mins(1))).ok();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        // Read the head, then exactly Content-Length bytes: chromedriver keeps the
        // connection open.
        let mut resp = Vec::new();
        let mut buf = vec![0u8; 16384];
        let head_end = loop {
            let n = s.read(&mut buf).expect("read");
            assert!(n > 0, "chromedriver closed the connection");
            resp.extend_from_slice(&buf[..n]);
            if let Some(i) = resp.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head = String::from_utf8_lossy(&resp[..head_end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("chromedriver sends Content-Length");
        while resp.len() < head_end + len {
            let n = s.read(&mut buf).expect("read");
            assert!(n > 0, "short answer");
            resp.extend_from_slice(&buf[..n]);
        }
        let payload = &resp[head_end..head_end + len];
        serde_json::from_slice(payload).unwrap_or_else(|e| {
            panic!(
                "bad WebDriver answer ({e}): {}",
                String::from_utf8_lossy(payload)
            )
        })
    }

    /// A command of the session; panics with the WebDriver error.
    pub fn cmd(&self, method: &str, path: &str, body: Option<&Json>) -> Json {
        let v = self.call(method, &format!("/session/{}{path}", self.session), body);
        assert!(
            v["value"].get("error").is_none(),
            "{method} {path}: {}",
            v["value"]
        );
        v["value"].clone()
    }

    /// Opens `url`.
    pub fn go(&self, url: &str) {
        self.cmd("POST", "/url", Some(&json!({"url": url})));
    }

    /// The element of a CSS selector.
    pub fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(&json!({"using": "css selector", "value": css})),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Json::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    /// The element of a CSS selector, once it appears (within 15 seconds).
    pub fn wait_for(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let v = self.call(
                "POST",
                &format!("/session/{}/element", self.session),
                Some(&json!({"using": "css selector", "value": css})),
            );
            if v["value"].get("error").is_none() {
                return self.find(css);
            }
            assert!(Instant::now() < deadline, "{css} never appeared");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// An element's visible text.
    pub fn text(&self, el: &str) -> String {
        self.cmd("GET", &format!("/element/{el}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Whether an element is shown.
    pub fn displayed(&self, el: &str) -> bool {
        self.cmd("GET", &format!("/element/{el}/displayed"), None)
            .as_bool()
            .unwrap_or(false)
    }

    /// Clicks an element.
    pub fn click(&self, el: &str) {
        self.cmd("POST", &format!("/element/{el}/click"), Some(&json!({})));
    }

    /// Types into an element.
    pub fn type_text(&self, el: &str, text: &str) {
        self.cmd(
            "POST",
            &format!("/element/{el}/value"),
            Some(&json!({"text": text})),
        );
    }

    /// The page's title.
    pub fn title(&self) -> String {
        self.cmd("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub fn execute(&self, script: &str) -> Json {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(&json!({"script": script, "args": []})),
        )
    }

    /// Every network request since the last call, as `(url, document)`: the URL asked
    /// for and the URL of the document that asked (for a navigation, the page itself);
    /// the session must have been started with `log_requests`.
    pub fn requests(&self) -> Vec<(String, String)> {
        let log = self.cmd("POST", "/se/log", Some(&json!({"type": "performance"})));
        log.as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| {
                let message: Json = serde_json::from_str(entry["message"].as_str()?).ok()?;
                let message = &message["message"];
                if message["method"] != "Network.requestWillBeSent" {
                    return None;
                }
                let params = &message["params"];
                Some((
                    params["request"]["url"].as_str()?.to_string(),
                    params["documentURL"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                ))
            })
            .collect()
    }

    /// Saves a screenshot of the window as PNG.
    pub fn screenshot(&self, path: &Path) {
        let b64 = self.cmd("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .expect("PNG in base64");
        assert!(png.starts_with(b"\x89PNG"));
        std::fs::write(path, png).expect("screenshot written");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
