//! Rows in and out of the PostgreSQL read tables: one change, and COPY of
//! whole tables (the SQL and cells from [`super::cells`]).

use futures_util::pin_mut;
use tokio_postgres::binary_copy::BinaryCopyInWriter;

use super::cells::{PgCells, copy_types, insert_sql, params, update_sql};
use super::{COPY_STEP_ROWS, SCHEMA_LOCK, STATE_SQL, stamp, tables_sql};
use crate::domain::model::{DescribedRow, WriteCells};
use crate::domain::{BookingRow, RowChange, UserRow};
use crate::store::postgres::{map_pg, map_pool};
use crate::store::{BulkControl, StoreError, StoreResult};

pub(super) async fn create_schema(pool: &deadpool_postgres::Pool, store: &str) -> StoreResult<()> {
    let mut client = pool.get().await.map_err(|e| map_pool(store, e))?;
    let tx = client.transaction().await.map_err(|e| map_pg(store, &e))?;
    // Two instances starting together must not race on CREATE TABLE.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .await
        .map_err(|e| map_pg(store, &e))?;
    tx.batch_execute(&format!(
        "{}{STATE_SQL}{}",
        tables_sql("", true, true),
        stamp::SCHEMA_SQL
    ))
    .await
    .map_err(|e| map_pg(store, &e))?;
    tx.commit().await.map_err(|e| map_pg(store, &e))
}

pub(super) async fn apply_change(
    tx: &deadpool_postgres::Transaction<'_>,
    change: &RowChange,
) -> Result<u64, tokio_postgres::Error> {
    let mut cells = PgCells::default();
    let (sql, values) = match change {
        RowChange::InsertUserIfAbsent(u) => (insert_sql(&UserRow::DESCRIPTION), cells.of(u)),
        RowChange::InsertBookingIfAbsent(b) => (insert_sql(&BookingRow::DESCRIPTION), cells.of(b)),
        _ => match update_sql(change) {
            Some(sql) => (sql, cells.of_update(change)),
            None => return Ok(0),
        },
    };
    let stmt = tx.prepare_cached(&sql).await?;
    tx.execute(&stmt, &params(values)).await
}

/// What a bulk load step reports.
pub(super) enum LoadError {
    Cancelled,
    Pg(tokio_postgres::Error),
    Store(StoreError),
}

impl From<tokio_postgres::Error> for LoadError {
    fn from(e: tokio_postgres::Error) -> Self {
        LoadError::Pg(e)
    }
}

/// Copies `rows` into `into` (a table of `R`'s columns) with binary
/// COPY, checking cancellation between steps. The writer is always
/// finished, also when cancelled (then the caller rolls the transaction
/// back).
pub(super) async fn copy_rows<R: DescribedRow, C: WriteCells>(
    tx: &deadpool_postgres::Transaction<'_>,
    into: &str,
    rows: impl Iterator<Item = C>,
    control: &BulkControl,
    written: &mut u64,
) -> Result<(), LoadError> {
    let sql = format!(
        "COPY {into} ({}) FROM STDIN (FORMAT binary, FREEZE)",
        R::DESCRIPTION.column_list()
    );
    let sink = tx.copy_in(&sql).await?;
    let writer = BinaryCopyInWriter::new(sink, &copy_types(&R::DESCRIPTION));
    pin_mut!(writer);
    let mut cancelled = false;
    let mut cells = PgCells::default();
    for (i, row) in rows.enumerate() {
        if i % COPY_STEP_ROWS == 0 && i > 0 {
            (control.on_rows)(*written);
            if control.cancelled() {
                cancelled = true;
                break;
            }
        }
        writer.as_mut().write(&params(cells.of(&row))).await?;
        *written += 1;
    }
    writer.finish().await?;
    (control.on_rows)(*written);
    if cancelled {
        Err(LoadError::Cancelled)
    } else {
        Ok(())
    }
}
