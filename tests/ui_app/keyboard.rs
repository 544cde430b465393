//! The keyboard: panels, Time travel's cursor, the timeline's selection,
//! Ctrl+F, the shortcuts window; never while a text field has the focus;
//! the zoom and the theme, remembered.

use super::*;

use egui::{Key, Modifiers};
use ledgerscope::ui::panels::time_travel::TimeTravelCommand;
use ledgerscope::ui::prefs::{Look, ThemeChoice};

/// Presses `key` (with `modifiers`) and lets the command it makes run.
fn press(h: &mut Harness<'static, LedgerApp>, modifiers: Modifiers, key: Key) {
    h.key_press_modifiers(modifiers, key);
    h.run_steps(3);
}

fn cursor(app: &LedgerApp) -> u64 {
    app.panels().time_travel.cursor
}

/// A node found by its hint text.
fn by_hint(hint: &'static str) -> By<'static> {
    By::new().predicate(move |n| n.placeholder() == Some(hint))
}

#[test]
fn ctrl_and_a_digit_show_the_panels_in_tab_order() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    for (digit, panel) in [
        Key::Num1,
        Key::Num2,
        Key::Num3,
        Key::Num4,
        Key::Num5,
        Key::Num6,
        Key::Num7,
        Key::Num8,
    ]
    .into_iter()
    .zip(PanelKind::ALL)
    .rev()
    {
        press(&mut h, Modifiers::COMMAND, digit);
        assert_eq!(h.state().shell().panel, panel, "{digit:?}");
    }
}

#[test]
fn time_travel_keys_move_the_cursor_and_not_the_focused_control() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 300);
    wait_until(&mut h, "head 300", |app| app.shell().head == 300);
    press(&mut h, Modifiers::COMMAND, Key::Num3);
    h.state_mut()
        .push_command(TimeTravelCommand::SetCursor(150));
    wait_until(&mut h, "the state at 150", |app| {
        travel(app).is_some_and(|t| t.position == 150)
    });

    // The slider has the focus: the arrows move the cursor once, not the
    // slider as well, and the focus stays.
    let slider = h.get_by_role(Role::Slider);
    slider.focus();
    h.run_steps(2);
    press(&mut h, Modifiers::NONE, Key::ArrowRight);
    assert_eq!(cursor(h.state()), 151);
    press(&mut h, Modifiers::SHIFT, Key::ArrowRight);
    assert_eq!(cursor(h.state()), 251);
    press(&mut h, Modifiers::NONE, Key::ArrowLeft);
    assert_eq!(cursor(h.state()), 250);
    press(&mut h, Modifiers::SHIFT, Key::ArrowLeft);
    assert_eq!(cursor(h.state()), 150);
    assert!(h.get_by_role(Role::Slider).is_focused(), "the focus stays");
    press(&mut h, Modifiers::NONE, Key::Home);
    assert_eq!(cursor(h.state()), 0);
    press(&mut h, Modifiers::NONE, Key::End);
    assert_eq!(cursor(h.state()), 300);

    // Space plays and pauses, and does not press the focused button.
    h.state_mut()
        .push_command(TimeTravelCommand::SetCursor(100));
    h.run_steps(2);
    h.get_by_label("End >|").focus();
    h.run_steps(2);
    press(&mut h, Modifiers::NONE, Key::Space);
    assert!(h.state().panels().time_travel.playing, "Space plays");
    press(&mut h, Modifiers::NONE, Key::Space);
    assert!(!h.state().panels().time_travel.playing, "Space pauses");
    assert!(
        cursor(h.state()) < 200,
        "the focused End button was not pressed: {}",
        cursor(h.state())
    );

    // Enter bookmarks the cursor.
    let at = cursor(h.state());
    press(&mut h, Modifiers::NONE, Key::Enter);
    let bookmarks = &h.state().panels().time_travel.bookmarks;
    assert_eq!(bookmarks.len(), 1);
    assert_eq!(bookmarks[0].position, at);
}

#[test]
fn no_key_is_taken_while_a_text_field_has_the_focus() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 30);
    wait_until(&mut h, "head 30", |app| app.shell().head == 30);
    press(&mut h, Modifiers::COMMAND, Key::Num3);
    h.state_mut().push_command(TimeTravelCommand::SetCursor(10));
    h.run_steps(2);
    h.get(by_hint("position or 2026-03-01 14:30")).focus();
    h.run_steps(2);
    for (modifiers, key) in [
        (Modifiers::NONE, Key::Home),
        (Modifiers::NONE, Key::ArrowRight),
        (Modifiers::NONE, Key::Space),
        (Modifiers::NONE, Key::Enter),
        (Modifiers::COMMAND, Key::Num1),
    ] {
        h.get(by_hint("position or 2026-03-01 14:30")).focus();
        h.run_steps(1);
        press(&mut h, modifiers, key);
        let app = h.state();
        assert_eq!(app.shell().panel, PanelKind::TimeTravel, "{key:?}");
        assert_eq!(cursor(app), 10, "{key:?}");
        assert!(!app.panels().time_travel.playing, "{key:?}");
        assert!(app.panels().time_travel.bookmarks.is_empty(), "{key:?}");
    }
}

