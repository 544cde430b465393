//! Compare: the read tables in the connected read store against the state the
//! ledger implies. Each table is compared as of its own projector's position,
//! so a lagging view is reported as lag, not as drift.

use serde::{Deserialize, Serialize};

use crate::engine::job::{JobControl, Phase, Progress};
use crate::engine::timetravel::FOLD_PAGE;
use crate::engine::view::{StateView, ViewRow};
use crate::engine::{Engine, EngineResult};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use uuid::Uuid;

use crate::domain::state::diff_sorted;
use crate::domain::{BookingRow, ProjectorId, Row, RowDiff, Table, TableDiff, UserRow};
use crate::store::{FoldEntry, Hole, MalformedEvent, ReadStore, StoreResult};

/// Rows read per page from the read store.
const DUMP_PAGE: usize = 5_000;

/// One table's comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableReport {
    /// The table.
    pub table: Table,
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
    /// Ledger entries that could not be applied (malformed or unknown
    /// type), and rows without a usable position (position 0), capped.
    pub malformed: Vec<MalformedEvent>,
    /// Rows without a usable position (all of them, counted).
    #[serde(default)]
    pub unpositioned: u64,
    /// Holes in positions below the head (crossed, as projection does).
    #[serde(default)]
    pub holes: Vec<Hole>,
    /// Events the views are behind the head, per projector.
    pub lag_events: Vec<(String, u64)>,
}

impl VerifyReport {
    /// Every differing row with its table, for listings.
    pub fn rows(&self) -> impl Iterator<Item = (Table, &RowDiff)> {
        self.tables
            .iter()
            .flat_map(|t| t.diff.rows.iter().map(move |r| (t.table, r)))
    }
}

