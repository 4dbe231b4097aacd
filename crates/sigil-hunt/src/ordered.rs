//! Reading logs in parallel with results in input order.
//!
//! Every command that reads logs and writes what it finds (`hunt`, `export`, `search`)
//! wants the same three things: all cores busy, output in input order whatever the thread
//! count, and memory that does not grow with the input. [`read_in_order`] gives them: each
//! worker takes the next part, reads it with its own [`Reader`] and state, and leaves the
//! part's result with the ordered side. A worker that leaves the result the oldest pending
//! part was waiting for, when no other worker is handing results on, becomes the writer: it
//! takes that result and every completed one after it and passes them to `done` *outside*
//! the lock, so the other workers leave their results and go on reading meanwhile; it
//! looks again for results made ready while it wrote, and goes back to reading when there
//! are none. No worker waits at a barrier or for the writer, and a worker does not start a
//! part more than [`MAX_PARTS_AHEAD`] beyond the oldest part not yet handed on, which
//! bounds the results held.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use sigil_logs::{Part, Reader};

/// How far beyond the oldest part not yet handed on a worker may start a part.
pub const MAX_PARTS_AHEAD: usize = 64;

/// The ordered side, shared by the workers.
struct Pending<T, E> {
    /// The next part to take for handing on (those before it are handed on, or being
    /// handed on by the writer).
    next: usize,
    /// The parts handed on: the oldest part not yet handed on.
    handed: usize,
    /// Completed parts not yet taken.
    done: BTreeMap<usize, T>,
    /// Whether a worker is handing results on now.
    writing: bool,
    /// The first error of `done`; workers stop when there is one.
    error: Option<E>,
}

impl<T, E> Pending<T, E> {
    /// Takes the completed parts that are next in order into `batch`.
    fn take_ready(&mut self, batch: &mut Vec<(usize, T)>) {
        while let Some(result) = self.done.remove(&self.next) {
            batch.push((self.next, result));
            self.next += 1;
        }
    }
}

