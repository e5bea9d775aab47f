//! The SQLite backend: one database file, WAL journal, one writing connection behind a mutex
//! and a few connections that only read.

mod alerts;
mod backup;
mod claims;
mod file;
mod import;
mod integrity;
mod merge;
mod migrations;
mod operator;
mod planner;
mod readers;
mod rows;
mod runs;
mod tallies;
mod templates;
mod writes;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;

use agentry_core::import::{ImportRecord, ImportReport};
use agentry_core::{
    Event, EventType, Issue, IssueId, IssuePatch, Link, NewIssue, Status, Timestamp,
};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde_json::Value;

use crate::alert::AlertRecord;
use crate::operator::{ReviewAssignment, StateEntry};
use crate::planner::{PlannerRun, PlannerRunEnd};
use crate::session::{
    AgentRun, AgentRunEnd, Claim, ClaimAttempt, ClaimHolder, LiveAgentRun, MergeResult,
    NewAgentRun, SessionEnd, SessionRecord,
};
use crate::template::{AddedTemplate, TemplateSource, TemplateVersion};
use crate::{IssueDetail, IssueFilter, Store, StoreError, Tallies};
use file::OpenedFile;
use readers::Readers;
use rows::{AsText, ISSUE_COLUMNS};

/// The ready rule of `agentry_core::ready` for an issue row `i`, with `?1` the current time.
const READY_CONDITION: &str = "i.status = 'open' AND i.ready_at <= ?1
    AND NOT EXISTS (
        SELECT 1 FROM links AS l JOIN issues AS d ON d.id = l.dst
        WHERE l.src = i.id AND l.kind = 'depends-on' AND d.status <> 'closed')";

pub struct SqliteStore {
    conn: Mutex<Connection>,
    readers: Readers,
    /// The database file, checked before each write; `None` in memory.
    file: Option<OpenedFile>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        Self::open_with(path, busy_timeout, OpenFlags::default())
    }

    /// Opens the database at `path`, which must exist: `Missing` when it does not, and it is
    /// never created.
    pub fn open_existing(path: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.display().to_string(),
            });
        }
        let flags = OpenFlags::default().difference(OpenFlags::SQLITE_OPEN_CREATE);
        Self::open_with(path, busy_timeout, flags)
    }

    fn open_with(
        path: &Path,
        busy_timeout: Duration,
        flags: OpenFlags,
    ) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(busy_timeout)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let store = Self::prepare(conn, &path.display().to_string())?;
        Ok(Self {
            readers: Readers::open(path, busy_timeout)?,
            file: Some(OpenedFile::at(path)?),
            ..store
        })
    }

    /// A store that lives in memory, for dry runs.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::prepare(Connection::open_in_memory()?, ":memory:")
    }

    fn prepare(mut conn: Connection, name: &str) -> Result<Self, StoreError> {
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Fewer, larger checkpoints: each one syncs the database file.
        conn.pragma_update(None, "wal_autocheckpoint", 4000)?;
        // Room for every statement the writes use: with rusqlite's 16, a session's writes
        // evicted each other's statements and compiled them again.
        conn.set_prepared_statement_cache_capacity(64);
        stable_plans(&conn)?;
        migrations::migrate(&mut conn, name)?;
        Ok(Self {
            conn: Mutex::new(conn),
            readers: Readers::default(),
            file: None,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(unpoisoned)
    }

    /// The writing connection, once the database file is known to be the one opened.
    fn writer(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.check_file()?;
        Ok(self.conn())
    }

    /// A connection for a read that waits for no writer: the writing connection when it is
    /// free (its cache holds what was just written, which a reader would read again), else
    /// one of the readers (a store in memory has none, and waits).
    fn reader(&self) -> MutexGuard<'_, Connection> {
        match self.conn.try_lock() {
            Ok(conn) => conn,
            Err(TryLockError::Poisoned(poisoned)) => unpoisoned(poisoned),
            Err(TryLockError::WouldBlock) => self.readers.get().unwrap_or_else(|| self.conn()),
        }
    }

    /// Runs `write` in one immediate transaction, committed only if it succeeds. The
    /// statements that open and close it are cached: they run for every write.
    fn write<T>(
        &self,
        write: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.writer()?;
        if !conn.is_autocommit() {
            run(&conn, "ROLLBACK")?;
        }
        run(&conn, "BEGIN IMMEDIATE")?;
        let written = write(&conn).and_then(|value| run(&conn, "COMMIT").map(|()| value));
        if written.is_err() {
            let _ = run(&conn, "ROLLBACK");
        }
        written
    }
}

