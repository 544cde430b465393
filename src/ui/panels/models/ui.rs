//! Drawing Models: the list on the left, the editor, its actions, the
//! build's progress and the rows on the right.

use crate::ui::i18n::t;
use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use super::explore::ExploreCommand;
use super::explore_ui::{explore_ui, row_history_ui};
use super::{EXAMPLES, ModelsCommand, ModelsPanel, TableRows};
use crate::domain::state::DiffKind;
use crate::engine::view_order::Needle;
use crate::ui::app::Shell;
use crate::ui::app::dialogs::Confirm;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::scenarios::{Target, mark_target};
use crate::ui::widgets::human_secs;
use crate::ui::widgets::table::memory::{MemoryRows, memory_table_ui};
use crate::ui::widgets::table::{Cell, Line, TableLook};

/// What the empty editor says: the shape of a model, or where to start.
const EDITOR_HINT: &str = "-- model: my_model\n-- version: 1\nCREATE TABLE ... (... PRIMARY KEY ...);\nON BookingWizardCompleted:\nINSERT INTO ... VALUES (:payload.booking_id, ...);\n\nOr pick a kept model on the left, or start from one of the examples.";

/// A model's table as the shared table widget reads it.
struct Rows<'a>(&'a TableRows);

impl MemoryRows for Rows<'_> {
    fn len(&self) -> usize {
        self.0.rows.len()
    }
    fn fingerprint(&self) -> u64 {
        let mut hasher = std::hash::DefaultHasher::new();
        (self.0.rows.as_ptr() as usize, self.0.rows.len()).hash(&mut hasher);
        hasher.finish()
    }
    fn cell(&self, row: usize, column: usize) -> Option<Cow<'_, str>> {
        Some(self.0.rows.get(row)?.get(column)?.as_str().into())
    }
    fn matches(&self, row: usize, needle: &Needle) -> bool {
        self.0
            .rows
            .get(row)
            .is_some_and(|r| r.iter().any(|c| needle.matches(c)))
    }
    fn kind(&self, _row: usize) -> Option<DiffKind> {
        None
    }
    fn line(&self, row: usize) -> Option<Line<'_>> {
        let cells = self
            .0
            .rows
            .get(row)?
            .iter()
            .map(|c| Cell::plain(c.as_str()))
            .collect();
        Some(Line {
            tag: None,
            cells,
            key: None,
        })
    }
}

/// Draws the Models panel.
pub fn models_ui(
    ui: &mut egui::Ui,
    panel: &ModelsPanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    egui::Panel::left("models_list")
        .resizable(true)
        .default_size(220.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("models_list_scroll")
                .show(ui, |ui| list_ui(ui, panel, commands));
        });
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical()
            .id_salt("models_scroll")
            .show(ui, |ui| editor_ui(ui, panel, shell, commands));
    });
    row_history_ui(ui.ctx(), panel, commands);
}

fn list_ui(ui: &mut egui::Ui, panel: &ModelsPanel, commands: &mut Vec<UiCommand>) {
    ui.heading(t!("models-title"));
    ui.horizontal_wrapped(|ui| {
        if ui.button(t!("models-new")).clicked() {
            commands.push(ModelsCommand::New.into());
        }
        let examples = egui::ComboBox::from_id_salt("models_example")
            .selected_text(t!("models-load-example"))
            .show_ui(ui, |ui| {
                for (i, (file, _)) in EXAMPLES.iter().enumerate() {
                    if ui.selectable_label(false, *file).clicked() {
                        commands.push(ModelsCommand::LoadExample(i).into());
                    }
                }
            });
        mark_target(ui, Target::ModelsExamples, examples.response.rect);
        if ui.button(t!("models-reload")).clicked() {
            commands.push(ModelsCommand::Reload.into());
        }
    });
    ui.separator();
    match &panel.models {
        None => {
            ui.label(t!("models-reading"));
        }
        Some(models) if models.is_empty() => {
            ui.label(t!("models-none"));
        }
        Some(models) => {
            for m in models {
                let built = match m.built {
                    Some(p) => format!("built to {p}, {} errors", m.errors),
                    None => "not built".to_string(),
                };
                let selected = panel.selected.as_deref() == Some(m.name.as_str());
                let published = if m.published.is_some() {
                    " · published"
                } else {
                    ""
                };
                let text = format!("{} v{}\n{built}{published}", m.name, m.version);
                if ui.selectable_label(selected, text).clicked() {
                    commands.push(ModelsCommand::Select(m.name.clone()).into());
                }
            }
        }
    }
}

