//! `ledgerscope-bench`: the benchmarks, one JSON object per measurement on
//! stdout, progress on stderr. It uses the library's public API only.
//! Absolute times drift on shared machines, so every figure that matters is
//! a ratio of two things measured side by side in the same run.
//!
//! ```text
//! cargo run --release --bin ledgerscope-bench -- [--n 100000] \
//!     [--only replay,replay_rss,cold,ingest,timetravel,history,series,whatif,ui,models,upkeep] [--data-dir DIR] [--smoke]
//! ```
//!
//! Data is built deterministically. With `--data-dir` the ledgers are kept and
//! reused by the next run with the same `--n` (ingest ledgers are always fresh).
//! With `LEDGERSCOPE_POSTGRES_URL` set, `replay` and `cold` also run on the
//! embedded ledger with PostgreSQL views, at full size; with
//! `LEDGERSCOPE_MONGO_URI` too, every group also runs on MongoDB +
//! PostgreSQL at `--remote-n` (a fresh MongoDB database per run, PostgreSQL
//! tables emptied first).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::json;

mod analysis;
mod bytes;
mod cold;
mod data;
mod history;
mod ingest;
mod models;
mod record;
mod replay;
mod replay_rss;
mod timetravel;
mod ui;
mod upkeep;

use data::{StorePair, build_ledger, engine, subdir};
use ledgerscope::domain::ProjectorId;
use ledgerscope::engine::{JobControl, ReplayOptions};
use ledgerscope::store::Stores;
pub use record::Record;
use timetravel::TravelSpec;
use ui::UiCase;

/// mimalloc instead of the system allocator: folds, snapshot decodes and
/// replays allocate and free millions of small strings, and glibc's malloc
/// spends about a quarter of replay's CPU on that (perf).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Prints a progress line on stderr.
pub fn progress(message: impl AsRef<str>) {
    eprintln!("[bench] {}", message.as_ref());
}

const MEASUREMENTS: [&str; 11] = [
    "replay",
    "replay_rss",
    "cold",
    "ingest",
    "timetravel",
    "history",
    "series",
    "whatif",
    "ui",
    "models",
    "upkeep",
];
const UI_PANELS: [&str; 3] = ["timeline", "time-travel", "compare"];
/// What if's frame is held to Time travel's on the large ledger, in one run.
const UI_WHATIF_TARGET: f64 = 1.5;

/// Benchmarks: replay, a cold ledger, ingest, time travel, row history, series, what-if, the UI, read models users write and snapshot upkeep.
#[derive(Parser, Debug)]
#[command(name = "ledgerscope-bench", version)]
struct Args {
    /// Events in the main ledger (replay, time travel, the large UI case).
    #[arg(long, default_value_t = 100_000)]
    n: u64,
    /// Comma-separated subset of: replay, replay_rss, cold, ingest, timetravel, history, series, whatif, ui, models, upkeep.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Where to build the ledgers (kept and reused); default: a temp dir removed at the end.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Tiny sizes, every measurement, well under a minute (no timing asserts).
    #[arg(long)]
    smoke: bool,
    /// Events in the MongoDB + PostgreSQL ledger (default: min(n, 2000);
    /// FerretDB appends one event per round trip, tens per second).
    #[arg(long)]
    remote_n: Option<u64>,
    /// Commands per ingest run (default 1000; 300 on the servers).
    #[arg(long)]
    ingest_count: Option<u64>,
    /// Random positions queried in the time-travel measurement.
    #[arg(long, default_value_t = 200)]
    queries: usize,
    /// Events in the small UI ledger.
    #[arg(long, default_value_t = 1_000)]
    ui_small: u64,
    /// Frames measured per UI case.
    #[arg(long, default_value_t = 120)]
    frames: usize,
    /// Internal: run one UI case in this process and print it as JSON.
    #[arg(long, hide = true)]
    ui_child: bool,
    /// Internal: the UI case's panel.
    #[arg(long, hide = true, default_value = "timeline")]
    ui_panel: String,
}

/// Sizes after applying `--smoke`.
struct Plan {
    n: u64,
    remote_n: u64,
    ingest_count: u64,
    remote_ingest_count: u64,
    snapshot_every: u64,
    queries: usize,
    full_folds: usize,
    replay_reps: usize,
    ui_small: u64,
    frames: usize,
}

