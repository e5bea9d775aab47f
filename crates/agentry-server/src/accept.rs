//! The accept loop: each connection is admitted into [`Connections`] (which may close an idle
//! one to make room), served over HTTP/1.1 with a header-read timeout, and, when the server
//! stops, let finish what is in flight while no new connection is taken.

use std::convert::Infallible;
use std::io::ErrorKind;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::http::Request;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::connections::{Busy, Connection, Connections};

/// How long the loop waits after an accept failed for want of resources (descriptors,
/// memory), so that a listener it cannot serve yet does not spin.
const ACCEPT_PAUSE: Duration = Duration::from_millis(50);

/// What one caller may hold of the server.
pub struct Limits {
    pub max_connections: usize,
    /// How long a connection may take to send a request's head (or, between requests, to
    /// start the next one) before it is closed.
    pub header_read_timeout: Duration,
}

/// Serves `app` on `listener` until `stop` fires, then until the connections have finished.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, stop: CancellationToken) {
    let connections = Connections::new(limits.max_connections);
    // Each connection's task holds a sender: once every one is dropped, all have ended.
    let (running, mut ended) = mpsc::channel::<Infallible>(1);
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
            Err(err) => recover(err, &connections).await,
        }
    }
    drop(listener);
    drop(running);
    let _ = ended.recv().await;
}

/// After a failed accept: a connection reset before it was taken is nothing; otherwise
/// (EMFILE: out of descriptors) an idle connection is closed to make room, and the loop
/// pauses so that the closed one's task can run before the next try.
async fn recover(err: std::io::Error, connections: &Connections) {
    if matches!(
        err.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::warn!(operation = "serve", "accepting a connection failed: {err}");
    connections.close_idlest();
    tokio::time::sleep(ACCEPT_PAUSE).await;
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
        tokio::pin!(served);
        let mut stopping = false;
        loop {
            tokio::select! {
                result = served.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(operation = "serve", "a connection ended: {err}");
                    }
                    return;
                }
                // Dropping the connection closes its socket.
                () = connection.closing() => return,
                () = stop.cancelled(), if !stopping => {
                    stopping = true;
                    served.as_mut().graceful_shutdown();
                }
            }
        }
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
