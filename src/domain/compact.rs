//! The replay's fold state: the same rows as [`ReadState`], kept small.
//!
//! A replay folds every event and only then writes the rows, so it holds the
//! whole final state at once. As a [`ReadState`] a row costs its struct, one
//! heap block per string and a B-tree slot: about 240 bytes a row at 1M
//! events. Here a row is a fixed-size record in a vector, its strings live
//! in one shared text arena, a booking's service is an index into a small
//! table of the distinct services, and the key maps to the record's index in
//! a hash map (a fold touches rows in random key order; hashing beats a
//! B-tree walk). [`CompactFold::finish`] sorts the keys once for the bulk
//! load, which reads the rows in key order through [`TableRows`].
//!
//! A change acts as [`ReadState::apply_owned_change`] makes it act; the
//! tests fold the same events both ways and compare every row.

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::event::{BookingStatus, DomainEvent};
use super::projection::{BookingRef, RowChange, UserRef};
use super::state::{EventFold, ReadState};

type Keys = HashMap<Uuid, u32, foldhash::fast::RandomState>;

/// The final rows of both read tables, each table in ascending key order:
/// what a bulk load writes. A [`ReadState`] is one; so is a finished
/// [`CompactFold`].
pub trait TableRows: Send + Sync {
    /// The last ledger position folded in.
    fn position(&self) -> u64;
    /// Rows in `users`.
    fn user_count(&self) -> usize;
    /// Rows in `bookings`.
    fn booking_count(&self) -> usize;
    /// The `users` rows, by key.
    fn users(&self) -> Box<dyn Iterator<Item = UserRef<'_>> + Send + '_>;
    /// The `bookings` rows, by key.
    fn bookings(&self) -> Box<dyn Iterator<Item = BookingRef<'_>> + Send + '_>;
}

impl TableRows for ReadState {
    fn position(&self) -> u64 {
        self.position
    }
    fn user_count(&self) -> usize {
        self.users.len()
    }
    fn booking_count(&self) -> usize {
        self.bookings.len()
    }
    fn users(&self) -> Box<dyn Iterator<Item = UserRef<'_>> + Send + '_> {
        Box::new(self.users.values().map(UserRef::from))
    }
    fn bookings(&self) -> Box<dyn Iterator<Item = BookingRef<'_>> + Send + '_> {
        Box::new(self.bookings.values().map(BookingRef::from))
    }
}

/// A span of the text arena: its chunk, offset and length.
#[derive(Clone, Copy, Debug)]
struct Text {
    chunk: u32,
    offset: u32,
    len: u32,
}

/// Bytes of one chunk of the text arena.
const TEXT_CHUNK: usize = 1 << 20;
/// Rows in one chunk of a row table.
const ROW_CHUNK: usize = 1 << 16;

/// Strings appended into fixed-size chunks. A growing `String` would double
/// (up to half of it unused) and copy itself on every doubling, both sides
/// alive at once: at a million rows that is the largest single cost.
#[derive(Default)]
struct Arena {
    chunks: Vec<String>,
}

impl Arena {
    fn put(&mut self, text: &str) -> Text {
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= text.len());
        if !fits {
            self.chunks
                .push(String::with_capacity(TEXT_CHUNK.max(text.len())));
        }
        let chunk = self.chunks.len() - 1;
        let last = &mut self.chunks[chunk];
        let offset = last.len();
        last.push_str(text);
        // A field longer than 4 GiB cannot reach here: events are stored as
        // documents far smaller than that.
        Text {
            chunk: chunk as u32,
            offset: u32::try_from(offset).unwrap_or(u32::MAX),
            len: u32::try_from(text.len()).unwrap_or(u32::MAX),
        }
    }

    fn get(&self, span: Text) -> &str {
        let start = span.offset as usize;
        self.chunks
            .get(span.chunk as usize)
            .and_then(|c| c.get(start..start + span.len as usize))
            .unwrap_or_default()
    }
}

