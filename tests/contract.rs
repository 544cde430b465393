//! One contract suite for every adapter: the same async checks run against
//! each ledger (embedded SQLite; MongoDB/FerretDB at `LEDGERSCOPE_MONGO_URI`)
//! and each read store (embedded SQLite; PostgreSQL at
//! `LEDGERSCOPE_POSTGRES_URL`). Every server test uses a fresh database or
//! schema and removes it afterwards.
//!
//! A missing server is a skip with a message, except with `CI=true`, where it
//! fails the test. Run: `eval "$(scripts/services.sh)"; cargo test --test contract`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use std::time::Duration;
use tokio_util::sync::CancellationToken;

use chrono::{NaiveDate, Utc};
use ledgerscope::domain::model::ModelVersions;
use ledgerscope::domain::{
    BookingDetails, BookingRow, BookingStatus, DomainEvent, EventMetadata, ProjectorId, ReadState,
    RowChange, StoredEvent, UserDetails, UserRow,
};
use ledgerscope::store::mongo::MongoLedger;
use ledgerscope::store::postgres::PostgresViews;
use ledgerscope::store::sqlite::{SqliteLedger, SqliteViews};
use ledgerscope::store::{
    AppendOutcome, BulkControl, Checkpoint, CheckpointStore, EventFilter, EventLedger, FoldEntry,
    Hole, LedgerCensus, LockFactory, ModelStore, ReadStore, SnapshotMeta, SnapshotStore,
    StoreError, StoredModel, entry_position, load_read_state,
};
use uuid::Uuid;

// ---------------------------------------------------------------- servers

/// The server's address from the environment; `None` = skip (a failure under CI).
fn server(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "{var} is not set and CI=true: a missing server is a failure (run scripts/services.sh)"
                );
            }
            eprintln!(
                "SKIPPED: {var} is not set; run `eval \"$(scripts/services.sh)\"` to test against the real server"
            );
            None
        }
    }
}

fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", &Uuid::new_v4().simple().to_string()[..12])
}

async fn fresh_mongo() -> Option<(MongoLedger, String)> {
    let uri = server("LEDGERSCOPE_MONGO_URI")?;
    let db = unique_name("ls_contract");
    let ledger = MongoLedger::open(&uri, &db, Duration::from_secs(10), false)
        .await
        .expect("open mongo");
    Some((ledger, db))
}

async fn drop_mongo(ledger: &MongoLedger) {
    ledger.database().drop().await.expect("drop test database");
}

/// A fresh schema on the PostgreSQL server, and a URL whose search_path points at it.
/// A plain client of the test server at `url` (its connection on a task).
async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect postgres");
    tokio::spawn(conn);
    client
}

async fn fresh_postgres() -> Option<(String, String, String)> {
    let url = server("LEDGERSCOPE_POSTGRES_URL")?;
    let schema = unique_name("ls_contract");
    let client = pg_client(&url).await;
    client
        .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .expect("create schema");
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options=-csearch_path%3D{schema}");
    Some((url, scoped, schema))
}

async fn drop_postgres(url: &str, schema: &str) {
    pg_client(url)
        .await
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .expect("drop schema");
}

// ---------------------------------------------------------------- data

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2030, 5, d).expect("date")
}

fn wizard(n: u32) -> StoredEvent {
    let booking_id = Uuid::new_v4();
    let email = format!("guest{n}@example.com");
    let event = DomainEvent::BookingWizardCompleted {
        booking_id,
        user: UserDetails {
            user_id: ledgerscope::domain::user_id_for_email(&email),
            email,
            name: format!("Guest {n}"),
            address: "Calle A".into(),
        },
        booking: BookingDetails {
            service: "double room".into(),
            check_in: day(1),
            check_out: day(3),
            guests: 2,
            price_cents: 12_345,
        },
    };
    StoredEvent::wrap(&event, booking_id, 1, Utc::now(), EventMetadata::default())
}

fn cancel(booking_id: Uuid, version: u64) -> StoredEvent {
    let event = DomainEvent::BookingCancelled {
        booking_id,
        reason: "plans changed".into(),
    };
    StoredEvent::wrap(
        &event,
        Uuid::new_v4(),
        version,
        Utc::now(),
        EventMetadata::default(),
    )
}

fn appended(outcome: AppendOutcome) -> StoredEvent {
    match outcome {
        AppendOutcome::Appended(e) => e,
        AppendOutcome::Duplicate(e) => {
            panic!("expected a new event, got a duplicate at {}", e.position)
        }
    }
}

// ---------------------------------------------------------------- ledger contract

