//! The stamp of `views.sqlite3`: which ledger the tables were built from
//! (`ledger_identity`) and the schema version of each model they were built
//! with (`read_schema`; no row: version 1, tables stamped before versions
//! existed). Every write is fenced by both, under the write lock.

use chrono::Utc;
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::bad_row;
use crate::domain::model::ModelVersions;
use crate::store::sqlite::ledger::format_time;
use crate::store::sqlite::map_err;
use crate::store::{ReadStamp, StoreError, StoreResult};

/// Whether `table` exists.
fn has_table(conn: &Connection, store: &str, table: &str) -> StoreResult<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .map_err(|e| map_err(store, e))
}

/// The stamp row, if the table and the row exist, with the models' versions.
pub(super) fn read_stamp(conn: &Connection, store: &str) -> StoreResult<Option<ReadStamp>> {
    use rusqlite::OptionalExtension;
    if !has_table(conn, store, "ledger_identity")? {
        return Ok(None);
    }
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT ledger_id, stamped_at FROM ledger_identity WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(|e| map_err(store, e))?;
    let Some((id, at)) = row else {
        return Ok(None);
    };
    let mut versions = ModelVersions::FIRST;
    if has_table(conn, store, "read_schema")? {
        let mut stmt = conn
            .prepare_cached("SELECT model, version FROM read_schema")
            .map_err(|e| map_err(store, e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(|e| map_err(store, e))?;
        for row in rows {
            let (model, version) = row.map_err(|e| map_err(store, e))?;
            versions.set(&model, u32::try_from(version).unwrap_or(0));
        }
    }
    Ok(Some(ReadStamp {
        ledger_id: Uuid::parse_str(&id).map_err(|_| {
            bad_row(
                store,
                "ledger_identity",
                "1",
                format!("'{id}' is not a UUID"),
            )
        })?,
        stamped_at: chrono::DateTime::parse_from_rfc3339(&at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default(),
        versions,
    }))
}

/// Refuses writes into tables not stamped with `ledger` and `versions`
/// (inside the caller's transaction, after its write lock is taken).
pub(super) fn check_stamp(
    conn: &Connection,
    store: &str,
    ledger: Uuid,
    versions: ModelVersions,
) -> StoreResult<()> {
    let found = read_stamp(conn, store)?;
    match found {
        Some(stamp) if stamp.ledger_id == ledger => {
            if stamp.versions == versions {
                Ok(())
            } else {
                Err(StoreError::OtherSchema {
                    store: store.to_string(),
                    found: stamp.versions,
                })
            }
        }
        other => Err(StoreError::ForeignReadStore {
            store: store.to_string(),
            found: other.map(|s| s.ledger_id),
        }),
    }
}

/// Writes the stamp row and the models' versions (inside the caller's
/// transaction).
pub(super) fn write_stamp(
    conn: &Connection,
    ledger: Uuid,
    versions: ModelVersions,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO ledger_identity(id, ledger_id, stamped_at) VALUES (1, ?1, ?2)
         ON CONFLICT(id) DO UPDATE SET ledger_id = excluded.ledger_id, stamped_at = excluded.stamped_at",
        params![ledger.to_string(), format_time(Utc::now())],
    )?;
    for (model, version) in versions.named() {
        conn.execute(
            "INSERT INTO read_schema(model, version) VALUES (?1, ?2)
             ON CONFLICT(model) DO UPDATE SET version = excluded.version",
            params![model, i64::from(version)],
        )?;
    }
    Ok(())
}
