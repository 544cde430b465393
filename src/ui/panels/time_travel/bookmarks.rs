//! Time travel's bookmarks: a named position on one ledger (its id), with a
//! note and the position pinned when it was made, and `ledgerscope://`
//! links to it. A bookmark shows only on the ledger it was made on;
//! bookmarks saved before they carried a ledger id show on every ledger,
//! marked so, until removed.

use crate::ui::i18n::t;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{DiffAgainst, TimeTravelCommand, TimeTravelPanel};
use crate::engine::pairing::short_id;
use crate::ui::app::Shell;
use crate::ui::command::UiCommand;
use crate::ui::link::PositionLink;
use crate::ui::panels::{Ctx, PanelKind};
use crate::ui::widgets::copy_link::copy_link_button_ui;
use crate::ui::widgets::draft_field::draft_field_ui;
use crate::ui::widgets::truncated_label_ui;

/// A named position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bookmark {
    /// What the user called it.
    pub name: String,
    /// The ledger position.
    pub position: u64,
    /// The ledger it was made on (`None`: saved before bookmarks carried
    /// one; shown on every ledger).
    #[serde(default)]
    pub ledger: Option<Uuid>,
    /// The user's note.
    #[serde(default)]
    pub note: String,
    /// The position pinned when it was made (the difference's other side).
    #[serde(default)]
    pub pinned: Option<u64>,
}

impl Bookmark {
    /// Whether it belongs on the ledger `ledger` (`None`: the id is not
    /// known yet, only the bookmarks without one show).
    pub fn shown_on(&self, ledger: Option<Uuid>) -> bool {
        self.ledger.is_none() || self.ledger == ledger
    }

    /// Its link, when its ledger is known (its own, else the connected one).
    pub fn link(&self, connected: Option<Uuid>) -> Option<PositionLink> {
        Some(PositionLink {
            ledger: self.ledger.or(connected)?,
            panel: PanelKind::TimeTravel,
            position: Some(self.position),
            pinned: self.pinned,
        })
    }
}

/// A bookmark being renamed and annotated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookmarkEdit {
    /// Which bookmark (index in the panel's list).
    pub index: usize,
    /// Its new name.
    pub name: String,
    /// Its new note.
    pub note: String,
}

/// What the bookmarks ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum BookmarkCommand {
    /// The name for a new bookmark changed.
    SetNewName(String),
    /// Bookmark the cursor (and the pin) on this ledger.
    Add,
    /// Go to a bookmark: its position, and its pin if it had one.
    Go(usize),
    /// Forget a bookmark.
    Remove(usize),
    /// Start renaming / annotating a bookmark.
    Edit(usize),
    /// The name being edited changed.
    SetEditName(String),
    /// The note being edited changed.
    SetEditNote(String),
    /// Keep the edit.
    SaveEdit,
    /// Drop the edit.
    CancelEdit,
}

impl From<BookmarkCommand> for UiCommand {
    fn from(command: BookmarkCommand) -> Self {
        TimeTravelCommand::Bookmark(command).into()
    }
}

impl TimeTravelPanel {
    /// Runs a bookmark command.
    pub(super) fn handle_bookmark(&mut self, command: BookmarkCommand, ctx: &mut Ctx<'_>) {
        let head = ctx.shell.head;
        match command {
            BookmarkCommand::SetNewName(text) => self.bookmark_name = text,
            BookmarkCommand::Add => {
                let Some(ledger) = ctx.shell.ledger_id else {
                    // Not connected yet, or a ledger without an id.
                    return;
                };
                let name = match self.bookmark_name.trim() {
                    "" => format!("position {}", self.cursor.min(head)),
                    name => name.to_string(),
                };
                self.bookmarks.push(Bookmark {
                    name,
                    position: self.cursor.min(head),
                    ledger: Some(ledger),
                    note: String::new(),
                    pinned: self.pinned,
                });
                self.bookmark_name.clear();
            }
            BookmarkCommand::Go(index) => {
                let Some(bookmark) = self.bookmarks.get(index) else {
                    return;
                };
                if let Some(pinned) = bookmark.pinned {
                    self.pinned = Some(pinned.min(head));
                    self.diff_against = DiffAgainst::Pinned;
                }
                self.cursor = bookmark.position.min(head);
                self.follow = false;
            }
            BookmarkCommand::Remove(index) => {
                if index < self.bookmarks.len() {
                    self.bookmarks.remove(index);
                    self.bookmark_edit = None;
                }
            }
            BookmarkCommand::Edit(index) => {
                self.bookmark_edit = self.bookmarks.get(index).map(|b| BookmarkEdit {
                    index,
                    name: b.name.clone(),
                    note: b.note.clone(),
                });
            }
            BookmarkCommand::SetEditName(text) => {
                if let Some(edit) = &mut self.bookmark_edit {
                    edit.name = text;
                }
            }
            BookmarkCommand::SetEditNote(text) => {
                if let Some(edit) = &mut self.bookmark_edit {
                    edit.note = text;
                }
            }
            BookmarkCommand::SaveEdit => {
                if let Some(edit) = self.bookmark_edit.take()
                    && let Some(bookmark) = self.bookmarks.get_mut(edit.index)
                {
                    let name = edit.name.trim();
                    if !name.is_empty() {
                        bookmark.name = name.to_string();
                    }
                    bookmark.note = edit.note.trim().to_string();
                }
            }
            BookmarkCommand::CancelEdit => self.bookmark_edit = None,
        }
    }

