//! UI: CPU time per frame of the real app ([`LedgerApp`]) driven headless by
//! a bare [`egui::Context`] (run + tessellate, as eframe does, without a GPU),
//! on one panel, after the panel's data has arrived. Runs in a child process
//! of the bench binary per ledger size and panel, so the process's peak
//! memory (VmHWM) belongs to that case alone. What if leaves out the
//! positions [`whatif_range`] names (thousands of later events become
//! no-ops on a large ledger) and is measured once its report is shown.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};

use ledgerscope::engine::EngineConfig;
use ledgerscope::store::StoreConfig;
use ledgerscope::ui::command::ShellCommand;
use ledgerscope::ui::panels::PanelKind;
use ledgerscope::ui::panels::time_travel::TimeTravelCommand;
use ledgerscope::ui::panels::timeline::TimelineCommand;
use ledgerscope::ui::panels::what_if::{WhatIfCommand, WhatIfField};
use ledgerscope::ui::{GuiOptions, LedgerApp};

/// What one child measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UiCase {
    /// Panel name (`timeline`, `time-travel`, `compare`, `what-if`).
    pub panel: String,
    /// Ledger head the app saw.
    pub head: u64,
    /// Frames measured.
    pub frames: usize,
    /// Median CPU time of one frame on the UI thread, in milliseconds.
    pub cpu_median_ms: f64,
    /// 99th percentile CPU time per frame, in milliseconds.
    pub cpu_p99_ms: f64,
    /// Mean CPU time per frame, in milliseconds.
    pub cpu_mean_ms: f64,
    /// Median wall time per frame, in milliseconds.
    pub wall_median_ms: f64,
    /// Seconds from start until the panel's data had arrived.
    pub ready_secs: f64,
    /// Peak resident memory of the process (VmHWM), in KiB.
    pub vm_hwm_kib: u64,
    /// Resident memory at the end (VmRSS), in KiB.
    pub vm_rss_kib: u64,
    /// How CPU time was read.
    pub clock: String,
    /// What if: the range left out, the later events that became no-ops
    /// (listed) and the rows that differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what_if: Option<WhatIfShown>,
}

/// What the measured What if frames had to show.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WhatIfShown {
    /// The range left out, `A..B`.
    pub range: String,
    /// Later events that became no-ops (the list).
    pub no_ops: usize,
    /// Positions left out.
    pub excluded: usize,
    /// Rows that differ, over both tables.
    pub differing_rows: usize,
}

/// The range What if leaves out on a ledger with head `head`: at 200,000
/// events 1000..50000 (the reproduction: 8,700 no-ops).
pub fn whatif_range(head: u64) -> (u64, u64) {
    let from = (head / 200).max(1);
    (from, (head / 4).max(from))
}

/// CPU time of the calling thread in nanoseconds
/// (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`, exact to the nanosecond, unlike
/// `/proc/thread-self/schedstat`, which only moves on scheduler ticks).
pub fn thread_cpu_ns() -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// A field of `/proc/self/status` in KiB (`VmHWM`, `VmRSS`).
pub fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn raw_input(time: f64) -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1280.0, 800.0),
        )),
        time: Some(time),
        ..Default::default()
    }
}

fn frame(ctx: &egui::Context, app: &mut LedgerApp, started: Instant) {
    let mut output = ctx.run_ui(raw_input(started.elapsed().as_secs_f64()), |ui| {
        app.frame_ui(ui)
    });
    // No GPU here: texture uploads are measured up to this point and dropped
    // (egui insists, in debug builds, that they are handled or cleared).
    output.textures_delta.clear();
    let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
    std::hint::black_box(primitives);
}

/// Rows of a table on the first screen at 1280x800 (20 px rows), rounded up.
const FIRST_SCREEN_ROWS: u64 = 40;

fn ready(app: &LedgerApp, panel: PanelKind, target: u64) -> bool {
    let panels = app.panels();
    match panel {
        PanelKind::Timeline => {
            let timeline = &panels.timeline;
            timeline.total.value().is_some()
                && timeline.density.value().is_some()
                && timeline.pages.row(target.saturating_sub(1)).is_some()
        }
        PanelKind::TimeTravel => {
            let travel = &panels.time_travel;
            let reference = travel.reference.value().map(|r| r.position());
            reference.is_some()
                // The state shown is the final one: at the target, diffed
                // against the reference (not one about to be replaced).
                && travel.travel.value().is_some_and(|t| {
                    t.position == target
                        && t.diff.as_ref().map(|d| d.0) == reference
                        // The rows on the first screen are read, so the
                        // measured frames draw real rows, not placeholders.
                        && t.rows_loaded(travel.table, travel.show_state, 0..FIRST_SCREEN_ROWS)
                })
        }
        PanelKind::Compare => panels.compare.verify.value().is_some(),
        PanelKind::WhatIf => {
            let what_if = &panels.what_if;
            !what_if.report.is_asked() && what_if.report.value().is_some()
        }
        _ => true,
    }
}

