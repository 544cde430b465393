//! Compare: the read tables in the connected read store against the state the
//! ledger implies. Each table is compared as of its own projector's position,
//! so a lagging view is reported as lag, not as drift.

use serde::{Deserialize, Serialize};

use super::{Engine, EngineResult};
use crate::domain::{ProjectorId, ReadState, RowDiff, TableDiff};
use crate::store::{MalformedEvent, load_read_state};

/// Rows read per page when dumping the read store.
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

impl Engine {
    /// Compares the read store with the fold of the ledger.
    pub async fn verify(&self) -> EngineResult<VerifyReport> {
        let head = self.stores.ledger.head().await?;
        let mut positions = Vec::new();
        for p in ProjectorId::ALL {
            positions.push((p, self.stores.read.projector_position(p).await?.min(head)));
        }
        let actual = load_read_state(self.stores.read.as_ref(), DUMP_PAGE).await?;
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
            let diff = actual.diff(&state);
            let (table, rows) = match projector {
                ProjectorId::UserProjection => {
                    let keys = actual
                        .users
                        .keys()
                        .chain(state.users.keys())
                        .collect::<std::collections::BTreeSet<_>>();
                    table_report(diff.tables[0].clone(), position, keys.len())
                }
                ProjectorId::BookingProjection => {
                    let keys = actual
                        .bookings
                        .keys()
                        .chain(state.bookings.keys())
                        .collect::<std::collections::BTreeSet<_>>();
                    table_report(diff.tables[1].clone(), position, keys.len())
                }
            };
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
