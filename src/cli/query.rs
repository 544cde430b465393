//! The CLI's read subcommands over history: `events`, `state`, `diff`, `history`, `series`, `whatif`.

use super::*;

pub(super) fn entry_json(entry: &LedgerEntry) -> Value {
    match entry {
        Ok(e) => serde_json::to_value(e).unwrap_or(Value::Null),
        Err(bad) => json!({ "position": bad.position, "malformed": bad.reason, "raw": bad.raw }),
    }
}

pub(super) async fn events(
    cli: &Cli,
    from: u64,
    limit: usize,
    event_type: Option<String>,
    aggregate: Option<&str>,
    json: bool,
) -> CliResult<i32> {
    let aggregate_id = aggregate
        .map(|a| parse_uuid(a, "--aggregate"))
        .transpose()?;
    let engine = open_for_reading(cli).await?;
    let filter = EventFilter {
        event_type,
        aggregate_id,
        ..EventFilter::default()
    };
    let entries = engine.events(from, limit, &filter).await?;
    let mask = output_mask();
    let mut out = std::io::stdout().lock();
    for entry in &entries {
        let line = if json {
            let mut value = entry_json(entry);
            mask.json(&mut value);
            value.to_string()
        } else {
            match entry {
                Ok(e) => format!(
                    "{:>8}  {}  {:<22} {} v{}  {}",
                    e.position,
                    e.recorded_at.format("%Y-%m-%d %H:%M:%S"),
                    e.event_type,
                    e.aggregate_id,
                    e.version,
                    mask.summary(e)
                ),
                Err(bad) => format!("{:>8}  MALFORMED: {}", bad.position, bad.reason),
            }
        };
        if writeln!(out, "{line}").is_err() {
            break; // stdout closed (e.g. piped into head)
        }
    }
    Ok(EXIT_OK)
}

pub(super) async fn state(cli: &Cli, at: Option<u64>, json: bool) -> CliResult<i32> {
    let engine = open_for_reading(cli).await?;
    let head = engine.head().await?;
    let at = at.unwrap_or(head);
    if at > head {
        return Err(CliError::input(format!(
            "--at {at} is past the head of the ledger ({head})"
        )));
    }
    let result = engine.state_at(at).await?;
    let counts = result.state.counts();
    let mut value = state_json(&result.state);
    value["position"] = json!(at);
    value["base"] = json!(result.base);
    value["folded_events"] = json!(result.folded_events);
    value["skipped"] = json!(
        result
            .skipped
            .iter()
            .map(|s| s.position)
            .collect::<Vec<_>>()
    );
    if json {
        print_json(&value);
    } else {
        eprintln!(
            "as of position {at}: {} users, {} bookings {:?}; digest {}",
            counts.users,
            counts.bookings,
            counts.bookings_by_status,
            result.state.digest()
        );
    }
    Ok(EXIT_OK)
}

/// The user under `--user`: a UUID, or an e-mail (the id is derived from it).
pub(super) fn user_key(text: &str) -> CliResult<Uuid> {
    if text.contains('@') {
        Ok(user_id_for_email(text))
    } else {
        parse_uuid(text, "--user")
    }
}

pub(super) async fn history(
    cli: &Cli,
    booking: Option<&str>,
    user: Option<&str>,
    json: bool,
) -> CliResult<i32> {
    let (table, key) = match (booking, user) {
        (Some(booking), _) => (Table::Bookings, parse_uuid(booking, "--booking")?),
        (None, Some(user)) => (Table::Users, user_key(user)?),
        (None, None) => {
            return Err(CliError::input(
                "history needs --booking ID or --user ID|EMAIL",
            ));
        }
    };
    let engine = open_for_reading(cli).await?;
    let history = engine.row_history(table, key).await?;
    if json {
        let versions: Vec<Value> = history
            .versions
            .iter()
            .map(|v| {
                let row: serde_json::Map<String, Value> = history
                    .columns
                    .iter()
                    .zip(&v.cells)
                    .map(|(c, cell)| (c.clone(), json!(cell)))
                    .collect();
                json!({
                    "position": v.position,
                    "event_type": v.event_type,
                    "recorded_at": v.recorded_at,
                    "actor": v.actor,
                    "row": row,
                    "changed": v.changed,
                })
            })
            .collect();
        print_json(&json!({
            "table": table,
            "key": key,
            "versions": versions,
            "skipped": history.skipped,
        }));
    } else if history.versions.is_empty() {
        eprintln!("no event of this ledger made a {} row {key}", table.name());
    } else {
        for v in &history.versions {
            let cells: Vec<String> = history
                .columns
                .iter()
                .zip(&v.cells)
                .filter(|(c, _)| v.changed.contains(c))
                .map(|(c, cell)| format!("{c}={}", output_mask().cell(c, cell)))
                .collect();
            eprintln!(
                "{:>8}  {}  {:<22} {}  {}",
                v.position,
                v.recorded_at.format("%Y-%m-%d %H:%M:%S"),
                v.event_type,
                v.actor.as_deref().unwrap_or("-"),
                cells.join(", ")
            );
        }
    }
    if !history.skipped.is_empty() {
        eprintln!(
            "undecodable events about this row (they change nothing): {:?}",
            history.skipped
        );
    }
    Ok(EXIT_OK)
}

