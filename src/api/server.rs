//! The server loop: an already-bound listener, the admin's router, graceful shutdown.

use axum::Router;
use tokio::net::TcpListener;

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting and lets
/// in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // No line per failed response: a server error is logged once, with its request id and
    // what went wrong, where it is made (`ApiError`); a refusal under overload is counted
    // (`admission.rs`). The layer's own line would say only the status, once per request.
    let app = app.layer(tower_http::trace::TraceLayer::new_for_http().on_failure(()));
    // The peer address reaches handlers (login rate limiting keys on it).
    let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    // Each response is one write: Nagle's algorithm could only hold it back.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}
