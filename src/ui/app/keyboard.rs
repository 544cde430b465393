//! The keyboard: every shortcut of the window becomes a [`UiCommand`] here,
//! in one place, read at the start of each frame before anything is drawn.
//! A key it uses is consumed, so a focused button, slider or checkbox does
//! not also act on it (Space clicking a button, arrows moving a slider or
//! the focus). Nothing is read while a text field has the focus or a
//! dialog is open. Zoom (Ctrl+Plus, Ctrl+Minus, Ctrl+0) is egui's own.

use egui::{Key, Modifiers};

use crate::ui::app::Shell;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::panels::PanelKind;
use crate::ui::panels::time_travel::{BookmarkCommand, TimeTravelCommand};
use crate::ui::panels::timeline::TimelineCommand;

/// Events one Shift+arrow steps in Time travel.
pub const BIG_STEP: i64 = 100;

/// The shortcuts, for the Keyboard shortcuts window: keys, what they do.
pub const SHORTCUTS: [(&str, &str); 13] = [
    ("Ctrl+1 … Ctrl+8", "Show a panel, in the order of the tabs"),
    ("Ctrl+F", "Put the cursor in the panel's filter or search"),
    ("Ctrl+Plus / Ctrl+Minus", "Zoom in / out (remembered)"),
    ("Ctrl+0", "Reset the zoom"),
    ("Time travel: Space", "Play / pause"),
    ("Time travel: Left / Right", "One event back / forward"),
    (
        "Time travel: Shift+Left / Shift+Right",
        "100 events back / forward",
    ),
    ("Time travel: Home / End", "Go to position 0 / the head"),
    ("Time travel: Enter", "Bookmark this position"),
    ("Timeline: Up / Down", "Select the previous / next event"),
    (
        "Timeline: Enter",
        "Open the selected event's aggregate stream",
    ),
    ("Escape", "Close a dialog"),
    ("Tab / Shift+Tab", "Move between controls"),
];

/// The digit keys, Ctrl+1 for the first tab.
const DIGITS: [Key; 8] = [
    Key::Num1,
    Key::Num2,
    Key::Num3,
    Key::Num4,
    Key::Num5,
    Key::Num6,
    Key::Num7,
    Key::Num8,
];

/// Takes `key` with exactly no modifier but maybe Shift out of this
/// frame's input: how often it was pressed with Shift and without.
fn take_arrow(ctx: &egui::Context, key: Key) -> (usize, usize) {
    ctx.input_mut(|i| {
        let shifted = i.count_and_consume_key(Modifiers::SHIFT, key);
        let plain = i.count_and_consume_key(Modifiers::NONE, key);
        (shifted, plain)
    })
}

/// Takes `key` pressed without Ctrl or Alt out of this frame's input.
fn take(ctx: &egui::Context, key: Key) -> bool {
    ctx.input_mut(|i| i.consume_key(Modifiers::NONE, key))
}

/// An arrow key was taken: egui must not also move the focus with it.
fn keep_focus(ctx: &egui::Context) {
    ctx.memory_mut(|m| m.move_focus(egui::FocusDirection::None));
}

fn time_travel_keys(ctx: &egui::Context, head: u64, out: &mut Vec<UiCommand>) {
    let mut push = |command: TimeTravelCommand| out.push(command.into());
    if take(ctx, Key::Space) {
        push(TimeTravelCommand::TogglePlaying);
    }
    let (big_back, back) = take_arrow(ctx, Key::ArrowLeft);
    let (big_forward, forward) = take_arrow(ctx, Key::ArrowRight);
    if big_back + back + big_forward + forward > 0 {
        keep_focus(ctx);
        let steps = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let delta =
            (steps(big_forward) - steps(big_back)) * BIG_STEP + steps(forward) - steps(back);
        if delta != 0 {
            push(TimeTravelCommand::StepCursor(delta));
        }
    }
    if take(ctx, Key::Home) {
        push(TimeTravelCommand::SetCursor(0));
    }
    if take(ctx, Key::End) {
        push(TimeTravelCommand::SetCursor(head));
    }
    if take(ctx, Key::Enter) {
        push(TimeTravelCommand::Bookmark(BookmarkCommand::Add));
    }
}

fn timeline_keys(ctx: &egui::Context, out: &mut Vec<UiCommand>) {
    let up = ctx.input_mut(|i| i.count_and_consume_key(Modifiers::NONE, Key::ArrowUp));
    let down = ctx.input_mut(|i| i.count_and_consume_key(Modifiers::NONE, Key::ArrowDown));
    if up + down > 0 {
        keep_focus(ctx);
        let delta = i64::try_from(down).unwrap_or(0) - i64::try_from(up).unwrap_or(0);
        if delta != 0 {
            out.push(TimelineCommand::MoveSelection(delta).into());
        }
    }
    if take(ctx, Key::Enter) {
        out.push(TimelineCommand::OpenSelectedStream.into());
    }
}

/// Reads this frame's keys and pushes what they ask for. Call before
/// anything is drawn (so the keys it takes reach no widget).
pub fn keyboard_commands(ctx: &egui::Context, shell: &Shell, out: &mut Vec<UiCommand>) {
    if shell.dialog.is_some() || shell.confirm.is_some() || ctx.text_edit_focused() {
        return;
    }
    for (digit, panel) in DIGITS.iter().zip(PanelKind::ALL) {
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, *digit)) {
            out.push(ShellCommand::ShowPanel(panel).into());
        }
    }
    if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::F)) {
        out.push(ShellCommand::FocusSearch.into());
    }
    match shell.panel {
        PanelKind::TimeTravel => time_travel_keys(ctx, shell.head, out),
        PanelKind::Timeline => timeline_keys(ctx, out),
        _ => {}
    }
}
