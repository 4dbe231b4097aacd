//! Loading rules from the paths a user gives: files and folders (searched recursively),
//! each file read by the front end of its language — Sigma YAML (`.yml`, `.yaml`) or
//! Elastic detection-rule TOML (`.toml`) — in parallel.
//!
//! Every command that takes rules (`check`, `hunt`, `convert`, the catalog) loads them
//! here, so they all agree on what a rule file is, and one unreadable file never stops
//! the others: its problems come back as diagnostics with the file's path.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use sigil_core::{Diagnostic, Rule, Severity, Span};

mod cache;
mod check_cache;
mod store;

pub use cache::RuleCache;
pub use check_cache::{CheckCache, CheckEntry, CheckKey, CheckOutcome, Summary};

/// The language of a rule file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// Sigma YAML.
    Sigma,
    /// Elastic detection rule TOML.
    Elastic,
}

impl FileKind {
    /// The kind of `path` by extension, if it names a rule file.
    pub fn of(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "yml" | "yaml" => Some(FileKind::Sigma),
            "toml" => Some(FileKind::Elastic),
            _ => None,
        }
    }
}

/// One rule and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedRule {
    /// The rule.
    pub rule: Rule,
    /// The file it was read from.
    pub path: Arc<Path>,
}

/// A problem of one file.
#[derive(Debug, Clone)]
pub struct FileDiagnostic {
    /// The file.
    pub path: Arc<Path>,
    /// The problem.
    pub diagnostic: Diagnostic,
}

impl std::fmt::Display for FileDiagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = &self.diagnostic;
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.path.display(),
            d.span.line.max(1),
            d.span.column.max(1),
            d.severity,
            d.message
        )
    }
}

/// What loading found.
#[derive(Debug, Default)]
pub struct RuleSet {
    /// Files read.
    pub files: usize,
    /// The rules, in path order, then file order.
    pub rules: Vec<LoadedRule>,
    /// Every problem, per file, in path order.
    pub diagnostics: Vec<FileDiagnostic>,
    /// YAML files found in folders that are not Sigma rules (no `detection`,
    /// `correlation`, `filter` or `logsource`), passed over.
    pub not_rules: Vec<Arc<Path>>,
    /// Files whose rules came from the rule cache instead of the front end.
    pub from_cache: usize,
    /// Of those, the files not even read: known unchanged by their metadata.
    pub unread: usize,
}

impl RuleSet {
    /// The errors (not warnings).
    pub fn errors(&self) -> impl Iterator<Item = &FileDiagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.diagnostic.severity == Severity::Error)
    }
}

/// Which files of a tree to read.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Read Sigma files.
    pub sigma: bool,
    /// Read Elastic TOML files.
    pub elastic: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sigma: true,
            elastic: true,
        }
    }
}

/// The rule files under `paths`, sorted within each folder, plus a diagnostic for each
/// path that does not exist. A file given by name is kept whatever its extension (the
/// user meant it); in folders only rule extensions count.
pub fn find_files(paths: &[PathBuf], options: Options) -> (Vec<PathBuf>, Vec<FileDiagnostic>) {
    let wanted = |p: &Path| match FileKind::of(p) {
        Some(FileKind::Sigma) => options.sigma,
        Some(FileKind::Elastic) => options.elastic,
        None => false,
    };
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        if path.is_dir() {
            // Siblings share their parent's path, so comparing whole paths orders them by
            // file name as `sort_by_file_name` would, without splitting each path again.
            for entry in walkdir::WalkDir::new(path)
                .follow_links(true)
                .sort_by(|a, b| a.path().as_os_str().cmp(b.path().as_os_str()))
            {
                match entry {
                    Ok(e) if e.file_type().is_file() && wanted(e.path()) => {
                        files.push(e.into_path());
                    }
                    Ok(_) => {}
                    Err(e) => problems.push(io_problem(e.path().unwrap_or(path), &e.to_string())),
                }
            }
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            problems.push(io_problem(path, "no such file or folder"));
        }
    }
    (files, problems)
}

fn io_problem(path: &Path, message: &str) -> FileDiagnostic {
    FileDiagnostic {
        path: Arc::from(path),
        diagnostic: Diagnostic::error("io", Span::default(), message.to_string()),
    }
}

