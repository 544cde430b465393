//! Models: a read model written as SQL text is checked, saved, built in
//! the background and its rows shown; a mistake is named by line and
//! column and nothing is saved.

use super::*;

use egui::{Key, Modifiers};
use ledgerscope::ui::panels::models::{EXAMPLES, ModelsCommand};

/// Opens Models with Ctrl+8.
fn open_models(h: &mut Harness<'static, LedgerApp>) {
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num8);
    h.run_steps(3);
    assert_eq!(h.state().shell().panel, PanelKind::Models);
}

fn users_example() -> usize {
    EXAMPLES
        .iter()
        .position(|(file, _)| *file == "users.sql")
        .unwrap()
}

#[test]
fn the_users_example_is_checked_saved_built_and_shows_the_built_in_users_rows() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    let head = seed_mix(&h, &rt, 40, 3);
    wait_until(&mut h, "the head", |app| app.shell().head == head);
    let engine = h.state().engine().unwrap().clone();
    let users = rt
        .block_on(engine.state_at(head))
        .unwrap()
        .state
        .users
        .len() as u64;
    assert!(users > 0);
    open_models(&mut h);
    wait_until(&mut h, "the list", |app| {
        app.panels().models.models.is_some()
    });
    h.get_by_value("Load example").click();
    h.run_steps(3);
    h.get_by_label(EXAMPLES[users_example()].0).click();
    h.run_steps(3);
    assert!(h.state().panels().models.source.contains("-- model: users"));
    click(&mut h, "Check");
    wait_until(&mut h, "the check", |app| {
        app.panels().models.checked.is_some()
    });
    assert!(h.state().panels().models.mistakes.is_empty());
    click(&mut h, "Save");
    wait_until(&mut h, "the model listed", |app| {
        app.panels()
            .models
            .models
            .as_ref()
            .is_some_and(|m| m.iter().any(|m| m.name == "users"))
    });
    click_until(&mut h, "Build", "the build", |app| {
        let m = &app.panels().models;
        m.building.is_some() || m.built.is_some()
    });
    wait_until(&mut h, "built to the head", |app| {
        let m = &app.panels().models;
        m.built.as_ref().is_some_and(|b| b.report.position == head)
            && m.rows.as_ref().is_some_and(|r| r.at == head)
    });
    let rows = h.state().panels().models.rows.clone().unwrap();
    assert_eq!(rows.tables[0].name, "users");
    assert_eq!(rows.tables[0].total, users);
    h.get_by_label(&format!("users: {users} rows"));
    let listed = h.state().panels().models.models.clone().unwrap();
    assert_eq!(listed[0].built, Some(head));
    h.set_size(egui::vec2(900.0, 600.0));
    h.run_steps(3);
    for label in ["New", "Check", "Save", "Remove", "Build", "Show rows"] {
        let rect = h.get_by_label(label).rect();
        assert!(
            rect.min.x >= 0.0 && rect.max.x <= 900.0 && rect.max.y <= 600.0,
            "{label} is inside a 900 by 600 window: {rect:?}"
        );
    }
}

#[test]
fn a_mistake_is_named_by_line_and_column_and_nothing_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 5);
    open_models(&mut h);
    let broken = EXAMPLES[users_example()]
        .1
        .replace("email TEXT NOT NULL", "email TEXT NOT NULL,,");
    h.state_mut().push_command(ModelsCommand::SetSource(broken));
    h.run_steps(3);
    click(&mut h, "Check");
    wait_until(&mut h, "the mistakes", |app| {
        !app.panels().models.mistakes.is_empty()
    });
    let first = h.state().panels().models.mistakes[0].clone();
    h.get_by_label_contains(&format!("line {}, column {}", first.line, first.col))
        .click();
    h.run_steps(3);
    let source = h.state().panels().models.source.clone();
    let at: usize = source
        .split_inclusive('\n')
        .take(first.line - 1)
        .map(|l| l.chars().count())
        .sum::<usize>()
        + first.col
        - 1;
    let id = egui::Id::unique("model_source");
    let cursor = egui::text_edit::TextEditState::load(&h.ctx, id)
        .and_then(|s| s.cursor.char_range())
        .expect("the editor has a cursor");
    assert_eq!(
        cursor.primary.index,
        at.into(),
        "the cursor is at the mistake"
    );
    click(&mut h, "Save");
    h.run_steps(20);
    assert!(!h.state().panels().models.mistakes.is_empty());
    let engine = h.state().engine().unwrap().clone();
    assert!(rt.block_on(engine.models()).unwrap().is_empty());
}
