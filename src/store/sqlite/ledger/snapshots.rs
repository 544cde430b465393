//! The snapshot port ([`SnapshotStore`]) of `ledger.sqlite3`: chunked
//! snapshots and the pragmas around large ones.

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use rusqlite::{MAIN_DB, params};
use uuid::Uuid;

use super::SqliteLedger;
use crate::store::sqlite::{Conn, map_err};
use crate::store::{SnapshotMeta, SnapshotStore, StoreError, StoreResult};

/// While a large snapshot is copied out of the write-ahead log, commits do
/// not copy it themselves.
const NO_AUTOCHECKPOINT: &str = "PRAGMA wal_autocheckpoint=0";
/// SQLite's default: a commit copies the log into the file past 1,000 pages.
const AUTOCHECKPOINT: &str = "PRAGMA wal_autocheckpoint=1000";
/// A snapshot's commit does not wait for the disk; every other commit on
/// the writer (events) does.
const SNAPSHOT_SYNC: &str = "PRAGMA synchronous=NORMAL";
const EVENT_SYNC: &str = "PRAGMA synchronous=FULL";

/// Runs a pragma on `conn`; a failure costs only speed, so it is logged with
/// `then` (what follows from it) and not returned.
pub(super) async fn pragma(conn: &Conn, sql: &'static str, then: &str) {
    let ran = conn
        .call(move |c| c.execute_batch(sql).map_err(|e| map_err("ledger", e)))
        .await;
    if let Err(error) = ran {
        tracing::warn!(%error, "{then}");
    }
}

#[async_trait]
impl SnapshotStore for SqliteLedger {
    async fn save_snapshot(&self, meta: &SnapshotMeta, chunks: Vec<Vec<u8>>) -> StoreResult<()> {
        self.writable("saving a snapshot")?;
        let store = self.store();
        let meta = meta.clone();
        // A snapshot can be hundreds of MB: committed to the write-ahead log
        // (durable there), and copied into the database file afterwards by
        // the snapshot connection, not by this commit (the commit would
        // otherwise write it all a second time before returning).
        let big = chunks.iter().map(Vec::len).sum::<usize>() > BIG_SNAPSHOT_BYTES;
        // Its commit does not wait for the disk (`synchronous=NORMAL`, 0.1 s
        // of a 148 MB history's 0.3 s save): a snapshot can be taken again
        // from the ledger, a crash can only lose it whole (the log's frames
        // are checksummed), and the next commit of an event waits for the
        // disk and so makes it durable too (the log is written in order).
        let saved = self
            .writer
            .call(move |c| {
                if big {
                    c.execute_batch(NO_AUTOCHECKPOINT)
                        .map_err(|e| map_err(&store, e))?;
                }
                let result = c
                    .execute_batch(SNAPSHOT_SYNC)
                    .map_err(|e| map_err(&store, e))
                    .and_then(|()| save_chunks(c, &store, &meta, &chunks));
                // Back to waiting for the disk, whatever the save did.
                let restored = c.execute_batch(EVENT_SYNC).map_err(|e| map_err(&store, e));
                if big && result.is_err() {
                    c.execute_batch(AUTOCHECKPOINT)
                        .map_err(|e| map_err(&store, e))?;
                }
                restored?;
                result
            })
            .await;
        if big && saved.is_ok() {
            // Nor do the other writing connection's commits (leases and
            // checkpoints) while the copy below runs: the first one to
            // reach the log would copy it itself, and the history pass's
            // lease release waited 150-560 ms for that at 1M.
            pragma(
                &self.locks,
                NO_AUTOCHECKPOINT,
                "a lease's commit may copy the snapshot out of the write-ahead log",
            )
            .await;
            let (snapshots, writer, locks) = (
                self.snapshots.clone(),
                self.writer.clone(),
                self.locks.clone(),
            );
            tokio::spawn(async move {
                pragma(
                    &snapshots,
                    "PRAGMA wal_checkpoint(PASSIVE)",
                    "the snapshot stays in the write-ahead log until the next checkpoint",
                )
                .await;
                for conn in [writer, locks] {
                    pragma(&conn, AUTOCHECKPOINT, "commits on a ledger connection no longer copy the write-ahead log into the file").await;
                }
            });
        }
        saved
    }

    async fn delete_snapshot(&self, id: Uuid) -> StoreResult<()> {
        self.writable("deleting a snapshot")?;
        let store = self.store();
        self.writer
            .call(move |c| {
                let tx = c.transaction().map_err(|e| map_err(&store, e))?;
                let id = id.to_string();
                tx.execute("DELETE FROM snapshots WHERE id = ?1", [&id])
                    .map_err(|e| map_err(&store, e))?;
                tx.execute("DELETE FROM snapshot_chunks WHERE snapshot_id = ?1", [&id])
                    .map_err(|e| map_err(&store, e))?;
                tx.commit().map_err(|e| map_err(&store, e))
            })
            .await
    }

