//! `sigil convert --list-targets`: every target with its default pipeline, the built-in
//! pipelines made for it, and its output formats (as `sigma list targets` does).

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use sigil_backend::TargetInfo;
use sigil_backend::targets::ALL;
use sigil_pipeline::{builtin, builtin_names};

/// Prints the list as a table (`--format plain`) or one JSON object per target (`jsonl`).
pub fn run(format: &str) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match format {
        "plain" | "default" => write_table(&mut out)?,
        "jsonl" => {
            for t in ALL {
                writeln!(out, "{}", json(t))?;
            }
        }
        other => {
            eprintln!(
                "sigil convert: `--list-targets` is written as plain or jsonl, not `{other}`"
            );
            return Ok(ExitCode::from(2));
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The built-in pipelines made for `t` (those whose `allowed_backends` names it).
fn own_pipelines(t: &TargetInfo) -> Vec<&'static str> {
    builtin_names()
        .into_iter()
        .filter(|n| {
            builtin(n).is_some_and(|p| {
                !p.allowed_backends.is_empty() && t.accepts_pipeline(&p.allowed_backends)
            })
        })
        .collect()
}

/// The built-in pipelines for every target (no `allowed_backends`).
fn generic_pipelines() -> Vec<&'static str> {
    builtin_names()
        .into_iter()
        .filter(|n| builtin(n).is_some_and(|p| p.allowed_backends.is_empty()))
        .collect()
}

fn formats(t: &TargetInfo) -> Vec<&'static str> {
    let mut f = vec!["plain", "jsonl"];
    f.extend(t.formats.iter().map(|f| f.name));
    if sigil_backend::job::Engine::of(t).is_some() {
        f.push("job");
    }
    f
}

fn write_table(out: &mut impl std::io::Write) -> std::io::Result<()> {
    let rows: Vec<[String; 5]> = ALL
        .iter()
        .map(|t| {
            let mut names = vec![t.name];
            names.extend(t.aliases.iter().copied());
            names.extend(t.alias_notes.iter().map(|(a, _)| *a));
            [
                names.join(", "),
                t.default_pipeline.unwrap_or("-").to_string(),
                own_pipelines(t).join(", "),
                formats(t).join(", "),
                format!("{} (as {})", t.engine, t.reference),
            ]
        })
        .collect();
    let header = [
        "target (aliases)",
        "default pipeline",
        "its pipelines",
        "formats",
        "engine (reference)",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                let _ = write!(s, "{cell:<w$}  ", w = widths[i]);
            }
        }
        s
    };
    writeln!(out, "{}", line(header))?;
    for row in &rows {
        writeln!(out, "{}", line(row.each_ref().map(String::as_str)))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Pipelines for every target: {}. `-p NAME|FILE` replaces the default pipeline of the targets it is for; `-p none` converts without any.",
        generic_pipelines().join(", ")
    )?;
    Ok(())
}

fn json(t: &TargetInfo) -> serde_json::Value {
    serde_json::json!({
        "name": t.name,
        "aliases": t.aliases.iter().chain(t.alias_notes.iter().map(|(a, _)| a)).collect::<Vec<_>>(),
        "engine": t.engine,
        "reference": t.reference,
        "default_pipeline": t.default_pipeline,
        "pipelines": own_pipelines(t),
        "formats": formats(t),
    })
}
