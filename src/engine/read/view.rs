//! Time travel without loading the whole state. A [`StateView`] is the state
//! at a position as three parts:
//! - a snapshot's directory: every key with the position that last changed
//!   its row (and whether a booking is cancelled), 24 bytes a row;
//! - the snapshot's rows, read a page at a time when someone looks at them;
//! - the events after the snapshot, kept per key as the row changes they make
//!   (an overlay of a few thousand keys).
//!
//! Counts, the list of keys and the difference between two views come from
//! the directory and the overlay alone. Within one ledger, a row's last
//! position names its content (every change to a row moves it), so two
//! states hold equal rows exactly where the keys and last positions agree.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::domain::state::StateCounts;
use crate::domain::{BookingRow, Table, UserRow};
use crate::engine::snapshot_delta::Changes;
use crate::engine::snapshot_pages::{DirEntry, SnapshotIndex};
use crate::engine::timetravel::FoldBase;
use crate::engine::{EngineError, EngineResult};
use crate::store::{MalformedEvent, SnapshotMeta, SnapshotStore};

mod base;
mod diff;
pub mod history;
mod open;
mod row;
mod state;

pub use diff::{RowCells, ViewDiff};
pub(crate) use open::UNREADABLE_FORMAT;
pub use row::ViewRow;
pub(crate) use state::entry_after;

/// Decoded pages kept per snapshot (about 200 KB each). Few: the panels read
/// 100 rows at a time, and long scans (verify, materialize) read each page once.
pub(crate) const CACHED_PAGES: usize = 16;
/// Ledger entries read per call while folding the events after a snapshot:
/// small, so that reading the next batch overlaps folding this one.
const VIEW_PAGE: usize = 1_000;
/// Pages read per store call when every row is wanted.
pub(crate) const PAGES_PER_READ: u32 = 32;
/// With no snapshot to start from, a view of a position past this many
/// events (or two snapshot intervals, if fewer) folds them into a state (the fold's compact path) and reads that,
/// instead of keeping every row's changes in an overlay (about twice the time
/// and memory on a ledger of a million events).
const FAR_FOLD: u64 = 20_000;

/// A decoded page of one table.
pub enum Page {
    /// Users rows.
    Users(Vec<UserRow>),
    /// Bookings rows.
    Bookings(Vec<BookingRow>),
}

/// Where a base's rows are.
pub enum Rows {
    /// In a stored paged snapshot, read a page at a time.
    Stored(Arc<dyn SnapshotStore>),
    /// In memory: the empty base, or a state built in memory.
    Memory {
        users: Vec<UserRow>,
        bookings: Vec<BookingRow>,
    },
    /// In a stored history snapshot, read at a position up to its own.
    History(history::HistoryRows),
}

/// Decoded pages by (table, page), the oldest dropped past a bound.
pub(crate) struct PageCache<T = Page> {
    pages: HashMap<(usize, u32), Arc<T>>,
    order: VecDeque<(usize, u32)>,
}

impl<T> Default for PageCache<T> {
    fn default() -> Self {
        PageCache {
            pages: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

/// Pages `first .. first + count` of `table`: those in `cache`, and the
/// others read by `read(page, count)` (one call per run of missing pages),
/// kept in the cache up to `bound` pages.
pub(crate) async fn cached_pages<T, F, Fut>(
    cache: &Mutex<PageCache<T>>,
    bound: usize,
    table: Table,
    first: u32,
    count: u32,
    read: F,
) -> EngineResult<Vec<Arc<T>>>
where
    F: Fn(u32, u32) -> Fut,
    Fut: std::future::Future<Output = EngineResult<Vec<Arc<T>>>>,
{
    let mut out: Vec<Option<Arc<T>>> = {
        let cache = crate::engine::sync::lock(cache, "snapshot page cache");
        (first..first + count)
            .map(|page| cache.pages.get(&(table.slot(), page)).cloned())
            .collect()
    };
    // Contiguous runs of missing pages are read in one call each.
    let mut at = 0usize;
    while at < out.len() {
        if out[at].is_some() {
            at += 1;
            continue;
        }
        let run = out[at..].iter().take_while(|p| p.is_none()).count();
        let page0 = first + at as u32;
        let decoded = read(page0, run as u32).await?;
        {
            let mut cache = crate::engine::sync::lock(cache, "snapshot page cache");
            for (i, page) in decoded.iter().enumerate() {
                let key = (table.slot(), page0 + i as u32);
                if cache.pages.insert(key, page.clone()).is_none() {
                    cache.order.push_back(key);
                }
            }
            while cache.order.len() > bound {
                if let Some(old) = cache.order.pop_front() {
                    cache.pages.remove(&old);
                }
            }
        }
        for (i, page) in decoded.into_iter().enumerate() {
            if let Some(slot) = out.get_mut(at + i) {
                *slot = Some(page);
            }
        }
        at += run;
    }
    Ok(out.into_iter().flatten().collect())
}

/// A snapshot's directory and a way to its rows; shared by every view
/// folded on from it.
pub struct ViewBase {
    snapshot: Option<SnapshotMeta>,
    index: SnapshotIndex,
    rows: Rows,
    cancelled: u64,
    cache: Mutex<PageCache>,
}

/// The error for a view whose building thread stopped.
pub(crate) fn view_stopped(error: tokio::task::JoinError) -> EngineError {
    EngineError::BadSnapshot {
        id: "(view)".into(),
        reason: format!("building the view stopped: {error}"),
    }
}

/// Why a read of `count` chunks from `first` found only `stored`: a snapshot
/// a view was opened on can be deleted under it by the retention rule.
pub(crate) fn chunks_missing(stored: usize, count: u32, first: u32) -> String {
    format!(
        "{stored} of the {count} chunks from {first} are stored (deleted since the view was opened, when a newer history snapshot replaced it, or lost); ask again to read from the snapshots stored now"
    )
}

/// The error for a snapshot that cannot be used, naming it.
pub(crate) fn bad_snapshot(meta: &SnapshotMeta, reason: impl Into<String>) -> EngineError {
    EngineError::BadSnapshot {
        id: meta.id.to_string(),
        reason: reason.into(),
    }
}

/// A key the events after the base touched, and what it became.
#[derive(Clone, Copy, Debug)]
struct Touched {
    key: Uuid,
    /// Its entry after the events (None: the row does not exist).
    entry: Option<DirEntry>,
    /// Its entry in the base (None: the base does not have it).
    before: Option<DirEntry>,
}

/// The state as of a position, read lazily (see the module doc).
pub struct StateView {
    base: Arc<ViewBase>,
    position: u64,
    changes: Changes,
    touched: [Vec<Touched>; 2],
    new_keys: [Vec<Uuid>; 2],
    counts: StateCounts,
    /// What the view started from.
    pub from: FoldBase,
    /// Events folded on top of the base.
    pub folded_events: u64,
    /// Entries that could not be applied (malformed or unknown).
    pub skipped: Vec<MalformedEvent>,
    /// Microseconds spent reading and checking the snapshot's index (while
    /// the events were read: the two overlap).
    pub base_us: u64,
    /// Microseconds spent reading the events after the snapshot and folding
    /// them into the overlay (while the index was read: the two overlap).
    pub fold_us: u64,
}

#[cfg(test)]
pub(crate) mod tests;
