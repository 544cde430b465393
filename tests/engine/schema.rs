//! Read-schema versions on the embedded stores: tables and snapshots made
//! with today's columns, opened by an engine whose built-in `bookings`
//! schema changed (set through `EngineConfig::model_versions`).

use std::sync::Arc;

use ledgerscope::domain::ProjectorId;
use ledgerscope::domain::model::ModelVersions;
use ledgerscope::engine::bulk::BulkSpec;
use ledgerscope::engine::{Engine, EngineConfig, EngineError, JobControl, Pairing, ReplayOptions};
use ledgerscope::store::{RowRewrite, StoreConfig, StoreError, load_read_state, open_stores};

/// Today's columns, with the `bookings` schema one version on.
const BOOKINGS_2: ModelVersions = ModelVersions {
    bookings: ModelVersions::BUILT_IN.bookings + 1,
    ..ModelVersions::BUILT_IN
};

/// How the window and the CLI name tables of `built` to a build of `this`
/// (the `bookings` part).
fn schema_sentence(built: ModelVersions, this: ModelVersions) -> String {
    format!(
        "built with bookings schema {}; this build writes bookings schema {}",
        built.bookings, this.bookings
    )
}

async fn engine(dir: &std::path::Path, versions: ModelVersions) -> Arc<Engine> {
    let stores = open_stores(&StoreConfig::embedded(dir)).await.unwrap();
    let mut config = EngineConfig::new("test");
    config.snapshot_every = 0;
    config.model_versions = versions;
    Engine::new(stores, config)
}

async fn emit(engine: &Engine, count: u64, seed: u64) {
    let spec = BulkSpec {
        mix: true,
        ..BulkSpec::bookings(count, Some(seed))
    };
    engine
        .emit_bulk(&spec, &JobControl::default())
        .await
        .unwrap();
}

/// Every row and every projector's position.
async fn tables(engine: &Engine) -> (ledgerscope::domain::ReadState, Vec<u64>) {
    let read = engine.stores().read.clone();
    let mut positions = Vec::new();
    for p in ProjectorId::ALL {
        positions.push(read.projector_position(p).await.unwrap());
    }
    (
        load_read_state(read.as_ref(), 1000).await.unwrap(),
        positions,
    )
}

