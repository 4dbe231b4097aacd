//! `index.json` in format 3 (the rules' details in a file per rule) and the site written
//! as it is rendered, on the fixture corpus.

mod common;

use sigil_site::{Site, SiteOptions, Written};

#[test]
fn index_json_lists_rules_whose_details_files_hold_every_analysis() {
    let p = common::publication();
    let site = Site::build(&p, SiteOptions::default()).expect("the site renders");
    let index = site.get("index.json").expect("index.json");
    common::assert_index_holds_the_analysis(&p, index, |path| site.get(path));
    // One details file per rule and none other.
    let details = site
        .paths()
        .filter(|x| {
            x.strip_prefix("rules/")
                .is_some_and(|name| std::path::Path::new(name).extension() == Some("json".as_ref()))
        })
        .count();
    assert_eq!(details, p.catalog.rules.len());
    // The fixture rules share ATT&CK entries, so the tables are exercised.
    let v: serde_json::Value = serde_json::from_slice(index).expect("JSON");
    let uses: usize = v["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["attack"].as_array().map_or(0, Vec::len))
        .sum();
    let table = v["attack"].as_array().expect("attack").len();
    assert!(table > 0 && table < uses, "{table} entries for {uses} uses");
    // A rule without a date leaves the field out rather than writing null.
    assert!(v["rules"].as_array().expect("rules").iter().all(|r| {
        r.as_object()
            .expect("object")
            .values()
            .all(|x| !x.is_null())
    }));
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
    assert!(
        !out.join("rules").exists(),
        "no details without the HTML site"
    );
    std::fs::remove_dir_all(&out).expect("cleaned up");
}