/// Reads one file with the front end its extension names (Sigma when unknown).
///
/// A rule that `sigil check` reports with an error — a problem the reader met in its
/// document, or an error of the rule checks (a condition naming a search that does not
/// exist, an invalid level, ...) — is not returned: it is broken, and every command that
/// loads rules here leaves it out. Its errors are among the diagnostics, which name the
/// file, line and column.
pub fn read_file(path: &Path) -> (Vec<LoadedRule>, Vec<FileDiagnostic>) {
    match std::fs::read(path) {
        Ok(bytes) => read_bytes(path, &bytes),
        Err(e) => (Vec::new(), vec![io_problem(path, &e.to_string())]),
    }
}

/// [`read_file`] of a file already read.
fn read_bytes(path: &Path, bytes: &[u8]) -> (Vec<LoadedRule>, Vec<FileDiagnostic>) {
    let shared: Arc<Path> = Arc::from(path);
    // One UTF-8 check serves the front end and the shared text (`from_utf8` is much
    // faster on valid text than `from_utf8_lossy`).
    let utf8 = std::str::from_utf8(bytes);
    let (rules, mut diagnostics) = match FileKind::of(path).unwrap_or(FileKind::Sigma) {
        FileKind::Sigma => {
            // Valid text without NUL bytes is exactly what `parse_bytes` would read as text.
            let mut f = match utf8 {
                Ok(text) if !text.contains('\0') => sigil_sigma::parse_str(text),
                _ => sigil_sigma::parse_bytes(bytes),
            };
            for (rule, source) in f.rules.iter().zip(&f.sources) {
                f.diagnostics
                    .extend(sigil_sigma::lint::rule_errors(rule, source));
            }
            let starts: Vec<Span> = f.sources.iter().map(|s| s.span).collect();
            (
                without_broken(f.rules, &starts, &f.diagnostics),
                f.diagnostics,
            )
        }
        FileKind::Elastic => match utf8 {
            Ok(text) => {
                let f = sigil_elastic::parse_rule_toml(text);
                // An Elastic file is one rule (and the steps of its sequence): an error
                // anywhere in it breaks them all.
                let broken = f.diagnostics.iter().any(|d| d.severity == Severity::Error);
                let rules = if broken { Vec::new() } else { f.rules };
                (rules, f.diagnostics)
            }
            Err(e) => (
                Vec::new(),
                vec![Diagnostic::error(
                    "not-utf8",
                    Span::default(),
                    format!("the file is not UTF-8 text ({e})"),
                )],
            ),
        },
    };
    diagnostics.sort_by_key(|d| (d.span.line, d.span.column));
    let rules = rules
        .into_iter()
        .map(|rule| LoadedRule {
            rule,
            path: Arc::clone(&shared),
        })
        .collect();
    let diagnostics = diagnostics
        .into_iter()
        .map(|diagnostic| FileDiagnostic {
            path: Arc::clone(&shared),
            diagnostic,
        })
        .collect();
    (rules, diagnostics)
}

/// The rules of a file without those an error belongs to. `starts` are where each rule's
/// document starts (parallel to `rules`): an error belongs to the rule whose document it
/// lies in, and one before the first rule (a collection's `action: global` document, the
/// file itself) to every rule. In a collection, an error of a document that yields no rule
/// also leaves out the rule before it: leaving a sound rule out (and saying so) is the
/// safe side of not knowing where a document ends.
fn without_broken(rules: Vec<Rule>, starts: &[Span], diagnostics: &[Diagnostic]) -> Vec<Rule> {
    let mut broken = vec![false; rules.len()];
    for d in diagnostics.iter().filter(|d| d.severity == Severity::Error) {
        let line = d.span.line;
        match starts.iter().rposition(|s| s.line <= line && s.line > 0) {
            Some(i) if line > 0 => broken[i] = true,
            _ => broken.fill(true),
        }
    }
    rules
        .into_iter()
        .zip(broken)
        .filter_map(|(rule, broken)| (!broken).then_some(rule))
        .collect()
}

