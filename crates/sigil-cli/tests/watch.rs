//! `sigil watch`: the detections of a live run equal `sigil hunt`'s over the same events,
//! correlations included; bad records are counted and skipped; correlation windows
//! survive a restart through `--state`; specs that are not understood exit 2.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{shared_corpus, sigil};
use serde_json::Value;

const WMIC_BURST: &str = "0d8f2b4c-6a1e-4c3d-b5f7-9e1a3c5d7f02";

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// The event as a detection names it, without where it was read from (`hunt` names the
/// file, `watch` the input): for a correlation, its group, value and events.
fn without_source(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "source")
                .map(|(k, v)| (k.clone(), without_source(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_source).collect()),
        other => other.clone(),
    }
}

/// (rule, event) pairs of JSON lines, with how often each occurs; and the lines marked as
/// repeats.
fn pairs(jsonl: &str) -> (BTreeMap<(String, String), usize>, usize) {
    let mut out = BTreeMap::new();
    let mut repeats = 0;
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v.get("repeat") == Some(&Value::Bool(true)) {
            repeats += 1;
        }
        let rule = v["rule_id"]
            .as_str()
            .unwrap_or_else(|| v["rule_title"].as_str().unwrap_or_default())
            .to_string();
        let event = without_source(&v["event"]).to_string();
        *out.entry((rule, event)).or_default() += 1;
    }
    (out, repeats)
}

fn hunt(logs: &Path, rules: &Path, pipelines: &[&str]) -> String {
    let mut args = vec![
        "hunt".to_string(),
        logs.display().to_string(),
        "--rules".into(),
        rules.display().to_string(),
        "-f".into(),
        "jsonl".into(),
        "--no-progress".into(),
    ];
    for p in pipelines {
        args.extend(["-p".to_string(), (*p).to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = sigil(&args);
    assert!(matches!(code, Some(0 | 1)), "hunt failed: {err}");
    out
}

/// Runs `sigil watch` with `args`, `stdin` as its standard input: exit code, stdout, stderr.
fn watch_stdin(args: &[&str], stdin: &[u8]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .arg("watch")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("runs");
    writer.join().expect("writes");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The oracle's events, unpacked into `dir`.
fn oracle_events(dir: &Path) -> Option<PathBuf> {
    let gz = shared_corpus(&["sigma/rules/windows"])?.join("../oracle/events.jsonl.gz");
    if !gz.is_file() {
        println!("skipped: ../shared/oracle/events.jsonl.gz not found");
        return None;
    }
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&gz).expect("opens"))
        .read_to_end(&mut text)
        .expect("unpacks");
    let path = dir.join("events.jsonl");
    std::fs::write(&path, text).expect("writes");
    Some(path)
}

#[test]
fn stdin_gives_the_hunts_detections_over_the_oracle_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(events) = oracle_events(dir.path()) else {
        return;
    };
    let rules = shared_corpus(&["sigma/rules/windows"])
        .expect("corpus")
        .join("sigma/rules/windows");
    let pipelines = ["sysmon", "windows-logsources"];
    let (batch, _) = pairs(&hunt(&events, &rules, &pipelines));
    assert!(batch.len() > 100, "hunt found only {}", batch.len());
    let data = std::fs::read(&events).expect("reads");
    let rules_arg = rules.display().to_string();
    let (code, out, err) = watch_stdin(
        &[
            "--rules",
            &rules_arg,
            "-p",
            "sysmon",
            "-p",
            "windows-logsources",
            "--input",
            "-",
        ],
        &data,
    );
    assert_eq!(code, Some(0), "{err}");
    let (live, repeats) = pairs(&out);
    assert_eq!(repeats, 0);
    let missing: Vec<_> = batch
        .keys()
        .filter(|k| !live.contains_key(*k))
        .take(5)
        .collect();
    let extra: Vec<_> = live
        .keys()
        .filter(|k| !batch.contains_key(*k))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
    assert_eq!(live, batch);
    assert!(err.contains("8255 events"), "{err}");
}

#[test]
fn the_example_correlation_fires_as_in_hunt() {
    let logs = examples().join("logs/wmi-activity.jsonl");
    let rules = examples().join("rules");
    let (batch, _) = pairs(&hunt(&logs, &rules, &[]));
    assert!(
        batch.keys().any(|(rule, _)| rule == WMIC_BURST),
        "hunt fires the correlation: {batch:?}"
    );
    let rules_arg = rules.display().to_string();
    let (code, out, err) = watch_stdin(
        &["--rules", &rules_arg, "--input", "-"],
        &std::fs::read(&logs).expect("reads"),
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(pairs(&out).0, batch);
}

#[test]
fn bad_lines_are_counted_and_skipped() {
    let logs = std::fs::read_to_string(examples().join("logs/wmi-activity.jsonl")).expect("reads");
    let mut mixed = String::new();
    for (i, line) in logs.lines().enumerate() {
        mixed.push_str(line);
        mixed.push('\n');
        if i == 0 {
            mixed.push_str("{\"broken\": \n");
            mixed.push_str("[1, 2]\n");
        }
    }
    let rules = examples().join("rules").display().to_string();
    let (code, out, err) = watch_stdin(&["--rules", &rules, "--input", "-"], mixed.as_bytes());
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("2 bad records skipped"), "{err}");
    let (_, clean, _) = watch_stdin(&["--rules", &rules, "--input", "-"], logs.as_bytes());
    assert!(!clean.is_empty());
    assert_eq!(pairs(&out).0, pairs(&clean).0);
}

#[test]
fn a_correlation_window_survives_a_restart_with_its_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.db");
    let state_arg = state.display().to_string();
    let logs = std::fs::read_to_string(examples().join("logs/wmi-activity.jsonl")).expect("reads");
    let lines: Vec<&str> = logs.lines().collect();
    let rules = examples().join("rules").display().to_string();
    let args = ["--rules", &rules, "--input", "-", "--state", &state_arg];
    // The burst needs three WMIC events; the first run sees two.
    let first = lines[..2].join("\n") + "\n";
    let (code, out, err) = watch_stdin(&args, first.as_bytes());
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.contains(WMIC_BURST), "{out}");
    let rest = lines[2..].join("\n") + "\n";
    let (code, out, err) = watch_stdin(&args, rest.as_bytes());
    assert_eq!(code, Some(0), "{err}");
    let burst: Vec<Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["rule_id"] == WMIC_BURST)
        .collect();
    assert_eq!(burst.len(), 1, "{out}");
    assert_eq!(
        burst[0]["event"]["events"].as_array().map(Vec::len),
        Some(3)
    );
    // Without the state, the second part alone does not fire it.
    let (_, out, _) = watch_stdin(&["--rules", &rules, "--input", "-"], rest.as_bytes());
    assert!(!out.contains(WMIC_BURST), "{out}");
}

