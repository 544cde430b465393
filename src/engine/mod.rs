//! The engine: command handlers, the event bus, projectors, replay, snapshots,
//! time travel and compare. It talks to storage only through the ports in
//! [`crate::store`], so every adapter mix runs the same code.

pub mod health;
pub mod job;
pub mod models;
pub mod status;
pub(crate) mod sync;

pub mod command;
pub(crate) use command::activity;
pub use command::{bulk, bus, handler, transfer};

pub mod projection;
pub use projection::{cold, holes, outage, pairing, projector, repair, replay};

pub mod snapshots;
pub use snapshots::{snapshot, snapshot_delta, snapshot_history, snapshot_pages, snapshot_rows};

pub mod read;
pub use read::{
    compare, history, queries, report, series, subject, timetravel, view, view_order, view_step,
    whatif,
};

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::domain::command::describe_errors;
pub use crate::domain::model::ModelVersions;
use crate::domain::{DomainError, FieldError, ProjectorId, ReadState};
use crate::store::{StoreError, StoreInfo, Stores};

pub use bus::{EngineNotice, EventBus};
pub use compare::VerifyReport;
pub use handler::{CommandOutcome, CommandRefusal, CommandTrace, StepEnd, TraceStep};
pub use health::{BlockedWrite, ReadStoreHealth, ReadStoreTrouble};
pub use job::{JobControl, Phase, Progress};
pub use pairing::{Foreign, Pairing, SchemaChange};
pub use projector::{ProjectorState, ProjectorStatus};
pub use queries::{Density, parse_time};
pub use replay::{ReplayOptions, ReplayReport};

/// Everything that can go wrong running a command or an operation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A store failed (unreachable, conflict, ...).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A business rule refused the command.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The input does not validate.
    #[error("invalid input: {}", describe_errors(.0))]
    Invalid(Vec<FieldError>),
    /// A file to import or export is unusable; nothing was imported.
    #[error("{0}")]
    File(String),
    /// Typed input the engine cannot use (a position, a time).
    #[error("{0}")]
    Input(String),
    /// Work on another thread stopped without an answer (it panicked).
    #[error("{0} stopped unexpectedly; see the log")]
    Crashed(String),
    /// Observe-only mode refuses writes.
    #[error("observe-only mode: {0} would write, so it is refused")]
    ObserveOnly(String),
    /// Another command holds the aggregate's lease.
    #[error("{name} is being changed by {holder}; try again in a moment")]
    Busy {
        /// The lease name.
        name: String,
        /// Who holds it.
        holder: String,
    },
    /// A snapshot is unreadable or does not match its checksum.
    #[error("snapshot {id} is unusable: {reason}")]
    BadSnapshot {
        /// Snapshot id.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// The user cancelled; nothing was changed.
    #[error("cancelled; nothing was changed")]
    Cancelled,
    /// The read store was built from another ledger (or is past this one's
    /// head), or with other schema versions of the models: nothing is
    /// written into it until a replay rebuilds it.
    #[error("{0}")]
    Foreign(Box<Foreign>),
}

impl EngineError {
    /// True when the failure is the ledger or read store being unreachable.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, EngineError::Store(StoreError::Unavailable { .. }))
    }
}

/// Result of engine calls.
pub type EngineResult<T> = Result<T, EngineError>;

/// Tunables.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// This app instance's id (lease owner, event metadata).
    pub instance_id: String,
    /// Who issues commands (`cli:alice`, `gui:trainer`).
    pub actor: String,
    /// Take a snapshot automatically every this many events (0 = never).
    pub snapshot_every: u64,
    /// Between full snapshots, take a delta snapshot (the row changes since
    /// the full one) every this many events (0 or not below
    /// `snapshot_every` = none): time travel then reads at most this many
    /// events past a snapshot.
    pub snapshot_delta_every: u64,
    /// Rows per snapshot page (one stored chunk): what time travel reads to
    /// show a screen of rows.
    pub snapshot_page_rows: u32,
    /// A ledger at least four full intervals past its newest full or history
    /// snapshot (a cold ledger: none at all) is read once and stored as one
    /// history snapshot at the head ([`cold`]) instead of one snapshot per
    /// interval. Off: the intervals are filled one by one.
    pub history_pass: bool,
    /// Events per projector batch.
    pub projector_batch: usize,
    /// Lease time for a command's aggregate lock.
    pub command_lock_ttl: Duration,
    /// Lease time for a projector; its loop renews it when a third of it has passed.
    pub projector_lease_ttl: Duration,
    /// How long a command waits for a busy aggregate before giving up.
    pub lock_wait: Duration,
    /// How long a projector waits for a missing position below a stored
    /// one before it records it as a hole and moves past it (see
    /// [`holes`]).
    pub hole_timeout: Duration,
    /// A projector's write into the read store that has waited this long
    /// is shown as blocked, and the read store as locked ([`health`]).
    pub write_blocked_after: Duration,
    /// The schema version of each built-in read model this engine writes
    /// and reads snapshots of: [`ModelVersions::BUILT_IN`]. Read tables and
    /// snapshots of other versions are named and never written into or
    /// used. Tests set other versions to open stores made with today's
    /// columns as a build with a changed built-in schema would.
    pub model_versions: ModelVersions,
    /// The data dir the models' files are in (`models/<name>.sqlite3`):
    /// where published models are built (`None`: nothing is published).
    pub models_dir: Option<std::path::PathBuf>,
}

