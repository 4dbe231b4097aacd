//! Findings in timestamp order across all logs, in bounded memory.
//!
//! A hunt hands findings on in input order: file by file, each file in record order. A
//! timeline wants them by time. [`TimeSorter`] keeps findings until they fill a budget,
//! sorts them and writes them to an unnamed temporary file as one sorted run; at the end
//! it merges the runs (and what is still held) by time. Memory is the budget plus one
//! finding per run, whatever the number of findings. Findings of equal time keep their
//! input order, and findings without a readable time come last, in input order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::sync::Arc;

use sigil_core::Level;

use crate::finding::Finding;

/// The default budget of findings held in memory before a run is written out, in bytes
/// (approximately: the texts of the findings).
pub const DEFAULT_SORT_BUDGET: usize = 32 * 1024 * 1024;

/// The order of a finding: its time (none: last), then its place in the input.
type Key = (i64, u64);

fn key_of(f: &Finding, seq: u64) -> Key {
    let time = f
        .timestamp
        .as_deref()
        .and_then(sigil_logs::parse_timestamp_micros)
        .unwrap_or(i64::MAX);
    (time, seq)
}

/// Sorts findings by time with a bounded memory (see the module's documentation).
#[derive(Debug)]
pub struct TimeSorter {
    budget: usize,
    held: Vec<(Key, Finding)>,
    held_bytes: usize,
    runs: Vec<std::fs::File>,
    seq: u64,
}

impl Default for TimeSorter {
    fn default() -> Self {
        Self::new(DEFAULT_SORT_BUDGET)
    }
}

impl TimeSorter {
    /// A sorter that holds about `budget` bytes of findings before writing a run.
    pub fn new(budget: usize) -> Self {
        Self {
            budget: budget.max(1),
            held: Vec::new(),
            held_bytes: 0,
            runs: Vec::new(),
            seq: 0,
        }
    }

