//! The scenario window (bottom right, movable: the step, what it checks,
//! Back, Next, Close) and the outline around the control the step is about. The
//! outlined control marks itself where it is drawn ([`mark_target`]): one
//! comparison per marked widget and frame, and one rectangle kept.

use std::time::Duration;

use super::steps::Target;
use super::{Active, ScenarioCommand, ScenarioId, Scenarios, Stage, tr};
use crate::ui::app::Shell;
use crate::ui::command::UiCommand;
use crate::ui::i18n::t;
use crate::ui::panels::Panels;
use crate::ui::widgets::{human_micros, palette, truncated_label_ui};

/// How often the outline pulses (a repaint while a scenario is open).
const PULSE_EVERY: Duration = Duration::from_millis(66);

/// What the scenario outlines this frame, published before the panels draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Outlined {
    target: Target,
    /// The step's serial: the control scrolls into view once per step.
    serial: u64,
}

fn outlined_id() -> egui::Id {
    egui::Id::unique("scenario_outlined")
}

fn marked_id() -> egui::Id {
    egui::Id::unique("scenario_marked")
}

fn scrolled_id() -> egui::Id {
    egui::Id::unique("scenario_scrolled")
}

/// The control to outline now: the step's target, or the tab of the
/// step's panel while another panel is shown.
pub fn outlined_target(scenarios: &Scenarios, shell: &Shell) -> Option<Target> {
    let target = scenarios.target()?;
    let step = scenarios.active.as_ref()?.current()?;
    let on_panel = super::target_panel(target).or(step.panel);
    match on_panel {
        Some(panel) if panel != shell.panel => Some(Target::Tab(panel)),
        _ if target == Target::None => None,
        _ => Some(target),
    }
}

/// Says what to outline this frame (call before the panels draw).
pub fn publish(ctx: &egui::Context, scenarios: &Scenarios, shell: &Shell) {
    let outlined = outlined_target(scenarios, shell).map(|target| Outlined {
        target,
        serial: scenarios.active.as_ref().map_or(0, |a| a.serial),
    });
    ctx.data_mut(|d| match outlined {
        Some(o) => {
            d.insert_temp(outlined_id(), o);
        }
        None => d.remove::<Outlined>(outlined_id()),
    });
}

/// Marks `rect` as where `target` is drawn this frame (a panel calls it
/// beside the control); when a scenario outlines it, it is kept for the
/// outline and scrolled into view once per step.
pub fn mark_target(ui: &egui::Ui, target: Target, rect: egui::Rect) {
    let ctx = ui.ctx();
    let Some(outlined) = ctx.data(|d| d.get_temp::<Outlined>(outlined_id())) else {
        return;
    };
    if outlined.target != target {
        return;
    }
    let pass = ctx.cumulative_pass_nr();
    let scrolled = ctx.data_mut(|d| {
        d.insert_temp(marked_id(), (target, rect, pass));
        let this = (outlined.serial, target);
        let seen = d.get_temp::<(u64, Target)>(scrolled_id());
        d.insert_temp(scrolled_id(), this);
        seen == Some(this)
    });
    if !scrolled {
        ui.scroll_to_rect(rect, Some(egui::Align::Center));
    }
}

/// Where the outlined control was drawn this frame, if it was.
fn marked_rect(ctx: &egui::Context, target: Target) -> Option<egui::Rect> {
    let pass = ctx.cumulative_pass_nr();
    ctx.data(|d| d.get_temp::<(Target, egui::Rect, u64)>(marked_id()))
        .filter(|(t, _, p)| *t == target && *p == pass)
        .map(|(_, rect, _)| rect)
}

/// A pulsing outline around `rect`, over the panels and under the
/// windows (the scenario window stays readable).
fn outline_ui(ctx: &egui::Context, rect: egui::Rect) {
    let time = ctx.input(|i| i.time);
    let pulse = (0.5 + 0.5 * (time * 5.0).sin()) as f32;
    let color = egui::Color32::from_rgb(255, 150, 0);
    let painter = ctx.layer_painter(egui::LayerId::background());
    painter.rect_stroke(
        rect.expand(3.0 + 3.0 * pulse),
        4.0,
        egui::Stroke::new(2.5, color.gamma_multiply(0.55 + 0.45 * pulse)),
        egui::StrokeKind::Outside,
    );
    ctx.request_repaint_after(PULSE_EVERY);
}

