//! Chooses and opens the adapters: embedded SQLite by default, MongoDB for the
//! ledger and/or PostgreSQL for the read models when their URIs are given.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::missing::MissingReadStore;
use super::mongo::MongoLedger;
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
    /// PostgreSQL URL for the read models; `None` = embedded views.
    pub postgres_url: Option<String>,
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
            connect_timeout: Duration::from_secs(5),
            read_only: false,
        }
    }

    /// The platform data dir (`~/.local/share/ledgerscope` on Linux).
    pub fn default_data_dir() -> PathBuf {
        directories::ProjectDirs::from("", "", "ledgerscope")
            .map(|d| d.data_dir().to_path_buf())
            .unwrap_or_else(|| PathBuf::from(".ledgerscope"))
    }
}

/// The five ports a ledger store serves.
type LedgerPorts = (
    Arc<dyn super::EventLedger>,
    Arc<dyn super::CheckpointStore>,
    Arc<dyn super::SnapshotStore>,
    Arc<dyn super::LockFactory>,
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
    let needs_dir = config.mongo_uri.is_none() || config.postgres_url.is_none();
    if needs_dir && read_only {
        existing_data_dir(&config.data_dir)?;
    }
    // 1. Reach the servers, creating nothing.
    let mongo = match &config.mongo_uri {
        Some(uri) => Some(
            MongoLedger::reach(uri, &config.mongo_db, config.connect_timeout, read_only).await?,
        ),
        None => None,
    };
    let postgres = match &config.postgres_url {
        Some(url) => Some(Arc::new(
            PostgresViews::reach(url, config.connect_timeout, read_only).await?,
        )),
        None => None,
    };
    // 2. Create what is missing.
    if needs_dir && !read_only {
        prepare_data_dir(&config.data_dir)?;
    }
    let (ledger, checkpoints, snapshots, locks, models): LedgerPorts = match mongo {
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
    })
}

/// Runs blocking opening work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Config(format!("opening a store failed: {e}")))?
}
