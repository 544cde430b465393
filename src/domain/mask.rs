//! Mask mode: personal values shown as stable pseudonyms wherever the app
//! shows them (the window's tables, timeline and JSON view, the CLI's
//! output, reports).
//!
//! What is personal is read from the one declaration in
//! [`super::personal::PERSONAL_FIELDS`]: a payload field is masked in an
//! event, and a read-table or model column named like one of those fields
//! (`email`, `name`, `address`, `old_address`, `new_address`) is masked in
//! a row. User ids are left as they are: they are the keys support staff
//! navigate by (row history, `subject --user`), and they are already a
//! one-way digest of the e-mail ([`super::user_id_for_email`]).
//!
//! A pseudonym is a keyed digest of the value ([`Pseudonymizer`]), so the
//! same value shows the same pseudonym wherever it appears, and the key
//! (kept in the data dir) keeps it the same from one run to the next.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::event::{DomainEvent, StoredEvent};
use super::personal::{PERSONAL_FIELDS, PersonalKind, Pseudonymizer, ShortKey, personal_fields_of};
use super::projection::Table;

/// Whether personal values are shown as they are or masked, and the key
/// the pseudonyms are made with. Cheap to clone.
#[derive(Clone, Default)]
pub struct Mask {
    pseudonyms: Option<Arc<Pseudonymizer>>,
}

impl std::fmt::Debug for Mask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_on() {
            "Mask(on)"
        } else {
            "Mask(off)"
        })
    }
}

impl Mask {
    /// Personal values shown as they are.
    pub fn off() -> Self {
        Mask { pseudonyms: None }
    }

    /// Personal values masked with pseudonyms made under `key`.
    pub fn with_key(key: &[u8]) -> Result<Self, ShortKey> {
        Ok(Mask {
            pseudonyms: Some(Arc::new(Pseudonymizer::new(key)?)),
        })
    }

    /// Whether values are masked.
    pub fn is_on(&self) -> bool {
        self.pseudonyms.is_some()
    }