/// Opens the app on the embedded stores in `data_dir`, shows `panel` (for the
/// timeline and time travel: at the middle of the ledger), waits for its data,
/// runs 20 warm-up frames and then measures `frames` frames.
pub fn run_case(data_dir: &Path, panel_name: &str, frames: usize) -> anyhow::Result<UiCase> {
    let panel =
        PanelKind::parse(panel_name).with_context(|| format!("unknown panel {panel_name}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting tokio")?;
    let started = Instant::now();
    let options = GuiOptions {
        store: StoreConfig::embedded(data_dir),
        engine: EngineConfig::new("gui:bench"),
        observe_only: false,
        mask: None,
        runtime: runtime.handle().clone(),
    };
    let mut app = LedgerApp::with_prefs_path(options, None);
    let ctx = egui::Context::default();
    let deadline = started + Duration::from_secs(900);
    // Connect and learn the head.
    while !(app.is_connected() && app.shell().head > 0) {
        if Instant::now() > deadline {
            bail!("the app did not connect and see the ledger in time");
        }
        frame(&ctx, &mut app, started);
        std::thread::sleep(Duration::from_millis(10));
    }
    let head = app.shell().head;
    let target = (head / 2).max(1);
    app.push_command(ShellCommand::ShowPanel(panel));
    match panel {
        PanelKind::Timeline => app.push_command(TimelineCommand::JumpToPosition(target)),
        PanelKind::TimeTravel => app.push_command(TimeTravelCommand::SetCursor(target)),
        PanelKind::WhatIf => {
            let (from, to) = whatif_range(head);
            app.push_command(WhatIfCommand::SetDraft(
                WhatIfField::Range,
                format!("{from}..{to}"),
            ));
            app.push_command(WhatIfCommand::Run);
        }
        _ => {}
    }
    while !ready(&app, panel, target) {
        if Instant::now() > deadline {
            bail!(
                "the {panel_name} panel's data did not arrive in time: {:?}",
                app.errors()
            );
        }
        frame(&ctx, &mut app, started);
        std::thread::sleep(Duration::from_millis(10));
    }
    let ready_secs = started.elapsed().as_secs_f64();
    for _ in 0..20 {
        frame(&ctx, &mut app, started);
        std::thread::sleep(Duration::from_millis(5));
    }
    let clock = if thread_cpu_ns().is_some() {
        "thread CPU (clock_gettime CLOCK_THREAD_CPUTIME_ID)"
    } else {
        "wall (no thread CPU clock)"
    };
    let mut cpu = Vec::with_capacity(frames);
    let mut wall = Vec::with_capacity(frames);
    for _ in 0..frames.max(1) {
        let cpu_before = thread_cpu_ns();
        let wall_before = Instant::now();
        frame(&ctx, &mut app, started);
        let wall_ms = wall_before.elapsed().as_secs_f64() * 1e3;
        let cpu_ms = match (cpu_before, thread_cpu_ns()) {
            (Some(a), Some(b)) => b.saturating_sub(a) as f64 / 1e6,
            _ => wall_ms,
        };
        cpu.push(cpu_ms);
        wall.push(wall_ms);
    }
    if !app.errors().is_empty() {
        bail!("the app reported errors: {:?}", app.errors());
    }
    let what_if = match panel {
        PanelKind::WhatIf => app.panels().what_if.report.value().map(|report| {
            let (from, to) = whatif_range(head);
            WhatIfShown {
                range: format!("{from}..{to}"),
                no_ops: report.no_ops.len(),
                excluded: report.excluded.len(),
                differing_rows: report.difference.tables.iter().map(|t| t.rows.len()).sum(),
            }
        }),
        _ => None,
    };
    app.shutdown();
    let case = UiCase {
        panel: panel_name.to_string(),
        head,
        frames: cpu.len(),
        cpu_median_ms: crate::record::median(&cpu),
        cpu_p99_ms: crate::record::quantile(&cpu, 0.99),
        cpu_mean_ms: cpu.iter().sum::<f64>() / cpu.len().max(1) as f64,
        wall_median_ms: crate::record::median(&wall),
        ready_secs,
        vm_hwm_kib: status_kib("VmHWM:"),
        vm_rss_kib: status_kib("VmRSS:"),
        clock: clock.to_string(),
        what_if,
    };
    drop(app);
    runtime.shutdown_timeout(Duration::from_secs(5));
    Ok(case)
}
