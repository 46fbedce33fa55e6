//! Per-request context: an id that every error body repeats and every log line carries,
//! and the request timeout. Kept in a task-local so that errors built anywhere in a handler
//! (extractor rejections included) can name their request.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled ("-" outside a request).
pub fn current() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".to_owned())
}

/// Gives the request an id (the client's `X-Request-Id` if it is sane), bounds its time,
/// and echoes the id in the response.
/// When the admin's router is nested in a router that has this middleware too, the outer
/// one has already done all of this.
pub async fn middleware(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    if REQUEST_ID.try_with(|_| ()).is_ok() {
        return next.run(request).await;
    }
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map_or_else(|| uuid::Uuid::now_v7().simple().to_string(), str::to_owned);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = REQUEST_ID
        .scope(id.clone(), async move {
            // An import takes as long as its file takes to arrive; it bounds itself.
            let timeout = if method == axum::http::Method::POST && path.ends_with("/import") {
                Duration::MAX
            } else {
                timeout
            };
            match tokio::time::timeout(timeout, next.run(request)).await {
                Ok(response) => response,
                Err(_) => ApiError::unavailable(
                    format!(
                        "the request took longer than {} s; a write it started still completes or rolls back as a whole",
                        timeout.as_secs()
                    ),
                    format!("{method} {path} timed out"),
                )
                .into_response(),
            }
        })
        .await;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert("x-request-id", value);
    }
    // On every response. Pages of the app bring their own, longer policy.
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    if !headers.contains_key("content-security-policy") {
        headers.insert(
            "content-security-policy",
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    response
}
