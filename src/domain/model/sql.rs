//! The text of a model users write: header comments (`-- model: NAME`,
//! `-- version: N`), `CREATE TABLE` statements, then per event type a block
//! `ON EventType:` of SQL statements with named parameters
//! (`:position`, `:payload.user.email`). This file splits the text into
//! statements (respecting quotes and comments), finds the blocks and the
//! parameters, and says where each is (line and column). Parameters are
//! renamed in place (`:payload.user.email` -> `:payload_user_email`, the
//! same length), so an offset SQLite reports in a statement is an offset in
//! the text.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::domain::event::{BookingDetails, DomainEvent, StoredEvent, UserDetails, event_types};

/// A mistake in a model's text, at a line and column (both from 1).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {message}")]
pub struct DefinitionError {
    /// Line, from 1.
    pub line: usize,
    /// Column (in characters), from 1.
    pub col: usize,
    /// What is wrong, one sentence.
    pub message: String,
}

/// A named parameter in a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// As written, without the colon (`payload.user.email`).
    pub path: String,
    /// The name SQLite sees, with the colon (`:payload_user_email`).
    pub sql_name: String,
    /// Where it is written.
    pub line: usize,
    /// Where it is written.
    pub col: usize,
}

/// One SQL statement of the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The statement as SQLite runs it (parameters renamed, same length as
    /// the text it came from, without the closing `;`).
    pub sql: String,
    /// Byte offset of its first character in the text.
    pub offset: usize,
    /// Line of its first character.
    pub line: usize,
    /// Column of its first character.
    pub col: usize,
    /// Its parameters, each name once, in order of first use.
    pub params: Vec<Param>,
}

/// The statements run for one event type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handler {
    /// The event type (`BookingWizardCompleted`).
    pub event_type: String,
    /// Where its `ON` is.
    pub line: usize,
    /// Where its `ON` is.
    pub col: usize,
    /// Its statements, in order.
    pub statements: Vec<Statement>,
}

/// A model's text, split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelText {
    /// From `-- model: NAME`.
    pub name: String,
    /// Line of the `-- model:` comment.
    pub name_line: usize,
    /// From `-- version: N`.
    pub version: u32,
    /// The statements before the first `ON` block (`CREATE TABLE`, `CREATE INDEX`).
    pub schema: Vec<Statement>,
    /// The `ON` blocks, in the order written.
    pub handlers: Vec<Handler>,
}

/// Where an offset of `text` is: (line, column), both from 1.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

fn error_at(text: &str, offset: usize, message: impl Into<String>) -> DefinitionError {
    let (line, col) = line_col(text, offset);
    DefinitionError {
        line,
        col,
        message: message.into(),
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Splits a model's text. Every mistake found is returned, in text order.
pub fn parse_model(text: &str) -> Result<ModelText, Vec<DefinitionError>> {
    let bytes = text.as_bytes();
    let mut errors = Vec::new();
    let mut name: Option<String> = None;
    let mut name_line = 1;
    // A statement that never ends stops the reading; the blocks after it are not reported empty.
    let mut broke = false;
    let mut version: Option<u32> = None;
    let mut schema = Vec::new();
    let mut handlers: Vec<Handler> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() || c == b';' {
            i += 1;
            continue;
        }
        if bytes[i..].starts_with(b"--") {
            let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
            let body = text[i + 2..end].trim();
            if let Some(value) = body.strip_prefix("model:") {
                let value = value.trim();
                if value.is_empty() || !value.bytes().all(|b| is_ident(b) || b == b'-') {
                    errors.push(error_at(
                        text,
                        i,
                        "a model name is letters, digits, '_' and '-'",
                    ));
                } else {
                    name = Some(value.to_string());
                    name_line = line_col(text, i).0;
                }
            } else if let Some(value) = body.strip_prefix("version:") {
                match value.trim().parse::<u32>() {
                    Ok(v) if v > 0 => version = Some(v),
                    _ => errors.push(error_at(text, i, "a version is a whole number from 1")),
                }
            }
            i = end;
            continue;
        }
        if bytes[i..].starts_with(b"/*") {
            i = text[i + 2..]
                .find("*/")
                .map_or(text.len(), |n| i + 2 + n + 2);
            continue;
        }
        if let Some((event_type, next)) = handler_header(bytes, i) {
            let (line, col) = line_col(text, i);
            if handlers.iter().any(|h| h.event_type == event_type) {
                errors.push(error_at(
                    text,
                    i,
                    format!("{event_type} has a block already"),
                ));
            }
            handlers.push(Handler {
                event_type,
                line,
                col,
                statements: Vec::new(),
            });
            i = next;
            continue;
        }
        let (statement, next) = match statement_at(text, i) {
            Ok(found) => found,
            Err(e) => {
                errors.push(e);
                broke = true;
                break;
            }
        };
        i = next;
        let keyword = first_word(&statement.sql).to_ascii_uppercase();
        match handlers.last_mut() {
            None => {
                if keyword != "CREATE" {
                    errors.push(error_at(
                        text,
                        statement.offset,
                        "before the first ON block only CREATE TABLE and CREATE INDEX are allowed",
                    ));
                } else if let Some(p) = statement.params.first() {
                    errors.push(DefinitionError {
                        line: p.line,
                        col: p.col,
                        message: "a CREATE statement takes no parameters".into(),
                    });
                }
                schema.push(statement);
            }
            Some(handler) => {
                if !matches!(
                    keyword.as_str(),
                    "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "WITH"
                ) {
                    errors.push(error_at(
                        text,
                        statement.offset,
                        format!(
                            "in an ON block only INSERT, UPDATE and DELETE are allowed, not {keyword}"
                        ),
                    ));
                }
                handler.statements.push(statement);
            }
        }
    }
    if name.is_none() {
        errors.insert(
            0,
            error_at(text, 0, "the text has no `-- model: NAME` line"),
        );
    }
    if version.is_none() {
        errors.insert(0, error_at(text, 0, "the text has no `-- version: N` line"));
    }
    if schema.is_empty() && errors.is_empty() {
        errors.push(error_at(text, 0, "the model has no CREATE TABLE"));
    }
    for handler in &handlers {
        if !broke && handler.statements.is_empty() {
            errors.push(DefinitionError {
                line: handler.line,
                col: handler.col,
                message: format!("the block of {} has no statement", handler.event_type),
            });
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| (e.line, e.col));
        return Err(errors);
    }
    Ok(ModelText {
        name: name.unwrap_or_default(),
        name_line,
        version: version.unwrap_or(1),
        schema,
        handlers,
    })
}

/// `ON Type:` at `i`: the type and the offset after the colon.
fn handler_header(bytes: &[u8], i: usize) -> Option<(String, usize)> {
    let word = |at: usize| {
        let mut end = at;
        while end < bytes.len() && is_ident(bytes[end]) {
            end += 1;
        }
        end
    };
    let on_end = word(i);
    if !bytes[i..on_end].eq_ignore_ascii_case(b"ON") {
        return None;
    }
    let mut j = on_end;
    while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
        j += 1;
    }
    if j == on_end || j >= bytes.len() || !is_ident_start(bytes[j]) {
        return None;
    }
    let type_end = word(j);
    let mut k = type_end;
    while k < bytes.len() && (bytes[k] == b' ' || bytes[k] == b'\t') {
        k += 1;
    }
    if k < bytes.len() && bytes[k] == b':' {
        let name = String::from_utf8_lossy(&bytes[j..type_end]).into_owned();
        Some((name, k + 1))
    } else {
        None
    }
}

