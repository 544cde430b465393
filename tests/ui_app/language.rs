//! The window in Spanish and English: the View menu switches it, the choice
//! is kept, and every panel in Spanish fits a 900x600 window.

use super::*;

use ledgerscope::ui::prefs::Language;

/// A 900x600 window on `dir` with prefs kept at `prefs`.
fn small_window(
    dir: &Path,
    rt: &tokio::runtime::Runtime,
    prefs: Option<std::path::PathBuf>,
) -> Harness<'static, LedgerApp> {
    let options = gui_options(dir, rt);
    let mut harness = Harness::builder()
        .with_size([900.0, 600.0])
        .with_accessibility_check(false)
        .build_ui_state(
            |ui, app: &mut LedgerApp| app.frame_ui(ui),
            LedgerApp::with_prefs_path(options, prefs),
        );
    wait_until(&mut harness, "connected", LedgerApp::is_connected);
    harness
}

#[test]
fn the_view_menu_switches_the_window_to_spanish_and_the_choice_is_kept() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let prefs = dir.path().join("ui_prefs.json");
    let mut h = small_window(dir.path(), &rt, Some(prefs.clone()));
    assert_eq!(h.state().shell().language, Language::En);
    h.get_by_label("Generate New Event");
    h.get_by_label("View").click();
    h.run_steps(2);
    h.get_by_label("Español").click();
    wait_until(&mut h, "Spanish", |app| {
        app.shell().language == Language::Es
    });
    h.run_steps(2);
    // The panel, its tabs and the menus speak Spanish.
    h.get_by_label("Generar nuevo evento");
    h.get_by_label("Asistente de reservas");
    h.get_by_label("Ver");
    assert!(h.query_by_label("Generate New Event").is_none());
    drop(h);

    // The next launch starts in Spanish.
    let mut h = small_window(dir.path(), &rt, Some(prefs));
    h.run_steps(2);
    assert_eq!(h.state().shell().language, Language::Es);
    h.get_by_label("Generar nuevo evento");
}

/// The buttons and labels drawn wider than the window's right edge (cut
/// off), by label.
fn cut_off(h: &Harness<'static, LedgerApp>, width: f32) -> Vec<String> {
    h.query_all(
        By::new().predicate(|n| matches!(n.role(), Role::Button | Role::Label | Role::CheckBox)),
    )
    .filter_map(|node| {
        let rect = node.rect();
        let label = node.accesskit_node().label().unwrap_or_default();
        (rect.max.x > width + 0.5 && !label.is_empty()).then(|| format!("{label:?} {rect:?}"))
    })
    .collect()
}

#[test]
fn every_panel_in_spanish_fits_a_900x600_window() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut h = small_window(dir.path(), &rt, None);
    h.state_mut()
        .push_command(ShellCommand::SetLanguage(Language::Es));
    seed_mix(&h, &rt, 40, 3);
    let mut problems = Vec::new();
    for panel in PanelKind::ALL {
        h.state_mut().push_command(ShellCommand::ShowPanel(panel));
        h.run_steps(12);
        assert_eq!(h.state().shell().panel, panel);
        // The tab in Spanish is shown (this thread speaks as the window).
        ledgerscope::ui::i18n::set_language(Language::Es);
        let tab = panel.label();
        assert_ne!(tab, panel.title(), "{panel:?} has no Spanish tab");
        assert!(h.query_all_by_label(&tab).next().is_some(), "no tab {tab}");
        for cut in cut_off(&h, 900.0) {
            problems.push(format!("{panel:?}: {cut}"));
        }
    }
    assert!(
        problems.is_empty(),
        "cut off at 900x600 in Spanish:\n{}",
        problems.join("\n")
    );
}
