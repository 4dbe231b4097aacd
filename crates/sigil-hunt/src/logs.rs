//! The logs of a run: the paths given, the logs found under them, split into parts and
//! read in order.
//!
//! Every command that reads logs (`hunt`, `search`, `metrics`, `export`, `query`) starts
//! the same way: find the logs under the paths given (a path that does not exist is a
//! mistake in the command, a file that is not a log is reported), split them into parts
//! of similar size, read the parts in parallel through the same time window and computer
//! filter, and count what was read, skipped and unreadable. [`Logs`] is that, once.

use std::path::{Path, PathBuf};

use sigil_logs::{FileStats, FlatEvent, Input, LogError, Part, Reader, RecordMeta};

use crate::LogMix;
use crate::filter::EventFilter;
use crate::ordered::read_in_order;
use crate::run::DEFAULT_CHUNKS_PER_PART;

/// Why logs cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// Paths given that do not exist, each with its message.
    #[error("{}", .0.join("; "))]
    Missing(Vec<String>),
}

/// The logs found under the paths a command was given.
#[derive(Debug)]
pub struct Logs {
    inputs: Vec<Input>,
    unreadable: Vec<LogError>,
    parts: Vec<Part>,
}

/// What reading logs did, for a command's summary.
#[derive(Debug, Clone, Default)]
pub struct ReadSummary {
    /// Logs read.
    pub files: usize,
    /// Events read, records and chunks skipped, read errors inside files.
    pub stats: FileStats,
    /// Paths found that could not be read as logs, then errors inside files, as messages.
    pub read_errors: Vec<String>,
}

impl ReadSummary {
    /// Whether some log could not be read in full (an unreadable file, a damaged chunk).
    pub fn incomplete(&self) -> bool {
        !self.read_errors.is_empty() || self.stats.skipped_chunks > 0
    }

    /// Whether no event was read at all (events left out by the time window count as
    /// read).
    pub fn nothing_read(&self) -> bool {
        self.stats.events + self.stats.outside_window + self.stats.chunks_outside_window == 0
    }
}

/// One part being read: its events through the run's filter, counted.
#[derive(Debug)]
pub struct PartReader<'a> {
    reader: &'a mut Reader,
    filter: &'a EventFilter,
    stats: FileStats,
}

impl PartReader<'_> {
    /// Calls `f` with every event of `part` that the run's filter admits.
    pub fn each(&mut self, part: &Part, f: &mut dyn FnMut(&RecordMeta<'_>, &FlatEvent)) {
        let filter = self.filter;
        let stats = self.reader.read_part(part, &mut |meta, event| {
            if filter.admits(meta) {
                f(meta, event);
            }
        });
        self.stats.merge(stats);
    }

    /// [`PartReader::each`] for a caller that needs no metadata: JSON events' metadata is
    /// then read only as far as the run's filter needs (see
    /// [`Reader::set_bare_meta`]).
    pub fn each_event(&mut self, part: &Part, f: &mut dyn FnMut(&FlatEvent)) {
        let filter = self.filter;
        self.reader.set_bare_meta(filter.computers.is_empty());
        let stats = self.reader.read_part(part, &mut |meta, event| {
            if filter.admits(meta) {
                f(event);
            }
        });
        self.reader.set_bare_meta(false);
        self.stats.merge(stats);
    }
}

impl Logs {
    /// Finds the logs under `paths` (files, folders searched recursively, `-` for standard
    /// input), leaving out the inputs `leave_out` names (an output among the logs). A path
    /// given that does not exist is an error naming every such path.
    pub fn find(paths: &[PathBuf], leave_out: &dyn Fn(&Path) -> bool) -> Result<Self, LogsError> {
        let mut discovery = sigil_logs::discover(paths);
        let missing: Vec<String> = discovery
            .errors
            .iter()
            .filter(|e| paths.iter().any(|p| p.as_path() == e.path()))
            .filter(|e| !e.path().exists())
            .map(ToString::to_string)
            .collect();
        if !missing.is_empty() {
            return Err(LogsError::Missing(missing));
        }
        discovery.inputs.retain(|input| !leave_out(&input.path));
        let parts = sigil_logs::split_into_parts(&discovery.inputs, DEFAULT_CHUNKS_PER_PART);
        Ok(Self {
            inputs: discovery.inputs,
            unreadable: discovery.errors,
            parts,
        })
    }

