//! The accept loop: each connection is admitted into [`Connections`] (which may close an idle
//! one to make room), served over HTTP/1.1 with a header-read timeout, and, when the server
//! stops, let finish what is in flight while no new connection is taken.

use std::convert::Infallible;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::http::Request;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::connections::{Busy, Connection, Connections};

/// Connections the kernel queues while the loop is busy accepting others (it caps this at
/// `net.core.somaxconn`): a burst beyond the queue is dropped, and each client dropped waits a
/// second or more before it tries again.
const LISTEN_BACKLOG: u32 = 4096;

/// The longest the loop waits for a connection to end after an accept failed for want of
/// resources (descriptors, memory), so that it does not spin when none ends.
const ACCEPT_PAUSE: Duration = Duration::from_millis(50);

/// How often, at most, failed accepts are logged: out of descriptors, every other one fails.
const FAILURE_LOG_EVERY: Duration = Duration::from_secs(10);

/// What one caller may hold of the server.
pub struct Limits {
    pub max_connections: usize,
    /// How long a connection may take to send a request's head (or, between requests, to
    /// start the next one) before it is closed.
    pub header_read_timeout: Duration,
}

/// Listens on `addr`, with room in the queue for bursts of connections.
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // As a plain bind does: a restarted server gets its port back at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves `app` on `listener` until `stop` fires, then until the connections have finished.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, stop: CancellationToken) {
    let connections = Connections::new(limits.max_connections);
    // Each connection's task holds a sender: once every one is dropped, all have ended.
    let (running, mut ended) = mpsc::channel::<Infallible>(1);
    let mut last_logged: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => break,
        };
        match accepted {
            Ok((stream, _)) => {
                let connection = connections.admit();
                let served = serve_connection(stream, app.clone(), connection, &limits, &stop);
                let running = running.clone();
                tokio::spawn(async move {
                    served.await;
                    drop(running);
                });
            }
            Err(err) if is_reset(&err) => {}
            Err(err) => {
                if last_logged.is_none_or(|at| at.elapsed() >= FAILURE_LOG_EVERY) {
                    tracing::warn!(operation = "serve", "accepting a connection failed: {err}");
                    last_logged = Some(Instant::now());
                }
                make_room(&connections).await;
            }
        }
    }
    drop(listener);
    drop(running);
    let _ = ended.recv().await;
}

/// Whether an accept failed for a connection reset before it was taken: nothing to do.
fn is_reset(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
    )
}

/// After an accept failed for want of resources (EMFILE: out of descriptors): closes the
/// connection idle longest, and waits for a connection to end (at most a moment, so that the
/// loop does not spin).
async fn make_room(connections: &Connections) {
    let ended = connections.ended();
    tokio::pin!(ended);
    ended.as_mut().enable();
    connections.close_idlest();
    let _ = tokio::time::timeout(ACCEPT_PAUSE, ended).await;
}

/// Serves one connection until it ends, is closed to make room, or has finished after `stop`.
fn serve_connection(
    stream: TcpStream,
    app: Router,
    connection: Connection,
    limits: &Limits,
    stop: &CancellationToken,
) -> impl Future<Output = ()> + Send + 'static {
    let connection = Arc::new(connection);
    let requests = connection.clone();
    let service = service_fn(move |request: Request<Incoming>| {
        let busy = requests.request();
        let answer = app.clone().oneshot(request);
        async move {
            let response = answer.await?;
            Ok::<_, Infallible>(response.map(|body| Answer { body, _busy: busy }))
        }
    });
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let served = http.serve_connection(TokioIo::new(stream), service);
    let stop = stop.clone();
    async move {
        {
            tokio::pin!(served);
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = served.as_mut() => {
                        if let Err(err) = result {
                            tracing::debug!(operation = "serve", "a connection ended: {err}");
                        }
                        break;
                    }
                    // Chosen to make room: dropping the connection closes its socket.
                    () = connection.closing() => break,
                    () = stop.cancelled(), if !stopping => {
                        stopping = true;
                        served.as_mut().graceful_shutdown();
                    }
                }
            }
        }
        // Last, once the socket is closed, so that an accept waiting for room finds it free.
        drop(connection);
    }
}

/// A response's body, which keeps its connection busy until it has been sent or dropped.
struct Answer {
    body: Body,
    _busy: Busy,
}

impl HttpBody for Answer {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