fn editor_ui(ui: &mut egui::Ui, panel: &ModelsPanel, shell: &Shell, commands: &mut Vec<UiCommand>) {
    let mut source = panel.source.clone();
    let editor_id = egui::Id::unique("model_source");
    let edit = ui.add(
        egui::TextEdit::multiline(&mut source)
            .id(editor_id)
            .code_editor()
            .hint_text(EDITOR_HINT)
            .desired_rows(14)
            .desired_width(f32::INFINITY),
    );
    if edit.changed() {
        commands.push(ModelsCommand::SetSource(source).into());
    }
    let blocked = shell.write_block_reason();
    ui.horizontal_wrapped(|ui| {
        if ui.button(t!("models-check")).clicked() {
            commands.push(ModelsCommand::Check.into());
        }
        let save = ui.add_enabled(blocked.is_none(), egui::Button::new(t!("models-save")));
        if save.clicked() {
            commands.push(ModelsCommand::Save.into());
        }
        if let Some(name) = &panel.selected {
            let remove = ui.add_enabled(blocked.is_none(), egui::Button::new(t!("models-remove")));
            if remove.clicked() {
                commands.push(ModelsCommand::AskRemove(name.clone()).into());
            }
            let build = ui.add_enabled(
                panel.building.is_none() && shell.connected(),
                egui::Button::new(t!("models-build")),
            );
            mark_target(ui, Target::ModelsBuild, build.rect);
            if build.clicked() {
                commands.push(ModelsCommand::Build.into());
            }
            let free = blocked.is_none() && panel.publishing.is_none() && shell.connected();
            if panel.selected_published().is_some() {
                let unpublish = ui
                    .add_enabled(free, egui::Button::new(t!("models-unpublish")))
                    .on_hover_text(t!("models-unpublish-hover"));
                if unpublish.clicked() {
                    commands.push(
                        ShellCommand::Ask(Confirm::Unpublish {
                            model: name.clone(),
                        })
                        .into(),
                    );
                }
            } else {
                let publish = ui
                    .add_enabled(free, egui::Button::new(t!("models-publish")))
                    .on_hover_text(t!("models-publish-hover"));
                if publish.clicked() {
                    commands.push(ModelsCommand::Publish.into());
                }
            }
        }
    });
    published_ui(ui, panel);
    if let Some(why) = &blocked {
        ui.label(egui::RichText::new(t!("models-save-remove-why", why = why)).small());
    }
    if let Some(name) = &panel.confirm_remove {
        ui.horizontal_wrapped(|ui| {
            ui.label(t!("models-remove-confirm", name = name));
            if ui.button(t!("models-yes-remove")).clicked() {
                commands.push(ModelsCommand::ConfirmRemove(true).into());
            }
            if ui.button(t!("models-no")).clicked() {
                commands.push(ModelsCommand::ConfirmRemove(false).into());
            }
        });
    }
    for m in &panel.mistakes {
        let text = egui::RichText::new(t!(
            "models-error-at",
            line = m.line,
            col = m.col,
            message = m.message
        ))
        .color(ui.visuals().error_fg_color);
        let link = ui
            .add(egui::Label::new(text).sense(egui::Sense::click()))
            .on_hover_text(t!("models-put-cursor"));
        if link.clicked() {
            put_cursor(ui.ctx(), editor_id, &panel.source, m.line, m.col);
        }
    }
    if let Some(info) = &panel.info {
        ui.label(info);
    }
    if let Some(error) = &panel.error {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
    build_ui(ui, panel, commands);
    ui.separator();
    rows_ui(ui, panel, shell, commands);
}

/// Puts the editor's cursor at `line`, `col` (both from 1) of `text` and
/// gives it the focus (walks the text once, on a click).
fn put_cursor(ctx: &egui::Context, id: egui::Id, text: &str, line: usize, col: usize) {
    let before: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(|l| l.chars().count())
        .sum();
    let index = before + col.saturating_sub(1);
    let mut state = egui::text_edit::TextEditState::load(ctx, id).unwrap_or_default();
    state
        .cursor
        .set_char_range(Some(egui::text::CCursorRange::one(
            egui::text::CCursor::new(index),
        )));
    state.store(ctx, id);
    ctx.memory_mut(|m| m.request_focus(id));
}

/// Where the selected model's published tables stand, or the work on them.
fn published_ui(ui: &mut egui::Ui, panel: &ModelsPanel) {
    if let Some(name) = &panel.publishing {
        ui.horizontal_wrapped(|ui| {
            ui.spinner();
            ui.label(t!("models-publishing", name = name));
        });
    }
    let Some(p) = panel.selected_published() else {
        return;
    };
    ui.label(t!(
        "models-published",
        tables = p.tables.join(", "),
        checkpoint = p.checkpoint,
        lag_events = p.lag_events
    ));
    if let Some(why) = p.refused.as_ref().or(p.last_error.as_ref()) {
        ui.colored_label(
            ui.visuals().error_fg_color,
            t!("models-not-kept-up", why = why),
        );
    }
}

fn build_ui(ui: &mut egui::Ui, panel: &ModelsPanel, commands: &mut Vec<UiCommand>) {
    if let Some(b) = &panel.building {
        let (fraction, mut text) = match &b.progress {
            Some(p) if p.head > 0 => (
                (p.position as f32 / p.head as f32).clamp(0.0, 1.0),
                format!("{} / {} · {:.0}/s", p.position, p.head, p.rate_per_sec),
            ),
            _ => (0.0, "starting…".to_string()),
        };
        if let Some(eta) = b.progress.as_ref().and_then(|p| p.eta_secs) {
            text.push_str(&format!(" · ETA {}", human_secs(eta)));
        }
        ui.horizontal_wrapped(|ui| {
            ui.spinner();
            ui.label(t!("models-building", model = b.model));
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width((ui.available_width() - 90.0).max(120.0))
                    .text(text),
            );
            let label = if b.cancel.is_cancelled() {
                "Cancelling…"
            } else {
                "Cancel"
            };
            if ui.button(label).clicked() {
                commands.push(ModelsCommand::Cancel.into());
            }
        });
    }
    if let Some(done) = &panel.built {
        let r = &done.report;
        let end = match r.end {
            crate::engine::models::BuildEnd::Done => "built",
            crate::engine::models::BuildEnd::Cancelled => "cancelled",
        };
        ui.label(t!(
            "models-build-result",
            model = r.model,
            end = end,
            position = r.position,
            events = r.events,
            elapsed = human_secs(r.elapsed_secs),
            errors = r.errors
        ));
        if !done.errors.is_empty() {
            ui.label(t!("models-not-applied"));
            let row_height = ui.text_style_height(&egui::TextStyle::Body);
            egui::ScrollArea::vertical()
                .id_salt("model_errors")
                .max_height(120.0)
                .show_rows(ui, row_height, done.errors.len(), |ui, range| {
                    for e in &done.errors[range] {
                        ui.label(format!("{}: {}", e.position, e.reason));
                    }
                });
        }
    }
}