/// Records in fixed-size chunks, for the same reason as [`Arena`].
struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    /// Appends `row`; returns its index.
    fn push(&mut self, row: T) -> u32 {
        if self.len.is_multiple_of(ROW_CHUNK) {
            self.chunks.push(Vec::with_capacity(ROW_CHUNK));
        }
        if let Some(last) = self.chunks.last_mut() {
            last.push(row);
        }
        self.len += 1;
        (self.len - 1) as u32
    }

    fn get(&self, at: u32) -> &T {
        let at = at as usize;
        &self.chunks[at / ROW_CHUNK][at % ROW_CHUNK]
    }

    fn get_mut(&mut self, at: u32) -> &mut T {
        let at = at as usize;
        &mut self.chunks[at / ROW_CHUNK][at % ROW_CHUNK]
    }
}

#[derive(Clone, Copy, Debug)]
struct CompactUser {
    email: Text,
    name: Text,
    address: Text,
    created_position: u64,
    last_position: u64,
}

#[derive(Clone, Copy, Debug)]
struct CompactBooking {
    user_id: Uuid,
    check_in: NaiveDate,
    check_out: NaiveDate,
    guests: u32,
    service: u32,
    price_cents: i64,
    last_position: u64,
    cancelled: bool,
}

/// Rows folded from events, kept small (see the module documentation).
#[derive(Default)]
pub struct CompactFold {
    position: u64,
    text: Arena,
    services: Vec<Box<str>>,
    service_ids: HashMap<Box<str>, u32, foldhash::fast::RandomState>,
    user_keys: Keys,
    users: Chunked<CompactUser>,
    booking_keys: Keys,
    bookings: Chunked<CompactBooking>,
}

impl CompactFold {
    /// A fold starting from `state` (consumed: its rows move in).
    pub fn from_state(state: ReadState) -> Self {
        let mut fold = CompactFold {
            position: state.position,
            ..CompactFold::default()
        };
        fold.user_keys.reserve(state.users.len());
        fold.booking_keys.reserve(state.bookings.len());
        for (_, row) in state.users {
            fold.apply(RowChange::InsertUserIfAbsent(row));
        }
        for (_, row) in state.bookings {
            fold.apply(RowChange::InsertBookingIfAbsent(row));
        }
        fold
    }

    fn service_id(&mut self, service: String) -> u32 {
        if let Some(id) = self.service_ids.get(service.as_str()) {
            return *id;
        }
        let id = self.services.len() as u32;
        let name: Box<str> = service.into_boxed_str();
        self.services.push(name.clone());
        self.service_ids.insert(name, id);
        id
    }

    /// Applies one row change as [`ReadState::apply_owned_change`] does.
    pub fn apply(&mut self, change: RowChange) {
        match change {
            RowChange::InsertUserIfAbsent(row) => {
                if self.user_keys.contains_key(&row.user_id) {
                    return;
                }
                let user = CompactUser {
                    email: self.text.put(&row.email),
                    name: self.text.put(&row.name),
                    address: self.text.put(&row.address),
                    created_position: row.created_position,
                    last_position: row.last_position,
                };
                let at = self.users.push(user);
                self.user_keys.insert(row.user_id, at);
            }
            RowChange::SetUserAddress {
                user_id,
                address,
                position,
            } => {
                let Some(&at) = self.user_keys.get(&user_id) else {
                    return;
                };
                if self.users.get(at).last_position < position {
                    let address = self.text.put(&address);
                    let row = self.users.get_mut(at);
                    row.address = address;
                    row.last_position = position;
                }
            }
            RowChange::InsertBookingIfAbsent(row) => {
                if self.booking_keys.contains_key(&row.booking_id) {
                    return;
                }
                let booking = CompactBooking {
                    user_id: row.user_id,
                    check_in: row.check_in,
                    check_out: row.check_out,
                    guests: row.guests,
                    service: self.service_id(row.service),
                    price_cents: row.price_cents,
                    last_position: row.last_position,
                    cancelled: row.status == BookingStatus::Cancelled,
                };
                let at = self.bookings.push(booking);
                self.booking_keys.insert(row.booking_id, at);
            }
            RowChange::SetBookingStatus {
                booking_id,
                status,
                position,
            } => {
                if let Some(row) = self.booking_mut(booking_id, position) {
                    row.cancelled = status == BookingStatus::Cancelled;
                    row.last_position = position;
                }
            }
            RowChange::SetBookingDates {
                booking_id,
                check_in,
                check_out,
                position,
            } => {
                if let Some(row) = self.booking_mut(booking_id, position) {
                    row.check_in = check_in;
                    row.check_out = check_out;
                    row.last_position = position;
                }
            }
        }
    }

