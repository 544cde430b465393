//! Delta snapshots: the row changes of the events since a full snapshot,
//! keyed and in order, so that time travel between two full snapshots reads
//! the full one's index, this small delta and at most a few events, instead
//! of every event since the full one.
//!
//! A full snapshot of a large state is large (every row), and every one is
//! stored whole, so they cannot be taken often. A delta holds only what the
//! events since its full snapshot changed, which is what a view would fold
//! from those events anyway (a view's overlay, `StateView` in `read/view.rs`), already
//! projected and in a binary encoding that decodes far faster than the
//! events' JSON. Each delta is cumulative from its full snapshot (never a
//! chain of deltas), so one read is enough.
//!
//! Layout (little-endian): `MAGIC`, base snapshot id (16 bytes), base
//! position, position, events folded, then per table (users, bookings) a key
//! count and for each key in ascending order: the key, a change count (u32)
//! and the changes (a tag byte and the change's fields). Then the entries that
//! could not be applied: a count, and for each its position and reason. A
//! delta is stored as one chunk; its checksum is the snapshot's `sha256`.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::domain::{DomainEvent, ProjectorId, RowChange};
use crate::engine::snapshot_rows::{
    FormatError, Reader, format_error, put_booking, put_date, put_str, put_u64, put_user,
};
use crate::store::MalformedEvent;

/// First bytes of a delta snapshot.
pub const MAGIC: &[u8; 8] = b"LSDELT1\n";

/// Row changes per table (users, bookings), by key, in ledger order.
pub type Changes = [BTreeMap<Uuid, Vec<RowChange>>; 2];

/// The row changes of the events after a full snapshot, up to a position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    /// The full snapshot this is a delta of.
    pub base_id: Uuid,
    /// Its position.
    pub base_position: u64,
    /// The position this delta reflects.
    pub position: u64,
    /// Ledger entries between the two positions (applied or skipped).
    pub events: u64,
    /// What those events changed.
    pub changes: Changes,
    /// Entries among them that could not be applied.
    pub skipped: Vec<MalformedEvent>,
}

const INSERT_USER: u8 = 1;
const SET_USER_ADDRESS: u8 = 2;
const INSERT_BOOKING: u8 = 3;
const SET_BOOKING_STATUS: u8 = 4;
const SET_BOOKING_DATES: u8 = 5;

/// Whether `bytes` start like a delta snapshot.
pub fn is_delta(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

pub(crate) fn put_change(out: &mut Vec<u8>, change: &RowChange) {
    match change {
        RowChange::InsertUserIfAbsent(row) => {
            out.push(INSERT_USER);
            put_user(out, row);
        }
        RowChange::SetUserAddress {
            user_id,
            address,
            position,
        } => {
            out.push(SET_USER_ADDRESS);
            out.extend_from_slice(user_id.as_bytes());
            put_str(out, address);
            put_u64(out, *position);
        }
        RowChange::InsertBookingIfAbsent(row) => {
            out.push(INSERT_BOOKING);
            put_booking(out, row);
        }
        RowChange::SetBookingStatus {
            booking_id,
            status,
            position,
        } => {
            out.push(SET_BOOKING_STATUS);
            out.extend_from_slice(booking_id.as_bytes());
            put_str(out, status.as_str());
            put_u64(out, *position);
        }
        RowChange::SetBookingDates {
            booking_id,
            check_in,
            check_out,
            position,
        } => {
            out.push(SET_BOOKING_DATES);
            out.extend_from_slice(booking_id.as_bytes());
            put_date(out, *check_in);
            put_date(out, *check_out);
            put_u64(out, *position);
        }
    }
}

pub(crate) fn get_change(r: &mut Reader<'_>) -> Result<RowChange, FormatError> {
    let at = r.offset();
    let [tag] = r.array::<1>()?;
    Ok(match tag {
        INSERT_USER => RowChange::InsertUserIfAbsent(r.user()?),
        SET_USER_ADDRESS => RowChange::SetUserAddress {
            user_id: r.uuid()?,
            address: r.string()?,
            position: r.u64()?,
        },
        INSERT_BOOKING => RowChange::InsertBookingIfAbsent(r.booking()?),
        SET_BOOKING_STATUS => RowChange::SetBookingStatus {
            booking_id: r.uuid()?,
            status: r.status()?,
            position: r.u64()?,
        },
        SET_BOOKING_DATES => RowChange::SetBookingDates {
            booking_id: r.uuid()?,
            check_in: r.date()?,
            check_out: r.date()?,
            position: r.u64()?,
        },
        other => return Err(format_error!("unknown change tag {other} at byte {at}")),
    })
}

/// The table (0 users, 1 bookings) and key a change is for.
pub fn change_slot(change: &RowChange) -> (usize, Uuid) {
    match change {
        RowChange::InsertUserIfAbsent(row) => (0, row.user_id),
        RowChange::SetUserAddress { user_id, .. } => (0, *user_id),
        RowChange::InsertBookingIfAbsent(row) => (1, row.booking_id),
        RowChange::SetBookingStatus { booking_id, .. }
        | RowChange::SetBookingDates { booking_id, .. } => (1, *booking_id),
    }
}

/// Files the row changes a decoded event makes under their tables and keys,
/// after the changes already there.
pub fn add_event(changes: &mut Changes, position: u64, event: &DomainEvent) {
    for projector in ProjectorId::ALL {
        for change in projector.changes(position, event) {
            let (slot, key) = change_slot(&change);
            changes[slot].entry(key).or_default().push(change);
        }
    }
}

/// Appends `later` (changes of later events) to `changes`, key by key.
pub fn append(changes: &mut Changes, later: Changes) {
    for (table, more) in changes.iter_mut().zip(later) {
        for (key, list) in more {
            table.entry(key).or_default().extend(list);
        }
    }
}

/// Encodes a delta.
pub fn encode(delta: &Delta) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(64 + delta.changes.iter().map(|t| t.len() * 128).sum::<usize>());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(delta.base_id.as_bytes());
    put_u64(&mut out, delta.base_position);
    put_u64(&mut out, delta.position);
    put_u64(&mut out, delta.events);
    for table in &delta.changes {
        put_u64(&mut out, table.len() as u64);
        for (key, changes) in table {
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(&(changes.len() as u32).to_le_bytes());
            for change in changes {
                put_change(&mut out, change);
            }
        }
    }
    put_u64(&mut out, delta.skipped.len() as u64);
    for bad in &delta.skipped {
        put_u64(&mut out, bad.position);
        put_str(&mut out, &bad.reason);
    }
    out
}

