//! Deterministic ledgers for the benchmarks, and the store pairs they live in.
//!
//! Events are built with the real domain (`booking_form` -> validate ->
//! `decide_submit`) and wrapped with [`StoredEvent::wrap`], without the handler,
//! then stored with [`EventLedger::append_batch`] so a million events take
//! seconds, not hours. The mix is ~86% bookings, 6% cancellations, 5%
//! reschedules and 3% address changes, with a customer base of a third of the
//! bookings (users repeat). Same seed, same ledger.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Days, NaiveDate, Utc};
use uuid::Uuid;

use ledgerscope::domain::aggregate::decide_submit;
use ledgerscope::domain::generate::{DemoRng, address, booking_form};
use ledgerscope::domain::{DomainEvent, EventMetadata, ReadState, StoredEvent, user_id_for_email};
use ledgerscope::engine::{Engine, EngineConfig};
use ledgerscope::store::{AppendOutcome, EventLedger, StoreConfig, Stores, open_stores};

/// Events per `append_batch` call while building a ledger.
pub const BUILD_BATCH: usize = 10_000;

/// Makes the benchmark's events, in order, deterministically.
pub struct EventGen {
    rng: DemoRng,
    index: u64,
    customers: u64,
    bookings: Vec<Uuid>,
    booking_versions: HashMap<Uuid, u64>,
    users: Vec<Uuid>,
    user_state: HashMap<Uuid, (u64, String)>,
    start: DateTime<Utc>,
}

impl EventGen {
    /// A generator for a ledger of about `total` events.
    pub fn new(seed: u64, total: u64) -> Self {
        EventGen {
            rng: DemoRng::new(seed),
            index: 0,
            customers: (total / 3).max(10),
            bookings: Vec::new(),
            booking_versions: HashMap::new(),
            users: Vec::new(),
            user_state: HashMap::new(),
            start: DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default(),
        }
    }

    fn metadata(id: Uuid) -> EventMetadata {
        EventMetadata {
            command_id: Some(id),
            correlation_id: Some(id),
            causation_id: None,
            actor: Some("bench".into()),
            app_instance: Some("ledgerscope-bench".into()),
        }
    }

    /// The next event (position 0: the ledger assigns it).
    pub fn next_event(&mut self) -> StoredEvent {
        let at = self.start + chrono::Duration::milliseconds(self.index as i64 * 1_000);
        self.index += 1;
        let id = self.rng.uuid_v4();
        let roll = self.rng.below(100);
        if (11..14).contains(&roll) && !self.users.is_empty() {
            // A user moves ("Calle A" -> "Calle B"); the user's stream grows.
            let user_id = *self.rng.pick(&self.users);
            let new_address = address(&mut self.rng);
            let (version, old_address) = self
                .user_state
                .get(&user_id)
                .cloned()
                .unwrap_or((0, String::new()));
            self.user_state
                .insert(user_id, (version + 1, new_address.clone()));
            let event = DomainEvent::UserAddressChanged {
                user_id,
                old_address,
                new_address,
            };
            return StoredEvent::wrap(&event, id, version + 1, at, Self::metadata(id));
        }
        if roll < 11 && !self.bookings.is_empty() {
            let booking_id = *self.rng.pick(&self.bookings);
            let version = self.booking_versions.get(&booking_id).copied().unwrap_or(1) + 1;
            self.booking_versions.insert(booking_id, version);
            let event = if roll < 6 {
                DomainEvent::BookingCancelled {
                    booking_id,
                    reason: "changed plans".into(),
                }
            } else {
                let base = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default();
                let check_in = base
                    .checked_add_days(Days::new(self.rng.below(400)))
                    .unwrap_or(base);
                let check_out = check_in
                    .checked_add_days(Days::new(1 + self.rng.below(10)))
                    .unwrap_or(check_in);
                DomainEvent::BookingRescheduled {
                    booking_id,
                    check_in,
                    check_out,
                }
            };
            return StoredEvent::wrap(&event, id, version, at, Self::metadata(id));
        }
        loop {
            let form = booking_form(&mut self.rng, self.customers);
            let booking_id = self.rng.uuid_v4();
            let Ok(cmd) = form.validate(booking_id) else {
                continue;
            };
            let user = user_id_for_email(&cmd.user.email);
            if let std::collections::hash_map::Entry::Vacant(slot) = self.user_state.entry(user) {
                slot.insert((0, cmd.user.address.clone()));
                self.users.push(user);
            }
            self.bookings.push(booking_id);
            self.booking_versions.insert(booking_id, 1);
            let event = decide_submit(&cmd);
            return StoredEvent::wrap(&event, booking_id, 1, at, Self::metadata(booking_id));
        }
    }

    /// The next `count` events.
    pub fn next_batch(&mut self, count: usize) -> Vec<StoredEvent> {
        (0..count).map(|_| self.next_event()).collect()
    }
}