#[test]
fn specs_not_understood_exit_2_with_a_clear_message() {
    let rules = examples().join("rules").display().to_string();
    for (spec, says) in [
        ("kafka://broker:9092/events", "unknown input scheme `kafka`"),
        ("events.jsonl", "not an input"),
        ("nats://127.0.0.1:4222/events", "durable"),
    ] {
        let (code, _, err) = sigil(&["watch", "--rules", &rules, "--input", spec]);
        assert_eq!(code, Some(2), "{spec}: {err}");
        assert!(err.contains(says), "{spec}: {err}");
        assert!(err.contains(spec), "{spec}: {err}");
    }
    let (code, _, err) = sigil(&[
        "watch", "--rules", &rules, "--input", "-", "--output", "smtp://x",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("unknown output scheme `smtp`"), "{err}");
}

/// A `sigil watch` running in the background, its detections in a file, what it says in
/// another.
struct Watcher {
    child: std::process::Child,
    out: PathBuf,
    err: PathBuf,
}

impl Watcher {
    fn start(args: &[&str], out: &Path) -> Self {
        Self::start_with(args, out, Stdio::null())
    }

    /// Started with `stdin` as its standard input (`Stdio::piped()`: `child.stdin`).
    fn start_with(args: &[&str], out: &Path, stdin: Stdio) -> Self {
        let err = out.with_extension("stderr");
        // The file output first: flushed before any output given in `args`.
        let child = Command::new(env!("CARGO_BIN_EXE_sigil"))
            .arg("watch")
            .args(["--output", &format!("file:{}", out.display())])
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err).expect("creates"))
            .spawn()
            .expect("starts");
        Self {
            child,
            out: out.to_path_buf(),
            err,
        }
    }

    /// The detections written so far (a line cut short by a kill is left out).
    fn written(&self) -> String {
        whole_lines(&self.out)
    }

    /// What it said so far on standard error.
    fn said(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -{name}");
    }

    /// Waits for it to end by itself: its exit code and what it said.
    fn wait(mut self) -> (Option<i32>, String) {
        drop(self.child.stdin.take());
        let status = self.child.wait().expect("waits");
        (status.code(), self.said())
    }

    /// Stops it with SIGTERM: its exit code and what it said.
    fn stop(self) -> (Option<i32>, String) {
        self.signal("TERM");
        self.wait()
    }

    /// Waits until it has written `total` detections, then stops it, which must exit 0:
    /// the (rule, event) pairs written, and what it said.
    fn collect(self, total: usize) -> (BTreeMap<(String, String), usize>, String) {
        wait_for("every detection", || {
            pairs(&self.written()).0.values().sum::<usize>() >= total
        });
        let live = pairs(&self.written()).0;
        let (code, err) = self.stop();
        assert_eq!(code, Some(0), "{err}");
        (live, err)
    }

    fn kill(mut self) {
        self.signal("KILL");
        let _ = self.child.wait();
    }
}

/// The whole JSON lines of a file (a line cut short by a kill is left out).
fn whole_lines(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).is_ok())
        .flat_map(|l| [l, "\n"])
        .collect()
}

/// The example rules' detections over the example WMI events, as `hunt` finds them, and
/// how many there are.
fn example_detections() -> (BTreeMap<(String, String), usize>, usize) {
    let (expected, _) = pairs(&hunt(
        &examples().join("logs/wmi-activity.jsonl"),
        &examples().join("rules"),
        &[],
    ));
    let total = expected.values().sum();
    assert!(total > 0, "the examples detect something");
    (expected, total)
}

fn example_lines() -> Vec<String> {
    std::fs::read_to_string(examples().join("logs/wmi-activity.jsonl"))
        .expect("reads")
        .lines()
        .map(str::to_string)
        .collect()
}

/// The Prometheus text a watcher serves on `port`.
fn scrape(port: u16) -> String {
    let Ok(mut m) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = m.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut text = String::new();
    let _ = m.read_to_string(&mut text);
    text
}

/// A metric's value in Prometheus text (`name` with its labels, as written).
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Waits until `done` holds (at most two minutes).
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed() < std::time::Duration::from_mins(2),
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn example_rules() -> String {
    examples().join("rules").display().to_string()
}

#[test]
fn a_followed_file_gives_every_detection_across_rotation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("events.jsonl");
    let lines = example_lines();
    let (expected, total) = example_detections();
    // Half before the watch starts, a quarter appended, then rotated and the rest in a new
    // file.
    std::fs::write(&log, lines[..4].join("\n") + "\n").expect("writes");
    let rules = example_rules();
    let input = format!("file:{}", log.display());
    let w = Watcher::start(
        &["--rules", &rules, "--input", &input],
        &dir.path().join("out.jsonl"),
    );
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("opens");
    writeln!(f, "{}", lines[4..6].join("\n")).expect("appends");
    drop(f);
    std::thread::sleep(std::time::Duration::from_millis(500));
    std::fs::rename(&log, dir.path().join("events.jsonl.1")).expect("rotates");
    std::fs::write(&log, lines[6..].join("\n") + "\n").expect("writes");
    assert_eq!(w.collect(total).0, expected);
}

