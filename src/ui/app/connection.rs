//! Opening the stores, watching the engine's status, and the projectors
//! this window runs (none in observe-only mode).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, EngineConfig, EngineError, EngineNotice, Pairing, ProjectorState};
use crate::store::{StoreConfig, StoreError, open_stores};
use crate::ui::app::{Connection, LedgerApp};
use crate::ui::command::{Message, ShellMessage, StatusSnapshot};
use crate::ui::outbox::Outbox;

/// Status polls between two pairing checks and pings of the read store
/// (which read the stores).
const PAIRING_EVERY_TICKS: u64 = 20;
/// Status polls between two readings of the projectors this window does
/// not run (observe-only: their positions, errors and leases are read from
/// the stores, as another instance leaves them).
const IDLE_REFRESH_EVERY_TICKS: u64 = 4;
/// A status that differs from the last one sent only in when a lease was
/// renewed is sent at most this often.
const LEASE_TIMING_EVERY: Duration = Duration::from_secs(2);

impl LedgerApp {
    /// Whether the stores are a scenario's training data dir.
    fn in_training_dir(&self) -> bool {
        self.store_config.mongo_uri.is_none()
            && !self.store_config.uses_postgres()
            && self
                .store_config
                .data_dir
                .starts_with(&self.scenarios.training_root)
    }

    /// Starts opening the configured stores.
    pub(super) fn start_connect(&mut self) {
        self.shell.connection = Connection::Connecting;
        let (store, mut config, observe, outbox) = (
            self.store_config.clone(),
            self.engine_config.clone(),
            self.shell.observe_only,
            self.outbox.clone(),
        );
        // A scenario's ledger is small and its snapshots are the
        // scenario's: no history pass and no automatic snapshots, whose
        // snapshot at the head would leave the snapshots scenario's
        // recovery nothing to fold after the snapshot it shows.
        if self.in_training_dir() {
            config.history_pass = false;
            config.snapshot_every = 0;
            config.snapshot_delta_every = 0;
        }
        self.spawn(connect(store, config, observe, outbox));
    }

    /// The stores are open.
    pub(super) fn connected(
        &mut self,
        engine: Arc<Engine>,
        shutdown: CancellationToken,
        mask: (crate::domain::mask::Mask, Option<String>),
    ) {
        self.disconnect();
        let (mask, note) = mask;
        if let Some(note) = note {
            tracing::warn!(%note, "mask key");
            self.shell.report(note);
        }
        self.shell.mask_key = mask;
        let ledger = engine.ledger_info();
        let read = engine.read_info();
        tracing::info!(ledger = %ledger, read = %read, instance = %engine.config().instance_id, "connected");
        self.shell.connection = Connection::Connected;
        // A scenario's training dir is not a connection to come back to.
        if !self.in_training_dir() {
            super::recent::remember(
                &mut self.shell.recent,
                super::recent::RecentConnection::of(&self.store_config),
            );
        }
        self.shell.ledger = Some(ledger);
        self.shell.read = Some(read);
        // Until the ledger's id is read (and with it what was chosen for
        // this ledger), the default.
        self.shell.masked = self
            .shell
            .mask_forced
            .unwrap_or_else(|| self.shell.mask_by_default());
        self.shell.instance_id = engine.config().instance_id.clone();
        self.shell.snapshot_every = engine.config().snapshot_every;
        self.shell.snapshot_delta_every = engine.config().snapshot_delta_every;
        self.panels.compare.report_dir = self.store_config.data_dir.join("reports");
        engine.set_observe_only(self.shell.observe_only);
        self.spawn(super::tasks::ledger_id(engine.clone(), self.outbox.clone()));
        self.spawn(watch_status(
            engine.clone(),
            self.outbox.clone(),
            shutdown.clone(),
        ));
        self.engine = Some(engine);
        self.shutdown = Some(shutdown);
        if !self.shell.observe_only {
            self.start_projectors();
        }
    }

    /// Closes the engine and forgets what was read from its stores.
    pub(super) fn disconnect(&mut self) {
        self.stop_projectors();
        if let Some(token) = self.shutdown.take() {
            token.cancel();
        }
        if self.engine.take().is_some() {
            tracing::info!("disconnected");
        }
        self.ledger_id_read = false;
        self.shell.on_disconnect();
        self.panels.on_disconnect();
    }

    pub(super) fn start_projectors(&mut self) {
        let (Some(engine), Some(shutdown)) = (&self.engine, &self.shutdown) else {
            return;
        };
        if self.projectors.is_some() {
            return;
        }
        let token = shutdown.child_token();
        let _guard = self.runtime.enter();
        engine.spawn_projectors(token.clone());
        engine.spawn_auto_snapshots(token.clone());
        self.projectors = Some(token);
    }

    pub(super) fn stop_projectors(&mut self) {
        if let Some(token) = self.projectors.take() {
            token.cancel();
        }
    }
}