/// Appends `n` generated events in batches of [`BUILD_BATCH`].
pub async fn build_ledger(ledger: &dyn EventLedger, n: u64, seed: u64) -> anyhow::Result<()> {
    append_generated(ledger, &mut EventGen::new(seed, n), n).await
}

/// Appends the next `n` events of `generator` in batches of [`BUILD_BATCH`].
pub async fn append_generated(
    ledger: &dyn EventLedger,
    generator: &mut EventGen,
    n: u64,
) -> anyhow::Result<()> {
    let mut done = 0u64;
    let started = std::time::Instant::now();
    while done < n {
        let take = ((n - done) as usize).min(BUILD_BATCH);
        let events = generator.next_batch(take);
        let outcomes = ledger.append_batch(events).await?;
        let appended = outcomes
            .iter()
            .filter(|o| matches!(o, AppendOutcome::Appended(_)))
            .count();
        if appended != take {
            bail!("building the ledger: {appended} of {take} events were new");
        }
        done += take as u64;
        if done.is_multiple_of(100_000) || (done == n && n >= BUILD_BATCH as u64) {
            super::progress(format!(
                "ledger: {done}/{n} events ({:.0}/s)",
                done as f64 / started.elapsed().as_secs_f64().max(1e-6)
            ));
        }
    }
    Ok(())
}

/// Which servers a measurement runs against.
#[derive(Clone, Debug)]
pub struct StorePair {
    /// `embedded` or `mongodb+postgresql`.
    pub label: String,
    /// MongoDB URI (None = embedded SQLite ledger).
    pub mongo_uri: Option<String>,
    /// PostgreSQL URL (None = embedded SQLite views).
    pub postgres_url: Option<String>,
}

impl StorePair {
    /// SQLite ledger + SQLite views.
    pub fn embedded() -> Self {
        StorePair {
            label: "embedded".into(),
            mongo_uri: None,
            postgres_url: None,
        }
    }

    /// Whether the pair lives in SQLite files only.
    pub fn is_embedded(&self) -> bool {
        self.mongo_uri.is_none() && self.postgres_url.is_none()
    }

    /// Whether its ledger is the embedded one (measured at full size; a
    /// ledger on FerretDB only at `--remote-n`).
    pub fn embedded_ledger(&self) -> bool {
        self.mongo_uri.is_none()
    }

    /// The pair's part of data directory names.
    pub fn short(&self) -> &'static str {
        match (self.mongo_uri.is_some(), self.postgres_url.is_some()) {
            (false, false) => "embedded",
            (false, true) => "embedded-pg",
            (true, _) => "remote",
        }
    }

    /// Opens the pair with its SQLite files (if any) under `dir` and, for
    /// MongoDB, a database named after `tag` (fresh per run). PostgreSQL
    /// tables are emptied so runs start clean.
    pub async fn open(&self, dir: &Path, tag: &str) -> anyhow::Result<Stores> {
        let config = StoreConfig {
            mongo_uri: self.mongo_uri.clone(),
            mongo_db: mongo_db_name(tag),
            postgres_url: self.postgres_url.clone(),
            connect_timeout: Duration::from_secs(10),
            ..StoreConfig::embedded(dir)
        };
        let stores = open_stores(&config)
            .await
            .with_context(|| format!("opening the {} stores in {}", self.label, dir.display()))?;
        if self.postgres_url.is_some() {
            let ledger = stores.ledger.ensure_identity().await?.id;
            stores
                .read
                .replace_all(
                    ledger,
                    ledgerscope::domain::model::ModelVersions::BUILT_IN,
                    Arc::new(ReadState::default()),
                    ledgerscope::store::BulkControl::none(),
                )
                .await
                .context("emptying the PostgreSQL tables")?;
        }
        Ok(stores)
    }
}

/// A MongoDB database name unique to this process, this call and `tag`
/// (every open gets an empty database).
pub fn mongo_db_name(tag: &str) -> String {
    static OPENED: AtomicU64 = AtomicU64::new(0);
    let clean: String = tag
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(24)
        .collect();
    let seq = OPENED.fetch_add(1, Ordering::Relaxed);
    format!("lsbench_{}_{seq}_{clean}", std::process::id())
}

/// An engine with the benchmark's settings: auto snapshots every
/// `snapshot_every` events (0 = never), and deltas of them every tenth of
/// that (the default ratio: 10,000 and 1,000), so the smoke run has deltas.
/// Every interval gets its snapshots (no history pass: the measurements on
/// the main ledger read those; `cold` measures the pass).
pub fn engine(stores: Stores, snapshot_every: u64) -> Arc<Engine> {
    let mut config = EngineConfig::new("bench");
    config.snapshot_every = snapshot_every;
    config.history_pass = false;
    config.snapshot_delta_every = snapshot_every / 10;
    Engine::new(stores, config)
}

/// A subdirectory of `root`, created.
pub fn subdir(root: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
