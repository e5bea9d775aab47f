//! The server: a loopback listener, the script of replies, and the record of requests.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::answer::answer;
use crate::anthropic::{self, Anthropic};
use crate::openai::OpenAi;
use crate::responses::Responses;
use crate::{RecordedRequest, Reply, respond};

/// A scripted model API on 127.0.0.1. Each model request takes the next [`Reply`]; once the
/// script has run out, the model answers "done". Stops when dropped.
pub struct ModelServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl ModelServer {
    /// Starts serving `replies` on a free loopback port. Must be called inside a tokio
    /// runtime; panics on a `Reply::Status` code that is not an HTTP status.
    pub async fn start(replies: Vec<Reply>) -> ModelServer {
        check_codes(&replies);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the model server binds a loopback port");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let shared = Arc::new(Shared {
            state: Mutex::new(Script {
                replies: replies.into(),
                served: 0,
                requests: Vec::new(),
            }),
        });
        // Agents send whole conversations; the default 2 MB limit would reject long ones.
        let app = Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::disable())
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the model server keeps serving");
        });
        ModelServer { addr, shared, task }
    }

    /// Where agents should send requests: `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in order, including those answered 404.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.clone()
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the connections share.
struct Shared {
    state: Mutex<Script>,
}

struct Script {
    replies: VecDeque<Reply>,
    /// Model answers given so far; numbers each answer's ids.
    served: u64,
    requests: Vec<RecordedRequest>,
}

impl Shared {
    /// A panicking test thread must not hide what the server recorded.
    fn state(&self) -> MutexGuard<'_, Script> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next reply and its serial number.
    fn next_reply(&self) -> (Reply, u64) {
        let mut state = self.state();
        state.served += 1;
        let reply = state.replies.pop_front().unwrap_or_else(Reply::done);
        (reply, state.served)
    }
}

/// Every request, whatever its method and path: recorded, then routed.
async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = RecordedRequest::new(&method, &uri, &headers, &body);
    let response = route(&shared, &request, body.len());
    shared.state().requests.push(request);
    response
}

fn route(shared: &Shared, request: &RecordedRequest, size: usize) -> Response {
    match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/v1/messages") => {
            let (reply, serial) = shared.next_reply();
            answer::<Anthropic>(reply, serial, &request.body, size)
        }
        ("POST", "/v1/messages/count_tokens") => anthropic::count_tokens(size),
        ("POST", "/v1/chat/completions") => {
            let (reply, serial) = shared.next_reply();
            answer::<OpenAi>(reply, serial, &request.body, size)
        }
        ("POST", "/v1/responses") => {
            let (reply, serial) = shared.next_reply();
            answer::<Responses>(reply, serial, &request.body, size)
        }
        (method, path) => respond::not_found(method, path),
    }
}

/// Fails at start, where the test author sees it, rather than inside a connection.
fn check_codes(replies: &[Reply]) {
    for reply in replies {
        if let Reply::Status { code, .. } = reply {
            assert!(
                StatusCode::from_u16(*code).is_ok(),
                "Reply::Status code {code} is not an HTTP status"
            );
        }
    }
}
