//! The snapshot encoding: a compact binary form of [`ReadState`], decoded
//! about an order of magnitude faster than JSON (time travel loads one
//! snapshot per query, so this is its floor). Snapshots written as JSON by
//! earlier builds still decode: JSON starts with `{`, this starts with
//! [`MAGIC`].
//!
//! Layout (little endian): `MAGIC`, position u64, users u64, each user
//! (id 16 bytes, email, name, address, created_position u64,
//! last_position u64), bookings u64, each booking (id 16, user id 16, service,
//! check_in i32 days from CE, check_out i32, guests u32, price_cents i64,
//! status, last_position u64). Strings are a u32 byte length then UTF-8.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use crate::domain::{BookingRow, BookingStatus, ReadState, UserRow};

/// First bytes of a binary snapshot (version 1).
pub const MAGIC: &[u8; 8] = b"LSSNAP1\n";

pub(super) fn put_str(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

pub(super) fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

pub(super) fn put_date(out: &mut Vec<u8>, date: NaiveDate) {
    out.extend_from_slice(&date.num_days_from_ce().to_le_bytes());
}

pub(super) fn put_user(out: &mut Vec<u8>, u: &UserRow) {
    out.extend_from_slice(u.user_id.as_bytes());
    put_str(out, &u.email);
    put_str(out, &u.name);
    put_str(out, &u.address);
    put_u64(out, u.created_position);
    put_u64(out, u.last_position);
}

pub(super) fn put_booking(out: &mut Vec<u8>, b: &BookingRow) {
    out.extend_from_slice(b.booking_id.as_bytes());
    out.extend_from_slice(b.user_id.as_bytes());
    put_str(out, &b.service);
    put_date(out, b.check_in);
    put_date(out, b.check_out);
    out.extend_from_slice(&b.guests.to_le_bytes());
    out.extend_from_slice(&b.price_cents.to_le_bytes());
    put_str(out, b.status.as_str());
    put_u64(out, b.last_position);
}

/// Encodes a state.
pub fn encode(state: &ReadState) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + state.users.len() * 96 + state.bookings.len() * 96);
    out.extend_from_slice(MAGIC);
    put_u64(&mut out, state.position);
    put_u64(&mut out, state.users.len() as u64);
    for u in state.users.values() {
        put_user(&mut out, u);
    }
    put_u64(&mut out, state.bookings.len() as u64);
    for b in state.bookings.values() {
        put_booking(&mut out, b);
    }
    out
}

/// A bounds-checked little-endian reader: every read past the end is an
/// `Err`, never a panic.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Where the next read starts.
    pub(super) fn offset(&self) -> usize {
        self.at
    }

    /// A reader of `bytes` starting at byte `at`.
    pub(super) fn at(bytes: &'a [u8], at: usize) -> Self {
        Reader { bytes, at }
    }

    /// A row count, bounded by the bytes left (no huge allocations on garbage).
    pub(super) fn count(&mut self, min_row_bytes: usize) -> Result<usize, String> {
        let n = self.u64()?;
        let left = self.left() as u64;
        if n.saturating_mul(min_row_bytes as u64) > left {
            return Err(format!("{n} rows cannot fit in {left} bytes"));
        }
        Ok(n as usize)
    }

    /// A users row as [`put_user`] writes it.
    pub(super) fn user(&mut self) -> Result<UserRow, String> {
        Ok(UserRow {
            user_id: self.uuid()?,
            email: self.string()?,
            name: self.string()?,
            address: self.string()?,
            created_position: self.u64()?,
            last_position: self.u64()?,
        })
    }

    /// A bookings row as [`put_booking`] writes it.
    pub(super) fn booking(&mut self) -> Result<BookingRow, String> {
        Ok(BookingRow {
            booking_id: self.uuid()?,
            user_id: self.uuid()?,
            service: self.string()?,
            check_in: self.date()?,
            check_out: self.date()?,
            guests: self.u32()?,
            price_cents: i64::from_le_bytes(self.array()?),
            status: self.status()?,
            last_position: self.u64()?,
        })
    }

    pub(super) fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| format!("truncated at byte {}", self.at))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(super) fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(super) fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub(super) fn uuid(&mut self) -> Result<Uuid, String> {
        Ok(Uuid::from_bytes(self.array()?))
    }

    pub(super) fn str(&mut self) -> Result<&'a str, String> {
        let len = self.u32()? as usize;
        let at = self.at;
        std::str::from_utf8(self.take(len)?).map_err(|_| format!("text at byte {at} is not UTF-8"))
    }

    pub(super) fn string(&mut self) -> Result<String, String> {
        self.str().map(str::to_owned)
    }

    pub(super) fn date(&mut self) -> Result<NaiveDate, String> {
        let days = i32::from_le_bytes(self.array()?);
        NaiveDate::from_num_days_from_ce_opt(days).ok_or_else(|| format!("bad date {days}"))
    }

    pub(super) fn status(&mut self) -> Result<BookingStatus, String> {
        let text = self.str()?;
        BookingStatus::parse(text).ok_or_else(|| format!("unknown status '{text}'"))
    }

    pub(super) fn finish(&self) -> Result<(), String> {
        match self.left() {
            0 => Ok(()),
            n => Err(format!("{n} trailing bytes")),
        }
    }
}

/// Decodes a state written by [`encode`], or JSON from earlier builds.
pub fn decode(bytes: &[u8]) -> Result<ReadState, String> {
    if !bytes.starts_with(MAGIC) {
        return serde_json::from_slice(bytes).map_err(|e| e.to_string());
    }
    let mut r = Reader::at(bytes, MAGIC.len());
    let position = r.u64()?;
    let n = r.count(16 + 12 + 16)?;
    let mut users = Vec::with_capacity(n);
    for _ in 0..n {
        let row = r.user()?;
        users.push((row.user_id, row));
    }
    let n = r.count(32 + 4 + 8 + 4 + 8 + 4 + 8)?;
    let mut bookings = Vec::with_capacity(n);
    for _ in 0..n {
        let row = r.booking()?;
        bookings.push((row.booking_id, row));
    }
    r.finish()?;
    // Rows were written in key order, so these builds are linear.
    let users: BTreeMap<Uuid, UserRow> = users.into_iter().collect();
    let bookings: BTreeMap<Uuid, BookingRow> = bookings.into_iter().collect();
    Ok(ReadState {
        position,
        users,
        bookings,
    })
}

#[cfg(test)]
#[path = "snapshot_codec_tests.rs"]
mod tests;
