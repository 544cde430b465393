//! `ReadStore` on PostgreSQL.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use uuid::Uuid;

use super::{Built, build_pool, map_pg, map_pool, signed_in_error};
use crate::domain::model::{DescribedRow, ModelVersions};
use crate::domain::{BookingRow, ProjectorId, TableRows, UserRow};
use crate::store::credentials::PgTarget;
use crate::store::{BulkControl, StoreError, StoreResult};
use cells::{row_of, tables_sql};
use rows::{LoadError, copy_rows, create_schema};

mod cells;
mod port;
mod published;
mod rewrite;
mod rows;
mod stamp;

/// Advisory-lock key serializing schema changes and replays between instances.
const SCHEMA_LOCK: i64 = 0x6c65_6467_6572_7363;
/// Rows written between cancellation checks and progress reports.
const COPY_STEP_ROWS: usize = 5_000;

const STATE_SQL: &str = "CREATE TABLE IF NOT EXISTS projection_state(
    projector text PRIMARY KEY,
    position bigint NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS bookings_user ON bookings(user_id);
CREATE TABLE IF NOT EXISTS ledger_identity(
    id integer PRIMARY KEY CHECK (id = 1),
    ledger_id uuid NOT NULL,
    stamped_at timestamptz NOT NULL
);";

/// Stamps the tables with a ledger (inside replay's swap or an adoption).
const WRITE_STAMP: &str = "INSERT INTO ledger_identity(id, ledger_id, stamped_at) VALUES (1, $1, now())
    ON CONFLICT (id) DO UPDATE SET ledger_id = excluded.ledger_id, stamped_at = excluded.stamped_at";

const SET_POSITION: &str = "INSERT INTO projection_state(projector, position, updated_at) VALUES ($1, $2, now())
    ON CONFLICT (projector) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at";

