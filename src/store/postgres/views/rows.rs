//! Rows in and out of the PostgreSQL read tables: decoding, one change,
//! and COPY of whole tables.

use futures_util::pin_mut;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

use super::{
    COPY_STEP_ROWS, INSERT_BOOKING, INSERT_USER, SCHEMA_LOCK, SET_ADDRESS, SET_DATES, SET_STATUS,
    STATE_SQL, pos, stamp, tables_sql,
};
use crate::domain::model::ModelVersions;
use crate::domain::{BookingRow, BookingStatus, RowChange, UserRow};
use crate::store::postgres::{map_pg, map_pool};
use crate::store::{BulkControl, ReadStamp, StoreError, StoreResult};

pub(super) fn stamp_of(store: &str, row: &tokio_postgres::Row) -> StoreResult<ReadStamp> {
    let e = |err: tokio_postgres::Error| bad_row(store, "ledger_identity", err.to_string());
    Ok(ReadStamp {
        ledger_id: row.try_get(0).map_err(e)?,
        stamped_at: row.try_get(1).map_err(e)?,
        versions: ModelVersions::FIRST,
    })
}

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

pub(super) fn bad_row(store: &str, table: &str, what: String) -> StoreError {
    StoreError::Failed {
        store: store.to_string(),
        message: format!("{table}: {what}"),
    }
}

pub(super) fn user_of(store: &str, row: &tokio_postgres::Row) -> StoreResult<UserRow> {
    let e = |err: tokio_postgres::Error| bad_row(store, "users", err.to_string());
    Ok(UserRow {
        user_id: row.try_get(0).map_err(e)?,
        email: row.try_get(1).map_err(e)?,
        name: row.try_get(2).map_err(e)?,
        address: row.try_get(3).map_err(e)?,
        created_position: row.try_get::<_, i64>(4).map_err(e)?.max(0) as u64,
        last_position: row.try_get::<_, i64>(5).map_err(e)?.max(0) as u64,
    })
}

pub(super) fn booking_of(store: &str, row: &tokio_postgres::Row) -> StoreResult<BookingRow> {
    let e = |err: tokio_postgres::Error| bad_row(store, "bookings", err.to_string());
    let id: Uuid = row.try_get(0).map_err(e)?;
    let guests: i32 = row.try_get(5).map_err(e)?;
    let status: String = row.try_get(7).map_err(e)?;
    Ok(BookingRow {
        booking_id: id,
        user_id: row.try_get(1).map_err(e)?,
        service: row.try_get(2).map_err(e)?,
        check_in: row.try_get(3).map_err(e)?,
        check_out: row.try_get(4).map_err(e)?,
        guests: u32::try_from(guests)
            .map_err(|_| bad_row(store, "bookings", format!("row {id}: guests {guests}")))?,
        price_cents: row.try_get(6).map_err(e)?,
        status: BookingStatus::parse(&status).ok_or_else(|| {
            bad_row(
                store,
                "bookings",
                format!("row {id}: unknown status '{status}'"),
            )
        })?,
        last_position: row.try_get::<_, i64>(8).map_err(e)?.max(0) as u64,
    })
}

pub(super) fn guests_of(guests: u32) -> i32 {
    i32::try_from(guests).unwrap_or(i32::MAX)
}

pub(super) async fn apply_change(
    tx: &deadpool_postgres::Transaction<'_>,
    change: &RowChange,
) -> Result<u64, tokio_postgres::Error> {
    match change {
        RowChange::InsertUserIfAbsent(u) => {
            let stmt = tx.prepare_cached(INSERT_USER).await?;
            tx.execute(
                &stmt,
                &[
                    &u.user_id,
                    &u.email,
                    &u.name,
                    &u.address,
                    &pos(u.created_position),
                    &pos(u.last_position),
                ],
            )
            .await
        }
        RowChange::SetUserAddress {
            user_id,
            address,
            position,
        } => {
            let stmt = tx.prepare_cached(SET_ADDRESS).await?;
            tx.execute(&stmt, &[user_id, address, &pos(*position)])
                .await
        }
        RowChange::InsertBookingIfAbsent(b) => {
            let stmt = tx.prepare_cached(INSERT_BOOKING).await?;
            tx.execute(
                &stmt,
                &[
                    &b.booking_id,
                    &b.user_id,
                    &b.service,
                    &b.check_in,
                    &b.check_out,
                    &guests_of(b.guests),
                    &b.price_cents,
                    &b.status.as_str(),
                    &pos(b.last_position),
                ],
            )
            .await
        }
        RowChange::SetBookingStatus {
            booking_id,
            status,
            position,
        } => {
            let stmt = tx.prepare_cached(SET_STATUS).await?;
            tx.execute(&stmt, &[booking_id, &status.as_str(), &pos(*position)])
                .await
        }
        RowChange::SetBookingDates {
            booking_id,
            check_in,
            check_out,
            position,
        } => {
            let stmt = tx.prepare_cached(SET_DATES).await?;
            tx.execute(&stmt, &[booking_id, check_in, check_out, &pos(*position)])
                .await
        }
    }
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

/// Copies `rows` with binary COPY, checking cancellation between steps.
/// The writer is always finished, also when cancelled (then the caller
/// rolls the transaction back).
pub(super) async fn copy_rows<'a, R>(
    tx: &deadpool_postgres::Transaction<'_>,
    sql: &str,
    types: &[Type],
    rows: impl Iterator<Item = R>,
    cells: impl Fn(R) -> Vec<Box<dyn ToSql + Sync + Send + 'a>>,
    control: &BulkControl,
    written: &mut u64,
) -> Result<(), LoadError> {
    let sink = tx.copy_in(sql).await?;
    let writer = BinaryCopyInWriter::new(sink, types);
    pin_mut!(writer);
    let mut cancelled = false;
    for (i, row) in rows.enumerate() {
        if i % COPY_STEP_ROWS == 0 && i > 0 {
            (control.on_rows)(*written);
            if control.cancelled() {
                cancelled = true;
                break;
            }
        }
        let values = cells(row);
        let refs: Vec<&(dyn ToSql + Sync)> = values
            .iter()
            .map(|v| v.as_ref() as &(dyn ToSql + Sync))
            .collect();
        writer.as_mut().write(&refs).await?;
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