fn first_word(sql: &str) -> &str {
    let end = sql
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(sql.len());
    &sql[..end]
}

/// The statement starting at `start`, up to its `;` (outside quotes and
/// comments) or the end of the text; and the offset after it.
fn statement_at(text: &str, start: usize) -> Result<(Statement, usize), DefinitionError> {
    let bytes = text.as_bytes();
    let mut sql = Vec::with_capacity(64);
    let mut params: Vec<Param> = Vec::new();
    let mut i = start;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b';' => break,
            b'\'' | b'"' | b'`' | b'[' => {
                let close = if c == b'[' { b']' } else { c };
                let mut j = i + 1;
                loop {
                    if j >= bytes.len() {
                        let what = if c == b'\'' { "string" } else { "quoted name" };
                        return Err(error_at(text, i, format!("this {what} is never closed")));
                    }
                    if bytes[j] == close {
                        // A doubled quote is one quote inside the string.
                        if close != b']' && j + 1 < bytes.len() && bytes[j + 1] == close {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                sql.extend_from_slice(&bytes[i..=j]);
                i = j + 1;
            }
            b'-' if bytes[i..].starts_with(b"--") => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                sql.extend_from_slice(&bytes[i..end]);
                i = end;
            }
            b'/' if bytes[i..].starts_with(b"/*") => {
                let Some(n) = text[i + 2..].find("*/") else {
                    return Err(error_at(text, i, "this comment is never closed"));
                };
                let end = i + 2 + n + 2;
                sql.extend_from_slice(&bytes[i..end]);
                i = end;
            }
            b'?' => {
                return Err(error_at(
                    text,
                    i,
                    "use named parameters (:position, :payload.booking_id), not '?'",
                ));
            }
            b':' if i + 1 < bytes.len() && is_ident_start(bytes[i + 1]) => {
                let mut end = i + 1;
                while end < bytes.len()
                    && (is_ident(bytes[end])
                        || (bytes[end] == b'.'
                            && end + 1 < bytes.len()
                            && is_ident_start(bytes[end + 1])))
                {
                    end += 1;
                }
                let path = &text[i + 1..end];
                let sql_name = format!(":{}", path.replace('.', "_"));
                if !params.iter().any(|p| p.path == path) {
                    let (line, col) = line_col(text, i);
                    params.push(Param {
                        path: path.to_string(),
                        sql_name: sql_name.clone(),
                        line,
                        col,
                    });
                }
                sql.extend_from_slice(sql_name.as_bytes());
                i = end;
            }
            _ => {
                sql.push(c);
                i += 1;
            }
        }
    }
    let (line, col) = line_col(text, start);
    let sql = String::from_utf8_lossy(&sql).trim_end().to_string();
    Ok((
        Statement {
            sql,
            offset: start,
            line,
            col,
            params,
        },
        i,
    ))
}

