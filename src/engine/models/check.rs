//! Checks a model's text before anything runs: its header, its tables (each
//! with a primary key), its blocks' event types and parameters, and every
//! statement prepared against a scratch in-memory SQLite holding its tables.
//! Each mistake has a line and column; SQLite's own errors are placed at the
//! token SQLite names when it names one, else at the statement's start.

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::{HISTORY_SUFFIX, quote};
use crate::domain::model::sql::{Statement, line_col, params_of};
use crate::domain::model::{
    ColumnDef, ColumnType, DefinitionError, ModelDef, ModelText, TableDef, parse_model,
};

/// Tables a model's file keeps for itself.
const RESERVED_TABLES: [&str; 2] = ["errors", "model_meta"];
/// Columns every history table adds.
const RESERVED_COLUMNS: [&str; 2] = ["valid_from", "valid_to"];

/// A model whose text passed every check.
#[derive(Clone, Debug)]
pub struct CheckedModel {
    /// The description (tables, columns, key, events).
    pub def: ModelDef,
    /// The split text.
    pub text: ModelText,
    /// The text as written.
    pub source: String,
    /// SHA-256 of the text: a file built from another text is rebuilt.
    pub digest: String,
}

impl CheckedModel {
    /// The statements of `event_type`'s block (none when it has no block).
    pub fn statements(&self, event_type: &str) -> Option<&[Statement]> {
        self.text
            .handlers
            .iter()
            .find(|h| h.event_type == event_type)
            .map(|h| h.statements.as_slice())
    }
}

/// What a declared SQL type means as a column type: `UUID`, `DATE`,
/// `BOOLEAN`, `CENTS` and `POSITION` are kept; otherwise SQLite's affinity
/// rules (INT, CHAR/CLOB/TEXT, REAL/FLOA/DOUB) decide, and text is the rest.
pub fn column_type(declared: &str) -> ColumnType {
    let t = declared.to_ascii_uppercase();
    if t.contains("UUID") {
        ColumnType::Uuid
    } else if t.contains("CENTS") {
        ColumnType::Cents
    } else if t.contains("POSITION") {
        ColumnType::Position
    } else if t.contains("INT") {
        ColumnType::Integer
    } else if t.contains("BOOL") {
        ColumnType::Boolean
    } else if t.contains("DATE") {
        ColumnType::Date
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") || t.contains("NUM") {
        ColumnType::Real
    } else {
        ColumnType::Text
    }
}

