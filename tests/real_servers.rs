//! The note's failure table, concurrency, foreign writers and bad addresses,
//! with real processes (the built `ledgerscope` binary) against the real
//! servers of `scripts/services.sh` (FerretDB for MongoDB, PostgreSQL).
//!
//! Tests that stop a server restart it even when they fail (a drop guard).
//! All tests in this file take one file-level lock, so they run one at a
//! time even without `--test-threads=1`. Server addresses come from the URIs
//! in the environment, never from the script's default ports.
//!
//! Sizes are the smallest that still catch the fault each test is for
//! (FerretDB scans a collection for nearly every query, so its cost grows
//! with the square of the ledger); `scripts/soak.sh` runs the same drills at
//! full size through `LEDGERSCOPE_CONCURRENCY_COMMANDS` (commands per writer)
//! and `LEDGERSCOPE_STREAM_COMMANDS` (the outage stream). Without the
//! servers' variables every test is skipped with a message, unless `CI=true`,
//! where that is a failure.
//!
//! Run: `eval "$(scripts/services.sh)"; cargo test --test real_servers`.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use uuid::Uuid;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn server(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "{var} is not set and CI=true: a missing server is a failure (run scripts/services.sh)"
                );
            }
            eprintln!("SKIPPED: {var} is not set; run `eval \"$(scripts/services.sh)\"` first");
            None
        }
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn services(command: &str) {
    let status = Command::new(repo().join("scripts/services.sh"))
        .arg(command)
        .stdout(Stdio::null())
        .status()
        .expect("run scripts/services.sh");
    assert!(status.success(), "scripts/services.sh {command} failed");
}

