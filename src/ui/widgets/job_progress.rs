//! Progress of long work: a bar with done/total, rate and ETA, and Cancel;
//! or, when it is over, how it ended.

use crate::engine::Phase;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::i18n::t;
use crate::ui::jobs::{JobKind, Jobs};
use crate::ui::widgets::{human_secs, palette};

/// What a job is doing, in the window's language (the engine's
/// [`Phase::label`] is the CLI's and the log's).
fn phase_text(phase: Phase) -> String {
    match phase {
        Phase::Snapshot => t!("phase-snapshot"),
        Phase::Reading => t!("phase-reading"),
        Phase::Loading => t!("phase-loading"),
        Phase::Commands => t!("phase-commands"),
        Phase::Exporting => t!("phase-exporting"),
        Phase::Importing => t!("phase-importing"),
        Phase::Saving => t!("phase-saving"),
        Phase::Comparing => t!("phase-comparing"),
        Phase::Done => t!("phase-done"),
    }
}

/// Draws the job's bar (while running) or its last result.
pub fn job_progress_ui(
    ui: &mut egui::Ui,
    jobs: &Jobs,
    kind: JobKind,
    commands: &mut Vec<UiCommand>,
) {
    if let Some(job) = jobs.get(kind) {
        let (done, total, rate, eta) = job.progress.as_ref().map_or((0, 0, 0.0, None), |p| {
            (p.done, p.total, p.rate_per_sec, p.eta_secs)
        });
        let fraction = if total > 0 {
            (done as f32 / total as f32).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let elapsed = job.started.elapsed().as_secs_f64();
        let mut text = if total > 0 {
            t!(
                "job-done-of",
                done = done,
                total = total,
                percent = crate::ui::i18n::format::decimal(f64::from(fraction) * 100.0, 0)
            )
        } else {
            t!("job-starting-dots")
        };
        if rate > 0.0 {
            text.push_str(&t!(
                "job-rate",
                rate = crate::ui::i18n::format::decimal(rate, 0)
            ));
        }
        if let Some(eta) = eta {
            text.push_str(&t!("job-eta", eta = human_secs(eta)));
        }
        text.push_str(&t!("job-elapsed", elapsed = human_secs(elapsed)));
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!(
                "{}: {}",
                kind.label(),
                match &job.progress {
                    None => t!("job-starting"),
                    Some(p) => phase_text(p.phase),
                }
            ));
        });
        ui.horizontal(|ui| {
            let width = (ui.available_width() - 90.0).max(120.0);
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(width)
                    .text(text),
            );
            if job.cancellable {
                let cancelling = job.control.is_cancelled();
                let label = if cancelling {
                    t!("job-cancelling")
                } else {
                    t!("common-cancel")
                };
                if ui
                    .add_enabled(!cancelling, egui::Button::new(label))
                    .on_hover_text(t!("job-stop", job = kind.label().to_lowercase()))
                    .clicked()
                {
                    commands.push(ShellCommand::CancelJob(kind).into());
                }
            }
        });
    } else if let Some(result) = jobs.result(kind) {
        let (text, color) = match result {
            Ok(text) => (text, palette(ui.visuals()).ok),
            Err(text) => (
                t!("job-failed", job = kind.label(), error = text),
                palette(ui.visuals()).error,
            ),
        };
        crate::ui::widgets::wrapped_label_ui(ui, egui::RichText::new(text).color(color));
    }
}
