//! Domain events and the `StoredEvent` envelope the ledger keeps them in.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Schema version written into every new event's envelope.
pub const SCHEMA_VERSION: u32 = 1;

/// Namespace for deriving a user's id from their (normalised) e-mail address.
const USER_NAMESPACE: Uuid = Uuid::from_u128(0x6c65_6467_6572_7363_6f70_6575_7365_7273);

/// A user's id: a UUID v5 of the lower-cased e-mail, so the same person booking
/// twice is the same user in every read model and every replay.
pub fn user_id_for_email(email: &str) -> Uuid {
    Uuid::new_v5(&USER_NAMESPACE, email.trim().to_lowercase().as_bytes())
}

/// Who booked: the user part of the booking wizard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetails {
    /// Derived from the e-mail with [`user_id_for_email`].
    pub user_id: Uuid,
    /// Contact e-mail, trimmed.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Postal address ("Calle A").
    pub address: String,
}

/// What was booked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingDetails {
    /// The booked service (room type, tour, ...).
    pub service: String,
    /// First night.
    pub check_in: NaiveDate,
    /// Departure day; always after `check_in`.
    pub check_out: NaiveDate,
    /// Number of guests, 1..=20.
    pub guests: u32,
    /// Total price in cents, never negative.
    pub price_cents: i64,
}

/// A booking's lifecycle status as the projections see it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// Booked and not cancelled.
    #[default]
    Confirmed,
    /// Cancelled; the history stays in the ledger.
    Cancelled,
}

impl BookingStatus {
    /// The stored spelling (`confirmed`, `cancelled`).
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::Cancelled => "cancelled",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "confirmed" => Some(BookingStatus::Confirmed),
            "cancelled" => Some(BookingStatus::Cancelled),
            _ => None,
        }
    }
}

/// The facts this system records. Immutable once built.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DomainEvent {
    /// The booking wizard was submitted: a new booking (and maybe a new user).
    BookingWizardCompleted {
        /// The client's UUID v4; also the aggregate id.
        booking_id: Uuid,
        /// Who booked.
        user: UserDetails,
        /// What was booked.
        booking: BookingDetails,
    },
    /// A booking was cancelled.
    BookingCancelled {
        /// The booking.
        booking_id: Uuid,
        /// Why, as given by the actor (may be empty).
        reason: String,
    },
    /// A booking's dates moved.
    BookingRescheduled {
        /// The booking.
        booking_id: Uuid,
        /// New first night.
        check_in: NaiveDate,
        /// New departure day.
        check_out: NaiveDate,
    },
    /// A user moved ("Calle A" -> "Calle B"); the old value stays in history.
    UserAddressChanged {
        /// The user.
        user_id: Uuid,
        /// The address before the change.
        old_address: String,
        /// The address after the change.
        new_address: String,
    },
}

/// Event type names as stored in the envelope.
pub mod event_types {
    /// See [`super::DomainEvent::BookingWizardCompleted`].
    pub const BOOKING_WIZARD_COMPLETED: &str = "BookingWizardCompleted";
    /// See [`super::DomainEvent::BookingCancelled`].
    pub const BOOKING_CANCELLED: &str = "BookingCancelled";
    /// See [`super::DomainEvent::BookingRescheduled`].
    pub const BOOKING_RESCHEDULED: &str = "BookingRescheduled";
    /// See [`super::DomainEvent::UserAddressChanged`].
    pub const USER_ADDRESS_CHANGED: &str = "UserAddressChanged";
    /// Every type this build understands.
    pub const ALL: [&str; 4] = [
        BOOKING_WIZARD_COMPLETED,
        BOOKING_CANCELLED,
        BOOKING_RESCHEDULED,
        USER_ADDRESS_CHANGED,
    ];
}

/// Aggregate type names as stored in the envelope.
pub mod aggregate_types {
    /// Bookings: their stream holds wizard, cancel and reschedule events.
    pub const BOOKING: &str = "booking";
    /// Users: their stream holds address changes.
    pub const USER: &str = "user";
}

#[derive(Serialize, Deserialize)]
struct WizardPayload {
    booking_id: Uuid,
    user: UserDetails,
    booking: BookingDetails,
}

