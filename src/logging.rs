//! The log file support staff read after an incident: `logs/ledgerscope.log`
//! in the data dir (a run that writes, the window's included, makes the
//! data dir first, as it would for its stores); for an inspection
//! (`--observe`, or a read subcommand on a data dir that does not exist
//! yet) or a data dir that cannot be written (a read-only copy), in the
//! user's local data dir instead (`~/.local/share/ledgerscope/logs`); rotated at [`MAX_BYTES`] with
//! [`KEPT_FILES`] older files kept. Every line carries the time, the
//! process id, the level and the fields (positions, durations). The level
//! comes from `--log-level`, else `RUST_LOG`, else `info`. Store addresses
//! are logged redacted; a password never reaches the file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// The log file's name.
pub const FILE_NAME: &str = "ledgerscope.log";
/// A log file is rotated when it reaches this size.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;
/// Rotated files kept (`ledgerscope.log.1` is the newest).
pub const KEPT_FILES: usize = 3;
/// The level when neither `--log-level` nor `RUST_LOG` says one: this
/// program's info, everyone else's warnings.
pub const DEFAULT_FILTER: &str = "warn,ledgerscope=info";

/// Checks a `--log-level` value (`info`, `debug`, `ledgerscope=trace`, ...).
pub fn parse_filter(text: &str) -> Result<String, String> {
    EnvFilter::try_new(text)
        .map(|_| text.to_string())
        .map_err(|e| {
            format!("'{text}' is not a log level or filter ({e}); try info, debug or warn")
        })
}

/// Appends to the log file, rotating it when it grows past [`MAX_BYTES`].
struct RotatingFile {
    path: PathBuf,
    file: File,
    written: u64,
}

impl RotatingFile {
    fn open(path: PathBuf) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let written = file.metadata()?.len();
        Ok(RotatingFile {
            path,
            file,
            written,
        })
    }

    fn rotated(&self, n: usize) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        for n in (1..KEPT_FILES).rev() {
            let from = self.rotated(n);
            if from.exists() {
                std::fs::rename(&from, self.rotated(n + 1))?;
            }
        }
        std::fs::rename(&self.path, self.rotated(1))?;
        *self = RotatingFile::open(self.path.clone())?;
        Ok(())
    }

    fn write_line(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.written + bytes.len() as u64 > MAX_BYTES && self.written > 0 {
            // Another process may have rotated it already: carry on writing.
            if let Err(error) = self.rotate() {
                eprintln!("warning: cannot rotate {}: {error}", self.path.display());
                self.written = 0;
            }
        }
        self.file.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }
}

/// Hands the formatter a buffer per event; the whole line goes to the file
/// at once, so lines of concurrent threads never interleave.
#[derive(Clone)]
struct LogWriter(Arc<Mutex<RotatingFile>>);

/// One event's line, written when dropped.
struct LineWriter {
    file: Arc<Mutex<RotatingFile>>,
    line: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.line.is_empty() {
            return;
        }
        // A panic elsewhere while logging must not lose the log.
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(error) = file.write_line(&self.line) {
            eprintln!(
                "warning: cannot write the log {}: {error}",
                file.path.display()
            );
        }
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            file: self.0.clone(),
            line: Vec::with_capacity(256),
        }
    }
}

/// `2026-12-01T21:40:03.123Z pid 4242`.
struct TimeAndPid;

impl FormatTime for TimeAndPid {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        write!(
            w,
            "{} pid {}",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            std::process::id()
        )
    }
}

/// Where the log goes: `logs/` in `data_dir` when given, else (or when it
/// cannot be written) in the user's local data dir.
fn open_log(data_dir: Option<&Path>) -> Result<RotatingFile, String> {
    let mut tried = Vec::new();
    let fallback = directories::ProjectDirs::from("", "", "ledgerscope")
        .map(|d| d.data_local_dir().join("logs"));
    for dir in data_dir.map(|d| d.join("logs")).into_iter().chain(fallback) {
        let opened =
            std::fs::create_dir_all(&dir).and_then(|()| RotatingFile::open(dir.join(FILE_NAME)));
        match opened {
            Ok(file) => return Ok(file),
            Err(error) => tried.push(format!("{}: {error}", dir.display())),
        }
    }
    Err(tried.join("; "))
}

/// Where a run logs: in `data_dir` when it may write there, made first
/// when `create` (a run that writes its stores there makes it anyway),
/// else only when it exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogPlace {
    /// Not in the data dir (an inspection: `--observe`).
    Elsewhere,
    /// In the data dir if it exists (the read subcommands create nothing).
    DataDirIfItExists,
    /// In the data dir, made if missing (a run that writes to it).
    DataDir,
}

