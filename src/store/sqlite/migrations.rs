//! Numbered schema migrations of `ledger.sqlite3`: the file records the last
//! one applied in `PRAGMA user_version`; opening it writable applies those
//! after it, in order, each in its own transaction with the new number.
//! (What came before them is brought up to date by `ledger.rs`'s schema.)

use rusqlite::Connection;

/// The migrations, numbered from 1. Append only: a number never changes
/// meaning once released.
pub(crate) const LEDGER_MIGRATIONS: &[(i64, &str)] = &[
    (
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
    ),
    // `locks` keyed by name alone (WITHOUT ROWID: a lease taken or released
    // writes one page, not the table's and its key index's), and the
    // fencing counter in it as the row named '' (one page, not two), so a
    // command's lease costs one page in the write-ahead log.
    (
        2,
        "CREATE TABLE IF NOT EXISTS lock_fencing(id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);
    CREATE TABLE locks_by_name(
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        fencing INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        renewed_at_ms INTEGER
    ) WITHOUT ROWID;
    INSERT INTO locks_by_name SELECT name, owner, fencing, expires_at_ms, renewed_at_ms FROM locks WHERE name <> '';
    INSERT INTO locks_by_name(name, owner, fencing, expires_at_ms)
        SELECT '', '', last, 0 FROM lock_fencing WHERE id = 1;
    DROP TABLE locks;
    ALTER TABLE locks_by_name RENAME TO locks;
    DROP TABLE lock_fencing;",
    ),
];

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
        // The leases' table as `ledger.rs`'s schema made it before migration 2.
        conn.execute_batch(
            "CREATE TABLE locks(name TEXT PRIMARY KEY, owner TEXT NOT NULL, fencing INTEGER NOT NULL,
                 expires_at_ms INTEGER NOT NULL, renewed_at_ms INTEGER)",
        )
        .unwrap();
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
