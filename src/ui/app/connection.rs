//! Opening the stores, watching the engine's status, and the projectors
//! this window runs (none in observe-only mode).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, EngineConfig, EngineError};
use crate::store::{StoreConfig, StoreError, open_stores};
use crate::ui::app::{Connection, LedgerApp};
use crate::ui::command::{Message, ShellMessage, StatusSnapshot};
use crate::ui::outbox::Outbox;

/// Status polls between two pairing checks (which read both stores).
const PAIRING_EVERY_TICKS: u64 = 20;

impl LedgerApp {
    /// Starts opening the configured stores.
    pub(super) fn start_connect(&mut self) {
        self.shell.connection = Connection::Connecting;
        let (store, config, observe, outbox) = (
            self.store_config.clone(),
            self.engine_config.clone(),
            self.shell.observe_only,
            self.outbox.clone(),
        );
        self.spawn(connect(store, config, observe, outbox));
    }

    /// The stores are open.
    pub(super) fn connected(&mut self, engine: Arc<Engine>, shutdown: CancellationToken) {
        self.disconnect();
        let ledger = engine.ledger_info();
        let read = engine.read_info();
        tracing::info!(ledger = %ledger, read = %read, instance = %engine.config().instance_id, "connected");
        self.shell.connection = Connection::Connected;
        self.shell.ledger = Some(ledger);
        self.shell.read = Some(read);
        self.shell.instance_id = engine.config().instance_id.clone();
        self.shell.snapshot_every = engine.config().snapshot_every;
        self.shell.snapshot_delta_every = engine.config().snapshot_delta_every;
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
pub async fn connect(store: StoreConfig, config: EngineConfig, observe_only: bool, outbox: Outbox) {
    let started = Instant::now();
    let limit = store.connect_timeout + Duration::from_secs(2);
    let where_ = match (&store.mongo_uri, &store.postgres_url) {
        (None, None) => format!("the embedded store in {}", store.data_dir.display()),
        _ => "the configured servers".to_string(),
    };
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

fn comparable(mut s: StatusSnapshot) -> StatusSnapshot {
    for status in &mut s.statuses {
        status.updated_at = None;
    }
    s
}

/// Forwards engine notices and polls head and projector status until `shutdown`.
pub async fn watch_status(engine: Arc<Engine>, outbox: Outbox, shutdown: CancellationToken) {
    use tokio::sync::broadcast::error::RecvError;
    let mut notices = engine.bus().subscribe_notices();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last: Option<StatusSnapshot> = None;
    let mut last_error: Option<String> = None;
    let mut pairing = None;
    let mut ticks = 0u64;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            notice = notices.recv() => match notice {
                Ok(notice) => outbox.send(Message::Shell(ShellMessage::Notice(notice))).await,
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "the window skipped engine notices (it was busy)");
                }
                Err(RecvError::Closed) => break,
            },
            _ = tick.tick() => {
                if ticks.is_multiple_of(PAIRING_EVERY_TICKS) {
                    // A read store that does not answer keeps the last answer.
                    match engine.check_pairing().await {
                        Ok(p) => pairing = Some(p),
                        Err(error) => tracing::debug!(%error, "pairing check failed"),
                    }
                }
                ticks += 1;
                match engine.head().await {
                    Ok(head) => {
                        if last_error.take().is_some() {
                            tracing::info!(head, "ledger reachable again");
                        }
                        let snapshot = comparable(StatusSnapshot {
                            head,
                            statuses: engine.projector_statuses(),
                            outage: engine.simulated_outage(),
                            pairing: pairing.clone(),
                        });
                        if last.as_ref() != Some(&snapshot) {
                            last = Some(snapshot.clone());
                            outbox.send(Message::Shell(ShellMessage::Status(snapshot))).await;
                        }
                    }
                    Err(error) => {
                        let text = format!("ledger unreachable: {error}");
                        if last_error.as_ref() != Some(&text) {
                            last_error = Some(text.clone());
                            outbox.send(Message::Shell(ShellMessage::Error(text))).await;
                        }
                    }
                }
            }
        }
    }
}
