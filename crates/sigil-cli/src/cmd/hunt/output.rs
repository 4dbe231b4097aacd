//! How `sigil hunt` writes findings: JSON lines (every key, always), or a table or CSV
//! with the columns of a profile.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use sigil_core::Level;
use sigil_hunt::Finding;

/// Output formats of `sigil hunt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned table, for reading.
    Table,
    /// One JSON object per detection.
    Jsonl,
    /// Comma-separated values with a header line.
    Csv,
}

/// Which columns the table and CSV show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Time, level, rule, computer and details.
    Minimal,
    /// Also channel, event id and record id (the table's default).
    Standard,
    /// Also the rule id, tags (ATT&CK techniques) and the log file.
    Verbose,
    /// Also every field of the event, as JSON (the CSV's default).
    AllFields,
}

/// A column of the table and CSV, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Timestamp,
    Level,
    RuleTitle,
    RuleId,
    Tags,
    Computer,
    Channel,
    EventId,
    RecordId,
    Source,
    Details,
    Event,
}

impl Column {
    const ALL: [Column; 12] = [
        Column::Timestamp,
        Column::Level,
        Column::RuleTitle,
        Column::RuleId,
        Column::Tags,
        Column::Computer,
        Column::Channel,
        Column::EventId,
        Column::RecordId,
        Column::Source,
        Column::Details,
        Column::Event,
    ];

    fn name(self) -> &'static str {
        match self {
            Column::Timestamp => "timestamp",
            Column::Level => "level",
            Column::RuleTitle => "rule_title",
            Column::RuleId => "rule_id",
            Column::Tags => "tags",
            Column::Computer => "computer",
            Column::Channel => "channel",
            Column::EventId => "event_id",
            Column::RecordId => "record_id",
            Column::Source => "source",
            Column::Details => "details",
            Column::Event => "event",
        }
    }

    fn in_profile(self, profile: Profile) -> bool {
        use Column as C;
        match profile {
            Profile::Minimal => matches!(
                self,
                C::Timestamp | C::Level | C::RuleTitle | C::Computer | C::Details
            ),
            Profile::Standard => !matches!(self, C::RuleId | C::Tags | C::Source | C::Event),
            Profile::Verbose => self != C::Event,
            Profile::AllFields => true,
        }
    }

    /// The cell of `f` in this column; `short` shortens what a table would make too wide.
    fn cell(self, f: &Finding, short: bool) -> String {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        match self {
            Column::Timestamp => opt(&f.timestamp),
            Column::Level => f.level.map(Level::name).unwrap_or_default().to_string(),
            Column::RuleTitle if short => truncate(&f.title, 70),
            Column::RuleTitle => f.title.clone(),
            Column::RuleId => opt(&f.rule_id),
            Column::Tags => f.tags.join(" "),
            Column::Computer => opt(&f.computer),
            Column::Channel => opt(&f.channel),
            Column::EventId => num(f.event_id),
            Column::RecordId => num(f.record_id),
            Column::Source if short => f
                .source
                .as_deref()
                .map(|s| {
                    Path::new(s)
                        .file_name()
                        .map_or(s.to_string(), |n| n.to_string_lossy().into_owned())
                })
                .unwrap_or_default(),
            Column::Source => opt(&f.source),
            Column::Details if short => truncate(&f.details, 160),
            Column::Details => f.details.clone(),
            Column::Event => f.event.to_string(),
        }
    }
}

/// Detections are written in blocks of this size: a detection line holds its whole event
/// (about 2 KB), and the default 8 KiB buffer made a write system call every few lines.
const OUTPUT_BUFFER: usize = 256 * 1024;

/// Where detections are written, in the chosen format. A table needs its column widths,
/// so its rows are kept until the end (a table is for reading, so it is small); the
/// other formats stream.
pub struct Output {
    format: Format,
    columns: Vec<Column>,
    /// Whether table cells are shortened (profiles up to `standard`).
    short: bool,
    out: Box<dyn Write + Send>,
    rows: Vec<Vec<String>>,
    /// A JSON line being written.
    line: Vec<u8>,
}

impl Output {
    /// Opens `path` (standard output when `None`) for `format` with the columns of
    /// `profile` (or the format's default).
    pub fn open(
        format: Format,
        profile: Option<Profile>,
        path: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let out: Box<dyn Write + Send> = match path {
            Some(path) => Box::new(std::io::BufWriter::with_capacity(
                OUTPUT_BUFFER,
                std::fs::File::create(path)
                    .with_context(|| format!("cannot write {}", path.display()))?,
            )),
            None => Box::new(std::io::BufWriter::with_capacity(
                OUTPUT_BUFFER,
                std::io::stdout(),
            )),
        };
        let profile = profile.unwrap_or(match format {
            Format::Csv => Profile::AllFields,
            Format::Table | Format::Jsonl => Profile::Standard,
        });
        let mut output = Self {
            format,
            columns: Column::ALL
                .into_iter()
                .filter(|c| c.in_profile(profile))
                .collect(),
            short: matches!(profile, Profile::Minimal | Profile::Standard),
            out,
            rows: Vec::new(),
            line: Vec::new(),
        };
        if output.format == Format::Csv {
            let header: Vec<&str> = output.columns.iter().map(|c| c.name()).collect();
            writeln!(output.out, "{}", header.join(","))?;
        }
        Ok(output)
    }

    /// Writes one finding.
    pub fn write(&mut self, f: &Finding) -> std::io::Result<()> {
        match self.format {
            Format::Jsonl => {
                self.line.clear();
                f.write_jsonl(&mut self.line);
                self.out.write_all(&self.line)?;
            }
            Format::Csv => {
                let row: Vec<String> = self
                    .columns
                    .iter()
                    .map(|c| csv_field(&c.cell(f, false)))
                    .collect();
                writeln!(self.out, "{}", row.join(","))?;
            }
            Format::Table => {
                let row = self.columns.iter().map(|c| c.cell(f, self.short)).collect();
                self.rows.push(row);
            }
        }
        Ok(())
    }

    /// Writes what is kept (the table) and flushes.
    pub fn finish(mut self) -> std::io::Result<()> {
        if self.format == Format::Table {
            write_table(&mut self.out, &self.columns, &self.rows)?;
        }
        self.out.flush()?;
        Ok(())
    }
}

pub(crate) fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn write_table(
    out: &mut dyn Write,
    columns: &[Column],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let header: Vec<&str> = columns
        .iter()
        .map(|c| match c {
            Column::RuleTitle => "rule",
            other => other.name(),
        })
        .collect();
    for line in aligned(&header, rows) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// A table as text lines: the header, then each row, every column padded to its widest
/// cell and two spaces apart.
pub(crate) fn aligned(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        cells
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut lines = vec![line(&mut header.iter().copied())];
    lines.extend(
        rows.iter()
            .map(|row| line(&mut row.iter().map(String::as_str))),
    );
    lines
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut t: String = text.chars().take(max - 1).collect();
    t.push('…');
    t
}
