//! Whose data is where: every event of the ledger that carries one person's
//! data, with its position and the fields that hold it (what a
//! data-protection request asks for).

use std::collections::HashSet;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::personal::personal_fields_of;
use crate::domain::{DomainEvent, user_id_for_email};
use crate::engine::job::{JobControl, Phase};
use crate::engine::{Engine, EngineError, EngineResult};
use crate::store::PageReader;

const PAGE: usize = 2_000;

/// The person asked about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// By user id.
    UserId(Uuid),
    /// By e-mail (matched as the app matches e-mails: trimmed, any case).
    Email(String),
}

impl Subject {
    /// Reads what a user typed: a UUID is an id, anything else an e-mail.
    pub fn parse(text: &str) -> Self {
        match Uuid::parse_str(text.trim()) {
            Ok(id) => Self::UserId(id),
            Err(_) => Self::Email(text.trim().to_lowercase()),
        }
    }

    /// The user id this subject stands for.
    pub fn user_id(&self) -> Uuid {
        match self {
            Self::UserId(id) => *id,
            Self::Email(email) => user_id_for_email(email),
        }
    }
}

/// One event that carries the subject's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectEvent {
    /// Its position.
    pub position: u64,
    /// Its type as stored.
    pub event_type: String,
    /// Its aggregate.
    pub aggregate_id: Uuid,
    /// The payload fields that hold the subject's data (dotted paths); empty
    /// for an event about one of their bookings that holds none.
    pub fields: Vec<String>,
    /// Why it is listed, in a few words.
    pub why: String,
}

/// Every event of the ledger with the subject's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectReport {
    /// The user id searched for.
    pub user_id: Uuid,
    /// The e-mails seen on their events.
    pub emails: Vec<String>,
    /// Their bookings (aggregate ids).
    pub bookings: Vec<Uuid>,
    /// The events, in position order.
    pub events: Vec<SubjectEvent>,
    /// Malformed rows whose raw text names them (id or e-mail), by position.
    pub malformed: Vec<u64>,
    /// The head the search read up to.
    pub head: u64,
}

impl Engine {
    /// Reads the whole ledger once and lists every event that carries the
    /// subject's data: the wizards that name them (e-mail, name, address),
    /// their address changes, and the events about their bookings.
    /// Progress ([`Phase::Reading`], positions) goes to `job`.
    pub async fn subject(&self, who: &Subject, job: &JobControl) -> EngineResult<SubjectReport> {
        let started = Instant::now();
        let user_id = who.user_id();
        let email = match who {
            Subject::Email(email) => Some(email.clone()),
            Subject::UserId(_) => None,
        };
        let head = self.stores.ledger.head().await?;
        let mut report = SubjectReport {
            user_id,
            emails: Vec::new(),
            bookings: Vec::new(),
            events: Vec::new(),
            malformed: Vec::new(),
            head,
        };
        let mut bookings = HashSet::new();
        let id_text = user_id.to_string();
        let mut pages = PageReader::new(1, PAGE);
        while pages.read_up_to() < head {
            if job.is_cancelled() {
                return Err(EngineError::Cancelled);
            }
            let Some(page) = pages.next(self.stores.ledger.as_ref()).await? else {
                break;
            };
            for entry in &page {
                let event = match entry {
                    Ok(event) => event,
                    Err(bad) => {
                        let raw = bad.raw.to_lowercase();
                        if raw.contains(&id_text)
                            || email.as_deref().is_some_and(|e| raw.contains(e))
                        {
                            report.malformed.push(bad.position);
                        }
                        continue;
                    }
                };
                let Ok(domain) = event.decode() else {
                    continue;
                };
                let fields = || -> Vec<String> {
                    personal_fields_of(&event.event_type)
                        .map(|f| f.dotted())
                        .collect()
                };
                let listed = match &domain {
                    DomainEvent::BookingWizardCompleted {
                        booking_id, user, ..
                    } => {
                        let by_email = email
                            .as_deref()
                            .is_some_and(|e| user.email.trim().eq_ignore_ascii_case(e));
                        (user.user_id == user_id || by_email).then(|| {
                            if bookings.insert(*booking_id) {
                                report.bookings.push(*booking_id);
                            }
                            let seen = user.email.trim().to_lowercase();
                            if !report.emails.contains(&seen) {
                                report.emails.push(seen);
                            }
                            (fields(), "their booking wizard: who booked")
                        })
                    }
                    DomainEvent::UserAddressChanged { user_id: id, .. } => {
                        (*id == user_id).then(|| (fields(), "their address change"))
                    }
                    DomainEvent::BookingCancelled { booking_id, .. } => bookings
                        .contains(booking_id)
                        .then(|| (vec!["reason".to_owned()], "one of their bookings cancelled")),
                    DomainEvent::BookingRescheduled { booking_id, .. } => bookings
                        .contains(booking_id)
                        .then(|| (Vec::new(), "one of their bookings moved")),
                };
                if let Some((fields, why)) = listed {
                    report.events.push(SubjectEvent {
                        position: event.position,
                        event_type: event.event_type.clone(),
                        aggregate_id: event.aggregate_id,
                        fields,
                        why: why.to_owned(),
                    });
                }
            }
            job.step(Phase::Reading, pages.read_up_to(), head, started);
        }
        Ok(report)
    }
}
