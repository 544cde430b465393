//! Tests of `ledger.sqlite3`'s connections and files.

use uuid::Uuid;

use super::*;
use crate::store::sqlite::MAPPED;
use crate::store::{SnapshotMeta, SnapshotStore};

fn setting(conn: &Conn, pragma: &str) -> i64 {
    let guard = conn.inner.lock().unwrap();
    guard
        .query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0))
        .unwrap()
}

fn synchronous(conn: &Conn) -> i64 {
    setting(conn, "synchronous")
}

/// The snapshot connections of a writable ledger read through a memory
/// map and give back the chunks saved (one over many pages, one on a
/// page of its own); a read-only copy reads them with system calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_chunks_are_read_through_a_map_except_on_a_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let ledger = SqliteLedger::open(&path, false).unwrap();
    for conn in [&ledger.snapshots, &ledger.snapshot_side] {
        assert_eq!(setting(conn, "mmap_size"), MAPPED as i64);
    }
    assert_eq!(setting(&ledger.reader, "mmap_size"), 0);
    let chunks: Vec<Vec<u8>> = vec![
        (0..3_000_000u32).map(|i| (i % 251) as u8).collect(),
        b"tail".to_vec(),
    ];
    let meta = SnapshotMeta {
        id: Uuid::new_v4(),
        position: 1,
        taken_at: Utc::now(),
        size_bytes: 3_000_004,
        chunks: 2,
        ..SnapshotMeta::empty_ledger()
    };
    ledger.save_snapshot(&meta, chunks.clone()).await.unwrap();
    // Out of the write-ahead log and into the file, where the map reads.
    ledger
        .writer
        .call(|c| {
            c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                .map_err(|e| map_err("ledger", e))
        })
        .await
        .unwrap();
    for _ in 0..2 {
        let read = ledger
            .load_snapshot_chunk_range(meta.id, 0, 2)
            .await
            .unwrap();
        assert!(
            read == chunks,
            "the chunks read through the map differ from those saved"
        );
    }
    drop(ledger);
    let copy = SqliteLedger::open(&path, true).unwrap();
    for conn in [&copy.snapshots, &copy.snapshot_side] {
        assert_eq!(setting(conn, "mmap_size"), 0);
    }
    assert!(copy.load_snapshot_chunk_range(meta.id, 0, 2).await.unwrap() == chunks);
}

/// A snapshot's commit does not wait for the disk; the writer's event
/// commits after it do again (2 = FULL), after a big save and after a
/// failed one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_after_a_snapshot_save_wait_for_the_disk_again() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite3"), false).unwrap();
    assert_eq!(synchronous(&ledger.writer), 2);
    let big = vec![vec![7u8; 1 << 20]; 20];
    let saved = SnapshotMeta {
        id: Uuid::new_v4(),
        position: 1,
        taken_at: Utc::now(),
        size_bytes: 20 << 20,
        chunks: 20,
        ..SnapshotMeta::empty_ledger()
    };
    ledger.save_snapshot(&saved, big).await.unwrap();
    assert_eq!(synchronous(&ledger.writer), 2);
    // The same id again: the save fails, the setting is restored.
    assert!(ledger.save_snapshot(&saved, vec![vec![1]]).await.is_err());
    assert_eq!(synchronous(&ledger.writer), 2);
    assert_eq!(ledger.list_snapshots().await.unwrap().len(), 1);
}

/// A ledger made before the leases were kept by name alone: its held lease
/// still holds, the next fencing token follows the file's last one, and
/// from then on a lease is one row of a table keyed by name (one page per
/// take or release) with the counter in the same table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_of_an_earlier_build_keeps_its_leases_and_fencing() {
    use crate::store::LockFactory;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let far = Utc::now().timestamp_millis() + 60_000;
        conn.execute_batch(&format!(
            "CREATE TABLE locks(name TEXT PRIMARY KEY, owner TEXT NOT NULL, fencing INTEGER NOT NULL,
                 expires_at_ms INTEGER NOT NULL, renewed_at_ms INTEGER);
             CREATE TABLE lock_fencing(id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);
             INSERT INTO lock_fencing VALUES (1, 41);
             INSERT INTO locks VALUES ('booking:held', 'old-instance', 41, {far}, NULL);"
        ))
        .unwrap();
    }
    let ledger = SqliteLedger::open(&path, false).unwrap();
    let ttl = std::time::Duration::from_secs(30);
    assert!(
        ledger
            .try_acquire("booking:held", "me", ttl)
            .await
            .unwrap()
            .is_none(),
        "the lease held in the old file still holds"
    );
    let taken = ledger
        .try_acquire("booking:free", "me", ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.fencing, 42, "fencing goes on from the old counter");
    ledger.release(&taken).await.unwrap();
    let again = ledger
        .try_acquire("booking:free", "me", ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.fencing, 43);
    let guard = ledger.writer.inner.lock().unwrap();
    let (tables, keyed): (i64, i64) = guard
        .query_row(
            "SELECT (SELECT count(*) FROM sqlite_master WHERE name = 'lock_fencing'),
                    (SELECT count(*) FROM sqlite_master WHERE name = 'locks' AND sql LIKE '%WITHOUT ROWID%')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (tables, keyed),
        (0, 1),
        "one table keyed by name holds leases and counter"
    );
}

/// A lease name is never empty: the row named '' is the fencing counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_lease_name_is_refused() {
    use crate::store::LockFactory;
    let dir = tempfile::tempdir().unwrap();
    let ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite3"), false).unwrap();
    let ttl = std::time::Duration::from_secs(30);
    assert!(ledger.try_acquire("", "me", ttl).await.is_err());
}
