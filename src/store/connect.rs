//! Chooses and opens the adapters: embedded SQLite by default, MongoDB for the
//! ledger and/or PostgreSQL for the read models when their URIs are given.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::credentials::{PgTarget, Secret, read_password_file};
use super::missing::MissingReadStore;
use super::mongo::{MongoAuth, MongoLedger};
use super::postgres::PostgresViews;
use super::sqlite::{
    LEDGER_FILE, SqliteLedger, SqliteViews, VIEWS_FILE, existing_data_dir, prepare_data_dir,
};
use super::{StoreError, StoreResult, Stores};

/// Where the stores are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreConfig {
    /// Directory for the embedded SQLite files.
    pub data_dir: PathBuf,
    /// MongoDB URI for the ledger; `None` = embedded ledger.
    pub mongo_uri: Option<String>,
    /// MongoDB database name.
    pub mongo_db: String,
    /// PostgreSQL URL (or `key=value` string) for the read models; `None`
    /// and no service = embedded views. Completed from libpq's environment,
    /// service file and password file.
    pub postgres_url: Option<String>,
    /// A PostgreSQL service (`pg_service.conf`) naming the read store.
    #[serde(default)]
    pub postgres_service: Option<String>,
    /// The PostgreSQL password typed in the window (never kept).
    #[serde(skip)]
    pub postgres_password: Option<Secret>,
    /// The MongoDB user when the URI names none.
    #[serde(default)]
    pub mongo_user: Option<String>,
    /// The MongoDB password (from `LEDGERSCOPE_MONGO_PASSWORD` or typed in
    /// the window; never kept) when the URI has none.
    #[serde(skip)]
    pub mongo_password: Option<Secret>,
    /// A file holding the MongoDB password (its first line).
    #[serde(default)]
    pub mongo_password_file: Option<PathBuf>,
    /// How long to wait for a server before giving up.
    pub connect_timeout: Duration,
    /// Open every store read-only (an inspection, `--observe`, or a read
    /// subcommand): nothing is created or written, not even a data dir, a
    /// database file, an index or a table; a missing read store is reported
    /// as missing.
    #[serde(default)]
    pub read_only: bool,
}

impl StoreConfig {
    /// The embedded default in `data_dir`.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Self {
        StoreConfig {
            data_dir: data_dir.into(),
            mongo_uri: None,
            mongo_db: "ledgerscope".into(),
            postgres_url: None,
            postgres_service: None,
            postgres_password: None,
            mongo_user: None,
            mongo_password: None,
            mongo_password_file: None,
            connect_timeout: Duration::from_secs(5),
            read_only: false,
        }
    }

    /// Whether the read models are on PostgreSQL.
    pub fn uses_postgres(&self) -> bool {
        self.postgres_url.is_some() || self.postgres_service.is_some()
    }

    /// What names the PostgreSQL read store.
    pub fn pg_target(&self) -> PgTarget {
        PgTarget {
            url: self.postgres_url.clone(),
            service: self.postgres_service.clone(),
            password: self.postgres_password.clone(),
        }
    }

    /// The MongoDB user and password given apart from the URI (the file is
    /// read now).
    pub fn mongo_auth(&self) -> StoreResult<MongoAuth> {
        let password = match &self.mongo_password_file {
            Some(file) => {
                Some(read_password_file(file).map_err(|e| StoreError::Config(error_chain(&e)))?)
            }
            None => self.mongo_password.clone(),
        };
        Ok(MongoAuth {
            user: self.mongo_user.clone(),
            password,
        })
    }

    /// The platform data dir (`~/.local/share/ledgerscope` on Linux).
    pub fn default_data_dir() -> PathBuf {
        directories::ProjectDirs::from("", "", "ledgerscope")
            .map(|d| d.data_dir().to_path_buf())
            .unwrap_or_else(|| PathBuf::from(".ledgerscope"))
    }
}

/// The ports a ledger store serves.
type LedgerPorts = (
    Arc<dyn super::EventLedger>,
    Arc<dyn super::CheckpointStore>,
    Arc<dyn super::SnapshotStore>,
    Arc<dyn super::LockFactory>,
    Arc<dyn super::RepairLog>,
    Arc<dyn super::ModelStore>,
);

/// Opens every store the configuration names. Errors are one sentence that
/// names the store and never includes a password. Every server is reached
/// (and signs the user in) before anything is created anywhere: a command
/// refused for one store's password or database leaves no ledger, index,
/// table or data dir behind in the others. Then, unless read-only, the
/// stores are prepared (data dir and files, indexes, tables) and a ledger
/// without an identity is given one.
pub async fn open_stores(config: &StoreConfig) -> StoreResult<Stores> {
    let read_only = config.read_only;
    let needs_dir = config.mongo_uri.is_none() || !config.uses_postgres();
    if needs_dir && read_only {
        existing_data_dir(&config.data_dir)?;
    }
    // 1. Reach the servers, creating nothing.
    let mongo = match &config.mongo_uri {
        Some(uri) => Some(
            MongoLedger::reach(
                uri,
                &config.mongo_auth()?,
                &config.mongo_db,
                config.connect_timeout,
                read_only,
            )
            .await?,
        ),
        None => None,
    };
    let postgres = match config.uses_postgres() {
        true => Some(Arc::new(
            PostgresViews::reach(&config.pg_target(), config.connect_timeout, read_only).await?,
        )),
        false => None,
    };
    // 2. Create what is missing.
    if needs_dir && !read_only {
        prepare_data_dir(&config.data_dir)?;
    }
    let (ledger, checkpoints, snapshots, locks, repairs, models): LedgerPorts = match mongo {
        None => {
            let path = config.data_dir.join(LEDGER_FILE);
            if read_only && !path.exists() {
                return Err(StoreError::NotFound(format!(
                    "there is no ledger at {}: nothing was ever recorded in this data dir",
                    path.display()
                )));
            }
            let ledger = Arc::new(blocking(move || SqliteLedger::open(&path, read_only)).await?);
            (
                ledger.clone(),
                ledger.clone(),
                ledger.clone(),
                ledger.clone(),
                ledger.clone(),
                ledger,
            )
        }
        Some(ledger) => {
            ledger.prepare(config.connect_timeout).await?;
            (
                ledger.clone(),
                ledger.clone(),
                ledger.clone(),
                ledger.clone(),
                ledger.clone(),
                ledger,
            )
        }
    };
    if !read_only {
        ledger.ensure_identity().await?;
    }
    let read: Arc<dyn super::ReadStore> = match postgres {
        None => {
            let path = config.data_dir.join(VIEWS_FILE);
            if read_only && !path.exists() {
                Arc::new(MissingReadStore::new(&path))
            } else {
                Arc::new(blocking(move || SqliteViews::open(&path, read_only)).await?)
            }
        }
        Some(views) => {
            views.prepare().await?;
            views
        }
    };
    Ok(Stores {
        ledger,
        checkpoints,
        snapshots,
        locks,
        models,
        read,
        repairs,
    })
}

/// An error and its causes, in one sentence.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}

/// Runs blocking opening work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Config(format!("opening a store failed: {e}")))?
}