#[test]
fn http_posts_give_the_hunts_detections_and_oversize_bodies_get_413() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = std::fs::read(examples().join("logs/wmi-activity.jsonl")).expect("reads");
    let (expected, _) = example_detections();
    let port = free_port();
    let input = format!("http://127.0.0.1:{port}/events");
    let rules = example_rules();
    let metrics_port = free_port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let w = Watcher::start(
        &["--rules", &rules, "--input", &input, "--metrics", &metrics],
        &dir.path().join("out.jsonl"),
    );
    let post = |body: &[u8]| -> Option<String> {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        let head = format!(
            "POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).ok()?;
        let _ = s.write_all(body);
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        Some(answer)
    };
    wait_for("the HTTP input", || post(b"").is_some());
    // Two bodies: the answer comes once their detections are written.
    let half = logs.len() / 2;
    let cut = logs[..half]
        .iter()
        .rposition(|&b| b == b'\n')
        .expect("a line")
        + 1;
    for body in [&logs[..cut], &logs[cut..]] {
        let answer = post(body).expect("answers");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    assert_eq!(pairs(&w.written()).0, expected);
    // Over the limit: refused by its announced length.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connects");
    s.write_all(b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 17000000\r\n\r\n")
        .expect("sends");
    s.write_all(&[b' '; 4096]).expect("sends");
    let mut answer = [0u8; 12];
    s.read_exact(&mut answer).expect("answers");
    assert_eq!(&answer, b"HTTP/1.1 413");
    let text = scrape(metrics_port);
    assert!(
        text.contains(&format!("sigil_watch_events_total{{input=\"{input}\"}} 11")),
        "{text}"
    );
    assert!(
        text.contains("sigil_watch_detections_total{level=\"high\""),
        "{text}"
    );
    let (code, err) = w.stop();
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn syslog_over_tcp_and_udp_gives_the_hunts_detections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = example_lines();
    let (expected, total) = example_detections();
    let rules = example_rules();
    // TCP: octet-counted RFC 5424 frames carrying the JSON events, one broken frame.
    let port = free_port();
    let input = format!("syslog+tcp://127.0.0.1:{port}");
    let w = Watcher::start(
        &["--rules", &rules, "--input", &input],
        &dir.path().join("tcp.jsonl"),
    );
    let mut stream = None;
    wait_for("the syslog input", || {
        stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok();
        stream.is_some()
    });
    let mut stream = stream.expect("connected");
    for (i, line) in logs.iter().enumerate() {
        let msg = format!("<14>1 2026-11-20T09:00:00Z WS01 sysmon - - - {line}");
        write!(stream, "{} {msg}", msg.len()).expect("sends");
        if i == 2 {
            stream.write_all(b"11 not a frame").expect("sends");
        }
    }
    drop(stream);
    let (live, err) = w.collect(total);
    assert_eq!(live, expected);
    assert!(err.contains("1 bad records skipped"), "{err}");
    // UDP: RFC 3164 datagrams.
    let port = free_port();
    let input = format!("syslog+udp://127.0.0.1:{port}");
    let w = Watcher::start(
        &["--rules", &rules, "--input", &input],
        &dir.path().join("udp.jsonl"),
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("binds");
    for line in &logs {
        let msg = format!("<14>Nov 20 09:00:00 WS01 sysmon[4]: {line}");
        socket
            .send_to(msg.as_bytes(), ("127.0.0.1", port))
            .expect("sends");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(w.collect(total).0, expected);
}

/// A JetStream server of its own on a free loopback port, stopped when dropped.
struct Nats {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nats_server() -> Option<Nats> {
    nats_server_with("")
}

/// A JetStream server with `conf` added to its configuration (authorization, TLS).
fn nats_server_with(conf: &str) -> Option<Nats> {
    let found = Command::new("nats-server")
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "nats-server is missing: .ci/run installs it"
        );
        println!("skipped: nats-server not installed (apt-get install nats-server)");
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let config = dir.path().join("nats.conf");
    std::fs::write(
        &config,
        format!(
            "listen: 127.0.0.1:{port}\njetstream {{ store_dir: {:?} }}\n{conf}\n",
            dir.path().join("js").display().to_string()
        ),
    )
    .expect("writes");
    let child = Command::new("nats-server")
        .arg("-c")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nats-server starts");
    let server = Nats {
        child,
        port,
        _dir: dir,
    };
    wait_for("nats-server", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    Some(server)
}

/// Publishes each line to `events.<Computer>` on stream `EV`, in order.
fn publish(port: u16, lines: &[String]) {
    publish_as(
        async_nats::ConnectOptions::new(),
        &format!("nats://127.0.0.1:{port}"),
        lines,
    );
}

/// Publishes as `publish` does, to `url` connecting with `options`.
fn publish_as(options: async_nats::ConnectOptions, url: &str, lines: &[String]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = options.connect(url).await.expect("connects");
        let js = async_nats::jetstream::new(client);
        js.get_or_create_stream(async_nats::jetstream::stream::Config {
            name: "EV".into(),
            subjects: vec!["events.>".into()],
            ..Default::default()
        })
        .await
        .expect("stream");
        let mut stored = Vec::new();
        for line in lines {
            let computer = serde_json::from_str::<Value>(line)
                .ok()
                .and_then(|v| {
                    v["Computer"]
                        .as_str()
                        .map(|c| c.replace(['.', ' ', '*', '>'], "_"))
                })
                .unwrap_or_else(|| "unknown".into());
            // In order (one client), acknowledged a thousand at a time.
            stored.push(
                js.publish(format!("events.{computer}"), line.clone().into())
                    .await
                    .expect("publishes"),
            );
            if stored.len() >= 1000 {
                for ack in stored.drain(..) {
                    ack.await.expect("stored");
                }
            }
        }
        for ack in stored {
            ack.await.expect("stored");
        }
    });
}

/// The oracle's events with the example WMIC events spread over them (first, middle,
/// last), and the rules: SigmaHQ's Windows rules and the examples.
fn jetstream_corpus(dir: &Path) -> Option<(Vec<String>, String, PathBuf)> {
    let events = oracle_events(dir)?;
    let oracle = std::fs::read_to_string(&events).expect("reads");
    let wmi = std::fs::read_to_string(examples().join("logs/wmi-activity.jsonl")).expect("reads");
    let wmic: Vec<&str> = wmi.lines().take(3).collect();
    let mut lines: Vec<String> = oracle.lines().take(3000).map(str::to_string).collect();
    lines.insert(0, wmic[0].to_string());
    lines.insert(lines.len() / 2, wmic[1].to_string());
    lines.push(wmic[2].to_string());
    let all = dir.join("all.jsonl");
    std::fs::write(&all, lines.join("\n") + "\n").expect("writes");
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).expect("mkdir");
    let windows = shared_corpus(&["sigma/rules/windows"])?.join("sigma/rules/windows");
    let mut n = 0;
    for entry in walkdir(&windows)
        .into_iter()
        .chain(walkdir(&examples().join("rules")))
    {
        n += 1;
        std::fs::copy(
            &entry,
            rules.join(format!("{n}-{}", entry.file_name()?.to_string_lossy())),
        )
        .ok()?;
    }
    Some((lines, rules.display().to_string(), all))
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yml") {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn jetstream_survives_kill_9_without_losing_a_detection() {
    let Some(nats) = nats_server() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((lines, rules, all)) = jetstream_corpus(dir.path()) else {
        return;
    };
    let (batch, _) = pairs(&hunt(
        &all,
        Path::new(&rules),
        &["sysmon", "windows-logsources"],
    ));
    assert!(
        batch.keys().any(|(r, _)| r == WMIC_BURST),
        "the batch fires the burst"
    );
    // The stream gets its first third, the watcher is killed as soon as it has written that part's
    // detections (its last acknowledgements may still be in flight), then the rest arrives: the kill
    // falls mid-stream whatever the machine's speed, between the burst's first event and its others.
    let cut = lines.len() / 3;
    let head = dir.path().join("head.jsonl");
    std::fs::write(&head, lines[..cut].join("\n") + "\n").expect("writes");
    let (head_batch, _) = pairs(&hunt(
        &head,
        Path::new(&rules),
        &["sysmon", "windows-logsources"],
    ));
    assert!(!head_batch.is_empty(), "the first third has detections");
    publish(nats.port, &lines[..cut]);
    let input = format!(
        "nats://127.0.0.1:{}/events.>?stream=EV&durable=watch&ack_wait=2",
        nats.port
    );
    let state = dir.path().join("state.db").display().to_string();
    let args = [
        "--rules",
        &rules,
        "-p",
        "sysmon",
        "-p",
        "windows-logsources",
        "--input",
        &input,
        "--state",
        &state,
    ];
    let first = Watcher::start(&args, &dir.path().join("first.jsonl"));
    let total: usize = batch.values().sum();
    wait_for("the first third's detections", || {
        let (written, _) = pairs(&first.written());
        head_batch.keys().all(|k| written.contains_key(k))
    });
    first.kill();
    publish(nats.port, &lines[cut..]);
    let before = whole_lines(&dir.path().join("first.jsonl"));
    let (seen, _) = pairs(&before);
    assert!(seen.values().sum::<usize>() < total, "killed mid-stream");
    assert!(
        !seen.contains_key(&burst_key(&batch)),
        "the burst straddles the kill"
    );
    let second = Watcher::start(&args, &dir.path().join("second.jsonl"));
    wait_for("every detection", || {
        let (after, _) = pairs(&second.written());
        batch
            .keys()
            .all(|k| seen.contains_key(k) || after.contains_key(k))
    });
    std::thread::sleep(std::time::Duration::from_secs(3));
    let after_text = second.written();
    let (code, err) = second.stop();
    assert_eq!(code, Some(0), "{err}");
    // The union is the batch: nothing lost, nothing invented.
    let (after, repeats) = pairs(&after_text);
    let mut union = seen.clone();
    for (k, n) in &after {
        let e = union.entry(k.clone()).or_default();
        *e = (*e).max(*n);
    }
    assert_eq!(union, batch);
    // A detection written by both runs is marked as a repeat in the second.
    let marked: std::collections::BTreeSet<(String, String)> = after_text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("repeat") == Some(&Value::Bool(true)))
        .map(|v| {
            let rule = v["rule_id"].as_str().unwrap_or_default().to_string();
            (rule, without_source(&v["event"]).to_string())
        })
        .collect();
    assert!(marked.len() <= repeats);
    for k in after.keys().filter(|k| seen.contains_key(*k)) {
        assert!(marked.contains(k), "written twice but not marked: {k:?}");
    }
    assert!(
        after.contains_key(&burst_key(&batch)),
        "the straddling burst fires after the restart"
    );
}

fn burst_key(batch: &BTreeMap<(String, String), usize>) -> (String, String) {
    batch
        .keys()
        .find(|(r, _)| r == WMIC_BURST)
        .cloned()
        .expect("the burst")
}

#[test]
fn three_watchers_on_one_durable_consumer_give_the_single_watchers_detections() {
    let Some(nats) = nats_server() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((lines, rules, all)) = jetstream_corpus(dir.path()) else {
        return;
    };
    let (batch, _) = pairs(&hunt(
        &all,
        Path::new(&rules),
        &["sysmon", "windows-logsources"],
    ));
    publish(nats.port, &lines);
    let total: usize = batch.values().sum();
    let run = |durable: &str, watchers: usize| -> String {
        let input = format!(
            "nats://127.0.0.1:{}/events.>?stream=EV&durable={durable}",
            nats.port
        );
        let state = dir
            .path()
            .join(format!("{durable}.db"))
            .display()
            .to_string();
        let args = [
            "--rules",
            &rules,
            "-p",
            "sysmon",
            "-p",
            "windows-logsources",
            "--input",
            &input,
            "--state",
            &state,
        ];
        let ws: Vec<Watcher> = (0..watchers)
            .map(|i| Watcher::start(&args, &dir.path().join(format!("{durable}-{i}.jsonl"))))
            .collect();
        wait_for("every detection", || {
            ws.iter()
                .map(|w| pairs(&w.written()).0.values().sum::<usize>())
                .sum::<usize>()
                >= total
        });
        std::thread::sleep(std::time::Duration::from_secs(2));
        let text: String = ws.iter().map(Watcher::written).collect();
        for w in ws {
            let (code, err) = w.stop();
            assert_eq!(code, Some(0), "{err}");
        }
        text
    };
    let single = pairs(&run("one", 1));
    let shared = pairs(&run("three", 3));
    assert_eq!(single.0, batch);
    assert_eq!(shared.0, single.0);
    assert_eq!((single.1, shared.1), (0, 0), "no repeats without a restart");
}

#[test]
fn an_unreachable_nats_server_exits_2() {
    let port = free_port();
    let rules = example_rules();
    let spec = format!("nats://127.0.0.1:{port}/events?stream=EV&durable=d");
    let (code, _, err) = sigil(&["watch", "--rules", &rules, "--input", &spec]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot reach the NATS server"), "{err}");
}

/// A webhook receiver on loopback (HTTPS when given a TLS configuration).
struct Hook {
    port: u16,
    /// The bodies answered 200, one after another.
    accepted: Arc<Mutex<String>>,
    /// Requests read (answered or not).
    requests: Arc<AtomicUsize>,
    /// While set, requests are read but not answered.
    held: Arc<AtomicBool>,
}

impl Hook {
    /// Answers 503 to its first `failures` requests, then 200.
    fn start(tls: Option<Arc<rustls::ServerConfig>>, failures: usize) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        let port = listener.local_addr().expect("addr").port();
        let hook = Self {
            port,
            accepted: Arc::default(),
            requests: Arc::default(),
            held: Arc::default(),
        };
        let (accepted, requests, held) = (
            Arc::clone(&hook.accepted),
            Arc::clone(&hook.requests),
            Arc::clone(&hook.held),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(tcp) = stream else { continue };
                let answer = |body: Option<Vec<u8>>| {
                    let body = body?;
                    let n = requests.fetch_add(1, Ordering::SeqCst);
                    while held.load(Ordering::SeqCst) {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    if n < failures {
                        Some(&b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"[..])
                    } else {
                        accepted
                            .lock()
                            .expect("lock")
                            .push_str(&String::from_utf8_lossy(&body));
                        Some(
                            &b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"[..],
                        )
                    }
                };
                match &tls {
                    None => {
                        let mut tcp = tcp;
                        if let Some(a) = answer(read_request(&mut tcp)) {
                            let _ = tcp.write_all(a);
                        }
                    }
                    Some(config) => {
                        let Ok(conn) = rustls::ServerConnection::new(Arc::clone(config)) else {
                            continue;
                        };
                        // A client that refuses the certificate ends the handshake: no
                        // request.
                        let mut tls = rustls::StreamOwned::new(conn, tcp);
                        if let Some(a) = answer(read_request(&mut tls)) {
                            let _ = tls.write_all(a);
                            tls.conn.send_close_notify();
                            let _ = tls.flush();
                        }
                    }
                }
            }
        });
        hook
    }

    fn accepted(&self) -> String {
        self.accepted.lock().expect("lock").clone()
    }
}

/// Reads one HTTP request: its body.
fn read_request(stream: &mut impl Read) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    stream.read_exact(&mut body).ok()?;
    Some(body)
}