    async fn list_snapshots(&self) -> StoreResult<Vec<SnapshotMeta>> {
        let store = self.store();
        self.snapshots
            .call(move |c| {
                let mut stmt = c
                    .prepare("SELECT meta FROM snapshots ORDER BY position, id")
                    .map_err(|e| map_err(&store, e))?;
                let metas = stmt
                    .query_map([], |r| r.get::<_, String>(0))
                    .map_err(|e| map_err(&store, e))?
                    .filter_map(Result::ok)
                    .filter_map(|text| serde_json::from_str::<SnapshotMeta>(&text).ok())
                    .collect();
                Ok(metas)
            })
            .await
    }

    async fn load_snapshot_chunks(&self, id: Uuid) -> StoreResult<Vec<Vec<u8>>> {
        let store = self.store();
        self.snapshots
            .call(move |c| {
                let mut stmt = c
                    .prepare("SELECT data FROM snapshot_chunks WHERE snapshot_id = ?1 ORDER BY seq")
                    .map_err(|e| map_err(&store, e))?;
                let chunks = stmt
                    .query_map([id.to_string()], |r| r.get::<_, Vec<u8>>(0))
                    .map_err(|e| map_err(&store, e))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| map_err(&store, e))?;
                Ok(chunks)
            })
            .await
    }

    async fn load_snapshot_chunk_range(
        &self,
        id: Uuid,
        first: u32,
        count: u32,
    ) -> StoreResult<Vec<Vec<u8>>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let store = self.store();
        // u32 + u32 fits in i64: no overflow at the end of the range.
        let (start, end) = (i64::from(first), i64::from(first) + i64::from(count));
        let conn = match self.snapshot_turn.fetch_add(1, Ordering::Relaxed) % 2 {
            0 => &self.snapshots,
            _ => &self.snapshot_side,
        };
        conn.call(move |c| {
            // A range scan of the (snapshot_id, seq) primary key, for the
            // row ids only: each chunk is then read straight into its
            // buffer through the incremental blob API. Reading the column
            // would have SQLite assemble the blob in a buffer of its own
            // first (a second copy of a 28 MB index at 1M events).
            let rowids: Vec<(i64, i64)> = {
                let mut stmt = c
                    .prepare(
                        "SELECT seq, rowid FROM snapshot_chunks
                             WHERE snapshot_id = ?1 AND seq >= ?2 AND seq < ?3 ORDER BY seq",
                    )
                    .map_err(|e| map_err(&store, e))?;
                let rows = stmt
                    .query_map(params![id.to_string(), start, end], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                    })
                    .map_err(|e| map_err(&store, e))?;
                rows.collect::<Result<_, _>>()
                    .map_err(|e| map_err(&store, e))?
            };
            // Keep the contiguous prefix from `first`.
            let mut chunks = Vec::new();
            for (expected, (seq, rowid)) in (start..).zip(rowids) {
                if seq != expected {
                    break; // a gap: the caller reports the short read
                }
                let mut blob = c
                    .blob_open(MAIN_DB, c"snapshot_chunks", c"data", rowid, true)
                    .map_err(|e| map_err(&store, e))?;
                let mut data = vec![0u8; blob.len()];
                std::io::Read::read_exact(&mut blob, &mut data).map_err(|e| {
                    StoreError::Failed {
                        store: store.clone(),
                        message: format!("reading snapshot chunk {seq}: {e}"),
                    }
                })?;
                chunks.push(data);
            }
            Ok(chunks)
        })
        .await
    }
}

/// Snapshots above this size are checkpointed after their commit, not in it.
const BIG_SNAPSHOT_BYTES: usize = 16 << 20;

/// Stores a snapshot's chunks, then its metadata, in one transaction.
fn save_chunks(
    c: &mut rusqlite::Connection,
    store: &str,
    meta: &SnapshotMeta,
    chunks: &[Vec<u8>],
) -> StoreResult<()> {
    let tx = c.transaction().map_err(|e| map_err(store, e))?;
    {
        let mut stmt = tx
            .prepare("INSERT INTO snapshot_chunks(snapshot_id, seq, data) VALUES (?1, ?2, ?3)")
            .map_err(|e| map_err(store, e))?;
        for (seq, chunk) in chunks.iter().enumerate() {
            stmt.execute(params![meta.id.to_string(), seq as i64, chunk])
                .map_err(|e| map_err(store, e))?;
        }
    }
    let meta_json = serde_json::to_string(meta).map_err(|e| StoreError::Failed {
        store: store.to_string(),
        message: e.to_string(),
    })?;
    tx.execute(
        "INSERT INTO snapshots(id, position, meta) VALUES (?1, ?2, ?3)",
        params![meta.id.to_string(), meta.position as i64, meta_json],
    )
    .map_err(|e| map_err(store, e))?;
    tx.commit().map_err(|e| map_err(store, e))
}
