use super::*;

pub(super) async fn checkpoint_contract(store: Arc<dyn CheckpointStore>) {
    assert_eq!(store.load_checkpoint("UserProjection").await.unwrap(), None);
    let now = chrono::DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap();
    let mut cp = Checkpoint {
        skipped: vec![7, 9],
        holes: vec![Hole { from: 20, to: 29 }],
        updated_at: now,
        ..Checkpoint::new("UserProjection", 42, "host-1-abcd")
    };
    store.save_checkpoint(&cp).await.unwrap();
    assert_eq!(
        store.load_checkpoint("UserProjection").await.unwrap(),
        Some(cp.clone())
    );
    cp.position = 50;
    cp.skipped.push(48);
    cp.holes.push(Hole { from: 45, to: 45 });
    // A projector's failure and since when (millisecond precision).
    cp.last_error = Some("postgresql at h:5/db is unavailable: gone".into());
    cp.error_since = chrono::DateTime::from_timestamp_millis(now.timestamp_millis());
    store.save_checkpoint(&cp).await.unwrap();
    assert_eq!(
        store.load_checkpoint("UserProjection").await.unwrap(),
        Some(cp.clone())
    );
    cp.last_error = None;
    cp.error_since = None;
    store.save_checkpoint(&cp).await.unwrap();
    assert_eq!(
        store.load_checkpoint("UserProjection").await.unwrap(),
        Some(cp),
        "a cleared error is gone"
    );
    assert_eq!(
        store.load_checkpoint("BookingProjection").await.unwrap(),
        None
    );
}

pub(super) fn snapshot_meta(position: u64, bytes: &[u8], chunks: u32) -> SnapshotMeta {
    SnapshotMeta {
        id: Uuid::new_v4(),
        position,
        taken_at: chrono::DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap(),
        size_bytes: bytes.len() as u64,
        chunks,
        sha256: "0".repeat(64),
        index_xxh3: Some("1".repeat(32)),
        state_digest: "digest".into(),
        users: 3,
        bookings: 4,
        base: None,
        ledger_id: Some(Uuid::new_v4()),
        versions: ModelVersions::FIRST,
    }
}

pub(super) async fn snapshot_contract(store: Arc<dyn SnapshotStore>) {
    assert!(store.list_snapshots().await.unwrap().is_empty());
    let bytes: Vec<u8> = (0..5000u32).map(|i| (i * 31 % 251) as u8).collect();
    let chunks: Vec<Vec<u8>> = bytes.chunks(37).map(<[u8]>::to_vec).collect();
    let later = snapshot_meta(10, &bytes, chunks.len() as u32);
    store.save_snapshot(&later, chunks.clone()).await.unwrap();
    let small = vec![vec![1u8, 2, 3]];
    // A delta names its full snapshot; the field must survive the store.
    let earlier = SnapshotMeta {
        base: Some(later.id),
        ..snapshot_meta(5, &small[0], 1)
    };
    store.save_snapshot(&earlier, small.clone()).await.unwrap();
    let listed = store.list_snapshots().await.unwrap();
    assert_eq!(
        listed,
        vec![earlier.clone(), later.clone()],
        "oldest position first"
    );
    let loaded = store.load_snapshot_chunks(later.id).await.unwrap();
    assert_eq!(loaded.len(), chunks.len());
    assert_eq!(loaded.concat(), bytes);
    assert_eq!(store.load_snapshot_chunks(earlier.id).await.unwrap(), small);

    // Chunk ranges: what time travel reads (an index chunk, then some pages).
    let n = chunks.len() as u32;
    assert!(n > 10, "enough chunks for a middle range");
    assert_eq!(
        store
            .load_snapshot_chunk_range(later.id, 3, 5)
            .await
            .unwrap(),
        chunks[3..8].to_vec(),
        "a middle range is that slice"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(later.id, 0, 1)
            .await
            .unwrap(),
        chunks[..1].to_vec(),
        "the first chunk alone"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(later.id, n - 2, 10)
            .await
            .unwrap(),
        chunks[n as usize - 2..].to_vec(),
        "a range past the end returns only the stored chunks"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(later.id, n, 3)
            .await
            .unwrap(),
        Vec::<Vec<u8>>::new(),
        "a range starting at the end is empty"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(later.id, n + 5, 3)
            .await
            .unwrap(),
        Vec::<Vec<u8>>::new(),
        "a range starting past the end is empty"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(later.id, u32::MAX, u32::MAX)
            .await
            .unwrap(),
        Vec::<Vec<u8>>::new(),
        "a range at the end of u32 does not overflow"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(later.id, 2, 0)
            .await
            .unwrap(),
        Vec::<Vec<u8>>::new(),
        "count == 0 is empty"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(earlier.id, 0, 4)
            .await
            .unwrap(),
        small,
        "ranges stay within one snapshot"
    );
    assert_eq!(
        store
            .load_snapshot_chunk_range(Uuid::new_v4(), 0, 4)
            .await
            .unwrap(),
        Vec::<Vec<u8>>::new(),
        "an unknown snapshot has no chunks (empty, not an error)"
    );

    // Deleting one leaves the other whole; its chunks go with it.
    store.delete_snapshot(later.id).await.unwrap();
    let listed: Vec<Uuid> = store
        .list_snapshots()
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, [earlier.id]);
    assert!(
        store
            .load_snapshot_chunk_range(later.id, 0, 4)
            .await
            .unwrap()
            .is_empty(),
        "a deleted snapshot's chunks are gone"
    );
    assert_eq!(store.load_snapshot_chunks(earlier.id).await.unwrap(), small);
    store
        .delete_snapshot(later.id)
        .await
        .expect("deleting a snapshot that is not stored does nothing");
}

/// Model definitions: added once under a name, listed by name, read,
/// removed.
pub(super) async fn model_store_contract(store: Arc<dyn ModelStore>) {
    let model = |name: &str, version: u32| StoredModel {
        name: name.into(),
        version,
        source: format!(
            "-- model: {name}\n-- version: {version}\nCREATE TABLE t(k TEXT PRIMARY KEY);\n"
        ),
        added_at: chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap(),
    };
    assert!(store.models().await.unwrap().is_empty());
    assert!(store.add_model(&model("zeta", 1)).await.unwrap());
    assert!(store.add_model(&model("alpha", 2)).await.unwrap());
    assert!(
        !store.add_model(&model("alpha", 3)).await.unwrap(),
        "a name is taken once"
    );
    let names: Vec<String> = store
        .models()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["alpha", "zeta"]);
    assert_eq!(store.model("alpha").await.unwrap(), Some(model("alpha", 2)));
    assert_eq!(store.model("beta").await.unwrap(), None);
    assert!(store.remove_model("alpha").await.unwrap());
    assert!(!store.remove_model("alpha").await.unwrap());
    assert_eq!(store.models().await.unwrap(), [model("zeta", 1)]);
    store.remove_model("zeta").await.unwrap();
}
