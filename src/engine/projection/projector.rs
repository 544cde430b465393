//! `UserProjection` and `BookingProjection` at work: fed live by the bus,
//! catching up from their position on start and after any error (retry with
//! backoff), one instance at a time per projector (a lease in the ledger store).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::domain::{ProjectorId, RowChange};
use crate::engine::holes::{HoleVerdict, record_holes};
use crate::engine::{Engine, EngineError, EngineNotice, EngineResult};
use crate::store::{Checkpoint, Hole, Lease, entry_position};

/// How many skipped positions a checkpoint remembers.
const MAX_SKIPPED: usize = 200;

/// What a projector is doing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectorState {
    /// Not started in this process.
    Idle,
    /// Holds the lease and keeps up.
    Running,
    /// Another instance holds the lease; this one watches.
    Watching,
    /// Paused by the user.
    Paused,
    /// Failing; retrying with backoff.
    Retrying,
    /// The read store belongs to another ledger: nothing is written into it.
    Refused,
}

/// A projector's live status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectorStatus {
    /// Which projector.
    pub projector: ProjectorId,
    /// Last position applied to the read store.
    pub checkpoint: u64,
    /// Ledger head when last looked at.
    pub head: u64,
    /// `head - checkpoint`.
    pub lag_events: u64,
    /// What it is doing.
    pub state: ProjectorState,
    /// Who holds its lease (this or another instance), if anyone.
    pub lease_holder: Option<String>,
    /// Its lease as last taken or renewed, expired or not: when it was
    /// renewed and when it lapses (`None`: never taken, or released).
    #[serde(default)]
    pub lease: Option<Lease>,
    /// Inside a write into the read store since then (`None`: not writing).
    #[serde(default)]
    pub writing_since: Option<DateTime<Utc>>,
    /// Last error, cleared on success.
    pub last_error: Option<String>,
    /// Since when the last error has lasted.
    #[serde(default)]
    pub error_since: Option<DateTime<Utc>>,
    /// Positions it skipped as malformed or unknown.
    pub skipped: Vec<u64>,
    /// Holes it crossed.
    #[serde(default)]
    pub holes: Vec<Hole>,
    /// When this status was updated.
    pub updated_at: Option<DateTime<Utc>>,
}

impl ProjectorStatus {
    pub(crate) fn new(projector: ProjectorId) -> Self {
        ProjectorStatus {
            projector,
            checkpoint: 0,
            head: 0,
            lag_events: 0,
            state: ProjectorState::Idle,
            lease_holder: None,
            lease: None,
            writing_since: None,
            last_error: None,
            error_since: None,
            skipped: Vec::new(),
            holes: Vec::new(),
            updated_at: None,
        }
    }
}

/// What one catch-up did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatchUp {
    /// Events read and processed.
    pub events: u64,
    /// Position reached.
    pub position: u64,
    /// Positions skipped in this run.
    pub skipped: Vec<u64>,
    /// Holes crossed in this run.
    pub holes: Vec<Hole>,
    /// A hole it stopped at, still within the hole timeout, and how long
    /// until it may be crossed: the projector has not reached the head.
    pub waiting_for: Option<(Hole, Duration)>,
}

/// Lease name for a projector.
pub fn projector_lease_name(projector: ProjectorId) -> String {
    format!("projector:{}", projector.name())
}