/// Finds and reads every rule file under `paths`, in parallel on the current rayon pool.
pub fn load(paths: &[PathBuf], options: Options) -> RuleSet {
    load_cached(paths, options, None)
}

/// What reading one file found.
struct FileRead {
    rules: Vec<LoadedRule>,
    problems: Vec<FileDiagnostic>,
    /// A file found in a folder, with errors, that is not meant as a rule.
    other_yaml: Option<Arc<Path>>,
    /// The file's cache key, when its rules may be kept (read without any diagnostic).
    key: Option<cache::Key>,
    /// What the file was before it was read, when known.
    seen: Option<cache::Seen>,
    /// Whether its rules came from the cache.
    hit: bool,
    /// Whether it was known unchanged by its metadata (and so not read).
    unread: bool,
}

/// A file's bytes, or none when the cache knows it unchanged.
enum Contents {
    Read(std::io::Result<Vec<u8>>),
    Unread,
}

/// [`load`], with the rules of files read before taken from `cache` (see [`RuleCache`]):
/// the result is the same, field by field, as without the cache.
pub fn load_cached(paths: &[PathBuf], options: Options, cache: Option<&RuleCache>) -> RuleSet {
    // Before any file is looked at: what changes from here on is not in this run's cache.
    let began = cache::now();
    let (files, mut diagnostics) = find_files(paths, options);
    let cache_file = cache.map(|c| c.file_for(paths, options));
    let mut cached = cache_file.as_deref().map(cache::read).unwrap_or_default();
    let contents: Vec<(Contents, Option<cache::Key>, Option<cache::Seen>)> = files
        .par_iter()
        .map(|p| {
            if cache_file.is_none() {
                return (Contents::Read(std::fs::read(p)), None, None);
            }
            let seen = cache::seen(p);
            if let Some(key) = cached.unchanged(p, seen.as_ref()) {
                return (Contents::Unread, Some(key), seen);
            }
            let bytes = std::fs::read(p);
            let kind = FileKind::of(p).unwrap_or(FileKind::Sigma);
            let key = bytes.as_ref().ok().map(|b| cache::key(kind, b));
            (Contents::Read(bytes), key, seen)
        })
        .collect();
    let known = cached.known();
    // Each entry is taken by the first file it belongs to; what is left is stale.
    let hits: Vec<Option<Vec<Rule>>> = contents
        .iter()
        .map(|(_, key, _)| key.and_then(|k| cached.rules.remove(&k)))
        .collect();
    let read: Vec<FileRead> = files
        .par_iter()
        .zip(contents)
        .zip(hits)
        .map(|((p, (bytes, key, seen)), hit)| read_one(p, paths, bytes, key, seen, hit))
        .collect();
    if let Some(file) = &cache_file {
        // Written anew when a file was read by its front end, a file taken from the cache
        // was read and its metadata can be recorded (a later run need not read it), or an
        // entry is no longer used.
        let fresh = read
            .iter()
            .any(|r| r.key.is_some() && !r.unread && (!r.hit || r.seen.is_some()));
        let unread = read.iter().filter(|r| r.unread).count();
        if fresh || !cached.rules.is_empty() || unread != known {
            let entries: Vec<cache::Entry<'_>> = files
                .iter()
                .zip(&read)
                .filter_map(|(p, r)| {
                    Some(cache::Entry {
                        key: r.key?,
                        rules: r.rules.iter().map(|lr| &lr.rule).collect(),
                        file: r.seen.map(|s| (p.as_path(), s)),
                    })
                })
                .collect();
            cache::write(file, began, &entries);
        }
    }
    let mut set = RuleSet {
        files: files.len(),
        from_cache: read.iter().filter(|r| r.hit).count(),
        unread: read.iter().filter(|r| r.unread).count(),
        ..RuleSet::default()
    };
    for r in read {
        if let Some(path) = r.other_yaml {
            set.not_rules.push(path);
        } else {
            set.rules.extend(r.rules);
            diagnostics.extend(r.problems);
        }
    }
    set.files -= set.not_rules.len();
    set.diagnostics = diagnostics;
    set
}

