//! The CLI as a user runs it: the real binary on a fresh data dir.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

mod common;
mod crash;
mod errors;
mod history;
mod logging;
mod mask;
mod models;
mod publish;
mod transfer;

pub fn run(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ledgerscope"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("LEDGERSCOPE_MONGO_URI")
        .env_remove("LEDGERSCOPE_POSTGRES_URL")
        .env_remove("LEDGERSCOPE_DATA_DIR")
        .output()
        .unwrap()
}

pub fn json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = run(dir, args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "exactly one JSON object on stdout for {args:?}: {stdout}\n{}",
        stderr(&out)
    );
    let value = serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (out.status.code().unwrap_or(-1), value)
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_issue_walkthrough_on_a_clean_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, emitted) = json(
        d,
        &[
            "emit",
            "--count",
            "2000",
            "--seed",
            "7",
            "--no-project",
            "--json",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(
        (emitted["emitted"].as_u64(), emitted["head"].as_u64()),
        (Some(2000), Some(2000))
    );

    // The same seed again: every command is a retry of a stored one.
    let (_, again) = json(
        d,
        &[
            "emit",
            "--count",
            "50",
            "--seed",
            "7",
            "--no-project",
            "--json",
        ],
    );
    assert_eq!(
        (again["emitted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(50))
    );

    // Re-emit with an existing --id reports a duplicate and the ledger does not grow.
    let (_, first) = json(d, &["events", "--limit", "1", "--json"]);
    let id = first["aggregate_id"].as_str().unwrap().to_string();
    let (code, dup) = json(d, &["emit", "--id", &id, "--email", "x@y.zz", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(
        (dup["duplicate"].as_bool(), dup["position"].as_u64()),
        (Some(true), Some(1))
    );
    assert_eq!(dup["head"].as_u64(), Some(2000));

    let (code, status) = json(d, &["status", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(
        status["projectors"][0]["lag"].as_u64(),
        Some(2000),
        "nothing projected yet"
    );

    let (_, projected) = json(d, &["project", "--json"]);
    assert_eq!(projected["caught_up"].as_bool(), Some(true));
    assert_eq!(
        projected["checkpoints"]["BookingProjection"].as_u64(),
        Some(2000)
    );
    let (code, verify) = json(d, &["verify", "--json"]);
    assert_eq!((code, verify["in_sync"].as_bool()), (0, Some(true)));

    // Delete a row from views.sqlite3 by hand: verify exits 1 naming it.
    let views = rusqlite::Connection::open(d.join("views.sqlite3")).unwrap();
    let victim: String = views
        .query_row(
            "SELECT booking_id FROM bookings ORDER BY booking_id LIMIT 1 OFFSET 17",
            [],
            |r| r.get(0),
        )
        .unwrap();
    views
        .execute("DELETE FROM bookings WHERE booking_id = ?1", [&victim])
        .unwrap();
    drop(views);
    let (code, verify) = json(d, &["verify", "--json"]);
    assert_eq!(
        (
            code,
            verify["in_sync"].as_bool(),
            verify["missing"].as_u64()
        ),
        (1, Some(false), Some(1))
    );
    assert_eq!(verify["rows"][0]["key"].as_str(), Some(victim.as_str()));
    assert_eq!(verify["rows"][0]["table"].as_str(), Some("bookings"));
    let human = run(d, &["verify"]);
    assert_eq!(human.status.code(), Some(1));
    assert!(stderr(&human).contains(&victim), "{}", stderr(&human));

    let (code, replay) = json(d, &["replay", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(replay["events"].as_u64(), Some(2000));
    let (code, verify) = json(d, &["verify", "--json"]);
    assert_eq!((code, verify["in_sync"].as_bool()), (0, Some(true)));

    // state --at 1000 equals itself computed after `snapshot take`.
    let (_, before) = json(d, &["state", "--at", "1000", "--json"]);
    let (code, snap) = json(d, &["snapshot", "take", "--at", "900", "--json"]);
    assert_eq!((code, snap["position"].as_u64()), (0, Some(900)));
    let (_, after) = json(d, &["state", "--at", "1000", "--json"]);
    assert_eq!(after["base"]["kind"].as_str(), Some("snapshot"));
    assert_eq!(after["folded_events"].as_u64(), Some(100));
    assert_eq!(before["digest"], after["digest"]);
    assert_eq!(before["bookings"].as_u64(), Some(1000));
    let (_, head_state) = json(d, &["state", "--json"]);
    assert_ne!(head_state["digest"], before["digest"]);
    let (code, diff) = json(d, &["diff", "--from", "1000", "--to", "1500", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(diff["tables"][1]["table"].as_str(), Some("bookings"));
    assert_eq!(
        diff["tables"][1]["added"].as_u64(),
        Some(500),
        "500 bookings booked in between"
    );
    // The one taken, and the deltas `emit` took of the empty ledger every
    // 1,000 events (no full snapshot was due: one is every 10,000).
    let (_, list) = json(d, &["snapshot", "list", "--json"]);
    let kinds: Vec<(u64, bool)> = list["snapshots"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|s| (s["position"].as_u64().unwrap_or(0), s.get("base").is_none()))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(kinds, [(900, true), (1000, false), (2000, false)], "{list}");
}

/// The lines of an NDJSON export, parsed.
pub fn ndjson(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