    /// Takes one finding (in input order).
    pub fn push(&mut self, finding: Finding) -> io::Result<()> {
        let key = key_of(&finding, self.seq);
        self.seq += 1;
        self.held_bytes += size_of(&finding);
        self.held.push((key, finding));
        if self.held_bytes >= self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// How many runs were written to temporary files so far.
    pub fn runs_written(&self) -> usize {
        self.runs.len()
    }

    /// Writes the findings held as one sorted run.
    fn spill(&mut self) -> io::Result<()> {
        self.held.sort_unstable_by_key(|(k, _)| *k);
        let mut out = BufWriter::new(tempfile::tempfile()?);
        for (key, f) in self.held.drain(..) {
            write_record(&mut out, key, &f)?;
        }
        let mut file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.rewind()?;
        self.runs.push(file);
        self.held_bytes = 0;
        Ok(())
    }

    /// Hands every finding to `sink` in time order. A sink error stops and is returned.
    pub fn finish(mut self, sink: &mut dyn FnMut(&Finding) -> io::Result<()>) -> io::Result<()> {
        self.held.sort_unstable_by_key(|(k, _)| *k);
        if self.runs.is_empty() {
            for (_, f) in &self.held {
                sink(f)?;
            }
            return Ok(());
        }
        let mut readers: Vec<BufReader<std::fs::File>> =
            self.runs.drain(..).map(BufReader::new).collect();
        let mut held = self.held.into_iter();
        // Source `readers.len()` is what is still held in memory.
        let memory = readers.len();
        let mut heap: BinaryHeap<Reverse<(Key, usize)>> = BinaryHeap::new();
        let mut heads: Vec<Option<Finding>> = Vec::with_capacity(memory + 1);
        for (i, r) in readers.iter_mut().enumerate() {
            let next = read_record(r)?;
            if let Some((key, _)) = &next {
                heap.push(Reverse((*key, i)));
            }
            heads.push(next.map(|(_, f)| f));
        }
        let next = held.next();
        if let Some((key, _)) = &next {
            heap.push(Reverse((*key, memory)));
        }
        heads.push(next.map(|(_, f)| f));
        while let Some(Reverse((_, i))) = heap.pop() {
            let Some(f) = heads[i].take() else { continue };
            sink(&f)?;
            let next = if i == memory {
                held.next()
            } else {
                read_record(&mut readers[i])?
            };
            if let Some((key, f)) = next {
                heap.push(Reverse((key, i)));
                heads[i] = Some(f);
            }
        }
        Ok(())
    }
}

/// About how many bytes a finding holds.
fn size_of(f: &Finding) -> usize {
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    std::mem::size_of::<Finding>()
        + opt(&f.rule_id)
        + f.title.len()
        + f.tags.iter().map(|t| t.len() + 24).sum::<usize>()
        + opt(&f.timestamp)
        + opt(&f.computer)
        + opt(&f.channel)
        + opt(&f.source)
        + f.details.len()
        + f.event.len()
}

// A run is a sequence of records: the key, then each field of the finding, texts as a
// length and UTF-8 bytes. Only this module writes and reads them, within one process.

fn write_u64(out: &mut impl Write, n: u64) -> io::Result<()> {
    out.write_all(&n.to_le_bytes())
}

fn write_text(out: &mut impl Write, s: &str) -> io::Result<()> {
    write_u64(out, s.len() as u64)?;
    out.write_all(s.as_bytes())
}

/// An optional text: a presence byte, then the text.
fn write_opt(out: &mut impl Write, s: Option<&str>) -> io::Result<()> {
    match s {
        None => out.write_all(&[0]),
        Some(s) => {
            out.write_all(&[1])?;
            write_text(out, s)
        }
    }
}

fn write_opt_int(out: &mut impl Write, n: Option<i64>) -> io::Result<()> {
    match n {
        None => out.write_all(&[0]),
        Some(n) => {
            out.write_all(&[1])?;
            out.write_all(&n.to_le_bytes())
        }
    }
}

fn write_record(out: &mut impl Write, key: Key, f: &Finding) -> io::Result<()> {
    out.write_all(&key.0.to_le_bytes())?;
    write_u64(out, key.1)?;
    write_opt(out, f.rule_id.as_deref())?;
    write_text(out, &f.title)?;
    write_opt(out, f.level.map(Level::name))?;
    write_u64(out, f.tags.len() as u64)?;
    for t in &f.tags {
        write_text(out, t)?;
    }
    write_opt(out, f.timestamp.as_deref())?;
    write_opt(out, f.computer.as_deref())?;
    write_opt(out, f.channel.as_deref())?;
    write_opt_int(out, f.event_id)?;
    write_opt_int(out, f.record_id)?;
    write_opt(out, f.source.as_deref())?;
    write_text(out, &f.details)?;
    write_text(out, &f.event)
}

fn read_array<const N: usize>(r: &mut impl Read) -> io::Result<[u8; N]> {
    let mut b = [0u8; N];
    r.read_exact(&mut b)?;
    Ok(b)
}

fn read_u64(r: &mut impl Read) -> io::Result<u64> {
    Ok(u64::from_le_bytes(read_array(r)?))
}

fn read_text(r: &mut impl Read) -> io::Result<String> {
    let len = usize::try_from(read_u64(r)?).map_err(|_| corrupt())?;
    let mut bytes = vec![0u8; len];
    r.read_exact(&mut bytes)?;
    String::from_utf8(bytes).map_err(|_| corrupt())
}

fn read_opt(r: &mut impl Read) -> io::Result<Option<String>> {
    match read_array::<1>(r)? {
        [0] => Ok(None),
        [1] => read_text(r).map(Some),
        _ => Err(corrupt()),
    }
}

fn read_opt_int(r: &mut impl Read) -> io::Result<Option<i64>> {
    match read_array::<1>(r)? {
        [0] => Ok(None),
        [1] => Ok(Some(i64::from_le_bytes(read_array(r)?))),
        _ => Err(corrupt()),
    }
}

fn corrupt() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "a temporary file of the time sort was changed while in use",
    )
}

