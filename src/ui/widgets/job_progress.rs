//! Progress of long work: a bar with done/total, rate and ETA, and Cancel;
//! or, when it is over, how it ended.

use crate::ui::commands::{JobKind, UiCommand};
use crate::ui::view::View;
use crate::ui::widgets::{ERROR_COLOR, OK_COLOR, human_secs};

/// Draws the job's bar (while running) or its last result.
pub fn job_progress_ui(
    ui: &mut egui::Ui,
    view: &View,
    kind: JobKind,
    commands: &mut Vec<UiCommand>,
) {
    if let Some(job) = view.data.jobs.get(&kind) {
        let p = &job.progress;
        let fraction = if p.total > 0 {
            (p.done as f32 / p.total as f32).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let elapsed = job.started.elapsed().as_secs_f64();
        let mut text = if p.total > 0 {
            format!("{} / {} ({:.0}%)", p.done, p.total, fraction * 100.0)
        } else {
            "starting…".to_string()
        };
        if p.rate_per_sec > 0.0 {
            text.push_str(&format!(" · {:.0}/s", p.rate_per_sec));
        }
        if let Some(eta) = p.eta_secs {
            text.push_str(&format!(" · ETA {}", human_secs(eta)));
        }
        text.push_str(&format!(" · {} elapsed", human_secs(elapsed)));
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!(
                "{}: {}",
                kind.title(),
                if p.phase.is_empty() {
                    "running"
                } else {
                    &p.phase
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
                let label = if job.cancel_requested() {
                    "Cancelling…"
                } else {
                    "Cancel"
                };
                if ui
                    .add_enabled(!job.cancel_requested(), egui::Button::new(label))
                    .on_hover_text(format!("Stop the {}", kind.title().to_lowercase()))
                    .clicked()
                {
                    commands.push(UiCommand::CancelJob(kind));
                }
            }
        });
    } else if let Some(result) = view.data.job_results.get(&kind) {
        let (text, color) = match result {
            Ok(text) => (text.clone(), OK_COLOR),
            Err(text) => (format!("{} failed: {text}", kind.title()), ERROR_COLOR),
        };
        crate::ui::widgets::wrapped_label_ui(ui, egui::RichText::new(text).color(color));
    }
}
