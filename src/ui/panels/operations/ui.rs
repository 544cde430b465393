//! Drawing Operations.

use super::{OperationsCommand as C, OperationsPanel};
use crate::ui::i18n::t;
use chrono::{DateTime, Utc};

use crate::domain::ProjectorId;
use crate::engine::ProjectorStatus;
use crate::engine::snapshot::{HISTORY_AFTER, HISTORY_AGAIN};
use crate::ui::app::Shell;
use crate::ui::app::dialogs::Confirm;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::jobs::JobKind;
use crate::ui::scenarios::{Target, mark_target};
use crate::ui::widgets::health::{
    blocked_text, lease_owner_text, lease_timing_text, projector_state_text, trouble_detail,
    trouble_text, whole_secs,
};
use crate::ui::widgets::job_progress::job_progress_ui;
use crate::ui::widgets::outage_switch::outage_switch_ui;
use crate::ui::widgets::virtual_grid::virtual_grid_ui;
use crate::ui::widgets::write_button::{write_button_if_ui, write_button_ui};
use crate::ui::widgets::{human_bytes, palette, truncated_label_ui, wrapped_label_ui};

fn ask(commands: &mut Vec<UiCommand>, confirm: Confirm) {
    commands.push(ShellCommand::Ask(confirm).into());
}

/// The read store's health: locked or unreachable since when, and how
/// long, with its last answer.
fn read_health_ui(ui: &mut egui::Ui, shell: &Shell, now: DateTime<Utc>) {
    if let Some(trouble) = &shell.read_health.trouble {
        wrapped_label_ui(
            ui,
            egui::RichText::new(t!(
                "operations-trouble",
                outage = trouble_text(trouble, shell.outage),
                since = whole_secs(now - trouble.since()),
                detail = trouble_detail(trouble, now)
            ))
            .color(palette(ui.visuals()).error),
        );
    }
}

/// The lease holder's cell: who, and when the lease was renewed and lapses.
fn lease_cell_ui(ui: &mut egui::Ui, status: &ProjectorStatus, shell: &Shell, now: DateTime<Utc>) {
    let Some(lease) = &status.lease else {
        ui.label("—");
        return;
    };
    let text = format!(
        "{}: {}",
        lease_owner_text(lease, &shell.instance_id),
        lease_timing_text(lease, now)
    );
    let text = egui::RichText::new(text);
    ui.label(if lease.expired_at(now) {
        text.color(palette(ui.visuals()).warn)
    } else {
        text
    })
    .on_hover_text(t!(
        "operations-lease-owner",
        owner = lease.owner,
        fencing = lease.fencing
    ));
}