async fn ledger_contract(ledger: Arc<dyn EventLedger>) {
    assert_eq!(ledger.head().await.unwrap(), 0);
    assert_eq!(ledger.count().await.unwrap(), 0);
    assert!(ledger.read_range(1, 10).await.unwrap().is_empty());
    ledger.ping().await.unwrap();

    // One identity, made once, whoever asks.
    let identity = ledger.ensure_identity().await.unwrap();
    assert_eq!(ledger.ensure_identity().await.unwrap(), identity);
    assert_eq!(ledger.identity().await.unwrap(), Some(identity));

    // Gap-free positions 1..n.
    let mut stored = Vec::new();
    for n in 0..5 {
        let e = appended(ledger.append(wizard(n)).await.unwrap());
        assert_eq!(e.position, n as u64 + 1);
        stored.push(e);
    }
    assert_eq!(ledger.head().await.unwrap(), 5);
    assert_eq!(ledger.count().await.unwrap(), 5);
    assert_eq!(
        ledger.census().await.unwrap(),
        LedgerCensus {
            head: 5,
            positioned: 5,
            unpositioned: 0
        }
    );
    assert!(ledger.holes(10).await.unwrap().is_empty());

    // Reads give back exactly what append answered.
    let all = ledger.read_range(1, 100).await.unwrap();
    let read: Vec<StoredEvent> = all.into_iter().map(|e| e.unwrap()).collect();
    assert_eq!(read, stored);
    let page = ledger.read_range(2, 2).await.unwrap();
    assert_eq!(
        page.iter().map(entry_position).collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert!(ledger.read_range(6, 10).await.unwrap().is_empty());
    // The fold's read decodes the same events; the raw read has the same
    // rows, undecoded.
    let folds = ledger.read_fold_range(2, 3).await.unwrap();
    let expected: Vec<FoldEntry> = stored[1..4]
        .iter()
        .map(|e| FoldEntry::from(Ok(e.clone())))
        .collect();
    assert_eq!(folds, expected);
    // Read now, decoded later: the same entries.
    let page = ledger.read_fold_page(2, 3).await.unwrap();
    assert_eq!((page.count, page.last), (3, 4));
    assert_eq!(page.decode(), expected);
    let raw = ledger.read_raw_range(2, 3).await.unwrap();
    assert_eq!(
        raw.iter().map(|row| row.position).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    let payload = stored[1].payload["user"]["email"].as_str().unwrap();
    assert!(
        raw[0]
            .bytes
            .windows(payload.len())
            .any(|w| w == payload.as_bytes()),
        "the raw row holds the payload's bytes"
    );
    assert!(ledger.read_raw_range(6, 10).await.unwrap().is_empty());

    // Idempotent on event_id: the stored event comes back, nothing is added.
    let mut retry = stored[1].clone();
    retry.recorded_at = Utc::now();
    match ledger.append(retry).await.unwrap() {
        AppendOutcome::Duplicate(e) => assert_eq!(e, stored[1]),
        AppendOutcome::Appended(e) => panic!("a retry was stored again at {}", e.position),
    }
    assert_eq!(ledger.count().await.unwrap(), 5);

    // (aggregate_id, version) is taken: a version conflict, nothing stored.
    let mut clash = wizard(99);
    clash.aggregate_id = stored[2].aggregate_id;
    match ledger.append(clash).await {
        Err(StoreError::VersionConflict {
            aggregate_id,
            version,
        }) => {
            assert_eq!((aggregate_id, version), (stored[2].aggregate_id, 1));
        }
        other => panic!("expected a version conflict, got {other:?}"),
    }
    assert_eq!(ledger.head().await.unwrap(), 5);

    // Streams, lookups.
    let booking = stored[0].aggregate_id;
    let cancelled = appended(ledger.append(cancel(booking, 2)).await.unwrap());
    assert_eq!(cancelled.position, 6);
    let stream = ledger.stream(booking).await.unwrap();
    assert_eq!(
        stream
            .iter()
            .map(|e| e.as_ref().unwrap().version)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(
        ledger.first_of_aggregate(booking).await.unwrap(),
        Some(stored[0].clone())
    );
    assert_eq!(
        ledger.first_of_aggregate(Uuid::new_v4()).await.unwrap(),
        None
    );
    assert_eq!(
        ledger.find_event(cancelled.event_id).await.unwrap(),
        Some(cancelled.clone())
    );
    assert_eq!(ledger.find_event(Uuid::new_v4()).await.unwrap(), None);

    // Search and counts.
    let by_type = EventFilter {
        event_type: Some("BookingCancelled".into()),
        ..EventFilter::default()
    };
    let found = ledger.search(&by_type, 0, 10).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(entry_position(&found[0]), 6);
    assert_eq!(ledger.count_matching(&by_type).await.unwrap(), 1);
    let by_aggregate = EventFilter {
        aggregate_id: Some(booking),
        ..EventFilter::default()
    };
    assert_eq!(ledger.count_matching(&by_aggregate).await.unwrap(), 2);
    let by_text = EventFilter {
        text: Some("GUEST3@EXAMPLE".into()),
        ..EventFilter::default()
    };
    let found = ledger.search(&by_text, 0, 10).await.unwrap();
    assert_eq!(
        found.iter().map(entry_position).collect::<Vec<_>>(),
        vec![4]
    );
    let by_time = EventFilter {
        from_time: Some(stored[2].recorded_at),
        to_time: Some(cancelled.recorded_at),
        ..EventFilter::default()
    };
    let found = ledger.search(&by_time, 0, 10).await.unwrap();
    assert_eq!(
        found.iter().map(entry_position).collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
    let found = ledger.search(&by_time, 1, 1).await.unwrap();
    assert_eq!(
        found.iter().map(entry_position).collect::<Vec<_>>(),
        vec![4]
    );
    let everything = ledger.search(&EventFilter::default(), 2, 2).await.unwrap();
    assert_eq!(
        everything.iter().map(entry_position).collect::<Vec<_>>(),
        vec![3, 4]
    );
    assert_eq!(
        ledger
            .count_matching(&EventFilter::default())
            .await
            .unwrap(),
        6
    );

    // The wizards that carry a user, in position order: a second booking
    // by guest 0 carries the same user, the others carry someone else.
    let again = appended(ledger.append(wizard(0)).await.unwrap());
    let guest0 = ledgerscope::domain::user_id_for_email("guest0@example.com");
    assert_eq!(
        carrying(&*ledger, guest0).await,
        vec![stored[0].clone(), again]
    );
    assert_eq!(carrying(&*ledger, Uuid::new_v4()).await, Vec::new());
}

/// The wizards the ledger's index finds for `user`.
async fn carrying(ledger: &dyn EventLedger, user: Uuid) -> Vec<StoredEvent> {
    ledger
        .wizards_carrying(user)
        .await
        .unwrap()
        .expect("a writable ledger has the index")
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// What another application writes straight into the ledger store.
enum Raw {
    /// A well-formed event at this position, in the documented schema.
    Event(u64, Box<StoredEvent>),
    /// A row without a usable position.
    Unpositioned,
}

/// Events another writer stores in the documented schema are seen by every
/// read and every check: the head, pages after a hole, the existence and
/// idempotency checks, the census; rows without a position are counted and
/// listed as malformed, never placed.
async fn foreign_writer_contract<F, Fut>(ledger: Arc<dyn EventLedger>, raw: F)
where
    F: Fn(Raw) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let head = ledger.head().await.unwrap();
    let far = wizard(500);
    let at = head + 1000;
    raw(Raw::Event(at, Box::new(far.clone()))).await;
    let far = StoredEvent {
        position: at,
        ..far
    };
    assert_eq!(
        ledger.head().await.unwrap(),
        at,
        "the highest stored position"
    );
    let after = ledger.read_range(head + 1, 10).await.unwrap();
    assert_eq!(
        after.iter().map(entry_position).collect::<Vec<_>>(),
        vec![at],
        "the next stored events after a position: nothing after a hole is lost"
    );
    assert_eq!(after[0].as_ref().unwrap(), &far);
    let guest500 = ledgerscope::domain::user_id_for_email("guest500@example.com");
    assert_eq!(
        carrying(&*ledger, guest500).await,
        vec![far.clone()],
        "the index finds another writer's wizard"
    );
    assert_eq!(
        ledger.find_event(far.event_id).await.unwrap(),
        Some(far.clone())
    );
    assert_eq!(
        ledger.first_of_aggregate(far.aggregate_id).await.unwrap(),
        Some(far.clone())
    );
    assert!(
        matches!(ledger.append(far.clone()).await.unwrap(), AppendOutcome::Duplicate(e) if e == far),
        "a retry of the foreign event is a duplicate"
    );
    let census = ledger.census().await.unwrap();
    assert_eq!((census.head, census.missing_positions()), (at, 999));
    assert_eq!(
        ledger.holes(10).await.unwrap(),
        vec![Hole {
            from: head + 1,
            to: at - 1
        }]
    );
    let next = appended(ledger.append(wizard(501)).await.unwrap());
    assert_eq!(next.position, at + 1, "our appends go on after it");
    raw(Raw::Unpositioned).await;
    let census = ledger.census().await.unwrap();
    assert_eq!(census.unpositioned, 1, "{census:?}");
    let listed = ledger.unpositioned(10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].position, 0);
    let all = ledger.read_range(1, 100_000).await.unwrap();
    assert!(all.iter().all(|e| entry_position(e) > 0), "never placed");
    assert_eq!(all.len() as u64, census.positioned);
    let paged = ledger
        .search(&EventFilter::default(), 0, 100_000)
        .await
        .unwrap();
    assert_eq!(paged.len() as u64, census.positioned);
    let tail = ledger
        .search(&EventFilter::default(), census.positioned - 2, 10)
        .await
        .unwrap();
    assert_eq!(
        tail.iter().map(entry_position).collect::<Vec<_>>(),
        vec![at, at + 1],
        "offsets count stored events, not positions"
    );
}

/// Writes `raw` into an embedded ledger file as another program would.
fn sqlite_raw(path: &std::path::Path, raw: Raw) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let (position, event) = match raw {
        Raw::Event(position, event) => (position as i64, *event),
        Raw::Unpositioned => (-7, wizard(502)),
    };
    conn.execute(
        "INSERT INTO events(position, event_id, aggregate_id, aggregate_type, version, event_type,
         schema_version, recorded_at, payload, metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        rusqlite::params![
            position,
            event.event_id.to_string(),
            event.aggregate_id.to_string(),
            event.aggregate_type,
            event.version as i64,
            event.event_type,
            i64::from(event.schema_version),
            event.recorded_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            event.payload.to_string(),
            "{}",
        ],
    )
    .unwrap();
}

/// Inserts `raw` into `events` as another MongoDB client following the
/// README's schema would (its own ObjectId `_id`, string UUIDs).
async fn mongo_raw(ledger: &MongoLedger, raw: Raw) {
    use mongodb::bson::{doc, oid::ObjectId};
    let events = ledger
        .database()
        .collection::<mongodb::bson::Document>("events");
    let document = match raw {
        Raw::Event(position, e) => doc! {
            "_id": ObjectId::new(),
            "position": position as i64,
            "event_id": e.event_id.to_string(),
            "aggregate_id": e.aggregate_id.to_string(),
            "aggregate_type": &e.aggregate_type,
            "version": e.version as i64,
            "event_type": &e.event_type,
            "schema_version": i64::from(e.schema_version),
            "recorded_at": mongodb::bson::DateTime::from_millis(e.recorded_at.timestamp_millis()),
            "recorded_at_us": e.recorded_at.timestamp_micros(),
            "payload": mongodb::bson::to_bson(&e.payload).unwrap(),
            "metadata": {},
        },
        Raw::Unpositioned => doc! {"_id": ObjectId::new(), "event_type": "BookingCancelled"},
    };
    events.insert_one(document).await.unwrap();
}

/// Concurrent writers (tasks, and for servers a second client) get unique,
/// gap-free positions.
async fn concurrent_append_contract(writers: Vec<Arc<dyn EventLedger>>, per_writer: u32) {
    let start = writers[0].head().await.unwrap();
    let mut tasks = Vec::new();
    for (w, ledger) in writers.iter().enumerate() {
        for t in 0..2u32 {
            let ledger = ledger.clone();
            tasks.push(tokio::spawn(async move {
                let mut positions = Vec::new();
                for n in 0..per_writer {
                    let e = appended(
                        ledger
                            .append(wizard(1000 * (w as u32 * 2 + t) + n))
                            .await
                            .unwrap(),
                    );
                    positions.push(e.position);
                }
                positions
            }));
        }
    }
    let mut positions = Vec::new();
    for t in tasks {
        positions.extend(t.await.unwrap());
    }
    positions.sort_unstable();
    let total = positions.len() as u64;
    assert_eq!(
        positions,
        (start + 1..=start + total).collect::<Vec<_>>(),
        "positions must be unique and gap-free"
    );
    assert_eq!(writers[0].head().await.unwrap(), start + total);
    let read = writers[0]
        .read_range(start + 1, total as usize + 10)
        .await
        .unwrap();
    assert_eq!(read.len() as u64, total);
}

async fn checkpoint_contract(store: Arc<dyn CheckpointStore>) {
    assert_eq!(store.load_checkpoint("UserProjection").await.unwrap(), None);
    let now = chrono::DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap();
    let mut cp = Checkpoint {
        skipped: vec![7, 9],
        holes: vec![Hole { from: 20, to: 29 }],
        updated_at: now,
        ..Checkpoint::new("UserProjection", 42, "host-1-abcd")
    };
    store.save_checkpoint(&cp).await.unwrap();
    assert_eq!(
        store.load_checkpoint("UserProjection").await.unwrap(),
        Some(cp.clone())
    );
    cp.position = 50;
    cp.skipped.push(48);
    cp.holes.push(Hole { from: 45, to: 45 });
    // A projector's failure and since when (millisecond precision).
    cp.last_error = Some("postgresql at h:5/db is unavailable: gone".into());
    cp.error_since = chrono::DateTime::from_timestamp_millis(now.timestamp_millis());
    store.save_checkpoint(&cp).await.unwrap();
    assert_eq!(
        store.load_checkpoint("UserProjection").await.unwrap(),
        Some(cp.clone())
    );
    cp.last_error = None;
    cp.error_since = None;
    store.save_checkpoint(&cp).await.unwrap();
    assert_eq!(
        store.load_checkpoint("UserProjection").await.unwrap(),
        Some(cp),
        "a cleared error is gone"
    );
    assert_eq!(
        store.load_checkpoint("BookingProjection").await.unwrap(),
        None
    );
}

fn snapshot_meta(position: u64, bytes: &[u8], chunks: u32) -> SnapshotMeta {
    SnapshotMeta {
        id: Uuid::new_v4(),
        position,
        taken_at: chrono::DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap(),
        size_bytes: bytes.len() as u64,
        chunks,
        sha256: "0".repeat(64),
        index_xxh3: Some("1".repeat(32)),
        state_digest: "digest".into(),
        users: 3,
        bookings: 4,
        base: None,
        ledger_id: Some(Uuid::new_v4()),
        versions: ModelVersions::FIRST,
    }
}

async fn snapshot_contract(store: Arc<dyn SnapshotStore>) {
    assert!(store.list_snapshots().await.unwrap().is_empty());
    let bytes: Vec<u8> = (0..5000u32).map(|i| (i * 31 % 251) as u8).collect();
    let chunks: Vec<Vec<u8>> = bytes.chunks(37).map(<[u8]>::to_vec).collect();
    let later = snapshot_meta(10, &bytes, chunks.len() as u32);
    store.save_snapshot(&later, chunks.clone()).await.unwrap();
    let small = vec![vec![1u8, 2, 3]];
    // A delta names its full snapshot; the field must survive the store.
    let earlier = SnapshotMeta {
        base: Some(later.id),
        ..snapshot_meta(5, &small[0], 1)
    };
    store.save_snapshot(&earlier, small.clone()).await.unwrap();
    let listed = store.list_snapshots().await.unwrap();
    assert_eq!(
        listed,
        vec![earlier.clone(), later.clone()],
        "oldest position first"
    );
    let loaded = store.load_snapshot_chunks(later.id).await.unwrap();
    assert_eq!(loaded.len(), chunks.len());
    assert_eq!(loaded.concat(), bytes);
    assert_eq!(store.load_snapshot_chunks(earlier.id).await.unwrap(), small);

    // Chunk ranges: what time travel reads (an index chunk, then some pages).
    let n = chunks.len() as u32;
    assert!(n > 10, "enough chunks for a middle range");
    assert_eq!(
        store
            .load_snapshot_chunk_range(later.id, 3, 5)
            .await
            .unwrap(),
        chunks[3..8].to_vec(),
        "a middle range is that slice"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(later.id, 0, 1)
            .await
            .unwrap(),
        chunks[..1].to_vec(),
        "the first chunk alone"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(later.id, n - 2, 10)
            .await
            .unwrap(),
        chunks[n as usize - 2..].to_vec(),
        "a range past the end returns only the stored chunks"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(later.id, n, 3)
            .await
            .unwrap(),
        Vec::<Vec<u8>>::new(),
        "a range starting at the end is empty"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(later.id, n + 5, 3)
            .await
            .unwrap(),
        Vec::<Vec<u8>>::new(),
        "a range starting past the end is empty"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(later.id, u32::MAX, u32::MAX)
            .await
            .unwrap(),
        Vec::<Vec<u8>>::new(),
        "a range at the end of u32 does not overflow"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(later.id, 2, 0)
            .await
            .unwrap(),
        Vec::<Vec<u8>>::new(),
        "count == 0 is empty"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(earlier.id, 0, 4)
            .await
            .unwrap(),
        small,
        "ranges stay within one snapshot"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(Uuid::new_v4(), 0, 4)
            .await
            .unwrap(),
        Vec::<Vec<u8>>::new(),
        "an unknown snapshot has no chunks (empty, not an error)"
    );

    // Deleting one leaves the other whole; its chunks go with it.
    store.delete_snapshot(later.id).await.unwrap();
    let listed: Vec<Uuid> = store
        .list_snapshots()
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, [earlier.id]);
    assert!(
        store
            .load_snapshot_chunk_range(later.id, 0, 4)
            .await
            .unwrap()
            .is_empty(),
        "a deleted snapshot's chunks are gone"
    );
    assert_eq!(store.load_snapshot_chunks(earlier.id).await.unwrap(), small);
    store
        .delete_snapshot(later.id)
        .await
        .expect("deleting a snapshot that is not stored does nothing");
}

async fn lease_contract(locks: Arc<dyn LockFactory>) {
    let ttl = Duration::from_millis(600);
    let first = locks
        .try_acquire("projector:Test", "a", ttl)
        .await
        .unwrap()
        .expect("free lease");
    assert_eq!(first.owner, "a");
    assert_eq!(
        locks.try_acquire("projector:Test", "b", ttl).await.unwrap(),
        None,
        "held by a"
    );
    let renewed = locks
        .try_acquire("projector:Test", "a", ttl)
        .await
        .unwrap()
        .expect("renewal");
    assert_eq!(
        renewed.fencing, first.fencing,
        "a renewal keeps the fencing number"
    );
    assert!(renewed.expires_at >= first.expires_at);
    assert_eq!(
        locks
            .holder("projector:Test")
            .await
            .unwrap()
            .map(|l| l.owner),
        Some("a".into())
    );
    // Who held it and when: renewed when taken, expiring a ttl later.
    let renewed_at = renewed
        .renewed_at
        .expect("a lease says when it was renewed");
    assert!(renewed_at >= first.renewed_at.unwrap() && renewed_at < renewed.expires_at);
    assert_eq!(
        locks.last_lease("projector:Test").await.unwrap(),
        Some(renewed.clone()),
        "the stored lease is the one taken"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        locks.holder("projector:Test").await.unwrap(),
        None,
        "expired"
    );
    let lapsed = locks
        .last_lease("projector:Test")
        .await
        .unwrap()
        .expect("an expired lease is still told, as expired");
    assert_eq!(
        (lapsed.owner.as_str(), lapsed.renewed_at),
        ("a", renewed.renewed_at)
    );
    assert!(lapsed.expired_at(chrono::Utc::now()));
    let second = locks
        .try_acquire("projector:Test", "b", ttl)
        .await
        .unwrap()
        .expect("expired lease is free");
    assert!(
        second.fencing > first.fencing,
        "a new holder gets a higher fencing number"
    );
    locks.release(&renewed).await.unwrap(); // stale: must not free b's lease
    assert_eq!(
        locks
            .holder("projector:Test")
            .await
            .unwrap()
            .map(|l| l.owner),
        Some("b".into())
    );
    locks.release(&second).await.unwrap();
    assert_eq!(locks.holder("projector:Test").await.unwrap(), None);
    assert_eq!(
        locks.last_lease("projector:Test").await.unwrap(),
        None,
        "a released lease is gone"
    );
    let third = locks
        .try_acquire("projector:Test", "c", ttl)
        .await
        .unwrap()
        .expect("released lease is free");
    assert!(third.fencing > second.fencing);
    // Contenders at once: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..6 {
        let locks = locks.clone();
        tasks.push(tokio::spawn(async move {
            locks
                .try_acquire("aggregate:race", &format!("w{i}"), Duration::from_secs(30))
                .await
                .unwrap()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap().is_some());
    }
    assert_eq!(winners, 1, "one holder at a time");
}

/// `append_releasing`: the event is stored whatever the store; the lease is
/// gone exactly when the store says it released it, never when the append
/// failed, and never when another holder has taken it since.
async fn append_releasing_contract<S: EventLedger + LockFactory + 'static>(store: Arc<S>) {
    let ttl = Duration::from_secs(30);
    let event = wizard(70);
    let name = format!("aggregate:{}", event.aggregate_id);
    let lease = store.try_acquire(&name, "a", ttl).await.unwrap().unwrap();
    let (outcome, released) = store.append_releasing(event.clone(), &lease).await.unwrap();
    let stored = appended(outcome);
    assert_eq!(
        store.find_event(event.event_id).await.unwrap(),
        Some(stored.clone())
    );
    let holder = store.holder(&name).await.unwrap().map(|l| l.owner);
    assert_eq!(
        holder.is_none(),
        released,
        "released means gone: {holder:?}"
    );
    if !released {
        store.release(&lease).await.unwrap();
    }
    // A retry of the same event: the stored one, as a duplicate.
    let lease = store.try_acquire(&name, "b", ttl).await.unwrap().unwrap();
    let (outcome, released) = store.append_releasing(event.clone(), &lease).await.unwrap();
    assert!(matches!(outcome, AppendOutcome::Duplicate(e) if e == stored));
    if !released {
        store.release(&lease).await.unwrap();
    }
    // A taken version fails, and the lease stays with its holder.
    let lease = store.try_acquire(&name, "c", ttl).await.unwrap().unwrap();
    let mut clash = cancel(event.aggregate_id, 1);
    clash.event_id = Uuid::new_v4();
    assert!(matches!(
        store.append_releasing(clash, &lease).await,
        Err(StoreError::VersionConflict { .. })
    ));
    assert_eq!(
        store.holder(&name).await.unwrap().map(|l| l.owner),
        Some("c".into()),
        "a failed append releases nothing"
    );
    store.release(&lease).await.unwrap();
    // A stale lease (expired, taken by d) must not free d's.
    let short = Duration::from_millis(300);
    let stale = store.try_acquire(&name, "e", short).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let current = store.try_acquire(&name, "d", ttl).await.unwrap().unwrap();
    let head = store.head().await.unwrap();
    let (outcome, _) = store
        .append_releasing(cancel(event.aggregate_id, 2), &stale)
        .await
        .unwrap();
    assert_eq!(appended(outcome).position, head + 1);
    assert_eq!(
        store.holder(&name).await.unwrap().map(|l| l.owner),
        Some("d".into()),
        "a stale lease frees nothing"
    );
    store.release(&current).await.unwrap();
}

// ---------------------------------------------------------------- read store contract

fn user(n: u8, position: u64) -> UserRow {
    UserRow {
        user_id: Uuid::from_bytes([n.wrapping_mul(37); 16]),
        email: format!("u{n}@example.com"),
        name: format!("User {n}"),
        address: "Calle A".into(),
        created_position: position,
        last_position: position,
    }
}

fn booking(n: u8, user_id: Uuid, position: u64) -> BookingRow {
    BookingRow {
        booking_id: Uuid::from_bytes([n.wrapping_mul(53).wrapping_add(1); 16]),
        user_id,
        service: "suite".into(),
        check_in: day(2),
        check_out: day(5),
        guests: 3,
        price_cents: 99_00,
        last_position: position,
        ..BookingRow::default()
    }
}

/// The ledger the read-store contract projects for.
const LEDGER: Uuid = Uuid::from_u128(0x001e_d9e4_0000_4000_8000_0000_0000_0001);

async fn read_store_contract(read: Arc<dyn ReadStore>) {
    read.ping().await.unwrap();
    assert_eq!(read.counts().await.unwrap().users, 0);
    // New tables are not stamped; a compare-and-set stamps them once.
    assert_eq!(read.stamp().await.unwrap(), None);
    let other = Uuid::new_v4();
    assert!(
        read.set_stamp(LEDGER, None, ModelVersions::FIRST)
            .await
            .unwrap()
    );
    assert!(
        !read
            .set_stamp(other, None, ModelVersions::FIRST)
            .await
            .unwrap(),
        "stamped already"
    );
    assert!(
        !read
            .set_stamp(other, Some(other), ModelVersions::FIRST)
            .await
            .unwrap()
    );
    assert_eq!(
        read.stamp().await.unwrap().map(|s| s.ledger_id),
        Some(LEDGER)
    );
    let u1 = user(1, 1);
    let users = ProjectorId::UserProjection;
    // Tables stamped with another ledger take nothing.
    assert_eq!(
        read.apply(
            other,
            ModelVersions::FIRST,
            users,
            &[RowChange::InsertUserIfAbsent(u1.clone())],
            1
        )
        .await,
        Err(StoreError::ForeignReadStore {
            store: read.info().to_string(),
            found: Some(LEDGER)
        })
    );
    assert_eq!(read.counts().await.unwrap().users, 0, "nothing was written");
    assert_eq!(read.projector_position(users).await.unwrap(), 0);
    // Nor tables of this ledger built with other schema versions (stamped
    // without versions: version 1 of each).
    assert_eq!(
        read.stamp().await.unwrap().map(|s| s.versions),
        Some(ModelVersions::FIRST)
    );
    let newer = ModelVersions {
        bookings: 2,
        ..ModelVersions::FIRST
    };
    let other_schema = Err(StoreError::OtherSchema {
        store: read.info().to_string(),
        found: ModelVersions::FIRST,
    });
    assert_eq!(
        read.apply(
            LEDGER,
            newer,
            users,
            &[RowChange::InsertUserIfAbsent(u1.clone())],
            1
        )
        .await,
        other_schema
    );
    let repair = ledgerscope::store::RowRewrite {
        users_at: 0,
        bookings_at: 0,
        users: vec![(u1.user_id, Some(u1.clone()))],
        bookings: Vec::new(),
    };
    assert_eq!(
        read.rewrite_rows(LEDGER, newer, &repair).await,
        other_schema.map(|()| false)
    );
    assert_eq!(read.counts().await.unwrap().users, 0, "nothing was written");
    assert_eq!(read.projector_position(users).await.unwrap(), 0);
    read.apply(
        LEDGER,
        ModelVersions::FIRST,
        users,
        &[RowChange::InsertUserIfAbsent(u1.clone())],
        1,
    )
    .await
    .unwrap();
    assert_eq!(read.projector_position(users).await.unwrap(), 1);
    assert_eq!(
        read.projector_position(ProjectorId::BookingProjection)
            .await
            .unwrap(),
        0
    );
    // Re-applying changes nothing, even with other values.
    let mut again = u1.clone();
    again.address = "Somewhere else".into();
    read.apply(
        LEDGER,
        ModelVersions::FIRST,
        users,
        &[RowChange::InsertUserIfAbsent(again)],
        1,
    )
    .await
    .unwrap();
    assert_eq!(read.users_page(None, 10).await.unwrap(), vec![u1.clone()]);
    // Newer position updates; an older one does not overwrite it.
    let move_to = |address: &str, position| RowChange::SetUserAddress {
        user_id: u1.user_id,
        address: address.into(),
        position,
    };
    read.apply(
        LEDGER,
        ModelVersions::FIRST,
        users,
        &[move_to("Calle B", 3)],
        3,
    )
    .await
    .unwrap();
    read.apply(
        LEDGER,
        ModelVersions::FIRST,
        users,
        &[move_to("Calle Old", 2)],
        3,
    )
    .await
    .unwrap();
    read.apply(
        LEDGER,
        ModelVersions::FIRST,
        users,
        &[move_to("Calle B again", 3)],
        3,
    )
    .await
    .unwrap();
    let row = read.users_page(None, 10).await.unwrap().remove(0);
    assert_eq!((row.address.as_str(), row.last_position), ("Calle B", 3));
    assert_eq!(read.projector_position(users).await.unwrap(), 3);

    // Bookings: insert, status and dates conditional on position.
    let bookings = ProjectorId::BookingProjection;
    let b1 = booking(1, u1.user_id, 4);
    read.apply(
        LEDGER,
        ModelVersions::FIRST,
        bookings,
        &[RowChange::InsertBookingIfAbsent(b1.clone())],
        4,
    )
    .await
    .unwrap();
    read.apply(
        LEDGER,
        ModelVersions::FIRST,
        bookings,
        &[
            RowChange::SetBookingDates {
                booking_id: b1.booking_id,
                check_in: day(10),
                check_out: day(12),
                position: 6,
            },
            RowChange::SetBookingStatus {
                booking_id: b1.booking_id,
                status: BookingStatus::Cancelled,
                position: 5,
            },
        ],
        6,
    )
    .await
    .unwrap();
    let got = read.bookings_page(None, 10).await.unwrap().remove(0);
    assert_eq!(
        (got.check_in, got.check_out, got.last_position),
        (day(10), day(12), 6)
    );
    assert_eq!(
        got.status,
        BookingStatus::Confirmed,
        "position 5 is older than 6"
    );
    read.apply(
        LEDGER,
        ModelVersions::FIRST,
        bookings,
        &[RowChange::SetBookingStatus {
            booking_id: b1.booking_id,
            status: BookingStatus::Cancelled,
            position: 7,
        }],
        7,
    )
    .await
    .unwrap();
    let got = read.bookings_page(None, 10).await.unwrap().remove(0);
    assert_eq!(
        (got.status, got.last_position, got.guests, got.price_cents),
        (BookingStatus::Cancelled, 7, 3, 99_00)
    );

    // Paging in key order (Rust's Uuid order).
    let more: Vec<RowChange> = (2..=9)
        .map(|n| RowChange::InsertUserIfAbsent(user(n, 10 + n as u64)))
        .collect();
    read.apply(LEDGER, ModelVersions::FIRST, users, &more, 19)
        .await
        .unwrap();
    let mut expected: Vec<Uuid> = (1..=9).map(|n| user(n, 0).user_id).collect();
    expected.sort();
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = read.users_page(after, 4).await.unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|r| r.user_id);
        paged.extend(page.into_iter().map(|r| r.user_id));
    }
    assert_eq!(paged, expected);
    assert_eq!(read.counts().await.unwrap().users, 9);
    assert_eq!(read.counts().await.unwrap().bookings, 1);
}

