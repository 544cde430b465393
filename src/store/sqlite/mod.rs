//! The embedded default: SQLite files in the data dir, so a training needs
//! nothing installed. `ledger.sqlite3` holds the ledger, checkpoints,
//! snapshots and locks; `views.sqlite3` holds the read tables.

mod ledger;
mod migrations;
mod views;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};

pub use ledger::SqliteLedger;
pub use views::SqliteViews;

use super::{StoreError, StoreResult};

/// File name of the embedded ledger.
pub const LEDGER_FILE: &str = "ledger.sqlite3";
/// File name of the embedded read tables.
pub const VIEWS_FILE: &str = "views.sqlite3";

/// One SQLite connection used from async code: calls run on the blocking pool.
#[derive(Clone)]
pub(crate) struct Conn {
    inner: Arc<Mutex<Connection>>,
    store: String,
    /// Shared with the other writing connections to the same file: held
    /// while `call` runs, so they never contend inside SQLite.
    gate: Option<Arc<Mutex<()>>>,
}

/// The most of a file [`Conn::mapped`] maps: SQLite's own limit on Linux
/// (`SQLITE_MAX_MMAP_SIZE`); chunks stored past it are read as before.
pub(crate) const MAPPED: u64 = 0x7fff_0000;

/// How durable commits on a connection must be.
#[derive(Clone, Copy)]
pub(crate) enum Durability {
    /// `synchronous=FULL`: every commit reaches the disk (the ledger).
    Full,
    /// `synchronous=NORMAL`: leases and views, which can be rebuilt or re-taken.
    Normal,
}

impl Conn {
    pub(crate) fn open(path: &Path, store: &str, durability: Durability) -> StoreResult<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| StoreError::Unavailable {
                store: store.to_string(),
                message: format!("cannot open {}: {e}", path.display()),
            })?;
        let sync = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .and_then(|_| {
                conn.execute_batch(&format!(
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA temp_store=MEMORY;"
                ))
            })
            .map_err(|e| map_err(store, e))?;
        Ok(Conn {
            inner: Arc::new(Mutex::new(conn)),
            store: store.to_string(),
            gate: None,
        })
    }

    /// Opens an existing file for reading only: nothing is created or
    /// written. A WAL database on a read-only file system (a copy, a
    /// mounted backup) is read as it is on disk when SQLite cannot make its
    /// shared-memory file there and no write-ahead log is waiting.
    pub(crate) fn open_read_only(path: &Path, store: &str) -> StoreResult<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let uri = |immutable: bool| {
            let mut uri = format!("file:{}?mode=ro", uri_path(path));
            if immutable {
                uri.push_str("&immutable=1");
            }
            uri
        };
        let try_open = |immutable: bool| -> rusqlite::Result<Connection> {
            let conn = Connection::open_with_flags(uri(immutable), flags)?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            // The first read is where a missing -shm file shows.
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
            Ok(conn)
        };
        let wal = PathBuf::from(format!("{}-wal", path.display()));
        let not_a_database =
            |e: &rusqlite::Error| e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase);
        let conn = match try_open(false) {
            Ok(conn) => conn,
            Err(e) if not_a_database(&e) => return Err(map_err(store, e)),
            Err(_) if !wal.exists() => try_open(true).map_err(|e| match not_a_database(&e) {
                true => map_err(store, e),
                false => StoreError::Unavailable {
                    store: store.to_string(),
                    message: format!("cannot read {}: {e}", path.display()),
                },
            })?,
            Err(e) => {
                return Err(StoreError::Unavailable {
                    store: store.to_string(),
                    message: format!(
                        "cannot read {} (its write-ahead log {} cannot be opened here: {e})",
                        path.display(),
                        wal.display()
                    ),
                });
            }
        };
        Ok(Conn {
            inner: Arc::new(Mutex::new(conn)),
            store: store.to_string(),
            gate: None,
        })
    }

    /// Reads the file's first `MAPPED` through a memory map: a read
    /// of a large blob (a history's 34 MB index at 1M events) is then a
    /// copy from the page cache instead of a system call per 4 KB page
    /// (3.6 ms instead of 6.3 ms for half of that index, measured with a
    /// fresh engine per query). Pages in the write-ahead log are still
    /// read from it. A failure costs only speed: logged, not returned.
    pub(crate) fn mapped(self) -> Self {
        let ran = self
            .inner
            .lock()
            .map_err(|_| "the connection's lock is poisoned".to_string())
            .and_then(|c| {
                c.execute_batch(&format!("PRAGMA mmap_size={MAPPED}"))
                    .map_err(|e| e.to_string())
            });
        if let Err(error) = ran {
            tracing::warn!(%error, store = %self.store, "snapshot chunks are read without a memory map");
        }
        self
    }

    /// Makes `call` take `gate` too (after the connection), so connections
    /// that share it take turns instead of meeting SQLite's busy handler.
    pub(crate) fn gated(mut self, gate: Arc<Mutex<()>>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Runs `f` with the connection on the blocking pool.
    pub(crate) async fn call<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        let gate = self.gate.clone();
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let poisoned = || StoreError::Failed {
                store: store.clone(),
                message: "an earlier operation panicked while holding the connection".into(),
            };
            let mut conn = inner.lock().map_err(|_| poisoned())?;
            let _turn = match &gate {
                Some(gate) => Some(gate.lock().map_err(|_| poisoned())?),
                None => None,
            };
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Failed {
            store: self.store.clone(),
            message: format!("background task failed: {e}"),
        })?
    }

    /// Cheap reachability check.
    pub(crate) async fn ping(&self) -> StoreResult<()> {
        let store = self.store.clone();
        self.call(move |c| {
            c.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(|e| map_err(&store, e))
        })
        .await
    }

    pub(crate) fn store(&self) -> &str {
        &self.store
    }
}