impl Engine {
    /// Applies every event after the projector's position, batch by batch, until
    /// the head. Only contiguous prefixes advance the position; a hole is
    /// crossed by the rule of [`crate::engine::holes`]. Nothing is written into read
    /// tables of another ledger.
    pub async fn catch_up(&self, projector: ProjectorId) -> EngineResult<CatchUp> {
        let ledger = self.paired_ledger().await?;
        let versions = self.config.model_versions;
        let read = &self.stores.read;
        let position = read.projector_position(projector).await;
        self.note_read(position.as_ref().map(|_| ()));
        let mut position = position?;
        if position > 0 && position > self.stores.ledger.head().await? {
            self.forget_pairing();
            return Err(match self.check_pairing().await? {
                crate::engine::Pairing::Foreign(f) => EngineError::Foreign(Box::new(f)),
                _ => EngineError::Store(crate::store::StoreError::Failed {
                    store: self.read_info().to_string(),
                    message: format!(
                        "{} is at position {position}, past the ledger's head",
                        projector.name()
                    ),
                }),
            });
        }
        let stored = self
            .stores
            .checkpoints
            .load_checkpoint(projector.name())
            .await?;
        let (mut skipped, mut holes) = stored.map(|c| (c.skipped, c.holes)).unwrap_or_default();
        let mut report = CatchUp {
            position,
            ..CatchUp::default()
        };
        let (from, started_at) = (position, Instant::now());
        // A catch-up that clears an error is a recovery (the log says so).
        let recovered = self
            .projector_statuses()
            .iter()
            .any(|s| s.projector == projector && s.last_error.is_some());
        loop {
            let skipped_before = report.skipped.len();
            let entries = self
                .stores
                .ledger
                .read_range(position + 1, self.config.projector_batch)
                .await?;
            let mut changes: Vec<RowChange> = Vec::new();
            let mut last = position;
            let mut crossed = Vec::new();
            for entry in &entries {
                let at = entry_position(entry);
                if at > last + 1 {
                    let hole = Hole {
                        from: last + 1,
                        to: at - 1,
                    };
                    match self.hole_verdict(projector, hole) {
                        HoleVerdict::Cross => crossed.push(hole),
                        HoleVerdict::Wait(left) => {
                            report.waiting_for = Some((hole, left));
                            break;
                        }
                    }
                }
                last = at;
                let decoded = entry.as_ref().ok().map(|e| e.decode());
                match decoded {
                    Some(Ok(event)) => changes.extend(projector.changes(last, &event)),
                    _ => {
                        skipped.push(last);
                        report.skipped.push(last);
                    }
                }
            }
            if last == position {
                break;
            }
            let started = Instant::now();
            let written = self
                .watched_write(
                    projector,
                    read.apply(ledger, versions, projector, &changes, last),
                )
                .await;
            if let Err(e) = written {
                return Err(self.foreign_error(e).await);
            }
            let apply_micros = started.elapsed().as_micros() as u64;
            let started = Instant::now();
            if skipped.len() > MAX_SKIPPED {
                skipped.drain(..skipped.len() - MAX_SKIPPED);
            }
            record_holes(&mut holes, &crossed);
            let changed = !crossed.is_empty() || report.skipped.len() > skipped_before;
            self.record_ledger_checkpoint(
                projector,
                Checkpoint {
                    skipped: skipped.clone(),
                    holes: holes.clone(),
                    ..Checkpoint::new(projector.name(), last, &self.config.instance_id)
                },
                changed,
            )
            .await?;
            for hole in &crossed {
                tracing::warn!(
                    projector = projector.name(),
                    hole = %hole,
                    "crossed a hole in positions (no event there)"
                );
                self.bus.notify(EngineNotice::HoleCrossed {
                    projector,
                    hole: *hole,
                });
            }
            self.bus.notify(EngineNotice::ProjectionApplied {
                projector,
                from: position + 1,
                position: last,
                apply_micros,
                checkpoint_micros: started.elapsed().as_micros() as u64,
            });
            report.events += entries.iter().filter(|e| entry_position(e) <= last).count() as u64;
            report.holes.extend(crossed);
            position = last;
            report.position = last;
            let (skipped_now, holes_now) = (skipped.clone(), holes.clone());
            self.update_status(projector, |s| {
                s.checkpoint = last;
                s.lag_events = s.head.saturating_sub(last);
                s.skipped = skipped_now;
                s.holes = holes_now;
                s.last_error = None;
                s.error_since = None;
                s.updated_at = Some(Utc::now());
            });
            if report.waiting_for.is_some() {
                break;
            }
        }
        if report.events > 0 {
            self.count_projected(report.events);
            // A catch-up after trouble, or one that crossed holes or skipped
            // entries, is for the incident reader; a command's own is not.
            let notable = recovered || !report.holes.is_empty() || !report.skipped.is_empty();
            macro_rules! caught_up {
                ($level:ident) => {
                    tracing::$level!(
                        projector = projector.name(),
                        from,
                        to = report.position,
                        events = report.events,
                        holes = report.holes.len(),
                        skipped = report.skipped.len(),
                        ms = started_at.elapsed().as_millis() as u64,
                        recovered,
                        "caught up"
                    )
                };
            }
            if notable {
                caught_up!(info);
            } else {
                caught_up!(debug);
            }
        }
        if let Some((hole, left)) = report.waiting_for {
            tracing::info!(
                projector = projector.name(),
                hole = %hole,
                wait_ms = left.as_millis() as u64,
                "waiting for a hole in positions to fill"
            );
        }
        Ok(report)
    }

