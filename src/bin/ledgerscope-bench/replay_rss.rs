//! Replay memory against the ledger's size: the peak resident memory of a
//! CLI replay (`ledgerscope replay --json`, a child process beside this
//! binary, as the UI case measures memory) of the embedded ledgers of N and
//! 4N events, and their ratio `replay_rss_growth` (target: at most 1.3,
//! a replay whose memory does not grow with the ledger).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::json;

use super::Record;

/// Target: peak RSS of a replay of 4N over that of N.
const TARGET_GROWTH: f64 = 1.3;

/// The CLI binary built beside this one.
fn cli_binary() -> anyhow::Result<std::path::PathBuf> {
    let exe = std::env::current_exe().context("finding the bench binary")?;
    let cli = exe.with_file_name("ledgerscope");
    if !cli.exists() {
        bail!(
            "replay_rss needs the CLI beside the bench: {} does not exist (cargo build --bin ledgerscope)",
            cli.display()
        );
    }
    Ok(cli)
}

/// Runs `ledgerscope --data-dir DIR --snapshot-every 0 replay --json` and
/// returns its peak resident memory in KiB (`ru_maxrss` of the child, taken
/// when it is reaped) and its wall time.
fn replay_peak_kib(dir: &Path) -> anyhow::Result<(u64, f64)> {
    let started = Instant::now();
    let child = Command::new(cli_binary()?)
        .arg("--data-dir")
        .arg(dir)
        .args(["--snapshot-every", "0", "replay", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting a CLI replay")?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain data the kernel fills; `wait4` reaps the
    // child `spawn` started (std's `Child` is not waited on after this).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if reaped != pid {
        bail!(
            "waiting for the CLI replay: {}",
            std::io::Error::last_os_error()
        );
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!(
            "the CLI replay of {} failed (status {status})",
            dir.display()
        );
    }
    Ok((
        usage.ru_maxrss.max(0) as u64,
        started.elapsed().as_secs_f64(),
    ))
}

/// Replays the ledgers of `small_n` events in `small` and `big_n` in `big`
/// (both built with their read tables) in child processes and emits
/// `replay_rss` for each and `replay_rss_growth`.
pub fn run(small: &Path, small_n: u64, big: &Path, big_n: u64) -> anyhow::Result<()> {
    let mut peaks = Vec::new();
    for (dir, n) in [(small, small_n), (big, big_n)] {
        super::progress(format!(
            "replay_rss: a CLI replay of {n} events (child process)"
        ));
        let (kib, secs) = replay_peak_kib(dir)?;
        Record::new("replay_rss", "embedded", n, secs)
            .ratio(kib as f64 / 1024.0, "peak RSS of the CLI replay, MiB")
            .details(json!({"method": "ru_maxrss of `ledgerscope replay --json` (child process)"}))
            .emit();
        peaks.push(kib);
    }
    let growth = peaks[1] as f64 / peaks[0].max(1) as f64;
    Record::new("replay_rss_growth", "embedded", big_n, 0.0)
        .ratio(
            growth,
            &format!("peak RSS of a replay of {big_n} over {small_n} events"),
        )
        .target("<= 1.3", growth <= TARGET_GROWTH)
        .details(json!({"small_kib": peaks[0], "big_kib": peaks[1]}))
        .emit();
    Ok(())
}
