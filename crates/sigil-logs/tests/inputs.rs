//! Reading real and damaged inputs: corrupt and truncated EVTX files, broken JSON lines, files
//! that are not logs, odd paths, and parallel reading in parts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sigil_logs::{
    FileStats, InputKind, LogError, Reader, discover, read_file, read_parallel, split_into_parts,
};

const CHUNK: usize = 65536;
const HEADER: usize = 4096;
/// A Sysmon log of the corpus with 17 chunks.
const BIG_LOG: &str = "Privilege Escalation/Sysmon_UACME_64.evtx";

fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    dir.join("corpus").is_dir().then_some(dir)
}

/// A fresh, empty folder for one test.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sigil-logs-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The record ids read from `path`, and the statistics.
fn record_ids(path: &Path) -> (BTreeSet<u64>, FileStats) {
    let mut ids = BTreeSet::new();
    let stats = read_file(path, &mut |meta, _| {
        ids.insert(meta.record_id.unwrap_or(0));
    })
    .expect("a log");
    (ids, stats)
}

fn big_log() -> Option<Vec<u8>> {
    let Some(shared) = shared() else {
        println!("skipped: ../shared/corpus not found");
        return None;
    };
    let bytes = std::fs::read(shared.join("corpus/evtx").join(BIG_LOG)).expect("corpus file");
    assert_eq!(bytes.len(), HEADER + 17 * CHUNK);
    Some(bytes)
}