/// A connection whose holder panicked may be left inside a transaction: it is rolled back, so
/// that the next holder neither reads an old snapshot nor fails to begin its own.
fn unpoisoned<'a>(poisoned: PoisonError<MutexGuard<'a, Connection>>) -> MutexGuard<'a, Connection> {
    let conn = poisoned.into_inner();
    if !conn.is_autocommit() {
        let _ = run(&conn, "ROLLBACK");
    }
    conn
}

/// Plans that do not depend on bound values: otherwise, with the bundled SQLite's STAT4, a
/// cached statement is compiled again each time it is bound to a new value.
fn stable_plans(conn: &Connection) -> Result<(), StoreError> {
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

fn run(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Reads one issue, or `NotFound`.
fn find_issue(conn: &Connection, id: &IssueId) -> Result<Issue, StoreError> {
    let sql = format!("SELECT {ISSUE_COLUMNS} FROM issues WHERE id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([AsText(id)], rows::issue)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(id.clone()))
}

/// Runs `read` in one read transaction: its queries see one moment, and the connection takes
/// and drops its read locks once rather than per query.
fn read_transaction<T>(
    conn: &Connection,
    read: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    run(conn, "BEGIN")?;
    let value = read(conn);
    // Ended whether the read succeeded or not: a read transaction has nothing to keep.
    let ended = run(conn, "COMMIT");
    let value = value?;
    ended.map(|()| value)
}

/// The links that start or end at an issue.
fn links_of(conn: &Connection, id: &IssueId) -> Result<Vec<Link>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT src, kind, dst FROM links WHERE src = ?1 OR dst = ?1 ORDER BY src, kind, dst",
    )?;
    let links = stmt
        .query_map([AsText(id)], rows::link)?
        .collect::<Result<_, _>>()?;
    Ok(links)
}

/// An issue's events, oldest first.
fn events_of(conn: &Connection, id: &IssueId) -> Result<Vec<Event>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, issue_id, session_id, event_type, data, created_at FROM events WHERE issue_id = ?1 ORDER BY id",
    )?;
    let events = stmt
        .query_map([AsText(id)], rows::event)?
        .collect::<Result<_, _>>()?;
    Ok(events)
}

fn query_issues(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Issue>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let issues = stmt
        .query_map(params, rows::issue)?
        .collect::<Result<_, _>>()?;
    Ok(issues)
}

impl Store for SqliteStore {
    fn create_issue(&self, new: NewIssue, now: Timestamp) -> Result<Issue, StoreError> {
        new.validate()?;
        self.write(|tx| writes::create_issue(tx, new, now))
    }

    fn issue(&self, id: &IssueId) -> Result<Issue, StoreError> {
        find_issue(&self.reader(), id)
    }

    fn list_issues(&self, filter: &IssueFilter) -> Result<Vec<Issue>, StoreError> {
        let sql = format!(
            "SELECT {ISSUE_COLUMNS} FROM issues
             WHERE (?1 IS NULL OR status = ?1)
               AND (?2 IS NULL OR EXISTS (SELECT 1 FROM json_each(labels) WHERE value = ?2))
             ORDER BY priority, created_at, id"
        );
        let status = filter.status.map(Status::as_str);
        query_issues(&self.reader(), &sql, params![status, filter.label])
    }

    fn update_issue(
        &self,
        id: &IssueId,
        patch: IssuePatch,
        now: Timestamp,
    ) -> Result<Issue, StoreError> {
        self.write(|tx| writes::update_issue(tx, id, patch, now))
    }

    fn set_status(
        &self,
        id: &IssueId,
        to: Status,
        reason: &str,
        now: Timestamp,
    ) -> Result<Issue, StoreError> {
        self.write(|tx| writes::set_status(tx, id, to, reason, now))
    }

    fn add_link(&self, link: &Link, now: Timestamp) -> Result<bool, StoreError> {
        self.write(|tx| writes::add_link(tx, link, now))
    }

    fn remove_link(&self, link: &Link, now: Timestamp) -> Result<bool, StoreError> {
        self.write(|tx| writes::remove_link(tx, link, now))
    }

