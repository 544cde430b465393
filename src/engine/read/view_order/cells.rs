//! A row's cells one at a time, spelled as [`Row::cells`] spells them, but
//! borrowed where the row holds the text and written into one reused buffer
//! where it does not: a pass over a million rows looks at one cell of each
//! (a sort) or at most every cell until one matches (a search), and nine
//! fresh strings per row cost more than the rest of the pass.

use crate::domain::model::{ColumnType, DescribedRow, TableDescription};
use crate::domain::{BookingRow, Row, UserRow};

/// Which characters a column's cells are written with, so that a search
/// for text none of them can hold skips formatting them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spelling {
    /// Any text.
    Text,
    /// An id: hex digits and `-`.
    Id,
    /// A number or a date: digits, `.` and `-`.
    Number,
}

impl Spelling {
    /// Whether a cell spelled so can contain `needle` (lowercase).
    pub fn may_hold(self, needle: &str) -> bool {
        match self {
            Spelling::Text => true,
            Spelling::Id => needle.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
            Spelling::Number => needle
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-'),
        }
    }
}

/// Cells of a read row, one at a time.
pub trait CellText: Row {
    /// How many cells a row has.
    const WIDTH: usize;

    /// How each column's cells are spelled.
    const SPELLING: &'static [Spelling];

    /// Cell `column` (as in [`Row::cells`]): borrowed from the row, or
    /// written into `buf`.
    fn cell_text<'a>(&'a self, column: usize, buf: &'a mut String) -> &'a str;
}

/// How cells of a column of type `ty` are spelled.
pub const fn spelling(ty: ColumnType) -> Spelling {
    match ty {
        ColumnType::Uuid => Spelling::Id,
        ColumnType::Text | ColumnType::Boolean => Spelling::Text,
        ColumnType::Integer
        | ColumnType::Position
        | ColumnType::Cents
        | ColumnType::Date
        | ColumnType::Real => Spelling::Number,
    }
}

/// The spelling of each column of `table`, in order.
const fn spellings<const N: usize>(table: &TableDescription) -> [Spelling; N] {
    let mut out = [Spelling::Text; N];
    let mut i = 0;
    while i < N && i < table.columns.len() {
        out[i] = spelling(table.columns[i].ty);
        i += 1;
    }
    out
}

const USER_WIDTH: usize = UserRow::COLUMNS.len();
const BOOKING_WIDTH: usize = BookingRow::COLUMNS.len();
const USER_SPELLING: [Spelling; USER_WIDTH] = spellings(&UserRow::DESCRIPTION);
const BOOKING_SPELLING: [Spelling; BOOKING_WIDTH] = spellings(&BookingRow::DESCRIPTION);

impl CellText for UserRow {
    const WIDTH: usize = USER_WIDTH;
    const SPELLING: &'static [Spelling] = &USER_SPELLING;

    fn cell_text<'a>(&'a self, column: usize, buf: &'a mut String) -> &'a str {
        UserRow::cell_text(self, column, buf)
    }
}

impl CellText for BookingRow {
    const WIDTH: usize = BOOKING_WIDTH;
    const SPELLING: &'static [Spelling] = &BOOKING_SPELLING;

    fn cell_text<'a>(&'a self, column: usize, buf: &'a mut String) -> &'a str {
        BookingRow::cell_text(self, column, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ReadState;

    #[test]
    fn each_cell_reads_as_the_row_spells_it() {
        let state = ReadState::fold(&crate::engine::view::tests::events());
        let mut buf = String::new();
        for row in state.users.values() {
            let cells = row.cells();
            assert_eq!(cells.len(), UserRow::WIDTH);
            for (c, cell) in cells.iter().enumerate() {
                assert_eq!(row.cell_text(c, &mut buf), cell);
                assert!(UserRow::SPELLING[c].may_hold(&cell.to_lowercase()));
            }
        }
        for mut row in state.bookings.values().cloned() {
            for price in [row.price_cents, -5, 0, 1_234_567] {
                row.price_cents = price;
                let cells = row.cells();
                assert_eq!(cells.len(), BookingRow::WIDTH);
                for (c, cell) in cells.iter().enumerate() {
                    assert_eq!(row.cell_text(c, &mut buf), cell);
                    assert!(
                        BookingRow::SPELLING[c].may_hold(&cell.to_lowercase()),
                        "{cell} is spelled as its column says"
                    );
                }
            }
        }
        assert!(Spelling::Id.may_hold("abcd12-3"));
        assert!(!Spelling::Id.may_hold("suite"));
        assert!(Spelling::Number.may_hold("120.5"));
        assert!(!Spelling::Number.may_hold("12a"));
    }
}
