//! The guided scenarios: a fresh training ledger, the steps, the outline,
//! Spanish, and a step's check.

use super::*;
use ledgerscope::ui::prefs::Language;
use ledgerscope::ui::scenarios::ui::outlined_target;
use ledgerscope::ui::scenarios::{Prepared, Target};

/// The app on `dir` in a 900x600 window, making training dirs under
/// `training`, speaking `language`.
fn scenario_harness(
    dir: &Path,
    training: &Path,
    rt: &tokio::runtime::Runtime,
    language: Language,
) -> Harness<'static, LedgerApp> {
    let options = gui_options(dir, rt);
    let mut app = LedgerApp::with_prefs_path(options, None);
    app.set_training_root(training.to_path_buf());
    app.push_command(ShellCommand::SetLanguage(language));
    let mut harness = Harness::builder()
        .with_size([900.0, 600.0])
        .with_accessibility_check(false)
        .build_ui_state(|ui, app: &mut LedgerApp| app.frame_ui(ui), app);
    wait_until(&mut harness, "connected", LedgerApp::is_connected);
    harness
}

/// The ledger the scenario under way made (`None`: none yet).
fn prepared(app: &LedgerApp) -> Option<&Prepared> {
    app.scenarios().active.as_ref().and_then(|a| a.prepared())
}

/// The scenario's ledger is made and the window shows it.
fn scenario_ready(app: &LedgerApp, training: &Path) -> bool {
    let Some(prepared) = prepared(app) else {
        return false;
    };
    app.data_dir().starts_with(training)
        && app.is_connected()
        && app.shell().head == prepared.head
        && caught_up(app, prepared.head)
}

/// Chooses a scenario from the menu (titled `menu`) and waits for its
/// ledger.
fn choose(harness: &mut Harness<'static, LedgerApp>, menu: &str, title: &str, training: &Path) {
    click(harness, menu);
    click(harness, title);
    wait_until(harness, "the scenario's ledger", |app| {
        scenario_ready(app, training)
    });
}