fn projectors_ui(ui: &mut egui::Ui, shell: &Shell, commands: &mut Vec<UiCommand>) {
    ui.heading(t!("operations-projectors"));
    let now = Utc::now();
    read_health_ui(ui, shell, now);
    if shell.statuses.iter().any(|s| s.lease.is_some()) || shell.read_health.trouble.is_some() {
        // The leases' and the trouble's ages count up.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_secs(1));
    }
    egui::Grid::new("projectors")
        .num_columns(7)
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for h in [
                t!("operations-col-projector"),
                t!("operations-col-checkpoint"),
                t!("operations-col-lag"),
                t!("operations-col-status"),
                t!("operations-col-lease-holder"),
                String::new(),
                t!("operations-col-last-error"),
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for projector in ProjectorId::ALL {
                let Some(status) = shell.status(projector) else {
                    continue;
                };
                let lag = shell.lag_events(status);
                ui.label(format!("{} -> {}", projector.name(), projector.table()));
                ui.monospace(status.checkpoint.to_string());
                ui.colored_label(
                    if lag == 0 {
                        palette(ui.visuals()).ok
                    } else {
                        palette(ui.visuals()).warn
                    },
                    lag.to_string(),
                );
                match shell.read_health.blocked_since(projector) {
                    Some(since) => ui.colored_label(
                        palette(ui.visuals()).error,
                        format!(
                            "{}, {}",
                            projector_state_text(&status.state),
                            blocked_text(since, now)
                        ),
                    ),
                    None => ui.label(projector_state_text(&status.state)),
                };
                lease_cell_ui(ui, status, shell, now);
                let paused = matches!(status.state, crate::engine::ProjectorState::Paused);
                if write_button_ui(
                    ui,
                    shell,
                    if paused {
                        t!("operations-resume")
                    } else {
                        t!("operations-pause")
                    },
                ) {
                    commands.push(C::SetPaused(projector, !paused).into());
                }
                match &status.last_error {
                    Some(error) => {
                        let since = status
                            .error_since
                            .map(|t| t!("operations-error-since", at = t.format("%H:%M:%S")))
                            .unwrap_or_default();
                        let color = palette(ui.visuals()).error;
                        let text = egui::RichText::new(format!("{since}{error}")).color(color);
                        truncated_label_ui(ui, text, None);
                    }
                    None => {
                        ui.label("—");
                    }
                }
                ui.end_row();
            }
        });
    let skipped: Vec<String> = shell
        .statuses
        .iter()
        .filter(|s| !s.skipped.is_empty())
        .map(|s| {
            t!(
                "operations-skipped",
                projector = s.projector.name(),
                positions = format!("{:?}", s.skipped)
            )
        })
        .collect();
    if !skipped.is_empty() {
        ui.colored_label(
            palette(ui.visuals()).warn,
            t!("operations-malformed", list = skipped.join("; ")),
        );
    }
    // Holes crossed: positions another writer left empty (engine::holes).
    let holes: Vec<String> = shell
        .statuses
        .iter()
        .filter(|s| !s.holes.is_empty())
        .map(|s| {
            let list: Vec<String> = s.holes.iter().map(ToString::to_string).collect();
            t!(
                "operations-crossed",
                projector = s.projector.name(),
                positions = list.join(", ")
            )
        })
        .collect();
    if !holes.is_empty() {
        ui.colored_label(
            palette(ui.visuals()).warn,
            t!("operations-holes", list = holes.join("; ")),
        )
        .on_hover_text(t!("operations-holes-hover"));
    }
}

fn replay_ui(
    ui: &mut egui::Ui,
    panel: &OperationsPanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    ui.heading(t!("operations-replay"));
    ui.label(t!(
        "operations-replay-note",
        read_store_name = shell.read_store_name()
    ));
    let running = shell.jobs.running(JobKind::Replay);
    ui.horizontal(|ui| {
        if write_button_if_ui(
            ui,
            shell,
            !running,
            Some(t!("common-replay-running")),
            t!("operations-replay-from-zero"),
        ) {
            ask(
                commands,
                Confirm::Replay {
                    from_snapshot: false,
                },
            );
        }
        let has_snapshot = panel.snapshots.value().is_some_and(|s| !s.is_empty());
        if write_button_if_ui(
            ui,
            shell,
            !running && has_snapshot,
            Some(if running {
                t!("common-replay-running")
            } else {
                t!("operations-no-snapshot-yet")
            }),
            t!("operations-replay-from-snapshot"),
        ) {
            ask(
                commands,
                Confirm::Replay {
                    from_snapshot: true,
                },
            );
        }
    });
    job_progress_ui(ui, &shell.jobs, JobKind::Replay, commands);
}

