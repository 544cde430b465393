//! Command handlers, following the note's "anatomy of a transaction":
//! client UUID -> lease on the aggregate -> "does it exist?" -> build the
//! immutable event -> wrap it in a `StoredEvent` -> save -> publish.
//! Every command returns a trace of its steps with durations.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::aggregate::{
    decide_address_change, decide_cancel, decide_reschedule, decide_submit,
};
use crate::domain::event::event_types;
use crate::domain::{
    BookingAggregate, CancelBooking, ChangeUserAddress, DomainEvent, EventMetadata,
    RescheduleBooking, StoredEvent, SubmitBookingWizard,
};
use crate::engine::{Engine, EngineError, EngineResult};
use crate::store::{AppendOutcome, EventFilter, Lease};

/// One step of a command, timed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStep {
    /// `lock`, `exists?`, `build`, `rule`, `save`, `unlock`, `publish`.
    pub name: String,
    /// How long it took.
    pub micros: u64,
    /// What it found or did (for a refusal: why).
    pub detail: String,
    /// How it ended (left out of JSON when it went through).
    #[serde(default, skip_serializing_if = "StepEnd::is_done")]
    pub end: StepEnd,
}

/// How a step of a command ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum StepEnd {
    /// It went through.
    #[default]
    Done,
    /// A business rule refused the command here; the step's detail says why.
    Refused {
        /// The rule, in a few words ([`crate::domain::DomainError::rule`]).
        rule: String,
    },
    /// A store or the lease failed here; the step's detail says how.
    Failed,
}

