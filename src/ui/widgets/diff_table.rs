//! A virtual table of row differences: added rows green, removed rows red,
//! changed cells highlighted with before → after. The `last_position` column
//! jumps to the event that last changed the row; the key opens the row's
//! history.

use egui_extras::{Column, TableBuilder};

use std::borrow::Cow;

use crate::domain::{RowDiff, Table, TableDiff};
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::page_cache::{PageCache, page_of};
use crate::ui::panels::history::HistoryCommand;
use crate::ui::widgets::{ADDED_COLOR, CHANGED_BG, REMOVED_COLOR};

/// Row height.
pub const ROW_HEIGHT: f32 = 20.0;

/// How one diff row is drawn: its label, color, cells, and (for changed rows)
/// the old cells with the changed column names.
type RowLook<'a> = (
    &'a str,
    egui::Color32,
    &'a Vec<String>,
    Option<(&'a Vec<String>, &'a Vec<String>)>,
);

/// Row `index` of a [`DiffSource`].
pub enum DiffRow<'a> {
    /// The row, ready to draw.
    Loaded(Cow<'a, RowDiff>),
    /// Not read yet: drawn as a placeholder, and reported to the caller so
    /// it can fetch the row's page.
    NotLoaded,
    /// Nothing to draw (the two sides turned out equal, or out of range).
    Empty,
}

/// Rows of one table's difference, by index: held in full ([`TableDiff`]) or
/// read a page at a time ([`PagedDiff`]).
pub trait DiffSource {
    /// Table name.
    fn table(&self) -> &str;
    /// Column names.
    fn columns(&self) -> Vec<&str>;
    /// Number of differing rows.
    fn len(&self) -> usize;
    /// No differing rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Row `index`.
    fn row(&self, index: usize) -> DiffRow<'_>;
}

impl DiffSource for TableDiff {
    fn table(&self) -> &str {
        self.table.name()
    }
    fn columns(&self) -> Vec<&str> {
        self.columns.iter().map(String::as_str).collect()
    }
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn row(&self, index: usize) -> DiffRow<'_> {
        match self.rows.get(index) {
            Some(row) => DiffRow::Loaded(Cow::Borrowed(row)),
            None => DiffRow::Empty,
        }
    }
}

/// One table of a difference whose rows are read a page at a time into a
/// [`PageCache`] (one entry per differing key; `None` = equal rows).
pub struct PagedDiff<'a> {
    /// Table name.
    pub table: &'a str,
    /// Column names.
    pub columns: &'a [&'a str],
    /// Number of differing rows.
    pub len: usize,
    /// The pages read so far.
    pub pages: &'a PageCache<Option<RowDiff>>,
}

impl DiffSource for PagedDiff<'_> {
    fn table(&self) -> &str {
        self.table
    }
    fn columns(&self) -> Vec<&str> {
        self.columns.to_vec()
    }
    fn len(&self) -> usize {
        self.len
    }
    fn row(&self, index: usize) -> DiffRow<'_> {
        if index >= self.len {
            return DiffRow::Empty;
        }
        match self.pages.row(index as u64) {
            Some(Some(row)) => DiffRow::Loaded(Cow::Borrowed(row)),
            Some(None) => DiffRow::Empty,
            None => DiffRow::NotLoaded,
        }
    }
}

/// Labels for the two sides, e.g. ("missing from table", "extra in table").
#[derive(Clone, Copy)]
pub struct DiffLabels<'a> {
    /// What `Added` means here.
    pub added: &'a str,
    /// What `Removed` means here.
    pub removed: &'a str,
    /// What `Changed` means here.
    pub changed: &'a str,
}

fn short(cell: &str) -> String {
    match cell.get(..8) {
        Some(head) if cell.len() == 36 && cell.chars().filter(|c| *c == '-').count() == 4 => {
            format!("{head}…")
        }
        _ => cell.to_string(),
    }
}