fn snapshots_ui(
    ui: &mut egui::Ui,
    panel: &OperationsPanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    ui.heading(t!("operations-snapshots"));
    // The engine's one pass over a cold ledger, while it runs and how it ended.
    let pass = JobKind::HistoryPass;
    if shell.jobs.running(pass) || shell.jobs.result(pass).is_some() {
        job_progress_ui(ui, &shell.jobs, pass, commands);
    }
    ui.horizontal_wrapped(|ui| {
        let running = shell.jobs.running(JobKind::Snapshot);
        if write_button_if_ui(
            ui,
            shell,
            !running,
            Some(t!("operations-snapshot-running")),
            t!("operations-take-snapshot"),
        ) {
            commands.push(C::TakeSnapshot.into());
        }
        if ui
            .add_enabled(
                shell.connected(),
                egui::Button::new(t!("operations-refresh-list")),
            )
            .clicked()
        {
            commands.push(C::RefreshSnapshots.into());
        }
        let every = shell.snapshot_every;
        let delta = shell.snapshot_delta_every;
        let deltas = if delta > 0 && delta < every {
            t!("operations-policy-deltas", every = delta)
        } else {
            String::new()
        };
        let policy = t!(
            "operations-policy",
            every = every,
            until = every.saturating_mul(HISTORY_AFTER),
            history = every.saturating_mul(HISTORY_AGAIN),
            deltas = deltas
        );
        ui.label(if every == 0 {
            t!("operations-auto-snapshots-off").to_string()
        } else if shell.observe_only {
            t!("operations-auto-snapshots-paused", policy = policy)
        } else {
            t!("operations-auto-snapshots", policy = policy)
        })
        .on_hover_text(t!("operations-auto-snapshots-hover"));
    });
    job_progress_ui(ui, &shell.jobs, JobKind::Snapshot, commands);
    job_progress_ui(ui, &shell.jobs, JobKind::Restore, commands);
    let snapshots = match panel.snapshots.value() {
        Some(list) if !list.is_empty() => list,
        Some(_) => {
            ui.label(t!("operations-no-snapshots-yet"));
            return;
        }
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(t!("operations-reading-snapshots"));
            });
            return;
        }
    };
    let restoring = shell.jobs.running(JobKind::Restore);
    // Only the visible rows are laid out: a long ledger has a thousand
    // snapshots (deltas included), listed newest first.
    let headers = [
        "id",
        "position",
        "kind",
        "taken at (UTC)",
        "size",
        "rows",
        "",
    ];
    virtual_grid_ui(
        ui,
        "snapshots",
        220.0,
        &headers,
        snapshots.len(),
        |ui, i| {
            let s = &snapshots[snapshots.len() - 1 - i];
            ui.monospace(&s.id.to_string()[..8])
                .on_hover_text(s.id.to_string());
            ui.monospace(s.position.to_string());
            match s.base {
                _ if s.is_history() => ui
                    .label(t!("operations-snapshot-history"))
                    .on_hover_text(t!("operations-snapshot-history-hover")),
                None => ui.label(t!("operations-snapshot-full")),
                Some(base) if base.is_nil() => ui
                    .label(t!("operations-snapshot-delta-empty"))
                    .on_hover_text(t!("operations-snapshot-delta-empty-hover")),
                Some(base) => ui
                    .label(t!(
                        "operations-snapshot-delta",
                        base = &base.to_string()[..8]
                    ))
                    .on_hover_text(t!("operations-snapshot-delta-hover")),
            };
            ui.label(s.taken_at.format("%Y-%m-%d %H:%M:%S").to_string());
            ui.label(human_bytes(s.size_bytes));
            ui.label(t!(
                "operations-snapshot-rows",
                users = s.users,
                bookings = s.bookings
            ));
            if write_button_if_ui(
                ui,
                shell,
                !restoring,
                Some(t!("operations-restore-running")),
                t!("operations-restore"),
            ) {
                ask(
                    commands,
                    Confirm::Restore {
                        id: s.id,
                        position: s.position,
                    },
                );
            }
        },
    );
}

fn outage_ui(ui: &mut egui::Ui, shell: &Shell, commands: &mut Vec<UiCommand>) {
    ui.heading(t!("operations-training"));
    outage_switch_ui(ui, shell, commands);
    if shell.outage {
        ui.colored_label(palette(ui.visuals()).warn, t!("operations-simulation-on"));
    }
}

/// Draws the Operations panel.
pub fn operations_ui(
    ui: &mut egui::Ui,
    panel: &OperationsPanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            projectors_ui(ui, shell, commands);
            ui.separator();
            let replay = ui.scope(|ui| replay_ui(ui, panel, shell, commands));
            mark_target(ui, Target::ReplayFromZero, replay.response.rect);
            ui.separator();
            let snapshots = ui.scope(|ui| snapshots_ui(ui, panel, shell, commands));
            mark_target(ui, Target::Snapshots, snapshots.response.rect);
            ui.separator();
            super::repairs_ui::repairs_ui(ui, panel, shell, commands);
            ui.separator();
            outage_ui(ui, shell, commands);
        });
}

#[cfg(test)]
mod tests;