impl StepEnd {
    /// True when the step went through.
    pub fn is_done(&self) -> bool {
        matches!(self, StepEnd::Done)
    }
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
        self.ended(name, started, detail, StepEnd::Done);
    }

    fn ended(&mut self, name: &str, started: Instant, detail: impl Into<String>, end: StepEnd) {
        self.steps.push(TraceStep {
            name: name.to_string(),
            micros: started.elapsed().as_micros() as u64,
            detail: detail.into(),
            end,
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

/// A command that stored nothing, with the steps it went through (a
/// business rule's refusal: lock -> exists? -> rule -> unlock).
#[derive(Clone, Debug)]
pub struct CommandRefusal {
    /// Why.
    pub error: EngineError,
    /// The steps up to the refusal and the unlock after it (empty when it
    /// was refused before taking the lease: observe-only).
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
            let acquired = self
                .stores
                .locks
                .try_acquire(&name, &owner, self.config.command_lock_ttl)
                .await;
            let acquired = match acquired {
                Ok(acquired) => acquired,
                Err(error) => {
                    trace.ended("lock", started, error.to_string(), StepEnd::Failed);
                    return Err(error.into());
                }
            };
            if let Some(lease) = acquired {
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
                let error = EngineError::Busy { name, holder };
                trace.ended("lock", started, error.to_string(), StepEnd::Failed);
                return Err(error);
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(std::time::Duration::from_millis(200));
        }
    }

    /// The one command flow, after the note's anatomy of a transaction: the
    /// lease on the aggregate, "does it exist?" (and "was this command
    /// already done?": then the stored event is the answer), the pure
    /// decision, the `StoredEvent`, the save (releasing the lease in its
    /// commit where the store can), the unlock and the publish. Every step is
    /// timed into the trace.
    pub async fn handle(&self, command: Command) -> EngineResult<CommandOutcome> {
        self.handle_traced(command).await.map_err(|r| r.error)
    }

    /// [`Engine::handle`], keeping the steps of a command that stored
    /// nothing: a refusal's trace says where it stopped and why (the
    /// anatomy of a refused command).
    pub async fn handle_traced(&self, command: Command) -> Result<CommandOutcome, CommandRefusal> {
        let mut trace = CommandTrace::new(command.handler());
        match self.guard_write(command.what()) {
            Ok(()) => {}
            Err(error) => return Err(CommandRefusal { error, trace }),
        }
        let (aggregate, command_id) = (command.aggregate_id(), command.command_id());
        let lease = match self.lock_aggregate(aggregate, command_id, &mut trace).await {
            Ok(lease) => lease,
            Err(error) => return Err(CommandRefusal { error, trace }),
        };
        let result = self.decide_and_save(&command, &lease, &mut trace).await;
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
        let draft = match result {
            Ok(draft) => draft,
            Err(error) => {
                self.count_command(crate::engine::activity::CommandEnd::Refused);
                tracing::debug!(
                    handler = command.handler(),
                    command = %command_id,
                    aggregate = %aggregate,
                    %error,
                    micros = trace.total_micros(),
                    "command refused"
                );
                return Err(CommandRefusal { error, trace });
            }
        };
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
        self.count_command(if draft.duplicate {
            crate::engine::activity::CommandEnd::Duplicate
        } else {
            crate::engine::activity::CommandEnd::Stored
        });
        tracing::debug!(
            handler = command.handler(),
            command = %command_id,
            aggregate = %aggregate,
            event = %draft.event.event_type,
            position = draft.event.position,
            duplicate = draft.duplicate,
            micros = trace.total_micros(),
            "command"
        );
        Ok(CommandOutcome {
            event: draft.event,
            duplicate: draft.duplicate,
            trace,
        })
    }

    /// Under the lease: "exists?", decide, wrap, save.
    async fn decide_and_save(
        &self,
        command: &Command,
        lease: &Lease,
        trace: &mut CommandTrace,
    ) -> EngineResult<CommandOutcomeDraft> {
        let started = Instant::now();
        let loaded = match self.load(command).await {
            Ok(loaded) => loaded,
            Err(error) => {
                trace.ended("exists?", started, error.to_string(), StepEnd::Failed);
                return Err(error);
            }
        };
        trace.step("exists?", started, loaded.detail);
        if let Some(existing) = loaded.done {
            return Ok(CommandOutcomeDraft {
                event: existing,
                duplicate: true,
                released: false,
            });
        }
        let started = Instant::now();
        let event = match command.decide(&loaded.state) {
            Ok(event) => event,
            Err(refused) => {
                let rule = refused.rule().to_string();
                trace.ended(
                    "rule",
                    started,
                    refused.to_string(),
                    StepEnd::Refused { rule },
                );
                return Err(refused.into());
            }
        };
        let version = loaded.version + 1;
        let command_id = command.command_id();
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
            format!(
                "{} wrapped in a StoredEvent (version {version})",
                event.event_type()
            ),
        );
        self.save(stored, lease, trace).await
    }

    /// What the decision needs: the stored answer if the command was done
    /// already, else the aggregate's state and its last version.
    async fn load(&self, command: &Command) -> EngineResult<Loaded> {
        if let Command::Submit(cmd) = command {
            let booking = cmd.booking_id;
            let existing = self.stores.ledger.first_of_aggregate(booking).await?;
            return Ok(Loaded {
                detail: match &existing {
                    Some(e) => {
                        format!("yes: booking {booking} is at position {}; stop", e.position)
                    }
                    None => format!("no: booking {booking} is new"),
                },
                done: existing,
                state: LoadedState::Nothing,
                version: 0,
            });
        }
        // Commands on existing aggregates are idempotent on their id: the
        // event id is the command id.
        let command_id = command.command_id();
        if let Some(existing) = self.stores.ledger.find_event(command_id).await? {
            return Ok(Loaded {
                detail: format!("command {command_id} already stored; stop"),
                done: Some(existing),
                state: LoadedState::Nothing,
                version: 0,
            });
        }
        let aggregate = command.aggregate_id();
        if let Command::ChangeAddress(_) = command {
            let current = self.current_address(aggregate).await?;
            return Ok(Loaded {
                detail: match &current {
                    Some((address, _)) => format!("user {aggregate} lives at '{address}'"),
                    None => format!("user {aggregate} is unknown"),
                },
                done: None,
                version: current.as_ref().map_or(0, |(_, v)| *v),
                state: LoadedState::Address(current.map(|(a, _)| a)),
            });
        }
        let stream = self.stores.ledger.stream(aggregate).await?;
        let events: Vec<&StoredEvent> = stream.iter().filter_map(|e| e.as_ref().ok()).collect();
        let decoded: Vec<(u64, DomainEvent)> = events
            .iter()
            .filter_map(|e| e.decode().ok().map(|d| (e.version, d)))
            .collect();
        Ok(Loaded {
            detail: format!("booking stream has {} event(s)", stream.len()),
            done: None,
            version: events.iter().map(|e| e.version).max().unwrap_or(0),
            state: LoadedState::Booking(BookingAggregate::fold(
                decoded.iter().map(|(v, e)| (*v, e)),
            )),
        })
    }

    /// `SubmitBookingWizardHandler`: the note's "Generate New Event".
    pub async fn submit_booking_wizard(
        &self,
        cmd: SubmitBookingWizard,
    ) -> EngineResult<CommandOutcome> {
        self.handle(Command::Submit(cmd)).await
    }

    /// Cancels a booking (idempotent on the command id).
    pub async fn cancel_booking(&self, cmd: CancelBooking) -> EngineResult<CommandOutcome> {
        self.handle(Command::Cancel(cmd)).await
    }

    /// Moves a booking's dates (idempotent on the command id).
    pub async fn reschedule_booking(&self, cmd: RescheduleBooking) -> EngineResult<CommandOutcome> {
        self.handle(Command::Reschedule(cmd)).await
    }

    /// Changes a user's address (idempotent on the command id).
    pub async fn change_user_address(
        &self,
        cmd: ChangeUserAddress,
    ) -> EngineResult<CommandOutcome> {
        self.handle(Command::ChangeAddress(cmd)).await
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
        let (outcome, released) = match self.stores.ledger.append_releasing(event, lease).await {
            Ok(saved) => saved,
            Err(error) => {
                trace.ended("save", started, error.to_string(), StepEnd::Failed);
                return Err(error.into());
            }
        };
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
}

/// A command, for [`Engine::handle`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Submit the booking wizard.
    Submit(SubmitBookingWizard),
    /// Cancel a booking.
    Cancel(CancelBooking),
    /// Move a booking's dates.
    Reschedule(RescheduleBooking),
    /// Change a user's address.
    ChangeAddress(ChangeUserAddress),
}

impl Command {
    /// The handler's name in the trace.
    pub fn handler(&self) -> &'static str {
        match self {
            Command::Submit(_) => "SubmitBookingWizardHandler",
            Command::Cancel(_) => "CancelBookingHandler",
            Command::Reschedule(_) => "RescheduleBookingHandler",
            Command::ChangeAddress(_) => "ChangeUserAddressHandler",
        }
    }

    /// What it does, for observe-only refusals.
    fn what(&self) -> &'static str {
        match self {
            Command::Submit(_) => "submitting a booking",
            Command::Cancel(_) => "cancelling a booking",
            Command::Reschedule(_) => "rescheduling a booking",
            Command::ChangeAddress(_) => "changing an address",
        }
    }

    /// The aggregate it locks and changes.
    pub fn aggregate_id(&self) -> Uuid {
        match self {
            Command::Submit(c) => c.booking_id,
            Command::Cancel(c) => c.booking_id,
            Command::Reschedule(c) => c.booking_id,
            Command::ChangeAddress(c) => c.user_id,
        }
    }

    /// Its idempotency key, the new event's id (a submit's is the new
    /// booking's id).
    pub fn command_id(&self) -> Uuid {
        match self {
            Command::Submit(c) => c.booking_id,
            Command::Cancel(c) => c.command_id,
            Command::Reschedule(c) => c.command_id,
            Command::ChangeAddress(c) => c.command_id,
        }
    }

    /// The pure decision on the loaded state.
    fn decide(&self, state: &LoadedState) -> Result<DomainEvent, crate::domain::DomainError> {
        let booking = match state {
            LoadedState::Booking(b) => b.as_ref(),
            _ => None,
        };
        let address = match state {
            LoadedState::Address(a) => a.as_deref(),
            _ => None,
        };
        match self {
            Command::Submit(c) => Ok(decide_submit(c)),
            Command::Cancel(c) => decide_cancel(booking, c),
            Command::Reschedule(c) => decide_reschedule(booking, c),
            Command::ChangeAddress(c) => decide_address_change(address, c),
        }
    }
}

/// What a command's aggregate looks like before the decision.
enum LoadedState {
    /// A submit needs nothing.
    Nothing,
    /// A booking folded from its stream (`None`: never created).
    Booking(Option<BookingAggregate>),
    /// A user's current address (`None`: unknown user).
    Address(Option<String>),
}

/// "Does it exist?": the stored answer, or the state to decide on.
struct Loaded {
    /// The trace's detail for the step.
    detail: String,
    /// Already done: the stored event is the answer.
    done: Option<StoredEvent>,
    /// What the decision looks at.
    state: LoadedState,
    /// The aggregate's last version (the new event gets the next).
    version: u64,
}

/// What a handler body hands back before unlock and publish.
pub(crate) struct CommandOutcomeDraft {
    event: StoredEvent,
    duplicate: bool,
    /// The lease went with the save's commit; nothing left to release.
    released: bool,
}
