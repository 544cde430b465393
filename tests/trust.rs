//! Trust nothing it is pointed at, on the embedded stores (the real servers'
//! side is in `tests/real_servers/`): read stores of another ledger, holes in
//! positions, export/import round trips, read-only copies, CLI errors, and
//! commands that never wait on projection. Real processes of the built binary.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::{json_embedded, run_embedded};

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn emit(dir: &Path, count: u64, seed: u64, extra: &[&str]) -> Value {
    let (count, seed) = (count.to_string(), seed.to_string());
    let mut args = vec!["emit", "--count", &count, "--seed", &seed, "--json"];
    args.extend_from_slice(extra);
    let (code, out) = json_embedded(dir, &args);
    assert_eq!(code, 0, "{out}");
    out
}

fn short(id: &Value) -> String {
    id.as_str().unwrap_or_default().replace('-', "")[..8].to_string()
}

/// Copies a data dir's read store (the database file and any log beside it).
fn copy_views(from: &Path, to: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let name = format!("views.sqlite3{suffix}");
        let _ = std::fs::remove_file(to.join(&name));
        if from.join(&name).exists() {
            std::fs::copy(from.join(&name), to.join(&name)).unwrap();
        }
    }
}

/// (bookings rows, BookingProjection position) of a data dir's read store.
fn views_of(dir: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(dir.join("views.sqlite3")).unwrap();
    let rows = conn
        .query_row("SELECT count(*) FROM bookings", [], |r| r.get(0))
        .unwrap();
    let position = conn
        .query_row(
            "SELECT position FROM projection_state WHERE projector = 'BookingProjection'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (rows, position)
}

fn ledger_id(dir: &Path) -> Value {
    json_embedded(dir, &["status", "--json"]).1["ledger"]["id"].clone()
}

/// Read tables copied from another data dir are named with both ledgers in
/// `status`, `project` (exit 3), `verify` and a command's projection, and
/// nothing is written into them; `replay` refuses until confirmed, then
/// rebuilds them for this ledger. Both ways round: the other ledger longer
/// (its checkpoint past this head) and shorter (this ledger's projectors
/// would otherwise write its rows over the other's).
#[test]
fn read_tables_of_another_ledger_are_named_never_written_and_rebuilt_on_confirmation() {
    for (theirs, ours) in [(40u64, 25u64), (20, 60)] {
        let (a, b) = (tempdir(), tempdir());
        emit(a.path(), theirs, 1, &[]);
        emit(b.path(), ours, 2, &[]);
        let (id_a, id_b) = (ledger_id(a.path()), ledger_id(b.path()));
        assert_ne!(id_a, id_b, "two ledgers, two ids");
        copy_views(a.path(), b.path());
        let before = views_of(b.path());
        assert_eq!(before, (theirs as i64, theirs as i64));

        let (code, status) = json_embedded(b.path(), &["status", "--json"]);
        assert_eq!(code, 0, "{status}");
        assert_eq!(status["pairing"]["state"], "foreign", "{status}");
        assert_eq!(status["read_store"]["built_from"], id_a);
        // This ledger's progress, not the other's: none of its events
        // are in those tables.
        for projector in status["projectors"].as_array().unwrap() {
            assert_eq!(
                (&projector["checkpoint"], &projector["lag"]),
                (&json!(0), &json!(ours)),
                "{status}"
            );
        }
        let message = status["pairing"]["message"].as_str().unwrap_or_default();
        for part in [
            format!("built from ledger {}", short(&id_a)),
            format!("up to {theirs}"),
            format!("this ledger is {} at {ours}", short(&id_b)),
        ] {
            assert!(message.contains(&part), "{message} should say {part}");
        }

        let (code, project) = json_embedded(b.path(), &["project", "--json"]);
        assert_eq!(code, 3, "project cannot catch up: {project}");
        assert!(
            project["error"]
                .as_str()
                .unwrap_or_default()
                .contains(&short(&id_a)),
            "{project}"
        );
        let (code, verify) = json_embedded(b.path(), &["verify", "--json"]);
        assert_eq!(code, 2, "{verify}");
        assert!(
            verify["error"]
                .as_str()
                .unwrap_or_default()
                .contains("built from ledger")
        );
        let emitted = emit(b.path(), 5, 3, &[]);
        assert_eq!(emitted["emitted"], 5, "commands still work: {emitted}");
        assert_eq!(emitted["projection"]["projected"], false, "{emitted}");
        for name in ["UserProjection", "BookingProjection"] {
            assert_eq!(
                emitted["projection"]["lag"][name],
                json!(ours + 5),
                "{emitted}"
            );
        }
        let warning = emitted["projection"]["projection_error"]
            .as_str()
            .unwrap_or_default();
        assert!(
            warning.contains("until a replay rebuilds them"),
            "the warning says what will happen: {emitted}"
        );
        assert_eq!(views_of(b.path()), before, "nothing was written into them");

        let (code, refused) = json_embedded(b.path(), &["replay", "--json"]);
        assert_eq!(code, 2, "{refused}");
        assert!(
            refused["error"]
                .as_str()
                .unwrap_or_default()
                .contains("--rebuild-foreign"),
            "{refused}"
        );
        assert_eq!(views_of(b.path()), before);
        let (code, replay) = json_embedded(b.path(), &["replay", "--rebuild-foreign", "--json"]);
        assert_eq!(code, 0, "{replay}");
        let (_, status) = json_embedded(b.path(), &["status", "--json"]);
        assert_eq!(status["pairing"]["state"], "paired", "{status}");
        assert_eq!(status["read_store"]["built_from"], id_b);
        let (code, verify) = json_embedded(b.path(), &["verify", "--json"]);
        assert_eq!((code, &verify["in_sync"]), (0, &json!(true)), "{verify}");
        assert_eq!(views_of(b.path()), (ours as i64 + 5, ours as i64 + 5));
    }
}

/// Drops the stamp table, as read tables made by a build without ledger
/// identities have none.
fn unstamp(dir: &Path) {
    let conn = rusqlite::Connection::open(dir.join("views.sqlite3")).unwrap();
    conn.execute_batch("DROP TABLE ledger_identity").unwrap();
}

/// Read tables without an identity are checked against the ledger: this
/// ledger's are adopted by the first command that may write (a read-only
/// `status` only says they agree), another ledger's are named as foreign.
#[test]
fn unstamped_read_tables_are_checked_then_adopted_or_named() {
    let (a, b) = (tempdir(), tempdir());
    emit(a.path(), 20, 1, &[]);
    emit(b.path(), 30, 2, &[]);
    unstamp(b.path());
    let (_, status) = json_embedded(b.path(), &["status", "--json"]);
    assert_eq!(status["pairing"]["state"], "unstamped", "{status}");
    assert!(status["pairing"]["checked_rows"].as_u64().unwrap_or(0) > 0);
    let out = common::run_embedded(b.path(), &["project", "--json"]);
    let (code, project) = common::json_of(&["project"], &out);
    assert_eq!(code, 0, "{project}");
    assert_eq!(project["pairing"]["state"], "adopted", "{project}");
    assert!(project["pairing"]["checked_rows"].as_u64().unwrap_or(0) > 0);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("adopted the read tables"), "{said}");
    let (_, status) = json_embedded(b.path(), &["status", "--json"]);
    assert_eq!(status["pairing"]["state"], "paired", "adopted: {status}");

    unstamp(a.path());
    copy_views(a.path(), b.path());
    let (_, status) = json_embedded(b.path(), &["status", "--json"]);
    assert_eq!(status["pairing"]["state"], "foreign", "{status}");
    assert_eq!(status["pairing"]["built_from"], Value::Null);
    let message = status["pairing"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("no such event"), "{message}");
    let (code, _) = json_embedded(b.path(), &["project", "--json"]);
    assert_eq!(code, 3);
    assert_eq!(views_of(b.path()).0, 20, "nothing written");
}

