//! Unit tests of `view_order.rs`: the directory's sorts and the passes over
//! the rows give the order the whole state gives.

use super::*;
use crate::domain::ReadState;
use crate::domain::RowDiff;
use crate::engine::snapshot_delta::{self, Changes};
use crate::engine::view::tests::events;
use crate::engine::view::{ViewBase, ViewDiff};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

/// The state after `to` events: the fold of the first `split` as a
/// base, the rest as an overlay.
fn view(split: usize, to: usize) -> Arc<StateView> {
    let events = events();
    let base = ReadState::fold(&events[..split]);
    let mut changes = Changes::default();
    for event in &events[split..to] {
        snapshot_delta::add_event(&mut changes, event.position, &event.decode().unwrap());
    }
    let base = Arc::new(ViewBase::from_state(None, base));
    Arc::new(StateView::new(base, to as u64, changes))
}

fn sort(column: usize, descending: bool) -> Option<SortBy> {
    Some(SortBy { column, descending })
}

#[test]
fn a_search_ignores_case_and_finds_a_key_by_its_prefix() {
    let needle = Needle::new("  ANA ").unwrap();
    assert!(needle.matches("Mariana"));
    assert!(!needle.matches("Ann"));
    assert!(Needle::new("maría").unwrap().matches("Ana MARÍA"));
    assert!(Needle::new("").is_none());
    let key = uuid::Uuid::from_u128(0xabcdef12_3456_4789_8abc_def012345678).to_string();
    assert!(Needle::new("ABCDEF12-34").unwrap().matches(&key));
    assert_eq!(compare_cells("9", "10"), Ordering::Less, "numbers by value");
    assert_eq!(compare_cells("120.50", "1200.00"), Ordering::Less);
    assert_eq!(compare_cells("99", "Ana"), Ordering::Less, "numbers first");
    assert_eq!(compare_cells("2026-05-01", "2026-04-30"), Ordering::Greater);
}

#[test]
fn a_view_orders_like_its_whole_state() {
    let view = view(60, 150);
    let state = block_on(view.materialize()).unwrap();
    for table in Table::ALL {
        let cells: Vec<Vec<String>> = match table {
            Table::Users => state.users.values().map(Row::cells).collect(),
            Table::Bookings => state.bookings.values().map(Row::cells).collect(),
        };
        let last = last_position_column(table).unwrap();
        for query in [
            RowQuery::default(),
            RowQuery {
                sort: sort(0, true),
                ..RowQuery::default()
            },
            RowQuery {
                sort: sort(last, false),
                ..RowQuery::default()
            },
            RowQuery {
                sort: sort(last, true),
                ..RowQuery::default()
            },
            RowQuery {
                sort: sort(1, false),
                ..RowQuery::default()
            },
            RowQuery {
                sort: sort(2, true),
                ..RowQuery::default()
            },
            RowQuery {
                search: "calle".into(),
                ..RowQuery::default()
            },
            RowQuery {
                search: cells[3][0][..6].to_uppercase(),
                ..RowQuery::default()
            },
            RowQuery {
                search: "e".into(),
                sort: sort(1, true),
                ..RowQuery::default()
            },
        ] {
            let want = order_rows(
                cells.len(),
                &query,
                |r, c| cells[r].get(c).map(String::as_str),
                |r, n| n.matches_any(cells[r].iter().map(String::as_str)),
                |_| None,
            );
            let got = block_on(view.order(table, &query, &PassControl::default())).unwrap();
            let got = got.map(|o| o.to_vec());
            // The directory's sorts and the pass give the same order.
            let normal = |o: Option<Vec<u32>>| {
                o.filter(|o| *o != (0..cells.len() as u32).collect::<Vec<_>>())
            };
            assert_eq!(normal(got.clone()), normal(want), "{table} {query:?}");
            if let (Some(order), Some(s)) = (&got, query.sort) {
                let column: Vec<&str> = order
                    .iter()
                    .map(|i| cells[*i as usize][s.column].as_str())
                    .collect();
                assert!(
                    column.windows(2).all(|w| {
                        let o = compare_cells(w[0], w[1]);
                        if s.descending { o.is_ge() } else { o.is_le() }
                    }),
                    "{table} sorted by column {}",
                    s.column
                );
            }
            if let Some(n) = query.needle() {
                let matching = cells
                    .iter()
                    .filter(|c| n.matches_any(c.iter().map(String::as_str)))
                    .count();
                assert_eq!(got.map(|o| o.len()), Some(matching));
            }
            // A page read by index is those rows.
            let order: Vec<u32> = block_on(view.order(table, &query, &PassControl::default()))
                .unwrap()
                .map_or_else(|| (0..cells.len() as u32).collect(), |o| o.to_vec());
            let page = &order[..order.len().min(7)];
            let rows = block_on(view.row_cells_at(table, page)).unwrap();
            let read: Vec<&Vec<String>> = rows.iter().map(|r| &r.cells).collect();
            let expected: Vec<&Vec<String>> = page.iter().map(|i| &cells[*i as usize]).collect();
            assert_eq!(read, expected);
        }
    }
}

