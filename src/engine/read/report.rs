//! Compare's findings as a report: JSON (for tools) or Markdown (for a
//! ticket), written by `verify --report FILE` and the Compare panel's
//! button, and kept (capped) in each repair's entry.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::mask::Mask;
use crate::domain::{RowDiff, Table};
use crate::engine::{Engine, EngineError, EngineResult, VerifyReport};
use crate::store::{Findings, FoundKind, FoundRow, RepairEntry};

/// Differing rows a repair entry keeps (the counts are always complete).
pub const ENTRY_ROWS: usize = 100;
/// Malformed entries and holes a repair entry keeps.
pub const ENTRY_LISTED: usize = 50;
/// Differing rows a report file lists at most.
pub const REPORT_ROWS: usize = 100_000;

/// A `--report-format` that is neither `json` nor `md`.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a report format (json or md)")]
pub struct UnknownReportFormat(pub String);

/// A report's file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// JSON: one object with the header and the findings.
    Json,
    /// Markdown: headings, a summary table and the rows with their cells.
    Md,
}

impl ReportFormat {
    /// `json`, `md` or `markdown` (for `--report-format`).
    pub fn parse(text: &str) -> Result<ReportFormat, UnknownReportFormat> {
        match text.to_ascii_lowercase().as_str() {
            "json" => Ok(ReportFormat::Json),
            "md" | "markdown" => Ok(ReportFormat::Md),
            other => Err(UnknownReportFormat(other.to_string())),
        }
    }

    /// The format a file's extension names (`.json`, `.md`/`.markdown`).
    pub fn of_path(path: &Path) -> Option<ReportFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(ReportFormat::Json),
            "md" | "markdown" => Some(ReportFormat::Md),
            _ => None,
        }
    }
}

/// Where findings come from: when, which instance, which stores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportHeader {
    /// When the report was made.
    pub generated_at: DateTime<Utc>,
    /// The app instance that compared.
    pub instance: String,
    /// The ledger (`mongodb at host:port/db`).
    pub ledger: String,
    /// The read store compared.
    pub read_store: String,
}

/// Compare's findings with the cells of each differing row, the rows and
/// the malformed entries and holes listed up to the caps.
pub fn findings(report: &VerifyReport, rows: usize, listed: usize) -> Findings {
    let found: Vec<FoundRow> = report
        .rows()
        .take(rows)
        .map(|(table, row)| found_row(table, row))
        .collect();
    let total_rows = report.rows().count();
    Findings {
        in_sync: report.in_sync,
        head: report.head,
        checked_rows: report.checked_rows,
        missing: report.missing,
        extra: report.extra,
        different: report.different,
        rows_left_out: (total_rows - found.len()) as u64,
        rows: found,
        malformed: report.malformed.iter().take(listed).cloned().collect(),
        malformed_left_out: report.malformed.len().saturating_sub(listed) as u64,
        unpositioned: report.unpositioned,
        holes: report.holes.iter().take(listed).copied().collect(),
        holes_left_out: report.holes.len().saturating_sub(listed) as u64,
        lag_events: report.lag_events.iter().cloned().collect(),
    }
}

/// Masks the personal cells of `found` (and the personal values in its
/// malformed entries' raw text) in place, for a report written with mask
/// mode on.
pub fn mask_findings(found: &mut Findings, mask: &Mask) {
    if !mask.is_on() {
        return;
    }
    for row in &mut found.rows {
        let columns = row.table.columns();
        for cells in [row.stored.as_mut(), row.ledger.as_mut()]
            .into_iter()
            .flatten()
        {
            for (cell, column) in cells.iter_mut().zip(columns) {
                *cell = mask.cell(column, cell).into_owned();
            }
        }
    }
    for bad in &mut found.malformed {
        bad.raw = mask.raw_text(&bad.raw);
    }
}

fn found_row(table: Table, row: &RowDiff) -> FoundRow {
    let all = || table.columns().iter().map(|c| c.to_string()).collect();
    let (kind, columns, stored, ledger) = match row {
        RowDiff::Added { after, .. } => (FoundKind::Missing, all(), None, Some(after.clone())),
        RowDiff::Removed { before, .. } => (FoundKind::Extra, all(), Some(before.clone()), None),
        RowDiff::Changed {
            before,
            after,
            columns,
            ..
        } => (
            FoundKind::Different,
            columns.clone(),
            Some(before.clone()),
            Some(after.clone()),
        ),
    };
    FoundRow {
        table,
        kind,
        key: row.key(),
        last_position: row.last_position(),
        columns,
        stored,
        ledger,
    }
}

