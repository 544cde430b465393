//! The window's data tables: a difference that reads from the older
//! position to the newer (swap, filter), the step view, sorting, searching
//! and copying, and Compare's two positions refusing a position past the
//! head.

use super::*;

use std::sync::Arc;

use ledgerscope::domain::{ReadState, Row, RowDiff};
use ledgerscope::engine::view_order::{Needle, compare_cells};
use ledgerscope::store::EventFilter;
use ledgerscope::ui::panels::time_travel::TimeTravelCommand;
use ledgerscope::ui::widgets::table::draw::match_status;
use ledgerscope::ui::widgets::table::paged::{LazyRow, PagedTable};

/// The search box of the table shown.
const SEARCH_HINT: &str = "key prefix or any cell's text";

fn state_at(
    h: &Harness<'static, LedgerApp>,
    rt: &tokio::runtime::Runtime,
    at: u64,
) -> Arc<ReadState> {
    let engine = h.state().engine().unwrap().clone();
    rt.block_on(engine.state_at(at)).unwrap().state
}

/// A mixed ledger of 150 events, projected, with the window on Time travel.
fn mixed(rt: &tokio::runtime::Runtime, dir: &Path) -> (Harness<'static, LedgerApp>, u64) {
    let mut h = harness(dir, rt, false);
    let head = seed_mix(&h, rt, 150, 5);
    wait_until(&mut h, "projections", |app| caught_up(app, head));
    click(&mut h, "Time travel");
    (h, head)
}

fn go_to(h: &mut Harness<'static, LedgerApp>, position: u64) {
    h.state_mut()
        .push_command(TimeTravelCommand::SetCursor(position));
    wait_until(h, "the state at the cursor", |app| {
        travel(app).is_some_and(|t| t.position == position)
    });
}

/// The table of the difference on screen.
fn diff_table(app: &LedgerApp) -> Option<&PagedTable> {
    travel(app).and_then(|t| t.table(true, Table::Bookings))
}

/// Bookings the difference shows, in display order, once read.
fn shown_diff_rows(app: &LedgerApp) -> Vec<RowDiff> {
    let Some(table) = diff_table(app) else {
        return Vec::new();
    };
    (0..table.shown())
        .filter_map(|i| match table.row(i) {
            Some(LazyRow::Diff(Some(row))) => Some(row.clone()),
            _ => None,
        })
        .collect()
}

/// Pins `older`, moves to `newer` and shows the difference of bookings.
fn pinned_difference(h: &mut Harness<'static, LedgerApp>, older: u64, newer: u64) {
    go_to(h, older);
    click(h, "Pin this position");
    go_to(h, newer);
    click(h, "difference");
    wait_until(h, "the difference against the pin", |app| {
        travel(app).is_some_and(|t| {
            t.position == newer
                && t.diff.as_ref().is_some_and(|(r, _)| *r == older)
                && t.rows_loaded(Table::Bookings, false, 0..100)
        })
    });
}

#[test]
fn a_pinned_earlier_position_reads_from_older_to_newer() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let (mut h, _) = mixed(&rt, dir.path());
    let (older, newer) = (40, 110);
    let (before, after) = (state_at(&h, &rt, older), state_at(&h, &rt, newer));

    pinned_difference(&mut h, older, newer);
    assert!(
        h.query_by_label_contains(&format!("Changes from {older} to {newer} (older -> newer)"))
            .is_some(),
        "the difference says which way it runs"
    );
    assert!(
        h.query_all_by_label(&format!("added by {newer}"))
            .next()
            .is_some()
    );
    let rows = shown_diff_rows(h.state());
    let added = rows
        .iter()
        .find(|r| matches!(r, RowDiff::Added { .. }))
        .expect("bookings made in between");
    assert!(!before.bookings.contains_key(&added.key()));
    assert!(after.bookings.contains_key(&added.key()));
    let changed = rows
        .iter()
        .find_map(|r| match r {
            RowDiff::Changed {
                key,
                last_position,
                before: old,
                after: new,
                ..
            } => Some((*key, *last_position, old.clone(), new.clone())),
            _ => None,
        })
        .expect("a booking changed in between");
    let (key, last_position, old, new) = changed;
    let newer_row = &after.bookings[&key];
    assert_eq!(last_position, newer_row.last_position, "the newer side's");
    assert!(last_position > older);
    assert_eq!(new, newer_row.cells(), "new is the newer state's row");
    assert_eq!(old, before.bookings[&key].cells());
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
}

