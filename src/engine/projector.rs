//! `UserProjection` and `BookingProjection` at work: fed live by the bus,
//! catching up from their position on start and after any error (retry with
//! backoff), one instance at a time per projector (a lease in the ledger store).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::{Engine, EngineNotice, EngineResult};
use crate::domain::{ProjectorId, RowChange};
use crate::store::{Checkpoint, entry_position};

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
    /// Last error, cleared on success.
    pub last_error: Option<String>,
    /// Positions it skipped as malformed or unknown.
    pub skipped: Vec<u64>,
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
            last_error: None,
            skipped: Vec::new(),
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
}

/// Lease name for a projector.
pub fn projector_lease_name(projector: ProjectorId) -> String {
    format!("projector:{}", projector.name())
}

impl Engine {
    /// Applies every event after the projector's position, batch by batch, until
    /// the head. Only contiguous prefixes advance the position.
    pub async fn catch_up(&self, projector: ProjectorId) -> EngineResult<CatchUp> {
        let read = &self.stores.read;
        let mut position = read.projector_position(projector).await?;
        let mut skipped = self
            .stores
            .checkpoints
            .load_checkpoint(projector.name())
            .await?
            .map(|c| c.skipped)
            .unwrap_or_default();
        let mut report = CatchUp {
            position,
            ..CatchUp::default()
        };
        loop {
            let entries = self
                .stores
                .ledger
                .read_range(position + 1, self.config.projector_batch)
                .await?;
            let mut changes: Vec<RowChange> = Vec::new();
            let mut last = position;
            for entry in &entries {
                if entry_position(entry) != last + 1 {
                    break; // a gap: stop at the contiguous prefix and look again later
                }
                last += 1;
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
            read.apply(projector, &changes, last).await?;
            let apply_micros = started.elapsed().as_micros() as u64;
            let started = Instant::now();
            if skipped.len() > MAX_SKIPPED {
                skipped.drain(..skipped.len() - MAX_SKIPPED);
            }
            self.stores
                .checkpoints
                .save_checkpoint(&Checkpoint {
                    projector: projector.name().to_string(),
                    position: last,
                    skipped: skipped.clone(),
                    updated_at: Utc::now(),
                    instance: self.config.instance_id.clone(),
                })
                .await?;
            self.bus.notify(EngineNotice::ProjectionApplied {
                projector,
                from: position + 1,
                position: last,
                apply_micros,
                checkpoint_micros: started.elapsed().as_micros() as u64,
            });
            report.events += last - position;
            position = last;
            report.position = last;
            let skipped_now = skipped.clone();
            self.update_status(projector, |s| {
                s.checkpoint = last;
                s.lag_events = s.head.saturating_sub(last);
                s.skipped = skipped_now;
                s.last_error = None;
                s.updated_at = Some(Utc::now());
            });
        }
        Ok(report)
    }

    /// Reads head, position and lease holder into the projector's status.
    pub async fn refresh_status(&self, projector: ProjectorId) -> EngineResult<ProjectorStatus> {
        let head = self.stores.ledger.head().await?;
        let checkpoint = self.stores.read.projector_position(projector).await?;
        let holder = self
            .stores
            .locks
            .holder(&projector_lease_name(projector))
            .await?;
        let skipped = self
            .stores
            .checkpoints
            .load_checkpoint(projector.name())
            .await?
            .map(|c| c.skipped)
            .unwrap_or_default();
        let paused = self.is_paused(projector);
        self.update_status(projector, |s| {
            s.head = head;
            s.checkpoint = checkpoint;
            s.lag_events = head.saturating_sub(checkpoint);
            s.lease_holder = holder.map(|l| l.owner);
            s.skipped = skipped;
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

    /// Takes the projector's lease and catches up once; `Ok(None)` when another
    /// instance holds the lease. One-shot callers (the CLI) pass
    /// `keep_lease = false` so the next instance need not wait for it to expire.
    pub async fn project_with_lease(
        &self,
        projector: ProjectorId,
        keep_lease: bool,
    ) -> EngineResult<Option<CatchUp>> {
        let name = projector_lease_name(projector);
        let lease = self
            .stores
            .locks
            .try_acquire(
                &name,
                &self.config.instance_id,
                self.config.projector_lease_ttl,
            )
            .await?;
        let Some(lease) = lease else {
            return Ok(None);
        };
        let result = self.catch_up(projector).await;
        if result.is_err() || !keep_lease {
            // On failure keep nothing: another instance may take over at once.
            let _ = self.stores.locks.release(&lease).await;
        }
        result.map(Some)
    }

    /// Starts one background task per projector. They run until `shutdown`.
    pub fn spawn_projectors(
        self: &Arc<Self>,
        shutdown: CancellationToken,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        ProjectorId::ALL
            .into_iter()
            .map(|projector| {
                let engine = self.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move { engine.run_projector(projector, shutdown).await })
            })
            .collect()
    }

    async fn run_projector(self: Arc<Self>, projector: ProjectorId, shutdown: CancellationToken) {
        let mut events = self.bus.subscribe();
        let mut backoff = Duration::from_millis(100);
        let name = projector_lease_name(projector);
        let idle_wait = Duration::from_millis(500);
        loop {
            let wait = if self.is_paused(projector) {
                self.update_status(projector, |s| s.state = ProjectorState::Paused);
                idle_wait
            } else {
                match self.project_with_lease(projector, true).await {
                    Ok(Some(_)) => {
                        backoff = Duration::from_millis(100);
                        let instance = self.config.instance_id.clone();
                        self.update_status(projector, |s| {
                            s.state = ProjectorState::Running;
                            s.lease_holder = Some(instance);
                            s.last_error = None;
                        });
                        let _ = self.refresh_status(projector).await;
                        idle_wait
                    }
                    Ok(None) => {
                        self.update_status(projector, |s| s.state = ProjectorState::Watching);
                        let _ = self.refresh_status(projector).await;
                        self.config.projector_lease_ttl / 3
                    }
                    Err(error) => {
                        let message = error.to_string();
                        self.update_status(projector, |s| {
                            s.state = ProjectorState::Retrying;
                            s.last_error = Some(message.clone());
                        });
                        self.bus
                            .notify(EngineNotice::ProjectorFailed { projector, message });
                        if let Ok(head) = self.stores.ledger.head().await {
                            self.update_status(projector, |s| {
                                s.head = head;
                                s.lag_events = head.saturating_sub(s.checkpoint);
                            });
                        }
                        let wait = backoff;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        wait
                    }
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(wait) => {}
                received = events.recv() => {
                    // Any event (or a lag notice) means "look at the ledger again";
                    // after an error, keep the backoff instead.
                    if received.is_ok() && backoff > Duration::from_millis(100) {
                        tokio::time::sleep(backoff.min(Duration::from_millis(500))).await;
                    }
                }
            }
        }
        if let Ok(Some(lease)) = self.stores.locks.holder(&name).await
            && lease.owner == self.config.instance_id
        {
            let _ = self.stores.locks.release(&lease).await;
        }
        self.update_status(projector, |s| s.state = ProjectorState::Idle);
    }
}