/// Reads one file found under `paths` from its `contents`, or takes the rules the cache
/// held for its `key`.
fn read_one(
    p: &Path,
    paths: &[PathBuf],
    contents: Contents,
    key: Option<cache::Key>,
    seen: Option<cache::Seen>,
    hit: Option<Vec<Rule>>,
) -> FileRead {
    let unread = matches!(contents, Contents::Unread);
    if let Some(rules) = hit {
        let path: Arc<Path> = Arc::from(p);
        return FileRead {
            rules: rules
                .into_iter()
                .map(|rule| LoadedRule {
                    rule,
                    path: Arc::clone(&path),
                })
                .collect(),
            problems: Vec::new(),
            other_yaml: None,
            key,
            seen,
            hit: true,
            unread,
        };
    }
    // Known unchanged, but its entry went to another file with the same bytes: read it.
    let (bytes, key) = match contents {
        Contents::Read(bytes) => (bytes, key),
        Contents::Unread => {
            let bytes = std::fs::read(p);
            let kind = FileKind::of(p).unwrap_or(FileKind::Sigma);
            let key = bytes.as_ref().ok().map(|b| cache::key(kind, b));
            (bytes, key)
        }
    };
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => {
            return FileRead {
                rules: Vec::new(),
                problems: vec![io_problem(p, &e.to_string())],
                other_yaml: None,
                key: None,
                seen: None,
                hit: false,
                unread: false,
            };
        }
    };
    let (rules, problems) = read_bytes(p, &bytes);
    let other_yaml = FileKind::of(p) == Some(FileKind::Sigma)
        && !paths.iter().any(|given| given == p)
        && problems
            .iter()
            .any(|d| d.diagnostic.severity == Severity::Error)
        && !sigil_sigma::looks_like_rule(&String::from_utf8_lossy(&bytes));
    FileRead {
        key: key.filter(|_| problems.is_empty()),
        rules,
        problems,
        other_yaml: other_yaml.then(|| Arc::from(p)),
        seen,
        hit: false,
        unread: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/rules")
    }

    #[test]
    fn loads_the_examples() {
        let set = load(&[examples()], Options::default());
        assert!(set.files >= 5, "{} files", set.files);
        assert_eq!(set.errors().count(), 0, "{:?}", set.diagnostics);
        assert!(
            set.rules
                .iter()
                .any(|r| r.rule.title.contains("WMIC Process Call Create"))
        );
    }

    #[test]
    fn a_missing_path_is_reported_and_the_rest_loads() {
        let set = load(
            &[PathBuf::from("/no/such/place"), examples()],
            Options::default(),
        );
        assert_eq!(set.errors().count(), 1);
        assert!(
            set.errors()
                .next()
                .unwrap()
                .to_string()
                .contains("/no/such/place")
        );
        assert!(!set.rules.is_empty());
    }

    #[test]
    fn binary_and_non_utf8_files_are_reported_as_the_front_end_reports_them() {
        let dir = std::env::temp_dir().join(format!("sigil-load-bytes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cases: [(&str, &[u8]); 3] = [
            ("nul.yml", b"title: a\n\0b: c\n"),
            ("latin1.yml", b"title: caf\xe9\n"),
            ("latin1.toml", b"[rule]\nname = \"caf\xe9\"\n"),
        ];
        for (name, bytes) in cases {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        let set = load(std::slice::from_ref(&dir), Options::default());
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(set.rules.is_empty());
        let by_file = |name: &str| -> Vec<&Diagnostic> {
            set.diagnostics
                .iter()
                .filter(|d| d.path.ends_with(name))
                .map(|d| &d.diagnostic)
                .collect()
        };
        for (name, bytes) in &cases[..2] {
            let expected = sigil_sigma::parse_bytes(bytes).diagnostics;
            assert_eq!(by_file(name), expected.iter().collect::<Vec<_>>(), "{name}");
        }
        assert_eq!(by_file("latin1.toml")[0].code, "not-utf8");
    }

    #[test]
    fn kinds_by_extension() {
        assert_eq!(FileKind::of(Path::new("a.YML")), Some(FileKind::Sigma));
        assert_eq!(FileKind::of(Path::new("a.toml")), Some(FileKind::Elastic));
        assert_eq!(FileKind::of(Path::new("README.md")), None);
    }
}
