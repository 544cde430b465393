//! The anatomy of the last transaction: the command's steps (lock, existence
//! check, build, save, unlock, publish) and then each projection and its
//! checkpoint, drawn as a flow of boxes with durations that fills in live as
//! the projectors finish. A refused command shows the steps it went through:
//! lock -> exists? -> the rule that refused and why -> unlock.

use super::EmitPanel;
use crate::domain::ProjectorId;
use crate::engine::{CommandTrace, EngineNotice, StepEnd};
use crate::ui::app::Shell;
use crate::ui::i18n::t;
use crate::ui::widgets::palette::Palette;
use crate::ui::widgets::{human_micros, palette, truncated_label_ui};

/// One box in the flow.
struct Step {
    title: String,
    duration: Option<String>,
    detail: String,
    color: egui::Color32,
    waiting: bool,
    /// The detail wraps (a refusal's reason is read whole).
    wrap: bool,
}

/// Width of a box's content; titles longer than this wrap inside it.
const BOX_WIDTH: f32 = 150.0;
/// Room an arrow between two boxes takes.
const ARROW_WIDTH: f32 = 22.0;

fn step_box_ui(ui: &mut egui::Ui, step: &Step) {
    egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(1.5, step.color))
        .inner_margin(egui::Margin::same(6))
        .show(ui, |ui| {
            ui.set_width(BOX_WIDTH);
            ui.vertical(|ui| {
                let title = egui::RichText::new(&step.title).strong().color(step.color);
                if step.waiting {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.add(egui::Label::new(title).wrap());
                    });
                } else {
                    ui.add(egui::Label::new(title).wrap());
                }
                if let Some(duration) = &step.duration {
                    ui.label(egui::RichText::new(duration).monospace());
                }
                let detail = egui::RichText::new(&step.detail).small();
                if step.wrap {
                    ui.add(egui::Label::new(detail).wrap());
                } else {
                    truncated_label_ui(ui, detail, None);
                }
            });
        });
}

/// Boxes with arrows between them, as many to a row as the width holds (a
/// frame's size is only known once drawn, so a wrapping layout cannot move
/// it to the next line: the rows are counted here).
fn steps_flow_ui(ui: &mut egui::Ui, steps: &[Step]) {
    let spacing = egui::vec2(4.0, 6.0);
    let margin = 2.0 * (6.0 + 1.5);
    let box_width = BOX_WIDTH + margin;
    let per_row = (((ui.available_width() + spacing.x)
        / (box_width + ARROW_WIDTH + 2.0 * spacing.x))
        .floor() as usize)
        .max(1);
    let count = steps.len();
    for (row, chunk) in steps.chunks(per_row).enumerate() {
        ui.horizontal(|ui| {
            ui.spacing_mut().item_spacing = spacing;
            for (i, step) in chunk.iter().enumerate() {
                step_box_ui(ui, step);
                if row * per_row + i + 1 < count {
                    ui.label(egui::RichText::new("→").monospace().size(18.0));
                }
            }
        });
        ui.add_space(spacing.y);
    }
}

fn projection_steps(
    panel: &EmitPanel,
    shell: &Shell,
    position: u64,
    duplicate: bool,
    colors: &Palette,
) -> Vec<Step> {
    let mut steps = Vec::new();
    for projector in ProjectorId::ALL {
        if duplicate {
            // Nothing was stored, so nothing was published or projected: a
            // notice whose range holds the position is the first command's.
            steps.push(Step {
                title: projector.name().to_string(),
                duration: None,
                detail: t!("anatomy-nothing-projected"),
                color: colors.idle,
                waiting: false,
                wrap: false,
            });
            continue;
        }
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
                    title: t!("anatomy-apply", projector = projector.name()),
                    duration: Some(human_micros(apply)),
                    detail: t!(
                        "anatomy-rows-updated",
                        table = projector.table(),
                        from = from,
                        to = to
                    ),
                    color: colors.ok,
                    waiting: false,
                    wrap: false,
                });
                steps.push(Step {
                    title: t!("anatomy-checkpoint", projector = projector.name()),
                    duration: Some(human_micros(checkpoint)),
                    detail: t!("anatomy-checkpoint-saved", position = to),
                    color: colors.ok,
                    waiting: false,
                    wrap: false,
                });
            }
            None if caught_up => steps.push(Step {
                title: projector.name().to_string(),
                duration: None,
                detail: t!("anatomy-applied-untimed", position = position),
                color: colors.ok,
                waiting: false,
                wrap: false,
            }),
            None => steps.push(Step {
                title: projector.name().to_string(),
                duration: None,
                detail: if shell.outage {
                    t!("anatomy-waiting-outage")
                } else {
                    t!("anatomy-waiting", position = position)
                },
                color: colors.warn,
                waiting: true,
                wrap: false,
            }),
        }
    }
    steps
}

/// The command's own steps as boxes: a refused one in the error color,
/// titled with its rule, its reason whole.
fn command_steps(trace: &CommandTrace, colors: &Palette) -> Vec<Step> {
    trace
        .steps
        .iter()
        .map(|s| {
            let (title, color, wrap) = match &s.end {
                StepEnd::Done => (s.name.clone(), colors.accent, false),
                StepEnd::Refused { rule } => {
                    (t!("anatomy-rule-refused", rule = rule), colors.error, true)
                }
                StepEnd::Failed => (t!("anatomy-step-failed", step = s.name), colors.error, true),
            };
            Step {
                title,
                duration: Some(human_micros(s.micros)),
                detail: s.detail.clone(),
                color,
                waiting: false,
                wrap,
            }
        })
        .collect()
}

/// A command that stored nothing: why, and the steps it went through.
fn refused_ui(
    ui: &mut egui::Ui,
    what: &str,
    error: &crate::engine::EngineError,
    trace: &CommandTrace,
) {
    let colors = palette(ui.visuals());
    crate::ui::widgets::wrapped_label_ui(
        ui,
        egui::RichText::new(t!("emit-refused", what = what, error = error)).color(colors.error),
    );
    if trace.steps.is_empty() {
        return;
    }
    ui.label(t!(
        "emit-command-total",
        handler = trace.handler,
        total = human_micros(trace.total_micros())
    ));
    steps_flow_ui(ui, &command_steps(trace, colors));
}

/// Draws the flow for the last command, or a hint when there is none yet.
pub fn anatomy_ui(ui: &mut egui::Ui, panel: &EmitPanel, shell: &Shell) {
    let Some(last) = &panel.last_command else {
        ui.label(t!("emit-anatomy-empty"));
        return;
    };
    let outcome = match &last.result {
        Ok(outcome) => outcome,
        Err(refusal) => {
            refused_ui(ui, &last.what, &refusal.error, &refusal.trace);
            return;
        }
    };
    let mut steps = command_steps(&outcome.trace, palette(ui.visuals()));
    steps.extend(projection_steps(
        panel,
        shell,
        outcome.event.position,
        outcome.duplicate,
        palette(ui.visuals()),
    ));
    ui.label(t!(
        "emit-command-total-at",
        handler = outcome.trace.handler,
        total = human_micros(outcome.trace.total_micros()),
        position = outcome.event.position
    ));
    if outcome.duplicate {
        crate::ui::widgets::wrapped_label_ui(
            ui,
            egui::RichText::new(t!(
                "emit-duplicate-anatomy",
                position = outcome.event.position
            ))
            .weak(),
        );
    }
    steps_flow_ui(ui, &steps);
}
