//! Texts made before they are drawn (the answer to a command, the
//! activity strip) speak the window's language too.

use super::*;

/// Switches the window to Spanish through the View menu.
fn spanish(h: &mut Harness<'static, LedgerApp>) {
    h.get_by_label("View").click();
    h.run_steps(2);
    h.get_by_label("Español").click();
    wait_until(h, "Spanish", |app| {
        app.shell().language == ledgerscope::ui::prefs::Language::Es
    });
    h.run_steps(2);
}

/// Steps until every one of `texts` is on screen (fails after 5 s).
fn shown_until(h: &mut Harness<'static, LedgerApp>, what: &str, texts: &[&str]) {
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < until {
        h.step();
        if texts
            .iter()
            .all(|t| h.query_all_by_label_contains(t).next().is_some())
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{what}: not all of {texts:?} shown");
}

#[test]
fn emit_answers_and_the_activity_strip_speak_spanish() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), &rt, false);
    spanish(&mut h);
    click_until(&mut h, "Generar nuevo evento", "stored", |app| {
        app.shell().head >= 1
    });
    shown_until(&mut h, "the answer", &["guardado en la posición 1"]);
    click(&mut h, "Enviar de nuevo (mismo UUID)");
    shown_until(
        &mut h,
        "the duplicate",
        &["Duplicado:", "mismo UUID otra vez: no se añadió nada"],
    );
    assert!(
        h.query_by_label_contains("BookingProjection se puso al día con 1 evento en ")
            .is_some()
    );
    assert!(h.query_by_label_contains("caught up").is_none());
    assert!(h.query_by_label_contains("was already stored").is_none());
}

#[test]
fn operations_names_the_projectors_states_in_spanish() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), &rt, false);
    spanish(&mut h);
    click(&mut h, "Operaciones");
    shown_until(&mut h, "the states", &["En marcha"]);
    assert!(h.query_by_label("Running").is_none());
}