#[test]
fn the_timeline_selection_follows_up_and_down_and_enter_opens_its_stream() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 20);
    wait_until(&mut h, "head 20", |app| app.shell().head == 20);
    press(&mut h, Modifiers::COMMAND, Key::Num2);
    wait_until(&mut h, "the first timeline page", |app| {
        app.panels().timeline.pages.row(0).is_some()
    });
    let selected = |app: &LedgerApp| app.panels().timeline.selected_position;
    press(&mut h, Modifiers::NONE, Key::ArrowDown);
    assert_eq!(selected(h.state()), Some(1));
    press(&mut h, Modifiers::NONE, Key::ArrowDown);
    press(&mut h, Modifiers::NONE, Key::ArrowDown);
    assert_eq!(selected(h.state()), Some(3));
    press(&mut h, Modifiers::NONE, Key::ArrowUp);
    assert_eq!(selected(h.state()), Some(2));
    let aggregate = match &h.state().panels().timeline.selected {
        Some(Ok(event)) => event.aggregate_id,
        other => panic!("the selected event is shown: {other:?}"),
    };
    press(&mut h, Modifiers::NONE, Key::Enter);
    wait_until(&mut h, "the aggregate's stream", |app| {
        app.panels()
            .timeline
            .stream
            .as_ref()
            .is_some_and(|(id, events)| *id == aggregate && !events.is_empty())
    });
}

#[test]
fn ctrl_f_puts_the_cursor_in_the_panels_search() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    press(&mut h, Modifiers::COMMAND, Key::Num2);
    assert!(!h.get(by_hint("in payload")).is_focused());
    press(&mut h, Modifiers::COMMAND, Key::F);
    assert!(h.get(by_hint("in payload")).is_focused());
    assert!(!h.state().shell().focus_search, "asked for one frame only");
}

#[test]
fn the_menu_lists_the_keyboard_shortcuts() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    click(&mut h, "Ledgerscope");
    click(&mut h, "Keyboard shortcuts");
    for says in [
        "Ctrl+1 … Ctrl+8",
        "Time travel: Space",
        "Timeline: Up / Down",
        "Ctrl+F",
    ] {
        assert!(h.query_by_label(says).is_some(), "{says}");
    }
}

/// An app on `dir` keeping its prefs in `prefs`.
fn app_with_prefs(
    dir: &Path,
    rt: &tokio::runtime::Runtime,
    prefs: &Path,
) -> Harness<'static, LedgerApp> {
    let options = gui_options(dir, rt);
    let app = LedgerApp::with_prefs_path(options, Some(prefs.to_path_buf()));
    let mut h = window(app);
    wait_until(&mut h, "connected", LedgerApp::is_connected);
    h
}

#[test]
fn the_zoom_and_the_light_theme_are_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let prefs = dir.path().join("prefs.json");
    {
        let mut h = app_with_prefs(dir.path(), &rt, &prefs);
        press(&mut h, Modifiers::COMMAND, Key::Plus);
        press(&mut h, Modifiers::COMMAND, Key::Plus);
        assert!((h.ctx.zoom_factor() - 1.2).abs() < 1e-3, "egui zooms");
        click(&mut h, "View");
        click(&mut h, "Light");
        assert_eq!(h.ctx.theme(), egui::Theme::Light);
        h.run_steps(2);
        assert_eq!(
            h.state().look(),
            Look {
                theme: ThemeChoice::Light,
                zoom_factor: 1.2
            }
        );
    }
    let mut h = app_with_prefs(dir.path(), &rt, &prefs);
    h.run_steps(2);
    assert!(
        (h.ctx.zoom_factor() - 1.2).abs() < 1e-3,
        "the zoom comes back: {}",
        h.ctx.zoom_factor()
    );
    assert_eq!(h.ctx.theme(), egui::Theme::Light, "the theme comes back");
    press(&mut h, Modifiers::COMMAND, Key::Num0);
    assert!((h.ctx.zoom_factor() - 1.0).abs() < 1e-3, "Ctrl+0 resets");
}
