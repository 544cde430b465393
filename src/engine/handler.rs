//! Command handlers, following the note's "anatomy of a transaction":
//! client UUID -> lease on the aggregate -> "does it exist?" -> build the
//! immutable event -> wrap it in a `StoredEvent` -> save -> publish.
//! Every command returns a trace of its steps with durations.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Engine, EngineError, EngineResult};
use crate::domain::aggregate::{
    decide_address_change, decide_cancel, decide_reschedule, decide_submit,
};
use crate::domain::event::event_types;
use crate::domain::{
    BookingAggregate, CancelBooking, ChangeUserAddress, DomainEvent, EventMetadata,
    RescheduleBooking, StoredEvent, SubmitBookingWizard,
};
use crate::store::{AppendOutcome, EventFilter, Lease};

/// One step of a command, timed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStep {
    /// `lock`, `exists?`, `decide`, `save`, `publish`, `unlock`.
    pub name: String,
    /// How long it took.
    pub micros: u64,
    /// What it found or did.
    pub detail: String,
}

/// The steps a command went through.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandTrace {
    /// Which handler ran.
    pub handler: String,
    /// The steps, in order.
    pub steps: Vec<TraceStep>,
}

impl CommandTrace {
    fn new(handler: &str) -> Self {
        CommandTrace {
            handler: handler.to_string(),
            steps: Vec::new(),
        }
    }

    fn step(&mut self, name: &str, started: Instant, detail: impl Into<String>) {
        self.steps.push(TraceStep {
            name: name.to_string(),
            micros: started.elapsed().as_micros() as u64,
            detail: detail.into(),
        });
    }

    /// Sum of the step durations.
    pub fn total_micros(&self) -> u64 {
        self.steps.iter().map(|s| s.micros).sum()
    }
}

/// What a command produced.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandOutcome {
    /// The stored event (the first one, for a duplicate).
    pub event: StoredEvent,
    /// True when this was a retry: nothing new was stored or published.
    pub duplicate: bool,
    /// The timed steps.
    pub trace: CommandTrace,
}

/// Lease name for an aggregate.
pub fn aggregate_lock_name(aggregate_id: Uuid) -> String {
    format!("aggregate:{aggregate_id}")
}

impl Engine {
    fn metadata(&self, command_id: Uuid) -> EventMetadata {
        EventMetadata {
            command_id: Some(command_id),
            correlation_id: Some(command_id),
            causation_id: None,
            actor: Some(self.config.actor.clone()),
            app_instance: Some(self.config.instance_id.clone()),
        }
    }

