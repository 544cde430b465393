//! Bad input, unusable data dirs, malformed rows, locks, killed replays, links and refused connections: one sentence each, nothing lost.

use super::*;
use crate::logging::run_at_home;

#[test]
fn bad_input_gets_one_clear_sentence_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Refused input opens no store, so this data dir gets its ledger here.
    assert!(run(d, &["project"]).status.success());
    for (args, needle) in [
        (
            vec!["emit", "--id", "not-a-uuid", "--email", "a@b.co"],
            "not a UUID",
        ),
        (
            vec![
                "emit",
                "--id",
                "00000000-0000-1000-8000-000000000000",
                "--email",
                "a@b.co",
            ],
            "not a UUID v4",
        ),
        (
            vec![
                "emit",
                "--email",
                "nope",
                "--guests",
                "99",
                "--check-in",
                "2026-02-30",
            ],
            "email",
        ),
        (
            vec!["events", "--aggregate", "x'; DROP TABLE events; --"],
            "not a UUID",
        ),
        (vec!["state", "--at", "99"], "past the head"),
        (vec!["snapshot", "restore", "abc"], "no snapshot"),
        (
            vec![
                "cancel",
                "--booking",
                "3f1c7a2e-0000-4000-8000-000000000000",
            ],
            "does not exist",
        ),
        (vec!["import", "/nonexistent/file.ndjson"], "cannot open"),
        (vec!["history"], "needs --booking ID or --user"),
        (vec!["history", "--user", "nobody"], "not a UUID"),
        (vec!["whatif", "--exclude", "0"], "positions start at 1"),
        (vec!["whatif", "--exclude", "0,5"], "positions start at 1"),
    ] {
        let out = run(d, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
    }
    // Huge and quoted field values are refused or stored verbatim, never mangled.
    let huge = "x".repeat(10_000);
    let out = run(d, &["emit", "--email", "a@b.co", "--name", &huge]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("name: is 10000 characters long"),
        "{}",
        stderr(&out)
    );
    let (code, ok) = json(
        d,
        &[
            "emit",
            "--email",
            "o'neil@b.co",
            "--name",
            "Robert'); DROP TABLE users;--",
            "--json",
        ],
    );
    assert_eq!((code, ok["emitted"].as_u64()), (0, Some(1)));
    let (_, events) = json(d, &["events", "--json"]);
    assert_eq!(
        events["payload"]["user"]["name"].as_str(),
        Some("Robert'); DROP TABLE users;--")
    );
}

#[test]
fn an_unusable_data_dir_is_reported_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let out = run(&file, &["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("data dir"), "{}", stderr(&out));
    // A ledger file that is not a database.
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(bad.path().join("ledger.sqlite3"), vec![7u8; 4096]).unwrap();
    let out = run(bad.path(), &["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a SQLite database"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn malformed_events_are_listed_and_reported_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    json(d, &["emit", "--count", "3", "--seed", "5", "--json"]);
    let ledger = rusqlite::Connection::open(d.join("ledger.sqlite3")).unwrap();
    ledger
        .execute(
            "INSERT INTO events(position, event_id, aggregate_id, aggregate_type, version, event_type,
             schema_version, recorded_at, payload) VALUES (4, 'e', 'a', 'booking', 1, 'BookingCancelled', 1,
             '2026-01-01T00:00:00Z', '{oops')",
            [],
        )
        .unwrap();
    drop(ledger);
    let out = run(d, &["events", "--json"]);
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[3]["position"].as_u64(), Some(4));
    assert!(
        lines[3]["malformed"]
            .as_str()
            .unwrap()
            .contains("payload is not valid JSON"),
        "{}",
        lines[3]
    );
    let (code, projected) = json(d, &["project", "--json"]);
    assert_eq!(
        (code, projected["skipped"].clone()),
        (0, serde_json::json!([4]))
    );
    let (_, status) = json(d, &["status", "--json"]);
    assert_eq!(status["projectors"][1]["skipped"], serde_json::json!([4]));
    let (code, verify) = json(d, &["verify", "--json"]);
    assert_eq!(
        (code, verify["malformed"][0]["position"].as_u64()),
        (0, Some(4))
    );
}

#[test]
fn a_locked_database_is_reported_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    json(
        d,
        &[
            "emit",
            "--count",
            "3",
            "--seed",
            "6",
            "--no-project",
            "--json",
        ],
    );
    let holder = rusqlite::Connection::open(d.join("ledger.sqlite3")).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let out = run(d, &["emit", "--count", "1", "--seed", "99", "--no-project"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("locked by another process"),
        "{}",
        stderr(&out)
    );
    holder.execute_batch("ROLLBACK").unwrap();
    let (_, status) = json(d, &["status", "--json"]);
    assert_eq!(status["head"].as_u64(), Some(3));
}

#[test]
fn a_replay_killed_while_loading_leaves_the_old_tables_and_a_new_one_succeeds() {
    use ledgerscope::engine::JobControl;
    use std::io::BufRead;

    use ledgerscope::domain::aggregate::decide_submit;
    use ledgerscope::domain::generate::{DemoRng, booking_form};
    use ledgerscope::domain::{EventMetadata, StoredEvent};
    use ledgerscope::engine::bulk::BulkSpec;
    use ledgerscope::engine::{Engine, EngineConfig};
    use ledgerscope::store::{StoreConfig, open_stores};

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let stores = open_stores(&StoreConfig::embedded(&d)).await.unwrap();
        // A small projected ledger, then a large unprojected tail appended in bulk.
        let engine = Engine::new(stores.clone(), EngineConfig::new("test"));
        engine
            .emit_bulk(&BulkSpec::bookings(20, Some(1)), &JobControl::default())
            .await
            .unwrap();
        for p in ledgerscope::domain::ProjectorId::ALL {
            engine.catch_up(p).await.unwrap();
        }
        let mut rng = DemoRng::new(2);
        for _ in 0..30 {
            let batch: Vec<StoredEvent> = (0..5_000)
                .map(|_| {
                    let id = rng.uuid_v4();
                    let cmd = booking_form(&mut rng, 50_000).validate(id).unwrap();
                    StoredEvent::wrap(
                        &decide_submit(&cmd),
                        id,
                        1,
                        chrono::Utc::now(),
                        EventMetadata::default(),
                    )
                })
                .collect();
            stores.ledger.append_batch(batch).await.unwrap();
        }
    });
    let before = std::fs::read(d.join("views.sqlite3")).ok();
    let (_, verify_before) = json(&d, &["verify", "--json"]);
    assert_eq!(
        verify_before["in_sync"].as_bool(),
        Some(true),
        "compared at the checkpoint (20)"
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ledgerscope"))
        .arg("--data-dir")
        .arg(&d)
        .arg("replay")
        .env_remove("LEDGERSCOPE_MONGO_URI")
        .env_remove("LEDGERSCOPE_POSTGRES_URL")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr_pipe = child.stderr.take().unwrap();
    let mut saw_loading = false;
    for line in std::io::BufReader::new(stderr_pipe).lines() {
        let line = line.unwrap();
        if line.contains("Loading") {
            saw_loading = true;
            child.kill().unwrap(); // SIGKILL
            break;
        }
    }
    let status = child.wait().unwrap();
    assert!(
        saw_loading && !status.success(),
        "the replay was killed while loading ({status:?})"
    );
    drop(before);
    let (code, verify) = json(&d, &["verify", "--json"]);
    assert_eq!(
        (code, verify["in_sync"].as_bool()),
        (0, Some(true)),
        "old tables intact: {verify}"
    );
    assert_eq!(verify["lag"]["BookingProjection"].as_u64(), Some(150_000));
    let (code, replay) = json(&d, &["replay", "--json"]);
    assert_eq!((code, replay["events"].as_u64()), (0, Some(150_020)));
    let (_, verify) = json(&d, &["verify", "--json"]);
    assert_eq!(verify["lag"]["BookingProjection"].as_u64(), Some(0));
}

