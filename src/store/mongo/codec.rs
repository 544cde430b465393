//! Events as BSON documents, and back, tolerating whatever a foreign writer
//! may have put into `events` (missing fields, wrong types, ObjectId ids).

use chrono::{DateTime, Utc};
use mongodb::bson::{Bson, Document, doc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{EventMetadata, StoredEvent};
use crate::store::{EntryError, LedgerEntry, MalformedEvent};

/// The `_id` of the event at `position`: zero-padded, so string order is
/// position order and FerretDB can push the lookup down.
pub(crate) fn position_id(position: u64) -> String {
    format!("{position:020}")
}

/// Clamps a position or count into BSON's signed 64-bit integers.
pub(crate) fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The stored document of an event at `position`.
pub(crate) fn event_doc(event: &StoredEvent, position: u64) -> Document {
    let micros = event.recorded_at.timestamp_micros();
    doc! {
        "_id": position_id(position),
        "position": i64_of(position),
        "event_id": event.event_id.to_string(),
        "aggregate_id": event.aggregate_id.to_string(),
        "aggregate_type": &event.aggregate_type,
        "version": i64_of(event.version),
        "event_type": &event.event_type,
        "schema_version": i64::from(event.schema_version),
        "recorded_at": mongodb::bson::DateTime::from_millis(micros.div_euclid(1000)),
        "recorded_at_us": micros,
        "payload": json_to_bson(&event.payload),
        "metadata": json_to_bson(&serde_json::to_value(&event.metadata).unwrap_or(Value::Null)),
    }
}

/// JSON to BSON, numbers as 64-bit integers where they fit.
pub(crate) fn json_to_bson(value: &Value) -> Bson {
    match value {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Bson::Int64(i),
            (None, Some(f)) => Bson::Double(f),
            (None, None) => Bson::String(n.to_string()),
        },
        Value::String(s) => Bson::String(s.clone()),
        Value::Array(items) => Bson::Array(items.iter().map(json_to_bson).collect()),
        Value::Object(map) => Bson::Document(
            map.iter()
                .map(|(k, v)| (k.clone(), json_to_bson(v)))
                .collect(),
        ),
    }
}

