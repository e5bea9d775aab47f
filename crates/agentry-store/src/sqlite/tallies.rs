//! Rows counted by kind, for `/metrics`: one `GROUP BY` per table, no row read.

use std::collections::BTreeMap;

use rusqlite::Connection;

use crate::{StoreError, Tallies};

pub(super) fn read(conn: &Connection) -> Result<Tallies, StoreError> {
    Ok(Tallies {
        issues: count_by(conn, "SELECT status, COUNT(*) FROM issues GROUP BY status")?,
        events: count_by(
            conn,
            "SELECT event_type, COUNT(*) FROM events GROUP BY event_type",
        )?,
        alerts: count_by(
            conn,
            "SELECT outcome, COUNT(*) FROM alert_history GROUP BY outcome",
        )?,
    })
}

/// The rows of `sql`, a key and its count each.
fn count_by(conn: &Connection, sql: &str) -> Result<BTreeMap<String, u64>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let counts = stmt
        .query_map([], |row| {
            Ok((row.get(0)?, row.get::<_, i64>(1)?.unsigned_abs()))
        })?
        .collect::<Result<_, _>>()?;
    Ok(counts)
}