fn big_state(users: u32, bookings: u8, position: u64) -> ReadState {
    let mut state = ReadState {
        position,
        users: BTreeMap::new(),
        bookings: BTreeMap::new(),
    };
    for i in 0..users {
        let mut u = user(0, 1);
        u.user_id = Uuid::from_u128(u128::from(i) * 7919 + 11);
        u.email = format!("bulk{i}@example.com");
        state.users.insert(u.user_id, u);
    }
    for n in 0..bookings {
        let b = booking(n, Uuid::from_u128(11), 2);
        state.bookings.insert(b.booking_id, b);
    }
    state
}

async fn replace_all_contract(read: Arc<dyn ReadStore>) {
    let before = load_read_state(read.as_ref(), 1000).await.unwrap();
    // Cancelled before starting: nothing changes.
    let cancel = CancellationToken::new();
    cancel.cancel();
    let control = BulkControl {
        cancel,
        on_rows: Arc::new(|_| {}),
    };
    let result = read
        .replace_all(
            LEDGER,
            ModelVersions::FIRST,
            Arc::new(big_state(10, 2, 100)),
            control,
        )
        .await;
    assert_eq!(result, Err(StoreError::Cancelled));
    assert_eq!(load_read_state(read.as_ref(), 1000).await.unwrap(), before);
    // Cancelled midway (after the first progress report): the old tables stay.
    let cancel = CancellationToken::new();
    let flag = cancel.clone();
    let control = BulkControl {
        cancel,
        on_rows: Arc::new(move |rows| {
            if rows > 0 {
                flag.cancel();
            }
        }),
    };
    let result = read
        .replace_all(
            LEDGER,
            ModelVersions::FIRST,
            Arc::new(big_state(12_000, 5, 100)),
            control,
        )
        .await;
    assert_eq!(result, Err(StoreError::Cancelled));
    assert_eq!(load_read_state(read.as_ref(), 1000).await.unwrap(), before);
    assert_eq!(
        read.projector_position(ProjectorId::UserProjection)
            .await
            .unwrap(),
        19
    );
    // A full swap: tables equal the state, every projector at its position.
    let state = big_state(12_000, 5, 500);
    let rows = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = rows.clone();
    let control = BulkControl {
        cancel: CancellationToken::new(),
        on_rows: Arc::new(move |n| seen.store(n, Ordering::Relaxed)),
    };
    read.replace_all(
        LEDGER,
        ModelVersions::FIRST,
        Arc::new(state.clone()),
        control,
    )
    .await
    .unwrap();
    assert_eq!(rows.load(Ordering::Relaxed), 12_005);
    let mut after = load_read_state(read.as_ref(), 1000).await.unwrap();
    after.position = state.position;
    assert_eq!(after, state);
    for p in ProjectorId::ALL {
        assert_eq!(read.projector_position(p).await.unwrap(), 500);
    }
    // Applying after a swap still works (keys and indexes are back).
    read.apply(
        LEDGER,
        ModelVersions::FIRST,
        ProjectorId::UserProjection,
        &[RowChange::InsertUserIfAbsent(user(200, 501))],
        501,
    )
    .await
    .unwrap();
    read.apply(
        LEDGER,
        ModelVersions::FIRST,
        ProjectorId::UserProjection,
        &[RowChange::InsertUserIfAbsent(user(200, 501))],
        501,
    )
    .await
    .unwrap();
    assert_eq!(read.counts().await.unwrap().users, 12_001);
    // A second swap works too (index names are reusable), and a replay for
    // another ledger stamps the tables with it: the first one's writes are
    // refused from then on.
    let rebuilt_for = Uuid::new_v4();
    read.replace_all(
        rebuilt_for,
        ModelVersions::FIRST,
        Arc::new(big_state(3, 1, 600)),
        BulkControl::none(),
    )
    .await
    .unwrap();
    assert_eq!(read.counts().await.unwrap().users, 3);
    assert_eq!(
        read.stamp().await.unwrap().map(|s| s.ledger_id),
        Some(rebuilt_for)
    );
    assert!(matches!(
        read.apply(LEDGER, ModelVersions::FIRST, ProjectorId::UserProjection, &[], 601).await,
        Err(StoreError::ForeignReadStore { found: Some(f), .. }) if f == rebuilt_for
    ));
    assert_eq!(
        read.projector_position(ProjectorId::UserProjection)
            .await
            .unwrap(),
        600
    );
}

