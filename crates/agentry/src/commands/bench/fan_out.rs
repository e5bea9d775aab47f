//! The event-stream half of `agentry bench http`: 500 streams open on `/api/v1/events` while
//! tasks are posted. Every stream must get every event, in order and once; the figure is the
//! time from an event's write to its receipt by each stream.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use agentry_core::EventType;
use agentry_store::{SqliteStore, Store};
use anyhow::{Context, Result, bail, ensure};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::http_client::{Connection, EventStream, get, post};
use super::percentile;
use crate::output::outln;

const STREAMS: usize = 500;
const EVENTS: usize = 200;
/// Tasks are posted this far apart, so that the figure is the fan-out, not a queue.
const SPACING: Duration = Duration::from_millis(10);
/// A generous bound on the streams getting the last event (not the figure).
const BOUND: Duration = Duration::from_secs(60);

/// An event id and when a stream got it, in microseconds since the Unix epoch.
type Receipt = (i64, i64);

pub async fn run(addr: &str, token: &str, store: &SqliteStore) -> Result<()> {
    let subscribe = get("/api/v1/events");
    let mut streams = Vec::new();
    for _ in 0..STREAMS {
        streams.push(Connection::open(addr).await?.subscribe(&subscribe).await?);
    }
    // Every stream is open: each gets every event after this one.
    let from = store.last_event_id()?;
    let (last_tx, last) = watch::channel(i64::MAX);
    let mut readers = JoinSet::new();
    for stream in streams {
        readers.spawn(receive(stream, last.clone()));
    }
    post_tasks(addr, token).await?;
    let until = store.last_event_id()?;
    last_tx.send(until)?;
    let events = store.events_after(from, None, usize::MAX)?;
    let expected: Vec<i64> = events
        .iter()
        .map(|e| e.id)
        .filter(|id| *id <= until)
        .collect();
    let written: HashMap<i64, i64> = events
        .iter()
        .filter(|e| e.event_type == EventType::IssueCreated)
        .map(|e| (e.id, e.created_at.unix_micros()))
        .collect();
    let mut latencies = Vec::new();
    while let Some(receipts) = tokio::time::timeout(BOUND, readers.join_next())
        .await
        .context("the streams did not get every event")?
    {
        let receipts = receipts??;
        let ids: Vec<i64> = receipts
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| *id > from)
            .collect();
        ensure!(
            ids == expected,
            "a stream got {} of {} events",
            ids.len(),
            expected.len()
        );
        latencies.extend(receipts.iter().filter_map(|(id, at)| {
            let written = written.get(id)?;
            Some(Duration::from_micros((at - written).max(0) as u64))
        }));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    outln!(
        "event streams: {STREAMS} on /api/v1/events, {EVENTS} tasks posted {} ms apart, the sessions' events beside them",
        SPACING.as_millis()
    );
    outln!(
        "every stream got every event  {:>4}        ({} events each, in order, once)",
        "yes",
        expected.len()
    );
    outln!(
        "fan-out p50 / p99      {:>6.2} / {:.2} ms  (from a posted task's event write to each stream's receipt)",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0))
    );
    Ok(())
}

/// Posts the tasks whose events the streams must get.
async fn post_tasks(addr: &str, token: &str) -> Result<()> {
    let mut connection = Connection::open(addr).await?;
    for n in 0..EVENTS {
        let body = format!("{{\"title\":\"fan-out {n}\"}}");
        let (status, answer) = connection
            .exchange(&post("/api/v1/tasks", &body, token))
            .await?;
        ensure!(
            status == 201,
            "POST answered {status}: {}",
            String::from_utf8_lossy(&answer)
        );
        tokio::time::sleep(SPACING).await;
    }
    Ok(())
}

/// What one stream gets, until it has the event `last` names (once it is known).
async fn receive(mut stream: EventStream, mut last: watch::Receiver<i64>) -> Result<Vec<Receipt>> {
    let mut receipts: Vec<Receipt> = Vec::new();
    loop {
        if receipts.last().is_some_and(|(id, _)| *id >= *last.borrow()) {
            return Ok(receipts);
        }
        tokio::select! {
            ids = stream.next_ids() => {
                let Some(ids) = ids? else { bail!("the stream ended") };
                let at = unix_micros(SystemTime::now());
                receipts.extend(ids.into_iter().map(|id| (id, at)));
            }
            changed = last.changed() => changed?,
        }
    }
}

fn unix_micros(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}
