//! A crash leaves a report beside the log: version, build, what ran, the
//! stores' kinds without addresses, and the backtrace.

use super::*;

#[test]
fn a_crash_leaves_a_report_beside_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    json(d, &["emit", "--count", "1", "--json"]);
    let out = run(d, &["crash-test"]);
    assert_eq!(out.status.code(), Some(101), "{}", stderr(&out));
    let logs = d.join("logs");
    let report = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("crash-")
        })
        .expect("a crash report in logs/");
    assert!(
        stderr(&out).contains(&report.display().to_string()),
        "the error says where the report is: {}",
        stderr(&out)
    );
    let text = std::fs::read_to_string(&report).unwrap();
    for part in [
        env!("CARGO_PKG_VERSION"),
        "running: cli CrashTest",
        "stores: ledger sqlite, read store sqlite",
        "a crash on purpose",
        "backtrace:",
        "src/cli/mod.rs",
    ] {
        assert!(text.contains(part), "{part:?} in the report:\n{text}");
    }
    let log = std::fs::read_to_string(logs.join("ledgerscope.log")).unwrap();
    assert!(log.contains("panic"), "the log names it: {log}");
}
