//! Time travel's bookmarks (tied to their ledger, renamed, annotated, with
//! their pin) and `ledgerscope://` links opened in the window.

use super::*;

use egui::{Key, Modifiers};
use ledgerscope::ui::link::PositionLink;
use ledgerscope::ui::panels::time_travel::TimeTravelCommand;

/// The hint of the "Open link" dialog's field.
const LINK_HINT: &str = "ledgerscope://open?ledger=…&panel=time-travel&position=…";

fn ledger_id(app: &LedgerApp) -> Option<uuid::Uuid> {
    app.shell().ledger_id
}

/// The text field showing `hint` when empty, or `text`. (AccessKit has no
/// hint for a field with text in it.)
fn field(hint: &'static str, text: &str) -> By<'static> {
    let text = text.to_string();
    By::new().predicate(move |n| {
        n.role() == Role::TextInput
            && if text.is_empty() {
                n.placeholder() == Some(hint)
            } else {
                n.value().as_deref() == Some(text.as_str())
            }
    })
}

/// Replaces the text of a field (found by its hint, or its text `old`) by
/// `text`.
fn type_into(h: &mut Harness<'static, LedgerApp>, hint: &'static str, old: &str, text: &str) {
    h.get(field(hint, old)).focus();
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.run_steps(2);
    h.get(field(hint, old)).type_text(text);
    h.run_steps(3);
}

/// An app on `dir` keeping its prefs in `prefs`, connected, its ledger's
/// id read, showing Time travel.
fn travel_app(
    dir: &Path,
    rt: &tokio::runtime::Runtime,
    prefs: &Path,
) -> Harness<'static, LedgerApp> {
    let options = gui_options(dir, rt);
    let app = LedgerApp::with_prefs_path(options, Some(prefs.to_path_buf()));
    let mut h = window(app);
    wait_until(&mut h, "connected with the ledger's id", |app| {
        app.is_connected() && ledger_id(app).is_some()
    });
    click(&mut h, "Time travel");
    h
}

fn travel_to(h: &mut Harness<'static, LedgerApp>, position: u64) {
    h.state_mut()
        .push_command(TimeTravelCommand::SetCursor(position));
    wait_until(h, "the state there", |app| {
        travel(app).is_some_and(|t| t.position == position)
    });
}

#[test]
fn a_bookmark_is_renamed_annotated_and_brings_its_pin_back() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = travel_app(dir.path(), &rt, &dir.path().join("prefs.json"));
    seed(&h, &rt, 30);
    wait_until(&mut h, "head 30", |app| app.shell().head == 30);
    travel_to(&mut h, 10);
    click(&mut h, "Pin this position");
    travel_to(&mut h, 20);
    type_into(&mut h, "name", "", "before the cancel");
    click(&mut h, "Add");
    let bookmark = h.state().panels().time_travel.bookmarks[0].clone();
    assert_eq!(bookmark.name, "before the cancel");
    assert_eq!((bookmark.position, bookmark.pinned), (20, Some(10)));
    assert_eq!(bookmark.ledger, ledger_id(h.state()));

    click(&mut h, "Edit");
    type_into(&mut h, "new name", "before the cancel", "the cancel");
    type_into(&mut h, "what is to be seen here", "", "row 4 goes red here");
    click(&mut h, "Save");
    let bookmark = &h.state().panels().time_travel.bookmarks[0];
    assert_eq!(bookmark.name, "the cancel");
    assert_eq!(bookmark.note, "row 4 goes red here");
    assert!(h.query_by_label("row 4 goes red here").is_some());

    // Going there brings back the position and the pin.
    h.state_mut().push_command(TimeTravelCommand::Unpin);
    travel_to(&mut h, 3);
    click(&mut h, "the cancel @20 (pinned 10)");
    let panel = &h.state().panels().time_travel;
    assert_eq!((panel.cursor, panel.pinned), (20, Some(10)));

    // Its link names the ledger, the position and the pin.
    let links = h.get_all_by_label("Copy link").count();
    assert_eq!(links, 2, "one for the screen, one for the bookmark");
    h.get_all_by_label("Copy link").nth(1).unwrap().click();
    h.step();
    let copied = h
        .output()
        .platform_output
        .commands
        .iter()
        .find_map(|c| match c {
            egui::OutputCommand::CopyText(text) => Some(text.clone()),
            _ => None,
        })
        .expect("the link is copied");
    let link = PositionLink::parse(&copied).unwrap();
    assert_eq!(Some(link.ledger), ledger_id(h.state()));
    assert_eq!((link.position, link.pinned), (Some(20), Some(10)));
}