#[test]
fn a_webhook_that_fails_for_a_while_gets_every_detection() {
    let logs = std::fs::read(examples().join("logs/wmi-activity.jsonl")).expect("reads");
    let (expected, _) = example_detections();
    let hook = Hook::start(None, 3);
    let rules = example_rules();
    let url = format!("http://127.0.0.1:{}/hook", hook.port);
    let (code, _, err) = watch_stdin(
        &["--rules", &rules, "--input", "-", "--output", &url],
        &logs,
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("503"), "{err}");
    assert_eq!(pairs(&hook.accepted()).0, expected);
}

/// A throwaway CA and a certificate it signed for 127.0.0.1 and localhost, as PEM files in
/// `dir`, and the server's certificate chain and key.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    server: Arc<rustls::ServerConfig>,
}

fn throwaway_pki(dir: &Path, name: &str) -> Pki {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} test CA"));
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA");
    let key = rcgen::KeyPair::generate().expect("key");
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("params");
    let cert = params.signed_by(&key, &ca_cert, &ca_key).expect("signs");
    let pki = |file: &str| dir.join(format!("{name}-{file}"));
    std::fs::write(pki("ca.pem"), ca_cert.pem()).expect("writes");
    std::fs::write(pki("cert.pem"), cert.pem()).expect("writes");
    std::fs::write(pki("key.pem"), key.serialize_pem()).expect("writes");
    #[allow(deprecated)] // the provider sigil uses (no post-quantum key exchange)
    let provider = rustls::crypto::ring::default_provider();
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server config");
    Pki {
        ca: pki("ca.pem"),
        cert: pki("cert.pem"),
        key: pki("key.pem"),
        server: Arc::new(server),
    }
}

