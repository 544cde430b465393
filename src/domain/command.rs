//! Commands and their validation. Forms arrive as text (from the GUI or the
//! CLI); validation trims, caps and parses them into typed commands, or lists
//! every field that is wrong.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::{BookingDetails, DomainEvent, UserDetails, format_cents, user_id_for_email};

/// Longest accepted e-mail (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest accepted name.
pub const MAX_NAME_CHARS: usize = 120;
/// Longest accepted address.
pub const MAX_ADDRESS_CHARS: usize = 200;
/// Longest accepted service name.
pub const MAX_SERVICE_CHARS: usize = 100;
/// Longest accepted cancellation reason.
pub const MAX_REASON_CHARS: usize = 500;
/// Guests per booking.
pub const GUESTS_RANGE: std::ops::RangeInclusive<u32> = 1..=20;
/// Highest accepted price, in cents (10 million).
pub const MAX_PRICE_CENTS: i64 = 1_000_000_000;

/// One wrong field and what is wrong with it, for inline form messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The form field's name (`email`, `check_in`, ...).
    pub field: String,
    /// A sentence a user can act on.
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Joins field errors into one line.
pub fn describe_errors(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The booking wizard as typed by a person: all text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingWizardForm {
    /// E-mail address.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Postal address.
    pub address: String,
    /// Booked service.
    pub service: String,
    /// `YYYY-MM-DD`.
    pub check_in: String,
    /// `YYYY-MM-DD`, after check-in.
    pub check_out: String,
    /// 1..=20.
    pub guests: String,
    /// Decimal amount, e.g. `120.50`.
    pub price: String,
}

/// "Submit the booking wizard": the command behind "Generate New Event".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitBookingWizard {
    /// The client's UUID v4: idempotency key and the new booking's aggregate id.
    pub booking_id: Uuid,
    /// Who books.
    pub user: UserDetails,
    /// What is booked.
    pub booking: BookingDetails,
}

/// Cancel a booking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelBooking {
    /// Client-generated idempotency key.
    pub command_id: Uuid,
    /// The booking.
    pub booking_id: Uuid,
    /// Free text, may be empty.
    pub reason: String,
}

/// Move a booking's dates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RescheduleBooking {
    /// Client-generated idempotency key.
    pub command_id: Uuid,
    /// The booking.
    pub booking_id: Uuid,
    /// New first night.
    pub check_in: NaiveDate,
    /// New departure day.
    pub check_out: NaiveDate,
}

/// Change a user's address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeUserAddress {
    /// Client-generated idempotency key.
    pub command_id: Uuid,
    /// The user.
    pub user_id: Uuid,
    /// The new address.
    pub new_address: String,
}

struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_string(),
            message: message.into(),
        });
    }

    /// Trims, rejects control characters, and caps the length (in characters).
    fn text(&mut self, field: &str, value: &str, max_chars: usize, required: bool) -> String {
        let trimmed = value.trim();
        let chars = trimmed.chars().count();
        if required && chars == 0 {
            self.fail(field, "is required");
        } else if chars > max_chars {
            self.fail(
                field,
                format!("is {chars} characters long; at most {max_chars} are allowed"),
            );
        } else if trimmed.chars().any(char::is_control) {
            self.fail(field, "contains control characters (tabs, newlines, ...)");
        }
        trimmed.to_string()
    }

    fn email(&mut self, value: &str) -> String {
        let email = self.text("email", value, MAX_EMAIL_CHARS, true);
        if !email.is_empty() && !is_email_shaped(&email) {
            self.fail(
                "email",
                format!("'{}' does not look like name@example.com", clip(&email, 60)),
            );
        }
        email
    }

    fn date(&mut self, field: &str, value: &str) -> Option<NaiveDate> {
        let text = value.trim();
        if text.is_empty() {
            self.fail(field, "is required (YYYY-MM-DD)");
            return None;
        }
        match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) => Some(date),
            Err(_) => {
                self.fail(
                    field,
                    format!("'{}' is not a date like 2026-07-14", clip(text, 40)),
                );
                None
            }
        }
    }

    fn date_order(&mut self, check_in: Option<NaiveDate>, check_out: Option<NaiveDate>) {
        if let (Some(check_in), Some(check_out)) = (check_in, check_out)
            && check_out <= check_in
        {
            self.fail("check_out", format!("must be after check-in ({check_in})"));
        }
    }

    fn guests(&mut self, value: &str) -> u32 {
        match value.trim().parse::<u32>() {
            Ok(n) if GUESTS_RANGE.contains(&n) => n,
            _ => {
                self.fail(
                    "guests",
                    format!(
                        "must be a whole number from {} to {}",
                        GUESTS_RANGE.start(),
                        GUESTS_RANGE.end()
                    ),
                );
                0
            }
        }
    }

    fn price(&mut self, value: &str) -> i64 {
        match parse_price_cents(value) {
            Some(cents) if (0..=MAX_PRICE_CENTS).contains(&cents) => cents,
            Some(cents) if cents < 0 => {
                self.fail("price", "must not be negative");
                0
            }
            Some(_) => {
                self.fail(
                    "price",
                    format!("must be at most {}", MAX_PRICE_CENTS / 100),
                );
                0
            }
            None => {
                self.fail("price", "must be an amount like 120 or 120.50");
                0
            }
        }
    }

    fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }
}