/// BSON to JSON: plain JSON types map one to one; others use relaxed extended JSON.
pub(crate) fn bson_to_json(value: &Bson) -> Value {
    match value {
        Bson::Null | Bson::Undefined => Value::Null,
        Bson::Boolean(b) => Value::Bool(*b),
        Bson::Int32(i) => Value::from(*i),
        Bson::Int64(i) => Value::from(*i),
        Bson::Double(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Bson::String(s) => Value::String(s.clone()),
        Bson::Array(items) => Value::Array(items.iter().map(bson_to_json).collect()),
        Bson::Document(d) => Value::Object(
            d.iter()
                .map(|(k, v)| (k.clone(), bson_to_json(v)))
                .collect(),
        ),
        other => other.clone().into_relaxed_extjson(),
    }
}

/// The largest double that is still exactly a whole number (2^53).
const EXACT_DOUBLE: f64 = 9_007_199_254_740_992.0;

/// A whole number from a double, if it is one that can be a position.
fn whole(f: f64) -> Option<u64> {
    (f >= 1.0 && f.fract() == 0.0 && f <= EXACT_DOUBLE).then_some(f as u64)
}

/// A positive integer from any BSON number type: int32, int64, a whole
/// double, or a whole Decimal128 (`7`, `7.0`, `7E+0`).
fn as_position(value: Option<&Bson>) -> Option<u64> {
    match value? {
        Bson::Int32(i) if *i > 0 => Some(*i as u64),
        Bson::Int64(i) if *i > 0 => Some(*i as u64),
        Bson::Double(f) => whole(*f),
        Bson::Decimal128(d) => {
            let text = d.to_string();
            text.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .or_else(|| text.parse::<f64>().ok().and_then(whole))
        }
        _ => None,
    }
}

/// The position of a stored document: its `position` field when that is a
/// positive whole number, else 0 (the document is unpositioned).
pub(crate) fn doc_position(doc: &Document) -> u64 {
    as_position(doc.get("position")).unwrap_or(0)
}

/// Whether a document's `position` is a number of at least 1 that is no
/// usable position (6.5, or a double past 2^53): the server's
/// `{position: {$gte: 1}}` lets it through, so every read that asks for
/// positioned documents must leave it out, and it is counted and listed
/// as unpositioned instead.
pub(crate) fn odd_position(doc: &Document) -> bool {
    let value = doc.get("position");
    let number = match value {
        Some(Bson::Double(f)) => *f,
        Some(Bson::Decimal128(d)) => d.to_string().parse::<f64>().unwrap_or(f64::NAN),
        _ => return false,
    };
    number >= 1.0 && as_position(value).is_none()
}

/// The document as display text.
pub(crate) fn raw_text(doc: &Document) -> String {
    Bson::Document(doc.clone())
        .into_relaxed_extjson()
        .to_string()
}

/// Reads one `events` document as an envelope, or says what is wrong with it.
pub(crate) fn parse_entry(doc: &Document) -> LedgerEntry {
    let position = doc_position(doc);
    parse_event(position, doc).map_err(|error| MalformedEvent {
        position,
        reason: error.to_string(),
        raw: raw_text(doc),
    })
}

fn describe(value: &Bson) -> String {
    format!("{:?}", value.element_type())
}

fn wrong(field: &'static str, expected: &'static str, found: String) -> EntryError {
    EntryError::WrongType {
        field,
        expected,
        found,
    }
}

fn text<'a>(doc: &'a Document, name: &'static str) -> Result<&'a str, EntryError> {
    match doc.get(name) {
        Some(Bson::String(s)) => Ok(s),
        None | Some(Bson::Null) => Err(EntryError::Missing(name)),
        Some(other) => Err(wrong(name, "a string", describe(other))),
    }
}

fn int(doc: &Document, name: &'static str) -> Result<u64, EntryError> {
    match doc.get(name) {
        Some(Bson::Int32(i)) if *i >= 0 => Ok(*i as u64),
        Some(Bson::Int64(i)) if *i >= 0 => Ok(*i as u64),
        None | Some(Bson::Null) => Err(EntryError::Missing(name)),
        Some(other) => Err(wrong(name, "a non-negative integer", other.to_string())),
    }
}

fn uuid(doc: &Document, name: &'static str) -> Result<Uuid, EntryError> {
    let t = text(doc, name)?;
    Uuid::parse_str(t).map_err(|source| EntryError::NotUuid {
        field: name,
        text: t.to_string(),
        source,
    })
}

fn recorded_at(doc: &Document) -> Result<DateTime<Utc>, EntryError> {
    if let Some(Bson::Int64(us)) = doc.get("recorded_at_us") {
        return DateTime::from_timestamp_micros(*us)
            .ok_or_else(|| EntryError::OutOfRange(format!("recorded_at_us {us}")));
    }
    match doc.get("recorded_at") {
        Some(Bson::DateTime(d)) => DateTime::from_timestamp_millis(d.timestamp_millis())
            .ok_or_else(|| EntryError::OutOfRange("recorded_at".into())),
        Some(Bson::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|source| EntryError::NotRfc3339 {
                text: s.clone(),
                source,
            }),
        None | Some(Bson::Null) => Err(EntryError::Missing("recorded_at")),
        Some(other) => Err(wrong("recorded_at", "a date", describe(other))),
    }
}

fn parse_event(position: u64, doc: &Document) -> Result<StoredEvent, EntryError> {
    if position == 0 {
        return Err(EntryError::NoPosition);
    }
    let recorded_at = recorded_at(doc)?;
    let payload = match doc.get("payload") {
        Some(Bson::Document(d)) => bson_to_json(&Bson::Document(d.clone())),
        Some(Bson::String(s)) => serde_json::from_str(s).map_err(EntryError::PayloadJson)?,
        None | Some(Bson::Null) => return Err(EntryError::Missing("payload")),
        Some(other) => return Err(wrong("payload", "a document", describe(other))),
    };
    let metadata: EventMetadata = match doc.get("metadata") {
        None | Some(Bson::Null) => EventMetadata::default(),
        Some(Bson::Document(d)) => serde_json::from_value(bson_to_json(&Bson::Document(d.clone())))
            .map_err(EntryError::Metadata)?,
        Some(other) => return Err(wrong("metadata", "a document", describe(other))),
    };
    let schema_version = int(doc, "schema_version")?;
    Ok(StoredEvent {
        position,
        event_id: uuid(doc, "event_id")?,
        aggregate_id: uuid(doc, "aggregate_id")?,
        aggregate_type: text(doc, "aggregate_type")?.to_string(),
        version: int(doc, "version")?,
        event_type: text(doc, "event_type")?.to_string(),
        schema_version: u32::try_from(schema_version)
            .map_err(|_| EntryError::SchemaVersionTooLarge)?,
        recorded_at,
        payload,
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::oid::ObjectId;

    #[test]
    fn foreign_documents_are_malformed_not_fatal() {
        let bad = doc! {"_id": ObjectId::new(), "position": 7_i32, "event_type": "Weird"};
        let entry = parse_entry(&bad);
        let err = entry.err().map(|e| (e.position, e.reason));
        assert_eq!(err.map(|(p, _)| p), Some(7));
        let no_position = doc! {"_id": ObjectId::new(), "event_id": 5};
        assert_eq!(parse_entry(&no_position).err().map(|e| e.position), Some(0));
        // The position is the `position` field, never read off an `_id`.
        let padded = doc! {"_id": position_id(12), "event_id": "x"};
        assert_eq!(parse_entry(&padded).err().map(|e| e.position), Some(0));
    }

    #[test]
    fn every_number_a_position_can_be_is_read_or_named_odd() {
        use mongodb::bson::Decimal128;
        use std::str::FromStr;
        let at = |value: Bson| doc! {"position": value};
        let decimal = |text: &str| Bson::Decimal128(Decimal128::from_str(text).unwrap());
        for (value, position, odd) in [
            (Bson::Int32(7), 7, false),
            (Bson::Int64(7), 7, false),
            (Bson::Double(7.0), 7, false),
            (decimal("7"), 7, false),
            (decimal("7.0"), 7, false),
            (decimal("7E+1"), 70, false),
            (Bson::Double(6.5), 0, true),
            (Bson::Double(1.0e300), 0, true),
            (decimal("6.5"), 0, true),
            (Bson::Double(0.5), 0, false),
            (Bson::Int64(0), 0, false),
            (Bson::Int32(-3), 0, false),
            (Bson::String("7".into()), 0, false),
        ] {
            let doc = at(value.clone());
            assert_eq!(doc_position(&doc), position, "{value:?}");
            assert_eq!(odd_position(&doc), odd, "{value:?}");
        }
    }

    #[test]
    fn json_survives_bson() {
        let v = serde_json::json!({"a": 1, "b": [1.5, "x", null, true], "c": {"d": -3}});
        assert_eq!(bson_to_json(&json_to_bson(&v)), v);
    }
}
