//! Making a scenario's training ledger (on tokio, never on the UI thread)
//! and timing the two recoveries of the snapshots scenario.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::domain::{BookingWizardForm, ChangeUserAddress, DomainEvent, FieldError, ProjectorId};
use crate::engine::bulk::BulkSpec;
use crate::engine::{Engine, EngineConfig, EngineError, JobControl, ReplayOptions};
use crate::store::{StoreConfig, StoreError, open_stores};

use super::steps::ScenarioId;

/// The bulk generator's seed: every class sees the same ledger.
const SEED: u64 = 33;
/// The address the time-travel scenario's user starts at, and moves to.
pub const CALLE_A: &str = "Calle A 12";
/// See [`CALLE_A`].
pub const CALLE_B: &str = "Calle B 7";

/// What a scenario's ledger holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    /// The head once made.
    pub head: u64,
    /// The position the scenario is about: the address change (time
    /// travel) or the snapshot (snapshots).
    pub marker: Option<u64>,
    /// The booking whose read row was drifted (replay).
    pub drifted: Option<String>,
}

/// How long the two recoveries took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryTimes {
    /// Replay from zero: its wall time and the events it folded.
    pub from_zero: (Duration, u64),
    /// Replay from the newest snapshot: its wall time and the events it
    /// folded after the snapshot.
    pub from_snapshot: (Duration, u64),
    /// The snapshot's position (`None`: there was none to start from).
    pub snapshot_at: Option<u64>,
}

