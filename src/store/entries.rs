//! What the ledger port reads and writes: entries, pages, holes, filters.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{DomainEvent, StoredEvent};

/// Positions with no event below a stored one: `from..=to`. Positions this
/// app writes are gap-free; holes come from other writers, restores or hand
/// edits, and are crossed by the rule in `engine::holes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Hole {
    /// First missing position.
    pub from: u64,
    /// Last missing position.
    pub to: u64,
}

impl Hole {
    /// How many positions are missing.
    pub fn positions(&self) -> u64 {
        self.to + 1 - self.from
    }

    /// Whether `position` is in the hole.
    pub fn contains(&self, position: u64) -> bool {
        (self.from..=self.to).contains(&position)
    }

    /// `position 321 has no event`, `positions 5..=9 have no event`.
    pub fn no_event(&self) -> String {
        let verb = if self.from == self.to { "has" } else { "have" };
        format!("{self} {verb} no event")
    }
}

impl std::fmt::Display for Hole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.from == self.to {
            write!(f, "position {}", self.from)
        } else {
            write!(f, "positions {}..={}", self.from, self.to)
        }
    }
}

/// The holes between consecutive stored positions of `positions` (in
/// order), after `after`.
pub fn holes_between(after: u64, positions: impl IntoIterator<Item = u64>) -> Vec<Hole> {
    let mut last = after;
    let mut holes = Vec::new();
    for p in positions {
        if p > last + 1 {
            holes.push(Hole {
                from: last + 1,
                to: p - 1,
            });
        }
        last = last.max(p);
    }
    holes
}

/// How many documents a ledger holds and how many of them can be placed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerCensus {
    /// Highest stored position (0 when empty).
    pub head: u64,
    /// Rows with a usable position (a positive integer), malformed or not.
    pub positioned: u64,
    /// Rows without a usable position: counted and shown as malformed,
    /// never placed in the ledger's order.
    pub unpositioned: u64,
}

impl LedgerCensus {
    /// Positions up to the head with no row: the total size of the holes.
    pub fn missing_positions(&self) -> u64 {
        self.head.saturating_sub(self.positioned)
    }
}

/// A ledger row that could not be read as a [`StoredEvent`] (foreign writer,
/// hand edit, corruption). Shown and skipped, never fatal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MalformedEvent {
    /// Its position (0 when the row has none at all).
    pub position: u64,
    /// What is wrong with it.
    pub reason: String,
    /// The raw document or row, as text (for display).
    pub raw: String,
}

/// One ledger row as read: an envelope, or why it is not one.
pub type LedgerEntry = Result<StoredEvent, MalformedEvent>;

/// Position of a ledger entry, well-formed or not.
pub fn entry_position(entry: &LedgerEntry) -> u64 {
    match entry {
        Ok(event) => event.position,
        Err(bad) => bad.position,
    }
}

/// Where a reader that asked for the entries from `from` on goes next: past
/// the highest position in `page`, or `None` when the page holds nothing at
/// or after `from` (nothing more to read, or a store that answered out of
/// order). A read loop that goes on only through this never reads a
/// position twice.
pub fn next_from(from: u64, page: &[LedgerEntry]) -> Option<u64> {
    page.iter()
        .map(entry_position)
        .max()
        .filter(|last| *last >= from)
        .map(|last| last + 1)
}

/// A page of ledger entries read from the store whose decoding is left to
/// the caller: a scan reads the next page on the store's connection while
/// this one decodes on another core.
pub struct LedgerPage<E> {
    /// Entries read.
    pub count: usize,
    /// The highest position among them (0 when none).
    pub last: u64,
    decode: Box<dyn FnOnce() -> Vec<E> + Send>,
}

impl<E: Send + 'static> LedgerPage<E> {
    /// A page already decoded.
    pub fn decoded(entries: Vec<E>, position: impl Fn(&E) -> u64) -> Self {
        let last = entries.iter().map(position).max().unwrap_or(0);
        LedgerPage {
            count: entries.len(),
            last,
            decode: Box::new(move || entries),
        }
    }

    /// A page of `count` entries up to `last`, decoded by `decode`.
    pub fn deferred(
        count: usize,
        last: u64,
        decode: impl FnOnce() -> Vec<E> + Send + 'static,
    ) -> Self {
        LedgerPage {
            count,
            last,
            decode: Box::new(decode),
        }
    }

    /// Its entries (decoding them, when that was left for now).
    pub fn decode(self) -> Vec<E> {
        (self.decode)()
    }
}

/// One ledger row as stored, not decoded at all: what reading the ledger
/// costs with no decoding (the floor replay is measured against).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRow {
    /// Its position (0 when it has none that reads as one).
    pub position: u64,
    /// Its columns' bytes (embedded) or its BSON document (MongoDB).
    pub bytes: Vec<u8>,
}

/// One ledger row as a fold needs it: its position and its event, decoded,
/// or why it has none. Equal to decoding the [`LedgerEntry`] read at the
/// same position.
#[derive(Clone, Debug, PartialEq)]
pub enum FoldEntry {
    /// An envelope whose payload decoded.
    Event {
        /// Its position.
        position: u64,
        /// The decoded event.
        event: DomainEvent,
    },
    /// An envelope whose payload does not decode (unknown type, bad payload):
    /// skipped, with the reason [`StoredEvent::decode`] gives.
    Undecodable {
        /// Its position.
        position: u64,
        /// Why it does not decode.
        reason: String,
    },
    /// A row that is not an envelope.
    Malformed(MalformedEvent),
}

