use super::*;

/// The row the history window shows, once read.
pub(super) fn shown_history(app: &LedgerApp) -> Option<&ledgerscope::domain::RowHistory> {
    app.panels().history.history.value()
}

#[test]
fn row_history_opens_from_time_travel_compare_and_the_timeline() {
    use ledgerscope::domain::ChangeUserAddress;
    use ledgerscope::ui::panels::history::HistoryCommand;

    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 20);
    let engine = h.state().engine().unwrap().clone();
    // The first user in key order moves: two versions, the second made by
    // an event of the user's stream, the first by a booking's.
    let state = rt.block_on(engine.state_at(20)).unwrap().state;
    let (&user, row) = state.users.iter().next().unwrap();
    let made_at = row.created_position;
    let cmd = ChangeUserAddress::new(uuid::Uuid::new_v4(), user, "Calle Nueva 7").unwrap();
    rt.block_on(engine.change_user_address(cmd)).unwrap();
    wait_until(&mut h, "projections", |app| caught_up(app, 21));

    // From a row in Time travel: the row's key.
    click(&mut h, "Time travel");
    click(&mut h, "End >|");
    wait_until(&mut h, "the state at the head", |app| {
        travel(app).is_some_and(|t| t.position == 21)
    });
    show_table(&mut h, Table::Users);
    wait_until(&mut h, "the users at the head", |app| {
        travel(app).is_some_and(|t| t.position == 21 && t.rows_loaded(Table::Users, true, 0..1))
    });
    click(&mut h, &format!("{}…", &user.to_string()[..8]));
    wait_until(&mut h, "the user's history", |app| {
        shown_history(app).is_some_and(|h| h.key == user)
    });
    let history = shown_history(h.state()).unwrap();
    assert_eq!(
        history
            .versions
            .iter()
            .map(|v| (v.position, v.event_type.as_str()))
            .collect::<Vec<_>>(),
        [
            (made_at, "BookingWizardCompleted"),
            (21, "UserAddressChanged")
        ]
    );
    assert!(
        h.query_by_label(&format!("History of user {user}"))
            .is_some()
    );
    assert!(h.query_by_label("UserAddressChanged").is_some());
    assert!(
        h.query_by_label_contains("2 version(s); now:").is_some()
            && h.query_by_label_contains("address Calle Nueva 7").is_some(),
        "the window says what the row is now"
    );

    // The window stays over every panel; each version links to its event
    // in the timeline.
    h.state_mut()
        .push_command(ShellCommand::ShowPanel(PanelKind::Emit));
    h.step();
    h.step();
    let position = made_at.to_string();
    h.get(By::new().label(&position).role(Role::Link)).click();
    for _ in 0..4 {
        h.step();
    }
    wait_until(&mut h, "the version's event selected", |app| {
        app.shell().panel == PanelKind::Timeline
            && app
                .panels()
                .timeline
                .selected
                .as_ref()
                .is_some_and(|e| ledgerscope::store::entry_position(e) == made_at)
    });
    h.state_mut().push_command(HistoryCommand::Close);
    h.step();
    assert!(h.state().panels().history.target.is_none());

    // From the selected event in the timeline: a wizard makes a booking and
    // its user, so both open from it.
    let booking = h
        .state()
        .panels()
        .timeline
        .selected
        .as_ref()
        .and_then(|e| e.as_ref().ok())
        .map(|e| e.aggregate_id)
        .unwrap();
    click(&mut h, "History of this booking");
    wait_until(&mut h, "the booking's history", |app| {
        shown_history(app).is_some_and(|h| h.key == booking && h.table == Table::Bookings)
    });
    assert_eq!(shown_history(h.state()).unwrap().versions.len(), 1);
    click(&mut h, "History of this user");
    wait_until(&mut h, "the user's history again", |app| {
        shown_history(app).is_some_and(|h| h.key == user)
    });

    // From a row in Compare: a drifted booking shows which event set it.
    drift_booking_row(dir.path(), &booking.to_string());
    h.state_mut().push_command(HistoryCommand::Close);
    click(&mut h, "Compare");
    wait_until(&mut h, "the comparison", |app| {
        app.panels()
            .compare
            .verify
            .value()
            .is_some_and(|v| v.different == 1)
    });
    click(&mut h, &format!("{}…", &booking.to_string()[..8]));
    wait_until(&mut h, "the drifted booking's history", |app| {
        shown_history(app).is_some_and(|h| h.key == booking && h.table == Table::Bookings)
    });
    let made_it = &shown_history(h.state()).unwrap().versions[0];
    assert_eq!(made_it.event_type, "BookingWizardCompleted");
    let guests = Table::Bookings
        .columns()
        .iter()
        .position(|c| *c == "guests")
        .unwrap();
    assert_ne!(
        made_it.cells[guests], "19",
        "the ledger never set 19 guests"
    );
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
}

