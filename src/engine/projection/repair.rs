//! Repairs that leave a report. A targeted repair re-projects only the rows
//! a compare found differing: each row's events (its aggregate's stream,
//! and for a user the booking wizards that carry it) are read from the
//! ledger up to its projector's position, folded with the same pure
//! projections, and the row is rewritten or deleted in the read store,
//! under the projectors' leases. Every repair, replay included, is kept in
//! the ledger store with what a compare found before and after it.

use std::collections::HashSet;
use std::time::Instant;

use chrono::Utc;
use uuid::Uuid;

use crate::domain::{ProjectorId, ReadState, StoredEvent, Table};
use crate::engine::job::{JobControl, Phase};
use crate::engine::projector::projector_lease_name;
use crate::engine::report::{ENTRY_LISTED, ENTRY_ROWS, findings};
use crate::engine::{Engine, EngineError, EngineResult, ReplayOptions, ReplayReport, VerifyReport};
use crate::store::{Findings, Lease, RepairEntry, RepairKind, RepairWork, RowRewrite};

/// Times a targeted repair folds again when a projector moved on between
/// its fold and its write.
const REWRITE_ATTEMPTS: usize = 3;

/// Folds the events of `events` up to `at` that change the row of `table`
/// under `key` (others change nothing): the row the ledger implies there,
/// and how many events were folded.
pub fn fold_row(table: Table, key: Uuid, events: &[StoredEvent], at: u64) -> (ReadState, u64) {
    let mut events: Vec<&StoredEvent> = events.iter().filter(|e| e.position <= at).collect();
    events.sort_by_key(|e| e.position);
    events.dedup_by_key(|e| e.position);
    let mut state = ReadState::default();
    let mut folded = 0;
    for event in events {
        let Ok(domain) = event.decode() else {
            continue;
        };
        folded += 1;
        for change in table.projector().changes(event.position, &domain) {
            if change.target() == (table, key) {
                state.apply_owned_change(change);
            }
        }
    }
    (state, folded)
}

/// A projector lease taken for a repair, and whether to give it back (not
/// when this instance's own projector already held it).
struct HeldLease {
    lease: Lease,
    release: bool,
}

impl Engine {
    /// The newest `limit` repairs kept in the ledger store, newest first.
    pub async fn repairs(&self, limit: usize) -> EngineResult<Vec<RepairEntry>> {
        Ok(self.stores.repairs.list_repairs(limit).await?)
    }

    /// Takes (or renews) every projector's lease for this instance; a lease
    /// another instance holds refuses the repair ([`EngineError::Busy`]).
    async fn take_projector_leases(&self) -> EngineResult<Vec<HeldLease>> {
        let me = &self.config.instance_id;
        let mut held: Vec<HeldLease> = Vec::new();
        for projector in ProjectorId::ALL {
            let name = projector_lease_name(projector);
            let taken = async {
                let ours = self
                    .stores
                    .locks
                    .holder(&name)
                    .await?
                    .is_some_and(|l| &l.owner == me);
                let lease = self
                    .stores
                    .locks
                    .try_acquire(&name, me, self.config.projector_lease_ttl)
                    .await?;
                Ok::<_, EngineError>(lease.map(|lease| HeldLease {
                    lease,
                    release: !ours,
                }))
            }
            .await;
            match taken {
                Ok(Some(lease)) => held.push(lease),
                Ok(None) => {
                    let holder = match self.stores.locks.holder(&name).await {
                        Ok(Some(lease)) => lease.owner,
                        _ => "another instance".to_string(),
                    };
                    self.release_projector_leases(held).await;
                    return Err(EngineError::Busy { name, holder });
                }
                Err(error) => {
                    self.release_projector_leases(held).await;
                    return Err(error);
                }
            }
        }
        Ok(held)
    }

    async fn release_projector_leases(&self, held: Vec<HeldLease>) {
        for held in held.into_iter().filter(|h| h.release) {
            if let Err(error) = self.stores.locks.release(&held.lease).await {
                tracing::warn!(lease = %held.lease.name, %error, "lease not released after a repair; it expires by itself");
            }
        }
    }

