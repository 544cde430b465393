//! The CLI's projection subcommands: `status`, `project` and `run` (a headless instance).

use super::*;

pub(super) async fn status(cli: &Cli, json: bool) -> CliResult<i32> {
    let engine = open_for_reading(cli).await?;
    let report = engine.status().await?;
    let pairing = report.pairing.as_ref().map(|p| {
        let mut value = serde_json::to_value(p).unwrap_or(Value::Null);
        if let Some(foreign) = p.foreign() {
            value["message"] = json!(foreign.to_string());
        }
        value
    });
    // Published models: their checkpoints and lag (an error when the read
    // store does not answer).
    let published = engine.published_statuses().await;
    let published_json = match &published {
        Ok(list) => serde_json::to_value(list).unwrap_or(Value::Null),
        Err(e) => json!({ "error": e.to_string() }),
    };
    let value = json!({
        "head": report.head,
        "events": report.events,
        "unpositioned": report.census.unpositioned,
        "missing_positions": report.census.missing_positions(),
        "holes": report.holes,
        "ledger": {
            "kind": report.ledger.kind,
            "location": report.ledger.location,
            "reachable": true,
            "id": report.ledger_id,
        },
        "read_store": {
            "kind": report.read_store.info.kind,
            "location": report.read_store.info.location,
            "reachable": report.read_store.reachable,
            "missing": report.read_store.missing,
            "error": report.read_store.error,
            "built_from": report.read_store.stamp.map(|s| s.ledger_id),
            "built_with": report.read_store.stamp.map(|s| s.versions),
        },
        "model_versions": report.model_versions,
        "schema": report.pairing.as_ref().and_then(Pairing::foreign).and_then(|f| f.other_schema()),
        "pairing": pairing,
        "projectors": report.projectors,
        "snapshots": report.snapshots,
        "usable_snapshots": report.usable_snapshots,
        "latest_snapshot_position": report.latest_snapshot_position,
        "observe_only": report.observe_only,
        "published": published_json,
    });
    if json {
        print_json(&value);
    } else {
        let id = report
            .ledger_id
            .map_or_else(|| "no id".to_string(), crate::engine::pairing::short_id);
        eprintln!(
            "ledger:     {} (ledger {id}, head {}, {} rows)",
            report.ledger, report.head, report.events
        );
        if report.census.unpositioned > 0 {
            eprintln!(
                "            {} row(s) without a usable position (malformed; see verify)",
                report.census.unpositioned
            );
        }
        for hole in &report.holes {
            eprintln!("            hole: {}", hole.no_event());
        }
        match (&report.read_store.error, report.read_store.missing) {
            (Some(e), true) => eprintln!("read store: MISSING: {e}"),
            (Some(e), false) => {
                eprintln!("read store: {} UNREACHABLE: {e}", report.read_store.info)
            }
            (None, _) => eprintln!("read store: {}", report.read_store.info),
        }
        if let Some(message) = report.foreign_message() {
            match report
                .pairing
                .as_ref()
                .and_then(Pairing::foreign)
                .and_then(|f| f.other_schema())
            {
                Some(_) => eprintln!("OTHER SCHEMA: {message}"),
                None => eprintln!("NOT THIS LEDGER'S: {message}"),
            }
        }
        for p in &report.projectors {
            eprintln!(
                "  {:<18} checkpoint {:>8}  lag {:>8}  skipped {}  holes {}{}",
                p.name,
                p.checkpoint,
                p.lag,
                p.skipped.len(),
                p.holes.len(),
                p.last_error.as_ref().map_or_else(String::new, |e| format!(
                    "  failing{}: {e}",
                    p.error_since
                        .map(|t| format!(" since {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
                        .unwrap_or_default()
                ))
            );
        }
        match &published {
            Ok(list) => {
                for p in list {
                    let state = match (&p.refused, &p.last_error) {
                        (Some(why), _) => format!("  REFUSED: {why}"),
                        (None, Some(e)) => format!("  failing: {e}"),
                        (None, None) => String::new(),
                    };
                    eprintln!(
                        "  published {:<8} checkpoint {:>8}  lag {:>8}  tables {}{state}",
                        p.model,
                        p.checkpoint,
                        p.lag_events,
                        p.tables.join(", ")
                    );
                }
            }
            Err(e) => eprintln!("  published models: not read: {e}"),
        }
        eprintln!(
            "snapshots:  {} of this ledger ({} stored)",
            report.usable_snapshots, report.snapshots
        );
    }
    Ok(EXIT_OK)
}

/// How long `project` waits for another instance holding a projector's
/// lease to reach the head before it says so.
pub(super) const WAIT_FOR_HOLDER: Duration = Duration::from_secs(10);

pub(super) async fn project(cli: &Cli, json: bool) -> CliResult<i32> {
    let engine = open_engine(cli).await?;
    engine.guard_write("projecting")?;
    // Tables of another ledger are refused, and tables of a build without
    // identities are checked and adopted, before any projector writes.
    let pairing = engine.check_pairing().await?;
    match &pairing {
        Pairing::Foreign(foreign) => {
            return Err(CliError {
                code: EXIT_NOT_CAUGHT_UP,
                message: foreign.to_string(),
            });
        }
        Pairing::Adopted { checked_rows, .. } if *checked_rows > 0 => eprintln!(
            "adopted the read tables in {}: made by a build without ledger identities, \
             {checked_rows} sampled row(s) were checked against this ledger; they are \
             stamped with its id now",
            engine.read_info()
        ),
        Pairing::Adopted { .. } | Pairing::Paired { .. } | Pairing::Unstamped { .. } => {}
    }
    let mut checkpoints = BTreeMap::new();
    let mut reasons = Vec::new();
    let mut events = 0;
    let mut skipped = Vec::new();
    let mut holes = Vec::new();
    for p in ProjectorId::ALL {
        let mut held_since: Option<Instant> = None;
        loop {
            match engine.project_with_lease(p, false).await {
                Ok(Some(report)) => {
                    events += report.events;
                    skipped.extend(report.skipped);
                    holes.extend(report.holes);
                    checkpoints.insert(p.name().to_string(), report.position);
                    // A hole still within its timeout: wait it out, then cross it.
                    if let Some((hole, left)) = report.waiting_for {
                        eprintln!(
                            "{}: {} yet; waiting {:.1} s before crossing it",
                            p.name(),
                            hole.no_event(),
                            left.as_secs_f64()
                        );
                        tokio::time::sleep(left).await;
                        continue;
                    }
                    break;
                }
                Ok(None) => {
                    let status = engine.refresh_status(p).await?;
                    checkpoints.insert(p.name().to_string(), status.checkpoint);
                    if status.lag_events == 0 {
                        break;
                    }
                    let since = *held_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= WAIT_FOR_HOLDER {
                        reasons.push(format!(
                            "{} is projected by {}, which is {} event(s) behind the head",
                            p.name(),
                            status
                                .lease_holder
                                .unwrap_or_else(|| "another instance".into()),
                            status.lag_events
                        ));
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(EngineError::Foreign(foreign)) => {
                    return Err(CliError {
                        code: EXIT_NOT_CAUGHT_UP,
                        message: foreign.to_string(),
                    });
                }
                // Unreachable or unusable stores are errors (exit 2), as elsewhere.
                Err(e) => return Err(e.into()),
            }
        }
    }
    // The published models after the built-in tables.
    let mut published = BTreeMap::new();
    for (model, result) in engine
        .catch_up_published()
        .await
        .map_err(|e| CliError::input(e.to_string()))?
    {
        match result {
            Ok(position) => {
                published.insert(model, position);
            }
            Err(e) => reasons.push(format!("published model {model}: {e}")),
        }
    }
    let head = engine.head().await?;
    for (name, checkpoint) in published.iter().chain(&checkpoints) {
        if *checkpoint < head && !reasons.iter().any(|r| r.starts_with(name.as_str())) {
            reasons.push(format!("{name} stopped at {checkpoint} of {head}"));
        }
    }
    let caught_up = reasons.is_empty();
    skipped.sort_unstable();
    skipped.dedup();
    holes.sort_unstable();
    holes.dedup();
    let reason = (!caught_up).then(|| reasons.join("; "));
    if json {
        print_json(&json!({
            "caught_up": caught_up, "checkpoints": checkpoints, "head": head, "events": events,
            "skipped": skipped, "holes": holes, "reason": reason, "pairing": pairing,
            "published": published,
        }));
    } else {
        eprintln!("projected {events} event(s); head {head}; checkpoints {checkpoints:?}");
        if !skipped.is_empty() {
            eprintln!("skipped malformed or unknown events at positions {skipped:?}");
        }
        for hole in &holes {
            eprintln!("crossed a hole: {}", hole.no_event());
        }
    }
    match reason {
        None => Ok(EXIT_OK),
        Some(reason) => {
            eprintln!("error: not caught up: {reason}");
            Ok(EXIT_NOT_CAUGHT_UP)
        }
    }
}

pub(super) async fn run_instance(cli: &Cli, json: bool) -> CliResult<i32> {
    let engine = open_engine(cli).await?;
    let shutdown = CancellationToken::new();
    if let Ok(Pairing::Foreign(foreign)) = engine.check_pairing().await {
        eprintln!("warning: {foreign}");
    }
    let mut tasks = vec![spawn_notice_printer(&engine, shutdown.clone())];
    tasks.extend(engine.spawn_projectors(shutdown.clone()));
    tasks.push(engine.spawn_auto_snapshots(shutdown.clone()));
    eprintln!(
        "instance {} projecting {} -> {}; Ctrl-C or SIGTERM stops it",
        engine.config().instance_id,
        engine.ledger_info(),
        engine.read_info()
    );
    wait_for_stop_signal().await;
    shutdown.cancel();
    for task in tasks {
        let _ = task.await;
    }
    if json {
        let statuses = engine.projector_statuses();
        print_json(&json!({ "stopped": true, "projectors": statuses }));
    }
    Ok(EXIT_OK)
}

/// Tells stderr what a headless instance's background work runs into:
/// failures (once per message), holes crossed, snapshots that failed.
pub(super) fn spawn_notice_printer(
    engine: &Arc<Engine>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let mut notices = engine.bus().subscribe_notices();
    tokio::spawn(async move {
        let mut last_failure: BTreeMap<ProjectorId, String> = BTreeMap::new();
        loop {
            let notice = tokio::select! {
                _ = shutdown.cancelled() => break,
                notice = notices.recv() => match notice {
                    Ok(notice) => notice,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => break,
                },
            };
            match notice {
                EngineNotice::ProjectorFailed { projector, message }
                    if last_failure.get(&projector) != Some(&message) =>
                {
                    eprintln!("{}: {message} (retrying)", projector.name());
                    last_failure.insert(projector, message);
                }
                EngineNotice::ProjectionApplied { projector, .. }
                    if last_failure.remove(&projector).is_some() =>
                {
                    eprintln!("{}: projecting again", projector.name());
                }
                EngineNotice::HoleCrossed { projector, hole } => {
                    eprintln!("{}: crossed a hole ({})", projector.name(), hole.no_event());
                }
                EngineNotice::SnapshotFailed(message) => {
                    eprintln!("automatic snapshot failed: {message}");
                }
                _ => {}
            }
        }
    })
}

pub(super) async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