impl Plan {
    fn from(args: &Args) -> Self {
        if args.smoke {
            return Plan {
                n: 2_000,
                remote_n: 500,
                // Enough appends for the raw rate to say how fast this
                // disk's fsync is (scripts/test.sh prints it).
                ingest_count: args.ingest_count.unwrap_or(200).max(1),
                remote_ingest_count: 16,
                snapshot_every: 250,
                queries: 20,
                full_folds: 2,
                replay_reps: 1,
                ui_small: 100,
                frames: 10,
            };
        }
        Plan {
            n: args.n.max(1),
            remote_n: args.remote_n.unwrap_or(args.n.min(2_000)).max(1),
            ingest_count: args.ingest_count.unwrap_or(1_000).max(1),
            remote_ingest_count: args.ingest_count.unwrap_or(300).max(1),
            snapshot_every: 10_000,
            queries: args.queries.max(1),
            full_folds: 3,
            // Two interleaved rounds, the best of each side kept: one round
            // of either varies by a third on this machine.
            replay_reps: 2,
            ui_small: args.ui_small.max(1),
            frames: args.frames.max(1),
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.ui_child {
        let dir = args
            .data_dir
            .as_ref()
            .context("--ui-child needs --data-dir")?;
        let case = ui::run_case(dir, &args.ui_panel, args.frames)?;
        println!("{}", serde_json::to_string(&case)?);
        return Ok(());
    }
    let only: BTreeSet<String> = if args.only.is_empty() {
        MEASUREMENTS.iter().map(|s| s.to_string()).collect()
    } else {
        args.only.iter().map(|s| s.trim().to_lowercase()).collect()
    };
    if let Some(bad) = only.iter().find(|s| !MEASUREMENTS.contains(&s.as_str())) {
        bail!("--only: unknown measurement '{bad}' (known: {MEASUREMENTS:?})");
    }
    let plan = Plan::from(&args);
    let (root, temporary) = match &args.data_dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("ledgerscope-bench-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    progress(format!(
        "data in {} ({}); measurements: {only:?}",
        root.display(),
        if temporary {
            "temporary"
        } else {
            "kept for reuse"
        }
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting tokio")?;
    let result = runtime.block_on(run(&args, &plan, &only, &root));
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    if temporary {
        let _ = std::fs::remove_dir_all(&root);
    }
    result
}

fn pairs() -> Vec<StorePair> {
    let mut pairs = vec![StorePair::embedded()];
    let mongo = std::env::var("LEDGERSCOPE_MONGO_URI")
        .ok()
        .filter(|s| !s.trim().is_empty());
    let postgres = std::env::var("LEDGERSCOPE_POSTGRES_URL")
        .ok()
        .filter(|s| !s.trim().is_empty());
    // The embedded ledger with PostgreSQL views: replay, verify and the
    // cold ledger into PostgreSQL at full size.
    if let Some(p) = &postgres {
        pairs.push(StorePair {
            label: "embedded+postgresql".into(),
            mongo_uri: None,
            postgres_url: Some(p.clone()),
        });
    }
    match (mongo, postgres) {
        (Some(m), Some(p)) => pairs.push(StorePair {
            label: "mongodb+postgresql".into(),
            mongo_uri: Some(m),
            postgres_url: Some(p),
        }),
        _ => progress(
            "LEDGERSCOPE_MONGO_URI and LEDGERSCOPE_POSTGRES_URL not both set: no MongoDB + PostgreSQL pair",
        ),
    }
    pairs
}

/// Opens the pair's main ledger, building it if empty.
async fn main_ledger(pair: &StorePair, dir: &Path, n: u64) -> anyhow::Result<Stores> {
    let stores = pair.open(dir, "main").await?;
    let head = stores.ledger.head().await?;
    if head == 0 {
        progress(format!("[{}] building a ledger of {n} events", pair.label));
        let started = std::time::Instant::now();
        build_ledger(stores.ledger.as_ref(), n, 42).await?;
        Record::new(
            "build_ledger",
            &pair.label,
            n,
            started.elapsed().as_secs_f64(),
        )
        .details(json!({"method": "EventLedger::append_batch, 10000 events per call"}))
        .emit();
    } else if head != n {
        bail!(
            "{} already holds a ledger of {head} events, not {n}: use another --data-dir",
            dir.display()
        );
    } else {
        progress(format!("[{}] reusing the ledger of {n} events", pair.label));
    }
    Ok(stores)
}

async fn run(args: &Args, plan: &Plan, only: &BTreeSet<String>, root: &Path) -> anyhow::Result<()> {
    let mut pairs = pairs();
    if args.smoke && pairs.len() > 1 {
        // FerretDB appends run at tens per second: the servers would not fit
        // in a smoke test's minute. Measure them without --smoke.
        progress(
            "--smoke: skipping the PostgreSQL and MongoDB pairs (run without --smoke to measure them)",
        );
        pairs.truncate(1);
    }
    for pair in pairs {
        // The embedded ledger with PostgreSQL views adds to the embedded
        // figures only where the views are written or read.
        let views_only: BTreeSet<String>;
        let only = if pair.short() == "embedded-pg" {
            views_only = only
                .iter()
                .filter(|group| matches!(group.as_str(), "replay" | "cold"))
                .cloned()
                .collect();
            &views_only
        } else {
            only
        };
        let embedded = pair.is_embedded();
        let n = if pair.embedded_ledger() {
            plan.n
        } else {
            plan.remote_n
        };
        let short = pair.short();
        let wants_main = only.contains("replay")
            || only.contains("timetravel")
            || only.contains("history")
            || only.contains("whatif")
            || only.contains("models")
            || (embedded && only.contains("ui"));
        if wants_main {
            let dir = subdir(root, &format!("{short}-main-{n}"))?;
            let stores = main_ledger(&pair, &dir, n).await?;
            if only.contains("replay") {
                replay::run(&engine(stores.clone(), 0), &pair.label, plan.replay_reps).await?;
            }
            if only.contains("timetravel") {
                let spec = TravelSpec {
                    queries: plan.queries,
                    full_folds: plan.full_folds,
                    snapshot_every: plan.snapshot_every,
                };
                timetravel::run(&stores, &pair.label, spec).await?;
            }
            if only.contains("history") {
                history::run(&stores, &pair.label, plan.queries, plan.snapshot_every).await?;
            }
            if only.contains("whatif") {
                let queries = (plan.queries / 4).max(1);
                analysis::whatif(&stores, &pair.label, queries, plan.snapshot_every).await?;
            }
            if only.contains("models") {
                models::run(
                    &stores,
                    &pair.label,
                    &dir,
                    plan.queries,
                    plan.snapshot_every,
                )
                .await?;
            }
            if embedded && only.contains("ui") {
                prepare_for_ui(&stores, plan.snapshot_every).await?;
            }
        }
        if embedded && only.contains("replay_rss") {
            // Ledgers of N and 4N events, replayed by the CLI in children.
            let mut dirs = Vec::new();
            for size in [n, 4 * n] {
                let dir = subdir(root, &format!("{short}-main-{size}"))?;
                drop(main_ledger(&pair, &dir, size).await?);
                dirs.push((dir, size));
            }
            let [(small, small_n), (big, big_n)] = <[_; 2]>::try_from(dirs)
                .map_err(|_| anyhow::anyhow!("two ledgers were prepared"))?;
            tokio::task::spawn_blocking(move || replay_rss::run(&small, small_n, &big, big_n))
                .await
                .context("the replay_rss measurement panicked")??;
        }
        if only.contains("cold") {
            cold::run(
                &pair,
                root,
                n,
                plan.queries,
                plan.replay_reps,
                plan.snapshot_every,
            )
            .await?;
        }
        if pair.is_embedded() && only.contains("upkeep") {
            upkeep::run(&pair, root, n, plan.snapshot_every).await?;
        }
        if only.contains("series") {
            let dir = root.join(format!("{short}-series-{n}"));
            // Fresh every run: the measurement appends to it.
            let _ = std::fs::remove_dir_all(&dir);
            let dir = subdir(root, &format!("{short}-series-{n}"))?;
            analysis::series(&pair, &dir, n).await?;
        }
        if only.contains("ingest") {
            let count = if embedded {
                plan.ingest_count
            } else {
                plan.remote_ingest_count
            };
            let dir = subdir(root, &format!("{short}-ingest"))?;
            ingest::run(&pair, &dir, count).await?;
            if pair.embedded_ledger() && pair.postgres_url.is_none() {
                bytes::run(&dir, count, count).await?;
            }
        }
        if embedded && only.contains("ui") {
            let small_dir = subdir(root, &format!("embedded-ui-{}", plan.ui_small))?;
            {
                let stores = main_ledger(&pair, &small_dir, plan.ui_small).await?;
                prepare_for_ui(&stores, plan.snapshot_every).await?;
            }
            let big_dir = root.join(format!("embedded-main-{n}"));
            ui_cases(args, plan, &small_dir, plan.ui_small, &big_dir, n)?;
        }
    }
    Ok(())
}

/// Read tables built and snapshots taken, so the app starts with nothing to
/// catch up (its projectors and auto snapshots would otherwise work in the
/// background while frames are measured).
async fn prepare_for_ui(stores: &Stores, snapshot_every: u64) -> anyhow::Result<()> {
    let engine = engine(stores.clone(), snapshot_every);
    engine.take_due_snapshots().await?;
    let head = stores.ledger.head().await?;
    let mut behind = false;
    for projector in ProjectorId::ALL {
        behind |= stores.read.projector_position(projector).await? != head;
    }
    if behind {
        progress("ui: building the read tables for the app");
        engine
            .replay(ReplayOptions::default(), &JobControl::default())
            .await?;
    }
    Ok(())
}

fn ui_child(args: &Args, dir: &Path, panel: &str, frames: usize) -> anyhow::Result<UiCase> {
    let exe = std::env::current_exe().context("finding the bench binary")?;
    let _ = args;
    let output = Command::new(exe)
        .arg("--ui-child")
        .arg("--data-dir")
        .arg(dir)
        .arg("--ui-panel")
        .arg(panel)
        .arg("--frames")
        .arg(frames.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("running a UI child process")?;
    if !output.status.success() {
        bail!("the UI child for {panel} in {} failed", dir.display());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .context("the UI child printed no result")?;
    Ok(serde_json::from_str(line)?)
}

fn ui_cases(
    args: &Args,
    plan: &Plan,
    small_dir: &Path,
    small_n: u64,
    big_dir: &Path,
    big_n: u64,
) -> anyhow::Result<()> {
    let mut travel_big = None;
    for panel in UI_PANELS {
        let mut cases = Vec::new();
        for (dir, n) in [(small_dir, small_n), (big_dir, big_n)] {
            progress(format!("ui: {panel} panel over {n} events (child process)"));
            let case = ui_child(args, dir, panel, plan.frames)?;
            let mut record = Record::new(
                &format!("ui_frame_{panel}"),
                "embedded",
                n,
                case.cpu_median_ms / 1e3,
            );
            // For frames the rate is frames per CPU second, not events per second.
            record.per_sec = 1e3 / case.cpu_median_ms.max(1e-9);
            record.details(serde_json::to_value(&case)?).emit();
            cases.push(case);
        }
        let (small, big) = (&cases[0], &cases[1]);
        let ratio = big.cpu_median_ms / small.cpu_median_ms.max(1e-9);
        let extra_mib = (big.vm_hwm_kib as f64 - small.vm_hwm_kib as f64) / 1024.0;
        let mut record = Record::new(
            &format!("ui_ratio_{panel}"),
            "embedded",
            big_n,
            big.cpu_median_ms / 1e3,
        );
        record.per_sec = 1e3 / big.cpu_median_ms.max(1e-9);
        record
            .ratio(ratio, &format!("frame CPU median {big_n}/{small_n} events"))
            .target(
                "frame <= 1.5x and peak memory <= +100 MB",
                ratio <= 1.5 && extra_mib <= 100.0,
            )
            .details(json!({
                "frame_ratio_met": ratio <= 1.5,
                "peak_rss_small_mib": small.vm_hwm_kib as f64 / 1024.0,
                "peak_rss_big_mib": big.vm_hwm_kib as f64 / 1024.0,
                "peak_rss_extra_mib": extra_mib,
                "memory_met": extra_mib <= 100.0,
            }))
            .emit();
        if panel == "time-travel" {
            travel_big = Some(big.clone());
        }
    }
    if let Some(travel) = travel_big {
        whatif_case(args, plan, big_dir, big_n, &travel)?;
    }
    Ok(())
}

/// What if on the large ledger, leaving out a range that makes thousands of
/// later events no-ops (all listed), once its report is shown, beside Time
/// travel's frame on the same ledger in the same run.
fn whatif_case(
    args: &Args,
    plan: &Plan,
    big_dir: &Path,
    big_n: u64,
    travel: &UiCase,
) -> anyhow::Result<()> {
    let (from, to) = ui::whatif_range(big_n);
    progress(format!(
        "ui: what-if panel over {big_n} events, leaving out {from}..{to} (child process)"
    ));
    let case = ui_child(args, big_dir, "what-if", plan.frames)?;
    let mut record = Record::new(
        "ui_frame_what-if",
        "embedded",
        big_n,
        case.cpu_median_ms / 1e3,
    );
    record.per_sec = 1e3 / case.cpu_median_ms.max(1e-9);
    record.details(serde_json::to_value(&case)?).emit();
    let ratio = case.cpu_median_ms / travel.cpu_median_ms.max(1e-9);
    let mut record = Record::new(
        "ui_whatif_vs_timetravel",
        "embedded",
        big_n,
        case.cpu_median_ms / 1e3,
    );
    record.per_sec = 1e3 / case.cpu_median_ms.max(1e-9);
    record
        .ratio(
            ratio,
            &format!(
                "frame CPU median, What if with its no-ops listed / Time travel, {big_n} events"
            ),
        )
        .target(&format!("<= {UI_WHATIF_TARGET}"), ratio <= UI_WHATIF_TARGET)
        .details(json!({
            "what_if_cpu_median_ms": case.cpu_median_ms,
            "what_if_cpu_p99_ms": case.cpu_p99_ms,
            "time_travel_cpu_median_ms": travel.cpu_median_ms,
            "time_travel_cpu_p99_ms": travel.cpu_p99_ms,
            "what_if": case.what_if,
        }))
        .emit();
    Ok(())
}
