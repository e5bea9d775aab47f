//! Agent runs: recorded when they start, with their process, and when they end.

use agentry_core::Timestamp;
use rusqlite::{Connection, params};

use super::rows::{AsText, text};
use crate::StoreError;
use crate::session::{AgentRunEnd, LiveAgentRun, NewAgentRun};

pub(super) fn start(conn: &Connection, run: &NewAgentRun) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO agent_runs (issue_id, session_id, role, backend, host, pid, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        AsText(&run.issue_id),
        run.session_id,
        run.role,
        run.backend,
        run.host,
        run.pid,
        AsText(run.started_at)
    ])?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn finish(
    conn: &Connection,
    run_id: i64,
    end: &AgentRunEnd,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE agent_runs SET ended_at = ?2, exit_code = ?3, error = ?4 WHERE id = ?1",
    )?
    .execute(params![run_id, AsText(now), end.exit_code, end.error])?;
    Ok(())
}

pub(super) fn record(
    conn: &Connection,
    run: &NewAgentRun,
    end: &AgentRunEnd,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let run_id = start(conn, run)?;
    finish(conn, run_id, end, now)?;
    Ok(run_id)
}

pub(super) fn live(conn: &Connection) -> Result<Vec<LiveAgentRun>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, issue_id, host, pid FROM agent_runs WHERE ended_at IS NULL AND pid IS NOT NULL ORDER BY id",
    )?;
    let runs = stmt
        .query_map([], |row| {
            Ok(LiveAgentRun {
                id: row.get(0)?,
                issue_id: text(row, 1)?,
                host: row.get(2)?,
                pid: row.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(runs)
}
