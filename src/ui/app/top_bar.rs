//! The always-visible top bar: menu, connected stores (remote ones flagged
//! like a production banner), head, projector lag gauges, mode, the outage
//! simulation flag, the health line ([`super::health_bar`]), the last
//! error, and the panel tabs.

use crate::domain::ProjectorId;
use crate::store::StoreInfo;
use crate::ui::app::Shell;
use crate::ui::app::dialogs::Confirm;
use crate::ui::app::shell::Connection;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::i18n::t;
use crate::ui::panels::PanelKind;
use crate::ui::scenarios::{Target, mark_target};
use crate::ui::widgets::health::{blocked_text, projector_state_text};
use crate::ui::widgets::lag_gauge::lag_gauge_ui;
use crate::ui::widgets::{palette, truncated_label_ui};

fn store_ui(ui: &mut egui::Ui, role: &str, info: Option<&StoreInfo>) {
    match info {
        Some(info) if info.remote => {
            egui::Frame::new()
                .fill(palette(ui.visuals()).error.gamma_multiply(0.35))
                .inner_margin(egui::Margin::symmetric(6, 2))
                .corner_radius(3.0)
                .show(ui, |ui| {
                    ui.label(
                        egui::RichText::new(t!("top-remote", role = role, info = info)).strong(),
                    )
                    .on_hover_text(t!("top-remote-hover"));
                });
        }
        Some(info) => {
            truncated_label_ui(ui, format!("{role}: {info}"), Some(&info.location));
        }
        None => {
            ui.label(format!("{role}: —"));
        }
    }
}

