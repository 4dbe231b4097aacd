//! Rule tests: each rule against the samples its author recorded (SigmaHQ's regression
//! data) and every rule against logs known to be benign.
//!
//! SigmaHQ's format: a rule names an `info.yml` with its top-level `regression_tests_path`;
//! the `info.yml` names the rule (`rule_metadata[0].id`) and lists its samples
//! (`regression_tests_info`: `type`, `path`, an optional `match_count`). Paths are relative
//! to the repository root, which SigmaHQ's runner finds by climbing from the rule's folder
//! until the path exists; the same is done here, so a rule tests the same wherever the
//! repository is checked out. A sample passes when the rule fires on at least `match_count`
//! of its events (1 when not given): SigmaHQ's runner passes a sample as soon as the rule
//! fires once, and several counts in `info.yml` are lower than the events a sample holds
//! that satisfy the rule (see `docs/hunt-differences.md`), so the count is a minimum.
//!
//! A benign log passes for a rule when the rule does not fire on it at all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use sigil_core::{RuleBody, Severity};
use sigil_sigma::yaml::{self, Node, NodeValue};

use crate::{HuntError, HuntOptions, Hunter, LogMix, RunOptions, SkipKind, pipeline_sets};

/// What a test asks of a rule on its sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The rule fires on at least this many events (a regression sample).
    AtLeast(usize),
    /// The rule does not fire (a benign log).
    Never,
}

impl Expect {
    /// The number the test states: the minimum for a regression sample, 0 for a benign log.
    pub fn count(self) -> usize {
        match self {
            Expect::AtLeast(n) => n,
            Expect::Never => 0,
        }
    }

    /// Whether `found` detections satisfy the test.
    pub fn holds(self, found: usize) -> bool {
        match self {
            Expect::AtLeast(n) => found >= n,
            Expect::Never => found == 0,
        }
    }
}

/// One test of one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTest {
    /// The rule's id (`None` when the rule has none).
    pub rule_id: Option<String>,
    /// The rule's file.
    pub path: Arc<Path>,
    /// The log the rule is tested on.
    pub sample: PathBuf,
    /// The test's name (`info.yml`'s `name`, or `benign`).
    pub name: String,
    /// What the rule must do on the sample.
    pub expect: Expect,
    /// Why the test cannot run (a missing `info.yml` or sample, an unreadable rule...):
    /// such a test fails with this reason.
    pub problem: Option<String>,
}

/// A test and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// The test.
    pub test: RuleTest,
    /// How many detections of the rule the sample gave.
    pub found: usize,
    /// Whether the test passed.
    pub ok: bool,
    /// Why it failed, in words (`None` when it passed).
    pub reason: Option<String>,
}

/// What to test.
#[derive(Debug, Clone, Default)]
pub struct TestOptions {
    /// Logs known to be benign: every rule is tested against each path given here.
    pub benign: Vec<PathBuf>,
    /// Processing pipelines, as for a hunt (empty: the hunt's defaults).
    pub pipelines: Vec<String>,
}

/// The outcome of a test run.
#[derive(Debug, Default)]
pub struct TestRun {
    /// Every test, regression tests first (in rule order), then benign ones.
    pub outcomes: Vec<TestOutcome>,
    /// Rules that could not be tested on the benign logs, and why (unreadable rules).
    pub notes: Vec<String>,
}

/// Why a test run cannot start.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    /// A pipeline could not be read.
    #[error(transparent)]
    Hunt(#[from] HuntError),
    /// A benign log path cannot be read as logs.
    #[error("{0}")]
    Benign(String),
}