    /// Records a projector's failure in its checkpoint (so `status` in any
    /// process shows it and since when), once per distinct message.
    async fn record_projector_error(&self, projector: ProjectorId, message: &str) {
        self.flush_ledger_checkpoint_logged(projector).await;
        let Ok(stored) = self
            .stores
            .checkpoints
            .load_checkpoint(projector.name())
            .await
        else {
            return; // the ledger store is down too: the message is in the status
        };
        let mut checkpoint = stored
            .unwrap_or_else(|| Checkpoint::new(projector.name(), 0, &self.config.instance_id));
        if checkpoint.last_error.as_deref() == Some(message) {
            return;
        }
        checkpoint.error_since = checkpoint.error_since.or_else(|| Some(Utc::now()));
        checkpoint.last_error = Some(message.to_string());
        checkpoint.updated_at = Utc::now();
        checkpoint.instance = self.config.instance_id.clone();
        let since = checkpoint.error_since;
        if self
            .stores
            .checkpoints
            .save_checkpoint(&checkpoint)
            .await
            .is_ok()
        {
            self.update_status(projector, |s| s.error_since = since);
        }
    }

    /// Clears a recorded failure once the projector works again.
    async fn clear_projector_error(&self, projector: ProjectorId) {
        self.flush_ledger_checkpoint_logged(projector).await;
        if let Ok(Some(mut checkpoint)) = self
            .stores
            .checkpoints
            .load_checkpoint(projector.name())
            .await
            && checkpoint.last_error.is_some()
        {
            checkpoint.last_error = None;
            checkpoint.error_since = None;
            checkpoint.updated_at = Utc::now();
            if let Err(error) = self.stores.checkpoints.save_checkpoint(&checkpoint).await {
                tracing::warn!(projector = projector.name(), %error, "could not clear the recorded projector error");
            }
        }
    }

    /// Reads head, position and lease holder into the projector's status.
    pub async fn refresh_status(&self, projector: ProjectorId) -> EngineResult<ProjectorStatus> {
        let checkpoint = self.stores.read.projector_position(projector).await;
        self.note_read(checkpoint.as_ref().map(|_| ()));
        let mut checkpoint = checkpoint?;
        let head = self.stores.ledger.head().await?;
        let stored = self
            .stores
            .checkpoints
            .load_checkpoint(projector.name())
            .await?;
        // Tables of another ledger hold that ledger's progress: none of
        // this ledger's events are in them.
        if checkpoint > 0
            && !self.pairing_known_good()
            && let Ok(crate::engine::Pairing::Foreign(_)) = self.check_pairing().await
        {
            checkpoint = 0;
        }
        let lease = self
            .stores
            .locks
            .last_lease(&projector_lease_name(projector))
            .await?;
        let now = Utc::now();
        let paused = self.is_paused(projector);
        self.update_status(projector, |s| {
            s.head = head;
            s.checkpoint = checkpoint;
            s.lag_events = head.saturating_sub(checkpoint);
            s.lease_holder = lease
                .as_ref()
                .filter(|l| !l.expired_at(now))
                .map(|l| l.owner.clone());
            s.lease = lease;
            if let Some(stored) = stored {
                s.skipped = stored.skipped;
                s.holes = stored.holes;
                if s.last_error.is_none() {
                    s.last_error = stored.last_error;
                    s.error_since = stored.error_since;
                }
            }
            if paused {
                s.state = ProjectorState::Paused;
            }
            s.updated_at = Some(Utc::now());
        });
        Ok(self
            .projector_statuses()
            .into_iter()
            .find(|s| s.projector == projector)
            .unwrap_or_else(|| ProjectorStatus::new(projector)))
    }

