//! Loading a corpus from folders: every file is recognised by its extension and content.
//!
//! | file | recognised as | read with |
//! |---|---|---|
//! | `.yml` / `.yaml` with `attack_technique:` and `atomic_tests:` | Atomic Red Team tests | [`crate::atomic`] |
//! | `.yml` / `.yaml` with a top-level `detection:`, `correlation:` or `filter:` key | Sigma rules | `sigil_sigma` |
//! | `.toml` with a `[rule]` table | an Elastic rule | `sigil_elastic` |
//! | `.json` holding STIX objects | ATT&CK techniques, tactics, matrix, data components | [`crate::attack`] |
//!
//! Anything else (READMEs, CSV indexes, Elastic hunting queries, test descriptions) is
//! ignored and counted. A file that is recognised but cannot be read is a [`Problem`] and is
//! skipped; loading never stops. Files are read and parsed in parallel.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sigil_core::{Rule, Severity};

use crate::atomic::{looks_like_atomics, parse_atomics};
use crate::attack::AttackData;
use crate::error::CatalogError;
use crate::model::{AtomicEntry, Problem};

/// Files larger than this are not rules, tests or ATT&CK objects; they are skipped
/// unread.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// One rule as loaded, before analysis.
#[derive(Debug, Clone)]
pub struct LoadedRule {
    /// The rule.
    pub rule: Rule,
    /// For an Elastic sequence, the synthetic step rules (`<rule_id>#step1`, ...).
    pub steps: Vec<Rule>,
    /// The file.
    pub path: PathBuf,
    /// The whole file.
    pub source: String,
}

/// Everything read from the corpus paths.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// Sigma and Elastic rules, by language then path then position.
    pub rules: Vec<LoadedRule>,
    /// Atomic tests, by technique then position.
    pub atomics: Vec<AtomicEntry>,
    /// ATT&CK objects.
    pub attack: AttackData,
    /// Files skipped and other problems.
    pub problems: Vec<Problem>,
    /// Files looked at.
    pub files: usize,
    /// Files not recognised (not an error).
    pub ignored: usize,
    /// The paths the corpus was loaded from, as given: published paths are shown relative
    /// to them.
    pub roots: Vec<PathBuf>,
}

impl Corpus {
    /// Adds the rules of one file given on its own (e.g. the rule to analyse), unless a
    /// rule loaded from the same file is already there. Returns the positions of its
    /// rules in [`Corpus::rules`].
    pub fn add_rule_file(&mut self, path: &Path) -> Result<Vec<usize>, CatalogError> {
        let canonical = std::fs::canonicalize(path).map_err(|source| CatalogError::Path {
            path: path.to_path_buf(),
            source,
        })?;
        let existing: Vec<usize> = self
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| std::fs::canonicalize(&r.path).is_ok_and(|p| p == canonical))
            .map(|(i, _)| i)
            .collect();
        if !existing.is_empty() {
            return Ok(existing);
        }
        let bytes = std::fs::read(path).map_err(|source| CatalogError::Path {
            path: path.to_path_buf(),
            source,
        })?;
        let kind = classify(path, &bytes).unwrap_or(Kind::Sigma);
        match read_file(path, &bytes, kind) {
            Loaded::Rules(rules, problems) if !rules.is_empty() => {
                self.problems.extend(problems);
                let start = self.rules.len();
                self.rules.extend(rules);
                Ok((start..self.rules.len()).collect())
            }
            Loaded::Rules(_, problems) | Loaded::Problems(problems) => Err(CatalogError::NoRule {
                path: path.to_path_buf(),
                detail: problems
                    .first()
                    .map(|p| format!(": {}", p.message))
                    .unwrap_or_default(),
            }),
            _ => Err(CatalogError::NoRule {
                path: path.to_path_buf(),
                detail: String::new(),
            }),
        }
    }
}

/// What a file holds, judged from its extension and content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sigma,
    Elastic,
    Atomics,
    Stix,
}

enum Loaded {
    Rules(Vec<LoadedRule>, Vec<Problem>),
    Atomics(Vec<AtomicEntry>),
    Attack(Box<AttackData>),
    Problems(Vec<Problem>),
    Ignored,
}

/// Loads every recognised file under `paths` (files or folders, searched recursively).
/// Fails only when a path itself does not exist; problems inside are collected.
pub fn load(paths: &[PathBuf]) -> Result<Corpus, CatalogError> {
    let mut files = Vec::new();
    for root in paths {
        std::fs::metadata(root).map_err(|source| CatalogError::Path {
            path: root.clone(),
            source,
        })?;
        for entry in walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
        {
            match entry {
                Ok(e) if e.file_type().is_file() => {
                    if has_known_extension(e.path()) {
                        files.push(e.into_path());
                    }
                }
                Ok(_) => {}
                Err(e) => files_problem(&mut files, &e),
            }
        }
    }
    files.sort();
    files.dedup();
    let results: Vec<(PathBuf, Loaded)> = files
        .par_iter()
        .map(|path| (path.clone(), load_file(path)))
        .collect();

    let mut corpus = Corpus {
        files: results.len(),
        roots: paths.to_vec(),
        ..Corpus::default()
    };
    for (_, loaded) in results {
        match loaded {
            Loaded::Rules(rules, problems) => {
                corpus.rules.extend(rules);
                corpus.problems.extend(problems);
            }
            Loaded::Atomics(tests) => corpus.atomics.extend(tests),
            Loaded::Attack(a) => corpus.attack.merge(*a),
            Loaded::Problems(p) => corpus.problems.extend(p),
            Loaded::Ignored => corpus.ignored += 1,
        }
    }
    // Sigma first, then Elastic; within a language the walk order (by path) is kept.
    corpus.rules.sort_by_key(|r| r.rule.language);
    corpus.atomics.sort_by(|a, b| a.technique.cmp(&b.technique));
    Ok(corpus)
}

