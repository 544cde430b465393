//! Personal data in the ledger: which payload fields hold it (declared once,
//! here), and keyed pseudonyms that replace it in a training copy.
//!
//! A pseudonym is an HMAC-SHA256 of the value under a key the export makes
//! (or reads from a file): the same value gives the same pseudonym
//! everywhere in one copy, and without the key it cannot be turned back.
//! A user's id is derived from their e-mail ([`user_id_for_email`]), so the
//! copy gives each user a pseudonymous e-mail keyed on their id and the id
//! of that e-mail: every event of one user still names one user, and the
//! rules a command checks still hold on import.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use uuid::Uuid;

use super::event::{event_types, user_id_for_email};

/// What kind of personal value a field holds (it picks the pseudonym's shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersonalKind {
    /// A contact e-mail.
    Email,
    /// A person's name.
    Name,
    /// A street address.
    Address,
    /// A user's id, derived from their e-mail.
    UserId,
}

impl PersonalKind {
    /// The word for it in a sentence ("e-mail", "name", ...).
    pub fn label(self) -> &'static str {
        match self {
            Self::Email => "e-mail",
            Self::Name => "name",
            Self::Address => "address",
            Self::UserId => "user id",
        }
    }
}

/// One payload field that holds personal data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PersonalField {
    /// The event type whose payload holds it.
    pub event_type: &'static str,
    /// The field's path inside the payload.
    pub path: &'static [&'static str],
    /// What it holds.
    pub kind: PersonalKind,
}

impl PersonalField {
    /// The path as one dotted name (`user.email`).
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }
}

/// Every payload field of the note's events that holds personal data: the
/// wizard's `user` and the address change's two addresses. Masking, the
/// training copy and `subject` all read this list.
pub const PERSONAL_FIELDS: &[PersonalField] = &[
    PersonalField {
        event_type: event_types::BOOKING_WIZARD_COMPLETED,
        path: &["user", "user_id"],
        kind: PersonalKind::UserId,
    },
    PersonalField {
        event_type: event_types::BOOKING_WIZARD_COMPLETED,
        path: &["user", "email"],
        kind: PersonalKind::Email,
    },
    PersonalField {
        event_type: event_types::BOOKING_WIZARD_COMPLETED,
        path: &["user", "name"],
        kind: PersonalKind::Name,
    },
    PersonalField {
        event_type: event_types::BOOKING_WIZARD_COMPLETED,
        path: &["user", "address"],
        kind: PersonalKind::Address,
    },
    PersonalField {
        event_type: event_types::USER_ADDRESS_CHANGED,
        path: &["user_id"],
        kind: PersonalKind::UserId,
    },
    PersonalField {
        event_type: event_types::USER_ADDRESS_CHANGED,
        path: &["old_address"],
        kind: PersonalKind::Address,
    },
    PersonalField {
        event_type: event_types::USER_ADDRESS_CHANGED,
        path: &["new_address"],
        kind: PersonalKind::Address,
    },
];

/// The personal fields an event type's payload holds.
pub fn personal_fields_of(event_type: &str) -> impl Iterator<Item = &'static PersonalField> + '_ {
    PERSONAL_FIELDS
        .iter()
        .filter(move |f| f.event_type == event_type)
}

/// A key too short to keep pseudonyms from being guessed.
#[derive(Debug, thiserror::Error)]
#[error("a pseudonym key needs at least {MIN_KEY_BYTES} bytes; this one has {0}")]
pub struct ShortKey(pub usize);

/// The fewest bytes a pseudonym key may have.
pub const MIN_KEY_BYTES: usize = 16;

/// Replaces personal values with keyed pseudonyms.
pub struct Pseudonymizer {
    mac: Hmac<Sha256>,
}