#[test]
fn a_difference_filters_kinds_and_orders_by_the_newer_side() {
    let older = view(40, 60);
    let newer = view(40, 150);
    let diff = ViewDiff::new(older, newer);
    let table = Table::Bookings;
    let all: Vec<RowDiff> =
        block_on(diff.rows_at(table, &(0..diff.len(table) as u32).collect::<Vec<_>>()))
            .unwrap()
            .into_iter()
            .map(Option::unwrap)
            .collect();
    let (added, _, changed) = diff.counts(table);
    assert!(
        added > 0 && changed > 0,
        "the ledger adds and changes bookings"
    );
    let last = last_position_column(table).unwrap();
    for query in [
        RowQuery {
            kinds: KindFilter::default().toggled(DiffKind::Added),
            ..RowQuery::default()
        },
        RowQuery {
            sort: sort(last, true),
            ..RowQuery::default()
        },
        RowQuery {
            sort: sort(2, false),
            search: "a".into(),
            ..RowQuery::default()
        },
    ] {
        let want = order_rows(
            all.len(),
            &query,
            |r, c| shown_cells(&all[r]).get(c).map(String::as_str),
            |r, n| diff_matches(&all[r], n),
            |r| Some(diff.keys[table.slot()][r].1),
        );
        let got = block_on(diff.order(table, &query, &PassControl::default())).unwrap();
        assert_eq!(got.map(|o| o.to_vec()), want, "{query:?}");
    }
    // Changed rows carry the newer side's last position.
    for row in &all {
        if let RowDiff::Changed { last_position, .. } = row {
            assert!(*last_position > 60);
        }
    }
}

