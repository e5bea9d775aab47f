//! A webhook receiver: records every request and answers with scripted statuses.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::RecordedRequest;

/// An HTTP receiver on 127.0.0.1 that answers each request with the next of its statuses,
/// then 200 once they have run out. Stops when dropped.
pub struct WebhookReceiver {
    addr: SocketAddr,
    inbox: Arc<Mutex<Inbox>>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct Inbox {
    statuses: VecDeque<StatusCode>,
    requests: Vec<RecordedRequest>,
    /// Woken at each request, for [`WebhookReceiver::wait_for`].
    arrived: Arc<Notify>,
}

impl WebhookReceiver {
    /// Starts on a free loopback port. Must be called inside a tokio runtime; panics on a
    /// code that is not an HTTP status.
    pub async fn start(statuses: Vec<u16>) -> WebhookReceiver {
        let statuses = statuses
            .into_iter()
            .map(|code| StatusCode::from_u16(code).expect("an HTTP status code"))
            .collect();
        let inbox = Arc::new(Mutex::new(Inbox {
            statuses,
            ..Inbox::default()
        }));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the receiver binds a loopback port");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let app = Router::new()
            .fallback(receive)
            .with_state(Arc::clone(&inbox));
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the receiver keeps serving");
        });
        WebhookReceiver { addr, inbox, task }
    }

    /// `http://127.0.0.1:PORT`, no trailing slash; any path is received.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in order, whatever it was answered.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inbox).requests.clone()
    }

    /// Waits until `count` requests have arrived, at most `bound`; returns them all.
    pub async fn wait_for(&self, count: usize, bound: Duration) -> Vec<RecordedRequest> {
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            let arrived = lock(&self.inbox).arrived.clone();
            let notified = arrived.notified();
            let requests = self.requests();
            if requests.len() >= count {
                return requests;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "{} of {count} requests arrived within {bound:?}",
                    requests.len()
                );
            }
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A URL on 127.0.0.1 where nothing listens (a port bound, then let go), for a receiver that
/// is down.
pub fn unreachable_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    format!("http://{addr}")
}

async fn receive(
    State(inbox): State<Arc<Mutex<Inbox>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut inbox = lock(&inbox);
    inbox
        .requests
        .push(RecordedRequest::new(&method, &uri, &headers, &body));
    inbox.arrived.notify_waiters();
    inbox.statuses.pop_front().unwrap_or(StatusCode::OK)
}

/// A panicking test thread must not hide what the receiver recorded.
fn lock(inbox: &Mutex<Inbox>) -> MutexGuard<'_, Inbox> {
    inbox.lock().unwrap_or_else(PoisonError::into_inner)
}
