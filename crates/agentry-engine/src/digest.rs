//! `sync-status` (seeds/002): a short digest of what changed since the last digest. The last
//! event a digest covered is kept in the store, so a digest with nothing new says so and
//! nothing else.

use std::collections::BTreeMap;

use agentry_core::{Event, EventType, Timestamp};
use agentry_store::{Store, StoreError};
use serde::Serialize;
use serde_json::json;

/// The state key of the last event the previous digest covered.
const LAST_DIGEST: &str = "digest:last_event_id";
/// Events read per store call.
const PAGE: usize = 10_000;

#[derive(Debug, PartialEq, Serialize)]
pub struct Digest {
    /// Events since the last digest, by type.
    pub events: BTreeMap<String, usize>,
    /// Each issue whose status changed, with its first and latest status: `i-x: open → closed`.
    pub status_changes: Vec<String>,
    /// The last event this digest covers.
    pub through_event: i64,
}

/// The digest of the events since the last one, which it then marks as covered; `None` when
/// nothing happened since.
pub fn sync_status(store: &dyn Store, now: Timestamp) -> Result<Option<Digest>, StoreError> {
    let after = store
        .state(LAST_DIGEST)?
        .and_then(|entry| entry.value.as_i64())
        .unwrap_or(0);
    let events = events_after(store, after)?;
    let Some(last) = events.last() else {
        return Ok(None);
    };
    let digest = Digest {
        events: counts(&events),
        status_changes: status_changes(&events),
        through_event: last.id,
    };
    store.put_state(LAST_DIGEST, &json!(digest.through_event), now)?;
    Ok(Some(digest))
}

fn events_after(store: &dyn Store, mut after: i64) -> Result<Vec<Event>, StoreError> {
    let mut all = Vec::new();
    loop {
        let page = store.events_after(after, None, PAGE)?;
        let full = page.len() == PAGE;
        after = page.last().map_or(after, |e| e.id);
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}

fn counts(events: &[Event]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for event in events {
        *counts.entry(event.event_type.to_string()).or_default() += 1;
    }
    counts
}

/// From each issue's first status before the window to its latest, in the order issues first
/// changed; issues that came back to where they were are left out.
fn status_changes(events: &[Event]) -> Vec<String> {
    let mut order = Vec::new();
    let mut spans: BTreeMap<String, (String, String)> = BTreeMap::new();
    for event in events
        .iter()
        .filter(|e| e.event_type == EventType::StatusChanged)
    {
        let text = |key: &str| event.data[key].as_str().unwrap_or_default().to_string();
        let id = event.issue_id.to_string();
        let span = spans.entry(id.clone()).or_insert_with(|| {
            order.push(id.clone());
            (text("from"), String::new())
        });
        span.1 = text("to");
    }
    order
        .into_iter()
        .filter_map(|id| {
            let (from, to) = &spans[&id];
            (from != to).then(|| format!("{id}: {from} → {to}"))
        })
        .collect()
}
