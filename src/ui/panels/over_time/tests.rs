//! Over time drawn alone: the fold's progress while it runs.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::{OverTimeMessage, OverTimePanel, over_time_ui};
use crate::engine::{Phase, Progress};
use crate::ui::app::Shell;

fn drawn(panel: &OverTimePanel) -> Harness<'_> {
    let shell = Shell::default();
    let mut harness = Harness::builder()
        .with_size([1100.0, 600.0])
        .build_ui(move |ui| over_time_ui(ui, panel, &shell, &mut Vec::new()));
    harness.run_steps(2);
    harness
}

fn progress(done: u64, total: u64) -> Progress {
    Progress {
        phase: Phase::Reading,
        done,
        total,
        rate_per_sec: 1_000.0,
        eta_secs: Some(1.0),
    }
}

#[test]
fn the_fold_shows_its_progress_in_percent_while_it_runs() {
    let mut panel = OverTimePanel::default();
    panel.series.ask(3);
    // A report of another request is not this fold's.
    panel.apply(OverTimeMessage::Progress {
        request: 2,
        progress: progress(10, 100),
    });
    assert!(panel.progress.is_none());
    {
        let harness = drawn(&panel);
        assert!(
            harness
                .query_by_label_contains("Folding the ledger")
                .is_some()
        );
        assert!(harness.query_by_label_contains("%").is_none());
    }
    panel.apply(OverTimeMessage::Progress {
        request: 3,
        progress: progress(84_000, 200_000),
    });
    {
        let harness = drawn(&panel);
        assert!(harness.query_by_label("42%").is_some(), "the bar's percent");
        assert!(
            harness
                .query_by_label_contains("84,000 of 200,000 events")
                .is_some()
        );
    }
    // The answer ends it.
    panel.apply(OverTimeMessage::Loaded {
        request: 3,
        result: Ok(crate::domain::Series::default()),
    });
    assert!(panel.progress.is_none() && !panel.series.is_asked());
    let harness = drawn(&panel);
    assert!(harness.query_by_label("42%").is_none());
}
