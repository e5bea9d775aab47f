//! `GET /api/v1/events` and `GET /api/v1/tasks/{task_id}/events`: events as Server-Sent
//! Events, each `id: <event id>` and `data: <event JSON>`. A stream resumes after the id in
//! `Last-Event-ID` (or `?after=`): the stored events after it, then live ones, none twice.
//! Without either it starts at the latest event.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use agentry_core::IssueId;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::response::sse::{self, KeepAlive, Sse};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;
use crate::error::ApiError;
use crate::event_feed::{FeedEvent, PAGE, read_after};
use crate::task::task_id;

/// Comments sent while no event comes, so that proxies keep the connection open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
const LAST_EVENT_ID: &str = "last-event-id";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResumeQuery {
    after: Option<String>,
}

pub async fn all(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ResumeQuery>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let after = resume_point(&headers, query)?;
    open(state, None, after).await
}

pub async fn task(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    query: Result<Query<ResumeQuery>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let id = task_id(&raw)?;
    let after = resume_point(&headers, query)?;
    let known = id.clone();
    state
        .with_store(move |store| Ok(store.issue(&known).map(drop)?))
        .await?;
    open(state, Some(id), after).await
}

/// Where a stream starts: the `Last-Event-ID` header, which a reconnecting `EventSource` sends
/// and which is newer than the URL's `?after=`, then `?after=`.
fn resume_point(
    headers: &HeaderMap,
    query: Result<Query<ResumeQuery>, QueryRejection>,
) -> Result<Option<i64>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    if let Some(value) = headers.get(LAST_EVENT_ID) {
        let text = String::from_utf8_lossy(value.as_bytes());
        return event_id("Last-Event-ID", &text).map(Some);
    }
    query.after.map(|text| event_id("after", &text)).transpose()
}

fn event_id(name: &str, text: &str) -> Result<i64, ApiError> {
    text.trim()
        .parse()
        .ok()
        .filter(|id: &i64| *id >= 0)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{name}: expected an event id (a whole number, 0 or more), got {text:?}"
            ))
        })
}

async fn open(
    state: AppState,
    issue: Option<IssueId>,
    after: Option<i64>,
) -> Result<impl IntoResponse, ApiError> {
    // Subscribed before the store is read, so that an event written meanwhile is either read
    // or received (or both: the id decides).
    let live = state.events.subscribe();
    let last = match after {
        Some(id) => id,
        None => state.with_store(|store| Ok(store.last_event_id()?)).await?,
    };
    let follower = Follower::new(state, issue, live, last);
    let events = futures_util::stream::unfold(follower, |mut follower| async move {
        let frame = follower.next().await?;
        Some((Ok::<_, Infallible>(frame), follower))
    });
    // An empty comment first: the response head goes out with it, so the client knows at once
    // that the stream is open (and from which event it starts).
    let opened = sse::Event::default().comment("");
    let frames = futures_util::stream::iter([Ok(opened)]).chain(events);
    Ok(Sse::new(frames).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// One stream's place: the stored events it still has to catch up on, then the live ones.
struct Follower {
    state: AppState,
    issue: Option<IssueId>,
    live: Receiver<Arc<FeedEvent>>,
    /// The id of the last event sent (at first, the resume point).
    last: i64,
    /// Events read from the store and not sent yet.
    stored: VecDeque<FeedEvent>,
    /// Whether the store may hold events after `last` that the feed will not send again: at
    /// the start, and after falling too far behind the feed.
    behind: bool,
}

impl Follower {
    fn new(
        state: AppState,
        issue: Option<IssueId>,
        live: Receiver<Arc<FeedEvent>>,
        last: i64,
    ) -> Self {
        Self {
            state,
            issue,
            live,
            last,
            stored: VecDeque::new(),
            behind: true,
        }
    }

    /// The next frame, or `None` when the stream ends (the server stops, or the store fails,
    /// after which the client reconnects with `Last-Event-ID`).
    async fn next(&mut self) -> Option<sse::Event> {
        loop {
            if self.state.events.closed().is_cancelled() {
                return None;
            }
            if let Some(event) = self.stored.pop_front() {
                return Some(self.send(&event));
            }
            if self.behind {
                self.catch_up().await?;
                continue;
            }
            let received = tokio::select! {
                () = self.state.events.closed().cancelled() => return None,
                received = self.live.recv() => received,
            };
            match received {
                Ok(event) if event.id > self.last && self.wants(&event) => {
                    return Some(self.send(&event));
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => self.behind = true,
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Reads the next page of stored events.
    async fn catch_up(&mut self) -> Option<()> {
        let page = read_after(&self.state.store, self.last, self.issue.clone())
            .await
            .inspect_err(|err| {
                tracing::warn!(operation = "event_stream", "could not read events: {err}");
            })
            .ok()?;
        self.behind = page.len() == PAGE;
        self.stored = page.into();
        Some(())
    }

    fn wants(&self, event: &FeedEvent) -> bool {
        self.issue.as_ref().is_none_or(|id| *id == event.issue_id)
    }

    fn send(&mut self, event: &FeedEvent) -> sse::Event {
        self.last = event.id;
        sse::Event::default()
            .id(event.id.to_string())
            .data(&event.json)
    }
}

#[cfg(test)]
mod tests {
    use agentry_core::Timestamp;
    use agentry_core::import::parse_jsonl;
    use agentry_store::{SqliteStore, Store};

    use super::*;
    use crate::EventFeed;
    use crate::event_feed::BUFFER;

    #[tokio::test]
    async fn a_stream_that_falls_behind_the_feed_rereads_the_store() {
        let issues = BUFFER + 100;
        let store = SqliteStore::in_memory().unwrap();
        let backlog: String = (0..issues)
            .map(|n| format!("{{\"title\":\"issue {n}\"}}\n"))
            .collect();
        store
            .import(parse_jsonl(&backlog).unwrap(), Timestamp::now())
            .unwrap();
        let state = AppState {
            store: Arc::new(store),
            token: String::new(),
            on_change: Arc::new(|| {}),
            events: EventFeed::default(),
            config: Arc::default(),
            root: std::path::PathBuf::new(),
            probes: Arc::default(),
        };
        // A stream that had caught up at the start, then did not read while the feed sent
        // every event: the oldest ones are gone from the channel.
        let mut follower = Follower::new(state.clone(), None, state.events.subscribe(), 0);
        follower.behind = false;
        state.events.send_after(&state.store, 0).await.unwrap();
        let mut ids = Vec::new();
        while ids.len() < issues {
            assert!(follower.next().await.is_some(), "the stream goes on");
            ids.push(follower.last);
        }
        let expected: Vec<i64> = (1..=issues as i64).collect();
        assert_eq!(ids, expected);
    }
}
