//! Emit: the booking wizard with inline validation, "Generate New Event",
//! "Send again (same UUID)" for idempotency, forms for cancel, reschedule and
//! address change, the bulk generator, and the anatomy of the last transaction.

use uuid::Uuid;

use crate::ui::commands::{DraftField, JobKind, UiCommand};
use crate::ui::view::View;
use crate::ui::widgets::anatomy::anatomy_ui;
use crate::ui::widgets::draft_field::draft_field_ui;
use crate::ui::widgets::job_progress::job_progress_ui;
use crate::ui::widgets::write_button::{write_button_if_ui, write_button_ui};
use crate::ui::widgets::{ERROR_COLOR, OK_COLOR, WARN_COLOR, inline_error_ui};

const WIZARD_FIELDS: [(DraftField, &str, &str, &str); 8] = [
    (DraftField::Email, "email", "E-mail", "ana@example.com"),
    (DraftField::Name, "name", "Name", "Ana García"),
    (DraftField::Address, "address", "Address", "Calle A 12"),
    (DraftField::Service, "service", "Service", "Suite"),
    (DraftField::CheckIn, "check_in", "Check-in", "2026-05-01"),
    (DraftField::CheckOut, "check_out", "Check-out", "2026-05-04"),
    (DraftField::Guests, "guests", "Guests", "2"),
    (DraftField::Price, "price", "Price", "240.00"),
];

fn wizard_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    ui.heading("Booking wizard");
    let form = &view.state.drafts.booking;
    // Any v4 id: only the form's own fields are judged here.
    let errors = form.validate(Uuid::new_v4()).err().unwrap_or_default();
    let submitted = view.data.inline_errors.contains_key("wizard");
    egui::Grid::new("wizard_grid")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            for (field, name, label, hint) in WIZARD_FIELDS {
                ui.label(label);
                ui.vertical(|ui| {
                    draft_field_ui(ui, view, field, hint, 240.0, commands);
                    let typed = !view.state.drafts.get(field).trim().is_empty();
                    if let Some(error) = errors.iter().find(|e| e.field == name)
                        && (typed || submitted)
                    {
                        ui.label(
                            egui::RichText::new(&error.message)
                                .color(ERROR_COLOR)
                                .small(),
                        );
                    }
                });
                ui.end_row();
            }
        });
    ui.horizontal_wrapped(|ui| {
        if write_button_if_ui(
            ui,
            view,
            errors.is_empty(),
            Some("Fix the fields marked in red first."),
            "Submit",
        ) {
            commands.push(UiCommand::SubmitBooking);
        }
        if write_button_ui(ui, view, "Generate New Event") {
            commands.push(UiCommand::GenerateAndSubmit);
        }
        if ui
            .button("Fill random")
            .on_hover_text("Fill the form with realistic data without sending")
            .clicked()
        {
            commands.push(UiCommand::FillRandom);
        }
        let has_last = view.data.last_submit.is_some();
        if write_button_if_ui(
            ui,
            view,
            has_last,
            Some("Send a booking first."),
            "Send again (same UUID)",
        ) {
            commands.push(UiCommand::SendAgain);
        }
    });
    inline_error_ui(ui, view, "wizard");
    answer_ui(ui, view);
}

fn answer_ui(ui: &mut egui::Ui, view: &View) {
    let Some(last) = &view.data.last_command else {
        return;
    };
    let (text, color) = match &last.result {
        Ok(outcome) if outcome.duplicate => (
            format!(
                "Duplicate: {} was already stored at position {}. Nothing new was stored or published; the ledger did not grow (head {}).",
                outcome.event.aggregate_id, outcome.event.position, view.data.head
            ),
            WARN_COLOR,
        ),
        Ok(outcome) => (
            format!(
                "{}: stored {} at position {} (aggregate {}, version {}).",
                last.what,
                outcome.event.event_type,
                outcome.event.position,
                outcome.event.aggregate_id,
                outcome.event.version
            ),
            OK_COLOR,
        ),
        Err(error) => (format!("{} refused: {error}", last.what), ERROR_COLOR),
    };
    crate::ui::widgets::wrapped_label_ui(ui, egui::RichText::new(text).color(color));
}

fn other_commands_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    ui.heading("Change a booking");
    egui::Grid::new("booking_forms")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            ui.label("Booking id");
            draft_field_ui(
                ui,
                view,
                DraftField::TargetBooking,
                "booking UUID (last one is filled in)",
                300.0,
                commands,
            );
            ui.end_row();
            ui.label("Reason");
            ui.horizontal(|ui| {
                draft_field_ui(
                    ui,
                    view,
                    DraftField::CancelReason,
                    "changed plans",
                    190.0,
                    commands,
                );
                if write_button_ui(ui, view, "Cancel booking") {
                    commands.push(UiCommand::CancelBooking);
                }
            });
            ui.end_row();
            ui.label("New dates");
            ui.horizontal(|ui| {
                draft_field_ui(
                    ui,
                    view,
                    DraftField::NewCheckIn,
                    "2026-06-01",
                    90.0,
                    commands,
                );
                draft_field_ui(
                    ui,
                    view,
                    DraftField::NewCheckOut,
                    "2026-06-03",
                    90.0,
                    commands,
                );
                if write_button_ui(ui, view, "Reschedule") {
                    commands.push(UiCommand::RescheduleBooking);
                }
            });
            ui.end_row();
        });
    inline_error_ui(ui, view, "booking_forms");
    ui.add_space(6.0);
    ui.heading("Change an address");
    egui::Grid::new("address_form")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            ui.label("User id");
            draft_field_ui(
                ui,
                view,
                DraftField::TargetUser,
                "user UUID (last one is filled in)",
                300.0,
                commands,
            );
            ui.end_row();
            ui.label("New address");
            ui.horizontal(|ui| {
                draft_field_ui(
                    ui,
                    view,
                    DraftField::NewAddress,
                    "Calle B 7",
                    190.0,
                    commands,
                );
                if write_button_ui(ui, view, "Change address") {
                    commands.push(UiCommand::ChangeAddress);
                }
            });
            ui.end_row();
        });
    inline_error_ui(ui, view, "address_form");
    ui.add_space(6.0);
    ui.heading("Bulk generator");
    ui.horizontal_wrapped(|ui| {
        ui.label("Count");
        draft_field_ui(ui, view, DraftField::BulkCount, "1000", 70.0, commands);
        ui.label("Rate/s");
        draft_field_ui(ui, view, DraftField::BulkRate, "max", 50.0, commands);
        let mut mix = view.state.bulk_mix;
        if ui
            .checkbox(&mut mix, "mix")
            .on_hover_text("Mix in cancellations, reschedules and address changes (about 20%)")
            .changed()
        {
            commands.push(UiCommand::SetBulkMix(mix));
        }
        let running = view.data.running(JobKind::Bulk);
        if write_button_if_ui(ui, view, !running, Some("Already running."), "Start") {
            commands.push(UiCommand::StartBulk);
        }
    });
    inline_error_ui(ui, view, "bulk");
    job_progress_ui(ui, view, JobKind::Bulk, commands);
}

/// Draws the Emit panel.
pub fn emit_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.columns(2, |columns| {
                wizard_ui(&mut columns[0], view, commands);
                other_commands_ui(&mut columns[1], view, commands);
            });
            ui.separator();
            ui.heading("Anatomy of the last transaction");
            anatomy_ui(ui, view);
        });
}
