//! The alert history table.

use rusqlite::{Connection, params};

use super::rows::{AsText, text};
use crate::StoreError;
use crate::alert::AlertRecord;

pub(super) fn record(conn: &Connection, record: &AlertRecord) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO alert_history (alert_id, severity, title, description, route_key,
                webhook_url, routing_key, outcome, attempts, last_error, slo_breached, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        record.alert_id,
        AsText(record.severity),
        record.title,
        record.description,
        record.route_key,
        record.webhook_url,
        record.routing_key,
        AsText(record.outcome),
        record.attempts,
        record.last_error,
        record.slo_breached,
        AsText(record.created_at)
    ])?;
    Ok(conn.last_insert_rowid())
}

/// The newest `limit` entries, newest first.
pub(super) fn list(conn: &Connection, limit: usize) -> Result<Vec<AlertRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, alert_id, severity, title, description, route_key, webhook_url, routing_key,
                outcome, attempts, last_error, slo_breached, created_at
         FROM alert_history ORDER BY id DESC LIMIT ?1",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let records = stmt
        .query_map([limit], |row| {
            Ok(AlertRecord {
                id: row.get(0)?,
                alert_id: row.get(1)?,
                severity: text(row, 2)?,
                title: row.get(3)?,
                description: row.get(4)?,
                route_key: row.get(5)?,
                webhook_url: row.get(6)?,
                routing_key: row.get(7)?,
                outcome: text(row, 8)?,
                attempts: row.get(9)?,
                last_error: row.get(10)?,
                slo_breached: row.get(11)?,
                created_at: text(row, 12)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(records)
}