#[derive(Serialize, Deserialize)]
struct CancelPayload {
    booking_id: Uuid,
    #[serde(default)]
    reason: String,
}

#[derive(Serialize, Deserialize)]
struct ReschedulePayload {
    booking_id: Uuid,
    check_in: NaiveDate,
    check_out: NaiveDate,
}

#[derive(Serialize, Deserialize)]
struct AddressPayload {
    user_id: Uuid,
    old_address: String,
    new_address: String,
}

/// Where a payload is decoded from: a parsed [`Value`] or the JSON text.
trait PayloadSource {
    fn parse<T: serde::de::DeserializeOwned>(self, event_type: &str) -> Result<T, DecodeError>;
}

fn bad_payload(event_type: &str, error: serde_json::Error) -> DecodeError {
    DecodeError::BadPayload {
        event_type: event_type.to_string(),
        reason: error.to_string(),
    }
}

impl PayloadSource for &Value {
    fn parse<T: serde::de::DeserializeOwned>(self, event_type: &str) -> Result<T, DecodeError> {
        T::deserialize(self).map_err(|e| bad_payload(event_type, e))
    }
}

/// A payload's JSON text. Refuses a payload with fields no payload struct
/// reads: serde skips those without the checks a [`Value`] makes of them
/// (number ranges, nesting depth, escapes).
struct JsonText<'a>(&'a str);

impl PayloadSource for JsonText<'_> {
    fn parse<T: serde::de::DeserializeOwned>(self, event_type: &str) -> Result<T, DecodeError> {
        let mut unread = false;
        let mut json = serde_json::Deserializer::from_str(self.0);
        let parsed = serde_ignored::deserialize(&mut json, |_| unread = true)
            .and_then(|value| json.end().map(|()| value))
            .map_err(|e| bad_payload(event_type, e))?;
        if unread {
            return Err(DecodeError::BadPayload {
                event_type: event_type.to_string(),
                reason: "it has fields this build does not read".into(),
            });
        }
        Ok(parsed)
    }
}

/// Why an envelope's payload could not be turned into a [`DomainEvent`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The event type is not one this build knows (shown, never fatal).
    #[error("unknown event type '{0}'")]
    UnknownType(String),
    /// A newer schema than this build understands.
    #[error("{event_type} schema version {found} is newer than supported version {supported}")]
    UnsupportedSchema {
        /// The event's type.
        event_type: String,
        /// Version found in the envelope.
        found: u32,
        /// Highest version this build reads.
        supported: u32,
    },
    /// The payload does not have the fields and types the event type requires.
    #[error("{event_type} payload is malformed: {reason}")]
    BadPayload {
        /// The event's type.
        event_type: String,
        /// What serde said.
        reason: String,
    },
    /// The payload is well-formed but contradicts its envelope (e.g. another aggregate id).
    #[error("{0}")]
    Inconsistent(String),
}

