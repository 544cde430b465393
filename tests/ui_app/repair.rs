//! Compare's report and targeted repair: the findings saved as a file, a
//! drifted row repaired from its events without a replay, and the repair
//! listed in Operations with its details.

use super::*;

#[test]
fn repair_these_rows_fixes_a_drifted_row_and_operations_lists_the_repair() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 20);
    wait_until(&mut h, "projections", |app| caught_up(app, 20));

    let drifted = drift_booking(dir.path(), 3);
    let views = rusqlite::Connection::open(dir.path().join("views.sqlite3")).unwrap();
    views.busy_timeout(Duration::from_secs(5)).unwrap();

    click(&mut h, "Compare");
    wait_until(&mut h, "the comparison", |app| {
        app.panels()
            .compare
            .verify
            .value()
            .is_some_and(|v| v.different == 1)
    });

    // The findings, saved where the user typed (Markdown by default).
    let file = dir.path().join("out/drift.md");
    h.state_mut()
        .push_command(CompareCommand::SetReportPath(file.display().to_string()));
    h.step();
    click_until(&mut h, "Save report", "the report saved", |app| {
        app.panels().compare.report_saved.is_some()
    });
    let md = std::fs::read_to_string(&file).unwrap();
    assert!(md.contains(&drifted), "{md}");
    assert!(md.contains("| **guests** | 19 |"), "{md}");

    click(&mut h, "Repair these rows…");
    let named = format!(
        "differ in sqlite at {}",
        dir.path().join("views.sqlite3").display()
    );
    assert!(
        h.query_by_label_contains(&named).is_some(),
        "the confirmation names the database"
    );
    click(&mut h, "Yes, repair these rows");
    wait_until(&mut h, "the repair", |app| {
        app.shell().jobs.result(JobKind::Repair).is_some()
    });
    let done = h
        .state()
        .shell()
        .jobs
        .result(JobKind::Repair)
        .map(|r| r.map_err(Clone::clone));
    assert!(
        matches!(&done, Some(Ok(text)) if text.starts_with("Repaired 1 row(s)") && text.ends_with("in sync now")),
        "{done:?}"
    );
    let guests: i64 = views
        .query_row(
            "SELECT guests FROM bookings WHERE booking_id = ?1",
            [&drifted],
            |r| r.get(0),
        )
        .unwrap();
    assert_ne!(guests, 19, "the row was rewritten from its events");
    wait_until(&mut h, "the new comparison", |app| {
        app.panels()
            .compare
            .verify
            .value()
            .is_some_and(|v| v.in_sync)
    });

    click(&mut h, "Operations");
    wait_until(&mut h, "the repairs", |app| {
        app.panels()
            .operations
            .repairs
            .value()
            .is_some_and(|r| r.len() == 1)
    });
    assert!(
        h.query_by_label_contains("targeted: 1 rows written, 0 deleted")
            .is_some(),
        "the repair is listed with what it did"
    );
    assert!(
        h.query_by_label_contains("0 missing, 0 extra, 1 different")
            .is_some()
    );
    click(&mut h, "details");
    assert!(
        h.query_by_label_contains(&format!("bookings different {drifted}"))
            .is_some(),
        "the details name the row found before"
    );
}
