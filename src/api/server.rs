//! The server loop: an already-bound listener, the admin's router, bounds on what each client
//! may hold, graceful shutdown.
//!
//! axum's own `serve` has no limit on connections and no timeouts: a client that trickles its
//! headers, or opens connections and sends nothing, or never reads a streamed export, holds a
//! task, a socket (and for the export a database connection) for ever. Here:
//! - at most `max_client_connections` are open at once; the next waits in the kernel's
//!   backlog until one closes;
//! - a request's head must arrive within `header_timeout`, which also closes a connection
//!   idle that long between requests (hyper's header timer starts when it waits for a head);
//! - a head larger than `max_header_bytes` is answered 431;
//! - a client that takes no byte of a response for `send_timeout` is disconnected
//!   ([`SendDeadline`]).
//!
//! Only HTTP/1.1 is served (what browsers, proxies and API clients speak to a server without
//! TLS): fewer protocol states to bound.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower::ServiceExt;

use super::send_deadline::SendDeadline;
use super::summary::Summary;
use crate::config::AdminSettings;

/// What one client may hold.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub max_header_bytes: usize,
    pub send_timeout: Duration,
    /// How long shutdown waits for in-flight requests before it ends their connections.
    pub shutdown_grace: Duration,
}

impl From<&AdminSettings> for Limits {
    fn from(settings: &AdminSettings) -> Limits {
        Limits {
            max_connections: settings.max_client_connections as usize,
            header_timeout: settings.header_timeout,
            max_header_bytes: settings.max_header_bytes as usize,
            send_timeout: settings.send_timeout,
            // A request finishes within its timeout; its answer gets a send timeout more.
            shutdown_grace: settings.request_timeout + settings.send_timeout,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, closes idle
/// connections and lets in-flight requests finish (for `shutdown_grace` at most).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // No line per failed response: a server error is logged once, with its request id and
    // what went wrong, where it is made (`ApiError`); a refusal under overload is counted
    // (`admission.rs`). The layer's own line would say only the status, once per request.
    let app = app.layer(tower_http::trace::TraceLayer::new_for_http().on_failure(()));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(limits.max_header_bytes)
        // The read buffer holds a head at most (bodies are read through it in pieces).
        .max_buf_size(limits.max_header_bytes.max(8192));
    let places = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let accept_errors = Summary::new(Duration::from_secs(10));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let place = tokio::select! {
            () = &mut shutdown => break,
            place = places.clone().acquire_owned() => place.expect("the semaphore is never closed"),
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was
                    // accepted: wait a little and go on, never stop serving.
                    if let Some(count) = accept_errors.add() {
                        tracing::warn!(count, "cannot accept connections: {error}");
                    }
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(Duration::from_millis(50)) => continue,
                    }
                }
            },
        };
        // Each response is one write: Nagle's algorithm could only hold it back.
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(SendDeadline::new(stream, limits.send_timeout));
        // The peer address reaches handlers (login rate limiting keys on it).
        let service = app
            .clone()
            .map_request(move |mut request: axum::http::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = http.serve_connection(io, TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            if let Err(error) = connection.await {
                // A client that went away or was too slow: nothing the operator can act on.
                tracing::debug!(%peer, "connection ended: {error}");
            }
            drop(place);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "shutdown: requests still running after {} s are cut off",
            limits.shutdown_grace.as_secs()
        );
    }
    connections.shutdown().await;
    Ok(())
}
