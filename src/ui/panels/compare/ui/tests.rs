use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use uuid::Uuid;

use super::compare_ui;
use crate::domain::{RowDiff, Table, TableDiff};
use crate::ui::app::Shell;
use crate::ui::panels::compare::{CompareMessage, ComparePanel, FoundRows};

fn found(count: u64, key: Uuid) -> FoundRows {
    let cells = vec![
        key.to_string(),
        "ana@example.com".into(),
        "Ana".into(),
        "Calle Mayor 1".into(),
        "4".into(),
        "9".into(),
    ];
    FoundRows {
        count,
        first: TableDiff {
            table: Table::Users,
            columns: Table::Users
                .columns()
                .iter()
                .map(|c| c.to_string())
                .collect(),
            rows: vec![RowDiff::Added {
                key,
                after: cells,
                last_position: 9,
            }],
        },
    }
}

fn drawn(panel: &ComparePanel) -> Harness<'_> {
    let shell = Shell::default();
    let mut harness = Harness::builder()
        .with_size([1100.0, 600.0])
        .build_ui(move |ui| compare_ui(ui, panel, &shell, &mut Vec::new()));
    harness.run();
    harness
}

#[test]
fn a_running_comparison_lists_what_it_has_found_so_far() {
    let key = Uuid::from_u128(0xabcdef12_3456_4789_8abc_def012345678);
    let mut panel = ComparePanel::default();
    // Not asked: a late message of an earlier run is not shown.
    panel.apply(CompareMessage::Found(vec![found(1, key)]));
    assert!(panel.found.is_empty());

    panel.verify.ask(0);
    panel.apply(CompareMessage::Found(vec![found(7, key)]));
    {
        let harness = drawn(&panel);
        assert!(
            harness
                .query_by_label_contains("Differing rows found so far: users 7")
                .is_some()
        );
        assert!(
            harness.query_by_label_contains("abcdef12").is_some(),
            "the row found is listed"
        );
        assert!(harness.query_by_label("missing").is_some());
    }

    // The report replaces what was found so far.
    panel.apply(CompareMessage::Verify(Err(
        crate::engine::EngineError::Cancelled,
    )));
    assert!(!panel.verify.is_asked());
    assert!(panel.found.is_empty());
    let harness = drawn(&panel);
    assert!(harness.query_by_label_contains("found so far").is_none());
}

#[test]
fn two_positions_past_the_head_or_not_numbers_are_refused_in_one_sentence() {
    use crate::ui::panels::compare::{PositionsInput, check_positions};
    assert_eq!(check_positions(" 1000", "1200 ", 4944), Ok((1000, 1200)));
    assert_eq!(check_positions("1200", "1000", 4944), Ok((1200, 1000)));
    assert_eq!(
        check_positions("1000", "99999", 4944),
        Err(PositionsInput::PastHead {
            position: 99999,
            head: 4944
        })
    );
    assert_eq!(
        check_positions("1000", "99999", 4944)
            .unwrap_err()
            .to_string(),
        "position 99999 is past the head 4944"
    );
    assert_eq!(
        check_positions("ten", "20", 30),
        Err(PositionsInput::NotNumbers { head: 30 })
    );
}
