//! The planner run and contract failure tables.

use std::collections::BTreeMap;

use agentry_core::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::rows::{AsText, text};
use crate::StoreError;
use crate::planner::{PlannerRun, PlannerRunEnd};

pub(super) fn start(
    conn: &Connection,
    planner: &str,
    params: &Value,
    now: Timestamp,
) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO planner_runs (planner, params, started_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![planner, params.to_string(), AsText(now)])?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn finish(
    conn: &Connection,
    id: i64,
    end: &PlannerRunEnd,
    now: Timestamp,
) -> Result<(), StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE planner_runs SET outcome = ?2, error = ?3, duration_ms = ?4, attempts = ?5,
                    ended_at = ?6
             WHERE id = ?1",
        )?
        .execute(params![
            id,
            AsText(end.outcome),
            end.error,
            end.duration_ms as i64,
            end.attempts,
            AsText(now)
        ])?;
    match changed {
        0 => Err(StoreError::Invalid(format!("no planner run {id}"))),
        _ => Ok(()),
    }
}

pub(super) fn record_failure(
    conn: &Connection,
    run_id: i64,
    reason: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO planner_contract_failures (run_id, reason, created_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![run_id, reason, AsText(now)])?;
    Ok(())
}

pub(super) fn failures(
    conn: &Connection,
    since: Option<Timestamp>,
) -> Result<BTreeMap<String, u64>, StoreError> {
    let since = since.map(|at| at.to_string()).unwrap_or_default();
    let mut stmt = conn.prepare_cached(
        "SELECT reason, COUNT(*) FROM planner_contract_failures WHERE created_at >= ?1
         GROUP BY reason",
    )?;
    let counts = stmt
        .query_map([since], |row| {
            Ok((row.get(0)?, row.get::<_, i64>(1)? as u64))
        })?
        .collect::<Result<_, _>>()?;
    Ok(counts)
}

pub(super) fn run(conn: &Connection, id: i64) -> Result<PlannerRun, StoreError> {
    conn.prepare_cached(
        "SELECT id, planner, params, started_at, ended_at, outcome, error, duration_ms, attempts
         FROM planner_runs WHERE id = ?1",
    )?
    .query_row([id], |row| {
        let params: String = row.get(2)?;
        let outcome: Option<AsText<_>> = row.get(5)?;
        let duration_ms: Option<i64> = row.get(7)?;
        Ok(PlannerRun {
            id: row.get(0)?,
            planner: row.get(1)?,
            params: serde_json::from_str(&params).unwrap_or(Value::Null),
            started_at: text(row, 3)?,
            ended_at: row.get::<_, Option<AsText<Timestamp>>>(4)?.map(|at| at.0),
            end: outcome.map(|AsText(outcome)| PlannerRunEnd {
                outcome,
                error: row.get(6).unwrap_or_default(),
                duration_ms: duration_ms.unwrap_or(0) as u64,
                attempts: row.get(8).unwrap_or_default(),
            }),
        })
    })
    .optional()?
    .ok_or_else(|| StoreError::Invalid(format!("no planner run {id}")))
}
