//! Operations: projectors (checkpoint, lag, status, lease holder,
//! pause/resume), replay from zero or from the newest snapshot with progress,
//! snapshots (list, take now, auto interval, restore), and the training switch
//! that simulates a read-store outage.

use crate::domain::ProjectorId;
use crate::ui::commands::{Confirm, JobKind, UiCommand};
use crate::ui::tasks::human_bytes;
use crate::ui::view::View;
use crate::ui::widgets::job_progress::job_progress_ui;
use crate::ui::widgets::write_button::{write_button_if_ui, write_button_ui};
use crate::ui::widgets::{ERROR_COLOR, OK_COLOR, WARN_COLOR};

fn projectors_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    ui.heading("Projectors");
    egui::Grid::new("projectors")
        .num_columns(7)
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for h in [
                "projector",
                "checkpoint",
                "lag",
                "status",
                "lease holder",
                "",
                "last error",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for projector in ProjectorId::ALL {
                let Some(status) = view.data.status(projector) else {
                    continue;
                };
                let lag = view.data.lag_events(status);
                ui.label(format!("{} -> {}", projector.name(), projector.table()));
                ui.monospace(status.checkpoint.to_string());
                ui.colored_label(
                    if lag == 0 { OK_COLOR } else { WARN_COLOR },
                    lag.to_string(),
                );
                ui.label(format!("{:?}", status.state));
                let holder = status.lease_holder.clone().unwrap_or_else(|| "—".into());
                let mine = status.lease_holder.as_deref() == Some(view.data.instance_id.as_str());
                ui.label(if mine {
                    format!("{holder} (this window)")
                } else {
                    holder
                });
                let paused = matches!(status.state, crate::engine::ProjectorState::Paused);
                if write_button_ui(ui, view, if paused { "Resume" } else { "Pause" }) {
                    commands.push(UiCommand::SetPaused(projector, !paused));
                }
                match &status.last_error {
                    Some(error) => {
                        let since = status
                            .error_since
                            .map(|t| format!("since {} UTC: ", t.format("%H:%M:%S")))
                            .unwrap_or_default();
                        ui.add(
                            egui::Label::new(
                                egui::RichText::new(format!("{since}{error}")).color(ERROR_COLOR),
                            )
                            .truncate(),
                        )
                        .on_hover_text(error);
                    }
                    None => {
                        ui.label("—");
                    }
                }
                ui.end_row();
            }
        });
    let skipped: Vec<String> = view
        .data
        .statuses
        .iter()
        .filter(|s| !s.skipped.is_empty())
        .map(|s| format!("{} skipped {:?}", s.projector.name(), s.skipped))
        .collect();
    if !skipped.is_empty() {
        ui.colored_label(
            WARN_COLOR,
            format!("Malformed positions: {}", skipped.join("; ")),
        );
    }
    // Holes crossed: positions another writer left empty (engine::holes).
    let holes: Vec<String> = view
        .data
        .statuses
        .iter()
        .filter(|s| !s.holes.is_empty())
        .map(|s| {
            let list: Vec<String> = s.holes.iter().map(ToString::to_string).collect();
            format!("{} crossed {}", s.projector.name(), list.join(", "))
        })
        .collect();
    if !holes.is_empty() {
        ui.colored_label(
            WARN_COLOR,
            format!("Holes in positions (no event there): {}", holes.join("; ")),
        )
        .on_hover_text(
            "Positions with no event below a stored one, left by another writer, a restore or a hand edit. \
             Projectors wait for them a few seconds, then record them and move on; replay and verify cross them too.",
        );
    }
}

fn replay_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    ui.heading("Replay");
    ui.label(format!(
        "Rebuilds the read tables in {} from the ledger into fresh tables and swaps them in at once.",
        view.read_store_name()
    ));
    let running = view.data.running(JobKind::Replay);
    ui.horizontal(|ui| {
        if write_button_if_ui(
            ui,
            view,
            !running,
            Some("A replay is running."),
            "Replay from zero…",
        ) {
            commands.push(UiCommand::Ask(Confirm::Replay {
                from_snapshot: false,
            }));
        }
        let has_snapshot = !view.data.snapshots.is_empty();
        if write_button_if_ui(
            ui,
            view,
            !running && has_snapshot,
            Some(if running {
                "A replay is running."
            } else {
                "No snapshot yet."
            }),
            "Replay from newest snapshot…",
        ) {
            commands.push(UiCommand::Ask(Confirm::Replay {
                from_snapshot: true,
            }));
        }
    });
    job_progress_ui(ui, view, JobKind::Replay, commands);
}

