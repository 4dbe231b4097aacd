//! Stopping and reloading: SIGTERM and SIGINT stop the inputs and let the evaluator drain
//! the queue; SIGHUP, or a change to a rule file (checked every two seconds), loads the
//! rules again aside and hands them to the evaluator, which swaps them in between two
//! batches. A set that fails to load, or in which a rule that compiled before (or a new
//! one) no longer compiles, is reported and the old one stays.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, watch};

use crate::WatchOptions;
use crate::batch::Item;
use sigil_hunt::SkipKind;

/// How often rule files are checked for changes.
const RULE_POLL: Duration = Duration::from_secs(2);

/// The newest modification time and the number of rule files under `paths`: a change of
/// either means the rules changed.
fn rules_stamp(paths: &[PathBuf]) -> (Option<SystemTime>, usize) {
    let mut newest = None;
    let mut count = 0;
    for path in paths {
        for entry in walkdir::WalkDir::new(path).into_iter().flatten() {
            let name = entry.file_name().to_string_lossy();
            let rule = name.ends_with(".yml") || name.ends_with(".yaml") || name.ends_with(".toml");
            if !rule && entry.depth() > 0 {
                continue;
            }
            if let Some(modified) = entry.metadata().ok().and_then(|m| m.modified().ok()) {
                count += 1;
                newest = newest.max(Some(modified));
            }
        }
    }
    (newest, count)
}

/// The rules of a set that do not compile (broken files, rules the engine cannot build),
/// with why.
pub(crate) fn broken(hunter: &sigil_hunt::Hunter) -> BTreeSet<(String, String)> {
    hunter
        .skipped()
        .iter()
        .filter(|s| matches!(s.kind, SkipKind::Broken | SkipKind::Engine))
        .map(|s| (s.who.clone(), s.reason.clone()))
        .collect()
}

/// Starts the task that watches signals and rule files. `broken` are the rules of the
/// running set that do not compile: a reload that breaks another is refused.
pub(crate) fn start(
    runtime: &tokio::runtime::Handle,
    queue: mpsc::WeakSender<Item>,
    stop: watch::Sender<bool>,
    options: &WatchOptions,
    mut broken: BTreeSet<(String, String)>,
) {
    let options = options.clone();
    runtime.spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            eprintln!("sigil watch: cannot listen for signals");
            return;
        };
        let rules = options.rules.clone();
        let mut stamp = tokio::task::spawn_blocking(move || rules_stamp(&rules))
            .await
            .unwrap_or_default();
        let mut poll = tokio::time::interval(RULE_POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let reload = tokio::select! {
                _ = term.recv() => false,
                _ = int.recv() => false,
                _ = hup.recv() => true,
                _ = poll.tick() => {
                    let rules = options.rules.clone();
                    let now = tokio::task::spawn_blocking(move || rules_stamp(&rules))
                        .await
                        .unwrap_or_default();
                    if now == stamp {
                        continue;
                    }
                    stamp = now;
                    true
                }
            };
            if !reload {
                let _ = stop.send(true);
                if let Some(q) = queue.upgrade() {
                    let _ = q.send(Item::Stop).await;
                }
                return;
            }
            let load = options.clone();
            let item = match tokio::task::spawn_blocking(move || crate::load_rules(&load)).await {
                Ok(Ok(hunter)) => {
                    let now = self::broken(&hunter);
                    let newly: Vec<String> = now
                        .difference(&broken)
                        .map(|(who, why)| format!("{who}: {why}"))
                        .collect();
                    if newly.is_empty() {
                        broken = now;
                        Item::Swap(Box::new(hunter))
                    } else {
                        Item::ReloadFailed(format!(
                            "{} rule(s) do not compile: {}",
                            newly.len(),
                            newly.join("; ")
                        ))
                    }
                }
                Ok(Err(e)) => Item::ReloadFailed(e.to_string()),
                Err(e) => Item::ReloadFailed(e.to_string()),
            };
            match queue.upgrade() {
                Some(q) => {
                    if q.send(item).await.is_err() {
                        return;
                    }
                }
                None => return,
            }
        }
    });
}