pub(super) async fn series(cli: &Cli, by: crate::domain::SeriesBy, json: bool) -> CliResult<i32> {
    let engine = open_for_reading(cli).await?;
    let series = engine.series(by, &JobControl::default()).await?;
    if json {
        print_json(&serde_json::to_value(&series).unwrap_or(Value::Null));
    } else {
        eprintln!(
            "{:<24} {:>9} {:>8} {:>10} {:>10} {:>14}",
            "bucket", "position", "users", "confirmed", "cancelled", "revenue"
        );
        for p in &series.points {
            eprintln!(
                "{:<24} {:>9} {:>8} {:>10} {:>10} {:>14}",
                p.bucket,
                p.position,
                p.users,
                p.bookings_confirmed,
                p.bookings_cancelled,
                crate::domain::event::format_cents(p.revenue_cents)
            );
        }
    }
    if series.out_of_order_times > 0 {
        eprintln!(
            "{} events were recorded earlier than an event before them: a bucket by time holds the state after its last event in ledger order",
            series.out_of_order_times
        );
    }
    Ok(EXIT_OK)
}

pub(super) fn state_json(state: &crate::domain::ReadState) -> Value {
    let counts = state.counts();
    json!({
        "position": state.position,
        "users": counts.users,
        "bookings": counts.bookings,
        "bookings_by_status": counts.bookings_by_status,
        "digest": state.digest(),
    })
}

pub(super) fn table_diffs_json(diff: &crate::domain::StateDiff, limit: usize) -> Vec<Value> {
    diff.tables
        .iter()
        .map(|t| {
            let (added, removed, changed) = t.counts();
            json!({
                "table": t.table,
                "added": added,
                "removed": removed,
                "changed": changed,
                "columns": t.columns,
                "rows": t.rows.iter().take(limit).collect::<Vec<_>>(),
            })
        })
        .collect()
}

pub(super) async fn what_if(
    cli: &Cli,
    exclusion: &crate::domain::Exclusion,
    at: Option<u64>,
    limit: usize,
    json: bool,
) -> CliResult<i32> {
    let engine = open_for_reading(cli).await?;
    let at = match at {
        Some(at) => at,
        None => engine.head().await?,
    };
    let report = engine
        .what_if(exclusion, at, &JobControl::default())
        .await?;
    if json {
        let mut value = state_json(&report.simulated);
        value["simulation"] = json!(true);
        value["revenue_cents"] = json!(report.simulated_revenue_cents);
        value["real"] = state_json(&report.real_state());
        value["real"]["revenue_cents"] = json!(report.real_revenue_cents);
        value["excluded_count"] = json!(report.excluded.len());
        value["excluded"] = json!(report.excluded.iter().take(1_000).collect::<Vec<_>>());
        value["no_ops"] = json!(report.no_ops);
        value["difference"] = json!(table_diffs_json(&report.difference, limit));
        print_json(&value);
    } else {
        let (real, simulated) = (&report.real_counts, &report.simulated_counts);
        eprintln!("SIMULATION (nothing is written) as of position {at}:");
        eprintln!(
            "  real:      {} users, {} bookings {:?}",
            real.users, real.bookings, real.bookings_by_status
        );
        eprintln!(
            "  simulated: {} users, {} bookings {:?}",
            simulated.users, simulated.bookings, simulated.bookings_by_status
        );
        let cents = crate::domain::event::format_cents;
        eprintln!(
            "  revenue of confirmed bookings: real {}, simulated {} ({})",
            cents(report.real_revenue_cents),
            cents(report.simulated_revenue_cents),
            crate::domain::event::format_signed_cents(
                report.simulated_revenue_cents - report.real_revenue_cents
            )
        );
        eprintln!("  left out: {} events", report.excluded.len());
        for t in &report.difference.tables {
            let (added, removed, changed) = t.counts();
            eprintln!("  {}: +{added} -{removed} ~{changed}", t.table);
        }
        for no_op in &report.no_ops {
            eprintln!(
                "  no-op: {} at {} acts on {} {}, which only left-out events made",
                no_op.event_type, no_op.position, no_op.table, no_op.key
            );
        }
    }
    if report.excluded.is_empty() {
        eprintln!(
            "nothing up to position {at} matches what to leave out: the simulation is the real state"
        );
    }
    Ok(EXIT_OK)
}

pub(super) async fn diff(
    cli: &Cli,
    from: u64,
    to: Option<u64>,
    limit: usize,
    json: bool,
) -> CliResult<i32> {
    let engine = open_for_reading(cli).await?;
    let head = engine.head().await?;
    let to = to.unwrap_or(head);
    if from > head || to > head {
        return Err(CliError::input(format!(
            "positions must be at most the head of the ledger ({head})"
        )));
    }
    let diff = engine.diff_positions(from, to).await?;
    let tables = table_diffs_json(&diff, limit);
    if json {
        print_json(&json!({ "from": from, "to": to, "tables": tables }));
    } else {
        for t in &diff.tables {
            let (added, removed, changed) = t.counts();
            eprintln!("{}: +{added} -{removed} ~{changed}", t.table);
            for row in t.rows.iter().take(limit) {
                match row {
                    crate::domain::RowDiff::Added { key, .. } => eprintln!("  + {key}"),
                    crate::domain::RowDiff::Removed { key, .. } => eprintln!("  - {key}"),
                    crate::domain::RowDiff::Changed {
                        key,
                        columns,
                        last_position,
                        ..
                    } => eprintln!("  ~ {key} {columns:?} (position {last_position})"),
                }
            }
        }
    }
    Ok(EXIT_OK)
}