/// Reads `parts` on the current rayon pool. Each worker makes its state with `init`;
/// `read` reads one part with the worker's state and reader and returns the part's
/// result; `done` receives the results in part order (one call at a time). The first
/// error of `done` stops the workers and is returned.
pub fn read_in_order<S, T, E, I, R, D>(parts: &[Part], init: I, read: R, done: D) -> Result<(), E>
where
    T: Send,
    E: Send,
    I: Fn() -> S + Sync,
    R: Fn(&mut S, &mut Reader, usize, &Part) -> T + Sync,
    D: FnMut(usize, T) -> Result<(), E> + Send,
{
    let pending = Mutex::new(Pending {
        next: 0,
        handed: 0,
        done: BTreeMap::new(),
        writing: false,
        error: None,
    });
    // Only the writer of the moment locks it, so it is never waited for.
    let on_done = Mutex::new(done);
    // Notified when parts are handed on, or on an error.
    let taken = Condvar::new();
    let claimed = AtomicUsize::new(0);
    let work = || {
        let mut reader = Reader::new();
        let mut state = init();
        let mut batch = Vec::new();
        loop {
            let i = claimed.fetch_add(1, Ordering::Relaxed);
            let Some(part) = parts.get(i) else { break };
            {
                // Wait while too far ahead (the oldest part not handed on is being read
                // by a worker that does not wait, or written, so this ends).
                let Ok(mut p) = pending.lock() else { break };
                while i >= p.handed + MAX_PARTS_AHEAD && p.error.is_none() {
                    let Ok(next) = taken.wait(p) else { return };
                    p = next;
                }
                if p.error.is_some() {
                    break;
                }
            }
            let result = read(&mut state, &mut reader, i, part);
            let Ok(mut p) = pending.lock() else { break };
            p.done.insert(i, result);
            if p.writing {
                // The writer looks again before it stops, and takes this if it is next.
                continue;
            }
            loop {
                p.take_ready(&mut batch);
                if batch.is_empty() {
                    p.writing = false;
                    break;
                }
                p.writing = true;
                let end = p.next;
                let stopped = p.error.is_some();
                drop(p);
                let mut failed = None;
                if !stopped {
                    let Ok(mut on_done) = on_done.lock() else {
                        return;
                    };
                    for (at, result) in batch.drain(..) {
                        if let Err(e) = (*on_done)(at, result) {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                batch.clear();
                let Ok(next) = pending.lock() else { return };
                p = next;
                p.handed = end;
                if let Some(e) = failed {
                    p.error.get_or_insert(e);
                }
                taken.notify_all();
            }
        }
        // A worker leaving early (an error) must not leave others waiting.
        taken.notify_all();
    };
    let threads = rayon::current_num_threads().min(parts.len()).max(1);
    rayon::scope(|s| {
        for _ in 1..threads {
            s.spawn(|_| work());
        }
        work();
    });
    match pending.into_inner() {
        Ok(p) => p.error.map_or(Ok(()), Err),
        // A worker panicked while holding the lock: rayon re-raises the panic at the end
        // of the scope, so this is not reached.
        Err(poisoned) => poisoned.into_inner().error.map_or(Ok(()), Err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::Arc;

    fn parts(n: usize) -> Vec<Part> {
        (0..n)
            .map(|i| Part {
                input: Arc::new(sigil_logs::Input {
                    path: PathBuf::from(format!("/nonexistent/{i}.json")),
                    kind: sigil_logs::InputKind::Json,
                    len: 0,
                }),
                chunks: None,
                lines: None,
            })
            .collect()
    }

    /// A rayon pool of `threads` threads.
    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
    }

    #[test]
    fn results_come_in_part_order_whatever_the_threads() {
        for threads in [1, 2, 4] {
            let pool = pool(threads);
            let parts = parts(300);
            let mut seen = Vec::new();
            pool.install(|| {
                read_in_order(
                    &parts,
                    || (),
                    |(), _reader, i, _part| {
                        // Later parts finish first now and then.
                        if i % 7 == 0 {
                            std::thread::sleep(std::time::Duration::from_micros(200));
                        }
                        i
                    },
                    |at, i| {
                        assert_eq!(at, i);
                        seen.push(i);
                        Ok::<(), ()>(())
                    },
                )
            })
            .expect("no error");
            assert_eq!(seen, (0..300).collect::<Vec<_>>(), "{threads} threads");
        }
    }

    #[test]
    fn workers_read_on_while_results_are_handed_on() {
        // `done` of the first part waits until a later part has been read: that needs the
        // other worker to leave its results and go on while `done` runs.
        let pool = pool(2);
        let parts = parts(40);
        let started = Mutex::new(0usize);
        let more = Condvar::new();
        let mut seen = Vec::new();
        pool.install(|| {
            read_in_order(
                &parts,
                || (),
                |(), _reader, i, _part| {
                    let Ok(mut n) = started.lock() else { return i };
                    *n = (*n).max(i);
                    more.notify_all();
                    i
                },
                |at, i| {
                    if at == 0 {
                        let n = started.lock().expect("lock");
                        // A generous bound, only so that a failure ends instead of hanging.
                        let (n, _) = more
                            .wait_timeout_while(n, std::time::Duration::from_mins(1), |n| *n < 3)
                            .expect("lock");
                        assert!(*n >= 3, "no part was read while the first was handed on");
                    }
                    seen.push(i);
                    Ok::<(), ()>(())
                },
            )
        })
        .expect("no error");
        assert_eq!(seen, (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_error_stops_the_run() {
        let pool = pool(2);
        let parts = parts(500);
        let read = AtomicUsize::new(0);
        let result = pool.install(|| {
            read_in_order(
                &parts,
                || (),
                |(), _reader, i, _part| {
                    read.fetch_add(1, Ordering::Relaxed);
                    i
                },
                |_, i| if i == 3 { Err(i) } else { Ok(()) },
            )
        });
        assert_eq!(result, Err(3));
        // Workers stop within the look-ahead window of the failed part.
        assert!(read.load(Ordering::Relaxed) <= 4 + MAX_PARTS_AHEAD + 2);
    }
}
