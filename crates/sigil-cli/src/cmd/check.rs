//! `sigil check PATH...`: read Sigma and Elastic rules and report problems.
//!
//! Files are read and checked in parallel; the checks themselves live in
//! `sigil_sigma::lint`. One unreadable or broken file is reported like any other problem
//! and never stops the others.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use rayon::prelude::*;
use sigil_core::{Diagnostic, Severity, Span};
use sigil_sigma::{SigmaFile, lint};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `path:line:column: error|warning: message`, one line per problem.
    Text,
    /// One JSON object with counts, errors and warnings.
    Json,
    /// Markdown (only with `--list-lints`: the content of `docs/lints.md`).
    Markdown,
}

/// Arguments of `sigil check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rule files or folders (searched recursively for Sigma `.yml`/`.yaml` and Elastic
    /// `.toml`).
    #[arg(required_unless_present = "list_lints")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// List every check with its code, severity and documentation, then exit.
    #[arg(long)]
    pub list_lints: bool,
    /// Run every check, the optional ones too (SigmaHQ's conventions, ATT&CK tags
    /// against the built-in ATT&CK data): what `sigma check` runs with every validator.
    #[arg(long, conflicts_with = "config")]
    pub all_lints: bool,
    /// A pySigma validation configuration (`validators: [all, -name...]`,
    /// `exclusions: {rule-id: [validator...]}`), as `sigma check --validation-config`
    /// reads it; names are pySigma validator identifiers or sigil check codes.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Apply the fixes that cannot change what a rule matches (tag case, repeated tags
    /// and values, a `*` the modifier implies, trailing whitespace, `date` and
    /// `modified` swapped...) and write the files back, comments and layout kept; each file's
    /// rules are read again and must be the same rules. Then check as usual.
    #[arg(long)]
    pub fix: bool,
    /// Check every file anew instead of taking the outcome of files checked before, with
    /// the same checks and the same bytes, from the user's cache folder
    /// (`$XDG_CACHE_HOME/sigil`).
    #[arg(long)]
    pub no_cache: bool,
}

/// One file's outcome.
struct Checked {
    path: PathBuf,
    /// Its rules, diagnostics and sources (from a summary in the check cache: its
    /// diagnostics only).
    file: SigmaFile,
    /// How many rules it holds.
    rules: usize,
    /// Findings fixed in it (`--fix`).
    fixed: usize,
}