    /// Takes the aggregate's lease, waiting up to `lock_wait` while another holds it.
    async fn lock_aggregate(
        &self,
        aggregate_id: Uuid,
        command_id: Uuid,
        trace: &mut CommandTrace,
    ) -> EngineResult<Lease> {
        let started = Instant::now();
        let name = aggregate_lock_name(aggregate_id);
        let owner = format!("{}/{command_id}", self.config.instance_id);
        let mut delay = std::time::Duration::from_millis(5);
        loop {
            if let Some(lease) = self
                .stores
                .locks
                .try_acquire(&name, &owner, self.config.command_lock_ttl)
                .await?
            {
                trace.step(
                    "lock",
                    started,
                    format!("lease {name} (fencing {})", lease.fencing),
                );
                return Ok(lease);
            }
            if started.elapsed() >= self.config.lock_wait {
                let holder = self
                    .stores
                    .locks
                    .holder(&name)
                    .await
                    .ok()
                    .flatten()
                    .map_or_else(|| "another command".to_string(), |l| l.owner);
                return Err(EngineError::Busy { name, holder });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(std::time::Duration::from_millis(200));
        }
    }

    /// Runs `body` under the aggregate's lease and releases it afterwards,
    /// whatever the outcome (an unreleased lease expires by itself).
    async fn under_lease<F, Fut>(
        &self,
        aggregate_id: Uuid,
        command_id: Uuid,
        handler: &str,
        body: F,
    ) -> EngineResult<CommandOutcome>
    where
        F: FnOnce(CommandTrace, Lease) -> Fut,
        Fut: std::future::Future<Output = (CommandTrace, EngineResult<CommandOutcomeDraft>)>,
    {
        let mut trace = CommandTrace::new(handler);
        let lease = self
            .lock_aggregate(aggregate_id, command_id, &mut trace)
            .await?;
        let (mut trace, result) = body(trace, lease.clone()).await;
        let started = Instant::now();
        if matches!(&result, Ok(draft) if draft.released) {
            trace.step("unlock", started, "released in the save's commit");
        } else {
            let released = self.stores.locks.release(&lease).await;
            trace.step(
                "unlock",
                started,
                match released {
                    Ok(()) => "released".to_string(),
                    Err(e) => format!("not released ({e}); it expires by itself"),
                },
            );
        }
        let draft = result?;
        let started = Instant::now();
        if draft.duplicate {
            trace.step("publish", started, "skipped: nothing new to publish");
        } else {
            let listeners = self.bus.publish(Arc::new(draft.event.clone()));
            trace.step(
                "publish",
                started,
                format!("EventBus: {listeners} listener(s)"),
            );
        }
        Ok(CommandOutcome {
            event: draft.event,
            duplicate: draft.duplicate,
            trace,
        })
    }

    /// Idempotency of commands on existing aggregates: the event id is the
    /// command id, so a stored event with it means "already done; stop".
    async fn already_done(
        &self,
        command_id: Uuid,
        started: Instant,
        trace: &mut CommandTrace,
    ) -> EngineResult<Option<CommandOutcomeDraft>> {
        let existing = self.stores.ledger.find_event(command_id).await?;
        if existing.is_some() {
            trace.step(
                "exists?",
                started,
                format!("command {command_id} already stored; stop"),
            );
        }
        Ok(existing.map(|event| CommandOutcomeDraft {
            event,
            duplicate: true,
            released: false,
        }))
    }

    /// Saves a new event, giving up `lease` in the same commit where the
    /// store can, and records the step.
    async fn save(
        &self,
        event: StoredEvent,
        lease: &Lease,
        trace: &mut CommandTrace,
    ) -> EngineResult<CommandOutcomeDraft> {
        let started = Instant::now();
        let (outcome, released) = self.stores.ledger.append_releasing(event, lease).await?;
        let (event, duplicate) = match outcome {
            AppendOutcome::Appended(e) => (e, false),
            AppendOutcome::Duplicate(e) => (e, true),
        };
        trace.step(
            "save",
            started,
            if duplicate {
                format!(
                    "already stored at position {} (concurrent retry)",
                    event.position
                )
            } else {
                format!("stored at position {}", event.position)
            },
        );
        Ok(CommandOutcomeDraft {
            event,
            duplicate,
            released,
        })
    }

    /// `SubmitBookingWizardHandler`: the note's "Generate New Event".
    pub async fn submit_booking_wizard(
        &self,
        cmd: SubmitBookingWizard,
    ) -> EngineResult<CommandOutcome> {
        self.guard_write("submitting a booking")?;
        let booking_id = cmd.booking_id;
        self.under_lease(
            booking_id,
            booking_id,
            "SubmitBookingWizardHandler",
            |mut trace, lease| async move {
                let result = async {
                    let started = Instant::now();
                    if let Some(existing) =
                        self.stores.ledger.first_of_aggregate(booking_id).await?
                    {
                        trace.step(
                            "exists?",
                            started,
                            format!(
                                "yes: booking {booking_id} is at position {}; stop",
                                existing.position
                            ),
                        );
                        return Ok(CommandOutcomeDraft {
                            event: existing,
                            duplicate: true,
                            released: false,
                        });
                    }
                    trace.step(
                        "exists?",
                        started,
                        format!("no: booking {booking_id} is new"),
                    );
                    let started = Instant::now();
                    let event = decide_submit(&cmd);
                    let stored = StoredEvent::wrap(
                        &event,
                        booking_id,
                        1,
                        Utc::now(),
                        self.metadata(booking_id),
                    );
                    trace.step(
                        "build",
                        started,
                        "BookingWizardCompleted wrapped in a StoredEvent (version 1)",
                    );
                    self.save(stored, &lease, &mut trace).await
                }
                .await;
                (trace, result)
            },
        )
        .await
    }

    /// Shared flow of the commands on an existing booking.
    async fn change_booking(
        &self,
        command_id: Uuid,
        booking_id: Uuid,
        handler: &str,
        decide: impl FnOnce(
            Option<&BookingAggregate>,
        ) -> Result<DomainEvent, crate::domain::DomainError>,
    ) -> EngineResult<CommandOutcome> {
        self.under_lease(
            booking_id,
            command_id,
            handler,
            |mut trace, lease| async move {
                let result = async {
                    let started = Instant::now();
                    if let Some(done) = self.already_done(command_id, started, &mut trace).await? {
                        return Ok(done);
                    }
                    let stream = self.stores.ledger.stream(booking_id).await?;
                    let decoded: Vec<(u64, DomainEvent)> = stream
                        .iter()
                        .filter_map(|e| e.as_ref().ok())
                        .filter_map(|e| e.decode().ok().map(|d| (e.version, d)))
                        .collect();
                    let last_version = stream
                        .iter()
                        .filter_map(|e| e.as_ref().ok())
                        .map(|e| e.version)
                        .max()
                        .unwrap_or(0);
                    let state = BookingAggregate::fold(decoded.iter().map(|(v, e)| (*v, e)));
                    trace.step(
                        "exists?",
                        started,
                        format!("booking stream has {} event(s)", stream.len()),
                    );
                    let started = Instant::now();
                    let event = decide(state.as_ref())?;
                    let stored = StoredEvent::wrap(
                        &event,
                        command_id,
                        last_version + 1,
                        Utc::now(),
                        self.metadata(command_id),
                    );
                    trace.step(
                        "build",
                        started,
                        format!("{} (version {})", event.event_type(), last_version + 1),
                    );
                    self.save(stored, &lease, &mut trace).await
                }
                .await;
                (trace, result)
            },
        )
        .await
    }

    /// Cancels a booking (idempotent on the command id).
    pub async fn cancel_booking(&self, cmd: CancelBooking) -> EngineResult<CommandOutcome> {
        self.guard_write("cancelling a booking")?;
        self.change_booking(
            cmd.command_id,
            cmd.booking_id,
            "CancelBookingHandler",
            |state| decide_cancel(state, &cmd),
        )
        .await
    }

    /// Moves a booking's dates (idempotent on the command id).
    pub async fn reschedule_booking(&self, cmd: RescheduleBooking) -> EngineResult<CommandOutcome> {
        self.guard_write("rescheduling a booking")?;
        self.change_booking(
            cmd.command_id,
            cmd.booking_id,
            "RescheduleBookingHandler",
            |state| decide_reschedule(state, &cmd),
        )
        .await
    }

    /// The user's current address as the ledger says: the last address change,
    /// else the address given at their first booking.
    pub async fn current_address(&self, user_id: Uuid) -> EngineResult<Option<(String, u64)>> {
        let stream = self.stores.ledger.stream(user_id).await?;
        let last_change = stream
            .iter()
            .rev()
            .filter_map(|e| e.as_ref().ok())
            .filter_map(|e| match e.decode() {
                Ok(DomainEvent::UserAddressChanged { new_address, .. }) => {
                    Some((new_address, e.version))
                }
                _ => None,
            })
            .next();
        if last_change.is_some() {
            return Ok(last_change);
        }
        let filter = EventFilter {
            event_type: Some(event_types::BOOKING_WIZARD_COMPLETED.to_string()),
            text: Some(user_id.to_string()),
            ..EventFilter::default()
        };
        for entry in self.stores.ledger.search(&filter, 0, 10).await? {
            if let Ok(event) = entry
                && let Ok(DomainEvent::BookingWizardCompleted { user, .. }) = event.decode()
                && user.user_id == user_id
            {
                return Ok(Some((user.address, 0)));
            }
        }
        Ok(None)
    }

    /// Changes a user's address (idempotent on the command id).
    pub async fn change_user_address(
        &self,
        cmd: ChangeUserAddress,
    ) -> EngineResult<CommandOutcome> {
        self.guard_write("changing an address")?;
        let (command_id, user_id) = (cmd.command_id, cmd.user_id);
        self.under_lease(
            user_id,
            command_id,
            "ChangeUserAddressHandler",
            |mut trace, lease| async move {
                let result = async {
                    let started = Instant::now();
                    if let Some(done) = self.already_done(command_id, started, &mut trace).await? {
                        return Ok(done);
                    }
                    let current = self.current_address(user_id).await?;
                    trace.step(
                        "exists?",
                        started,
                        match &current {
                            Some((address, _)) => format!("user {user_id} lives at '{address}'"),
                            None => format!("user {user_id} is unknown"),
                        },
                    );
                    let started = Instant::now();
                    let event =
                        decide_address_change(current.as_ref().map(|(a, _)| a.as_str()), &cmd)?;
                    let version = current.map_or(0, |(_, v)| v) + 1;
                    let stored = StoredEvent::wrap(
                        &event,
                        command_id,
                        version,
                        Utc::now(),
                        self.metadata(command_id),
                    );
                    trace.step(
                        "build",
                        started,
                        format!("UserAddressChanged (version {version})"),
                    );
                    self.save(stored, &lease, &mut trace).await
                }
                .await;
                (trace, result)
            },
        )
        .await
    }
}

/// What a handler body hands back before unlock and publish.
pub(crate) struct CommandOutcomeDraft {
    event: StoredEvent,
    duplicate: bool,
    /// The lease went with the save's commit; nothing left to release.
    released: bool,
}