/// Stops a server now and starts it again when dropped, also on panic.
struct Outage(&'static str);

impl Outage {
    fn start(which: &'static str) -> Self {
        services(&format!("stop-{which}"));
        Outage(which)
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        services(&format!("start-{}", self.0));
    }
}

/// One app instance's addresses.
#[derive(Clone)]
struct App {
    data_dir: PathBuf,
    mongo: Option<(String, String)>,
    postgres: Option<String>,
}

impl App {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ledgerscope"));
        for var in [
            "LEDGERSCOPE_MONGO_URI",
            "LEDGERSCOPE_POSTGRES_URL",
            "LEDGERSCOPE_MONGO_DB",
            "LEDGERSCOPE_DATA_DIR",
        ] {
            cmd.env_remove(var);
        }
        cmd.arg("--data-dir").arg(&self.data_dir);
        if let Some((uri, db)) = &self.mongo {
            cmd.args(["--mongo-uri", uri, "--mongo-db", db]);
        }
        if let Some(url) = &self.postgres {
            cmd.args(["--postgres-url", url]);
        }
        cmd.args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run ledgerscope")
    }

    fn json(&self, args: &[&str]) -> (i32, Value) {
        let out = self.run(args);
        let code = out.status.code().unwrap_or(-1);
        let text = String::from_utf8_lossy(&out.stdout);
        let value = serde_json::from_str(text.trim()).unwrap_or_else(|_| {
            panic!(
                "{args:?} printed no JSON (exit {code}): {text}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (code, value)
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ledgerscope")
    }
}

/// Kills a child when dropped (long-running `run` instances).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", &Uuid::new_v4().simple().to_string()[..10])
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn drop_mongo_db(uri: &str, db: &str) {
    runtime().block_on(async {
        let client = mongodb::Client::with_uri_str(uri).await.unwrap();
        let _ = client.database(db).drop().await;
    });
}

/// A fresh schema and a URL whose search_path points at it.
fn fresh_schema(url: &str) -> (String, String) {
    let schema = unique("ls_real");
    runtime().block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
            .await
            .unwrap();
    });
    let sep = if url.contains('?') { '&' } else { '?' };
    (
        format!("{url}{sep}options=-csearch_path%3D{schema}"),
        schema,
    )
}

fn drop_schema(url: &str, schema: &str) {
    runtime().block_on(async {
        if let Ok((client, conn)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await {
            tokio::spawn(conn);
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .await;
        }
    });
}

fn wait_until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn lag_of(status: &Value) -> u64 {
    status["projectors"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| p["lag"].as_u64().unwrap_or(u64::MAX))
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(u64::MAX)
}

fn positions_of(app: &App) -> Vec<u64> {
    let out = app.run(&["events", "--json", "--limit", "1000000"]);
    assert!(
        out.status.success(),
        "events failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["position"].as_u64())
        .collect()
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

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
    let (scoped, schema) = fresh_schema(&pg);
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
    drop_schema(&pg, &schema);
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
    let (scoped, schema) = fresh_schema(&pg);
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
    drop_schema(&pg, &schema);
}

// ---------------------------------------------------------------- concurrency

/// 8 writer processes on one MongoDB ledger while 2 app instances project
/// into PostgreSQL: unique gap-free positions, each projector's lease held
/// by one of the instances whenever we look, tables equal the fold; retrying
/// commands with the same UUIDs, each seed from two processes at once, adds
/// nothing.
#[test]
fn eight_writers_two_projecting_instances() {
    let _serial = serial();
    // `LEDGERSCOPE_CONCURRENCY_STORES=embedded`: the same processes on the
    // embedded store's files (the volume drill of scripts/soak.sh: FerretDB
    // scans a collection for nearly every query, so volume runs there).
    let embedded = std::env::var("LEDGERSCOPE_CONCURRENCY_STORES").is_ok_and(|v| v == "embedded");
    let servers = if embedded {
        None
    } else {
        let (Some(uri), Some(pg)) = (
            server("LEDGERSCOPE_MONGO_URI"),
            server("LEDGERSCOPE_POSTGRES_URL"),
        ) else {
            return;
        };
        let (scoped, schema) = fresh_schema(&pg);
        Some((uri, pg, scoped, schema))
    };
    let per_writer = common::size_from_env("LEDGERSCOPE_CONCURRENCY_COMMANDS", 25);
    let dir = tempdir();
    let app = App {
        data_dir: dir.path().to_path_buf(),
        mongo: servers
            .as_ref()
            .map(|(uri, ..)| (uri.clone(), unique("ls_concurrency"))),
        postgres: servers.as_ref().map(|(_, _, scoped, _)| scoped.clone()),
    };
    let (code, _) = app.json(&["project", "--json"]);
    assert_eq!(code, 0);
    let instances = [
        Running(app.spawn(&["run", "--snapshot-every", "0"])),
        Running(app.spawn(&["run", "--snapshot-every", "0"])),
    ];
    let instance_ids: Vec<String> = instances
        .iter()
        .map(|r| format!("-{}-", r.0.id()))
        .collect();
    let holders = || -> Vec<(String, Option<String>)> {
        let (_, status) = app.json(&["status", "--json"]);
        status["projectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or_default().to_string(),
                    p["lease_holder"].as_str().map(str::to_string),
                )
            })
            .collect()
    };
    wait_until(
        "both projectors to be held by an instance",
        Duration::from_secs(60),
        || holders().iter().all(|(_, h)| h.is_some()),
    );
    let count = per_writer.to_string();
    let emit = |seed: u64| {
        let seed = seed.to_string();
        app.command(&[
            "emit",
            "--count",
            &count,
            "--seed",
            &seed,
            "--no-project",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
    };
    let started = Instant::now();
    let mut writers: Vec<Child> = (0..8).map(|i| emit(100 + i)).collect();
    let mut seen = std::collections::BTreeSet::new();
    // Look at the leases while the writers run.
    while writers.iter_mut().any(|w| w.try_wait().unwrap().is_none()) {
        seen.extend(holders());
        std::thread::sleep(Duration::from_millis(300));
    }
    let mut emitted = 0;
    for w in writers {
        let out = w.wait_with_output().unwrap();
        assert!(out.status.success(), "writer failed");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        emitted += v["emitted"].as_u64().unwrap();
    }
    let writing_secs = started.elapsed().as_secs_f64();
    assert_eq!(emitted, 8 * per_writer);
    let positions = positions_of(&app);
    assert_eq!(
        positions,
        (1..=8 * per_writer).collect::<Vec<_>>(),
        "unique and gap-free"
    );
    // Retries: every odd writer's seed, each sent by two processes at once.
    let retries: Vec<Child> = [101, 101, 103, 103, 105, 105, 107, 107]
        .into_iter()
        .map(emit)
        .collect();
    for r in retries {
        let out = r.wait_with_output().unwrap();
        assert!(out.status.success());
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (v["emitted"].as_u64(), v["duplicates"].as_u64()),
            (Some(0), Some(per_writer)),
            "{v}"
        );
    }
    assert_eq!(
        positions_of(&app).len() as u64,
        8 * per_writer,
        "retries added nothing"
    );
    wait_until(
        "the projectors to catch up",
        Duration::from_secs(120 + per_writer),
        || {
            let (_, status) = app.json(&["status", "--json"]);
            lag_of(&status) == 0
        },
    );
    let (code, verify) = app.json(&["verify", "--json"]);
    assert_eq!(
        (code, &verify["in_sync"]),
        (0, &Value::Bool(true)),
        "{verify}"
    );
    // Leases: every projector was seen held, and only ever by our instances.
    for name in ["UserProjection", "BookingProjection"] {
        let held: Vec<&String> = seen
            .iter()
            .filter(|(p, _)| p == name)
            .filter_map(|(_, h)| h.as_ref())
            .collect();
        assert!(!held.is_empty(), "{name} was never seen held: {seen:?}");
        for holder in held {
            assert!(
                instance_ids.iter().any(|id| holder.contains(id.as_str())),
                "{name} held by {holder}, not one of the instances {instance_ids:?}"
            );
        }
    }
    common::figure(
        if embedded {
            "8 writers, 2 projecting instances (embedded SQLite)"
        } else {
            "8 writers, 2 projecting instances (FerretDB + PostgreSQL)"
        },
        &format!("8 x {per_writer} commands"),
        &format!(
            "{:.0} commands/s while 8 wrote",
            (8 * per_writer) as f64 / writing_secs
        ),
    );
    drop(instances);
    if let Some((uri, pg, _, schema)) = servers {
        drop_mongo_db(&uri, &app.mongo.as_ref().unwrap().1);
        drop_schema(&pg, &schema);
    }
}

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
    let (scoped, schema) = fresh_schema(&pg);
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
    drop_schema(&pg, &schema);
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
    let (scoped, schema) = fresh_schema(&pg);
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
    drop_schema(&pg, &schema);
}

/// TLS as production configures it, against the servers' TLS listeners
/// (certificates from the CA `scripts/services.sh` makes): libpq's
/// `sslmode`/`sslrootcert`/`sslcert`/`sslkey`, the system trust store, the
/// MongoDB driver's `tls`/`tlsCAFile`/`tlsCertificateKeyFile`; a wrong CA or
/// host name fails with one sentence naming the server.
#[test]
fn tls_as_production_configures_it() {
    let _serial = serial();
    let (Some(pg), Some(mongo), Some(pg_tls), Some(mongo_tls), Some(tls_dir)) = (
        server("LEDGERSCOPE_POSTGRES_URL"),
        server("LEDGERSCOPE_MONGO_URI"),
        server("LEDGERSCOPE_POSTGRES_TLS_URL"),
        server("LEDGERSCOPE_MONGO_TLS_URI"),
        server("LEDGERSCOPE_TLS_DIR"),
    ) else {
        return;
    };
    let tls = |file: &str| format!("{tls_dir}/{file}");
    let (_, schema) = fresh_schema(&pg);
    let scope = |url: &str| format!("{url}&options=-csearch_path%3D{schema}");
    let pg_port = common::port_of(&pg);
    let dir = tempdir();
    let pg_app = |url: String| App {
        data_dir: dir.path().to_path_buf(),
        mongo: None,
        postgres: Some(url),
    };
    let ok = |app: &App, args: &[&str], system_ca: bool| {
        let mut cmd = app.command(args);
        if system_ca {
            cmd.env("SSL_CERT_FILE", tls("ca.crt"));
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
    };
    let user = |name: &str| format!("postgres://{name}@localhost:{pg_port}/ledgerscope");
    // verify-full with the CA file, then with the CA in the system store.
    ok(
        &pg_app(scope(&pg_tls)),
        &["emit", "--count", "3", "--seed", "2", "--json"],
        false,
    );
    let system_only = user("ledgerscope:ledgerscope") + "?sslmode=verify-full";
    ok(&pg_app(scope(&system_only)), &["verify", "--json"], true);
    // A client certificate instead of a password.
    let cert = format!(
        "{}?sslmode=verify-full&sslrootcert={}&sslcert={}&sslkey={}",
        user("ledgerscope_cert"),
        tls("ca.crt"),
        tls("client.crt"),
        tls("client.key")
    );
    ok(&pg_app(scope(&cert)), &["project", "--json"], false);
    // verify-ca does not check the host name; verify-full does.
    let by_ip = |mode: &str, ca: &str| {
        format!(
            "postgres://ledgerscope:ledgerscope@127.0.0.1:{pg_port}/ledgerscope?sslmode={mode}&sslrootcert={}",
            tls(ca)
        )
    };
    ok(
        &pg_app(scope(&by_ip("verify-ca", "ca.crt"))),
        &["project", "--json"],
        false,
    );
    // (the test server's password is its database's name, so no leak check here)
    let secret = "no-password-in-these-urls";
    let within = Duration::from_secs(12);
    let project = ["--connect-timeout-secs", "3", "project", "--json"];
    assert_clear_failure(
        &pg_app(scope(&by_ip("verify-full", "ca.crt"))),
        &project,
        secret,
        within,
        &[&format!("127.0.0.1:{pg_port}"), "host name"],
    );
    let wrong_ca = user("ledgerscope:ledgerscope")
        + &format!("?sslmode=verify-full&sslrootcert={}", tls("other-ca.crt"));
    assert_clear_failure(
        &pg_app(scope(&wrong_ca)),
        &project,
        secret,
        within,
        &[&format!("localhost:{pg_port}"), "CA"],
    );
    // MongoDB: the driver's options, a wrong CA, a wrong host, the system store.
    let mongo_app = |uri: &str| App {
        data_dir: dir.path().to_path_buf(),
        mongo: Some((uri.to_string(), unique("ls_tls"))),
        postgres: None,
    };
    let good = mongo_app(&mongo_tls);
    ok(
        &good,
        &["emit", "--count", "2", "--seed", "3", "--json"],
        false,
    );
    let mongo_port = common::port_of(&mongo_tls);
    let emit = [
        "--connect-timeout-secs",
        "3",
        "emit",
        "--count",
        "1",
        "--json",
    ];
    let other_ca = mongo_tls.replace(&tls("ca.crt"), &tls("other-ca.crt"));
    assert_clear_failure(
        &mongo_app(&other_ca),
        &emit,
        secret,
        within,
        &[&format!("localhost:{mongo_port}"), "CA"],
    );
    let by_ip = mongo_tls.replace("localhost:", "127.0.0.1:");
    assert_clear_failure(
        &mongo_app(&by_ip),
        &emit,
        secret,
        within,
        &[&format!("127.0.0.1:{mongo_port}"), "host name"],
    );
    let system_store = mongo_tls.replace(&format!("tlsCAFile={}&", tls("ca.crt")), "");
    assert!(!system_store.contains("tlsCAFile"), "{system_store}");
    ok(&mongo_app(&system_store), &["status", "--json"], true);
    // One FerretDB behind both listeners: drop through the plain one.
    drop_mongo_db(&mongo, &good.mongo.as_ref().unwrap().1);
    drop_schema(&pg, &schema);
}

// ---------------------------------------------------------------- bad addresses

fn assert_clear_failure(app: &App, args: &[&str], secret: &str, within: Duration, expect: &[&str]) {
    let started = Instant::now();
    let out = app.run(args);
    let elapsed = started.elapsed();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), stderr_of(&out));
    assert_eq!(out.status.code(), Some(2), "exit 2 for {args:?}: {stderr}");
    assert!(elapsed < within, "{args:?} took {elapsed:?}");
    assert!(
        !stderr.contains(secret) && !stdout.contains(secret),
        "password leaked: {stderr}{stdout}"
    );
    let message = stderr.trim();
    assert!(
        !message.is_empty() && message.lines().count() <= 2,
        "one clear sentence: {message}"
    );
    for word in expect {
        assert!(
            message.to_lowercase().contains(&word.to_lowercase()),
            "{message} should mention {word}"
        );
    }
}

