//! The CLI's `verify` (with its report) and `replay`.

use super::*;

pub(super) async fn verify(
    cli: &Cli,
    json: bool,
    file: Option<repair::ReportFile<'_>>,
) -> CliResult<i32> {
    let engine = open_for_reading(cli).await?;
    let job = progress_printer();
    let ctrl_c = spawn_stop_signal(job.clone());
    let result = engine.verify_with(&job, &|_, _| {}).await;
    ctrl_c.abort();
    let report = result?;
    repair::write_verify_report(&engine, &report, file).await?;
    let rows: Vec<Value> = report
        .rows()
        .take(200)
        .map(|(table, row)| {
            let kind = match row {
                crate::domain::RowDiff::Added { .. } => "missing",
                crate::domain::RowDiff::Removed { .. } => "extra",
                crate::domain::RowDiff::Changed { .. } => "different",
            };
            let columns = match row {
                crate::domain::RowDiff::Changed { columns, .. } => json!(columns),
                _ => Value::Null,
            };
            json!({ "table": table, "kind": kind, "key": row.key(), "last_position": row.last_position(), "columns": columns })
        })
        .collect();
    if json {
        print_json(&json!({
            "in_sync": report.in_sync,
            "head": report.head,
            "checked_rows": report.checked_rows,
            "missing": report.missing,
            "extra": report.extra,
            "different": report.different,
            "rows": rows,
            "malformed": report.malformed.iter().map(|m| json!({"position": m.position, "reason": m.reason})).collect::<Vec<_>>(),
            "unpositioned": report.unpositioned,
            "holes": report.holes,
            "lag": report.lag_events.iter().cloned().collect::<BTreeMap<_, _>>(),
        }));
    } else {
        eprintln!(
            "{}: {} rows checked; {} missing, {} extra, {} different",
            if report.in_sync { "in sync" } else { "DRIFT" },
            report.checked_rows,
            report.missing,
            report.extra,
            report.different
        );
        for row in &rows {
            eprintln!(
                "  {} {} row {} (last changed at position {}){}",
                row["table"].as_str().unwrap_or_default(),
                row["kind"].as_str().unwrap_or_default(),
                row["key"].as_str().unwrap_or_default(),
                row["last_position"],
                match &row["columns"] {
                    Value::Array(c) => format!(" columns {}", Value::Array(c.clone())),
                    _ => String::new(),
                }
            );
        }
        for m in &report.malformed {
            match m.position {
                0 => eprintln!("  malformed ledger row without a position: {}", m.reason),
                p => eprintln!("  malformed ledger entry at position {p}: {}", m.reason),
            }
        }
        for hole in &report.holes {
            eprintln!("  hole: {} (crossed)", hole.no_event());
        }
        for (p, lag) in &report.lag_events {
            if *lag > 0 {
                eprintln!("  {p} is {lag} event(s) behind the head (compared at its checkpoint)");
            }
        }
    }
    Ok(if report.in_sync { EXIT_OK } else { EXIT_DRIFT })
}

pub(super) async fn replay(
    cli: &Cli,
    from_snapshot: bool,
    rebuild_foreign: bool,
    json: bool,
) -> CliResult<i32> {
    let engine = open_engine(cli).await?;
    let job = progress_printer();
    let ctrl_c = spawn_stop_signal(job.clone());
    let options = ReplayOptions {
        from_snapshot,
        rebuild_foreign,
    };
    let result = engine.replay_recorded(options, &job).await.map(|(r, _)| r);
    if let Err(EngineError::Foreign(foreign)) = &result {
        let with = match foreign.other_schema() {
            Some(_) => "rebuild them with this build's schema",
            None => "replace them with this ledger's",
        };
        return Err(CliError::input(format!(
            "{foreign}; run `replay --rebuild-foreign` to {with}"
        )));
    }
    ctrl_c.abort();
    let report = result?;
    if json {
        let mut value = serde_json::to_value(&report).unwrap_or(Value::Null);
        value["target"] = json!(engine.read_info().to_string());
        value["events_per_sec"] =
            json!(report.events as f64 / (report.elapsed_ms.max(1) as f64 / 1000.0));
        print_json(&value);
    } else {
        eprintln!(
            "replayed {} event(s) into {} rows of {} in {} ms (reading and folding {} ms, writing {} ms){}",
            report.events,
            report.rows,
            engine.read_info(),
            report.elapsed_ms,
            report.fold_ms,
            report.load_ms,
            report
                .from_snapshot
                .as_ref()
                .map(|s| format!(" (from snapshot at position {})", s.position))
                .unwrap_or_default()
        );
    }
    Ok(EXIT_OK)
}
