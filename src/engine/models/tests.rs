use std::collections::HashMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::*;
use crate::domain::model::Value;
use crate::domain::{BookingRow, ReadState, StoredEvent, UserRow};
use crate::store::EventLedger;
use crate::store::sqlite::SqliteLedger;

const USERS: &str = include_str!("../../../examples/models/users.sql");
const BOOKINGS: &str = include_str!("../../../examples/models/bookings.sql");

/// The mixed test ledger with versions per aggregate, written at its
/// positions with holes after every 50th, plus a malformed entry and one of
/// an unknown type.
fn ledger_file(dir: &Path, n: u64) -> Vec<StoredEvent> {
    let mut versions: HashMap<uuid::Uuid, u64> = HashMap::new();
    let mut events = crate::domain::test_ledger::ledger(n);
    let mut position = 0;
    for event in &mut events {
        let v = versions.entry(event.aggregate_id).or_default();
        *v += 1;
        event.version = *v;
        position += if position % 50 == 49 { 2 } else { 1 };
        event.position = position;
    }
    let conn = rusqlite::Connection::open(dir.join("ledger.sqlite3")).unwrap();
    let insert = |position: u64, event: &StoredEvent, payload: &str, event_type: &str| {
        conn.execute(
            "INSERT INTO events(position, event_id, aggregate_id, aggregate_type, version, event_type,
             schema_version, recorded_at, payload, metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, '{}')",
            rusqlite::params![
                position as i64,
                event.event_id.to_string(),
                event.aggregate_id.to_string(),
                event.aggregate_type,
                event.version as i64,
                event_type,
                i64::from(event.schema_version),
                event.recorded_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                payload,
            ],
        )
        .unwrap();
    };
    for event in &events {
        insert(
            event.position,
            event,
            &event.payload.to_string(),
            &event.event_type,
        );
    }
    // A cancel whose payload has no booking id, and an event of a type
    // this build does not know, past the head.
    let mut bad = events[6].clone();
    bad.event_id = uuid::Uuid::from_u128(7);
    bad.version = 99;
    insert(position + 1, &bad, "{\"reason\":\"x\"}", "BookingCancelled");
    bad.event_id = uuid::Uuid::from_u128(8);
    bad.version = 100;
    insert(position + 3, &bad, "{}", "BookingExploded");
    events
}

async fn open_ledger(dir: &Path) -> Arc<SqliteLedger> {
    let path = dir.join("ledger.sqlite3");
    Arc::new(SqliteLedger::open(&path, false).unwrap())
}

async fn build(
    ledger: &dyn EventLedger,
    text: &str,
    dir: &Path,
) -> (build::BuildReport, ModelReader) {
    build_without(ledger, text, dir, &Default::default()).await
}

/// Builds `text` with the events at `exclude` left out.
async fn build_without(
    ledger: &dyn EventLedger,
    text: &str,
    dir: &Path,
    exclude: &std::collections::BTreeSet<u64>,
) -> (build::BuildReport, ModelReader) {
    let model = check_model(text, &[]).unwrap();
    let path = model_path(dir, &model.def.name);
    let mut seen = Vec::new();
    let report = build_model(
        ledger,
        &model,
        &path,
        exclude,
        &CancellationToken::new(),
        &mut |p: &BuildProgress| seen.push(p.clone()),
    )
    .await
    .unwrap();
    assert!(!seen.is_empty(), "progress after each batch");
    (report, ModelReader::open(&path, &model.def.name).unwrap())
}

fn user_cells(row: &UserRow) -> Vec<Value> {
    vec![
        Value::Uuid(row.user_id),
        Value::Text(row.email.clone()),
        Value::Text(row.name.clone()),
        Value::Text(row.address.clone()),
        Value::Integer(row.created_position as i64),
        Value::Integer(row.last_position as i64),
    ]
}