    /// The link to what is on screen: the cursor and the pin.
    pub fn link(&self, shell: &Shell) -> Option<PositionLink> {
        Some(PositionLink {
            ledger: shell.ledger_id?,
            panel: PanelKind::TimeTravel,
            position: Some(self.cursor.min(shell.head)),
            pinned: self.pinned,
        })
    }
}

/// Why bookmarks cannot be added: they belong to a ledger, named by its id.
const NO_LEDGER_ID: &str = "A bookmark belongs to a ledger, and this one's id is not known (not connected yet, or a ledger an earlier build made without one).";

fn push(commands: &mut Vec<UiCommand>, command: BookmarkCommand) {
    commands.push(command.into());
}

fn edit_ui(ui: &mut egui::Ui, edit: &BookmarkEdit, commands: &mut Vec<UiCommand>) {
    ui.horizontal_wrapped(|ui| {
        ui.label(t!("bookmark-name"));
        if let (_, Some(text)) = draft_field_ui(ui, &edit.name, "new name", 140.0) {
            push(commands, BookmarkCommand::SetEditName(text));
        }
        ui.label(t!("bookmark-note"));
        let (note, changed) = draft_field_ui(ui, &edit.note, "what is to be seen here", 260.0);
        if let Some(text) = changed {
            push(commands, BookmarkCommand::SetEditNote(text));
        }
        if ui.button(t!("bookmark-save")).clicked()
            || (note.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)))
        {
            push(commands, BookmarkCommand::SaveEdit);
        }
        if ui.button(t!("common-cancel")).clicked() {
            push(commands, BookmarkCommand::CancelEdit);
        }
    });
}

fn bookmark_row_ui(
    ui: &mut egui::Ui,
    index: usize,
    bookmark: &Bookmark,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    ui.horizontal(|ui| {
        let at = match bookmark.pinned {
            Some(pinned) => format!("@{} (pinned {pinned})", bookmark.position),
            None => format!("@{}", bookmark.position),
        };
        let ledger = match bookmark.ledger {
            Some(id) => format!("ledger {}", short_id(id)),
            None => "no ledger id: saved before bookmarks carried one, shown on every ledger"
                .to_string(),
        };
        if ui
            .button(format!("{} {at}", bookmark.name))
            .on_hover_text(t!("bookmark-go-there", ledger = ledger))
            .clicked()
        {
            push(commands, BookmarkCommand::Go(index));
        }
        if ui
            .small_button(t!("bookmark-edit"))
            .on_hover_text(t!("bookmark-edit-hover", name = bookmark.name))
            .clicked()
        {
            push(commands, BookmarkCommand::Edit(index));
        }
        copy_link_button_ui(ui, bookmark.link(shell.ledger_id).as_ref());
        if ui
            .small_button("×")
            .on_hover_text(t!("bookmark-remove-hover", name = bookmark.name))
            .clicked()
        {
            push(commands, BookmarkCommand::Remove(index));
        }
        if !bookmark.note.is_empty() {
            truncated_label_ui(ui, egui::RichText::new(&bookmark.note).weak(), None);
        }
    });
}

/// Draws the bookmarks of the connected ledger: add one (named), go to one,
/// rename it and write a note, copy its link, remove it; and a link to what
/// is on screen.
pub fn bookmarks_ui(
    ui: &mut egui::Ui,
    panel: &TimeTravelPanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(t!("bookmark-title"));
        if let (_, Some(text)) = draft_field_ui(ui, &panel.bookmark_name, "name", 100.0) {
            push(commands, BookmarkCommand::SetNewName(text));
        }
        let add = ui.add_enabled(
            shell.ledger_id.is_some(),
            egui::Button::new(t!("bookmark-add")),
        );
        if add
            .on_hover_text(t!("bookmark-add-hover"))
            .on_disabled_hover_text(NO_LEDGER_ID)
            .clicked()
        {
            push(commands, BookmarkCommand::Add);
        }
        copy_link_button_ui(ui, panel.link(shell).as_ref());
    });
    let shown = panel
        .bookmarks
        .iter()
        .enumerate()
        .filter(|(_, b)| b.shown_on(shell.ledger_id));
    for (index, bookmark) in shown {
        match &panel.bookmark_edit {
            Some(edit) if edit.index == index => edit_ui(ui, edit, commands),
            _ => bookmark_row_ui(ui, index, bookmark, shell, commands),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookmarks_saved_before_they_carried_a_ledger_still_read() {
        let old: Vec<Bookmark> =
            serde_json::from_str(r#"[{"name":"before the storm","position":12}]"#).unwrap();
        assert_eq!(old[0].ledger, None);
        assert_eq!((old[0].note.as_str(), old[0].pinned), ("", None));
        assert!(
            old[0].shown_on(Some(Uuid::new_v4())),
            "shown on every ledger"
        );
        let mine = Bookmark {
            ledger: Some(Uuid::new_v4()),
            ..old[0].clone()
        };
        assert!(mine.shown_on(mine.ledger));
        assert!(!mine.shown_on(Some(Uuid::new_v4())));
        assert!(!mine.shown_on(None));
    }
}