/// Why a scenario's ledger could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The training dir could not be made.
    #[error("cannot make the training data dir {}: {source}", .dir.display())]
    Dir {
        /// The dir.
        dir: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The stores could not be opened.
    #[error("cannot open the training stores: {0}")]
    Store(#[from] StoreError),
    /// The engine refused something.
    #[error("cannot make the training ledger: {0}")]
    Engine(#[from] EngineError),
    /// A scenario's own command did not validate (a bug in the scenario).
    #[error("the scenario's command is not valid: {}", crate::domain::command::describe_errors(.0))]
    Invalid(Vec<FieldError>),
    /// The engine stored another event than the scenario's command makes.
    #[error("the scenario's command stored no {0} event")]
    Unexpected(&'static str),
    /// The blocking part did not finish.
    #[error("preparing the training ledger stopped: {0}")]
    Stopped(#[from] tokio::task::JoinError),
}

/// Makes `id`'s ledger in the fresh data dir `dir` and projects it.
pub async fn prepare(id: ScenarioId, dir: &Path) -> Result<Prepared, ScenarioError> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|source| ScenarioError::Dir {
            dir: dir.to_path_buf(),
            source,
        })?;
    let stores = open_stores(&StoreConfig::embedded(dir)).await?;
    let engine = Engine::new(stores, EngineConfig::new("training"));
    let (count, mix) = id.ledger_size();
    let spec = BulkSpec {
        mix,
        ..BulkSpec::bookings(count, Some(SEED))
    };
    engine.emit_bulk(&spec, &JobControl::default()).await?;
    let mut marker = None;
    match id {
        ScenarioId::TimeTravel => {
            marker = Some(move_a_user(&engine).await?);
            let more = BulkSpec::bookings(5, Some(SEED + 1));
            engine.emit_bulk(&more, &JobControl::default()).await?;
        }
        ScenarioId::Snapshots => {
            let at = engine.head().await? * 9 / 10;
            let meta = engine
                .take_snapshot(Some(at), &JobControl::default())
                .await?;
            marker = Some(meta.position);
        }
        _ => {}
    }
    for projector in ProjectorId::ALL {
        engine.catch_up(projector).await?;
        engine.flush_ledger_checkpoint(projector).await?;
    }
    let head = engine.head().await?;
    drop(engine);
    let drifted = match id {
        ScenarioId::Replay => {
            let dir = dir.to_path_buf();
            tokio::task::spawn_blocking(move || crate::store::training::drift_first_booking(&dir))
                .await??
        }
        _ => None,
    };
    tracing::info!(scenario = id.slug(), dir = %dir.display(), head, "training ledger made");
    Ok(Prepared {
        head,
        marker,
        drifted,
    })
}

/// Books a stay for a user at [`CALLE_A`], then moves them to
/// [`CALLE_B`]; the move's position.
async fn move_a_user(engine: &Engine) -> Result<u64, ScenarioError> {
    let form = BookingWizardForm {
        email: "ana.garcia@example.com".into(),
        name: "Ana García".into(),
        address: CALLE_A.into(),
        service: "Suite".into(),
        check_in: "2026-05-01".into(),
        check_out: "2026-05-04".into(),
        guests: "2".into(),
        price: "240.00".into(),
    };
    let submit = form
        .validate(Uuid::new_v4())
        .map_err(ScenarioError::Invalid)?;
    let booked = engine.submit_booking_wizard(submit).await?;
    let user = match booked.event.decode() {
        Ok(DomainEvent::BookingWizardCompleted { user, .. }) => user.user_id,
        _ => return Err(ScenarioError::Unexpected("BookingWizardCompleted")),
    };
    let change =
        ChangeUserAddress::new(Uuid::new_v4(), user, CALLE_B).map_err(ScenarioError::Invalid)?;
    Ok(engine.change_user_address(change).await?.event.position)
}

/// Replays the read tables from zero, then from the newest snapshot, and
/// says how long each took.
pub async fn time_recovery(engine: &Engine) -> Result<RecoveryTimes, EngineError> {
    let job = JobControl::default();
    let options = |from_snapshot| ReplayOptions {
        from_snapshot,
        rebuild_foreign: false,
    };
    let started = Instant::now();
    let zero = engine.replay(options(false), &job).await?;
    let zero_took = started.elapsed();
    let started = Instant::now();
    let snapshot = engine.replay(options(true), &job).await?;
    let snapshot_took = started.elapsed();
    engine.read_tables_replaced().await;
    tracing::info!(
        from_zero_us = zero_took.as_micros() as u64,
        from_snapshot_us = snapshot_took.as_micros() as u64,
        "training: both recoveries timed"
    );
    Ok(RecoveryTimes {
        from_zero: (zero_took, zero.events),
        from_snapshot: (snapshot_took, snapshot.events),
        snapshot_at: snapshot.from_snapshot.map(|m| m.position),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn engine_of(dir: &Path) -> std::sync::Arc<Engine> {
        let stores = open_stores(&StoreConfig::embedded(dir)).await.unwrap();
        Engine::new(stores, EngineConfig::new("test"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_time_travel_ledger_keeps_calle_a_before_the_move_and_calle_b_after() {
        let dir = tempfile::tempdir().unwrap();
        let made = prepare(ScenarioId::TimeTravel, dir.path()).await.unwrap();
        let marker = made.marker.unwrap();
        assert_eq!(made.head, 20 + 2 + 5);
        let engine = engine_of(dir.path()).await;
        let addresses = |position| {
            let engine = engine.clone();
            async move {
                let at = engine.state_at(position).await.unwrap();
                let has = |a: &str| at.state.users.values().any(|u| u.address == a);
                (has(CALLE_A), has(CALLE_B))
            }
        };
        assert_eq!(addresses(marker - 1).await, (true, false));
        assert_eq!(addresses(made.head).await, (false, true));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_replay_ledger_has_one_drifted_row() {
        let dir = tempfile::tempdir().unwrap();
        let made = prepare(ScenarioId::Replay, dir.path()).await.unwrap();
        assert!(made.drifted.is_some());
        let engine = engine_of(dir.path()).await;
        let report = engine.verify().await.unwrap();
        assert_eq!(report.missing + report.extra + report.different, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_snapshots_ledger_recovers_from_its_snapshot_folding_only_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let made = prepare(ScenarioId::Snapshots, dir.path()).await.unwrap();
        let at = made.marker.unwrap();
        assert!(
            at > 0 && at < made.head,
            "snapshot at {at} of {}",
            made.head
        );
        let engine = engine_of(dir.path()).await;
        let times = time_recovery(&engine).await.unwrap();
        assert_eq!(times.from_zero.1, made.head);
        assert_eq!(times.snapshot_at, Some(at));
        assert_eq!(times.from_snapshot.1, made.head - at);
    }
}
