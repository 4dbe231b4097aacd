//! How the worker threads spent each phase of a run, for the benchmarks: with
//! `SIGIL_THREAD_TIMES=1` in the environment a log-reading command prints, after its
//! summary, one line per phase (start-up, reading, ...) with each worker thread's time on a
//! CPU (busy), waiting for a CPU that other processes held (runnable), and neither (idle:
//! waiting for work, for another thread, or for the disk). On a shared machine wall time
//! says little about threads; busy and idle time say where they waited even then.
//!
//! The figures come from `/proc/self/task/*/schedstat` (Linux; elsewhere nothing is
//! printed). The main thread only waits for the pool and is left out.

use std::collections::BTreeMap;
use std::time::Instant;

/// A thread's CPU time and run-queue wait, in nanoseconds.
#[derive(Debug, Clone, Copy, Default)]
struct Sched {
    busy: u64,
    runnable: u64,
}

/// Every thread of the process but the main one, by id.
fn threads() -> BTreeMap<u32, Sched> {
    let mut all = BTreeMap::new();
    let main = std::process::id();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return all;
    };
    for task in tasks.flatten() {
        let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<u32>().ok())
        else {
            continue;
        };
        if tid == main {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        let mut fields = text
            .split_whitespace()
            .map(|f| f.parse::<u64>().unwrap_or(0));
        let busy = fields.next().unwrap_or(0);
        let runnable = fields.next().unwrap_or(0);
        all.insert(tid, Sched { busy, runnable });
    }
    all
}

/// The phases of one run, measured when `SIGIL_THREAD_TIMES` is set.
pub struct ThreadTimes {
    last: Option<(Instant, BTreeMap<u32, Sched>)>,
    lines: Vec<String>,
}

impl ThreadTimes {
    /// Starts measuring if `SIGIL_THREAD_TIMES` is set (to anything but `0` or nothing).
    pub fn from_env() -> Self {
        let on = std::env::var_os("SIGIL_THREAD_TIMES").is_some_and(|v| !v.is_empty() && v != "0");
        Self {
            last: on.then(|| (Instant::now(), threads())),
            lines: Vec::new(),
        }
    }

    /// Ends the phase `name` (begun at the previous call, or at the start).
    pub fn phase(&mut self, name: &str) {
        let Some((since, before)) = &self.last else {
            return;
        };
        let now = Instant::now();
        let after = threads();
        let wall = now.duration_since(*since).as_secs_f64();
        let secs = |ns: u64| ns as f64 / 1e9;
        let mut parts = Vec::new();
        let (mut busy_all, mut idle_all) = (0.0, 0.0);
        for (tid, a) in &after {
            let b = before.get(tid).copied().unwrap_or_default();
            let busy = secs(a.busy.saturating_sub(b.busy));
            let runnable = secs(a.runnable.saturating_sub(b.runnable));
            let idle = (wall - busy - runnable).max(0.0);
            busy_all += busy;
            idle_all += idle;
            parts.push(format!(
                "{tid} busy {busy:.3} runnable {runnable:.3} idle {idle:.3}"
            ));
        }
        self.lines.push(format!(
            "thread times: {name}: wall {wall:.3} s, {} threads busy {busy_all:.3} s idle {idle_all:.3} s ({})",
            after.len(),
            parts.join("; ")
        ));
        self.last = Some((now, after));
    }

    /// Prints the phases measured, if any, to standard error.
    pub fn print(&self) {
        for line in &self.lines {
            eprintln!("{line}");
        }
    }
}
