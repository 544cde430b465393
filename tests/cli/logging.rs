//! The log file: every run logged in its data dir, signals, routine commands summarised.

use super::*;

#[test]
fn every_run_is_logged_in_the_data_dir_without_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Each command's detail is at DEBUG; at INFO it is summarised.
    let (code, _) = json(
        d,
        &[
            "--log-level",
            "debug",
            "emit",
            "--email",
            "ana@example.com",
            "--json",
        ],
    );
    assert_eq!(code, 0);
    // A server that refuses: the failure is logged, the password never.
    let out = run(
        d,
        &[
            "--postgres-url",
            "postgres://alice:s3cret-pw@127.0.0.1:9/x",
            "--connect-timeout-secs",
            "1",
            "status",
            "--json",
            "--log-level",
            "debug",
        ],
    );
    assert!(
        stderr(&out).contains("127.0.0.1:9")
            || String::from_utf8_lossy(&out.stdout).contains("127.0.0.1:9"),
        "the refusing server is reported"
    );
    let log = std::fs::read_to_string(d.join("logs").join("ledgerscope.log")).unwrap();
    assert!(log.contains("started"), "{log}");
    assert!(
        log.contains("BookingWizardCompleted"),
        "the command is logged: {log}"
    );
    assert!(log.contains("position=1"), "with its position: {log}");
    assert!(log.contains("exit_code=0"), "{log}");
    assert!(
        log.contains("127.0.0.1:9"),
        "the refusing server is named: {log}"
    );
    assert!(
        !log.contains("s3cret-pw"),
        "a password never reaches the log: {log}"
    );
    let out = run(d, &["status", "--log-level", "loud["]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not a log level"), "{}", stderr(&out));
}

/// SIGTERM stops a bulk emit as Ctrl-C does: after the current command,
/// with its summary on stdout and its `finished` line in the log.
#[test]
fn sigterm_stops_emit_with_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_ledgerscope"))
        .arg("--data-dir")
        .arg(d)
        .args(["emit", "--count", "1000000", "--no-project", "--json"])
        .env_remove("LEDGERSCOPE_MONGO_URI")
        .env_remove("LEDGERSCOPE_POSTGRES_URL")
        .env_remove("LEDGERSCOPE_DATA_DIR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until commands are being stored, then ask it to stop.
    let ledger = d.join("ledger.sqlite3");
    let started = std::time::Instant::now();
    while !ledger.exists() || std::fs::metadata(&ledger).unwrap().len() < 64 * 1024 {
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["cancelled"], Value::Bool(true), "{summary}");
    assert!(summary["emitted"].as_u64().unwrap() > 0, "{summary}");
    let log = std::fs::read_to_string(d.join("logs/ledgerscope.log")).unwrap();
    assert!(log.contains("finished"), "{log}");
}

/// The binary with its platform data dir (the log's fallback) in `home`.
pub fn run_at_home(home: &Path, args: &[&std::ffi::OsStr]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ledgerscope"))
        .args(args)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("LEDGERSCOPE_UI_PREFS", "none")
        .env_remove("LEDGERSCOPE_MONGO_URI")
        .env_remove("LEDGERSCOPE_POSTGRES_URL")
        .env_remove("LEDGERSCOPE_DATA_DIR")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap()
}

pub fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(std::ffi::OsString::from).collect()
}

#[test]
fn the_first_run_on_a_new_data_dir_logs_in_it() {
    let home = tempfile::tempdir().unwrap();
    let new = home.path().join("new-dir");
    let mut args = os(&["--data-dir"]);
    args.push(new.clone().into_os_string());
    args.extend(os(&["emit", "--count", "2"]));
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let out = run_at_home(home.path(), &refs);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log = std::fs::read_to_string(new.join("logs").join("ledgerscope.log"))
        .unwrap_or_else(|e| panic!("no log in the new data dir: {e}"));
    assert!(log.contains("started"), "{log}");
    assert!(log.contains("stored=2"), "the run's commands: {log}");
    assert!(log.contains("exit_code=0"), "{log}");
    let fallback = home.path().join("data").join("ledgerscope").join("logs");
    assert!(!fallback.exists(), "nothing went to the platform data dir");

    // The window's first launch (here it cannot open: no display) too.
    let window = home.path().join("window-dir");
    let out = run_at_home(
        home.path(),
        &[std::ffi::OsStr::new("--data-dir"), window.as_os_str()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let log = std::fs::read_to_string(window.join("logs").join("ledgerscope.log")).unwrap();
    assert!(log.contains("who=\"gui\""), "{log}");
    assert!(log.contains("the window did not open"), "{log}");

    // A read subcommand and --observe create nothing: the fallback as before.
    for args in [&["status"][..], &["--observe", "emit", "--count", "1"][..]] {
        let untouched = home.path().join("untouched");
        let mut all = vec![std::ffi::OsStr::new("--data-dir"), untouched.as_os_str()];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        run_at_home(home.path(), &all);
        assert!(!untouched.exists(), "{args:?} created the data dir");
    }
    assert!(fallback.join("ledgerscope.log").exists());
}

/// The log keeps what an incident reader needs: a busy run's commands and
/// their catch-ups are summarised (per-command detail at DEBUG), so its
/// INFO lines do not grow with the number of commands and a day's errors,
/// holes, replays and passes are not rotated away by routine traffic.
#[test]
fn routine_commands_do_not_fill_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, out) = json(d, &["emit", "--count", "300", "--mix", "--json"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = json(d, &["replay", "--json"]);
    assert_eq!(code, 0, "{out}");
    let log = std::fs::read_to_string(d.join("logs/ledgerscope.log")).unwrap();
    let lines = log.lines().count();
    assert!(lines <= 20, "{lines} lines for 300 commands:\n{log}");
    assert!(log.contains("replayed the read tables"), "{log}");
    assert!(
        log.contains("commands and projection since the last summary"),
        "the run's commands are summarised: {log}"
    );
}
