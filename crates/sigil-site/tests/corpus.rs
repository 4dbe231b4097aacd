//! The whole shared corpus (Sigma, Elastic, Atomic Red Team, ATT&CK) publishes, and the
//! pages of the seed-like cases exist and carry their tables.

mod common;

use sigil_catalog::{BuildOptions, build, load};
use sigil_site::{Publication, Site, SiteOptions};

fn page<'a>(site: &'a Site, path: &str) -> &'a str {
    let bytes = site.get(path).unwrap_or_else(|| panic!("no page {path}"));
    std::str::from_utf8(bytes).expect("pages are UTF-8")
}

#[test]
fn whole_shared_corpus_publishes_with_the_seed_pages() {
    let Some(corpus) = common::shared_corpus() else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let loaded = load(&[corpus]).expect("the shared corpus loads");
    let p = Publication::new(build(loaded, BuildOptions::default()));
    let c = &p.catalog;
    assert!(c.rules.len() > 3000 && c.atomics.len() > 1000 && c.techniques.len() > 500);
    let site = Site::build(&p, SiteOptions::default()).expect("the site renders");

    // The WMI image-load rule of the corpus ("WMI Module Loaded By Uncommon Process"):
    // stages with its negated filters, and the exclusions table.
    let wmi = p
        .rule("671bb7e3-a020-4824-a00e-2ee5b55f385e")
        .expect("the WMI image-load rule");
    assert!(
        wmi.analysis
            .stages
            .iter()
            .any(|s| s.name == "not filter_main_generic")
    );
    let html = page(&site, &format!("rules/{}.html", wmi.key));
    assert!(html.contains("id=\"exclusions\""));
    assert!(html.contains("Stage 0: condition"));
    assert!(html.contains(":\\Windows\\System32\\"));
    assert!(html.contains("id=\"indicators\""));
    assert!(html.contains("\\wmiutils.dll"));

    // The T1047 test lists the rules that fire on it.
    let test = c
        .atomics
        .iter()
        .find(|a| a.name == "Create a Process using WMI Query and an Encoded Command")
        .expect("the T1047 test");
    assert!(!test.fired.is_empty());
    let html = page(&site, &format!("atomics/{}.html", test.guid));
    assert!(html.contains("id=\"fired\""));
    assert!(
        html.contains(&test.fired[0].title.replace('&', "&amp;"))
            || html.contains(&test.fired[0].key)
    );
    let md = page(&site, &format!("markdown/atomics/{}.md", test.guid));
    assert!(md.contains("# Rules that fire") && md.contains("(id: "));

    // A rule page with the metadata table and a Splunk conversion, in both formats.
    let i = c
        .rules
        .iter()
        .position(|r| r.title.contains("WmiPrvSE") || r.title.contains("WMI"))
        .expect("a WMI rule");
    let rule = &c.rules[i];
    let html = page(&site, &format!("rules/{}.html", rule.key));
    for row in [
        "ATT&amp;CK Tactic",
        "ATT&amp;CK Technique",
        "Data Needed",
        "Enrichment",
        "Trigger",
        "Severity Level",
        "False Positives",
        "Development Status",
        "References",
        "Author",
    ] {
        assert!(html.contains(&format!("<th>{row}</th>")), "{row}");
    }
    assert!(html.contains("id=\"conv-splunk\""));
    let md = page(&site, &format!("markdown/rules/{}.md", rule.key));
    assert!(md.starts_with("| Title "));
    assert!(md.contains("### splunk"));
    let converted = p
        .conversions
        .iter()
        .filter(|c| c[0].error.is_none())
        .count();
    assert!(
        converted * 2 > c.rules.len(),
        "most rules convert to Splunk: {converted}"
    );

    for path in [
        "index.html",
        "matrix.html",
        "gaps.html",
        "index.json",
        "navigator-layer.json",
        "assets/search-index.js",
        "tactics/index.html",
        "techniques/T1047.html",
    ] {
        assert!(site.get(path).is_some(), "{path}");
    }

    // index.json is the catalog as data, not the pages again: no rule sources, no
    // simulated events, and far smaller than the 124 MB it was when it held them.
    let index = site.get("index.json").expect("index.json");
    common::assert_index_holds_the_analysis(&p, index, |path| site.get(path));
    // The index lists the catalog; what is too big to list is in the rules' details.
    assert!(
        index.len() <= 10_000_000,
        "index.json is {} bytes",
        index.len()
    );
    let v: serde_json::Value = serde_json::from_slice(index).expect("index.json is JSON");
    let rules = v["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), c.rules.len());
    assert!(rules.iter().all(|r| r.get("source").is_none()));
    assert!(
        v["atomics"]
            .as_array()
            .expect("atomics")
            .iter()
            .all(|a| a.get("events").is_none())
    );
    let search = site.get("assets/search-index.js").expect("search index");
    assert!(
        search.len() < 5_000_000,
        "search index is {} bytes",
        search.len()
    );
}
