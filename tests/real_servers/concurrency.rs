use super::*;

// ---------------------------------------------------------------- concurrency

/// 8 writer processes on one MongoDB ledger while 2 app instances project
/// into PostgreSQL: unique gap-free positions, each projector's lease held
/// by one of the instances whenever we look, tables equal the fold; retrying
/// commands with the same UUIDs, each seed from two processes at once, adds
/// nothing.
#[test]
fn eight_writers_two_projecting_instances() {
    let _serial = serial();
    // `LEDGERSCOPE_CONCURRENCY_STORES=embedded`: the same processes on the
    // embedded store's files (the volume drill of scripts/soak.sh: FerretDB
    // scans a collection for nearly every query, so volume runs there).
    let embedded = std::env::var("LEDGERSCOPE_CONCURRENCY_STORES").is_ok_and(|v| v == "embedded");
    let servers = if embedded {
        None
    } else {
        let (Some(uri), Some(pg)) = (
            server("LEDGERSCOPE_MONGO_URI"),
            server("LEDGERSCOPE_POSTGRES_URL"),
        ) else {
            return;
        };
        let (scoped, schema) = fresh_schema(&pg);
        Some((uri, pg, scoped, schema))
    };
    let per_writer = common::size_from_env("LEDGERSCOPE_CONCURRENCY_COMMANDS", 25);
    let dir = tempdir();
    let app = App {
        data_dir: dir.path().to_path_buf(),
        mongo: servers
            .as_ref()
            .map(|(uri, ..)| (uri.clone(), unique("ls_concurrency"))),
        postgres: servers.as_ref().map(|(_, _, scoped, _)| scoped.clone()),
    };
    let (code, _) = app.json(&["project", "--json"]);
    assert_eq!(code, 0);
    let instances = [
        Running(app.spawn(&["run", "--snapshot-every", "0"])),
        Running(app.spawn(&["run", "--snapshot-every", "0"])),
    ];
    let instance_ids: Vec<String> = instances
        .iter()
        .map(|r| format!("-{}-", r.0.id()))
        .collect();
    let holders = || -> Vec<(String, Option<String>)> {
        let (_, status) = app.json(&["status", "--json"]);
        status["projectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or_default().to_string(),
                    p["lease_holder"].as_str().map(str::to_string),
                )
            })
            .collect()
    };
    wait_until(
        "both projectors to be held by an instance",
        Duration::from_secs(60),
        || holders().iter().all(|(_, h)| h.is_some()),
    );
    let count = per_writer.to_string();
    let emit = |seed: u64| {
        let seed = seed.to_string();
        app.command(&[
            "emit",
            "--count",
            &count,
            "--seed",
            &seed,
            "--no-project",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
    };
    let started = Instant::now();
    let mut writers: Vec<Child> = (0..8).map(|i| emit(100 + i)).collect();
    let mut seen = std::collections::BTreeSet::new();
    // Look at the leases while the writers run.
    while writers.iter_mut().any(|w| w.try_wait().unwrap().is_none()) {
        seen.extend(holders());
        std::thread::sleep(Duration::from_millis(300));
    }
    let mut emitted = 0;
    for w in writers {
        let out = w.wait_with_output().unwrap();
        assert!(out.status.success(), "writer failed");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        emitted += v["emitted"].as_u64().unwrap();
    }
    let writing_secs = started.elapsed().as_secs_f64();
    assert_eq!(emitted, 8 * per_writer);
    let positions = positions_of(&app);
    assert_eq!(
        positions,
        (1..=8 * per_writer).collect::<Vec<_>>(),
        "unique and gap-free"
    );
    // Retries: every odd writer's seed, each sent by two processes at once.
    let retries: Vec<Child> = [101, 101, 103, 103, 105, 105, 107, 107]
        .into_iter()
        .map(emit)
        .collect();
    for r in retries {
        let out = r.wait_with_output().unwrap();
        assert!(out.status.success());
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (v["emitted"].as_u64(), v["duplicates"].as_u64()),
            (Some(0), Some(per_writer)),
            "{v}"
        );
    }
    assert_eq!(
        positions_of(&app).len() as u64,
        8 * per_writer,
        "retries added nothing"
    );
    wait_until(
        "the projectors to catch up",
        Duration::from_secs(120 + per_writer),
        || {
            let (_, status) = app.json(&["status", "--json"]);
            lag_of(&status) == 0
        },
    );
    let (code, verify) = app.json(&["verify", "--json"]);
    assert_eq!(
        (code, &verify["in_sync"]),
        (0, &Value::Bool(true)),
        "{verify}"
    );
    // Leases: every projector was seen held, and only ever by our instances.
    for name in ["UserProjection", "BookingProjection"] {
        let held: Vec<&String> = seen
            .iter()
            .filter(|(p, _)| p == name)
            .filter_map(|(_, h)| h.as_ref())
            .collect();
        assert!(!held.is_empty(), "{name} was never seen held: {seen:?}");
        for holder in held {
            assert!(
                instance_ids.iter().any(|id| holder.contains(id.as_str())),
                "{name} held by {holder}, not one of the instances {instance_ids:?}"
            );
        }
    }
    common::figure(
        if embedded {
            "8 writers, 2 projecting instances (embedded SQLite)"
        } else {
            "8 writers, 2 projecting instances (FerretDB + PostgreSQL)"
        },
        &format!("8 x {per_writer} commands"),
        &format!(
            "{:.0} commands/s while 8 wrote",
            (8 * per_writer) as f64 / writing_secs
        ),
    );
    drop(instances);
    if let Some((uri, _pg, _, _schema)) = servers {
        drop_mongo_db(&uri, &app.mongo.as_ref().unwrap().1);
    }
}