/// Loads the rules under `paths` and runs their regression tests, and with
/// [`TestOptions::benign`] every rule against the benign logs.
pub fn test_rules(paths: &[PathBuf], options: &TestOptions) -> Result<TestRun, TestError> {
    let loaded = sigil_load::load(paths, sigil_load::Options::default());
    let tests = regression_tests(&loaded);
    let benign_rules: Vec<(Option<String>, Arc<Path>)> = if options.benign.is_empty() {
        Vec::new()
    } else {
        loaded
            .rules
            .iter()
            .filter(|lr| !matches!(lr.rule.body, RuleBody::Filter(_)))
            .map(|lr| (lr.rule.id.clone(), Arc::clone(&lr.path)))
            .collect()
    };
    let mut notes: Vec<String> = Vec::new();
    if !options.benign.is_empty() {
        let mut broken: Vec<&Path> = loaded.errors().map(|d| &*d.path).collect();
        broken.dedup();
        for path in broken {
            notes.push(format!(
                "{}: not tested on the benign logs: the file has errors (`sigil check` says which)",
                path.display()
            ));
        }
    }
    let sets = pipeline_sets(&options.pipelines)?;
    let hunt_options = HuntOptions {
        logs: LogMix {
            evtx: true,
            json: true,
        },
        ..HuntOptions::default()
    };
    let hunter = match Hunter::prepare(loaded, &sets, &hunt_options) {
        Ok(h) => Some(h),
        Err(HuntError::NoRules { .. }) => None,
        Err(e) => return Err(e.into()),
    };

    // Each sample is read once, however many rules it tests.
    let mut samples: Vec<PathBuf> = tests
        .iter()
        .filter(|t| t.problem.is_none())
        .map(|t| t.sample.clone())
        .collect();
    samples.sort_unstable();
    samples.dedup();
    let counts: HashMap<PathBuf, Result<Counts, String>> = samples
        .into_par_iter()
        .map(|s| {
            let counted = count_detections(hunter.as_ref(), std::slice::from_ref(&s));
            (s, counted)
        })
        .collect();
    let mut outcomes: Vec<TestOutcome> = tests
        .into_iter()
        .map(|test| {
            let counted = match &test.problem {
                Some(p) => Err(p.clone()),
                None => counts
                    .get(test.sample.as_path())
                    .cloned()
                    .unwrap_or_else(|| Err("the sample was not read".into())),
            };
            judge(test, counted, hunter.as_ref())
        })
        .collect();

    for benign in &options.benign {
        let counted = count_detections(hunter.as_ref(), std::slice::from_ref(benign))
            .map_err(TestError::Benign)?;
        for (rule_id, path) in &benign_rules {
            let test = RuleTest {
                rule_id: rule_id.clone(),
                path: Arc::clone(path),
                sample: benign.clone(),
                name: "benign".to_string(),
                expect: Expect::Never,
                problem: None,
            };
            outcomes.push(judge(test, Ok(counted.clone()), hunter.as_ref()));
        }
    }
    Ok(TestRun { outcomes, notes })
}

/// Detections per rule id in some logs.
type Counts = Arc<HashMap<String, usize>>;

