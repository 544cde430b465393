//! Emit: the booking wizard with inline validation, "Generate New Event",
//! "Send again (same UUID)" for idempotency, forms for cancel, reschedule and
//! address change, the bulk generator (and the refusals of its last run),
//! the anatomy of the last transaction (also of a refused one), the outage
//! switch and the trainer's activity strip.

pub mod activity;
mod activity_ui;
mod anatomy;
mod tasks;
mod ui;

use crate::ui::i18n::t;
use std::collections::VecDeque;
use std::time::Instant;

use uuid::Uuid;

use crate::domain::generate::{DemoRng, booking_form};
use crate::domain::{
    BookingWizardForm, CancelBooking, ChangeUserAddress, DomainEvent, RescheduleBooking,
    SubmitBookingWizard,
};
use crate::engine::bulk::{BulkRefusal, BulkSpec};
use crate::engine::handler::Command;
use crate::engine::{CommandOutcome, CommandRefusal, EngineError, EngineNotice};
use crate::ui::error::InlineError;
use crate::ui::jobs::JobKind;
use crate::ui::panels::Ctx;

pub use ui::emit_ui;

/// Projection notices remembered for the anatomy flow.
const NOTICE_HISTORY: usize = 64;
/// Largest bulk run the form accepts.
const MAX_BULK: u64 = 10_000_000;

/// A text input of the panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EmitField {
    /// Wizard: e-mail.
    Email,
    /// Wizard: name.
    Name,
    /// Wizard: address.
    Address,
    /// Wizard: service.
    Service,
    /// Wizard: check-in.
    CheckIn,
    /// Wizard: check-out.
    CheckOut,
    /// Wizard: guests.
    Guests,
    /// Wizard: price.
    Price,
    /// The booking to cancel or reschedule.
    TargetBooking,
    /// Why it is cancelled.
    CancelReason,
    /// New check-in.
    NewCheckIn,
    /// New check-out.
    NewCheckOut,
    /// The user whose address changes.
    TargetUser,
    /// The new address.
    NewAddress,
    /// Bulk generator: how many.
    BulkCount,
    /// Bulk generator: commands per second.
    BulkRate,
}

/// What the panel's fields hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmitDrafts {
    /// The wizard.
    pub booking: BookingWizardForm,
    /// Booking to change.
    pub target_booking: String,
    /// Cancellation reason.
    pub cancel_reason: String,
    /// New check-in.
    pub new_check_in: String,
    /// New check-out.
    pub new_check_out: String,
    /// User to change.
    pub target_user: String,
    /// New address.
    pub new_address: String,
    /// Bulk count.
    pub bulk_count: String,
    /// Bulk rate.
    pub bulk_rate: String,
}

impl Default for EmitDrafts {
    fn default() -> Self {
        EmitDrafts {
            booking: BookingWizardForm::default(),
            target_booking: String::new(),
            cancel_reason: String::new(),
            new_check_in: String::new(),
            new_check_out: String::new(),
            target_user: String::new(),
            new_address: String::new(),
            bulk_count: "1000".into(),
            bulk_rate: String::new(),
        }
    }
}

impl EmitDrafts {
    /// The text of a field.
    pub fn get(&self, field: EmitField) -> &str {
        match field {
            EmitField::Email => &self.booking.email,
            EmitField::Name => &self.booking.name,
            EmitField::Address => &self.booking.address,
            EmitField::Service => &self.booking.service,
            EmitField::CheckIn => &self.booking.check_in,
            EmitField::CheckOut => &self.booking.check_out,
            EmitField::Guests => &self.booking.guests,
            EmitField::Price => &self.booking.price,
            EmitField::TargetBooking => &self.target_booking,
            EmitField::CancelReason => &self.cancel_reason,
            EmitField::NewCheckIn => &self.new_check_in,
            EmitField::NewCheckOut => &self.new_check_out,
            EmitField::TargetUser => &self.target_user,
            EmitField::NewAddress => &self.new_address,
            EmitField::BulkCount => &self.bulk_count,
            EmitField::BulkRate => &self.bulk_rate,
        }
    }