#[test]
fn bad_uris_and_credentials_fail_clearly() {
    let _serial = serial();
    let (Some(mongo), Some(pg)) = (
        server("LEDGERSCOPE_MONGO_URI"),
        server("LEDGERSCOPE_POSTGRES_URL"),
    ) else {
        return;
    };
    let dir = tempdir();
    let secret = "Sup3rS3cretPw";
    let within = Duration::from_secs(12);
    let with = |mongo: Option<String>, postgres: Option<String>| App {
        data_dir: dir.path().to_path_buf(),
        mongo: mongo.map(|m| (m, unique("ls_bad"))),
        postgres,
    };
    let emit = [
        "--connect-timeout-secs",
        "3",
        "emit",
        "--count",
        "1",
        "--no-project",
        "--json",
    ];
    let status = ["--connect-timeout-secs", "3", "project", "--json"];
    // MongoDB: unparsable, wrong host, not a MongoDB port.
    let app = with(Some(format!("mongodb://bob:{secret}@")), None);
    assert_clear_failure(&app, &emit, secret, within, &["mongodb"]);
    let app = with(
        Some(format!(
            "mongodb://bob:{secret}@no-such-host.invalid:27017/"
        )),
        None,
    );
    assert_clear_failure(
        &app,
        &emit,
        secret,
        within,
        &["mongodb", "no-such-host.invalid"],
    );
    let pg_port = common::port_of(&pg);
    let app = with(
        Some(format!("mongodb://bob:{secret}@127.0.0.1:{pg_port}/")),
        None,
    );
    assert_clear_failure(
        &app,
        &emit,
        secret,
        within,
        &["mongodb", &format!("127.0.0.1:{pg_port}")],
    );
    // PostgreSQL: unparsable, wrong password, wrong host, not a PostgreSQL port.
    let app = with(
        None,
        Some(format!(
            "postgres://bob:{secret}@127.0.0.1:{pg_port}/db?sslmode=sideways"
        )),
    );
    assert_clear_failure(&app, &status, secret, within, &["postgres"]);
    let wrong_password = pg.replacen(":ledgerscope@", &format!(":{secret}@"), 1);
    assert_ne!(wrong_password, pg, "the test expects the services.sh URL");
    let app = with(None, Some(wrong_password));
    assert_clear_failure(&app, &status, secret, within, &["password"]);
    let app = with(
        None,
        Some(format!(
            "postgres://bob:{secret}@no-such-host.invalid:5432/db"
        )),
    );
    assert_clear_failure(&app, &status, secret, within, &["no-such-host.invalid"]);
    let mongo_port = common::port_of(&mongo);
    let app = with(
        None,
        Some(format!("postgres://bob:{secret}@127.0.0.1:{mongo_port}/db")),
    );
    assert_clear_failure(
        &app,
        &status,
        secret,
        within,
        &[&format!("127.0.0.1:{mongo_port}")],
    );
}