/// A window in a scenario, with the runtime and the dirs it lives on.
struct Class {
    harness: Harness<'static, LedgerApp>,
    _training: tempfile::TempDir,
    _dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

impl Class {
    /// A fresh window speaking `language` that chooses the scenario
    /// `title` from the menu `menu` and waits for its ledger.
    fn start(language: Language, menu: &str, title: &str) -> Class {
        let rt = runtime();
        let (dir, training) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut harness = scenario_harness(dir.path(), training.path(), &rt, language);
        choose(&mut harness, menu, title, training.path());
        Class {
            harness,
            _training: training,
            _dir: dir,
            _rt: rt,
        }
    }
}

fn step_of(app: &LedgerApp) -> usize {
    app.scenarios()
        .active
        .as_ref()
        .map_or(usize::MAX, |a| a.step)
}

#[test]
fn choosing_a_scenario_prepares_a_fresh_training_ledger_and_close_goes_back() {
    let rt = runtime();
    let (dir, training) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut harness = scenario_harness(dir.path(), training.path(), &rt, Language::En);
    seed(&harness, &rt, 3);
    wait_until(&mut harness, "the seeded head", |app| app.shell().head == 3);
    choose(
        &mut harness,
        "Scenarios",
        "Idempotency: the same UUID twice",
        training.path(),
    );
    let app = harness.state();
    assert_ne!(app.data_dir(), dir.path());
    assert_eq!(
        app.shell().head,
        12,
        "the idempotency ledger has 12 bookings"
    );
    assert_eq!(app.shell().panel, PanelKind::Emit);
    let training_text = training.path().display().to_string();
    assert!(
        app.shell()
            .recent
            .iter()
            .all(|r| !r.data_dir.starts_with(&training_text)),
        "a training dir is not a recent connection"
    );
    // The harness's data dir was not written.
    let head = rt.block_on(async {
        let stores = ledgerscope::store::open_stores(&StoreConfig::embedded(dir.path()))
            .await
            .unwrap();
        ledgerscope::engine::Engine::new(stores, EngineConfig::new("test"))
            .head()
            .await
            .unwrap()
    });
    assert_eq!(head, 3);
    let training_dir = harness.state().data_dir().to_path_buf();
    click(&mut harness, "Close");
    wait_until(&mut harness, "back on the data dir", |app| {
        app.scenarios().active.is_none()
            && app.data_dir() == dir.path()
            && app.is_connected()
            && app.shell().head == 3
    });
    // The training dir is removed once the window left it.
    wait_until(&mut harness, "the training dir removed", |_| {
        !training_dir.exists()
    });
}

#[test]
fn next_and_back_move_through_the_steps_and_the_outline_follows() {
    let class = Class::start(Language::En, "Scenarios", "If PostgreSQL fails");
    // The runtime and dirs left in `class` outlive the window.
    let mut harness = class.harness;
    let outlined = |app: &LedgerApp| outlined_target(app.scenarios(), app.shell());
    assert_eq!(step_of(harness.state()), 0);
    // The switch is beside Emit's buttons: the class stays on one panel.
    assert_eq!(harness.state().shell().panel, PanelKind::Emit);
    assert_eq!(outlined(harness.state()), Some(Target::OutageSwitch));
    harness.get_by_label("Take the read store down");
    // The window fits the harness's 900x600.
    let next = harness.get_by_label("Next").rect();
    assert!(
        next.max.x <= 900.0 && next.max.y <= 600.0,
        "Next at {next:?}"
    );

    click_until(&mut harness, "Next", "step 2", |app| step_of(app) == 1);
    assert_eq!(harness.state().shell().panel, PanelKind::Emit);
    assert_eq!(outlined(harness.state()), Some(Target::EmitGenerate));
    harness.get_by_label("Commands keep working");
    // On another panel, the step's tab is outlined.
    click(&mut harness, "Operations");
    assert_eq!(
        outlined(harness.state()),
        Some(Target::Tab(PanelKind::Emit))
    );

    click_until(&mut harness, "Back", "step 1", |app| step_of(app) == 0);
    assert_eq!(outlined(harness.state()), Some(Target::OutageSwitch));
}

#[test]
fn the_scenarios_speak_spanish_when_the_window_does() {
    let class = Class::start(
        Language::Es,
        "Escenarios",
        "Idempotencia: el mismo UUID dos veces",
    );
    // The runtime and dirs left in `class` outlive the window.
    let harness = class.harness;
    harness.get_by_label("Envía una reserva");
    harness.get_by_label("Siguiente");
    harness.get_by_label("Cerrar");
    assert!(harness.query_by_label("Next").is_none());
    assert!(harness.query_by_label("Send a booking").is_none());
}

#[test]
fn the_idempotency_check_holds_once_the_duplicate_is_sent() {
    let class = Class::start(
        Language::En,
        "Scenarios",
        "Idempotency: the same UUID twice",
    );
    // The runtime and dirs left in `class` outlive the window.
    let mut harness = class.harness;
    let check = |app: &LedgerApp| app.scenarios().check(app.shell(), app.panels());
    assert_eq!(check(harness.state()), Some(false));
    click_until(&mut harness, "Generate New Event", "a new event", |app| {
        check(app) == Some(true)
    });
    assert_eq!(harness.state().shell().head, 13);
    harness.get_by_label("Done: a new event is in the ledger.");

    click_until(&mut harness, "Next", "step 2", |app| step_of(app) == 1);
    assert_eq!(check(harness.state()), Some(false));
    click_until(
        &mut harness,
        "Send again (same UUID)",
        "the duplicate detected",
        |app| check(app) == Some(true),
    );
    assert_eq!(
        harness.state().shell().head,
        13,
        "a duplicate stores nothing"
    );
    harness.get_by_label("Done: a duplicate was detected; the head did not move.");
}

#[test]
fn the_time_travel_scenario_opens_on_the_address_change_and_checks_the_scrubber() {
    let class = Class::start(Language::En, "Scenarios", "Time travel: Calle A -> Calle B");
    // The runtime and dirs left in `class` outlive the window.
    let mut harness = class.harness;
    let at = prepared(harness.state())
        .and_then(|p| p.marker)
        .expect("the move's position");
    wait_until(&mut harness, "the move selected in the timeline", |app| {
        app.shell().panel == PanelKind::Timeline
            && app.panels().timeline.selected_position == Some(at)
    });
    click_until(&mut harness, "Next", "step 2", |app| step_of(app) == 1);
    assert_eq!(harness.state().shell().panel, PanelKind::TimeTravel);
    let check = |app: &LedgerApp| app.scenarios().check(app.shell(), app.panels());
    assert_eq!(
        check(harness.state()),
        Some(false),
        "the cursor is at the head"
    );
    harness
        .state_mut()
        .push_command(ledgerscope::ui::panels::time_travel::TimeTravelCommand::SetCursor(at - 1));
    wait_until(&mut harness, "the check before the move", |app| {
        check(app) == Some(true)
    });
}

#[test]
fn the_snapshots_scenario_recovers_from_its_own_snapshot_not_one_at_the_head() {
    let class = Class::start(Language::En, "Scenarios", "Snapshots: recovery timed");
    // The runtime and dirs left in `class` outlive the window.
    let mut harness = class.harness;
    let made = prepared(harness.state())
        .cloned()
        .expect("the scenario's ledger");
    let at = made.marker.expect("the scenario's snapshot");
    assert!(at < made.head, "snapshot at {at} of {}", made.head);
    click_until(&mut harness, "Next", "the timing step", |app| {
        step_of(app) == 1
    });
    click(&mut harness, "Time both recoveries");
    wait_until(&mut harness, "both recoveries timed", |app| {
        app.scenarios()
            .active
            .as_ref()
            .is_some_and(|a| a.times.is_some())
    });
    let app = harness.state();
    let times = app.scenarios().active.as_ref().unwrap().times.clone();
    let times = times.unwrap().expect("both timed");
    // No pass over the training ledger left a snapshot at the head: the
    // recovery starts at the scenario's snapshot and folds the rest.
    assert_eq!(times.snapshot_at, Some(at));
    assert_eq!(times.from_snapshot.1, made.head - at);
    assert_eq!(times.from_zero.1, made.head);
}
