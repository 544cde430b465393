//! Bulk generation: runs the real handlers many times with realistic data,
//! for demos, trainings and benchmarks. With a seed the commands (and their
//! client UUIDs) are the same every run, so a re-run is all duplicates.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::generate::{DemoRng, address, booking_form};
use crate::domain::{CancelBooking, ChangeUserAddress, RescheduleBooking, user_id_for_email};
use crate::engine::handler::Command;
use crate::engine::job::{JobControl, Phase};
use crate::engine::{Engine, EngineError, EngineResult};

/// What to generate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BulkSpec {
    /// How many commands.
    pub count: u64,
    /// Seed for deterministic data (random when `None`).
    pub seed: Option<u64>,
    /// Mix in cancellations, reschedules and address changes (about 20%).
    pub mix: bool,
    /// Commands per second (`None` = as fast as possible).
    pub rate_per_sec: Option<f64>,
    /// Distinct customers to draw from.
    pub customers: u64,
}

impl BulkSpec {
    /// `count` booking-wizard submissions, as fast as possible.
    pub fn bookings(count: u64, seed: Option<u64>) -> Self {
        BulkSpec {
            count,
            seed,
            mix: false,
            rate_per_sec: None,
            customers: (count / 3).max(10),
        }
    }
}

/// What a bulk run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkReport {
    /// Commands run.
    pub done: u64,
    /// Commands asked for.
    pub total: u64,
    /// New events stored.
    pub emitted: u64,
    /// Retries answered with the stored event.
    pub duplicates: u64,
    /// Refused by a business rule (e.g. cancelling a cancelled booking).
    pub rejected: u64,
    /// Ledger head after the last command.
    pub head: u64,
    /// The first [`MAX_REFUSALS`] refusals, in command order (`rejected`
    /// counts them all).
    pub refusals: Vec<BulkRefusal>,
}

/// Refusals a bulk run keeps (it counts them all).
pub const MAX_REFUSALS: usize = 200;

/// One command of a bulk run that a business rule refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkRefusal {
    /// Which command of the run (1 is the first).
    pub command: u64,
    /// The handler that refused it.
    pub handler: String,
    /// The booking or user it was about.
    pub aggregate: Uuid,
    /// The rule, in a few words ([`crate::domain::DomainError::rule`]).
    pub rule: String,
    /// Why: what the rule found.
    pub reason: String,
}

impl Engine {
    /// Runs the handlers `spec.count` times. Stops at the first infrastructure
    /// error (the commands before it stay stored) or when `cancel` is set.
    /// Progress ([`Phase::Commands`]) goes to `job`, which can stop it.
    pub async fn emit_bulk(&self, spec: &BulkSpec, job: &JobControl) -> EngineResult<BulkReport> {
        self.guard_write("generating events")?;
        let seed = spec.seed.unwrap_or_else(|| Uuid::new_v4().as_u64_pair().0);
        let mut rng = DemoRng::new(seed);
        let mut bookings: Vec<Uuid> = Vec::new();
        let mut users: Vec<Uuid> = Vec::new();
        let mut known_users: HashSet<Uuid> = HashSet::new();
        let mut p = BulkReport {
            total: spec.count,
            ..BulkReport::default()
        };
        let started = Instant::now();
        let report_every = (spec.count / 200).max(1);
        for i in 0..spec.count {
            if job.is_cancelled() {
                break;
            }
            if let Some(rate) = spec.rate_per_sec.filter(|r| *r > 0.0) {
                let due = Duration::from_secs_f64(i as f64 / rate);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    tokio::time::sleep(wait).await;
                }
            }
            let roll = rng.below(100);
            let command_id = rng.uuid_v4();
            let command = if spec.mix && roll < 8 && !bookings.is_empty() {
                let target = *rng.pick(&bookings);
                CancelBooking::new(command_id, target, "changed plans").map(Command::Cancel)
            } else if spec.mix && roll < 14 && !bookings.is_empty() {
                let target = *rng.pick(&bookings);
                let form = booking_form(&mut rng, spec.customers);
                RescheduleBooking::new(command_id, target, &form.check_in, &form.check_out)
                    .map(Command::Reschedule)
            } else if spec.mix && roll < 18 && !users.is_empty() {
                let target = *rng.pick(&users);
                ChangeUserAddress::new(command_id, target, &address(&mut rng))
                    .map(Command::ChangeAddress)
            } else {
                let form = booking_form(&mut rng, spec.customers);
                form.validate(command_id).map(|cmd| {
                    bookings.push(cmd.booking_id);
                    let user = user_id_for_email(&cmd.user.email);
                    if users.len() < 100_000 && known_users.insert(user) {
                        users.push(user);
                    }
                    Command::Submit(cmd)
                })
            };
            let command = command.map_err(EngineError::Invalid)?;
            let (handler, aggregate) = (command.handler(), command.aggregate_id());
            let result = self.handle(command).await;
            match result {
                Ok(outcome) if outcome.duplicate => {
                    p.duplicates += 1;
                    p.head = p.head.max(outcome.event.position);
                }
                Ok(outcome) => {
                    p.emitted += 1;
                    p.head = outcome.event.position;
                }
                Err(EngineError::Domain(refused)) => {
                    p.rejected += 1;
                    if p.refusals.len() < MAX_REFUSALS {
                        p.refusals.push(BulkRefusal {
                            command: i + 1,
                            handler: handler.to_string(),
                            aggregate,
                            rule: refused.rule().to_string(),
                            reason: refused.to_string(),
                        });
                    }
                }
                Err(error) => return Err(error),
            }
            p.done = i + 1;
            if p.done.is_multiple_of(report_every) || p.done == spec.count {
                job.step(Phase::Commands, p.done, spec.count, started);
            }
        }
        p.head = p.head.max(self.stores.ledger.head().await?);
        Ok(p)
    }
}