#[test]
fn a_bookmark_shows_only_on_the_ledger_it_was_made_on() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let prefs = a.path().join("prefs.json");
    let rt = runtime();
    {
        let mut h = travel_app(a.path(), &rt, &prefs);
        seed(&h, &rt, 5);
        wait_until(&mut h, "head 5", |app| app.shell().head == 5);
        travel_to(&mut h, 3);
        type_into(&mut h, "name", "", "made on A");
        click(&mut h, "Add");
        assert!(h.query_by_label_contains("made on A").is_some());
        h.state_mut().shutdown();
    }
    // A bookmark saved before bookmarks carried a ledger id.
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&prefs).unwrap()).unwrap();
    saved["bookmarks"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "from an older build", "position": 2}));
    std::fs::write(&prefs, saved.to_string()).unwrap();

    let mut h = travel_app(b.path(), &rt, &prefs);
    seed(&h, &rt, 5);
    wait_until(&mut h, "head 5", |app| app.shell().head == 5);
    h.run_steps(3);
    assert!(
        h.query_by_label_contains("made on A").is_none(),
        "A's bookmark is not shown on B"
    );
    assert!(h.query_by_label_contains("from an older build").is_some());
    assert_eq!(
        h.state().panels().time_travel.bookmarks.len(),
        2,
        "A's bookmark is kept for A"
    );
    h.state_mut().shutdown();
    drop(h);
    let mut h = travel_app(a.path(), &rt, &prefs);
    h.run_steps(3);
    assert!(h.query_by_label_contains("made on A").is_some());
}

#[test]
fn a_link_opens_its_position_only_on_its_own_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = travel_app(dir.path(), &rt, &dir.path().join("prefs.json"));
    seed(&h, &rt, 30);
    wait_until(&mut h, "head 30", |app| app.shell().head == 30);
    click(&mut h, "Emit");
    let ledger = ledger_id(h.state()).unwrap();
    let link =
        format!("ledgerscope://open?ledger={ledger}&panel=time-travel&position=20&pinned=10");
    h.state_mut()
        .push_command(ShellCommand::OpenLink(link.clone()));
    wait_until(&mut h, "the link's position", |app| {
        travel(app).is_some_and(|t| t.position == 20)
    });
    let panel = &h.state().panels().time_travel;
    assert_eq!(h.state().shell().panel, PanelKind::TimeTravel);
    assert_eq!((panel.cursor, panel.pinned), (20, Some(10)));

    // Another ledger's link, pasted in the dialog: one sentence, nothing moves.
    click(&mut h, "Ledgerscope");
    click(&mut h, "Open link…");
    let other = link.replace(&ledger.to_string(), &uuid::Uuid::new_v4().to_string());
    type_into(&mut h, LINK_HINT, "", &other);
    click(&mut h, "Open");
    assert!(
        h.query_by_label_contains("was not opened").is_some(),
        "the dialog says why"
    );
    assert_eq!(h.state().panels().time_travel.cursor, 20);
    type_into(&mut h, LINK_HINT, &other, "ledgerscope://open?ledger=nope");
    click(&mut h, "Open");
    assert!(
        h.query_by_label_contains("'nope' is not a ledger id")
            .is_some()
    );
    h.state_mut().shutdown();
    drop(h);

    // At start (as `ledgerscope open LINK` does): once the head is known.
    let options = GuiOptions {
        store: StoreConfig::embedded(dir.path()),
        engine: EngineConfig::new("gui:test"),
        observe_only: false,
        mask: None,
        runtime: rt.handle().clone(),
    };
    let mut app = LedgerApp::with_prefs_path(options, None);
    app.open_link(PositionLink::parse(&link.replace("position=20", "position=25")).unwrap());
    let mut h = window(app);
    wait_until(&mut h, "the link's position at start", |app| {
        travel(app).is_some_and(|t| t.position == 25)
    });
    assert_eq!(h.state().panels().time_travel.pinned, Some(10));
}
