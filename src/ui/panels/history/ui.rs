//! Drawing the history window: one line per version, the cells it changed
//! highlighted (hover: what they were), the position a link to its event.

use crate::ui::i18n::t;
use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use super::{HistoryCommand, HistoryPanel};
use crate::domain::RowHistory;
use crate::domain::state::DiffKind;
use crate::engine::subject::SubjectReport;
use crate::engine::view_order::Needle;
use crate::ui::command::UiCommand;
use crate::ui::widgets::inline_error_ui;
use crate::ui::widgets::table::line::ColumnKind;
use crate::ui::widgets::table::memory::{MemoryRows, memory_table_ui};
use crate::ui::widgets::table::{Cell, Line, TableLook};

/// Columns before the row's own.
const LEAD: [&str; 4] = ["position", "recorded_at", "event", "actor"];

/// A row's versions as a table: the event that made each, then its cells,
/// a cell that version changed showing the value before struck through.
struct Versions<'a>(&'a RowHistory);

impl Versions<'_> {
    fn before(&self, row: usize, column: usize) -> Option<&str> {
        let version = self.0.versions.get(row)?;
        let name = self.0.columns.get(column)?;
        if row == 0 || !version.changed.contains(name) {
            return None;
        }
        self.0.versions[row - 1]
            .cells
            .get(column)
            .map(String::as_str)
    }
}

impl MemoryRows for Versions<'_> {
    fn len(&self) -> usize {
        self.0.versions.len()
    }
    fn fingerprint(&self) -> u64 {
        let mut hasher = std::hash::DefaultHasher::new();
        (
            self.0.versions.as_ptr() as usize,
            self.0.versions.len(),
            self.0.key,
        )
            .hash(&mut hasher);
        hasher.finish()
    }
    fn cell(&self, row: usize, column: usize) -> Option<Cow<'_, str>> {
        let version = self.0.versions.get(row)?;
        Some(match column {
            0 => version.position.to_string().into(),
            1 => version
                .recorded_at
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
                .into(),
            2 => version.event_type.as_str().into(),
            3 => version.actor.as_deref().unwrap_or("-").into(),
            _ => version.cells.get(column - LEAD.len())?.as_str().into(),
        })
    }
    fn matches(&self, row: usize, needle: &Needle) -> bool {
        let width = LEAD.len() + self.0.columns.len();
        (0..width).any(|c| self.cell(row, c).is_some_and(|text| needle.matches(&text)))
            || (0..self.0.columns.len())
                .any(|c| self.before(row, c).is_some_and(|old| needle.matches(old)))
    }
    fn kind(&self, _row: usize) -> Option<DiffKind> {
        None
    }
    fn line(&self, row: usize) -> Option<Line<'_>> {
        let version = self.0.versions.get(row)?;
        let mut cells: Vec<Cell<'_>> = (0..LEAD.len())
            .map(|c| Cell::plain(self.cell(row, c).unwrap_or_default()))
            .collect();
        cells.extend(
            version
                .cells
                .iter()
                .enumerate()
                .map(|(c, text)| Cell::changed(text, self.before(row, c))),
        );
        Some(Line {
            tag: None,
            cells,
            key: Some(self.0.key),
        })
    }
}

/// The events with one user's personal data, as a table.
struct SubjectRows<'a>(&'a SubjectReport);

/// Columns of the personal-data table.
const SUBJECT_COLUMNS: [&str; 5] = ["position", "event", "aggregate_id", "fields", "why"];

impl MemoryRows for SubjectRows<'_> {
    fn len(&self) -> usize {
        self.0.events.len()
    }
    fn fingerprint(&self) -> u64 {
        let mut hasher = std::hash::DefaultHasher::new();
        (
            self.0.events.as_ptr() as usize,
            self.0.events.len(),
            self.0.user_id,
        )
            .hash(&mut hasher);
        hasher.finish()
    }
    fn cell(&self, row: usize, column: usize) -> Option<Cow<'_, str>> {
        let event = self.0.events.get(row)?;
        Some(match column {
            0 => event.position.to_string().into(),
            1 => event.event_type.as_str().into(),
            2 => event.aggregate_id.to_string().into(),
            3 if event.fields.is_empty() => "-".into(),
            3 => event.fields.join(", ").into(),
            4 => event.why.as_str().into(),
            _ => return None,
        })
    }
    fn matches(&self, row: usize, needle: &Needle) -> bool {
        (0..SUBJECT_COLUMNS.len()).any(|c| self.cell(row, c).is_some_and(|t| needle.matches(&t)))
    }
    fn kind(&self, _row: usize) -> Option<DiffKind> {
        None
    }
    fn line(&self, row: usize) -> Option<Line<'_>> {
        self.0.events.get(row)?;
        Some(Line {
            tag: None,
            cells: (0..SUBJECT_COLUMNS.len())
                .map(|c| Cell::plain(self.cell(row, c).unwrap_or_default()))
                .collect(),
            key: None,
        })
    }
}

