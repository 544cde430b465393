//! The anatomy of the last transaction: the command's steps (lock, existence
//! check, build, save, unlock, publish) and then each projection and its
//! checkpoint, drawn as a flow of boxes with durations that fills in live as
//! the projectors finish.

use super::EmitPanel;
use crate::domain::ProjectorId;
use crate::engine::EngineNotice;
use crate::ui::app::Shell;
use crate::ui::widgets::{ERROR_COLOR, OK_COLOR, WARN_COLOR, human_micros};

/// One box in the flow.
struct Step {
    title: String,
    duration: Option<String>,
    detail: String,
    color: egui::Color32,
    waiting: bool,
}

fn step_box_ui(ui: &mut egui::Ui, step: &Step) {
    egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(1.5, step.color))
        .inner_margin(egui::Margin::same(6))
        .show(ui, |ui| {
            ui.set_width(150.0);
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    if step.waiting {
                        ui.spinner();
                    }
                    ui.label(egui::RichText::new(&step.title).strong().color(step.color));
                });
                if let Some(duration) = &step.duration {
                    ui.label(egui::RichText::new(duration).monospace());
                }
                ui.add(egui::Label::new(egui::RichText::new(&step.detail).small()).truncate())
                    .on_hover_text(&step.detail);
            });
        });
}

fn projection_steps(panel: &EmitPanel, shell: &Shell, position: u64, duplicate: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    for projector in ProjectorId::ALL {
        let notice = panel.recent_notices.iter().rev().find_map(|n| match n {
            EngineNotice::ProjectionApplied {
                projector: p,
                from,
                position: to,
                apply_micros,
                checkpoint_micros,
            } if *p == projector && *from <= position && position <= *to => {
                Some((*from, *to, *apply_micros, *checkpoint_micros))
            }
            _ => None,
        });
        let caught_up = shell
            .status(projector)
            .is_some_and(|s| s.checkpoint >= position);
        match notice {
            Some((from, to, apply, checkpoint)) => {
                steps.push(Step {
                    title: format!("{} apply", projector.name()),
                    duration: Some(human_micros(apply)),
                    detail: format!(
                        "{} rows updated for events {from}..={to}",
                        projector.table()
                    ),
                    color: OK_COLOR,
                    waiting: false,
                });
                steps.push(Step {
                    title: format!("{} checkpoint", projector.name()),
                    duration: Some(human_micros(checkpoint)),
                    detail: format!("checkpoint saved at {to}"),
                    color: OK_COLOR,
                    waiting: false,
                });
            }
            None if duplicate => steps.push(Step {
                title: projector.name().to_string(),
                duration: None,
                detail: "nothing new to project (duplicate)".into(),
                color: egui::Color32::GRAY,
                waiting: false,
            }),
            None if caught_up => steps.push(Step {
                title: projector.name().to_string(),
                duration: None,
                detail: format!("applied (checkpoint ≥ {position}); timing not observed"),
                color: OK_COLOR,
                waiting: false,
            }),
            None => steps.push(Step {
                title: projector.name().to_string(),
                duration: None,
                detail: if shell.outage {
                    "waiting: read-store outage SIMULATED".into()
                } else {
                    format!("waiting for position {position}")
                },
                color: WARN_COLOR,
                waiting: true,
            }),
        }
    }
    steps
}

/// Draws the flow for the last command, or a hint when there is none yet.
pub fn anatomy_ui(ui: &mut egui::Ui, panel: &EmitPanel, shell: &Shell) {
    let Some(last) = &panel.last_command else {
        ui.label("Send a command to see its anatomy: lock -> exists? -> build -> save -> unlock -> publish -> projections.");
        return;
    };
    let outcome = match &last.result {
        Ok(outcome) => outcome,
        Err(error) => {
            ui.colored_label(ERROR_COLOR, format!("{} failed: {error}", last.what));
            return;
        }
    };
    let mut steps: Vec<Step> = outcome
        .trace
        .steps
        .iter()
        .map(|s| Step {
            title: s.name.clone(),
            duration: Some(human_micros(s.micros)),
            detail: s.detail.clone(),
            color: egui::Color32::from_rgb(120, 170, 230),
            waiting: false,
        })
        .collect();
    steps.extend(projection_steps(
        panel,
        shell,
        outcome.event.position,
        outcome.duplicate,
    ));
    ui.label(format!(
        "{} · command total {} · event at position {}",
        outcome.trace.handler,
        human_micros(outcome.trace.total_micros()),
        outcome.event.position
    ));
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing = egui::vec2(4.0, 6.0);
        let count = steps.len();
        for (i, step) in steps.iter().enumerate() {
            step_box_ui(ui, step);
            if i + 1 < count {
                ui.label(egui::RichText::new("→").monospace().size(18.0));
            }
        }
    });
}
