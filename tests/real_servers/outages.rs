use super::*;

// ---------------------------------------------------------------- the failure table

/// Ledger server stopped: `emit` fails with one sentence naming the server,
/// exit 2, within the timeout; after the restart no trace of it.
#[test]
fn ledger_down_emit_fails_clearly_and_leaves_no_trace() {
    let _serial = serial();
    let Some(uri) = server("LEDGERSCOPE_MONGO_URI") else {
        return;
    };
    let dir = tempdir();
    let app = App {
        data_dir: dir.path().to_path_buf(),
        mongo: Some((uri.clone(), unique("ls_down"))),
        postgres: None,
    };
    let (code, out) = app.json(&["emit", "--count", "5", "--seed", "1", "--json"]);
    assert_eq!((code, out["emitted"].as_u64()), (0, Some(5)));
    {
        let _down = Outage::start("mongo");
        let started = Instant::now();
        let out = app.run(&[
            "--connect-timeout-secs",
            "3",
            "emit",
            "--count",
            "1",
            "--seed",
            "99",
            "--json",
        ]);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "stderr: {err}");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "took {:?}",
            started.elapsed()
        );
        let server = common::host_port(&uri);
        assert!(err.contains(&server), "names the server {server}: {err}");
        assert!(err.contains("mongodb"), "{err}");
    }
    let (_, status) = app.json(&["status", "--json"]);
    assert_eq!(
        status["head"].as_u64(),
        Some(5),
        "the failed command left nothing"
    );
    assert_eq!(positions_of(&app), vec![1, 2, 3, 4, 5]);
    drop_mongo_db(&uri, &app.mongo.as_ref().unwrap().1);
}

