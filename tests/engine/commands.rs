//! Commands: one event per UUID however often and by whomever it is sent, the rules, observe-only.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_with_the_same_uuid_is_one_event_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = wizard(&mut DemoRng::new(1));
    let first = {
        let engine = engine_in(dir.path()).await;
        let first = engine.submit_booking_wizard(cmd.clone()).await.unwrap();
        assert!(!first.duplicate);
        let steps: Vec<(&str, &str)> = first
            .trace
            .steps
            .iter()
            .map(|s| (s.name.as_str(), s.detail.as_str()))
            .collect();
        assert_eq!(
            steps.iter().map(|s| s.0).collect::<Vec<_>>(),
            ["lock", "exists?", "build", "save", "unlock", "publish"]
        );
        assert_eq!(
            steps[4].1, "released in the save's commit",
            "embedded: one commit"
        );
        let lock = aggregate_lock_name(cmd.booking_id);
        assert_eq!(engine.stores().locks.holder(&lock).await.unwrap(), None);
        let again = engine.submit_booking_wizard(cmd.clone()).await.unwrap();
        assert!(again.duplicate);
        assert_eq!(again.event, first.event, "same answer as the first time");
        let names: Vec<&str> = again.trace.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["lock", "exists?", "unlock", "publish"]);
        first
    };
    // A new process on the same files.
    let engine = engine_in(dir.path()).await;
    let again = engine.submit_booking_wizard(cmd).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.event, first.event);
    assert_eq!(engine.stores().ledger.count().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_instances_retrying_one_command_store_one_event() {
    let dir = tempfile::tempdir().unwrap();
    let a = engine_in(dir.path()).await;
    let b = engine_in(dir.path()).await;
    let mut rng = DemoRng::new(2);
    let cmds: Vec<SubmitBookingWizard> = (0..40).map(|_| wizard(&mut rng)).collect();
    let run = |engine: Arc<Engine>, cmds: Vec<SubmitBookingWizard>| {
        tokio::spawn(async move {
            let mut stored = Vec::new();
            for cmd in cmds {
                stored.push(
                    engine
                        .submit_booking_wizard(cmd)
                        .await
                        .unwrap()
                        .event
                        .position,
                );
            }
            stored
        })
    };
    let (x, y) = tokio::join!(run(a.clone(), cmds.clone()), run(b, cmds));
    assert_eq!(
        x.unwrap(),
        y.unwrap(),
        "both instances got the same answers"
    );
    assert_eq!(a.stores().ledger.count().await.unwrap(), 40);
    assert_eq!(
        a.stores().ledger.head().await.unwrap(),
        40,
        "positions are gap-free"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_on_bookings_and_users_follow_the_rules_and_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let booking = wizard(&mut DemoRng::new(3));
    engine.submit_booking_wizard(booking.clone()).await.unwrap();
    let cancel = CancelBooking::new(Uuid::new_v4(), booking.booking_id, "flu").unwrap();
    let first = engine.cancel_booking(cancel.clone()).await.unwrap();
    assert_eq!(first.event.version, 2);
    let retry = engine.cancel_booking(cancel).await.unwrap();
    assert!(retry.duplicate);
    let again = CancelBooking::new(Uuid::new_v4(), booking.booking_id, "").unwrap();
    assert!(matches!(
        engine.cancel_booking(again).await,
        Err(EngineError::Domain(_))
    ));
    let move_it = RescheduleBooking::new(
        Uuid::new_v4(),
        booking.booking_id,
        "2027-01-01",
        "2027-01-02",
    )
    .unwrap();
    assert!(matches!(
        engine.reschedule_booking(move_it).await,
        Err(EngineError::Domain(_))
    ));
    let unknown = CancelBooking::new(Uuid::new_v4(), Uuid::new_v4(), "").unwrap();
    assert!(matches!(
        engine.cancel_booking(unknown).await,
        Err(EngineError::Domain(_))
    ));

    let user = booking.user.user_id;
    let moved = ChangeUserAddress::new(Uuid::new_v4(), user, "Calle B 2").unwrap();
    let event = engine.change_user_address(moved).await.unwrap().event;
    assert_eq!(event.payload["old_address"], booking.user.address.as_str());
    assert_eq!(event.version, 1);
    let moved_again = ChangeUserAddress::new(Uuid::new_v4(), user, "Calle C 3").unwrap();
    let event = engine.change_user_address(moved_again).await.unwrap().event;
    assert_eq!(
        (event.payload["old_address"].as_str(), event.version),
        (Some("Calle B 2"), 2)
    );

    project_all(&engine).await;
    let state = views(&engine).await;
    assert_eq!(state.users[&user].address, "Calle C 3");
    assert_eq!(
        state.bookings[&booking.booking_id].status.as_str(),
        "cancelled"
    );
    assert!(engine.verify().await.unwrap().in_sync);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_only_refuses_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    engine.set_observe_only(true);
    let result = engine
        .submit_booking_wizard(wizard(&mut DemoRng::new(4)))
        .await;
    assert!(
        matches!(result, Err(EngineError::ObserveOnly(_))),
        "{result:?}"
    );
    assert!(matches!(
        engine.take_snapshot(None, &JobControl::default()).await,
        Err(EngineError::ObserveOnly(_))
    ));
    let replay = engine
        .replay(
            ReplayOptions {
                from_snapshot: false,
                rebuild_foreign: false,
            },
            &JobControl::default(),
        )
        .await;
    assert!(matches!(replay, Err(EngineError::ObserveOnly(_))));
    assert_eq!(engine.stores().ledger.count().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_command_keeps_its_steps_up_to_the_rule_and_the_unlock() {
    use ledgerscope::engine::StepEnd;
    use ledgerscope::engine::handler::Command;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let booking = wizard(&mut DemoRng::new(5));
    engine.submit_booking_wizard(booking.clone()).await.unwrap();
    let cancel = |reason: &str| {
        Command::Cancel(CancelBooking::new(Uuid::new_v4(), booking.booking_id, reason).unwrap())
    };
    engine.handle_traced(cancel("flu")).await.unwrap();
    let refusal = engine.handle_traced(cancel("again")).await.unwrap_err();
    assert!(matches!(refusal.error, EngineError::Domain(_)));
    let steps: Vec<(&str, &StepEnd)> = refusal
        .trace
        .steps
        .iter()
        .map(|s| (s.name.as_str(), &s.end))
        .collect();
    let refused = StepEnd::Refused {
        rule: "a cancelled booking cannot change".into(),
    };
    assert_eq!(
        steps,
        [
            ("lock", &StepEnd::Done),
            ("exists?", &StepEnd::Done),
            ("rule", &refused),
            ("unlock", &StepEnd::Done),
        ]
    );
    assert_eq!(
        refusal.trace.steps[2].detail,
        format!("booking {} is already cancelled", booking.booking_id)
    );
    assert_eq!(refusal.trace.steps[3].detail, "released");
    let lock = aggregate_lock_name(booking.booking_id);
    assert_eq!(engine.stores().locks.holder(&lock).await.unwrap(), None);
    assert_eq!(engine.stores().ledger.count().await.unwrap(), 2);
    // A step that went through says nothing more in JSON than before.
    let json = serde_json::to_value(&refusal.trace.steps[0]).unwrap();
    assert!(json.get("end").is_none(), "{json}");
    let json = serde_json::to_value(&refusal.trace.steps[2]).unwrap();
    assert_eq!(json["end"]["kind"], "refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_run_lists_its_refusals_with_rule_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let report = engine
        .emit_bulk(&mixed(400, 61), &JobControl::default())
        .await
        .unwrap();
    assert!(report.rejected > 0, "a mixed run of 400 has refusals");
    assert_eq!(report.refusals.len() as u64, report.rejected.min(200));
    let mut previous = 0;
    for refusal in &report.refusals {
        assert!(refusal.command > previous && refusal.command <= 400);
        previous = refusal.command;
        assert!(!refusal.rule.is_empty());
        assert!(
            refusal.reason.contains(&refusal.aggregate.to_string())
                || refusal.rule == "a command must change something",
            "{refusal:?}"
        );
    }
}
