use super::*;
use ledgerscope::domain::ProjectorId;
use ledgerscope::domain::model::ModelVersions;
use ledgerscope::engine::{Engine, Pairing};

/// Read tables made by today's build: `count` bookings, projected.
fn todays_tables(dir: &Path, rt: &tokio::runtime::Runtime, count: u64) {
    rt.block_on(async {
        let stores = ledgerscope::store::open_stores(&StoreConfig::embedded(dir))
            .await
            .unwrap();
        let engine = Engine::new(stores, EngineConfig::new("test"));
        engine
            .emit_bulk(&BulkSpec::bookings(count, Some(3)), &JobControl::default())
            .await
            .unwrap();
        for p in ProjectorId::ALL {
            engine.catch_up(p).await.unwrap();
        }
    });
}

#[test]
fn tables_of_an_older_schema_are_named_in_the_top_bar_and_rebuilt_after_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    todays_tables(dir.path(), &rt, 6);
    let options = GuiOptions {
        store: StoreConfig::embedded(dir.path()),
        engine: EngineConfig {
            model_versions: ModelVersions {
                bookings: 2,
                ..ModelVersions::BUILT_IN
            },
            ..EngineConfig::new("gui:test")
        },
        observe_only: false,
        mask: None,
        runtime: rt.handle().clone(),
    };
    let app = LedgerApp::with_prefs_path(options, None);
    let mut h = window(app);
    wait_until(&mut h, "connected", LedgerApp::is_connected);
    wait_until(&mut h, "the schema check", |app| {
        app.shell()
            .pairing
            .as_ref()
            .and_then(Pairing::foreign)
            .is_some_and(|f| f.other_schema().is_some())
    });
    assert!(
        h.query_by_label_contains("READ TABLES OF ANOTHER SCHEMA")
            .is_some()
    );
    let sentence = "were built with bookings schema 1; this build writes bookings schema 2";
    assert!(
        h.query_by_label_contains(sentence).is_some(),
        "the top bar names both versions"
    );
    click(&mut h, "Rebuild them with this schema…");
    assert!(
        h.query_all_by_label_contains(sentence).count() >= 2,
        "the Rebuild dialog names both versions"
    );
    assert!(
        h.query_by_label_contains("Confirming rebuilds them with this build's")
            .is_some()
    );
    click(&mut h, "Yes, replay");
    wait_until(&mut h, "the replay", |app| {
        app.shell()
            .jobs
            .result(JobKind::Replay)
            .is_some_and(|r| r.is_ok())
    });
    wait_until(&mut h, "the rebuilt tables paired", |app| {
        matches!(app.shell().pairing, Some(Pairing::Paired { .. }))
    });
    assert!(
        h.query_by_label_contains("READ TABLES OF ANOTHER SCHEMA")
            .is_none()
    );
    let engine = h.state().engine().unwrap().clone();
    let stamp = rt.block_on(engine.stores().read.stamp()).unwrap().unwrap();
    assert_eq!(
        stamp.versions.bookings, 2,
        "the rebuilt tables carry the new version"
    );
}
