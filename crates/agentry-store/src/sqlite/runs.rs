//! Agent runs: recorded when they start, with their process, and when they end.

use agentry_core::{IssueId, Timestamp};
use rusqlite::{Connection, params};

use super::rows::{AsText, text};
use crate::StoreError;
use crate::session::{AgentRun, AgentRunEnd, LiveAgentRun, NewAgentRun};

pub(super) fn start(conn: &Connection, run: &NewAgentRun) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO agent_runs (issue_id, session_id, role, backend, host, pid, started_at, log_ref)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        AsText(&run.issue_id),
        run.session_id,
        run.role,
        run.backend,
        run.host,
        run.pid,
        AsText(run.started_at),
        run.log_ref
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
        "UPDATE agent_runs SET ended_at = ?2, exit_code = ?3, error = ?4, model = ?5, turns = ?6,
                tokens_in = ?7, tokens_out = ?8, tokens_cache = ?9, cost_usd = ?10
         WHERE id = ?1",
    )?
    .execute(params![
        run_id,
        AsText(now),
        end.exit_code,
        end.error,
        end.model,
        end.turns,
        end.tokens_in.map(|n| n as i64),
        end.tokens_out.map(|n| n as i64),
        end.tokens_cache.map(|n| n as i64),
        end.cost_usd
    ])?;
    Ok(())
}

const RUN_COLUMNS: &str = "id, issue_id, session_id, role, backend, host, pid, started_at, ended_at, exit_code, error, model, turns, tokens_in, tokens_out, tokens_cache, cost_usd, log_ref";

fn run_row(row: &rusqlite::Row) -> rusqlite::Result<AgentRun> {
    let ended_at: Option<AsText<Timestamp>> = row.get(8)?;
    let count = |index| {
        row.get::<_, Option<i64>>(index)
            .map(|n| n.map(|n| n as u64))
    };
    Ok(AgentRun {
        id: row.get(0)?,
        issue_id: text(row, 1)?,
        session_id: row.get(2)?,
        role: row.get(3)?,
        backend: row.get(4)?,
        host: row.get(5)?,
        pid: row.get(6)?,
        started_at: text(row, 7)?,
        ended_at: ended_at.map(|t| t.0),
        exit_code: row.get(9)?,
        error: row.get(10)?,
        model: row.get(11)?,
        turns: row.get(12)?,
        tokens_in: count(13)?,
        tokens_out: count(14)?,
        tokens_cache: count(15)?,
        cost_usd: row.get(16)?,
        log_ref: row.get(17)?,
    })
}

/// Runs of one issue or of all, oldest first.
pub(super) fn list(
    conn: &Connection,
    issue: Option<&IssueId>,
) -> Result<Vec<AgentRun>, StoreError> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM agent_runs WHERE (?1 IS NULL OR issue_id = ?1) ORDER BY id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let runs = stmt
        .query_map([issue.map(IssueId::as_str)], run_row)?
        .collect::<Result<_, _>>()?;
    Ok(runs)
}

/// What agent runs that started at or after `since` cost, in USD.
pub(super) fn cost_since(conn: &Connection, since: Timestamp) -> Result<f64, StoreError> {
    let cost = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(cost_usd), 0.0) FROM agent_runs WHERE started_at >= ?1",
        )?
        .query_row([AsText(since)], |row| row.get(0))?;
    Ok(cost)
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
