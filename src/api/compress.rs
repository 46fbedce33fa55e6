//! Response compression (gzip or br, as the client accepts) for everything the admin serves,
//! lists included.
//!
//! A list carries `Content-Range: posts 0-24/300` (the count, in the convention of
//! react-admin's simple REST client), and tower-http's compression leaves any response with a
//! `Content-Range` alone, as it must for byte ranges: a compressed body would no longer match
//! the bytes the header names. A list's range counts records, not bytes, so it is safe to
//! compress: the header steps aside under a private name while the body is compressed and
//! comes back after.

use axum::Router;
use axum::http::{HeaderName, Response, header};
use tower_http::compression::CompressionLayer;

/// Where `Content-Range` waits while the body is compressed; never seen by a client.
const PARKED: HeaderName = HeaderName::from_static("x-autoadmin-parked-content-range");

/// `router` with its responses compressed, lists included.
pub fn layer(router: Router) -> Router {
    router
        .layer(axum::middleware::map_response(park))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::map_response(unpark))
}

/// Moves a record range (never a byte range) out of the compression layer's sight.
async fn park<B>(mut response: Response<B>) -> Response<B> {
    let headers = response.headers_mut();
    let counts_records = headers
        .get(header::CONTENT_RANGE)
        .is_some_and(|range| !range.as_bytes().starts_with(b"bytes"));
    if counts_records && let Some(range) = headers.remove(header::CONTENT_RANGE) {
        headers.insert(PARKED, range);
    }
    response
}

async fn unpark<B>(mut response: Response<B>) -> Response<B> {
    let headers = response.headers_mut();
    if let Some(range) = headers.remove(PARKED) {
        headers.insert(header::CONTENT_RANGE, range);
    }
    response
}