fn subject_ui(ui: &mut egui::Ui, report: &SubjectReport, commands: &mut Vec<UiCommand>) {
    egui::CollapsingHeader::new(t!(
        "history-personal-summary",
        events = report.events.len(),
        bookings = report.bookings.len(),
        head = report.head
    ))
    .id_salt("row_history_subject")
    .default_open(true)
    .show(ui, |ui| {
        if !report.malformed.is_empty() {
            ui.label(t!(
                "history-malformed-rows",
                malformed = format!("{:?}", report.malformed)
            ));
        }
        let kinds = [
            ColumnKind::Event,
            ColumnKind::Text,
            ColumnKind::Id,
            ColumnKind::Text,
            ColumnKind::Text,
        ];
        let look = TableLook {
            id: egui::Id::unique("row_history_subject_table"),
            tag: None,
            columns: &SUBJECT_COLUMNS,
            history: None,
            kinds: Some(&kinds),
        };
        egui::ScrollArea::vertical()
            .id_salt("row_history_subject_scroll")
            .max_height(180.0)
            .show(ui, |ui| {
                memory_table_ui(ui, &look, None, &SubjectRows(report), None, commands);
            });
    });
}

/// The row as it is now, `column value` pairs without ids and positions.
fn now_text(history: &RowHistory) -> String {
    history.current().map_or(String::new(), |cells| {
        history
            .columns
            .iter()
            .zip(cells)
            .filter(|(c, _)| !c.ends_with("_id") && !c.ends_with("position"))
            .map(|(c, v)| format!("{c} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

fn versions_ui(ui: &mut egui::Ui, history: &RowHistory, commands: &mut Vec<UiCommand>) {
    let columns: Vec<&str> = LEAD
        .into_iter()
        .chain(history.columns.iter().map(String::as_str))
        .collect();
    // The version's position links to its event; the row's own cells
    // (its last position is that same event) are plain.
    let kinds: Vec<ColumnKind> = columns
        .iter()
        .enumerate()
        .map(|(i, name)| match i {
            0 => ColumnKind::Event,
            _ if name.ends_with("_id") => ColumnKind::Id,
            _ => ColumnKind::Text,
        })
        .collect();
    let look = TableLook {
        id: egui::Id::unique("row_history_versions"),
        tag: None,
        columns: &columns,
        history: None,
        kinds: Some(&kinds),
    };
    memory_table_ui(ui, &look, None, &Versions(history), None, commands);
}

/// Draws the history window, if a row is chosen.
pub fn history_ui(ctx: &egui::Context, panel: &HistoryPanel, commands: &mut Vec<UiCommand>) {
    let Some((table, key)) = panel.target else {
        return;
    };
    let row_name = match table {
        crate::domain::Table::Users => "user",
        crate::domain::Table::Bookings => "booking",
    };
    let mut open = true;
    egui::Window::new(t!("history-row-history"))
        .id(egui::Id::unique("ledgerscope_row_history"))
        .open(&mut open)
        .default_width(1180.0)
        .default_pos([40.0, 110.0])
        .resizable(true)
        .show(ctx, |ui| {
            // Wraps in a narrow window (900 points) instead of running off it.
            ui.horizontal_wrapped(|ui| {
                ui.heading(t!("history-title", row_name = row_name, key = key));
                if panel.history.is_asked() {
                    ui.spinner();
                } else if ui
                    .button(t!("history-reload"))
                    .on_hover_text(t!("history-reload-hover"))
                    .clicked()
                {
                    commands.push(HistoryCommand::Reload.into());
                }
                if table == crate::domain::Table::Users {
                    if panel.subject.is_asked() {
                        ui.spinner();
                    } else if ui
                        .button(t!("history-personal-data"))
                        .on_hover_text(t!("history-personal-data-hover"))
                        .clicked()
                    {
                        commands.push(HistoryCommand::Subject.into());
                    }
                }
                ui.label(egui::RichText::new(t!("history-note")).small().weak());
            });
            inline_error_ui(ui, panel.error.as_ref());
            if let Some(report) = panel.subject.value() {
                subject_ui(ui, report, commands);
            }
            match panel.history.value() {
                Some(history) if history.versions.is_empty() => {
                    ui.label(t!("history-no-event-made", name = table.name(), key = key));
                }
                Some(history) => {
                    ui.label(t!(
                        "history-versions-now",
                        versions = history.versions.len(),
                        now = now_text(history)
                    ));
                    if !history.skipped.is_empty() {
                        ui.label(t!(
                            "history-undecodable",
                            skipped = format!("{:?}", history.skipped)
                        ));
                    }
                    versions_ui(ui, history, commands);
                }
                None if panel.history.is_asked() => {
                    ui.label(t!("history-reading"));
                }
                None => {}
            }
        });
    if !open {
        commands.push(HistoryCommand::Close.into());
    }
}