    fn get_mut(&mut self, field: EmitField) -> &mut String {
        match field {
            EmitField::Email => &mut self.booking.email,
            EmitField::Name => &mut self.booking.name,
            EmitField::Address => &mut self.booking.address,
            EmitField::Service => &mut self.booking.service,
            EmitField::CheckIn => &mut self.booking.check_in,
            EmitField::CheckOut => &mut self.booking.check_out,
            EmitField::Guests => &mut self.booking.guests,
            EmitField::Price => &mut self.booking.price,
            EmitField::TargetBooking => &mut self.target_booking,
            EmitField::CancelReason => &mut self.cancel_reason,
            EmitField::NewCheckIn => &mut self.new_check_in,
            EmitField::NewCheckOut => &mut self.new_check_out,
            EmitField::TargetUser => &mut self.target_user,
            EmitField::NewAddress => &mut self.new_address,
            EmitField::BulkCount => &mut self.bulk_count,
            EmitField::BulkRate => &mut self.bulk_rate,
        }
    }
}

/// Errors shown in the panel, each under its form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmitErrors {
    /// Under the wizard (set when a submit was refused before sending).
    pub wizard: Option<InlineError>,
    /// Under the booking forms.
    pub booking: Option<InlineError>,
    /// Under the address form.
    pub address: Option<InlineError>,
    /// Under the bulk generator.
    pub bulk: Option<InlineError>,
}

/// The answer to the last command.
#[derive(Clone, Debug)]
pub struct LastCommand {
    /// Which handler ran.
    pub what: String,
    /// The answer (a refusal keeps the steps it went through).
    pub result: Result<CommandOutcome, CommandRefusal>,
    /// When the answer arrived.
    pub at: Instant,
}

/// What the panel asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum EmitCommand {
    /// A field changed.
    SetDraft(EmitField, String),
    /// Submit the booking wizard with a fresh UUID.
    Submit,
    /// Fill the wizard with realistic random data and submit it.
    GenerateAndSubmit,
    /// Fill the wizard with realistic random data only.
    FillRandom,
    /// Send the last booking again with the same UUID.
    SendAgain,
    /// Cancel the target booking.
    Cancel,
    /// Move the target booking's dates.
    Reschedule,
    /// Change the target user's address.
    ChangeAddress,
    /// Bulk generator: mix on or off.
    SetBulkMix(bool),
    /// Start the bulk generator.
    StartBulk,
}

/// What comes back for the panel.
pub enum EmitMessage {
    /// A command finished.
    CommandDone {
        /// Which handler ran (for the answer line).
        what: String,
        /// The answer.
        result: Box<Result<CommandOutcome, CommandRefusal>>,
        /// The booking wizard submitted, kept for "send again".
        submitted: Option<Box<SubmitBookingWizard>>,
    },
    /// The bulk generator ended: what business rules refused.
    BulkRefusals(BulkRefusals),
}

/// What business rules refused in the last bulk run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BulkRefusals {
    /// How many were refused.
    pub count: u64,
    /// The first of them, in command order (at most
    /// [`crate::engine::bulk::MAX_REFUSALS`]).
    pub first: Vec<BulkRefusal>,
}

/// The Emit panel's state.
#[derive(Debug)]
pub struct EmitPanel {
    /// Its fields.
    pub drafts: EmitDrafts,
    /// Bulk generator mixes in other commands.
    pub bulk_mix: bool,
    /// Its errors.
    pub errors: EmitErrors,
    /// The last command's answer.
    pub last_command: Option<LastCommand>,
    /// The last booking wizard sent (for "send again").
    pub last_submit: Option<SubmitBookingWizard>,
    /// Recent projection notices (for the anatomy flow).
    pub recent_notices: VecDeque<EngineNotice>,
    /// What happened in the last minute (the trainer's strip).
    pub activity: activity::ActivityStrip,
    /// What business rules refused in the last bulk run.
    pub bulk_refusals: Option<BulkRefusals>,
}

