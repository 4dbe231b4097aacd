//! End to end in a real browser: headless Chromium driven through `chromedriver`
//! (`sigil-webdriver`). The fixture catalog
//! is served on 127.0.0.1 with a random port; the test opens the index, searches "wmi",
//! opens a rule page, switches to the Splunk tab and checks what is shown. Screenshots go
//! to `target/site-e2e/`. Skipped (with a message) where Chromium is not installed, except
//! under `CI=true`.

mod common;

use std::path::Path;
use std::sync::Arc;

use sigil_site::server::{AppState, router, serve};
use sigil_webdriver::Driver;

#[test]
fn search_open_rule_and_switch_to_splunk_tab() {
    let Some((chromium, chromedriver)) = sigil_webdriver::browser() else {
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
            "{base}/rules/0b7f3c2e-5550-4d1a-9c3e-000000000001.html"
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
