//! User-defined read models from the command line: check, add, build, rows, remove.

use super::*;

/// The example model files, from the repository.
fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/models")
        .join(name)
}

#[test]
fn model_check_names_each_mistake_by_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.sql");
    std::fs::write(
        &file,
        "-- model: bad\n-- version: 1\nCREATE TABLE t(k TEXT PRIMARY KEY);\n\
         ON BookingCancelled:\nDELETE FROM t WHERE k = :payload.nope;\nON Nothing:\nDELETE FROM t;\n",
    )
    .unwrap();
    let out = run(dir.path(), &["model", "check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("bad.sql:5:25: BookingCancelled has no parameter :payload.nope"),
        "{err}"
    );
    assert!(
        err.contains("bad.sql:6:1: unknown event type Nothing"),
        "{err}"
    );
    let (code, answer) = json(
        dir.path(),
        &["model", "check", file.to_str().unwrap(), "--json"],
    );
    assert_eq!(code, 2);
    assert_eq!(answer["errors"][0]["line"], 5);
    assert_eq!(answer["errors"][0]["col"], 25);
    assert!(
        !dir.path().join("ledger.sqlite3").exists(),
        "check opens no store"
    );
    let (code, answer) = json(
        dir.path(),
        &[
            "model",
            "check",
            example("users.sql").to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!((code, answer["ok"].as_bool()), (0, Some(true)));
}

#[test]
fn a_model_is_added_built_and_read_at_a_position() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, _) = json(d, &["emit", "--count", "40", "--seed", "3", "--json"]);
    assert_eq!(code, 0);
    let users = example("users.sql");
    let (code, added) = json(d, &["model", "add", users.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{added}");
    // The same name again is refused at its header line.
    let out = run(d, &["model", "add", users.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("users.sql:1:1: a model named users exists already"));
    let (_, listed) = json(d, &["model", "list", "--json"]);
    assert_eq!(listed["models"][0]["name"], "users");
    assert!(listed["models"][0]["built_to"].is_null());

    let out = run(d, &["model", "build", "users", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("users: 40/40"),
        "progress: {}",
        stderr(&out)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["end"].as_str(), report["position"].as_u64()),
        (Some("done"), Some(40))
    );

    let (code, rows) = json(d, &["model", "rows", "users", "--json"]);
    assert_eq!(code, 0, "{rows}");
    let (_, state) = json(d, &["state", "--json"]);
    assert_eq!(rows["count"], state["users"], "{state}");
    assert_eq!(rows["digest"].as_str().map(str::len), Some(64));
    let (_, early) = json(
        d,
        &[
            "model", "rows", "users", "--at", "5", "--limit", "2", "--json",
        ],
    );
    let (_, state_at_5) = json(d, &["state", "--at", "5", "--json"]);
    assert_eq!(early["at"].as_u64(), Some(5));
    assert_eq!(early["count"], state_at_5["users"]);
    assert_eq!(early["rows"].as_array().map(Vec::len), Some(2));
    assert_ne!(early["digest"], rows["digest"]);
    assert!(early["rows"][0]["email"].as_str().is_some());

    let (code, _) = json(d, &["model", "remove", "users", "--json"]);
    assert_eq!(code, 0);
    assert!(!d.join("models/users.sqlite3").exists());
    let (code, _) = json(d, &["model", "rows", "users", "--json"]);
    assert_eq!(code, 2);
}

#[test]
fn a_build_names_the_events_a_block_could_not_apply() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, _) = json(d, &["emit", "--count", "12", "--seed", "3", "--json"]);
    assert_eq!(code, 0);
    // No ON CONFLICT: the second booking of a service breaks the key.
    let file = d.join("services.sql");
    std::fs::write(
        &file,
        "-- model: services\n-- version: 1\nCREATE TABLE services(service TEXT PRIMARY KEY, first INTEGER);\n\
         ON BookingWizardCompleted:\nINSERT INTO services VALUES (:payload.booking.service, :position);\n",
    )
    .unwrap();
    assert_eq!(
        json(d, &["model", "add", file.to_str().unwrap(), "--json"]).0,
        0
    );
    let (code, report) = json(d, &["model", "build", "services", "--json"]);
    assert_eq!(code, 0, "never fatal: {report}");
    assert_eq!(report["end"], "done");
    let not_applied = report["not_applied"].as_array().unwrap();
    assert!(!not_applied.is_empty());
    assert_eq!(not_applied.len() as u64, report["errors"].as_u64().unwrap());
    assert_eq!(not_applied[0]["line"], 5);
    assert!(not_applied[0]["position"].as_u64().unwrap() > 1);
    assert!(
        not_applied[0]["reason"]
            .as_str()
            .unwrap()
            .contains("UNIQUE"),
        "{report}"
    );
    let (_, rows) = json(d, &["model", "rows", "services", "--json"]);
    assert_eq!(
        rows["count"].as_u64().unwrap() + not_applied.len() as u64,
        12
    );
}