impl EngineConfig {
    /// Defaults with a fresh instance id.
    pub fn new(actor: impl Into<String>) -> Self {
        EngineConfig {
            instance_id: instance_id(),
            actor: actor.into(),
            snapshot_every: 10_000,
            snapshot_delta_every: 1_000,
            snapshot_page_rows: snapshot_pages::PAGE_ROWS,
            history_pass: true,
            projector_batch: 2_000,
            command_lock_ttl: Duration::from_secs(10),
            projector_lease_ttl: Duration::from_secs(10),
            lock_wait: Duration::from_secs(3),
            hole_timeout: holes::DEFAULT_HOLE_TIMEOUT,
            write_blocked_after: Duration::from_secs(2),
            model_versions: ModelVersions::BUILT_IN,
            models_dir: None,
        }
    }
}

/// `host-pid-xxxx`: unique per process, readable in the Operations panel.
pub fn instance_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "local".into());
    let short = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &short[..4])
}

/// The engine, shared as `Arc<Engine>` by the CLI, the GUI and background tasks.
pub struct Engine {
    stores: Stores,
    config: EngineConfig,
    bus: EventBus,
    observe_only: AtomicBool,
    outage: Arc<AtomicBool>,
    paused: BTreeMap<ProjectorId, AtomicBool>,
    statuses: RwLock<BTreeMap<ProjectorId, ProjectorStatus>>,
    /// What the last reads and writes of the read store said of it.
    read_health: Mutex<health::ReadHealth>,
    /// The most recent folded state (time travel and auto snapshots fold on from it).
    fold_cache: Mutex<Option<Arc<ReadState>>>,
    /// Snapshot bases of live views, so views on one snapshot share its index.
    view_bases: Mutex<Vec<(uuid::Uuid, u64, std::sync::Weak<view::ViewBase>)>>,
    /// The ledger's identity, read once (`None`: a read-only ledger of a
    /// build without identities).
    identity: tokio::sync::OnceCell<Option<crate::store::LedgerIdentity>>,
    /// The last answer of [`Engine::check_pairing`] that lets projectors write.
    paired: RwLock<Option<uuid::Uuid>>,
    /// Holes each projector is waiting on: the first missing position and
    /// when it was first seen missing.
    pending_holes: Mutex<BTreeMap<ProjectorId, (u64, std::time::Instant)>>,
    /// Each projector's record in the ledger store: when it was written, and a newer one not written yet.
    ledger_checkpoints:
        Mutex<BTreeMap<ProjectorId, projection::ledger_checkpoint::LedgerCheckpoint>>,
    /// A head up to which every position is known to be stored.
    gap_free_head: std::sync::atomic::AtomicU64,
    /// Wakes projectors sleeping out a backoff.
    projector_wake: tokio::sync::watch::Sender<u64>,
    /// The history pass running in this process, if one is (time travel
    /// reads what it has folded).
    pass: Mutex<Option<Arc<cold::PassShare>>>,
    /// What the snapshot pieces after the newest history changed, kept
    /// between upkeeps ([`snapshots::upkeep`]).
    chain_tail: tokio::sync::Mutex<Option<snapshots::upkeep::Tail>>,
    /// The state-over-time pass so far (a longer ledger extends it).
    series: tokio::sync::Mutex<crate::domain::SeriesFold>,
    /// Commands and projection since the log's last summary.
    activity: Mutex<activity::Activity>,
    /// One build of a model's file at a time, per model.
    model_locks: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The publisher's last error per published model, while it lasts.
    publish_errors: Mutex<BTreeMap<String, String>>,
}

impl Engine {
    /// Builds an engine over opened stores. The read store is wrapped so that a
    /// trainer can simulate its outage.
    pub fn new(stores: Stores, config: EngineConfig) -> Arc<Self> {
        let outage = Arc::new(AtomicBool::new(false));
        let stores = Stores {
            read: Arc::new(outage::SimulatedOutage::new(
                stores.read.clone(),
                outage.clone(),
            )),
            ..stores
        };
        Arc::new(Engine {
            stores,
            config,
            bus: EventBus::new(1024),
            observe_only: AtomicBool::new(false),
            outage,
            paused: ProjectorId::ALL
                .into_iter()
                .map(|p| (p, AtomicBool::new(false)))
                .collect(),
            statuses: RwLock::new(
                ProjectorId::ALL
                    .into_iter()
                    .map(|p| (p, ProjectorStatus::new(p)))
                    .collect(),
            ),
            read_health: Mutex::new(health::ReadHealth::default()),
            fold_cache: Mutex::new(None),
            view_bases: Mutex::new(Vec::new()),
            identity: tokio::sync::OnceCell::new(),
            paired: RwLock::new(None),
            pending_holes: Mutex::new(BTreeMap::new()),
            ledger_checkpoints: Mutex::new(BTreeMap::new()),
            gap_free_head: std::sync::atomic::AtomicU64::new(0),
            projector_wake: tokio::sync::watch::Sender::new(0),
            pass: Mutex::new(None),
            chain_tail: tokio::sync::Mutex::new(None),
            series: tokio::sync::Mutex::new(crate::domain::SeriesFold::default()),
            activity: Mutex::new(activity::Activity::default()),
            model_locks: Mutex::new(BTreeMap::new()),
            publish_errors: Mutex::new(BTreeMap::new()),
        })
    }