#[test]
fn over_time_draws_the_state_across_the_ledger_and_a_click_travels_there() {
    use ledgerscope::domain::SeriesBy;

    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    let engine = h.state().engine().unwrap().clone();
    let head = seed_mix(&h, &rt, 420, 9);
    wait_until(&mut h, "the head", |app| app.shell().head == head);

    click(&mut h, "Over time");
    wait_until(&mut h, "the series", |app| {
        app.panels()
            .over_time
            .series
            .value()
            .is_some_and(|s| s.points.last().is_some_and(|p| p.position == head))
    });
    let series = h.state().panels().over_time.series.value().unwrap().clone();
    assert_eq!(series.by, SeriesBy::Position);
    assert_eq!(series.points.len() as u64, head.div_ceil(100));
    let state = rt.block_on(engine.state_at(head)).unwrap().state;
    let counts = state.counts();
    let last = series.points.last().unwrap();
    assert_eq!(
        (last.users, last.bookings_confirmed, last.bookings_cancelled),
        (
            counts.users,
            counts.bookings_by_status["confirmed"],
            counts.bookings_by_status["cancelled"]
        )
    );
    assert!(h.query_by_label("Rows").is_some());
    assert!(h.query_by_label("Revenue of confirmed bookings").is_some());
    assert!(
        h.query_by_label_contains(&format!("Now: {} (up to position {head})", last.bucket))
            .is_some()
    );

    // Hovering the rows plot names the bucket under the pointer; a click
    // shows that state in Time travel.
    let below = h.get_by_label("Rows").rect();
    let at = egui::pos2(below.left() + 300.0, below.bottom() + 60.0);
    h.hover_at(at);
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains("(up to position").is_some()
            && h.query_by_label_contains("Now: ").is_none(),
        "the hovered bucket's values are shown"
    );
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    wait_until(&mut h, "time travel at the clicked bucket", |app| {
        app.shell().panel == PanelKind::TimeTravel && travel(app).is_some_and(|t| t.position < head)
    });
    let position = travel(h.state()).unwrap().position;
    assert!(
        series.points.iter().any(|p| p.position == position),
        "{position} is a bucket's position"
    );

    // By day: one bucket (every event is from today), the head's state.
    click(&mut h, "Over time");
    click(&mut h, "day");
    wait_until(&mut h, "the series by day", |app| {
        app.panels()
            .over_time
            .series
            .value()
            .is_some_and(|s| s.by == SeriesBy::Day)
    });
    let by_day = h.state().panels().over_time.series.value().unwrap();
    assert_eq!(by_day.points.last().unwrap().position, head);
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
}

#[test]
fn what_if_from_the_timeline_simulates_without_the_event_and_names_the_no_ops() {
    use ledgerscope::store::EventFilter;
    use ledgerscope::ui::panels::timeline::TimelineCommand;
    use ledgerscope::ui::panels::what_if::{WhatIfCommand, WhatIfField};

    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    let engine = h.state().engine().unwrap().clone();
    let head = seed_mix(&h, &rt, 300, 3);
    wait_until(&mut h, "projections", |app| caught_up(app, head));
    let cancels = EventFilter {
        event_type: Some("BookingCancelled".into()),
        ..EventFilter::default()
    };
    let cancel = rt.block_on(engine.events(1, 1, &cancels)).unwrap()[0]
        .clone()
        .unwrap();
    let made_at = ledgerscope::store::entry_position(
        &rt.block_on(engine.stream(cancel.aggregate_id)).unwrap()[0],
    );
    let views_before = std::fs::read(dir.path().join("views.sqlite3")).unwrap();

    h.state_mut()
        .push_command(TimelineCommand::JumpToPosition(made_at));
    wait_until(&mut h, "the wizard selected", |app| {
        app.panels()
            .timeline
            .selected
            .as_ref()
            .is_some_and(|e| ledgerscope::store::entry_position(e) == made_at)
    });
    click(&mut h, "What if this had not happened?");
    wait_until(&mut h, "the simulation", |app| {
        app.panels()
            .what_if
            .report
            .value()
            .is_some_and(|r| r.excluded == [made_at])
    });
    assert_eq!(h.state().shell().panel, PanelKind::WhatIf);
    let report = h.state().panels().what_if.report.value().unwrap();
    assert_eq!(
        report.simulated.bookings.len() + 1,
        report.real_state().bookings.len()
    );
    assert!(
        report
            .no_ops
            .iter()
            .any(|n| n.position == cancel.position && n.key == cancel.aggregate_id)
    );
    assert!(h.query_all_by_label_contains("SIMULATION").count() >= 2);
    assert!(h.query_by_label("bookings: +0 -1 ~0").is_some());
    assert!(
        h.query_by_label_contains("BookingCancelled of bookings")
            .is_some()
    );
    assert!(
        h.query_by_label("only real").is_some(),
        "the removed row is listed"
    );

    // Typed input that cannot be used is named in place.
    h.state_mut()
        .push_command(WhatIfCommand::SetDraft(WhatIfField::Range, "9..3".into()));
    h.step();
    click(&mut h, "Simulate");
    assert!(
        h.query_by_label_contains("1 <= A <= B").is_some(),
        "{:?}",
        h.state().errors()
    );
    assert_eq!(
        std::fs::read(dir.path().join("views.sqlite3")).unwrap(),
        views_before,
        "nothing written"
    );
}
