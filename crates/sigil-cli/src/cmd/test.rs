//! `sigil test RULES... [--benign LOGS...]`: each rule against its regression samples
//! (SigmaHQ's `regression_tests_path` format) and every rule against benign logs.
//!
//! The tests are the library's (`sigil_hunt::rule_tests`); this module renders them as
//! text, JSON or JUnit XML and maps the outcome to an exit code: 0 when every test passes,
//! 1 when one fails, 2 when the run cannot start.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use sigil_hunt::rule_tests::{Expect, TestOptions, TestOutcome, TestRun, test_rules};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per test (`PASS` / `FAIL`), then a summary.
    Text,
    /// One JSON object: `{"total","passed","failed","tests":[...]}`.
    Json,
}

/// Arguments of `sigil test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rule files or folders; each rule with a `regression_tests_path` is tested on the
    /// samples its `info.yml` lists.
    #[arg(required = true, value_name = "RULES")]
    pub rules: Vec<PathBuf>,
    /// Logs known to be benign (EVTX, JSON; files or folders): every rule must not fire on
    /// them. Each path given is one test per rule.
    #[arg(long, num_args = 1.., value_name = "LOGS")]
    pub benign: Vec<PathBuf>,
    /// A processing pipeline, built-in name or YAML file, as for `sigil hunt` (default: the
    /// hunt's Sysmon and Security audit mappings).
    #[arg(long, short = 'p', value_name = "NAME|FILE")]
    pub pipeline: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write the results as JUnit XML to FILE, for CI systems.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Runs the tests.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    for path in args.rules.iter().chain(&args.benign) {
        if !path.exists() {
            bail!("{}: no such file or folder", path.display());
        }
    }
    let options = TestOptions {
        benign: args.benign.clone(),
        pipelines: args.pipeline.clone(),
    };
    let run = test_rules(&args.rules, &options)?;
    for note in &run.notes {
        eprintln!("note: {note}");
    }
    if run.outcomes.is_empty() {
        bail!(
            "no test to run: no rule under {} has a `regression_tests_path`, and no --benign logs were given",
            args.rules
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let failed = run.outcomes.iter().filter(|o| !o.ok).count();

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Json => writeln!(out, "{}", to_json(&run))?,
        Format::Text => write!(out, "{}", to_text(&run))?,
    }
    out.flush()?;
    if let Some(path) = &args.junit {
        std::fs::write(path, to_junit(&run))
            .with_context(|| format!("{}: cannot write the JUnit report", path.display()))?;
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The rule id as the reports show it (`-` when the rule has none).
fn id_of(o: &TestOutcome) -> &str {
    o.test.rule_id.as_deref().unwrap_or("-")
}

/// `PASS|FAIL path (id) sample: expected, found`, one line per test, then the summary.
fn to_text(run: &TestRun) -> String {
    let mut s = String::new();
    for o in &run.outcomes {
        let t = &o.test;
        let expected = match t.expect {
            Expect::AtLeast(n) => format!("at least {n}"),
            Expect::Never => "none".to_string(),
        };
        let _ = write!(
            s,
            "{} {} ({}) {}: expected {expected}, found {}",
            if o.ok { "PASS" } else { "FAIL" },
            t.path.display(),
            id_of(o),
            t.sample.display(),
            o.found
        );
        if let Some(reason) = &o.reason {
            let _ = write!(s, ": {reason}");
        }
        s.push('\n');
    }
    let failed = run.outcomes.iter().filter(|o| !o.ok).count();
    let _ = writeln!(
        s,
        "{} test{}: {} passed, {failed} failed",
        run.outcomes.len(),
        if run.outcomes.len() == 1 { "" } else { "s" },
        run.outcomes.len() - failed
    );
    s
}

/// `{"total","passed","failed","tests":[{"rule_id","path","sample","expected","found","ok"}]}`.
fn to_json(run: &TestRun) -> serde_json::Value {
    let failed = run.outcomes.iter().filter(|o| !o.ok).count();
    let tests: Vec<serde_json::Value> = run
        .outcomes
        .iter()
        .map(|o| {
            serde_json::json!({
                "rule_id": o.test.rule_id,
                "path": o.test.path.display().to_string(),
                "sample": o.test.sample.display().to_string(),
                "expected": o.test.expect.count(),
                "found": o.found,
                "ok": o.ok,
            })
        })
        .collect();
    serde_json::json!({
        "total": run.outcomes.len(),
        "passed": run.outcomes.len() - failed,
        "failed": failed,
        "tests": tests,
    })
}

/// JUnit XML: one test suite, one test case per test (class: the rule file, name: the rule
/// id and the sample), failures with their reason.
fn to_junit(run: &TestRun) -> String {
    let failed = run.outcomes.iter().filter(|o| !o.ok).count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"sigil test\" tests=\"{}\" failures=\"{failed}\">",
        run.outcomes.len()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"sigil test\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\">",
        run.outcomes.len()
    );
    for o in &run.outcomes {
        let t = &o.test;
        let _ = write!(
            s,
            "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\"",
            xml_escape(&t.path.display().to_string()),
            xml_escape(&format!("{} {} ({})", id_of(o), t.sample.display(), t.name)),
            xml_escape(&t.path.display().to_string()),
        );
        match &o.reason {
            Some(reason) if !o.ok => {
                let _ = writeln!(
                    s,
                    ">\n      <failure message=\"{}\" type=\"{}\"/>\n    </testcase>",
                    xml_escape(reason),
                    match t.expect {
                        Expect::AtLeast(_) => "regression",
                        Expect::Never => "benign",
                    }
                );
            }
            _ => s.push_str("/>\n"),
        }
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}

/// Text as an XML attribute value. Characters XML 1.0 cannot hold at all (most control
/// characters) become U+FFFD.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_attributes_are_escaped() {
        assert_eq!(
            xml_escape("a<b & \"c\" 'd'\n\u{1}"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&#10;\u{FFFD}"
        );
    }
}