impl Pseudonymizer {
    /// A pseudonymizer under `key` (at least [`MIN_KEY_BYTES`] bytes).
    pub fn new(key: &[u8]) -> Result<Self, ShortKey> {
        if key.len() < MIN_KEY_BYTES {
            return Err(ShortKey(key.len()));
        }
        let mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| ShortKey(key.len()))?;
        Ok(Self { mac })
    }

    /// A pseudonymizer under a fresh random key that is never written down:
    /// the copy cannot be turned back by anyone.
    pub fn with_random_key() -> Result<Self, ShortKey> {
        let mut key = Vec::with_capacity(32);
        key.extend_from_slice(Uuid::new_v4().as_bytes());
        key.extend_from_slice(Uuid::new_v4().as_bytes());
        Self::new(&key)
    }

    fn digest(&self, kind: PersonalKind, value: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(kind.label().as_bytes());
        mac.update(&[0]);
        mac.update(value);
        mac.finalize().into_bytes().into()
    }

    fn hex(&self, kind: PersonalKind, value: &[u8], chars: usize) -> String {
        let digest = self.digest(kind, value);
        digest
            .iter()
            .flat_map(|b| [b >> 4, b & 0xf])
            .take(chars)
            .map(|n| char::from_digit(u32::from(n), 16).unwrap_or('0'))
            .collect()
    }

    /// The pseudonymous e-mail of the user with this id.
    pub fn email_of_user(&self, user_id: Uuid) -> String {
        format!(
            "user-{}@example.invalid",
            self.hex(PersonalKind::Email, user_id.as_bytes(), 20)
        )
    }

    /// The pseudonymous id of the user with this id: the id of their
    /// pseudonymous e-mail.
    pub fn user_id(&self, user_id: Uuid) -> Uuid {
        user_id_for_email(&self.email_of_user(user_id))
    }

    /// A pseudonym for an e-mail on its own (mask mode: the same e-mail,
    /// whatever its case, gives the same pseudonym).
    pub fn masked_email(&self, email: &str) -> String {
        format!(
            "user-{}@example.invalid",
            self.hex(
                PersonalKind::Email,
                email.trim().to_lowercase().as_bytes(),
                12
            )
        )
    }

    /// A pseudonym for a name.
    pub fn name(&self, name: &str) -> String {
        format!(
            "Person {}",
            self.hex(PersonalKind::Name, name.trim().as_bytes(), 12)
        )
    }

    /// A pseudonym for a street address.
    pub fn address(&self, address: &str) -> String {
        format!(
            "Street {}",
            self.hex(PersonalKind::Address, address.trim().as_bytes(), 12)
        )
    }

    /// Replaces every personal value in one stored envelope (as JSON: the
    /// form export writes) and the aggregate id of a user's event. Fields
    /// this build does not know are left as they are; a personal field
    /// that is not a string (a foreign or broken document) is replaced by
    /// `null`, so nothing personal leaks through an odd shape.
    pub fn envelope(&self, envelope: &mut Value) {
        let event_type = envelope
            .get("event_type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let mut user_id = None;
        if let Some(payload) = envelope.get_mut("payload") {
            for field in personal_fields_of(&event_type) {
                let Some(slot) = pointer_mut(payload, field.path) else {
                    continue;
                };
                let replaced = match (field.kind, slot.as_str()) {
                    (PersonalKind::UserId, Some(text)) => match Uuid::parse_str(text) {
                        Ok(id) => {
                            user_id = Some(id);
                            Value::String(self.user_id(id).to_string())
                        }
                        Err(_) => Value::Null,
                    },
                    (PersonalKind::Email, Some(_)) => match user_id {
                        Some(id) => Value::String(self.email_of_user(id)),
                        None => Value::Null,
                    },
                    (PersonalKind::Name, Some(text)) => Value::String(self.name(text)),
                    (PersonalKind::Address, Some(text)) => Value::String(self.address(text)),
                    (_, None) => Value::Null,
                };
                *slot = replaced;
            }
        }
        if envelope.get("aggregate_type").and_then(Value::as_str)
            == Some(super::event::aggregate_types::USER)
            && let Some(slot) = envelope.get_mut("aggregate_id")
        {
            *slot = match slot.as_str().map(Uuid::parse_str) {
                Some(Ok(id)) => Value::String(self.user_id(id).to_string()),
                _ => Value::Null,
            };
        }
    }
}

