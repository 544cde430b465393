//! Drawing the Emit panel.

use crate::ui::i18n::t;
use uuid::Uuid;

use super::activity_ui::activity_strip_ui;
use super::anatomy::anatomy_ui;
use super::{BulkRefusals, EmitCommand, EmitField, EmitPanel};
use crate::ui::app::Shell;
use crate::ui::command::UiCommand;
use crate::ui::jobs::JobKind;
use crate::ui::scenarios::{Target, mark_target};
use crate::ui::widgets::draft_field::draft_field_ui;
use crate::ui::widgets::job_progress::job_progress_ui;
use crate::ui::widgets::outage_switch::outage_switch_ui;
use crate::ui::widgets::write_button::{write_button_if_ui, write_button_ui};
use crate::ui::widgets::{inline_error_ui, palette, truncated_label_ui};

const WIZARD_FIELDS: [(EmitField, &str, &str); 8] = [
    (EmitField::Email, "email", "ana@example.com"),
    (EmitField::Name, "name", "Ana García"),
    (EmitField::Address, "address", "Calle A 12"),
    (EmitField::Service, "service", "Suite"),
    (EmitField::CheckIn, "check_in", "2026-05-01"),
    (EmitField::CheckOut, "check_out", "2026-05-04"),
    (EmitField::Guests, "guests", "2"),
    (EmitField::Price, "price", "240.00"),
];

/// A wizard field's label in the window's language.
fn field_label(field: EmitField) -> String {
    match field {
        EmitField::Email => t!("emit-field-email"),
        EmitField::Name => t!("emit-field-name"),
        EmitField::Address => t!("emit-field-address"),
        EmitField::Service => t!("emit-field-service"),
        EmitField::CheckIn => t!("emit-field-check-in"),
        EmitField::CheckOut => t!("emit-field-check-out"),
        EmitField::Guests => t!("emit-field-guests"),
        EmitField::Price => t!("emit-field-price"),
        // Not a wizard field.
        _ => String::new(),
    }
}

/// A text input of the panel, sending `SetDraft` when typed into.
fn field_ui(
    ui: &mut egui::Ui,
    panel: &EmitPanel,
    field: EmitField,
    hint: &str,
    width: f32,
    out: &mut Vec<UiCommand>,
) -> egui::Response {
    let (response, changed) = draft_field_ui(ui, panel.drafts.get(field), hint, width);
    if let Some(text) = changed {
        out.push(EmitCommand::SetDraft(field, text).into());
    }
    response
}

/// One line of small red text `width` points wide, its height kept when
/// `message` is empty; cut with "…" (the whole message on hover) when long.
fn message_line_ui(ui: &mut egui::Ui, message: &str, width: f32) {
    let height = ui.text_style_height(&egui::TextStyle::Small);
    ui.allocate_ui_with_layout(
        egui::vec2(width, height),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_min_size(egui::vec2(width, height));
            if !message.is_empty() {
                truncated_label_ui(
                    ui,
                    egui::RichText::new(message)
                        .color(palette(ui.visuals()).error)
                        .small(),
                    None,
                );
            }
        },
    );
}