#[test]
fn an_https_webhook_gets_every_detection_and_an_untrusted_certificate_stops_the_watch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = std::fs::read(examples().join("logs/wmi-activity.jsonl")).expect("reads");
    let (expected, _) = example_detections();
    let pki = throwaway_pki(dir.path(), "hook");
    let rules = example_rules();
    // Trusted through `?ca=`: every detection arrives, over TLS.
    let hook = Hook::start(Some(Arc::clone(&pki.server)), 0);
    let url = format!(
        "https://127.0.0.1:{}/hook?ca={}",
        hook.port,
        pki.ca.display()
    );
    let (code, _, err) = watch_stdin(
        &["--rules", &rules, "--input", "-", "--output", &url],
        &logs,
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(pairs(&hook.accepted()).0, expected);
    // Without the CA, or with another one, the certificate is not trusted: a clear error,
    // exit 2, and nothing sent.
    let other = throwaway_pki(dir.path(), "other");
    let hook = Hook::start(Some(Arc::clone(&pki.server)), 0);
    for url in [
        format!("https://127.0.0.1:{}/hook", hook.port),
        format!(
            "https://127.0.0.1:{}/hook?ca={}",
            hook.port,
            other.ca.display()
        ),
    ] {
        let (code, _, err) = watch_stdin(
            &["--rules", &rules, "--input", "-", "--output", &url],
            &logs,
        );
        assert_eq!(code, Some(2), "{url}: {err}");
        assert!(err.contains("certificate is not trusted"), "{err}");
        assert!(
            err.contains(&format!("127.0.0.1:{}/hook", hook.port)),
            "{err}"
        );
    }
    assert_eq!(hook.requests.load(Ordering::SeqCst), 0);
    assert!(hook.accepted().is_empty());
    // A CA file that is not one: refused before the watch starts.
    let url = format!(
        "https://127.0.0.1:{}/hook?ca={}",
        hook.port,
        pki.key.display()
    );
    let (code, _, err) = sigil(&["watch", "--rules", &rules, "--input", "-", "--output", &url]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("CA file"), "{err}");
}