impl Default for EmitPanel {
    fn default() -> Self {
        EmitPanel {
            drafts: EmitDrafts::default(),
            bulk_mix: true,
            errors: EmitErrors::default(),
            last_command: None,
            last_submit: None,
            recent_notices: VecDeque::new(),
            activity: activity::ActivityStrip::default(),
            bulk_refusals: None,
        }
    }
}

fn target(text: &str, what: &str) -> Result<Uuid, InlineError> {
    let text = text.trim();
    Uuid::parse_str(text)
        .map_err(|_| InlineError::Input(t!("emit-not-a-uuid", what = what, text = text)))
}

impl EmitPanel {
    /// Runs a command of the panel.
    pub fn handle(&mut self, command: EmitCommand, ctx: &mut Ctx<'_>) {
        match command {
            EmitCommand::SetDraft(field, text) => *self.drafts.get_mut(field) = text,
            EmitCommand::Submit => self.submit(ctx),
            EmitCommand::GenerateAndSubmit => {
                self.fill_random();
                self.submit(ctx);
            }
            EmitCommand::FillRandom => self.fill_random(),
            EmitCommand::SendAgain => {
                if let Some(cmd) = self.last_submit.clone() {
                    tasks::run(
                        ctx,
                        &t!("emit-booking-wizard-again"),
                        Command::Submit(cmd.clone()),
                        Some(cmd),
                    );
                }
            }
            EmitCommand::Cancel => {
                let command = target(&self.drafts.target_booking, &t!("emit-what-booking"))
                    .and_then(|booking| {
                        CancelBooking::new(Uuid::new_v4(), booking, &self.drafts.cancel_reason)
                            .map(Command::Cancel)
                            .map_err(InlineError::Fields)
                    });
                self.errors.booking = command.as_ref().err().cloned();
                if let Ok(command) = command {
                    tasks::run(ctx, &t!("emit-cancel-booking"), command, None);
                }
            }
            EmitCommand::Reschedule => {
                let d = &self.drafts;
                let command =
                    target(&d.target_booking, &t!("emit-what-booking")).and_then(|booking| {
                        RescheduleBooking::new(
                            Uuid::new_v4(),
                            booking,
                            &d.new_check_in,
                            &d.new_check_out,
                        )
                        .map(Command::Reschedule)
                        .map_err(InlineError::Fields)
                    });
                self.errors.booking = command.as_ref().err().cloned();
                if let Ok(command) = command {
                    tasks::run(ctx, &t!("emit-reschedule-booking"), command, None);
                }
            }
            EmitCommand::ChangeAddress => {
                let command =
                    target(&self.drafts.target_user, &t!("emit-what-user")).and_then(|user| {
                        ChangeUserAddress::new(Uuid::new_v4(), user, &self.drafts.new_address)
                            .map(Command::ChangeAddress)
                            .map_err(InlineError::Fields)
                    });
                self.errors.address = command.as_ref().err().cloned();
                if let Ok(command) = command {
                    tasks::run(ctx, &t!("emit-change-address-button"), command, None);
                }
            }
            EmitCommand::SetBulkMix(on) => self.bulk_mix = on,
            EmitCommand::StartBulk => self.start_bulk(ctx),
        }
    }

    fn fill_random(&mut self) {
        let mut rng = DemoRng::new(Uuid::new_v4().as_u64_pair().0);
        self.drafts.booking = booking_form(&mut rng, 500);
    }

    fn submit(&mut self, ctx: &mut Ctx<'_>) {
        match self.drafts.booking.validate(Uuid::new_v4()) {
            Ok(cmd) => {
                self.errors.wizard = None;
                tasks::run(
                    ctx,
                    &t!("emit-booking-wizard"),
                    Command::Submit(cmd.clone()),
                    Some(cmd),
                );
            }
            Err(errors) => self.errors.wizard = Some(InlineError::Fields(errors)),
        }
    }

