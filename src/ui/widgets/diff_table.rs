//! A difference held in memory ([`TableDiff`]: Compare's report, What if's
//! rows, a step's rows) as a table: added rows green, removed rows red, a
//! changed cell with its old value struck through beside the new one;
//! sorted, searched and filtered by kind like every table of the window
//! ([`crate::ui::widgets::table`]).

use crate::ui::i18n::t;
use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use crate::domain::state::DiffKind;
use crate::domain::{RowDiff, Table, TableDiff};
use crate::engine::view_order::{Needle, diff_matches, shown_cells};
use crate::ui::app::Shell;
use crate::ui::command::UiCommand;
use crate::ui::widgets::table::TableLook;
use crate::ui::widgets::table::line::{Line, diff_line};
use crate::ui::widgets::table::memory::{MemoryRows, memory_table_ui};

pub use crate::ui::widgets::table::line::DiffLabels;

/// A [`TableDiff`]'s rows, named by `labels`.
pub struct DiffRows<'a> {
    /// The rows.
    pub table: &'a TableDiff,
    /// What each kind of row is called here.
    pub labels: DiffLabels<'a>,
}

fn kind(row: &RowDiff) -> DiffKind {
    match row {
        RowDiff::Added { .. } => DiffKind::Added,
        RowDiff::Removed { .. } => DiffKind::Removed,
        RowDiff::Changed { .. } => DiffKind::Changed,
    }
}

impl MemoryRows for DiffRows<'_> {
    fn len(&self) -> usize {
        self.table.rows.len()
    }
    fn fingerprint(&self) -> u64 {
        let rows = &self.table.rows;
        let mut hasher = std::hash::DefaultHasher::new();
        (rows.as_ptr() as usize, rows.len()).hash(&mut hasher);
        rows.first().map(RowDiff::key).hash(&mut hasher);
        rows.last().map(RowDiff::key).hash(&mut hasher);
        hasher.finish()
    }
    fn cell(&self, row: usize, column: usize) -> Option<Cow<'_, str>> {
        let row = self.table.rows.get(row)?;
        shown_cells(row).get(column).map(|c| c.as_str().into())
    }
    fn matches(&self, row: usize, needle: &Needle) -> bool {
        self.table
            .rows
            .get(row)
            .is_some_and(|r| diff_matches(r, needle))
    }
    fn kind(&self, row: usize) -> Option<DiffKind> {
        self.table.rows.get(row).map(kind)
    }
    fn line(&self, row: usize) -> Option<Line<'_>> {
        self.table.rows.get(row).map(|r| diff_line(r, &self.labels))
    }
}

/// Draws one table's differences (sortable, searchable, filtered by kind,
/// copyable), or says there are none. `shell` lets Ctrl+F focus its search.
pub fn diff_rows_ui(
    ui: &mut egui::Ui,
    id: &str,
    shell: Option<&Shell>,
    table: &TableDiff,
    labels: DiffLabels,
    commands: &mut Vec<UiCommand>,
) {
    if table.rows.is_empty() {
        ui.label(t!("diff-no-differences", name = table.table.name()));
        return;
    }
    let columns: Vec<&str> = table.columns.iter().map(String::as_str).collect();
    let look = TableLook {
        id: egui::Id::unique((id, table.table.name())),
        tag: Some("diff"),
        columns: &columns,
        history: Table::parse(table.table.name()),
        kinds: None,
    };
    let rows = DiffRows { table, labels };
    memory_table_ui(ui, &look, shell, &rows, Some(&labels), commands);
}

/// [`diff_rows_ui`] where no shell is at hand (Ctrl+F does not reach it).
pub fn diff_table_ui(
    ui: &mut egui::Ui,
    id: &str,
    table: &TableDiff,
    labels: DiffLabels,
    commands: &mut Vec<UiCommand>,
) {
    diff_rows_ui(ui, id, None, table, labels, commands);
}