/// Draws the top bar.
pub fn top_bar_ui(ui: &mut egui::Ui, shell: &Shell, commands: &mut Vec<UiCommand>) {
    let data = shell;
    egui::MenuBar::new().ui(ui, |ui| {
        super::menu::menu_ui(ui, shell, commands);
        ui.separator();
        let width = ((ui.available_width() - 20.0) / 2.0).max(150.0);
        ui.allocate_ui(egui::vec2(width, 20.0), |ui| {
            store_ui(ui, &t!("top-store-ledger"), data.ledger.as_ref())
        });
        ui.allocate_ui(egui::vec2(width, 20.0), |ui| {
            store_ui(ui, &t!("top-store-read"), data.read.as_ref())
        });
    });
    ui.horizontal(|ui| {
        match &data.connection {
            Connection::Connecting => {
                ui.spinner();
                ui.label(t!("top-connecting"));
            }
            Connection::Failed(error) => {
                ui.colored_label(palette(ui.visuals()).error, t!("top-not-connected"));
                if ui.button(t!("top-retry")).clicked() {
                    commands.push(ShellCommand::RetryConnect.into());
                }
                let error = error.to_string();
                let color = palette(ui.visuals()).error;
                truncated_label_ui(ui, egui::RichText::new(&error).color(color), None);
                return;
            }
            Connection::Connected => {
                ui.label(
                    egui::RichText::new(t!("top-head", head = data.head))
                        .strong()
                        .monospace(),
                )
                .on_hover_text(t!("top-highest-ledger-position"));
            }
        }
        ui.separator();
        let gauges = ui.scope(|ui| {
            for projector in ProjectorId::ALL {
                if let Some(status) = data.status(projector) {
                    let lag = data.lag_events(status);
                    let blocked = data
                        .read_health
                        .blocked_since(projector)
                        .map(|since| format!(", {}", blocked_text(since, chrono::Utc::now())))
                        .unwrap_or_default();
                    let last_error = status
                        .last_error
                        .as_ref()
                        .map(|e| t!("top-gauge-last-error", error = e))
                        .unwrap_or_default();
                    let detail = t!(
                        "top-gauge-detail",
                        projector = projector.name(),
                        checkpoint = status.checkpoint,
                        state = projector_state_text(&status.state),
                        blocked = blocked,
                        error = last_error
                    );
                    let short = match projector {
                        ProjectorId::UserProjection => "users",
                        ProjectorId::BookingProjection => "bookings",
                    };
                    lag_gauge_ui(ui, short, lag, &detail);
                }
            }
        });
        mark_target(ui, Target::LagGauges, gauges.response.rect);
        ui.separator();
        ui.label(t!("top-mode"));
        for (observe, name, color) in [
            (false, t!("top-operate"), palette(ui.visuals()).ok),
            (true, t!("top-observe-only"), palette(ui.visuals()).warn),
        ] {
            let selected = shell.observe_only == observe;
            let text = egui::RichText::new(name);
            let text = if selected {
                text.color(color).strong()
            } else {
                text
            };
            let response = ui
                .add_enabled(
                    !shell.observe_locked,
                    egui::Button::selectable(selected, text),
                )
                .on_hover_text(t!("top-observe-hover"))
                .on_disabled_hover_text(t!("top-observe-locked"));
            if response.clicked() && !selected {
                commands.push(ShellCommand::SetObserveOnly(observe).into());
            }
        }
        mask_toggle_ui(ui, shell, commands);
        if data.outage {
            ui.separator();
            ui.label(
                egui::RichText::new(t!("top-outage-badge"))
                    .background_color(palette(ui.visuals()).warn)
                    .color(palette(ui.visuals()).on_badge)
                    .strong(),
            )
            .on_hover_text(t!("top-outage-hover"));
        }
    });
    super::health_bar::health_bar_ui(ui, shell, commands);
    if let Some(foreign) = data
        .pairing
        .as_ref()
        .and_then(crate::engine::Pairing::foreign)
    {
        let (badge, button) = match foreign.other_schema() {
            Some(_) => (
                " READ TABLES OF ANOTHER SCHEMA ",
                "Rebuild them with this schema…",
            ),
            None => (
                " NOT THIS LEDGER'S READ TABLES ",
                "Rebuild them for this ledger…",
            ),
        };
        ui.horizontal(|ui| {
            ui.label(
                egui::RichText::new(badge)
                    .background_color(palette(ui.visuals()).error)
                    .color(egui::Color32::WHITE)
                    .strong(),
            );
            // The button before the sentence, which takes the rest of the line.
            let block = shell.write_block_reason();
            let rebuild = ui.add_enabled(block.is_none(), egui::Button::new(button));
            if let Some(reason) = block {
                rebuild.on_disabled_hover_text(reason);
            } else if rebuild.clicked() {
                commands.push(
                    ShellCommand::Ask(Confirm::Replay {
                        from_snapshot: false,
                    })
                    .into(),
                );
            }
            let sentence = foreign.to_string();
            let color = palette(ui.visuals()).error;
            truncated_label_ui(ui, egui::RichText::new(&sentence).color(color), None);
        });
    }
    if let Some(error) = &data.last_error {
        ui.horizontal(|ui| {
            if ui
                .small_button("×")
                .on_hover_text(t!("top-dismiss"))
                .clicked()
            {
                commands.push(ShellCommand::DismissError.into());
            }
            let color = palette(ui.visuals()).error;
            let text = egui::RichText::new(t!("top-last-error", error = error)).color(color);
            truncated_label_ui(ui, text, None);
        });
    }
    ui.add_space(2.0);
    ui.horizontal(|ui| {
        for panel in PanelKind::ALL {
            let tab = ui.selectable_label(
                shell.panel == panel,
                egui::RichText::new(panel.label()).size(15.0),
            );
            mark_target(ui, Target::Tab(panel), tab.rect);
            if tab.clicked() {
                commands.push(ShellCommand::ShowPanel(panel).into());
            }
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            // Cut to the room the tabs leave (long tab titles in Spanish
            // at 900 px leave little).
            if let Some(ms) = data.frame_ms.iter().copied().reduce(f32::max)
                && ui.available_width() > 40.0
            {
                ui.add(
                    egui::Label::new(
                        egui::RichText::new(t!(
                            "top-frame-time",
                            ms = crate::ui::i18n::format::decimal(ms as f64, 1),
                            frame_ms = data.frame_ms.len()
                        ))
                        .small()
                        .weak(),
                    )
                    .truncate(),
                );
            }
        });
    });
    ui.add_space(2.0);
}

/// Masked or shown personal data: one click masks; showing it asks first
/// and stays said in the bar while it lasts.
fn mask_toggle_ui(ui: &mut egui::Ui, shell: &Shell, commands: &mut Vec<UiCommand>) {
    ui.separator();
    let colors = palette(ui.visuals());
    if shell.masked {
        if ui
            .selectable_label(
                true,
                egui::RichText::new(t!("top-masked"))
                    .color(colors.ok)
                    .strong(),
            )
            .on_hover_text(t!("top-masked-hover"))
            .clicked()
        {
            commands.push(ShellCommand::SetMasked(false).into());
        }
    } else if shell.mask_by_default() {
        // Shown on a server store or in observe-only: someone chose it.
        ui.label(
            egui::RichText::new(t!("top-personal-shown"))
                .background_color(colors.warn)
                .color(colors.on_badge)
                .strong(),
        )
        .on_hover_text(t!("top-personal-shown-hover"));
        if ui
            .button(t!("top-mask"))
            .on_hover_text(t!("top-mask-hover"))
            .clicked()
        {
            commands.push(ShellCommand::SetMasked(true).into());
        }
    } else if ui
        .selectable_label(false, t!("top-mask"))
        .on_hover_text(t!("top-personal-shown-embedded-hover"))
        .clicked()
    {
        commands.push(ShellCommand::SetMasked(true).into());
    }
}