    fn start_bulk(&mut self, ctx: &mut Ctx<'_>) {
        let d = &self.drafts;
        let count = match d.bulk_count.trim().parse::<u64>() {
            Ok(n) if (1..=MAX_BULK).contains(&n) => n,
            _ => {
                self.errors.bulk = Some(InlineError::Input(t!(
                    "emit-bulk-count-invalid",
                    text = d.bulk_count.trim(),
                    max = MAX_BULK
                )));
                return;
            }
        };
        let rate = match d.bulk_rate.trim() {
            "" => None,
            r => match r.parse::<f64>() {
                Ok(r) if r > 0.0 && r.is_finite() => Some(r),
                _ => {
                    self.errors.bulk =
                        Some(InlineError::Input(t!("emit-bulk-rate-invalid", text = r)));
                    return;
                }
            },
        };
        self.errors.bulk = None;
        let spec = BulkSpec {
            mix: self.bulk_mix,
            rate_per_sec: rate,
            ..BulkSpec::bookings(count, None)
        };
        let Some(engine) = ctx.engine.cloned() else {
            return;
        };
        if let Some(job) = ctx.shell.jobs.start(JobKind::Bulk, true, ctx.outbox) {
            self.bulk_refusals = None;
            ctx.spawn(tasks::bulk(engine, spec, job, ctx.outbox.clone()));
        }
    }

    /// A message for the panel arrived.
    pub fn apply(&mut self, message: EmitMessage) {
        match message {
            EmitMessage::CommandDone {
                what,
                result,
                submitted,
            } => {
                let now = Instant::now();
                match result.as_ref() {
                    Ok(outcome) if outcome.duplicate => {
                        self.activity.on_duplicate(outcome.event.position, now);
                    }
                    Ok(outcome) => {
                        self.remember_targets(outcome);
                        self.activity.on_stored(outcome.event.position, now);
                    }
                    Err(refusal) => {
                        let why = match &refusal.error {
                            EngineError::Domain(rule) => rule.rule().to_string(),
                            error => error.to_string(),
                        };
                        self.activity.on_refused(&what, why, now);
                    }
                }
                if let Some(cmd) = submitted {
                    self.last_submit = Some(*cmd);
                }
                self.last_command = Some(LastCommand {
                    what,
                    result: *result,
                    at: now,
                });
            }
            EmitMessage::BulkRefusals(refusals) => self.bulk_refusals = Some(refusals),
        }
    }

    /// The ledger's head moved (by this window or another).
    pub fn on_head_changed(&mut self, head: u64) {
        self.activity.on_head(head, Instant::now());
    }

    /// The stores changed: the last answer was of the old ones.
    pub fn on_disconnect(&mut self) {
        self.last_command = None;
        self.last_submit = None;
        self.recent_notices.clear();
        self.activity.clear();
        self.bulk_refusals = None;
    }

    /// The engine did something (the anatomy shows projections as they land).
    pub fn on_notice(&mut self, notice: &EngineNotice) {
        self.activity.on_notice(notice, Instant::now());
        if matches!(notice, EngineNotice::ProjectionApplied { .. }) {
            if self.recent_notices.len() >= NOTICE_HISTORY {
                self.recent_notices.pop_front();
            }
            self.recent_notices.push_back(notice.clone());
        }
    }

    /// The forms target what the last command created.
    fn remember_targets(&mut self, outcome: &CommandOutcome) {
        match outcome.event.decode() {
            Ok(DomainEvent::BookingWizardCompleted {
                booking_id, user, ..
            }) => {
                self.drafts.target_booking = booking_id.to_string();
                self.drafts.target_user = user.user_id.to_string();
            }
            Ok(DomainEvent::UserAddressChanged { user_id, .. }) => {
                self.drafts.target_user = user_id.to_string();
            }
            _ => {}
        }
    }
}