#[test]
fn nats_with_a_user_and_password_or_a_token() {
    let (expected, total) = example_detections();
    let lines = example_lines();
    let rules = example_rules();
    let dir = tempfile::tempdir().expect("tempdir");
    for (conf, good, bad, publisher) in [
        (
            "authorization { user: watch, password: \"s3cret-pw\" }",
            "watch:s3cret-pw@",
            "watch:n0t-the-pw@",
            async_nats::ConnectOptions::with_user_and_password("watch".into(), "s3cret-pw".into()),
        ),
        (
            "authorization { token: \"t0ken-xyz\" }",
            "t0ken-xyz@",
            "n0t-the-t0ken@",
            async_nats::ConnectOptions::with_token("t0ken-xyz".into()),
        ),
    ] {
        let Some(nats) = nats_server_with(conf) else {
            return;
        };
        publish_as(
            publisher,
            &format!("nats://127.0.0.1:{}", nats.port),
            &lines,
        );
        let spec = |who: &str| {
            format!(
                "nats://{who}127.0.0.1:{}/events.>?stream=EV&durable=w",
                nats.port
            )
        };
        // Wrong credentials, or none: a clear message (without the secret) and exit 2.
        for who in [bad, ""] {
            let (code, _, err) = sigil(&["watch", "--rules", &rules, "--input", &spec(who)]);
            assert_eq!(code, Some(2), "{conf}: {err}");
            assert!(err.contains("refused the credentials"), "{conf}: {err}");
            assert!(!err.contains("n0t-the"), "the secret is not shown: {err}");
        }
        let w = Watcher::start(
            &["--rules", &rules, "--input", &spec(good)],
            &dir.path().join("out.jsonl"),
        );
        let (live, err) = w.collect(total);
        assert_eq!(live, expected, "{conf}");
        assert!(!err.contains("s3cret") && !err.contains("t0ken"), "{err}");
        std::fs::remove_file(dir.path().join("out.jsonl")).expect("removes");
    }
    // A credentials file that is not there.
    let (code, _, err) = sigil(&[
        "watch",
        "--rules",
        &rules,
        "--input",
        "nats://127.0.0.1:4222/events?stream=EV&durable=w&creds=/nonexistent/w.creds",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("credentials file /nonexistent/w.creds"),
        "{err}"
    );
}

#[test]
fn nats_over_tls_with_a_private_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = throwaway_pki(dir.path(), "nats");
    let conf = format!(
        "tls {{ cert_file: {:?}, key_file: {:?} }}",
        pki.cert.display().to_string(),
        pki.key.display().to_string()
    );
    let Some(nats) = nats_server_with(&conf) else {
        return;
    };
    let (expected, total) = example_detections();
    publish_as(
        async_nats::ConnectOptions::new()
            .require_tls(true)
            .add_root_certificates(pki.ca.clone()),
        &format!("tls://127.0.0.1:{}", nats.port),
        &example_lines(),
    );
    let rules = example_rules();
    // The server's certificate is not signed by a CA the system trusts.
    let untrusted = format!("tls://127.0.0.1:{}/events.>?stream=EV&durable=w", nats.port);
    let (code, _, err) = sigil(&["watch", "--rules", &rules, "--input", &untrusted]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("TLS failed"), "{err}");
    let input = format!("{untrusted}&ca={}", pki.ca.display());
    let w = Watcher::start(
        &["--rules", &rules, "--input", &input],
        &dir.path().join("out.jsonl"),
    );
    assert_eq!(w.collect(total).0, expected);
}

/// The example rules without the correlation, in `dir/rules`.
fn detection_rules(dir: &Path) -> PathBuf {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).expect("mkdir");
    for e in std::fs::read_dir(examples().join("rules"))
        .expect("lists")
        .flatten()
    {
        let text = std::fs::read_to_string(e.path()).expect("reads");
        if !text.contains("correlation:") {
            std::fs::write(rules.join(e.file_name()), text).expect("writes");
        }
    }
    rules
}

const WMIC_CREATE: &str = "9a4d2c1b-6e3f-4f8a-b1c7-0d5e8f2a4b69";
const WMI_CONSUMER: &str = "b2f6e8a4-1d3c-4e5b-9a7f-c0d2e4f6a8b1";

/// Detections per rule id (or title) in JSON lines.
fn by_rule(jsonl: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for ((rule, _), n) in pairs(jsonl).0 {
        *out.entry(rule).or_default() += n;
    }
    out
}

/// Waits until the watcher's metrics on `port` give `name` at least `value`.
fn wait_for_metric(port: u16, name: &str, value: f64) {
    wait_for(&format!("{name} >= {value}"), || {
        metric(&scrape(port), name).is_some_and(|v| v >= value)
    });
}