#[test]
fn swap_reads_the_difference_from_newer_to_older() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let (mut h, _) = mixed(&rt, dir.path());
    let (older, newer) = (40, 110);
    pinned_difference(&mut h, older, newer);

    click_until(&mut h, "Swap direction", "the difference swapped", |app| {
        travel(app).is_some_and(|t| {
            t.diff
                .as_ref()
                .is_some_and(|(_, d)| d.from() == newer && d.to() == older)
                && t.rows_loaded(Table::Bookings, false, 0..100)
        })
    });
    assert!(
        h.query_by_label_contains(&format!("Changes from {newer} to {older} (newer -> older)"))
            .is_some()
    );
    assert!(
        h.query_all_by_label(&format!("only at {newer}"))
            .next()
            .is_some(),
        "a booking made in between is only in the newer state"
    );
    assert!(
        h.query_all_by_label(&format!("added by {newer}"))
            .next()
            .is_none()
    );
    // A changed row reads newer -> older: its new value is the older state's.
    let before = state_at(&h, &rt, older);
    let rows = shown_diff_rows(h.state());
    let (key, new) = rows
        .iter()
        .find_map(|r| match r {
            RowDiff::Changed { key, after, .. } => Some((*key, after.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(new, before.bookings[&key].cells());
}

#[test]
fn filter_chips_keep_the_kinds_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let (mut h, _) = mixed(&rt, dir.path());
    let (older, newer) = (40, 110);
    pinned_difference(&mut h, older, newer);
    let (added, removed, changed) = travel(h.state())
        .unwrap()
        .diff
        .as_ref()
        .unwrap()
        .1
        .counts(Table::Bookings);
    assert!(added > 0 && changed > 0);

    click_until(
        &mut h,
        &format!("added by {newer} {added}"),
        "added rows hidden",
        |app| diff_table(app).is_some_and(|t| !t.query().kinds.added && t.has_rows(0..100)),
    );
    let table = diff_table(h.state()).unwrap();
    assert_eq!(table.shown(), removed + changed);
    let rows = shown_diff_rows(h.state());
    assert_eq!(rows.len(), removed + changed);
    assert!(rows.iter().all(|r| !matches!(r, RowDiff::Added { .. })));
    assert!(
        h.query_by_label(&match_status(
            removed + changed,
            added + removed + changed,
            true
        ))
        .is_some()
    );
    // The first changed row is on screen: its last position (the newer
    // side's) links to its event, beside the older one struck through.
    let RowDiff::Changed {
        last_position,
        before,
        ..
    } = &rows[0]
    else {
        panic!("only changed rows are left: {:?}", rows[0]);
    };
    let old_position = before.last().unwrap();
    assert!(
        h.query(By::new().label(&last_position.to_string()).role(Role::Link))
            .is_some()
    );
    assert!(h.query_by_label(old_position).is_some());
}

#[test]
fn the_step_view_shows_the_event_at_the_cursor_and_the_rows_it_changed() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let (mut h, _) = mixed(&rt, dir.path());
    let engine = h.state().engine().unwrap().clone();
    let cancels = EventFilter {
        event_type: Some("BookingCancelled".into()),
        ..EventFilter::default()
    };
    // A cancel that changed its booking (not a second cancel of it).
    let cancel = rt
        .block_on(engine.events(1, 200, &cancels))
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .find(|e| {
            let before = state_at(&h, &rt, e.position - 1);
            before
                .bookings
                .get(&e.aggregate_id)
                .is_some_and(|b| b.status.as_str() == "confirmed")
        })
        .expect("a cancel of a confirmed booking");
    let at = cancel.position;
    go_to(&mut h, at);
    click_until(&mut h, "step", "the step read", |app| {
        app.panels()
            .time_travel
            .step
            .value()
            .is_some_and(|s| s.position == at)
    });
    for _ in 0..4 {
        h.step();
    }
    let step = h.state().panels().time_travel.step.value().unwrap().clone();
    assert_eq!(step.table(Table::Bookings).rows.len(), 1);
    assert_eq!(
        step.table(Table::Bookings).rows[0].key(),
        cancel.aggregate_id
    );
    assert!(step.table(Table::Users).rows.is_empty());
    assert!(h.query_by_label(&format!("Step to {at}:")).is_some());
    assert!(h.query_by_label("BookingCancelled").is_some());
    assert!(h.query_by_label(&format!("changed by {at}")).is_some());
    assert!(
        h.query_by_label("confirmed").is_some(),
        "the status before, struck through"
    );
    assert!(h.query_by_label("cancelled").is_some(), "and after");
    assert!(
        h.query(By::new().label(&format!("event {at}")).role(Role::Link))
            .is_some(),
        "a link to the event in the timeline"
    );
}

/// The keys of the bookings at `at` in the order the engine's whole state
/// gives when sorted by `column` (ties in key order).
fn sorted_keys(state: &ReadState, column: usize, descending: bool) -> Vec<uuid::Uuid> {
    let mut rows: Vec<_> = state
        .bookings
        .values()
        .map(|b| (b.cells(), b.key()))
        .collect();
    rows.sort_by(|a, b| compare_cells(&a.0[column], &b.0[column]).then(a.1.cmp(&b.1)));
    if descending {
        rows.reverse();
    }
    rows.into_iter().map(|r| r.1).collect()
}

fn shown_state_keys(app: &LedgerApp, table: Table, rows: usize) -> Vec<uuid::Uuid> {
    let Some(state) = travel(app).map(|t| t.state(table)) else {
        return Vec::new();
    };
    (0..rows.min(state.shown()))
        .filter_map(|i| match state.row(i) {
            Some(LazyRow::State(row)) => Some(row.key),
            _ => None,
        })
        .collect()
}

#[test]
fn a_click_on_a_header_sorts_like_the_whole_state() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let (mut h, head) = mixed(&rt, dir.path());
    go_to(&mut h, head);
    let state = state_at(&h, &rt, head);
    let price = Table::Bookings
        .columns()
        .iter()
        .position(|c| *c == "price")
        .unwrap();
    let want = sorted_keys(&state, price, false);

    click_until(&mut h, "price", "the bookings sorted by price", |app| {
        shown_state_keys(app, Table::Bookings, 30).len() == 30
            && travel(app).is_some_and(|t| t.state(Table::Bookings).query().sort.is_some())
    });
    assert_eq!(shown_state_keys(h.state(), Table::Bookings, 30), want[..30]);
    let want = sorted_keys(&state, price, true);
    click_until(
        &mut h,
        "price",
        "the bookings sorted by price, largest first",
        |app| {
            shown_state_keys(app, Table::Bookings, 30).len() == 30
                && travel(app).is_some_and(|t| {
                    t.state(Table::Bookings)
                        .query()
                        .sort
                        .is_some_and(|s| s.descending)
                })
        },
    );
    assert_eq!(shown_state_keys(h.state(), Table::Bookings, 30), want[..30]);

    // Another position is another view: it comes sorted the same way.
    let earlier = head - 20;
    let want = sorted_keys(&state_at(&h, &rt, earlier), price, true);
    h.state_mut()
        .push_command(TimeTravelCommand::SetCursor(earlier));
    wait_until(&mut h, "the earlier bookings, sorted", |app| {
        travel(app).is_some_and(|t| t.position == earlier)
            && shown_state_keys(app, Table::Bookings, 30).len() == 30
    });
    assert_eq!(shown_state_keys(h.state(), Table::Bookings, 30), want[..30]);
}