    /// The read tables were replaced (a replay or a restore, here or in
    /// another instance that said so): the errors the old tables caused no
    /// longer hold, positions and lag are read again, projectors sleeping
    /// out a backoff look again now, and listeners hear of each projector
    /// at once instead of at their next poll.
    pub async fn read_tables_replaced(&self) {
        self.forget_pairing();
        self.forget_ledger_checkpoints();
        self.read_store_rewritten();
        for projector in ProjectorId::ALL {
            self.update_status(projector, |s| {
                s.last_error = None;
                s.error_since = None;
            });
            self.clear_projector_error(projector).await;
            if let Err(error) = self.refresh_status(projector).await {
                tracing::warn!(projector = projector.name(), %error, "status not read after the read tables were replaced");
            }
        }
        self.wake_projectors();
        for projector in ProjectorId::ALL {
            self.bus.notify(EngineNotice::ProjectorChanged(projector));
        }
    }

    /// Takes the projector's lease and catches up once; `Ok(None)` when another
    /// instance holds the lease. One-shot callers (the CLI) pass
    /// `keep_lease = false` so the next instance need not wait for it to expire.
    pub async fn project_with_lease(
        &self,
        projector: ProjectorId,
        keep_lease: bool,
    ) -> EngineResult<Option<CatchUp>> {
        self.project_renewing(projector, keep_lease, &mut None)
            .await
    }

    /// [`Engine::project_with_lease`] for a loop that keeps its lease:
    /// `held` is the lease it took last time, used as it is (no write)
    /// while more than two thirds of its time is left, renewed after.
    async fn project_renewing(
        &self,
        projector: ProjectorId,
        keep_lease: bool,
        held: &mut Option<Lease>,
    ) -> EngineResult<Option<CatchUp>> {
        let name = projector_lease_name(projector);
        let ttl = self.config.projector_lease_ttl;
        let fresh_for = chrono::Duration::from_std(ttl * 2 / 3).unwrap_or_default();
        let now = Utc::now();
        let fresh = held
            .take()
            .filter(|l| l.owner == self.config.instance_id && l.expires_at - now > fresh_for);
        let lease = match fresh {
            Some(lease) => lease,
            None => {
                let taken = self
                    .stores
                    .locks
                    .try_acquire(&name, &self.config.instance_id, ttl)
                    .await?;
                let Some(lease) = taken else {
                    return Ok(None);
                };
                lease
            }
        };
        if keep_lease {
            *held = Some(lease.clone());
        }
        self.update_status(projector, |s| {
            s.lease_holder = Some(lease.owner.clone());
            s.lease = Some(lease.clone());
            // It projects from now on (a retry keeps saying it retries).
            if matches!(s.state, ProjectorState::Watching | ProjectorState::Idle) {
                s.state = ProjectorState::Running;
            }
        });
        let result = self.catch_up(projector).await;
        if !keep_lease {
            self.flush_ledger_checkpoint_logged(projector).await;
        }
        if result.is_err() || !keep_lease {
            *held = None;
            // On failure keep nothing: another instance may take over at once.
            match self.stores.locks.release(&lease).await {
                Ok(()) => self.update_status(projector, |s| {
                    if s.lease.as_ref().is_some_and(|l| l.fencing == lease.fencing) {
                        s.lease = None;
                        s.lease_holder = None;
                    }
                }),
                Err(error) => {
                    tracing::warn!(lease = %lease.name, %error, "lease not released; it expires by itself");
                }
            }
        }
        result.map(Some)
    }