/// Opens the stores (bounded by the connect timeout) and builds the engine.
pub async fn connect(
    store: StoreConfig,
    mut config: EngineConfig,
    observe_only: bool,
    outbox: Outbox,
) {
    let started = Instant::now();
    // Published models are built in the data dir, as the panel's builds are.
    config
        .models_dir
        .get_or_insert_with(|| store.data_dir.clone());
    let limit = store.connect_timeout + Duration::from_secs(2);
    let where_ = match store.mongo_uri.is_none() && !store.uses_postgres() {
        true => format!("the embedded store in {}", store.data_dir.display()),
        false => "the configured servers".to_string(),
    };
    let data_dir = store.data_dir.clone();
    let opening = tokio::spawn(async move { open_stores(&store).await });
    let unavailable = |message: String| {
        EngineError::Store(StoreError::Unavailable {
            store: where_.clone(),
            message,
        })
    };
    let message = match tokio::time::timeout(limit, opening).await {
        Ok(Ok(Ok(stores))) => {
            let engine = Engine::new(stores, config);
            engine.set_observe_only(observe_only);
            tracing::info!(ms = started.elapsed().as_millis() as u64, "stores opened");
            ShellMessage::Connected {
                engine,
                shutdown: CancellationToken::new(),
                mask: crate::store::mask_key::mask_for(&data_dir, !observe_only),
            }
        }
        Ok(Ok(Err(error))) => ShellMessage::ConnectFailed(error.into()),
        Ok(Err(join)) => {
            tracing::error!(error = %join, "opening the stores panicked");
            ShellMessage::ConnectFailed(EngineError::Crashed(format!("opening {where_}")))
        }
        Err(_) => ShellMessage::ConnectFailed(unavailable(format!(
            "opening did not finish within {} s; is the server reachable?",
            limit.as_secs()
        ))),
    };
    outbox.send(Message::Shell(message)).await;
}

/// `s` without what changes on every poll and means nothing new: when
/// each status was updated, and (unless `timing`) when each lease was
/// renewed and lapses (a running projector renews it on every loop).
fn comparable(mut s: StatusSnapshot, timing: bool) -> StatusSnapshot {
    for status in &mut s.statuses {
        status.updated_at = None;
        if let (false, Some(lease)) = (timing, &mut status.lease) {
            lease.renewed_at = None;
            lease.expires_at = chrono::DateTime::UNIX_EPOCH;
        }
    }
    s
}

/// What the status poll last saw and sent.
#[derive(Default)]
struct Poll {
    /// The last snapshot sent.
    last: Option<StatusSnapshot>,
    /// When it was sent.
    sent_at: Option<Instant>,
    /// The ledger's last failure, sent once.
    last_error: Option<String>,
    /// The last pairing check's answer (a read store that does not answer
    /// keeps the last answer).
    pairing: Option<Pairing>,
    ticks: u64,
}

impl Poll {
    /// Reads head, projectors and the read store's health, and sends them
    /// when they changed; `check` (or every few polls) checks the pairing
    /// and pings the read store first.
    async fn run(&mut self, engine: &Engine, outbox: &Outbox, check: bool) {
        if check || self.ticks.is_multiple_of(PAIRING_EVERY_TICKS) {
            match engine.check_pairing().await {
                Ok(p) => self.pairing = Some(p),
                Err(error) => tracing::debug!(%error, "pairing check failed"),
            }
            engine.probe_read_store().await;
        }
        if check || self.ticks.is_multiple_of(IDLE_REFRESH_EVERY_TICKS) {
            for status in engine.projector_statuses() {
                if status.state == ProjectorState::Idle
                    && let Err(error) = engine.refresh_status(status.projector).await
                {
                    tracing::debug!(projector = status.projector.name(), %error, "status not read");
                }
            }
        }
        self.ticks += 1;
        match engine.head().await {
            Ok(head) => {
                if self.last_error.take().is_some() {
                    tracing::info!(head, "ledger reachable again");
                }
                let snapshot = comparable(
                    StatusSnapshot {
                        head,
                        statuses: engine.projector_statuses(),
                        outage: engine.simulated_outage(),
                        pairing: self.pairing.clone(),
                        read_health: engine.read_store_health(),
                    },
                    true,
                );
                // A lease's timing alone is sent now and then, not on every
                // renewal; often enough that a lease shown is never taken
                // for lapsed when it was renewed.
                let timing_every =
                    (engine.config().projector_lease_ttl / 4).min(LEASE_TIMING_EVERY);
                let due = match (&self.last, self.sent_at) {
                    (Some(last), Some(at)) if *last != snapshot => {
                        comparable(last.clone(), false) != comparable(snapshot.clone(), false)
                            || at.elapsed() >= timing_every
                    }
                    (Some(_), _) => false,
                    (None, _) => true,
                };
                if due {
                    self.last = Some(snapshot.clone());
                    self.sent_at = Some(Instant::now());
                    outbox
                        .send(Message::Shell(ShellMessage::Status(snapshot)))
                        .await;
                }
            }
            Err(error) => {
                let text = format!("ledger unreachable: {error}");
                if self.last_error.as_ref() != Some(&text) {
                    self.last_error = Some(text.clone());
                    outbox.send(Message::Shell(ShellMessage::Error(text))).await;
                }
            }
        }
    }
}

/// Forwards engine notices and polls head, projector status and the read
/// store's health until `shutdown`; a projector that changed (paused,
/// resumed, its read tables replaced) is polled at once.
pub async fn watch_status(engine: Arc<Engine>, outbox: Outbox, shutdown: CancellationToken) {
    use tokio::sync::broadcast::error::RecvError;
    let mut notices = engine.bus().subscribe_notices();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut poll = Poll::default();
    loop {
        let check = tokio::select! {
            _ = shutdown.cancelled() => break,
            notice = notices.recv() => match notice {
                Ok(notice) => {
                    let changed = matches!(notice, EngineNotice::ProjectorChanged(_));
                    outbox.send(Message::Shell(ShellMessage::Notice(notice))).await;
                    if !changed {
                        continue;
                    }
                    true
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "the window skipped engine notices (it was busy)");
                    continue;
                }
                Err(RecvError::Closed) => break,
            },
            _ = tick.tick() => false,
        };
        poll.run(&engine, &outbox, check).await;
    }
}
