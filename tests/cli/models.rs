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

/// Emits a mixed ledger into `d`, adds the example models `names` and
/// builds them; the head.
fn built_models(d: &Path, count: &str, names: &[&str]) -> u64 {
    let (code, emitted) = json(
        d,
        &["emit", "--count", count, "--seed", "11", "--mix", "--json"],
    );
    assert_eq!(code, 0, "{emitted}");
    for name in names {
        let file = example(&format!("{name}.sql"));
        assert_eq!(
            json(d, &["model", "add", file.to_str().unwrap(), "--json"]).0,
            0
        );
        assert_eq!(json(d, &["model", "build", name, "--json"]).0, 0);
    }
    emitted["head"].as_u64().unwrap()
}

/// The keys of a built-in difference table's rows and its counts.
fn builtin_table(answer: &Value, table: &str) -> (Vec<String>, [u64; 3]) {
    let t = answer["tables"]
        .as_array()
        .or(answer["difference"].as_array())
        .unwrap()
        .iter()
        .find(|t| t["table"] == table)
        .unwrap_or_else(|| panic!("no {table} in {answer}"));
    let mut keys: Vec<String> = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    let counts = ["added", "removed", "changed"].map(|k| t[k].as_u64().unwrap());
    (keys, counts)
}

/// The keys (one key column, `key`) of a model difference's rows and its counts.
fn model_table(answer: &Value, key: &str) -> (Vec<String>, [u64; 3]) {
    let mut keys: Vec<String> = answer["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|r| r["key"][key].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    let counts = ["added", "removed", "changed"].map(|k| answer[k].as_u64().unwrap());
    (keys, counts)
}

#[test]
fn the_built_ins_written_as_models_answer_diff_history_and_whatif_as_the_built_ins_do() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let head = built_models(d, "150", &["users", "bookings"]);
    let tables = [("users", "user_id"), ("bookings", "booking_id")];
    let text = |n: u64| n.to_string();

    for (from, to) in [(0, head), (head / 3, 2 * head / 3), (head / 2, head)] {
        let (_, builtin) = json(
            d,
            &[
                "diff",
                "--from",
                &text(from),
                "--to",
                &text(to),
                "--limit",
                "100000",
                "--json",
            ],
        );
        for (table, key) in tables {
            let (code, model) = json(
                d,
                &[
                    "model",
                    "diff",
                    table,
                    "--from",
                    &text(from),
                    "--to",
                    &text(to),
                    "--limit",
                    "100000",
                    "--json",
                ],
            );
            assert_eq!(code, 0, "{model}");
            assert_eq!(
                model_table(&model, key),
                builtin_table(&builtin, table),
                "{table} from {from} to {to}"
            );
        }
    }
    // Counts stay complete when fewer rows are listed.
    let (_, few) = json(
        d,
        &[
            "model", "diff", "bookings", "--from", "0", "--limit", "2", "--json",
        ],
    );
    assert_eq!(few["rows"].as_array().unwrap().len(), 2);
    assert!(few["added"].as_u64().unwrap() > 2);

    // Row history: every row that changed in the second half.
    let mut histories = 0;
    for (table, key) in tables {
        let (_, changed) = json(
            d,
            &[
                "model",
                "diff",
                table,
                "--from",
                &text(head / 2),
                "--limit",
                "100000",
                "--json",
            ],
        );
        for row in changed["rows"].as_array().unwrap() {
            if row["kind"] != "changed" {
                continue;
            }
            let k = row["key"][key].as_str().unwrap();
            let flag = if table == "users" {
                "--user"
            } else {
                "--booking"
            };
            let (_, builtin) = json(d, &["history", flag, k, "--json"]);
            let (code, model) = json(d, &["model", "history", table, "--key", k, "--json"]);
            assert_eq!(code, 0, "{model}");
            let versions = |v: &Value| -> Vec<(u64, String)> {
                v["versions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| {
                        (
                            v["position"].as_u64().unwrap(),
                            v["event_type"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            };
            assert!(versions(&model).len() >= 2, "{model}");
            assert_eq!(versions(&model), versions(&builtin), "{table} {k}");
            histories += 1;
        }
    }
    assert!(histories >= 4, "{histories} rows with a history checked");

    // What if: a wizard, a cancel, an address change and more left out.
    let exclude = format!("2,5,{},{},{}", head / 3, head / 2, head - 1);
    let (_, builtin) = json(
        d,
        &[
            "whatif",
            "--exclude",
            &exclude,
            "--limit",
            "100000",
            "--json",
        ],
    );
    for (table, key) in tables {
        let (code, model) = json(
            d,
            &[
                "model",
                "whatif",
                table,
                "--exclude",
                &exclude,
                "--limit",
                "100000",
                "--json",
            ],
        );
        assert_eq!(code, 0, "{model}");
        assert_eq!(
            model_table(&model, key),
            builtin_table(&builtin, table),
            "{table} without {exclude}"
        );
        assert_eq!(model["simulated_rows"], builtin[table], "{table}");
        assert_eq!(model["real_rows"], builtin["real"][table], "{table}");
    }
}

#[test]
fn a_model_s_column_over_positions_equals_the_built_in_revenue() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let head = built_models(d, "200", &["revenue_by_service_month"]);
    let (_, builtin) = json(d, &["series", "--json"]);
    let revenue: std::collections::HashMap<u64, i64> = builtin["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["position"].as_u64().unwrap(),
                p["revenue_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    let (code, series) = json(
        d,
        &[
            "model",
            "series",
            "revenue_by_service_month",
            "--table",
            "revenue",
            "--column",
            "revenue_cents",
            "--points",
            &head.to_string(),
            "--json",
        ],
    );
    assert_eq!(code, 0, "{series}");
    let points = series["points"].as_array().unwrap();
    assert_eq!(points.len() as u64, head, "one point per position");
    assert_eq!(points.last().unwrap()["position"].as_u64(), Some(head));
    let mut compared = 0;
    for p in points {
        let position = p["position"].as_u64().unwrap();
        if let Some(expected) = revenue.get(&position) {
            assert_eq!(p["sum"].as_f64(), Some(*expected as f64), "at {position}");
            compared += 1;
        }
    }
    assert!(compared >= 2, "{compared} positions compared");
}

#[test]
fn bad_input_to_a_model_query_is_one_sentence_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let head = built_models(d, "20", &["bookings"]);
    let users = example("users.sql");
    assert_eq!(
        json(d, &["model", "add", users.to_str().unwrap(), "--json"]).0,
        0
    );
    let past = (head + 1).to_string();
    let cases: [(&[&str], &str); 8] = [
        (
            &["model", "diff", "nope", "--from", "1"],
            "there is no model named nope",
        ),
        (
            &["model", "diff", "users", "--from", "1"],
            "run `ledgerscope model build users`",
        ),
        (
            &["model", "diff", "bookings", "--from", "1", "--table", "x"],
            "model bookings has no table x",
        ),
        (
            &["model", "diff", "bookings", "--from", &past],
            "is past the head of the ledger",
        ),
        (
            &["model", "series", "bookings", "--column", "status"],
            "column status of bookings does not hold numbers; its numeric ones: guests, price_cents, last_position",
        ),
        (
            &["model", "series", "bookings", "--column", "nope"],
            "table bookings has no column nope",
        ),
        (
            &["model", "history", "bookings", "--key", "1,2"],
            "the key of bookings is booking_id (1 value(s)), not 2 value(s)",
        ),
        (
            &["model", "whatif", "bookings", "--exclude", &past],
            "is past the head of the ledger",
        ),
    ];
    for (args, sentence) in cases {
        let out = run(d, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(sentence), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
}
