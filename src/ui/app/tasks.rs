//! The shell's long work, started from its dialogs and confirmations:
//! replay, restore, export, import, and picking a file.

use crate::ui::i18n::{OneDecimal, Said, said};
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

async fn done(outbox: &Outbox, kind: JobKind, result: Result<Said, crate::engine::EngineError>) {
    outbox
        .send(Message::Shell(ShellMessage::JobDone(kind, result)))
        .await;
}

/// Milliseconds as seconds to a tenth (a Fluent number, written in the
/// window's language).
fn tenths(millis: u64) -> OneDecimal {
    OneDecimal(millis as f64 / 1000.0)
}

/// Rebuilds the read tables (the confirmation named the target database
/// and, for tables of another ledger, both ledgers).
pub async fn replay(engine: Arc<Engine>, from_snapshot: bool, job: JobControl, outbox: Outbox) {
    let options = ReplayOptions {
        from_snapshot,
        rebuild_foreign: true,
    };
    let result = engine.replay_recorded(options, &job).await.map(|(r, _)| {
        said!(
            "job-replayed",
            events = r.events,
            snapshot = r.from_snapshot.as_ref().map_or(-1, |s| s.position as i64),
            rows = r.rows,
            position = r.position,
            secs = tenths(r.elapsed_ms),
            skipped = r.skipped
        )
    });
    done(&outbox, JobKind::Replay, result).await;
}

/// Re-projects the rows that differ (the confirmation named the target
/// database); the repair is kept in the ledger store.
pub async fn repair_rows(engine: Arc<Engine>, job: JobControl, outbox: Outbox) {
    let result = engine.repair_rows(&job).await.map(|entry| {
        let w = &entry.work;
        let (state, missing, extra, different) = match &entry.after {
            Some(f) if f.in_sync => ("in-sync", 0, 0, 0),
            Some(f) => ("drift", f.missing, f.extra, f.different),
            None => ("not-compared", 0, 0, 0),
        };
        said!(
            "job-repaired",
            rows = w.rows_written + w.rows_deleted,
            deleted = w.rows_deleted,
            events = w.events,
            aggregates = w.aggregates,
            secs = tenths(w.elapsed_ms),
            after = state,
            missing = missing,
            extra = extra,
            different = different
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
            said!(
                "job-restored",
                position = r.snapshot.position,
                rows = r.rows,
                events = r.events_to_catch_up
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
            said!(
                "job-exported",
                events = report.exported,
                path = path,
                skipped = report.skipped_malformed.len()
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
            said!(
                "job-imported",
                path = path,
                events = report.imported,
                duplicates = report.duplicates,
                head = report.head
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