/// The report as JSON.
pub fn to_json(header: &ReportHeader, findings: &Findings) -> String {
    let value = serde_json::json!({ "report": "ledgerscope compare", "header": header, "findings": findings });
    serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
}

/// A Markdown table cell: pipes escaped, one line.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The report as Markdown.
pub fn to_markdown(header: &ReportHeader, f: &Findings) -> String {
    let mut out = header_markdown("Ledgerscope compare report", header);
    out.push_str(&findings_markdown(f, "##"));
    out
}

fn header_markdown(title: &str, header: &ReportHeader) -> String {
    format!(
        "# {title}\n\n- Made: {} by instance `{}`\n- Ledger: {}\n- Read store: {}\n",
        header.generated_at.to_rfc3339(),
        header.instance,
        header.ledger,
        header.read_store
    )
}

/// A repair's entry as Markdown: what was found before, what was
/// re-projected, what was found after.
pub fn repair_markdown(header: &ReportHeader, entry: &RepairEntry) -> String {
    let mut out = header_markdown("Ledgerscope repair report", header);
    let w = &entry.work;
    out.push_str(&format!(
        "- Repair: {} ({}) at {} by instance `{}` on {}\n\n## Replayed\n\n\
         {} row(s) written, {} deleted; {} event(s) of {} aggregate(s) folded up to position {}{}; {} ms\n",
        entry.kind.name(),
        entry.id,
        entry.at.to_rfc3339(),
        entry.instance,
        entry.read_store,
        w.rows_written,
        w.rows_deleted,
        w.events,
        w.aggregates,
        w.position,
        w.from_snapshot
            .map(|p| format!(" (from the snapshot at position {p})"))
            .unwrap_or_default(),
        w.elapsed_ms
    ));
    for (title, found) in [
        ("Found before", &entry.before),
        ("Found after", &entry.after),
    ] {
        out.push_str(&format!("\n## {title}\n\n"));
        match found {
            Some(f) => out.push_str(&findings_markdown(f, "###")),
            None => out.push_str("Not compared.\n"),
        }
    }
    if !entry.notes.is_empty() {
        out.push_str("\n## Notes\n\n");
        for note in &entry.notes {
            out.push_str(&format!("- {}\n", cell(note)));
        }
    }
    out
}

/// The findings under headings of level `h` (`##`).
fn findings_markdown(f: &Findings, h: &str) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("- Ledger head: {}", f.head));
    line(format!(
        "- Result: **{}**",
        if f.in_sync { "in sync" } else { "drift" }
    ));
    line(String::new());
    line(
        "| Rows checked | Missing | Extra | Different | Malformed | Unpositioned | Holes |".into(),
    );
    line("|---:|---:|---:|---:|---:|---:|---:|".into());
    line(format!(
        "| {} | {} | {} | {} | {} | {} | {} |",
        f.checked_rows,
        f.missing,
        f.extra,
        f.different,
        f.malformed.len() as u64 + f.malformed_left_out,
        f.unpositioned,
        f.holes.len() as u64 + f.holes_left_out
    ));
    for (projector, lag) in f.lag_events.iter().filter(|(_, lag)| **lag > 0) {
        line(format!(
            "\n{projector} was {lag} event(s) behind the head; its table was compared at its checkpoint."
        ));
    }
    if !f.rows.is_empty() {
        line(format!("\n{h} Differing rows\n"));
        for row in &f.rows {
            line(format!(
                "{h}# {} `{}`: {} (last changed at position {})\n",
                row.table.name(),
                row.key,
                row.kind.name(),
                row.last_position
            ));
            line("| Column | Read table | Ledger |".into());
            line("|---|---|---|".into());
            for (i, column) in row.table.columns().iter().enumerate() {
                let of = |cells: &Option<Vec<String>>| match cells {
                    Some(cells) => cell(cells.get(i).map_or("", String::as_str)),
                    None => "—".into(),
                };
                let mark = if row.columns.iter().any(|c| c == column)
                    && row.kind == FoundKind::Different
                {
                    "**"
                } else {
                    ""
                };
                line(format!(
                    "| {mark}{column}{mark} | {} | {} |",
                    of(&row.stored),
                    of(&row.ledger)
                ));
            }
            line(String::new());
        }
        if f.rows_left_out > 0 {
            line(format!(
                "{} more differing row(s) not listed.",
                f.rows_left_out
            ));
        }
    }
    if !f.malformed.is_empty() {
        line(format!("\n{h} Malformed ledger entries\n"));
        for m in &f.malformed {
            match m.position {
                0 => line(format!("- without a position: {}", cell(&m.reason))),
                p => line(format!("- position {p}: {}", cell(&m.reason))),
            }
        }
        if f.malformed_left_out > 0 {
            line(format!("- {} more not listed", f.malformed_left_out));
        }
    }
    if !f.holes.is_empty() {
        line(format!("\n{h} Holes\n"));
        for hole in &f.holes {
            line(format!("- {} (crossed)", hole.no_event()));
        }
        if f.holes_left_out > 0 {
            line(format!("- {} more not listed", f.holes_left_out));
        }
    }
    out
}