    /// The booking under `key` if a change at `position` is newer than it.
    fn booking_mut(&mut self, key: Uuid, position: u64) -> Option<&mut CompactBooking> {
        let at = *self.booking_keys.get(&key)?;
        let row = self.bookings.get_mut(at);
        (row.last_position < position).then_some(row)
    }

    /// The rows, keys sorted for the load (the hash maps are dropped).
    pub fn finish(self) -> CompactRows {
        fn sorted(keys: Keys) -> Vec<(Uuid, u32)> {
            let mut keys: Vec<(Uuid, u32)> = keys.into_iter().collect();
            keys.sort_unstable_by_key(|(key, _)| *key);
            keys
        }
        // The vectors are not shrunk: a shrink copies, both copies alive.
        let CompactFold {
            position,
            text,
            services,
            user_keys,
            users,
            booking_keys,
            bookings,
            ..
        } = self;
        CompactRows {
            position,
            user_keys: sorted(user_keys),
            booking_keys: sorted(booking_keys),
            text,
            services,
            users,
            bookings,
        }
    }
}

impl EventFold for CompactFold {
    fn folded_to(&self) -> u64 {
        self.position
    }

    /// As [`ReadState`] folds it.
    fn fold_decoded(&mut self, position: u64, event: DomainEvent) {
        self.advance(position);
        for change in RowChange::of_event(position, &event) {
            self.apply(change);
        }
    }

    fn advance(&mut self, position: u64) {
        self.position = self.position.max(position);
    }
}

/// A finished [`CompactFold`]: its rows in key order.
pub struct CompactRows {
    position: u64,
    user_keys: Vec<(Uuid, u32)>,
    booking_keys: Vec<(Uuid, u32)>,
    text: Arena,
    services: Vec<Box<str>>,
    users: Chunked<CompactUser>,
    bookings: Chunked<CompactBooking>,
}

impl CompactRows {
    fn user(&self, key: Uuid, at: u32) -> UserRef<'_> {
        let row = self.users.get(at);
        UserRef {
            user_id: key,
            email: self.text.get(row.email),
            name: self.text.get(row.name),
            address: self.text.get(row.address),
            created_position: row.created_position,
            last_position: row.last_position,
        }
    }

    fn booking(&self, key: Uuid, at: u32) -> BookingRef<'_> {
        let row = self.bookings.get(at);
        BookingRef {
            booking_id: key,
            user_id: row.user_id,
            service: self
                .services
                .get(row.service as usize)
                .map_or("", |s| s.as_ref()),
            check_in: row.check_in,
            check_out: row.check_out,
            guests: row.guests,
            price_cents: row.price_cents,
            status: match row.cancelled {
                true => BookingStatus::Cancelled,
                false => BookingStatus::Confirmed,
            },
            last_position: row.last_position,
        }
    }

    /// The same rows as a [`ReadState`] (every row copied out).
    #[cfg(test)]
    pub fn to_state(&self) -> ReadState {
        ReadState {
            position: self.position,
            users: self.users().map(|r| (r.user_id, r.to_row())).collect(),
            bookings: self
                .bookings()
                .map(|r| (r.booking_id, r.to_row()))
                .collect(),
        }
    }
}

impl TableRows for CompactRows {
    fn position(&self) -> u64 {
        self.position
    }
    fn user_count(&self) -> usize {
        self.user_keys.len()
    }
    fn booking_count(&self) -> usize {
        self.booking_keys.len()
    }
    fn users(&self) -> Box<dyn Iterator<Item = UserRef<'_>> + Send + '_> {
        Box::new(self.user_keys.iter().map(|&(key, at)| self.user(key, at)))
    }
    fn bookings(&self) -> Box<dyn Iterator<Item = BookingRef<'_>> + Send + '_> {
        Box::new(
            self.booking_keys
                .iter()
                .map(|&(key, at)| self.booking(key, at)),
        )
    }
}

#[cfg(test)]
mod tests;