    /// A compare for a repair's record: its findings (capped), or a note
    /// saying why there are none. Cancelling stops the repair.
    async fn compare_for_record(
        &self,
        job: &JobControl,
        when: &str,
        notes: &mut Vec<String>,
    ) -> EngineResult<Option<(VerifyReport, Findings)>> {
        match self.verify_with(job, &|_, _| {}).await {
            Ok(report) => {
                let found = findings(&report, ENTRY_ROWS, ENTRY_LISTED);
                Ok(Some((report, found)))
            }
            Err(EngineError::Cancelled) => Err(EngineError::Cancelled),
            Err(error) => {
                notes.push(format!("no compare {when}: {error}"));
                Ok(None)
            }
        }
    }

    /// Keeps `entry` in the ledger store and says so in the log.
    async fn record(&self, entry: &RepairEntry) -> EngineResult<()> {
        self.stores.repairs.record_repair(entry).await?;
        let count =
            |f: &Option<Findings>| f.as_ref().map_or(0, |f| f.missing + f.extra + f.different);
        tracing::info!(
            repair = %entry.id,
            kind = entry.kind.name(),
            read = %entry.read_store,
            drift_before = count(&entry.before),
            drift_after = count(&entry.after),
            rows_written = entry.work.rows_written,
            rows_deleted = entry.work.rows_deleted,
            events = entry.work.events,
            elapsed_ms = entry.work.elapsed_ms,
            "repair recorded"
        );
        Ok(())
    }

    fn entry(&self, kind: RepairKind, started: Instant) -> RepairEntry {
        RepairEntry {
            id: Uuid::new_v4(),
            at: Utc::now(),
            instance: self.config.instance_id.clone(),
            read_store: self.read_info().to_string(),
            kind,
            before: None,
            work: RepairWork {
                elapsed_ms: started.elapsed().as_millis() as u64,
                ..RepairWork::default()
            },
            after: None,
            notes: Vec::new(),
        }
    }

    /// [`Self::replay`], compared before and after and kept as a repair.
    pub async fn replay_recorded(
        &self,
        options: ReplayOptions,
        job: &JobControl,
    ) -> EngineResult<(ReplayReport, RepairEntry)> {
        self.guard_write("replay")?;
        let started = Instant::now();
        let mut notes = Vec::new();
        let before = self.compare_for_record(job, "before", &mut notes).await?;
        let report = self.replay(options, job).await?;
        let after = self.compare_for_record(job, "after", &mut notes).await?;
        let mut entry = self.entry(RepairKind::Replay, started);
        entry.before = before.map(|(_, f)| f);
        entry.after = after.map(|(_, f)| f);
        entry.notes = notes;
        entry.work.rows_written = report.rows;
        entry.work.events = report.events;
        entry.work.position = report.position;
        entry.work.from_snapshot = report.from_snapshot.as_ref().map(|s| s.position);
        self.record(&entry).await?;
        Ok((report, entry))
    }

    /// Re-projects only the rows a compare finds differing, under the
    /// projectors' leases, and keeps the repair (with a compare after it)
    /// in the ledger store. In sync already: nothing is written, and the
    /// check is kept all the same.
    pub async fn repair_rows(&self, job: &JobControl) -> EngineResult<RepairEntry> {
        self.guard_write("repairing rows")?;
        let ledger = self.ledger_id().await?;
        // Tables of another ledger are named, never repaired row by row.
        if let crate::engine::Pairing::Foreign(foreign) = self.check_pairing().await? {
            return Err(EngineError::Foreign(Box::new(foreign)));
        }
        let leases = self.take_projector_leases().await?;
        let result = self.repair_under_leases(ledger, job).await;
        self.release_projector_leases(leases).await;
        let entry = result?;
        self.record(&entry).await?;
        Ok(entry)
    }