fn wizard_ui(ui: &mut egui::Ui, panel: &EmitPanel, shell: &Shell, out: &mut Vec<UiCommand>) {
    ui.heading(t!("emit-booking-wizard"));
    // Any v4 id: only the form's own fields are judged here.
    let errors = panel
        .drafts
        .booking
        .validate(Uuid::new_v4())
        .err()
        .unwrap_or_default();
    let submitted = panel.errors.wizard.is_some();
    egui::Grid::new("wizard_grid")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            for (field, name, hint) in WIZARD_FIELDS {
                ui.label(field_label(field));
                ui.vertical(|ui| {
                    ui.spacing_mut().item_spacing.y = 1.0;
                    field_ui(ui, panel, field, hint, 240.0, out);
                    let typed = !panel.drafts.get(field).trim().is_empty();
                    let message = errors
                        .iter()
                        .find(|e| e.field == name)
                        .filter(|_| typed || submitted)
                        .map_or("", |e| e.message.as_str());
                    // The line is there, empty or not, so a message that
                    // comes and goes while typing never moves the fields below.
                    let width = ui.available_width().clamp(240.0, 360.0);
                    message_line_ui(ui, message, width);
                });
                ui.end_row();
            }
        });
    ui.horizontal_wrapped(|ui| {
        if write_button_if_ui(
            ui,
            shell,
            errors.is_empty(),
            Some(t!("emit-fix-fields")),
            t!("emit-submit"),
        ) {
            out.push(EmitCommand::Submit.into());
        }
        let generate = ui.scope(|ui| write_button_ui(ui, shell, t!("emit-generate")));
        mark_target(ui, Target::EmitGenerate, generate.response.rect);
        if generate.inner {
            out.push(EmitCommand::GenerateAndSubmit.into());
        }
        if ui
            .button(t!("emit-fill-random"))
            .on_hover_text(t!("emit-fill-random-hover"))
            .clicked()
        {
            out.push(EmitCommand::FillRandom.into());
        }
        let again = ui.scope(|ui| {
            write_button_if_ui(
                ui,
                shell,
                panel.last_submit.is_some(),
                Some(t!("emit-send-booking-first")),
                t!("emit-send-again"),
            )
        });
        mark_target(ui, Target::EmitSendAgain, again.response.rect);
        if again.inner {
            out.push(EmitCommand::SendAgain.into());
        }
        // The trainer's switch, where the events are emitted (the same one
        // as in Operations).
        outage_switch_ui(ui, shell, out);
    });
    inline_error_ui(ui, panel.errors.wizard.as_ref());
    let answer = ui.scope(|ui| answer_ui(ui, panel, shell)).response;
    mark_target(ui, Target::EmitAnswer, answer.rect);
}

fn answer_ui(ui: &mut egui::Ui, panel: &EmitPanel, shell: &Shell) {
    let Some(last) = &panel.last_command else {
        return;
    };
    let (text, color) = match &last.result {
        Ok(outcome) if outcome.duplicate => (
            t!(
                "emit-answer-duplicate",
                id = outcome.event.aggregate_id,
                position = outcome.event.position,
                head = shell.head
            ),
            palette(ui.visuals()).warn,
        ),
        Ok(outcome) => (
            t!(
                "emit-answer-stored",
                what = last.what,
                event = outcome.event.event_type,
                position = outcome.event.position,
                id = outcome.event.aggregate_id,
                version = outcome.event.version
            ),
            palette(ui.visuals()).ok,
        ),
        Err(refusal) => (
            t!(
                "emit-answer-refused",
                what = last.what,
                error = refusal.error
            ),
            palette(ui.visuals()).error,
        ),
    };
    crate::ui::widgets::wrapped_label_ui(ui, egui::RichText::new(text).color(color));
}

fn booking_forms_ui(ui: &mut egui::Ui, panel: &EmitPanel, shell: &Shell, out: &mut Vec<UiCommand>) {
    ui.heading(t!("emit-change-booking"));
    egui::Grid::new("booking_forms")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            ui.label(t!("emit-booking-id"));
            let hint = t!("emit-booking-hint");
            field_ui(ui, panel, EmitField::TargetBooking, &hint, 300.0, out);
            ui.end_row();
            ui.label(t!("emit-reason"));
            ui.horizontal(|ui| {
                field_ui(
                    ui,
                    panel,
                    EmitField::CancelReason,
                    &t!("emit-reason-hint"),
                    190.0,
                    out,
                );
                if write_button_ui(ui, shell, t!("emit-cancel-booking")) {
                    out.push(EmitCommand::Cancel.into());
                }
            });
            ui.end_row();
            ui.label(t!("emit-new-dates"));
            ui.horizontal(|ui| {
                field_ui(ui, panel, EmitField::NewCheckIn, "2026-06-01", 90.0, out);
                field_ui(ui, panel, EmitField::NewCheckOut, "2026-06-03", 90.0, out);
                if write_button_ui(ui, shell, t!("emit-reschedule")) {
                    out.push(EmitCommand::Reschedule.into());
                }
            });
            ui.end_row();
        });
    inline_error_ui(ui, panel.errors.booking.as_ref());
}

