//! Converting between rows and core types.

use std::str::FromStr;

use agentry_core::{Event, Issue, Link, Timestamp};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Row, ToSql};

/// The columns of `issues`, in the order [`issue`] reads them.
pub(super) const ISSUE_COLUMNS: &str = "id, title, body, status, priority, ready_at, created_at, updated_at, labels, scope, verify, done_when, not_your_job";

/// A value stored as its text form (ids, statuses, timestamps, link kinds).
pub(super) struct AsText<T>(pub T);

impl<T: FromStr> FromSql for AsText<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        text.parse()
            .map(AsText)
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

impl<T: ToString> ToSql for AsText<T> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.to_string()))
    }
}

pub(super) fn text<T: FromStr>(row: &Row, index: usize) -> rusqlite::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    Ok(row.get::<_, AsText<T>>(index)?.0)
}

pub(super) fn json_list(row: &Row, index: usize) -> rusqlite::Result<Vec<String>> {
    let raw: String = row.get(index)?;
    serde_json::from_str(&raw).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

pub(super) fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).expect("a list of strings serialises")
}

pub(super) fn issue(row: &Row) -> rusqlite::Result<Issue> {
    let priority: i64 = row.get(4)?;
    Ok(Issue {
        id: text(row, 0)?,
        title: row.get(1)?,
        body: row.get(2)?,
        status: text(row, 3)?,
        priority: agentry_core::Priority::new(priority).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                4,
                rusqlite::types::Type::Integer,
                Box::new(e),
            )
        })?,
        ready_at: text(row, 5)?,
        created_at: text(row, 6)?,
        updated_at: text(row, 7)?,
        labels: json_list(row, 8)?,
        scope: json_list(row, 9)?,
        verify: json_list(row, 10)?,
        done_when: json_list(row, 11)?,
        not_your_job: json_list(row, 12)?,
    })
}

/// Reads `src, kind, dst`.
pub(super) fn link(row: &Row) -> rusqlite::Result<Link> {
    Ok(Link::new(text(row, 0)?, text(row, 1)?, text(row, 2)?))
}

/// Reads `id, issue_id, session_id, event_type, data, created_at`.
pub(super) fn event(row: &Row) -> rusqlite::Result<Event> {
    let data: String = row.get(4)?;
    Ok(Event {
        id: row.get(0)?,
        issue_id: text(row, 1)?,
        session_id: row.get(2)?,
        event_type: text(row, 3)?,
        data: serde_json::from_str(&data).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
        })?,
        created_at: text::<Timestamp>(row, 5)?,
    })
}