/// `read_fold_range` decodes the embedded ledger's payloads straight from
/// their text; every row, well-formed or not, must come out as decoding
/// `read_range`'s entry gives. The odd rows are ones a foreign writer or a
/// hand edit could leave: each differs from a good wizard in one column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_fold_range_is_read_range_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let ledger = SqliteLedger::open(&path, false).unwrap();
    let good = wizard(1);
    let payload = good.payload.to_string();
    let with = |extra: &str| format!("{},{extra}}}", &payload[..payload.len() - 1]);
    let other = wizard(2);
    let recorded = good
        .recorded_at
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    // (column, value) over the good row; `None` stores NULL.
    let variants: Vec<(&str, Option<String>)> = vec![
        ("payload", Some(payload.clone())),
        ("payload", Some(format!("blob:{payload}"))),
        ("metadata", None),
        ("metadata", Some(r#"{"actor":"cli:user"}"#.into())),
        ("metadata", Some("not json".into())),
        ("metadata", Some(r#"{"command_id":"nope"}"#.into())),
        ("payload", Some(with(r#""note":"kept by another writer""#))),
        ("payload", Some(with(r#""huge":1e400"#))),
        (
            "payload",
            Some(with(
                r#""deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"#,
            )),
        ),
        ("payload", Some(with(r#""lone":"\ud800""#))),
        (
            "payload",
            Some(with(
                r#""booking_id":"00000000-0000-0000-0000-000000000000""#,
            )),
        ),
        (
            "payload",
            Some(payload.replace("Guest 1", r#"Gu\"est \u00e9 1"#)),
        ),
        ("payload", Some(payload.replace("Guest 1", r#"\ud800"#))),
        ("payload", Some(payload.replace("2030-05-03", "2030-05-01"))),
        ("payload", Some(payload.replace("12345", "12345.5"))),
        ("payload", Some(format!("{payload} trailing"))),
        ("payload", Some("not json".into())),
        ("payload", Some("[]".into())),
        ("payload", Some(other.payload.to_string())),
        ("payload", None),
        ("event_type", Some("SomethingNew".into())),
        ("schema_version", Some("2".into())),
        ("schema_version", Some("-1".into())),
        ("aggregate_type", Some("user".into())),
        ("aggregate_id", Some(other.aggregate_id.to_string())),
        ("aggregate_id", Some("not a uuid".into())),
        ("event_id", Some("not a uuid".into())),
        ("version", Some("-3".into())),
        ("recorded_at", Some("yesterday".into())),
        ("recorded_at", None),
    ];
    let conn = rusqlite::Connection::open(&path).unwrap();
    for (i, (column, value)) in variants.iter().enumerate() {
        let mut row: BTreeMap<&str, rusqlite::types::Value> = BTreeMap::new();
        use rusqlite::types::Value as V;
        row.insert("position", V::Integer(i as i64 + 1));
        row.insert("event_id", V::Text(Uuid::new_v4().to_string()));
        row.insert("aggregate_id", V::Text(good.aggregate_id.to_string()));
        row.insert("aggregate_type", V::Text(good.aggregate_type.clone()));
        row.insert("version", V::Integer(i as i64 + 1));
        row.insert("event_type", V::Text(good.event_type.clone()));
        row.insert("schema_version", V::Integer(1));
        row.insert("recorded_at", V::Text(recorded.clone()));
        row.insert("payload", V::Text(payload.clone()));
        row.insert("metadata", V::Text("{}".into()));
        let cell = match value {
            None => V::Null,
            Some(text) => match (*column, text.parse::<i64>()) {
                ("version" | "schema_version", Ok(n)) => V::Integer(n),
                (_, _) if text.starts_with("blob:") => V::Blob(text.as_bytes()[5..].to_vec()),
                _ => V::Text(text.clone()),
            },
        };
        row.insert(column, cell);
        let names: Vec<&str> = row.keys().copied().collect();
        let marks: Vec<String> = (1..=names.len()).map(|n| format!("?{n}")).collect();
        conn.execute(
            &format!(
                "INSERT INTO events({}) VALUES ({})",
                names.join(", "),
                marks.join(", ")
            ),
            rusqlite::params_from_iter(row.values()),
        )
        .unwrap();
    }
    let read = ledger.read_range(1, 1_000).await.unwrap();
    let folded = ledger.read_fold_range(1, 1_000).await.unwrap();
    // The page read now and decoded later (its rows' bytes copied off the
    // connection), twice: the second reuses the first one's buffers.
    let mut pages = Vec::new();
    for _ in 0..2 {
        let page = ledger.read_fold_page(1, 1_000).await.unwrap();
        assert_eq!(
            (page.count, page.last),
            (variants.len(), variants.len() as u64)
        );
        pages.push(page.decode());
    }
    assert_eq!(read.len(), variants.len());
    assert_eq!(folded.len(), variants.len());
    let mut decoded = 0;
    for ((entry, fold), variant) in read.into_iter().zip(folded).zip(&variants) {
        let expected = FoldEntry::from(entry);
        decoded += matches!(expected, FoldEntry::Event { .. }) as u32;
        assert_eq!(fold, expected, "row with {variant:?}");
        for page in &pages {
            assert_eq!(
                page[fold.position() as usize - 1],
                expected,
                "paged row with {variant:?}"
            );
        }
    }
    // Rows that decode and rows that do not are both among them.
    assert!(
        decoded >= 4 && decoded < variants.len() as u32 - 10,
        "{decoded}"
    );
    // Paged from the middle, as a fold resumes.
    let tail = ledger.read_fold_range(5, 3).await.unwrap();
    assert_eq!(
        tail.iter().map(FoldEntry::position).collect::<Vec<_>>(),
        vec![5, 6, 7]
    );
    let tail = ledger.read_fold_page(5, 3).await.unwrap().decode();
    assert_eq!(
        tail.iter().map(FoldEntry::position).collect::<Vec<_>>(),
        vec![5, 6, 7]
    );
}

/// Model definitions: added once under a name, listed by name, read,
/// removed.
async fn model_store_contract(store: Arc<dyn ModelStore>) {
    let model = |name: &str, version: u32| StoredModel {
        name: name.into(),
        version,
        source: format!(
            "-- model: {name}\n-- version: {version}\nCREATE TABLE t(k TEXT PRIMARY KEY);\n"
        ),
        added_at: chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap(),
    };
    assert!(store.models().await.unwrap().is_empty());
    assert!(store.add_model(&model("zeta", 1)).await.unwrap());
    assert!(store.add_model(&model("alpha", 2)).await.unwrap());
    assert!(
        !store.add_model(&model("alpha", 3)).await.unwrap(),
        "a name is taken once"
    );
    let names: Vec<String> = store
        .models()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["alpha", "zeta"]);
    assert_eq!(store.model("alpha").await.unwrap(), Some(model("alpha", 2)));
    assert_eq!(store.model("beta").await.unwrap(), None);
    assert!(store.remove_model("alpha").await.unwrap());
    assert!(!store.remove_model("alpha").await.unwrap());
    assert_eq!(store.models().await.unwrap(), [model("zeta", 1)]);
    store.remove_model("zeta").await.unwrap();
}

// ---------------------------------------------------------------- the runs

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_ledger_passes_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let ledger = Arc::new(SqliteLedger::open(&path, false).unwrap());
    ledger_contract(ledger.clone()).await;
    concurrent_append_contract(vec![ledger.clone()], 20).await;
    checkpoint_contract(ledger.clone()).await;
    snapshot_contract(ledger.clone()).await;
    lease_contract(ledger.clone()).await;
    append_releasing_contract(ledger.clone()).await;
    model_store_contract(ledger.clone()).await;
    foreign_writer_contract(ledger.clone(), |raw| {
        sqlite_raw(&path, raw);
        async {}
    })
    .await;
    // A wizard another program stored with a payload that is not JSON is
    // stored (the index on the user a wizard carries reads only valid
    // JSON) and carries nobody.
    let head = ledger.head().await.unwrap();
    let guest0 = ledgerscope::domain::user_id_for_email("guest0@example.com");
    let before = carrying(&*ledger, guest0).await;
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO events(position, event_type, payload) VALUES (?1, 'BookingWizardCompleted', 'not json')",
            [head as i64 + 1],
        )
        .unwrap();
    assert_eq!(ledger.head().await.unwrap(), head + 1);
    assert_eq!(carrying(&*ledger, guest0).await, before);
    // A read-only copy made before the index: no answer, not a scan.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("DROP INDEX events_wizard_user")
        .unwrap();
    let copy = SqliteLedger::open(&path, true).unwrap();
    assert_eq!(copy.wizards_carrying(guest0).await.unwrap(), None);
}

/// A ledger file of a build that did not record when a lease was renewed:
/// a read-only look tells its leases without it, a writable open adds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_leases_of_an_earlier_build_are_read_and_brought_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let ledger = SqliteLedger::open(&path, false).unwrap();
    let ttl = Duration::from_secs(30);
    ledger.try_acquire("projector:Old", "a", ttl).await.unwrap();
    drop(ledger);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("ALTER TABLE locks DROP COLUMN renewed_at_ms")
        .unwrap();
    let copy = SqliteLedger::open(&path, true).unwrap();
    let old = copy.last_lease("projector:Old").await.unwrap().unwrap();
    assert_eq!((old.owner.as_str(), old.renewed_at), ("a", None));
    drop(copy);
    let ledger = SqliteLedger::open(&path, false).unwrap();
    let renewed = ledger.try_acquire("projector:Old", "a", ttl).await.unwrap();
    assert!(renewed.unwrap().renewed_at.is_some());
    assert!(
        ledger
            .holder("projector:Old")
            .await
            .unwrap()
            .unwrap()
            .renewed_at
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_ledger_passes_the_contract() {
    let Some((ledger, _)) = fresh_mongo().await else {
        return;
    };
    let ledger = Arc::new(ledger);
    ledger_contract(ledger.clone()).await;
    // A second client on the same database plays another process.
    let uri = std::env::var("LEDGERSCOPE_MONGO_URI").unwrap();
    let name = ledger.database().name().to_string();
    let other = Arc::new(
        MongoLedger::open(&uri, &name, Duration::from_secs(10), false)
            .await
            .unwrap(),
    );
    concurrent_append_contract(vec![ledger.clone(), other], 15).await;
    checkpoint_contract(ledger.clone()).await;
    snapshot_contract(ledger.clone()).await;
    lease_contract(ledger.clone()).await;
    append_releasing_contract(ledger.clone()).await;
    model_store_contract(ledger.clone()).await;
    foreign_writer_contract(ledger.clone(), |raw| mongo_raw(&ledger, raw)).await;
    drop_mongo(&ledger).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_read_store_passes_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let read = Arc::new(SqliteViews::open(&dir.path().join("views.sqlite3"), false).unwrap());
    read_store_contract(read.clone()).await;
    replace_all_contract(read).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_read_store_passes_the_contract() {
    let Some((url, scoped, schema)) = fresh_postgres().await else {
        return;
    };
    let read = Arc::new(
        PostgresViews::open(&scoped, Duration::from_secs(10), false)
            .await
            .unwrap(),
    );
    read_store_contract(read.clone()).await;
    replace_all_contract(read.clone()).await;
    // A replay's tables go in frozen and all-visible (COPY ... FREEZE):
    // autovacuum has no pass over them to make after the swap.
    read.replace_all(
        LEDGER,
        ModelVersions::FIRST,
        Arc::new(big_state(2_000, 3, 100)),
        BulkControl::none(),
    )
    .await
    .unwrap();
    let client = pg_client(&scoped).await;
    client
        .batch_execute("ANALYZE users; ANALYZE bookings")
        .await
        .unwrap();
    for table in ["users", "bookings"] {
        let row = client
            .query_one(
                "SELECT relpages, relallvisible FROM pg_class WHERE oid = $1::text::regclass",
                &[&table],
            )
            .await
            .unwrap();
        let (pages, visible): (i32, i32) = (row.get(0), row.get(1));
        assert!(
            pages >= 1 && visible == pages,
            "{table}: {visible} of {pages} pages all-visible"
        );
    }
    // The tables (here as a replay's swap left them) hold every column
    // of their description, in order, with its type.
    for table in ledgerscope::domain::Table::ALL {
        let d = table.description();
        let rows = client
            .query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1
                 ORDER BY ordinal_position",
                &[&d.name],
            )
            .await
            .unwrap();
        let stored: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let described: Vec<(String, String)> = d
            .columns
            .iter()
            .map(|c| (c.name.to_string(), c.sql.postgres().to_string()))
            .collect();
        assert_eq!(stored, described, "{}", d.name);
    }
    drop(client);
    drop_postgres(&url, &schema).await;
}

/// Documents written by a client that is not ours come back as malformed
/// entries with their position (never a panic or a hard error), and the
/// ledger goes on appending after them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_foreign_documents_are_malformed_entries() {
    use mongodb::bson::{doc, oid::ObjectId};
    let Some((ledger, _)) = fresh_mongo().await else {
        return;
    };
    let e1 = appended(ledger.append(wizard(1)).await.unwrap());
    let events = ledger
        .database()
        .collection::<mongodb::bson::Document>("events");
    events
        .insert_many(vec![
            doc! {"_id": ObjectId::new(), "position": 2_i32, "event_type": "Mystery", "payload": "not json"},
            doc! {"_id": "00000000000000000003", "position": 3_i64, "event_id": 17, "aggregate_id": "nope"},
            doc! {"_id": ObjectId::new(), "event_type": "NoPosition"},
        ])
        .await
        .unwrap();
    let e4 = appended(ledger.append(wizard(4)).await.unwrap());
    assert_eq!(e4.position, 4, "appends continue after foreign positions");
    let entries = ledger.read_range(1, 10).await.unwrap();
    assert_eq!(
        entries.iter().map(entry_position).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert_eq!(entries[0].as_ref().unwrap(), &e1);
    let bad2 = entries[1].as_ref().unwrap_err();
    assert!(bad2.reason.contains("missing"), "{}", bad2.reason);
    assert!(bad2.raw.contains("Mystery"));
    let bad3 = entries[2].as_ref().unwrap_err();
    assert!(
        bad3.reason.contains("event_id") || bad3.reason.contains("recorded_at"),
        "{}",
        bad3.reason
    );
    assert_eq!(ledger.head().await.unwrap(), 4);
    assert_eq!(
        ledger.count().await.unwrap(),
        5,
        "the document without a position is counted"
    );
    drop_mongo(&ledger).await;
}