fn snapshots_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    ui.heading("Snapshots");
    ui.horizontal_wrapped(|ui| {
        let running = view.data.running(JobKind::Snapshot);
        if write_button_if_ui(
            ui,
            view,
            !running,
            Some("A snapshot is being taken."),
            "Take snapshot now",
        ) {
            commands.push(UiCommand::TakeSnapshot);
        }
        if ui
            .add_enabled(view.connected(), egui::Button::new("Refresh list"))
            .clicked()
        {
            commands.push(UiCommand::RefreshSnapshots);
        }
        let every = view.data.snapshot_every;
        let delta = view.data.snapshot_delta_every;
        let deltas = if delta > 0 && delta < every {
            format!(", a delta every {delta}")
        } else {
            String::new()
        };
        ui.label(if every == 0 {
            "Automatic snapshots: off".to_string()
        } else if view.state.observe_only {
            format!("Automatic snapshots: every {every} events{deltas} (paused in observe-only)")
        } else {
            format!("Automatic snapshots: every {every} events{deltas}")
        })
        .on_hover_text("Set at start with the engine configuration (CLI/GUI flag).");
    });
    job_progress_ui(ui, view, JobKind::Snapshot, commands);
    job_progress_ui(ui, view, JobKind::Restore, commands);
    if view.data.snapshots.is_empty() {
        ui.label("No snapshots yet.");
        return;
    }
    let restoring = view.data.running(JobKind::Restore);
    let snapshots = &view.data.snapshots;
    let row_height = ui.spacing().interact_size.y + 3.0;
    // Only the visible rows are laid out: a long ledger has a thousand
    // snapshots (deltas included). Row 0 is the header.
    egui::ScrollArea::vertical()
        .id_salt("snapshots")
        .max_height(220.0)
        .show_rows(ui, row_height, snapshots.len() + 1, |ui, range| {
            egui::Grid::new("snapshot_list")
                .num_columns(7)
                .striped(true)
                .spacing([14.0, 3.0])
                .min_row_height(row_height - 3.0)
                .show(ui, |ui| {
                    if range.start == 0 {
                        for h in [
                            "id",
                            "position",
                            "kind",
                            "taken at (UTC)",
                            "size",
                            "rows",
                            "",
                        ] {
                            ui.strong(h);
                        }
                        ui.end_row();
                    }
                    let newest_first = snapshots.iter().rev();
                    let skip = range.start.saturating_sub(1);
                    let take = range.end.saturating_sub(range.start.max(1));
                    for s in newest_first.skip(skip).take(take) {
                        ui.monospace(&s.id.to_string()[..8])
                            .on_hover_text(s.id.to_string());
                        ui.monospace(s.position.to_string());
                        match s.base {
                            None => ui.label("full"),
                            Some(base) if base.is_nil() => {
                                ui.label("delta of empty").on_hover_text(
                                    "Row changes since position 0 (no full snapshot before it).",
                                )
                            }
                            Some(base) => ui
                                .label(format!("delta of {}", &base.to_string()[..8]))
                                .on_hover_text("Only the row changes since that full snapshot."),
                        };
                        ui.label(s.taken_at.format("%Y-%m-%d %H:%M:%S").to_string());
                        ui.label(human_bytes(s.size_bytes));
                        ui.label(format!("{} users, {} bookings", s.users, s.bookings));
                        if write_button_if_ui(
                            ui,
                            view,
                            !restoring,
                            Some("A restore is running."),
                            "Restore…",
                        ) {
                            commands.push(UiCommand::Ask(Confirm::Restore {
                                id: s.id,
                                position: s.position,
                            }));
                        }
                        ui.end_row();
                    }
                });
        });
}

fn outage_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    ui.heading("Training");
    let mut on = view.data.outage;
    let label =
        egui::RichText::new("SIMULATE read-store outage (training simulation)").color(WARN_COLOR);
    let response = ui
        .add_enabled(
            view.connected() && !view.state.observe_only,
            egui::Checkbox::new(&mut on, label),
        )
        .on_hover_text(
            "While on, projection writes fail: the ledger keeps accepting events, the views lag, \
             and they catch up when you switch it off. Nothing is really broken.",
        )
        .on_disabled_hover_text(view.write_block_reason().unwrap_or_default());
    if response.changed() {
        commands.push(UiCommand::SetOutage(on));
    }
    if view.data.outage {
        ui.colored_label(
            WARN_COLOR,
            "SIMULATION ON: the read store refuses writes. Emit events and watch the lag grow; switch off to see them catch up.",
        );
    }
}

/// Draws the Operations panel.
pub fn operations_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            projectors_ui(ui, view, commands);
            ui.separator();
            replay_ui(ui, view, commands);
            ui.separator();
            snapshots_ui(ui, view, commands);
            ui.separator();
            outage_ui(ui, view, commands);
        });
}
