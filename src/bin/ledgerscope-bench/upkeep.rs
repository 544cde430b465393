//! Snapshot upkeep per appended event, at two ledger sizes side by side.
//!
//! For ledgers of N and 4N events (built fresh, the same generator), the
//! app's automatic snapshots first take the cold ledger's one pass (not
//! counted), then the ledger grows by two full intervals in steps of a
//! delta interval, the snapshots due taken after every step as the app's
//! background task does. Counted across those calls only: the process's CPU
//! time (`CLOCK_PROCESS_CPUTIME_ID`: every thread, the stores' too) and the
//! bytes it wrote (`write_bytes` of `/proc/self/io`), per appended event.
//!
//! * `upkeep` (one record per size): snapshot CPU and bytes per event.
//! * `upkeep_growth`: CPU per event at 4N over that at N.
//! * `upkeep_share`: CPU per event at 4N over the CPU of one command through
//!   the handler (lease, exists?, save, publish) on the same 4N store.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::json;

use super::Record;
use super::cold::app_engine;
use super::data::{EventGen, StorePair, append_generated, subdir};
use super::ingest::commands;
use ledgerscope::store::Stores;

/// Target: snapshot CPU per appended event at 4N over that at N.
const TARGET_GROWTH: f64 = 1.3;
/// Target: snapshot CPU per appended event at 4N over one command's CPU.
const TARGET_SHARE: f64 = 0.25;
/// Commands whose CPU is measured through the handler.
const COMMANDS: u64 = 300;

