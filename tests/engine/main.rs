//! Engine invariants on the embedded store (real SQLite files in a temp dir).

use std::sync::Arc;

use ledgerscope::domain::aggregate::decide_submit;
use ledgerscope::domain::generate::{DemoRng, booking_form};
use ledgerscope::domain::state::KeyDiff;
use ledgerscope::domain::{
    CancelBooking, ChangeUserAddress, EventMetadata, ProjectorId, ReadState, RescheduleBooking,
    StoredEvent, SubmitBookingWizard,
};
use ledgerscope::engine::bulk::BulkSpec;
use ledgerscope::engine::handler::aggregate_lock_name;
use ledgerscope::engine::view::ViewDiff;
use ledgerscope::engine::{Engine, EngineConfig, EngineError, JobControl, Phase, ReplayOptions};
use ledgerscope::store::{StoreConfig, load_read_state, open_stores};
use uuid::Uuid;

mod commands;
mod history_pass;
mod projection;
mod repair;
mod schema;
mod snapshots;
mod upkeep;

pub async fn engine_in(dir: &std::path::Path) -> Arc<Engine> {
    let stores = open_stores(&StoreConfig::embedded(dir)).await.unwrap();
    let mut config = EngineConfig::new("test");
    config.snapshot_every = 0;
    Engine::new(stores, config)
}

pub fn wizard(rng: &mut DemoRng) -> SubmitBookingWizard {
    let id = rng.uuid_v4();
    booking_form(rng, 20).validate(id).unwrap()
}

pub async fn project_all(engine: &Engine) {
    for p in ProjectorId::ALL {
        engine.catch_up(p).await.unwrap();
    }
}

/// Appends a row to the SQLite ledger as a foreign writer could, whatever
/// its fields hold.
pub fn append_raw(
    ledger_db: &rusqlite::Connection,
    event_id: &str,
    event_type: &str,
    recorded_at: &str,
    payload: &str,
) {
    ledger_db
        .execute(
            "INSERT INTO events(position, event_id, aggregate_id, aggregate_type, version, event_type,
             schema_version, recorded_at, payload, metadata)
             VALUES ((SELECT MAX(position) + 1 FROM events), ?1, ?1, 'booking', 1, ?2, 1, ?3, ?4, NULL)",
            rusqlite::params![event_id, event_type, recorded_at, payload],
        )
        .unwrap();
}

/// An engine over the embedded stores in `dir` with `config`.
/// Rows 10..20 of a state's `bookings` (a view's second screen to compare with).
pub fn bookings_10_to_20(state: &ReadState) -> Vec<ledgerscope::domain::BookingRow> {
    state.bookings.values().skip(10).take(10).cloned().collect()
}

/// `count` commands of the demo mix (cancellations, reschedules and address
/// changes among the bookings), seeded.
pub fn mixed(count: u64, seed: u64) -> BulkSpec {
    BulkSpec {
        mix: true,
        ..BulkSpec::bookings(count, Some(seed))
    }
}

/// Automatic snapshots every `every` events, deltas every `delta`, pages of
/// 7 rows (many pages per table).
pub fn interval_config(every: u64, delta: u64) -> EngineConfig {
    let mut config = EngineConfig::new("test");
    config.snapshot_every = every;
    config.snapshot_delta_every = delta;
    config.snapshot_page_rows = 7;
    config
}

pub async fn engine_with(dir: &std::path::Path, config: &EngineConfig) -> Arc<Engine> {
    let stores = open_stores(&StoreConfig::embedded(dir)).await.unwrap();
    Engine::new(stores, config.clone())
}

pub async fn views(engine: &Engine) -> ReadState {
    load_read_state(engine.stores().read.as_ref(), 1000)
        .await
        .unwrap()
}