#[test]
fn rules_reload_on_sighup_and_on_a_rule_file_change_without_missing_an_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).expect("mkdir");
    let example = |name: &str| examples().join("rules").join(name);
    std::fs::copy(
        example("proc_creation_wmic_process_call_create.yml"),
        rules.join("a.yml"),
    )
    .expect("copies");
    let round = example_lines().join("\n") + "\n";
    // One round of the example events: what each rule finds in it.
    let (_, once, _) = watch_stdin(
        &[
            "--rules",
            &examples().join("rules").display().to_string(),
            "--input",
            "-",
        ],
        round.as_bytes(),
    );
    let once = by_rule(&once);
    let (a, b) = (once[WMIC_CREATE], once[WMI_CONSUMER]);
    assert!(a > 0 && b > 0, "{once:?}");
    let port = free_port();
    let metrics = format!("127.0.0.1:{port}");
    let rules_arg = rules.display().to_string();
    let mut w = Watcher::start_with(
        &["--rules", &rules_arg, "--input", "-", "--metrics", &metrics],
        &dir.path().join("out.jsonl"),
        Stdio::piped(),
    );
    let mut stdin = w.child.stdin.take().expect("stdin");
    stdin.write_all(round.as_bytes()).expect("writes");
    let mut sent = 1;
    wait_for("the first round", || !w.written().is_empty());
    wait_for("the metrics", || !scrape(port).is_empty());
    // 1. Events keep coming while SIGHUP swaps the rules twice: every event is evaluated
    //    once, by one set or the other. The second signal waits for the first reload to be
    //    counted: two hang-ups pending at once are one signal to the process.
    for i in 0..30 {
        stdin.write_all(round.as_bytes()).expect("writes");
        sent += 1;
        if i == 5 {
            w.signal("HUP");
        }
        if i == 17 {
            wait_for_metric(port, "sigil_watch_reloads_total", 1.0);
            w.signal("HUP");
        }
    }
    stdin.flush().expect("flushes");
    wait_for_metric(port, "sigil_watch_reloads_total", 2.0);
    wait_for("every round's detections", || {
        by_rule(&w.written()).get(WMIC_CREATE) == Some(&(a * sent))
    });
    // 2. A rule file added: loaded by itself, and it fires on the events sent after.
    std::fs::copy(
        example("wmi_event_consumer_persistence.yml"),
        rules.join("b.yml"),
    )
    .expect("copies");
    wait_for_metric(port, "sigil_watch_reloads_total", 3.0);
    stdin.write_all(round.as_bytes()).expect("writes");
    sent += 1;
    wait_for("the new rule's detections", || {
        let n = by_rule(&w.written());
        n.get(WMIC_CREATE) == Some(&(a * sent)) && n.get(WMI_CONSUMER) == Some(&b)
    });
    // 3. A broken rule: reported with its file, and the old set goes on, whole.
    std::fs::write(rules.join("c.yml"), "title: broken\ndetection: [\n").expect("writes");
    wait_for_metric(port, "sigil_watch_reload_failures_total", 1.0);
    assert!(w.said().contains("c.yml"), "{}", w.said());
    assert!(w.said().contains("the old ones stay"), "{}", w.said());
    stdin.write_all(round.as_bytes()).expect("writes");
    sent += 1;
    wait_for("the old set's detections", || {
        let n = by_rule(&w.written());
        n.get(WMIC_CREATE) == Some(&(a * sent)) && n.get(WMI_CONSUMER) == Some(&(2 * b))
    });
    // 4. SIGHUP loads a change the file check does not see (same count, same newest time):
    //    rule b fixed in place under another title, the broken one gone.
    std::fs::remove_file(rules.join("c.yml")).expect("removes");
    wait_for_metric(port, "sigil_watch_reloads_total", 4.0);
    let b_file = rules.join("b.yml");
    let newest = std::fs::metadata(rules.join("a.yml"))
        .and_then(|m| m.modified())
        .expect("mtime")
        .max(
            std::fs::metadata(&b_file)
                .and_then(|m| m.modified())
                .expect("mtime"),
        );
    let text = std::fs::read_to_string(&b_file).expect("reads");
    std::fs::write(
        &b_file,
        text.replace("id: b2f6e8a4-1d3c-4e5b-9a7f-c0d2e4f6a8b1\n", ""),
    )
    .expect("writes");
    std::fs::File::options()
        .write(true)
        .open(&b_file)
        .and_then(|f| f.set_modified(newest))
        .expect("sets the time");
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(
        metric(&scrape(port), "sigil_watch_reloads_total"),
        Some(4.0),
        "the file check does not see it"
    );
    w.signal("HUP");
    wait_for_metric(port, "sigil_watch_reloads_total", 5.0);
    stdin.write_all(round.as_bytes()).expect("writes");
    sent += 1;
    drop(stdin);
    let (code, err) = w.wait();
    assert_eq!(code, Some(0), "{err}");
    let n = by_rule(&whole_lines(&dir.path().join("out.jsonl")));
    assert_eq!(n.get(WMIC_CREATE), Some(&(a * sent)), "{n:?}");
    assert_eq!(n.get(WMI_CONSUMER), Some(&(2 * b)), "{n:?}");
    // Without its id, rule b's detections name it by title.
    assert_eq!(
        n.get("WMI Event Consumer Registered for Persistence"),
        Some(&b),
        "{n:?}"
    );
    assert_eq!(n.len(), 3, "{n:?}");
}

