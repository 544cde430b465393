//! The repair leaves a report: `verify --report`, the targeted `repair`
//! and `repairs`, as a user runs them on the embedded store.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn run(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ledgerscope"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("LEDGERSCOPE_MONGO_URI")
        .env_remove("LEDGERSCOPE_POSTGRES_URL")
        .env_remove("LEDGERSCOPE_DATA_DIR")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = run(dir, args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{e} for {args:?}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), value)
}

/// Every booking's rowid (a row deleted and written again gets a new one;
/// a replay builds new tables).
fn rowids(views: &rusqlite::Connection) -> BTreeMap<String, i64> {
    let mut stmt = views
        .prepare("SELECT booking_id, rowid FROM bookings")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_targeted_repair_rewrites_only_the_drifted_row_and_keeps_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, _) = json(d, &["emit", "--count", "40", "--seed", "9", "--json"]);
    assert_eq!(code, 0);
    let (code, _) = json(d, &["project", "--json"]);
    assert_eq!(code, 0);

    // One booking drifts by hand.
    let views = rusqlite::Connection::open(d.join("views.sqlite3")).unwrap();
    let (victim, service): (String, String) = views
        .query_row(
            "SELECT booking_id, service FROM bookings ORDER BY booking_id LIMIT 1 OFFSET 7",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    views
        .execute(
            "UPDATE bookings SET service = 'Broken by hand' WHERE booking_id = ?1",
            [&victim],
        )
        .unwrap();
    let before = rowids(&views);

    // The findings as JSON and Markdown, naming the row and its cells.
    let report_json = d.join("reports/drift.json");
    let (code, verify) = json(
        d,
        &[
            "verify",
            "--json",
            "--report",
            report_json.to_str().unwrap(),
        ],
    );
    assert_eq!((code, verify["different"].as_u64()), (1, Some(1)));
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_json).unwrap()).unwrap();
    let row = &file["findings"]["rows"][0];
    assert_eq!(row["key"].as_str(), Some(victim.as_str()));
    assert_eq!(row["kind"].as_str(), Some("different"));
    assert_eq!(row["columns"], serde_json::json!(["service"]));
    assert_eq!(row["stored"][2].as_str(), Some("Broken by hand"));
    assert_eq!(row["ledger"][2].as_str(), Some(service.as_str()));
    let report_md = d.join("drift.txt");
    let out = run(
        d,
        &[
            "verify",
            "--report",
            report_md.to_str().unwrap(),
            "--report-format",
            "md",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let md = std::fs::read_to_string(&report_md).unwrap();
    assert!(
        md.contains(&format!("bookings `{victim}`: different")),
        "{md}"
    );
    assert!(md.contains("| **service** | Broken by hand |"), "{md}");

    // Without --yes (and no terminal to ask on) nothing is written.
    let out = run(d, &["repair"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("views.sqlite3"),
        "names the database: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rowids(&views), before);

    let repair_md = d.join("repair.md");
    let (code, repair) = json(
        d,
        &[
            "repair",
            "--yes",
            "--json",
            "--report",
            repair_md.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{repair}");
    assert_eq!(repair["kind"].as_str(), Some("targeted"));
    assert_eq!(repair["work"]["rows_written"].as_u64(), Some(1));
    assert_eq!(repair["work"]["rows_deleted"].as_u64(), Some(0));
    assert_eq!(repair["work"]["aggregates"].as_u64(), Some(1));
    assert_eq!(repair["after"]["in_sync"].as_bool(), Some(true));
    let md = std::fs::read_to_string(&repair_md).unwrap();
    assert!(md.contains(&victim), "{md}");

    // Only that row was written: every other row is the same row as before.
    let after = rowids(&views);
    assert_eq!(after.len(), before.len());
    for (key, rowid) in &before {
        if key == &victim {
            assert_ne!(after[key], *rowid, "the drifted row was written");
        } else {
            assert_eq!(after[key], *rowid, "row {key} was left alone");
        }
    }
    let repaired: String = views
        .query_row(
            "SELECT service FROM bookings WHERE booking_id = ?1",
            [&victim],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(repaired, service);
    let (code, verify) = json(d, &["verify", "--json"]);
    assert_eq!((code, verify["in_sync"].as_bool()), (0, Some(true)));

    // Kept in the ledger store, with what was found before; a replay too.
    let (code, _) = json(d, &["replay", "--json"]);
    assert_eq!(code, 0);
    let (code, listed) = json(d, &["repairs", "--json"]);
    assert_eq!(code, 0);
    let repairs = listed["repairs"].as_array().unwrap();
    assert_eq!(repairs.len(), 2, "{listed}");
    assert_eq!(repairs[0]["kind"].as_str(), Some("replay"));
    assert_eq!(repairs[0]["before"]["in_sync"].as_bool(), Some(true));
    assert_eq!(repairs[1]["kind"].as_str(), Some("targeted"));
    assert_eq!(repairs[1]["before"]["different"].as_u64(), Some(1));
    assert_eq!(
        repairs[1]["before"]["rows"][0]["key"].as_str(),
        Some(victim.as_str())
    );
    assert!(
        repairs[1]["read_store"]
            .as_str()
            .unwrap()
            .contains("views.sqlite3")
    );
    let out = run(d, &["repairs"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("targeted") && text.contains("replay"),
        "{text}"
    );
}

/// Through the engine: an extra row is deleted and a missing user is made
/// again from the wizard that carries it; another instance holding a
/// projector's lease refuses the repair, writing nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_targeted_repair_deletes_extra_rows_makes_missing_users_and_waits_for_the_lease() {
    use ledgerscope::engine::bulk::BulkSpec;
    use ledgerscope::engine::projector::projector_lease_name;
    use ledgerscope::engine::{Engine, EngineConfig, EngineError, JobControl};
    use ledgerscope::store::{StoreConfig, open_stores};

    let dir = tempfile::tempdir().unwrap();
    let stores = open_stores(&StoreConfig::embedded(dir.path()))
        .await
        .unwrap();
    let mut config = EngineConfig::new("repair-test");
    config.snapshot_every = 0;
    let engine = Engine::new(stores.clone(), config);
    let spec = BulkSpec {
        mix: true,
        ..BulkSpec::bookings(30, Some(4))
    };
    engine
        .emit_bulk(&spec, &JobControl::default())
        .await
        .unwrap();
    for p in ledgerscope::domain::ProjectorId::ALL {
        engine.project_with_lease(p, false).await.unwrap();
    }
    assert!(engine.verify().await.unwrap().in_sync);

    let views = rusqlite::Connection::open(dir.path().join("views.sqlite3")).unwrap();
    let user: String = views
        .query_row(
            "SELECT user_id FROM users ORDER BY user_id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    views
        .execute("DELETE FROM users WHERE user_id = ?1", [&user])
        .unwrap();
    let extra = uuid::Uuid::new_v4().to_string();
    // A copy of a row under another key (the columns as described).
    let columns = ledgerscope::domain::Table::Bookings.description().columns;
    let rest: Vec<&str> = columns[1..].iter().map(|c| c.name).collect();
    views
        .execute(
            &format!(
                "INSERT INTO bookings SELECT ?1, {} FROM bookings LIMIT 1",
                rest.join(", ")
            ),
            [&extra],
        )
        .unwrap();

    // Another instance projecting: the repair waits for it, writing nothing.
    let lease = stores
        .locks
        .try_acquire(
            &projector_lease_name(ledgerscope::domain::ProjectorId::BookingProjection),
            "someone-else",
            std::time::Duration::from_secs(30),
        )
        .await
        .unwrap()
        .unwrap();
    match engine.repair_rows(&JobControl::default()).await {
        Err(EngineError::Busy { holder, .. }) => assert_eq!(holder, "someone-else"),
        other => panic!("refused while another instance holds the lease: {other:?}"),
    }
    assert!(engine.repairs(10).await.unwrap().is_empty());
    stores.locks.release(&lease).await.unwrap();

    let entry = engine.repair_rows(&JobControl::default()).await.unwrap();
    let before = entry.before.as_ref().unwrap();
    assert_eq!((before.missing, before.extra, before.different), (1, 1, 0));
    assert_eq!(
        (entry.work.rows_written, entry.work.rows_deleted),
        (1, 1),
        "{entry:?}"
    );
    assert!(entry.after.as_ref().unwrap().in_sync, "{entry:?}");
    assert!(engine.verify().await.unwrap().in_sync);
    let (users, extras): (i64, i64) = views
        .query_row(
            "SELECT (SELECT count(*) FROM users WHERE user_id = ?1), (SELECT count(*) FROM bookings WHERE booking_id = ?2)",
            [&user, &extra],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((users, extras), (1, 0));
    let kept = engine.repairs(10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0], entry);
}
