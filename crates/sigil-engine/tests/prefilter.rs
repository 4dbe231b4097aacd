//! The literal prefilter only skips rules that cannot match: every SigmaHQ `rules/windows`
//! rule over the oracle's 8,255 events gives the same detections with the prefilter on and
//! off. (Within an event the order may differ: without the prefilter the rules are met
//! list by list of the logsource index, with it in rule order.)

mod common;

use sigil_engine::{Detection, Engine, EngineOptions};
use sigil_logs::Event;

#[test]
fn the_prefilter_changes_no_detection() {
    let Some(shared) = common::shared_dir() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared/corpus is missing under CI"
        );
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let loaded = common::load_windows_rules(&shared);
    let events = common::load_oracle_events(&shared);
    assert!(events.len() > 8000, "only {} events read", events.len());
    let run = |prefilter: bool| {
        let engine = Engine::compile(
            &loaded.rules,
            EngineOptions {
                prefilter,
                ..EngineOptions::default()
            },
        );
        let mut scan = engine.scan();
        let mut fired = Vec::new();
        for (n, (_, event)) in events.iter().enumerate() {
            scan.event(event as &dyn Event, &mut |d: &Detection<'_>| {
                fired.push((n, d.rule.index));
            });
        }
        fired.sort_unstable();
        (fired, scan.stats())
    };
    let (with, stats) = run(true);
    let (without, _) = run(false);
    println!(
        "{} detections; with the prefilter {} of {} candidate rules evaluated",
        with.len(),
        stats.evaluated,
        stats.candidates
    );
    assert!(with.len() > 1000, "only {} detections", with.len());
    assert!(stats.evaluated < stats.candidates / 10);
    if with != without {
        let only = |a: &[(usize, usize)], b: &[(usize, usize)]| {
            a.iter()
                .filter(|x| !b.contains(x))
                .take(10)
                .copied()
                .collect::<Vec<_>>()
        };
        panic!(
            "with the prefilter only: {:?}; without only: {:?} (event, rule)",
            only(&with, &without),
            only(&without, &with)
        );
    }
}
