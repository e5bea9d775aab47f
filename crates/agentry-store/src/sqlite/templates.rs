//! The template versions table.

use agentry_core::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::rows::{AsText, text};
use crate::StoreError;
use crate::template::{AddedTemplate, TemplateSource, TemplateVersion};

const COLUMNS: &str = "name, version, body, source, active, created_at";

fn version_row(row: &rusqlite::Row) -> rusqlite::Result<TemplateVersion> {
    Ok(TemplateVersion {
        name: row.get(0)?,
        version: row.get(1)?,
        body: row.get(2)?,
        source: text(row, 3)?,
        active: row.get(4)?,
        created_at: text(row, 5)?,
    })
}

/// Adds `body` as the next version of `name` and makes it the active one, unless a version
/// already has that text.
pub(super) fn add(
    tx: &Connection,
    name: &str,
    body: &str,
    source: TemplateSource,
    now: Timestamp,
) -> Result<AddedTemplate, StoreError> {
    let same: Option<u32> = tx
        .prepare_cached("SELECT version FROM template_versions WHERE name = ?1 AND body = ?2")?
        .query_row(params![name, body], |row| row.get(0))
        .optional()?;
    if let Some(version) = same {
        return Ok(AddedTemplate {
            version,
            new: false,
        });
    }
    let version: u32 = tx
        .prepare_cached(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM template_versions WHERE name = ?1",
        )?
        .query_row([name], |row| row.get(0))?;
    deactivate(tx, name)?;
    tx.prepare_cached(
        "INSERT INTO template_versions (name, version, body, source, active, created_at)
         VALUES (?1, ?2, ?3, ?4, 1, ?5)",
    )?
    .execute(params![name, version, body, AsText(source), AsText(now)])?;
    Ok(AddedTemplate { version, new: true })
}

/// Every version of every template, by name then version.
pub(super) fn all(conn: &Connection) -> Result<Vec<TemplateVersion>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM template_versions ORDER BY name, version");
    let versions = conn
        .prepare_cached(&sql)?
        .query_map([], version_row)?
        .collect::<Result<_, _>>()?;
    Ok(versions)
}

/// The versions of one template, oldest first; `NoTemplate` when it has none.
pub(super) fn versions(conn: &Connection, name: &str) -> Result<Vec<TemplateVersion>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM template_versions WHERE name = ?1 ORDER BY version");
    let versions: Vec<_> = conn
        .prepare_cached(&sql)?
        .query_map([name], version_row)?
        .collect::<Result<_, _>>()?;
    if versions.is_empty() {
        return Err(StoreError::NoTemplate(name.to_string()));
    }
    Ok(versions)
}

/// Makes `version` the active one of `name`.
pub(super) fn activate(
    tx: &Connection,
    name: &str,
    version: u32,
) -> Result<TemplateVersion, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM template_versions WHERE name = ?1 AND version = ?2");
    let found = tx
        .prepare_cached(&sql)?
        .query_row(params![name, version], version_row)
        .optional()?;
    let Some(found) = found else {
        versions(tx, name)?;
        return Err(StoreError::NoTemplateVersion {
            name: name.to_string(),
            version,
        });
    };
    deactivate(tx, name)?;
    tx.prepare_cached("UPDATE template_versions SET active = 1 WHERE name = ?1 AND version = ?2")?
        .execute(params![name, version])?;
    Ok(TemplateVersion {
        active: true,
        ..found
    })
}

/// Leaves `name` with no active version; `false` when it had none.
pub(super) fn deactivate(tx: &Connection, name: &str) -> Result<bool, StoreError> {
    let changed = tx
        .prepare_cached("UPDATE template_versions SET active = 0 WHERE name = ?1 AND active = 1")?
        .execute([name])?;
    Ok(changed > 0)
}
