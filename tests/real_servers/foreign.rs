use super::*;

// ---------------------------------------------------------------- foreign writers

/// Documents another client inserts into `events`: a booking in the
/// README's schema 2,000 positions past the head, an unknown type, wrong
/// types, documents without a usable position. Every read sees what it can
/// (`events` and `export` miss nothing after the hole, the head is the
/// highest stored position, the existence check finds the booking), the
/// rest is reported by position or counted, projectors skip or cross it,
/// nothing crashes.
#[test]
fn foreign_documents_are_reported_and_skipped() {
    use mongodb::bson::{Document, doc, oid::ObjectId};
    let _serial = serial();
    let Some(uri) = server("LEDGERSCOPE_MONGO_URI") else {
        return;
    };
    let dir = tempdir();
    let db = unique("ls_foreign");
    let app = App {
        data_dir: dir.path().to_path_buf(),
        mongo: Some((uri.clone(), db.clone())),
        postgres: None,
    };
    let (code, _) = app.json(&["emit", "--count", "10", "--seed", "4", "--json"]);
    assert_eq!(code, 0);
    let booking = common::wizard_events(41, 1).remove(0);
    runtime().block_on(async {
        let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
        let events = client.database(&db).collection::<Document>("events");
        let e = &booking;
        events
            .insert_many(vec![
                doc! {"_id": ObjectId::new(), "position": 11_i32, "event_type": "LoyaltyPointsAwarded",
                       "event_id": Uuid::new_v4().to_string(), "aggregate_id": Uuid::new_v4().to_string(),
                       "aggregate_type": "user", "version": 1_i64, "schema_version": 1_i32,
                       "recorded_at": mongodb::bson::DateTime::now(), "payload": {"points": 10}},
                doc! {"_id": ObjectId::new(), "position": 12_i64, "event_type": "BookingCancelled", "version": "two"},
                doc! {"_id": ObjectId::new(), "note": "no position at all"},
                doc! {"_id": ObjectId::new(), "position": "thirteen", "event_type": "BookingCancelled"},
                doc! {
                    "_id": ObjectId::new(),
                    "position": 2_012_i64,
                    "event_id": e.event_id.to_string(),
                    "aggregate_id": e.aggregate_id.to_string(),
                    "aggregate_type": &e.aggregate_type,
                    "version": 1_i64,
                    "event_type": &e.event_type,
                    "schema_version": 1_i64,
                    "recorded_at": mongodb::bson::DateTime::from_millis(e.recorded_at.timestamp_millis()),
                    "payload": mongodb::bson::to_bson(&e.payload).unwrap(),
                    "metadata": {},
                },
            ])
            .await
            .unwrap();
    });
    let (code, _) = app.json(&["emit", "--count", "3", "--seed", "40", "--json"]);
    assert_eq!(code, 0, "appends continue after foreign documents");
    let out = app.run(&["events", "--json"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let expected: Vec<u64> = (1..=12).chain(2012..=2015).collect();
    assert_eq!(
        lines
            .iter()
            .map(|v| v["position"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        expected,
        "nothing after the hole is lost; our appends go on after the foreign head"
    );
    assert!(
        lines[10].get("malformed").is_none(),
        "an unknown type is a well-formed envelope: {}",
        lines[10]
    );
    assert!(lines[11]["malformed"].is_string(), "{}", lines[11]);
    let (_, status) = app.json(&["status", "--json"]);
    assert_eq!(
        (&status["head"], &status["unpositioned"], &status["holes"]),
        (
            &serde_json::json!(2015),
            &serde_json::json!(2),
            &serde_json::json!([{"from": 13, "to": 2011}])
        ),
        "{status}"
    );
    // The existence check finds the booking the other client wrote.
    let id = booking.aggregate_id.to_string();
    let (code, again) = app.json(&[
        "emit",
        "--id",
        &id,
        "--email",
        "someone@example.com",
        "--json",
    ]);
    assert_eq!(code, 0, "{again}");
    assert_eq!(
        (&again["duplicate"], &again["position"]),
        (&Value::Bool(true), &serde_json::json!(2012)),
        "{again}"
    );
    let export = dir.path().join("export.ndjson");
    let (code, exported) = app.json(&[
        "--unmask",
        "export",
        "--out",
        export.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{exported}");
    assert_eq!(
        (&exported["exported"], &exported["skipped_malformed"]),
        (&serde_json::json!(15), &serde_json::json!([12])),
        "{exported}"
    );
    let (code, project) = app.json(&["--hole-timeout-secs", "0", "project", "--json"]);
    assert_eq!(
        (code, &project["caught_up"]),
        (0, &Value::Bool(true)),
        "{project}"
    );
    let (_, status) = app.json(&["status", "--json"]);
    for projector in status["projectors"].as_array().unwrap() {
        let skipped: Vec<u64> = projector["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_u64)
            .collect();
        assert!(
            skipped.contains(&11) && skipped.contains(&12),
            "recorded as skipped: {status}"
        );
        assert_eq!(
            projector["holes"],
            serde_json::json!([{"from": 13, "to": 2011}])
        );
    }
    let (code, verify) = app.json(&["verify", "--json"]);
    assert_eq!(
        (code, &verify["in_sync"]),
        (0, &Value::Bool(true)),
        "{verify}"
    );
    let malformed: Vec<u64> = verify["malformed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["position"].as_u64())
        .collect();
    assert_eq!(malformed, vec![11, 12, 0, 0], "{verify}");
    assert_eq!(verify["unpositioned"], 2);
    assert_eq!(lag_of(&status), 0, "{status}");
    drop_mongo_db(&uri, &db);
}

/// Another client stores an envelope at `position: 6.5` after the head
/// (a double that is no whole number): it is counted and listed as
/// unpositioned, never placed, and no reader goes back over the positions
/// before it: `project` catches up (checkpoints at the head, not 0),
/// `export` ends and names it, later commands project, `verify` agrees.
#[test]
fn a_fractional_position_is_unpositioned_and_stalls_no_reader() {
    use mongodb::bson::{Bson, Document, doc};
    let _serial = serial();
    let Some(uri) = server("LEDGERSCOPE_MONGO_URI") else {
        return;
    };
    let dir = tempdir();
    let db = unique("ls_fraction");
    let app = App {
        data_dir: dir.path().to_path_buf(),
        mongo: Some((uri.clone(), db.clone())),
        postgres: None,
    };
    let (code, _) = app.json(&["emit", "--count", "5", "--seed", "11", "--json"]);
    assert_eq!(code, 0);
    runtime().block_on(async {
        let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
        let events = client.database(&db).collection::<Document>("events");
        let mut copy = events
            .find_one(doc! {"position": 1_i64})
            .await
            .unwrap()
            .unwrap();
        copy.remove("_id");
        let id = Uuid::new_v4().to_string();
        for field in ["event_id", "aggregate_id"] {
            copy.insert(field, id.clone());
        }
        copy.insert("position", Bson::Double(6.5));
        copy.get_document_mut("payload")
            .unwrap()
            .insert("booking_id", id.clone());
        events.insert_one(copy).await.unwrap();
    });
    let (code, project) = app.json(&["--hole-timeout-secs", "0", "project", "--json"]);
    assert_eq!(code, 0, "{project}");
    assert_eq!(project["caught_up"], Value::Bool(true), "{project}");
    let (_, status) = app.json(&["status", "--json"]);
    assert_eq!(
        (&status["head"], &status["unpositioned"]),
        (&serde_json::json!(5), &serde_json::json!(1)),
        "{status}"
    );
    assert_eq!(lag_of(&status), 0, "{status}");
    let export = dir.path().join("export.ndjson");
    let mut running = Running(app.spawn(&[
        "--unmask",
        "export",
        "--out",
        export.to_str().unwrap(),
        "--json",
    ]));
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = running.0.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "export never ended"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success());
    let lines = std::fs::read_to_string(&export).unwrap().lines().count();
    assert_eq!(lines, 5, "each positioned event once");
    let (code, emitted) = app.json(&["emit", "--count", "2", "--seed", "12", "--json"]);
    assert_eq!(code, 0, "{emitted}");
    assert_eq!(emitted["head"], serde_json::json!(7), "{emitted}");
    let (code, verify) = app.json(&["verify", "--json"]);
    assert_eq!(
        (code, &verify["in_sync"]),
        (0, &Value::Bool(true)),
        "{verify}"
    );
    assert_eq!(verify["unpositioned"], 1, "{verify}");
    let reasons: Vec<&str> = verify["malformed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["reason"].as_str())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("6.5")),
        "listed with its position: {verify}"
    );
    drop_mongo_db(&uri, &db);
}

/// A fresh MongoDB ledger pointed at a PostgreSQL schema that another
/// ledger filled: named with both ledgers, nothing projected into it,
/// `project` exits 3, and `replay --rebuild-foreign` rebuilds it.
#[test]
fn a_postgres_schema_of_another_mongodb_ledger_is_named_and_never_written() {
    let _serial = serial();
    let (Some(uri), Some(pg)) = (
        server("LEDGERSCOPE_MONGO_URI"),
        server("LEDGERSCOPE_POSTGRES_URL"),
    ) else {
        return;
    };
    let (scoped, _schema) = fresh_schema(&pg);
    let dir = tempdir();
    let first = App {
        data_dir: dir.path().to_path_buf(),
        mongo: Some((uri.clone(), unique("ls_first"))),
        postgres: Some(scoped.clone()),
    };
    let (code, _) = first.json(&["emit", "--count", "12", "--seed", "6", "--json"]);
    assert_eq!(code, 0);
    let second = App {
        mongo: Some((uri.clone(), unique("ls_second"))),
        ..first.clone()
    };
    let (code, _) = second.json(&[
        "emit",
        "--count",
        "5",
        "--seed",
        "7",
        "--no-project",
        "--json",
    ]);
    assert_eq!(code, 0);
    let (_, status) = second.json(&["status", "--json"]);
    assert_eq!(status["pairing"]["state"], "foreign", "{status}");
    let message = status["pairing"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("up to 12") && message.contains("at 5") && message.contains("postgresql"),
        "{message}"
    );
    let (code, project) = second.json(&["project", "--json"]);
    assert_eq!(code, 3, "{project}");
    let (_, verify) = first.json(&["verify", "--json"]);
    assert_eq!(
        verify["in_sync"],
        Value::Bool(true),
        "the first ledger's tables are untouched: {verify}"
    );
    let (code, replay) = second.json(&["replay", "--rebuild-foreign", "--json"]);
    assert_eq!(
        (code, &replay["events"]),
        (0, &serde_json::json!(5)),
        "{replay}"
    );
    let (code, verify) = second.json(&["verify", "--json"]);
    assert_eq!(
        (code, &verify["in_sync"]),
        (0, &Value::Bool(true)),
        "{verify}"
    );
    let (code, _) = first.json(&["project", "--json"]);
    assert_eq!(code, 3, "now the first ledger is the foreign one");
    for app in [&first, &second] {
        drop_mongo_db(&uri, &app.mongo.as_ref().unwrap().1);
    }
}

/// PostgreSQL read tables made by today's build, opened by a build whose
/// `bookings` schema is one version on: named with both versions, nothing
/// projected or repaired into them, rebuilt by a confirmed replay, after
/// which today's `ledgerscope` names them as the newer schema (`status`,
/// `project` exits 3).
#[test]
fn postgres_tables_of_another_schema_version_are_named_refused_and_rebuilt() {
    use ledgerscope::domain::ProjectorId;
    use ledgerscope::domain::model::ModelVersions;
    use ledgerscope::engine::{Engine, EngineConfig, EngineError, JobControl, ReplayOptions};
    use ledgerscope::store::{RowRewrite, StoreConfig, StoreError, open_stores};

    let _serial = serial();
    let Some(pg) = server("LEDGERSCOPE_POSTGRES_URL") else {
        return;
    };
    let (scoped, _schema) = fresh_schema(&pg);
    let dir = tempdir();
    let app = App {
        data_dir: dir.path().to_path_buf(),
        mongo: None,
        postgres: Some(scoped.clone()),
    };
    let (code, _) = app.json(&["emit", "--count", "6", "--seed", "5", "--json"]);
    assert_eq!(code, 0);
    let (code, _) = app.json(&[
        "emit",
        "--count",
        "3",
        "--seed",
        "6",
        "--no-project",
        "--json",
    ]);
    assert_eq!(code, 0);
    let bookings_2 = ModelVersions {
        bookings: 2,
        ..ModelVersions::BUILT_IN
    };
    runtime().block_on(async {
        let config = StoreConfig {
            postgres_url: Some(scoped.clone()),
            ..StoreConfig::embedded(dir.path())
        };
        let mut engine_config = EngineConfig::new("test");
        engine_config.model_versions = bookings_2;
        let engine = Engine::new(open_stores(&config).await.unwrap(), engine_config);
        let pairing = engine.check_pairing().await.unwrap();
        let foreign = pairing.foreign().expect("named");
        let sentence = foreign.to_string();
        assert!(
            foreign.other_schema().is_some()
                && sentence.contains("postgresql")
                && sentence
                    .contains("built with bookings schema 1; this build writes bookings schema 2"),
            "{sentence}"
        );
        let read = engine.stores().read.clone();
        let counts = read.counts().await.unwrap();
        let positions = read
            .projector_position(ProjectorId::BookingProjection)
            .await
            .unwrap();
        let refused = engine.catch_up(ProjectorId::BookingProjection).await;
        assert!(
            matches!(refused, Err(EngineError::Foreign(_))),
            "{refused:?}"
        );
        let ledger = engine.ledger_identity().await.unwrap().unwrap().id;
        let first = read.bookings_page(None, 1).await.unwrap()[0].booking_id;
        let rewrite = RowRewrite {
            users_at: 0,
            bookings_at: positions,
            users: Vec::new(),
            bookings: vec![(first, None)],
        };
        let rewritten = read.rewrite_rows(ledger, bookings_2, &rewrite).await;
        assert!(
            matches!(rewritten, Err(StoreError::OtherSchema { .. })),
            "{rewritten:?}"
        );
        assert_eq!(read.counts().await.unwrap(), counts, "nothing was written");
        assert_eq!(
            read.projector_position(ProjectorId::BookingProjection)
                .await
                .unwrap(),
            positions
        );
        let options = ReplayOptions {
            from_snapshot: false,
            rebuild_foreign: true,
        };
        engine
            .replay(options, &JobControl::default())
            .await
            .unwrap();
        assert_eq!(read.stamp().await.unwrap().unwrap().versions, bookings_2);
        assert!(engine.verify().await.unwrap().in_sync);
    });
    let (_, status) = app.json(&["status", "--json"]);
    assert_eq!(status["pairing"]["state"], "foreign", "{status}");
    assert_eq!(
        status["read_store"]["built_with"]["bookings"], 2,
        "{status}"
    );
    assert_eq!(status["schema"]["this_build"]["bookings"], 1, "{status}");
    let message = status["pairing"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("built with bookings schema 2; this build writes bookings schema 1"),
        "{message}"
    );
    let (code, project) = app.json(&["project", "--json"]);
    assert_eq!(code, 3, "{project}");
}
