//! The evaluator: one thread that owns the rules and the open correlation windows, and
//! turns batches of records into written, committed, acknowledged detections.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use sigil_engine::WindowHit;
use sigil_hunt::{Finding, HuntError, HuntOptions, Hunter, LiveScan, LogMix, WindowName};
use tokio::sync::{mpsc, watch};

use crate::batch::{Batch, Item};
use crate::metrics::Metrics;
use crate::output::{self, Named};
use crate::state::State;
use crate::{WatchError, WatchOptions, WatchSummary, input};

/// Batches evaluated together before one flush, commit and acknowledgement, at most.
const COALESCE: usize = 32;
/// How long a stopping watch waits for its last acknowledgements upstream, at most.
const ACK_DRAIN: Duration = Duration::from_secs(10);
/// How often open windows are checked for expiry, in batches.
const SWEEP_EVERY: u64 = 256;

/// Loads and compiles the rules of `options`, as a hunt over JSON logs would.
pub fn load_rules(options: &WatchOptions) -> Result<Hunter, WatchError> {
    let hunt = HuntOptions {
        pipelines: options.pipelines.clone(),
        logs: LogMix {
            evtx: false,
            json: true,
        },
        ..HuntOptions::default()
    };
    match Hunter::load(&options.rules, &hunt) {
        Ok(h) => Ok(h),
        Err(HuntError::NoRules { .. }) => Err(WatchError::NoRules(
            options
                .rules
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Runs a watch with the rules already loaded (see [`load_rules`]) until every input has
/// ended or the process is asked to stop (SIGTERM, SIGINT), then drains what is queued.
pub fn run(options: &WatchOptions, hunter: Hunter) -> Result<WatchSummary, WatchError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("watch-io")
        .enable_all()
        .build()?;
    let names: Vec<String> = options.inputs.iter().map(ToString::to_string).collect();
    let metrics = Arc::new(Metrics::new(&names));
    let mut outputs = Vec::new();
    let default = [crate::OutputSpec::Stdout];
    let specs = if options.outputs.is_empty() {
        &default[..]
    } else {
        &options.outputs[..]
    };
    for spec in specs {
        outputs.push(output::open(
            spec,
            &spec.to_string(),
            runtime.handle(),
            &metrics,
        )?);
    }
    let state = options.state.as_deref().map(State::open).transpose()?;
    let capacity = if options.queue == 0 {
        64
    } else {
        options.queue
    };
    metrics
        .queue_capacity
        .store(capacity as u64, Ordering::Relaxed);
    let (queue, items) = mpsc::channel(capacity);
    let (stop_tx, stop) = watch::channel(false);
    for (index, spec) in options.inputs.iter().enumerate() {
        input::start(
            spec,
            input::Context {
                index,
                queue: queue.clone(),
                stop: stop.clone(),
                metrics: Arc::clone(&metrics),
                resume: state.as_ref().and_then(|s| s.position(&spec.to_string())),
                repeat_until: state.as_ref().and_then(|s| s.in_flight(&spec.to_string())),
            },
            runtime.handle(),
        )?;
    }
    if let Some(addr) = options.metrics {
        crate::serve::start(addr, Arc::clone(&metrics), runtime.handle())?;
    }
    crate::signals::start(
        runtime.handle(),
        queue.downgrade(),
        stop_tx,
        options,
        crate::signals::broken(&hunter),
    );
    // Only the inputs hold the queue open now: when all have ended, the evaluator ends.
    drop(queue);
    let mut evaluator = Evaluator {
        metrics: &metrics,
        outputs,
        windows: HashMap::new(),
        state,
        in_transaction: false,
        changed: HashSet::new(),
        positions: HashMap::new(),
        names: names.clone(),
        reader: sigil_logs::Reader::new(),
        found: Vec::new(),
        line: Vec::with_capacity(4096),
        latest: i64::MIN,
        batches: 0,
        detections: 0,
        reloads: 0,
    };
    if let Some(s) = &evaluator.state {
        metrics
            .open_windows
            .store(s.open_windows(), Ordering::Relaxed);
    }
    let result = evaluator.run(hunter, items);
    let (events, bad) = metrics.totals();
    let summary = WatchSummary {
        events,
        bad_records: bad,
        detections: evaluator.detections,
        reloads: evaluator.reloads,
    };
    drop(evaluator);
    // Acknowledgements of the last batches are still on their way: wait for them (a
    // server gone quiet is waited for 10 s at most; what is not acknowledged comes again).
    let start = Instant::now();
    while metrics.pending_acks.load(Ordering::SeqCst) > 0 && start.elapsed() < ACK_DRAIN {
        std::thread::sleep(Duration::from_millis(5));
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    result.map(|()| summary)
}

struct Evaluator<'a> {
    metrics: &'a Metrics,
    outputs: Vec<Named>,
    /// The open windows: all of them without a state file; with one, those the current
    /// transaction read (the file holds them all).
    windows: HashMap<WindowName, Vec<WindowHit>>,
    state: Option<State>,
    /// Whether a state transaction is open (a batch touched a window).
    in_transaction: bool,
    changed: HashSet<WindowName>,
    /// Where followed files have been read to, by input, since the last commit.
    positions: HashMap<usize, crate::batch::Position>,
    /// The inputs' names, as the state keys their positions.
    names: Vec<String>,
    reader: sigil_logs::Reader,
    found: Vec<Finding>,
    line: Vec<u8>,
    /// The latest hit time seen, for window expiry.
    latest: i64,
    batches: u64,
    detections: u64,
    reloads: u64,
}

/// What ended a run of batches under one rule set.
enum Next {
    /// The rules were loaded again: go on with these.
    Swap(Box<Hunter>),
    /// Every input ended, or the watch was asked to stop.
    End,
}

impl Evaluator<'_> {
    fn run(
        &mut self,
        mut hunter: Hunter,
        mut items: mpsc::Receiver<Item>,
    ) -> Result<(), WatchError> {
        loop {
            match self.under(&hunter, &mut items)? {
                Next::Swap(new) => {
                    hunter = *new;
                    self.reloads += 1;
                    self.metrics.reloads.fetch_add(1, Ordering::Relaxed);
                    // Windows of correlations that are gone are closed.
                    let before = self.windows.len();
                    self.windows.retain(|n, _| hunter.window_key(n).is_some());
                    let mut closed = before - self.windows.len();
                    if let Some(s) = self.state.as_mut() {
                        let keep: Vec<String> = (0..hunter.engine().correlation_count() as u32)
                            .filter_map(|i| {
                                hunter.window_name(&sigil_engine::WindowKey {
                                    correlation: i,
                                    group: Vec::new(),
                                })
                            })
                            .map(|n| n.correlation)
                            .collect();
                        s.begin()?;
                        closed += s.keep_only(&keep)?;
                        s.commit()?;
                    }
                    eprintln!(
                        "sigil watch: rules loaded again: {} rules compiled{}",
                        hunter.compiled().len(),
                        if closed == 0 {
                            String::new()
                        } else {
                            format!(", {closed} windows of correlations no longer there closed")
                        }
                    );
                }
                Next::End => return Ok(()),
            }
        }
    }

    /// Evaluates batches with one rule set until the rules change or the watch ends.
    fn under(
        &mut self,
        hunter: &Hunter,
        items: &mut mpsc::Receiver<Item>,
    ) -> Result<Next, WatchError> {
        let mut live = hunter.live();
        let mut done = Vec::new();
        let mut oldest: Option<Instant> = None;
        loop {
            let Some(item) = items.blocking_recv() else {
                return Ok(Next::End);
            };
            let mut pending = Some(item);
            let mut taken = 0;
            let mut next = None;
            while let Some(item) = pending.take() {
                match item {
                    Item::Batch(batch) => {
                        self.metrics.queued.fetch_sub(1, Ordering::Relaxed);
                        if let Some(p) = batch.position
                            && self.state.is_some()
                        {
                            // A followed file: its records' end is committed before their
                            // detections are written (outside a window transaction, so
                            // what came before is flushed first).
                            if self.in_transaction {
                                self.flush(&mut done, oldest.take())?;
                            }
                            if let Some(s) = self.state.as_mut() {
                                s.put_in_flight(&self.names[batch.input], p)?;
                            }
                        }
                        oldest = Some(oldest.map_or(batch.received, |o| o.min(batch.received)));
                        self.batch(hunter, &mut live, &batch)?;
                        if let Some(p) = batch.position {
                            self.positions.insert(batch.input, p);
                        }
                        done.extend(batch.done);
                        taken += 1;
                    }
                    Item::Swap(h) => next = Some(Next::Swap(h)),
                    Item::ReloadFailed(e) => {
                        self.metrics.reload_failures.fetch_add(1, Ordering::Relaxed);
                        eprintln!("sigil watch: rules not loaded again, the old ones stay: {e}");
                    }
                    Item::Stop => next = Some(Next::End),
                }
                if next.is_some() || taken >= COALESCE {
                    break;
                }
                pending = items.try_recv().ok();
            }
            self.flush(&mut done, oldest.take())?;
            if let Some(next) = next {
                return Ok(next);
            }
        }
    }

    /// The open window of `name`: kept in memory, or read from the state file inside the
    /// batch's transaction.
    fn window(&mut self, name: &WindowName) -> Result<&mut Vec<WindowHit>, WatchError> {
        if !self.windows.contains_key(name) {
            let hits = match self.state.as_mut() {
                Some(s) => {
                    if !self.in_transaction {
                        s.begin()?;
                        self.in_transaction = true;
                    }
                    s.window(name)?
                }
                None => Vec::new(),
            };
            self.windows.insert(name.clone(), hits);
        }
        Ok(self.windows.entry(name.clone()).or_default())
    }

    /// Evaluates one batch: parses each record, evaluates it, advances the windows and
    /// writes the detections (not yet flushed).
    fn batch(
        &mut self,
        hunter: &Hunter,
        live: &mut LiveScan<'_>,
        batch: &Batch,
    ) -> Result<(), WatchError> {
        let origin = &batch.origin;
        let path = Path::new(&**origin);
        let mut events = 0;
        let mut bad = 0;
        let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
        for record in &batch.records {
            if let Some(why) = &record.bad {
                bad += 1;
                eprintln!("sigil watch: {origin}: record {}: {why}", record.line);
                continue;
            }
            let bytes = &batch.data[record.range.clone()];
            if bytes.trim_ascii().is_empty() {
                continue;
            }
            let found = &mut self.found;
            let read = self
                .reader
                .read_json_record(path, record.line, bytes, &mut |_, event| {
                    live.event(event, Some(origin), found);
                });
            match read {
                Ok(()) => events += 1,
                Err(why) => {
                    bad += 1;
                    eprintln!("sigil watch: {why}");
                    continue;
                }
            }
            for (key, hit) in live.take_hits() {
                let Some(name) = hunter.window_name(&key) else {
                    continue;
                };
                self.latest = self.latest.max(hit.time);
                let mut fired = Vec::new();
                let window = self.window(&name)?;
                live.correlate(&key, window, hit, &mut fired);
                self.found.append(&mut fired);
                self.changed.insert(name);
            }
            for f in self.found.drain(..) {
                self.line.clear();
                f.write_jsonl(&mut self.line);
                if record.repeat {
                    // `{...}\n` becomes `{...,"repeat":true}\n`.
                    self.line.truncate(self.line.len() - 2);
                    self.line.extend_from_slice(b",\"repeat\":true}\n");
                }
                for o in &mut self.outputs {
                    o.output.write(&self.line).map_err(|e| WatchError::Output {
                        output: o.name.clone(),
                        message: e.to_string(),
                    })?;
                }
                self.detections += 1;
                *counts
                    .entry((
                        f.level.map_or("none", sigil_core::Level::name).to_string(),
                        f.rule_id.unwrap_or(f.title),
                    ))
                    .or_default() += 1;
            }
        }
        self.metrics.events_in(batch.input, events);
        self.metrics.bad_in(batch.input, bad);
        if !counts.is_empty() {
            self.metrics.detections_out(counts);
        }
        self.batches += 1;
        if self.state.is_none() && self.batches.is_multiple_of(SWEEP_EVERY) {
            self.sweep(hunter);
        }
        Ok(())
    }

    /// Closes the windows whose newest hit is older than their timespan before the latest
    /// hit seen: no hit in order can join them any more.
    fn sweep(&mut self, hunter: &Hunter) {
        let latest = self.latest;
        let mut spans: HashMap<String, Option<i64>> = HashMap::new();
        self.windows.retain(|name, hits| {
            let span = *spans
                .entry(name.correlation.clone())
                .or_insert_with(|| hunter.window_key(name).map(|(_, s)| s));
            let newest = hits.last().map_or(i64::MIN, |h| h.time);
            span.is_some_and(|s| latest.saturating_sub(newest) <= s)
        });
    }

    /// Makes the batches' detections durable, commits the windows they changed and the
    /// positions read to, and then tells their inputs they are done.
    fn flush(
        &mut self,
        done: &mut Vec<tokio::sync::oneshot::Sender<()>>,
        oldest: Option<Instant>,
    ) -> Result<(), WatchError> {
        for o in &mut self.outputs {
            o.output.flush().map_err(|e| WatchError::Output {
                output: o.name.clone(),
                message: e.to_string(),
            })?;
        }
        if let Some(s) = self.state.as_mut() {
            if !self.positions.is_empty() && !self.in_transaction {
                s.begin()?;
                self.in_transaction = true;
            }
            for name in &self.changed {
                s.put(name, self.windows.get(name).map_or(&[][..], Vec::as_slice))?;
            }
            for (&i, &p) in &self.positions {
                s.put_position(&self.names[i], p)?;
            }
            if self.in_transaction {
                s.commit()?;
                self.in_transaction = false;
                self.metrics
                    .open_windows
                    .store(s.open_windows(), Ordering::Relaxed);
            }
            // The file holds the windows; the next batch reads what is committed then.
            self.windows.clear();
        } else {
            self.windows.retain(|_, w| !w.is_empty());
            self.metrics
                .open_windows
                .store(self.windows.len() as u64, Ordering::Relaxed);
        }
        self.positions.clear();
        self.changed.clear();
        for d in done.drain(..) {
            let _ = d.send(());
        }
        if let Some(t) = oldest {
            self.metrics
                .lag_micros
                .store(t.elapsed().as_micros() as u64, Ordering::Relaxed);
        }
        Ok(())
    }
}
