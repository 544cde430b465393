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

mod access;
mod common;
mod concurrency;
mod foreign;
mod outages;
mod published;
mod stores;

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

/// A fresh schema and a URL whose search_path points at it; the schema is
/// dropped when the guard is (also when the test fails).
fn fresh_schema(url: &str) -> (String, Schema) {
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
        Schema {
            server: url.to_string(),
            name: schema,
        },
    )
}

/// A test's own PostgreSQL schema (its name, as text), dropped with it.
struct Schema {
    server: String,
    name: String,
}

impl std::ops::Deref for Schema {
    type Target = str;
    fn deref(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Display for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        drop_schema(&self.server, &self.name);
    }
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