fn clip(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let mut clipped: String = text.chars().take(max_chars).collect();
        clipped.push('…');
        clipped
    }
}

/// A pragmatic e-mail shape check: one `@`, a non-empty local part, a dotted
/// domain, no spaces or quotes.
pub fn is_email_shaped(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let bad_char = |c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>' || c == ',';
    !local.is_empty()
        && !domain.contains('@')
        && !email.chars().any(bad_char)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

/// Parses `120`, `120.5` or `120.50` into cents; `None` for anything else.
pub fn parse_price_cents(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || whole.len() > 12 || frac.len() > 2 {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    let cents = whole.checked_mul(100)?.checked_add(frac)?;
    Some(if negative { -cents } else { cents })
}

impl BookingWizardForm {
    /// Validates the form into a command carrying the client's UUID.
    pub fn validate(&self, booking_id: Uuid) -> Result<SubmitBookingWizard, Vec<FieldError>> {
        let mut c = Checker { errors: Vec::new() };
        let email = c.email(&self.email);
        let name = c.text("name", &self.name, MAX_NAME_CHARS, true);
        let address = c.text("address", &self.address, MAX_ADDRESS_CHARS, true);
        let service = c.text("service", &self.service, MAX_SERVICE_CHARS, true);
        let check_in = c.date("check_in", &self.check_in);
        let check_out = c.date("check_out", &self.check_out);
        c.date_order(check_in, check_out);
        let guests = c.guests(&self.guests);
        let price_cents = c.price(&self.price);
        if booking_id.is_nil() {
            c.fail("booking_id", "must not be the nil UUID");
        }
        let (Some(check_in), Some(check_out)) = (check_in, check_out) else {
            return Err(c.errors);
        };
        c.finish(SubmitBookingWizard {
            booking_id,
            user: UserDetails {
                user_id: user_id_for_email(&email),
                email,
                name,
                address,
            },
            booking: BookingDetails {
                service,
                check_in,
                check_out,
                guests,
                price_cents,
            },
        })
    }
}

impl CancelBooking {
    /// Validates the reason (trimmed, capped).
    pub fn new(command_id: Uuid, booking_id: Uuid, reason: &str) -> Result<Self, Vec<FieldError>> {
        let mut c = Checker { errors: Vec::new() };
        let reason = c.text("reason", reason, MAX_REASON_CHARS, false);
        c.finish(CancelBooking {
            command_id,
            booking_id,
            reason,
        })
    }
}

impl RescheduleBooking {
    /// Validates the new dates.
    pub fn new(
        command_id: Uuid,
        booking_id: Uuid,
        check_in: &str,
        check_out: &str,
    ) -> Result<Self, Vec<FieldError>> {
        let mut c = Checker { errors: Vec::new() };
        let new_in = c.date("check_in", check_in);
        let new_out = c.date("check_out", check_out);
        c.date_order(new_in, new_out);
        let (Some(check_in), Some(check_out)) = (new_in, new_out) else {
            return Err(c.errors);
        };
        c.finish(RescheduleBooking {
            command_id,
            booking_id,
            check_in,
            check_out,
        })
    }
}

impl ChangeUserAddress {
    /// Validates the new address.
    pub fn new(
        command_id: Uuid,
        user_id: Uuid,
        new_address: &str,
    ) -> Result<Self, Vec<FieldError>> {
        let mut c = Checker { errors: Vec::new() };
        let new_address = c.text("address", new_address, MAX_ADDRESS_CHARS, true);
        c.finish(ChangeUserAddress {
            command_id,
            user_id,
            new_address,
        })
    }
}

/// What the command checks would say of an event that is already written
/// (an import, another writer): the same rules `emit` and the forms apply,
/// field by field. Empty when a command could have written it.
pub fn field_errors_of(event: &DomainEvent) -> Vec<FieldError> {
    match event {
        DomainEvent::BookingWizardCompleted {
            booking_id,
            user,
            booking,
        } => {
            let form = BookingWizardForm {
                email: user.email.clone(),
                name: user.name.clone(),
                address: user.address.clone(),
                service: booking.service.clone(),
                check_in: booking.check_in.to_string(),
                check_out: booking.check_out.to_string(),
                guests: booking.guests.to_string(),
                price: format_cents(booking.price_cents),
            };
            let mut errors = form.validate(*booking_id).err().unwrap_or_default();
            if errors.iter().all(|e| e.field != "email")
                && user.user_id != user_id_for_email(&user.email)
            {
                errors.push(FieldError {
                    field: "user_id".into(),
                    message: format!(
                        "{} is not the id of {}",
                        user.user_id,
                        clip(&user.email, 60)
                    ),
                });
            }
            errors
        }
        DomainEvent::BookingCancelled { booking_id, reason } => {
            CancelBooking::new(Uuid::nil(), *booking_id, reason)
                .err()
                .unwrap_or_default()
        }
        DomainEvent::BookingRescheduled {
            booking_id,
            check_in,
            check_out,
        } => RescheduleBooking::new(
            Uuid::nil(),
            *booking_id,
            &check_in.to_string(),
            &check_out.to_string(),
        )
        .err()
        .unwrap_or_default(),
        DomainEvent::UserAddressChanged {
            user_id,
            new_address,
            ..
        } => ChangeUserAddress::new(Uuid::nil(), *user_id, new_address)
            .err()
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests;