fn address_form_ui(ui: &mut egui::Ui, panel: &EmitPanel, shell: &Shell, out: &mut Vec<UiCommand>) {
    ui.heading(t!("emit-change-address"));
    egui::Grid::new("address_form")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            ui.label(t!("emit-user-id"));
            let hint = t!("emit-user-hint");
            field_ui(ui, panel, EmitField::TargetUser, &hint, 300.0, out);
            ui.end_row();
            ui.label(t!("emit-new-address"));
            ui.horizontal(|ui| {
                field_ui(ui, panel, EmitField::NewAddress, "Calle B 7", 190.0, out);
                if write_button_ui(ui, shell, t!("emit-change-address-button")) {
                    out.push(EmitCommand::ChangeAddress.into());
                }
            });
            ui.end_row();
        });
    inline_error_ui(ui, panel.errors.address.as_ref());
}

fn bulk_ui(ui: &mut egui::Ui, panel: &EmitPanel, shell: &Shell, out: &mut Vec<UiCommand>) {
    ui.heading(t!("emit-bulk-generator"));
    ui.horizontal_wrapped(|ui| {
        ui.label(t!("emit-bulk-count"));
        field_ui(ui, panel, EmitField::BulkCount, "1000", 70.0, out);
        ui.label(t!("emit-bulk-rate"));
        field_ui(ui, panel, EmitField::BulkRate, "max", 50.0, out);
        let mut mix = panel.bulk_mix;
        if ui
            .checkbox(&mut mix, t!("emit-bulk-mix"))
            .on_hover_text(t!("emit-bulk-mix-hover"))
            .changed()
        {
            out.push(EmitCommand::SetBulkMix(mix).into());
        }
        let running = shell.jobs.running(JobKind::Bulk);
        if write_button_if_ui(
            ui,
            shell,
            !running,
            Some(t!("emit-already-running")),
            t!("emit-bulk-start"),
        ) {
            out.push(EmitCommand::StartBulk.into());
        }
    });
    inline_error_ui(ui, panel.errors.bulk.as_ref());
    job_progress_ui(ui, &shell.jobs, JobKind::Bulk, out);
    if let Some(refusals) = &panel.bulk_refusals {
        bulk_refusals_ui(ui, refusals);
    }
}

/// The last bulk run's refusals: which command, the rule, why.
fn bulk_refusals_ui(ui: &mut egui::Ui, refusals: &BulkRefusals) {
    if refusals.count == 0 {
        ui.label(t!("emit-no-refusals"));
        return;
    }
    let shown = refusals.first.len() as u64;
    let title = if shown < refusals.count {
        t!(
            "emit-bulk-refused-first",
            count = refusals.count,
            shown = shown
        )
    } else {
        t!("emit-bulk-refused", count = refusals.count)
    };
    egui::CollapsingHeader::new(title)
        .id_salt("bulk_refusals")
        .show(ui, |ui| {
            // Two lines a refusal: which command and the rule, then why.
            let row_height = ui.text_style_height(&egui::TextStyle::Body)
                + ui.spacing().item_spacing.y
                + ui.text_style_height(&egui::TextStyle::Small);
            egui::ScrollArea::vertical()
                .id_salt("bulk_refusals_list")
                .max_height(160.0)
                .show_rows(ui, row_height, refusals.first.len(), |ui, rows| {
                    let color = palette(ui.visuals()).error;
                    for refusal in &refusals.first[rows] {
                        let what = t!(
                            "emit-bulk-refusal",
                            command = refusal.command,
                            handler = refusal.handler,
                            rule = refusal.rule
                        );
                        ui.add(egui::Label::new(egui::RichText::new(what).color(color)).truncate());
                        ui.add(
                            egui::Label::new(egui::RichText::new(&refusal.reason).small())
                                .truncate(),
                        );
                    }
                });
        });
}

/// Draws the Emit panel.
pub fn emit_ui(ui: &mut egui::Ui, panel: &EmitPanel, shell: &Shell, out: &mut Vec<UiCommand>) {
    activity_strip_ui(ui, &panel.activity);
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.columns(2, |columns| {
                wizard_ui(&mut columns[0], panel, shell, out);
                let ui = &mut columns[1];
                booking_forms_ui(ui, panel, shell, out);
                ui.add_space(6.0);
                address_form_ui(ui, panel, shell, out);
                ui.add_space(6.0);
                bulk_ui(ui, panel, shell, out);
            });
            ui.separator();
            let anatomy = ui.scope(|ui| {
                ui.heading(t!("emit-anatomy-title"));
                anatomy_ui(ui, panel, shell);
            });
            mark_target(ui, Target::EmitAnatomy, anatomy.response.rect);
        });
}