fn positions(dir: &Path, from: u64) -> Vec<u64> {
    let from = from.to_string();
    let out = run_embedded(
        dir,
        &["events", "--from", &from, "--limit", "100", "--json"],
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["position"].as_u64())
        .collect()
}

/// A hole another writer made (an event 1,000 positions past the head) is
/// shown by `status`, listed by `events` with nothing after it lost, crossed
/// by `project` once the hole timeout passes (not stalled), and crossed the
/// same way by `verify` and `replay`.
#[test]
fn a_hole_in_positions_is_shown_and_crossed_by_one_rule() {
    let d = tempdir();
    emit(d.path(), 10, 1, &[]);
    let foreign = &common::wizard_events(77, 1)[0];
    common::insert_raw(d.path(), 1010, foreign);
    emit(d.path(), 5, 2, &["--no-project"]);
    let expected: Vec<u64> = (1..=10).chain(1010..=1015).collect();
    assert_eq!(
        positions(d.path(), 1),
        expected,
        "nothing after the hole is lost"
    );
    assert_eq!(
        positions(d.path(), 11),
        vec![1010, 1011, 1012, 1013, 1014, 1015]
    );
    let hole = json!({"from": 11, "to": 1009});
    let (_, status) = json_embedded(d.path(), &["status", "--json"]);
    assert_eq!(
        (
            &status["head"],
            &status["missing_positions"],
            &status["holes"]
        ),
        (&json!(1015), &json!(999), &json!([hole])),
        "{status}"
    );
    let started = Instant::now();
    let (code, project) =
        json_embedded(d.path(), &["--hole-timeout-secs", "1", "project", "--json"]);
    assert_eq!(
        (code, &project["caught_up"]),
        (0, &json!(true)),
        "{project}"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited out the hole timeout"
    );
    assert_eq!(project["holes"], json!([hole]));
    assert_eq!(project["checkpoints"]["BookingProjection"], 1015);
    let (_, status) = json_embedded(d.path(), &["status", "--json"]);
    for p in status["projectors"].as_array().unwrap() {
        assert_eq!((&p["lag"], &p["holes"]), (&json!(0), &json!([hole])), "{p}");
    }
    let (code, verify) = json_embedded(d.path(), &["verify", "--json"]);
    assert_eq!((code, &verify["in_sync"]), (0, &json!(true)), "{verify}");
    assert_eq!(verify["holes"], json!([hole]));
    let (code, replay) = json_embedded(d.path(), &["replay", "--json"]);
    assert_eq!(
        (code, &replay["events"], &replay["holes"]),
        (0, &json!(16), &json!([hole]))
    );
    let (_, state) = json_embedded(d.path(), &["state", "--json"]);
    assert_eq!(
        state["bookings"], 16,
        "the foreign booking is in the state: {state}"
    );
}

