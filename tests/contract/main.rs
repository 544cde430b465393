//! One contract suite for every adapter: the same async checks run against
//! each ledger (embedded SQLite; MongoDB/FerretDB at `LEDGERSCOPE_MONGO_URI`)
//! and each read store (embedded SQLite; PostgreSQL at
//! `LEDGERSCOPE_POSTGRES_URL`). Every server test uses a fresh database or
//! schema and removes it afterwards.
//!
//! A missing server is a skip with a message, except with `CI=true`, where it
//! fails the test. Run: `eval "$(scripts/services.sh)"; cargo test --test contract`.

mod ledger;
mod published;
mod read;
mod stores;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use std::time::Duration;
use tokio_util::sync::CancellationToken;

use chrono::{NaiveDate, Utc};
use ledgerscope::domain::model::{ColumnDef, ColumnType, ModelDef, ModelVersions, TableDef, Value};
use ledgerscope::domain::{
    BookingDetails, BookingRow, BookingStatus, DomainEvent, EventMetadata, ProjectorId, ReadState,
    RowChange, StoredEvent, UserDetails, UserRow,
};
use ledgerscope::store::mongo::MongoLedger;
use ledgerscope::store::postgres::PostgresViews;
use ledgerscope::store::published::{RowPage, pages_of};
use ledgerscope::store::sqlite::{SqliteLedger, SqliteViews};
use ledgerscope::store::{
    AppendOutcome, BulkControl, Checkpoint, CheckpointStore, EventFilter, EventLedger, FoldEntry,
    Hole, LedgerCensus, LockFactory, ModelStore, PublishedChange, PublishedModel, ReadStore,
    SnapshotMeta, SnapshotStore, StoreError, StoredModel, entry_position, load_read_state,
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

use ledger::*;
use published::*;
use read::*;
use stores::*;

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
    replace_all_contract(read.clone()).await;
    let path = dir.path().join("views.sqlite3");
    published_contract(read, || {
        let path = path.clone();
        async move {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.query_row("SELECT count(*), sum(n) FROM model_m_t", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .ok()
        }
    })
    .await;
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
    published_contract(read.clone(), || {
        let scoped = scoped.clone();
        async move {
            let client = pg_client(&scoped).await;
            client
                .query_one("SELECT count(*), sum(n)::bigint FROM model_m_t", &[])
                .await
                .ok()
                .map(|r| (r.get(0), r.get::<_, Option<i64>>(1).unwrap_or(0)))
        }
    })
    .await;
    // A cell its column cannot hold fails the publish, naming the column,
    // and leaves the tables published before as they were.
    let model = PublishedModel {
        name: "m".into(),
        digest: "d1".into(),
        ledger_id: LEDGER,
        position: 5,
        def: published::published_def(),
    };
    read.publish_replace(
        &model,
        pages_of(vec![vec![published::published_row(1, 10)]]),
    )
    .await
    .unwrap();
    let mut bad = published::published_row(2, 20);
    bad[2] = Value::Text("twenty".into());
    let refused = read
        .publish_replace(
            &PublishedModel {
                position: 6,
                ..model.clone()
            },
            pages_of(vec![vec![published::published_row(3, 30), bad]]),
        )
        .await;
    let message = refused.unwrap_err().to_string();
    assert!(
        message.contains("column n") && message.contains("twenty"),
        "{message}"
    );
    assert_eq!(read.published().await.unwrap(), vec![model.clone()]);
    assert!(read.unpublish("m").await.unwrap());
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
