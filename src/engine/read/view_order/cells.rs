//! A row's cells one at a time, spelled as [`Row::cells`] spells them, but
//! borrowed where the row holds the text and written into one reused buffer
//! where it does not: a pass over a million rows looks at one cell of each
//! (a sort) or at most every cell until one matches (a search), and nine
//! fresh strings per row cost more than the rest of the pass.

use std::fmt::Write;

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

fn uuid<'a>(id: &uuid::Uuid, buf: &'a mut String) -> &'a str {
    buf.clear();
    buf.push_str(
        id.hyphenated()
            .encode_lower(&mut uuid::Uuid::encode_buffer()),
    );
    buf
}

/// `buf` holding only `text` (writing into a String fails only when a
/// `Display` does, which these never do; logged if it ever did).
fn put<'a>(buf: &'a mut String, text: std::fmt::Arguments<'_>) -> &'a str {
    buf.clear();
    if let Err(error) = buf.write_fmt(text) {
        tracing::error!(%error, "formatting a cell failed");
    }
    buf
}

fn shown(value: impl std::fmt::Display, buf: &mut String) -> &str {
    put(buf, format_args!("{value}"))
}

/// As [`crate::domain::event::format_cents`] spells a price.
fn cents(cents: i64, buf: &mut String) -> &str {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    put(buf, format_args!("{sign}{}.{:02}", abs / 100, abs % 100))
}

impl CellText for UserRow {
    const WIDTH: usize = UserRow::COLUMNS.len();
    const SPELLING: &'static [Spelling] = &[
        Spelling::Id,
        Spelling::Text,
        Spelling::Text,
        Spelling::Text,
        Spelling::Number,
        Spelling::Number,
    ];

    fn cell_text<'a>(&'a self, column: usize, buf: &'a mut String) -> &'a str {
        match column {
            0 => uuid(&self.user_id, buf),
            1 => &self.email,
            2 => &self.name,
            3 => &self.address,
            4 => shown(self.created_position, buf),
            5 => shown(self.last_position, buf),
            _ => "",
        }
    }
}

impl CellText for BookingRow {
    const WIDTH: usize = BookingRow::COLUMNS.len();
    const SPELLING: &'static [Spelling] = &[
        Spelling::Id,
        Spelling::Id,
        Spelling::Text,
        Spelling::Number,
        Spelling::Number,
        Spelling::Number,
        Spelling::Number,
        Spelling::Text,
        Spelling::Number,
    ];

    fn cell_text<'a>(&'a self, column: usize, buf: &'a mut String) -> &'a str {
        match column {
            0 => uuid(&self.booking_id, buf),
            1 => uuid(&self.user_id, buf),
            2 => &self.service,
            3 => shown(self.check_in, buf),
            4 => shown(self.check_out, buf),
            5 => shown(self.guests, buf),
            6 => cents(self.price_cents, buf),
            7 => self.status.as_str(),
            8 => shown(self.last_position, buf),
            _ => "",
        }
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
