//! The rule cache never changes what loading finds: the whole shared corpus (Sigma and
//! Elastic rules) loaded without a cache, through a cache being written, and from the
//! written cache is the same rule set, rule by rule; a damaged, stale or foreign cache is
//! read anew; files known unchanged by their metadata are not read, and a file changed
//! since, or just before the cache's run, is.

use std::path::{Path, PathBuf};

use sigil_load::{Options, RuleCache, RuleSet, load, load_cached};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared/corpus is missing (CI needs it)"
        );
        eprintln!("skipped: ../shared/corpus not found");
        None
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sigil-cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Everything a rule set holds, comparable.
fn assert_same(a: &RuleSet, b: &RuleSet, what: &str) {
    assert_eq!(a.files, b.files, "{what}: files");
    assert_eq!(a.rules.len(), b.rules.len(), "{what}: rules");
    for (x, y) in a.rules.iter().zip(&b.rules) {
        assert_eq!(x.path, y.path, "{what}");
        assert!(x.rule == y.rule, "{what}: {} differs", x.path.display());
    }
    let shown = |s: &RuleSet| -> Vec<String> {
        s.diagnostics
            .iter()
            .map(|d| format!("{d} [{}]", d.diagnostic.code))
            .collect()
    };
    assert_eq!(shown(a), shown(b), "{what}: diagnostics");
    assert_eq!(a.not_rules, b.not_rules, "{what}: not rules");
}

#[test]
fn cached_loading_equals_uncached_over_the_corpus() {
    let Some(corpus) = corpus() else { return };
    let paths = vec![corpus.join("sigma"), corpus.join("elastic")];
    let dir = temp_dir("corpus");
    let cache = RuleCache::new(&dir);
    let plain = load(&paths, Options::default());
    assert!(plain.rules.len() > 3000, "{} rules", plain.rules.len());
    assert_eq!(plain.from_cache, 0);

    let writing = load_cached(&paths, Options::default(), Some(&cache));
    assert_eq!(writing.from_cache, 0, "an empty cache holds nothing");
    assert_same(&plain, &writing, "writing the cache");

    let reading = load_cached(&paths, Options::default(), Some(&cache));
    // Every file read without a diagnostic comes from the cache.
    let clean = plain.files
        - plain
            .diagnostics
            .iter()
            .map(|d| &d.path)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
    assert!(
        reading.from_cache >= clean - 1 && reading.from_cache > 3000,
        "{} from the cache, {clean} clean files",
        reading.from_cache
    );
    assert_same(&plain, &reading, "reading the cache");
    // The corpus's files did not change for long: none of them was read.
    assert_eq!(reading.unread, reading.from_cache);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A small folder of rules to edit.
fn rules_folder(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    std::fs::create_dir_all(&dir).expect("test folder");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/rules");
    for entry in std::fs::read_dir(examples).expect("test folder") {
        let path = entry.expect("test folder").path();
        if path.is_file() {
            std::fs::copy(&path, dir.join(path.file_name().expect("test folder")))
                .expect("test folder");
        }
    }
    dir
}

fn cache_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("test folder")
        .map(|e| e.expect("test folder").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cache"))
        .collect()
}

#[test]
fn a_damaged_or_stale_cache_is_read_anew() {
    let rules = rules_folder("rules");
    let dir = temp_dir("damaged");
    let cache = RuleCache::new(&dir);
    let paths = vec![rules.clone()];
    let plain = load(&paths, Options::default());
    assert!(!plain.rules.is_empty());
    load_cached(&paths, Options::default(), Some(&cache));
    let files = cache_files(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(load_cached(&paths, Options::default(), Some(&cache)).from_cache > 0);

    // One byte of the body changed: the body no longer hashes to the head's hash.
    let mut bytes = std::fs::read(&files[0]).unwrap();
    let at = bytes.len() - 10;
    bytes[at] = if bytes[at] == b'a' { b'b' } else { b'a' };
    std::fs::write(&files[0], &bytes).unwrap();
    let damaged = load_cached(&paths, Options::default(), Some(&cache));
    assert_eq!(damaged.from_cache, 0);
    assert_same(&plain, &damaged, "damaged cache");
    // ... and it was written anew.
    assert!(load_cached(&paths, Options::default(), Some(&cache)).from_cache > 0);

    // Cut short.
    let whole = std::fs::read(&files[0]).unwrap();
    std::fs::write(&files[0], &whole[..whole.len() / 2]).unwrap();
    let short = load_cached(&paths, Options::default(), Some(&cache));
    assert_eq!(short.from_cache, 0);
    assert_same(&plain, &short, "truncated cache");

    // A rule edited after the cache was written: the new text is read, not the cached one.
    let victim = std::fs::read_dir(&rules)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.starts_with("title:")))
        .expect("a rule that starts with its title");
    let text = std::fs::read_to_string(&victim).unwrap();
    let edited = text.replacen("title:", "title: Edited", 1);
    std::fs::write(&victim, edited).unwrap();
    let after = load_cached(&paths, Options::default(), Some(&cache));
    let fresh = load(&paths, Options::default());
    assert_same(&fresh, &after, "edited rule");
    assert!(
        after
            .rules
            .iter()
            .any(|r| r.rule.title.starts_with("Edited"))
    );
    assert_eq!(after.from_cache, fresh.files - 1);

    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&rules).unwrap();
}

