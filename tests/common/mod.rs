//! Helpers shared by the integration test binaries (each binary uses a part
//! of them, hence the `dead_code` allowance).
#![allow(dead_code)]

use chrono::Utc;

use ledgerscope::domain::aggregate::decide_submit;
use ledgerscope::domain::generate::{DemoRng, booking_form};
use ledgerscope::domain::{EventMetadata, StoredEvent};

/// `count` booking-wizard events made with the real domain (form ->
/// validate -> decide) but without the handler, ready for
/// `EventLedger::append_batch`: a large ledger in a second instead of one
/// fsync'd command at a time. Same seed, same events.
pub fn wizard_events(seed: u64, count: usize) -> Vec<StoredEvent> {
    let mut rng = DemoRng::new(seed);
    (0..count)
        .map(|_| {
            let id = rng.uuid_v4();
            let cmd = booking_form(&mut rng, (count as u64 / 3).max(10))
                .validate(id)
                .expect("generated forms validate");
            StoredEvent::wrap(
                &decide_submit(&cmd),
                id,
                1,
                Utc::now(),
                EventMetadata::default(),
            )
        })
        .collect()
}

/// `host:port` of a server URI (`scheme://user:pass@host:port/db?x`), as the
/// app names the server in its messages. Tests take addresses from the URIs
/// they are given, never from the defaults of `scripts/services.sh`.
pub fn host_port(uri: &str) -> String {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_string()
}

/// The port of a server URI.
pub fn port_of(uri: &str) -> String {
    host_port(uri)
        .rsplit_once(':')
        .map(|(_, p)| p.to_string())
        .unwrap_or_default()
}

/// A number from the environment (a drill's size), else `default`.
pub fn size_from_env(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// One line `scripts/soak.sh` collects: what ran, its size and its figure.
pub fn figure(what: &str, size: &str, figure: &str) {
    eprintln!("FIGURE | {what} | {size} | {figure}");
}

/// Runs the built `ledgerscope` on the embedded stores of `dir` (server
/// variables removed), with `args`.
pub fn run_embedded(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ledgerscope"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("LEDGERSCOPE_MONGO_URI")
        .env_remove("LEDGERSCOPE_POSTGRES_URL")
        .env_remove("LEDGERSCOPE_DATA_DIR")
        .output()
        .expect("run ledgerscope")
}

/// The exit code and the one JSON object a `--json` run printed on stdout.
pub fn json_of(args: &[&str], out: &std::process::Output) -> (i32, serde_json::Value) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "exactly one JSON object on stdout for {args:?}: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value = serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (out.status.code().unwrap_or(-1), value)
}

/// [`run_embedded`] with `--json`: its exit code and JSON object.
pub fn json_embedded(dir: &std::path::Path, args: &[&str]) -> (i32, serde_json::Value) {
    json_of(args, &run_embedded(dir, args))
}

/// Every file under `dir` with its bytes, to show that nothing changed.
pub fn snapshot_of_dir(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read file");
                files.push((path, bytes));
            }
        }
    }
    files.sort();
    files
}

/// Writes an event straight into an embedded ledger at `position`, as
/// another program (or a restore, or a hand edit) would.
pub fn insert_raw(dir: &std::path::Path, position: i64, event: &StoredEvent) {
    let conn =
        rusqlite::Connection::open(dir.join("ledger.sqlite3")).expect("open the ledger file");
    conn.execute(
        "INSERT INTO events(position, event_id, aggregate_id, aggregate_type, version, event_type,
         schema_version, recorded_at, payload, metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, '{}')",
        rusqlite::params![
            position,
            event.event_id.to_string(),
            event.aggregate_id.to_string(),
            event.aggregate_type,
            event.version as i64,
            event.event_type,
            i64::from(event.schema_version),
            event.recorded_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            event.payload.to_string(),
        ],
    )
    .expect("insert the event");
}

/// The positions of the events that carry one user's data, read
/// independently of the engine from exported envelopes: their booking
/// wizards, their address changes and every event about the bookings
/// their wizards made.
pub fn subject_positions(events: &[serde_json::Value], user: &str) -> Vec<u64> {
    let mut bookings = std::collections::HashSet::new();
    let mut expected = Vec::new();
    for e in events {
        let p = &e["payload"];
        let theirs = match e["event_type"].as_str().unwrap() {
            "BookingWizardCompleted" if p["user"]["user_id"] == user => {
                bookings.insert(p["booking_id"].as_str().unwrap().to_owned());
                true
            }
            "UserAddressChanged" => p["user_id"] == user,
            "BookingCancelled" | "BookingRescheduled" => {
                bookings.contains(p["booking_id"].as_str().unwrap())
            }
            _ => false,
        };
        if theirs {
            expected.push(e["position"].as_u64().unwrap());
        }
    }
    expected
}