/// Decodes a delta written by [`encode`]. Checks that keys ascend, that
/// every change is filed under its own table and key, and that its
/// positions lie between the base and the delta: garbage is an `Err`, never
/// a panic or a wrong state.
pub fn decode(bytes: &[u8]) -> Result<Delta, FormatError> {
    if !is_delta(bytes) {
        return Err("not a delta snapshot (bad magic)".into());
    }
    let mut r = Reader::at(bytes, MAGIC.len());
    let base_id = r.uuid()?;
    let base_position = r.u64()?;
    let position = r.u64()?;
    let events = r.u64()?;
    if position < base_position {
        return Err(format_error!(
            "the delta's position {position} is before its base's {base_position}"
        ));
    }
    let mut changes: Changes = Default::default();
    for (slot, table) in changes.iter_mut().enumerate() {
        // A key takes at least 16 + 4 bytes.
        let keys = r.count(20)?;
        let mut last: Option<Uuid> = None;
        for _ in 0..keys {
            let key = r.uuid()?;
            if last.is_some_and(|l| l >= key) {
                return Err(format_error!("key {key} is out of order"));
            }
            last = Some(key);
            let n = r.u32()? as usize;
            if n.saturating_mul(17) > r.left() {
                return Err(format_error!(
                    "{n} changes cannot fit in {} bytes",
                    r.left()
                ));
            }
            let mut list = Vec::with_capacity(n);
            for _ in 0..n {
                let change = get_change(&mut r)?;
                if change_slot(&change) != (slot, key) {
                    return Err(format_error!("a change under key {key} is for another row"));
                }
                let at = change_position(&change);
                if at <= base_position || at > position {
                    return Err(format_error!(
                        "a change at position {at} lies outside {base_position}..={position}"
                    ));
                }
                list.push(change);
            }
            table.insert(key, list);
        }
    }
    let bad = r.count(12)?;
    let mut skipped = Vec::with_capacity(bad);
    for _ in 0..bad {
        skipped.push(MalformedEvent {
            position: r.u64()?,
            reason: r.string()?,
            raw: String::new(),
        });
    }
    r.finish()?;
    Ok(Delta {
        base_id,
        base_position,
        position,
        events,
        changes,
        skipped,
    })
}

/// The ledger position a change comes from.
pub(crate) fn change_position(change: &RowChange) -> u64 {
    match change {
        RowChange::InsertUserIfAbsent(row) => row.last_position,
        RowChange::InsertBookingIfAbsent(row) => row.last_position,
        RowChange::SetUserAddress { position, .. }
        | RowChange::SetBookingStatus { position, .. }
        | RowChange::SetBookingDates { position, .. } => *position,
    }
}

#[cfg(test)]
mod tests;