    /// `value` as shown: its pseudonym when masking, itself otherwise.
    pub fn text<'a>(&self, kind: PersonalKind, value: &'a str) -> Cow<'a, str> {
        match (&self.pseudonyms, kind) {
            (None, _) | (_, PersonalKind::UserId) => Cow::Borrowed(value),
            (Some(_), _) if value.is_empty() => Cow::Borrowed(value),
            (Some(p), PersonalKind::Email) => Cow::Owned(p.masked_email(value)),
            (Some(p), PersonalKind::Name) => Cow::Owned(p.name(value)),
            (Some(p), PersonalKind::Address) => Cow::Owned(p.address(value)),
        }
    }

    /// A cell of column `column` as shown.
    pub fn cell<'a>(&self, column: &str, value: &'a str) -> Cow<'a, str> {
        match column_kind(column) {
            Some(kind) => self.text(kind, value),
            None => Cow::Borrowed(value),
        }
    }

    /// A stored event's one-line summary as shown
    /// ([`StoredEvent::summary`], its personal values masked).
    pub fn summary(&self, event: &StoredEvent) -> String {
        if !self.is_on() {
            return event.summary();
        }
        match event.decode() {
            Ok(decoded) => self.event(&decoded).summary(),
            Err(error) => format!("(undecodable) {error}"),
        }
    }

    /// Masks the personal fields of a payload of `event_type` in place. A
    /// personal field that is not a string (a foreign or broken document)
    /// is shown as `null` when masking, so nothing leaks through an odd
    /// shape.
    pub fn payload(&self, event_type: &str, payload: &mut Value) {
        if !self.is_on() {
            return;
        }
        for field in personal_fields_of(event_type) {
            if field.kind == PersonalKind::UserId {
                continue;
            }
            let Some(slot) = field
                .path
                .iter()
                .try_fold(&mut *payload, |v, k| v.get_mut(*k))
            else {
                continue;
            };
            *slot = match slot.as_str() {
                Some(text) => Value::String(self.text(field.kind, text).into_owned()),
                None => Value::Null,
            };
        }
    }

    /// `event` as shown.
    pub fn event<'a>(&self, event: &'a DomainEvent) -> Cow<'a, DomainEvent> {
        if !self.is_on() {
            return Cow::Borrowed(event);
        }
        let mut event = event.clone();
        match &mut event {
            DomainEvent::BookingWizardCompleted { user, .. } => {
                user.email = self.text(PersonalKind::Email, &user.email).into_owned();
                user.name = self.text(PersonalKind::Name, &user.name).into_owned();
                user.address = self.text(PersonalKind::Address, &user.address).into_owned();
            }
            DomainEvent::UserAddressChanged {
                old_address,
                new_address,
                ..
            } => {
                *old_address = self.text(PersonalKind::Address, old_address).into_owned();
                *new_address = self.text(PersonalKind::Address, new_address).into_owned();
            }
            DomainEvent::BookingCancelled { .. } | DomainEvent::BookingRescheduled { .. } => {}
        }
        Cow::Owned(event)
    }

    /// Masks a JSON document the app prints or writes (a CLI answer, a
    /// report, an exported event) in place: every stored event's payload
    /// (an object with `event_type` and `payload`), every row (an object
    /// with personal columns as keys), and every row given as `columns`
    /// beside arrays of cells.
    pub fn json(&self, value: &mut Value) {
        if self.is_on() {
            self.walk(value, &mut Vec::new());
        }
    }

    /// `columns`: the column lists of the objects around, innermost last
    /// (a difference names its changed columns beside the table's).
    fn walk(&self, value: &mut Value, columns: &mut Vec<Vec<String>>) {
        match value {
            Value::Object(map) => self.object(map, columns),
            Value::Array(items) => {
                // An array of cells as long as a list of column names around
                // it: a row.
                let scalars = items.iter().all(|v| !v.is_object() && !v.is_array());
                if scalars
                    && let Some(names) = columns.iter().rev().find(|c| c.len() == items.len())
                {
                    for (item, column) in items.iter_mut().zip(names) {
                        self.masked_string(item, column_kind(column));
                    }
                    return;
                }
                for item in items {
                    self.walk(item, columns);
                }
            }
            _ => {}
        }
    }

    fn object(&self, map: &mut Map<String, Value>, columns: &mut Vec<Vec<String>>) {
        let event_type = map
            .get("event_type")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(event_type) = &event_type
            && let Some(payload) = map.get_mut("payload")
        {
            self.payload(event_type, payload);
        }
        // A row: a key named like a personal field. `name` alone is also the
        // name of a model, a projector or a case: it counts only beside
        // another personal column.
        let row_like = map
            .keys()
            .any(|k| matches!(column_kind(k), Some(kind) if kind != PersonalKind::Name));
        // The columns a row's cells follow: a built-in table named beside
        // them, and a list of column names.
        let table: Option<Vec<String>> = map
            .get("table")
            .and_then(Value::as_str)
            .and_then(Table::parse)
            .map(|t| t.columns().iter().map(|c| (*c).to_owned()).collect());
        let names: Option<Vec<String>> = map.get("columns").and_then(|c| {
            c.as_array().map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            })
        });
        let pushed = usize::from(table.is_some()) + usize::from(names.is_some());
        columns.extend(table);
        columns.extend(names);
        for (key, item) in map.iter_mut() {
            match column_kind(key) {
                Some(PersonalKind::Name) if !row_like => self.walk(item, columns),
                Some(kind) if item.is_string() || item.is_null() => {
                    self.masked_string(item, Some(kind))
                }
                _ if key == "summary" && event_type.is_some() => self.summary_text(item),
                _ if key == "raw" && item.is_string() => self.raw(item),
                _ => self.walk(item, columns),
            }
        }
        columns.truncate(columns.len() - pushed);
    }

    /// A malformed entry's raw text: its personal values masked when it
    /// parses as JSON, else nothing of it.
    fn raw(&self, item: &mut Value) {
        if let Some(text) = item.as_str() {
            *item = Value::String(self.raw_text(text));
        }
    }

    /// A malformed entry's raw text as shown: its personal values masked
    /// when it parses as JSON, else nothing of it (see [`Mask::json`]).
    pub fn raw_text(&self, raw: &str) -> String {
        if !self.is_on() {
            return raw.to_owned();
        }
        match serde_json::from_str::<Value>(raw) {
            Ok(mut value) => {
                self.json(&mut value);
                value.to_string()
            }
            Err(_) => format!("(raw text masked: {} bytes)", raw.len()),
        }
    }

    fn masked_string(&self, item: &mut Value, kind: Option<PersonalKind>) {
        if let (Some(kind), Some(text)) = (kind, item.as_str())
            && let Cow::Owned(masked) = self.text(kind, text)
        {
            *item = Value::String(masked);
        }
    }

    /// A free-text summary of an event cannot be masked field by field;
    /// it is left out when masking.
    fn summary_text(&self, item: &mut Value) {
        if item.is_string() {
            *item = Value::String("(masked)".into());
        }
    }
}