    /// Starts one background task per projector, and the publisher of the
    /// published models. They run until `shutdown`.
    pub fn spawn_projectors(
        self: &Arc<Self>,
        shutdown: CancellationToken,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks: Vec<_> = ProjectorId::ALL
            .into_iter()
            .map(|projector| {
                let engine = self.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move { engine.run_projector(projector, shutdown).await })
            })
            .collect();
        let engine = self.clone();
        tasks.push(tokio::spawn(
            async move { engine.run_publisher(shutdown).await },
        ));
        tasks
    }

    async fn run_projector(self: Arc<Self>, projector: ProjectorId, shutdown: CancellationToken) {
        let mut events = self.bus.subscribe();
        // A wake sent while this loop is busy is still seen at its next wait.
        let mut wake = self.projector_wake.subscribe();
        let mut backoff = Duration::from_millis(100);
        let name = projector_lease_name(projector);
        let idle_wait = Duration::from_millis(500);
        let mut held = None;
        loop {
            let wait = if self.is_paused(projector) {
                self.update_status(projector, |s| s.state = ProjectorState::Paused);
                idle_wait
            } else {
                match self.project_renewing(projector, true, &mut held).await {
                    Ok(Some(report)) => {
                        backoff = Duration::from_millis(100);
                        if report.events == 0 {
                            // Idle: the ledger store's record catches up.
                            self.flush_ledger_checkpoint_logged(projector).await;
                        }
                        let instance = self.config.instance_id.clone();
                        self.update_status(projector, |s| {
                            s.state = ProjectorState::Running;
                            s.lease_holder = Some(instance);
                            s.last_error = None;
                            s.error_since = None;
                        });
                        // An error recorded earlier (here or by an instance
                        // that stopped) is over: clear it.
                        if let Ok(status) = self.refresh_status(projector).await
                            && status.last_error.is_some()
                        {
                            self.clear_projector_error(projector).await;
                            self.update_status(projector, |s| {
                                s.last_error = None;
                                s.error_since = None;
                            });
                        }
                        // Waiting out a hole: look again when it may be crossed.
                        report
                            .waiting_for
                            .map_or(idle_wait, |(_, left)| left.min(idle_wait))
                    }
                    Ok(None) => {
                        self.update_status(projector, |s| s.state = ProjectorState::Watching);
                        if let Err(error) = self.refresh_status(projector).await {
                            tracing::debug!(projector = projector.name(), %error, "status not refreshed");
                        }
                        self.config.projector_lease_ttl / 3
                    }
                    Err(error) => {
                        let message = error.to_string();
                        let refused = matches!(error, EngineError::Foreign(_));
                        let since = Utc::now();
                        self.update_status(projector, |s| {
                            s.state = if refused {
                                ProjectorState::Refused
                            } else {
                                ProjectorState::Retrying
                            };
                            s.error_since = s.error_since.or(Some(since));
                            s.last_error = Some(message.clone());
                        });
                        self.bus.notify(EngineNotice::ProjectorFailed {
                            projector,
                            message: message.clone(),
                        });
                        self.record_projector_error(projector, &message).await;
                        if let Ok(head) = self.stores.ledger.head().await {
                            self.update_status(projector, |s| {
                                s.head = head;
                                s.lag_events = head.saturating_sub(s.checkpoint);
                            });
                        }
                        let wait = if refused {
                            // Someone may rebuild the tables: check again now and then.
                            self.forget_pairing();
                            Duration::from_secs(5)
                        } else {
                            let wait = backoff;
                            backoff = (backoff * 2).min(Duration::from_secs(5));
                            wait
                        };
                        tracing::warn!(
                            projector = projector.name(),
                            error = %message,
                            retry_ms = wait.as_millis() as u64,
                            "projection failed"
                        );
                        wait
                    }
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(wait) => {}
                // Asked to look again at once (an outage switched off, a
                // projector resumed): the backoff starts over.
                Ok(()) = wake.changed() => backoff = Duration::from_millis(100),
                received = events.recv() => {
                    // Any event (or a lag notice) means "look at the ledger again";
                    // after an error, keep the backoff instead.
                    if received.is_ok() && backoff > Duration::from_millis(100) {
                        tokio::time::sleep(backoff.min(Duration::from_millis(500))).await;
                    }
                }
            }
        }
        self.flush_ledger_checkpoint_logged(projector).await;
        if let Ok(Some(lease)) = self.stores.locks.holder(&name).await
            && lease.owner == self.config.instance_id
            && let Err(error) = self.stores.locks.release(&lease).await
        {
            tracing::warn!(lease = %lease.name, %error, "lease not released at shutdown; it expires by itself");
        }
        self.update_status(projector, |s| {
            s.state = ProjectorState::Idle;
            s.writing_since = None;
            if s.lease
                .as_ref()
                .is_some_and(|l| l.owner == self.config.instance_id)
            {
                s.lease = None;
                s.lease_holder = None;
            }
        });
    }
}
