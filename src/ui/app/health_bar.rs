//! The top bar's health line: the read store (locked or unreachable, and
//! since when), projectors blocked on a write (how long), the projectors'
//! lease (holder, when renewed, when it lapses) and the drift the last
//! comparison found (a click opens Compare). Operations keeps the detail.

use crate::ui::i18n::t;
use std::time::Duration;

use chrono::Utc;

use crate::domain::ProjectorId;
use crate::ui::app::Shell;
use crate::ui::app::shell::DriftSeen;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::panels::PanelKind;
use crate::ui::widgets::health::{
    blocked_list_text, clock_text, lease_owner_text, lease_timing_text, leases_text,
    trouble_detail, trouble_text,
};
use crate::ui::widgets::palette;

/// How often a shown duration ("for 12 s", "expires in 7 s") is redrawn.
const TICK: Duration = Duration::from_secs(1);

fn drift_ui(ui: &mut egui::Ui, drift: Option<DriftSeen>, commands: &mut Vec<UiCommand>) {
    let text = match drift {
        None => egui::RichText::new(t!("health-drift-not-compared")).weak(),
        Some(DriftSeen { rows: 0, at }) => {
            egui::RichText::new(t!("health-no-drift", at = clock_text(at)))
                .color(palette(ui.visuals()).ok)
        }
        Some(DriftSeen { rows, at }) => {
            egui::RichText::new(t!("health-drift-rows", rows = rows, at = clock_text(at)))
                .color(palette(ui.visuals()).error)
                .strong()
        }
    };
    if ui
        .add(egui::Button::new(text).frame(false))
        .on_hover_text(t!("health-drift-hover"))
        .clicked()
    {
        commands.push(ShellCommand::ShowPanel(PanelKind::Compare).into());
    }
}

/// Each projector's lease in full, for the hover.
fn leases_detail(shell: &Shell, now: chrono::DateTime<Utc>) -> String {
    let lines: Vec<String> = ProjectorId::ALL
        .into_iter()
        .map(|p| match shell.status(p).and_then(|s| s.lease.as_ref()) {
            Some(lease) => format!(
                "{}: {} (fencing {}), {}",
                p.name(),
                lease_owner_text(lease, &shell.instance_id),
                lease.fencing,
                lease_timing_text(lease, now)
            ),
            None => format!("{}: no lease (nobody projects it)", p.name()),
        })
        .collect();
    format!(
        "{}\nOne instance projects each projector, renewing its lease as it goes; \
         the others watch and take over once it lapses.",
        lines.join("\n")
    )
}

/// Draws the health line (nothing while not connected).
pub(super) fn health_bar_ui(ui: &mut egui::Ui, shell: &Shell, commands: &mut Vec<UiCommand>) {
    if !shell.connected() {
        return;
    }
    let now = Utc::now();
    let health = &shell.read_health;
    let leases: Vec<_> = ProjectorId::ALL
        .into_iter()
        .map(|p| (p, shell.status(p).and_then(|s| s.lease.as_ref())))
        .collect();
    let lease_ticks = leases
        .iter()
        .any(|(_, lease)| lease.is_some_and(|l| l.owner != shell.instance_id || l.expired_at(now)));
    ui.horizontal_wrapped(|ui| {
        match &health.trouble {
            Some(trouble) => {
                ui.label(
                    egui::RichText::new(trouble_text(trouble, shell.outage))
                        .color(palette(ui.visuals()).error)
                        .strong(),
                )
                .on_hover_text(trouble_detail(trouble, now));
            }
            None => {
                ui.label(
                    egui::RichText::new(t!("health-read-store-ok")).color(palette(ui.visuals()).ok),
                )
                .on_hover_text(t!("health-read-store-ok-hover"));
            }
        }
        if let Some(text) = blocked_list_text(&health.blocked, now) {
            ui.separator();
            ui.label(egui::RichText::new(text).color(palette(ui.visuals()).error))
                .on_hover_text(t!("health-write-waiting"));
        }
        ui.separator();
        let text = egui::RichText::new(leases_text(&leases, &shell.instance_id, now));
        let expired = leases
            .iter()
            .any(|(_, lease)| lease.is_some_and(|l| l.expired_at(now)));
        ui.label(if expired {
            text.color(palette(ui.visuals()).warn)
        } else {
            text
        })
        .on_hover_text(leases_detail(shell, now));
        ui.separator();
        drift_ui(ui, shell.drift, commands);
    });
    if health.trouble.is_some() || !health.blocked.is_empty() || lease_ticks {
        ui.ctx().request_repaint_after(TICK);
    }
}