/// The kind of personal value a column or field named `name` holds: a
/// name is personal when a declared payload field ends in it.
pub fn column_kind(name: &str) -> Option<PersonalKind> {
    PERSONAL_FIELDS
        .iter()
        .find(|f| f.path.last() == Some(&name))
        .map(|f| f.kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mask() -> Mask {
        Mask::with_key(&[9; 32]).expect("key")
    }

    #[test]
    fn a_masked_value_is_stable_and_unmasked_is_itself() {
        let m = mask();
        assert_eq!(
            m.text(PersonalKind::Email, "ana@example.com"),
            m.text(PersonalKind::Email, "ana@example.com")
        );
        assert_ne!(
            m.text(PersonalKind::Email, "ana@example.com"),
            "ana@example.com"
        );
        assert_eq!(Mask::off().text(PersonalKind::Name, "Ana"), "Ana");
        assert_eq!(m.cell("service", "Sauna"), "Sauna");
        assert_ne!(m.cell("address", "Calle A 1"), "Calle A 1");
    }

    #[test]
    fn a_document_keeps_no_personal_value_and_everything_else() {
        let m = mask();
        let id = crate::domain::user_id_for_email("ana@example.com");
        let mut doc = json!({
            "model": {"name": "users", "version": 1},
            "events": [{
                "event_type": "BookingWizardCompleted",
                "payload": {"user": {"user_id": id, "email": "ana@example.com",
                                     "name": "Ana Ruiz", "address": "Calle A 1"},
                            "booking": {"service": "Sauna"}},
                "summary": "ana@example.com booked Sauna"
            }, {
                "event_type": "UserAddressChanged",
                "payload": {"user_id": id, "old_address": "Calle A 1", "new_address": "Calle B 2"}
            }],
            "row": {"user_id": id, "email": "ana@example.com", "name": "Ana Ruiz"},
            "report": {"columns": ["user_id", "email", "name", "address"],
                       "rows": [{"cells": [id, "ana@example.com", "Ana Ruiz", "Calle B 2"]}]},
            "found": {"table": "users", "columns": ["name"],
                      "stored": [id, "ana@example.com", "Ana Ruiz", "Calle B 2", 1, 1],
                      "ledger": [id, "ana@example.com", "Ana Ruiz", "Calle B 2", 1, 2]}
        });
        m.json(&mut doc);
        let text = doc.to_string();
        for original in ["ana@example.com", "Ana Ruiz", "Calle A 1", "Calle B 2"] {
            assert!(!text.contains(original), "{original} left in {text}");
        }
        assert_eq!(doc["model"]["name"], "users");
        assert_eq!(doc["row"]["user_id"], json!(id));
        assert_eq!(doc["events"][0]["payload"]["booking"]["service"], "Sauna");
        assert_eq!(
            doc["events"][0]["payload"]["user"]["address"],
            doc["events"][1]["payload"]["old_address"],
            "one address, one pseudonym"
        );
    }

    #[test]
    fn the_declared_fields_name_the_personal_columns() {
        assert_eq!(column_kind("email"), Some(PersonalKind::Email));
        assert_eq!(column_kind("new_address"), Some(PersonalKind::Address));
        assert_eq!(column_kind("service"), None);
    }
}
