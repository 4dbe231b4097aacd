//! End to end in a real browser: headless Chromium driven through `chromedriver`
//! (WebDriver over HTTP on loopback, spoken by a small client below). The fixture catalog
//! is served on 127.0.0.1 with a random port; the test opens the index, searches "wmi",
//! opens a rule page, switches to the Splunk tab and checks what is shown. Screenshots go
//! to `target/site-e2e/`. Skipped (with a message) where Chromium is not installed.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value as Json, json};
use sigil_site::server::{AppState, router, serve};

fn find(names: &[&str]) -> Option<PathBuf> {
    names.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// A WebDriver session on a chromedriver child process.
struct Driver {
    addr: SocketAddr,
    session: String,
    child: Child,
}

impl Driver {
    fn start(chromedriver: &Path, chromium: &Path, profile: &Path) -> Self {
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
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1280,1000",
                         format!("--user-data-dir={}", profile.display())],
            }
        }}});
        let v = d.call("POST", "/session", Some(&caps));
        d.session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        d
    }

    /// One WebDriver command (HTTP/1.1, one connection each).
    fn call(&self, method: &str, path: &str, body: Option<&Json>) -> Json {
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

    fn cmd(&self, method: &str, path: &str, body: Option<&Json>) -> Json {
        let v = self.call(method, &format!("/session/{}{path}", self.session), body);
        assert!(
            v["value"].get("error").is_none(),
            "{method} {path}: {}",
            v["value"]
        );
        v["value"].clone()
    }

    fn go(&self, url: &str) {
        self.cmd("POST", "/url", Some(&json!({"url": url})));
    }

    fn find(&self, css: &str) -> String {
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

    fn wait_for(&self, css: &str) -> String {
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

    fn text(&self, el: &str) -> String {
        self.cmd("GET", &format!("/element/{el}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn displayed(&self, el: &str) -> bool {
        self.cmd("GET", &format!("/element/{el}/displayed"), None)
            .as_bool()
            .unwrap_or(false)
    }

    fn click(&self, el: &str) {
        self.cmd("POST", &format!("/element/{el}/click"), Some(&json!({})));
    }

    fn type_text(&self, el: &str, text: &str) {
        self.cmd(
            "POST",
            &format!("/element/{el}/value"),
            Some(&json!({"text": text})),
        );
    }

    fn title(&self) -> String {
        self.cmd("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn screenshot(&self, path: &Path) {
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

#[test]
fn search_open_rule_and_switch_to_splunk_tab() {
    let (Some(chromium), Some(chromedriver)) = (
        find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]),
        find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]),
    ) else {
        println!("skipped: chromium not found");
        return;
    };
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/site-e2e");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let profile = std::env::temp_dir().join(format!("sigil-e2e-profile-{}", std::process::id()));

    // The server, on a random loopback port, in its own runtime thread.
    let state = common::state();
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr"))
                .expect("send addr");
            let app = router(Arc::clone(&state) as Arc<AppState>);
            serve(listener, app, async {
                let _ = stop_rx.await;
            })
            .await
            .expect("serve");
        });
    });
    let addr = rx.recv().expect("server address");
    let base = format!("http://{addr}");

    {
        let d = Driver::start(&chromedriver, &chromium, &profile);
        d.go(&format!("{base}/index.html"));
        assert!(d.title().contains("sigil catalog"), "{}", d.title());
        let search = d.wait_for("#search");
        d.type_text(&search, "wmi");
        let first = d.wait_for("#results li a.result");
        let count = d.text(&d.find("#search-count"));
        assert!(count.contains("rule"), "{count}");
        let results = d.text(&d.find("#results"));
        assert!(results.contains("WMI"), "{results}");
        d.screenshot(&shots.join("01-search-wmi.png"));

        // Open the image-load rule from the results (the first hit is any WMI rule; the
        // page checked below is the one with stages and exclusions).
        let first_title = d.text(&first);
        assert!(!first_title.is_empty());
        let link = d.wait_for("#results a[href$='3c8a5f2e-7d41-4b6a-9e0f-52a1c7d9b810.html']");
        d.click(&link);
        let h1 = d.wait_for("#rule-title");
        assert_eq!(
            d.text(&h1),
            "WMI Client Libraries Loaded by a Process Other Than the WMI Host"
        );
        let meta = d.text(&d.find("#metadata"));
        for row in [
            "ATT&CK Tactic",
            "ATT&CK Technique",
            "Data Needed",
            "Enrichment",
            "Trigger",
            "Severity Level",
            "False Positives",
            "Development Status",
            "References",
            "Author",
        ] {
            assert!(meta.contains(row), "metadata lacks {row}: {meta}");
        }
        let exclusions = d.text(&d.find("#exclusions"));
        assert!(exclusions.contains("\\wmiprvse.exe"), "{exclusions}");

        // Lucene is hidden until its tab is chosen; Splunk is the first tab.
        let lucene_panel = d.find("#conv-lucene");
        assert!(!d.displayed(&lucene_panel));
        d.click(&d.find("#tab-lucene"));
        assert!(d.displayed(&lucene_panel));
        let splunk_panel = d.find("#conv-splunk");
        assert!(!d.displayed(&splunk_panel));
        d.click(&d.find("#tab-splunk"));
        assert!(d.displayed(&splunk_panel));
        assert!(!d.displayed(&lucene_panel));
        let splunk = d.text(&splunk_panel);
        assert!(splunk.contains("EventID=7"), "{splunk}");
        assert!(splunk.contains("ImageLoaded"), "{splunk}");
        assert!(splunk.contains("Pipeline: sysmon"), "{splunk}");
        d.screenshot(&shots.join("02-rule-splunk-tab.png"));

        // The hostile rule's title is text on its page.
        d.go(&format!(
            "{base}/rules/0b7f3c2e-xss0-4d1a-9c3e-000000000001.html"
        ));
        let h1 = d.wait_for("#rule-title");
        assert_eq!(d.text(&h1), "<script>alert(1)</script>");
        d.screenshot(&shots.join("03-hostile-title.png"));
    }
    let _ = stop_tx.send(());
    server.join().expect("server thread");
    let _ = std::fs::remove_dir_all(&profile);
    println!("screenshots in {}", shots.display());
}