fn rows_ui(ui: &mut egui::Ui, panel: &ModelsPanel, shell: &Shell, commands: &mut Vec<UiCommand>) {
    ui.horizontal_wrapped(|ui| {
        ui.label(t!("models-rows-at"));
        let mut at = panel.at.clone();
        let field = ui.add(
            egui::TextEdit::singleline(&mut at)
                .id_salt("model_at")
                .hint_text(t!("models-head", head = shell.head))
                .desired_width(90.0),
        );
        if field.changed() {
            commands.push(ModelsCommand::SetAt(at).into());
        }
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if (ui.button(t!("models-show-rows")).clicked() || enter) && panel.selected.is_some() {
            commands.push(ModelsCommand::ShowRows.into());
        }
        // A slider over the positions built: dragging sets the field, letting
        // go reads the rows there.
        if let Some(view) = &panel.rows
            && view.built > 0
        {
            let mut at = panel.at.trim().parse::<u64>().unwrap_or(view.at);
            let slider = ui.add(
                egui::Slider::new(&mut at, 0..=view.built)
                    .show_value(false)
                    .text("position"),
            );
            if slider.changed() {
                commands.push(ModelsCommand::SetAt(at.to_string()).into());
            }
            if slider.drag_stopped() || (slider.changed() && !slider.dragged()) {
                commands.push(ModelsCommand::ShowRows.into());
            }
        }
    });
    let Some(view) = &panel.rows else {
        if panel.selected.is_some() {
            ui.label(t!("models-not-built"));
        }
        return;
    };
    ui.label(t!("models-at-position", model = view.model, at = view.at));
    ui.label(
        egui::RichText::new(t!("models-digest", digest = view.digest))
            .small()
            .monospace(),
    );
    for t in &view.tables {
        ui.strong(if (t.rows.len() as u64) < t.total {
            t!(
                "models-first-rows",
                name = t.name,
                rows = t.rows.len(),
                total = t.total
            )
        } else {
            t!("models-rows", name = t.name, total = t.total)
        });
        let columns: Vec<&str> = t.columns.iter().map(String::as_str).collect();
        let look = TableLook {
            id: egui::Id::unique(("model_rows", &view.model, &t.name)),
            tag: None,
            columns: &columns,
            history: None,
            kinds: Some(&t.kinds),
        };
        ui.push_id(("model_table", &t.name), |ui| {
            ui.set_max_height(300.0);
            if let Some(row) = memory_table_ui(ui, &look, Some(shell), &Rows(t), None, commands)
                && let Some(cells) = t.rows.get(row)
            {
                let key = t
                    .key
                    .iter()
                    .filter_map(|&i| cells.get(i).cloned())
                    .collect();
                commands.push(
                    ModelsCommand::Explore(ExploreCommand::OpenRow {
                        table: t.name.clone(),
                        key,
                    })
                    .into(),
                );
            }
        });
    }
    explore_ui(ui, panel, view, shell, commands);
}
