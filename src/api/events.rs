//! `GET /_events`: live updates as Server-Sent Events (`crate::events` says where they come
//! from).
//!
//! A stream starts with `retry:` and an event `ready` whose id is the log's position, so a
//! client that reconnects with `Last-Event-ID` (browsers do it by themselves) is sent every
//! change it missed, read from the audit log — from this instance or any other — then
//! `ready`. More than [`MAX_REPLAY`] missed changes are one event `reset` instead: reload. Each change is an
//! event `change`, sent only to users who may view its entity (and not to those with a row
//! scope on it: whether the row is theirs to see is not in the event). A comment every
//! `events_heartbeat` keeps proxies from closing the stream, and the user is authenticated
//! again then: a stream whose session ended, or whose permissions changed, ends (the
//! reconnection is then refused or sees the new permissions). A stream that falls behind the
//! channel ends too; so do all at shutdown.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::sse::{Event as Sse, KeepAlive};
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, broadcast};
use tokio_util::sync::CancellationToken;

use super::AppState;
use super::error::ApiError;
use crate::auth::Principal;
use crate::db::{EntityRef, audit};
use crate::events::Event;

/// The most missed changes a reconnecting stream is sent; beyond, `reset`.
pub const MAX_REPLAY: u64 = 1000;

/// How long a browser waits before it reconnects (milliseconds).
const RETRY_MS: u64 = 2000;

/// `GET /_events`.
pub async fn stream(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (mut parts, _) = request.into_parts();
    let who = Principal::from_request_parts(&mut parts, &state).await?;
    let resume = match parts.headers.get("last-event-id") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|text| text.parse::<i64>().ok())
                .filter(|id| *id >= 0)
                .ok_or_else(|| {
                    ApiError::bad_request("Last-Event-ID must be an id this stream sent")
                })?,
        ),
    };
    let Some(place) = state.event_streams.clone() else {
        return Err(ApiError::not_found(
            "live updates are off on this server (max_event_streams = 0)",
        ));
    };
    let place = place
        .try_acquire_owned()
        .map_err(|_| ApiError::busy("too many live-update streams are open; try again"))?;
    let subscription = state
        .events
        .subscribe(&state.db, &state.schema)
        .ok_or_else(|| ApiError::busy("the server is shutting down"))?;
    let mut position = subscription.position;
    let waited = tokio::time::timeout(
        state.settings.acquire_timeout,
        position.wait_for(Option::is_some),
    )
    .await;
    let Ok(Ok(now)) = waited.map(|r| r.map(|p| p.unwrap_or_default())) else {
        return Err(ApiError::unavailable(
            "the database is unavailable; try again",
            "live updates: the audit log has not been read yet",
        ));
    };
    let mut first = vec![Sse::default().retry(std::time::Duration::from_millis(RETRY_MS))];
    let mut replayed = HashSet::new();
    match resume {
        None => first.push(ready(now)),
        Some(from) => {
            let log = EntityRef::new(&state.schema, audit::ENTITY)
                .ok_or_else(|| ApiError::internal("no audit log"))?;
            let rows = state.db.changes_after(&log, from, MAX_REPLAY + 1).await?;
            if rows.len() as u64 > MAX_REPLAY {
                first.push(Sse::default().event("reset").id(now.to_string()).data("{}"));
            } else {
                let mut last = now.max(from);
                for event in rows
                    .iter()
                    .filter_map(|row| Event::of_row(&state.schema, row))
                {
                    replayed.insert(event.position);
                    last = last.max(event.position);
                    if who.follows(&event.entity) {
                        first.push(change(&event));
                    }
                }
                first.push(ready(last));
            }
        }
    }
    let heartbeat = KeepAlive::new().interval(state.settings.events_heartbeat);
    let feed = Feed {
        stop: state.events.stopping(),
        recheck: tokio::time::interval_at(
            tokio::time::Instant::now() + state.settings.events_heartbeat,
            state.settings.events_heartbeat,
        ),
        state,
        who,
        parts: reauthenticable(&parts),
        live: subscription.live,
        first: first.into(),
        replayed,
        _place: place,
    };
    let stream = futures_util::stream::unfold(feed, Feed::next);
    let mut response = axum::response::sse::Sse::new(stream)
        .keep_alive(heartbeat)
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // nginx buffers responses unless told not to.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// One stream's state.
struct Feed {
    state: AppState,
    who: Principal,
    /// The request's head, to authenticate the user again.
    parts: Parts,
    live: broadcast::Receiver<Arc<Event>>,
    /// What is sent before the live events.
    first: std::collections::VecDeque<Sse>,
    /// Events already sent from the log: not sent again when they come live.
    replayed: HashSet<i64>,
    recheck: tokio::time::Interval,
    stop: CancellationToken,
    /// The stream's place among `max_event_streams`.
    _place: OwnedSemaphorePermit,
}

impl Feed {
    async fn next(mut self) -> Option<(Result<Sse, Infallible>, Feed)> {
        if let Some(first) = self.first.pop_front() {
            return Some((Ok(first), self));
        }
        loop {
            tokio::select! {
                () = self.stop.cancelled() => return None,
                _ = self.recheck.tick() => {
                    if !self.still_allowed().await {
                        return None;
                    }
                }
                received = self.live.recv() => match received {
                    Ok(event) => {
                        if self.replayed.remove(&event.position) || !self.who.follows(&event.entity) {
                            continue;
                        }
                        let sent = change(&event);
                        return Some((Ok(sent), self));
                    }
                    // Behind by more than the channel holds, or the hub is gone: the client
                    // reconnects with the last id it has and catches up from the log.
                    Err(_) => return None,
                },
            }
        }
    }

    /// Whether the user still has this session, with the permissions the stream was opened
    /// with.
    async fn still_allowed(&self) -> bool {
        match self.state.auth.authenticate(&self.parts).await {
            Ok(who) => {
                who.permissions == self.who.permissions
                    && who.scopes == self.who.scopes
                    && !who.second_factor_pending
            }
            Err(_) => false,
        }
    }
}

/// The event that says the stream is live, at `position` of the log.
fn ready(position: i64) -> Sse {
    Sse::default()
        .event("ready")
        .id(position.to_string())
        .data("{}")
}

/// The SSE event of a change.
fn change(event: &Event) -> Sse {
    Sse::default()
        .event("change")
        .id(event.position.to_string())
        .data(&event.data)
}

/// A copy of the head of the request (the method, path, headers and peer address an
/// `AuthPolicy` may read), without what extractors cached in it.
fn reauthenticable(parts: &Parts) -> Parts {
    let mut request = axum::http::Request::new(());
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = parts.uri.clone();
    *request.version_mut() = parts.version;
    *request.headers_mut() = parts.headers.clone();
    let (mut fresh, ()) = request.into_parts();
    if let Some(peer) = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        fresh.extensions.insert(*peer);
    }
    fresh
}
