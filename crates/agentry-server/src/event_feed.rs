//! The server's one feed of new events: a task reads what the store has gained since it last
//! looked and fans it out to every event stream on a broadcast channel. It looks at once when
//! the API changes something, and otherwise every [`POLL`], because other processes (`agentry
//! issue add`, a dispatcher elsewhere) write to the same store.

use std::sync::Arc;
use std::time::Duration;

use agentry_core::{Event, IssueId};
use agentry_store::Store;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

use crate::blocking;
use crate::error::ApiError;

/// How often the feed looks for events that other processes wrote.
const POLL: Duration = Duration::from_millis(100);
/// Events read per store call, by the feed and by streams catching up.
pub(crate) const PAGE: usize = 500;
/// How many events a stream may fall behind the feed before it re-reads from the store.
pub(crate) const BUFFER: usize = 1024;

/// An event as streams send it, serialized once for all of them.
pub struct FeedEvent {
    pub id: i64,
    pub issue_id: IssueId,
    pub json: String,
}

impl From<Event> for FeedEvent {
    fn from(event: Event) -> Self {
        Self {
            id: event.id,
            json: serde_json::to_string(&event).expect("an event always serializes"),
            issue_id: event.issue_id,
        }
    }
}

/// A handle on the feed; clones share it.
#[derive(Clone)]
pub struct EventFeed {
    inner: Arc<Inner>,
}

struct Inner {
    sender: broadcast::Sender<Arc<FeedEvent>>,
    wake: Notify,
    /// Fires when the feed has stopped, which ends every stream.
    closed: CancellationToken,
}

impl Default for EventFeed {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                sender: broadcast::channel(BUFFER).0,
                wake: Notify::new(),
                closed: CancellationToken::new(),
            }),
        }
    }
}

impl EventFeed {
    /// Events the feed reads from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<FeedEvent>> {
        self.inner.sender.subscribe()
    }

    /// Makes the feed look at the store now rather than at its next poll.
    pub(crate) fn wake(&self) {
        self.inner.wake.notify_one();
    }

    pub(crate) fn closed(&self) -> &CancellationToken {
        &self.inner.closed
    }

    /// Sends every event after `from` as the store gains it, until `stop` fires; then closes.
    /// `from` must be read before any stream subscribes, so that none misses an event.
    pub(crate) async fn follow(self, store: Arc<dyn Store>, from: i64, stop: CancellationToken) {
        let mut last = from;
        loop {
            match self.send_after(&store, last).await {
                Ok(sent) => last = sent,
                Err(err) => {
                    tracing::warn!(operation = "event_feed", "could not read events: {err}")
                }
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = self.inner.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
        self.inner.closed.cancel();
    }

    /// Sends the events after `last`, page by page; returns the id of the last one sent.
    pub(crate) async fn send_after(
        &self,
        store: &Arc<dyn Store>,
        mut last: i64,
    ) -> Result<i64, ApiError> {
        loop {
            let page = read_after(store, last, None).await?;
            let full = page.len() == PAGE;
            for event in page {
                last = event.id;
                // No stream listening is not an error: there is nobody to tell.
                let _ = self.inner.sender.send(Arc::new(event));
            }
            if !full {
                return Ok(last);
            }
        }
    }
}

/// A page of the events after `after`, of one issue or of all, serialized on the blocking pool.
pub(crate) async fn read_after(
    store: &Arc<dyn Store>,
    after: i64,
    issue: Option<IssueId>,
) -> Result<Vec<FeedEvent>, ApiError> {
    blocking(store, move |store| {
        let events = store.events_after(after, issue.as_ref(), PAGE)?;
        Ok(events.into_iter().map(FeedEvent::from).collect())
    })
    .await
}