    fn append_event(
        &self,
        id: &IssueId,
        event_type: EventType,
        data: &Value,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            find_issue(tx, id)?;
            let event = agentry_core::event::NewEvent {
                issue_id: id.clone(),
                session_id: None,
                event_type,
                data: data.clone(),
            };
            writes::append_event(tx, &event, now)
        })
    }

    fn links(&self, id: &IssueId) -> Result<Vec<Link>, StoreError> {
        let conn = self.reader();
        find_issue(&conn, id)?;
        links_of(&conn, id)
    }

    fn events(&self, id: &IssueId) -> Result<Vec<Event>, StoreError> {
        let conn = self.reader();
        find_issue(&conn, id)?;
        events_of(&conn, id)
    }

    fn issue_detail(&self, id: &IssueId, state_keys: &[String]) -> Result<IssueDetail, StoreError> {
        read_transaction(&self.reader(), |conn| {
            let state = state_keys
                .iter()
                .filter_map(|key| operator::state(conn, key).transpose())
                .collect::<Result<_, _>>()?;
            Ok(IssueDetail {
                issue: find_issue(conn, id)?,
                links: links_of(conn, id)?,
                events: events_of(conn, id)?,
                runs: runs::list(conn, Some(id))?,
                review: operator::review_assignment(conn, id)?,
                state,
            })
        })
    }

    fn ready(&self, now: Timestamp, limit: usize) -> Result<Vec<Issue>, StoreError> {
        let sql = format!(
            // The queue index yields rows in queue order, so the scan stops after LIMIT matches;
            // left to itself the planner may pick the ready_at index and sort every open issue.
            "SELECT {ISSUE_COLUMNS} FROM issues AS i INDEXED BY issues_queue WHERE {READY_CONDITION}
             ORDER BY i.priority, i.ready_at, i.id LIMIT ?2"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        query_issues(&self.reader(), &sql, params![AsText(now), limit])
    }

    fn import(
        &self,
        records: Vec<ImportRecord>,
        now: Timestamp,
    ) -> Result<ImportReport, StoreError> {
        self.write(|tx| import::import(tx, records, now))
    }

    fn export(&self) -> Result<Vec<(Issue, Vec<Link>)>, StoreError> {
        let conn = self.reader();
        let issues = query_issues(
            &conn,
            &format!("SELECT {ISSUE_COLUMNS} FROM issues ORDER BY id"),
            [],
        )?;
        let mut stmt = conn.prepare("SELECT src, kind, dst FROM links ORDER BY src, kind, dst")?;
        let mut links: Vec<Link> = stmt.query_map([], rows::link)?.collect::<Result<_, _>>()?;
        links.reverse();
        let mut exported = Vec::with_capacity(issues.len());
        for issue in issues {
            let mut own = Vec::new();
            while links.last().is_some_and(|l| l.src == issue.id) {
                own.extend(links.pop());
            }
            exported.push((issue, own));
        }
        Ok(exported)
    }

    fn claim(
        &self,
        id: &IssueId,
        holder: &ClaimHolder,
        lease_until: Timestamp,
        now: Timestamp,
    ) -> Result<ClaimAttempt, StoreError> {
        self.write(|tx| claims::claim(tx, id, holder, lease_until, now))
    }

    fn renew_claim(&self, claim: &Claim, lease_until: Timestamp) -> Result<(), StoreError> {
        self.write(|tx| claims::renew(tx, claim, lease_until))
    }

    fn claims(&self) -> Result<Vec<Claim>, StoreError> {
        claims::claims(&self.reader())
    }

    fn record_session(
        &self,
        claim: &Claim,
        record: &SessionRecord,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(|tx| claims::record(tx, claim, record, now))
    }

    fn create_fix_issue(
        &self,
        claim: &Claim,
        fix: NewIssue,
        now: Timestamp,
    ) -> Result<Issue, StoreError> {
        self.write(|tx| claims::create_fix_issue(tx, claim, fix, now))
    }

    fn end_session(
        &self,
        claim: &Claim,
        end: &SessionEnd,
        now: Timestamp,
    ) -> Result<Issue, StoreError> {
        self.write(|tx| claims::end_session(tx, claim, end, now))
    }

    fn start_agent_run(&self, run: &NewAgentRun) -> Result<i64, StoreError> {
        runs::start(&*self.writer()?, run)
    }

    fn finish_agent_run(
        &self,
        run_id: i64,
        end: &AgentRunEnd,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        runs::finish(&*self.writer()?, run_id, end, now)
    }

    fn agent_runs(&self, issue: Option<&IssueId>) -> Result<Vec<AgentRun>, StoreError> {
        runs::list(&self.reader(), issue)
    }

    fn cost_since(&self, since: Timestamp) -> Result<f64, StoreError> {
        runs::cost_since(&self.reader(), since)
    }

    fn live_agent_runs(&self) -> Result<Vec<LiveAgentRun>, StoreError> {
        runs::live(&self.reader())
    }

    fn events_after(
        &self,
        after_id: i64,
        issue: Option<&IssueId>,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT id, issue_id, session_id, event_type, data, created_at FROM events
             WHERE id > ?1 AND (?2 IS NULL OR issue_id = ?2) ORDER BY id LIMIT ?3",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let events = stmt
            .query_map(
                params![after_id, issue.map(IssueId::as_str), limit],
                rows::event,
            )?
            .collect::<Result<_, _>>()?;
        Ok(events)
    }

    fn recent_events(&self, since: Timestamp, limit: usize) -> Result<Vec<Event>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT id, issue_id, session_id, event_type, data, created_at FROM events
             WHERE created_at >= ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let events = stmt
            .query_map(params![AsText(since), limit], rows::event)?
            .collect::<Result<_, _>>()?;
        Ok(events)
    }

    fn last_event_id(&self) -> Result<i64, StoreError> {
        let id = self
            .reader()
            .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM events")?
            .query_row([], |row| row.get(0))?;
        Ok(id)
    }

    fn next_ready_at(&self, now: Timestamp) -> Result<Option<Timestamp>, StoreError> {
        let next: Option<AsText<Timestamp>> = self
            .reader()
            .prepare_cached(
                "SELECT MIN(ready_at) FROM issues WHERE status = 'open' AND ready_at > ?1",
            )?
            .query_row([AsText(now)], |row| row.get(0))?;
        Ok(next.map(|t| t.0))
    }

    fn record_merge(
        &self,
        id: &IssueId,
        replay_key: &str,
        evidence: &Value,
        now: Timestamp,
    ) -> Result<MergeResult, StoreError> {
        self.write(|tx| merge::record(tx, id, replay_key, evidence, now))
    }

    fn state(&self, key: &str) -> Result<Option<StateEntry>, StoreError> {
        operator::state(&self.reader(), key)
    }

    fn states(&self, prefix: &str) -> Result<Vec<StateEntry>, StoreError> {
        operator::states(&self.reader(), prefix)
    }

    fn put_state(&self, key: &str, value: &Value, now: Timestamp) -> Result<(), StoreError> {
        operator::put_state(&*self.writer()?, key, value, now)
    }

    fn delete_state(&self, key: &str) -> Result<bool, StoreError> {
        operator::delete_state(&*self.writer()?, key)
    }

    fn assign_review(
        &self,
        id: &IssueId,
        reviewer: &str,
        now: Timestamp,
    ) -> Result<ReviewAssignment, StoreError> {
        self.write(|tx| operator::assign_review(tx, id, reviewer, now))
    }

    fn review_assignments(&self) -> Result<Vec<ReviewAssignment>, StoreError> {
        operator::review_assignments(&self.reader())
    }

    fn record_alert(&self, record: &AlertRecord) -> Result<i64, StoreError> {
        alerts::record(&*self.writer()?, record)
    }

    fn alerts(&self, limit: usize) -> Result<Vec<AlertRecord>, StoreError> {
        alerts::list(&self.reader(), limit)
    }

    fn check_file(&self) -> Result<(), StoreError> {
        self.file.as_ref().map_or(Ok(()), OpenedFile::check)
    }

    fn tallies(&self) -> Result<Tallies, StoreError> {
        read_transaction(&self.reader(), tallies::read)
    }

    fn add_template_version(
        &self,
        name: &str,
        body: &str,
        source: TemplateSource,
        now: Timestamp,
    ) -> Result<AddedTemplate, StoreError> {
        self.write(|tx| templates::add(tx, name, body, source, now))
    }

    fn templates(&self) -> Result<Vec<TemplateVersion>, StoreError> {
        templates::all(&self.reader())
    }

    fn template_versions(&self, name: &str) -> Result<Vec<TemplateVersion>, StoreError> {
        templates::versions(&self.reader(), name)
    }

    fn activate_template(&self, name: &str, version: u32) -> Result<TemplateVersion, StoreError> {
        self.write(|tx| templates::activate(tx, name, version))
    }

    fn deactivate_template(&self, name: &str) -> Result<bool, StoreError> {
        self.write(|tx| {
            templates::versions(tx, name)?;
            templates::deactivate(tx, name)
        })
    }

    fn start_planner_run(
        &self,
        planner: &str,
        params: &Value,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        planner::start(&*self.writer()?, planner, params, now)
    }

    fn finish_planner_run(
        &self,
        id: i64,
        end: &PlannerRunEnd,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        planner::finish(&*self.writer()?, id, end, now)
    }

    fn planner_run(&self, id: i64) -> Result<PlannerRun, StoreError> {
        planner::run(&self.reader(), id)
    }

    fn record_contract_failure(
        &self,
        run_id: i64,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        planner::record_failure(&*self.writer()?, run_id, reason, now)
    }

    fn contract_failures(
        &self,
        since: Option<Timestamp>,
    ) -> Result<BTreeMap<String, u64>, StoreError> {
        planner::failures(&self.reader(), since)
    }
}
