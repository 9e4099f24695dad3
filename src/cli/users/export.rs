//! `users export`: the server's streamed export written to a file or stdout,
//! with a row count on stderr while a person is watching; with an id, that
//! one user's data export (docs/API.md §12.2).

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::TryStreamExt;
use performchat_client::{Client, ExportFormat};

use super::FilterArgs;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    /// RFC 4180, with a header line.
    Csv,
    /// One JSON object per line.
    Ndjson,
}

/// What CSV does with cells a spreadsheet would run as a formula.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum CsvFormulas {
    /// A leading `'` (the server's default), so a spreadsheet shows text.
    Escape,
    /// Cells as stored, for programs rather than spreadsheets.
    Raw,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// One customer user's id (cu_…): write everything stored about them
    /// (the user, their conversations and messages) as one JSON document
    /// instead of the user list.
    #[arg(conflicts_with_all = ["format", "csv_formulas", "name", "email", "external_id", "active"])]
    id: Option<String>,
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// CSV cells starting with =, +, -, @, tab or CR: escaped with a leading
    /// ' (default) or raw. NDJSON is never altered.
    #[arg(long, value_enum, default_value = "escape")]
    csv_formulas: CsvFormulas,
    /// File to write; stdout when left out. Written under a temporary name
    /// and renamed when complete, so a failed export leaves no partial file.
    #[arg(long, short, visible_alias = "out")]
    output: Option<PathBuf>,
    #[command(flatten)]
    filter: FilterArgs,
}

pub async fn run(client: &Client, args: &ExportArgs) -> anyhow::Result<()> {
    if let Some(id) = &args.id {
        return one_user(client, id, args.output.as_deref()).await;
    }
    let format = match (args.format, args.csv_formulas) {
        (Format::Csv, CsvFormulas::Escape) => ExportFormat::Csv,
        (Format::Csv, CsvFormulas::Raw) => ExportFormat::CsvRaw,
        (Format::Ndjson, _) => ExportFormat::Ndjson,
    };
    let mut body = client.export_bytes(&args.filter.filter(), format).await?;
    let (mut out, partial): (Box<dyn Write>, Option<PathBuf>) = match &args.output {
        Some(path) => {
            let partial = partial_path(path);
            let file = File::create(&partial)
                .with_context(|| format!("cannot create {}", partial.display()))?;
            (Box::new(BufWriter::new(file)), Some(partial))
        }
        None => (Box::new(BufWriter::new(std::io::stdout())), None),
    };
    let mut rows = RowCounter::new(args.format);
    // On a terminal showing the export itself, a progress line would garble it.
    let mut progress = Progress::new(args.output.is_some() || !std::io::stdout().is_terminal());
    let result: anyhow::Result<()> = async {
        while let Some(chunk) = body.try_next().await? {
            out.write_all(&chunk).context("writing the export")?;
            rows.feed(&chunk);
            progress.show(rows.rows());
        }
        out.flush().context("writing the export")?;
        Ok(())
    }
    .await;
    progress.finish(rows.rows());
    drop(out);
    match (result, partial, &args.output) {
        (Ok(()), Some(partial), Some(path)) => std::fs::rename(&partial, path)
            .with_context(|| format!("cannot move the export to {}", path.display())),
        (Err(e), Some(partial), _) => {
            let _ = std::fs::remove_file(partial);
            Err(e)
        }
        (result, _, _) => result,
    }
}

/// Writes the user's data export to `output` (complete or not at all: under
/// a temporary name, renamed at the end) or to stdout.
async fn one_user(client: &Client, id: &str, output: Option<&Path>) -> anyhow::Result<()> {
    let mut body = client.export_customer_user(id).await?;
    match output {
        None => {
            let mut out = BufWriter::new(std::io::stdout());
            while let Some(chunk) = body.try_next().await? {
                out.write_all(&chunk).context("writing the export")?;
            }
            out.write_all(b"\n")?;
            out.flush().context("writing the export")
        }
        Some(path) => {
            let partial = partial_path(path);
            let result: anyhow::Result<()> = async {
                let file = File::create(&partial)
                    .with_context(|| format!("cannot create {}", partial.display()))?;
                let mut out = BufWriter::new(file);
                while let Some(chunk) = body.try_next().await? {
                    out.write_all(&chunk).context("writing the export")?;
                }
                out.flush().context("writing the export")
            }
            .await;
            match result {
                Ok(()) => std::fs::rename(&partial, path)
                    .with_context(|| format!("cannot move the export to {}", path.display())),
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    Err(e)
                }
            }
        }
    }
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// Counts data rows in a CSV or NDJSON stream, chunk by chunk: a record ends
/// at a newline outside quotes (CSV names may hold quoted line breaks).
struct RowCounter {
    csv: bool,
    in_quotes: bool,
    lines: u64,
}

impl RowCounter {
    fn new(format: Format) -> Self {
        RowCounter {
            csv: matches!(format, Format::Csv),
            in_quotes: false,
            lines: 0,
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        for &b in chunk {
            match b {
                // A doubled quote toggles twice, so escapes need no special case.
                b'"' if self.csv => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => self.lines += 1,
                _ => {}
            }
        }
    }

    fn rows(&self) -> u64 {
        if self.csv {
            self.lines.saturating_sub(1)
        } else {
            self.lines
        }
    }
}

/// One stderr line, rewritten in place, only when stderr is a terminal.
struct Progress {
    enabled: bool,
    last: Option<Instant>,
}

impl Progress {
    fn new(wanted: bool) -> Self {
        Progress {
            enabled: wanted && std::io::stderr().is_terminal(),
            last: None,
        }
    }

    fn show(&mut self, rows: u64) {
        const EVERY: Duration = Duration::from_millis(200);
        if !self.enabled || self.last.is_some_and(|t| t.elapsed() < EVERY) {
            return;
        }
        self.last = Some(Instant::now());
        eprint!("\rexported {rows} users");
        let _ = std::io::stderr().flush();
    }

    fn finish(&self, rows: u64) {
        if self.enabled {
            eprintln!("\rexported {rows} users");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_ignore_quoted_line_breaks() {
        let mut c = RowCounter::new(Format::Csv);
        c.feed(b"id,name\r\n1,\"a\r\nb\"\r\n2,\"say \"\"hi");
        assert_eq!(c.rows(), 1);
        c.feed(b"\"\"\n\"\r\n");
        assert_eq!(c.rows(), 2);
        let mut n = RowCounter::new(Format::Ndjson);
        n.feed(b"{\"name\":\"a\\\"\"}\n{}\n");
        assert_eq!(n.rows(), 2);
    }
}