/// `export` writes every envelope, also one of an unknown type or with a
/// payload that does not decode, and names the rows it cannot write;
/// `import` takes the whole file back, flagging what it cannot decode and
/// what `emit` would refuse (a 1 MB name), and is idempotent.
#[test]
fn export_writes_what_import_takes_and_flags() {
    let (d1, d2) = (tempdir(), tempdir());
    emit(d1.path(), 10, 1, &["--no-project"]);
    let mut events = common::wizard_events(78, 3);
    let mut unknown = events.remove(0);
    unknown.event_type = "LoyaltyPointsAwarded".into();
    unknown.payload = json!({"points": 10});
    common::insert_raw(d1.path(), 11, &unknown);
    let mut bad_payload = events.remove(0);
    bad_payload.payload = json!({"booking_id": bad_payload.aggregate_id});
    common::insert_raw(d1.path(), 12, &bad_payload);
    let mut huge = events.remove(0);
    huge.payload["user"]["name"] = json!("N".repeat(1 << 20));
    common::insert_raw(d1.path(), 13, &huge);
    {
        let conn = rusqlite::Connection::open(d1.path().join("ledger.sqlite3")).unwrap();
        conn.execute(
            "INSERT INTO events(position, event_id, event_type, payload) VALUES (14, 'not-a-uuid', 'X', 'not json')",
            [],
        )
        .unwrap();
    }
    let file = d1.path().join("ledger.ndjson");
    let file_arg = file.to_str().unwrap();
    let (code, export) = json_embedded(d1.path(), &["export", "--out", file_arg, "--json"]);
    assert_eq!(code, 0, "{export}");
    assert_eq!(
        (
            &export["exported"],
            &export["undecodable"],
            &export["skipped_malformed"]
        ),
        (&json!(13), &json!([11, 12]), &json!([14])),
        "{export}"
    );
    let (code, import) = json_embedded(d2.path(), &["import", file_arg, "--json"]);
    assert_eq!((code, &import["imported"]), (0, &json!(13)), "{import}");
    let flagged: Vec<(u64, String)> = import["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        flagged.iter().map(|f| f.0).collect::<Vec<_>>(),
        vec![11, 12, 13],
        "{import}"
    );
    assert!(flagged[0].1.contains("unknown event type"), "{flagged:?}");
    assert!(flagged[1].1.contains("malformed"), "{flagged:?}");
    assert!(
        flagged[2].1.contains("emit would refuse") && flagged[2].1.contains("name"),
        "{flagged:?}"
    );
    let (_, again) = json_embedded(d2.path(), &["import", file_arg, "--json"]);
    assert_eq!(
        (&again["imported"], &again["duplicates"]),
        (&json!(0), &json!(13))
    );
    let (_, verify) = json_embedded(d2.path(), &["verify", "--json"]);
    let malformed: Vec<u64> = verify["malformed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["position"].as_u64())
        .collect();
    assert_eq!(
        malformed,
        vec![11, 12],
        "still flagged after the round trip: {verify}"
    );
}

/// Runs `ledgerscope --data-dir DIR args` with DIR mounted read-only (a
/// private mount namespace: a real read-only file system, even for root).
fn run_on_read_only_mount(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("unshare")
        .args(["-rm", "sh", "-c"])
        .arg(r#"d="$1"; shift; mount --bind "$d" "$d" && mount -o remount,bind,ro "$d" && exec "$@""#)
        .arg("sh")
        .arg(dir)
        .arg(env!("CARGO_BIN_EXE_ledgerscope"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("LEDGERSCOPE_MONGO_URI")
        .env_remove("LEDGERSCOPE_POSTGRES_URL")
        .stdin(Stdio::null())
        .output()
        .expect("run unshare")
}

/// A read-only copy is inspected by every read subcommand, with or without
/// `--observe`, and nothing in it changes; no read subcommand creates a data
/// dir or a database file; a missing read store is reported as missing.
#[test]
fn read_only_copies_are_inspected_and_nothing_is_created() {
    let src = tempdir();
    emit(src.path(), 30, 1, &["--snapshot-every", "10"]);
    let copy = tempdir();
    let ro = copy.path().join("copy");
    let status = Command::new("cp")
        .arg("-a")
        .arg(src.path())
        .arg(&ro)
        .status()
        .unwrap();
    assert!(status.success());
    let probe = run_on_read_only_mount(&ro, &["status", "--json"]);
    if String::from_utf8_lossy(&probe.stderr).contains("unshare:") {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "unshare is refused here: {}",
                String::from_utf8_lossy(&probe.stderr)
            );
        }
        eprintln!("SKIPPED: no private mount namespace here");
        return;
    }
    let before = common::snapshot_of_dir(&ro);
    let out_file = copy.path().join("exported.ndjson");
    let out_arg = out_file.to_str().unwrap();
    let reads: [&[&str]; 7] = [
        &["status", "--json"],
        &["events", "--limit", "3", "--json"],
        &["state", "--at", "15", "--json"],
        &["diff", "--from", "5", "--to", "25", "--json"],
        &["verify", "--json"],
        &["snapshot", "list", "--json"],
        &["export", "--out", out_arg, "--json"],
    ];
    for observe in [false, true] {
        for args in reads {
            let mut args = args.to_vec();
            if observe {
                args.insert(0, "--observe");
                // --observe masks personal data: an export copies it only
                // when asked to, as it is.
                if args.contains(&"export") {
                    args.insert(0, "--unmask");
                }
            }
            let out = run_on_read_only_mount(&ro, &args);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{args:?} on a read-only copy: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let (_, verify) = common::json_of(
        &["verify"],
        &run_on_read_only_mount(&ro, &["verify", "--json"]),
    );
    assert_eq!(verify["in_sync"], true, "{verify}");
    assert_eq!(
        common::snapshot_of_dir(&ro),
        before,
        "nothing in the copy changed"
    );

    // No data dir is made by reading.
    let nowhere = copy.path().join("no-such-dir");
    for args in [
        &["status", "--json"][..],
        &["state", "--json"],
        &["events", "--json"],
    ] {
        let (code, out) = json_embedded(&nowhere, args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(
            out["error"]
                .as_str()
                .unwrap_or_default()
                .contains("does not exist")
        );
    }
    assert!(!nowhere.exists(), "reading created the data dir");

    // A ledger without its read store: reported missing, not recreated.
    let lonely = copy.path().join("ledger-only");
    std::fs::create_dir(&lonely).unwrap();
    std::fs::copy(
        src.path().join("ledger.sqlite3"),
        lonely.join("ledger.sqlite3"),
    )
    .unwrap();
    let (code, status) = json_embedded(&lonely, &["status", "--json"]);
    assert_eq!(code, 0, "{status}");
    assert_eq!(
        (
            &status["read_store"]["missing"],
            &status["read_store"]["reachable"]
        ),
        (&json!(true), &json!(false)),
        "{status}"
    );
    let (code, verify) = json_embedded(&lonely, &["verify", "--json"]);
    assert_eq!(code, 2, "{verify}");
    assert!(
        verify["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no read tables")
    );
    assert!(
        !lonely.join("views.sqlite3").exists(),
        "the read store was recreated"
    );
}

/// With `--json`, every failure prints one JSON object with `error` and
/// `exit_code`, argument errors included; negative numbers reach their own
/// validation; zero timeouts are refused.
#[test]
fn every_failure_prints_json_and_numbers_reach_their_validation() {
    let d = tempdir();
    let cases: [(&[&str], &str); 6] = [
        (&["emit", "--count", "-1", "--json"], "--count"),
        (&["emit", "--count", "0", "--json"], "--count"),
        (&["events", "--from", "abc", "--json"], "--from"),
        (
            &["--connect-timeout-secs", "0", "status", "--json"],
            "--connect-timeout-secs",
        ),
        (
            &["emit", "--rate", "-3", "--count", "2", "--json"],
            "--rate",
        ),
        (
            &["emit", "--email", "a@b.co", "--price", "-5", "--json"],
            "price",
        ),
    ];
    for (args, names) in cases {
        let (code, out) = json_embedded(d.path(), args);
        assert_eq!((code, &out["exit_code"]), (2, &json!(2)), "{args:?}: {out}");
        let error = out["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(names),
            "{args:?}: {error} should name {names}"
        );
        assert_eq!(error.lines().count(), 1, "one sentence: {error}");
    }
    let (_, out) = json_embedded(
        d.path(),
        &["emit", "--email", "a@b.co", "--price", "-5", "--json"],
    );
    assert!(
        out["error"]
            .as_str()
            .unwrap_or_default()
            .contains("must not be negative"),
        "the price's own check: {out}"
    );
}

/// A projector that fails in a running instance shows its error, and since
/// when, in `status` run from another process.
#[test]
fn status_shows_each_projectors_last_error_and_since_when() {
    let d = tempdir();
    emit(d.path(), 5, 1, &[]);
    {
        let conn = rusqlite::Connection::open(d.path().join("views.sqlite3")).unwrap();
        // (a dropped table would be made again by the instance's open)
        conn.execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON bookings
             BEGIN SELECT RAISE(ABORT, 'the bookings table refuses writes'); END",
        )
        .unwrap();
    }
    let mut run = Command::new(env!("CARGO_BIN_EXE_ledgerscope"))
        .arg("--data-dir")
        .arg(d.path())
        .arg("run")
        .env_remove("LEDGERSCOPE_MONGO_URI")
        .env_remove("LEDGERSCOPE_POSTGRES_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    emit(d.path(), 3, 2, &["--no-project"]);
    let started = Instant::now();
    let failing = loop {
        let (_, status) = json_embedded(d.path(), &["status", "--json"]);
        let booking = status["projectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "BookingProjection")
            .cloned()
            .unwrap();
        if booking["last_error"].is_string() || started.elapsed() > Duration::from_secs(30) {
            break booking;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let _ = run.kill();
    let _ = run.wait();
    assert!(
        failing["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("bookings"),
        "{failing}"
    );
    assert!(failing["error_since"].is_string(), "{failing}");
}

/// Commands answer while the embedded read store is locked by another
/// process: their events are stored and the views only lag. (SQLite's busy
/// timeout is 10 s, and each projector waits it out once per try: a command
/// that waited on projection could not answer within 9 s.)
#[test]
fn commands_never_wait_on_a_locked_read_store() {
    let d = tempdir();
    let first = emit(d.path(), 5, 1, &[]);
    let holder = rusqlite::Connection::open(d.path().join("views.sqlite3")).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let within = Duration::from_secs(9);
    let started = Instant::now();
    let emitted = emit(d.path(), 20, 2, &[]);
    assert!(
        started.elapsed() < within,
        "emit took {:?}",
        started.elapsed()
    );
    assert_eq!(emitted["emitted"], 20);
    assert_eq!(emitted["projection"]["projected"], false, "{emitted}");
    let position = first["head"].as_u64().unwrap_or(1).to_string();
    let listed = run_embedded(
        d.path(),
        &["events", "--from", &position, "--limit", "1", "--json"],
    );
    let (_, event) = common::json_of(&["events"], &listed);
    let booking = event["aggregate_id"].as_str().unwrap().to_string();
    let started = Instant::now();
    let (code, cancel) = json_embedded(d.path(), &["cancel", "--booking", &booking, "--json"]);
    assert!(
        started.elapsed() < within,
        "cancel took {:?}",
        started.elapsed()
    );
    assert_eq!((code, &cancel["emitted"]), (0, &json!(1)), "{cancel}");
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    let (code, project) = json_embedded(d.path(), &["project", "--json"]);
    assert_eq!(
        (code, &project["caught_up"]),
        (0, &json!(true)),
        "{project}"
    );
}
