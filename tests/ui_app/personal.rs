//! Whose data is where, from a user's row: the history window lists every
//! event that carries the user's personal data.

use super::*;

use ledgerscope::domain::ChangeUserAddress;
use ledgerscope::ui::panels::history::HistoryCommand;

#[test]
fn a_users_row_history_lists_every_event_with_their_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 20);
    let engine = h.state().engine().unwrap().clone();
    let state = rt.block_on(engine.state_at(20)).unwrap().state;
    let (&user, row) = state.users.iter().next().unwrap();
    let made_at = row.created_position;
    let cmd = ChangeUserAddress::new(uuid::Uuid::new_v4(), user, "Calle Nueva 7").unwrap();
    rt.block_on(engine.change_user_address(cmd)).unwrap();
    wait_until(&mut h, "projections", |app| caught_up(app, 21));

    h.state_mut()
        .push_command(HistoryCommand::Open(Table::Users, user));
    wait_until(&mut h, "the user's history", |app| {
        shown_history(app).is_some_and(|h| h.key == user)
    });
    click(&mut h, "Personal data in the ledger");
    wait_until(&mut h, "the user's personal data", |app| {
        app.panels().history.subject.value().is_some()
    });
    let report = h.state().panels().history.subject.value().unwrap();
    let positions: Vec<u64> = report.events.iter().map(|e| e.position).collect();
    assert!(
        positions.contains(&made_at) && positions.contains(&21),
        "{positions:?}"
    );
    h.run();
    assert!(
        h.query_by_label_contains("Personal data in the ledger: ")
            .is_some()
    );
    assert!(
        h.query_by_label("user.user_id, user.email, user.name, user.address")
            .is_some()
    );
    assert!(h.query_by_label("their address change").is_some());
}
