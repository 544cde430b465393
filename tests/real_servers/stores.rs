use super::*;

/// Every adapter mix opens and answers (`status`): Mongo + Postgres, Mongo +
/// embedded views, embedded ledger + Postgres.
#[test]
fn every_store_mix_works() {
    let _serial = serial();
    let (Some(uri), Some(pg)) = (
        server("LEDGERSCOPE_MONGO_URI"),
        server("LEDGERSCOPE_POSTGRES_URL"),
    ) else {
        return;
    };
    for (mongo, postgres) in [(true, true), (true, false), (false, true)] {
        let dir = tempdir();
        let schema = postgres.then(|| fresh_schema(&pg));
        let app = App {
            data_dir: dir.path().to_path_buf(),
            mongo: mongo.then(|| (uri.clone(), unique("ls_mix"))),
            postgres: schema.as_ref().map(|(u, _)| u.clone()),
        };
        // Full snapshots every 10 events and deltas of them every 4, taken
        // by `emit` when it ends, stored in whichever ledger store this is.
        let (code, out) = app.json(&[
            "emit",
            "--count",
            "20",
            "--seed",
            "8",
            "--json",
            "--snapshot-every",
            "10",
            "--snapshot-delta-every",
            "4",
        ]);
        assert_eq!(code, 0, "{out}");
        let (code, verify) = app.json(&["verify", "--json"]);
        assert_eq!(
            (code, &verify["in_sync"]),
            (0, &Value::Bool(true)),
            "{verify}"
        );
        // A row's history reads the booking's stream and, for its user,
        // the wizard that made the row, from whichever ledger store this is.
        let (_, first) = app.json(&["--unmask", "events", "--limit", "1", "--json"]);
        let booking = first["aggregate_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let email = first["payload"]["user"]["email"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for args in [
            ["history", "--booking", booking.as_str()],
            ["history", "--user", email.as_str()],
        ] {
            let (code, history) = app.json(&[args[0], args[1], args[2], "--json"]);
            assert_eq!(code, 0, "{history}");
            assert_eq!(
                (
                    &history["versions"][0]["position"],
                    &history["versions"][0]["event_type"]
                ),
                (&Value::from(1), &Value::from("BookingWizardCompleted")),
                "{args:?}: {history}"
            );
        }
        let (code, list) = app.json(&["snapshot", "list", "--json"]);
        assert_eq!(code, 0, "{list}");
        let snapshots = list["snapshots"].as_array().cloned().unwrap_or_default();
        let kinds: Vec<(u64, bool)> = snapshots
            .iter()
            .map(|s| (s["position"].as_u64().unwrap_or(0), s.get("base").is_none()))
            .collect();
        assert_eq!(
            kinds,
            [
                (4, false),
                (8, false),
                (10, true),
                (12, false),
                (16, false),
                (20, true)
            ],
            "{list}"
        );
        // Restoring a delta writes exactly its rows and rewinds the
        // projectors to its position; `verify` (which lets them catch up
        // first) then finds the tables in sync: rows the delta lacked or
        // added would show as drift, since only events 17..=20 are applied.
        let delta_16 = &snapshots[4];
        assert_eq!(delta_16["bookings"], 16, "{list}");
        let id = delta_16["id"].as_str().unwrap_or_default();
        let (code, restored) = app.json(&["snapshot", "restore", id, "--json"]);
        assert_eq!(code, 0, "{restored}");
        assert_eq!(restored["events_to_catch_up"], 4, "{restored}");
        let rows = delta_16["users"].as_u64().unwrap_or(0) + 16;
        assert_eq!(restored["rows"].as_u64(), Some(rows), "{restored}");
        let (code, verify) = app.json(&["verify", "--json"]);
        assert_eq!(
            (code, &verify["in_sync"]),
            (0, &Value::Bool(true)),
            "{verify}"
        );
        let (_, status) = app.json(&["status", "--json"]);
        let kinds = (
            status["ledger"]["kind"].as_str(),
            status["read_store"]["kind"].as_str(),
        );
        let expect = (
            Some(if mongo { "mongodb" } else { "sqlite" }),
            Some(if postgres { "postgresql" } else { "sqlite" }),
        );
        assert_eq!(kinds, expect);
        if let Some((db, _)) = app.mongo.as_ref().map(|(u, d)| (d.clone(), u)) {
            drop_mongo_db(&uri, &db);
        }
        // (the schema, if any, is dropped with its guard)
        drop(schema);
    }
}