fn search_field<'a>(h: &'a Harness<'static, LedgerApp>) -> egui_kittest::Node<'a> {
    h.get(
        By::new()
            .role(Role::TextInput)
            .predicate(|n| n.placeholder() == Some(SEARCH_HINT)),
    )
}

#[test]
fn a_search_finds_a_key_by_its_prefix_and_rows_by_a_cell() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let (mut h, head) = mixed(&rt, dir.path());
    go_to(&mut h, head);
    show_table(&mut h, Table::Users);
    let state = state_at(&h, &rt, head);
    let user = state.users.values().nth(3).unwrap().clone();
    let prefix = user.user_id.to_string()[..8].to_uppercase();

    search_field(&h).focus();
    h.step();
    search_field(&h).type_text(&prefix);
    wait_until(&mut h, "the user found by its key", |app| {
        shown_state_keys(app, Table::Users, 10) == [user.user_id]
    });
    let users = state.users.len();
    assert!(h.query_by_label(&match_status(1, users, true)).is_some());

    // By a cell's text: every user whose cells hold it.
    let word = user.name.split_whitespace().next().unwrap().to_lowercase();
    let needle = Needle::new(&word).unwrap();
    let matching: Vec<_> = state
        .users
        .values()
        .filter(|u| needle.matches_any(u.cells().iter().map(String::as_str)))
        .map(|u| u.user_id)
        .collect();
    click(&mut h, "×");
    search_field(&h).focus();
    h.step();
    search_field(&h).type_text(&word);
    wait_until(&mut h, "the users found by a name", |app| {
        shown_state_keys(app, Table::Users, 100) == matching
    });
    assert!(
        h.query_by_label(&match_status(matching.len(), users, true))
            .is_some()
    );
}

