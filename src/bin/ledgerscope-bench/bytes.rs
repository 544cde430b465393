//! Bytes written per acknowledged command on the embedded stores: commands
//! through the full handler with the projectors running (as `emit` does)
//! and automatic snapshots off, counted by the kernel for this process
//! (`write_bytes` of `/proc/self/io`: every page the process dirtied in
//! the ledger, the views and their write-ahead logs, including the
//! checkpoints that copy the logs back).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::Record;
use super::data::{StorePair, engine, subdir};
use super::ingest::commands;

/// Target: bytes written per acknowledged command.
const TARGET_BYTES: f64 = 32.0 * 1024.0;

/// `write_bytes` and `wchar` of this process so far.
fn io_counters() -> anyhow::Result<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/self/io").context("read /proc/self/io")?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .with_context(|| format!("no {name} in /proc/self/io"))
    };
    Ok((field("write_bytes:")?, field("wchar:")?))
}

/// Runs `warm` then `count` commands on a fresh embedded pair with the
/// projectors live and emits `command_bytes`.
pub async fn run(dir: &Path, warm: u64, count: u64) -> anyhow::Result<()> {
    super::progress(format!(
        "command_bytes[embedded]: {warm} commands to warm, then {count} counted"
    ));
    let _ = std::fs::remove_dir_all(dir.join("command_bytes"));
    let data = subdir(dir, "command_bytes")?;
    let stores = StorePair::embedded().open(&data, "command_bytes").await?;
    let engine = engine(stores, 0);
    let shutdown = CancellationToken::new();
    let projectors = engine.spawn_projectors(shutdown.clone());
    let all = commands(warm + count, 23);
    let (warm_cmds, counted) = all.split_at(warm as usize);
    for cmd in warm_cmds {
        engine.submit_booking_wizard(cmd.clone()).await?;
    }
    caught_up(&engine, warm).await?;
    let (bytes_before, chars_before) = io_counters()?;
    let started = Instant::now();
    for cmd in counted {
        if engine.submit_booking_wizard(cmd.clone()).await?.duplicate {
            bail!("a fresh command was answered as a duplicate");
        }
    }
    caught_up(&engine, warm + count).await?;
    let secs = started.elapsed().as_secs_f64();
    let (bytes_after, chars_after) = io_counters()?;
    shutdown.cancel();
    for task in projectors {
        task.await.context("a projector panicked")?;
    }
    let per_command = (bytes_after - bytes_before) as f64 / count as f64;
    Record::new("command_bytes", "embedded", count, secs)
        .ratio(per_command, "bytes written per acknowledged command")
        .target("<= 32 KB", per_command <= TARGET_BYTES)
        .details(json!({
            "method": "write_bytes of /proc/self/io across the counted commands (handler + projectors, snapshots off), fresh data dir",
            "warm_commands": warm,
            "write_syscall_bytes_per_command": (chars_after - chars_before) as f64 / count as f64,
        }))
        .emit();
    Ok(())
}

/// Waits until both projectors have reached `head`.
async fn caught_up(engine: &ledgerscope::engine::Engine, head: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let statuses = engine.projector_statuses();
        if statuses.iter().all(|s| s.checkpoint >= head) && !statuses.is_empty() {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("the projectors did not reach {head} within two minutes");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