/// A report file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("the report could not be written to {}: {source}", path.display())]
pub struct ReportError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

impl Engine {
    /// Who and what a report is about, now.
    pub fn report_header(&self) -> ReportHeader {
        ReportHeader {
            generated_at: Utc::now(),
            instance: self.config.instance_id.clone(),
            ledger: self.ledger_info().to_string(),
            read_store: self.read_info().to_string(),
        }
    }

    /// Writes `report` to `path` as `format` (or the format its extension
    /// names; JSON when it names none), off the async threads.
    pub async fn write_report(
        &self,
        report: &VerifyReport,
        path: &Path,
        format: Option<ReportFormat>,
        mask: &Mask,
    ) -> EngineResult<PathBuf> {
        let header = self.report_header();
        let mut found = findings(report, REPORT_ROWS, usize::MAX);
        mask_findings(&mut found, mask);
        write_text(path, format, move |format| match format {
            ReportFormat::Json => to_json(&header, &found),
            ReportFormat::Md => to_markdown(&header, &found),
        })
        .await
    }

    /// Writes a repair's entry to `path` as `format` (or the format its
    /// extension names; JSON when it names none), off the async threads.
    pub async fn write_repair_report(
        &self,
        entry: &RepairEntry,
        path: &Path,
        format: Option<ReportFormat>,
        mask: &Mask,
    ) -> EngineResult<PathBuf> {
        let header = self.report_header();
        let mut entry = entry.clone();
        for found in [entry.before.as_mut(), entry.after.as_mut()]
            .into_iter()
            .flatten()
        {
            mask_findings(found, mask);
        }
        write_text(path, format, move |format| match format {
            ReportFormat::Json => {
                let value = serde_json::json!({ "report": "ledgerscope repair", "header": header, "repair": entry });
                serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
            }
            ReportFormat::Md => repair_markdown(&header, &entry),
        })
        .await
    }
}

/// Renders and writes a report on the blocking pool (its parent folders
/// made as needed).
async fn write_text(
    path: &Path,
    format: Option<ReportFormat>,
    render: impl FnOnce(ReportFormat) -> String + Send + 'static,
) -> EngineResult<PathBuf> {
    let format = format
        .or_else(|| ReportFormat::of_path(path))
        .unwrap_or(ReportFormat::Json);
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let text = render(format);
        let failed = |source| ReportError {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        std::fs::write(&path, text).map_err(failed)?;
        tracing::info!(path = %path.display(), ?format, "report written");
        Ok(path)
    })
    .await
    .map_err(|e| EngineError::Crashed(format!("writing the report ({e})")))?
    .map_err(|e: ReportError| EngineError::File(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_format_comes_from_the_extension() {
        assert_eq!(
            ReportFormat::of_path(Path::new("a/r.JSON")),
            Some(ReportFormat::Json)
        );
        assert_eq!(
            ReportFormat::of_path(Path::new("r.md")),
            Some(ReportFormat::Md)
        );
        assert_eq!(ReportFormat::of_path(Path::new("r.txt")), None);
    }

    #[test]
    fn markdown_escapes_pipes_and_names_each_row() {
        let header = ReportHeader {
            generated_at: Utc::now(),
            instance: "i".into(),
            ledger: "l".into(),
            read_store: "r".into(),
        };
        let key = uuid::Uuid::from_u128(7);
        let findings = Findings {
            different: 1,
            rows: vec![FoundRow {
                table: Table::Users,
                kind: FoundKind::Different,
                key,
                last_position: 3,
                columns: vec!["name".into()],
                stored: Some(vec![
                    key.to_string(),
                    "e".into(),
                    "a|b".into(),
                    "x".into(),
                    "1".into(),
                    "3".into(),
                ]),
                ledger: Some(vec![
                    key.to_string(),
                    "e".into(),
                    "Ann".into(),
                    "x".into(),
                    "1".into(),
                    "3".into(),
                ]),
            }],
            ..Findings::default()
        };
        let md = to_markdown(&header, &findings);
        assert!(
            md.contains(&format!("### users `{key}`: different")),
            "{md}"
        );
        assert!(md.contains("| **name** | a\\|b | Ann |"), "{md}");
        assert!(md.contains("**drift**"), "{md}");
    }
}