fn pointer_mut<'a>(value: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, key| v.get_mut(*key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wizard(email: &str, name: &str, address: &str) -> Value {
        let user_id = user_id_for_email(email);
        json!({
            "event_type": "BookingWizardCompleted",
            "aggregate_type": "booking",
            "aggregate_id": "00000000-0000-4000-8000-000000000001",
            "payload": {"booking_id": "00000000-0000-4000-8000-000000000001",
                        "user": {"user_id": user_id, "email": email, "name": name, "address": address},
                        "booking": {"service": "Sauna", "price_cents": 100}}
        })
    }

    #[test]
    fn the_same_person_gets_the_same_pseudonyms_and_no_original_value_is_left() {
        let p = Pseudonymizer::new(b"0123456789abcdef0123").expect("key");
        let mut a = wizard("ana@example.com", "Ana Ruiz", "Calle A 1");
        let mut b = wizard("ana@example.com", "Ana Ruiz", "Calle A 1");
        let mut c = wizard("bob@example.com", "Bob Li", "Calle B 2");
        for e in [&mut a, &mut b, &mut c] {
            p.envelope(e);
        }
        assert_eq!(a, b);
        assert_ne!(a["payload"]["user"], c["payload"]["user"]);
        let text = serde_json::to_string(&[&a, &c]).expect("json");
        for original in [
            "ana@example.com",
            "Ana Ruiz",
            "Calle A 1",
            "bob@example.com",
            "Bob Li",
        ] {
            assert!(!text.contains(original), "{original} left in {text}");
        }
        let user = &a["payload"]["user"];
        let email = user["email"].as_str().expect("email");
        assert_eq!(
            user["user_id"].as_str().expect("id"),
            user_id_for_email(email).to_string(),
            "the pseudonymous id is the id of the pseudonymous e-mail"
        );
        assert_eq!(a["payload"]["booking"]["service"], "Sauna");
    }

    #[test]
    fn an_address_change_names_the_same_pseudonymous_user_and_address() {
        let p = Pseudonymizer::new(&[7; 32]).expect("key");
        let mut w = wizard("ana@example.com", "Ana", "Calle A 1");
        let id = user_id_for_email("ana@example.com");
        let mut moved = json!({
            "event_type": "UserAddressChanged", "aggregate_type": "user", "aggregate_id": id,
            "payload": {"user_id": id, "old_address": "Calle A 1", "new_address": "Calle B 2"}
        });
        p.envelope(&mut w);
        p.envelope(&mut moved);
        assert_eq!(moved["payload"]["user_id"], w["payload"]["user"]["user_id"]);
        assert_eq!(moved["aggregate_id"], w["payload"]["user"]["user_id"]);
        assert_eq!(
            moved["payload"]["old_address"],
            w["payload"]["user"]["address"]
        );
    }

    #[test]
    fn another_key_gives_other_pseudonyms_and_a_short_key_is_refused() {
        let a = Pseudonymizer::new(&[1; 16]).expect("key");
        let b = Pseudonymizer::new(&[2; 16]).expect("key");
        assert_ne!(a.name("Ana"), b.name("Ana"));
        assert!(Pseudonymizer::new(&[1; 8]).is_err());
    }

    #[test]
    fn a_personal_field_of_an_odd_shape_is_dropped_not_copied() {
        let p = Pseudonymizer::with_random_key().expect("key");
        let mut e = wizard("ana@example.com", "Ana", "Calle A 1");
        e["payload"]["user"]["name"] = json!({"first": "Ana"});
        p.envelope(&mut e);
        assert_eq!(e["payload"]["user"]["name"], Value::Null);
    }
}
