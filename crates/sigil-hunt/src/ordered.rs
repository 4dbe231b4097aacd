//! Reading logs in parallel with results in input order.
//!
//! Every command that reads logs and writes what it finds (`hunt`, `export`, `search`)
//! wants the same three things: all cores busy, output in input order whatever the thread
//! count, and memory that does not grow with the input. [`read_in_order`] gives them: each
//! worker takes the next part, reads it with its own [`Reader`] and state, and hands the
//! part's result to the ordered side; whoever completes the oldest pending part passes it
//! and every completed part after it to `done`. No worker waits at a barrier, and a
//! worker does not start a part more than [`MAX_PARTS_AHEAD`] beyond the oldest pending
//! one, which bounds the results held.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use sigil_logs::{Part, Reader};

/// How far beyond the oldest part not yet handed on a worker may start a part.
pub const MAX_PARTS_AHEAD: usize = 64;

/// The ordered side, shared by the workers.
struct Pending<T, D, E> {
    /// The next part to hand on.
    next: usize,
    done: BTreeMap<usize, T>,
    on_done: D,
    /// The first error of `on_done`; workers stop when there is one.
    error: Option<E>,
}

impl<T, D, E> Pending<T, D, E>
where
    D: FnMut(usize, T) -> Result<(), E>,
{
    /// Hands on the completed parts that are next in order; whether any was.
    fn flush(&mut self) -> bool {
        let start = self.next;
        while let Some(result) = self.done.remove(&self.next) {
            if self.error.is_none()
                && let Err(e) = (self.on_done)(self.next, result)
            {
                self.error = Some(e);
            }
            self.next += 1;
        }
        self.next > start
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
        done: BTreeMap::new(),
        on_done: done,
        error: None,
    });
    let written = Condvar::new();
    let claimed = AtomicUsize::new(0);
    let work = || {
        let mut reader = Reader::new();
        let mut state = init();
        loop {
            let i = claimed.fetch_add(1, Ordering::Relaxed);
            let Some(part) = parts.get(i) else { break };
            {
                // Wait while too far ahead (the oldest pending part is being read by a
                // worker that does not wait, so this ends).
                let Ok(mut p) = pending.lock() else { break };
                while i >= p.next + MAX_PARTS_AHEAD && p.error.is_none() {
                    let Ok(next) = written.wait(p) else { return };
                    p = next;
                }
                if p.error.is_some() {
                    break;
                }
            }
            let result = read(&mut state, &mut reader, i, part);
            let Ok(mut p) = pending.lock() else { break };
            p.done.insert(i, result);
            if p.flush() {
                written.notify_all();
            }
        }
        // A worker leaving early (an error) must not leave others waiting.
        written.notify_all();
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
            })
            .collect()
    }

    #[test]
    fn results_come_in_part_order_whatever_the_threads() {
        for threads in [1, 2, 4] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
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
    fn the_first_error_stops_the_run() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("pool");
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