fn table_report(table: TableDiff, position: u64, checked: usize) -> (TableReport, u64) {
    let (added, removed, changed) = table.counts();
    (
        TableReport {
            table: table.table,
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
/// table of a view of the ledger's state, also read page by page: only a
/// page of each side is in memory at a time (a million-row table is never
/// loaded whole, on either side). Returns the differing rows and the number
/// of distinct keys seen.
///
/// The projector may go on applying events while the pages are read (the
/// window app verifies with its projectors live). A stored row last written
/// after `position` is set aside; once the pages are read, `moved_to` gives
/// the projector's position then, and rows written up to it are lag, not
/// drift. Rows claiming a later position than that are compared as usual.
async fn compare_table<R: ViewRow>(
    read: &dyn ReadStore,
    view: &StateView,
    position: u64,
    watch: &Watch<'_>,
) -> EngineResult<(TableDiff, u64)> {
    let mut rows = Vec::new();
    let mut keys = 0;
    let mut set_aside: Vec<R> = Vec::new();
    let mut newer: HashSet<Uuid> = HashSet::new();
    // Stored rows: fetched after `after` until a short page.
    let mut stored: VecDeque<R> = VecDeque::new();
    let mut after: Option<Uuid> = None;
    let mut stored_done = false;
    // Folded rows: the view's rows by ordinal.
    let mut folded: VecDeque<R> = VecDeque::new();
    let mut next = 0usize;
    let total = view.len(R::TABLE);
    loop {
        if watch.job.is_cancelled() {
            return Err(crate::engine::EngineError::Cancelled);
        }
        // The next page of each side that needs one, read side by side (a
        // query to a server and the view's snapshot pages at once).
        let want_stored = stored.is_empty() && !stored_done;
        let end = (next + DUMP_PAGE).min(total);
        let want_folded = folded.is_empty() && next < total;
        let (page, more) = tokio::join!(
            async {
                match want_stored {
                    true => stored_page::<R>(read, after).await.map(Some),
                    false => Ok(None),
                }
            },
            async {
                match want_folded {
                    true => view.rows::<R>(next..end).await.map(Some),
                    false => Ok(None),
                }
            }
        );
        if let Some(more) = more? {
            folded.extend(more);
            watch.rows_read(end - next);
            next = end;
        }
        if let Some(page) = page? {
            stored_done = page.len() < DUMP_PAGE;
            after = page.last().map(Row::key).or(after);
            for row in page {
                if row.last_position() > position {
                    newer.insert(row.key());
                    set_aside.push(row);
                } else {
                    stored.push_back(row);
                }
            }
            if stored.is_empty() && !stored_done {
                continue;
            }
        }
        if stored.is_empty() && folded.is_empty() {
            break;
        }
        // Everything up to the smaller of the two buffers' last keys can be
        // settled now: neither side has more rows below it to come.
        let stored_bound = if stored_done { None } else { after };
        let folded_bound = if next >= total {
            None
        } else {
            folded.back().map(Row::key)
        };
        let bound = match (stored_bound, folded_bound) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let within = |r: &R| bound.is_none_or(|b| r.key() <= b);
        let left: Vec<R> = drain_while(&mut stored, within);
        let right: Vec<R> = drain_while(&mut folded, within)
            .into_iter()
            .filter(|r| !newer.contains(&r.key()))
            .collect();
        let left_keys: Vec<Uuid> = left.iter().map(Row::key).collect();
        let right_keys: Vec<Uuid> = right.iter().map(Row::key).collect();
        let found = rows.len();
        keys += diff_sorted(
            left_keys.iter().zip(&left),
            right_keys.iter().zip(&right),
            &mut rows,
        );
        watch.found(R::TABLE, &rows[found..]);
    }
    keys += newer.len() as u64;
    if !set_aside.is_empty() {
        let now = read.projector_position(R::TABLE.projector()).await?;
        let found = rows.len();
        for row in set_aside.iter().filter(|r| r.last_position() > now) {
            let k = row.key();
            let folded = view.row::<R>(k).await?;
            diff_sorted(
                std::iter::once((&k, row)),
                folded.iter().map(|r| (&k, r)),
                &mut rows,
            );
        }
        watch.found(R::TABLE, &rows[found..]);
    }
    rows.sort_by_key(RowDiff::key);
    Ok((TableDiff::of::<R>(rows), keys))
}

/// One page of a read table after `after`, in key order.
async fn stored_page<R: ViewRow>(read: &dyn ReadStore, after: Option<Uuid>) -> StoreResult<Vec<R>> {
    R::stored_page(read, after, DUMP_PAGE).await
}

/// Takes rows off the front while `keep` holds.
fn drain_while<R>(rows: &mut VecDeque<R>, keep: impl Fn(&R) -> bool) -> Vec<R> {
    let n = rows.iter().take_while(|r| keep(r)).count();
    rows.drain(..n).collect()
}

/// Rows without a position listed by `verify` at most (all are counted).
const UNPOSITIONED_LISTED: usize = 100;

/// Differing rows handed on while `verify` runs: a table and rows of it, in
/// key order within each call.
pub type OnFound<'a> = &'a (dyn Fn(Table, &[RowDiff]) + Send + Sync);

/// Rows compared and ledger entries checked so far (the scan reports
/// through a job of its own, so the counts are shared).
#[derive(Default)]
struct Counts {
    rows: AtomicU64,
    entries: AtomicU64,
}

/// Where a running `verify` reports: one progress over rows compared plus
/// ledger entries checked ([`Phase::Comparing`]), the differing rows as
/// they are found, and the job that can cancel it.
struct Watch<'a> {
    job: &'a JobControl,
    on_found: OnFound<'a>,
    counts: Arc<Counts>,
    total: u64,
    started: Instant,
}

impl Watch<'_> {
    fn report(job: &JobControl, counts: &Counts, total: u64, started: Instant) {
        let done = counts.rows.load(Ordering::Relaxed) + counts.entries.load(Ordering::Relaxed);
        job.step(Phase::Comparing, done, total, started);
    }

    fn rows_read(&self, rows: usize) {
        self.counts.rows.fetch_add(rows as u64, Ordering::Relaxed);
        Watch::report(self.job, &self.counts, self.total, self.started);
    }

    fn found(&self, table: Table, rows: &[RowDiff]) {
        if !rows.is_empty() {
            (self.on_found)(table, rows);
        }
    }

    /// A job for the ledger scan: its running count joins the rows', and
    /// it stops with this one.
    fn scan_job(&self) -> JobControl {
        let (job, counts, total, started) = (
            self.job.clone(),
            self.counts.clone(),
            self.total,
            self.started,
        );
        JobControl::new(move |p: &Progress| {
            counts.entries.store(p.done, Ordering::Relaxed);
            Watch::report(&job, &counts, total, started);
        })
        .with_cancel(self.job.token().clone())
    }
}

impl Engine {
    /// The entries after `from` up to `to` that cannot be applied, the holes
    /// between them, and how many entries there are.
    async fn malformed_scan(
        &self,
        from: u64,
        to: u64,
        job: &JobControl,
    ) -> EngineResult<(Vec<MalformedEvent>, Vec<Hole>, u64)> {
        let mut malformed = Vec::new();
        let scan = self
            .scan_entries(from, to, FOLD_PAGE, job, |entry: FoldEntry| match entry {
                FoldEntry::Event { .. } => {}
                FoldEntry::Undecodable { position, reason } => malformed.push(MalformedEvent {
                    position,
                    reason,
                    raw: String::new(),
                }),
                FoldEntry::Malformed(bad) => malformed.push(bad),
            })
            .await?;
        Ok((malformed, scan.holes, scan.entries))
    }

    /// Compares the read store with the fold of the ledger. Tables of
    /// another ledger are not compared: the answer is the sentence naming
    /// both ([`crate::engine::EngineError::Foreign`]).
    pub async fn verify(&self) -> EngineResult<VerifyReport> {
        self.verify_with(&JobControl::default(), &|_, _| {}).await
    }

    /// [`Self::verify`], reporting progress to `job` (which can cancel it)
    /// and handing each differing row to `on_found` as soon as it is
    /// known, while the rest is still being compared.
    ///
    /// Each table is read in key order beside the ledger-implied view of
    /// it (the nearest snapshot's index plus the events after it), a page
    /// of each side at a time; meanwhile a second scan checks every ledger
    /// entry for ones that cannot be applied, on the other core.
    pub async fn verify_with(
        &self,
        job: &JobControl,
        on_found: OnFound<'_>,
    ) -> EngineResult<VerifyReport> {
        if let crate::engine::Pairing::Foreign(foreign) = self.check_pairing().await? {
            return Err(crate::engine::EngineError::Foreign(Box::new(foreign)));
        }
        let started = Instant::now();
        let head = self.stores.ledger.head().await?;
        let mut positions = Vec::new();
        for p in ProjectorId::ALL {
            positions.push((p, self.stores.read.projector_position(p).await?.min(head)));
        }
        let mut order = positions.clone();
        order.sort_by_key(|(_, p)| *p);
        // The state the ledger implies at each projector's position, as a
        // view. Projectors at one position share one view; a second view is
        // built while the first still holds the snapshot's index, so a
        // shared snapshot is read once.
        let mut views: Vec<(ProjectorId, u64, Arc<StateView>)> = Vec::new();
        for (projector, position) in order {
            let view = match views.last() {
                Some((_, at, view)) if *at == position => view.clone(),
                _ => Arc::new(self.state_view(position).await?),
            };
            views.push((projector, position, view));
        }
        let rows_total: u64 = views
            .iter()
            .map(|(p, _, view)| view.len(p.table()) as u64)
            .sum();
        // A history snapshot already holds the entries up to it that cannot
        // be applied: only the entries after it are read (checked below).
        let history = self
            .usable_snapshots()
            .await?
            .into_iter()
            .filter(|s| s.is_history() && s.position <= head)
            .max_by_key(|s| s.position);
        let known = match &history {
            Some(meta) => {
                let base = self.history_base(meta, meta.position).await?;
                base.history().map(|rows| {
                    let index = rows.source.index();
                    (meta.position, index.events, index.skipped.clone())
                })
            }
            None => None,
        };
        let from = known.as_ref().map_or(0, |(at, _, _)| *at);
        let watch = Watch {
            job,
            on_found,
            counts: Arc::default(),
            total: rows_total + (head - from.min(head)),
            started,
        };
        let read = self.stores.read.as_ref();
        let compare = async {
            // Both tables at once: a server's round trips overlap.
            let watch = &watch;
            let reports = futures_util::future::try_join_all(views.iter().map(
                |(projector, position, view)| async move {
                    let (diff, keys) = match projector.table() {
                        Table::Users => {
                            compare_table::<UserRow>(read, view, *position, watch).await?
                        }
                        Table::Bookings => {
                            compare_table::<BookingRow>(read, view, *position, watch).await?
                        }
                    };
                    Ok::<_, crate::engine::EngineError>(table_report(
                        diff,
                        *position,
                        keys as usize,
                    ))
                },
            ))
            .await?;
            let checked = reports.iter().map(|(_, rows)| *rows).sum::<u64>();
            let tables: Vec<TableReport> = reports.into_iter().map(|(table, _)| table).collect();
            Ok::<_, crate::engine::EngineError>((tables, checked))
        };
        // Every entry of the ledger that cannot be applied (a scan that keeps
        // no state), and the holes between them.
        // The ledger's counts are taken beside them (a count over an index).
        let scan_job = watch.scan_job();
        let (compared, scanned, census) = tokio::join!(
            compare,
            self.malformed_scan(from, head, &scan_job),
            self.stores.ledger.census()
        );
        let (mut tables, checked) = compared?;
        let (mut malformed, mut holes, entries) = scanned?;
        let census = census?;
        if let Some((at, events, skipped)) = known {
            if census.positioned == events + entries {
                // The ledger holds exactly the entries the pass read up to
                // it: its record stands, and the holes up to it are read
                // from the positions alone; a ledger with as many positions
                // as its head has none (the walk over every position is
                // skipped: on the embedded ledger it reads the whole table).
                malformed.splice(0..0, skipped);
                let before: Vec<Hole> = match census.missing_positions() {
                    0 => Vec::new(),
                    _ => self.stores.ledger.holes(usize::MAX).await?,
                }
                .into_iter()
                .filter(|h| h.to < at)
                .collect();
                holes.splice(0..0, before);
            } else {
                // Entries were written into holes since the pass: read all.
                (malformed, holes, _) = self.malformed_scan(0, head, &scan_job).await?;
            }
        }
        malformed.sort_by_key(|m| m.position);
        malformed.dedup_by_key(|m| m.position);
        if census.unpositioned > 0 {
            malformed.extend(self.stores.ledger.unpositioned(UNPOSITIONED_LISTED).await?);
        }
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
            unpositioned: census.unpositioned,
            holes,
            lag_events: positions
                .iter()
                .map(|(p, pos)| (p.name().to_string(), head - pos))
                .collect(),
        })
    }
}
