use super::*;

// ---------------------------------------------------------------- published models

pub(super) fn published_def() -> ModelDef {
    let column = |name: &str, ty: ColumnType, nullable: bool| ColumnDef {
        name: name.into(),
        ty,
        nullable,
    };
    ModelDef {
        name: "m".into(),
        version: 1,
        tables: vec![TableDef {
            name: "t".into(),
            columns: vec![
                column("k", ColumnType::Uuid, false),
                column("day", ColumnType::Date, false),
                column("n", ColumnType::Integer, true),
                column("x", ColumnType::Real, true),
                column("b", ColumnType::Boolean, true),
                column("s", ColumnType::Text, true),
            ],
            key: vec![0, 1],
        }],
        events: Vec::new(),
    }
}

pub(super) fn published_row(k: u8, n: i64) -> Vec<Value> {
    vec![
        Value::Uuid(Uuid::from_bytes([k; 16])),
        Value::Date(day(u32::from(k))),
        Value::Integer(n),
        Value::Real(n as f64 / 2.0),
        Value::Boolean(n % 2 == 0),
        Value::Null,
    ]
}

/// Published models: replaced with their rows, changed with a
/// compare-and-set on the checkpoint, refused when recorded with another
/// ledger or definition, dropped. `sum` reads `(count(*), sum(n))` of the
/// published table (`None`: no table).
pub(super) async fn published_contract<F, Fut>(read: Arc<dyn ReadStore>, sum: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<(i64, i64)>>,
{
    assert!(read.published().await.unwrap().is_empty());
    let model = PublishedModel {
        name: "m".into(),
        digest: "d1".into(),
        ledger_id: LEDGER,
        position: 5,
        def: published_def(),
    };
    let written = read
        .publish_replace(
            &model,
            pages_of(vec![vec![published_row(1, 10), published_row(2, 20)]]),
        )
        .await
        .unwrap();
    assert_eq!(written, 2);
    assert_eq!(read.published().await.unwrap(), vec![model.clone()]);
    assert_eq!(sum().await, Some((2, 30)));
    // Pages that stop before their end (the model's file failed midway)
    // publish nothing: the tables and record stay as they were.
    let (pages, received) = tokio::sync::mpsc::channel(4);
    pages
        .send(RowPage::Rows {
            table: 0,
            rows: vec![published_row(7, 70)],
        })
        .await
        .unwrap();
    drop(pages);
    let stopped = read
        .publish_replace(
            &PublishedModel {
                position: 7,
                ..model.clone()
            },
            received,
        )
        .await;
    assert!(
        stopped
            .as_ref()
            .is_err_and(|e| e.to_string().contains("stopped before the last one")),
        "{stopped:?}"
    );
    assert_eq!(read.published().await.unwrap(), vec![model.clone()]);
    assert_eq!(sum().await, Some((2, 30)));
    let key = |k: u8| {
        vec![
            Value::Uuid(Uuid::from_bytes([k; 16])),
            Value::Date(day(u32::from(k))),
        ]
    };
    let moved = PublishedModel {
        position: 9,
        ..model.clone()
    };
    let changes = [
        PublishedChange {
            table: 0,
            key: key(1),
            row: Some(published_row(1, 11)),
        },
        PublishedChange {
            table: 0,
            key: key(2),
            row: None,
        },
        PublishedChange {
            table: 0,
            key: key(3),
            row: Some(published_row(3, 33)),
        },
    ];
    assert!(read.publish_apply(&moved, 5, &changes).await.unwrap());
    assert_eq!(sum().await, Some((2, 44)));
    // Moved on meanwhile: nothing written.
    let stale = PublishedModel {
        position: 12,
        ..model.clone()
    };
    assert!(!read.publish_apply(&stale, 5, &changes[1..2]).await.unwrap());
    assert_eq!(read.published().await.unwrap()[0].position, 9);
    // Another definition or ledger: refused, nothing written.
    for other in [
        PublishedModel {
            digest: "d2".into(),
            ..moved.clone()
        },
        PublishedModel {
            ledger_id: Uuid::from_u128(99),
            ..moved.clone()
        },
    ] {
        let refused = read.publish_apply(&other, 9, &changes[..1]).await;
        assert!(
            matches!(refused, Err(StoreError::OtherPublished { .. })),
            "{refused:?}"
        );
    }
    assert_eq!(sum().await, Some((2, 44)));
    assert!(read.unpublish("m").await.unwrap());
    assert!(!read.unpublish("m").await.unwrap());
    assert!(read.published().await.unwrap().is_empty());
    assert_eq!(sum().await, None);
    let gone = read.publish_apply(&moved, 9, &[]).await;
    assert!(matches!(gone, Err(StoreError::NotFound(_))), "{gone:?}");
}