    async fn repair_under_leases(
        &self,
        ledger: Uuid,
        job: &JobControl,
    ) -> EngineResult<RepairEntry> {
        let started = Instant::now();
        let before = self.verify_with(job, &|_, _| {}).await?;
        let mut notes = Vec::new();
        let mut work = RepairWork::default();
        if !before.in_sync {
            let mut attempt = 0;
            loop {
                attempt += 1;
                let (rewrite, done) = self.fold_rows(&before, job).await?;
                // Renewed just before the write: a long compare may have
                // outlived the lease's time.
                for projector in ProjectorId::ALL {
                    let name = projector_lease_name(projector);
                    let me = &self.config.instance_id;
                    if self
                        .stores
                        .locks
                        .try_acquire(&name, me, self.config.projector_lease_ttl)
                        .await?
                        .is_none()
                    {
                        let holder = self
                            .stores
                            .locks
                            .holder(&name)
                            .await?
                            .map_or_else(|| "another instance".into(), |l| l.owner);
                        return Err(EngineError::Busy { name, holder });
                    }
                }
                if self
                    .stores
                    .read
                    .rewrite_rows(ledger, self.config.model_versions, &rewrite)
                    .await?
                {
                    work = done;
                    break;
                }
                if attempt == REWRITE_ATTEMPTS {
                    return Err(EngineError::Input(format!(
                        "the projectors of {} moved on {REWRITE_ATTEMPTS} times while the rows were folded; nothing was written, try again",
                        self.read_info()
                    )));
                }
                notes.push(format!(
                    "a projector moved on while the rows were folded; folded again (attempt {})",
                    attempt + 1
                ));
            }
        }
        let after = self.compare_for_record(job, "after", &mut notes).await?;
        let mut entry = self.entry(RepairKind::Targeted, started);
        entry.before = Some(findings(&before, ENTRY_ROWS, ENTRY_LISTED));
        entry.after = after.map(|(_, f)| f);
        entry.notes = notes;
        entry.work = RepairWork {
            elapsed_ms: entry.work.elapsed_ms,
            ..work
        };
        Ok(entry)
    }

    /// Each differing row of `found` as the ledger implies it at its
    /// projector's position now, from its aggregates' events.
    async fn fold_rows(
        &self,
        found: &VerifyReport,
        job: &JobControl,
    ) -> EngineResult<(RowRewrite, RepairWork)> {
        let started = Instant::now();
        let head = self.stores.ledger.head().await?;
        let users_at = self
            .stores
            .read
            .projector_position(ProjectorId::UserProjection)
            .await?
            .min(head);
        let bookings_at = self
            .stores
            .read
            .projector_position(ProjectorId::BookingProjection)
            .await?
            .min(head);
        let mut rewrite = RowRewrite {
            users_at,
            bookings_at,
            ..RowRewrite::default()
        };
        let mut aggregates = HashSet::new();
        let mut events = 0;
        let total = found.rows().count() as u64;
        for (done, (table, row)) in found.rows().enumerate() {
            if job.is_cancelled() {
                return Err(EngineError::Cancelled);
            }
            let key = row.key();
            let at = match table {
                Table::Users => users_at,
                Table::Bookings => bookings_at,
            };
            let (stream, _malformed) = self.row_events(table, key).await?;
            aggregates.extend(
                stream
                    .iter()
                    .filter(|e| e.position <= at)
                    .map(|e| e.aggregate_id),
            );
            let (state, folded) = fold_row(table, key, &stream, at);
            events += folded;
            match table {
                Table::Users => rewrite.users.push((key, state.users.get(&key).cloned())),
                Table::Bookings => rewrite
                    .bookings
                    .push((key, state.bookings.get(&key).cloned())),
            }
            job.step(Phase::Reading, done as u64 + 1, total, started);
        }
        let (rows_written, rows_deleted) = rewrite.counts();
        let work = RepairWork {
            rows_written,
            rows_deleted,
            aggregates: aggregates.len() as u64,
            events,
            position: users_at.max(bookings_at),
            from_snapshot: None,
            elapsed_ms: 0,
        };
        Ok((rewrite, work))
    }
}
