//! Property: for random command sequences, incremental projection == replay ==
//! fold(ledger), and state_at(p) and state_view(p) via snapshots (full ones
//! and deltas of them) == fold from zero, at every p.

use std::sync::Arc;

use ledgerscope::domain::generate::{DemoRng, address, booking_form};
use ledgerscope::domain::{
    CancelBooking, ChangeUserAddress, ProjectorId, ReadState, RescheduleBooking,
};
use ledgerscope::engine::{Engine, EngineConfig, JobControl, ReplayOptions};
use ledgerscope::store::{StoreConfig, load_read_state, open_stores};
use proptest::prelude::*;
use uuid::Uuid;

#[derive(Clone, Debug)]
enum Op {
    Submit(u64),
    Cancel(usize),
    Reschedule(usize, u64),
    Move(usize, u64),
    RetryLast,
    Project,
    Snapshot,
    /// Automatic snapshots: full every 5 events, deltas of them every 2.
    DueSnapshots,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u64>().prop_map(Op::Submit),
        1 => any::<usize>().prop_map(Op::Cancel),
        1 => (any::<usize>(), any::<u64>()).prop_map(|(i, s)| Op::Reschedule(i, s)),
        1 => (any::<usize>(), any::<u64>()).prop_map(|(i, s)| Op::Move(i, s)),
        1 => Just(Op::RetryLast),
        1 => Just(Op::Project),
        1 => Just(Op::Snapshot),
        1 => Just(Op::DueSnapshots),
    ]
}

async fn engine_in(dir: &std::path::Path, page_rows: u32) -> Arc<Engine> {
    engine_with(dir, page_rows, 0, 0).await
}

async fn engine_with(dir: &std::path::Path, page_rows: u32, every: u64, delta: u64) -> Arc<Engine> {
    let stores = open_stores(&StoreConfig::embedded(dir)).await.unwrap();
    let mut config = EngineConfig::new("proptest");
    config.snapshot_every = every;
    config.snapshot_delta_every = delta;
    config.snapshot_page_rows = page_rows;
    Engine::new(stores, config)
}

async fn views(engine: &Engine, position: u64) -> ReadState {
    let mut state = load_read_state(engine.stores().read.as_ref(), 7)
        .await
        .unwrap();
    state.position = position;
    state
}

async fn check(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), 3).await;
    let mut bookings: Vec<(Uuid, Uuid)> = Vec::new();
    let mut last = None;
    for op in ops {
        match op {
            Op::Submit(seed) => {
                let mut rng = DemoRng::new(seed);
                let id = rng.uuid_v4();
                let cmd = booking_form(&mut rng, 5).validate(id).unwrap();
                bookings.push((cmd.booking_id, cmd.user.user_id));
                last = Some(cmd.clone());
                engine.submit_booking_wizard(cmd).await.unwrap();
            }
            Op::RetryLast => {
                if let Some(cmd) = last.clone() {
                    assert!(engine.submit_booking_wizard(cmd).await.unwrap().duplicate);
                }
            }
            Op::Cancel(i) if !bookings.is_empty() => {
                let (booking, _) = bookings[i % bookings.len()];
                let _ = engine
                    .cancel_booking(CancelBooking::new(Uuid::new_v4(), booking, "x").unwrap())
                    .await;
            }
            Op::Reschedule(i, seed) if !bookings.is_empty() => {
                let (booking, _) = bookings[i % bookings.len()];
                let form = booking_form(&mut DemoRng::new(seed), 5);
                let cmd = RescheduleBooking::new(
                    Uuid::new_v4(),
                    booking,
                    &form.check_in,
                    &form.check_out,
                )
                .unwrap();
                let _ = engine.reschedule_booking(cmd).await;
            }
            Op::Move(i, seed) if !bookings.is_empty() => {
                let (_, user) = bookings[i % bookings.len()];
                let cmd =
                    ChangeUserAddress::new(Uuid::new_v4(), user, &address(&mut DemoRng::new(seed)))
                        .unwrap();
                let _ = engine.change_user_address(cmd).await;
            }
            Op::Project => {
                for p in ProjectorId::ALL {
                    engine.catch_up(p).await.unwrap();
                }
            }
            Op::Snapshot => {
                engine
                    .take_snapshot(None, &JobControl::default())
                    .await
                    .unwrap();
            }
            Op::DueSnapshots => {
                let due = engine_with(dir.path(), 3, 5, 2).await;
                due.take_due_snapshots().await.unwrap();
            }
            _ => {}
        }
    }
    for p in ProjectorId::ALL {
        engine.catch_up(p).await.unwrap();
    }
    let head = engine.stores().ledger.head().await.unwrap();
    let fold = engine.fold_from_zero(head).await.unwrap();
    let incremental = views(&engine, head).await;
    assert_eq!(incremental, fold, "incremental projection == fold(ledger)");
    engine
        .replay(
            ReplayOptions {
                from_snapshot: false,
                rebuild_foreign: false,
            },
            &JobControl::default(),
        )
        .await
        .unwrap();
    assert_eq!(views(&engine, head).await, fold, "replay == fold(ledger)");

    // A fresh engine (no cached fold) answers from the snapshots.
    let fresh = engine_in(dir.path(), 300).await;
    for p in 0..=head {
        let via = fresh.state_at(p).await.unwrap();
        let reference = fresh.fold_from_zero(p).await.unwrap();
        assert_eq!(*via.state, reference, "state_at({p}) via {:?}", via.base);
        let view = fresh.state_view(p).await.unwrap();
        assert_eq!(
            view.materialize().await.unwrap(),
            reference,
            "state_view({p}) via {:?}",
            view.from
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
    #[test]
    fn projection_replay_fold_and_time_travel_agree(ops in prop::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(check(ops));
    }
}
