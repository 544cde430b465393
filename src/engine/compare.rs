//! Compare: the read tables in the connected read store against the state the
//! ledger implies. Each table is compared as of its own projector's position,
//! so a lagging view is reported as lag, not as drift.

use serde::{Deserialize, Serialize};

use super::{Engine, EngineResult};
use std::collections::BTreeMap;
use std::ops::Bound;

use uuid::Uuid;

use crate::domain::state::diff_sorted;
use crate::domain::{BookingRow, ProjectorId, ReadState, RowDiff, TableDiff, UserRow};
use crate::store::{MalformedEvent, StoreResult};

/// Rows read per page from the read store.
const DUMP_PAGE: usize = 5_000;

/// One table's comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableReport {
    /// Table name.
    pub table: String,
    /// The projector position it was compared at.
    pub position: u64,
    /// Rows the ledger implies that the table lacks.
    pub missing: u64,
    /// Rows the table has that the ledger does not imply.
    pub extra: u64,
    /// Rows present in both with different cells.
    pub different: u64,
    /// The differing rows (`added` = missing from the table, `removed` = extra).
    pub diff: TableDiff,
}

/// The outcome of `verify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// No missing, extra or different rows.
    pub in_sync: bool,
    /// Ledger head.
    pub head: u64,
    /// Rows compared (both sides, union of keys).
    pub checked_rows: u64,
    /// Totals over tables.
    pub missing: u64,
    /// Totals over tables.
    pub extra: u64,
    /// Totals over tables.
    pub different: u64,
    /// Per table.
    pub tables: Vec<TableReport>,
    /// Ledger entries that could not be applied (malformed or unknown type).
    pub malformed: Vec<MalformedEvent>,
    /// Events the views are behind the head, per projector.
    pub lag_events: Vec<(String, u64)>,
}

impl VerifyReport {
    /// Every differing row with its table, for listings.
    pub fn rows(&self) -> impl Iterator<Item = (&str, &RowDiff)> {
        self.tables
            .iter()
            .flat_map(|t| t.diff.rows.iter().map(move |r| (t.table.as_str(), r)))
    }
}

fn table_report(table: TableDiff, position: u64, checked: usize) -> (TableReport, u64) {
    let (added, removed, changed) = table.counts();
    (
        TableReport {
            table: table.table.clone(),
            position,
            missing: added as u64,
            extra: removed as u64,
            different: changed as u64,
            diff: table,
        },
        checked as u64,
    )
}

/// Compares one read table, read page by page in key order, with the same
/// table of a folded state: only one page of the store is in memory at a
/// time (a million-row table is never loaded whole). Returns the differing
/// rows and the number of distinct keys seen.
///
/// The projector may go on applying events while the pages are read (the
/// window app verifies with its projectors live). A stored row last written
/// after `position` is set aside; once the pages are read, `moved_to` gives
/// the projector's position then, and rows written up to it are lag, not
/// drift. Rows claiming a later position than that are compared as usual.
async fn compare_table<R, Fut>(
    fetch: impl Fn(Option<Uuid>) -> Fut,
    key: impl Fn(&R) -> Uuid,
    folded: &BTreeMap<Uuid, R>,
    (table, columns): (&str, &[&str]),
    cells: impl Fn(&R) -> Vec<String>,
    last_position: impl Fn(&R) -> u64,
    (position, moved_to): (u64, impl Future<Output = StoreResult<u64>>),
) -> EngineResult<(TableDiff, u64)>
where
    R: PartialEq,
    Fut: Future<Output = StoreResult<Vec<R>>>,
{
    let mut rows = Vec::new();
    let mut keys = 0;
    let mut set_aside: Vec<R> = Vec::new();
    let mut after: Option<Uuid> = None;
    loop {
        let page = fetch(after).await?;
        let last = page.last().map(&key);
        // Folded rows in (after, last] meet this page; after the last page,
        // everything left in the fold is missing from the table.
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        let upper = match last {
            Some(k) if page.len() >= DUMP_PAGE => Bound::Included(k),
            _ => Bound::Unbounded,
        };
        let newer: std::collections::BTreeSet<Uuid> = page
            .iter()
            .filter(|r| last_position(r) > position)
            .map(&key)
            .collect();
        let stored = page
            .iter()
            .map(|r| (key(r), r))
            .filter(|(k, _)| !newer.contains(k))
            .collect::<Vec<_>>();
        keys += diff_sorted(
            columns,
            stored.iter().map(|(k, r)| (k, *r)),
            folded
                .range((lower, upper))
                .filter(|(k, _)| !newer.contains(k)),
            &cells,
            &last_position,
            &mut rows,
        );
        keys += newer.len() as u64;
        set_aside.extend(page.into_iter().filter(|r| newer.contains(&key(r))));
        match upper {
            Bound::Included(k) => after = Some(k),
            _ => break,
        }
    }
    if !set_aside.is_empty() {
        let now = moved_to.await?;
        for row in set_aside.iter().filter(|r| last_position(r) > now) {
            let k = key(row);
            diff_sorted(
                columns,
                std::iter::once((&k, row)),
                folded.get_key_value(&k).into_iter(),
                &cells,
                &last_position,
                &mut rows,
            );
        }
        rows.sort_by_key(RowDiff::key);
    }
    Ok((
        TableDiff {
            table: table.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
        },
        keys,
    ))
}