impl FoldEntry {
    /// Its position, whatever it holds.
    pub fn position(&self) -> u64 {
        match self {
            FoldEntry::Event { position, .. } | FoldEntry::Undecodable { position, .. } => {
                *position
            }
            FoldEntry::Malformed(bad) => bad.position,
        }
    }
}

impl From<LedgerEntry> for FoldEntry {
    fn from(entry: LedgerEntry) -> Self {
        match entry {
            Ok(stored) => match stored.decode() {
                Ok(event) => FoldEntry::Event {
                    position: stored.position,
                    event,
                },
                Err(error) => FoldEntry::Undecodable {
                    position: stored.position,
                    reason: error.to_string(),
                },
            },
            Err(bad) => FoldEntry::Malformed(bad),
        }
    }
}

/// What `append` did.
#[derive(Clone, Debug, PartialEq)]
pub enum AppendOutcome {
    /// Stored at a new position (the returned event carries it).
    Appended(StoredEvent),
    /// An event with the same `event_id` was already stored: this is it.
    Duplicate(StoredEvent),
}

impl AppendOutcome {
    /// The stored event either way.
    pub fn event(&self) -> &StoredEvent {
        match self {
            AppendOutcome::Appended(e) | AppendOutcome::Duplicate(e) => e,
        }
    }
}

/// Timeline filters. Empty fields match everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter {
    /// Exact event type.
    pub event_type: Option<String>,
    /// Exact aggregate id.
    pub aggregate_id: Option<Uuid>,
    /// Recorded at or after.
    pub from_time: Option<DateTime<Utc>>,
    /// Recorded before.
    pub to_time: Option<DateTime<Utc>>,
    /// Case-insensitive substring of the payload's JSON text.
    pub text: Option<String>,
    /// Positions below this one only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_position: Option<u64>,
}

impl EventFilter {
    /// True when nothing is filtered (the timeline can page by position).
    pub fn is_empty(&self) -> bool {
        self == &EventFilter::default()
    }

    /// Whether an entry matches (malformed entries match only an empty filter,
    /// or a text filter found in their raw text).
    pub fn matches(&self, entry: &LedgerEntry) -> bool {
        match entry {
            Ok(e) => {
                self.event_type.as_ref().is_none_or(|t| &e.event_type == t)
                    && self.aggregate_id.is_none_or(|a| e.aggregate_id == a)
                    && self.from_time.is_none_or(|t| e.recorded_at >= t)
                    && self.to_time.is_none_or(|t| e.recorded_at < t)
                    && self.before_position.is_none_or(|p| e.position < p)
                    && self.text.as_ref().is_none_or(|t| {
                        e.payload
                            .to_string()
                            .to_lowercase()
                            .contains(&t.to_lowercase())
                    })
            }
            Err(bad) => {
                self.event_type.is_none()
                    && self.aggregate_id.is_none()
                    && self.before_position.is_none_or(|p| bad.position < p)
                    && self.from_time.is_none()
                    && self.to_time.is_none()
                    && self
                        .text
                        .as_ref()
                        .is_none_or(|t| bad.raw.to_lowercase().contains(&t.to_lowercase()))
            }
        }
    }
}

/// Why a stored entry is malformed: the reason a [`MalformedEvent`] shows,
/// with the parser's error kept as the source where there is one.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// The entry has no usable position.
    #[error("position is missing or not a positive integer")]
    NoPosition,
    /// A field is absent or null.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// A text field's bytes are not UTF-8.
    #[error("{0} is not valid UTF-8")]
    NotUtf8(&'static str),
    /// A field holds another type than the envelope's.
    #[error("{field} is not {expected} ({found})")]
    WrongType {
        /// The field.
        field: &'static str,
        /// What it should be ("text", "a document", ...).
        expected: &'static str,
        /// What it is.
        found: String,
    },
    /// An id field is not a UUID.
    #[error("{field} '{text}' is not a UUID")]
    NotUuid {
        /// The field.
        field: &'static str,
        /// Its text.
        text: String,
        /// The parser's error.
        #[source]
        source: uuid::Error,
    },
    /// `recorded_at` is text that is not an RFC 3339 time.
    #[error("recorded_at '{text}' is not an RFC 3339 time")]
    NotRfc3339 {
        /// The text.
        text: String,
        /// The parser's error.
        #[source]
        source: chrono::ParseError,
    },
    /// A time (`recorded_at`, or `recorded_at_us` with its value) is outside
    /// what a timestamp holds.
    #[error("{0} is out of range")]
    OutOfRange(String),
    /// The payload text is not JSON.
    #[error("payload is not valid JSON: {0}")]
    PayloadJson(#[source] serde_json::Error),
    /// The metadata does not decode.
    #[error("metadata is malformed: {0}")]
    Metadata(#[source] serde_json::Error),
    /// `schema_version` does not fit in 32 bits.
    #[error("schema_version is too large")]
    SchemaVersionTooLarge,
}