/// The parameters of the envelope every event type has.
pub const ENVELOPE_PARAMS: [&str; 9] = [
    "position",
    "event_id",
    "event_type",
    "aggregate_id",
    "aggregate_type",
    "version",
    "schema_version",
    "occurred_at",
    "recorded_at",
];

/// Every parameter a statement of `event_type`'s block may use (the
/// envelope's and the payload's leaves as `payload.a.b`), or `None` for a
/// type this build does not know. The payload's fields come from the event
/// types themselves, so a field added there is a parameter here.
pub fn params_of(event_type: &str) -> Option<Vec<String>> {
    let sample = sample_event(event_type)?;
    let mut paths: Vec<String> = ENVELOPE_PARAMS.iter().map(|s| s.to_string()).collect();
    leaves("payload", &sample.to_payload(), &mut paths);
    Some(paths)
}

fn leaves(prefix: &str, value: &Json, out: &mut Vec<String>) {
    match value {
        Json::Object(map) => {
            for (key, child) in map {
                leaves(&format!("{prefix}.{key}"), child, out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

fn sample_event(event_type: &str) -> Option<DomainEvent> {
    let id = uuid::Uuid::nil();
    let day = chrono::NaiveDate::MIN;
    Some(match event_type {
        event_types::BOOKING_WIZARD_COMPLETED => DomainEvent::BookingWizardCompleted {
            booking_id: id,
            user: UserDetails {
                user_id: id,
                email: String::new(),
                name: String::new(),
                address: String::new(),
            },
            booking: BookingDetails {
                service: String::new(),
                check_in: day,
                check_out: day,
                guests: 0,
                price_cents: 0,
            },
        },
        event_types::BOOKING_CANCELLED => DomainEvent::BookingCancelled {
            booking_id: id,
            reason: String::new(),
        },
        event_types::BOOKING_RESCHEDULED => DomainEvent::BookingRescheduled {
            booking_id: id,
            check_in: day,
            check_out: day,
        },
        event_types::USER_ADDRESS_CHANGED => DomainEvent::UserAddressChanged {
            user_id: id,
            old_address: String::new(),
            new_address: String::new(),
        },
        _ => return None,
    })
}

/// A parameter's value for one event: text, a whole number, a number with
/// a fraction, or nothing.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    /// SQL NULL.
    Null,
    /// A whole number (booleans are 0 and 1).
    Integer(i64),
    /// A number with a fraction.
    Real(f64),
    /// Text (UUIDs, dates, times).
    Text(String),
}

/// The values of an event's parameters, looked up by path. The payload is
/// the decoded event's (so a field the type fills by default is there).
pub struct EventParams<'a> {
    event: &'a StoredEvent,
    payload: Json,
}

impl<'a> EventParams<'a> {
    /// The parameters of `event`, whose payload decoded as `decoded`.
    pub fn new(event: &'a StoredEvent, decoded: &DomainEvent) -> Self {
        EventParams {
            event,
            payload: decoded.to_payload(),
        }
    }

    /// The value at `path`, or `None` when the event has no such field.
    pub fn get(&self, path: &str) -> Option<ParamValue> {
        let e = self.event;
        let text = |s: String| Some(ParamValue::Text(s));
        match path {
            "position" => Some(ParamValue::Integer(e.position as i64)),
            "event_id" => text(e.event_id.to_string()),
            "event_type" => text(e.event_type.clone()),
            "aggregate_id" => text(e.aggregate_id.to_string()),
            "aggregate_type" => text(e.aggregate_type.clone()),
            "version" => Some(ParamValue::Integer(e.version as i64)),
            "schema_version" => Some(ParamValue::Integer(i64::from(e.schema_version))),
            "occurred_at" | "recorded_at" => {
                text(e.recorded_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
            }
            _ => {
                let rest = path.strip_prefix("payload.")?;
                let mut value = &self.payload;
                for key in rest.split('.') {
                    value = value.get(key)?;
                }
                Some(match value {
                    Json::Null => ParamValue::Null,
                    Json::Bool(b) => ParamValue::Integer(i64::from(*b)),
                    Json::Number(n) => match n.as_i64() {
                        Some(i) => ParamValue::Integer(i),
                        None => ParamValue::Real(n.as_f64().unwrap_or(f64::NAN)),
                    },
                    Json::String(s) => ParamValue::Text(s.clone()),
                    other => ParamValue::Text(other.to_string()),
                })
            }
        }
    }
}

/// The parameter paths of every event type, for messages ("did you mean").
pub fn all_params() -> BTreeMap<&'static str, Vec<String>> {
    event_types::ALL
        .iter()
        .filter_map(|t| Some((*t, params_of(t)?)))
        .collect()
}

#[cfg(test)]
mod tests;
