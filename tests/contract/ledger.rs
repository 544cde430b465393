use super::*;

pub(super) async fn ledger_contract(ledger: Arc<dyn EventLedger>) {
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
pub(super) async fn carrying(ledger: &dyn EventLedger, user: Uuid) -> Vec<StoredEvent> {
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
pub(super) enum Raw {
    /// A well-formed event at this position, in the documented schema.
    Event(u64, Box<StoredEvent>),
    /// A row without a usable position.
    Unpositioned,
}

/// Events another writer stores in the documented schema are seen by every
/// read and every check: the head, pages after a hole, the existence and
/// idempotency checks, the census; rows without a position are counted and
/// listed as malformed, never placed.
pub(super) async fn foreign_writer_contract<F, Fut>(ledger: Arc<dyn EventLedger>, raw: F)
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
pub(super) fn sqlite_raw(path: &std::path::Path, raw: Raw) {
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
pub(super) async fn mongo_raw(ledger: &MongoLedger, raw: Raw) {
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
pub(super) async fn concurrent_append_contract(
    writers: Vec<Arc<dyn EventLedger>>,
    per_writer: u32,
) {
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

pub(super) async fn lease_contract(locks: Arc<dyn LockFactory>) {
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
pub(super) async fn append_releasing_contract<S: EventLedger + LockFactory + 'static>(
    store: Arc<S>,
) {
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
