//! Snapshot of a rendered Markdown rule page (the seed's Atomic Threat Coverage layout).

mod common;

#[test]
fn markdown_rule_page() {
    let p = common::publication();
    let files = sigil_site::render::markdown(&p).expect("renders");
    let page = files
        .iter()
        .find(|(path, _)| path == "rules/3c8a5f2e-7d41-4b6a-9e0f-52a1c7d9b810.md")
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .expect("the image-load rule page");
    insta::assert_snapshot!(page);
}