/// Checks `source`; `taken` are the names of the models the ledger has
/// already (a model of the same name is refused).
pub fn check_model(source: &str, taken: &[String]) -> Result<CheckedModel, Vec<DefinitionError>> {
    let text = parse_model(source)?;
    let mut errors = Vec::new();
    if taken.iter().any(|n| n == &text.name) {
        errors.push(DefinitionError {
            line: text.name_line,
            col: 1,
            message: format!(
                "a model named {} exists already (remove it first, or name this one otherwise)",
                text.name
            ),
        });
    }
    let scratch = Connection::open_in_memory().map_err(|e| {
        vec![DefinitionError {
            line: 1,
            col: 1,
            message: format!("cannot open a scratch database: {e}"),
        }]
    })?;
    let mut tables = Vec::new();
    for statement in &text.schema {
        if let Err(e) = scratch
            .prepare(&statement.sql)
            .and_then(|mut s| s.raw_execute())
        {
            errors.push(sql_error(source, statement, &e));
            continue;
        }
        for name in table_names(&scratch).unwrap_or_default() {
            if tables.iter().any(|t: &TableDef| t.name == name) {
                continue;
            }
            let at = |message: String| DefinitionError {
                line: statement.line,
                col: statement.col,
                message,
            };
            if RESERVED_TABLES.contains(&name.as_str()) || name.ends_with(HISTORY_SUFFIX) {
                errors.push(at(format!(
                    "the table name {name} is kept for the model's own use"
                )));
            }
            match table_def(&scratch, &name) {
                Ok(table) => {
                    if table.key.is_empty() {
                        errors.push(at(format!("table {name} has no PRIMARY KEY")));
                    }
                    if let Some(c) = table
                        .columns
                        .iter()
                        .find(|c| RESERVED_COLUMNS.contains(&c.name.as_str()))
                    {
                        errors.push(at(format!(
                            "the column name {} is kept for the row history",
                            c.name
                        )));
                    }
                    tables.push(table);
                }
                Err(e) => errors.push(at(format!("cannot read table {name}: {e}"))),
            }
        }
    }
    if tables.is_empty() && errors.is_empty() {
        errors.push(DefinitionError {
            line: 1,
            col: 1,
            message: "the model has no CREATE TABLE".into(),
        });
    }
    for handler in &text.handlers {
        let Some(known) = params_of(&handler.event_type) else {
            errors.push(DefinitionError {
                line: handler.line,
                col: handler.col,
                message: format!(
                    "unknown event type {} (known: {})",
                    handler.event_type,
                    crate::domain::event::event_types::ALL.join(", ")
                ),
            });
            continue;
        };
        for statement in &handler.statements {
            let mut bad_param = false;
            for param in &statement.params {
                if !known.contains(&param.path) {
                    bad_param = true;
                    errors.push(DefinitionError {
                        line: param.line,
                        col: param.col,
                        message: format!(
                            "{} has no parameter :{} (it has :{})",
                            handler.event_type,
                            param.path,
                            known.join(", :")
                        ),
                    });
                }
            }
            if !bad_param && let Err(e) = scratch.prepare(&statement.sql) {
                errors.push(sql_error(source, statement, &e));
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| (e.line, e.col));
        return Err(errors);
    }
    let def = ModelDef {
        name: text.name.clone(),
        version: text.version,
        tables,
        events: text.handlers.iter().map(|h| h.event_type.clone()).collect(),
    };
    let digest = Sha256::digest(source.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(CheckedModel {
        def,
        text,
        source: source.to_string(),
        digest,
    })
}

/// SQLite's error for `statement`, placed at the token it names (or at the
/// statement's start).
fn sql_error(source: &str, statement: &Statement, error: &rusqlite::Error) -> DefinitionError {
    match error {
        rusqlite::Error::SqlInputError { msg, offset, .. }
            if *offset >= 0 && named_in(statement, msg).is_none() =>
        {
            let (line, col) = line_col(source, statement.offset + *offset as usize);
            DefinitionError {
                line,
                col,
                message: msg.clone(),
            }
        }
        rusqlite::Error::SqliteFailure(_, Some(msg))
        | rusqlite::Error::SqlInputError { msg, .. } => {
            let (line, col) = named_in(statement, msg)
                .map_or((statement.line, statement.col), |at| {
                    line_col(source, statement.offset + at)
                });
            DefinitionError {
                line,
                col,
                message: msg.clone(),
            }
        }
        other => DefinitionError {
            line: statement.line,
            col: statement.col,
            message: other.to_string(),
        },
    }
}

/// Where the name an error message ends with ("no such column: x") is
/// written in the statement, outside quotes: its offset in the statement.
fn named_in(statement: &Statement, message: &str) -> Option<usize> {
    let name = message.rsplit(": ").next()?.rsplit('.').next()?.trim();
    if name.is_empty() || !message.contains("no such") {
        return None;
    }
    let sql = statement.sql.to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    let bytes = sql.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut from = 0;
    while let Some(found) = sql[from..].find(&name) {
        let at = from + found;
        let end = at + name.len();
        let before_ok = at == 0 || !word(bytes[at - 1]);
        let after_ok = end >= bytes.len() || !word(bytes[end]);
        if before_ok && after_ok && (at == 0 || bytes[at - 1] != b':') {
            return Some(at);
        }
        from = end;
    }
    None
}

fn table_names(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
    )?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
    names.collect()
}

/// A table's description, from SQLite's own reading of its `CREATE TABLE`.
pub(crate) fn table_def(conn: &Connection, name: &str) -> rusqlite::Result<TableDef> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote(name)))?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    let mut columns = Vec::new();
    let mut key = Vec::new();
    for (i, row) in rows.enumerate() {
        let (column, declared, not_null, pk) = row?;
        if pk > 0 {
            key.push((pk, i));
        }
        columns.push(ColumnDef {
            name: column,
            ty: column_type(&declared),
            nullable: not_null == 0 && pk == 0,
        });
    }
    key.sort();
    Ok(TableDef {
        name: name.to_string(),
        columns,
        key: key.into_iter().map(|(_, i)| i).collect(),
    })
}

#[cfg(test)]
mod tests;