/// A walk error (unreadable folder, link loop) cannot be attached to a file that was
/// never listed; it is kept as a pseudo-path so it is reported with the others.
fn files_problem(files: &mut Vec<PathBuf>, e: &walkdir::Error) {
    if let Some(p) = e.path() {
        files.push(p.to_path_buf());
    }
}

fn has_known_extension(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("yml" | "yaml" | "toml" | "json")
    )
}

fn load_file(path: &Path) -> Loaded {
    let problem = |message: String| {
        Loaded::Problems(vec![Problem {
            path: path.to_path_buf(),
            line: 0,
            message,
        }])
    };
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_FILE_BYTES => return Loaded::Ignored,
        Ok(_) => {}
        Err(e) => return problem(format!("cannot read the file: {e}")),
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return problem(format!("cannot read the file: {e}")),
    };
    match classify(path, &bytes) {
        Some(kind) => read_file(path, &bytes, kind),
        None => Loaded::Ignored,
    }
}

fn classify(path: &Path, bytes: &[u8]) -> Option<Kind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    let text = String::from_utf8_lossy(bytes);
    match ext.as_str() {
        "yml" | "yaml" => {
            if looks_like_atomics(&text) {
                Some(Kind::Atomics)
            } else if text.lines().any(|l| {
                l.starts_with("detection:")
                    || l.starts_with("correlation:")
                    || l.starts_with("filter:")
            }) {
                Some(Kind::Sigma)
            } else {
                None
            }
        }
        "toml" => text
            .lines()
            .any(|l| l.trim() == "[rule]")
            .then_some(Kind::Elastic),
        // STIX objects carry `x_mitre_` properties or come in a bundle; JSON logs do not.
        "json" => (text.contains("\"x_mitre_")
            || text.contains("\"type\": \"bundle\"")
            || text.contains("\"type\":\"bundle\""))
        .then_some(Kind::Stix),
        _ => None,
    }
}

fn read_file(path: &Path, bytes: &[u8], kind: Kind) -> Loaded {
    let problem = |line: u32, message: String| Problem {
        path: path.to_path_buf(),
        line,
        message,
    };
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Loaded::Problems(vec![problem(0, format!("not UTF-8 text: {e}"))]);
        }
    };
    match kind {
        Kind::Sigma => {
            let file = sigil_sigma::parse_str(text);
            // A Sigma file with an error is skipped whole: a rule read around a mistake
            // would be analysed as something its author did not write.
            // Errors `check` finds in a rule (a condition naming no search, ...) count too.
            let rule_errors = file
                .rules
                .iter()
                .zip(&file.sources)
                .flat_map(|(rule, source)| sigil_sigma::lint::rule_errors(rule, source));
            if let Some(d) = file
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .cloned()
                .chain(rule_errors)
                .next()
            {
                return Loaded::Problems(vec![problem(d.span.line, d.message.clone())]);
            }
            let rules = file
                .rules
                .into_iter()
                .map(|rule| LoadedRule {
                    rule,
                    steps: Vec::new(),
                    path: path.to_path_buf(),
                    source: text.to_string(),
                })
                .collect();
            Loaded::Rules(rules, Vec::new())
        }
        Kind::Elastic => {
            let file = sigil_elastic::parse_rule_toml(text);
            let problems: Vec<Problem> = file
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| problem(d.span.line, d.message.clone()))
                .collect();
            let mut rules = file.rules.into_iter();
            // The front end marks what the IR cannot express in `not_evaluable`, so a
            // rule it returns is kept even when a part of its query was not understood.
            match rules.next() {
                Some(rule) => Loaded::Rules(
                    vec![LoadedRule {
                        rule,
                        steps: rules.collect(),
                        path: path.to_path_buf(),
                        source: text.to_string(),
                    }],
                    problems,
                ),
                None => Loaded::Problems(if problems.is_empty() {
                    vec![problem(0, "no rule in this file".into())]
                } else {
                    problems
                }),
            }
        }
        Kind::Atomics => match parse_atomics(text, path) {
            Ok(tests) => Loaded::Atomics(tests),
            Err(e) => Loaded::Problems(vec![problem(0, format!("atomic tests: {e}"))]),
        },
        Kind::Stix => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(json) => {
                let mut a = AttackData::default();
                if a.add_json(&json) == 0 {
                    Loaded::Ignored
                } else {
                    Loaded::Attack(Box::new(a))
                }
            }
            Err(e) => {
                Loaded::Problems(vec![problem(e.line() as u32, format!("invalid JSON: {e}"))])
            }
        },
    }
}