#[test]
fn a_slow_webhook_slows_the_input_and_the_queue_stays_at_its_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    // About 12 MiB of events, many more reads than the queue holds.
    let round = example_lines().join("\n") + "\n";
    let data = round.repeat(12 * 1024 * 1024 / round.len());
    let all = dir.path().join("all.jsonl");
    std::fs::write(&all, &data).expect("writes");
    // The rounds go back in time: no correlation.
    let rules = detection_rules(dir.path());
    let (expected, _) = pairs(&hunt(&all, &rules, &[]));
    let total: usize = expected.values().sum();
    let hook = Hook::start(None, 0);
    hook.held.store(true, Ordering::SeqCst);
    let port = free_port();
    let metrics = format!("127.0.0.1:{port}");
    let url = format!("http://127.0.0.1:{}/hook", hook.port);
    let rules = rules.display().to_string();
    let mut w = Watcher::start_with(
        &[
            "--rules",
            &rules,
            "--input",
            "-",
            "--metrics",
            &metrics,
            "--output",
            &url,
        ],
        &dir.path().join("out.jsonl"),
        Stdio::piped(),
    );
    let mut stdin = w.child.stdin.take().expect("stdin");
    let fed = Arc::new(AtomicUsize::new(0));
    let fed_by_writer = Arc::clone(&fed);
    let bytes = data.into_bytes();
    let size = bytes.len();
    let writer = std::thread::spawn(move || {
        for chunk in bytes.chunks(64 * 1024) {
            if stdin.write_all(chunk).is_err() {
                return;
            }
            fed_by_writer.fetch_add(chunk.len(), Ordering::SeqCst);
        }
    });
    // The webhook holds the first batch: the queue fills to its bound and the input waits.
    wait_for("the webhook's first request", || {
        hook.requests.load(Ordering::SeqCst) >= 1
    });
    wait_for_metric(port, "sigil_watch_queue_depth", 64.0);
    let text = scrape(port);
    let capacity = metric(&text, "sigil_watch_queue_capacity").expect("capacity");
    assert!(
        (capacity - 64.0).abs() < f64::EPSILON,
        "capacity {capacity}"
    );
    let stalled = fed.load(Ordering::SeqCst);
    assert!(
        stalled < size,
        "the input is held back: {stalled} of {size}"
    );
    for _ in 0..10 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let text = scrape(port);
        // Batches in the queue, and at most the one an input waits to put in.
        let depth = metric(&text, "sigil_watch_queue_depth").expect("depth");
        assert!((capacity..=capacity + 1.0).contains(&depth), "{depth}");
        assert_eq!(hook.requests.load(Ordering::SeqCst), 1);
    }
    assert_eq!(fed.load(Ordering::SeqCst), stalled, "the writer waits");
    // Released: everything goes through, once.
    hook.held.store(false, Ordering::SeqCst);
    writer.join().expect("writes");
    let (code, err) = w.wait();
    assert_eq!(code, Some(0), "{err}");
    let got = pairs(&hook.accepted()).0;
    assert_eq!(got.values().sum::<usize>(), total);
    assert_eq!(got, expected);
}

#[test]
fn sigterm_under_load_drains_writes_and_acks_what_it_took() {
    let Some(nats) = nats_server() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    // Redelivery after the stop may reorder events: no correlation.
    let rules = detection_rules(dir.path());
    let lines: Vec<String> = (0..4000).flat_map(|_| example_lines()).collect();
    let all = dir.path().join("all.jsonl");
    std::fs::write(&all, lines.join("\n") + "\n").expect("writes");
    let (expected, _) = pairs(&hunt(&all, &rules, &[]));
    let total: usize = expected.values().sum();
    publish(nats.port, &lines);
    // A wait for acknowledgements long enough that no batch is delivered twice on a busy
    // machine: the sums below count each detection once.
    let input = format!(
        "nats://127.0.0.1:{}/events.>?stream=EV&durable=drain&ack_wait=10",
        nats.port
    );
    let rules = rules.display().to_string();
    let args = ["--rules", &rules, "--input", &input];
    let first = Watcher::start(&args, &dir.path().join("first.jsonl"));
    wait_for("some detections", || !first.written().is_empty());
    let (code, err) = first.stop();
    assert_eq!(code, Some(0), "{err}");
    let before = whole_lines(&dir.path().join("first.jsonl"));
    let (seen, _) = pairs(&before);
    let n_seen: usize = seen.values().sum();
    assert!(n_seen < total, "stopped under load: {n_seen} of {total}");
    // What the first one wrote it acknowledged: the second gets only the rest (and
    // messages the first had fetched but not taken, which it never wrote).
    let second = Watcher::start(&args, &dir.path().join("second.jsonl"));
    let (after, err) = second.collect(total - n_seen);
    let mut union = seen;
    for (k, n) in after {
        *union.entry(k).or_default() += n;
    }
    assert_eq!(union, expected, "{err}");
}

#[test]
fn a_followed_file_marks_repeats_after_a_kill_between_write_and_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("events.jsonl");
    let round = example_lines().join("\n") + "\n";
    std::fs::write(&log, &round).expect("writes");
    let (expected, total) = example_detections();
    let rules = example_rules();
    let input = format!("file:{}", log.display());
    let state = dir.path().join("state.db").display().to_string();
    // Outputs: the file first, then a webhook that holds the batch: the detections are
    // written to the file, the batch is not committed, and the watcher is killed there.
    let hook = Hook::start(None, 0);
    hook.held.store(true, Ordering::SeqCst);
    let url = format!("http://127.0.0.1:{}/hook", hook.port);
    let first = Watcher::start(
        &[
            "--rules", &rules, "--input", &input, "--state", &state, "--output", &url,
        ],
        &dir.path().join("first.jsonl"),
    );
    wait_for("the detections written and the webhook holding", || {
        hook.requests.load(Ordering::SeqCst) >= 1
            && pairs(&first.written()).0.values().sum::<usize>() >= total
    });
    first.kill();
    assert_eq!(
        pairs(&whole_lines(&dir.path().join("first.jsonl"))).0,
        expected
    );
    // Restarted: the uncommitted batch is read again, and its detections are marked.
    let second = Watcher::start(
        &["--rules", &rules, "--input", &input, "--state", &state],
        &dir.path().join("second.jsonl"),
    );
    wait_for("the batch again", || {
        pairs(&second.written()).0.values().sum::<usize>() >= total
    });
    let (again, repeats) = pairs(&second.written());
    assert_eq!(again, expected);
    assert_eq!(repeats, total, "every one marked");
    // Events after it are not repeats.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .and_then(|mut f| f.write_all(round.as_bytes()))
        .expect("appends");
    wait_for("the new events' detections", || {
        pairs(&second.written()).0.values().sum::<usize>() > total
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    let (code, err) = second.stop();
    assert_eq!(code, Some(0), "{err}");
    let text = whole_lines(&dir.path().join("second.jsonl"));
    let (_, repeats) = pairs(&text);
    assert_eq!(repeats, total, "only the batch read again is marked");
}