/// Starts logging to the file for `who` (`cli`, `gui`), in `data_dir` as
/// `place` says (else, or when it cannot be written, in the user's local
/// data dir). Returns the file's path, or why there is none (then nothing
/// is logged; the caller says so).
pub fn init(
    data_dir: &Path,
    place: LogPlace,
    level: Option<&str>,
    who: &str,
) -> Result<PathBuf, String> {
    if place == LogPlace::DataDir
        && !data_dir.is_dir()
        && let Err(error) = std::fs::create_dir_all(data_dir)
    {
        // Said where the log goes instead (below), and by the stores.
        eprintln!(
            "warning: cannot make the data dir {}: {error}",
            data_dir.display()
        );
    }
    let here = (place != LogPlace::Elsewhere && data_dir.is_dir()).then_some(data_dir);
    let file = open_log(here).map_err(|e| format!("no log file ({e})"))?;
    let path = file.path.clone();
    let filter = match level {
        Some(level) => EnvFilter::try_new(level).map_err(|e| e.to_string())?,
        None => EnvFilter::try_from_default_env()
            .or_else(|_| EnvFilter::try_new(DEFAULT_FILTER))
            .map_err(|e| e.to_string())?,
    };
    tracing_subscriber::fmt()
        .with_writer(LogWriter(Arc::new(Mutex::new(file))))
        .with_env_filter(filter)
        .with_timer(TimeAndPid)
        .with_ansi(false)
        .with_target(false)
        .try_init()
        .map_err(|e| format!("logging was already started: {e}"))?;
    let args = logged_args(std::env::args().skip(1));
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        who,
        args = %args,
        data_dir = %data_dir.display(),
        "started"
    );
    Ok(path)
}

/// Flags whose value is a person's data (`--user` takes an id or an
/// e-mail).
const PERSONAL_FLAGS: [&str; 4] = ["--email", "--name", "--address", "--user"];

/// The arguments as the log keeps them: passwords in URLs removed, and no
/// personal value (the value of a personal flag, anything with an `@`
/// outside a URL) whatever the mask mode: the log outlives the run.
fn logged_args(args: impl Iterator<Item = String>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut personal_next = false;
    for arg in args {
        let flag = arg.split('=').next().unwrap_or_default();
        let logged = if personal_next {
            "(personal)".to_string()
        } else if PERSONAL_FLAGS.contains(&flag) && arg.contains('=') {
            format!("{flag}=(personal)")
        } else if arg.contains('@') && !arg.contains("://") {
            "(personal)".to_string()
        } else {
            crate::store::redact(&arg)
        };
        personal_next = PERSONAL_FLAGS.contains(&arg.as_str());
        out.push(logged);
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_arguments_keep_no_personal_value_or_password() {
        let args = [
            "--postgres-url",
            "postgres://u:secret@db/x",
            "emit",
            "--email",
            "ana@example.com",
            "--name=Ana Ruiz",
            "--address",
            "Calle A 1",
            "--count",
            "5",
        ];
        let logged = logged_args(args.iter().map(|a| a.to_string()));
        for gone in ["secret", "ana@example.com", "Ana Ruiz", "Calle A 1"] {
            assert!(!logged.contains(gone), "{gone} in {logged}");
        }
        assert!(
            logged.contains("--count 5") && logged.contains("db/x"),
            "{logged}"
        );
    }

    #[test]
    fn the_file_rotates_and_keeps_the_newest_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = RotatingFile::open(dir.path().join(FILE_NAME)).unwrap();
        let line = vec![b'x'; 1024 * 1024];
        for _ in 0..(5 * 5 + 3) {
            file.write_line(&line).unwrap();
        }
        let size = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        assert!(size(dir.path().join(FILE_NAME)) <= MAX_BYTES);
        for n in 1..=KEPT_FILES {
            let rotated = dir.path().join(format!("{FILE_NAME}.{n}"));
            assert!(rotated.exists(), "{n} kept");
            assert!(size(rotated) <= MAX_BYTES);
        }
        assert!(
            !dir.path()
                .join(format!("{FILE_NAME}.{}", KEPT_FILES + 1))
                .exists()
        );
    }

    #[test]
    fn a_bad_level_is_one_sentence() {
        assert!(parse_filter("debug").is_ok());
        assert!(parse_filter("ledgerscope=trace,warn").is_ok());
        let error = parse_filter("loud[").unwrap_err();
        assert!(error.contains("not a log level"), "{error}");
    }
}