    /// Logs already found (by [`sigil_logs::discover`] or otherwise).
    pub fn of(inputs: Vec<Input>) -> Self {
        let parts = sigil_logs::split_into_parts(&inputs, DEFAULT_CHUNKS_PER_PART);
        Self {
            inputs,
            unreadable: Vec::new(),
            parts,
        }
    }

    /// Splits large JSON-lines files into parts of whole lines (see
    /// [`sigil_logs::split_json_lines`]) when the current rayon pool has more than one
    /// thread and the logs make fewer than four parts per thread: so that a few large files
    /// are read by every thread. Many files share the threads well as they are, and are not
    /// scanned for their lines. Findings keep their order, and messages their line numbers.
    #[must_use]
    pub fn split_json_lines(mut self) -> Self {
        let threads = rayon::current_num_threads();
        if threads > 1 && self.parts.len() < 4 * threads {
            let parts = std::mem::take(&mut self.parts);
            self.parts = sigil_logs::split_json_lines(parts, sigil_logs::JSON_BYTES_PER_PART);
        }
        self
    }

    /// The logs found.
    pub fn inputs(&self) -> &[Input] {
        &self.inputs
    }

    /// Paths found that are not logs, or could not be read.
    pub fn unreadable(&self) -> &[LogError] {
        &self.unreadable
    }

    /// Whether no log was found.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// The kinds of logs found.
    pub fn mix(&self) -> LogMix {
        LogMix::of(&self.inputs)
    }