/// Hunts in the logs at `paths` and counts the detections of each rule id.
fn count_detections(hunter: Option<&Hunter>, paths: &[PathBuf]) -> Result<Counts, String> {
    let found = sigil_logs::discover(paths);
    if let Some(e) = found.errors.first() {
        return Err(e.to_string());
    }
    if found.inputs.is_empty() {
        return Err(format!(
            "{}: no EVTX or JSON log found",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let Some(hunter) = hunter else {
        return Ok(Counts::default());
    };
    let mut counts: HashMap<String, usize> = HashMap::new();
    let summary = hunter
        .run(&found.inputs, &RunOptions::default(), &|| {}, &mut |f| {
            if let Some(id) = &f.rule_id {
                *counts.entry(id.clone()).or_default() += 1;
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    if summary.stats.events == 0
        && let Some(e) = summary.stats.errors.first()
    {
        return Err(format!("no event could be read: {e}"));
    }
    Ok(Arc::new(counts))
}

/// The outcome of `test` given the detections counted on its sample.
fn judge(test: RuleTest, counted: Result<Counts, String>, hunter: Option<&Hunter>) -> TestOutcome {
    let counts = match counted {
        Ok(c) => c,
        Err(reason) => {
            return TestOutcome {
                test,
                found: 0,
                ok: false,
                reason: Some(reason),
            };
        }
    };
    let Some(id) = test.rule_id.as_deref() else {
        return TestOutcome {
            test,
            found: 0,
            ok: false,
            reason: Some("the rule has no id, which detections are counted by".to_string()),
        };
    };
    let found = counts.get(id).copied().unwrap_or(0);
    let ok = test.expect.holds(found);
    let reason = (!ok).then(|| {
        let why = match test.expect {
            Expect::AtLeast(n) => format!(
                "expected at least {n} detection{}, found {found}",
                plural(n)
            ),
            Expect::Never => format!(
                "the rule fired on {found} event{} of a benign log",
                plural(found)
            ),
        };
        // A rule that was not hunted with says why.
        let skipped = hunter.and_then(|h| {
            let prefix = format!("{}: ", test.path.display());
            h.skipped()
                .iter()
                .find(|s| s.kind != SkipKind::Broken && s.who.starts_with(&prefix))
        });
        match skipped {
            Some(s) => format!("{why}: the rule was not hunted with: {}", s.reason),
            None => why,
        }
    });
    TestOutcome {
        test,
        found,
        ok,
        reason,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The regression tests of the rules of `loaded`, in rule order: for each rule with a
/// `regression_tests_path`, one test per sample of its `info.yml`. A rule file that does not
/// read but names regression tests gives one failing test, so that a broken rule never
/// passes by having no test.
pub fn regression_tests(loaded: &sigil_load::RuleSet) -> Vec<RuleTest> {
    let mut out = Vec::new();
    for lr in &loaded.rules {
        let Some(info) = lr.rule.custom.get("regression_tests_path") else {
            continue;
        };
        out.extend(tests_of(lr.rule.id.as_deref(), &lr.path, info));
    }
    let mut broken: Vec<&Arc<Path>> = loaded.errors().map(|d| &d.path).collect();
    broken.dedup();
    for path in broken {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let names_tests = text
            .lines()
            .any(|l| l.starts_with("regression_tests_path:"));
        // A file of several rules that reads in part has its sound rules' tests above.
        if !names_tests || loaded.rules.iter().any(|lr| Arc::ptr_eq(&lr.path, path)) {
            continue;
        }
        let first = loaded
            .errors()
            .find(|d| Arc::ptr_eq(&d.path, path) && d.diagnostic.severity == Severity::Error)
            .map_or_else(String::new, ToString::to_string);
        out.push(RuleTest {
            rule_id: None,
            path: Arc::clone(path),
            sample: path.to_path_buf(),
            name: "the rule reads".to_string(),
            expect: Expect::AtLeast(1),
            problem: Some(format!("the rule does not read: {first}")),
        });
    }
    out
}

/// `relative` as SigmaHQ's runner finds it: under the rule's folder or the nearest folder
/// above it where it exists (absolute paths as they are).
pub fn resolve_from(rule: &Path, relative: &str) -> PathBuf {
    let relative = Path::new(relative);
    if relative.is_absolute() {
        return relative.to_path_buf();
    }
    let start = rule.parent().unwrap_or(Path::new("."));
    let mut dir = start;
    loop {
        let candidate = dir.join(relative);
        if candidate.exists() {
            return candidate;
        }
        match dir.parent() {
            Some(parent) if parent != dir => dir = parent,
            _ => return start.join(relative),
        }
    }
}

/// The tests the `info.yml` at `info` (relative to the rule) lists for the rule.
fn tests_of(rule_id: Option<&str>, rule_path: &Arc<Path>, info: &str) -> Vec<RuleTest> {
    let info_path = resolve_from(rule_path, info);
    let failing = |problem: String| RuleTest {
        rule_id: rule_id.map(str::to_string),
        path: Arc::clone(rule_path),
        sample: info_path.clone(),
        name: "info.yml".to_string(),
        expect: Expect::AtLeast(1),
        problem: Some(problem),
    };
    let text = match std::fs::read_to_string(&info_path) {
        Ok(t) => t,
        Err(e) => {
            return vec![failing(format!(
                "regression_tests_path: {}: {e}",
                info_path.display()
            ))];
        }
    };
    let (docs, error) = yaml::load(&text);
    if let Some(e) = error {
        return vec![failing(format!("{}: {e}", info_path.display()))];
    }
    let Some(root) = docs.first().map(|d| &d.root) else {
        return vec![failing(format!("{}: empty", info_path.display()))];
    };
    let at = |node: &Node<'_>| {
        format!(
            "{}:{}:{}",
            info_path.display(),
            node.span.line,
            node.span.column
        )
    };
    // SigmaHQ's runner holds the rule and its info.yml to the same id.
    let info_id = root
        .get("rule_metadata")
        .and_then(|m| match &m.value {
            NodeValue::Seq(items) => items.first(),
            _ => None,
        })
        .and_then(|m| m.get("id"))
        .and_then(Node::as_text);
    if let (Some(ours), Some(theirs)) = (rule_id, info_id)
        && ours != theirs
    {
        return vec![failing(format!(
            "{}: rule_metadata names rule {theirs}, not this rule ({ours})",
            info_path.display()
        ))];
    }
    let Some(NodeValue::Seq(items)) = root.get("regression_tests_info").map(|n| &n.value) else {
        return vec![failing(format!(
            "{}: no `regression_tests_info` list",
            at(root)
        ))];
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let name = item
            .get("name")
            .and_then(Node::as_text)
            .map_or_else(|| format!("test {}", i + 1), str::to_string);
        let kind = item.get("type").and_then(Node::as_text).unwrap_or("");
        let sample = item
            .get("path")
            .and_then(Node::as_text)
            .map(|p| resolve_from(rule_path, p));
        let count = item.get("match_count").map(|n| {
            n.as_text()
                .and_then(|t| t.parse::<usize>().ok())
                .ok_or_else(|| format!("{}: `match_count` is not a number", at(n)))
        });
        let mut test = RuleTest {
            rule_id: rule_id.map(str::to_string),
            path: Arc::clone(rule_path),
            sample: sample.clone().unwrap_or_else(|| info_path.clone()),
            name,
            expect: Expect::AtLeast(1),
            problem: None,
        };
        match count {
            Some(Ok(n)) => test.expect = Expect::AtLeast(n),
            Some(Err(e)) => test.problem = Some(e),
            None => {}
        }
        if test.problem.is_none() {
            test.problem = if !matches!(kind, "evtx" | "json") {
                Some(format!(
                    "{}: sample type `{kind}` is not one sigil reads (evtx, json)",
                    at(item)
                ))
            } else if sample.is_none() {
                Some(format!("{}: the test has no `path`", at(item)))
            } else if !test.sample.exists() {
                Some(format!("{}: no such sample", test.sample.display()))
            } else {
                None
            };
        }
        out.push(test);
    }
    if out.is_empty() {
        out.push(failing(format!(
            "{}: `regression_tests_info` lists no test",
            at(root)
        )));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations() {
        assert!(Expect::AtLeast(2).holds(3));
        assert!(!Expect::AtLeast(2).holds(1));
        assert!(Expect::Never.holds(0));
        assert!(!Expect::Never.holds(1));
        assert_eq!(Expect::Never.count(), 0);
    }

    #[test]
    fn paths_resolve_from_the_nearest_folder_that_holds_them() {
        let root = std::env::temp_dir().join(format!("sigil-rule-tests-{}", std::process::id()));
        let deep = root.join("rules/windows/process");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::create_dir_all(root.join("regression_data/x")).unwrap();
        std::fs::write(root.join("regression_data/x/info.yml"), "a: 1").unwrap();
        let rule = deep.join("rule.yml");
        assert_eq!(
            resolve_from(&rule, "regression_data/x/info.yml"),
            root.join("regression_data/x/info.yml")
        );
        // Not found anywhere: under the rule's folder, where the error names it.
        assert_eq!(resolve_from(&rule, "nowhere.yml"), deep.join("nowhere.yml"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
