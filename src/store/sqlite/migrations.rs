//! Numbered schema migrations of `ledger.sqlite3`: the file records the last
//! one applied in `PRAGMA user_version`; opening it writable applies those
//! after it, in order, each in its own transaction with the new number.
//! (What came before them is brought up to date by `ledger.rs`'s schema.)

use rusqlite::Connection;

/// The migrations, numbered from 1. Append only: a number never changes
/// meaning once released.
pub(crate) const LEDGER_MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "CREATE TABLE IF NOT EXISTS repairs(
        id TEXT PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        instance TEXT NOT NULL,
        read_store TEXT NOT NULL,
        kind TEXT NOT NULL,
        entry TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS repairs_at ON repairs(at_ms);",
)];

/// The last migration applied to the file (0: none).
pub(crate) fn applied(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Applies every migration of `migrations` after the file's number.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[(i64, &str)]) -> rusqlite::Result<()> {
    let done = applied(conn)?;
    for (number, sql) in migrations.iter().filter(|(n, _)| *n > done) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", number)?;
        tx.commit()?;
        tracing::info!(migration = number, "ledger schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_in_order_and_are_recorded() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, LEDGER_MIGRATIONS).unwrap();
        assert_eq!(applied(&conn).unwrap(), LEDGER_MIGRATIONS.len() as i64);
        // A second open applies nothing (a non-idempotent step would fail).
        migrate(&mut conn, &[(1, "CREATE TABLE never(x)")]).unwrap();
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('repairs', 'never')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 1);
    }
}