/// Draws the scenario window and the outline (nothing when no scenario is
/// open).
pub fn scenario_ui(
    ctx: &egui::Context,
    scenarios: &Scenarios,
    shell: &Shell,
    panels: &Panels,
    commands: &mut Vec<UiCommand>,
) {
    let Some(active) = &scenarios.active else {
        return;
    };
    let language = shell.language;
    egui::Window::new(t!("scenario-scenario"))
        .id(egui::Id::unique("scenario_window"))
        // Bottom right at first; the trainer can drag it off what a step
        // is about.
        .pivot(egui::Align2::RIGHT_BOTTOM)
        .default_pos(ctx.content_rect().right_bottom() - egui::vec2(8.0, 8.0))
        .default_width(340.0)
        .max_width(360.0)
        .resizable(false)
        .collapsible(true)
        .show(ctx, |ui| {
            ui.set_max_width(340.0);
            ui.label(egui::RichText::new(tr(&active.id.title(), language)).heading());
            match &active.stage {
                Stage::Preparing => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label(t!("scenario-preparing-fresh-training-ledger"));
                    });
                }
                Stage::Failed(error) => {
                    ui.colored_label(palette(ui.visuals()).error, error);
                }
                Stage::Ready(_) => step_ui(ui, scenarios, active, shell, panels, commands),
            }
            ui.add_space(4.0);
            ui.horizontal(|ui| {
                let ready = matches!(active.stage, Stage::Ready(_));
                let last = active.steps().len().saturating_sub(1);
                if ui
                    .add_enabled(
                        ready && active.step > 0,
                        egui::Button::new(t!("scenario-back")),
                    )
                    .clicked()
                {
                    commands.push(ScenarioCommand::Back.into());
                }
                if ui
                    .add_enabled(
                        ready && active.step < last,
                        egui::Button::new(t!("scenario-next")),
                    )
                    .clicked()
                {
                    commands.push(ScenarioCommand::Next.into());
                }
                if ui
                    .button(t!("scenario-close"))
                    .on_hover_text(t!("scenario-leave-scenario-go-back"))
                    .clicked()
                {
                    commands.push(ScenarioCommand::Close.into());
                }
            });
            let dir = format!("{} {}", t!("scenario-training-data"), active.dir.display());
            truncated_label_ui(ui, egui::RichText::new(dir).small().weak(), None);
        });
    if let Some(target) = outlined_target(scenarios, shell)
        && let Some(rect) = marked_rect(ctx, target)
    {
        outline_ui(ctx, rect);
    }
}

fn step_ui(
    ui: &mut egui::Ui,
    scenarios: &Scenarios,
    active: &Active,
    shell: &Shell,
    panels: &Panels,
    commands: &mut Vec<UiCommand>,
) {
    let language = shell.language;
    let Some(step) = active.current() else {
        return;
    };
    let marker = active
        .prepared()
        .and_then(|p| p.marker)
        .map_or_else(|| "—".to_string(), |m| m.to_string());
    ui.label(
        egui::RichText::new(format!(
            "{} {} / {}",
            t!("scenario-step"),
            active.step + 1,
            active.steps().len()
        ))
        .small()
        .weak(),
    );
    ui.label(egui::RichText::new(tr(&step.title, language)).strong());
    ui.label(tr(&step.body, language).replace("{position}", &marker));
    if let (Some(check), Some(holds)) = (step.check, scenarios.check(shell, panels)) {
        let colors = palette(ui.visuals());
        if holds {
            ui.colored_label(colors.ok, tr(&check.done(), language));
        } else {
            ui.label(egui::RichText::new(tr(&check.waiting(), language)).weak());
        }
    }
    if active.id == ScenarioId::Snapshots {
        recovery_ui(ui, active, shell, commands);
    }
}

/// The snapshots scenario's "Time both recoveries" and the two durations
/// side by side.
fn recovery_ui(ui: &mut egui::Ui, active: &Active, shell: &Shell, commands: &mut Vec<UiCommand>) {
    let response = ui
        .scope(|ui| {
            ui.horizontal(|ui| {
                let label = t!("scenario-time-both-recoveries");
                let block = shell.write_block_reason();
                let button = ui.add_enabled(
                    !active.timing && block.is_none() && shell.connected(),
                    egui::Button::new(label),
                );
                if button.clicked() {
                    commands.push(ScenarioCommand::TimeRecovery.into());
                }
                if active.timing {
                    ui.spinner();
                }
            });
            match &active.times {
                Some(Ok(times)) => {
                    egui::Grid::new("scenario_times")
                        .num_columns(2)
                        .spacing([16.0, 2.0])
                        .show(ui, |ui| {
                            let snapshot = times.snapshot_at.map_or_else(
                                || t!("scenario-from-snapshot").to_string(),
                                |p| format!("{} {p}", t!("scenario-from-snapshot-at")),
                            );
                            ui.label(egui::RichText::new(t!("scenario-from-zero")).strong());
                            ui.label(egui::RichText::new(snapshot).strong());
                            ui.end_row();
                            let (zero, zero_events) = times.from_zero;
                            let (snap, snap_events) = times.from_snapshot;
                            let events = t!("scenario-events");
                            ui.label(format!(
                                "{} ({zero_events} {events})",
                                human_micros(zero.as_micros() as u64)
                            ));
                            ui.label(format!(
                                "{} ({snap_events} {events})",
                                human_micros(snap.as_micros() as u64)
                            ));
                            ui.end_row();
                        });
                }
                Some(Err(error)) => {
                    ui.colored_label(palette(ui.visuals()).error, error.to_string());
                }
                None => {}
            }
        })
        .response;
    mark_target(ui, Target::RecoveryTimes, response.rect);
}