/// A targeted repair on FerretDB + PostgreSQL: a booking changed and a user
/// deleted by hand in PostgreSQL are rewritten from their events (no replay),
/// `verify` is in sync after it, and the repair is a document of the
/// `repairs` collection with its documented fields.
#[test]
fn a_targeted_repair_fixes_drifted_rows_and_keeps_its_report_in_mongodb() {
    let _serial = serial();
    let (Some(uri), Some(pg)) = (
        server("LEDGERSCOPE_MONGO_URI"),
        server("LEDGERSCOPE_POSTGRES_URL"),
    ) else {
        return;
    };
    let (scoped, _schema) = fresh_schema(&pg);
    let dir = tempdir();
    let db = unique("ls_repair");
    let app = App {
        data_dir: dir.path().to_path_buf(),
        mongo: Some((uri.clone(), db.clone())),
        postgres: Some(scoped.clone()),
    };
    let (code, _) = app.json(&["emit", "--count", "8", "--seed", "12", "--json"]);
    assert_eq!(code, 0);
    let (booking, user) = runtime().block_on(async {
        let (client, conn) = tokio_postgres::connect(&scoped, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let row = client
            .query_one(
                "SELECT booking_id, user_id FROM bookings ORDER BY booking_id LIMIT 1",
                &[],
            )
            .await
            .unwrap();
        let (booking, user): (Uuid, Uuid) = (row.get(0), row.get(1));
        client
            .execute(
                "UPDATE bookings SET guests = 19 WHERE booking_id = $1",
                &[&booking],
            )
            .await
            .unwrap();
        client
            .execute("DELETE FROM users WHERE user_id = $1", &[&user])
            .await
            .unwrap();
        (booking, user)
    });
    let report = dir.path().join("drift.json");
    let (code, verify) = app.json(&["verify", "--json", "--report", report.to_str().unwrap()]);
    assert_eq!(
        (
            code,
            verify["missing"].as_u64(),
            verify["different"].as_u64()
        ),
        (1, Some(1), Some(1)),
        "{verify}"
    );
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(
        text.contains(&booking.to_string()) && text.contains(&user.to_string()),
        "{text}"
    );

    let (code, repair) = app.json(&["repair", "--yes", "--json"]);
    assert_eq!(code, 0, "{repair}");
    assert_eq!(repair["kind"], "targeted");
    assert_eq!(repair["work"]["rows_written"].as_u64(), Some(2), "{repair}");
    assert_eq!(repair["after"]["in_sync"], Value::Bool(true), "{repair}");
    let (code, verify) = app.json(&["verify", "--json"]);
    assert_eq!(
        (code, &verify["in_sync"]),
        (0, &Value::Bool(true)),
        "{verify}"
    );

    let (_, listed) = app.json(&["repairs", "--json"]);
    assert_eq!(
        listed["repairs"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    let stored = runtime().block_on(async {
        let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
        client
            .database(&db)
            .collection::<mongodb::bson::Document>("repairs")
            .find_one(mongodb::bson::doc! {})
            .await
            .unwrap()
            .unwrap()
    });
    for field in ["_id", "at", "instance", "read_store", "kind", "entry"] {
        assert!(stored.contains_key(field), "{field} in {stored}");
    }
    assert_eq!(stored.get_str("kind").unwrap(), "targeted");
    assert!(stored.get_datetime("at").is_ok(), "{stored}");
    assert!(stored.get_str("read_store").unwrap().contains("postgresql"));
    drop_mongo_db(&uri, &db);
}

/// A read store named without a password on the command line: the URL's
/// user with PGPASSWORD, then with a 0600 PGPASSFILE (a file others may
/// read is ignored and said), then a service of PGSERVICEFILE. A wrong
/// password is refused without being shown or logged.
#[test]
fn postgres_passwords_come_from_the_environment_pgpass_and_service_files() {
    let _serial = serial();
    let Some(pg) = server("LEDGERSCOPE_POSTGRES_URL") else {
        return;
    };
    let (_, schema) = fresh_schema(&pg);
    let port = common::port_of(&pg);
    let (dir, home) = (tempdir(), tempdir());
    let url = format!(
        "postgres://ledgerscope@127.0.0.1:{port}/ledgerscope?options=-csearch_path%3D{schema}"
    );
    let app = |postgres: Option<String>| App {
        data_dir: dir.path().to_path_buf(),
        mongo: None,
        postgres,
    };
    let run = |app: &App, env: &[(&str, String)], args: &[&str]| {
        let mut cmd = app.command(args);
        cmd.env("HOME", home.path());
        for var in [
            "PGPASSWORD",
            "PGPASSFILE",
            "PGSERVICE",
            "PGSERVICEFILE",
            "PGHOST",
            "PGPORT",
            "PGUSER",
            "PGDATABASE",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        cmd.output().unwrap()
    };
    let emit = ["emit", "--count", "2", "--json"];
    let out = run(
        &app(Some(url.clone())),
        &[("PGPASSWORD", "ledgerscope".into())],
        &emit,
    );
    assert!(out.status.success(), "PGPASSWORD: {}", stderr_of(&out));
    let out = run(
        &app(Some(url.clone())),
        &[("PGPASSWORD", "wrong-s3cret".into())],
        &emit,
    );
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(err.contains("refused the user name or password"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");

    let pgpass = home.path().join("pgpass");
    std::fs::write(
        &pgpass,
        format!("127.0.0.1:{port}:ledgerscope:ledgerscope:ledgerscope\n"),
    )
    .unwrap();
    let set_mode = |mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    let passfile = [("PGPASSFILE", pgpass.display().to_string())];
    set_mode(0o644);
    let out = run(&app(Some(url.clone())), &passfile, &emit);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("0600"),
        "the ignored file is named: {}",
        stderr_of(&out)
    );
    set_mode(0o600);
    let out = run(&app(Some(url.clone())), &passfile, &emit);
    assert!(out.status.success(), "PGPASSFILE: {}", stderr_of(&out));

    let services = home.path().join("services.conf");
    std::fs::write(
        &services,
        format!(
            "[ls_read]\nhost=127.0.0.1\nport={port}\ndbname=ledgerscope\nuser=ledgerscope\noptions=-csearch_path={schema}\n"
        ),
    )
    .unwrap();
    let env = [
        passfile[0].clone(),
        ("PGSERVICEFILE", services.display().to_string()),
    ];
    let out = run(
        &app(None),
        &env,
        &[
            "--postgres-service",
            "ls_read",
            "emit",
            "--count",
            "2",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "--postgres-service: {}",
        stderr_of(&out)
    );
    let (code, status) = {
        let out = run(
            &app(Some("service=ls_read".into())),
            &env,
            &["status", "--json"],
        );
        let value: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("status printed no JSON: {}", stderr_of(&out)));
        (out.status.code(), value)
    };
    assert_eq!(code, Some(0), "{status}");
    assert_eq!(status["head"], 6, "{status}");
    let log = std::fs::read_to_string(dir.path().join("logs").join("ledgerscope.log")).unwrap();
    assert!(!log.contains("s3cret"), "no password in the log: {log}");
}

/// On MongoDB + PostgreSQL, personal data is masked by default in every
/// answer (`--unmask` shows it), a pseudonymized export holds none of it
/// and imports into the embedded store with the same counts, and
/// `subject` lists the person's events as an independent reading does.
#[test]
fn server_stores_mask_by_default_and_the_training_copy_and_subject_work() {
    let _serial = serial();
    let (Some(mongo), Some(pg)) = (
        server("LEDGERSCOPE_MONGO_URI"),
        server("LEDGERSCOPE_POSTGRES_URL"),
    ) else {
        return;
    };
    let dir = tempdir();
    let db = unique("ls_mask");
    let (url, _schema) = fresh_schema(&pg);
    let app = App {
        data_dir: dir.path().join("servers"),
        mongo: Some((mongo.clone(), db.clone())),
        postgres: Some(url),
    };
    let (code, out) = app.json(&["emit", "--count", "40", "--mix", "--seed", "4", "--json"]);
    assert_eq!(code, 0, "{out}");

    let plain = dir.path().join("plain.ndjson");
    let refused = app.run(&["export", "--out", plain.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr_of(&refused));
    assert!(stderr_of(&refused).contains("--pseudonymize"));
    let (code, _) = app.json(&[
        "--unmask",
        "export",
        "--out",
        plain.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0);
    let events: Vec<Value> = std::fs::read_to_string(&plain)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut originals = std::collections::BTreeSet::new();
    for e in &events {
        let p = &e["payload"];
        for v in [
            &p["user"]["email"],
            &p["user"]["name"],
            &p["user"]["address"],
            &p["new_address"],
        ] {
            if let Some(text) = v.as_str() {
                originals.insert(text.to_owned());
            }
        }
    }
    assert!(originals.len() > 10, "{originals:?}");

    // Masked by default: the events and a user's history.
    let someone = events[0]["payload"]["user"]["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let masked = app.run(&["events", "--limit", "100", "--json"]);
    let history = app.run(&["history", "--user", &someone, "--json"]);
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&masked.stdout),
        String::from_utf8_lossy(&history.stdout)
    );
    for original in &originals {
        assert!(
            !shown.contains(original.as_str()),
            "{original} shown: {shown}"
        );
    }
    let unmasked = app.run(&["--unmask", "events", "--limit", "100", "--json"]);
    assert!(String::from_utf8_lossy(&unmasked.stdout).contains(someone.as_str()));

    // A training copy: no personal value, the same counts once imported.
    let copy = dir.path().join("copy.ndjson");
    let (code, report) = app.json(&[
        "export",
        "--out",
        copy.to_str().unwrap(),
        "--pseudonymize",
        "--json",
    ]);
    assert_eq!(
        (code, &report["pseudonymized"]),
        (0, &Value::Bool(true)),
        "{report}"
    );
    let text = std::fs::read_to_string(&copy).unwrap();
    for original in &originals {
        assert!(!text.contains(original.as_str()), "{original} in the copy");
    }
    let training = App {
        data_dir: dir.path().join("training"),
        mongo: None,
        postgres: None,
    };
    let (code, _) = training.json(&["import", copy.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let counts = |v: &Value| {
        (
            v["users"].clone(),
            v["bookings"].clone(),
            v["bookings_by_status"].clone(),
        )
    };
    let (_, there) = app.json(&["state", "--json"]);
    let (_, here) = training.json(&["state", "--json"]);
    assert_eq!(counts(&there), counts(&here));

    // Whose data is where, against an independent reading of the export.
    let user = events[0]["payload"]["user"]["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let expected = common::subject_positions(&events, &user);
    let (code, subject) = app.json(&["subject", "--user", &someone, "--json"]);
    assert_eq!(code, 0, "{subject}");
    let positions: Vec<u64> = subject["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    assert_eq!(positions, expected);
    assert!(
        !subject.to_string().contains(someone.as_str()),
        "masked: {subject}"
    );
    drop_mongo_db(&mongo, &db);
}
