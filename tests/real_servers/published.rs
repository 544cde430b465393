use super::*;

// ---------------------------------------------------------------- published models

/// The `(booking_id, status, check_in, check_out)` of every row of the
/// published `bookings` model in PostgreSQL, in key order.
pub(super) fn published_bookings(url: &str) -> Vec<(String, String, String, String)> {
    runtime().block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .query(
                "SELECT booking_id::text, status, check_in::text, check_out::text
                 FROM model_bookings_bookings ORDER BY booking_id",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect()
    })
}

/// The same columns of `model rows bookings` at the model's head.
pub(super) fn model_bookings(app: &App) -> Vec<(String, String, String, String)> {
    let (code, rows) = app.json(&["model", "rows", "bookings", "--limit", "100000", "--json"]);
    assert_eq!(code, 0, "{rows}");
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                text(&r["booking_id"]),
                text(&r["status"]),
                text(&r["check_in"]),
                text(&r["check_out"]),
            )
        })
        .collect()
}

/// A model published into PostgreSQL (ledger on FerretDB) while a `run`
/// instance projects: PostgreSQL stops, commands go on being stored, and
/// after the restart the published table catches up by itself, like the
/// built-ins; a replay then rebuilds it with the same rows.
#[test]
fn a_published_model_catches_up_after_a_read_store_outage_and_survives_a_replay() {
    let _serial = serial();
    let (Some(uri), Some(pg)) = (
        server("LEDGERSCOPE_MONGO_URI"),
        server("LEDGERSCOPE_POSTGRES_URL"),
    ) else {
        return;
    };
    let (scoped, _schema) = fresh_schema(&pg);
    let dir = tempdir();
    let app = App {
        data_dir: dir.path().to_path_buf(),
        mongo: Some((uri.clone(), unique("ls_publish"))),
        postgres: Some(scoped.clone()),
    };
    let (code, _) = app.json(&["emit", "--count", "12", "--mix", "--seed", "6", "--json"]);
    assert_eq!(code, 0);
    let model = repo().join("examples/models/bookings.sql");
    let (code, added) = app.json(&["model", "add", model.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{added}");
    let (code, published) = app.json(&["model", "publish", "bookings", "--json"]);
    assert_eq!(code, 0, "{published}");
    assert_eq!(published_bookings(&scoped), model_bookings(&app));
    let _runner = Running(app.spawn(&["run", "--snapshot-every", "0"]));
    {
        let _down = Outage::start("postgres");
        let (code, emitted) = app.json(&[
            "emit",
            "--count",
            "12",
            "--mix",
            "--seed",
            "7",
            "--no-project",
            "--json",
        ]);
        assert_eq!(
            code, 0,
            "commands are stored with the read store down: {emitted}"
        );
    }
    let caught_up = || {
        let (_, status) = app.json(&["status", "--json"]);
        let head = status["head"].as_u64();
        head.is_some_and(|h| h >= 24)
            && status["published"][0]["checkpoint"].as_u64() == head
            && lag_of(&status) == 0
    };
    wait_until(
        "the published model to catch up after the restart",
        Duration::from_secs(120),
        caught_up,
    );
    let rows = model_bookings(&app);
    assert!(rows.len() >= 12, "{rows:?}");
    assert_eq!(published_bookings(&scoped), rows);
    drop(_runner);
    let (code, replayed) = app.json(&["replay", "--json"]);
    assert_eq!(code, 0, "{replayed}");
    assert_eq!(replayed["published"][0], "bookings", "{replayed}");
    assert_eq!(published_bookings(&scoped), rows);
    if let Some((_, db)) = &app.mongo {
        drop_mongo_db(&uri, db);
    }
}