/// MongoDB collections in `db` (none for a database never written).
fn mongo_collections(uri: &str, db: &str) -> Vec<String> {
    runtime().block_on(async {
        let client = mongodb::Client::with_uri_str(uri).await.unwrap();
        let mut names = client.database(db).list_collection_names().await.unwrap();
        names.sort();
        names
    })
}

/// Tables in a PostgreSQL schema.
fn pg_tables(url: &str, schema: &str) -> Vec<String> {
    runtime().block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
                &[&schema],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    })
}

/// A command refused for one store (a wrong PostgreSQL password, a database
/// that does not exist) or for its own input (a 121-character name) creates
/// nothing in any store: no MongoDB collection or identity, no table.
#[test]
fn a_refused_command_creates_no_store() {
    let _serial = serial();
    let (Some(mongo), Some(pg)) = (
        server("LEDGERSCOPE_MONGO_URI"),
        server("LEDGERSCOPE_POSTGRES_URL"),
    ) else {
        return;
    };
    let dir = tempdir();
    let wrong_password = pg.replacen(":ledgerscope@", ":not-the-password@", 1);
    let (base, _) = pg.rsplit_once('/').unwrap();
    let missing_database = format!("{base}/no_such_database_{}", unique("x"));
    for (what, postgres) in [
        ("a wrong password", wrong_password),
        ("a database that does not exist", missing_database),
    ] {
        let db = unique("ls_refused");
        let app = App {
            data_dir: dir.path().to_path_buf(),
            mongo: Some((mongo.clone(), db.clone())),
            postgres: Some(postgres),
        };
        let (code, out) = app.json(&["emit", "--count", "1", "--no-project", "--json"]);
        assert_eq!(code, 2, "{what}: {out}");
        assert_eq!(
            mongo_collections(&mongo, &db),
            Vec::<String>::new(),
            "{what}: nothing is created in MongoDB"
        );
    }
    let db = unique("ls_refused");
    let (url, schema) = fresh_schema(&pg);
    let app = App {
        data_dir: dir.path().to_path_buf(),
        mongo: Some((mongo.clone(), db.clone())),
        postgres: Some(url),
    };
    let name = "n".repeat(121);
    let (code, out) = app.json(&["emit", "--name", &name, "--email", "a@b.co", "--json"]);
    assert_eq!(code, 2, "{out}");
    assert!(out["error"].as_str().unwrap().contains("name"), "{out}");
    assert_eq!(mongo_collections(&mongo, &db), Vec::<String>::new());
    assert_eq!(pg_tables(&pg, &schema), Vec::<String>::new(), "no table");
    drop_schema(&pg, &schema);
}

