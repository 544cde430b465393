use super::*;

/// The text or password input whose hint is `hint`.
fn input(hint: &'static str) -> By<'static> {
    By::new().predicate(move |n| {
        matches!(n.role(), Role::TextInput | Role::PasswordInput) && n.placeholder() == Some(hint)
    })
}

fn type_into(h: &mut Harness<'static, LedgerApp>, hint: &'static str, text: &str) {
    h.get(input(hint)).focus();
    h.run_steps(2);
    h.get(input(hint)).type_text(text);
    h.run_steps(3);
}

#[test]
fn connect_with_a_password_remembers_the_connection_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let prefs = dir.path().join("prefs.json");
    let rt = runtime();
    let options = GuiOptions {
        store: StoreConfig::embedded(dir.path()),
        engine: EngineConfig::new("gui:test"),
        observe_only: false,
        mask: None,
        runtime: rt.handle().clone(),
    };
    let app = LedgerApp::with_prefs_path(options, Some(prefs.clone()));
    let mut h = window(app);
    wait_until(&mut h, "connected", LedgerApp::is_connected);

    h.state_mut()
        .push_command(ShellCommand::OpenDialog(Dialog::Connect));
    h.run_steps(4);
    // A read store on a port nothing listens on: the window still connects
    // (the views catch up when it comes), so the connection is recent.
    let url = "postgres://bob@127.0.0.1:1/ls_recent";
    type_into(&mut h, "postgres://user@host/db or service=name", url);
    type_into(
        &mut h,
        "not kept; or PGPASSWORD, ~/.pgpass",
        "hunter2-secret",
    );
    assert_eq!(
        h.state().shell().connect.postgres_password,
        "hunter2-secret"
    );
    h.get(By::new().role(Role::Button).label("Connect")).click();
    wait_until(&mut h, "connected to the new stores", |app| {
        app.is_connected() && app.shell().recent.iter().any(|r| r.postgres == url)
    });
    assert!(
        h.state().shell().connect.postgres_password.is_empty(),
        "the typed password is not kept in the dialog"
    );
    let mut saved = String::new();
    for _ in 0..200 {
        saved = std::fs::read_to_string(&prefs).unwrap_or_default();
        if saved.contains("ls_recent") {
            break;
        }
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        saved.contains(url),
        "the prefs keep the connection: {saved}"
    );
    assert!(
        !saved.contains("hunter2"),
        "the prefs keep no password: {saved}"
    );
    assert!(
        !format!("{:?}", h.state().shell()).contains("hunter2"),
        "nothing prints the password"
    );

    // Connect… again: the connection is listed; choosing it fills the
    // fields, the password empty (it is asked again).
    h.state_mut()
        .push_command(ShellCommand::OpenDialog(Dialog::Connect));
    h.run_steps(4);
    assert!(h.query_by_label("Recent").is_some());
    h.get(By::new().role(Role::Button).label_contains("ls_recent"))
        .click();
    h.run_steps(4);
    let drafts = &h.state().shell().connect;
    assert_eq!(drafts.postgres, url);
    assert!(drafts.postgres_password.is_empty());
}
