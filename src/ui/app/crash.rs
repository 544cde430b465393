//! The report of the last crash ([`crate::crash`]), offered once at the
//! next start: read off the UI thread, shown in a window with its path
//! and a Copy button, and not offered again once dismissed (kept in
//! prefs).

use crate::ui::i18n::t;
use std::path::PathBuf;

use super::Shell;
use crate::ui::command::{Message, ShellCommand, ShellMessage, UiCommand};
use crate::ui::outbox::Outbox;

/// The most of a report shown (a report is a few KB; a huge file is cut).
const SHOWN_BYTES: u64 = 256 * 1024;

/// A crash report offered to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrashOffer {
    /// The report's file.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// The text is shown (else only the question).
    pub open: bool,
}

impl CrashOffer {
    /// The report's file name (what prefs keep once it was seen).
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// What the user does with an offered report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashAction {
    /// Show its text.
    Show,
    /// Close it; it is not offered again.
    Dismiss,
}

/// Sends the newest report in `dir` unless its name is `seen`.
pub async fn offer_newest(dir: PathBuf, seen: Option<String>, outbox: Outbox) {
    let read =
        tokio::task::spawn_blocking(move || -> std::io::Result<Option<(PathBuf, String)>> {
            let Some(path) = crate::crash::newest_report(&dir)? else {
                return Ok(None);
            };
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if name.is_some() && name == seen {
                return Ok(None);
            }
            use std::io::Read;
            let mut text = String::new();
            std::fs::File::open(&path)?
                .take(SHOWN_BYTES)
                .read_to_string(&mut text)?;
            Ok(Some((path, text)))
        })
        .await;
    let message = match read {
        Ok(Ok(Some((path, text)))) => ShellMessage::CrashReport { path, text },
        Ok(Ok(None)) => return,
        Ok(Err(error)) => {
            ShellMessage::Error(format!("the last crash report cannot be read: {error}"))
        }
        Err(join) => ShellMessage::Error(format!("reading the last crash report failed: {join}")),
    };
    outbox.send(Message::Shell(message)).await;
}

/// The offer: a question first, then the report's text.
pub fn crash_ui(ctx: &egui::Context, shell: &Shell, commands: &mut Vec<UiCommand>) {
    let Some(offer) = &shell.crash else {
        return;
    };
    let push = |commands: &mut Vec<UiCommand>, action| {
        commands.push(ShellCommand::Crash(action).into());
    };
    let response = egui::Modal::new(egui::Id::unique("ledgerscope_crash")).show(ctx, |ui| {
        ui.set_max_width(640.0);
        ui.heading(t!("crash-title"));
        ui.add(egui::Label::new(t!("crash-report-left", path = offer.path.display())).wrap());
        if offer.open {
            egui::ScrollArea::vertical()
                .max_height(320.0)
                .show(ui, |ui| {
                    ui.add(egui::Label::new(egui::RichText::new(&offer.text).monospace()).wrap());
                });
        }
        ui.horizontal(|ui| {
            if !offer.open && ui.button(t!("crash-show-report")).clicked() {
                push(commands, CrashAction::Show);
            }
            if offer.open && ui.button(t!("crash-copy-report")).clicked() {
                ui.ctx().copy_text(offer.text.clone());
            }
            if ui.button(t!("crash-dismiss")).clicked() {
                push(commands, CrashAction::Dismiss);
            }
        });
    });
    if response.should_close() {
        push(commands, CrashAction::Dismiss);
    }
}
