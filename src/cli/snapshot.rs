//! The CLI's `snapshot take | list | restore`.

use super::*;

pub(super) async fn snapshot(cli: &Cli, action: &SnapshotAction, json: bool) -> CliResult<i32> {
    let engine = match action {
        SnapshotAction::List { .. } => open_for_reading(cli).await?,
        _ => open_engine(cli).await?,
    };
    let value = match action {
        SnapshotAction::Take { at, .. } => {
            let head = engine.head().await?;
            if let Some(at) = at
                && *at > head
            {
                return Err(CliError::input(format!(
                    "--at {at} is past the head of the ledger ({head})"
                )));
            }
            let meta = engine.take_snapshot(*at, &JobControl::default()).await?;
            eprintln!(
                "snapshot {} at position {}: {} bytes in {} chunk(s)",
                meta.id, meta.position, meta.size_bytes, meta.chunks
            );
            serde_json::to_value(&meta).unwrap_or(Value::Null)
        }
        SnapshotAction::List { .. } => {
            let list = engine.list_snapshots().await?;
            let ledger = engine.ledger_identity().await?.map(|i| i.id);
            if !json {
                for s in &list {
                    let kind = match s.base {
                        _ if s.is_history() => "history (every position up to it)".to_string(),
                        None => "full".to_string(),
                        Some(base) if base.is_nil() => "delta of the empty ledger".to_string(),
                        Some(base) => format!("delta of {}", &base.to_string()[..8]),
                    };
                    let usable = if ledger.is_some() && s.ledger_id == ledger {
                        ""
                    } else {
                        "  NOT USED: of another ledger"
                    };
                    eprintln!(
                        "{}  position {:>8}  {kind}  {}  {} bytes  {} users  {} bookings{usable}",
                        s.id,
                        s.position,
                        s.taken_at.format("%Y-%m-%d %H:%M:%S"),
                        s.size_bytes,
                        s.users,
                        s.bookings
                    );
                }
            }
            let list: Vec<Value> = list
                .iter()
                .map(|s| {
                    let mut value = serde_json::to_value(s).unwrap_or(Value::Null);
                    value["usable"] = json!(ledger.is_some() && s.ledger_id == ledger);
                    value
                })
                .collect();
            json!({ "snapshots": list, "ledger_id": ledger })
        }
        SnapshotAction::Restore {
            id,
            rebuild_foreign,
            ..
        } => {
            let report = engine.restore_snapshot(id, *rebuild_foreign).await?;
            eprintln!(
                "read tables restored to snapshot {} (position {}); {} event(s) after it will be projected",
                report.snapshot.id, report.snapshot.position, report.events_to_catch_up
            );
            serde_json::to_value(&report).unwrap_or(Value::Null)
        }
    };
    if json {
        print_json(&value);
    }
    Ok(EXIT_OK)
}