#[test]
fn truncated_evtx_keeps_the_records_before_the_cut() {
    let Some(bytes) = big_log() else { return };
    let dir = scratch_dir("truncated");
    let whole = dir.join("whole.evtx");
    std::fs::write(&whole, &bytes).unwrap();
    let (all, stats) = record_ids(&whole);
    assert!(stats.errors.is_empty(), "{:?}", stats.errors);

    // Cut inside chunk 3, in the middle of its records.
    let cut = dir.join("cut.evtx");
    std::fs::write(&cut, &bytes[..HEADER + 3 * CHUNK + 20_000]).unwrap();
    let (ids, stats) = record_ids(&cut);
    assert!(ids.is_subset(&all));
    assert!(ids.len() < all.len());
    assert!(
        stats
            .errors
            .iter()
            .any(|e| e.contains("chunk 3: truncated file")),
        "{:?}",
        stats.errors
    );
    // The records of chunk 3 before the cut are read too, not only the three whole chunks.
    let (three_chunks, _) = {
        let path = dir.join("three.evtx");
        std::fs::write(&path, &bytes[..HEADER + 3 * CHUNK]).unwrap();
        record_ids(&path)
    };
    assert!(
        ids.len() > three_chunks.len(),
        "{} <= {}",
        ids.len(),
        three_chunks.len()
    );
    assert_eq!(stats.events, ids.len() as u64);

    // A file cut inside its header is one error, no events.
    let stub = dir.join("stub.evtx");
    std::fs::write(&stub, &bytes[..100]).unwrap();
    let (ids, stats) = record_ids(&stub);
    assert!(ids.is_empty());
    assert_eq!(stats.errors.len(), 1, "{:?}", stats.errors);
    assert!(stats.errors[0].contains("too short"), "{:?}", stats.errors);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn corrupt_chunk_is_skipped_and_the_rest_is_read() {
    let Some(mut bytes) = big_log() else { return };
    let dir = scratch_dir("corrupt");
    let whole = dir.join("whole.evtx");
    std::fs::write(&whole, &bytes).unwrap();
    let (all, _) = record_ids(&whole);

    // Chunk 2 loses its signature; chunk 5 gets garbage over part of its records.
    let chunk2 = HEADER + 2 * CHUNK;
    bytes[chunk2..chunk2 + 8].copy_from_slice(b"garbage!");
    let chunk5 = HEADER + 5 * CHUNK;
    for (i, b) in bytes[chunk5 + 4000..chunk5 + 9000].iter_mut().enumerate() {
        *b = (i * 7 + 13) as u8;
    }
    let corrupt = dir.join("corrupt.evtx");
    std::fs::write(&corrupt, &bytes).unwrap();
    let (ids, stats) = record_ids(&corrupt);
    assert!(stats.skipped_chunks >= 1, "{stats:?}");
    assert!(stats.skipped_records >= 1, "{stats:?}");
    assert!(
        stats.errors.iter().any(|e| e.contains("chunk 2")),
        "{:?}",
        stats.errors
    );
    // Everything after the damage is still there, including the last record.
    assert!(ids.is_subset(&all));
    assert!(ids.contains(all.last().unwrap()));
    assert!(
        ids.len() * 10 > all.len() * 8,
        "{} of {}",
        ids.len(),
        all.len()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn random_damage_never_panics() {
    let Some(original) = big_log() else { return };
    let dir = scratch_dir("fuzz");
    let path = dir.join("damaged.evtx");
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..6 {
        let mut bytes = original.clone();
        // More damage each round: from a few bytes to whole runs.
        for _ in 0..(20 << round) {
            let at = (next() as usize) % bytes.len();
            let len = 1 + (next() as usize) % (4 << round);
            for b in bytes.iter_mut().skip(at).take(len) {
                *b = next() as u8;
            }
        }
        // Keep the file signature so that the damage reaches the parser.
        bytes[..8].copy_from_slice(b"ElfFile\0");
        std::fs::write(&path, &bytes).unwrap();
        let (ids, stats) = record_ids(&path);
        assert_eq!(stats.events, ids.len() as u64);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn json_with_a_broken_line_and_files_that_are_not_logs() {
    let dir = scratch_dir("json");
    let log = dir.join("events.jsonl");
    std::fs::write(
        &log,
        "{\"EventID\": 1, \"Image\": \"a.exe\"}\n{\"EventID\": 2, \"Ima\n{\"EventID\": 3}\n",
    )
    .unwrap();
    let mut ids = Vec::new();
    let stats = read_file(&log, &mut |meta, _| ids.push(meta.event_id)).unwrap();
    assert_eq!(ids, [Some(1), Some(3)]);
    assert_eq!(stats.skipped_records, 1);
    assert_eq!(stats.errors.len(), 1);
    assert!(
        stats.errors[0].contains("events.jsonl: line 2: "),
        "{:?}",
        stats.errors
    );

    let binary = dir.join("program.bin");
    std::fs::write(&binary, [0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0xff, 0xfe]).unwrap();
    let error = read_file(&binary, &mut |_, _| panic!("no events")).unwrap_err();
    assert!(matches!(error, LogError::NotALog { .. }));
    let message = error.to_string();
    assert!(message.ends_with("program.bin: not a log file (neither EVTX nor JSON)"));
    assert!(!message.contains('\n'));

    // Named like an EVTX file, but it is not one: an error when found in a folder too.
    std::fs::write(dir.join("fake.evtx"), b"not an event log").unwrap();
    std::fs::write(dir.join("README.md"), b"# notes").unwrap();
    let found = discover(&[&dir]);
    assert_eq!(found.inputs.len(), 1, "{:?}", found.inputs);
    assert_eq!(found.errors.len(), 1, "{:?}", found.errors);
    assert!(
        found.errors[0]
            .to_string()
            .contains("fake.evtx: not an EVTX file")
    );
    let found = discover(&[dir.join("README.md"), dir.join("missing.json")]);
    assert!(found.inputs.is_empty());
    assert!(matches!(found.errors[0], LogError::NotALog { .. }));
    assert!(matches!(found.errors[1], LogError::Io { .. }));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn odd_paths_and_folders_are_found_by_content() {
    let Some(shared) = shared() else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let dir = scratch_dir("odd");
    let nested = dir.join("Logs with spaces & 'quotes' (ü)/#2 [x]");
    std::fs::create_dir_all(&nested).unwrap();
    let source = shared.join("corpus/evtx/Credential Access/CA_chrome_firefox_opera_4663.evtx");
    // No extension: recognised by its signature.
    std::fs::copy(&source, nested.join("security export")).unwrap();
    std::fs::write(nested.join("a;b $c.ndjson"), "{\"x\": 1}\n{\"x\": 2}\n").unwrap();
    std::fs::write(dir.join("pretty.log"), "{\n  \"x\": {\"y\": 3}\n}\n").unwrap();
    std::fs::write(dir.join("plain.log"), "Jan 1 00:00:00 host sshd: hello\n").unwrap();

    let found = discover(&[dir.as_path(), Path::new("-")]);
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    let kinds: Vec<(String, InputKind)> = found
        .inputs
        .iter()
        .map(|i| (sigil_logs::relative_key(&dir, &i.path), i.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                "Logs with spaces & 'quotes' (ü)/#2 [x]/a;b $c.ndjson".to_string(),
                InputKind::Json
            ),
            (
                "Logs with spaces & 'quotes' (ü)/#2 [x]/security export".to_string(),
                InputKind::Evtx
            ),
            ("pretty.log".to_string(), InputKind::Json),
            ("-".to_string(), InputKind::Stdin),
        ]
    );
    let mut reader = Reader::new();
    let mut events = 0;
    for input in found.inputs.iter().filter(|i| i.kind != InputKind::Stdin) {
        let stats = reader.read_input(input, &mut |_, _| events += 1);
        assert!(stats.errors.is_empty(), "{:?}", stats.errors);
    }
    let (evtx_ids, _) = record_ids(&source);
    assert_eq!(events, evtx_ids.len() + 3);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn parts_read_in_parallel_give_the_events_of_the_whole_files() {
    let Some(shared) = shared() else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let root = shared.join("corpus/evtx/Privilege Escalation");
    let found = discover(&[&root]);
    let whole: BTreeSet<(PathBuf, u64)> = {
        let mut reader = Reader::new();
        let mut keys = BTreeSet::new();
        for input in &found.inputs {
            reader.read_input(input, &mut |meta, _| {
                keys.insert((meta.source.to_path_buf(), meta.record_id.unwrap_or(0)));
            });
        }
        keys
    };
    let parts = split_into_parts(&found.inputs, 4);
    assert!(parts.len() > found.inputs.len());
    let results = read_parallel(
        &parts,
        |_| Vec::new(),
        |keys, meta, event| {
            assert!(!event.is_empty());
            keys.push((meta.source.to_path_buf(), meta.record_id.unwrap_or(0)));
        },
    );
    let mut parallel = BTreeSet::new();
    let mut total = 0;
    for (keys, stats) in results {
        assert!(stats.errors.is_empty(), "{:?}", stats.errors);
        assert_eq!(stats.events, keys.len() as u64);
        total += keys.len();
        parallel.extend(keys);
    }
    assert_eq!(total, whole.len(), "no event read twice");
    assert_eq!(parallel, whole);
}

/// A log exported as JSON lines (what `evtx_dump -o jsonl` writes) is read into the same
/// events as the log itself.
#[test]
fn evtx_exported_as_json_lines_gives_the_same_events() {
    let Some(bytes) = big_log() else {
        return;
    };
    let dir = scratch_dir("exported");
    let log = dir.join("log.evtx");
    std::fs::write(&log, &bytes).unwrap();
    let settings = evtx::ParserSettings::new().indent(false);
    let mut parser = evtx::EvtxParser::from_path(&log)
        .unwrap()
        .with_configuration(settings);
    let mut lines = String::new();
    for record in parser.records_json() {
        lines.push_str(&record.unwrap().data);
        lines.push('\n');
    }
    let exported = dir.join("log.jsonl");
    std::fs::write(&exported, lines).unwrap();

    let events = |path: &Path| {
        let mut events = Vec::new();
        let stats = read_file(path, &mut |meta, event| {
            events.push((meta.record_id, meta.event_id, event.to_json()));
        })
        .expect("a log");
        assert_eq!(stats.skipped_records, 0, "{:?}", stats.errors);
        events
    };
    let from_log = events(&log);
    assert!(from_log.len() > 100, "{}", from_log.len());
    assert_eq!(events(&exported), from_log);
    let _ = std::fs::remove_dir_all(&dir);
}