fn replay(rebuild: bool) -> ReplayOptions {
    ReplayOptions {
        from_snapshot: false,
        rebuild_foreign: rebuild,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_of_an_older_schema_are_named_refused_and_rebuilt_by_replay() {
    let dir = tempfile::tempdir().unwrap();
    let today = engine(dir.path(), ModelVersions::BUILT_IN).await;
    emit(&today, 40, 3).await;
    for p in ProjectorId::ALL {
        today.catch_up(p).await.unwrap();
    }
    // More events the tables have not seen: a projector would write them.
    emit(&today, 10, 4).await;
    let ledger = today.ledger_identity().await.unwrap().unwrap().id;
    drop(today);
    // Tables stamped before versions existed: no version recorded at all.
    let db = rusqlite::Connection::open(dir.path().join("views.sqlite3")).unwrap();
    db.execute("DROP TABLE read_schema", []).unwrap();
    drop(db);
    let today = engine(dir.path(), ModelVersions::BUILT_IN).await;
    assert_eq!(
        matches!(today.check_pairing().await.unwrap(), Pairing::Paired { .. }),
        ModelVersions::BUILT_IN == ModelVersions::FIRST,
        "tables stamped before versions are version 1: today's build keeps them if it is"
    );
    drop(today);

    let changed = engine(dir.path(), BOOKINGS_2).await;
    let before = tables(&changed).await;
    let status = changed.status().await.unwrap();
    let foreign = status.pairing.as_ref().and_then(Pairing::foreign).unwrap();
    let schema = foreign.other_schema().expect("named as another schema");
    assert_eq!(schema.built_with, ModelVersions::FIRST);
    assert_eq!(schema.this_build, BOOKINGS_2);
    let sentence = status.foreign_message().unwrap();
    assert!(
        sentence.contains(&changed.read_info().to_string()),
        "{sentence}"
    );
    assert!(
        sentence.contains(&schema_sentence(ModelVersions::FIRST, BOOKINGS_2)),
        "{sentence}"
    );

    // Nothing is written: not by a projector, not by a targeted repair,
    // not by the store's own fence.
    for p in ProjectorId::ALL {
        match changed.catch_up(p).await {
            Err(EngineError::Foreign(f)) => assert_eq!(f.to_string(), sentence),
            other => panic!("{p:?} projected into tables of another schema: {other:?}"),
        }
    }
    let read = changed.stores().read.clone();
    let applied = read
        .apply(ledger, BOOKINGS_2, ProjectorId::BookingProjection, &[], 50)
        .await;
    assert!(
        matches!(applied, Err(StoreError::OtherSchema { .. })),
        "{applied:?}"
    );
    let rewrite = RowRewrite {
        users_at: before.1[0],
        bookings_at: before.1[1],
        users: Vec::new(),
        bookings: vec![(*before.0.bookings.keys().next().unwrap(), None)],
    };
    let rewritten = read.rewrite_rows(ledger, BOOKINGS_2, &rewrite).await;
    assert!(
        matches!(rewritten, Err(StoreError::OtherSchema { .. })),
        "{rewritten:?}"
    );
    assert_eq!(tables(&changed).await, before, "nothing was written");
    match changed.verify().await {
        Err(EngineError::Foreign(f)) => assert!(f.other_schema().is_some()),
        other => panic!("verify compared tables of another schema: {other:?}"),
    }

    // A replay rebuilds them only when confirmed, then they are in sync.
    let refused = changed.replay(replay(false), &JobControl::default()).await;
    assert!(
        matches!(refused, Err(EngineError::Foreign(_))),
        "{refused:?}"
    );
    assert_eq!(tables(&changed).await, before);
    changed
        .replay(replay(true), &JobControl::default())
        .await
        .unwrap();
    let status = changed.status().await.unwrap();
    assert!(
        matches!(status.pairing, Some(Pairing::Paired { .. })),
        "{:?}",
        status.pairing
    );
    assert_eq!(status.read_store.stamp.unwrap().versions, BOOKINGS_2);
    assert!(changed.verify().await.unwrap().in_sync);
    emit(&changed, 5, 5).await;
    for p in ProjectorId::ALL {
        changed.catch_up(p).await.unwrap();
    }
    drop(changed);

    // And today's build now finds tables of a newer schema.
    let today = engine(dir.path(), ModelVersions::BUILT_IN).await;
    let pairing = today.check_pairing().await.unwrap();
    let foreign = pairing.foreign().unwrap();
    assert!(
        foreign
            .to_string()
            .contains(&schema_sentence(BOOKINGS_2, ModelVersions::BUILT_IN)),
        "{foreign}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_of_another_schema_is_never_used_and_new_ones_are_taken() {
    let dir = tempfile::tempdir().unwrap();
    let today = engine(dir.path(), ModelVersions::BUILT_IN).await;
    emit(&today, 30, 7).await;
    let old = today
        .take_snapshot(None, &JobControl::default())
        .await
        .unwrap();
    assert_eq!(old.versions, ModelVersions::BUILT_IN);
    assert_eq!(today.usable_snapshots().await.unwrap(), vec![old.clone()]);
    drop(today);

    let changed = engine(dir.path(), BOOKINGS_2).await;
    assert!(changed.usable_snapshots().await.unwrap().is_empty());
    let status = changed.status().await.unwrap();
    assert_eq!((status.snapshots, status.usable_snapshots), (1, 0));
    let report = changed
        .replay(
            ReplayOptions {
                from_snapshot: true,
                rebuild_foreign: true,
            },
            &JobControl::default(),
        )
        .await
        .unwrap();
    assert_eq!(report.from_snapshot, None, "started from zero");
    assert!(
        changed
            .restore_snapshot(&old.id.to_string(), true)
            .await
            .is_err()
    );
    let new = changed
        .take_snapshot(None, &JobControl::default())
        .await
        .unwrap();
    assert_eq!(new.versions, BOOKINGS_2);
    assert_eq!(changed.usable_snapshots().await.unwrap(), vec![new]);
}

/// `ledgerscope` (today's build) on tables a build with `bookings` schema
/// 2 rebuilt.
fn cli(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ledgerscope"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("LEDGERSCOPE_MONGO_URI")
        .env_remove("LEDGERSCOPE_POSTGRES_URL")
        .env_remove("LEDGERSCOPE_DATA_DIR")
        .output()
        .unwrap()
}

fn cli_json(dir: &std::path::Path, args: &[&str]) -> (i32, serde_json::Value) {
    let out = cli(dir, args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let value = serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_names_tables_of_another_schema_refuses_them_and_rebuilds_when_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let changed = engine(dir.path(), BOOKINGS_2).await;
    emit(&changed, 12, 9).await;
    changed
        .replay(replay(false), &JobControl::default())
        .await
        .unwrap();
    emit(&changed, 4, 10).await;
    let before = tables(&changed).await;
    drop(changed);
    let d = dir.path();
    let sentence = &schema_sentence(BOOKINGS_2, ModelVersions::BUILT_IN);

    let (code, status) = cli_json(d, &["status", "--json"]);
    assert_eq!(code, 0, "{status}");
    assert_eq!(status["pairing"]["state"], "foreign", "{status}");
    assert_eq!(
        status["schema"]["built_with"]["bookings"], BOOKINGS_2.bookings,
        "{status}"
    );
    assert_eq!(
        status["model_versions"]["bookings"],
        ModelVersions::BUILT_IN.bookings,
        "{status}"
    );
    let message = status["pairing"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(sentence) && message.contains("views.sqlite3"),
        "{message}"
    );
    let (code, project) = cli_json(d, &["project", "--json"]);
    assert_eq!(code, 3, "{project}");
    let verify = cli(d, &["verify"]);
    assert_ne!(verify.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&verify.stderr).contains(sentence));
    let refused = cli(d, &["replay"]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains(sentence) && said.contains("replay --rebuild-foreign"),
        "{said}"
    );
    let reopened = engine(d, BOOKINGS_2).await;
    assert_eq!(tables(&reopened).await, before, "nothing was written");
    drop(reopened);

    let (code, rebuilt) = cli_json(d, &["replay", "--rebuild-foreign", "--json"]);
    assert_eq!(code, 0, "{rebuilt}");
    let (_, status) = cli_json(d, &["status", "--json"]);
    assert_eq!(status["pairing"]["state"], "paired", "{status}");
    assert_eq!(
        status["read_store"]["built_with"]["bookings"],
        ModelVersions::BUILT_IN.bookings,
        "{status}"
    );
    let (code, _) = cli_json(d, &["project", "--json"]);
    assert_eq!(code, 0);
}
