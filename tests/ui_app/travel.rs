use super::*;

#[test]
fn generated_event_shows_in_timeline_and_same_uuid_again_is_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);

    click(&mut h, "Generate New Event");
    wait_until(&mut h, "the command's answer", |app| {
        app.panels()
            .emit
            .last_command
            .as_ref()
            .is_some_and(|c| c.result.is_ok())
            && app.shell().head == 1
    });
    assert!(
        !h.state()
            .panels()
            .emit
            .last_command
            .as_ref()
            .unwrap()
            .result
            .as_ref()
            .unwrap()
            .duplicate
    );
    wait_until(&mut h, "projections", |app| caught_up(app, 1));
    assert!(
        h.query_by_label_contains("stored BookingWizardCompleted at position 1")
            .is_some()
    );

    click(&mut h, "Ledger timeline");
    wait_until(&mut h, "the first timeline page", |app| {
        app.panels().timeline.pages.row(0).is_some()
    });
    assert!(
        h.query_by_label("BookingWizardCompleted").is_some(),
        "the event is a row in the timeline"
    );

    click(&mut h, "Emit");
    click(&mut h, "Send again (same UUID)");
    wait_until(&mut h, "the duplicate answer", |app| {
        app.panels()
            .emit
            .last_command
            .as_ref()
            .and_then(|c| c.result.as_ref().ok())
            .is_some_and(|o| o.duplicate)
    });
    assert!(h.query_by_label_contains("Duplicate:").is_some());
    let engine = h.state().engine().unwrap().clone();
    assert_eq!(
        rt.block_on(engine.stores().ledger.count()).unwrap(),
        1,
        "the ledger did not grow"
    );
    assert_eq!(h.state().shell().head, 1);
}

#[test]
fn scrubbing_changes_the_counts() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 30);
    wait_until(&mut h, "head 30", |app| app.shell().head == 30);

    click(&mut h, "Time travel");
    click(&mut h, "End >|");
    wait_until(&mut h, "state at the head", |app| {
        travel(app).is_some_and(|t| t.position == 30)
    });
    assert_eq!(travel(h.state()).unwrap().counts.bookings, 30);

    click(&mut h, "|< Start");
    wait_until(&mut h, "state at 0", |app| {
        travel(app).is_some_and(|t| t.position == 0)
    });
    assert_eq!(travel(h.state()).unwrap().counts.bookings, 0);
    assert!(h.query_by_label_contains("bookings 0").is_some());

    for _ in 0..3 {
        click(&mut h, "Step >");
    }
    wait_until(&mut h, "state at 3", |app| {
        travel(app).is_some_and(|t| t.position == 3)
    });
    let travel = travel(h.state()).unwrap();
    assert_eq!(travel.counts.bookings, 3);
    let (reference, diff) = travel.diff.as_ref().unwrap();
    assert_eq!(*reference, 30);
    assert_eq!(
        diff.counts(Table::Bookings).0,
        27,
        "27 bookings are added between 3 and now"
    );
}

/// The email of a state's first user (in key order) and of the first user
/// that differs between two states, as the engine computes them whole.
pub(super) fn first_emails(
    harness: &Harness<'static, LedgerApp>,
    rt: &tokio::runtime::Runtime,
    at: u64,
    reference: u64,
) -> (String, Option<String>) {
    let engine = harness.state().engine().unwrap().clone();
    let before = rt.block_on(engine.state_at(at)).unwrap().state;
    let after = rt.block_on(engine.state_at(reference)).unwrap().state;
    let first = before.users.values().next().unwrap().email.clone();
    let mut keys: Vec<_> = before.users.keys().chain(after.users.keys()).collect();
    keys.sort();
    keys.dedup();
    let differing = keys
        .into_iter()
        .find(|k| before.users.get(k) != after.users.get(k))
        .and_then(|k| after.users.get(k).or_else(|| before.users.get(k)))
        .map(|row| row.email.clone());
    (first, differing)
}