/// The next record of a run; `None` at its end.
fn read_record(r: &mut impl Read) -> io::Result<Option<(Key, Finding)>> {
    let mut first = [0u8; 8];
    match r.read_exact(&mut first) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let key = (i64::from_le_bytes(first), read_u64(r)?);
    let rule_id = read_opt(r)?;
    let title = read_text(r)?;
    let level = read_opt(r)?.and_then(|l| Level::from_name(&l));
    let tags = (0..read_u64(r)?)
        .map(|_| read_text(r))
        .collect::<io::Result<Vec<_>>>()?;
    let finding = Finding {
        rule_id,
        title,
        level,
        tags,
        timestamp: read_opt(r)?,
        computer: read_opt(r)?,
        channel: read_opt(r)?,
        event_id: read_opt_int(r)?,
        record_id: read_opt_int(r)?,
        source: read_opt(r)?,
        details: read_text(r)?,
        event: Arc::from(read_text(r)?),
    };
    Ok(Some((key, finding)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(n: u64, time: Option<String>) -> Finding {
        Finding {
            rule_id: n.is_multiple_of(3).then(|| format!("rule-{n}")),
            title: format!("Rule {n} \u{e9}"),
            level: [None, Some(Level::High), Some(Level::Low)][(n % 3) as usize],
            tags: (0..n % 4).map(|i| format!("attack.t{i}")).collect(),
            timestamp: time,
            computer: Some(format!("pc{}", n % 5)),
            channel: None,
            event_id: Some(i64::try_from(n % 7).unwrap_or(0)),
            record_id: n
                .is_multiple_of(2)
                .then_some(-i64::try_from(n).unwrap_or(0)),
            source: Some("a.evtx".into()),
            details: format!("n: {n}"),
            event: Arc::from(format!("{{\"n\":{n}}}")),
        }
    }

    /// Findings with times out of order, repeated times and no time, from a xorshift.
    fn findings(count: u64) -> Vec<Finding> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..count)
            .map(|n| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let time = match x % 10 {
                    0 => None,
                    1 => Some("not a time".to_string()),
                    _ => Some(sigil_logs::format_timestamp_micros(
                        i64::try_from(x % 50).unwrap_or(0) * 1_000_000,
                    )),
                };
                finding(n, time)
            })
            .collect()
    }

    fn sorted(budget: usize, input: &[Finding]) -> (Vec<Finding>, usize) {
        let mut sorter = TimeSorter::new(budget);
        for f in input {
            sorter.push(f.clone()).expect("push");
        }
        let runs = sorter.runs_written();
        let mut out = Vec::new();
        sorter
            .finish(&mut |f| {
                out.push(f.clone());
                Ok(())
            })
            .expect("finish");
        (out, runs)
    }

    #[test]
    fn runs_written_to_disk_merge_into_the_same_stable_order() {
        let input = findings(2000);
        // What a stable sort by time gives (no time last).
        let mut expected: Vec<(usize, &Finding)> = input.iter().enumerate().collect();
        expected.sort_by_key(|(i, f)| key_of(f, *i as u64));
        let expected: Vec<Finding> = expected.into_iter().map(|(_, f)| f.clone()).collect();

        let (in_memory, runs) = sorted(usize::MAX, &input);
        assert_eq!(runs, 0);
        assert_eq!(in_memory, expected);
        for budget in [1, 5_000, 100_000] {
            let (merged, runs) = sorted(budget, &input);
            assert!(runs > 1, "{budget}: {runs} runs");
            assert_eq!(merged, expected, "budget {budget}");
        }
        // Equal times keep input order; untimed come last.
        let untimed = expected
            .iter()
            .position(|f| {
                f.timestamp
                    .as_deref()
                    .and_then(sigil_logs::parse_timestamp_micros)
                    .is_none()
            })
            .expect("some untimed");
        assert!(expected[untimed..].iter().all(|f| {
            f.timestamp
                .as_deref()
                .and_then(sigil_logs::parse_timestamp_micros)
                .is_none()
        }));
    }

    #[test]
    fn a_sink_error_stops_the_merge() {
        let input = findings(300);
        let mut sorter = TimeSorter::new(1_000);
        for f in &input {
            sorter.push(f.clone()).expect("push");
        }
        let mut seen = 0;
        let result = sorter.finish(&mut |_| {
            seen += 1;
            if seen == 10 {
                Err(io::Error::other("full"))
            } else {
                Ok(())
            }
        });
        assert!(result.is_err());
        assert_eq!(seen, 10);
    }
}
