//! A crash leaves a report: a panic anywhere (the window's thread or a
//! background task) writes `crash-<UTC time>.txt` beside the log with the
//! version and build, what was running (the window's panel or the CLI's
//! subcommand), the stores' kinds (never an address or a password), the
//! panic's message and place, and the backtrace. The next window offers to
//! show the newest report it has not shown yet.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// The file name prefix of a crash report.
pub const REPORT_PREFIX: &str = "crash-";

/// What was running, kept up to date for a report.
#[derive(Clone, Debug, Default)]
pub struct CrashContext {
    /// `gui` or `cli`.
    pub who: String,
    /// The window's panel, or the CLI's subcommand.
    pub doing: String,
    /// The stores' kinds (`mongodb + postgresql`), without addresses.
    pub stores: String,
}

static CONTEXT: Mutex<Option<CrashContext>> = Mutex::new(None);
static REPORT_DIR: Mutex<Option<PathBuf>> = Mutex::new(None);

fn with_context(change: impl FnOnce(&mut CrashContext)) {
    if let Ok(mut guard) = CONTEXT.lock() {
        change(guard.get_or_insert_with(CrashContext::default));
    }
}

/// Records what is running now (the panel shown, the subcommand).
pub fn set_doing(doing: &str) {
    with_context(|c| {
        if c.doing != doing {
            c.doing = doing.to_owned();
        }
    });
}

/// Records the stores' kinds.
pub fn set_stores(stores: &str) {
    with_context(|c| c.stores = stores.to_owned());
}

/// Where reports are written ([`install`]), if anywhere.
pub fn report_dir() -> Option<PathBuf> {
    REPORT_DIR.lock().ok().and_then(|d| d.clone())
}

/// Writes a report to `dir` on every panic (after the default message),
/// and says where on stderr.
pub fn install(dir: &Path, who: &str) {
    if let Ok(mut guard) = REPORT_DIR.lock() {
        *guard = Some(dir.to_path_buf());
    }
    with_context(|c| c.who = who.to_owned());
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_owned());
        let place = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let backtrace = std::backtrace::Backtrace::force_capture().to_string();
        let context = CONTEXT
            .lock()
            .ok()
            .and_then(|c| c.clone())
            .unwrap_or_default();
        let text = report_text(Utc::now(), &context, &message, &place, &backtrace);
        let dir = REPORT_DIR.lock().ok().and_then(|d| d.clone());
        tracing::error!(%message, %place, "panic");
        match dir.map(|dir| write_report(&dir, Utc::now(), &text)) {
            Some(Ok(path)) => {
                eprintln!(
                    "Ledgerscope stopped on an internal error; a report is in {}",
                    path.display()
                );
            }
            Some(Err(error)) => eprintln!("the crash report could not be written: {error}"),
            None => {}
        }
    }));
}

/// The report's text.
pub fn report_text(
    at: DateTime<Utc>,
    context: &CrashContext,
    message: &str,
    place: &str,
    backtrace: &str,
) -> String {
    format!(
        "Ledgerscope crash report\n\
         when: {}\n\
         version: {}\n\
         build: {} {} ({})\n\
         running: {} {}\n\
         stores: {}\n\
         panic: {}\n\
         at: {}\n\
         \n\
         backtrace:\n{}\n",
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        context.who,
        context.doing,
        if context.stores.is_empty() {
            "not opened yet"
        } else {
            &context.stores
        },
        crate::store::redact(message),
        place,
        backtrace
    )
}

/// Writes `text` as a new report in `dir`; its path.
pub fn write_report(dir: &Path, at: DateTime<Utc>, text: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = format!("{REPORT_PREFIX}{}.txt", at.format("%Y%m%dT%H%M%S%.3fZ"));
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(path)
}

/// The newest report in `dir` (by name: the names sort by time), if any.
pub fn newest_report(dir: &Path) -> std::io::Result<Option<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut newest: Option<PathBuf> = None;
    for entry in entries {
        let path = entry?.path();
        let is_report = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(REPORT_PREFIX) && n.ends_with(".txt"));
        if is_report
            && newest
                .as_ref()
                .is_none_or(|n| path.file_name() > n.file_name())
        {
            newest = Some(path);
        }
    }
    Ok(newest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_names_what_ran_and_keeps_no_password() {
        let context = CrashContext {
            who: "gui".into(),
            doing: "Time travel".into(),
            stores: "mongodb + postgresql".into(),
        };
        let text = report_text(
            Utc::now(),
            &context,
            "cannot reach postgres://me:secret@db/x",
            "src/x.rs:1:2",
            "0: main",
        );
        for part in [
            env!("CARGO_PKG_VERSION"),
            "Time travel",
            "mongodb + postgresql",
            "src/x.rs:1:2",
            "0: main",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        assert!(!text.contains("secret"), "{text}");
    }

    #[test]
    fn the_newest_report_is_found_by_its_name() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(newest_report(&dir.path().join("none")).unwrap(), None);
        let early = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let late = DateTime::parse_from_rfc3339("2026-02-01T00:00:00Z")
            .unwrap()
            .to_utc();
        write_report(dir.path(), late, "late").unwrap();
        write_report(dir.path(), early, "early").unwrap();
        std::fs::write(dir.path().join("ledgerscope.log"), "x").unwrap();
        let newest = newest_report(dir.path()).unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(newest).unwrap(), "late");
    }
}
