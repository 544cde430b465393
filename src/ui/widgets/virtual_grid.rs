//! A striped grid with a header row of which only the visible rows are laid
//! out: the lists of Operations (snapshots, repairs) hold thousands.

use std::ops::Range;

/// Draws `len` rows under `headers`, at most `max_height` tall; `row(ui, i)`
/// draws the cells of row `i` (no `end_row`) for the visible rows only.
pub fn virtual_grid_ui(
    ui: &mut egui::Ui,
    id: &str,
    max_height: f32,
    headers: &[&str],
    len: usize,
    mut row: impl FnMut(&mut egui::Ui, usize),
) {
    let row_height = ui.spacing().interact_size.y + 3.0;
    egui::ScrollArea::vertical()
        .id_salt(id)
        .max_height(max_height)
        .show_rows(ui, row_height, len + 1, |ui, range| {
            egui::Grid::new((id, "grid"))
                .num_columns(headers.len())
                .striped(true)
                .spacing([14.0, 3.0])
                .min_row_height(row_height - 3.0)
                .show(ui, |ui| {
                    if range.start == 0 {
                        for h in headers {
                            ui.strong(*h);
                        }
                        ui.end_row();
                    }
                    for i in visible_rows(&range, len) {
                        row(ui, i);
                        ui.end_row();
                    }
                });
        });
}

/// The data rows shown when `range` of the grid's rows (row 0 the header)
/// is visible.
fn visible_rows(range: &Range<usize>, len: usize) -> Range<usize> {
    let start = range.start.saturating_sub(1);
    let end = range.end.saturating_sub(1).min(len);
    start..end.max(start)
}

#[cfg(test)]
mod tests {
    use super::visible_rows;

    #[test]
    fn the_header_takes_the_first_row() {
        assert_eq!(visible_rows(&(0..5), 10), 0..4);
        assert_eq!(visible_rows(&(3..8), 10), 2..7);
        assert_eq!(visible_rows(&(9..11), 10), 8..10);
        assert_eq!(visible_rows(&(0..1), 0), 0..0);
    }
}