fn booking_cells(row: &BookingRow) -> Vec<Value> {
    vec![
        Value::Uuid(row.booking_id),
        Value::Uuid(row.user_id),
        Value::Text(row.service.clone()),
        Value::Date(row.check_in),
        Value::Date(row.check_out),
        Value::Integer(i64::from(row.guests)),
        Value::Integer(row.price_cents),
        Value::Text(row.status.as_str().into()),
        Value::Integer(row.last_position as i64),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_ins_written_as_models_equal_the_built_in_tables_at_every_position() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open_ledger(dir.path()).await;
    ledger_file(dir.path(), 2_500);
    let entries = ledger.read_range(1, 100_000).await.unwrap();
    let head = ledger.head().await.unwrap();
    let (users_report, users) = build(ledger.as_ref(), USERS, dir.path()).await;
    let (_, bookings) = build(ledger.as_ref(), BOOKINGS, dir.path()).await;
    assert_eq!(users_report.end, BuildEnd::Done);
    assert_eq!(users.position(), head);
    assert!(users_report.events > build::BATCH as u64, "several batches");
    // The malformed cancel is an error of bookings (which listens to
    // cancels), not of users; the unknown type is nobody's.
    let errors = bookings.errors(10).unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].position, head - 2);
    assert!(errors[0].reason.contains("malformed"), "{errors:?}");
    assert_eq!(users.error_count().unwrap(), 0);

    let mut checked = (1..=20).map(|k| head * k / 20).collect::<Vec<_>>();
    checked.extend([1, 48, 49, 50, 51]);
    for at in checked {
        let state = ReadState::fold(
            entries
                .iter()
                .filter_map(|e| e.as_ref().ok())
                .filter(|e| e.position <= at),
        );
        let expected: Vec<Vec<Value>> = state.users.values().map(user_cells).collect();
        let mut got = users.rows_at("users", at, None).unwrap();
        let mut expected_sorted = expected.clone();
        let key = |row: &Vec<Value>| format!("{:?}", row[0]);
        got.sort_by_key(key);
        expected_sorted.sort_by_key(key);
        assert_eq!(got, expected_sorted, "users at {at}");
        let mut got = bookings.rows_at("bookings", at, None).unwrap();
        let mut expected: Vec<Vec<Value>> = state.bookings.values().map(booking_cells).collect();
        got.sort_by_key(key);
        expected.sort_by_key(key);
        assert_eq!(got, expected, "bookings at {at}");
        assert_eq!(
            bookings.count_at("bookings", at).unwrap(),
            state.bookings.len() as u64
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_s_history_and_the_difference_between_two_positions() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open_ledger(dir.path()).await;
    let events = ledger_file(dir.path(), 60);
    let (_, bookings) = build(ledger.as_ref(), BOOKINGS, dir.path()).await;
    // Booking 4 is made by event 4 and cancelled by event 7 (i - 3).
    let booking = Value::Uuid(uuid::Uuid::from_u128(4));
    let versions = bookings
        .row_history("bookings", std::slice::from_ref(&booking))
        .unwrap();
    let froms: Vec<u64> = versions.iter().map(|v| v.valid_from).collect();
    assert_eq!(froms, [events[3].position, events[6].position]);
    assert_eq!(versions[0].valid_to, Some(events[6].position));
    assert_eq!(versions[1].cells[7], Value::Text("cancelled".into()));
    let diff = bookings.diff("bookings", 5, 7).unwrap();
    let keys: Vec<&Value> = diff.iter().map(|c| &c.key[0]).collect();
    assert!(keys.contains(&&booking), "{diff:?}");
    let created = diff
        .iter()
        .find(|c| c.key[0] == Value::Uuid(uuid::Uuid::from_u128(6)))
        .unwrap();
    assert!(created.before.is_none() && created.after.is_some());
    // The sum of prices over positions.
    let series = bookings
        .series("bookings", "price_cents", &[0, 1, 2])
        .unwrap();
    assert_eq!(series, [(0, 0.0), (1, 1_001.0), (2, 2_003.0)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_a_block_cannot_apply_is_recorded_and_the_build_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open_ledger(dir.path()).await;
    ledger_file(dir.path(), 40);
    // No ON CONFLICT: a user's second booking breaks the key.
    let text = "-- model: first_bookings\n-- version: 1\n\
        CREATE TABLE firsts(user_id UUID PRIMARY KEY, booking_id UUID NOT NULL);\n\
        ON BookingWizardCompleted:\n\
        INSERT INTO firsts(user_id, booking_id) VALUES (:payload.user.user_id, :payload.booking_id);\n";
    let (report, model) = build(ledger.as_ref(), text, dir.path()).await;
    assert_eq!(report.end, BuildEnd::Done);
    assert_eq!(model.count_at("firsts", u64::MAX).unwrap(), 13, "13 users");
    let errors = model.errors(100).unwrap();
    // 30 wizards of 13 users: 17 of them are not a user's first.
    assert_eq!(errors.len(), 17, "{errors:?}");
    let first = &errors[0];
    assert_eq!(first.event_type, "BookingWizardCompleted");
    assert_eq!((first.statement, first.line), (Some(1), Some(5)));
    assert!(first.reason.contains("UNIQUE"), "{first:?}");
    assert_eq!(report.errors as usize, errors.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_build_goes_on_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open_ledger(dir.path()).await;
    ledger_file(dir.path(), 2_500);
    let model = check_model(USERS, &[]).unwrap();
    let path = model_path(dir.path(), "users");
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let none = Default::default();
    let first = build_model(ledger.as_ref(), &model, &path, &none, &cancel, &mut |_| {
        stop.cancel()
    })
    .await
    .unwrap();
    assert_eq!(first.end, BuildEnd::Cancelled);
    assert!(first.position > 0 && first.position < ledger.head().await.unwrap());
    let second = build_model(
        ledger.as_ref(),
        &model,
        &path,
        &none,
        &CancellationToken::new(),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(second.end, BuildEnd::Done);
    assert_eq!(second.resumed_from, first.position);
    let (_, whole) = build(ledger.as_ref(), USERS, &dir.path().join("again")).await;
    let resumed = ModelReader::open(&path, "users").unwrap();
    let head = ledger.head().await.unwrap();
    assert_eq!(
        resumed.digest_at(head).unwrap(),
        whole.digest_at(head).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_with_events_left_out_differs_from_the_built_one_as_the_fold_without_them() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open_ledger(dir.path()).await;
    let events = ledger_file(dir.path(), 300);
    let (_, real) = build(ledger.as_ref(), BOOKINGS, dir.path()).await;
    let head = real.position();
    // A wizard, a cancel and an address change left out.
    let exclude: std::collections::BTreeSet<u64> = [3, 6, 9, 40, 41, 120]
        .iter()
        .map(|&i| events[i].position)
        .collect();
    let other = dir.path().join("whatif");
    let (_, simulated) = build_without(ledger.as_ref(), BOOKINGS, &other, &exclude).await;
    let changes = real
        .compare_with(&model_path(&other, "bookings"), "bookings", head, head)
        .unwrap();
    let fold = |skip: &std::collections::BTreeSet<u64>| {
        ReadState::fold(
            events
                .iter()
                .filter(|e| !skip.contains(&e.position) && e.position <= head),
        )
    };
    let (before, after) = (fold(&Default::default()), fold(&exclude));
    let mut expected: Vec<Value> = before
        .bookings
        .keys()
        .chain(after.bookings.keys())
        .filter(|k| before.bookings.get(*k) != after.bookings.get(*k))
        .map(|k| Value::Uuid(*k))
        .collect();
    expected.sort_by_key(|v| format!("{v:?}"));
    expected.dedup();
    let mut got: Vec<Value> = changes.iter().map(|c| c.key[0].clone()).collect();
    got.sort_by_key(|v| format!("{v:?}"));
    assert!(!got.is_empty());
    assert_eq!(got, expected);
    assert_eq!(
        simulated.count_at("bookings", head).unwrap(),
        after.bookings.len() as u64
    );
    // A file built with events left out is started over by a build without them.
    let (again, _) = build(ledger.as_ref(), BOOKINGS, &other).await;
    assert_eq!(again.resumed_from, 0);
}

/// The names of the indexes in the file at `path`.
fn indexes(path: &Path) -> Vec<String> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_is_indexed_by_position_when_a_run_ends_not_while_it_folds() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open_ledger(dir.path()).await;
    ledger_file(dir.path(), 2_500);
    let model = check_model(BOOKINGS, &[]).unwrap();
    let path = model_path(dir.path(), "bookings");
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let mut during = Vec::new();
    let file = path.clone();
    let none = Default::default();
    let first = build_model(ledger.as_ref(), &model, &path, &none, &cancel, &mut |_| {
        during = indexes(&file);
        stop.cancel()
    })
    .await
    .unwrap();
    assert_eq!(first.end, BuildEnd::Cancelled);
    let has = |names: &[String], name: &str| names.iter().any(|n| n == name);
    assert!(has(&during, "bookings__key"), "{during:?}");
    assert!(!has(&during, "bookings__from"), "{during:?}");
    assert!(!has(&during, "bookings__to"), "{during:?}");
    let after = indexes(&path);
    assert!(
        has(&after, "bookings__from") && has(&after, "bookings__to"),
        "{after:?}"
    );
}