/// Read store stopped in the middle of a stream of commands while a `run`
/// instance projects: every command succeeds, commands go on being stored
/// during the outage, `status` shows the unreachable store and the lag, and
/// after the restart the projectors catch up by themselves; `verify` is in
/// sync and no position is lost or doubled.
#[test]
fn read_store_down_during_a_stream_then_catch_up() {
    let _serial = serial();
    let (Some(uri), Some(pg)) = (
        server("LEDGERSCOPE_MONGO_URI"),
        server("LEDGERSCOPE_POSTGRES_URL"),
    ) else {
        return;
    };
    let commands = common::size_from_env("LEDGERSCOPE_STREAM_COMMANDS", 150);
    // `LEDGERSCOPE_STREAM_LEDGER=embedded`: the ledger in the embedded
    // store, the read store PostgreSQL as ever (the volume drill of
    // scripts/soak.sh: FerretDB scans a collection for nearly every query).
    let embedded_ledger = std::env::var("LEDGERSCOPE_STREAM_LEDGER").is_ok_and(|v| v == "embedded");
    // Paced over about six seconds, so the outage falls inside the stream
    // (a slower server only makes the stream longer).
    let rate = format!("{:.1}", (commands as f64 / 6.0).max(10.0));
    let (scoped, _schema) = fresh_schema(&pg);
    let dir = tempdir();
    let app = App {
        data_dir: dir.path().to_path_buf(),
        mongo: (!embedded_ledger).then(|| (uri.clone(), unique("ls_stream"))),
        postgres: Some(scoped),
    };
    let (code, _) = app.json(&["project", "--json"]); // creates the schema
    assert_eq!(code, 0);
    let _runner = Running(app.spawn(&["run", "--snapshot-every", "0"]));
    let count = commands.to_string();
    let started = Instant::now();
    let emitter = app
        .command(&[
            "emit",
            "--count",
            &count,
            "--seed",
            "5",
            "--rate",
            &rate,
            "--no-project",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let head = || {
        app.json(&["status", "--json"]).1["head"]
            .as_u64()
            .unwrap_or(0)
    };
    let quarter = (commands / 4).max(1);
    wait_until(
        "a quarter of the stream to be stored",
        Duration::from_secs(300),
        || head() >= quarter,
    );
    let outage_started;
    {
        let _down = Outage::start("postgres");
        outage_started = Instant::now();
        let at_start = head();
        wait_until(
            "commands to be stored while the read store is down",
            Duration::from_secs(300),
            || head() >= at_start + quarter,
        );
        let (code, status) = app.json(&["status", "--json"]);
        assert_eq!(code, 0, "status works with the read store down: {status}");
        assert_eq!(
            status["read_store"]["reachable"],
            Value::Bool(false),
            "{status}"
        );
        assert!(lag_of(&status) > 0, "lag is visible: {status}");
        // The running instance's failure, and since when, seen from here.
        wait_until(
            "status to show the projectors' error",
            Duration::from_secs(60),
            || {
                let (_, status) = app.json(&["status", "--json"]);
                status["projectors"].as_array().is_some_and(|ps| {
                    ps.iter()
                        .all(|p| p["last_error"].is_string() && p["error_since"].is_string())
                })
            },
        );
    }
    let restarted = Instant::now();
    let out = emitter.wait_with_output().unwrap();
    assert!(out.status.success(), "every command succeeded");
    let emitted: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(emitted["emitted"].as_u64(), Some(commands));
    let stream_secs = started.elapsed().as_secs_f64();
    wait_until(
        "the projectors to catch up",
        Duration::from_secs(120 + commands / 10),
        || {
            let (_, status) = app.json(&["status", "--json"]);
            status["head"].as_u64() == Some(commands) && lag_of(&status) == 0
        },
    );
    let caught_up_secs = restarted.elapsed().as_secs_f64();
    let (code, verify) = app.json(&["verify", "--json"]);
    assert_eq!(
        (code, &verify["in_sync"]),
        (0, &Value::Bool(true)),
        "{verify}"
    );
    assert_eq!(
        positions_of(&app),
        (1..=commands).collect::<Vec<_>>(),
        "nothing lost or doubled"
    );
    common::figure(
        if embedded_ledger {
            "outage stream (embedded ledger + PostgreSQL)"
        } else {
            "outage stream (FerretDB + PostgreSQL)"
        },
        &format!("{commands} commands"),
        &format!(
            "{:.0} commands/s; outage {:.1} s; caught up {caught_up_secs:.1} s after the restart",
            commands as f64 / stream_secs,
            (restarted - outage_started).as_secs_f64()
        ),
    );
    drop(_runner);
    if let Some((_, db)) = &app.mongo {
        drop_mongo_db(&uri, db);
    }
}

/// SIGKILL in the middle of a replay into PostgreSQL, once while it reads
/// the ledger and once while it copies rows into the fresh tables: the old
/// tables are intact (still in sync at their checkpoint), and a new replay
/// succeeds. The ledger is 20 projected commands and 20,000 events
/// (`LEDGERSCOPE_REPLAY_EVENTS`) appended in bulk after them, so the copy
/// runs long enough to be killed in.
#[test]
fn sigkill_mid_replay_leaves_the_old_tables() {
    use std::io::BufRead;
    let _serial = serial();
    let Some(pg) = server("LEDGERSCOPE_POSTGRES_URL") else {
        return;
    };
    let (scoped, _schema) = fresh_schema(&pg);
    let dir = tempdir();
    let app = App {
        data_dir: dir.path().to_path_buf(),
        mongo: None,
        postgres: Some(scoped),
    };
    let (code, _) = app.json(&["emit", "--count", "20", "--seed", "3", "--json"]);
    assert_eq!(code, 0);
    let tail = common::size_from_env("LEDGERSCOPE_REPLAY_EVENTS", 20_000) as usize;
    runtime().block_on(async {
        let ledger = ledgerscope::store::sqlite::SqliteLedger::open(
            &dir.path().join("ledger.sqlite3"),
            false,
        )
        .unwrap();
        // In batches of 5,000, each from its own seed, so a soak-size tail
        // is never held in memory at once.
        for (seed, start) in (0..tail).step_by(5_000).enumerate() {
            let batch = common::wizard_events(1_000 + seed as u64, (tail - start).min(5_000));
            ledgerscope::store::EventLedger::append_batch(&ledger, batch)
                .await
                .unwrap();
        }
    });
    let in_sync_at_the_old_checkpoint = |when: &str| {
        let (code, verify) = app.json(&["verify", "--json"]);
        assert_eq!(
            (code, &verify["in_sync"]),
            (0, &Value::Bool(true)),
            "{when}: {verify}"
        );
        assert_eq!(
            verify["lag"]["BookingProjection"].as_u64(),
            Some(tail as u64),
            "{when}: the old tables and their checkpoint: {verify}"
        );
    };
    in_sync_at_the_old_checkpoint("before");
    for phase in ["Reading", "Loading"] {
        let mut replay = app.spawn(&["replay"]);
        let stderr = replay.stderr.take().unwrap();
        let mut seen = false;
        for line in std::io::BufReader::new(stderr).lines() {
            if line.unwrap().contains(phase) {
                seen = true;
                replay.kill().unwrap(); // SIGKILL
                break;
            }
        }
        let status = replay.wait().unwrap();
        assert!(
            seen && !status.success(),
            "the replay was killed while {phase} ({status:?})"
        );
        in_sync_at_the_old_checkpoint(&format!("after a kill while {phase}"));
    }
    let (code, replay) = app.json(&["replay", "--json"]);
    assert_eq!(code, 0, "{replay}");
    assert_eq!(
        replay["events"].as_u64(),
        Some(tail as u64 + 20),
        "{replay}"
    );
    common::figure(
        "SIGKILL mid-replay into PostgreSQL",
        &format!("{} events", tail + 20),
        &format!(
            "killed while reading and while copying, old tables intact; a full replay {} ms",
            replay["elapsed_ms"]
        ),
    );
    let (code, verify) = app.json(&["verify", "--json"]);
    assert_eq!(
        (
            code,
            &verify["in_sync"],
            verify["lag"]["BookingProjection"].as_u64()
        ),
        (0, &Value::Bool(true), Some(0)),
        "{verify}"
    );
}
