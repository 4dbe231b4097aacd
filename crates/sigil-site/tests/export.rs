//! `index.json` in format 2 (tables referred to by position) and the site written as it is
//! rendered, on the fixture corpus.

mod common;

use sigil_site::{Site, SiteOptions, Written};

#[test]
fn index_json_refers_to_tables_that_hold_every_rule_analysis() {
    let p = common::publication();
    let site = Site::build(&p, SiteOptions::default()).expect("the site renders");
    let index = site.get("index.json").expect("index.json");
    common::assert_index_holds_the_analysis(&p, index);
    // The fixture rules share indicators and reasons, so the tables are exercised.
    let v: serde_json::Value = serde_json::from_slice(index).expect("JSON");
    let uses: usize = v["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["analysis"]["indicators"].as_array().map_or(0, Vec::len))
        .sum();
    let table = v["indicators"].as_array().expect("indicators").len();
    assert!(
        table > 0 && table <= uses,
        "{table} entries for {uses} uses"
    );
}

#[test]
fn publishing_writes_what_the_site_in_memory_holds() {
    let p = common::publication();
    let site = Site::build(&p, SiteOptions::default()).expect("the site renders");
    let out = std::env::temp_dir().join(format!("sigil-site-publish-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let written = Site::publish(&p, SiteOptions::default(), &out).expect("the site writes");
    assert_eq!(
        written,
        Written {
            files: site.len(),
            bytes: site.bytes()
        }
    );
    for path in site.paths() {
        let on_disk = std::fs::read(out.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(Some(on_disk.as_slice()), site.get(path), "{path}");
    }
    let mut count = 0;
    let mut stack = vec![out.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                count += 1;
            }
        }
    }
    assert_eq!(count, site.len(), "no file beyond the site's");
    std::fs::remove_dir_all(&out).expect("cleaned up");

    // Markdown only: the HTML pages are not written.
    let md = Site::publish(
        &p,
        SiteOptions {
            html: false,
            markdown: true,
        },
        &out,
    )
    .expect("the pages write");
    assert!(md.files > 0 && !out.join("index.json").exists());
    std::fs::remove_dir_all(&out).expect("cleaned up");
}