#[test]
fn another_build_does_not_read_the_cache() {
    let rules = rules_folder("foreign-rules");
    let dir = temp_dir("foreign");
    let cache = RuleCache::new(&dir);
    let paths = vec![rules.clone()];
    load_cached(&paths, Options::default(), Some(&cache));
    let file = &cache_files(&dir)[0];
    let text = std::fs::read(file).unwrap();
    let newline = text.iter().position(|&b| b == b'\n').unwrap();
    let head = String::from_utf8(text[..newline].to_vec()).unwrap();
    let mut words: Vec<&str> = head.split(' ').collect();
    // The stamp of another build; the body and its hash untouched.
    let other = "0".repeat(words[1].len());
    words[1] = &other;
    let mut forged = words.join(" ").into_bytes();
    forged.extend_from_slice(&text[newline..]);
    std::fs::write(file, forged).unwrap();
    assert_eq!(
        load_cached(&paths, Options::default(), Some(&cache)).from_cache,
        0
    );
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&rules).unwrap();
}

#[test]
fn writing_a_cache_removes_caches_unused_for_a_month() {
    let rules = rules_folder("prune-rules");
    let dir = temp_dir("prune");
    std::fs::create_dir_all(&dir).unwrap();
    let set_age = |path: &Path, days: u64| {
        let file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        let then = std::time::SystemTime::now() - std::time::Duration::from_secs(days * 24 * 3600);
        file.set_modified(then).unwrap();
    };
    let (old, recent, other) = (
        dir.join("rules-old.cache"),
        dir.join("rules-recent.cache"),
        dir.join("notes.txt"),
    );
    for path in [&old, &recent, &other] {
        std::fs::write(path, "x").unwrap();
        set_age(path, 40);
    }
    set_age(&recent, 3);
    load_cached(
        std::slice::from_ref(&rules),
        Options::default(),
        Some(&RuleCache::new(&dir)),
    );
    assert!(!old.exists(), "a cache unused for 40 days is removed");
    assert!(recent.exists() && other.exists());
    assert_eq!(cache_files(&dir).len(), 2, "the recent one and the new one");

    // A cache read (not rewritten) counts as used: it is marked when older than a day.
    let ours = cache_files(&dir)
        .into_iter()
        .find(|p| *p != recent)
        .unwrap();
    set_age(&ours, 40);
    assert!(
        load_cached(
            std::slice::from_ref(&rules),
            Options::default(),
            Some(&RuleCache::new(&dir))
        )
        .from_cache
            > 0
    );
    let age = std::fs::metadata(&ours)
        .unwrap()
        .modified()
        .unwrap()
        .elapsed()
        .unwrap();
    assert!(age.as_secs() < 24 * 3600, "{age:?}");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&rules).unwrap();
}

/// The files of `set` read without any diagnostic: those the cache keeps.
fn clean_files(set: &RuleSet) -> usize {
    set.files
        - set
            .diagnostics
            .iter()
            .map(|d| &d.path)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
}

#[test]
fn unchanged_files_are_not_read_and_changed_or_racy_ones_are() {
    let rules = rules_folder("unread-rules");
    let dir = temp_dir("unread");
    let cache = RuleCache::new(&dir);
    let paths = vec![rules.clone()];
    let load = || load_cached(&paths, Options::default(), Some(&cache));
    let plain = sigil_load::load(&paths, Options::default());
    let clean = clean_files(&plain);
    assert!(clean >= 5, "{clean} clean files");

    // Files written within two seconds before a run began are read and hashed anyway: a
    // second write in the same tick of the file system's clock would keep their times.
    assert_eq!(load().unread, 0, "the first run writes the cache");
    let racy = load();
    assert_eq!(
        (racy.from_cache, racy.unread),
        (clean, 0),
        "written just now"
    );
    assert_same(&plain, &racy, "racily clean files");

    // Once the files are older than that, a run that writes the cache lets the next one
    // take them without reading.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(
        load().unread,
        0,
        "the cache is written with the files settled"
    );
    let settled = load();
    assert_eq!((settled.from_cache, settled.unread), (clean, clean));
    assert_same(&plain, &settled, "files not read");

    // An edit that keeps the size and puts the modification time back: the file's
    // status-change time tells.
    let victim = std::fs::read_dir(&rules)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.starts_with("title: ")))
        .expect("a rule that starts with its title");
    let modified = std::fs::metadata(&victim).unwrap().modified().unwrap();
    let text = std::fs::read_to_string(&victim).unwrap();
    // The title's first letter replaced by another.
    let first = text["title: ".len()..].chars().next().unwrap();
    let other = if first == 'Q' { 'R' } else { 'Q' };
    let title: String = text["title: ".len()..].lines().next().unwrap().to_string();
    let new_title = format!("{other}{}", &title[first.len_utf8()..]);
    let edited = format!(
        "title: {new_title}{}",
        &text["title: ".len() + title.len()..]
    );
    assert_eq!(edited.len(), text.len(), "{first:?} is one byte");
    std::fs::write(&victim, &edited).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&victim)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    assert_eq!(std::fs::metadata(&victim).unwrap().len(), text.len() as u64);
    let after = load();
    let fresh = sigil_load::load(&paths, Options::default());
    assert_same(&fresh, &after, "a file edited in place");
    assert!(after.rules.iter().any(|r| r.rule.title == new_title));
    assert_eq!((after.from_cache, after.unread), (clean - 1, clean - 1));
    // The edited file is now in the cache, but changed just before that run: hashed.
    let next = load();
    assert_eq!((next.from_cache, next.unread), (clean, clean - 1));
    assert_same(&fresh, &next, "the edited file from the cache");

    // A file removed: the cache drops it.
    std::fs::remove_file(&victim).unwrap();
    let fewer = load();
    assert_same(
        &sigil_load::load(&paths, Options::default()),
        &fewer,
        "a file removed",
    );
    assert_eq!(fewer.unread, clean - 1);

    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&rules).unwrap();
}
