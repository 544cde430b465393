//! Health at a glance: the top bar names a locked read store and the
//! projectors blocked on a write, the lease holder with when it was renewed
//! and when it lapses, and what a rebuild of the read tables changed (lag,
//! the banner, Compare) shows at once.

use super::*;

use std::time::Instant;

use ledgerscope::domain::ProjectorId;
use ledgerscope::engine::projector::projector_lease_name;
use ledgerscope::engine::{Pairing, ProjectorState, ReadStoreTrouble};
use ledgerscope::store::LockFactory;
use ledgerscope::store::sqlite::SqliteLedger;

/// Steps frames until `done` holds, failing once `within` has passed.
fn wait_within(
    harness: &mut Harness<'static, LedgerApp>,
    within: Duration,
    what: &str,
    done: impl Fn(&LedgerApp) -> bool,
) {
    let started = Instant::now();
    while !done(harness.state()) {
        assert!(
            started.elapsed() < within,
            "{what} did not happen within {within:?}: {:?} {:#?}",
            harness.state().shell().read_health,
            harness.state().shell().statuses
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.step();
}

fn shown(harness: &Harness<'static, LedgerApp>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

/// A data dir of 7 projected events whose read tables were built from
/// another ledger of 12 (kept alive by the first directory returned).
fn foreign_read_tables(rt: &tokio::runtime::Runtime) -> (tempfile::TempDir, tempfile::TempDir) {
    let (theirs, ours) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    projected_ledger(theirs.path(), rt, 12, 1);
    projected_ledger(ours.path(), rt, 7, 2);
    for suffix in ["", "-wal", "-shm"] {
        let name = format!("views.sqlite3{suffix}");
        let _ = std::fs::remove_file(ours.path().join(&name));
        if theirs.path().join(&name).exists() {
            std::fs::copy(theirs.path().join(&name), ours.path().join(&name)).unwrap();
        }
    }
    (theirs, ours)
}

/// The leases of a window that was killed: still in the ledger store,
/// lapsing `ttl` from now.
fn leases_of_a_killed_window(dir: &Path, rt: &tokio::runtime::Runtime, ttl: Duration) {
    let ledger = SqliteLedger::open(&dir.join("ledger.sqlite3"), false).unwrap();
    rt.block_on(async {
        for p in ProjectorId::ALL {
            let name = projector_lease_name(p);
            let taken = ledger.try_acquire(&name, "host-killed-0001", ttl).await;
            assert!(taken.unwrap().is_some());
        }
    });
}

fn lease_owners_are(app: &LedgerApp, owner: &str) -> bool {
    let statuses = &app.shell().statuses;
    statuses.len() == 2
        && statuses
            .iter()
            .all(|s| s.lease.as_ref().is_some_and(|l| l.owner == owner))
}

#[test]
fn a_locked_read_store_names_the_blocked_projectors_and_clears_when_released() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let config = EngineConfig {
        write_blocked_after: Duration::from_millis(300),
        ..EngineConfig::new("gui:test")
    };
    let mut h = harness_with(dir.path(), &rt, false, config);
    seed(&h, &rt, 5);
    wait_until(&mut h, "projections", |app| caught_up(app, 5));
    assert!(shown(&h, "read store OK"));

    let holder = rusqlite::Connection::open(dir.path().join("views.sqlite3")).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let head = seed_mix(&h, &rt, 3, 99);
    assert!(head > 5);
    // Well within SQLite's busy timeout (10 s): the writes are still waiting.
    wait_within(
        &mut h,
        Duration::from_secs(4),
        "both projectors blocked",
        |app| app.shell().read_health.blocked.len() == 2,
    );
    assert!(shown(&h, "read store locked since"), "the store is named");
    assert!(
        shown(
            &h,
            "UserProjection and BookingProjection blocked on a write for"
        ),
        "both projectors are named"
    );
    click(&mut h, "Operations");
    assert!(
        shown(&h, "Running, blocked on a write for"),
        "Operations says it per projector"
    );

    holder.execute_batch("ROLLBACK").unwrap();
    wait_within(&mut h, Duration::from_secs(4), "the lock's end", |app| {
        app.shell().read_health == Default::default() && caught_up(app, head)
    });
    assert!(shown(&h, "read store OK"));
    assert!(!shown(&h, "blocked on a write"));
}

#[test]
fn a_killed_windows_lease_shows_its_age_and_expiry_until_this_window_takes_over() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    projected_ledger(dir.path(), &rt, 5, 3);
    leases_of_a_killed_window(dir.path(), &rt, Duration::from_millis(2_500));
    let config = EngineConfig {
        projector_lease_ttl: Duration::from_secs(3),
        ..EngineConfig::new("gui:test")
    };
    let mut h = harness_with(dir.path(), &rt, false, config);
    wait_until(&mut h, "the other holder", |app| {
        lease_owners_are(app, "host-killed-0001")
    });
    assert!(
        shown(&h, "lease: host-killed-0001, renewed"),
        "the holder and when it renewed"
    );
    assert!(shown(&h, "expires in"), "and when it lapses");
    let instance = h.state().shell().instance_id.clone();
    wait_within(&mut h, Duration::from_secs(4), "the takeover", |app| {
        lease_owners_are(app, &instance)
    });
    assert!(shown(&h, "lease: this window"));
}

#[test]
fn an_observing_window_reads_the_projectors_from_the_stores_and_a_lapsed_lease_is_expired() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    projected_ledger(dir.path(), &rt, 5, 4);
    leases_of_a_killed_window(dir.path(), &rt, Duration::from_millis(1_000));
    let mut h = harness(dir.path(), &rt, true);
    wait_within(
        &mut h,
        Duration::from_secs(3),
        "the projectors' positions",
        |app| caught_up(app, 5) && lease_owners_are(app, "host-killed-0001"),
    );
    assert!(shown(&h, "users: caught up"), "no lag where there is none");
    wait_within(
        &mut h,
        Duration::from_secs(3),
        "the lease to lapse",
        |app| {
            app.shell().statuses.iter().all(|s| {
                s.lease
                    .as_ref()
                    .is_some_and(|l| l.expired_at(chrono::Utc::now()))
            })
        },
    );
    h.step();
    assert!(
        shown(&h, "lease: host-killed-0001, renewed") && shown(&h, "expired"),
        "a lapsed lease says so"
    );
}