/// CPU time of the whole process in nanoseconds (every thread).
fn process_cpu_ns() -> anyhow::Result<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        bail!("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    }
    Ok(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// `write_bytes` of this process so far.
fn written_bytes() -> anyhow::Result<u64> {
    let text = std::fs::read_to_string("/proc/self/io").context("read /proc/self/io")?;
    text.lines()
        .find_map(|l| l.strip_prefix("write_bytes:"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .context("no write_bytes in /proc/self/io")
}

/// What growing one ledger cost.
struct Grown {
    size: u64,
    appended: u64,
    cpu_secs: f64,
    bytes: u64,
    wall_secs: f64,
    snapshots_taken: usize,
    stores: Stores,
}

impl Grown {
    fn cpu_per_event(&self) -> f64 {
        self.cpu_secs / self.appended.max(1) as f64
    }

    fn bytes_per_event(&self) -> f64 {
        self.bytes as f64 / self.appended.max(1) as f64
    }
}

/// Builds a ledger of `size`, takes its pass, then grows it by two
/// intervals with the snapshots due after every delta interval, counted.
async fn grow(
    pair: &StorePair,
    root: &Path,
    size: u64,
    snapshot_every: u64,
) -> anyhow::Result<Grown> {
    let name = format!("{}-upkeep-{size}", pair.short());
    // Fresh every run: the measurement appends to it.
    let _ = std::fs::remove_dir_all(root.join(&name));
    let dir = subdir(root, &name)?;
    let stores = pair.open(&dir, "upkeep").await?;
    super::progress(format!(
        "upkeep[{}]: a ledger of {size} events and its pass",
        pair.label
    ));
    let mut generator = EventGen::new(42, size);
    append_generated(stores.ledger.as_ref(), &mut generator, size).await?;
    let engine = app_engine(&stores, snapshot_every);
    let pass = engine.take_due_snapshots().await?;
    if !pass.iter().any(|s| s.is_history()) {
        bail!("upkeep: no history pass on a ledger of {size} events (it starts at four intervals)");
    }
    let step = (snapshot_every / 10).max(1);
    let appended = 2 * snapshot_every;
    super::progress(format!(
        "upkeep[{}]: {appended} more events, the snapshots due every {step}",
        pair.label
    ));
    let (mut cpu_ns, mut bytes, mut wall, mut taken) = (0u64, 0u64, 0.0, 0usize);
    for _ in 0..appended / step {
        append_generated(stores.ledger.as_ref(), &mut generator, step).await?;
        let (cpu0, bytes0, started) = (process_cpu_ns()?, written_bytes()?, Instant::now());
        taken += engine.take_due_snapshots().await?.len();
        wall += started.elapsed().as_secs_f64();
        cpu_ns += process_cpu_ns()?.saturating_sub(cpu0);
        bytes += written_bytes()?.saturating_sub(bytes0);
    }
    Ok(Grown {
        size,
        appended,
        cpu_secs: cpu_ns as f64 / 1e9,
        bytes,
        wall_secs: wall,
        snapshots_taken: taken,
        stores,
    })
}

/// CPU seconds of one command through the handler on `stores` (the mean
/// of [`COMMANDS`] fresh ones).
async fn command_cpu(stores: &Stores) -> anyhow::Result<f64> {
    let engine = app_engine(stores, 0);
    let cmds = commands(COMMANDS, 31);
    let cpu0 = process_cpu_ns()?;
    for cmd in cmds {
        if engine.submit_booking_wizard(cmd).await?.duplicate {
            bail!("upkeep: a fresh command was answered as a duplicate");
        }
    }
    Ok(process_cpu_ns()?.saturating_sub(cpu0) as f64 / 1e9 / COMMANDS as f64)
}

/// Measures the upkeep at `n` and `4 * n` on `pair`; emits records.
pub async fn run(pair: &StorePair, root: &Path, n: u64, snapshot_every: u64) -> anyhow::Result<()> {
    let label = &pair.label;
    let mut sizes = Vec::new();
    for size in [n, 4 * n] {
        let grown = grow(pair, root, size, snapshot_every).await?;
        Record::new("upkeep", label, grown.appended, grown.wall_secs)
            .details(json!({
                "ledger_events": grown.size,
                "appended": grown.appended,
                "snapshot_cpu_seconds": grown.cpu_secs,
                "snapshot_cpu_us_per_event": grown.cpu_per_event() * 1e6,
                "bytes_written": grown.bytes,
                "bytes_written_per_event": grown.bytes_per_event(),
                "snapshots_taken": grown.snapshots_taken,
                "method": "after the cold pass, two intervals appended in delta-interval steps, take_due_snapshots after each; process CPU (CLOCK_PROCESS_CPUTIME_ID) and write_bytes of /proc/self/io across those calls only",
            }))
            .emit();
        sizes.push(grown);
    }
    let (small, big) = (&sizes[0], &sizes[1]);
    let growth = big.cpu_per_event() / small.cpu_per_event().max(1e-12);
    Record::new("upkeep_growth", label, big.appended, big.cpu_secs)
        .ratio(
            growth,
            &format!(
                "snapshot CPU per appended event, ledger of {} / of {}",
                big.size, small.size
            ),
        )
        .target(&format!("<= {TARGET_GROWTH}"), growth <= TARGET_GROWTH)
        .details(json!({
            "cpu_us_per_event_small": small.cpu_per_event() * 1e6,
            "cpu_us_per_event_big": big.cpu_per_event() * 1e6,
            "bytes_per_event_small": small.bytes_per_event(),
            "bytes_per_event_big": big.bytes_per_event(),
        }))
        .emit();
    super::progress(format!(
        "upkeep[{label}]: {COMMANDS} commands through the handler on the ledger of {}",
        big.size
    ));
    let command = command_cpu(&big.stores).await?;
    let share = big.cpu_per_event() / command.max(1e-12);
    Record::new("upkeep_share", label, COMMANDS, command * COMMANDS as f64)
        .ratio(
            share,
            &format!(
                "snapshot CPU per appended event / CPU of one command through the handler, ledger of {}",
                big.size
            ),
        )
        .target(&format!("<= {TARGET_SHARE}"), share <= TARGET_SHARE)
        .details(json!({
            "snapshot_cpu_us_per_event": big.cpu_per_event() * 1e6,
            "command_cpu_us": command * 1e6,
            "commands": COMMANDS,
        }))
        .emit();
    Ok(())
}