    /// The ledger's identity (read once). `None` only for a read-only
    /// ledger made by a build without identities.
    pub async fn ledger_identity(&self) -> EngineResult<Option<crate::store::LedgerIdentity>> {
        Ok(*self
            .identity
            .get_or_try_init(|| async { self.stores.ledger.identity().await })
            .await?)
    }

    /// The ledger's id, for what is written on its behalf (read tables,
    /// snapshots); refused for a ledger without one.
    pub(crate) async fn ledger_id(&self) -> EngineResult<uuid::Uuid> {
        match self.ledger_identity().await? {
            Some(identity) => Ok(identity.id),
            None => Err(EngineError::ObserveOnly(format!(
                "{} has no identity (a read-only ledger of an earlier build), and writing for it",
                self.ledger_info()
            ))),
        }
    }

    /// The stores (read store as wrapped by the outage switch).
    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The event bus (subscribe for live events and notices).
    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// Which ledger is connected.
    pub fn ledger_info(&self) -> StoreInfo {
        self.stores.ledger.info()
    }

    /// Which read store is connected.
    pub fn read_info(&self) -> StoreInfo {
        self.stores.read.info()
    }

    /// Observe-only: every write is refused.
    pub fn set_observe_only(&self, on: bool) {
        self.observe_only.store(on, Ordering::SeqCst);
    }

    /// Whether observe-only is on.
    pub fn observe_only(&self) -> bool {
        self.observe_only.load(Ordering::SeqCst)
    }

    /// Refuses `what` in observe-only mode.
    pub(crate) fn guard_write(&self, what: &str) -> EngineResult<()> {
        if self.observe_only() {
            Err(EngineError::ObserveOnly(what.to_string()))
        } else {
            Ok(())
        }
    }

    /// Training switch: make every read-store write fail (labelled a simulation).
    pub fn set_simulated_outage(&self, on: bool) {
        let was = self.outage.swap(on, Ordering::SeqCst);
        if was != on {
            tracing::warn!(on, "simulated read-store outage switched");
        }
        self.bus.notify(EngineNotice::OutageSimulation(on));
        if !on {
            // The catch-up a trainer switched it off to show, at once.
            self.wake_projectors();
        }
    }

    /// Projectors sleeping out a backoff look at the ledger again now.
    pub fn wake_projectors(&self) {
        self.projector_wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Whether the simulated read-store outage is on.
    pub fn simulated_outage(&self) -> bool {
        self.outage.load(Ordering::SeqCst)
    }

    /// Pauses or resumes one projector.
    pub fn set_paused(&self, projector: ProjectorId, paused: bool) {
        if let Some(flag) = self.paused.get(&projector) {
            flag.store(paused, Ordering::SeqCst);
        }
        tracing::info!(
            projector = projector.name(),
            paused,
            "projector paused or resumed"
        );
        self.bus.notify(EngineNotice::ProjectorChanged(projector));
        if !paused {
            self.wake_projectors();
        }
    }

    /// Whether a projector is paused.
    pub fn is_paused(&self, projector: ProjectorId) -> bool {
        self.paused
            .get(&projector)
            .is_some_and(|f| f.load(Ordering::SeqCst))
    }

    /// Live status of every projector.
    pub fn projector_statuses(&self) -> Vec<ProjectorStatus> {
        sync::read(&self.statuses, "projector statuses")
            .values()
            .cloned()
            .collect()
    }

    pub(crate) fn update_status(
        &self,
        projector: ProjectorId,
        f: impl FnOnce(&mut ProjectorStatus),
    ) {
        if let Some(status) = sync::write(&self.statuses, "projector statuses").get_mut(&projector)
        {
            f(status);
        }
    }

    /// Takes the cached fold out (state_at puts its result back), so that a
    /// state nobody else holds is folded on in place instead of cloned.
    pub(crate) fn take_cached_fold(&self) -> Option<Arc<ReadState>> {
        sync::lock(&self.fold_cache, "fold cache").take()
    }

    pub(crate) fn remember_fold(&self, state: Arc<ReadState>) {
        *sync::lock(&self.fold_cache, "fold cache") = Some(state);
    }
}