impl DomainEvent {
    /// The type name stored in the envelope.
    pub fn event_type(&self) -> &'static str {
        use event_types::*;
        match self {
            DomainEvent::BookingWizardCompleted { .. } => BOOKING_WIZARD_COMPLETED,
            DomainEvent::BookingCancelled { .. } => BOOKING_CANCELLED,
            DomainEvent::BookingRescheduled { .. } => BOOKING_RESCHEDULED,
            DomainEvent::UserAddressChanged { .. } => USER_ADDRESS_CHANGED,
        }
    }

    /// The aggregate this event belongs to: (type, id).
    pub fn aggregate(&self) -> (&'static str, Uuid) {
        match self {
            DomainEvent::BookingWizardCompleted { booking_id, .. }
            | DomainEvent::BookingCancelled { booking_id, .. }
            | DomainEvent::BookingRescheduled { booking_id, .. } => {
                (aggregate_types::BOOKING, *booking_id)
            }
            DomainEvent::UserAddressChanged { user_id, .. } => (aggregate_types::USER, *user_id),
        }
    }

    /// The JSON payload stored in the envelope.
    pub fn to_payload(&self) -> Value {
        let value = match self.clone() {
            DomainEvent::BookingWizardCompleted {
                booking_id,
                user,
                booking,
            } => serde_json::to_value(WizardPayload {
                booking_id,
                user,
                booking,
            }),
            DomainEvent::BookingCancelled { booking_id, reason } => {
                serde_json::to_value(CancelPayload { booking_id, reason })
            }
            DomainEvent::BookingRescheduled {
                booking_id,
                check_in,
                check_out,
            } => serde_json::to_value(ReschedulePayload {
                booking_id,
                check_in,
                check_out,
            }),
            DomainEvent::UserAddressChanged {
                user_id,
                old_address,
                new_address,
            } => serde_json::to_value(AddressPayload {
                user_id,
                old_address,
                new_address,
            }),
        };
        // Serialising plain structs of strings, numbers, dates and UUIDs cannot fail.
        value.unwrap_or(Value::Null)
    }

    /// Decodes a payload of the given type and schema version.
    pub fn decode(
        event_type: &str,
        schema_version: u32,
        payload: &Value,
    ) -> Result<Self, DecodeError> {
        Self::decode_from(event_type, schema_version, payload)
    }

    /// [`Self::decode`] straight from the payload's JSON text, with no
    /// [`Value`] in between (the fold's hot path): `Some` holds exactly what
    /// `decode` gives for the text parsed as a `Value`. `None` when the text
    /// does not decode this way (bad JSON or payload, unknown type, fields
    /// this build does not read): `decode` through a `Value` says why, or
    /// decodes it.
    pub fn decode_text(event_type: &str, schema_version: u32, payload: &str) -> Option<Self> {
        Self::decode_from(event_type, schema_version, JsonText(payload)).ok()
    }

    fn decode_from(
        event_type: &str,
        schema_version: u32,
        payload: impl PayloadSource,
    ) -> Result<Self, DecodeError> {
        use event_types::*;
        if !ALL.contains(&event_type) {
            return Err(DecodeError::UnknownType(event_type.to_string()));
        }
        if schema_version == 0 || schema_version > SCHEMA_VERSION {
            return Err(DecodeError::UnsupportedSchema {
                event_type: event_type.to_string(),
                found: schema_version,
                supported: SCHEMA_VERSION,
            });
        }
        let event = match event_type {
            BOOKING_WIZARD_COMPLETED => {
                let p: WizardPayload = payload.parse(event_type)?;
                if p.booking.check_out <= p.booking.check_in {
                    return Err(DecodeError::Inconsistent(format!(
                        "{event_type}: check_out {} is not after check_in {}",
                        p.booking.check_out, p.booking.check_in
                    )));
                }
                DomainEvent::BookingWizardCompleted {
                    booking_id: p.booking_id,
                    user: p.user,
                    booking: p.booking,
                }
            }
            BOOKING_CANCELLED => {
                let p: CancelPayload = payload.parse(event_type)?;
                DomainEvent::BookingCancelled {
                    booking_id: p.booking_id,
                    reason: p.reason,
                }
            }
            BOOKING_RESCHEDULED => {
                let p: ReschedulePayload = payload.parse(event_type)?;
                DomainEvent::BookingRescheduled {
                    booking_id: p.booking_id,
                    check_in: p.check_in,
                    check_out: p.check_out,
                }
            }
            _ => {
                let p: AddressPayload = payload.parse(event_type)?;
                DomainEvent::UserAddressChanged {
                    user_id: p.user_id,
                    old_address: p.old_address,
                    new_address: p.new_address,
                }
            }
        };
        Ok(event)
    }

    /// [`StoredEvent::decode`] from the envelope's parts and the payload's
    /// JSON text, as [`Self::decode_text`] (`None`: decode the envelope).
    pub fn decode_envelope_text(
        event_type: &str,
        schema_version: u32,
        aggregate_type: &str,
        aggregate_id: Uuid,
        payload: &str,
    ) -> Option<Self> {
        let event = Self::decode_text(event_type, schema_version, payload)?;
        event.check_envelope(aggregate_type, aggregate_id).ok()?;
        Some(event)
    }

    /// Refuses a payload whose aggregate is not the envelope's.
    fn check_envelope(&self, aggregate_type: &str, aggregate_id: Uuid) -> Result<(), DecodeError> {
        let (own_type, own_id) = self.aggregate();
        if own_id != aggregate_id || own_type != aggregate_type {
            return Err(DecodeError::Inconsistent(format!(
                "payload belongs to {own_type} {own_id} but the envelope says {aggregate_type} {aggregate_id}"
            )));
        }
        Ok(())
    }

    /// One line for timelines and logs.
    pub fn summary(&self) -> String {
        match self {
            DomainEvent::BookingWizardCompleted { user, booking, .. } => format!(
                "{} booked {} for {} guest(s), {} -> {}, {}",
                user.email,
                booking.service,
                booking.guests,
                booking.check_in,
                booking.check_out,
                format_cents(booking.price_cents)
            ),
            DomainEvent::BookingCancelled { reason, .. } if reason.is_empty() => {
                "cancelled".to_string()
            }
            DomainEvent::BookingCancelled { reason, .. } => format!("cancelled: {reason}"),
            DomainEvent::BookingRescheduled {
                check_in,
                check_out,
                ..
            } => format!("rescheduled to {check_in} -> {check_out}"),
            DomainEvent::UserAddressChanged {
                old_address,
                new_address,
                ..
            } => format!("address {old_address} -> {new_address}"),
        }
    }
}