/// Runs the check.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if args.list_lints {
        list_lints(args.format)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.format == Format::Markdown {
        bail!("`--format markdown` is only for `--list-lints`");
    }
    let selection = selection(args)?;
    let paths = collect(&args.paths)?;
    // `--fix` writes files: its run reads them all with the front end.
    let cache = match sigil_load::RuleCache::user() {
        Some(c) if !args.no_cache && !args.fix => Some(c.checks(&args.paths, &selection_id(args)?)),
        _ => None,
    };
    let found: Vec<Found> = paths
        .into_par_iter()
        .map(|path| {
            let bytes = std::fs::read(&path);
            let named = args.paths.contains(&path);
            let key = match (&cache, &bytes) {
                (Some(c), Ok(b)) => Some(c.key(&path, named, b)),
                _ => None,
            };
            if let (Some(c), Some(k)) = (&cache, key)
                && let Some(summary) = c.summary(k)
            {
                return Found::Hit {
                    path,
                    key: k,
                    summary,
                };
            }
            let checked = check_one(args, &selection, path, bytes, named);
            let entry = key
                .and_then(|k| sigil_load::CheckCache::entry(k, checked.as_ref().map(|c| &c.file)));
            Found::Fresh {
                checked,
                key,
                entry,
            }
        })
        .collect();
    // The set checks' findings of an earlier run over the very same files, if any: then
    // each file's summary is all this run needs.
    let set_key = cache.as_ref().and_then(|_| {
        let keys: Option<Vec<sigil_load::CheckKey>> = found.iter().map(Found::key).collect();
        keys.map(|k| sigil_load::CheckCache::set_key(&k))
    });
    let set_memo = cache
        .as_ref()
        .zip(set_key)
        .and_then(|(c, k)| c.set_findings(k));
    let mut entries = Vec::new();
    let read: Vec<Option<Checked>> = found
        .into_par_iter()
        .map(|f| match f {
            Found::Fresh { checked, entry, .. } => (checked, entry),
            Found::Hit { path, key, summary } => {
                let entry = Some(sigil_load::CheckCache::kept(key));
                let outcome = if set_memo.is_some() {
                    Some(from_summary(path.clone(), summary))
                } else {
                    cache.as_ref().and_then(|c| c.get(key)).map(|o| match o {
                        sigil_load::CheckOutcome::NotRule => None,
                        sigil_load::CheckOutcome::File(file) => Some(Checked {
                            rules: file.rules.len(),
                            path: path.clone(),
                            file,
                            fixed: 0,
                        }),
                    })
                };
                if let Some(checked) = outcome {
                    (checked, entry)
                } else {
                    // An entry whose summary reads back but not its rules (it cannot be,
                    // short of a bug): the file is checked anew.
                    let bytes = std::fs::read(&path);
                    let named = args.paths.contains(&path);
                    (check_one(args, &selection, path, bytes, named), None)
                }
            }
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(checked, entry)| {
            entries.extend(entry);
            checked
        })
        .collect();
    let not_rules = read.iter().filter(|c| c.is_none()).count();
    if args.fix {
        let fixed: usize = read.iter().flatten().map(|c| c.fixed).sum();
        let files = read.iter().flatten().filter(|c| c.fixed > 0).count();
        eprintln!(
            "fixed {fixed} finding{} in {files} file{}",
            plural(fixed),
            plural(files)
        );
    }
    let mut checked: Vec<Checked> = read.into_iter().flatten().collect();
    if not_rules > 0 {
        eprintln!(
            "note: passed over {not_rules} YAML file{} that {} not Sigma rules (no detection, correlation or filter)",
            plural(not_rules),
            if not_rules == 1 { "is" } else { "are" }
        );
    }

    let set_findings = if let Some(findings) = set_memo {
        entries.extend(set_key.map(sigil_load::CheckCache::kept));
        findings
    } else {
        let files: Vec<&SigmaFile> = checked.iter().map(|c| &c.file).collect();
        let findings = lint::check_set_with(&files, &selection);
        entries.extend(set_key.and_then(|k| sigil_load::CheckCache::set_entry(k, &findings)));
        findings
    };
    if let Some(c) = &cache {
        c.save(entries);
    }
    for (i, d) in set_findings {
        checked[i].file.diagnostics.push(d);
    }
    for c in &mut checked {
        c.file
            .diagnostics
            .sort_by_key(|d| (d.span.line, d.span.column));
    }

    let rules: usize = checked.iter().map(|c| c.rules).sum();
    let count = |sev: Severity| {
        checked
            .iter()
            .flat_map(|c| &c.file.diagnostics)
            .filter(|d| d.severity == sev)
            .count()
    };
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Json => {
            writeln!(out, "{}", to_json(&checked, rules))?;
        }
        Format::Text | Format::Markdown => {
            for c in &checked {
                for d in &c.file.diagnostics {
                    writeln!(out, "{}", render(&c.path, d))?;
                }
            }
        }
    }
    out.flush()?;
    eprintln!(
        "checked {} file{}, {rules} rule{}: {errors} error{}, {warnings} warning{}",
        checked.len(),
        plural(checked.len()),
        plural(rules),
        plural(errors),
        plural(warnings),
    );
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The checks to run: sigil's defaults, all of them, or a pySigma configuration's.
fn selection(args: &Args) -> anyhow::Result<lint::Selection> {
    if args.all_lints {
        return Ok(lint::Selection::all());
    }
    let Some(path) = &args.config else {
        return Ok(lint::Selection::defaults());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot read the configuration: {e}", path.display()))?;
    let selection = lint::Selection::from_pysigma_config(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let unmatched: Vec<&str> = selection.unmatched().collect();
    if !unmatched.is_empty() {
        eprintln!(
            "note: sigil has no check for the pySigma validator{} {}",
            plural(unmatched.len()),
            unmatched.join(", ")
        );
    }
    Ok(selection)
}

/// Reads and checks one file (`bytes`: its content, or why it could not be read); `None`
/// for a YAML file found in a folder that is not meant as a rule.
fn check_one(
    args: &Args,
    selection: &lint::Selection,
    path: PathBuf,
    mut bytes: std::io::Result<Vec<u8>>,
    named: bool,
) -> Option<Checked> {
    let mut fixed = 0;
    let mut write_error = None;
    let elastic = sigil_load::FileKind::of(&path) == Some(sigil_load::FileKind::Elastic);
    if args.fix
        && !elastic
        && let Ok(b) = &bytes
        && let Ok(text) = std::str::from_utf8(b)
    {
        let outcome = lint::autofix::fix_text(text, Some(&path), selection);
        for title in &outcome.refused {
            eprintln!(
                "note: {}: not fixed, the rule would change: {title}",
                path.display()
            );
        }
        if let Some(new) = outcome.text {
            match std::fs::write(&path, &new) {
                Ok(()) => {
                    fixed = outcome.fixed;
                    bytes = Ok(new.into_bytes());
                }
                // Reported as an error of the file: the run fails.
                Err(e) => write_error = Some(e),
            }
        }
    }
    let mut file = match &bytes {
        Ok(bytes) if elastic => elastic_file(bytes),
        Ok(bytes) => sigil_sigma::parse_bytes(bytes),
        Err(e) => SigmaFile {
            diagnostics: vec![Diagnostic::error(
                "unreadable-file",
                Span::new(1, 1, 0),
                format!("cannot read the file: {e}"),
            )],
            ..SigmaFile::default()
        },
    };
    // A YAML file found in a folder that is not meant as a rule is passed over
    // (asked only of files the reader has errors for: a sound rule is a rule).
    if !elastic
        && !named
        && file.has_errors()
        && let Ok(bytes) = &bytes
        && !sigil_sigma::looks_like_rule(&String::from_utf8_lossy(bytes))
    {
        return None;
    }
    // The rule checks are Sigma's (its schema, its modifiers); Elastic rules get
    // their front end's diagnostics and the checks across the set.
    if !elastic {
        file.set_path(&path);
        lint::check_file_with(&mut file, selection);
        if let Ok(b) = &bytes
            && let Ok(text) = std::str::from_utf8(b)
        {
            lint::check_text_with(text, &mut file, selection);
        }
    }
    if let Some(e) = write_error {
        file.diagnostics.push(Diagnostic::error(
            "unwritable-file",
            Span::new(1, 1, 0),
            format!("cannot write the fixes: {e}"),
        ));
    }
    Some(Checked {
        rules: file.rules.len(),
        path,
        file,
        fixed,
    })
}

/// One file as the first pass over the files finds it.
enum Found {
    /// Its outcome is in the check cache (its summary was read).
    Hit {
        path: PathBuf,
        key: sigil_load::CheckKey,
        summary: sigil_load::Summary,
    },
    /// Read and checked (`None`: not a rule); its key and entry when it is cached.
    Fresh {
        checked: Option<Checked>,
        key: Option<sigil_load::CheckKey>,
        entry: Option<sigil_load::CheckEntry>,
    },
}

impl Found {
    fn key(&self) -> Option<sigil_load::CheckKey> {
        match self {
            Found::Hit { key, .. } => Some(*key),
            Found::Fresh { key, .. } => *key,
        }
    }
}

/// A file's outcome from its summary: its diagnostics and how many rules it holds.
fn from_summary(path: PathBuf, summary: sigil_load::Summary) -> Option<Checked> {
    match summary {
        sigil_load::Summary::NotRule => None,
        sigil_load::Summary::File { rules, diagnostics } => Some(Checked {
            path,
            file: SigmaFile {
                diagnostics,
                ..SigmaFile::default()
            },
            rules,
            fixed: 0,
        }),
    }
}

/// What tells this run's choice of checks from another's, for the check cache.
fn selection_id(args: &Args) -> anyhow::Result<Vec<u8>> {
    if args.all_lints {
        return Ok(b"all".to_vec());
    }
    let Some(path) = &args.config else {
        return Ok(b"defaults".to_vec());
    };
    let mut id = b"config\0".to_vec();
    id.extend(
        std::fs::read(path).map_err(|e| {
            anyhow::anyhow!("{}: cannot read the configuration: {e}", path.display())
        })?,
    );
    Ok(id)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `path:line:column: severity: message [code]`.
fn render(path: &Path, d: &Diagnostic) -> String {
    format!(
        "{}:{}:{}: {}: {} [{}]",
        path.display(),
        d.span.line,
        d.span.column,
        d.severity,
        d.message,
        d.code
    )
}

fn to_json(checked: &[Checked], rules: usize) -> serde_json::Value {
    let list = |sev: Severity| {
        checked
            .iter()
            .flat_map(|c| {
                c.file
                    .diagnostics
                    .iter()
                    .filter(move |d| d.severity == sev)
                    .map(move |d| {
                        serde_json::json!({
                            "path": c.path.display().to_string(),
                            "line": d.span.line,
                            "column": d.span.column,
                            "message": d.message,
                            "code": d.code,
                            "pysigma": lint::pysigma_of(d.code),
                        })
                    })
            })
            .collect::<Vec<_>>()
    };
    serde_json::json!({
        "files": checked.len(),
        "rules": rules,
        "errors": list(Severity::Error),
        "warnings": list(Severity::Warning),
    })
}

/// An Elastic rule file read into the shape the set checks take: its rules, its
/// diagnostics, and each rule's position.
fn elastic_file(bytes: &[u8]) -> SigmaFile {
    let parsed = match std::str::from_utf8(bytes) {
        Ok(text) => sigil_elastic::parse_rule_toml(text),
        Err(e) => {
            return SigmaFile {
                diagnostics: vec![Diagnostic::error(
                    "not-utf8",
                    Span::new(1, 1, 0),
                    format!("the file is not UTF-8 text ({e})"),
                )],
                ..SigmaFile::default()
            };
        }
    };
    let sources = parsed
        .rules
        .iter()
        .map(|r| sigil_sigma::RuleSource {
            span: r.span,
            ..sigil_sigma::RuleSource::default()
        })
        .collect();
    SigmaFile {
        rules: parsed.rules,
        diagnostics: parsed.diagnostics,
        sources,
    }
}

/// The files to check: files as given, folders searched recursively for rule files.
/// A path that does not exist is a usage error.
fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let (files, missing) = sigil_load::find_files(paths, sigil_load::Options::default());
    if let Some(m) = missing.first() {
        bail!("{}: no such file or folder", m.path.display());
    }
    Ok(files)
}

fn list_lints(format: Format) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match format {
        Format::Markdown => write!(out, "{}", lint::docs_markdown())?,
        Format::Json => {
            let list: Vec<_> = lint::registry()
                .iter()
                .map(|l| {
                    let i = l.info();
                    serde_json::json!({
                        "code": i.code,
                        "severity": i.severity,
                        "reader": i.reader,
                        "pysigma": i.pysigma,
                        "doc": i.doc,
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::Value::Array(list))?;
        }
        Format::Text => {
            for l in lint::registry() {
                let i = l.info();
                writeln!(
                    out,
                    "{:<24} {:<8} {}",
                    i.code,
                    i.severity.to_string(),
                    i.summary()
                )?;
            }
        }
    }
    out.flush()?;
    Ok(())
}
