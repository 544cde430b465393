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