/// Formats cents as a decimal amount ("1234.50").
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// A change of an amount in cents, with its sign: `+12.50`, `-3.00`, `0.00`.
pub fn format_signed_cents(cents: i64) -> String {
    let amount = format_cents(cents);
    if cents > 0 {
        format!("+{amount}")
    } else {
        amount
    }
}

/// Who and what caused an event: command id, correlation, causation, actor, instance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    /// The command's client-generated id (idempotency key).
    #[serde(default)]
    pub command_id: Option<Uuid>,
    /// Groups the events of one user journey.
    #[serde(default)]
    pub correlation_id: Option<Uuid>,
    /// The event or command that caused this one, if any.
    #[serde(default)]
    pub causation_id: Option<Uuid>,
    /// Who issued the command (`cli:user`, `gui:trainer`, ...).
    #[serde(default)]
    pub actor: Option<String>,
    /// Which app instance wrote it.
    #[serde(default)]
    pub app_instance: Option<String>,
}

/// The envelope the ledger stores: a domain event plus where, when and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Global, gap-free position in commit order (assigned by the ledger on append;
    /// ignored on input).
    pub position: u64,
    /// Unique id of the event (the idempotency key of the append).
    pub event_id: Uuid,
    /// The aggregate the event belongs to.
    pub aggregate_id: Uuid,
    /// `booking` or `user`.
    pub aggregate_type: String,
    /// 1-based version within the aggregate's stream.
    pub version: u64,
    /// Event type name, see [`event_types`].
    pub event_type: String,
    /// Payload schema version.
    pub schema_version: u32,
    /// When the ledger accepted it.
    pub recorded_at: DateTime<Utc>,
    /// The event's data.
    pub payload: Value,
    /// Causation and provenance.
    #[serde(default)]
    pub metadata: EventMetadata,
}

impl StoredEvent {
    /// Wraps a domain event in an envelope (position 0 until the ledger assigns one).
    pub fn wrap(
        event: &DomainEvent,
        event_id: Uuid,
        version: u64,
        recorded_at: DateTime<Utc>,
        metadata: EventMetadata,
    ) -> Self {
        let (aggregate_type, aggregate_id) = event.aggregate();
        StoredEvent {
            position: 0,
            event_id,
            aggregate_id,
            aggregate_type: aggregate_type.to_string(),
            version,
            event_type: event.event_type().to_string(),
            schema_version: SCHEMA_VERSION,
            // Stores keep microseconds; the first answer must equal every later read.
            recorded_at: recorded_at.trunc_subsecs(6),
            payload: event.to_payload(),
            metadata,
        }
    }

    /// Decodes the payload and checks it agrees with the envelope.
    pub fn decode(&self) -> Result<DomainEvent, DecodeError> {
        let event = DomainEvent::decode(&self.event_type, self.schema_version, &self.payload)?;
        event.check_envelope(&self.aggregate_type, self.aggregate_id)?;
        Ok(event)
    }

    /// One line for timelines: the decoded summary, or why it could not be decoded.
    pub fn summary(&self) -> String {
        match self.decode() {
            Ok(event) => event.summary(),
            Err(error) => format!("(undecodable) {error}"),
        }
    }
}

#[cfg(test)]
mod tests;
