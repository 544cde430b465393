//! How snapshot chunks write rows: a compact binary form, decoded about an
//! order of magnitude faster than JSON (time travel reads pages of them on
//! every query). Used by the full snapshots' pages
//! ([`crate::engine::snapshot_pages`]) and the deltas ([`crate::engine::snapshot_delta`]).
//!
//! A row is its cells in its table's column order (the description in
//! `domain/projection.rs`), little endian: a UUID 16 bytes, text a u32 byte
//! length then UTF-8, a date i32 days from CE, a count u32, a number i64, a
//! position u64. So a users row is id, email, name, address,
//! created_position, last_position; a bookings row id, user id, service,
//! check_in, check_out, guests, price_cents, status, last_position.

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use crate::domain::model::{CellReader, CellWriter, DescribedRow, SqlType, WriteCells};
use crate::domain::{BookingRow, BookingStatus, UserRow};

/// Why stored snapshot bytes cannot be read: they are not what their format
/// says (truncated, trailing bytes, counts that cannot fit, bad text, a
/// wrong magic...).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(pub String);

impl From<&str> for FormatError {
    fn from(text: &str) -> Self {
        FormatError(text.to_string())
    }
}

/// `FormatError(format!(...))`.
macro_rules! format_error {
    ($($arg:tt)*) => { $crate::engine::snapshot_rows::FormatError(format!($($arg)*)) };
}
pub(crate) use format_error;

pub(crate) fn put_str(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

pub(crate) fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

pub(crate) fn put_date(out: &mut Vec<u8>, date: NaiveDate) {
    out.extend_from_slice(&date.num_days_from_ce().to_le_bytes());
}

/// Writes cells in the row form above.
struct RowBytes<'a>(&'a mut Vec<u8>);

impl CellWriter for RowBytes<'_> {
    #[inline]
    fn uuid(&mut self, value: Uuid) {
        self.0.extend_from_slice(value.as_bytes());
    }
    #[inline]
    fn text(&mut self, value: &str) {
        put_str(self.0, value);
    }
    #[inline]
    fn date(&mut self, value: NaiveDate) {
        put_date(self.0, value);
    }
    #[inline]
    fn count(&mut self, value: u32) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }
    #[inline]
    fn int(&mut self, value: i64) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }
    #[inline]
    fn position(&mut self, value: u64) {
        put_u64(self.0, value);
    }
}

/// Writes a row's cells in its table's column order.
#[inline]
pub(crate) fn put_row(out: &mut Vec<u8>, row: &impl WriteCells) {
    row.write_cells(&mut RowBytes(out));
}

pub(crate) fn put_user(out: &mut Vec<u8>, u: &UserRow) {
    put_row(out, u);
}

pub(crate) fn put_booking(out: &mut Vec<u8>, b: &BookingRow) {
    put_row(out, b);
}

/// The fewest bytes a row of `R` takes (every text empty).
pub(crate) fn min_row_bytes<R: DescribedRow>() -> usize {
    R::DESCRIPTION
        .columns
        .iter()
        .map(|c| match c.sql {
            SqlType::Uuid => 16,
            SqlType::Text | SqlType::Date | SqlType::Int4 => 4,
            SqlType::Int8 => 8,
        })
        .sum()
}

impl CellReader for Reader<'_> {
    type Error = FormatError;
    #[inline]
    fn uuid(&mut self) -> Result<Uuid, FormatError> {
        Reader::uuid(self)
    }
    #[inline]
    fn text(&mut self) -> Result<String, FormatError> {
        self.string()
    }
    #[inline]
    fn parse_text<T, E: std::fmt::Display>(
        &mut self,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, FormatError> {
        parse(self.str()?).map_err(|why| FormatError(why.to_string()))
    }
    #[inline]
    fn date(&mut self) -> Result<NaiveDate, FormatError> {
        Reader::date(self)
    }
    #[inline]
    fn count(&mut self) -> Result<u32, FormatError> {
        self.u32()
    }
    #[inline]
    fn int(&mut self) -> Result<i64, FormatError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    #[inline]
    fn position(&mut self) -> Result<u64, FormatError> {
        self.u64()
    }
}

/// A bounds-checked little-endian reader: every read past the end is an
/// `Err`, never a panic.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Where the next read starts.
    pub(crate) fn offset(&self) -> usize {
        self.at
    }

    /// A reader of `bytes` starting at byte `at`.
    pub(crate) fn at(bytes: &'a [u8], at: usize) -> Self {
        Reader { bytes, at }
    }

    /// A row count, bounded by the bytes left (no huge allocations on garbage).
    pub(crate) fn count(&mut self, min_row_bytes: usize) -> Result<usize, FormatError> {
        let n = self.u64()?;
        let left = self.left() as u64;
        if n.saturating_mul(min_row_bytes as u64) > left {
            return Err(format_error!("{n} rows cannot fit in {left} bytes"));
        }
        Ok(n as usize)
    }

    /// A row as [`put_row`] writes it.
    #[inline]
    pub(crate) fn row<R: DescribedRow>(&mut self) -> Result<R, FormatError> {
        R::read_cells(self)
    }

    /// A users row as [`put_user`] writes it.
    pub(crate) fn user(&mut self) -> Result<UserRow, FormatError> {
        self.row()
    }

    /// A bookings row as [`put_booking`] writes it.
    pub(crate) fn booking(&mut self) -> Result<BookingRow, FormatError> {
        self.row()
    }

    pub(crate) fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| format_error!("truncated at byte {}", self.at))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub(crate) fn uuid(&mut self) -> Result<Uuid, FormatError> {
        Ok(Uuid::from_bytes(self.array()?))
    }

    pub(crate) fn str(&mut self) -> Result<&'a str, FormatError> {
        let len = self.u32()? as usize;
        let at = self.at;
        std::str::from_utf8(self.take(len)?)
            .map_err(|_| format_error!("text at byte {at} is not UTF-8"))
    }

    pub(crate) fn string(&mut self) -> Result<String, FormatError> {
        self.str().map(str::to_owned)
    }

    pub(crate) fn date(&mut self) -> Result<NaiveDate, FormatError> {
        let days = i32::from_le_bytes(self.array()?);
        NaiveDate::from_num_days_from_ce_opt(days).ok_or_else(|| format_error!("bad date {days}"))
    }

    pub(crate) fn status(&mut self) -> Result<BookingStatus, FormatError> {
        let text = self.str()?;
        BookingStatus::parse(text).ok_or_else(|| format_error!("unknown status '{text}'"))
    }

    pub(crate) fn finish(&self) -> Result<(), FormatError> {
        match self.left() {
            0 => Ok(()),
            n => Err(format_error!("{n} trailing bytes")),
        }
    }
}

#[cfg(test)]
mod tests;