#[test]
fn without_a_display_the_window_says_the_subcommands_run_headless() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ledgerscope"))
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no display"), "{err}");
    assert!(err.contains("subcommands run without a window"), "{err}");
    assert!(!err.contains(".cargo/registry"), "no source paths: {err}");
    assert_eq!(err.lines().count(), 1, "one sentence: {err}");
}

#[test]
fn a_malformed_link_is_one_sentence_and_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let d = home.path().join("d");
    for (args, says) in [
        (
            vec!["open", "ledgerscope://open?ledger=nope&position=3"],
            "the link's ledger 'nope' is not a ledger id",
        ),
        (vec!["ledgerscope://somewhere"], "is not a Ledgerscope link"),
        (
            vec!["ledgerscope://open?ledger=0f8fad5b-d9cb-469f-a165-70867728950e&position=-1"],
            "position '-1' is not a position",
        ),
    ] {
        let mut all = vec![std::ffi::OsStr::new("--data-dir"), d.as_os_str()];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        let out = run_at_home(home.path(), &all);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one sentence: {err}");
        assert!(!d.exists(), "a bad link opens nothing");
    }
    // A good one gets as far as the window (none here: no display).
    let good = "ledgerscope://open?ledger=0f8fad5b-d9cb-469f-a165-70867728950e&position=3";
    let out = run_at_home(home.path(), &[std::ffi::OsStr::new(good)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no display"), "{}", stderr(&out));
}

/// A password given any way (quoted in a `key=value` string, in a MongoDB
/// password file, in PGPASSWORD) never shows in an error, on stdout or in
/// the log; the refusing server is still named.
#[test]
fn a_refused_connection_names_the_server_and_never_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let secret_file = d.join("mongo-password");
    std::fs::write(&secret_file, "file-s3cret\n").unwrap();
    let runs: [(&[&str], Option<&str>); 3] = [
        (
            &[
                "--postgres-url",
                "host=127.0.0.1 port=9 user=alice password='wrong pw-s3cret'",
            ],
            None,
        ),
        (
            &["--postgres-url", "postgres://alice@127.0.0.1:9/x"],
            Some("env-s3cret"),
        ),
        (
            &[
                "--mongo-uri",
                "mongodb://bob@127.0.0.1:9/",
                "--mongo-password-file",
                secret_file.to_str().unwrap(),
            ],
            None,
        ),
    ];
    for (flags, pgpassword) in runs {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ledgerscope"));
        command
            .arg("--data-dir")
            .arg(d)
            .args(flags)
            .args(["--connect-timeout-secs", "1", "--log-level", "debug"])
            .args(["emit", "--count", "1", "--json"])
            .env_remove("LEDGERSCOPE_MONGO_URI")
            .env_remove("LEDGERSCOPE_POSTGRES_URL")
            .env_remove("LEDGERSCOPE_DATA_DIR");
        if let Some(pw) = pgpassword {
            command.env("PGPASSWORD", pw);
        }
        let out = command.output().unwrap();
        let shown = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(shown.contains("127.0.0.1"), "the server is named: {shown}");
        assert!(!shown.contains("s3cret"), "no password shown: {shown}");
    }
    let log = std::fs::read_to_string(d.join("logs").join("ledgerscope.log")).unwrap();
    assert!(log.contains("127.0.0.1"), "{log}");
    assert!(
        !log.contains("s3cret"),
        "a password never reaches the log: {log}"
    );
}