/// Maps a SQLite error to a store error that names the file.
pub(crate) fn map_err(store: &str, error: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Unavailable {
            store: store.to_string(),
            message: "the database is locked by another process; try again when it is done".into(),
        },
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
            StoreError::Unavailable {
                store: store.to_string(),
                message: format!("cannot write: {error}"),
            }
        }
        Some(ErrorCode::NotADatabase) => StoreError::Unavailable {
            store: store.to_string(),
            message: "the file is not a SQLite database".into(),
        },
        _ => StoreError::Failed {
            store: store.to_string(),
            message: error.to_string(),
        },
    }
}

/// A path as the path part of an SQLite `file:` URI (`?` and `#` escaped).
fn uri_path(path: &Path) -> String {
    path.display()
        .to_string()
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23")
}

/// Makes sure the data dir exists (for a read-only inspection: nothing is
/// created); one clear sentence if not.
pub fn existing_data_dir(dir: &Path) -> StoreResult<PathBuf> {
    if !dir.exists() {
        return Err(StoreError::NotFound(format!(
            "the data dir {} does not exist (nothing to inspect; it is made by the first command that writes)",
            dir.display()
        )));
    }
    if !dir.is_dir() {
        return Err(StoreError::Config(format!(
            "the data dir {} is not a directory",
            dir.display()
        )));
    }
    Ok(dir.to_path_buf())
}

/// Makes sure the data dir exists and is writable; one clear sentence if not.
pub fn prepare_data_dir(dir: &Path) -> StoreResult<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| {
        StoreError::Config(format!("cannot create the data dir {}: {e}", dir.display()))
    })?;
    if !dir.is_dir() {
        return Err(StoreError::Config(format!(
            "the data dir {} is not a directory",
            dir.display()
        )));
    }
    let probe = dir.join(".ledgerscope-write-test");
    std::fs::write(&probe, b"ok").map_err(|e| {
        StoreError::Config(format!(
            "the data dir {} is not writable: {e}",
            dir.display()
        ))
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(dir.to_path_buf())
}

/// What the top bar shows for a SQLite file.
pub(crate) fn file_info(path: &Path) -> super::StoreInfo {
    super::StoreInfo {
        kind: "sqlite".into(),
        location: path.display().to_string(),
        remote: false,
    }
}

/// A store label for a SQLite file.
pub(crate) fn label(path: &Path) -> String {
    format!("sqlite at {}", path.display())
}