    /// The parts the logs are read in.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// Reads every part on the current rayon pool through `filter`: each worker makes its
    /// state with `init`, `read` reads one part (through the [`PartReader`]) and returns
    /// its result, `done` receives the results in part order. `progress` is called once per
    /// part. The first error of `done` stops the reading and is returned.
    pub fn read<S, T, E>(
        &self,
        filter: &EventFilter,
        progress: &(dyn Fn() + Sync),
        init: impl Fn() -> S + Sync,
        read: impl Fn(&mut S, &mut PartReader<'_>, &Part) -> T + Sync,
        mut done: impl FnMut(T) -> Result<(), E> + Send,
    ) -> Result<ReadSummary, E>
    where
        T: Send,
        E: Send,
    {
        let mut stats = FileStats::default();
        read_in_order(
            &self.parts,
            init,
            |state, reader, _i, part| {
                filter.prepare(reader);
                let mut part_reader = PartReader {
                    reader,
                    filter,
                    stats: FileStats::default(),
                };
                let result = read(state, &mut part_reader, part);
                progress();
                (result, part_reader.stats)
            },
            |_i, (result, part_stats): (T, FileStats)| {
                stats.merge(part_stats);
                done(result)
            },
        )?;
        let mut read_errors: Vec<String> =
            self.unreadable.iter().map(ToString::to_string).collect();
        read_errors.extend(stats.errors.iter().cloned());
        Ok(ReadSummary {
            files: self.inputs.len(),
            stats,
            read_errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::ComputerPattern;

    /// A folder with two JSON-lines logs (3 and 2 events, on computers `pc1` and `pc2`) and
    /// an `.evtx` file that is not one.
    fn folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let line = |computer: &str, id: u32| {
            format!(
                "{{\"Channel\":\"Security\",\"EventID\":4688,\"Computer\":\"{computer}\",\"EventRecordID\":{id}}}\n"
            )
        };
        let a: String = (1..=3).map(|i| line("pc1", i)).collect();
        let b: String = (1..=2).map(|i| line("pc2", i)).collect();
        std::fs::write(dir.path().join("a.jsonl"), a).expect("write");
        std::fs::write(dir.path().join("b.jsonl"), b).expect("write");
        std::fs::write(dir.path().join("broken.evtx"), b"not an event log").expect("write");
        dir
    }

    /// Reads `logs` on `threads` workers: the events of each part (path, record ids), in
    /// the order they were handed on, and the summary.
    fn read_all(
        logs: &Logs,
        filter: &EventFilter,
        threads: usize,
    ) -> (Vec<(String, Vec<u64>)>, ReadSummary) {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        let mut seen = Vec::new();
        let summary = pool
            .install(|| {
                logs.read(
                    filter,
                    &|| {},
                    || (),
                    |(), events, part| {
                        let mut ids = Vec::new();
                        events.each(part, &mut |meta, _event| {
                            ids.extend(meta.record_id);
                        });
                        (part.input.path.display().to_string(), ids)
                    },
                    |part| {
                        seen.push(part);
                        Ok::<(), std::convert::Infallible>(())
                    },
                )
            })
            .unwrap_or_else(|never| match never {});
        (seen, summary)
    }

    #[test]
    fn a_path_that_does_not_exist_is_an_error_naming_it() {
        let dir = folder();
        let missing = dir.path().join("nowhere");
        let err = Logs::find(&[dir.path().to_path_buf(), missing.clone()], &|_| false)
            .expect_err("a missing path");
        assert!(
            err.to_string().contains(&missing.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn logs_are_read_in_order_with_their_counts_and_errors() {
        let dir = folder();
        let logs = Logs::find(&[dir.path().to_path_buf()], &|_| false).expect("found");
        assert_eq!(logs.inputs().len(), 2);
        assert_eq!(logs.unreadable().len(), 1, "{:?}", logs.unreadable());
        assert!(logs.mix().json && !logs.mix().evtx);
        for threads in [1, 2] {
            let (seen, summary) = read_all(&logs, &EventFilter::default(), threads);
            let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
            let expected: Vec<String> = logs
                .parts()
                .iter()
                .map(|p| p.input.path.display().to_string())
                .collect();
            assert_eq!(paths, expected, "{threads} threads");
            let ids: Vec<u64> = seen.iter().flat_map(|(_, ids)| ids.clone()).collect();
            assert_eq!(ids.len(), 5, "{threads} threads");
            assert_eq!(summary.files, 2);
            assert_eq!(summary.stats.events, 5);
            assert_eq!(summary.read_errors.len(), 1);
            assert!(
                summary.read_errors[0].contains("broken.evtx"),
                "{:?}",
                summary.read_errors
            );
            assert!(summary.incomplete());
            assert!(!summary.nothing_read());
        }
    }

    #[test]
    fn the_filter_and_the_output_left_out_are_applied() {
        let dir = folder();
        let b = dir.path().join("b.jsonl");
        let logs = Logs::find(&[dir.path().to_path_buf()], &|p| p == b).expect("found");
        assert_eq!(logs.inputs().len(), 1);
        let (seen, _) = read_all(&logs, &EventFilter::default(), 1);
        assert_eq!(seen.len(), 1);
        assert!(seen[0].0.ends_with("a.jsonl"));

        let logs = Logs::find(&[dir.path().to_path_buf()], &|_| false).expect("found");
        let filter = EventFilter {
            computers: vec![ComputerPattern::new("PC2").expect("pattern")],
            ..EventFilter::default()
        };
        let (seen, _) = read_all(&logs, &filter, 2);
        let ids: Vec<(bool, Vec<u64>)> = seen
            .iter()
            .map(|(p, ids)| (p.ends_with("b.jsonl"), ids.clone()))
            .collect();
        assert_eq!(ids, vec![(false, vec![]), (true, vec![1, 2])]);
    }
}
