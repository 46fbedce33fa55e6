//! Read replicas as requests meet them (`[admin] replica_urls`; `crate::db::Replicas`):
//! where a request's reads go ([`ReadFrom`]), and the position each write leaves, remembered
//! for its client here and said to it in `X-Write-Position`, which it may send back in
//! `X-Read-After` to any instance: a client reads its own writes wherever it reads.

use std::hash::{Hash, Hasher};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::error::ApiError;
use crate::db::{Db, Replicas, format_position, parse_position};

/// The position a write's response says its write reached.
pub const WRITE_POSITION: &str = "x-write-position";
/// The position a read must see (a write's `X-Write-Position`).
pub const READ_AFTER: &str = "x-read-after";

/// Where a request's reads go: a replica that has replayed every write of its client (and
/// `X-Read-After`), or the database itself.
pub struct ReadFrom(Option<Db>);

impl ReadFrom {
    pub fn db<'a>(&'a self, state: &'a AppState) -> &'a Db {
        self.0.as_ref().unwrap_or(&state.db)
    }
}

impl FromRequestParts<AppState> for ReadFrom {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(replicas) = &state.replicas else {
            return Ok(ReadFrom(None));
        };
        let asked = match parts.headers.get(READ_AFTER) {
            None => 0,
            Some(value) => value.to_str().ok().and_then(parse_position).ok_or_else(|| {
                ApiError::bad_request(
                    "X-Read-After must be a position a write's X-Write-Position gave, such as 16/B374D848",
                )
            })?,
        };
        let after = asked.max(replicas.written_by(client(&parts.headers)));
        Ok(ReadFrom(replicas.pick(after).cloned()))
    }
}

/// After each write (any method but GET, HEAD and OPTIONS that was not refused as the
/// client's error): the primary's position, remembered for the client and sent in
/// `X-Write-Position`.
pub async fn remember_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(replicas) = state.replicas.clone() else {
        return next.run(request).await;
    };
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let client = client(request.headers());
    let mut response = next.run(request).await;
    if response.status().is_client_error() {
        return response;
    }
    match Replicas::position(&state.db).await {
        Ok(position) => {
            replicas.remember(client, position);
            if let Ok(value) = HeaderValue::from_str(&format_position(position)) {
                response.headers_mut().insert(WRITE_POSITION, value);
            }
        }
        // The write's answer stands; this client's next reads on a replica may not see it
        // for as long as the replica's lag.
        Err(error) => tracing::debug!("read replicas: no position after a write: {error}"),
    }
    response
}

/// A request's client as far as its writes go: its credentials (a bearer token or API key,
/// the session cookie). Requests without any (an open admin, an authenticating proxy's
/// users) are one client: each waits for the writes of all, which is never wrong.
fn client(headers: &HeaderMap) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    headers.get(header::AUTHORIZATION).hash(&mut hasher);
    headers.get(header::COOKIE).hash(&mut hasher);
    hasher.finish()
}