/// Times the orders of a large table (not a check; run by hand):
/// `CARGO_PROFILE_DEV_OPT_LEVEL=2 N=300000 cargo test --lib measure_orders
/// -- --ignored --nocapture`. The base is in memory: a stored snapshot adds
/// reading and decoding its pages.
#[test]
#[ignore]
fn measure_orders() {
    use crate::domain::{BookingRow, BookingStatus, UserRow};
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let services = [
        "Suite",
        "Double room",
        "Single room",
        "Apartment",
        "Spa day",
        "Dinner",
    ];
    let mut state = ReadState::default();
    for i in 0..n {
        let key = uuid::Uuid::from_u128(
            (i as u128).wrapping_mul(0x9E3779B97F4A7C15_F39CC0605CEDC835) ^ 0x1234,
        );
        let mut row = BookingRow {
            booking_id: key,
            user_id: uuid::Uuid::from_u128(i as u128 / 2),
            service: services[i % 6].to_string(),
            check_in: chrono::NaiveDate::from_ymd_opt(
                2026,
                1 + (i % 12) as u32,
                1 + (i % 28) as u32,
            )
            .unwrap(),
            check_out: chrono::NaiveDate::from_ymd_opt(
                2026,
                1 + (i % 12) as u32,
                2 + (i % 27) as u32,
            )
            .unwrap(),
            guests: 1 + (i % 5) as u32,
            price_cents: ((i * 7919) % 500_000) as i64,
            last_position: (i as u64 * 31) % (n as u64 * 2),
            ..BookingRow::default()
        };
        if i % 7 == 0 {
            row.status = BookingStatus::Cancelled;
        }
        state.bookings.insert(key, row);
        if i % 2 == 0 {
            let u = uuid::Uuid::from_u128(i as u128 / 2);
            state.users.insert(
                u,
                UserRow {
                    user_id: u,
                    email: format!("user{i}@example.com"),
                    name: format!("Name {i}"),
                    address: format!("Calle {i}"),
                    created_position: i as u64,
                    last_position: i as u64,
                },
            );
        }
    }
    state.position = n as u64 * 2;
    let base = Arc::new(ViewBase::from_state(None, state));
    let view = StateView::of_base(base);
    let table = Table::Bookings;
    let service = 2;
    let price = 6;
    let last = last_position_column(table).unwrap();
    for (name, query) in [
        (
            "last_position (directory)",
            RowQuery {
                sort: sort(last, false),
                ..RowQuery::default()
            },
        ),
        (
            "key desc (directory)",
            RowQuery {
                sort: sort(0, true),
                ..RowQuery::default()
            },
        ),
        (
            "service (pass, text)",
            RowQuery {
                sort: sort(service, false),
                ..RowQuery::default()
            },
        ),
        (
            "price (pass, number)",
            RowQuery {
                sort: sort(price, true),
                ..RowQuery::default()
            },
        ),
        (
            "search 'suite' (pass)",
            RowQuery {
                search: "suite".into(),
                ..RowQuery::default()
            },
        ),
        (
            "search key prefix (pass)",
            RowQuery {
                search: "0000".into(),
                ..RowQuery::default()
            },
        ),
    ] {
        let started = std::time::Instant::now();
        let order = block_on(view.order(table, &query, &PassControl::default())).unwrap();
        eprintln!(
            "MEASURE {n} bookings, {name}: {:.0} ms, {} rows in the order",
            started.elapsed().as_secs_f64() * 1000.0,
            order.map_or(0, |o| o.len())
        );
    }
    let empty = Arc::new(StateView::of_base(Arc::new(ViewBase::empty())));
    let diff = ViewDiff::new(empty, Arc::new(view));
    for (name, query) in [
        (
            "diff, service (pass, text)",
            RowQuery {
                sort: sort(service, false),
                ..RowQuery::default()
            },
        ),
        (
            "diff, search 'suite' (pass)",
            RowQuery {
                search: "suite".into(),
                ..RowQuery::default()
            },
        ),
    ] {
        let started = std::time::Instant::now();
        let order = block_on(diff.order(table, &query, &PassControl::default())).unwrap();
        eprintln!(
            "MEASURE {n} added bookings, {name}: {:.0} ms, {} rows in the order",
            started.elapsed().as_secs_f64() * 1000.0,
            order.map_or(0, |o| o.len())
        );
    }
    let view = &diff.after;
    // The sort keys a text sort holds at its peak.
    let mut keys = SortKeys::default();
    let rows = block_on(view.row_cells_at(table, &(0..n as u32).collect::<Vec<_>>())).unwrap();
    for (i, r) in rows.iter().enumerate() {
        keys.push(i as u32, &r.cells[service]);
    }
    eprintln!(
        "MEASURE sort keys of the service column: {} bytes",
        keys.bytes()
    );
    let mut keys = SortKeys::default();
    for (i, r) in rows.iter().enumerate() {
        keys.push(i as u32, &r.cells[1]);
    }
    eprintln!(
        "MEASURE sort keys of the user_id column (36-byte texts): {} bytes",
        keys.bytes()
    );
}
