//! What the guided scenarios do to an embedded training data dir behind
//! the projectors' back: one read row drifted, as a bug or a hand-made
//! `UPDATE` would leave it (the replay scenario repairs it).

use std::path::Path;
use std::time::Duration;

use crate::store::StoreError;

/// The read store's file in an embedded data dir.
const VIEWS_FILE: &str = "views.sqlite3";

/// Sets `guests` to 19 on the first `bookings` read row in key order of the
/// embedded data dir `dir`; the drifted booking's id (`None`: no rows).
/// Blocking: run it off the UI thread.
pub fn drift_first_booking(dir: &Path) -> Result<Option<String>, StoreError> {
    let fail = |e: rusqlite::Error| StoreError::Failed {
        store: format!("sqlite {}", dir.join(VIEWS_FILE).display()),
        message: e.to_string(),
    };
    let views = rusqlite::Connection::open(dir.join(VIEWS_FILE)).map_err(fail)?;
    views.busy_timeout(Duration::from_secs(5)).map_err(fail)?;
    let id: Option<String> = match views.query_row(
        "SELECT booking_id FROM bookings ORDER BY booking_id LIMIT 1",
        [],
        |r| r.get(0),
    ) {
        Ok(id) => Some(id),
        Err(rusqlite::Error::QueryReturnedNoRows) => None,
        Err(e) => return Err(fail(e)),
    };
    if let Some(id) = &id {
        views
            .execute(
                "UPDATE bookings SET guests = 19 WHERE booking_id = ?1",
                [id],
            )
            .map_err(fail)?;
    }
    Ok(id)
}