#[test]
fn time_travel_tables_show_the_rows_read_a_page_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 30);
    wait_until(&mut h, "head 30", |app| app.shell().head == 30);
    let (first_at_head, _) = first_emails(&h, &rt, 30, 30);
    // The first position whose first user (in key order) is another one
    // than at the head, so a page read for the head would show wrongly.
    let (cursor, first_at_cursor, differing) = (1..30)
        .find_map(|p| {
            let (first, differing) = first_emails(&h, &rt, p, 30);
            (first != first_at_head).then(|| (p, first, differing.unwrap()))
        })
        .unwrap();

    click(&mut h, "Time travel");
    click(&mut h, "End >|");
    wait_until(&mut h, "the state at the head", |app| {
        travel(app).is_some_and(|t| t.position == 30)
    });
    show_table(&mut h, Table::Users);
    wait_until(&mut h, "the users at the head", |app| {
        travel(app).is_some_and(|t| t.position == 30)
            && app
                .panels()
                .time_travel
                .travel
                .value()
                .is_some_and(|t| t.rows_loaded(Table::Users, true, 0..30))
    });
    assert!(
        h.query_by_label(&first_at_head).is_some(),
        "the first user at the head is a row"
    );

    click(&mut h, "|< Start");
    for _ in 0..cursor {
        click(&mut h, "Step >");
    }
    wait_until(&mut h, "the users at the cursor", |app| {
        travel(app)
            .is_some_and(|t| t.position == cursor && t.diff.as_ref().is_some_and(|d| d.0 == 30))
            && app
                .panels()
                .time_travel
                .travel
                .value()
                .is_some_and(|t| t.rows_loaded(Table::Users, true, 0..30))
    });
    assert_eq!(
        travel(h.state()).unwrap().len(Table::Users) as u64,
        travel(h.state()).unwrap().counts.users
    );
    assert!(
        h.query_by_label(&first_at_cursor).is_some(),
        "the first user at the cursor is a row"
    );
    assert!(
        h.query_by_label(&first_at_head).is_none(),
        "rows read for the head are not shown for the cursor"
    );
    assert!(h.query_by_label_contains("reading rows").is_none());

    click(&mut h, "difference");
    wait_until(&mut h, "the differing users", |app| {
        travel(app).is_some_and(|t| t.rows_loaded(Table::Users, false, 0..30))
    });
    let (_, diff) = travel(h.state()).unwrap().diff.as_ref().unwrap();
    let (added, removed, changed) = diff.counts(Table::Users);
    assert_eq!(diff.len(Table::Users), added + removed + changed);
    assert!(diff.len(Table::Users) > 0);
    assert!(
        h.query_by_label(&differing).is_some(),
        "the first differing user is a row of the difference"
    );
    assert!(h.query_all_by_label("added by 30").next().is_some());
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
}

#[test]
fn compare_two_positions_lists_the_differing_rows() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 30);
    wait_until(&mut h, "projections", |app| caught_up(app, 30));
    let differing = first_emails(&h, &rt, 5, 30).1.unwrap();

    let app = h.state_mut();
    app.push_command(ShellCommand::ShowPanel(PanelKind::Compare));
    app.push_command(CompareCommand::SetPositions(true));
    app.push_command(CompareCommand::SetTable(Some(Table::Users)));
    app.push_command(CompareCommand::SetDraft(CompareField::From, "5".into()));
    app.push_command(CompareCommand::SetDraft(CompareField::To, "30".into()));
    app.push_command(CompareCommand::ComparePositions);
    wait_until(&mut h, "the differing users", |app| {
        app.panels().compare.diff.value().is_some_and(|d| {
            let users = d.diff.len(Table::Users);
            (d.from, d.to) == (5, 30)
                && users > 0
                && d.diff.pages(Table::Users).has_rows(0..users.min(30) as u64)
        })
    });
    let diff = &h.state().panels().compare.diff.value().unwrap().diff;
    assert_eq!(
        diff.counts(Table::Users).0,
        diff.len(Table::Users),
        "users are only added"
    );
    assert!(h.query_by_label_contains("From 5 to 30").is_some());
    assert!(
        h.query_by_label(&differing).is_some(),
        "the first differing user is a row"
    );
}
