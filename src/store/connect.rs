//! Chooses and opens the adapters: embedded SQLite by default, MongoDB for the
//! ledger and/or PostgreSQL for the read models when their URIs are given.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::mongo::MongoLedger;
use super::postgres::PostgresViews;
use super::sqlite::{LEDGER_FILE, SqliteLedger, SqliteViews, VIEWS_FILE, prepare_data_dir};
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
        }
    }

    /// The platform data dir (`~/.local/share/ledgerscope` on Linux).
    pub fn default_data_dir() -> PathBuf {
        directories::ProjectDirs::from("", "", "ledgerscope")
            .map(|d| d.data_dir().to_path_buf())
            .unwrap_or_else(|| PathBuf::from(".ledgerscope"))
    }
}

/// The four ports a ledger store serves.
type LedgerPorts = (
    Arc<dyn super::EventLedger>,
    Arc<dyn super::CheckpointStore>,
    Arc<dyn super::SnapshotStore>,
    Arc<dyn super::LockFactory>,
);

/// Opens every store the configuration names. Errors are one sentence that
/// names the store and never includes a password.
pub async fn open_stores(config: &StoreConfig) -> StoreResult<Stores> {
    let needs_dir = config.mongo_uri.is_none() || config.postgres_url.is_none();
    if needs_dir {
        prepare_data_dir(&config.data_dir)?;
    }
    let (ledger, checkpoints, snapshots, locks): LedgerPorts = match &config.mongo_uri {
        None => {
            let path = config.data_dir.join(LEDGER_FILE);
            let ledger = Arc::new(blocking(move || SqliteLedger::open(&path)).await?);
            (ledger.clone(), ledger.clone(), ledger.clone(), ledger)
        }
        Some(uri) => {
            let ledger =
                Arc::new(MongoLedger::open(uri, &config.mongo_db, config.connect_timeout).await?);
            (ledger.clone(), ledger.clone(), ledger.clone(), ledger)
        }
    };
    let read: Arc<dyn super::ReadStore> = match &config.postgres_url {
        None => {
            let path = config.data_dir.join(VIEWS_FILE);
            Arc::new(blocking(move || SqliteViews::open(&path)).await?)
        }
        Some(url) => Arc::new(PostgresViews::open(url, config.connect_timeout).await?),
    };
    Ok(Stores {
        ledger,
        checkpoints,
        snapshots,
        locks,
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
