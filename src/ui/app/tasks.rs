//! The shell's long work, started from its dialogs and confirmations:
//! replay, restore, export, import, and picking a file.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::engine::{Engine, JobControl, ReplayOptions};
use crate::ui::command::{Message, ShellMessage};
use crate::ui::jobs::JobKind;
use crate::ui::outbox::Outbox;

/// A dialog answering sooner than this did not open (no one cancels that fast).
const NO_DIALOG_WITHIN: Duration = Duration::from_millis(400);
/// What the export and import dialogs say when no file dialog can open.
pub const NO_FILE_DIALOG: &str = "No file dialog could open here (no desktop portal or zenity answered): type the file's path in the field instead.";

/// No file dialog could open (no desktop portal or zenity answered).
#[derive(Clone, Debug, thiserror::Error)]
#[error("{NO_FILE_DIALOG}")]
pub struct NoFileDialog;

async fn done(outbox: &Outbox, kind: JobKind, result: Result<String, crate::engine::EngineError>) {
    outbox
        .send(Message::Shell(ShellMessage::JobDone(kind, result)))
        .await;
}

/// Rebuilds the read tables (the confirmation named the target database
/// and, for tables of another ledger, both ledgers).
pub async fn replay(engine: Arc<Engine>, from_snapshot: bool, job: JobControl, outbox: Outbox) {
    let options = ReplayOptions {
        from_snapshot,
        rebuild_foreign: true,
    };
    let result = engine.replay_recorded(options, &job).await.map(|(r, _)| {
        format!(
            "Replayed {} events{} into {} rows at position {} in {:.1} s{}",
            r.events,
            r.from_snapshot
                .as_ref()
                .map(|s| format!(" after snapshot at {}", s.position))
                .unwrap_or_default(),
            r.rows,
            r.position,
            r.elapsed_ms as f64 / 1000.0,
            if r.skipped > 0 {
                format!("; {} malformed entries skipped", r.skipped)
            } else {
                String::new()
            }
        )
    });
    done(&outbox, JobKind::Replay, result).await;
}

/// Re-projects the rows that differ (the confirmation named the target
/// database); the repair is kept in the ledger store.
pub async fn repair_rows(engine: Arc<Engine>, job: JobControl, outbox: Outbox) {
    let result = engine.repair_rows(&job).await.map(|entry| {
        let w = &entry.work;
        let after = match &entry.after {
            Some(f) if f.in_sync => "in sync now".to_string(),
            Some(f) => format!(
                "still {} missing, {} extra, {} different",
                f.missing, f.extra, f.different
            ),
            None => "not compared after".to_string(),
        };
        format!(
            "Repaired {} row(s) ({} deleted) from {} events of {} aggregates in {:.1} s; {after}",
            w.rows_written + w.rows_deleted,
            w.rows_deleted,
            w.events,
            w.aggregates,
            w.elapsed_ms as f64 / 1000.0
        )
    });
    done(&outbox, JobKind::Repair, result).await;
}

/// Restores a snapshot into the read tables.
pub async fn restore(engine: Arc<Engine>, id: Uuid, outbox: Outbox) {
    let result = engine
        .restore_snapshot(&id.to_string(), true)
        .await
        .map(|r| {
            format!(
                "Restored snapshot at position {} ({} rows); projectors now apply the {} events after it",
                r.snapshot.position, r.rows, r.events_to_catch_up
            )
        });
    done(&outbox, JobKind::Restore, result).await;
}

/// Writes the ledger to `path` as NDJSON (one envelope per line).
pub async fn export(engine: Arc<Engine>, path: String, job: JobControl, outbox: Outbox) {
    let result = engine
        .export_ndjson(Path::new(&path), &job)
        .await
        .map(|report| {
            format!(
                "Exported {} events to {path}{}",
                report.exported,
                if report.skipped_malformed.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({} malformed entries left out)",
                        report.skipped_malformed.len()
                    )
                }
            )
        });
    done(&outbox, JobKind::Export, result).await;
}

/// Appends the events of an NDJSON file (idempotent on `event_id`; a bad
/// line rejects the whole file).
pub async fn import(engine: Arc<Engine>, path: String, job: JobControl, outbox: Outbox) {
    let result = engine
        .import_ndjson(Path::new(&path), &job)
        .await
        .map(|report| {
            format!(
                "Imported {path}: {} new events, {} already stored; head {}",
                report.imported, report.duplicates, report.head
            )
        });
    done(&outbox, JobKind::Import, result).await;
}

/// Whether a file dialog can open at all: a desktop portal needs the
/// session bus, the fallback needs zenity on the PATH.
fn file_dialog_possible() -> bool {
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        || std::env::var_os("XDG_RUNTIME_DIR")
            .is_some_and(|dir| Path::new(&dir).join("bus").exists());
    let zenity = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join("zenity").is_file()));
    bus || zenity
}

/// The native file dialog (portal or zenity), off the UI thread.
pub async fn pick_file(save: bool, outbox: Outbox) {
    let picked = if file_dialog_possible() {
        let started = Instant::now();
        let dialog = rfd::AsyncFileDialog::new()
            .add_filter("NDJSON", &["ndjson", "jsonl", "json"])
            .set_file_name("ledger.ndjson");
        let file = if save {
            dialog.save_file().await
        } else {
            dialog.pick_file().await
        };
        match file {
            Some(file) => Ok(Some(file.path().display().to_string())),
            // Nothing within a moment: it never opened (rfd logs why).
            None if started.elapsed() < NO_DIALOG_WITHIN => Err(NoFileDialog),
            None => Ok(None),
        }
    } else {
        Err(NoFileDialog)
    };
    outbox
        .send(Message::Shell(ShellMessage::FilePicked(picked)))
        .await;
}

/// Reads the connected ledger's id (bookmarks and links are tied to it).
pub async fn ledger_id(engine: Arc<Engine>, outbox: Outbox) {
    let result = engine
        .ledger_identity()
        .await
        .map(|identity| identity.map(|i| i.id));
    outbox
        .send(Message::Shell(ShellMessage::LedgerId(result)))
        .await;
}