/// The text the window put on the clipboard in the last frame.
fn copied(h: &Harness<'static, LedgerApp>) -> Option<String> {
    h.output()
        .platform_output
        .commands
        .iter()
        .find_map(|c| match c {
            egui::OutputCommand::CopyText(text) => Some(text.clone()),
            _ => None,
        })
}

#[test]
fn copy_row_puts_the_row_on_the_clipboard() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let (mut h, head) = mixed(&rt, dir.path());
    go_to(&mut h, head);
    wait_until(&mut h, "the bookings read", |app| {
        travel(app).is_some_and(|t| t.rows_loaded(Table::Bookings, true, 0..20))
    });
    let state = state_at(&h, &rt, head);
    let first = state.bookings.values().next().unwrap();
    let key = first.booking_id.to_string();

    h.get_by_label(&format!("{}…", &key[..8])).click_secondary();
    for _ in 0..3 {
        h.step();
    }
    h.get_by_label("Copy row").click();
    let mut text = None;
    for _ in 0..3 {
        h.step();
        text = text.or_else(|| copied(&h));
    }
    let text = text.expect("something was copied");
    assert_eq!(
        text,
        format!(
            "{}\n{}",
            Table::Bookings.columns().join("\t"),
            first.cells().join("\t")
        )
    );

    h.get_by_label(&format!("{}…", &key[..8])).click_secondary();
    for _ in 0..3 {
        h.step();
    }
    h.get_by_label("Copy cell").click();
    let mut text = None;
    for _ in 0..3 {
        h.step();
        text = text.or_else(|| copied(&h));
    }
    assert_eq!(text.as_deref(), Some(key.as_str()), "the full key");
}

#[test]
fn compare_refuses_a_position_past_the_head() {
    use ledgerscope::ui::panels::compare::{CompareCommand, CompareField};

    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 30);
    wait_until(&mut h, "projections", |app| caught_up(app, 30));
    let app = h.state_mut();
    app.push_command(ShellCommand::ShowPanel(PanelKind::Compare));
    app.push_command(CompareCommand::SetPositions(true));
    app.push_command(CompareCommand::SetDraft(CompareField::From, "1".into()));
    app.push_command(CompareCommand::SetDraft(CompareField::To, "99999".into()));
    app.push_command(CompareCommand::ComparePositions);
    for _ in 0..10 {
        h.step();
    }
    assert!(
        h.query_by_label_contains("position 99999 is past the head 30")
            .is_some(),
        "{:?}",
        h.state().errors()
    );
    let compare = &h.state().panels().compare;
    assert!(
        compare.diff.value().is_none() && !compare.diff.is_asked(),
        "nothing ran"
    );

    // Typed newer first, it still reads from the older to the newer.
    let app = h.state_mut();
    app.push_command(CompareCommand::SetDraft(CompareField::From, "30".into()));
    app.push_command(CompareCommand::SetDraft(CompareField::To, "5".into()));
    app.push_command(CompareCommand::ComparePositions);
    wait_until(&mut h, "the two positions' rows", |app| {
        app.panels()
            .compare
            .diff
            .value()
            .is_some_and(|d| d.diff.table(Table::Bookings).has_rows(0..20))
    });
    assert!(
        h.query_by_label_contains("From 5 to 30 (older -> newer)")
            .is_some()
    );
    assert!(h.query_all_by_label("added by 30").next().is_some());
    assert!(h.query_by_label_contains("past the head").is_none());
}