/// Draws the differences of one table, fetching nothing: only the rows in
/// view are laid out, and rows the source has not loaded yet are drawn as
/// placeholders. Returns the indices of those rows, for the caller to fetch.
pub fn diff_table_ui(
    ui: &mut egui::Ui,
    id_salt: &str,
    table: &dyn DiffSource,
    labels: DiffLabels,
    commands: &mut Vec<UiCommand>,
) -> Vec<usize> {
    let mut not_loaded = Vec::new();
    if table.is_empty() {
        ui.label(format!("{}: no differences", table.table()));
        return not_loaded;
    }
    let columns = table.columns();
    let last_col = columns.iter().position(|c| *c == "last_position");
    let history_table = Table::parse(table.table());
    let text_height = ROW_HEIGHT;
    let max_height = ui.available_height().max(120.0);
    let mut builder = TableBuilder::new(ui)
        .id_salt(id_salt)
        .striped(true)
        .resizable(true)
        .auto_shrink([false, true])
        .max_scroll_height(max_height)
        .column(Column::exact(70.0));
    for (i, name) in columns.iter().enumerate() {
        let width = match *name {
            "user_id" | "booking_id" => 80.0,
            "email" | "address" | "name" | "service" => 150.0,
            _ => 90.0,
        };
        let column = if i + 1 == columns.len() {
            Column::remainder().at_least(60.0)
        } else {
            Column::initial(width).at_least(40.0).clip(true)
        };
        builder = builder.column(column);
    }
    builder
        .header(22.0, |mut header| {
            header.col(|ui| {
                ui.strong("diff");
            });
            for name in &columns {
                header.col(|ui| {
                    ui.strong(*name);
                });
            }
        })
        .body(|body| {
            body.rows(text_height, table.len(), |mut row| {
                let diff = match table.row(row.index()) {
                    DiffRow::Loaded(diff) => diff,
                    DiffRow::NotLoaded => {
                        not_loaded.push(row.index());
                        for _ in 0..=columns.len() {
                            row.col(|ui| {
                                ui.label(egui::RichText::new("…").weak());
                            });
                        }
                        return;
                    }
                    DiffRow::Empty => return,
                };
                let (kind, color, cells, changed): RowLook = match diff.as_ref() {
                    RowDiff::Added { after, .. } => (labels.added, ADDED_COLOR, after, None),
                    RowDiff::Removed { before, .. } => {
                        (labels.removed, REMOVED_COLOR, before, None)
                    }
                    RowDiff::Changed {
                        before,
                        after,
                        columns,
                        ..
                    } => (
                        labels.changed,
                        egui::Color32::from_rgb(230, 170, 40),
                        after,
                        Some((before, columns)),
                    ),
                };
                row.col(|ui| {
                    ui.label(egui::RichText::new(kind).color(color).strong());
                });
                for (i, cell) in cells.iter().enumerate() {
                    let name = columns[i.min(columns.len().saturating_sub(1))];
                    row.col(|ui| {
                        if Some(i) == last_col {
                            let position = diff.last_position();
                            if ui
                                .link(cell.as_str())
                                .on_hover_text(format!("Show event {position} in the timeline"))
                                .clicked()
                            {
                                commands.push(ShellCommand::ShowEvent(position).into());
                            }
                            return;
                        }
                        if i == 0
                            && let Some(history_table) = history_table
                        {
                            let key = diff.key();
                            if ui
                                .link(short(cell))
                                .on_hover_text(format!(
                                    "{cell}: show every version of this row and the events \
                                     that made them (row history)"
                                ))
                                .clicked()
                            {
                                commands.push(HistoryCommand::Open(history_table, key).into());
                            }
                            return;
                        }
                        match changed {
                            Some((before, changed_columns))
                                if changed_columns.iter().any(|c| c == name) =>
                            {
                                let old = before.get(i).map(String::as_str).unwrap_or("");
                                let text = format!("{} -> {}", short(old), short(cell));
                                ui.painter().rect_filled(ui.max_rect(), 2.0, CHANGED_BG);
                                ui.label(egui::RichText::new(text).strong())
                                    .on_hover_text(format!("{name}: '{old}' -> '{cell}'"));
                            }
                            _ => {
                                ui.label(short(cell)).on_hover_text(cell.as_str());
                            }
                        }
                    });
                }
            });
        });
    not_loaded
}

/// The pages holding `rows` (in ascending order), each once.
pub fn pages_of(rows: &[usize]) -> Vec<u64> {
    let mut pages: Vec<u64> = rows.iter().map(|r| page_of(*r as u64)).collect();
    pages.dedup();
    pages
}

/// A difference read a page at a time (time travel, two positions): the
/// table with "…" for rows not read yet, a spinner while pages are read, and
/// the commands (made by `fetch` from a page number) that fetch the pages in
/// view.
pub fn paged_diff_ui(
    ui: &mut egui::Ui,
    id: &str,
    source: PagedDiff<'_>,
    against: u64,
    fetch: impl Fn(u64) -> UiCommand,
    commands: &mut Vec<UiCommand>,
) {
    if source.pages.any_pending() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(egui::RichText::new("reading rows…").small().weak());
        });
    }
    let added = format!("added by {against}");
    let removed = format!("gone by {against}");
    let not_loaded = diff_table_ui(
        ui,
        id,
        &source,
        DiffLabels {
            added: &added,
            removed: &removed,
            changed: "changed",
        },
        commands,
    );
    commands.extend(pages_of(&not_loaded).into_iter().map(fetch));
}
