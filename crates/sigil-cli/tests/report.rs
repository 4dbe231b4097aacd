//! `sigil hunt --report`: the page opened in headless Chromium (`sigil-webdriver`), from a
//! hostile log and from the corpus. It must show its charts, make no network request and
//! show hostile event content as text. Screenshots go to `target/report-e2e/`.

mod common;

use std::path::{Path, PathBuf};

use common::{shared_corpus, sigil};
use sigil_webdriver::Driver;

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sigil-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A command line that would run script if it became markup.
const HOSTILE: &str =
    "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">";

/// A JSON log whose process creation carries `HOSTILE`, and a rule that fires on it.
fn hostile_hunt(dir: &Path) -> PathBuf {
    let log = dir.join("events.jsonl");
    let mut lines = String::new();
    for (i, (image, time)) in [
        (
            "C:\\Windows\\System32\\wbem\\WMIC.exe",
            "2024-03-01T10:00:00Z",
        ),
        (
            "C:\\Windows\\System32\\wbem\\WMIC.exe",
            "2024-03-01T12:30:00Z",
        ),
        (
            "C:\\Windows\\System32\\wbem\\WMIC.exe",
            "2024-03-02T09:15:00Z",
        ),
    ]
    .iter()
    .enumerate()
    {
        let event = serde_json::json!({
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "EventID": 1,
            "EventRecordID": i + 1,
            "Computer": if i == 0 { "<b>WS1</b>" } else { "WS2" },
            "SystemTime": time,
            "Image": image,
            "CommandLine": HOSTILE,
            "User": "CORP\\bob",
        });
        lines.push_str(&event.to_string());
        lines.push('\n');
    }
    std::fs::write(&log, lines).expect("write log");
    let rule = dir.join("rule.yml");
    std::fs::write(
        &rule,
        "title: Wmic <svg onload=alert(1)>\nid: 9a4c5a5e-0000-4000-8000-000000000001\nstatus: test\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    selection:\n        Image|endswith: '\\wmic.exe'\n    condition: selection\nlevel: high\ntags:\n    - attack.execution\n    - attack.t1047\n",
    )
    .expect("write rule");
    let report = dir.join("report.html");
    let (code, _, err) = sigil(&[
        "hunt",
        log.to_str().expect("utf-8"),
        "--rules",
        rule.to_str().expect("utf-8"),
        "--report",
        report.to_str().expect("utf-8"),
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, Some(1), "{err}");
    report
}

/// Opens `page` and checks what every report must hold; returns the visible text.
fn open_and_check(d: &Driver, page: &Path, shot: &Path) -> String {
    let url = format!("file://{}", page.display());
    // What the browser loaded before (its new tab page) is not the report's.
    let _ = d.requests();
    d.go(&url);
    assert!(d.title().starts_with("sigil hunt report"), "{}", d.title());
    let summary = d.wait_for("#summary");
    assert!(d.displayed(&summary));
    // Every chart is drawn: an SVG with bars, on screen.
    for chart in [
        "#chart-time",
        "#chart-level",
        "#chart-computer",
        "#chart-tactic",
        "#chart-rule",
    ] {
        let svg = d.find(&format!("{chart} svg"));
        assert!(d.displayed(&svg), "{chart}");
        let bars = d.execute(&format!(
            "const r = document.querySelectorAll('{chart} svg rect'); \
             return Array.from(r).filter(e => e.getBBox().width > 0 && e.getBBox().height > 0).length;"
        ));
        assert!(bars.as_u64().unwrap_or(0) > 0, "{chart}: no bar drawn");
    }
    // No script in the page, nothing fetched: only the page itself was requested.
    assert_eq!(d.execute("return document.scripts.length;"), 0);
    // (The browser's own pages, such as its new tab page, load resources of their own.)
    let requests: Vec<String> = d
        .requests()
        .into_iter()
        .filter(|(_, document)| document == &url)
        .map(|(u, _)| u)
        .collect();
    assert!(requests.iter().any(|u| u == &url), "{requests:?}");
    assert!(
        requests.iter().all(|u| u == &url || u.starts_with("data:")),
        "requests outside the page: {requests:?}"
    );
    d.screenshot(shot);
    d.text(&d.find("body"))
}

#[test]
fn the_report_opens_in_a_browser_with_its_charts_and_no_request() {
    let Some((chromium, chromedriver)) = sigil_webdriver::browser() else {
        return;
    };
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/report-e2e");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let dir = tempdir("browser");
    let profile = dir.join("profile");
    let d = Driver::start_with(&chromedriver, &chromium, &profile, true);

    // Hostile content is text on the page, and ran nothing.
    let page = hostile_hunt(&dir);
    let text = open_and_check(&d, &page, &shots.join("01-hostile.png"));
    assert!(
        text.contains(HOSTILE),
        "the command line is not shown as text"
    );
    assert!(text.contains("Wmic <svg onload=alert(1)>"));
    assert!(text.contains("<b>WS1</b>"));
    assert!(!d.title().contains("pwned"));
    assert_eq!(
        d.execute("return document.querySelectorAll('img, svg svg, [onerror], [onload]').length;"),
        0
    );
    assert_eq!(d.text(&d.find("#count-detections")), "3");
    // The rule's name links to its text.
    d.click(&d.find("#top tbody a, table a"));
    let rule_text = d.text(&d.find("section.rule pre"));
    assert!(rule_text.contains("Image|endswith"), "{rule_text}");

    // The corpus: thousands of detections, bounded lists.
    if let Some(corpus) = shared_corpus(&["evtx", "sigma"]) {
        let report = dir.join("corpus.html");
        let (code, _, err) = sigil(&[
            "hunt",
            corpus.join("evtx").to_str().expect("utf-8"),
            "--rules",
            corpus.join("sigma/rules/windows").to_str().expect("utf-8"),
            "--report",
            report.to_str().expect("utf-8"),
            "--format",
            "jsonl",
            "--no-progress",
            "-o",
            dir.join("found.jsonl").to_str().expect("utf-8"),
        ]);
        assert_eq!(code, Some(1), "{err}");
        let found = std::fs::read_to_string(dir.join("found.jsonl")).expect("output");
        let text = open_and_check(&d, &report, &shots.join("02-corpus.png"));
        assert_eq!(
            d.text(&d.find("#count-detections")),
            found.lines().count().to_string()
        );
        assert!(text.contains("credential-access") || text.contains("execution"));
        let rows = d.execute("return document.querySelectorAll('#top ~ table tbody tr').length;");
        assert!(rows.as_u64().unwrap_or(0) > 100, "{rows}");
    }
    drop(d);
    let _ = std::fs::remove_dir_all(&dir);
    println!("screenshots in {}", shots.display());
}
