use super::*;

// ---------------------------------------------------------------- read store contract

pub(super) fn user(n: u8, position: u64) -> UserRow {
    UserRow {
        user_id: Uuid::from_bytes([n.wrapping_mul(37); 16]),
        email: format!("u{n}@example.com"),
        name: format!("User {n}"),
        address: "Calle A".into(),
        created_position: position,
        last_position: position,
    }
}

pub(super) fn booking(n: u8, user_id: Uuid, position: u64) -> BookingRow {
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
pub(super) const LEDGER: Uuid = Uuid::from_u128(0x001e_d9e4_0000_4000_8000_0000_0000_0001);

pub(super) async fn read_store_contract(read: Arc<dyn ReadStore>) {
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

pub(super) fn big_state(users: u32, bookings: u8, position: u64) -> ReadState {
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

pub(super) async fn replace_all_contract(read: Arc<dyn ReadStore>) {
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