impl Engine {
    /// Compares the read store with the fold of the ledger.
    pub async fn verify(&self) -> EngineResult<VerifyReport> {
        let head = self.stores.ledger.head().await?;
        let mut positions = Vec::new();
        for p in ProjectorId::ALL {
            positions.push((p, self.stores.read.projector_position(p).await?.min(head)));
        }
        // Fold once, stopping at each projector's position in turn.
        let mut order = positions.clone();
        order.sort_by_key(|(_, p)| *p);
        let mut state = ReadState::default();
        let mut malformed = Vec::new();
        let mut tables = Vec::new();
        let mut checked = 0;
        for (projector, position) in order {
            let (next, _, skipped) = self.fold_until(state, position, None, |_| {}).await?;
            state = next;
            malformed.extend(skipped);
            let read = self.stores.read.as_ref();
            let (diff, keys) = match projector {
                ProjectorId::UserProjection => {
                    compare_table(
                        |after| read.users_page(after, DUMP_PAGE),
                        |r: &UserRow| r.user_id,
                        &state.users,
                        (UserRow::TABLE, &UserRow::COLUMNS),
                        UserRow::cells,
                        |r| r.last_position,
                        (position, read.projector_position(projector)),
                    )
                    .await?
                }
                ProjectorId::BookingProjection => {
                    compare_table(
                        |after| read.bookings_page(after, DUMP_PAGE),
                        |r: &BookingRow| r.booking_id,
                        &state.bookings,
                        (BookingRow::TABLE, &BookingRow::COLUMNS),
                        BookingRow::cells,
                        |r| r.last_position,
                        (position, read.projector_position(projector)),
                    )
                    .await?
                }
            };
            let (table, rows) = table_report(diff, position, keys as usize);
            checked += rows;
            tables.push(table);
        }
        // Malformed entries past the slowest projector are reported too.
        let (_, _, rest) = self.fold_until(state, head, None, |_| {}).await?;
        malformed.extend(rest);
        malformed.sort_by_key(|m| m.position);
        malformed.dedup_by_key(|m| m.position);
        tables.sort_by(|a, b| a.table.cmp(&b.table).reverse());
        let (missing, extra, different) = tables.iter().fold((0, 0, 0), |acc, t| {
            (acc.0 + t.missing, acc.1 + t.extra, acc.2 + t.different)
        });
        Ok(VerifyReport {
            in_sync: missing + extra + different == 0,
            head,
            checked_rows: checked,
            missing,
            extra,
            different,
            tables,
            malformed,
            lag_events: positions
                .iter()
                .map(|(p, pos)| (p.name().to_string(), head - pos))
                .collect(),
        })
    }
}
