//! The last crash's report is offered once at the next start.

use super::*;

#[test]
fn the_last_crash_report_is_offered_shown_and_not_offered_again() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("crash-logs");
    let text = "Ledgerscope crash report\nrunning: gui Time travel\nbacktrace:\n0: somewhere";
    let path = ledgerscope::crash::write_report(&logs, chrono::Utc::now(), text).unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    h.state_mut().offer_crash_reports_from(logs.clone());
    wait_until(&mut h, "the report offered", |app| {
        app.shell().crash.is_some()
    });
    h.run();
    assert!(
        h.query_by_label("Ledgerscope stopped unexpectedly last time")
            .is_some()
    );
    click(&mut h, "Show the report");
    assert!(h.query_by_label_contains("0: somewhere").is_some());
    click(&mut h, "Dismiss");
    assert!(h.state().shell().crash.is_none());
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(h.state().shell().crash_seen.as_deref(), Some(name.as_str()));
    // Dismissed: not offered again.
    h.state_mut().offer_crash_reports_from(logs);
    for _ in 0..20 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(h.state().shell().crash.is_none());
}
