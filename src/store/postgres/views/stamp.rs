//! The stamp of the PostgreSQL read tables: which ledger they were built
//! from (`ledger_identity`) and the schema version of each model they were
//! built with (`read_schema`; no row: version 1, tables stamped before
//! versions existed). Every write is fenced by both.

use tokio_postgres::Transaction;
use uuid::Uuid;

use super::PostgresViews;
use super::cells::bad_row;
use crate::domain::model::ModelVersions;
use crate::store::{ReadStamp, StoreError, StoreResult};

/// The versions of the models the tables were built with, beside the stamp.
pub(super) const SCHEMA_SQL: &str = "
CREATE TABLE IF NOT EXISTS read_schema(
    model text PRIMARY KEY,
    version integer NOT NULL
);";

const WRITE_VERSION: &str = "INSERT INTO read_schema(model, version) VALUES ($1, $2)
    ON CONFLICT (model) DO UPDATE SET version = excluded.version";

/// Records `versions` (inside the caller's transaction, with the stamp).
pub(super) async fn write_versions(
    tx: &Transaction<'_>,
    versions: ModelVersions,
) -> Result<(), tokio_postgres::Error> {
    tx.batch_execute(SCHEMA_SQL).await?;
    for (model, version) in versions.named() {
        let version = i32::try_from(version).unwrap_or(i32::MAX);
        tx.execute(WRITE_VERSION, &[&model, &version]).await?;
    }
    Ok(())
}

/// The recorded versions; [`ModelVersions::FIRST`] where none is.
fn versions_of(rows: &[tokio_postgres::Row]) -> ModelVersions {
    let mut versions = ModelVersions::FIRST;
    for row in rows {
        if let (Ok(model), Ok(version)) = (row.try_get::<_, String>(0), row.try_get::<_, i32>(1)) {
            versions.set(&model, u32::try_from(version).unwrap_or(0));
        }
    }
    versions
}

impl PostgresViews {
    /// [`crate::store::ReadStore::stamp`].
    pub(super) async fn read_stamp(&self) -> StoreResult<Option<ReadStamp>> {
        let client = self.client().await?;
        let undefined = |e: &tokio_postgres::Error| {
            e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE)
        };
        let stamp = match client
            .query_opt(
                "SELECT ledger_id, stamped_at FROM ledger_identity WHERE id = 1",
                &[],
            )
            .await
        {
            Ok(row) => row.map(|r| stamp_of(&self.label, &r)).transpose()?,
            // A read-only look at tables of an earlier build: never stamped.
            Err(e) if undefined(&e) => None,
            Err(e) => return Err(self.err(e)),
        };
        let Some(mut stamp) = stamp else {
            return Ok(None);
        };
        stamp.versions = match client
            .query("SELECT model, version FROM read_schema", &[])
            .await
        {
            Ok(rows) => versions_of(&rows),
            // A read-only look at tables stamped before versions existed.
            Err(e) if undefined(&e) => ModelVersions::FIRST,
            Err(e) => return Err(self.err(e)),
        };
        Ok(Some(stamp))
    }

    /// Refuses writes into tables not stamped with `ledger` and `versions`
    /// (first thing in the caller's transaction: FOR SHARE, so a replay's
    /// swap, which updates the stamp row first, waits for it and it for
    /// the swap).
    pub(super) async fn check_stamp(
        &self,
        tx: &Transaction<'_>,
        ledger: Uuid,
        versions: ModelVersions,
    ) -> StoreResult<()> {
        let found: Option<Uuid> = tx
            .query_opt(
                "SELECT ledger_id FROM ledger_identity WHERE id = 1 FOR SHARE",
                &[],
            )
            .await
            .map_err(|e| self.err(e))?
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(|e| bad_row(&self.label, "ledger_identity", e.to_string()))?;
        if found != Some(ledger) {
            return Err(StoreError::ForeignReadStore {
                store: self.label.clone(),
                found,
            });
        }
        let rows = tx
            .query("SELECT model, version FROM read_schema", &[])
            .await
            .map_err(|e| self.err(e))?;
        let found = versions_of(&rows);
        if found != versions {
            return Err(StoreError::OtherSchema {
                store: self.label.clone(),
                found,
            });
        }
        Ok(())
    }

    /// [`crate::store::ReadStore::set_stamp`].
    pub(super) async fn compare_and_stamp(
        &self,
        ledger: Uuid,
        expected: Option<Uuid>,
        versions: ModelVersions,
    ) -> StoreResult<bool> {
        self.writable("stamping the read tables")?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.err(e))?;
        let changed = match expected {
            None => {
                tx.execute(
                    "INSERT INTO ledger_identity(id, ledger_id, stamped_at) VALUES (1, $1, now())
                     ON CONFLICT (id) DO NOTHING",
                    &[&ledger],
                )
                .await
            }
            Some(expected) => {
                tx.execute(
                    "UPDATE ledger_identity SET ledger_id = $1, stamped_at = now()
                     WHERE id = 1 AND ledger_id = $2",
                    &[&ledger, &expected],
                )
                .await
            }
        }
        .map_err(|e| self.err(e))?;
        if changed != 1 {
            return Ok(false);
        }
        write_versions(&tx, versions)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(true)
    }
}

/// The ledger identity row as a stamp (the versions are read apart).
pub(super) fn stamp_of(store: &str, row: &tokio_postgres::Row) -> StoreResult<ReadStamp> {
    let e = |err: tokio_postgres::Error| bad_row(store, "ledger_identity", err.to_string());
    Ok(ReadStamp {
        ledger_id: row.try_get(0).map_err(e)?,
        stamped_at: row.try_get(1).map_err(e)?,
        versions: ModelVersions::FIRST,
    })
}