/// A PostgreSQL database that answers but holds no read tables is
/// reported as missing by `status` (exit 0), as a data dir without
/// `views.sqlite3` is, and `verify` says so in one sentence (exit 2).
#[test]
fn a_database_without_read_tables_is_reported_missing() {
    let _serial = serial();
    let Some(pg) = server("LEDGERSCOPE_POSTGRES_URL") else {
        return;
    };
    let dir = tempdir();
    let embedded = App {
        data_dir: dir.path().to_path_buf(),
        mongo: None,
        postgres: None,
    };
    let (code, _) = embedded.json(&["emit", "--count", "2", "--no-project", "--json"]);
    assert_eq!(code, 0);
    let (url, schema) = fresh_schema(&pg);
    let app = App {
        postgres: Some(url),
        ..embedded
    };
    let (code, status) = app.json(&["status", "--json"]);
    assert_eq!(code, 0, "{status}");
    assert_eq!(
        (
            &status["read_store"]["missing"],
            &status["read_store"]["reachable"]
        ),
        (&Value::Bool(true), &Value::Bool(false)),
        "{status}"
    );
    let (code, verify) = app.json(&["verify", "--json"]);
    assert_eq!(code, 2, "{verify}");
    assert!(
        verify["error"].as_str().unwrap().contains("no read tables"),
        "{verify}"
    );
    assert_eq!(
        pg_tables(&pg, &schema),
        Vec::<String>::new(),
        "nothing made"
    );
    drop_schema(&pg, &schema);
}

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
        if let Some((_, s)) = schema {
            drop_schema(&pg, &s);
        }
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
    let (scoped, schema) = fresh_schema(&pg);
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
    drop_schema(&pg, &schema);
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
    drop_schema(&pg, &schema);
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
    let (url, schema) = fresh_schema(&pg);
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
    drop_schema(&pg, &schema);
}

// ---------------------------------------------------------------- published models

/// The `(booking_id, status, check_in, check_out)` of every row of the
/// published `bookings` model in PostgreSQL, in key order.
fn published_bookings(url: &str) -> Vec<(String, String, String, String)> {
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
fn model_bookings(app: &App) -> Vec<(String, String, String, String)> {
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
    let (scoped, schema) = fresh_schema(&pg);
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
    drop_schema(&pg, &schema);
}
