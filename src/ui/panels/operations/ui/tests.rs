use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::operations_ui;
use crate::engine::{EngineError, Phase, Progress};
use crate::ui::app::Shell;
use crate::ui::jobs::JobKind;
use crate::ui::panels::operations::OperationsPanel;

fn drawn<'a>(panel: &'a OperationsPanel, shell: &'a Shell) -> Harness<'a> {
    let mut harness = Harness::builder()
        .with_size([1100.0, 2400.0])
        .build_ui(move |ui| operations_ui(ui, panel, shell, &mut Vec::new()));
    // A running job draws a spinner, which repaints forever.
    harness.run_steps(4);
    harness
}

fn shows(panel: &OperationsPanel, shell: &Shell, text: &str) -> bool {
    drawn(panel, shell).query_by_label_contains(text).is_some()
}

#[test]
fn the_history_pass_shows_while_it_runs_and_then_how_it_ended() {
    let panel = OperationsPanel::default();
    let mut shell = Shell::default();
    assert!(!shows(&panel, &shell, "History pass"), "no pass, no bar");

    // The engine reports the pass it started by itself.
    shell.jobs.observe(
        JobKind::HistoryPass,
        Progress {
            phase: Phase::Reading,
            done: 250_000,
            total: 1_000_000,
            rate_per_sec: 300_000.0,
            eta_secs: Some(2.5),
        },
    );
    assert!(shell.jobs.running(JobKind::HistoryPass));
    assert!(shows(
        &panel,
        &shell,
        "History pass over the ledger: reading and folding events"
    ));

    shell.jobs.done(
        JobKind::HistoryPass,
        Ok(crate::ui::i18n::said!(
            "job-history-done",
            events = 1_000_000u64,
            secs = crate::ui::i18n::OneDecimal(3.9),
            users = 10u64,
            bookings = 20u64,
            megabytes = crate::ui::i18n::OneDecimal(1.0)
        )),
    );
    assert!(shows(
        &panel,
        &shell,
        "Read the 1,000,000 events once in 3.9 s"
    ));

    shell.jobs.observe(
        JobKind::HistoryPass,
        Progress::of(Phase::Reading, 1, 10, std::time::Instant::now()),
    );
    shell.jobs.done(
        JobKind::HistoryPass,
        Err(EngineError::Crashed("the disk is full".into())),
    );
    assert!(shows(
        &panel,
        &shell,
        "History pass over the ledger failed: "
    ));
}

#[test]
fn snapshots_the_retention_rule_deleted_leave_the_list() {
    use crate::engine::EngineNotice;
    use crate::store::SnapshotMeta;
    let snapshot = |position: u64, base: Option<uuid::Uuid>| SnapshotMeta {
        id: uuid::Uuid::new_v4(),
        position,
        base,
        ..SnapshotMeta::empty_ledger()
    };
    let full = snapshot(10_000, None);
    let delta = snapshot(11_000, Some(full.id));
    let history = snapshot(40_123, Some(SnapshotMeta::HISTORY));
    let mut panel = OperationsPanel::default();
    panel
        .snapshots
        .arrive(0, vec![full.clone(), delta.clone(), history.clone()]);
    let shell = Shell::default();
    // Labels naming a snapshot (a delta's row names its full one too).
    let naming = |panel: &OperationsPanel, meta: &SnapshotMeta| {
        drawn(panel, &shell)
            .query_all_by_label_contains(&meta.id.to_string()[..8])
            .count()
    };
    assert_eq!(naming(&panel, &full), 2, "its row and its delta's");
    assert_eq!(naming(&panel, &delta), 1);

    panel.on_notice(&EngineNotice::SnapshotsRetired(vec![full.id, delta.id]));
    assert_eq!(naming(&panel, &full), 0, "the full one is gone");
    assert_eq!(naming(&panel, &delta), 0, "its delta too");
    assert_eq!(naming(&panel, &history), 1, "the history stays");
}
