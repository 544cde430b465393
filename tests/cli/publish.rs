//! Published models from the command line: a model's rows as a real table
//! in the read store, kept up to date after commands, rebuilt by replay.

use super::*;

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/models")
        .join(name)
}

/// The rows of a table of `views.sqlite3`, in key order, as JSON values.
fn read_table(dir: &Path, table: &str, key: &str) -> Vec<Value> {
    let conn = rusqlite::Connection::open(dir.join("views.sqlite3")).unwrap();
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY \"{key}\""))
        .unwrap();
    let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    let rows = stmt
        .query_map([], |r| {
            let mut object = serde_json::Map::new();
            for (i, name) in names.iter().enumerate() {
                use rusqlite::types::ValueRef;
                let value = match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => serde_json::json!(n),
                    ValueRef::Real(f) => serde_json::json!(f),
                    ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into()),
                    ValueRef::Blob(_) => Value::String("<blob>".into()),
                };
                object.insert(name.clone(), value);
            }
            Ok(Value::Object(object))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn has_table(dir: &Path, table: &str) -> bool {
    let conn = rusqlite::Connection::open(dir.join("views.sqlite3")).unwrap();
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        > 0
}

/// `model rows` of the model at its head, every row.
fn model_rows(dir: &Path, name: &str) -> (u64, Vec<Value>) {
    let (code, rows) = json(dir, &["model", "rows", name, "--limit", "100000", "--json"]);
    assert_eq!(code, 0, "{rows}");
    (
        rows["built_to"].as_u64().unwrap(),
        rows["rows"].as_array().unwrap().clone(),
    )
}

const TABLE: &str = "model_bookings_bookings";

#[test]
fn a_published_model_follows_commands_survives_a_replay_and_is_unpublished() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, _) = json(d, &["emit", "--count", "30", "--seed", "4", "--json"]);
    assert_eq!(code, 0);
    let file = example("bookings.sql");
    let (code, added) = json(d, &["model", "add", file.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{added}");
    let (code, published) = json(d, &["model", "publish", "bookings", "--json"]);
    assert_eq!(code, 0, "{published}");
    assert_eq!(published["published"]["tables"][0], TABLE);
    assert_eq!(published["published"]["position"], 30);

    // More commands (cancellations and reschedules among them): the
    // published table follows, equal to the model's rows at the head.
    let (code, _) = json(
        d,
        &["emit", "--count", "60", "--mix", "--seed", "5", "--json"],
    );
    assert_eq!(code, 0);
    let (code, cancel) = json(d, &["status", "--json"]);
    assert_eq!(code, 0);
    let head = cancel["head"].as_u64().unwrap();
    assert!(head >= 80, "{cancel}");
    let published = &cancel["published"][0];
    assert_eq!(published["model"], "bookings", "{cancel}");
    assert_eq!(published["checkpoint"].as_u64(), Some(head), "{cancel}");
    assert_eq!(published["lag_events"], 0, "{cancel}");
    let (_, listed) = json(d, &["model", "list", "--json"]);
    assert_eq!(
        listed["models"][0]["published"]["checkpoint"].as_u64(),
        Some(head),
        "{listed}"
    );
    let (built_to, rows) = model_rows(d, "bookings");
    assert_eq!(built_to, head);
    assert!(
        rows.iter().any(|r| r["status"] == "cancelled"),
        "changed rows are in it"
    );
    assert_eq!(read_table(d, TABLE, "booking_id"), rows);

    // A damaged table: replay rebuilds it.
    let conn = rusqlite::Connection::open(d.join("views.sqlite3")).unwrap();
    conn.execute_batch(&format!(
        "DELETE FROM {TABLE} WHERE rowid % 2 = 0; UPDATE {TABLE} SET status = 'lost';"
    ))
    .unwrap();
    drop(conn);
    assert_ne!(read_table(d, TABLE, "booking_id"), rows);
    let (code, replayed) = json(d, &["replay", "--json"]);
    assert_eq!(code, 0, "{replayed}");
    assert_eq!(replayed["published"][0], "bookings", "{replayed}");
    assert_eq!(read_table(d, TABLE, "booking_id"), rows);

    // Dropped altogether: replay makes it again.
    let conn = rusqlite::Connection::open(d.join("views.sqlite3")).unwrap();
    conn.execute_batch(&format!("DROP TABLE {TABLE}")).unwrap();
    drop(conn);
    let (code, replayed) = json(d, &["replay", "--json"]);
    assert_eq!(code, 0, "{replayed}");
    assert_eq!(read_table(d, TABLE, "booking_id"), rows);

    let (code, gone) = json(d, &["model", "unpublish", "bookings", "--json"]);
    assert_eq!(code, 0, "{gone}");
    assert!(!has_table(d, TABLE));
    let (_, status) = json(d, &["status", "--json"]);
    assert_eq!(status["published"], serde_json::json!([]), "{status}");
    // Unpublishing twice says so.
    let out = run(d, &["model", "unpublish", "bookings"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not published"), "{}", stderr(&out));
}

#[test]
fn a_published_model_of_another_definition_is_refused_until_a_replay() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, _) = json(d, &["emit", "--count", "10", "--seed", "2", "--json"]);
    assert_eq!(code, 0);
    let file = example("bookings.sql");
    assert_eq!(
        json(d, &["model", "add", file.to_str().unwrap(), "--json"]).0,
        0
    );
    assert_eq!(json(d, &["model", "publish", "bookings", "--json"]).0, 0);
    // The same name with another text, behind the published table's back.
    let conn = rusqlite::Connection::open(d.join("ledger.sqlite3")).unwrap();
    conn.execute(
        "UPDATE read_models SET source = source || '\n-- changed' WHERE name = 'bookings'",
        [],
    )
    .unwrap();
    drop(conn);
    let (code, _) = json(d, &["emit", "--count", "5", "--seed", "9", "--json"]);
    assert_eq!(code, 0);
    let (_, status) = json(d, &["status", "--json"]);
    let published = &status["published"][0];
    assert_eq!(published["checkpoint"], 10, "nothing written: {status}");
    assert!(
        published["refused"]
            .as_str()
            .is_some_and(|r| r.contains("another definition")),
        "{status}"
    );
    let (code, replayed) = json(d, &["replay", "--json"]);
    assert_eq!(code, 0, "{replayed}");
    let (_, status) = json(d, &["status", "--json"]);
    assert_eq!(status["published"][0]["checkpoint"], 15, "{status}");
    assert!(status["published"][0]["refused"].is_null(), "{status}");
    let (_, rows) = model_rows(d, "bookings");
    assert_eq!(read_table(d, TABLE, "booking_id"), rows);
}
