//! Schema versions, kept in SQLite's `user_version`.

use rusqlite::Connection;

use crate::StoreError;

/// Each entry moves the schema one version up; entries are never edited once released.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_sessions.sql"),
    include_str!("migrations/0003_operator.sql"),
    include_str!("migrations/0004_alerts.sql"),
    include_str!("migrations/0005_templates.sql"),
    include_str!("migrations/0006_planner.sql"),
];

/// Brings the schema up to date, refusing a database written by a newer agentry.
pub(super) fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let supported = MIGRATIONS.len() as i64;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > supported {
        return Err(StoreError::NewerSchema {
            path: path.to_string(),
            found,
            supported,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_schema_is_refused_with_a_clear_message() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        let err = migrate(&mut conn, "x.db").unwrap_err().to_string();
        assert_eq!(
            err,
            "the store x.db was written by a newer agentry (schema version 99; this agentry knows up to 6): upgrade agentry"
        );
    }

    #[test]
    fn migrating_twice_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, "x.db").unwrap();
        migrate(&mut conn, "x.db").unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }
}