#[test]
fn after_a_rebuild_the_lag_and_the_banner_clear_at_once() {
    let rt = runtime();
    let (_theirs, ours) = foreign_read_tables(&rt);
    let mut h = harness(ours.path(), &rt, false);
    wait_until(&mut h, "the projectors to refuse", |app| {
        app.shell()
            .pairing
            .as_ref()
            .is_some_and(|p| p.foreign().is_some())
            && app
                .shell()
                .statuses
                .iter()
                .all(|s| s.state == ProjectorState::Refused)
    });
    click(&mut h, "Rebuild them for this ledger…");
    click(&mut h, "Yes, replay");
    wait_until(&mut h, "the replay", |app| {
        app.shell().jobs.result(JobKind::Replay).is_some()
    });
    assert!(
        h.state()
            .shell()
            .jobs
            .result(JobKind::Replay)
            .is_some_and(|r| r.is_ok())
    );
    // The pairing is checked every 5 s and a refused projector looks again
    // after 5 s: neither is waited out.
    wait_within(
        &mut h,
        Duration::from_millis(1_500),
        "lag and banner cleared",
        |app| {
            matches!(app.shell().pairing, Some(Pairing::Paired { .. }))
                && caught_up(app, 7)
                && app.shell().statuses.iter().all(|s| s.last_error.is_none())
        },
    );
    assert!(!shown(&h, "NOT THIS LEDGER'S READ TABLES"));
    assert!(shown(&h, "users: caught up") && shown(&h, "bookings: caught up"));
}

#[test]
fn compare_runs_again_once_the_read_tables_are_rebuilt_and_the_top_bar_says_what_it_found() {
    let rt = runtime();
    let (_theirs, ours) = foreign_read_tables(&rt);
    let mut h = harness(ours.path(), &rt, false);
    wait_until(&mut h, "the pairing check", |app| {
        app.shell()
            .pairing
            .as_ref()
            .is_some_and(|p| p.foreign().is_some())
    });
    assert!(shown(&h, "drift: not compared"));
    click(&mut h, "Compare");
    wait_until(&mut h, "the comparison's refusal", |app| {
        app.panels().compare.verify_error.is_some()
    });
    assert!(shown(&h, "were built from ledger"));

    click(&mut h, "Rebuild them for this ledger…");
    click(&mut h, "Yes, replay");
    wait_until(&mut h, "the comparison of the rebuilt tables", |app| {
        app.panels()
            .compare
            .verify
            .value()
            .is_some_and(|v| v.in_sync)
    });
    assert!(h.state().panels().compare.verify_error.is_none());
    assert!(!shown(&h, "were built from ledger"), "the refusal is gone");
    assert!(shown(&h, "In sync"));

    click(&mut h, "Emit");
    let found = h.get_by_label_contains("no drift at");
    found.click();
    wait_within(&mut h, Duration::from_secs(2), "Compare opened", |app| {
        app.shell().panel == PanelKind::Compare
    });
}

#[test]
fn a_read_store_that_does_not_answer_is_named_with_since_when_until_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 3);
    wait_until(&mut h, "projections", |app| caught_up(app, 3));
    let engine = h.state().engine().unwrap().clone();
    // The trainer's switch: every read-store write fails at once.
    engine.set_simulated_outage(true);
    let head = seed_mix(&h, &rt, 2, 42);
    wait_within(&mut h, Duration::from_secs(3), "the outage named", |app| {
        matches!(
            app.shell().read_health.trouble,
            Some(ReadStoreTrouble::Unreachable { .. })
        )
    });
    assert!(shown(&h, "read store unreachable (simulated outage) since"));
    engine.set_simulated_outage(false);
    wait_within(&mut h, Duration::from_secs(3), "the store back", |app| {
        app.shell().read_health == Default::default() && caught_up(app, head)
    });
    assert!(shown(&h, "read store OK"));
}

#[test]
fn compare_says_how_many_events_each_projector_is_behind() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 3);
    wait_until(&mut h, "projections", |app| caught_up(app, 3));
    let engine = h.state().engine().unwrap().clone();
    engine.set_paused(ProjectorId::UserProjection, true);
    let head = seed_mix(&h, &rt, 2, 43);
    wait_until(&mut h, "bookings projected", |app| {
        app.shell()
            .status(ProjectorId::BookingProjection)
            .is_some_and(|s| s.checkpoint == head)
    });
    click(&mut h, "Compare");
    wait_until(&mut h, "the comparison", |app| {
        app.panels().compare.verify.value().is_some()
    });
    let behind = format!("UserProjection is {} events behind the head", head - 3);
    assert!(shown(&h, &behind), "{behind}");
    assert!(
        !shown(&h, "BookingProjection is"),
        "a caught-up one is not named"
    );
}