fn pos(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The PostgreSQL read store.
pub struct PostgresViews {
    pool: deadpool_postgres::Pool,
    label: String,
    location: String,
    remote: bool,
    timeout: Duration,
    /// Set once the tables are known to exist.
    schema_ready: AtomicBool,
    /// One schema creation at a time in this process.
    schema_lock: tokio::sync::Mutex<()>,
    /// Opened for inspection: nothing is created or written (the sessions
    /// are read-only on the server too).
    read_only: bool,
}

impl PostgresViews {
    /// Connects (URLs as libpq users write them; TLS when `sslmode` asks for
    /// it) and creates the tables if missing, unless `read_only`. Gives up
    /// after about `timeout`.
    pub async fn open(url: &str, timeout: Duration, read_only: bool) -> StoreResult<Self> {
        let target = PgTarget {
            url: Some(url.to_string()),
            ..PgTarget::default()
        };
        let views = Self::reach(&target, timeout, read_only).await?;
        views.prepare().await?;
        Ok(views)
    }

    /// Connects and signs in without creating anything: a wrong password, a
    /// database that does not exist or a refused TLS setting is an error
    /// now, before any store is written. A server that is down is not: the
    /// app still starts (commands go to the ledger, `status` shows the lag).
    /// A refused sign-in names an ignored password file.
    pub async fn reach(target: &PgTarget, timeout: Duration, read_only: bool) -> StoreResult<Self> {
        let (views, notes) = Self::configure(target, timeout, read_only)?;
        let (pool, store) = (views.pool.clone(), views.label.clone());
        let task = tokio::spawn(async move {
            let client = pool.get().await.map_err(|e| map_pool(&store, e))?;
            client
                .simple_query("SELECT 1")
                .await
                .map(|_| ())
                .map_err(|e| map_pg(&store, &e))
        });
        let reached = match tokio::time::timeout(timeout + Duration::from_secs(2), task).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(StoreError::Failed {
                store: views.label.clone(),
                message: format!("connecting failed unexpectedly: {e}"),
            }),
            Err(_) => Err(StoreError::Unavailable {
                store: views.label.clone(),
                message: format!("no answer within {} s", timeout.as_secs_f64()),
            }),
        };
        match reached {
            Ok(()) | Err(StoreError::Unavailable { .. }) => Ok(views),
            Err(e) => Err(signed_in_error(e, &notes)),
        }
    }

    /// Creates the tables if they are missing (a no-op when read-only); a
    /// server that is down gets them on the first call that reaches it.
    pub async fn prepare(&self) -> StoreResult<()> {
        match self.ready().await {
            Ok(()) | Err(StoreError::Unavailable { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn configure(
        target: &PgTarget,
        timeout: Duration,
        read_only: bool,
    ) -> StoreResult<(Self, Vec<String>)> {
        let Built { pool, label, notes } = build_pool(target, timeout, read_only)?;
        let location = label.trim_start_matches("postgresql at ").to_string();
        let remote = !(location.starts_with("127.")
            || location.starts_with("localhost")
            || location.starts_with("[::1]")
            || location.starts_with('/'));
        let views = PostgresViews {
            pool,
            label,
            location,
            remote,
            timeout,
            schema_ready: AtomicBool::new(read_only),
            schema_lock: tokio::sync::Mutex::new(()),
            read_only,
        };
        Ok((views, notes))
    }

    /// Creates the tables once (on open, or on the first call after an outage).
    async fn ready(&self) -> StoreResult<()> {
        if self.schema_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        let _guard = self.schema_lock.lock().await;
        if self.schema_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        // On its own task with a deadline on the handle: a server that never
        // answers the startup message must not hang us.
        let (pool, store) = (self.pool.clone(), self.label.clone());
        let task = tokio::spawn(async move { create_schema(&pool, &store).await });
        match tokio::time::timeout(self.timeout + Duration::from_secs(2), task).await {
            Ok(Ok(result)) => result?,
            Ok(Err(e)) => {
                return Err(StoreError::Failed {
                    store: self.label.clone(),
                    message: format!("connecting failed unexpectedly: {e}"),
                });
            }
            Err(_) => {
                return Err(StoreError::Unavailable {
                    store: self.label.clone(),
                    message: format!("no answer within {} s", self.timeout.as_secs_f64()),
                });
            }
        }
        self.schema_ready.store(true, Ordering::Release);
        Ok(())
    }

    /// A page of `R`'s table after `after` in key order.
    async fn page<R: DescribedRow>(
        &self,
        after: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<R>> {
        let client = self.client().await?;
        let limit = pos(limit as u64);
        let (table, columns) = (R::DESCRIPTION, R::DESCRIPTION.column_list());
        let (name, key) = (table.name, table.key);
        let rows = match after {
            None => {
                let sql = format!("SELECT {columns} FROM {name} ORDER BY {key} LIMIT $1");
                client.query(&sql, &[&limit]).await
            }
            Some(after) => {
                let sql = format!(
                    "SELECT {columns} FROM {name} WHERE {key} > $1 ORDER BY {key} LIMIT $2"
                );
                client.query(&sql, &[&after, &limit]).await
            }
        }
        .map_err(|e| self.err(e))?;
        rows.iter().map(|r| row_of(&self.label, r)).collect()
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.ready().await?;
        self.pool.get().await.map_err(|e| map_pool(&self.label, e))
    }

    fn err(&self, e: tokio_postgres::Error) -> StoreError {
        if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) {
            return StoreError::NotFound(format!(
                "{} has no read tables (nothing was ever projected into this database)",
                self.label
            ));
        }
        map_pg(&self.label, &e)
    }

    /// Refuses `what` on a read-only store.
    fn writable(&self, what: &str) -> StoreResult<()> {
        if self.read_only {
            Err(StoreError::ReadOnly {
                store: self.label.clone(),
                what: what.to_string(),
            })
        } else {
            Ok(())
        }
    }
}

impl PostgresViews {
    /// Loads `state` into `*_next` tables and swaps them in, all in one
    /// transaction: a cancel, an error or a crash leaves the old tables.
    async fn bulk_load(
        &self,
        ledger: Uuid,
        versions: ModelVersions,
        rows: &dyn TableRows,
        control: &BulkControl,
    ) -> Result<(), LoadError> {
        let mut client = self.client().await.map_err(LoadError::Store)?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .await?;
        // The stamp's row lock first: a projector's apply takes the same
        // row (FOR SHARE) before touching the tables, so the two always lock
        // in one order, and applies wait for the swap and then see its stamp.
        tx.execute(WRITE_STAMP, &[&ledger]).await?;
        stamp::write_versions(&tx, versions).await?;
        tx.batch_execute(&format!(
            "DROP TABLE IF EXISTS users_next; DROP TABLE IF EXISTS bookings_next; {}",
            tables_sql("_next", false, false)
        ))
        .await?;
        // The rows go in frozen and all-visible (`FREEZE`: the tables were
        // created in this transaction): after the swap, autovacuum has no
        // pass over a million fresh rows to make (it ran for seconds after
        // every replay, beside whatever came next).
        let mut written = 0u64;
        copy_rows::<UserRow, _>(&tx, "users_next", rows.users(), control, &mut written).await?;
        copy_rows::<BookingRow, _>(&tx, "bookings_next", rows.bookings(), control, &mut written)
            .await?;
        if control.cancelled() {
            return Err(LoadError::Cancelled);
        }
        // Keys and indexes after loading; then the swap.
        tx.batch_execute(
            "ALTER TABLE users_next ADD CONSTRAINT users_next_pkey PRIMARY KEY (user_id);
             ALTER TABLE bookings_next ADD CONSTRAINT bookings_next_pkey PRIMARY KEY (booking_id);
             CREATE INDEX bookings_next_user ON bookings_next(user_id);
             DROP TABLE users; DROP TABLE bookings;
             ALTER TABLE users_next RENAME TO users;
             ALTER TABLE bookings_next RENAME TO bookings;
             ALTER INDEX users_next_pkey RENAME TO users_pkey;
             ALTER INDEX bookings_next_pkey RENAME TO bookings_pkey;
             ALTER INDEX bookings_next_user RENAME TO bookings_user;",
        )
        .await?;
        let stmt = tx.prepare_cached(SET_POSITION).await?;
        for projector in ProjectorId::ALL {
            tx.execute(&stmt, &[&projector.name(), &pos(rows.position())])
                .await?;
        }
        if control.cancelled() {
            return Err(LoadError::Cancelled);
        }
        tx.commit().await?;
        Ok(())
    }
}
