//! A row as the table draws it: an optional tag (`added by 1200`), and its
//! cells, each with the value it had before when it changed. Built per
//! visible row from whatever holds the data, borrowing its text.

use std::borrow::Cow;

use uuid::Uuid;

use crate::domain::state::DiffKind;
use crate::domain::{RowDiff, Table};
use crate::engine::view::RowCells;
use crate::ui::widgets::palette::Palette;

/// One cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell<'a> {
    /// Its value.
    pub text: Cow<'a, str>,
    /// Its value before, when it changed.
    pub old: Option<Cow<'a, str>>,
}

impl<'a> Cell<'a> {
    /// A cell that did not change.
    pub fn plain(text: impl Into<Cow<'a, str>>) -> Self {
        Cell {
            text: text.into(),
            old: None,
        }
    }

    /// A cell whose value went from `old` to `text` (plain when equal).
    pub fn changed(text: &'a str, old: Option<&'a str>) -> Self {
        Cell {
            text: text.into(),
            old: old.filter(|o| *o != text).map(Cow::Borrowed),
        }
    }
}

/// One row.
#[derive(Clone, Debug, PartialEq)]
pub struct Line<'a> {
    /// What the row is in a difference (`added by 1200`), with its kind.
    pub tag: Option<(&'a str, DiffKind)>,
    /// Its cells, in the table's column order.
    pub cells: Vec<Cell<'a>>,
    /// Its key, for the link to its history.
    pub key: Option<Uuid>,
}

impl Line<'_> {
    /// The row as tab-separated text under a line of the column names
    /// (what "Copy row" puts on the clipboard).
    pub fn copy_text(&self, tag: Option<&str>, columns: &[&str]) -> String {
        let mut names: Vec<&str> = Vec::new();
        let mut values: Vec<&str> = Vec::new();
        if let (Some(header), Some((tag, _))) = (tag, self.tag) {
            names.push(header);
            values.push(tag);
        }
        names.extend(columns.iter().copied());
        values.extend(self.cells.iter().map(|c| c.text.as_ref()));
        format!("{}\n{}", names.join("\t"), values.join("\t"))
    }
}

/// What a column holds, which decides how its cells are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// The row's key: shortened, a link to the row's history when the
    /// table has one.
    Key(Option<Table>),
    /// Another id: shortened, the full id on hover.
    Id,
    /// A ledger position: a link to its event in the timeline.
    Event,
    /// A key whose row the caller opens (a user's model): a link, and a
    /// click is reported as the row's index by [`memory_table_ui`].
    ///
    /// [`memory_table_ui`]: crate::ui::widgets::table::memory::memory_table_ui
    RowLink,
    /// Anything else.
    Text,
}

impl ColumnKind {
    /// The kind of column `name` (the first one holds the key of a table
    /// whose rows have a history, `history`).
    pub fn of(name: &str, first: bool, history: Option<Table>) -> Self {
        match name {
            _ if first && name.ends_with("_id") => ColumnKind::Key(history),
            "last_position" | "position" => ColumnKind::Event,
            _ if name.ends_with("_id") => ColumnKind::Id,
            _ => ColumnKind::Text,
        }
    }
}

/// `abcdef12…` for a UUID, the text itself otherwise.
pub fn short_id(text: &str) -> std::borrow::Cow<'_, str> {
    match text.get(..8) {
        Some(head) if text.len() == 36 && text.bytes().filter(|b| *b == b'-').count() == 4 => {
            format!("{head}…").into()
        }
        _ => text.into(),
    }
}

/// Names for the kinds of a difference's rows, e.g. ("missing", "extra",
/// "differs") for the read tables against the ledger.
#[derive(Clone, Copy, Debug)]
pub struct DiffLabels<'a> {
    /// What `Added` means here.
    pub added: &'a str,
    /// What `Removed` means here.
    pub removed: &'a str,
    /// What `Changed` means here.
    pub changed: &'a str,
}

/// The color of a differing row's tag in `palette`.
pub fn kind_color(kind: DiffKind, palette: &Palette) -> egui::Color32 {
    match kind {
        DiffKind::Added => palette.added,
        DiffKind::Removed => palette.removed,
        DiffKind::Changed => palette.changed,
    }
}

/// A differing row as a line.
pub fn diff_line<'a>(row: &'a RowDiff, labels: &DiffLabels<'a>) -> Line<'a> {
    let plain = |cells: &'a [String]| cells.iter().map(|c| Cell::plain(c.as_str())).collect();
    match row {
        RowDiff::Added { key, after, .. } => Line {
            tag: Some((labels.added, DiffKind::Added)),
            cells: plain(after),
            key: Some(*key),
        },
        RowDiff::Removed { key, before, .. } => Line {
            tag: Some((labels.removed, DiffKind::Removed)),
            cells: plain(before),
            key: Some(*key),
        },
        RowDiff::Changed {
            key, before, after, ..
        } => Line {
            tag: Some((labels.changed, DiffKind::Changed)),
            cells: after
                .iter()
                .zip(before.iter().map(Some).chain(std::iter::repeat(None)))
                .map(|(new, old)| Cell::changed(new, old.map(String::as_str)))
                .collect(),
            key: Some(*key),
        },
    }
}

/// A state's row as a line.
pub fn state_line(row: &RowCells) -> Line<'_> {
    Line {
        tag: None,
        cells: row.cells.iter().map(|c| Cell::plain(c.as_str())).collect(),
        key: Some(row.key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_row_keeps_both_values_of_each_changed_cell_in_full() {
        let row = RowDiff::Changed {
            key: Uuid::nil(),
            before: vec!["k".into(), "confirmed".into(), "600".into()],
            after: vec!["k".into(), "cancelled".into(), "1185".into()],
            columns: vec!["status".into(), "last_position".into()],
            last_position: 1185,
        };
        let labels = DiffLabels {
            added: "added",
            removed: "removed",
            changed: "changed",
        };
        let line = diff_line(&row, &labels);
        assert_eq!(line.cells[0], Cell::plain("k"));
        assert_eq!(line.cells[1], Cell::changed("cancelled", Some("confirmed")));
        assert_eq!(line.cells[1].old.as_deref(), Some("confirmed"));
        assert_eq!(line.cells[2].old.as_deref(), Some("600"));
        assert_eq!(
            line.copy_text(Some("diff"), &["booking_id", "status", "last_position"]),
            "diff\tbooking_id\tstatus\tlast_position\nchanged\tk\tcancelled\t1185"
        );
        assert_eq!(short_id(&Uuid::nil().to_string()), "00000000…");
        assert_eq!(short_id("Ana"), "Ana");
        assert_eq!(
            ColumnKind::of("booking_id", true, Some(Table::Bookings)),
            ColumnKind::Key(Some(Table::Bookings))
        );
        assert_eq!(ColumnKind::of("user_id", false, None), ColumnKind::Id);
        assert_eq!(
            ColumnKind::of("last_position", false, None),
            ColumnKind::Event
        );
    }
}
