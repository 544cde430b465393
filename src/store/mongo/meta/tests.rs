//! Tests of the MongoDB metadata documents.

use super::*;
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Document, from_slice, to_raw_document_buf};

/// What the driver stores for `value`, field by field in order.
fn stored<T: Serialize>(value: &T) -> Vec<(String, Bson)> {
    let raw = to_raw_document_buf(value).unwrap();
    let doc: Document = from_slice(raw.as_bytes()).unwrap();
    doc.into_iter().collect()
}

fn fields(doc: Document) -> Vec<(String, Bson)> {
    doc.into_iter().collect()
}

/// How the driver reads `doc` into `T`.
fn read<T: serde::de::DeserializeOwned>(doc: Document) -> T {
    from_slice(bson::to_vec(&doc).unwrap().as_slice()).unwrap()
}

fn checkpoint() -> Checkpoint {
    let updated_at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
    Checkpoint {
        projector: "BookingProjection".into(),
        position: 42,
        skipped: vec![3, 7],
        holes: vec![Hole { from: 10, to: 12 }],
        last_error: Some("boom".into()),
        error_since: Some(updated_at),
        updated_at,
        instance: "host-1".into(),
    }
}

#[test]
fn checkpoints_are_stored_as_before() {
    let c = checkpoint();
    let at = bson::DateTime::from_millis(c.updated_at.timestamp_millis());
    assert_eq!(
        stored(&CheckpointDoc::of(&c)),
        fields(doc! {
            "_id": "BookingProjection",
            "position": 42i64,
            "skipped": [3i64, 7i64],
            "holes": [{"from": 10i64, "to": 12i64}],
            "updated_at": at,
            "updated_at_us": 1_700_000_000_123_456i64,
            "instance": "host-1",
            "last_error": "boom",
            "error_since": at,
        })
    );
    let quiet = Checkpoint::new("P", 1, "i");
    let keys: Vec<String> = stored(&CheckpointDoc::of(&quiet))
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        keys,
        [
            "_id",
            "position",
            "skipped",
            "holes",
            "updated_at",
            "updated_at_us",
            "instance"
        ]
    );
    let back: CheckpointDoc = read(bson::to_document(&CheckpointDoc::of(&c)).unwrap());
    let mut expected = c.clone();
    expected.error_since = DateTime::from_timestamp_millis(c.updated_at.timestamp_millis()); // ms precision
    assert_eq!(back.into_checkpoint("BookingProjection"), expected);
}

#[test]
fn old_and_odd_checkpoints_still_read() {
    let back: CheckpointDoc = read(doc! {
        "_id": "P",
        "position": 5.0,
        "skipped": [1i32, 2i64, -3i32, 4.0, "x"],
        "holes": [{"from": 2i32, "to": 3.0}, "junk", {"from": "a"}],
        "updated_at": "not a date",
        "updated_at_us": 7i32,
        "instance": 3i32,
        "last_error": Bson::Null,
        "error_since": 12i64,
    });
    let c = back.into_checkpoint("P");
    assert_eq!(c.position, 5);
    assert_eq!(c.skipped, vec![1, 2]);
    assert_eq!(
        c.holes,
        vec![Hole { from: 2, to: 3 }, Hole { from: 0, to: 0 }]
    );
    assert_eq!(c.updated_at.timestamp_micros(), 7);
    assert_eq!(
        (c.instance.as_str(), c.last_error, c.error_since),
        ("", None, None)
    );
    let empty: CheckpointDoc = read(doc! {"_id": "P"});
    let c = empty.into_checkpoint("P");
    assert_eq!((c.position, c.skipped.len(), c.holes.len()), (0, 0, 0));
}

#[test]
fn snapshots_parts_locks_and_fences_are_stored_as_before() {
    let meta = doc! {"id": "u", "chunks": 2i64};
    let snapshot = SnapshotDoc {
        id: "u".into(),
        position: 9,
        meta: Bson::Document(meta.clone()),
    };
    assert_eq!(
        stored(&snapshot),
        fields(doc! {"_id": "u", "position": 9i64, "meta": meta})
    );
    assert_eq!(read::<SnapshotDoc>(doc! {"_id": "u"}).meta, Bson::Null);

    let bytes = Binary {
        subtype: BinarySubtype::Generic,
        bytes: vec![1, 2, 3],
    };
    let part = PartDoc {
        id: "u:00000000:0000".into(),
        snapshot_id: "u".into(),
        seq: 0,
        part: 0,
        parts: 1,
        data: Some(bytes.clone()),
    };
    let expected = doc! {
        "_id": "u:00000000:0000", "snapshot_id": "u", "seq": 0i64, "part": 0i64,
        "parts": 1i64, "data": bytes.clone(),
    };
    assert_eq!(stored(&part), fields(expected.clone()));
    assert_eq!(read::<PartDoc>(expected), part);
    let odd: PartDoc = read(doc! {"_id": "x", "parts": 2i32, "data": "text"});
    assert_eq!((odd.parts, odd.data), (2, None));

    let until = bson::DateTime::from_millis(1_000);
    let lock = LockDoc {
        name: "booking:1".into(),
        owner: "me".into(),
        fencing: 4,
        expires_at_ms: 1_000,
        expires_at: until,
        renewed_at: Some(bson::DateTime::from_millis(400)),
    };
    let expected = doc! {
        "_id": "booking:1", "owner": "me", "fencing": 4i64,
        "expires_at_ms": 1_000i64, "expires_at": until,
        "renewed_at": bson::DateTime::from_millis(400),
    };
    assert_eq!(stored(&lock), fields(expected.clone()));
    assert_eq!(read::<LockDoc>(expected), lock);
    let old: LockDoc = read(doc! {"_id": "l", "owner": "o", "fencing": 3i32, "expires_at_ms": 5.0});
    assert_eq!(
        old.lease("l"),
        Lease {
            name: "l".into(),
            owner: "o".into(),
            fencing: 3,
            expires_at: DateTime::from_timestamp_millis(5).unwrap(),
            renewed_at: None,
        }
    );

    let fence = FenceDoc {
        id: format!("f:{:020}", 7),
        at: until,
    };
    assert_eq!(
        stored(&fence),
        fields(doc! {"_id": "f:00000000000000000007", "at": until})
    );
    for last in [Bson::Int32(6), Bson::Int64(6), Bson::Double(6.0)] {
        let hint: FencingHintDoc = read(doc! {"_id": FENCING_HINT, "last": last});
        assert_eq!(hint.last, 6);
    }
}
