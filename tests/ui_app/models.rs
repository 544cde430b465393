//! Models: a read model written as SQL text is checked, saved, built in
//! the background and its rows shown; a mistake is named by line and
//! column and nothing is saved.

use super::*;

use egui::{Key, Modifiers};
use ledgerscope::domain::state::DiffKind;
use ledgerscope::ui::panels::models::explore::ExploreCommand;
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

/// The bookings example saved and built through the panel; the head.
fn built_bookings(h: &mut Harness<'static, LedgerApp>, rt: &tokio::runtime::Runtime) -> u64 {
    let head = seed_mix(h, rt, 40, 3);
    wait_until(h, "the head", |app| app.shell().head == head);
    let engine = h.state().engine().unwrap().clone();
    let text = EXAMPLES
        .iter()
        .find(|(f, _)| *f == "bookings.sql")
        .unwrap()
        .1;
    rt.block_on(engine.add_model(text)).unwrap();
    // Tall enough for the rows, the difference and what if without scrolling.
    h.set_size(egui::vec2(1400.0, 2400.0));
    open_models(h);
    h.state_mut()
        .push_command(ModelsCommand::Select("bookings".into()));
    h.run_steps(3);
    click_until(h, "Build", "the build", |app| {
        let m = &app.panels().models;
        m.building.is_some() || m.built.is_some()
    });
    wait_until(h, "the rows at the head", |app| {
        let m = &app.panels().models;
        m.built.is_some() && m.rows.as_ref().is_some_and(|r| r.at == head)
    });
    head
}

#[test]
fn a_built_model_shows_its_difference_a_row_s_history_and_over_time_as_the_built_ins_do() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    let head = built_bookings(&mut h, &rt);
    let engine = h.state().engine().unwrap().clone();
    let from = head / 2;

    // The difference from the middle to the head, against the built-in one.
    h.state_mut()
        .push_command(ModelsCommand::Explore(ExploreCommand::SetFrom(
            from.to_string(),
        )));
    h.run_steps(2);
    click(&mut h, "Show difference");
    wait_until(&mut h, "the difference", |app| {
        let e = &app.panels().models.explore;
        e.diff.is_some() || e.error.is_some()
    });
    assert_eq!(h.state().panels().models.explore.error, None);
    let diff = h.state().panels().models.explore.diff.clone().unwrap();
    let builtin = rt.block_on(engine.diff_positions(from, head)).unwrap();
    let bookings = builtin
        .tables
        .iter()
        .find(|t| t.table == Table::Bookings)
        .unwrap();
    let (added, removed, changed) = bookings.counts();
    assert_eq!(
        (diff.counts.added, diff.counts.removed, diff.counts.changed),
        (added as u64, removed as u64, changed as u64)
    );
    let changed_row = diff
        .rows
        .iter()
        .find(|r| r.kind == DiffKind::Changed)
        .expect("a booking changed in the second half")
        .clone();

    // A click on its key in the difference opens its history.
    let key = changed_row.key[0].clone();
    let links = h.get_all_by_label(&format!("{}…", &key[..8])).count();
    assert!(links >= 1, "the key is a link");
    h.get_all_by_label(&format!("{}…", &key[..8]))
        .last()
        .unwrap()
        .click();
    wait_until(&mut h, "the row's history", |app| {
        app.panels().models.explore.history.is_some()
    });
    let history = h.state().panels().models.explore.history.clone().unwrap();
    assert_eq!(history.key, std::slice::from_ref(&key));
    let expected = rt
        .block_on(engine.row_history(Table::Bookings, key.parse().unwrap()))
        .unwrap();
    let positions: Vec<(String, String)> = history
        .rows
        .iter()
        .map(|r| (r.cells[0].clone(), r.cells[1].clone()))
        .collect();
    let built_in: Vec<(String, String)> = expected
        .versions
        .iter()
        .map(|v| (v.position.to_string(), v.event_type.clone()))
        .collect();
    assert_eq!(positions, built_in);
    h.get_by_label("Model row history");
    // Its versions' positions link to the timeline (clicked through
    // AccessKit: the window's left resize edge lies over the first column).
    let first = positions[0].0.clone();
    h.query_all(By::new().label(&first).role(Role::Link))
        .last()
        .expect("the version's position is a link")
        .click_accesskit();
    wait_until(&mut h, "the version's event in the timeline", |app| {
        app.shell().panel == PanelKind::Timeline
    });
    open_models(&mut h);

    // Over time: the sum of prices at the head is the built-in bookings' total.
    h.state_mut()
        .push_command(ModelsCommand::Explore(ExploreCommand::ShowSeries(
            "price_cents".into(),
        )));
    wait_until(&mut h, "the series", |app| {
        app.panels().models.explore.series.is_some()
    });
    let series = h.state().panels().models.explore.series.clone().unwrap();
    let state = rt.block_on(engine.state_at(head)).unwrap().state;
    let total: i64 = state.bookings.values().map(|b| b.price_cents).sum();
    let last = series.points.last().unwrap();
    assert_eq!((last.x, last.y), (head as f64, total as f64));
    h.get_by_label_contains("sum of bookings.price_cents at");
}

#[test]
fn what_if_on_a_model_leaves_events_out_as_the_built_in_what_if_does() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    let head = built_bookings(&mut h, &rt);
    let engine = h.state().engine().unwrap().clone();
    let exclude = [2, 5, head / 2];
    h.state_mut()
        .push_command(ModelsCommand::Explore(ExploreCommand::SetExclude(
            "2, 5 ".to_string() + &(head / 2).to_string(),
        )));
    h.run_steps(2);
    click(&mut h, "Run what if");
    wait_until(&mut h, "the what-if", |app| {
        let e = &app.panels().models.explore;
        e.what_if.is_some() || e.error.is_some()
    });
    assert_eq!(h.state().panels().models.explore.error, None);
    let w = h.state().panels().models.explore.what_if.clone().unwrap();
    assert_eq!(w.excluded, exclude);
    let exclusion = ledgerscope::domain::Exclusion {
        positions: exclude.into_iter().collect(),
        ..Default::default()
    };
    let report = rt
        .block_on(engine.what_if(&exclusion, head, &JobControl::default()))
        .unwrap();
    let bookings = report
        .difference
        .tables
        .iter()
        .find(|t| t.table == Table::Bookings)
        .unwrap();
    let (added, removed, changed) = bookings.counts();
    let c = w.difference.counts;
    assert_eq!(
        (c.added, c.removed, c.changed),
        (added as u64, removed as u64, changed as u64)
    );
    assert!(c.added + c.removed + c.changed > 0);
    assert_eq!(w.simulated_rows, report.simulated_counts.bookings as u64);
    h.get_by_label_contains("SIMULATION (nothing is written)");
}
