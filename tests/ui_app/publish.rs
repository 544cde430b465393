//! Publish in Models: a saved model becomes real tables of the read store,
//! followed by the publisher as events come; Unpublish asks first and
//! drops them.

use super::*;

use egui::{Key, Modifiers};
use ledgerscope::ui::panels::models::EXAMPLES;

const TABLE: &str = "model_bookings_bookings";

fn published_rows(dir: &Path) -> Option<i64> {
    let conn = rusqlite::Connection::open(dir.join("views.sqlite3")).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {TABLE}"), [], |r| r.get(0))
        .ok()
}

#[test]
fn publish_makes_a_read_store_table_that_follows_events_and_unpublish_asks_then_drops_it() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    let head = seed_mix(&h, &rt, 20, 3);
    wait_until(&mut h, "the head", |app| app.shell().head == head);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num8);
    h.run_steps(3);
    assert_eq!(h.state().shell().panel, PanelKind::Models);
    wait_until(&mut h, "the list", |app| {
        app.panels().models.models.is_some()
    });
    h.get_by_value("Load example").click();
    h.run_steps(3);
    let example = EXAMPLES
        .iter()
        .position(|(file, _)| *file == "bookings.sql")
        .unwrap();
    h.get_by_label(EXAMPLES[example].0).click();
    h.run_steps(3);
    click(&mut h, "Save");
    wait_until(&mut h, "the model listed", |app| {
        app.panels()
            .models
            .models
            .as_ref()
            .is_some_and(|m| m.iter().any(|m| m.name == "bookings"))
    });
    click_until(&mut h, "Publish", "publishing", |app| {
        let m = &app.panels().models;
        m.publishing.is_some() || m.selected_published().is_some()
    });
    wait_until(&mut h, "the model published", |app| {
        app.panels()
            .models
            .selected_published()
            .is_some_and(|p| p.checkpoint == head)
    });
    h.get_by_label(&format!("Published as {TABLE} · checkpoint {head} · lag 0"));
    let info = h.state().panels().models.info.clone().unwrap_or_default();
    assert!(info.starts_with("Published bookings as"), "{info}");
    let bookings = rt
        .block_on(h.state().engine().unwrap().state_at(head))
        .unwrap()
        .state
        .bookings
        .len() as i64;
    assert_eq!(published_rows(dir.path()), Some(bookings));

    // More events: the publisher follows without a click.
    let head = seed_mix(&h, &rt, 10, 4);
    let engine = h.state().engine().unwrap().clone();
    wait_until(&mut h, "the published table at the new head", |_| {
        rt.block_on(engine.published_statuses())
            .is_ok_and(|s| s.first().is_some_and(|p| p.checkpoint == head))
    });

    // Unpublish asks, naming the read store, then drops the table.
    click(&mut h, "Unpublish");
    assert!(matches!(
        h.state().shell().confirm,
        Some(ledgerscope::ui::app::dialogs::Confirm::Unpublish { .. })
    ));
    assert!(published_rows(dir.path()).is_some(), "nothing dropped yet");
    click(&mut h, "Yes, unpublish");
    wait_until(&mut h, "unpublished", |app| {
        let m = &app.panels().models;
        m.publishing.is_none() && m.info.as_deref() == Some("Unpublished bookings")
    });
    wait_until(&mut h, "the list without it", |app| {
        app.panels().models.selected_published().is_none()
    });
    assert_eq!(published_rows(dir.path()), None);
    h.get_by_label("Publish");
}

/// The trainer's simulated read-store outage: events stored meanwhile are
/// not in the published table; switched off, it catches up by itself, as
/// the built-in tables do.
#[test]
fn a_published_model_catches_up_after_the_simulated_outage() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    let head = seed_mix(&h, &rt, 10, 5);
    let engine = h.state().engine().unwrap().clone();
    let source = EXAMPLES
        .iter()
        .find(|(file, _)| *file == "bookings.sql")
        .unwrap()
        .1;
    rt.block_on(engine.add_model(source)).unwrap();
    let published = rt
        .block_on(engine.publish_model(
            "bookings",
            &tokio_util::sync::CancellationToken::new(),
            &mut |_| {},
        ))
        .unwrap();
    assert_eq!(published.position, head);
    engine.set_simulated_outage(true);
    let during = seed_mix(&h, &rt, 10, 6);
    h.run_steps(20);
    let checkpoint = |engine: &ledgerscope::engine::Engine| {
        rt.block_on(engine.published_statuses())
            .unwrap()
            .first()
            .map(|p| p.checkpoint)
    };
    assert_eq!(
        checkpoint(&engine),
        Some(head),
        "nothing written during the outage"
    );
    engine.set_simulated_outage(false);
    wait_until(&mut h, "the published model to catch up", |_| {
        checkpoint(&engine) == Some(during)
    });
    let bookings = rt
        .block_on(engine.state_at(during))
        .unwrap()
        .state
        .bookings
        .len() as i64;
    assert_eq!(published_rows(dir.path()), Some(bookings));
}
